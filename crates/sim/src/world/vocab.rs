//! Word lists the synthetic tenant is drawn from: plain data, and the lookups that
//! tie a lure to its brand.

pub const TENANT_NAME: &str = "Contoso";
pub const TENANT_DOMAIN: &str = "contoso.com";
pub const TENANT_INITIAL_DOMAIN: &str = "contoso.onmicrosoft.com";

pub const GIVEN_NAMES: &[&str] = &[
    "Adele", "Alex", "Allan", "Amara", "Ana", "Ben", "Bianca", "Carlos", "Chen", "Chloé", "Daniel",
    "Diego", "Elena", "Emily", "Farah", "Grace", "Hannah", "Henrik", "Isaiah", "Ivan", "Jamal",
    "Jessica", "Johanna", "José", "Kai", "Kenji", "Laura", "Lee", "Lidia", "Lukas", "Łukasz",
    "Maria", "Megan", "Miriam", "Nestor", "Nina", "Noah", "Olga", "Omar", "Patti", "Pradeep",
    "Preston", "Priya", "Raul", "Rosa", "Sakura", "Samuel", "Sofia", "Tariq", "Tomás", "Uma",
    "Victor", "Wei", "Xavier", "Yara", "Yusuf", "Zoë", "Ingrid", "Mateo", "Aiko",
];

pub const SURNAMES: &[&str] = &[
    "Adams",
    "Bauer",
    "Becker",
    "Brown",
    "Castillo",
    "Chen",
    "Cohen",
    "Dubois",
    "Eriksson",
    "Fernández",
    "Fischer",
    "García",
    "Gupta",
    "Hansen",
    "Haddad",
    "Ito",
    "Jarvis",
    "Johansson",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Müller",
    "Martin",
    "Morales",
    "Nakamura",
    "Nguyen",
    "Novak",
    "O'Brien",
    "Okafor",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Santos",
    "Schmidt",
    "Singh",
    "Smith",
    "Suzuki",
    "Tanaka",
    "Thompson",
    "Vance",
    "Wagner",
    "Wang",
    "Wilson",
    "Yamamoto",
    "Zhang",
    "Zielinski",
    "Bergström",
    "Da Silva",
];

pub const COUNTRIES: &[&str] = &[
    "US", "US", "US", "GB", "DE", "FR", "NL", "IN", "JP", "BR", "CA", "AU",
];

/// (department, weight, job titles) for ordinary staff.
pub const DEPARTMENTS: &[(&str, u32, &[&str])] = &[
    (
        "Finance",
        10,
        &[
            "Accountant",
            "Financial Analyst",
            "Controller",
            "Treasury Manager",
            "Payroll Specialist",
        ],
    ),
    (
        "Legal",
        4,
        &["Corporate Counsel", "Paralegal", "Contracts Manager"],
    ),
    (
        "Human Resources",
        5,
        &["HR Generalist", "Recruiter", "HR Business Partner"],
    ),
    (
        "IT",
        8,
        &[
            "Service Desk Analyst",
            "Network Engineer",
            "Security Engineer",
            "Cloud Engineer",
        ],
    ),
    (
        "Sales",
        20,
        &[
            "Account Executive",
            "Sales Manager",
            "Sales Development Representative",
        ],
    ),
    (
        "Marketing",
        10,
        &[
            "Marketing Specialist",
            "Content Strategist",
            "Brand Manager",
        ],
    ),
    (
        "Engineering",
        25,
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "Engineering Manager",
            "QA Engineer",
        ],
    ),
    (
        "Operations",
        10,
        &[
            "Operations Analyst",
            "Logistics Coordinator",
            "Facilities Manager",
        ],
    ),
    (
        "Customer Support",
        8,
        &["Support Engineer", "Customer Success Manager"],
    ),
];

pub const EXECUTIVE_TITLES: &[&str] = &[
    "Chief Executive Officer",
    "Chief Financial Officer",
    "Chief Operating Officer",
    "Chief Technology Officer",
    "Chief Information Security Officer",
    "Chief Marketing Officer",
    "General Counsel",
    "Chief People Officer",
    "Vice President, Sales",
    "Vice President, Engineering",
    "Vice President, Finance",
    "Vice President, Operations",
];

pub const ADMIN_TITLES: &[&str] = &[
    "Global Administrator",
    "Exchange Administrator",
    "Security Administrator",
];

/// Partners whose mail is ordinary inbound traffic.
pub const PARTNER_DOMAINS: &[&str] = &[
    "fabrikam.com",
    "northwindtraders.com",
    "adatum.com",
    "tailspintoys.com",
    "woodgrovebank.com",
    "litwareinc.com",
    "proseware.com",
    "wingtiptoys.com",
    "alpineskihouse.com",
    "relecloud.com",
    "fourthcoffee.com",
    "lucernepublishing.com",
];

/// Senders of newsletters and marketing.
pub const BULK_DOMAINS: &[&str] = &[
    "news.contoso-deals.com",
    "mail.travelpromo.net",
    "updates.saasweekly.io",
    "offers.shopmart.com",
    "email.eventbrite-mail.com",
    "newsletter.techdigest.news",
];

pub const SPAM_DOMAINS: &[&str] = &[
    "cheap-meds-online.ru",
    "bestloans4u.biz",
    "crypto-profit.win",
    "seo-ranking.top",
    "winner-notify.xyz",
    "replica-watches.shop",
];

pub const FREEMAIL_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "proton.me"];

/// Domains that imitate the tenant's own: typos, look-alike letters, punycode and
/// homoglyphs (Cyrillic с and о in the last one).
pub const LOOKALIKE_DOMAINS: &[&str] = &[
    "c0ntoso.com",
    "contoso-secure.com",
    "contoso.co",
    "contosso.com",
    "xn--cntoso-9ua.com",
    "сontosо.com",
];

/// A brand phishers imitate: who its lures claim to come from and what they are
/// about, so a lure's sender, domain and subject always tell the same story (a
/// parcel fee comes from "DHL Express", never a mailbox quota).
#[derive(Debug)]
pub struct Brand {
    pub name: &'static str,
    /// What the lures are about.
    pub theme: &'static str,
    /// Sender display names the lures use.
    pub display_names: &'static [&'static str],
    /// Local parts of the sender addresses.
    pub locals: &'static [&'static str],
    /// Look-alike domains the lures are sent from.
    pub domains: &'static [&'static str],
    /// Subject templates: `{n}` is a number, `{user}` the recipient's given name.
    pub subjects: &'static [&'static str],
}

/// The brands of phishing lures, each with its own senders and themes.
pub const BRANDS: &[Brand] = &[
    Brand {
        name: "Microsoft",
        theme: "mailbox and password",
        display_names: &[
            "Microsoft 365",
            "Microsoft account team",
            "Office 365 Admin",
        ],
        locals: &["no-reply", "account-security", "postmaster"],
        domains: &[
            "micros0ft-login.com",
            "rnicrosoft.com",
            "office365-verify.net",
            "xn--micrsoft-0ya.com",
        ],
        subjects: &[
            "Your password expires today",
            "Unusual sign-in activity",
            "You have {n} undelivered messages",
            "{user}, your mailbox storage is full",
        ],
    },
    Brand {
        name: "DocuSign",
        theme: "documents to sign",
        display_names: &["DocuSign", "DocuSign Electronic Signature"],
        locals: &["dse", "no-reply"],
        domains: &["docusign-review.net", "docu-sign.app"],
        subjects: &[
            "Please DocuSign: Agreement #{n}",
            "Completed: contract ready for signature",
            "{user}, please review and sign: NDA {n}",
        ],
    },
    Brand {
        name: "DHL",
        theme: "parcels and customs",
        display_names: &["DHL Express", "DHL Parcel"],
        locals: &["noreply", "tracking", "customs"],
        domains: &["dhl-parcel-fee.com", "dhl-tracking.info"],
        subjects: &[
            "Parcel {n} on hold: customs fee due",
            "Delivery attempt failed",
            "Your shipment {n} is waiting for customs clearance",
        ],
    },
    Brand {
        name: "Adobe",
        theme: "shared documents",
        display_names: &["Adobe Document Cloud", "Adobe Acrobat Sign"],
        locals: &["share", "no-reply"],
        domains: &["adobe-share.cloud"],
        subjects: &[
            "{user} shared a document with you",
            "Shared PDF: Q{n} financials",
        ],
    },
    Brand {
        name: "PayPal",
        theme: "account payments",
        display_names: &["PayPal", "PayPal Service"],
        locals: &["service", "receipts"],
        domains: &["paypa1-secure.com"],
        subjects: &["Your account has been limited", "Receipt for payment #{n}"],
    },
    Brand {
        name: "SharePoint",
        theme: "shared files",
        display_names: &["SharePoint Online", "OneDrive for Business"],
        locals: &["sharepoint", "no-reply"],
        domains: &["sharepoint-files.online", "sharepoint-docs.net"],
        subjects: &[
            "{user}, a file was shared with you",
            "Invoice_{n}.pdf shared with you",
        ],
    },
    Brand {
        name: "Woodgrove Bank",
        theme: "invoices and statements",
        display_names: &["Woodgrove Bank", "Woodgrove Bank Payments"],
        locals: &["payments", "statements"],
        domains: &["woodgrove-payments.com", "woodgrovebank-secure.net"],
        subjects: &[
            "Invoice {n} is ready to view",
            "Payment of invoice {n} declined",
            "Your account statement is available",
        ],
    },
];

/// The brand named `name`.
pub fn brand(name: &str) -> Option<&'static Brand> {
    BRANDS.iter().find(|b| b.name == name)
}

/// A malware family as it arrives by mail: its lures share one pretext, told by one
/// sender (a scanner's scans, a supplier's orders).
#[derive(Debug)]
pub struct MalwareFamily {
    pub name: &'static str,
    pub threat_name: &'static str,
    /// Local part and display name of the sender.
    pub sender: (&'static str, &'static str),
    /// Subject templates (`{n}`: a number).
    pub subjects: &'static [&'static str],
    /// Attachment name templates.
    pub files: &'static [&'static str],
}

pub const MALWARE_FAMILIES: &[MalwareFamily] = &[
    MalwareFamily {
        name: "Qakbot",
        threat_name: "Trojan:Win32/Qakbot.RPX!MTB",
        sender: ("accounts", "Accounts Payable"),
        subjects: &["RE: outstanding invoice {n}", "Fwd: payment details {n}"],
        files: &["Invoice_{n}.zip", "doc_{n}.one"],
    },
    MalwareFamily {
        name: "Emotet",
        threat_name: "Trojan:Win32/Emotet.PVD!MTB",
        sender: ("scanner", "Scan to Email"),
        subjects: &["Scan from printer {n}", "Scanned document {n}"],
        files: &["scan_{n}.xlsm", "scan_{n}.zip"],
    },
    MalwareFamily {
        name: "AgentTesla",
        threat_name: "Trojan:MSIL/AgentTesla.RDA!MTB",
        sender: ("purchasing", "Purchasing Department"),
        subjects: &["Request for quotation {n}", "RFQ {n}: shipping documents"],
        files: &["RFQ_{n}.iso", "BL_{n}.img"],
    },
    MalwareFamily {
        name: "Formbook",
        threat_name: "Trojan:Win32/Formbook.AB!MTB",
        sender: ("orders", "Sales Orders"),
        subjects: &["Remittance advice {n}", "PO {n} attached"],
        files: &["Remittance_{n}.html", "PO_{n}.cab"],
    },
    MalwareFamily {
        name: "IcedID",
        threat_name: "Trojan:Win32/IcedID.SIB!MTB",
        sender: ("legal", "Legal Department"),
        subjects: &["Contract termination notice", "Legal claim {n}"],
        files: &["claim_{n}.zip"],
    },
    MalwareFamily {
        name: "Remcos",
        threat_name: "Backdoor:Win32/Remcos.GA!MTB",
        sender: ("payments", "Payments Team"),
        subjects: &["Bank transfer copy {n}", "SWIFT confirmation {n}"],
        files: &["transfer_{n}.pdf.exe"],
    },
];

/// The malware family named `name`.
pub fn malware_family(name: &str) -> Option<&'static MalwareFamily> {
    MALWARE_FAMILIES.iter().find(|f| f.name == name)
}

/// Whether `subject` is `template` filled in: its literal pieces, in order, with
/// anything in place of each `{…}` placeholder.
pub fn fills(template: &str, subject: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        pieces.push(&rest[..open]);
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    pieces.push(rest);
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if pieces.len() == 1 {
        return subject == template;
    }
    let Some(mut body) = subject.strip_prefix(first) else {
        return false;
    };
    body = match body.strip_suffix(last) {
        Some(b) => b,
        None => return false,
    };
    for p in &pieces[1..pieces.len() - 1] {
        match body.find(p) {
            Some(i) => body = &body[i + p.len()..],
            None => return false,
        }
    }
    true
}

pub const BEC_SUBJECTS: &[&str] = &[
    "Quick favour",
    "Are you at your desk?",
    "Urgent: wire transfer needed today",
    "Confidential acquisition - need your help",
    "Gift cards for the team",
    "Change of bank details for payroll",
];

pub const INVOICE_SUBJECTS: &[&str] = &[
    "Overdue invoice {n} - final notice",
    "Updated remittance details for invoice {n}",
    "Payment reminder: INV-{n}",
    "New banking information for future payments",
];

pub const CLEAN_INBOUND_SUBJECTS: &[&str] = &[
    "Meeting notes from Tuesday",
    "Re: proposal for Q{q}",
    "Purchase order {n}",
    "Invoice {n} from {partner}",
    "Project kickoff",
    "Re: contract draft",
    "Follow-up on our call",
    "Conference invitation",
    "Your support case {n}",
    "Weekly status update",
    "Re: pricing question",
    "Introduction",
];

pub const CLEAN_INTERNAL_SUBJECTS: &[&str] = &[
    "Team lunch on Friday",
    "Re: sprint planning",
    "Budget review Q{q}",
    "1:1 agenda",
    "All-hands slides",
    "Re: customer escalation",
    "Offsite logistics",
    "Updated org chart",
    "Reminder: expense reports due",
    "Code review request #{n}",
    "Holiday schedule",
    "Fwd: onboarding checklist",
];

pub const BULK_SUBJECTS: &[&str] = &[
    "This week in cloud security",
    "Flash sale: 40% off",
    "Your monthly digest",
    "Webinar: zero trust in practice",
    "New features you'll love",
    "Last chance to register",
];

pub const SPAM_SUBJECTS: &[&str] = &[
    "You have won a prize",
    "Lowest rates on loans",
    "Make $5000 a week from home",
    "Cheap meds, no prescription",
    "Boost your SEO ranking today",
    "Claim your crypto bonus",
];

pub const LANGUAGES: &[(&str, u32)] = &[
    ("en", 80),
    ("de", 6),
    ("fr", 5),
    ("es", 4),
    ("ja", 3),
    ("zh", 2),
];

pub const ANALYSTS: &[&str] = &[
    "soc.tier1@contoso.com",
    "soc.tier2@contoso.com",
    "ir.lead@contoso.com",
    "threat.hunter@contoso.com",
];

//! Word lists the synthetic tenant is drawn from. Plain data, no logic.

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

/// (brand, phishing domains, lure subject templates). `{n}` is a number, `{user}` the
/// recipient's given name.
pub const BRANDS: &[(&str, &[&str], &[&str])] = &[
    (
        "Microsoft",
        &[
            "micros0ft-login.com",
            "rnicrosoft.com",
            "office365-verify.net",
            "xn--micrsoft-0ya.com",
        ],
        &[
            "Your password expires today",
            "Unusual sign-in activity",
            "You have {n} undelivered messages",
            "{user}, your mailbox storage is full",
        ],
    ),
    (
        "DocuSign",
        &["docusign-review.net", "docu-sign.app"],
        &[
            "Please DocuSign: Agreement #{n}",
            "Completed: contract ready for signature",
        ],
    ),
    (
        "DHL",
        &["dhl-parcel-fee.com", "dhl-tracking.info"],
        &[
            "Parcel {n} on hold: customs fee due",
            "Delivery attempt failed",
        ],
    ),
    (
        "Adobe",
        &["adobe-share.cloud"],
        &[
            "{user} shared a document with you",
            "Shared PDF: Q{n} financials",
        ],
    ),
    (
        "PayPal",
        &["paypa1-secure.com"],
        &["Your account has been limited", "Receipt for payment #{n}"],
    ),
    (
        "SharePoint",
        &["sharepoint-files.online", "sharepoint-docs.net"],
        &[
            "{user}, a file was shared with you",
            "Invoice_{n}.pdf shared with you",
        ],
    ),
];

/// (family, threat name, lure subjects, attachment names)
pub const MALWARE_FAMILIES: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "Qakbot",
        "Trojan:Win32/Qakbot.RPX!MTB",
        &["RE: outstanding invoice {n}", "Fwd: payment details"],
        &["Invoice_{n}.zip", "doc_{n}.one"],
    ),
    (
        "Emotet",
        "Trojan:Win32/Emotet.PVD!MTB",
        &["Scan from printer {n}", "Order confirmation {n}"],
        &["scan_{n}.xlsm", "order_{n}.zip"],
    ),
    (
        "AgentTesla",
        "Trojan:MSIL/AgentTesla.RDA!MTB",
        &["Request for quotation {n}", "Shipping documents"],
        &["RFQ_{n}.iso", "BL_{n}.img"],
    ),
    (
        "Formbook",
        "Trojan:Win32/Formbook.AB!MTB",
        &["Remittance advice {n}", "PO {n} attached"],
        &["Remittance_{n}.html", "PO_{n}.cab"],
    ),
    (
        "IcedID",
        "Trojan:Win32/IcedID.SIB!MTB",
        &["Contract termination notice", "Legal claim {n}"],
        &["claim_{n}.zip"],
    ),
    (
        "Remcos",
        "Backdoor:Win32/Remcos.GA!MTB",
        &["Bank transfer copy {n}"],
        &["transfer_{n}.pdf.exe"],
    ),
];

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

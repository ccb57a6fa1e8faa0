//! The world's posture: MFA registrations, sign-ins of priority accounts, Conditional
//! Access policies, directory roles and CA-only groups, risky users, Secure Score, message
//! traces and the Exchange snapshot — with gaps planted in some priority accounts.
//!
//! Every planted fact lives here, once: the server serves these structures and
//! `sim stats` derives the expected verdicts from them (`stats::posture_truth`), so
//! the two cannot drift apart. Generated from its own RNG streams after mail and
//! alerts, so nothing generated before it changes.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::directory::Directory;
use super::vocab;
use crate::params::WorldParams;
use crate::rng::{Guid, SimRng};
use whalewatch_model::posture::{
    CaApplications, CaAuthenticationStrength, CaConditions, CaGrantControls, CaUsers,
    ConditionalAccessPolicy, ControlScore, ControlStateUpdate, EXCHANGE_SNAPSHOT_SCHEMA,
    ExchangeSnapshot, MailboxSettings, MessageTrace, PresetRule, RiskyUser, SecureScore,
    SecureScoreControl, SignIn, SignInLocation, SignInStatus,
};

/// Directory roles the world assigns: (role template id as Microsoft documents it,
/// display name). The first six are in the admins' MFA policy (CA001).
pub const DIRECTORY_ROLES: [(&str, &str); 8] = [
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
    ),
    (
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
    ),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
    ),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader"),
];

/// The roles CA001 ("Require MFA for admins") includes: Microsoft's documented example
/// list (Global Reader included, Security Reader not).
pub const ADMIN_MFA_ROLES: [&str; 15] = [
    "62e90394-69f5-4237-9190-012177145e10",
    "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "158c047a-c907-4556-b7ef-446551a6b5f7",
    "966707d0-3269-4727-9be2-8c3a10f19b9d",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
];

/// The CA-only groups (they scope policies; the directory's `/groups` does not list
/// them, so tags and mail ground truth stay as they were).
pub const GROUP_BREAK_GLASS: usize = 0;
/// Excluded from the all-users MFA policy; nests [`GROUP_TRAVEL_EXEMPTION`].
pub const GROUP_MFA_EXCLUSIONS: usize = 1;
/// Nested in [`GROUP_MFA_EXCLUSIONS`]: its members are excluded only transitively.
pub const GROUP_TRAVEL_EXEMPTION: usize = 2;
/// Excluded from the enforced legacy-auth block; a report-only block covers it.
pub const GROUP_LEGACY_MAIL: usize = 3;

/// The distribution group the Strict preset rules name.
pub const STRICT_GROUP: &str = "priority-accounts@contoso.com";

/// A gap planted in a priority account (some are decoys that must still pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gap {
    /// No MFA method registered.
    NoMfa,
    /// Only phone methods registered.
    PhoneOnly,
    /// Excluded from the MFA policy through a nested group.
    MfaExcludedNested,
    /// In the same exclusion group, but an admin: the admins' policy still requires MFA.
    MfaExcludedAdminCovered,
    /// In the legacy-mail group (report-only block), IMAP on, IMAP4 sign-ins succeed.
    LegacyImap,
    /// In the legacy-mail group, SMTP AUTH on, Authenticated SMTP sign-ins succeed.
    LegacySmtp,
    /// Legacy attempts, all blocked by Conditional Access.
    LegacyFailedOnly,
    /// Excluded from the Strict preset and from Standard.
    StrictExcluded,
    /// Covered by the Standard preset only.
    StandardOnly,
    /// High risk, at risk.
    RiskHigh,
    /// Medium risk, at risk.
    RiskMedium,
    /// High risk, remediated (passes).
    RiskRemediated,
    /// POP enabled on the mailbox.
    PopEnabled,
    /// Mailbox audit off.
    AuditOff,
    /// Failed mail in the last 7 days.
    MailFailed,
    /// Pending (delayed) mail in the last 7 days.
    MailPending,
    /// Only mail filtered as spam, and a failure 9 days old (passes).
    MailDecoy,
}

/// Gaps in planting order: when a small world has too few priority accounts, the
/// last ones are left out.
pub const GAPS: [Gap; 17] = [
    Gap::NoMfa,
    Gap::MfaExcludedNested,
    Gap::LegacyImap,
    Gap::StrictExcluded,
    Gap::RiskHigh,
    Gap::PhoneOnly,
    Gap::LegacyFailedOnly,
    Gap::RiskMedium,
    Gap::MailFailed,
    Gap::AuditOff,
    Gap::StandardOnly,
    Gap::PopEnabled,
    Gap::LegacySmtp,
    Gap::MfaExcludedAdminCovered,
    Gap::RiskRemediated,
    Gap::MailPending,
    Gap::MailDecoy,
];

impl Gap {
    /// One line for `sim stats`' summary.
    pub fn describe(self) -> &'static str {
        match self {
            Gap::NoMfa => "no MFA method registered",
            Gap::PhoneOnly => "phone-only MFA",
            Gap::MfaExcludedNested => {
                "excluded from CA002 (MFA for all users) through a nested group"
            }
            Gap::MfaExcludedAdminCovered => {
                "in the MFA exclusion group but an admin: CA001 still requires MFA (passes)"
            }
            Gap::LegacyImap => {
                "legacy block report-only for them; IMAP enabled; IMAP4 sign-ins succeeded"
            }
            Gap::LegacySmtp => {
                "legacy block report-only for them; SMTP AUTH enabled; Authenticated SMTP sign-ins succeeded"
            }
            Gap::LegacyFailedOnly => "legacy sign-in attempts, all blocked",
            Gap::StrictExcluded => "excluded from the Strict and Standard presets",
            Gap::StandardOnly => "covered by the Standard preset only",
            Gap::RiskHigh => "risky user: high, at risk",
            Gap::RiskMedium => "risky user: medium, at risk",
            Gap::RiskRemediated => "risky user: high but remediated (passes)",
            Gap::PopEnabled => "POP enabled on the mailbox",
            Gap::AuditOff => "mailbox audit off",
            Gap::MailFailed => "failed mail in the last 7 days",
            Gap::MailPending => "pending (delayed) mail in the last 7 days",
            Gap::MailDecoy => "mail filtered as spam and a failure 9 days ago only (passes)",
        }
    }
}

/// A group that exists only to scope Conditional Access.
#[derive(Debug, Clone)]
pub struct PostureGroup {
    pub id: Guid,
    pub name: &'static str,
    pub description: &'static str,
    /// Direct user members.
    pub members: Vec<u32>,
    /// Nested posture groups.
    pub groups: Vec<usize>,
}

/// A Secure Score control as the world scores it.
struct ControlSpec {
    id: &'static str,
    title: &'static str,
    category: &'static str,
    service: &'static str,
    tier: &'static str,
    max: f64,
    /// Fraction of `max` earned today.
    earned: f64,
    /// Days ago the control reached `earned` (0 before that); `None`: always.
    since_days: Option<i64>,
    remediation: &'static str,
    action_url: &'static str,
}

const CONTROLS: &[ControlSpec] = &[
    ControlSpec {
        id: "AdminMFAV2",
        title: "Ensure multifactor authentication is enabled for all users in administrative roles",
        category: "Identity",
        service: "AzureAD",
        tier: "Core",
        max: 10.0,
        earned: 1.0,
        since_days: Some(75),
        remediation: "Require MFA for every administrative role with a Conditional Access policy (Protection > Conditional Access).",
        action_url: "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies",
    },
    ControlSpec {
        id: "MFARegistrationV2",
        title: "Ensure multifactor authentication is enabled for all users",
        category: "Identity",
        service: "AzureAD",
        tier: "Core",
        max: 9.0,
        earned: 0.8,
        since_days: Some(40),
        remediation: "Require every user to register for MFA and require MFA for all users with Conditional Access.",
        action_url: "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AuthenticationMethodsMenuBlade/~/RegistrationCampaign",
    },
    ControlSpec {
        id: "BlockLegacyAuthentication",
        title: "Enable Conditional Access policies to block legacy authentication",
        category: "Identity",
        service: "AzureAD",
        tier: "Advanced",
        max: 8.0,
        earned: 0.0,
        since_days: None,
        remediation: "Create a Conditional Access policy that blocks the client apps 'Exchange ActiveSync clients' and 'Other clients' for all users, without exclusions.",
        action_url: "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies",
    },
    ControlSpec {
        id: "UserRiskPolicy",
        title: "Enable Microsoft Entra ID Identity Protection user risk policies",
        category: "Identity",
        service: "AzureAD",
        tier: "Advanced",
        max: 7.0,
        earned: 1.0,
        since_days: Some(20),
        remediation: "Require a secure password change for high-risk users with a Conditional Access policy.",
        action_url: "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies",
    },
    ControlSpec {
        id: "SigninRiskPolicy",
        title: "Enable Microsoft Entra ID Identity Protection sign-in risk policies",
        category: "Identity",
        service: "AzureAD",
        tier: "Advanced",
        max: 7.0,
        earned: 0.0,
        since_days: None,
        remediation: "Require MFA for medium and high sign-in risk with a Conditional Access policy.",
        action_url: "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies",
    },
    ControlSpec {
        id: "OneAdmin",
        title: "Designate more than one global admin",
        category: "Identity",
        service: "AzureAD",
        tier: "Core",
        max: 1.0,
        earned: 1.0,
        since_days: None,
        remediation: "Assign the Global Administrator role to at least two accounts.",
        action_url: "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/RolesManagementMenuBlade/~/AllRoles",
    },
    ControlSpec {
        id: "SelfServicePasswordReset",
        title: "Ensure 'Self service password reset enabled' is set to 'All'",
        category: "Identity",
        service: "AzureAD",
        tier: "Defense In Depth",
        max: 1.0,
        earned: 0.0,
        since_days: None,
        remediation: "Enable self-service password reset for all users (Protection > Password reset).",
        action_url: "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/PasswordResetMenuBlade/~/Properties",
    },
    ControlSpec {
        id: "exo_mailboxaudit",
        title: "Ensure mailbox auditing for all users is Enabled",
        category: "Apps",
        service: "EXO",
        tier: "Core",
        max: 5.0,
        earned: 0.9,
        since_days: None,
        remediation: "Set-OrganizationConfig -AuditDisabled $false; Set-Mailbox -AuditEnabled $true for mailboxes where it is off.",
        action_url: "https://admin.exchange.microsoft.com/#/mailboxes",
    },
    ControlSpec {
        id: "mdo_antiphishingpolicies",
        title: "Ensure that an anti-phishing policy has been created",
        category: "Apps",
        service: "MDO",
        tier: "Core",
        max: 9.0,
        earned: 1.0,
        since_days: Some(60),
        remediation: "Apply the Strict preset security policy to priority accounts (Email & collaboration > Policies & rules > Preset security policies).",
        action_url: "https://security.microsoft.com/presetSecurityPolicies",
    },
    ControlSpec {
        id: "mdo_safelinksforemail",
        title: "Create Safe Links policies for email messages",
        category: "Apps",
        service: "MDO",
        tier: "Core",
        max: 9.0,
        earned: 1.0,
        since_days: Some(60),
        remediation: "Turn on Safe Links for email through the Standard or Strict preset security policy.",
        action_url: "https://security.microsoft.com/safelinksv2",
    },
    ControlSpec {
        id: "mdo_safeattachments",
        title: "Turn on Safe Attachments in block mode",
        category: "Apps",
        service: "MDO",
        tier: "Core",
        max: 8.0,
        earned: 1.0,
        since_days: Some(30),
        remediation: "Turn on Safe Attachments in block mode through the Standard or Strict preset security policy.",
        action_url: "https://security.microsoft.com/safeattachmentv2",
    },
    ControlSpec {
        id: "mdo_zapphish",
        title: "Create zero-hour auto purge policies for phishing messages",
        category: "Apps",
        service: "MDO",
        tier: "Core",
        max: 9.0,
        earned: 1.0,
        since_days: None,
        remediation: "Turn on zero-hour auto purge for phishing in the anti-spam policies.",
        action_url: "https://security.microsoft.com/antispam",
    },
    ControlSpec {
        id: "mcas_mda_enabled",
        title: "Ensure Microsoft Defender for Cloud Apps is enabled and configured",
        category: "Apps",
        service: "MCAS",
        tier: "Core",
        max: 3.0,
        earned: 0.0,
        since_days: None,
        remediation: "Connect Microsoft 365 to Defender for Cloud Apps and turn on its alert policies.",
        action_url: "https://security.microsoft.com/cloudapps/settings",
    },
    ControlSpec {
        id: "dlp_datalossprevention",
        title: "Ensure DLP policies are enabled",
        category: "Data",
        service: "MIP",
        tier: "Core",
        max: 10.0,
        earned: 0.0,
        since_days: None,
        remediation: "Create and turn on data loss prevention policies in the Purview portal.",
        action_url: "https://purview.microsoft.com/datalossprevention/policies",
    },
    ControlSpec {
        id: "mip_search_auditlog",
        title: "Ensure Microsoft 365 audit log search is Enabled",
        category: "Data",
        service: "MIP",
        tier: "Core",
        max: 3.0,
        earned: 1.0,
        since_days: None,
        remediation: "Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true",
        action_url: "https://purview.microsoft.com/audit/auditsearch",
    },
    ControlSpec {
        id: "CustomerLockBoxEnabled",
        title: "Ensure the customer lockbox feature is enabled",
        category: "Data",
        service: "EXO",
        tier: "Advanced",
        max: 1.0,
        earned: 0.0,
        since_days: None,
        remediation: "Turn on Customer Lockbox (Microsoft 365 admin center > Settings > Org settings > Security & privacy).",
        action_url: "https://admin.microsoft.com/#/Settings/Services/:/Settings/L1/CustomerLockbox",
    },
];

/// Registered methods of well-protected priority accounts.
const STRONG_METHODS: [&[&str]; 4] = [
    &["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
    &["fido2", "microsoftAuthenticatorPush"],
    &[
        "windowsHelloForBusiness",
        "microsoftAuthenticatorPush",
        "mobilePhone",
    ],
    &["microsoftAuthenticatorPasswordless", "mobilePhone"],
];
/// Everyone else: (methods, weight).
const ORDINARY_METHODS: [(&[&str], u32); 6] = [
    (
        &["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
        50,
    ),
    (&["mobilePhone", "microsoftAuthenticatorPush"], 15),
    (&["mobilePhone"], 12),
    (&["fido2", "microsoftAuthenticatorPush"], 5),
    (&["email"], 3),
    (&[], 15),
];

/// Applications ordinary sign-ins go to.
const APPS: [&str; 5] = [
    "Office 365 Exchange Online",
    "Microsoft Teams",
    "OfficeHome",
    "Microsoft Office",
    "Office 365 SharePoint Online",
];

/// The world's posture facts.
#[derive(Debug, Clone, Default)]
pub struct Posture {
    /// (user, gap) in planting order.
    pub planted: Vec<(u32, Gap)>,
    /// CA-only groups ([`GROUP_BREAK_GLASS`] ...).
    pub groups: Vec<PostureGroup>,
    /// (user, index into [`DIRECTORY_ROLES`]).
    pub roles: Vec<(u32, usize)>,
    /// Object id of each directory role (activated from its template).
    pub role_ids: Vec<Guid>,
    /// Registered methods of priority accounts (others are drawn on demand).
    vip_methods: HashMap<u32, &'static [&'static str]>,
    /// Sign-ins of priority accounts over the last 30 days, newest first.
    pub sign_ins: Vec<SignIn>,
    /// Risky users.
    pub risky: Vec<RiskyUser>,
    /// Conditional Access policies.
    pub policies: Vec<ConditionalAccessPolicy>,
    /// Daily Secure Score, newest first.
    pub scores: Vec<SecureScore>,
    /// Secure Score control profiles.
    pub controls: Vec<SecureScoreControl>,
    /// Message traces over the last 10 days, newest first.
    pub traces: Vec<MessageTrace>,
    /// What the Exchange snapshot script would write.
    pub exchange: ExchangeSnapshot,
    seed: u64,
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn at(now: DateTime<Utc>, rng: &mut SimRng, days_ago: i64) -> DateTime<Utc> {
    // A whole second inside that day, so every window boundary is clear of it.
    now - days(days_ago) - Duration::seconds(rng.range(60, 86_000) as i64)
}

impl Posture {
    /// Registered authentication methods of user `u`.
    pub fn methods(&self, u: u32) -> &'static [&'static str] {
        if let Some(m) = self.vip_methods.get(&u) {
            return m;
        }
        let mut rng = SimRng::new(self.seed, "posture-mfa").fork(u64::from(u));
        let weights: Vec<u32> = ORDINARY_METHODS.iter().map(|m| m.1).collect();
        ORDINARY_METHODS[rng.weighted(&weights)].0
    }

    /// The posture groups `u` belongs to, directly or through nesting.
    pub fn groups_of(&self, u: u32) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.groups.len())
            .filter(|&g| self.group_contains(g, u, 0))
            .collect();
        out.sort_unstable();
        out
    }

    fn group_contains(&self, g: usize, u: u32, depth: usize) -> bool {
        let group = &self.groups[g];
        depth < 8
            && (group.members.contains(&u)
                || group
                    .groups
                    .iter()
                    .any(|&c| self.group_contains(c, u, depth + 1)))
    }

    /// Role template ids `u` holds.
    pub fn roles_of(&self, u: u32) -> Vec<&'static str> {
        self.roles
            .iter()
            .filter(|(user, _)| *user == u)
            .map(|(_, r)| DIRECTORY_ROLES[*r].0)
            .collect()
    }

    /// The gaps planted in `u`.
    pub fn gaps_of(&self, u: u32) -> Vec<Gap> {
        self.planted
            .iter()
            .filter(|(user, _)| *user == u)
            .map(|(_, g)| *g)
            .collect()
    }

    /// The MFA registration record of user `u`.
    pub fn registration(&self, dir: &Directory, u: u32, now: DateTime<Utc>) -> serde_json::Value {
        let user = &dir.users[u as usize];
        let methods = self.methods(u);
        let strong = methods
            .iter()
            .any(|m| !matches!(*m, "email" | "securityQuestion" | "temporaryAccessPass"));
        let preferred = if methods.contains(&"microsoftAuthenticatorPush") {
            "push"
        } else if methods.contains(&"mobilePhone") {
            "sms"
        } else if methods.contains(&"softwareOneTimePasscode") {
            "oath"
        } else {
            ""
        };
        let passwordless = methods.iter().any(|m| {
            matches!(
                *m,
                "fido2" | "windowsHelloForBusiness" | "microsoftAuthenticatorPasswordless"
            )
        });
        serde_json::json!({
            "id": user.id.to_string(),
            "userPrincipalName": &*user.upn,
            "userDisplayName": &*user.display_name,
            "isAdmin": !self.roles_of(u).is_empty(),
            "isSsprRegistered": strong,
            "isSsprEnabled": false,
            "isSsprCapable": false,
            "isMfaRegistered": strong,
            "isMfaCapable": strong && user.enabled,
            "isPasswordlessCapable": passwordless,
            "lastUpdatedDateTime": (now - days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "methodsRegistered": methods,
            "isSystemPreferredAuthenticationMethodEnabled": true,
            "systemPreferredAuthenticationMethods": if preferred.is_empty() { vec![] } else { vec![preferred] },
            "userPreferredMethodForSecondaryAuthentication": preferred,
            "userType": "member",
        })
    }
}

/// Generates the posture of a world whose directory is `dir`.
pub fn generate(params: &WorldParams, tenant_id: Guid, dir: &Directory) -> Posture {
    let now = params.now;
    let mut rng = SimRng::new(params.seed, "posture");
    let vips = &dir.priority;
    let n = dir.users.len() as u32;
    let mut p = Posture {
        seed: params.seed,
        ..Posture::default()
    };

    // Directory roles: each IT administrator one admin role, two executives a reader
    // role, and two ordinary staff (if any) helpdesk / security reader.
    p.role_ids = (0..DIRECTORY_ROLES.len()).map(|_| rng.guid()).collect();
    let admins: Vec<u32> = vips
        .iter()
        .copied()
        .filter(|&u| &*dir.users[u as usize].department == "IT")
        .collect();
    for (k, &u) in admins.iter().enumerate() {
        p.roles.push((u, k % 6));
    }
    let execs: Vec<u32> = vips
        .iter()
        .copied()
        .filter(|&u| &*dir.users[u as usize].department == "Executive")
        .collect();
    if let Some(&e) = execs.first() {
        p.roles.push((e, 6));
    }
    if let Some(&e) = execs.get(1) {
        p.roles.push((e, 7));
    }
    let ordinary: Vec<u32> = (0..n).filter(|&u| !dir.is_priority[u as usize]).collect();
    if let Some(&u) = ordinary.first() {
        p.roles.push((u, 5));
    }
    if let Some(&u) = ordinary.get(1) {
        p.roles.push((u, 7));
    }
    let admin_mfa = |p: &Posture, u: u32| p.roles_of(u).iter().any(|r| ADMIN_MFA_ROLES.contains(r));

    // Plant the gaps: priority accounts in a seeded order, at most two thirds of them.
    let mut order = vips.clone();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let per_gap = 1 + order.len() / 100;
    let budget = (order.len() * 2 / 3).max(1);
    let mut used = HashSet::new();
    'gaps: for gap in GAPS {
        for _ in 0..per_gap {
            if used.len() >= budget {
                break 'gaps;
            }
            let fits = |u: u32| match gap {
                Gap::MfaExcludedNested => !admin_mfa(&p, u),
                Gap::MfaExcludedAdminCovered => admin_mfa(&p, u),
                _ => true,
            };
            if let Some(&u) = order.iter().find(|&&u| !used.contains(&u) && fits(u)) {
                used.insert(u);
                p.planted.push((u, gap));
            }
        }
    }
    let with = |gap: Gap| -> Vec<u32> {
        p.planted
            .iter()
            .filter(|(_, g)| *g == gap)
            .map(|(u, _)| *u)
            .collect()
    };

    // CA-only groups.
    let mut legacy_members = with(Gap::LegacyImap);
    legacy_members.extend(with(Gap::LegacySmtp));
    legacy_members.extend(ordinary.iter().copied().skip(2).step_by(97).take(5));
    p.groups = vec![
        PostureGroup {
            id: rng.guid(),
            name: "Break-glass accounts",
            description: "Emergency access accounts excluded from Conditional Access",
            members: Vec::new(),
            groups: Vec::new(),
        },
        PostureGroup {
            id: rng.guid(),
            name: "CA exclusions - MFA",
            description: "Temporarily excluded from the MFA policy",
            members: with(Gap::MfaExcludedAdminCovered),
            groups: vec![GROUP_TRAVEL_EXEMPTION],
        },
        PostureGroup {
            id: rng.guid(),
            name: "Travel - temporary MFA exemption",
            description: "Travelling staff without their authenticator",
            members: with(Gap::MfaExcludedNested),
            groups: Vec::new(),
        },
        PostureGroup {
            id: rng.guid(),
            name: "Legacy mail clients",
            description: "Mail apps that still use basic authentication",
            members: legacy_members,
            groups: Vec::new(),
        },
    ];

    // MFA registration of priority accounts.
    for &u in vips {
        let gaps = p.gaps_of(u);
        let m: &'static [&'static str] = if gaps.contains(&Gap::NoMfa) {
            if rng.chance(0.5) { &[] } else { &["email"] }
        } else if gaps.contains(&Gap::PhoneOnly) {
            &["mobilePhone"]
        } else {
            STRONG_METHODS[rng.below(STRONG_METHODS.len() as u64) as usize]
        };
        p.vip_methods.insert(u, m);
    }

    p.policies = policies(&mut rng, &p, dir, now);
    p.sign_ins = sign_ins(
        &mut SimRng::new(params.seed, "posture-signins"),
        &p,
        dir,
        now,
    );
    p.risky = risky(
        &mut SimRng::new(params.seed, "posture-risk"),
        &p,
        dir,
        &ordinary,
        now,
    );
    let (scores, controls) = secure_score(tenant_id, now);
    p.scores = scores;
    p.controls = controls;
    p.traces = traces(
        &mut SimRng::new(params.seed, "posture-traces"),
        &p,
        dir,
        &ordinary,
        now,
    );
    p.exchange = exchange(&p, dir, now);
    p
}

fn ca_users(
    include_users: &[&str],
    include_groups: Vec<String>,
    exclude_groups: Vec<String>,
) -> CaUsers {
    CaUsers {
        include_users: include_users.iter().map(|s| s.to_string()).collect(),
        include_groups,
        exclude_groups,
        ..CaUsers::default()
    }
}

fn all_apps() -> CaApplications {
    CaApplications {
        include_applications: vec!["All".into()],
        ..CaApplications::default()
    }
}

fn grant(operator: &str, controls: &[&str]) -> CaGrantControls {
    CaGrantControls {
        operator: Some(operator.into()),
        built_in_controls: controls.iter().map(|s| s.to_string()).collect(),
        authentication_strength: None,
    }
}

fn policies(
    rng: &mut SimRng,
    p: &Posture,
    dir: &Directory,
    now: DateTime<Utc>,
) -> Vec<ConditionalAccessPolicy> {
    let gid = |g: usize| p.groups[g].id.to_string();
    let legacy = vec!["exchangeActiveSync".to_string(), "other".to_string()];
    let executives = dir
        .group_named("Executives")
        .map(|g| dir.groups[g].id.to_string());
    let mut out = Vec::new();
    let mut add = |name: &str, state: &str, conditions: CaConditions, grant: CaGrantControls| {
        out.push(ConditionalAccessPolicy {
            id: rng.guid().to_string(),
            display_name: Some(name.into()),
            state: Some(state.into()),
            conditions: Some(conditions),
            grant_controls: Some(grant),
            modified_date_time: Some(now - days(90 + out.len() as i64 * 7)),
        });
    };
    add(
        "CA001: Require multifactor authentication for admins",
        "enabled",
        CaConditions {
            users: Some(CaUsers {
                include_roles: ADMIN_MFA_ROLES.iter().map(|s| s.to_string()).collect(),
                exclude_groups: vec![gid(GROUP_BREAK_GLASS)],
                ..CaUsers::default()
            }),
            applications: Some(all_apps()),
            client_app_types: vec!["all".into()],
            ..CaConditions::default()
        },
        grant("OR", &["mfa"]),
    );
    add(
        "CA002: Require multifactor authentication for all users",
        "enabled",
        CaConditions {
            users: Some(ca_users(
                &["All"],
                Vec::new(),
                vec![gid(GROUP_BREAK_GLASS), gid(GROUP_MFA_EXCLUSIONS)],
            )),
            applications: Some(all_apps()),
            client_app_types: vec!["all".into()],
            ..CaConditions::default()
        },
        grant("OR", &["mfa"]),
    );
    add(
        "CA003: Block legacy authentication",
        "enabled",
        CaConditions {
            users: Some(ca_users(
                &["All"],
                Vec::new(),
                vec![gid(GROUP_BREAK_GLASS), gid(GROUP_LEGACY_MAIL)],
            )),
            applications: Some(all_apps()),
            client_app_types: legacy.clone(),
            ..CaConditions::default()
        },
        grant("OR", &["block"]),
    );
    add(
        "CA004: Block legacy authentication for legacy mail clients (report-only)",
        "enabledForReportingButNotEnforced",
        CaConditions {
            users: Some(ca_users(&[], vec![gid(GROUP_LEGACY_MAIL)], Vec::new())),
            applications: Some(all_apps()),
            client_app_types: legacy.clone(),
            ..CaConditions::default()
        },
        grant("OR", &["block"]),
    );
    add(
        "CA005: Require password change for high-risk users",
        "enabled",
        CaConditions {
            users: Some(ca_users(&["All"], Vec::new(), vec![gid(GROUP_BREAK_GLASS)])),
            applications: Some(all_apps()),
            client_app_types: vec!["all".into()],
            user_risk_levels: vec!["high".into()],
            ..CaConditions::default()
        },
        grant("AND", &["mfa", "passwordChange"]),
    );
    add(
        "CA006: Require phishing-resistant MFA for executives (report-only)",
        "enabledForReportingButNotEnforced",
        CaConditions {
            users: Some(ca_users(&[], executives.into_iter().collect(), Vec::new())),
            applications: Some(all_apps()),
            client_app_types: vec!["all".into()],
            ..CaConditions::default()
        },
        CaGrantControls {
            operator: Some("OR".into()),
            built_in_controls: Vec::new(),
            authentication_strength: Some(CaAuthenticationStrength {
                id: Some("00000000-0000-0000-0000-000000000004".into()),
                display_name: Some("Phishing-resistant MFA".into()),
                requirements_satisfied: Some("mfa".into()),
            }),
        },
    );
    add(
        "CA007: Require MFA outside trusted locations (old, disabled)",
        "disabled",
        CaConditions {
            users: Some(ca_users(&["All"], Vec::new(), Vec::new())),
            applications: Some(all_apps()),
            client_app_types: vec!["all".into()],
            locations: Some(serde_json::json!({
                "includeLocations": ["All"], "excludeLocations": ["AllTrusted"]
            })),
            ..CaConditions::default()
        },
        grant("OR", &["mfa"]),
    );
    add(
        "CA008: Block legacy authentication for everyone (pilot, disabled)",
        "disabled",
        CaConditions {
            users: Some(ca_users(&["All"], Vec::new(), Vec::new())),
            applications: Some(all_apps()),
            client_app_types: legacy,
            ..CaConditions::default()
        },
        grant("OR", &["block"]),
    );
    add(
        "CA009: Require MFA to register security information",
        "enabled",
        CaConditions {
            users: Some(ca_users(&["All"], Vec::new(), Vec::new())),
            applications: Some(CaApplications {
                include_user_actions: vec!["urn:user:registersecurityinfo".into()],
                ..CaApplications::default()
            }),
            client_app_types: vec!["all".into()],
            ..CaConditions::default()
        },
        grant("OR", &["mfa"]),
    );
    out
}

#[allow(clippy::too_many_arguments)]
fn sign_in(
    rng: &mut SimRng,
    dir: &Directory,
    u: u32,
    time: DateTime<Utc>,
    client: &str,
    app: &str,
    error: Option<(i64, &str)>,
    ca_status: &str,
) -> SignIn {
    let user = &dir.users[u as usize];
    let ip = if matches!(client, "Browser" | "Mobile Apps and Desktop clients") {
        format!("203.0.113.{}", rng.range(1, 254))
    } else {
        format!("192.0.2.{}", rng.range(1, 254))
    };
    SignIn {
        id: rng.guid().to_string(),
        created_date_time: Some(time),
        user_id: Some(user.id.to_string()),
        user_principal_name: Some(user.upn.to_string()),
        app_display_name: Some(app.into()),
        client_app_used: Some(client.into()),
        ip_address: Some(ip),
        location: Some(SignInLocation {
            city: None,
            state: None,
            country_or_region: Some(user.country.to_string()),
        }),
        status: Some(SignInStatus {
            error_code: Some(error.map_or(0, |e| e.0)),
            failure_reason: error.map(|e| e.1.to_string()),
        }),
        conditional_access_status: Some(ca_status.into()),
    }
}

const BLOCKED_BY_CA: (i64, &str) = (
    53003,
    "Access has been blocked by Conditional Access policies.",
);
const BAD_PASSWORD: (i64, &str) = (
    50126,
    "Error validating credentials due to invalid username or password.",
);

fn sign_ins(rng: &mut SimRng, p: &Posture, dir: &Directory, now: DateTime<Utc>) -> Vec<SignIn> {
    let mut out = Vec::new();
    for &u in &dir.priority {
        // Ordinary modern sign-ins over the last 29 days.
        for d in 0..29 {
            for _ in 0..rng.range(1, 3) {
                let client = if rng.chance(0.6) {
                    "Browser"
                } else {
                    "Mobile Apps and Desktop clients"
                };
                let app = *rng.pick(&APPS);
                let err = rng.chance(0.04).then_some(BAD_PASSWORD);
                let t = at(now, rng, d);
                out.push(sign_in(rng, dir, u, t, client, app, err, "success"));
            }
        }
        for gap in p.gaps_of(u) {
            let exo = "Office 365 Exchange Online";
            match gap {
                Gap::LegacyImap => {
                    for d in [2, 5, 9, 17] {
                        let t = at(now, rng, d);
                        out.push(sign_in(rng, dir, u, t, "IMAP4", exo, None, "notApplied"));
                    }
                }
                Gap::LegacySmtp => {
                    for (d, err) in [
                        (3, None),
                        (8, Some(BAD_PASSWORD)),
                        (12, None),
                        (20, Some(BAD_PASSWORD)),
                    ] {
                        let t = at(now, rng, d);
                        out.push(sign_in(
                            rng,
                            dir,
                            u,
                            t,
                            "Authenticated SMTP",
                            exo,
                            err,
                            "notApplied",
                        ));
                    }
                }
                Gap::LegacyFailedOnly => {
                    for (d, client) in [(4, "IMAP4"), (11, "Exchange ActiveSync"), (23, "IMAP4")] {
                        let t = at(now, rng, d);
                        out.push(sign_in(
                            rng,
                            dir,
                            u,
                            t,
                            client,
                            exo,
                            Some(BLOCKED_BY_CA),
                            "failure",
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    out.sort_by(|a, b| {
        b.created_date_time
            .cmp(&a.created_date_time)
            .then(a.id.cmp(&b.id))
    });
    out
}

fn risky_user(
    dir: &Directory,
    u: u32,
    level: &str,
    state: &str,
    detail: &str,
    when: DateTime<Utc>,
) -> RiskyUser {
    let user = &dir.users[u as usize];
    RiskyUser {
        id: user.id.to_string(),
        user_principal_name: Some(user.upn.to_string()),
        risk_level: Some(level.into()),
        risk_state: Some(state.into()),
        risk_detail: Some(detail.into()),
        risk_last_updated_date_time: Some(when),
    }
}

fn risky(
    rng: &mut SimRng,
    p: &Posture,
    dir: &Directory,
    ordinary: &[u32],
    now: DateTime<Utc>,
) -> Vec<RiskyUser> {
    let mut out = Vec::new();
    for &(u, gap) in &p.planted {
        let ago = rng.range(1, 10) as i64;
        let when = at(now, rng, ago);
        match gap {
            Gap::RiskHigh => out.push(risky_user(dir, u, "high", "atRisk", "none", when)),
            Gap::RiskMedium => out.push(risky_user(dir, u, "medium", "atRisk", "none", when)),
            Gap::RiskRemediated => out.push(risky_user(
                dir,
                u,
                "high",
                "remediated",
                "userPerformedSecuredPasswordChange",
                when,
            )),
            _ => {}
        }
    }
    const ORDINARY: [(&str, &str, &str); 6] = [
        ("low", "atRisk", "none"),
        ("medium", "atRisk", "none"),
        (
            "high",
            "confirmedCompromised",
            "adminConfirmedUserCompromised",
        ),
        ("medium", "dismissed", "adminDismissedAllRiskForUser"),
        ("none", "remediated", "userPerformedSecuredPasswordReset"),
        ("low", "confirmedSafe", "adminConfirmedSigninSafe"),
    ];
    let count = (ordinary.len() / 150).clamp(2, 200).min(ordinary.len());
    for k in 0..count {
        let u = ordinary[rng.below(ordinary.len() as u64) as usize];
        if out
            .iter()
            .any(|r| r.id == dir.users[u as usize].id.to_string())
        {
            continue;
        }
        let (level, state, detail) = ORDINARY[k % ORDINARY.len()];
        let ago = rng.range(1, 60) as i64;
        let when = at(now, rng, ago);
        out.push(risky_user(dir, u, level, state, detail, when));
    }
    out
}

fn secure_score(
    tenant_id: Guid,
    now: DateTime<Utc>,
) -> (Vec<SecureScore>, Vec<SecureScoreControl>) {
    let today = now.date_naive();
    let mut scores = Vec::new();
    for d in 0..90i64 {
        let day = today - days(d);
        let created = day.and_hms_opt(2, 0, 0).map(|t| t.and_utc());
        let control_scores: Vec<ControlScore> = CONTROLS
            .iter()
            .map(|c| ControlScore {
                control_name: c.id.into(),
                control_category: Some(c.category.into()),
                score: Some(if c.since_days.is_none_or(|s| d < s) {
                    c.max * c.earned
                } else {
                    0.0
                }),
            })
            .collect();
        scores.push(SecureScore {
            id: format!("{tenant_id}_{day}"),
            created_date_time: created,
            current_score: Some(control_scores.iter().filter_map(|c| c.score).sum()),
            max_score: Some(CONTROLS.iter().map(|c| c.max).sum()),
            control_scores,
        });
    }
    let controls = CONTROLS
        .iter()
        .enumerate()
        .map(|(rank, c)| SecureScoreControl {
            id: c.id.into(),
            title: Some(c.title.into()),
            control_category: Some(c.category.into()),
            max_score: Some(c.max),
            rank: Some(rank as i64 + 1),
            service: Some(c.service.into()),
            tier: Some(c.tier.into()),
            remediation: Some(c.remediation.into()),
            action_url: Some(c.action_url.into()),
            deprecated: Some(false),
            control_state_updates: vec![ControlStateUpdate {
                state: Some("Default".into()),
                updated_date_time: Some(now - days(120)),
            }],
        })
        .collect();
    (scores, controls)
}

fn trace(
    rng: &mut SimRng,
    time: DateTime<Utc>,
    sender: &str,
    recipient: &str,
    subject: &str,
    status: &str,
    inbound: bool,
) -> MessageTrace {
    let domain = sender.rsplit('@').next().unwrap_or(vocab::TENANT_DOMAIN);
    MessageTrace {
        id: rng.guid().to_string(),
        message_id: Some(format!("<{}@{domain}>", rng.hex(12))),
        received_date_time: Some(time),
        sender_address: Some(sender.into()),
        recipient_address: Some(recipient.into()),
        subject: Some(subject.into()),
        status: Some(status.into()),
        size: Some(rng.range(4_000, 250_000) as i64),
        from_ip: Some(format!("198.51.100.{}", rng.range(1, 254))),
        to_ip: Some(if inbound {
            String::new()
        } else {
            format!("203.0.113.{}", rng.range(1, 254))
        }),
    }
}

fn external(rng: &mut SimRng) -> String {
    let local = *rng.pick(&["info", "billing", "sales", "j.doe", "events", "support"]);
    format!("{local}@{}", rng.pick(vocab::PARTNER_DOMAINS))
}

fn subject(rng: &mut SimRng) -> String {
    rng.pick(vocab::CLEAN_INBOUND_SUBJECTS)
        .replace("{q}", &rng.range(1, 4).to_string())
        .replace("{n}", &rng.range(1000, 99_999).to_string())
        .replace("{partner}", "Fabrikam")
}

fn traces(
    rng: &mut SimRng,
    p: &Posture,
    dir: &Directory,
    ordinary: &[u32],
    now: DateTime<Utc>,
) -> Vec<MessageTrace> {
    let mut out = Vec::new();
    let upn = |u: u32| dir.users[u as usize].upn.to_string();
    // Priority accounts: delivered mail (some filtered as spam) both ways.
    for &u in &dir.priority {
        for d in 0..10 {
            for _ in 0..rng.range(2, 5) {
                let status = if rng.chance(0.05) {
                    "filteredAsSpam"
                } else {
                    "delivered"
                };
                let (s, t) = (external(rng), at(now, rng, d));
                let subj = subject(rng);
                out.push(trace(rng, t, &s, &upn(u), &subj, status, true));
            }
            if rng.chance(0.6) {
                let (r, t) = (external(rng), at(now, rng, d));
                let subj = subject(rng);
                out.push(trace(rng, t, &upn(u), &r, &subj, "delivered", false));
            }
        }
        for gap in p.gaps_of(u) {
            let s = external(rng);
            let subj = subject(rng);
            match gap {
                Gap::MailFailed => {
                    let t = at(now, rng, 2);
                    out.push(trace(rng, t, &s, &upn(u), &subj, "failed", true));
                    let t = at(now, rng, 4);
                    out.push(trace(rng, t, &upn(u), &s, &subj, "failed", false));
                }
                Gap::MailPending => {
                    let t = now - Duration::seconds(rng.range(3_600, 5 * 3_600) as i64);
                    out.push(trace(rng, t, &s, &upn(u), &subj, "pending", true));
                }
                Gap::MailDecoy => {
                    let t = at(now, rng, 1);
                    out.push(trace(rng, t, &s, &upn(u), &subj, "filteredAsSpam", true));
                    let t = at(now, rng, 8);
                    out.push(trace(rng, t, &s, &upn(u), &subj, "failed", true));
                }
                _ => {}
            }
        }
    }
    // Everyone else: ordinary traffic with ordinary failures, never a priority account.
    if !ordinary.is_empty() {
        let total = (ordinary.len() * 3).min(30_000);
        for _ in 0..total {
            let u = ordinary[rng.below(ordinary.len() as u64) as usize];
            let status = [
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "delivered",
                "filteredAsSpam",
                "quarantined",
                "failed",
                "pending",
            ][rng.below(20) as usize];
            let ago = rng.below(10) as i64;
            let (s, t) = (external(rng), at(now, rng, ago));
            let subj = subject(rng);
            out.push(trace(rng, t, &s, &upn(u), &subj, status, true));
        }
    }
    out.sort_by(|a, b| {
        b.received_date_time
            .cmp(&a.received_date_time)
            .then(a.id.cmp(&b.id))
    });
    out
}

fn exchange(p: &Posture, dir: &Directory, now: DateTime<Utc>) -> ExchangeSnapshot {
    let upn = |u: u32| dir.users[u as usize].upn.to_string();
    let gap_upns = |gap: Gap| -> Vec<String> {
        p.planted
            .iter()
            .filter(|(_, g)| *g == gap)
            .map(|(u, _)| upn(*u))
            .collect()
    };
    let excluded = gap_upns(Gap::StrictExcluded);
    let standard_only = gap_upns(Gap::StandardOnly);
    let rule = |preset: &str, kind: &str| PresetRule {
        name: format!("{preset} Preset Security Policy"),
        preset: preset.into(),
        kind: kind.into(),
        state: "Enabled".into(),
        sent_to_member_of: if preset == "Strict" {
            vec![STRICT_GROUP.into()]
        } else {
            Vec::new()
        },
        recipient_domain_is: if preset == "Standard" {
            vec![vocab::TENANT_DOMAIN.into()]
        } else {
            Vec::new()
        },
        except_if_sent_to: excluded.clone(),
        ..PresetRule::default()
    };
    let strict_members = dir
        .priority
        .iter()
        .map(|&u| upn(u))
        .filter(|a| !standard_only.contains(a))
        .collect();
    let mailboxes = dir
        .priority
        .iter()
        .map(|&u| {
            let gaps = p.gaps_of(u);
            MailboxSettings {
                primary_smtp_address: upn(u),
                user_principal_name: Some(upn(u)),
                pop_enabled: Some(gaps.contains(&Gap::PopEnabled)),
                imap_enabled: Some(gaps.contains(&Gap::LegacyImap)),
                active_sync_enabled: Some(true),
                ews_enabled: Some(true),
                mapi_enabled: Some(true),
                // Unset follows the organisation (disabled); SMTP AUTH users enable it.
                smtp_client_authentication_disabled: gaps
                    .contains(&Gap::LegacySmtp)
                    .then_some(false),
                audit_enabled: Some(!gaps.contains(&Gap::AuditOff)),
            }
        })
        .collect();
    ExchangeSnapshot {
        schema: EXCHANGE_SNAPSHOT_SCHEMA.into(),
        generated_date_time: Some(now),
        organization: Some(vocab::TENANT_INITIAL_DOMAIN.into()),
        priority_account_protection: Some(true),
        vips: dir.priority.iter().map(|&u| upn(u)).collect(),
        preset_rules: vec![
            rule("Strict", "EOP"),
            rule("Strict", "ATP"),
            rule("Standard", "EOP"),
            rule("Standard", "ATP"),
        ],
        group_members: BTreeMap::from([(STRICT_GROUP.to_string(), strict_members)]),
        smtp_client_authentication_disabled: Some(true),
        audit_disabled: Some(false),
        mailboxes,
    }
}

//! Posture sources: what the tenant says about how well each account is protected.
//!
//! Six Graph sources (MFA registration, sign-ins, Conditional Access policies, risky
//! users, Secure Score and its control profiles, message traces), directory membership
//! for Conditional Access scoping, and one imported Exchange snapshot (preset policy
//! rules, priority account protection, the VIP list, POP/IMAP/SMTP AUTH, mailbox audit:
//! settings no Graph API reads).
//!
//! Shapes follow the documented wire formats (`serde` camelCase; every field defaulted,
//! because Microsoft's examples omit or misspell fields); `tenant` parses into them,
//! `cache` stores them, `query::posture` judges them. Judgement lives in `query`, never
//! here.
//!
//! The check ids and what makes each one fail or warn are part of this contract: the
//! simulator plants gaps with known answers (`sim stats`), and `query::posture` must reach
//! the same verdicts. See [`CheckId`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One user's authentication-method registration
/// (`GET /reports/authenticationMethods/userRegistrationDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MfaRegistration {
    /// Object id of the user.
    pub id: String,
    /// Sign-in name, as the service spells it.
    pub user_principal_name: String,
    /// Display name.
    pub user_display_name: Option<String>,
    /// Holds an admin role.
    pub is_admin: Option<bool>,
    /// Registered a strong method the MFA policy allows.
    pub is_mfa_registered: Option<bool>,
    /// Registered and enabled for MFA.
    pub is_mfa_capable: Option<bool>,
    /// Can sign in without a password.
    pub is_passwordless_capable: Option<bool>,
    /// Method names (`microsoftAuthenticatorPush`, `fido2`, `mobilePhone`, ...): free text.
    pub methods_registered: Vec<String>,
    /// The system-preferred second factors (`push`, `sms`, ...).
    pub system_preferred_authentication_methods: Vec<String>,
    /// The method the user chose (`""` in one documented example: treat as none).
    pub user_preferred_method_for_secondary_authentication: Option<String>,
    /// `member` or `guest`.
    pub user_type: Option<String>,
    /// When the service last updated this record.
    pub last_updated_date_time: Option<DateTime<Utc>>,
}

/// Where a sign-in came from (`signIn.location`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SignInLocation {
    /// City.
    pub city: Option<String>,
    /// State or province.
    pub state: Option<String>,
    /// Two-letter country or region.
    pub country_or_region: Option<String>,
}

/// Whether a sign-in succeeded (`signIn.status`): `errorCode` 0 is success.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SignInStatus {
    /// 0 on success.
    pub error_code: Option<i64>,
    /// Why it failed.
    pub failure_reason: Option<String>,
}

/// One sign-in (`GET /auditLogs/signIns`), kept for priority accounts only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SignIn {
    /// Sign-in id.
    pub id: String,
    /// When.
    pub created_date_time: Option<DateTime<Utc>>,
    /// Object id of the user.
    pub user_id: Option<String>,
    /// Sign-in name.
    pub user_principal_name: Option<String>,
    /// The application signed in to.
    pub app_display_name: Option<String>,
    /// `Browser`, `Mobile Apps and Desktop clients`, `Exchange ActiveSync`, `IMAP4`,
    /// `SMTP`, ... (legacy vs modern is classified in `query::posture`).
    pub client_app_used: Option<String>,
    /// Client IP address.
    pub ip_address: Option<String>,
    /// Location.
    pub location: Option<SignInLocation>,
    /// Success or failure.
    pub status: Option<SignInStatus>,
    /// `success`, `failure`, `notApplied`.
    pub conditional_access_status: Option<String>,
}

/// Users, groups and roles a Conditional Access policy includes or excludes
/// (`conditionalAccessUsers`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CaUsers {
    /// User ids, `All`, `None`, `GuestsOrExternalUsers`.
    pub include_users: Vec<String>,
    /// User ids, `GuestsOrExternalUsers`.
    pub exclude_users: Vec<String>,
    /// Group ids (membership is transitive).
    pub include_groups: Vec<String>,
    /// Group ids.
    pub exclude_groups: Vec<String>,
    /// Directory role template ids.
    pub include_roles: Vec<String>,
    /// Directory role template ids.
    pub exclude_roles: Vec<String>,
    /// Guests or external users included (an object on the wire; its presence counts).
    pub include_guests_or_external_users: Option<serde_json::Value>,
    /// Guests or external users excluded.
    pub exclude_guests_or_external_users: Option<serde_json::Value>,
}

/// Applications a policy covers (`conditionalAccessApplications`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CaApplications {
    /// App ids, `All`, `Office365`, `MicrosoftAdminPortals`, `None`.
    pub include_applications: Vec<String>,
    /// App ids, `Office365`, ...
    pub exclude_applications: Vec<String>,
    /// User actions (`urn:user:registersecurityinfo`): such a policy covers no sign-in.
    pub include_user_actions: Vec<String>,
}

/// When a policy applies (`conditionalAccessConditionSet`). Conditions whitelisted here
/// are the ones posture evaluation reads; the rest stay in the policy's raw JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CaConditions {
    /// Users, groups, roles.
    pub users: Option<CaUsers>,
    /// Applications.
    pub applications: Option<CaApplications>,
    /// `all`, `browser`, `mobileAppsAndDesktopClients`, `exchangeActiveSync`,
    /// `easSupported`, `other` (legacy = `exchangeActiveSync` + `other`).
    pub client_app_types: Vec<String>,
    /// A policy limited to risky users applies only while they are risky.
    pub user_risk_levels: Vec<String>,
    /// A policy limited to risky sign-ins applies only to those.
    pub sign_in_risk_levels: Vec<String>,
    /// Platform condition (present: the policy covers only some devices).
    pub platforms: Option<serde_json::Value>,
    /// Location condition (present: the policy covers only some networks).
    pub locations: Option<serde_json::Value>,
    /// Device filter (present: the policy covers only some devices).
    pub devices: Option<serde_json::Value>,
}

/// An authentication strength required by a policy (`authenticationStrengthPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CaAuthenticationStrength {
    /// Policy id.
    pub id: Option<String>,
    /// `Multifactor authentication`, `Phishing-resistant MFA`, ...
    pub display_name: Option<String>,
    /// `mfa` or `none`.
    pub requirements_satisfied: Option<String>,
}

/// What a policy grants or blocks (`conditionalAccessGrantControls`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CaGrantControls {
    /// `AND` or `OR`.
    pub operator: Option<String>,
    /// `block`, `mfa`, `compliantDevice`, `passwordChange`, ...
    pub built_in_controls: Vec<String>,
    /// Required authentication strength.
    pub authentication_strength: Option<CaAuthenticationStrength>,
}

/// A Conditional Access policy (`GET /identity/conditionalAccess/policies`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConditionalAccessPolicy {
    /// Policy id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// `enabled`, `disabled`, `enabledForReportingButNotEnforced` (report-only).
    pub state: Option<String>,
    /// When it applies.
    pub conditions: Option<CaConditions>,
    /// What it requires.
    pub grant_controls: Option<CaGrantControls>,
    /// Last change.
    pub modified_date_time: Option<DateTime<Utc>>,
}

/// Groups (transitively) and directory roles one account belongs to, for Conditional
/// Access scoping. Read per priority account.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountMemberships {
    /// Object id of the user.
    pub user_id: String,
    /// Every group the user is in, directly or through nested groups.
    pub group_ids: Vec<String>,
    /// Role template ids of the directory roles the user holds.
    pub role_template_ids: Vec<String>,
}

/// A risky user (`GET /identityProtection/riskyUsers`; Entra ID P2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RiskyUser {
    /// Object id of the user.
    pub id: String,
    /// Sign-in name.
    pub user_principal_name: Option<String>,
    /// `low`, `medium`, `high`, `hidden`, `none`.
    pub risk_level: Option<String>,
    /// `atRisk`, `confirmedCompromised`, `remediated`, `dismissed`, `confirmedSafe`, `none`.
    pub risk_state: Option<String>,
    /// Why the state is what it is.
    pub risk_detail: Option<String>,
    /// When risk last changed.
    pub risk_last_updated_date_time: Option<DateTime<Utc>>,
}

/// One control's contribution to a day's Secure Score (`controlScores[]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ControlScore {
    /// Control id (joins to [`SecureScoreControl::id`]).
    pub control_name: String,
    /// `Identity`, `Data`, `Apps`, ...
    pub control_category: Option<String>,
    /// Points earned.
    pub score: Option<f64>,
}

/// One day's Secure Score (`GET /security/secureScores`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecureScore {
    /// `{tenant}_{date}`.
    pub id: String,
    /// The day it was computed.
    pub created_date_time: Option<DateTime<Utc>>,
    /// Points.
    pub current_score: Option<f64>,
    /// Points possible.
    pub max_score: Option<f64>,
    /// Per control.
    pub control_scores: Vec<ControlScore>,
}

/// A control's state change (`controlStateUpdates[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ControlStateUpdate {
    /// `Default`, `Ignored`, `ThirdParty`, `Reviewed`.
    pub state: Option<String>,
    /// When.
    pub updated_date_time: Option<DateTime<Utc>>,
}

/// A Secure Score control (`GET /security/secureScoreControlProfiles`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecureScoreControl {
    /// Control id (`AdminMFAV2`, `DLPEnabled`, ...).
    pub id: String,
    /// Title.
    pub title: Option<String>,
    /// `Identity`, `Data`, `Apps`, `Device`.
    pub control_category: Option<String>,
    /// Points possible.
    pub max_score: Option<f64>,
    /// Order of importance.
    pub rank: Option<i64>,
    /// Service (`EXO`, `AzureAD`, `MDO`, ...).
    pub service: Option<String>,
    /// `Core`, `Defense in Depth`, `Advanced`.
    pub tier: Option<String>,
    /// How to implement it (HTML in places).
    pub remediation: Option<String>,
    /// Where to do it.
    pub action_url: Option<String>,
    /// No longer scored.
    pub deprecated: Option<bool>,
    /// State changes, newest last.
    pub control_state_updates: Vec<ControlStateUpdate>,
}

/// One message trace (`GET /admin/exchange/tracing/messageTraces`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageTrace {
    /// Trace id.
    pub id: String,
    /// Internet message id.
    pub message_id: Option<String>,
    /// When Exchange received it.
    pub received_date_time: Option<DateTime<Utc>>,
    /// Sender.
    pub sender_address: Option<String>,
    /// Recipient.
    pub recipient_address: Option<String>,
    /// Subject (attacker-controlled text).
    pub subject: Option<String>,
    /// `delivered`, `failed`, `pending`, `quarantined`, `filteredAsSpam`, `expanded`,
    /// `gettingStatus`, `recalled` (casing varies: compare case-insensitively).
    pub status: Option<String>,
    /// Bytes.
    pub size: Option<i64>,
    /// Sending IP.
    #[serde(rename = "fromIP")]
    pub from_ip: Option<String>,
    /// Receiving IP (blank for incoming mail).
    #[serde(rename = "toIP")]
    pub to_ip: Option<String>,
}

/// The Exchange snapshot's schema tag: `whalewatch posture import` refuses any other.
pub const EXCHANGE_SNAPSHOT_SCHEMA: &str = "whalewatch.exchange-snapshot/1";

/// Settings only Exchange Online PowerShell reads, as written by
/// `assets/Get-WhalewatchExchangeSnapshot.ps1` (or `whalewatch sim exchange-snapshot`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExchangeSnapshot {
    /// Always [`EXCHANGE_SNAPSHOT_SCHEMA`].
    pub schema: String,
    /// When the script ran.
    pub generated_date_time: Option<DateTime<Utc>>,
    /// The organisation (`Get-OrganizationConfig`.Name), for a sanity check.
    pub organization: Option<String>,
    /// `Get-EmailTenantSettings`.EnablePriorityAccountProtection.
    pub priority_account_protection: Option<bool>,
    /// `Get-User -IsVIP`: primary SMTP addresses / UPNs of priority accounts.
    pub vips: Vec<String>,
    /// `Get-EOPProtectionPolicyRule` and `Get-ATPProtectionPolicyRule`.
    pub preset_rules: Vec<PresetRule>,
    /// Members (SMTP addresses) of every group a preset rule names, expanded by the
    /// script (`Get-DistributionGroupMember`, `Get-UnifiedGroupLinks`), keyed by the
    /// group as the rule names it.
    pub group_members: BTreeMap<String, Vec<String>>,
    /// `Get-TransportConfig`.SmtpClientAuthenticationDisabled (the organisation default).
    pub smtp_client_authentication_disabled: Option<bool>,
    /// `Get-OrganizationConfig`.AuditDisabled.
    pub audit_disabled: Option<bool>,
    /// Per-mailbox settings of the priority accounts (`Get-CASMailbox`, `Get-Mailbox`).
    pub mailboxes: Vec<MailboxSettings>,
}

/// One preset security policy rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PresetRule {
    /// `Strict Preset Security Policy` or `Standard Preset Security Policy`.
    pub name: String,
    /// `Strict` or `Standard` (from the name).
    pub preset: String,
    /// `EOP` (anti-spam, anti-malware, anti-phishing) or `ATP` (Safe Links, Safe
    /// Attachments, MDO anti-phishing).
    pub kind: String,
    /// `Enabled` or `Disabled`.
    pub state: String,
    /// Conditions (different condition types are ANDed, values within one ORed).
    pub sent_to: Vec<String>,
    /// Groups whose members the rule covers.
    pub sent_to_member_of: Vec<String>,
    /// Domains whose recipients the rule covers.
    pub recipient_domain_is: Vec<String>,
    /// Exceptions (any one excludes).
    pub except_if_sent_to: Vec<String>,
    /// Groups whose members are excluded.
    pub except_if_sent_to_member_of: Vec<String>,
    /// Domains excluded.
    pub except_if_recipient_domain_is: Vec<String>,
}

/// One mailbox's protocol and audit settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MailboxSettings {
    /// Primary SMTP address.
    pub primary_smtp_address: String,
    /// User principal name, where it differs.
    pub user_principal_name: Option<String>,
    /// POP3.
    pub pop_enabled: Option<bool>,
    /// IMAP4.
    pub imap_enabled: Option<bool>,
    /// Exchange ActiveSync.
    pub active_sync_enabled: Option<bool>,
    /// EWS.
    pub ews_enabled: Option<bool>,
    /// MAPI.
    pub mapi_enabled: Option<bool>,
    /// Tri-state: `true` disabled, `false` enabled, `None` the organisation's default.
    pub smtp_client_authentication_disabled: Option<bool>,
    /// Mailbox audit logging.
    pub audit_enabled: Option<bool>,
}

/// Whether a posture source could be read, as the cache recorded it at the last refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum SourceAvailability {
    /// Never refreshed (or imported).
    Missing,
    /// Read; `as_of` is when.
    Fresh {
        /// When the data was read.
        as_of: DateTime<Utc>,
    },
    /// The tenant refused: permission or licence. `grant` names what to grant or buy
    /// (`Policy.Read.All`, `Entra ID P2`, ...).
    Unavailable {
        /// What to grant.
        grant: String,
        /// The tenant's message.
        message: String,
    },
    /// The last refresh failed for another reason; older data (if any) is still used.
    Failed {
        /// What went wrong.
        message: String,
        /// When data was last read successfully.
        as_of: Option<DateTime<Utc>>,
    },
}

/// The posture source names (refresh sources, `:sources`, `--only`).
pub mod source {
    /// userRegistrationDetails.
    pub const MFA: &str = "mfa-registration";
    /// auditLogs/signIns.
    pub const SIGN_INS: &str = "sign-ins";
    /// conditionalAccess/policies.
    pub const CONDITIONAL_ACCESS: &str = "conditional-access";
    /// transitiveMemberOf per priority account.
    pub const MEMBERSHIPS: &str = "memberships";
    /// identityProtection/riskyUsers.
    pub const RISKY_USERS: &str = "risky-users";
    /// secureScores + secureScoreControlProfiles.
    pub const SECURE_SCORE: &str = "secure-score";
    /// messageTraces.
    pub const MESSAGE_TRACES: &str = "message-traces";
    /// The imported Exchange snapshot.
    pub const EXCHANGE: &str = "exchange-snapshot";
    /// Every posture source, in refresh order.
    pub const ALL: [&str; 8] = [
        MFA,
        CONDITIONAL_ACCESS,
        MEMBERSHIPS,
        SIGN_INS,
        RISKY_USERS,
        SECURE_SCORE,
        MESSAGE_TRACES,
        EXCHANGE,
    ];
}

/// Everything posture evaluation reads, as the cache holds it. `query::posture` turns
/// this (plus the priority accounts and their exposure) into verdicts.
#[derive(Debug, Clone, Default)]
pub struct PostureSources {
    /// MFA registration, one per user the service reported.
    pub registrations: Vec<MfaRegistration>,
    /// Sign-ins of priority accounts, newest first.
    pub sign_ins: Vec<SignIn>,
    /// Every Conditional Access policy, whatever its state.
    pub policies: Vec<ConditionalAccessPolicy>,
    /// Memberships of priority accounts.
    pub memberships: Vec<AccountMemberships>,
    /// Risky users.
    pub risky_users: Vec<RiskyUser>,
    /// Secure Score history, oldest first.
    pub scores: Vec<SecureScore>,
    /// Secure Score controls.
    pub controls: Vec<SecureScoreControl>,
    /// Message traces to or from priority accounts.
    pub traces: Vec<MessageTrace>,
    /// The newest imported Exchange snapshot.
    pub exchange: Option<ExchangeSnapshot>,
    /// Availability per source name ([`source`]).
    pub availability: BTreeMap<String, SourceAvailability>,
}

/// The per-account checks, in the order they are shown and listed in `failing`.
///
/// What fails and what warns (the simulator's ground truth follows the same table):
///
/// | id | fail | warn |
/// |---|---|---|
/// | `mfa` | no MFA method registered (only email / security questions / TAP, or none) | strongest method is phone (SMS / voice) |
/// | `ca-mfa` | no *enabled* policy that applies to the account requires MFA or an authentication strength for all cloud apps (report-only ones are shown, never counted) | — |
/// | `ca-legacy` | no *enabled* policy that applies to the account blocks both legacy client types (`exchangeActiveSync` and `other`, or `all`) | — |
/// | `legacy-auth` | a successful legacy-protocol sign-in in the last 30 days | only failed legacy attempts |
/// | `risk` | risk level `high`, or state `confirmedCompromised` (while not remediated / dismissed / confirmed safe) | risk level `medium` or `low` with state `atRisk` |
/// | `strict-preset` | not covered by an enabled Strict preset rule (both EOP and ATP), or excluded from it, and not by Standard either | covered by Standard only |
/// | `protocols` | POP, IMAP or SMTP AUTH (mailbox value, else the organisation default) enabled | — |
/// | `audit` | — | mailbox audit off (mailbox `auditEnabled` false, or organisation `auditDisabled`) |
/// | `email-issues` | — | mail to or from the account failed, pending, or quarantined in the last 7 days |
///
/// A check whose source is missing or unavailable is `unknown`: listed apart, never
/// counted as passing; the verdict is `fail` if any check fails, else `warn` if any warns
/// or is unknown, else `pass`. An account's `failing` list names every check that fails
/// or warns, in this order.
pub const CHECK_IDS: [&str; 9] = [
    "mfa",
    "ca-mfa",
    "ca-legacy",
    "legacy-auth",
    "risk",
    "strict-preset",
    "protocols",
    "audit",
    "email-issues",
];

/// Legacy (basic-authentication) client apps as `signIn.clientAppUsed` names them: the
/// Entra sign-in logs' "legacy authentication clients", plus the short forms Graph's
/// `signIn` reference uses (`IMAP`, `POP`, `SMTP`, `MAPI`). Compared case-insensitively.
pub const LEGACY_CLIENT_APPS: [&str; 17] = [
    "Authenticated SMTP",
    "AutoDiscover",
    "Exchange ActiveSync",
    "Exchange Online PowerShell",
    "Exchange Web Services",
    "IMAP",
    "IMAP4",
    "MAPI",
    "MAPI Over HTTP",
    "Offline Address Book",
    "Other clients",
    "Outlook Anywhere (RPC over HTTP)",
    "POP",
    "POP3",
    "Reporting Web Services",
    "SMTP",
    "Universal Outlook",
];

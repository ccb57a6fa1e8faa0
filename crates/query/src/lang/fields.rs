//! The field registry: every `field:value` the filter language knows, per entity, with
//! its short forms, value kind, description and example. The console's help, the
//! completion prompt, the README reference and the parser all read this one table.
//!
//! # Semantics (emails)
//!
//! An email row is one `EmailEvents` row: a message as received by one recipient. Each
//! term below is true or false for a row — never unknown: a missing value (an empty
//! column, JSON without the key, a number that is null) simply does not match, and
//! `-term` is true exactly when `term` is false. The KQL compiler
//! ([`crate::kql`]) emits exactly these semantics; the in-memory evaluator must
//! follow them too.
//!
//! Text comparison rules, shared by every field:
//! - **exact** (`ValueKind::Exact`): case-insensitive equality (`=~`). A `*` at the start
//!   and/or end of the value is a wildcard: `a*` starts with, `*a` ends with, `*a*`
//!   contains, `*` anything. A `*` anywhere else is an error.
//! - **contains** (`ValueKind::Contains`): case-insensitive substring (`contains`); `*` is
//!   an ordinary character.
//! - **enumerated** (`ValueKind::Enum`): the value names a documented spelling (or a short
//!   form of it); see [`EnumValue`] for how each field compares it.
//! - Case-insensitivity is Kusto's: ASCII case folding when the value is ASCII, full
//!   Unicode lowercase of both sides otherwise.
//! - `field:a,b` is true when any of the values matches.
//!
//! Related tables are joined per message (`NetworkMessageId`) or per message and
//! recipient (`NetworkMessageId` and the recipient's address, compared lowercased); the
//! row matches when *some* related row satisfies the condition.
//!
//! ## Per field
//!
//! | term | true for an `EmailEvents` row when | KQL |
//! |---|---|---|
//! | bare word `w` / `"a b"` | `Subject`, `SenderFromAddress` or `SenderDisplayName` contains it | `Subject contains "w" or SenderFromAddress contains "w" or SenderDisplayName contains "w"` |
//! | `from:` | exact¹ on `SenderFromAddress` | `SenderFromAddress =~ "v"` (`in~` for several) |
//! | `sender-domain:` | exact¹ on `SenderFromDomain` | `SenderFromDomain =~ "v"` |
//! | `display-name:` | `SenderDisplayName` contains | `contains` |
//! | `mail-from:` | exact¹ on `SenderMailFromAddress` | `=~` |
//! | `to:` | exact¹ on `RecipientEmailAddress` | `=~` |
//! | `recipient-domain:d` | the part of `RecipientEmailAddress` after `@` equals `d`; `*s`: ends with `s`; `p*`: starts with `p` (a `*` at one end only) | `endswith "@d"` / `endswith "s"` / `contains "@p"` |
//! | `subject:` | `Subject` contains | `contains` |
//! | `tag:t` | the recipient is a member of tag `t` (names case-insensitive; members resolved by the caller, compared case-insensitively); unknown tag → error; a tag without members matches nothing | `RecipientEmailAddress in~ ("a@x", ...)` |
//! | `is:priority` | the recipient is a member of the built-in `Priority account` tag (not `Context`: see `context:priority`) | as `tag:` |
//! | `threat:X` | the comma-separated list `ThreatTypes` has the whole term `X` (`Phish`, `Malware`, `Spam`); `threat:none`: `ThreatTypes` is empty | `ThreatTypes has "Phish"` / `isempty(ThreatTypes)` |
//! | `detection:X` | `DetectionMethods` (JSON like `{"Phish":["URL malicious reputation"]}`) contains the method as a whole JSON string, `"X"` with its quotes, case-insensitive | `DetectionMethods contains "\"URL malicious reputation\""` |
//! | `delivery:` | `DeliveryAction` equals (case-insensitive) `Delivered`/`Junked`/`Blocked`/`Replaced` | `DeliveryAction =~ "Junked"` |
//! | `location:` | `LatestDeliveryLocation` equals (`Inbox/folder`, `Junk folder`, `Quarantine`, `Deleted items`, `Dropped`, `Failed`, `On-premises/external`, `Forwarded`, `Unknown`) | `LatestDeliveryLocation =~ ...` |
//! | `original-location:` | `DeliveryLocation` equals, same values | `DeliveryLocation =~ ...` |
//! | `direction:` | `EmailDirection` equals `Inbound`/`Outbound`/`Intra-org`/`Unknown` | `EmailDirection =~ ...` |
//! | `context:` | `Context` contains `Priority Account Protection` / `Evaluation`; `context:none`: `Context` is empty | `Context contains ...` / `isempty(Context)` |
//! | `campaign:v` | some `CampaignInfo` row of the message (`NetworkMessageId`) has `CampaignId` exactly¹ `v` or a `CampaignName` containing `v` | `NetworkMessageId in ((CampaignInfo \| where CampaignId =~ "v" or CampaignName contains "v" \| project NetworkMessageId))` |
//! | `cluster:` | number² on `EmailClusterId` | `EmailClusterId == n` |
//! | `url:` | some `EmailUrlInfo` row of the message has a `Url` containing the value | `NetworkMessageId in ((EmailUrlInfo \| where Url contains "v" \| project NetworkMessageId))` |
//! | `url-domain:` | some `EmailUrlInfo` row of the message has `UrlDomain` exactly¹ | same, `UrlDomain =~ "v"` |
//! | `attachment:` | some `EmailAttachmentInfo` row of this message **and recipient** has `FileName` exactly¹ | `strcat(NetworkMessageId, "\|", tolower(RecipientEmailAddress)) in ((EmailAttachmentInfo \| where FileName endswith ".html" \| project Key = strcat(NetworkMessageId, "\|", tolower(RecipientEmailAddress))))` |
//! | `sha256:` | same, `SHA256` exactly¹ | same, `SHA256 =~ "h"` |
//! | `ip:` | exact¹ on `SenderIPv4` or on `SenderIPv6` | `SenderIPv4 =~ "v" or SenderIPv6 =~ "v"` |
//! | `alert:` | some `AlertEvidence` row with `AlertId` exactly¹ names the message (`NetworkMessageId`) | `NetworkMessageId in ((AlertEvidence \| where AlertId =~ "id" \| project NetworkMessageId))` |
//! | `nmid:` / `imid:` | exact¹ on `NetworkMessageId` / `InternetMessageId` | `=~` |
//! | `spf:` `dkim:` `dmarc:` `compauth:` | the `SPF`/`DKIM`/`DMARC`/`CompAuth` key of the JSON `AuthenticationDetails` equals the result (case-insensitive); missing key or bad JSON matches nothing | `tostring(parse_json(AuthenticationDetails).SPF) =~ "fail"` |
//! | `bcl:` | number² on `BulkComplaintLevel` | `(isnotnull(BulkComplaintLevel) and BulkComplaintLevel >= 7)` |
//! | `size:` | number² on `EmailSize` of the JSON `AdditionalFields` | `tolong(parse_json(AdditionalFields).EmailSize)` |
//! | `additional-action:` | some `EmailPostDeliveryEvents` row of this message **and recipient** has `ActionType` exactly¹ | as `zap:`, `ActionType =~ "v"` |
//! | `attachment-count:` / `url-count:` | number² on `AttachmentCount` / `UrlCount` | `AttachmentCount >= 1` |
//! | `clicked:yes` | some `UrlClickEvents` row of this message (`NetworkMessageId`) by this recipient (`AccountUpn` = `RecipientEmailAddress`, lowercased) has `IsClickedThrough == true` or `ActionType` `ClickAllowed`; `clicked:no` is its negation | `strcat(...) in ((UrlClickEvents \| where IsClickedThrough == true or ActionType =~ "ClickAllowed" \| project Key = strcat(NetworkMessageId, "\|", tolower(AccountUpn))))` |
//! | `zap:yes` | some `EmailPostDeliveryEvents` row of this message and recipient has `ActionType` `Phish ZAP` or `Malware ZAP`; `zap:no` is its negation | `strcat(...) in ((EmailPostDeliveryEvents \| where ActionType in~ ("Phish ZAP", "Malware ZAP") \| project Key = ...))` |
//! | `rule:` | `OrgLevelPolicy` contains | `contains` |
//! | `policy:` | `EmailActionPolicy` contains | `contains` |
//! | `language:` | exact¹ on `EmailLanguage` | `=~` |
//! | `threat-name:` | `ThreatNames` contains | `contains` |
//! | `connector:` | `Connectors` contains | `contains` |
//! | `mail-from-domain:` | exact¹ on `SenderMailFromDomain` | `=~` |
//! | `phish-confidence:` | the `Phish` key of the JSON `ConfidenceLevel` equals the level (case-insensitive) | `tostring(parse_json(ConfidenceLevel).Phish) =~ "High"` |
//! | `override:` | `org-allow`/`org-block`: `OrgLevelAction` equals `Allow`/`Block`; `user-allow`/`user-block`: `UserLevelAction` does; `none`: neither is `Allow` nor `Block` | `OrgLevelAction =~ "Allow"` / `not(OrgLevelAction in~ ("Allow", "Block") or UserLevelAction in~ ("Allow", "Block"))` |
//! | `file-type:` | some `EmailAttachmentInfo` row of this message **and recipient** has `FileType` exactly¹ | as `attachment:` |
//! | `url-source:` | some `EmailUrlInfo` row of the message has `UrlLocation` exactly¹ | as `url:` |
//! | `click-verdict:` | some `UrlClickEvents` row of this message by this recipient has `ActionType` equal (case-insensitive) | as `clicked:`, `ActionType in~ ("ClickBlocked")` |
//! | `since:P` | `Timestamp >= start(P)` | `Timestamp >= datetime(...)` |
//! | `until:P` | `Timestamp < end(P)` | `Timestamp < datetime(...)` |
//! | `between:A..B` | `start(A) <= Timestamp < end(B)` | both |
//!
//! ¹ **exact**: case-insensitive equality; a `*` at the start and/or end is a wildcard (`a*` starts with, `*a` ends with, `*a*` contains, `*` anything); `*` elsewhere is a parse error.
//! ² **number**: `n` or `=n` equality, `n,m` any of, `<n`, `<=n`, `>n`, `>=n`; a null or missing value matches nothing (and so `-bcl:>=7` matches it).
//! Times: `Nm`/`Nh`/`Nd`/`Nw` mean `now` minus that span (`now` is the caller's clock; the KQL carries the resolved instant); a date `YYYY-MM-DD` is a UTC day: `start` is its midnight, `end` the next midnight (so `until:2026-11-01` includes Nov 1); an RFC 3339 time is that instant either way.
//! Case-insensitivity is Kusto's: ASCII folding when the value is ASCII, full Unicode lowercase of both sides otherwise. "Contains" is a substring match (`contains`), not `has`. A multi-value `field:a,b` is the OR of the values. `-t`/`NOT t` is true exactly when `t` is false (two-valued logic: terms never yield null).
//!
//! ## Other entities
//!
//! - Alerts (`AlertInfo`): a bare word is `Title` contains; `severity` = `Severity` (case-insensitive), `category` exact `Category`, `title` contains `Title`, `source` = `ServiceSource` as AlertInfo spells it (`mdo` → `Microsoft Defender for Office 365`), `user` = an `AlertEvidence` row of the alert with `AccountUpn` exact, `tag`/`is:priority` = an `AlertEvidence` row with `AccountUpn` among the members, times on `Timestamp` (creation). `status`, `classification`, `determination`, `assigned`, `incident` exist only in Graph: local only.
//! - Campaigns (`CampaignInfo`, one row per message × recipient): a campaign matches when at least one of its rows matches; bare word and `name` = `CampaignName` contains, `type` = `CampaignType`, `subtype` exact `CampaignSubtype`, `tag`/`is:priority` = some row of the campaign has a recipient among the members.
//! - Users (`IdentityInfo`): bare word = `AccountUpn` or `AccountDisplayName` contains; `upn`, `department`, `job-title`, `country` exact; `tag`/`is:priority` = `AccountUpn` among the members.
//! - Incidents: local only (no advanced-hunting table); bare word = title contains; `user`, `tag`/`is:priority` = an account one of its alerts affects.
//! - Posture (local only; one row per priority account or tag member, from
//!   `query::posture`): bare word and `upn` = the account; `mfa` = strongest method
//!   (`phishing-resistant`, `app`, `phone`, `none`, `unknown`); `ca` = `mfa` (an enabled
//!   policy requires it), `no-mfa`, `report-only`, `unknown`; `legacy:yes` = a legacy
//!   sign-in in 30 days; `strict` = `yes` (Strict preset), `no` (anything else known),
//!   `standard`, `excluded`, `unknown`; `risk` = `high`, `medium`, `low`, `none`,
//!   `unknown`; `verdict` = `fail`, `warn`, `pass`; `failing` = a failing check id;
//!   `tag`/`is:priority` = the account among the members.
//! - Sign-ins (local only): bare word and `upn` = the account; `legacy:yes` = a legacy
//!   client (`clientAppUsed` in the Entra docs' legacy list); `tag`/`is:priority`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of thing a filter selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// `EmailEvents` rows: one per message × recipient.
    Emails,
    /// `alerts_v2` alerts (`AlertInfo` remotely).
    Alerts,
    /// Campaigns (`CampaignInfo` remotely).
    Campaigns,
    /// Directory users (`IdentityInfo` remotely).
    Users,
    /// Incidents (local only: advanced hunting has no incidents table).
    Incidents,
    /// Priority-account posture rows (local only: computed from posture sources).
    Posture,
    /// Cached sign-ins of priority accounts (local only).
    SignIns,
}

impl Entity {
    /// Every entity, in menu order.
    pub const ALL: [Entity; 7] = [
        Entity::Emails,
        Entity::Alerts,
        Entity::Campaigns,
        Entity::Users,
        Entity::Incidents,
        Entity::Posture,
        Entity::SignIns,
    ];

    /// The entity's name as the CLI spells it (`emails`, `alerts`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Emails => "emails",
            Entity::Alerts => "alerts",
            Entity::Campaigns => "campaigns",
            Entity::Users => "users",
            Entity::Incidents => "incidents",
            Entity::Posture => "posture",
            Entity::SignIns => "sign-ins",
        }
    }

    /// The entity named `s` (case-insensitive; singular accepted).
    pub fn parse(s: &str) -> Option<Entity> {
        let s = s.to_ascii_lowercase();
        Entity::ALL
            .into_iter()
            .find(|e| s == e.as_str() || s == e.as_str().trim_end_matches('s'))
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field of the filter language. Names can repeat across entities with different
/// meanings (`status` of an alert or of an incident), so a field is identified by this
/// enum, and [`lookup`] resolves a name within an entity.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    // Emails.
    From,
    SenderDomain,
    DisplayName,
    MailFrom,
    To,
    RecipientDomain,
    Subject,
    Threat,
    Detection,
    Delivery,
    Location,
    OriginalLocation,
    Direction,
    Context,
    Campaign,
    Cluster,
    Url,
    UrlDomain,
    Attachment,
    Sha256,
    Ip,
    Alert,
    Nmid,
    Imid,
    Spf,
    Dkim,
    Dmarc,
    CompAuth,
    Bcl,
    Size,
    Clicked,
    Zap,
    Rule,
    Policy,
    Language,
    ThreatName,
    Connector,
    FileType,
    Override,
    ClickVerdict,
    UrlSource,
    MailFromDomain,
    PhishConfidence,
    AttachmentCount,
    UrlCount,
    AdditionalAction,
    // Shared.
    Tag,
    Is,
    Since,
    Until,
    Between,
    // Alerts and incidents.
    Severity,
    AlertStatus,
    IncidentStatus,
    Classification,
    Determination,
    Category,
    Title,
    Source,
    Assigned,
    User,
    Incident,
    // Campaigns.
    CampaignType,
    Subtype,
    Name,
    // Users.
    Upn,
    Department,
    JobTitle,
    Country,
    // Posture and sign-ins.
    Mfa,
    Ca,
    Legacy,
    Strict,
    Risk,
    Verdict,
    Failing,
}

/// One documented value of an enumerated field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    /// The spelling the data uses (`Inbox/folder`). The empty string stands for "the
    /// column is empty" and is written `none`.
    pub doc: &'static str,
    /// Short forms, the first of which is the canonical text `print` writes. When empty,
    /// the canonical text is the *slug* of `doc`: lowercase, runs of other characters
    /// than letters and digits replaced by `-` (`Junk folder` → `junk-folder`). The
    /// documented spelling and its slug are always accepted, case-insensitively.
    pub short: &'static [&'static str],
}

impl EnumValue {
    /// The text `print` writes for this value.
    pub fn canonical(&self) -> String {
        match self.short.first() {
            Some(s) => (*s).to_string(),
            None if self.doc.is_empty() => "none".to_string(),
            None => slug(self.doc),
        }
    }

    /// Whether `text` names this value.
    pub fn matches(&self, text: &str) -> bool {
        let lower = text.to_lowercase();
        (self.doc.is_empty() && lower == "none")
            || (!self.doc.is_empty() && lower == self.doc.to_lowercase())
            || (!self.doc.is_empty() && lower == slug(self.doc))
            || self.short.iter().any(|s| lower == s.to_lowercase())
    }
}

/// `Junk folder` → `junk-folder`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// What values a field takes and how they compare (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Case-insensitive equality, `*` wildcard at either end.
    Exact,
    /// A domain compared with the part of an address after `@`: exact, `*suffix` or
    /// `prefix*` (not `*middle*`), case-insensitive.
    Domain,
    /// Case-insensitive substring.
    Contains,
    /// One of the listed values.
    Enum(&'static [EnumValue]),
    /// A whole number, with `=` (default) `<`, `<=`, `>`, `>=`.
    Number,
    /// A time bound (`since`, `until`, `between`).
    Time,
    /// A tag name, resolved by the caller to member addresses.
    Tag,
}

/// One field as the registry describes it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field.
    pub field: Field,
    /// Its canonical name (what `print` writes).
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Its values.
    pub kind: ValueKind,
    /// The entities it applies to.
    pub entities: &'static [Entity],
    /// What it matches, in the analyst's words and in advanced-hunting columns.
    pub description: &'static str,
    /// An example term.
    pub example: &'static str,
}

const fn ev(doc: &'static str, short: &'static [&'static str]) -> EnumValue {
    EnumValue { doc, short }
}

/// `ThreatTypes` values.
pub const THREATS: &[EnumValue] = &[
    ev("Phish", &[]),
    ev("Malware", &[]),
    ev("Spam", &[]),
    ev("", &["none", "clean"]),
];

/// `DeliveryAction` values.
pub const DELIVERY_ACTIONS: &[EnumValue] = &[
    ev("Delivered", &[]),
    ev("Junked", &["junked", "junk"]),
    ev("Blocked", &[]),
    ev("Replaced", &[]),
];

/// `DeliveryLocation` / `LatestDeliveryLocation` values.
pub const LOCATIONS: &[EnumValue] = &[
    ev("Inbox/folder", &["inbox"]),
    ev("Junk folder", &["junk"]),
    ev("Quarantine", &[]),
    ev("Deleted items", &["deleted"]),
    ev("Dropped", &[]),
    ev("Failed", &[]),
    ev("On-premises/external", &["external", "onprem", "on-prem"]),
    ev("Forwarded", &[]),
    ev("Unknown", &[]),
];

/// `EmailDirection` values.
pub const DIRECTIONS: &[EnumValue] = &[
    ev("Inbound", &[]),
    ev("Outbound", &[]),
    ev("Intra-org", &["intra-org", "intraorg", "internal"]),
    ev("Unknown", &[]),
];

/// `Context` values.
pub const CONTEXTS: &[EnumValue] = &[
    ev("Priority Account Protection", &["priority"]),
    ev("Evaluation", &[]),
    ev("", &["none"]),
];

/// Detection technologies as they appear inside `DetectionMethods`.
pub const DETECTIONS: &[EnumValue] = &[
    ev("Advanced filter", &[]),
    ev("Antimalware protection", &["antimalware"]),
    ev("Bulk", &[]),
    ev("Campaign", &[]),
    ev("Domain reputation", &[]),
    ev("File detonation", &[]),
    ev("File detonation reputation", &[]),
    ev("File reputation", &[]),
    ev("Fingerprint matching", &[]),
    ev("General filter", &[]),
    ev("Impersonation brand", &[]),
    ev("Impersonation domain", &[]),
    ev("Impersonation user", &[]),
    ev("IP reputation", &[]),
    ev("Mailbox intelligence impersonation", &[]),
    ev("Mixed analysis detection", &[]),
    ev("Safe Attachments", &[]),
    ev("Spoof DMARC", &[]),
    ev("Spoof external domain", &[]),
    ev("Spoof intra-org", &[]),
    ev("URL detonation", &[]),
    ev("URL detonation reputation", &[]),
    ev("URL malicious reputation", &[]),
    ev("ZAP", &[]),
];

/// SPF results in `AuthenticationDetails`.
pub const SPF_RESULTS: &[EnumValue] = &[
    ev("pass", &[]),
    ev("fail", &[]),
    ev("softfail", &[]),
    ev("neutral", &[]),
    ev("none", &[]),
    ev("temperror", &[]),
    ev("permerror", &[]),
];

/// DKIM results in `AuthenticationDetails`.
pub const DKIM_RESULTS: &[EnumValue] = &[
    ev("pass", &[]),
    ev("fail", &[]),
    ev("none", &[]),
    ev("temperror", &[]),
    ev("permerror", &[]),
];

/// DMARC results in `AuthenticationDetails`.
pub const DMARC_RESULTS: &[EnumValue] = &[
    ev("pass", &[]),
    ev("fail", &[]),
    ev("bestguesspass", &[]),
    ev("none", &[]),
    ev("temperror", &[]),
    ev("permerror", &[]),
];

/// Composite authentication results in `AuthenticationDetails`.
pub const COMPAUTH_RESULTS: &[EnumValue] = &[
    ev("pass", &[]),
    ev("fail", &[]),
    ev("softpass", &[]),
    ev("none", &[]),
];

/// System overrides, as Threat Explorer names them: an allow or block of the
/// organisation (`OrgLevelAction`) or of the recipient (`UserLevelAction`); the empty
/// spelling is "no override".
pub const OVERRIDES: &[EnumValue] = &[
    ev("Allowed by org policy", &["org-allow"]),
    ev("Blocked by org policy", &["org-block"]),
    ev("Allowed by user policy", &["user-allow"]),
    ev("Blocked by user policy", &["user-block"]),
    ev("", &["none"]),
];

/// `UrlClickEvents.ActionType` values (Safe Links' verdict at the time of the click).
pub const CLICK_VERDICTS: &[EnumValue] = &[
    ev("ClickAllowed", &["allowed"]),
    ev("ClickBlocked", &["blocked"]),
    ev(
        "ClickBlockedByTenantPolicy",
        &["blocked-by-tenant-policy", "tenant-blocked"],
    ),
    ev("UrlErrorPage", &["error"]),
    ev("UrlScanInProgress", &["pending", "scan-in-progress"]),
];

/// Phish confidence levels in `ConfidenceLevel` (`{"Phish":"High",...}`).
pub const PHISH_CONFIDENCES: &[EnumValue] = &[ev("High", &[]), ev("Normal", &[])];

/// `yes` / `no`.
pub const YES_NO: &[EnumValue] = &[ev("yes", &["true"]), ev("no", &["false"])];

/// `is:` flags.
pub const FLAGS: &[EnumValue] = &[ev("priority", &["vip"])];

/// Posture `mfa:` values.
pub const MFA_STRENGTHS: &[EnumValue] = &[
    ev("phishing-resistant", &["strong"]),
    ev("app", &[]),
    ev("phone", &["sms"]),
    ev("none", &[]),
    ev("unknown", &[]),
];

/// Posture `ca:` values.
pub const CA_STATES: &[EnumValue] = &[
    ev("mfa", &[]),
    ev("no-mfa", &[]),
    ev("report-only", &[]),
    ev("unknown", &[]),
];

/// Posture `strict:` values.
pub const STRICT_STATES: &[EnumValue] = &[
    ev("yes", &[]),
    ev("no", &[]),
    ev("standard", &[]),
    ev("excluded", &[]),
    ev("unknown", &[]),
];

/// Posture `risk:` values.
pub const RISK_LEVELS: &[EnumValue] = &[
    ev("high", &[]),
    ev("medium", &[]),
    ev("low", &[]),
    ev("none", &[]),
    ev("unknown", &[]),
];

/// Posture `verdict:` values.
pub const VERDICTS: &[EnumValue] = &[ev("fail", &[]), ev("warn", &[]), ev("pass", &[])];

/// Posture check ids (`failing:`).
pub const CHECKS: &[EnumValue] = &[
    ev("mfa", &[]),
    ev("ca-mfa", &[]),
    ev("ca-legacy", &[]),
    ev("legacy-auth", &[]),
    ev("risk", &[]),
    ev("strict-preset", &[]),
    ev("protocols", &[]),
    ev("audit", &[]),
    ev("email-issues", &[]),
];

/// Alert and incident severities (Graph spellings).
pub const SEVERITIES: &[EnumValue] = &[
    ev("high", &[]),
    ev("medium", &["med"]),
    ev("low", &[]),
    ev("informational", &["info"]),
    ev("unknown", &[]),
];

/// Alert statuses (Graph spellings).
pub const ALERT_STATUSES: &[EnumValue] = &[
    ev("new", &[]),
    ev("inProgress", &["inprogress", "in-progress", "active"]),
    ev("resolved", &[]),
    ev("unknown", &[]),
];

/// Incident statuses (Graph spellings).
pub const INCIDENT_STATUSES: &[EnumValue] = &[
    ev("active", &[]),
    ev("inProgress", &["inprogress", "in-progress"]),
    ev("resolved", &[]),
    ev("redirected", &[]),
    ev("awaitingAction", &["awaiting-action", "awaitingaction"]),
];

/// Classifications (Graph spellings).
pub const CLASSIFICATIONS: &[EnumValue] = &[
    ev("truePositive", &["tp", "true-positive"]),
    ev("falsePositive", &["fp", "false-positive"]),
    ev(
        "informationalExpectedActivity",
        &["benign", "informational-expected-activity"],
    ),
    ev("unknown", &[]),
];

/// Determinations (Graph spellings).
pub const DETERMINATIONS: &[EnumValue] = &[
    ev("apt", &[]),
    ev("malware", &[]),
    ev("securityPersonnel", &["security-personnel"]),
    ev("securityTesting", &["security-testing"]),
    ev("unwantedSoftware", &["unwanted-software"]),
    ev("other", &[]),
    ev("multiStagedAttack", &["multi-staged-attack"]),
    ev("compromisedAccount", &["compromised-account"]),
    ev("phishing", &[]),
    ev("maliciousUserActivity", &["malicious-user-activity"]),
    ev("notMalicious", &["not-malicious"]),
    ev("notEnoughDataToValidate", &["not-enough-data"]),
    ev(
        "confirmedActivity",
        &["confirmed-activity", "confirmed-user-activity"],
    ),
    ev(
        "lineOfBusinessApplication",
        &["line-of-business-application"],
    ),
    ev("unknown", &[]),
];

/// Service sources (Graph spellings).
pub const SOURCES: &[EnumValue] = &[
    ev("microsoftDefenderForOffice365", &["mdo", "office365"]),
    ev("microsoftDefenderForEndpoint", &["mde", "endpoint"]),
    ev("microsoftDefenderForIdentity", &["mdi", "identity"]),
    ev("microsoftDefenderForCloudApps", &["mdca", "cloud-apps"]),
    ev("microsoft365Defender", &["xdr", "m365d"]),
    ev("azureAdIdentityProtection", &["idp", "identity-protection"]),
    ev("microsoftAppGovernance", &["app-governance"]),
    ev("dataLossPrevention", &["dlp"]),
    ev("microsoftDefenderForCloud", &["mdc", "cloud"]),
    ev("microsoftSentinel", &["sentinel"]),
    ev("microsoftInsiderRiskManagement", &["irm", "insider-risk"]),
];

/// `CampaignType` values.
pub const CAMPAIGN_TYPES: &[EnumValue] = &[ev("Phish", &[]), ev("Malware", &[]), ev("Spam", &[])];

use Entity::{Alerts, Campaigns, Emails, Incidents, Posture, SignIns, Users};

const E: &[Entity] = &[Emails];
const A: &[Entity] = &[Alerts];
const AI: &[Entity] = &[Alerts, Incidents];
const C: &[Entity] = &[Campaigns];
const U: &[Entity] = &[Users];
const I: &[Entity] = &[Incidents];
const TAGGED: &[Entity] = &[
    Emails, Alerts, Campaigns, Users, Posture, SignIns, Incidents,
];
const P: &[Entity] = &[Posture];
const PS: &[Entity] = &[Posture, SignIns];
const UPS: &[Entity] = &[Users, Posture, SignIns];
const TIMED: &[Entity] = &[Emails, Alerts, Campaigns, Incidents];

const fn f(
    field: Field,
    name: &'static str,
    aliases: &'static [&'static str],
    kind: ValueKind,
    entities: &'static [Entity],
    description: &'static str,
    example: &'static str,
) -> FieldSpec {
    FieldSpec {
        field,
        name,
        aliases,
        kind,
        entities,
        description,
        example,
    }
}

use ValueKind::{Contains, Domain, Exact, Number, Tag, Time};

/// Every field, emails first, in help order.
pub static FIELDS: &[FieldSpec] = &[
    f(
        Field::From,
        "from",
        &["sender"],
        Exact,
        E,
        "Sender address (`SenderFromAddress`).",
        "from:*@contoso-billing.com",
    ),
    f(
        Field::SenderDomain,
        "sender-domain",
        &["sd", "fromdomain", "from-domain"],
        Exact,
        E,
        "Sender domain (`SenderFromDomain`).",
        "sender-domain:contoso-billing.com",
    ),
    f(
        Field::DisplayName,
        "display-name",
        &["dn", "name"],
        Contains,
        E,
        "Sender display name contains (`SenderDisplayName`).",
        "display-name:\"IT Support\"",
    ),
    f(
        Field::MailFrom,
        "mail-from",
        &["mailfrom", "return-path"],
        Exact,
        E,
        "Envelope sender, P1 (`SenderMailFromAddress`).",
        "mail-from:*@mailer.example.net",
    ),
    f(
        Field::To,
        "to",
        &["recipient", "rcpt"],
        Exact,
        E,
        "Recipient address (`RecipientEmailAddress`).",
        "to:megan.bowen@contoso.com",
    ),
    f(
        Field::RecipientDomain,
        "recipient-domain",
        &["rd", "todomain", "to-domain"],
        Domain,
        E,
        "Recipient domain: the part of `RecipientEmailAddress` after `@`.",
        "recipient-domain:contoso.com",
    ),
    f(
        Field::Subject,
        "subject",
        &["subj"],
        Contains,
        E,
        "Subject contains (`Subject`).",
        "subject:\"wire transfer\"",
    ),
    f(
        Field::Tag,
        "tag",
        &["tags"],
        Tag,
        TAGGED,
        "Carries a user tag: emails by recipient, alerts and incidents by affected user, campaigns by a targeted recipient, users by account.",
        "tag:finance",
    ),
    f(
        Field::Is,
        "is",
        &[],
        ValueKind::Enum(FLAGS),
        TAGGED,
        "`is:priority`: the Priority account tag (recipient, affected user, targeted recipient, account).",
        "is:priority",
    ),
    f(
        Field::Threat,
        "threat",
        &["threats", "threat-type"],
        ValueKind::Enum(THREATS),
        E,
        "Threat type in the list `ThreatTypes` (`Phish, Spam`); `none` for no threat.",
        "threat:phish,malware",
    ),
    f(
        Field::Detection,
        "detection",
        &["detection-technology", "dt"],
        ValueKind::Enum(DETECTIONS),
        E,
        "Detection technology named in `DetectionMethods`.",
        "detection:url-malicious-reputation",
    ),
    f(
        Field::Delivery,
        "delivery",
        &["action", "delivery-action"],
        ValueKind::Enum(DELIVERY_ACTIONS),
        E,
        "Delivery action (`DeliveryAction`).",
        "delivery:delivered",
    ),
    f(
        Field::Location,
        "location",
        &["loc", "latest-location"],
        ValueKind::Enum(LOCATIONS),
        E,
        "Latest delivery location, after ZAP and remediation (`LatestDeliveryLocation`).",
        "location:inbox",
    ),
    f(
        Field::OriginalLocation,
        "original-location",
        &["oloc", "original"],
        ValueKind::Enum(LOCATIONS),
        E,
        "Original delivery location (`DeliveryLocation`).",
        "original-location:junk",
    ),
    f(
        Field::Direction,
        "direction",
        &["dir"],
        ValueKind::Enum(DIRECTIONS),
        E,
        "Directionality (`EmailDirection`).",
        "direction:inbound",
    ),
    f(
        Field::Context,
        "context",
        &[],
        ValueKind::Enum(CONTEXTS),
        E,
        "Protection context (`Context`): `priority` for Priority account protection.",
        "context:priority",
    ),
    f(
        Field::Campaign,
        "campaign",
        &[],
        Contains,
        E,
        "Part of a campaign: `CampaignInfo` with that `CampaignId` (exact) or a `CampaignName` containing the value.",
        "campaign:\"credential phish\"",
    ),
    f(
        Field::Cluster,
        "cluster",
        &["cluster-id"],
        Number,
        E,
        "Email cluster (`EmailClusterId`).",
        "cluster:4021337",
    ),
    f(
        Field::Url,
        "url",
        &[],
        Contains,
        E,
        "Contains a URL containing the value (`EmailUrlInfo.Url`).",
        "url:/owa/",
    ),
    f(
        Field::UrlDomain,
        "url-domain",
        &["ud", "urldomain"],
        Exact,
        E,
        "Contains a URL on that domain (`EmailUrlInfo.UrlDomain`).",
        "url-domain:*.top",
    ),
    f(
        Field::Attachment,
        "attachment",
        &["file", "filename"],
        Exact,
        E,
        "This recipient's copy has an attachment with that file name (`EmailAttachmentInfo.FileName`).",
        "attachment:*.html",
    ),
    f(
        Field::Sha256,
        "sha256",
        &["sha", "hash"],
        Exact,
        E,
        "This recipient's copy has an attachment with that hash (`EmailAttachmentInfo.SHA256`).",
        "sha256:9f86d081…",
    ),
    f(
        Field::Ip,
        "ip",
        &["sender-ip"],
        Exact,
        E,
        "Sender IP (`SenderIPv4` or `SenderIPv6`).",
        "ip:203.0.113.*",
    ),
    f(
        Field::Alert,
        "alert",
        &["alert-id"],
        Exact,
        E,
        "Evidence of that alert (`AlertEvidence.AlertId`, by `NetworkMessageId`).",
        "alert:fa8a1c3b…",
    ),
    f(
        Field::Nmid,
        "nmid",
        &["network-message-id"],
        Exact,
        E,
        "Network message ID (`NetworkMessageId`).",
        "nmid:5f3c…",
    ),
    f(
        Field::Imid,
        "imid",
        &["internet-message-id", "message-id"],
        Exact,
        E,
        "Internet message ID (`InternetMessageId`).",
        "imid:\"<abc@contoso.com>\"",
    ),
    f(
        Field::Spf,
        "spf",
        &[],
        ValueKind::Enum(SPF_RESULTS),
        E,
        "SPF result (`AuthenticationDetails.SPF`).",
        "spf:fail",
    ),
    f(
        Field::Dkim,
        "dkim",
        &[],
        ValueKind::Enum(DKIM_RESULTS),
        E,
        "DKIM result (`AuthenticationDetails.DKIM`).",
        "dkim:none",
    ),
    f(
        Field::Dmarc,
        "dmarc",
        &[],
        ValueKind::Enum(DMARC_RESULTS),
        E,
        "DMARC result (`AuthenticationDetails.DMARC`).",
        "dmarc:fail",
    ),
    f(
        Field::CompAuth,
        "compauth",
        &["composite-auth"],
        ValueKind::Enum(COMPAUTH_RESULTS),
        E,
        "Composite authentication (`AuthenticationDetails.CompAuth`).",
        "compauth:fail",
    ),
    f(
        Field::Bcl,
        "bcl",
        &["bulk"],
        Number,
        E,
        "Bulk complaint level (`BulkComplaintLevel`).",
        "bcl:>=7",
    ),
    f(
        Field::Size,
        "size",
        &[],
        Number,
        E,
        "Message size in bytes (`AdditionalFields.EmailSize`).",
        "size:>100000",
    ),
    f(
        Field::Clicked,
        "clicked",
        &[],
        ValueKind::Enum(YES_NO),
        E,
        "This recipient clicked a URL of the message and got through (`UrlClickEvents`).",
        "clicked:yes",
    ),
    f(
        Field::Zap,
        "zap",
        &[],
        ValueKind::Enum(YES_NO),
        E,
        "Removed from this recipient's mailbox by ZAP (`EmailPostDeliveryEvents`).",
        "zap:yes",
    ),
    f(
        Field::Rule,
        "rule",
        &["transport-rule"],
        Contains,
        E,
        "Organisation-level policy or transport rule (`OrgLevelPolicy`) contains.",
        "rule:\"transport rule\"",
    ),
    f(
        Field::Policy,
        "policy",
        &[],
        Contains,
        E,
        "Policy that acted (`EmailActionPolicy`) contains.",
        "policy:antimalware",
    ),
    f(
        Field::Language,
        "language",
        &["lang"],
        Exact,
        E,
        "Detected language (`EmailLanguage`).",
        "language:en",
    ),
    f(
        Field::ThreatName,
        "threat-name",
        &["malware-family", "malware", "family", "threat-names"],
        Contains,
        E,
        "Threat or malware family name (`ThreatNames`, e.g. `Trojan:Win32/Qakbot.RPX!MTB`) contains.",
        "malware-family:qakbot",
    ),
    f(
        Field::Connector,
        "connector",
        &["connectors"],
        Contains,
        E,
        "Custom connector the mail went through (`Connectors`) contains.",
        "connector:partner",
    ),
    f(
        Field::FileType,
        "file-type",
        &["filetype", "extension"],
        Exact,
        E,
        "This recipient's copy has an attachment of that file type (`EmailAttachmentInfo.FileType`).",
        "file-type:zip",
    ),
    f(
        Field::Override,
        "override",
        &["system-override", "overrides"],
        ValueKind::Enum(OVERRIDES),
        E,
        "System override: an org (`OrgLevelAction`) or user (`UserLevelAction`) `Allow`/`Block`; `none` for neither.",
        "override:org-allow",
    ),
    f(
        Field::ClickVerdict,
        "click-verdict",
        &["click"],
        ValueKind::Enum(CLICK_VERDICTS),
        E,
        "This recipient clicked a URL of the message with that verdict (`UrlClickEvents.ActionType`).",
        "click-verdict:blocked",
    ),
    f(
        Field::UrlSource,
        "url-source",
        &["url-location"],
        Exact,
        E,
        "Contains a URL found there (`EmailUrlInfo.UrlLocation`: `Body`, `QRCode`, `Attachment`...).",
        "url-source:qrcode",
    ),
    f(
        Field::MailFromDomain,
        "mail-from-domain",
        &["mailfrom-domain", "return-path-domain"],
        Exact,
        E,
        "Envelope sender domain, P1 (`SenderMailFromDomain`).",
        "mail-from-domain:mailer.example.net",
    ),
    f(
        Field::PhishConfidence,
        "phish-confidence",
        &["confidence"],
        ValueKind::Enum(PHISH_CONFIDENCES),
        E,
        "Phish confidence level (`ConfidenceLevel.Phish`).",
        "phish-confidence:high",
    ),
    f(
        Field::AttachmentCount,
        "attachment-count",
        &["attachments"],
        Number,
        E,
        "Number of attachments (`AttachmentCount`).",
        "attachment-count:>=1",
    ),
    f(
        Field::UrlCount,
        "url-count",
        &["urls"],
        Number,
        E,
        "Number of URLs (`UrlCount`).",
        "url-count:>5",
    ),
    f(
        Field::AdditionalAction,
        "additional-action",
        &["post-delivery"],
        Exact,
        E,
        "A post-delivery action on this recipient's copy (`EmailPostDeliveryEvents.ActionType`: `Phish ZAP`, `Malware ZAP`, `Manual remediation`...).",
        "additional-action:\"Manual remediation\"",
    ),
    f(
        Field::Since,
        "since",
        &["after"],
        Time,
        TIMED,
        "At or after a time: `7d`, `12h`, `30m`, `2w` ago, a date (UTC midnight) or an RFC 3339 time.",
        "since:7d",
    ),
    f(
        Field::Until,
        "until",
        &["before"],
        Time,
        TIMED,
        "Before a time; a date includes that whole day (UTC).",
        "until:2026-11-01",
    ),
    f(
        Field::Between,
        "between",
        &[],
        Time,
        TIMED,
        "`A..B`: since A, until B (a date B includes that day).",
        "between:2026-11-01..2026-11-03",
    ),
    f(
        Field::Severity,
        "severity",
        &["sev"],
        ValueKind::Enum(SEVERITIES),
        AI,
        "Severity.",
        "severity:high",
    ),
    f(
        Field::AlertStatus,
        "status",
        &[],
        ValueKind::Enum(ALERT_STATUSES),
        A,
        "Alert status.",
        "status:new,inprogress",
    ),
    f(
        Field::IncidentStatus,
        "status",
        &[],
        ValueKind::Enum(INCIDENT_STATUSES),
        I,
        "Incident status.",
        "status:active",
    ),
    f(
        Field::Classification,
        "classification",
        &["class"],
        ValueKind::Enum(CLASSIFICATIONS),
        AI,
        "Classification.",
        "classification:tp",
    ),
    f(
        Field::Determination,
        "determination",
        &["det"],
        ValueKind::Enum(DETERMINATIONS),
        AI,
        "Determination.",
        "determination:phishing",
    ),
    f(
        Field::Category,
        "category",
        &["cat"],
        Exact,
        A,
        "Alert category (`Category`).",
        "category:InitialAccess",
    ),
    f(
        Field::Title,
        "title",
        &[],
        Contains,
        AI,
        "Title contains.",
        "title:\"malicious URL\"",
    ),
    f(
        Field::Source,
        "source",
        &["service-source"],
        ValueKind::Enum(SOURCES),
        A,
        "Service source.",
        "source:mdo",
    ),
    f(
        Field::Assigned,
        "assigned",
        &["assignee", "assigned-to"],
        Exact,
        AI,
        "Assigned to.",
        "assigned:analyst@contoso.com",
    ),
    f(
        Field::User,
        "user",
        &["affected"],
        Exact,
        AI,
        "Affected user (user, mailbox or message-recipient evidence; `AlertEvidence.AccountUpn`; an incident's through its alerts).",
        "user:megan.bowen@contoso.com",
    ),
    f(
        Field::Incident,
        "incident",
        &["incident-id"],
        Number,
        A,
        "Incident the alert belongs to.",
        "incident:42",
    ),
    f(
        Field::CampaignType,
        "type",
        &["campaign-type"],
        ValueKind::Enum(CAMPAIGN_TYPES),
        C,
        "Campaign type (`CampaignType`).",
        "type:phish",
    ),
    f(
        Field::Subtype,
        "subtype",
        &["brand", "family"],
        Exact,
        C,
        "Campaign subtype: the brand or malware family (`CampaignSubtype`).",
        "subtype:microsoft",
    ),
    f(
        Field::Name,
        "name",
        &[],
        Contains,
        C,
        "Campaign name contains (`CampaignName`).",
        "name:whaling",
    ),
    f(
        Field::Upn,
        "upn",
        &["account"],
        Exact,
        UPS,
        "User principal name (`AccountUpn`; posture and sign-ins: the account).",
        "upn:*@contoso.com",
    ),
    f(
        Field::Department,
        "department",
        &["dept"],
        Exact,
        U,
        "Department.",
        "department:finance",
    ),
    f(
        Field::JobTitle,
        "job-title",
        &["jobtitle"],
        Exact,
        U,
        "Job title.",
        "job-title:*director*",
    ),
    f(
        Field::Country,
        "country",
        &[],
        Exact,
        U,
        "Country or region.",
        "country:US",
    ),
    f(
        Field::Mfa,
        "mfa",
        &[],
        ValueKind::Enum(MFA_STRENGTHS),
        P,
        "Strongest registered MFA method (posture).",
        "mfa:none,phone",
    ),
    f(
        Field::Ca,
        "ca",
        &["conditional-access"],
        ValueKind::Enum(CA_STATES),
        P,
        "Conditional Access: an enabled policy requires MFA (`mfa`), none does (`no-mfa`), only report-only ones (`report-only`).",
        "ca:no-mfa",
    ),
    f(
        Field::Legacy,
        "legacy",
        &["legacy-auth"],
        ValueKind::Enum(YES_NO),
        PS,
        "Legacy (basic) authentication: posture, a legacy sign-in in 30 days; sign-ins, a legacy client.",
        "legacy:yes",
    ),
    f(
        Field::Strict,
        "strict",
        &["strict-preset"],
        ValueKind::Enum(STRICT_STATES),
        P,
        "Strict preset security policy: `yes`, `no` (standard, excluded or none), `standard`, `excluded`.",
        "strict:no",
    ),
    f(
        Field::Risk,
        "risk",
        &[],
        ValueKind::Enum(RISK_LEVELS),
        P,
        "Identity Protection risk level (open risk only).",
        "risk:high",
    ),
    f(
        Field::Verdict,
        "verdict",
        &[],
        ValueKind::Enum(VERDICTS),
        P,
        "Posture verdict.",
        "verdict:fail",
    ),
    f(
        Field::Failing,
        "failing",
        &["check"],
        ValueKind::Enum(CHECKS),
        P,
        "A failing posture check.",
        "failing:ca-mfa",
    ),
];

/// The registry entry of `field`.
pub fn spec(field: Field) -> &'static FieldSpec {
    FIELDS
        .iter()
        .find(|s| s.field == field)
        .unwrap_or(&FIELDS[0])
}

/// The field named `name` (case-insensitive; aliases accepted) for `entity`.
pub fn lookup(entity: Entity, name: &str) -> Option<&'static FieldSpec> {
    let lower = name.to_ascii_lowercase();
    let named = |s: &&FieldSpec| s.name == lower || s.aliases.contains(&lower.as_str());
    FIELDS
        .iter()
        .filter(|s| s.entities.contains(&entity))
        .find(named)
}

/// The entities that have a field named `name`, for "not a field of emails" hints.
pub fn entities_with(name: &str) -> Vec<Entity> {
    let lower = name.to_ascii_lowercase();
    let mut out: Vec<Entity> = FIELDS
        .iter()
        .filter(|s| s.name == lower || s.aliases.contains(&lower.as_str()))
        .flat_map(|s| s.entities.iter().copied())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The fields of `entity`, in help order.
pub fn fields_for(entity: Entity) -> impl Iterator<Item = &'static FieldSpec> {
    FIELDS.iter().filter(move |s| s.entities.contains(&entity))
}

/// The enumerated value of `kind` that `text` names, if any.
pub fn enum_value(values: &'static [EnumValue], text: &str) -> Option<&'static EnumValue> {
    values.iter().find(|v| v.matches(text))
}

/// The enumerated value whose documented spelling is `doc`.
pub fn enum_by_doc(values: &'static [EnumValue], doc: &str) -> Option<&'static EnumValue> {
    values.iter().find(|v| v.doc == doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_entity() {
        for e in Entity::ALL {
            let mut names: Vec<&str> = Vec::new();
            for s in fields_for(e) {
                for n in std::iter::once(&s.name).chain(s.aliases) {
                    assert!(!names.contains(n), "{e}: `{n}` twice");
                    names.push(n);
                }
            }
        }
    }

    #[test]
    fn every_field_has_one_spec() {
        for s in FIELDS {
            assert_eq!(spec(s.field).name, s.name);
            assert_eq!(FIELDS.iter().filter(|x| x.field == s.field).count(), 1);
        }
    }

    #[test]
    fn enum_short_forms_are_unique_and_canonical_round_trips() {
        for s in FIELDS {
            if let ValueKind::Enum(values) = s.kind {
                for v in values {
                    let c = v.canonical();
                    assert_eq!(
                        enum_value(values, &c).map(|x| x.doc),
                        Some(v.doc),
                        "{}:{c}",
                        s.name
                    );
                    for w in values.iter().filter(|w| w.doc != v.doc) {
                        assert!(!w.matches(&c), "{}: `{c}` is ambiguous", s.name);
                    }
                }
            }
        }
    }

    #[test]
    fn short_forms_resolve_to_documented_spellings() {
        let loc = |t: &str| enum_value(LOCATIONS, t).map(|v| v.doc);
        assert_eq!(loc("quarantine"), Some("Quarantine"));
        assert_eq!(loc("INBOX"), Some("Inbox/folder"));
        assert_eq!(loc("junk"), Some("Junk folder"));
        assert_eq!(loc("Junk Folder"), Some("Junk folder"));
        assert_eq!(loc("deleted"), Some("Deleted items"));
        assert_eq!(loc("external"), Some("On-premises/external"));
        assert_eq!(loc("on-premises-external"), Some("On-premises/external"));
        let dir = |t: &str| enum_value(DIRECTIONS, t).map(|v| v.doc);
        assert_eq!(dir("intraorg"), Some("Intra-org"));
        assert_eq!(dir("intra-org"), Some("Intra-org"));
        assert_eq!(
            enum_value(ALERT_STATUSES, "in-progress").map(|v| v.doc),
            Some("inProgress")
        );
        assert_eq!(enum_value(THREATS, "none").map(|v| v.doc), Some(""));
        assert_eq!(slug("URL malicious reputation"), "url-malicious-reputation");
        assert_eq!(Entity::parse("Alert"), Some(Entity::Alerts));
    }
}

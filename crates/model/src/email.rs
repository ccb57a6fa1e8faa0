//! Advanced-hunting email tables as typed rows: the analyst's primary data.
//!
//! `EmailEvent` is one row per message × recipient (like `EmailEvents`); the other structs hang
//! off it by `NetworkMessageId`. Fields keep the service's column names on the wire
//! (`#[serde(rename)]`) so an export reads like the hunting schema. Dynamic columns
//! (`AuthenticationDetails`, `AdditionalFields`, `UrlChain`, ...) stay JSON text: they are shown
//! and exported verbatim and parsed on demand.

use crate::enums::{DeliveryAction, DeliveryLocation, EmailDirection};
use crate::hunting::hunting_row;
use chrono::{DateTime, Utc};

hunting_row! {
    /// One message × recipient from `EmailEvents`.
    pub struct EmailEvent in "EmailEvents" {
        /// When the event was recorded.
        "Timestamp" => timestamp: DateTime<Utc>,
        /// Microsoft 365's id for the message (shared by all recipients).
        "NetworkMessageId" => network_message_id: String,
        /// RFC 5322 Message-ID header.
        "InternetMessageId" => internet_message_id: String,
        /// Envelope sender (MAIL FROM).
        "SenderMailFromAddress" => sender_mail_from_address: String,
        /// Header From address, what the recipient sees.
        "SenderFromAddress" => sender_from_address: String,
        /// Header From display name.
        "SenderDisplayName" => sender_display_name: String,
        /// Entra object id of the sender when internal.
        "SenderObjectId" => sender_object_id: String,
        /// Envelope sender domain.
        "SenderMailFromDomain" => sender_mail_from_domain: String,
        /// Header From domain.
        "SenderFromDomain" => sender_from_domain: String,
        /// Connecting IPv4 address.
        "SenderIPv4" => sender_ipv4: String,
        /// Connecting IPv6 address.
        "SenderIPv6" => sender_ipv6: String,
        /// Recipient address (one row per recipient).
        "RecipientEmailAddress" => recipient_email_address: String,
        /// Entra object id of the recipient.
        "RecipientObjectId" => recipient_object_id: String,
        /// Subject line (untrusted text).
        "Subject" => subject: String,
        /// Cluster of similar messages (content fingerprint), a `long`.
        "EmailClusterId" => email_cluster_id: i64,
        /// Inbound / Outbound / Intra-org.
        "EmailDirection" => email_direction: Option<EmailDirection>,
        /// What filtering did on arrival.
        "DeliveryAction" => delivery_action: Option<DeliveryAction>,
        /// Where the message landed on arrival.
        "DeliveryLocation" => delivery_location: Option<DeliveryLocation>,
        /// Comma-separated verdicts (Phish, Malware, Spam).
        "ThreatTypes" => threat_types: String,
        /// Named threats (malware family, ...).
        "ThreatNames" => threat_names: String,
        /// Detection technologies, JSON text.
        "DetectionMethods" => detection_methods: String,
        /// Spam/phish confidence, JSON text.
        "ConfidenceLevel" => confidence_level: String,
        /// Bulk complaint level 0-9.
        "BulkComplaintLevel" => bulk_complaint_level: i64,
        /// Final action taken by policy.
        "EmailAction" => email_action: String,
        /// Policy that took the action.
        "EmailActionPolicy" => email_action_policy: String,
        /// Id of that policy.
        "EmailActionPolicyGuid" => email_action_policy_guid: String,
        /// SPF/DKIM/DMARC/CompAuth results, JSON text.
        "AuthenticationDetails" => authentication_details: String,
        /// Number of attachments.
        "AttachmentCount" => attachment_count: i64,
        /// Number of URLs.
        "UrlCount" => url_count: i64,
        /// Detected language.
        "EmailLanguage" => email_language: String,
        /// Custom connectors the message passed through.
        "Connectors" => connectors: String,
        /// Tenant-level action (allow/block lists, transport rules).
        "OrgLevelAction" => org_level_action: String,
        /// Tenant-level policy responsible.
        "OrgLevelPolicy" => org_level_policy: String,
        /// User-level action (safe/blocked senders).
        "UserLevelAction" => user_level_action: String,
        /// User-level policy responsible.
        "UserLevelPolicy" => user_level_policy: String,
        /// Unique event id within the table.
        "ReportId" => report_id: String,
        /// Extra fields, JSON text.
        "AdditionalFields" => additional_fields: String,
        /// Where the message is now, after ZAP or remediation.
        "LatestDeliveryLocation" => latest_delivery_location: Option<DeliveryLocation>,
        /// The latest action applied after delivery.
        "LatestDeliveryAction" => latest_delivery_action: String,
        /// Extra context, e.g. priority account protection.
        "Context" => context: String,
    }
}

hunting_row! {
    /// One URL found in a message, from `EmailUrlInfo`.
    pub struct EmailUrl in "EmailUrlInfo" {
        /// When the event was recorded.
        "Timestamp" => timestamp: DateTime<Utc>,
        /// Message the URL belongs to.
        "NetworkMessageId" => network_message_id: String,
        /// Full URL (untrusted text).
        "Url" => url: String,
        /// Host part.
        "UrlDomain" => url_domain: String,
        /// Body, Header, Attachment, ...
        "UrlLocation" => url_location: String,
        /// Unique event id within the table.
        "ReportId" => report_id: String,
    }
}

hunting_row! {
    /// One attachment of a message × recipient, from `EmailAttachmentInfo`.
    pub struct EmailAttachment in "EmailAttachmentInfo" {
        /// When the event was recorded.
        "Timestamp" => timestamp: DateTime<Utc>,
        /// Message the file belongs to.
        "NetworkMessageId" => network_message_id: String,
        /// Header From address.
        "SenderFromAddress" => sender_from_address: String,
        /// Header From display name.
        "SenderDisplayName" => sender_display_name: String,
        /// Entra object id of the sender.
        "SenderObjectId" => sender_object_id: String,
        /// Recipient address.
        "RecipientEmailAddress" => recipient_email_address: String,
        /// Entra object id of the recipient.
        "RecipientObjectId" => recipient_object_id: String,
        /// File name (untrusted text).
        "FileName" => file_name: String,
        /// Detected file type.
        "FileType" => file_type: String,
        /// SHA-256 of the file.
        "SHA256" => sha256: String,
        /// Size in bytes.
        "FileSize" => file_size: i64,
        /// Verdicts for the file.
        "ThreatTypes" => threat_types: String,
        /// Named threats.
        "ThreatNames" => threat_names: String,
        /// Detection technologies, JSON text.
        "DetectionMethods" => detection_methods: String,
        /// Unique event id within the table.
        "ReportId" => report_id: String,
    }
}

hunting_row! {
    /// Something done to a message after delivery (ZAP, admin remediation), from
    /// `EmailPostDeliveryEvents`; these move a message's *current* location.
    pub struct PostDeliveryEvent in "EmailPostDeliveryEvents" {
        /// When the action happened.
        "Timestamp" => timestamp: DateTime<Utc>,
        /// Message acted on.
        "NetworkMessageId" => network_message_id: String,
        /// RFC 5322 Message-ID header.
        "InternetMessageId" => internet_message_id: String,
        /// What was done (Moved to quarantine, Soft delete, ...).
        "Action" => action: String,
        /// Kind of action (Phish ZAP, Malware ZAP, Manual Remediation, ...).
        "ActionType" => action_type: String,
        /// Who or what triggered it (SpecialAction, AdminAction, ...).
        "ActionTrigger" => action_trigger: String,
        /// Success / Error.
        "ActionResult" => action_result: String,
        /// Recipient mailbox acted on.
        "RecipientEmailAddress" => recipient_email_address: String,
        /// Where the message is after the action.
        "DeliveryLocation" => delivery_location: Option<DeliveryLocation>,
        /// Verdicts at the time of the action.
        "ThreatTypes" => threat_types: String,
        /// Detection technologies, JSON text.
        "DetectionMethods" => detection_methods: String,
        /// Unique event id within the table.
        "ReportId" => report_id: String,
    }
}

hunting_row! {
    /// A user clicking a (Safe Links-wrapped) URL, from `UrlClickEvents`.
    pub struct UrlClick in "UrlClickEvents" {
        /// When the click happened.
        "Timestamp" => timestamp: DateTime<Utc>,
        /// Clicked URL (untrusted text).
        "Url" => url: String,
        /// ClickAllowed, ClickBlocked, ...
        "ActionType" => action_type: String,
        /// Who clicked.
        "AccountUpn" => account_upn: String,
        /// Email, Office, Teams.
        "Workload" => workload: String,
        /// Message the URL came from, when known.
        "NetworkMessageId" => network_message_id: String,
        /// Verdicts on the URL.
        "ThreatTypes" => threat_types: String,
        /// Detection technologies, JSON text.
        "DetectionMethods" => detection_methods: String,
        /// Client IP address.
        "IPAddress" => ip_address: String,
        /// The user went past a warning page.
        "IsClickedThrough" => is_clicked_through: bool,
        /// Redirect chain, JSON text.
        "UrlChain" => url_chain: String,
        /// Unique event id within the table.
        "ReportId" => report_id: String,
    }
}

hunting_row! {
    /// A message's membership in a campaign, from `CampaignInfo`.
    pub struct CampaignMessage in "CampaignInfo" {
        /// When the event was recorded.
        "Timestamp" => timestamp: DateTime<Utc>,
        /// Campaign display name.
        "CampaignName" => campaign_name: String,
        /// Campaign id.
        "CampaignId" => campaign_id: String,
        /// Phish, Malware, ...
        "CampaignType" => campaign_type: String,
        /// Finer campaign classification.
        "CampaignSubtype" => campaign_subtype: String,
        /// Message in the campaign.
        "NetworkMessageId" => network_message_id: String,
        /// Recipient of that message.
        "RecipientEmailAddress" => recipient_email_address: String,
        /// Unique event id within the table.
        "ReportId" => report_id: String,
    }
}

/// SPF/DKIM/DMARC/CompAuth verdicts parsed from `EmailEvents.AuthenticationDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct AuthenticationDetails {
    /// SPF result (pass, fail, softfail, none, ...).
    #[serde(rename = "SPF", alias = "spf", default)]
    pub spf: Option<String>,
    /// DKIM result.
    #[serde(rename = "DKIM", alias = "dkim", default)]
    pub dkim: Option<String>,
    /// DMARC result.
    #[serde(rename = "DMARC", alias = "dmarc", default)]
    pub dmarc: Option<String>,
    /// Composite authentication result.
    #[serde(rename = "CompAuth", alias = "compAuth", alias = "compauth", default)]
    pub comp_auth: Option<String>,
}

impl EmailEvent {
    /// Parses the `AuthenticationDetails` JSON text; `None` when it is empty or not JSON.
    pub fn authentication(&self) -> Option<AuthenticationDetails> {
        if self.authentication_details.is_empty() {
            return None;
        }
        serde_json::from_str(&self.authentication_details).ok()
    }
}

/// `EmailPostDeliveryEvents.ActionType` values that are zero-hour auto purge
/// (documented: `Phish ZAP`, `Malware ZAP`). The index's `zap:` flag, the KQL of
/// `zap:` and the flyout all decide "ZAP" from this list.
pub const ZAP_ACTION_TYPES: [&str; 2] = ["Phish ZAP", "Malware ZAP"];

/// `EmailPostDeliveryEvents.ActionType` of an admin's release from quarantine
/// (undocumented in the schema, which lists only remediation and ZAP; Threat
/// Explorer lists "Quarantine release" among the additional actions).
pub const QUARANTINE_RELEASE: &str = "Quarantine release";

/// `UrlClickEvents.ActionType` of a click Safe Links let through.
pub const CLICK_ALLOWED: &str = "ClickAllowed";

impl PostDeliveryEvent {
    /// Whether ZAP took this action ([`ZAP_ACTION_TYPES`], any letter case).
    pub fn is_zap(&self) -> bool {
        ZAP_ACTION_TYPES
            .iter()
            .any(|z| self.action_type.eq_ignore_ascii_case(z))
    }

    /// Whether an admin released the copy from quarantine ([`QUARANTINE_RELEASE`]).
    pub fn is_quarantine_release(&self) -> bool {
        self.action_type.eq_ignore_ascii_case(QUARANTINE_RELEASE)
    }
}

impl UrlClick {
    /// Whether the click reached the site: Safe Links allowed it, or the user went
    /// past the warning page. The one definition of "clicked through" (`clicked:yes`,
    /// a campaign's clicked-through figure, the flyout's URL lines).
    pub fn got_through(&self) -> bool {
        self.is_clicked_through || self.action_type.eq_ignore_ascii_case(CLICK_ALLOWED)
    }
}

/// Identifies an email row across refreshes: `NetworkMessageId` and the recipient.
/// Recipients compare case-insensitively (ASCII), in the cache and in the index alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    /// `NetworkMessageId`.
    pub network_message_id: String,
    /// `RecipientEmailAddress`.
    pub recipient: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_details_parse() {
        let row = EmailEvent {
            authentication_details:
                r#"{"SPF":"pass","DKIM":"fail","DMARC":"pass","CompAuth":"pass"}"#.into(),
            ..Default::default()
        };
        let auth = row.authentication().unwrap_or_default();
        assert_eq!(auth.dkim.as_deref(), Some("fail"));
        assert_eq!(auth.comp_auth.as_deref(), Some("pass"));
    }
}

//! Graph security alerts (`alerts_v2`), their evidence and comments, and incidents.
//!
//! Typed fields serve filtering and display; the raw JSON the service sent is kept alongside
//! (`raw`) because the cache stores it verbatim and JSON export must carry the service's own
//! values, including fields this build does not model.

use crate::enums::{
    AlertStatus, Classification, DeliveryAction, DeliveryLocation, DetectionSource, Determination,
    EmailDirection, EvidenceVerdict, IncidentStatus, RemediationStatus, ServiceSource, Severity,
};
use crate::time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A security alert from `GET /security/alerts_v2` (`microsoft.graph.security.alert`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct Alert {
    /// Unique alert id.
    pub id: String,
    /// The id the producing product uses.
    pub provider_alert_id: Option<String>,
    /// Incident the alert belongs to.
    pub incident_id: Option<String>,
    /// Triage status.
    pub status: Option<AlertStatus>,
    /// Severity.
    pub severity: Option<Severity>,
    /// Analyst classification.
    pub classification: Option<Classification>,
    /// Analyst determination.
    pub determination: Option<Determination>,
    /// Producing product.
    pub service_source: Option<ServiceSource>,
    /// Detector inside the product.
    pub detection_source: Option<DetectionSource>,
    /// Id of the detection rule.
    pub detector_id: Option<String>,
    /// Entra tenant id.
    pub tenant_id: Option<String>,
    /// Alert title (untrusted text).
    pub title: String,
    /// Description (untrusted text).
    pub description: Option<String>,
    /// Recommended response (untrusted text).
    pub recommended_actions: Option<String>,
    /// MITRE tactic category.
    pub category: Option<String>,
    /// Owner of the alert.
    pub assigned_to: Option<String>,
    /// Link to the alert in the Defender portal.
    pub alert_web_url: Option<String>,
    /// Link to the incident in the Defender portal.
    pub incident_web_url: Option<String>,
    /// Threat actor, when attributed.
    pub actor_display_name: Option<String>,
    /// Threat name, when known.
    pub threat_display_name: Option<String>,
    /// Threat family, when known.
    pub threat_family_name: Option<String>,
    /// MITRE technique ids.
    #[serde(deserialize_with = "null_as_default")]
    pub mitre_techniques: Vec<String>,
    /// Tags set by the system (Defender Experts, ...).
    #[serde(deserialize_with = "null_as_default")]
    pub system_tags: Vec<String>,
    /// Product name (beta field).
    pub product_name: Option<String>,
    /// Alert policy id, for MDO alerts.
    pub alert_policy_id: Option<String>,
    /// When the alert was created.
    #[serde(with = "time::optional")]
    pub created_date_time: Option<DateTime<Utc>>,
    /// Last change; the incremental sync watermark.
    #[serde(with = "time::optional")]
    pub last_update_date_time: Option<DateTime<Utc>>,
    /// When it was resolved.
    #[serde(with = "time::optional")]
    pub resolved_date_time: Option<DateTime<Utc>>,
    /// First activity the alert covers.
    #[serde(with = "time::optional")]
    pub first_activity_date_time: Option<DateTime<Utc>>,
    /// Last activity the alert covers.
    #[serde(with = "time::optional")]
    pub last_activity_date_time: Option<DateTime<Utc>>,
    /// Analyst comments.
    #[serde(deserialize_with = "null_as_default")]
    pub comments: Vec<AlertComment>,
    /// Evidence: messages, users, URLs, mailboxes, and anything else kept raw.
    #[serde(deserialize_with = "null_as_default")]
    pub evidence: Vec<Evidence>,
    /// The JSON the service sent, verbatim.
    #[serde(skip)]
    pub raw: Value,
}
keep_raw!(Alert);

impl crate::json::Keyed for Alert {
    fn key(&self) -> &str {
        &self.id
    }
}

/// A comment on an alert (`alertComment`) or incident; incidents spell the fields
/// `createdBy`/`createdTime`, alerts `createdByDisplayName`/`createdDateTime`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlertComment {
    /// Comment text (untrusted).
    pub comment: String,
    /// Author.
    #[serde(alias = "createdBy")]
    pub created_by_display_name: Option<String>,
    /// When it was written.
    #[serde(alias = "createdTime", with = "time::optional")]
    pub created_date_time: Option<DateTime<Utc>>,
}

/// An incident from `GET /security/incidents` (`microsoft.graph.security.incident`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct Incident {
    /// Unique incident id.
    pub id: String,
    /// Link in the Defender portal.
    pub incident_web_url: Option<String>,
    /// Incident this one was merged into.
    pub redirect_incident_id: Option<String>,
    /// Entra tenant id.
    pub tenant_id: Option<String>,
    /// Title (untrusted text).
    pub display_name: String,
    /// Description (untrusted text).
    pub description: Option<String>,
    /// Summary (untrusted text).
    pub summary: Option<String>,
    /// Owner.
    pub assigned_to: Option<String>,
    /// Analyst classification.
    pub classification: Option<Classification>,
    /// Analyst determination.
    pub determination: Option<Determination>,
    /// Triage status.
    pub status: Option<IncidentStatus>,
    /// Severity.
    pub severity: Option<Severity>,
    /// Analyst tags.
    #[serde(deserialize_with = "null_as_default")]
    pub custom_tags: Vec<String>,
    /// System tags.
    #[serde(deserialize_with = "null_as_default")]
    pub system_tags: Vec<String>,
    /// Comments.
    #[serde(deserialize_with = "null_as_default")]
    pub comments: Vec<AlertComment>,
    /// When it was created.
    #[serde(with = "time::optional")]
    pub created_date_time: Option<DateTime<Utc>>,
    /// Last change; the incremental sync watermark.
    #[serde(with = "time::optional")]
    pub last_update_date_time: Option<DateTime<Utc>>,
    /// Alerts, present when listed with `$expand=alerts`.
    #[serde(deserialize_with = "null_as_default")]
    pub alerts: Vec<Alert>,
    /// The JSON the service sent, verbatim.
    #[serde(skip)]
    pub raw: Value,
}
keep_raw!(Incident);

impl crate::json::Keyed for Incident {
    fn key(&self) -> &str {
        &self.id
    }
}

fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Fields every evidence kind carries (`alertEvidence`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EvidenceCommon {
    /// When the evidence was created.
    #[serde(with = "time::optional")]
    pub created_date_time: Option<DateTime<Utc>>,
    /// Verdict on this evidence.
    pub verdict: Option<EvidenceVerdict>,
    /// Remediation state.
    pub remediation_status: Option<RemediationStatus>,
    /// Remediation details.
    pub remediation_status_details: Option<String>,
    /// Roles (compromised, attacker, ...).
    #[serde(deserialize_with = "null_as_default")]
    pub roles: Vec<String>,
    /// Detailed roles.
    #[serde(deserialize_with = "null_as_default")]
    pub detailed_roles: Vec<String>,
    /// Tags.
    #[serde(deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
}

/// A user account as evidence and in mailbox evidence (`userAccount`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserAccount {
    /// SAM account name.
    pub account_name: Option<String>,
    /// Entra object id.
    pub azure_ad_user_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Domain.
    pub domain_name: Option<String>,
    /// UPN.
    pub user_principal_name: Option<String>,
    /// Windows SID.
    pub user_sid: Option<String>,
}

/// A sender as seen in message evidence (`emailSender`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmailSender {
    /// Display name.
    pub display_name: Option<String>,
    /// Domain.
    pub domain_name: Option<String>,
    /// Address.
    pub email_address: Option<String>,
}

/// An email as alert evidence (`analyzedMessageEvidence`): links alerts to hunting rows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AnalyzedMessageEvidence {
    /// Common evidence fields.
    #[serde(flatten)]
    pub common: EvidenceCommon,
    /// Direction.
    pub anti_spam_direction: Option<EmailDirection>,
    /// Number of attachments.
    pub attachments_count: Option<i64>,
    /// Delivery action.
    pub delivery_action: Option<DeliveryAction>,
    /// Delivery location.
    pub delivery_location: Option<DeliveryLocation>,
    /// Message-ID header.
    pub internet_message_id: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Joins to `EmailEvents.NetworkMessageId`.
    pub network_message_id: Option<String>,
    /// Envelope sender.
    pub p1_sender: Option<EmailSender>,
    /// Header sender.
    pub p2_sender: Option<EmailSender>,
    /// When received.
    #[serde(with = "time::optional")]
    pub received_date_time: Option<DateTime<Utc>>,
    /// Recipient.
    pub recipient_email_address: Option<String>,
    /// Connecting IP.
    pub sender_ip: Option<String>,
    /// Subject (untrusted text).
    pub subject: Option<String>,
    /// Detection methods.
    #[serde(deserialize_with = "null_as_default")]
    pub threat_detection_methods: Vec<String>,
    /// Threats.
    #[serde(deserialize_with = "null_as_default")]
    pub threats: Vec<String>,
    /// Number of URLs.
    pub url_count: Option<i64>,
    /// URLs in the message.
    #[serde(deserialize_with = "null_as_default")]
    pub urls: Vec<String>,
    /// Unique resource name.
    pub urn: Option<String>,
}

/// A user as alert evidence (`userEvidence`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserEvidence {
    /// Common evidence fields.
    #[serde(flatten)]
    pub common: EvidenceCommon,
    /// The account.
    pub user_account: Option<UserAccount>,
}

/// A URL as alert evidence (`urlEvidence`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UrlEvidence {
    /// Common evidence fields.
    #[serde(flatten)]
    pub common: EvidenceCommon,
    /// The URL (untrusted text).
    pub url: Option<String>,
}

/// A mailbox as alert evidence (`mailboxEvidence`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MailboxEvidence {
    /// Common evidence fields.
    #[serde(flatten)]
    pub common: EvidenceCommon,
    /// Mailbox display name.
    pub display_name: Option<String>,
    /// Primary SMTP address.
    pub primary_address: Option<String>,
    /// Owning account.
    pub user_account: Option<UserAccount>,
}

/// One piece of alert evidence, polymorphic by `@odata.type`. Kinds relevant to email
/// investigations are typed; devices, files, processes and future kinds are kept as raw JSON so
/// nothing is dropped. Each kind is boxed: inline, every element of an alert's evidence list
/// would take the largest kind's ~300 bytes (the console holds every alert's evidence).
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// `#microsoft.graph.security.analyzedMessageEvidence`
    AnalyzedMessage(Box<AnalyzedMessageEvidence>),
    /// `#microsoft.graph.security.userEvidence`
    User(Box<UserEvidence>),
    /// `#microsoft.graph.security.urlEvidence`
    Url(Box<UrlEvidence>),
    /// `#microsoft.graph.security.mailboxEvidence`
    Mailbox(Box<MailboxEvidence>),
    /// Any other kind (or a typed kind whose shape did not parse), verbatim.
    Other(Value),
}

impl Evidence {
    /// The evidence kind without the namespace (`analyzedMessageEvidence`, `deviceEvidence`, ...).
    pub fn kind(&self) -> &str {
        match self {
            Evidence::AnalyzedMessage(_) => "analyzedMessageEvidence",
            Evidence::User(_) => "userEvidence",
            Evidence::Url(_) => "urlEvidence",
            Evidence::Mailbox(_) => "mailboxEvidence",
            Evidence::Other(v) => v
                .get("@odata.type")
                .and_then(Value::as_str)
                .map(odata_kind)
                .unwrap_or("unknown"),
        }
    }
}

/// Strips `#microsoft.graph.security.` (with or without `#`) from an `@odata.type`.
fn odata_kind(t: &str) -> &str {
    t.rsplit('.').next().unwrap_or(t)
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        let kind = raw
            .get("@odata.type")
            .and_then(Value::as_str)
            .map(odata_kind)
            .unwrap_or("");
        let typed = if kind.eq_ignore_ascii_case("analyzedMessageEvidence") {
            AnalyzedMessageEvidence::deserialize(&raw)
                .map(|e| Evidence::AnalyzedMessage(Box::new(e)))
        } else if kind.eq_ignore_ascii_case("userEvidence") {
            UserEvidence::deserialize(&raw).map(|e| Evidence::User(Box::new(e)))
        } else if kind.eq_ignore_ascii_case("urlEvidence") {
            UrlEvidence::deserialize(&raw).map(|e| Evidence::Url(Box::new(e)))
        } else if kind.eq_ignore_ascii_case("mailboxEvidence") {
            MailboxEvidence::deserialize(&raw).map(|e| Evidence::Mailbox(Box::new(e)))
        } else {
            return Ok(Evidence::Other(raw));
        };
        // A malformed typed kind is kept raw rather than failing the whole alert.
        Ok(typed.unwrap_or(Evidence::Other(raw)))
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        fn tagged<S: serde::Serializer, T: Serialize>(
            s: S,
            kind: &str,
            body: &T,
        ) -> Result<S::Ok, S::Error> {
            let Ok(Value::Object(fields)) = serde_json::to_value(body) else {
                return Err(serde::ser::Error::custom(
                    "evidence did not serialise to an object",
                ));
            };
            let mut map = s.serialize_map(Some(fields.len() + 1))?;
            map.serialize_entry("@odata.type", &format!("#microsoft.graph.security.{kind}"))?;
            for (k, v) in &fields {
                map.serialize_entry(k, v)?;
            }
            map.end()
        }
        match self {
            Evidence::AnalyzedMessage(e) => tagged(s, "analyzedMessageEvidence", e),
            Evidence::User(e) => tagged(s, "userEvidence", e),
            Evidence::Url(e) => tagged(s, "urlEvidence", e),
            Evidence::Mailbox(e) => tagged(s, "mailboxEvidence", e),
            Evidence::Other(v) => v.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_kinds_dispatch_and_unknown_kinds_stay_raw() {
        let json = r##"{"id":"a1","title":"Phish","status":"somethingNew","evidence":[
            {"@odata.type":"#microsoft.graph.security.analyzedMessageEvidence","networkMessageId":"n1",
             "deliveryAction":"Delivered","p2Sender":{"emailAddress":"x@evil.test"},"verdict":"malicious"},
            {"@odata.type":"microsoft.graph.security.urlEvidence","url":"http://evil.test/"},
            {"@odata.type":"#microsoft.graph.security.mailboxEvidence","primaryAddress":"a@b.c"},
            {"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"userPrincipalName":"a@b.c"}},
            {"@odata.type":"#microsoft.graph.security.cloudLogonSessionEvidence","x":1}]}"##;
        let alert: Alert = serde_json::from_str(json).unwrap_or_default();
        assert_eq!(alert.id, "a1");
        assert_eq!(
            alert.status,
            Some(AlertStatus::Other("somethingNew".into()))
        );
        assert_eq!(alert.raw["status"], "somethingNew");
        let kinds: Vec<&str> = alert.evidence.iter().map(Evidence::kind).collect();
        assert_eq!(
            kinds,
            [
                "analyzedMessageEvidence",
                "urlEvidence",
                "mailboxEvidence",
                "userEvidence",
                "cloudLogonSessionEvidence"
            ]
        );
        let Evidence::AnalyzedMessage(msg) = &alert.evidence[0] else {
            panic!("not a message")
        };
        assert_eq!(msg.network_message_id.as_deref(), Some("n1"));
        assert_eq!(msg.common.verdict, Some(EvidenceVerdict::Malicious));
        let out = serde_json::to_value(&alert).unwrap_or_default();
        assert_eq!(out["status"], "somethingNew");
        assert_eq!(
            out["evidence"][1]["@odata.type"],
            "#microsoft.graph.security.urlEvidence"
        );
        assert_eq!(out["evidence"][4]["x"], 1);
    }

    #[test]
    fn an_evidence_element_is_small_whatever_its_kind() {
        // The console keeps every alert's evidence list: a typed kind inline would make
        // every element as large as the largest kind (~300 bytes).
        assert!(
            std::mem::size_of::<Evidence>() <= 40,
            "{}",
            std::mem::size_of::<Evidence>()
        );
    }
}

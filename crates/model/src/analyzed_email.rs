//! Graph `analyzedEmails` (Explorer's email entity) and the remediation request.
//!
//! The documented examples are placeholder-filled (`"Datetime"`, `"Integer"`), so every typed
//! field is lenient and the raw JSON is kept.

use crate::enums::{RemediationAction, RemediationSeverity};
use crate::time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One analysed email × recipient from `GET /security/collaboration/analyzedEmails`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct AnalyzedEmail {
    /// Entity id.
    pub id: String,
    /// When the email was logged.
    #[serde(with = "time::lenient")]
    pub logged_date_time: Option<DateTime<Utc>>,
    /// Joins to `EmailEvents.NetworkMessageId`.
    pub network_message_id: Option<String>,
    /// Message-ID header.
    pub internet_message_id: Option<String>,
    /// Recipient.
    pub recipient_email_address: Option<String>,
    /// Subject (untrusted text).
    pub subject: Option<String>,
    /// Direction (documented as an enum; kept as text).
    pub directionality: Option<String>,
    /// Size of the message.
    #[serde(deserialize_with = "lenient_i64")]
    pub size_in_bytes: Option<i64>,
    /// Threat types.
    #[serde(deserialize_with = "lenient_strings")]
    pub threat_types: Vec<String>,
    /// Detection methods.
    #[serde(deserialize_with = "lenient_strings")]
    pub detection_methods: Vec<String>,
    /// Related alert ids.
    #[serde(deserialize_with = "lenient_strings")]
    pub alert_ids: Vec<String>,
    /// The JSON the service sent, verbatim (details, delivery, attachments, urls...).
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(AnalyzedEmail);

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        Value::String(s) if !s.is_empty() => vec![s],
        _ => Vec::new(),
    })
}

/// One message × recipient to remediate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediateTarget {
    /// `NetworkMessageId`.
    pub network_message_id: String,
    /// Recipient mailbox.
    pub recipient_email_address: String,
}

/// Body of `POST /security/collaboration/analyzedEmails/remediate`: an Action-center job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediateRequest {
    /// Name shown in the Action center.
    pub display_name: String,
    /// Why (shown in the Action center).
    pub description: String,
    /// Severity of the job.
    pub severity: RemediationSeverity,
    /// What to do to the messages.
    pub action: RemediationAction,
    /// Also remediate the sender's copy. The documented example sends the STRING `"false"`;
    /// booleans are accepted too and a bool is written.
    #[serde(deserialize_with = "bool_or_text")]
    pub remediate_senders_copy: bool,
    /// The messages.
    pub analyzed_emails: Vec<RemediateTarget>,
}

fn bool_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
        Value::Null => Ok(false),
        other => Err(serde::de::Error::custom(format_args!(
            "expected a boolean, got {other}"
        ))),
    }
}

/// One message copy (message × recipient) to act on: what the query side hands the
/// remediation planner (`sync::remediate::RemediationPlan::new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    /// `NetworkMessageId`.
    pub network_message_id: String,
    /// The mailbox.
    pub recipient: String,
    /// Subject (untrusted text: sanitise before drawing).
    pub subject: String,
    /// Sender (untrusted text).
    pub sender: String,
    /// Where the cache last saw it (`LatestDeliveryLocation`).
    pub latest_location: String,
    /// The recipient is a priority account.
    pub priority: bool,
}

impl crate::json::Keyed for AnalyzedEmail {
    fn key(&self) -> &str {
        &self.id
    }
}

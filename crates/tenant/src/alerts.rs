//! `alerts_v2`: list incrementally, read one, triage (status, classification, owner), comment.

use crate::error::TenantError;
use crate::http::{GraphClient, Pager};
use chrono::{DateTime, Utc};
use serde::Serialize;
use whalewatch_model::time::format_datetime;
use whalewatch_model::{Alert, AlertComment, AlertStatus, Classification, Determination};

/// Collection path.
pub const ALERTS_PATH: &str = "/security/alerts_v2";

/// A triage change; only the fields set are sent (PATCH semantics). Deserialisable so a
/// queued change can be read back from the outbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlertUpdate {
    /// New status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AlertStatus>,
    /// New classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// New determination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub determination: Option<Determination>,
    /// New owner (UPN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

/// `$filter` for alerts/incidents changed at or after `since` (the sync watermark).
pub fn updated_since_filter(since: &DateTime<Utc>) -> String {
    format!("lastUpdateDateTime ge {}", format_datetime(since))
}

pub(crate) fn item_path(collection: &str, id: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("{collection}/{}", encoded.replace('+', "%20"))
}

pub(crate) fn list_query(
    since: Option<DateTime<Utc>>,
    page_size: Option<u32>,
) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(since) = since {
        q.push(("$filter", updated_since_filter(&since)));
    }
    if let Some(top) = page_size {
        q.push(("$top", top.to_string()));
    }
    q
}

impl GraphClient {
    /// Alerts changed since the watermark (all alerts when `None`), page by page.
    pub fn list_alerts(
        &self,
        since: Option<DateTime<Utc>>,
        page_size: Option<u32>,
    ) -> Pager<Alert> {
        self.get_paged(ALERTS_PATH, list_query(since, page_size))
    }

    /// One alert with its evidence (the flyout's detail).
    pub async fn get_alert(&self, id: &str) -> Result<Alert, TenantError> {
        self.get_json(&item_path(ALERTS_PATH, id), &[]).await
    }

    /// Applies a triage change and returns the updated alert.
    pub async fn update_alert(&self, id: &str, update: &AlertUpdate) -> Result<Alert, TenantError> {
        self.patch_json(&item_path(ALERTS_PATH, id), update, "the alert update")
            .await
    }

    /// Adds a comment; the service answers with all comments of the alert.
    pub async fn add_alert_comment(
        &self,
        id: &str,
        comment: &str,
    ) -> Result<Vec<AlertComment>, TenantError> {
        self.post_comment(&item_path(ALERTS_PATH, id), comment, "the alert comment")
            .await
    }

    /// `POST {item}/comments` with an `alertComment` (alerts and incidents take the
    /// same body); the service answers with every comment of the item.
    pub(crate) async fn post_comment(
        &self,
        item: &str,
        comment: &str,
        what: &'static str,
    ) -> Result<Vec<AlertComment>, TenantError> {
        #[derive(serde::Deserialize)]
        struct Comments {
            #[serde(default)]
            value: Vec<AlertComment>,
        }
        let body = serde_json::json!({"@odata.type": "microsoft.graph.security.alertComment", "comment": comment});
        let resp: Comments = self
            .post_json(&format!("{item}/comments"), &body, what)
            .await?;
        Ok(resp.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_sends_only_set_fields_in_documented_spelling() {
        let u = AlertUpdate {
            status: Some(AlertStatus::InProgress),
            classification: Some(Classification::parse("TruePositive")),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&u).unwrap_or_default(),
            r#"{"status":"inProgress","classification":"truePositive"}"#
        );
        assert_eq!(
            item_path(ALERTS_PATH, "da6_-77"),
            "/security/alerts_v2/da6_-77"
        );
        assert_eq!(
            item_path(ALERTS_PATH, "a/b c"),
            "/security/alerts_v2/a%2Fb%20c"
        );
    }
}

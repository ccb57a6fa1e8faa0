//! Incidents: listed incrementally, read one, triage (status, classification, owner),
//! comment. Their alerts are not expanded: `alerts_v2` already brings every alert
//! (with its `incidentId`), and expanding them here made the tenant send, and the
//! cache write, every alert twice.

use crate::alerts::{item_path, list_query};
use crate::error::TenantError;
use crate::http::{GraphClient, Pager};
use chrono::{DateTime, Utc};
use serde::Serialize;
use whalewatch_model::{AlertComment, Classification, Determination, Incident, IncidentStatus};

/// Collection path.
pub const INCIDENTS_PATH: &str = "/security/incidents";

/// An incident triage change (`PATCH /security/incidents/{id}`); only the fields set
/// are sent. Deserialisable so a queued change can be read back from the outbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IncidentUpdate {
    /// New status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<IncidentStatus>,
    /// New classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// New determination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub determination: Option<Determination>,
    /// New owner (free text; a UPN by convention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

impl GraphClient {
    /// Incidents changed since the watermark.
    pub fn list_incidents(
        &self,
        since: Option<DateTime<Utc>>,
        page_size: Option<u32>,
    ) -> Pager<Incident> {
        self.get_paged(INCIDENTS_PATH, list_query(since, page_size))
    }

    /// One incident (with its comments, without its alerts).
    pub async fn get_incident(&self, id: &str) -> Result<Incident, TenantError> {
        self.get_json(&item_path(INCIDENTS_PATH, id), &[]).await
    }

    /// Applies a triage change and returns the updated incident.
    pub async fn update_incident(
        &self,
        id: &str,
        update: &IncidentUpdate,
    ) -> Result<Incident, TenantError> {
        self.patch_json(
            &item_path(INCIDENTS_PATH, id),
            update,
            "the incident update",
        )
        .await
    }

    /// Adds a comment; the service answers with all comments of the incident.
    pub async fn add_incident_comment(
        &self,
        id: &str,
        comment: &str,
    ) -> Result<Vec<AlertComment>, TenantError> {
        self.post_comment(
            &item_path(INCIDENTS_PATH, id),
            comment,
            "the incident comment",
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_sends_only_set_fields_in_documented_spelling() {
        let u = IncidentUpdate {
            status: Some(IncidentStatus::Resolved),
            classification: Some(Classification::parse("TruePositive")),
            determination: Some(Determination::parse("MultiStagedAttack")),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&u).unwrap_or_default(),
            r#"{"status":"resolved","classification":"truePositive","determination":"multiStagedAttack"}"#
        );
        assert_eq!(
            item_path(INCIDENTS_PATH, "2972395"),
            "/security/incidents/2972395"
        );
    }
}

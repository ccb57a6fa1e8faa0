//! `analyzedEmails`: Explorer's email entity, and remediation through the Action center.

use crate::error::TenantError;
use crate::http::{Effect, GraphClient, GraphRequest, Pager};
use chrono::{DateTime, Utc};
use whalewatch_model::time::format_datetime;
use whalewatch_model::{AnalyzedEmail, RemediateRequest};

/// Collection path.
pub const ANALYZED_EMAILS_PATH: &str = "/security/collaboration/analyzedEmails";

impl GraphClient {
    /// Analysed emails logged in `[start, end)`; pages continue through `$skiptoken` nextLinks.
    pub fn list_analyzed_emails(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Pager<AnalyzedEmail> {
        self.get_paged(
            ANALYZED_EMAILS_PATH,
            vec![
                ("startTime", format_datetime(&start)),
                ("endTime", format_datetime(&end)),
            ],
        )
    }

    /// Starts an Action-center remediation; returns the `Location` link to the job (the 202
    /// has no body), marked when it points outside Microsoft's hosts (see
    /// [`GraphClient::display_link`]).
    pub async fn remediate_emails(
        &self,
        request: &RemediateRequest,
    ) -> Result<Option<String>, TenantError> {
        let body = serde_json::to_vec(request).map_err(|e| TenantError::Config {
            message: format!("cannot encode the remediation: {e}"),
        })?;
        let path = format!("{ANALYZED_EMAILS_PATH}/remediate");
        let req = GraphRequest {
            method: reqwest::Method::POST,
            path: &path,
            query: &[],
            body: Some(body),
            effect: Effect::Write("the email remediation"),
            long_running: false,
        };
        self.execute(req, |r| {
            Ok(r.headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|link| self.display_link(link)))
        })
        .await
    }
}

//! Incidents with their alerts expanded, listed incrementally.

use crate::model::Incident;
use crate::tenant::alerts::list_query;
use crate::tenant::http::{GraphClient, Pager};
use chrono::{DateTime, Utc};

/// Collection path.
pub const INCIDENTS_PATH: &str = "/security/incidents";

impl GraphClient {
    /// Incidents changed since the watermark, each with its alerts (`$expand=alerts`).
    pub fn list_incidents(
        &self,
        since: Option<DateTime<Utc>>,
        page_size: Option<u32>,
    ) -> Pager<Incident> {
        let mut q = list_query(since, page_size);
        q.push(("$expand", "alerts".to_owned()));
        self.get_paged(INCIDENTS_PATH, q)
    }
}

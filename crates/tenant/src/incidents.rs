//! Incidents, listed incrementally. Their alerts are not expanded: `alerts_v2`
//! already brings every alert (with its `incidentId`), and expanding them here made
//! the tenant send, and the cache write, every alert twice.

use crate::alerts::list_query;
use crate::http::{GraphClient, Pager};
use chrono::{DateTime, Utc};
use whalewatch_model::Incident;

/// Collection path.
pub const INCIDENTS_PATH: &str = "/security/incidents";

impl GraphClient {
    /// Incidents changed since the watermark.
    pub fn list_incidents(
        &self,
        since: Option<DateTime<Utc>>,
        page_size: Option<u32>,
    ) -> Pager<Incident> {
        self.get_paged(INCIDENTS_PATH, list_query(since, page_size))
    }
}

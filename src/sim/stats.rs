//! Ground truth about a world, as `whalewatch sim stats` prints it. Counted from the
//! world's own structures (not through the KQL engine), so tests can compare what
//! the API serves against an independent tally.

use std::collections::BTreeMap;

use serde::Serialize;

use super::kql::Catalog;
use super::world::{HuntingCatalog, World};

/// The figures `sim stats` reports.
#[derive(Debug, Serialize)]
pub struct WorldStats {
    pub seed: u64,
    pub now: String,
    pub tenant_id: String,
    pub tenant_domain: String,
    pub users: usize,
    pub enabled_users: usize,
    pub priority_accounts: usize,
    /// Transitive members per group.
    pub groups: BTreeMap<String, usize>,
    /// Rows per advanced-hunting table.
    pub tables: BTreeMap<String, usize>,
    pub messages: usize,
    pub alerts: usize,
    pub incidents: usize,
    pub campaigns: usize,
    /// `EmailEvents` rows per `ThreatTypes` value ("" for none).
    pub rows_by_threat_type: BTreeMap<String, usize>,
    /// `EmailEvents` rows per original `DeliveryLocation`.
    pub rows_by_delivery_location: BTreeMap<String, usize>,
    /// `EmailEvents` rows per `LatestDeliveryLocation`.
    pub rows_by_latest_delivery_location: BTreeMap<String, usize>,
    /// `EmailEvents` rows whose recipient is a priority account.
    pub priority_account_rows: usize,
    pub alerts_by_title: BTreeMap<String, usize>,
    pub alerts_by_status: BTreeMap<String, usize>,
}

impl WorldStats {
    pub fn of(world: &World) -> WorldStats {
        let dir = &world.directory;
        let groups = (0..dir.groups.len())
            .map(|g| {
                (
                    dir.groups[g].name.to_string(),
                    dir.transitive_members(g).0.len(),
                )
            })
            .collect();
        let catalog = HuntingCatalog::new(world);
        let tables = catalog
            .table_names()
            .into_iter()
            .map(|n| {
                let len = catalog.table(&n).map_or(0, |t| t.len());
                (n, len)
            })
            .collect();
        let mut by_threat = BTreeMap::new();
        let mut by_loc = BTreeMap::new();
        let mut by_latest = BTreeMap::new();
        let mut priority_rows = 0;
        for row in &world.rows {
            let m = world.message_of(row);
            let threat = world
                .s(world.verdicts[m.verdict as usize].threat_types)
                .to_string();
            *by_threat.entry(threat).or_insert(0) += 1;
            *by_loc.entry(row.original.as_str().to_string()).or_insert(0) += 1;
            *by_latest
                .entry(row.latest.as_str().to_string())
                .or_insert(0) += 1;
            if world.is_priority_party(row.recipient) {
                priority_rows += 1;
            }
        }
        let mut by_title = BTreeMap::new();
        let mut by_status = BTreeMap::new();
        for a in &world.alerts {
            *by_title.entry(a.title.to_string()).or_insert(0) += 1;
            *by_status.entry(a.status.clone()).or_insert(0) += 1;
        }
        WorldStats {
            seed: world.params.seed,
            now: world
                .params
                .now
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tenant_id: world.tenant.id.to_string(),
            tenant_domain: world.tenant.initial_domain.to_string(),
            users: dir.users.len(),
            enabled_users: dir.users.iter().filter(|u| u.enabled).count(),
            priority_accounts: dir.priority.len(),
            groups,
            tables,
            messages: world.messages.len(),
            alerts: world.alerts.len(),
            incidents: world.incidents.len(),
            campaigns: world.campaigns.len(),
            rows_by_threat_type: by_threat,
            rows_by_delivery_location: by_loc,
            rows_by_latest_delivery_location: by_latest,
            priority_account_rows: priority_rows,
            alerts_by_title: by_title,
            alerts_by_status: by_status,
        }
    }
}

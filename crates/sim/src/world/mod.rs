//! The synthetic tenant: directory, mail flow, campaigns, alerts and incidents.
//!
//! The world is generated once from `WorldParams` and kept in a compact layout:
//! repeated strings are interned (`StrId`), per-message facts live once in `Message`
//! and each recipient is a small `RecipientRow`. The server reads advanced-hunting
//! tables straight from this layout (see `tables.rs`), so a million-row world is held
//! in memory exactly once.

mod alerts;
mod directory;
mod hostile;
mod mail;
pub mod posture;
mod strings;
mod tables;
mod types;
pub mod vocab;

use std::sync::Arc;

pub use alerts::{Alert, AlertComment, Evidence, Incident, refresh_incident, titles};
pub use directory::{Directory, Group, User};
pub use hostile::subjects as hostile_subjects;
pub use mail::PRIORITY_CONTEXT;
pub use strings::{StrId, Strings};
pub use tables::HuntingCatalog;
pub use types::*;

use super::params::{ParamsError, WorldParams};
use super::rng::{Guid, SimRng};

/// Identity of the synthetic tenant.
#[derive(Debug, Clone)]
pub struct TenantInfo {
    pub id: Guid,
    pub name: &'static str,
    pub domain: &'static str,
    pub initial_domain: &'static str,
}

/// A whole synthetic tenant.
#[derive(Debug)]
pub struct World {
    pub params: WorldParams,
    pub tenant: TenantInfo,
    pub strings: Strings,
    pub directory: Directory,
    /// Every mailbox that sends or receives: the directory's users first (party `i`
    /// is user `i`), then external senders and recipients.
    pub parties: Vec<Party>,
    pub campaigns: Vec<Campaign>,
    pub messages: Vec<Message>,
    /// `EmailEvents`: one row per message × recipient, in time order.
    pub rows: Vec<RecipientRow>,
    pub verdicts: Vec<Verdict>,
    pub urls: Vec<UrlRow>,
    pub attachments: Vec<AttachmentRow>,
    /// `EmailAttachmentInfo` is per recipient: (attachment, recipient row) pairs.
    pub attachment_rows: Vec<(u32, u32)>,
    pub post_delivery: Vec<PostDeliveryRow>,
    pub clicks: Vec<ClickRow>,
    pub alerts: Vec<Alert>,
    pub incidents: Vec<Incident>,
    /// Posture facts (MFA, sign-ins, Conditional Access, risk, Secure Score, message
    /// traces, Exchange settings), with planted gaps.
    pub posture: posture::Posture,
}

impl World {
    /// Generates the world for `params`.
    pub fn generate(params: &WorldParams) -> Result<World, ParamsError> {
        params.validate()?;
        let mut tenant_rng = SimRng::new(params.seed, "tenant");
        let tenant = TenantInfo {
            id: tenant_rng.guid(),
            name: vocab::TENANT_NAME,
            domain: vocab::TENANT_DOMAIN,
            initial_domain: vocab::TENANT_INITIAL_DOMAIN,
        };
        let mut strings = Strings::default();
        let directory = directory::generate(params, &mut strings);
        let mut world = World {
            params: params.clone(),
            tenant,
            strings,
            directory,
            parties: Vec::new(),
            campaigns: Vec::new(),
            messages: Vec::new(),
            rows: Vec::new(),
            verdicts: Vec::new(),
            urls: Vec::new(),
            attachments: Vec::new(),
            attachment_rows: Vec::new(),
            post_delivery: Vec::new(),
            clicks: Vec::new(),
            alerts: Vec::new(),
            incidents: Vec::new(),
            posture: posture::Posture::default(),
        };
        mail::generate(&mut world);
        alerts::generate(&mut world);
        world.posture = posture::generate(params, world.tenant.id, &world.directory);
        Ok(world)
    }

    /// The interned string behind `id`.
    pub fn s(&self, id: StrId) -> &Arc<str> {
        self.strings.get(id)
    }

    /// The message a recipient row belongs to.
    pub fn message_of(&self, row: &RecipientRow) -> &Message {
        &self.messages[row.message as usize]
    }

    /// Ticks of the reference time.
    pub fn now(&self) -> i64 {
        self.params.now_ticks()
    }

    /// The priority accounts' addresses, one per line, as the Defender portal
    /// imports them and `Get-User -IsVIP` exports them.
    pub fn vip_list(&self) -> String {
        let mut out = String::new();
        for &u in &self.directory.priority {
            out.push_str(&self.directory.users[u as usize].upn);
            out.push('\n');
        }
        out
    }

    /// Whether party `p` is a priority account.
    pub fn is_priority_party(&self, p: u32) -> bool {
        (p as usize) < self.directory.users.len() && self.directory.is_priority[p as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn world(seed: u64) -> World {
        let now = chrono::DateTime::from_timestamp(1_793_491_200, 0).unwrap_or_default();
        World::generate(&WorldParams {
            seed,
            now,
            users: 300,
            days: 7,
            emails_per_day: 2_000,
        })
        .unwrap()
    }

    /// The natural keys the cache upserts by must be unique in the world, or a
    /// refresh would fold distinct rows together.
    #[test]
    fn natural_keys_are_unique_and_tables_are_time_ordered() {
        for seed in [1, 7, 42] {
            let w = world(seed);
            let mut seen = HashSet::new();
            for r in &w.rows {
                assert!(
                    seen.insert((w.message_of(r).id, r.recipient)),
                    "EmailEvents key repeats"
                );
            }
            let mut seen = HashSet::new();
            for u in &w.urls {
                assert!(
                    seen.insert((u.message, u.url, u.location)),
                    "EmailUrlInfo key repeats: {}",
                    w.s(u.url)
                );
            }
            let mut seen = HashSet::new();
            for (a, row) in &w.attachment_rows {
                let att = &w.attachments[*a as usize];
                assert!(
                    seen.insert((
                        att.message,
                        w.rows[*row as usize].recipient,
                        att.sha256,
                        att.file_name
                    )),
                    "EmailAttachmentInfo key repeats"
                );
            }
            assert!(
                w.rows
                    .windows(2)
                    .all(|p| w.message_of(&p[0]).time <= w.message_of(&p[1]).time)
            );
            assert!(w.post_delivery.windows(2).all(|p| p[0].time <= p[1].time));
            assert!(w.clicks.windows(2).all(|p| p[0].time <= p[1].time));
            assert!(
                w.clicks.iter().all(|c| c.time < w.now())
                    && w.post_delivery.iter().all(|e| e.time < w.now())
            );
        }
    }

    #[test]
    fn every_day_has_exactly_its_row_budget_and_campaigns_have_mail() {
        let w = world(3);
        assert_eq!(w.rows.len(), 7 * 2_000);
        assert!((10..=40).contains(&w.campaigns.len()));
        for (i, _) in w.campaigns.iter().enumerate() {
            assert!(
                w.messages.iter().any(|m| m.campaign == Some(i as u16)),
                "campaign {i} has no message"
            );
        }
        assert!(w.directory.priority.len() <= 250);
    }
}

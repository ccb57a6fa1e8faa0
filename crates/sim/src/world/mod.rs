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
    fn the_world_holds_exactly_its_row_budget_and_campaigns_have_mail() {
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

    const DAY: i64 = 86_400 * crate::kql::TICKS_PER_SECOND;
    const HOUR: i64 = DAY / 24;

    /// Four weeks ending on a Sunday midnight (2026-11-01), so every weekday is
    /// counted four times.
    fn four_weeks() -> World {
        let now = chrono::DateTime::from_timestamp(1_793_491_200, 0).unwrap();
        World::generate(&WorldParams {
            seed: 5,
            now,
            users: 300,
            days: 28,
            emails_per_day: 2_000,
        })
        .unwrap()
    }

    #[test]
    fn mail_volume_follows_the_week_and_the_working_day() {
        let w = four_weeks();
        let mut by_weekday = [0u64; 7];
        let mut by_hour = [0u64; 24];
        let mut per_day = std::collections::BTreeMap::<i64, u64>::new();
        for r in &w.rows {
            let t = w.message_of(r).time;
            let weekday = (t.div_euclid(DAY) + 3).rem_euclid(7) as usize;
            by_weekday[weekday] += 1;
            by_hour[(t.rem_euclid(DAY) / HOUR) as usize] += 1;
            *per_day.entry(t.div_euclid(DAY)).or_default() += 1;
        }
        let weekday_mean = by_weekday[..5].iter().sum::<u64>() / 5;
        let weekend_mean = by_weekday[5..].iter().sum::<u64>() / 2;
        assert!(
            weekday_mean > 2 * weekend_mean,
            "weekdays {weekday_mean} vs weekends {weekend_mean}"
        );
        let peak = by_hour.iter().max().copied().unwrap();
        assert!(
            peak > 4 * by_hour[3],
            "peak hour {peak} vs 3 am {}",
            by_hour[3]
        );
        assert!(by_hour[10] > by_hour[3] && by_hour[15] > by_hour[22]);
        // Not flat: no two weekdays of the same kind need to match, and days differ.
        let counts: std::collections::BTreeSet<u64> = per_day.values().copied().collect();
        assert!(counts.len() > 20, "{per_day:?}");
        assert_eq!(w.rows.len(), 28 * 2_000, "the total stays exact");
    }

    #[test]
    fn campaigns_arrive_in_bursts_of_hours() {
        let w = four_weeks();
        let mut waves = std::collections::BTreeMap::<(u16, i64), (i64, i64)>::new();
        for m in &w.messages {
            let Some(c) = m.campaign else { continue };
            // Waves are per 24 hours before `now`, which is a midnight here.
            let e = waves
                .entry((c, m.time.div_euclid(DAY)))
                .or_insert((m.time, m.time));
            e.0 = e.0.min(m.time);
            e.1 = e.1.max(m.time);
        }
        assert!(!waves.is_empty());
        for ((c, day), (first, last)) in &waves {
            assert!(
                last - first <= 4 * HOUR,
                "campaign {c} on day {day} spans {} h",
                (last - first) / HOUR
            );
        }
    }

    #[test]
    fn every_lure_tells_its_senders_story() {
        let w = four_weeks();
        let mut checked = 0;
        for m in &w.messages {
            let from = &w.parties[m.from as usize];
            let (domain, display) = (w.s(from.domain), w.s(from.display_name));
            let subject = w.s(m.subject);
            if let Some(c) = m.campaign {
                let camp = &w.campaigns[c as usize];
                let named = w.s(camp.subtype);
                if let Some(b) = vocab::brand(named) {
                    assert!(b.domains.contains(&&**domain), "{domain} is not {named}'s");
                    assert!(
                        b.display_names.contains(&&**display),
                        "{display} for {named}"
                    );
                    assert!(
                        b.subjects.iter().any(|t| vocab::fills(t, subject)),
                        "{subject:?} from {display} ({named}) is not a {} lure",
                        b.theme
                    );
                    checked += 1;
                } else if let Some(f) = vocab::malware_family(named) {
                    assert_eq!(&**display, f.sender.1);
                    assert!(f.subjects.iter().any(|t| vocab::fills(t, subject)));
                    checked += 1;
                }
            } else if m.kind.is_phish() {
                // Uncampaigned brand lures: the display name names the brand.
                if let Some(b) = vocab::BRANDS
                    .iter()
                    .find(|b| b.display_names.contains(&&**display))
                {
                    assert!(
                        b.subjects.iter().any(|t| vocab::fills(t, subject))
                            || hostile_subjects().iter().any(|h| h == &**subject),
                        "{subject:?} from {display}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "only {checked} lures checked");
    }

    #[test]
    fn fills_matches_filled_templates_only() {
        assert!(vocab::fills("Parcel {n} on hold", "Parcel 123 on hold"));
        assert!(vocab::fills("{user}, your mailbox", "Ana, your mailbox"));
        assert!(vocab::fills(
            "Delivery attempt failed",
            "Delivery attempt failed"
        ));
        assert!(!vocab::fills(
            "Parcel {n} on hold",
            "Ana, your mailbox storage is full"
        ));
        assert!(!vocab::fills("Delivery attempt failed", "Delivery attempt"));
    }

    #[test]
    fn recent_incidents_do_not_share_one_update_time() {
        let w = four_weeks();
        let mut updates: Vec<i64> = w.incidents.iter().map(|i| i.last_update).collect();
        updates.sort_unstable_by(|a, b| b.cmp(a));
        let newest: HashSet<i64> = updates.iter().take(20).copied().collect();
        assert!(newest.len() >= 18, "{:?}", &updates[..20]);
        let created: HashSet<i64> = w.alerts.iter().map(|a| a.created).collect();
        assert!(created.len() * 10 >= w.alerts.len() * 9);
        assert!(
            w.incidents
                .iter()
                .all(|i| i.created <= i.last_update && i.last_update < w.now())
        );
    }
}

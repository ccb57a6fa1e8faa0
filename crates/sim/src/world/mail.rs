//! The mail flow: campaigns, messages, recipients, URLs, attachments, post-delivery
//! events (ZAP, admin remediation) and URL clicks.
//!
//! The world holds exactly `days × --emails-per-day` recipient rows, shared out over
//! the days the way a tenant's mail is: weekdays busy, weekends quiet, each day a
//! little different ([`WEEKDAY_WEIGHT`]); within a day, working hours peak and the
//! night is a trough ([`HOURLY_WEIGHT`]). A day is drafted first (campaign waves —
//! each a burst of a few hours —, compromised-account bursts, the hostile-string
//! showcase, then ordinary traffic until the day's row budget is met), sorted by time
//! and materialised, so every time-keyed table comes out in ascending `Timestamp`
//! order.

use std::collections::HashMap;

use super::World;
use super::hostile;
use super::strings::StrId;
use super::types::*;
use super::vocab;
use crate::kql::TICKS_PER_SECOND;
use crate::rng::{Guid, SimRng, fnv1a};

const MINUTE: i64 = 60 * TICKS_PER_SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Relative mail volume by UTC hour of day: working hours peak, the night is a trough.
pub const HOURLY_WEIGHT: [u32; 24] = [
    3, 2, 2, 2, 2, 3, 6, 12, 20, 24, 24, 22, 17, 20, 23, 22, 18, 13, 9, 7, 6, 5, 4, 3,
];
/// Relative mail volume by weekday, Monday first: weekends are quiet.
pub const WEEKDAY_WEIGHT: [u32; 7] = [100, 106, 104, 100, 86, 24, 18];

/// The value `Context` carries when Defender applied priority account protection.
pub const PRIORITY_CONTEXT: &str = "Priority Account Protection";

/// A message before it has a place in the tables.
struct Draft {
    time: i64,
    kind: Kind,
    direction: Direction,
    campaign: Option<u16>,
    from: u32,
    recipients: Vec<u32>,
    subject: StrId,
    /// Forces a hostile display name / file name / URL onto this message.
    hostile: Option<usize>,
    /// The brand (phish) or malware family (malware) the lure imitates, an index
    /// into `vocab::BRANDS` or `vocab::MALWARE_FAMILIES`.
    lure: Option<usize>,
}

/// Shared lookups used while drafting.
struct Pools {
    partners: Vec<u32>,
    bulk: Vec<u32>,
    spam: Vec<u32>,
    /// Targets of whaling and invoice fraud: finance, assistants, priority accounts.
    whaling_targets: Vec<u32>,
    enabled_users: Vec<u32>,
    compromised: Vec<(u32, u32)>,
}

struct Builder<'w> {
    w: &'w mut World,
    party_index: HashMap<String, u32>,
    verdict_index: HashMap<Verdict, u16>,
    pools: Pools,
    /// The weight of each of the 24 hours of the day being drafted.
    slots: [u64; 24],
}

pub fn generate(w: &mut World) {
    let mut b = Builder::new(w);
    b.plan_campaigns();
    let days = b.w.params.days;
    let plan_rng = SimRng::new(b.w.params.seed, "mail");
    let (slots, budgets) = day_volumes(&b.w.params);
    for day in 0..days {
        let mut rng = plan_rng.fork(u64::from(day));
        b.slots = slots[day as usize];
        let drafts = b.draft_day(day, budgets[day as usize], &mut rng);
        for d in drafts {
            b.materialise(d, &mut rng);
        }
    }
    b.release_from_quarantine();
    b.w.post_delivery.sort_by_key(|e| e.time);
    b.w.clicks.sort_by_key(|c| c.time);
}

/// `EmailPostDeliveryEvents.ActionType` of an admin's release from quarantine
/// (Threat Explorer's "Quarantine release" additional action).
pub const QUARANTINE_RELEASE: &str = "Quarantine release";

/// Each day's hour weights and row budget. Day `d` is the 24 hours starting
/// `days - d` days before `now`; an hour weighs its UTC hour of day times its
/// weekday, and each day varies by up to ±12 %. The budgets share out exactly
/// `total_rows()` (largest remainders), so ground truth stays one product.
fn day_volumes(params: &crate::params::WorldParams) -> (Vec<[u64; 24]>, Vec<usize>) {
    let now = params.now_ticks();
    let days = i64::from(params.days);
    let mut jitter = SimRng::new(params.seed, "volume");
    let mut slots = Vec::with_capacity(days as usize);
    for d in 0..days {
        let day_start = now - (days - d) * DAY;
        let factor = 88 + jitter.below(25);
        let mut w = [0u64; 24];
        for (h, slot) in w.iter_mut().enumerate() {
            let mid = day_start + h as i64 * HOUR + HOUR / 2;
            let hour = mid.rem_euclid(DAY) / HOUR;
            // 1970-01-01 was a Thursday (weekday 3, Monday first).
            let weekday = (mid.div_euclid(DAY) + 3).rem_euclid(7);
            *slot = u64::from(HOURLY_WEIGHT[hour as usize])
                * u64::from(WEEKDAY_WEIGHT[weekday as usize])
                * factor;
        }
        slots.push(w);
    }
    let weights: Vec<u64> = slots.iter().map(|w| w.iter().sum()).collect();
    let total_weight: u64 = weights.iter().sum::<u64>().max(1);
    let total = u128::from(params.total_rows());
    let mut budgets: Vec<usize> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (d, &w) in weights.iter().enumerate() {
        let exact = total * u128::from(w);
        budgets.push((exact / u128::from(total_weight)) as usize);
        remainders.push((exact % u128::from(total_weight), d));
    }
    let short = params.total_rows() as usize - budgets.iter().sum::<usize>();
    // Largest remainders first; ties to the earlier day, so the order is fixed.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, d) in remainders.iter().take(short) {
        budgets[d] += 1;
    }
    (slots, budgets)
}

fn fill(template: &str, rng: &mut SimRng, user: &str, partner: &str) -> String {
    template
        .replace("{n}", &rng.range(1000, 99_999).to_string())
        .replace("{q}", &rng.range(1, 4).to_string())
        .replace("{user}", user)
        .replace("{partner}", partner)
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

fn ip_from(prefix: [u8; 3], last: u8) -> String {
    format!("{}.{}.{}.{}", prefix[0], prefix[1], prefix[2], last)
}

impl<'w> Builder<'w> {
    fn new(w: &'w mut World) -> Self {
        let mut b = Builder {
            w,
            party_index: HashMap::new(),
            verdict_index: HashMap::new(),
            pools: Pools {
                partners: Vec::new(),
                bulk: Vec::new(),
                spam: Vec::new(),
                whaling_targets: Vec::new(),
                enabled_users: Vec::new(),
                compromised: Vec::new(),
            },
            slots: [1; 24],
        };
        b.build_parties();
        b
    }

    fn intern(&mut self, s: &str) -> StrId {
        self.w.strings.intern(s)
    }

    /// The party with `address`, created on first use.
    fn party(&mut self, address: &str, display: &str) -> u32 {
        if let Some(p) = self.party_index.get(address) {
            return *p;
        }
        let p = Party {
            address: self.w.strings.intern(address),
            display_name: self.w.strings.intern(display),
            domain: self.w.strings.intern(domain_of(address)),
            object_id: None,
        };
        let id = self.w.parties.len() as u32;
        self.w.parties.push(p);
        self.party_index.insert(address.to_string(), id);
        id
    }

    fn build_parties(&mut self) {
        let users = self.w.directory.users.clone();
        for u in &users {
            let p = Party {
                address: self.w.strings.intern(&u.upn),
                display_name: self.w.strings.intern(&u.display_name),
                domain: self.w.strings.intern(vocab::TENANT_DOMAIN),
                object_id: Some(u.id),
            };
            self.party_index
                .insert(u.upn.to_string(), self.w.parties.len() as u32);
            self.w.parties.push(p);
        }
        let mut rng = SimRng::new(self.w.params.seed, "parties");
        for domain in vocab::PARTNER_DOMAINS {
            for _ in 0..12 {
                let given = *rng.pick(vocab::GIVEN_NAMES);
                let surname = *rng.pick(vocab::SURNAMES);
                let local = format!(
                    "{}.{}",
                    super::directory::ascii_fold(given),
                    super::directory::ascii_fold(surname)
                );
                let p = self.party(&format!("{local}@{domain}"), &format!("{given} {surname}"));
                self.pools.partners.push(p);
            }
        }
        for domain in vocab::BULK_DOMAINS {
            let name = domain.split('.').nth(1).unwrap_or(domain);
            let p = self.party(&format!("newsletter@{domain}"), &format!("{name} updates"));
            self.pools.bulk.push(p);
        }
        for (i, domain) in vocab::SPAM_DOMAINS.iter().enumerate() {
            for k in 0..6 {
                let p = self.party(&format!("offer{}{k}@{domain}", i * 7), "Special Offer");
                self.pools.spam.push(p);
            }
        }
        let dir = &self.w.directory;
        let mut targets: Vec<u32> = dir.priority.clone();
        for g in ["Finance", "Accounts Payable", "Executive assistants"] {
            if let Some(gi) = dir.group_named(g) {
                targets.extend(dir.transitive_members(gi).0);
            }
        }
        targets.sort_unstable();
        targets.dedup();
        self.pools.whaling_targets = targets;
        self.pools.enabled_users = (0..dir.users.len() as u32)
            .filter(|&u| dir.users[u as usize].enabled)
            .collect();
        // Compromised accounts: ordinary staff, plus (in larger tenants) one assistant.
        let n_comp = (1 + dir.users.len() / 1500).min(5);
        let days = self.w.params.days;
        for _ in 0..n_comp {
            let pool = &self.pools.enabled_users;
            let start = (dir.priority.len() as u64).min(pool.len() as u64 - 1);
            let u = pool[rng.range(start, pool.len() as u64 - 1) as usize];
            let day = if days > 1 {
                rng.range(u64::from(days / 3), u64::from(days - 1)) as u32
            } else {
                0
            };
            self.pools.compromised.push((u, day));
        }
    }

    fn plan_campaigns(&mut self) {
        let mut rng = SimRng::new(self.w.params.seed, "campaigns");
        let total_rows = self.w.params.total_rows();
        let count = (10 + total_rows / 50_000).clamp(10, 40) as usize;
        let days = self.w.params.days;
        let est_messages = total_rows / 2;
        let per_campaign = (est_messages * 12 / 1000 / count as u64).max(1);
        let day0 = self.w.now() - i64::from(days) * DAY;
        for k in 0..count {
            let kind = [
                Kind::CredentialPhish,
                Kind::BrandPhish,
                Kind::Bec,
                Kind::InvoiceFraud,
                Kind::Malware,
            ][rng.weighted(&[35, 25, 10, 10, 20])];
            let start_day = rng.below(u64::from(days)) as i64;
            // One wave a day, for one to three days.
            let span = rng.range(1, 3).min(u64::from(days) - start_day as u64) as i64;
            let messages = (per_campaign / 2 + rng.below(per_campaign + 1)).max(1) as u32;
            let ip_prefix = [
                *rng.pick(&[45u8, 91, 103, 146, 176, 185, 193, 194]),
                rng.below(256) as u8,
                rng.below(256) as u8,
            ];
            #[allow(clippy::type_complexity)] // one tuple, destructured at once
            let (ctype, subtype, domains, subjects, payload, threat_name): (
                &str,
                String,
                Vec<String>,
                Vec<String>,
                Option<(String, String)>,
                String,
            ) = match kind {
                Kind::Malware => {
                    let family = rng.pick(vocab::MALWARE_FAMILIES);
                    let file = fill(rng.pick::<&str>(family.files), &mut rng, "", "");
                    let domain = format!(
                        "{}-{}.{}",
                        family.name.to_lowercase(),
                        rng.hex(2),
                        rng.pick(&["top", "xyz", "online", "click"])
                    );
                    let subs = family
                        .subjects
                        .iter()
                        .map(|s| fill(s, &mut rng, "", ""))
                        .collect();
                    (
                        "Malware",
                        family.name.to_string(),
                        vec![domain.clone(), format!("mail.{domain}")],
                        subs,
                        Some((file, rng.hex(32))),
                        family.threat_name.to_string(),
                    )
                }
                Kind::Bec | Kind::InvoiceFraud => {
                    let subj = if kind == Kind::Bec {
                        vocab::BEC_SUBJECTS
                    } else {
                        vocab::INVOICE_SUBJECTS
                    };
                    let subs = (0..2)
                        .map(|_| fill(rng.pick::<&str>(subj), &mut rng, "", ""))
                        .collect();
                    let domains = vec![
                        rng.pick(vocab::LOOKALIKE_DOMAINS).to_string(),
                        rng.pick(vocab::FREEMAIL_DOMAINS).to_string(),
                    ];
                    let sub = if kind == Kind::Bec {
                        "CEO fraud"
                    } else {
                        "Invoice fraud"
                    };
                    ("Phish", sub.to_string(), domains, subs, None, String::new())
                }
                _ => {
                    let brand = rng.pick(vocab::BRANDS);
                    let subs = brand
                        .subjects
                        .iter()
                        .map(|s| fill(s, &mut rng, "{user}", ""))
                        .collect();
                    (
                        "Phish",
                        brand.name.to_string(),
                        brand.domains.iter().map(|d| d.to_string()).collect(),
                        subs,
                        None,
                        String::new(),
                    )
                }
            };
            let url_domain = match kind {
                Kind::Bec => String::new(),
                _ => format!(
                    "{}{}.{}",
                    rng.pick(&["secure-", "login-", "view-", "files-", ""]),
                    rng.hex(3),
                    rng.pick(&["com", "net", "app", "site"])
                ),
            };
            let whaling = matches!(kind, Kind::Bec | Kind::InvoiceFraud) || rng.chance(0.3);
            let name = match kind {
                Kind::Malware => format!("{subtype} malware wave {}", k + 1),
                Kind::Bec => format!("Executive impersonation (whaling) {}", k + 1),
                Kind::InvoiceFraud => format!("Supplier invoice fraud {}", k + 1),
                _ if whaling => {
                    format!("{subtype} credential phish targeting executives {}", k + 1)
                }
                _ => format!("{subtype} credential phish {}", k + 1),
            };
            let campaign = Campaign {
                id: rng.guid(),
                name: self.intern(&name),
                campaign_type: self.intern(ctype),
                subtype: self.intern(&subtype),
                kind,
                cluster: (fnv1a(name.as_bytes()) >> 12) as i64,
                sender_domains: domains.iter().map(|d| self.w.strings.intern(d)).collect(),
                ip_prefix,
                subjects: subjects.iter().map(|s| self.w.strings.intern(s)).collect(),
                url_domain: self.intern(&url_domain),
                payload: payload
                    .map(|(f, h)| (self.w.strings.intern(&f), self.w.strings.intern(&h))),
                threat_name: self.intern(&threat_name),
                start: day0 + start_day * DAY,
                end: day0 + (start_day + span) * DAY,
                messages,
                whaling,
            };
            self.w.campaigns.push(campaign);
        }
    }

    fn random_user(&self, rng: &mut SimRng) -> u32 {
        *rng.pick(&self.pools.enabled_users)
    }

    fn pick_recipients(&self, rng: &mut SimRng, n: usize, whaling: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let u = if whaling && !self.pools.whaling_targets.is_empty() {
                *rng.pick(&self.pools.whaling_targets)
            } else {
                self.random_user(rng)
            };
            if !out.contains(&u) {
                out.push(u);
            }
        }
        out
    }

    /// A time within the day, drawn by the weight of its hours (working hours peak,
    /// the night is a trough).
    fn time_in_day(&self, day_start: i64, rng: &mut SimRng) -> i64 {
        let total: u64 = self.slots.iter().sum();
        let mut pick = rng.below(total.max(1));
        let mut hour = 23;
        for (h, w) in self.slots.iter().enumerate() {
            if pick < *w {
                hour = h as i64;
                break;
            }
            pick -= w;
        }
        let t = day_start + hour * HOUR + rng.below(HOUR as u64) as i64;
        t.min(self.w.now() - 1)
    }

    /// When a campaign's wave starts on a day, and how long it lasts: attackers
    /// send in bursts of one to four hours, mostly while their targets work.
    fn wave(&self, day_start: i64, rng: &mut SimRng) -> (i64, i64) {
        let length = rng.range(1, 4) as i64 * HOUR;
        let start = self
            .time_in_day(day_start, rng)
            .min(day_start + DAY - length)
            .min(self.w.now() - length);
        (start.max(day_start), length)
    }

    fn draft_day(&mut self, day: u32, budget: usize, rng: &mut SimRng) -> Vec<Draft> {
        let days = self.w.params.days;
        let day_start = self.w.now() - i64::from(days - day) * DAY;
        let mut drafts: Vec<Draft> = Vec::new();
        let mut rows = 0usize;
        let push = |drafts: &mut Vec<Draft>, mut d: Draft, rows: &mut usize| -> bool {
            let room = budget - *rows;
            if room == 0 {
                return false;
            }
            d.recipients.truncate(room);
            if d.recipients.is_empty() {
                return true;
            }
            *rows += d.recipients.len();
            drafts.push(d);
            true
        };

        // The hostile-string showcase, on the last day so it shows in default views.
        if day + 1 == days {
            let subjects = hostile::subjects();
            let n = subjects.len().min(budget / 2).max(1);
            for (i, s) in subjects.into_iter().take(n).enumerate() {
                let kind = [Kind::Spam, Kind::CredentialPhish, Kind::Malware][i % 3];
                let from = self.threat_sender(kind, None, None, rng);
                let recipient = if i % 4 == 0 && !self.w.directory.priority.is_empty() {
                    self.w.directory.priority[i % self.w.directory.priority.len()]
                } else {
                    self.random_user(rng)
                };
                let d = Draft {
                    time: self.time_in_day(day_start, rng),
                    kind,
                    direction: Direction::Inbound,
                    campaign: None,
                    from,
                    recipients: vec![recipient],
                    subject: self.w.strings.push_unique(s),
                    hostile: Some(i),
                    lure: None,
                };
                push(&mut drafts, d, &mut rows);
            }
        }

        // Campaign waves active today.
        for c in 0..self.w.campaigns.len() {
            let camp = &self.w.campaigns[c];
            if !(camp.start <= day_start && day_start < camp.end) {
                continue;
            }
            let active_days = ((camp.end - camp.start) / DAY).max(1) as u32;
            let nth = ((day_start - camp.start) / DAY) as u32;
            let today = camp.messages / active_days + u32::from(nth < camp.messages % active_days);
            let wave = self.wave(day_start, rng);
            for _ in 0..today {
                let d = self.campaign_draft(c, wave, rng);
                if !push(&mut drafts, d, &mut rows) {
                    break;
                }
            }
        }

        // Compromised accounts spraying outbound spam.
        for (user, burst_day) in self.pools.compromised.clone() {
            if burst_day != day {
                continue;
            }
            let start = self.time_in_day(day_start, rng);
            for k in 0..rng.range(15, 40) {
                let to = *rng.pick(&self.pools.partners);
                let d = Draft {
                    time: (start + k as i64 * 2 * MINUTE).min(self.w.now() - 1),
                    kind: Kind::CompromisedOutbound,
                    direction: Direction::Outbound,
                    campaign: None,
                    from: user,
                    recipients: vec![to],
                    subject: self.intern(rng.pick::<&str>(&[
                        "Invoice payment",
                        "Please see attached",
                        "Document shared with you",
                    ])),
                    hostile: None,
                    lure: None,
                };
                if !push(&mut drafts, d, &mut rows) {
                    break;
                }
            }
        }

        // Ordinary traffic fills the rest of the budget.
        while rows < budget {
            let d = self.background_draft(day_start, rng);
            push(&mut drafts, d, &mut rows);
        }
        drafts.sort_by_key(|d| d.time);
        drafts
    }

    /// One message of campaign `c`'s `wave` (start, length): most arrive early in
    /// the wave, as a mass mailing does.
    fn campaign_draft(&mut self, c: usize, wave: (i64, i64), rng: &mut SimRng) -> Draft {
        let camp = self.w.campaigns[c].clone();
        let n = if camp.whaling {
            rng.range(1, 2)
        } else {
            rng.range(1, 5)
        } as usize;
        let recipients = self.pick_recipients(rng, n, camp.whaling);
        let first = self.w.directory.users[recipients[0] as usize]
            .given_name
            .clone();
        let subject_t = self.w.s(*rng.pick(&camp.subjects)).to_string();
        let subject = subject_t.replace("{user}", &first);
        let from = self.threat_sender(camp.kind, Some(&camp), None, rng);
        let into = rng.unit();
        let time = (wave.0 + (into * into * wave.1 as f64) as i64).min(self.w.now() - 1);
        Draft {
            time,
            kind: camp.kind,
            direction: Direction::Inbound,
            campaign: Some(c as u16),
            from,
            recipients,
            subject: self.intern(&subject),
            hostile: None,
            lure: None,
        }
    }

    /// A sender for a threat of `kind`; campaign senders use the campaign's domains,
    /// brand and malware senders the names of their `lure` (`vocab::BRANDS` or
    /// `vocab::MALWARE_FAMILIES` index; the campaign's own when it has one, a random
    /// one when neither says).
    fn threat_sender(
        &mut self,
        kind: Kind,
        camp: Option<&Campaign>,
        lure: Option<usize>,
        rng: &mut SimRng,
    ) -> u32 {
        let named = camp.map(|c| self.w.s(c.subtype).to_string());
        let domain = match camp {
            Some(c) => self.w.s(*rng.pick(&c.sender_domains)).to_string(),
            None => match kind {
                Kind::Spam => return *rng.pick(&self.pools.spam),
                Kind::Malware => format!("{}.{}", rng.hex(4), rng.pick(&["top", "xyz", "ru"])),
                Kind::Bec | Kind::InvoiceFraud => {
                    let pool = if rng.chance(0.5) {
                        vocab::LOOKALIKE_DOMAINS
                    } else {
                        vocab::FREEMAIL_DOMAINS
                    };
                    rng.pick(pool).to_string()
                }
                _ => String::new(),
            },
        };
        let dir = &self.w.directory;
        match kind {
            Kind::Bec | Kind::InvoiceFraud => {
                // Impersonate an executive (BEC) or a supplier's accounts team.
                let exec = &dir.users[rng.below(dir.priority.len().min(4) as u64) as usize];
                let (local, display) = if kind == Kind::Bec {
                    (
                        format!(
                            "{}.{}",
                            super::directory::ascii_fold(&exec.given_name),
                            super::directory::ascii_fold(&exec.surname)
                        ),
                        exec.display_name.to_string(),
                    )
                } else {
                    (
                        "accounts.receivable".to_string(),
                        "Accounts Receivable".to_string(),
                    )
                };
                let local: String = local
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect();
                self.party(&format!("{local}@{domain}"), &display)
            }
            Kind::Malware => {
                let family = match (named.as_deref().and_then(vocab::malware_family), lure) {
                    (Some(f), _) => f,
                    (None, Some(i)) => &vocab::MALWARE_FAMILIES[i % vocab::MALWARE_FAMILIES.len()],
                    (None, None) => rng.pick(vocab::MALWARE_FAMILIES),
                };
                let (local, display) = family.sender;
                self.party(&format!("{local}@{domain}"), display)
            }
            _ => {
                let brand = match (named.as_deref().and_then(vocab::brand), lure) {
                    (Some(b), _) => b,
                    (None, Some(i)) => &vocab::BRANDS[i % vocab::BRANDS.len()],
                    (None, None) => rng.pick(vocab::BRANDS),
                };
                let domain = if domain.is_empty() {
                    rng.pick(brand.domains).to_string()
                } else {
                    domain
                };
                let local = rng.pick(brand.locals);
                let display = rng.pick(brand.display_names);
                self.party(&format!("{local}@{domain}"), display)
            }
        }
    }

    fn background_draft(&mut self, day_start: i64, rng: &mut SimRng) -> Draft {
        // Weights per mille of messages.
        const KINDS: [(Kind, Direction, u32); 11] = [
            (Kind::Clean, Direction::IntraOrg, 220),
            (Kind::Clean, Direction::Inbound, 380),
            (Kind::Clean, Direction::Outbound, 120),
            (Kind::Bulk, Direction::Inbound, 120),
            (Kind::Spam, Direction::Inbound, 90),
            (Kind::CredentialPhish, Direction::Inbound, 22),
            (Kind::BrandPhish, Direction::Inbound, 13),
            (Kind::Bec, Direction::Inbound, 5),
            (Kind::InvoiceFraud, Direction::Inbound, 5),
            (Kind::Malware, Direction::Inbound, 15),
            (Kind::Clean, Direction::Inbound, 10),
        ];
        let weights: Vec<u32> = KINDS.iter().map(|k| k.2).collect();
        let (kind, direction, _) = KINDS[rng.weighted(&weights)];
        let time = self.time_in_day(day_start, rng);
        let partner = *rng.pick(&self.pools.partners);
        let partner_domain = self
            .w
            .s(self.w.parties[partner as usize].domain)
            .to_string();
        let mut lure = None;
        let (from, recipients, subject) = match (kind, direction) {
            (Kind::Clean, Direction::IntraOrg) => {
                let from = self.random_user(rng);
                let n = *rng.pick(&[1, 1, 1, 2, 2, 3, 5]);
                let to = self.pick_recipients(rng, n, false);
                (
                    from,
                    to,
                    fill(
                        rng.pick::<&str>(vocab::CLEAN_INTERNAL_SUBJECTS),
                        rng,
                        "",
                        "",
                    ),
                )
            }
            (Kind::Clean, Direction::Outbound) => {
                let from = self.random_user(rng);
                let mut to: Vec<u32> = (0..rng.range(1, 2))
                    .map(|_| *rng.pick(&self.pools.partners))
                    .collect();
                to.dedup();
                (
                    from,
                    to,
                    fill(
                        rng.pick::<&str>(vocab::CLEAN_INBOUND_SUBJECTS),
                        rng,
                        "",
                        vocab::TENANT_NAME,
                    ),
                )
            }
            (Kind::Clean, _) => {
                let n = *rng.pick(&[1, 1, 1, 2, 3]);
                (
                    partner,
                    self.pick_recipients(rng, n, false),
                    fill(
                        rng.pick::<&str>(vocab::CLEAN_INBOUND_SUBJECTS),
                        rng,
                        "",
                        &partner_domain,
                    ),
                )
            }
            (Kind::Bulk, _) => {
                let n = rng.range(1, 8) as usize;
                (
                    *rng.pick(&self.pools.bulk),
                    self.pick_recipients(rng, n, false),
                    rng.pick(vocab::BULK_SUBJECTS).to_string(),
                )
            }
            (Kind::Spam, _) => {
                let n = rng.range(1, 4) as usize;
                (
                    *rng.pick(&self.pools.spam),
                    self.pick_recipients(rng, n, false),
                    rng.pick(vocab::SPAM_SUBJECTS).to_string(),
                )
            }
            _ => {
                let whaling = matches!(kind, Kind::Bec | Kind::InvoiceFraud) || rng.chance(0.15);
                let n = if whaling { 1 } else { rng.range(1, 4) as usize };
                let to = self.pick_recipients(rng, n, whaling);
                let first = self.w.directory.users[to[0] as usize]
                    .given_name
                    .to_string();
                // The sender tells the same story as the subject.
                let (subject, l) = match kind {
                    Kind::Bec => (
                        fill(rng.pick::<&str>(vocab::BEC_SUBJECTS), rng, &first, ""),
                        None,
                    ),
                    Kind::InvoiceFraud => (
                        fill(rng.pick::<&str>(vocab::INVOICE_SUBJECTS), rng, &first, ""),
                        None,
                    ),
                    Kind::Malware => {
                        let i = rng.below(vocab::MALWARE_FAMILIES.len() as u64) as usize;
                        let fam = &vocab::MALWARE_FAMILIES[i];
                        (
                            fill(rng.pick::<&str>(fam.subjects), rng, &first, ""),
                            Some(i),
                        )
                    }
                    _ => {
                        let i = rng.below(vocab::BRANDS.len() as u64) as usize;
                        let brand = &vocab::BRANDS[i];
                        (
                            fill(rng.pick::<&str>(brand.subjects), rng, &first, ""),
                            Some(i),
                        )
                    }
                };
                lure = l;
                (self.threat_sender(kind, None, lure, rng), to, subject)
            }
        };
        // A small share of threats carry hostile text at random too.
        let hostile = (kind.is_threat() && rng.chance(0.003)).then(|| rng.below(16) as usize);
        let subject = self.intern(&subject);
        Draft {
            time,
            kind,
            direction,
            campaign: None,
            from,
            recipients,
            subject,
            hostile,
            lure,
        }
    }

    fn verdict(
        &mut self,
        kind: Kind,
        action: DeliveryAction,
        rng: &mut SimRng,
        threat_name: &str,
    ) -> u16 {
        let (types, names, methods, conf, email_action, policy) = match kind {
            Kind::Clean => (
                "",
                "",
                "",
                r#"{"Phish":null,"Spam":1}"#,
                "No action taken",
                "",
            ),
            Kind::Bulk if action == DeliveryAction::Junked => (
                "Spam",
                "",
                r#"{"Spam":["Bulk"]}"#,
                r#"{"Phish":null,"Spam":6}"#,
                "Move message to junk mail folder",
                "Antispam bulk mail",
            ),
            Kind::Bulk => (
                "",
                "",
                "",
                r#"{"Phish":null,"Spam":1}"#,
                "No action taken",
                "",
            ),
            Kind::Spam | Kind::CompromisedOutbound => match action {
                DeliveryAction::Blocked => (
                    "Spam",
                    "",
                    r#"{"Spam":["Mixed analysis detection"]}"#,
                    r#"{"Phish":null,"Spam":9}"#,
                    "Send to quarantine",
                    "Antispam high-confidence",
                ),
                _ => (
                    "Spam",
                    "",
                    r#"{"Spam":["Mixed analysis detection"]}"#,
                    r#"{"Phish":null,"Spam":5}"#,
                    "Move message to junk mail folder",
                    "Antispam",
                ),
            },
            Kind::Malware => (
                "Malware",
                threat_name,
                *rng.pick(&[
                    r#"{"Malware":["File detonation","Antimalware protection"]}"#,
                    r#"{"Malware":["File reputation"]}"#,
                    r#"{"Malware":["Safe Attachments"]}"#,
                ]),
                r#"{"Phish":null,"Spam":null}"#,
                if action == DeliveryAction::Delivered {
                    "No action taken"
                } else {
                    "Send to quarantine"
                },
                "Antimalware",
            ),
            Kind::Bec => (
                "Phish",
                "",
                *rng.pick(&[
                    r#"{"Phish":["Impersonation user"]}"#,
                    r#"{"Phish":["Mailbox intelligence impersonation"]}"#,
                    r#"{"Phish":["Impersonation domain","Spoof external domain"]}"#,
                ]),
                r#"{"Phish":"High","Spam":null}"#,
                if action == DeliveryAction::Delivered {
                    "No action taken"
                } else {
                    "Send to quarantine"
                },
                "Anti-phishing user impersonation",
            ),
            _ => (
                "Phish",
                "",
                *rng.pick(&[
                    r#"{"Phish":["URL malicious reputation","Advanced filter"]}"#,
                    r#"{"Phish":["URL detonation reputation"]}"#,
                    r#"{"Phish":["Impersonation brand"]}"#,
                    r#"{"Phish":["Campaign","Fingerprint matching"]}"#,
                ]),
                if action == DeliveryAction::Delivered {
                    r#"{"Phish":"Low","Spam":null}"#
                } else {
                    r#"{"Phish":"High","Spam":null}"#
                },
                match action {
                    DeliveryAction::Delivered => "No action taken",
                    DeliveryAction::Junked => "Move message to junk mail folder",
                    _ => "Send to quarantine",
                },
                "Antispam phishing",
            ),
        };
        // A threat in the inbox either slipped through with no verdict, or was
        // detected and delivered anyway because an allow override won.
        let delivered_threat = action == DeliveryAction::Delivered && kind.is_threat();
        let mut allowed_by: (&str, &str, &str, &str) = ("", "", "", "");
        let (types, names, methods, policy) = if delivered_threat && rng.chance(0.5) {
            ("", "", "", "")
        } else if delivered_threat {
            allowed_by = *rng.pick(&[
                ("Allow", "Exchange transport rule", "", ""),
                ("Allow", "Tenant Allow/Block List", "", ""),
                ("Allow", "Connection filter IP allow list", "", ""),
                ("", "", "Allow", "User safe sender list"),
            ]);
            (types, names, methods, "")
        } else {
            (types, names, methods, policy)
        };
        let policy_guid = if policy.is_empty() {
            String::new()
        } else {
            Guid(u128::from(fnv1a(policy.as_bytes())) << 64 | 0x4000_8000_0000_0000).to_string()
        };
        let v = Verdict {
            threat_types: self.intern(types),
            threat_names: self.intern(names),
            detection_methods: self.intern(methods),
            confidence: self.intern(conf),
            email_action: self.intern(email_action),
            policy: self.intern(policy),
            policy_guid: self.intern(&policy_guid),
            org_action: self.intern(if policy.is_empty() {
                allowed_by.0
            } else {
                email_action
            }),
            org_policy: self.intern(if policy.is_empty() {
                allowed_by.1
            } else {
                policy
            }),
            user_action: self.intern(allowed_by.2),
            user_policy: self.intern(allowed_by.3),
        };
        if let Some(id) = self.verdict_index.get(&v) {
            return *id;
        }
        let id = self.w.verdicts.len() as u16;
        self.w.verdicts.push(v.clone());
        self.verdict_index.insert(v, id);
        id
    }

    /// Delivery for a message of `kind`.
    fn delivery(
        &self,
        kind: Kind,
        direction: Direction,
        bcl: i32,
        rng: &mut SimRng,
    ) -> (DeliveryAction, Location) {
        use DeliveryAction as A;
        use Location as L;
        if direction == Direction::Outbound {
            return if kind == Kind::CompromisedOutbound && rng.chance(0.6) {
                (A::Blocked, L::Failed)
            } else {
                (A::Delivered, L::External)
            };
        }
        match kind {
            Kind::Clean => (A::Delivered, L::Inbox),
            Kind::Bulk if bcl >= 7 => (A::Junked, L::Junk),
            Kind::Bulk => (A::Delivered, L::Inbox),
            Kind::Spam => {
                if rng.chance(0.7) {
                    (A::Junked, L::Junk)
                } else {
                    (A::Blocked, L::Quarantine)
                }
            }
            Kind::Malware => match rng.weighted(&[85, 10, 5]) {
                0 => (A::Blocked, L::Quarantine),
                1 => (A::Delivered, L::Inbox),
                _ => (A::Replaced, L::Inbox),
            },
            _ => match rng.weighted(&[68, 24, 8]) {
                0 => (A::Blocked, L::Quarantine),
                1 => (A::Delivered, L::Inbox),
                _ => (A::Junked, L::Junk),
            },
        }
    }

    fn auth(&mut self, kind: Kind, rng: &mut SimRng) -> StrId {
        let r = match kind {
            Kind::Clean | Kind::Bulk | Kind::CompromisedOutbound => {
                ("pass", "pass", "pass", "pass")
            }
            Kind::Bec | Kind::InvoiceFraud => *rng.pick(&[
                ("pass", "pass", "pass", "pass"),
                ("pass", "none", "none", "softpass"),
                ("fail", "none", "fail", "fail"),
            ]),
            Kind::Spam => *rng.pick(&[
                ("softfail", "none", "none", "fail"),
                ("pass", "pass", "none", "pass"),
                ("fail", "fail", "fail", "fail"),
            ]),
            _ => *rng.pick(&[
                ("softfail", "none", "none", "fail"),
                ("pass", "none", "bestguesspass", "pass"),
                ("fail", "none", "fail", "fail"),
                ("neutral", "fail", "none", "fail"),
            ]),
        };
        self.intern(&format!(
            r#"{{"SPF":"{}","DKIM":"{}","DMARC":"{}","CompAuth":"{}"}}"#,
            r.0, r.1, r.2, r.3
        ))
    }

    /// Places a draft into the tables: message, recipient rows, URLs, attachments,
    /// then what happened afterwards (ZAP, remediation, clicks).
    fn materialise(&mut self, d: Draft, rng: &mut SimRng) {
        let msg_index = self.w.messages.len() as u32;
        let camp = d.campaign.map(|c| self.w.campaigns[c as usize].clone());
        let bcl = match d.kind {
            Kind::Bulk => rng.range(4, 9) as i32,
            Kind::Spam => rng.range(0, 6) as i32,
            _ => {
                if rng.chance(0.8) {
                    0
                } else {
                    rng.range(1, 3) as i32
                }
            }
        };
        let (action, original) = self.delivery(d.kind, d.direction, bcl, rng);
        let threat_name = match (&camp, d.kind) {
            (Some(c), _) => self.w.s(c.threat_name).to_string(),
            (None, Kind::Malware) => match d.lure {
                Some(i) => vocab::MALWARE_FAMILIES[i % vocab::MALWARE_FAMILIES.len()].threat_name,
                None => rng.pick(vocab::MALWARE_FAMILIES).threat_name,
            }
            .to_string(),
            _ => String::new(),
        };
        let verdict = self.verdict(d.kind, action, rng, &threat_name);
        let from_party = self.w.parties[d.from as usize].clone();
        let from_domain = self.w.s(from_party.domain).to_string();
        let ip = match (&camp, d.direction) {
            (Some(c), _) => ip_from(c.ip_prefix, rng.range(2, 250) as u8),
            (None, Direction::IntraOrg) => String::new(),
            (None, Direction::Outbound) => {
                format!("52.101.{}.{}", rng.range(0, 63), rng.range(1, 254))
            }
            (None, _) if d.kind == Kind::Clean || d.kind == Kind::Bulk => {
                let h = fnv1a(from_domain.as_bytes());
                format!(
                    "{}.{}.{}.{}",
                    20 + h % 180,
                    (h >> 8) % 256,
                    (h >> 16) % 256,
                    1 + rng.below(20)
                )
            }
            _ => format!(
                "{}.{}.{}.{}",
                rng.pick(&[5u8, 31, 45, 77, 91, 185, 194]),
                rng.below(256),
                rng.below(256),
                rng.range(1, 254)
            ),
        };
        let ip = self.intern(&ip);
        // Return path: spoofers and bulk senders use a different envelope domain.
        let mail_from = match d.kind {
            Kind::Bulk => format!("bounce-{}@mailer.{from_domain}", rng.hex(3)),
            Kind::Bec if rng.chance(0.5) => {
                format!("{}@{}", rng.hex(4), rng.pick(vocab::FREEMAIL_DOMAINS))
            }
            _ => self.w.s(from_party.address).to_string(),
        };
        let mail_from = self.intern(&mail_from);
        let cluster = match &camp {
            Some(c) => c.cluster,
            None => (fnv1a(format!("{:?}{from_domain}", d.kind).as_bytes()) >> 12) as i64,
        };
        let language = {
            let w: Vec<u32> = vocab::LANGUAGES.iter().map(|l| l.1).collect();
            let l = vocab::LANGUAGES[rng.weighted(&w)].0;
            self.intern(l)
        };
        let auth = self.auth(d.kind, rng);
        let connector = self.intern(if d.direction == Direction::Outbound && rng.chance(0.1) {
            "Outbound to partner (TLS)"
        } else {
            ""
        });

        // URLs.
        let first_url = self.w.urls.len() as u32;
        let url_count = self.add_urls(msg_index, &d, camp.as_ref(), rng);
        // Attachments.
        let first_attachment = self.w.attachments.len() as u32;
        let attachment_count = self.add_attachments(msg_index, &d, camp.as_ref(), rng);
        let size = (rng.range(3_000, 120_000)
            + self.w.attachments[first_attachment as usize..]
                .iter()
                .map(|a| u64::from(a.size))
                .sum::<u64>())
        .min(u64::from(u32::MAX)) as u32;

        let first_row = self.w.rows.len() as u32;
        for &r in &d.recipients {
            let priority_context = d.kind.is_threat()
                && self.w.is_priority_party(r)
                && action != DeliveryAction::Delivered;
            let latest_action = self.intern(action.as_str());
            self.w.rows.push(RecipientRow {
                message: msg_index,
                recipient: r,
                action,
                original,
                latest: original,
                latest_action,
                priority_context,
            });
        }
        self.w.messages.push(Message {
            time: d.time,
            id: rng.guid(),
            from: d.from,
            mail_from,
            ip,
            subject: d.subject,
            cluster,
            direction: d.direction,
            kind: d.kind,
            verdict,
            bcl,
            auth,
            size,
            language,
            connector,
            campaign: d.campaign,
            first_row,
            row_count: d.recipients.len() as u16,
            first_url,
            url_count,
            first_attachment,
            attachment_count,
        });
        if let Some(h) = d.hostile {
            let name = hostile::DISPLAY_NAMES[h % hostile::DISPLAY_NAMES.len()];
            let address = format!("alerts{h}@{from_domain}");
            let p = self.party(&address, name);
            if let Some(m) = self.w.messages.last_mut() {
                m.from = p;
            }
        }
        for row in first_row..first_row + d.recipients.len() as u32 {
            self.after_delivery(row, rng);
        }
    }

    fn add_urls(&mut self, msg: u32, d: &Draft, camp: Option<&Campaign>, rng: &mut SimRng) -> u16 {
        let mut urls: Vec<(String, bool, &str)> = Vec::new();
        match d.kind {
            Kind::Clean | Kind::Bulk if rng.chance(0.45) => {
                let domain = self.w.s(self.w.parties[d.from as usize].domain).to_string();
                // Distinct paths: EmailUrlInfo lists each URL of a message once.
                let paths = ["news", "docs/q3", "events", "support/case", "unsubscribe"];
                let first = rng.below(paths.len() as u64) as usize;
                for k in 0..rng.range(1, 3) as usize {
                    urls.push((
                        format!("https://www.{domain}/{}", paths[(first + k) % paths.len()]),
                        false,
                        "Body",
                    ));
                }
            }
            Kind::CredentialPhish | Kind::BrandPhish | Kind::InvoiceFraud | Kind::Spam => {
                let domain = match camp {
                    Some(c) if !self.w.s(c.url_domain).is_empty() => {
                        self.w.s(c.url_domain).to_string()
                    }
                    _ => format!("{}.{}", rng.hex(4), rng.pick(&["com", "net", "top"])),
                };
                let location = if rng.chance(0.12) { "QRCode" } else { "Body" };
                urls.push((
                    format!(
                        "https://{domain}/{}/?id={}",
                        rng.pick(&["owa", "auth", "login", "doc", "pay"]),
                        rng.hex(6)
                    ),
                    d.kind != Kind::Spam,
                    location,
                ));
            }
            _ => {}
        }
        if let Some(h) = d.hostile.filter(|_| d.kind.is_phish()) {
            urls.push((
                hostile::URLS[h % hostile::URLS.len()].to_string(),
                true,
                "Body",
            ));
        }
        for (u, malicious, location) in &urls {
            let host = u
                .split("://")
                .nth(1)
                .and_then(|r| r.split(['/', '?']).next())
                .unwrap_or("");
            let row = UrlRow {
                message: msg,
                url: self.w.strings.intern(u),
                domain: self.w.strings.intern(host),
                location: self.w.strings.intern(location),
                malicious: *malicious,
            };
            self.w.urls.push(row);
        }
        urls.len() as u16
    }

    fn add_attachments(
        &mut self,
        msg: u32,
        d: &Draft,
        camp: Option<&Campaign>,
        rng: &mut SimRng,
    ) -> u16 {
        let mut files: Vec<(String, String, bool)> = Vec::new();
        match d.kind {
            Kind::Malware => {
                let (name, hash) = match camp.and_then(|c| c.payload) {
                    Some((f, h)) => (self.w.s(f).to_string(), self.w.s(h).to_string()),
                    None => {
                        let fam = match d.lure {
                            Some(i) => &vocab::MALWARE_FAMILIES[i % vocab::MALWARE_FAMILIES.len()],
                            None => rng.pick(vocab::MALWARE_FAMILIES),
                        };
                        (fill(rng.pick::<&str>(fam.files), rng, "", ""), rng.hex(32))
                    }
                };
                let name = match d.hostile {
                    Some(h) => hostile::FILE_NAMES[h % hostile::FILE_NAMES.len()].to_string(),
                    None => name,
                };
                files.push((name, hash, true));
            }
            Kind::Clean if rng.chance(0.2) => {
                let name = format!(
                    "{}.{}",
                    rng.pick(&["report", "minutes", "forecast", "contract", "slides"]),
                    rng.pick(&["pdf", "docx", "xlsx", "pptx"])
                );
                files.push((name, rng.hex(32), false));
            }
            Kind::InvoiceFraud if rng.chance(0.5) => files.push((
                format!("Invoice_{}.pdf", rng.range(1000, 9999)),
                rng.hex(32),
                false,
            )),
            _ => {}
        }
        for (name, hash, malicious) in &files {
            let ext = name.rsplit_once('.').map_or("", |(_, e)| e).to_lowercase();
            let row = AttachmentRow {
                message: msg,
                file_name: self.w.strings.intern(name),
                file_type: self.w.strings.intern(&ext),
                sha256: self.w.strings.intern(hash),
                size: rng.range(20_000, 2_000_000) as u32,
                malicious: *malicious,
            };
            let a = self.w.attachments.len() as u32;
            self.w.attachments.push(row);
            let first_row = self.w.rows.len() as u32;
            for k in 0..d.recipients.len() as u32 {
                self.w.attachment_rows.push((a, first_row + k));
            }
        }
        files.len() as u16
    }

    /// ZAP, admin remediation and clicks for one recipient row.
    fn after_delivery(&mut self, row: u32, rng: &mut SimRng) {
        let now = self.w.now();
        let r = self.w.rows[row as usize].clone();
        let m = self.w.messages[r.message as usize].clone();
        if r.original != Location::Inbox || m.direction != Direction::Inbound {
            return;
        }
        let mut moved_at = i64::MAX;
        if m.kind.is_threat() {
            let zap_p = if m.kind == Kind::Malware { 0.8 } else { 0.6 };
            let t = m.time + rng.range(1, 12) as i64 * HOUR + rng.below(HOUR as u64) as i64;
            if rng.chance(zap_p) && t < now {
                let phish = m.kind.is_phish();
                self.post_delivery(
                    t,
                    row,
                    "Moved to quarantine",
                    if phish { "Phish ZAP" } else { "Malware ZAP" },
                    "SpecialAction",
                    Location::Quarantine,
                );
                moved_at = t;
            } else if m.campaign.is_some() && rng.chance(0.4) {
                let t = m.time + rng.range(12, 60) as i64 * HOUR;
                if t < now {
                    self.post_delivery(
                        t,
                        row,
                        "Soft delete",
                        "Manual remediation",
                        "AdminAction",
                        Location::DeletedItems,
                    );
                    moved_at = t;
                }
            }
        }
        // Clicks happen while the message is still in the inbox.
        let click_p = match m.kind {
            Kind::Clean => 0.04,
            Kind::Bulk => 0.02,
            k if k.is_phish() => 0.3,
            _ => 0.0,
        };
        if m.url_count == 0 || !rng.chance(click_p) {
            return;
        }
        let t = m.time + rng.range(2, 360) as i64 * MINUTE;
        if t >= now || t >= moved_at {
            return;
        }
        let url = m.first_url + rng.below(u64::from(m.url_count)) as u32;
        let malicious = self.w.urls[url as usize].malicious;
        let (action, through) = if !malicious {
            ("ClickAllowed", false)
        } else if rng.chance(0.65) {
            ("ClickBlocked", rng.chance(0.25))
        } else {
            ("ClickAllowed", false)
        };
        let ip = self.intern(&format!("198.51.100.{}", 1 + r.recipient % 250));
        let action_type = self.intern(action);
        self.w.clicks.push(ClickRow {
            time: t,
            row,
            url,
            action_type,
            clicked_through: through,
            ip,
        });
    }

    /// Admins release some quarantined copies of spam, bulk and phish (false
    /// positives, or a user's request) to the inbox, hours after delivery. Drawn from
    /// its own stream after every day is materialised, so the rest of the world does
    /// not shift.
    fn release_from_quarantine(&mut self) {
        let now = self.w.now();
        let mut rng = SimRng::new(self.w.params.seed, "quarantine-release");
        for row in 0..self.w.rows.len() as u32 {
            let r = &self.w.rows[row as usize];
            let m = &self.w.messages[r.message as usize];
            if r.original != Location::Quarantine
                || r.latest != Location::Quarantine
                || m.direction != Direction::Inbound
                || !matches!(m.kind, Kind::Bulk | Kind::Spam) && !m.kind.is_phish()
            {
                continue;
            }
            let t = m.time + rng.range(1, 48) as i64 * HOUR + rng.below(HOUR as u64) as i64;
            if rng.chance(0.04) && t < now {
                self.post_delivery(
                    t,
                    row,
                    "Released from quarantine",
                    QUARANTINE_RELEASE,
                    "AdminAction",
                    Location::Inbox,
                );
            }
        }
    }

    fn post_delivery(
        &mut self,
        t: i64,
        row: u32,
        action: &str,
        action_type: &str,
        trigger: &str,
        location: Location,
    ) {
        let e = PostDeliveryRow {
            time: t,
            row,
            action: self.intern(action),
            action_type: self.intern(action_type),
            trigger: self.intern(trigger),
            result: self.intern("Success"),
            location,
        };
        self.w.post_delivery.push(e);
        let latest_action = self.intern(action);
        let r = &mut self.w.rows[row as usize];
        r.latest = location;
        r.latest_action = latest_action;
    }
}

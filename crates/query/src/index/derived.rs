//! Campaigns for tenants without Campaign Views (Defender for Office 365 Plan 1, whose
//! `CampaignInfo` is empty): derived from the cached mail, as `CampaignInfo`-shaped
//! rows, so the campaign code ([`super::entities::CampaignIndex`], the email index's
//! campaign side table, the `campaign:` filter, the figures and the flyout) reads
//! them exactly as it reads the service's.
//!
//! A derived campaign is one mail cluster (`EmailClusterId`: Microsoft's grouping of
//! similar content) sent from one sender infrastructure (the sender's IPv4 /24),
//! with at least [`MIN_MESSAGES`] messages of which one or more was judged phish or
//! malware; such groups that share a URL domain seen in no other mail (the same
//! payload host) are one campaign. One-off threats from ever-changing senders do
//! not qualify: they are not a campaign but noise.
//!
//! Derived campaigns are marked: their `CampaignId` starts with [`DERIVED_PREFIX`]
//! and their name with `[derived]`. Advanced hunting knows nothing of them, so
//! `campaign:` on a derived id answers only locally.

use std::collections::{BTreeMap, HashMap, HashSet};

use whalewatch_cache::{Cache, CacheError, SideScan};
use whalewatch_model::email::CampaignMessage;
use whalewatch_model::time::from_ticks;

/// The `CampaignId` prefix of a derived campaign.
pub const DERIVED_PREFIX: &str = "derived-";

/// The fewest messages a derived campaign has.
pub const MIN_MESSAGES: usize = 5;

/// Whether campaign `id` was derived locally (not from `CampaignInfo`).
pub fn is_derived(id: &str) -> bool {
    id.starts_with(DERIVED_PREFIX)
}

/// The campaign rows the campaign code reads: the cached `CampaignInfo` rows when
/// there are any, else the campaigns derived from the mail.
pub fn campaign_messages(cache: &Cache) -> Result<Vec<CampaignMessage>, CacheError> {
    let cached = cache.campaign_messages()?;
    if !cached.is_empty() {
        return Ok(cached);
    }
    derive(cache)
}

/// One message, as the derivation needs it.
struct Message {
    id: String,
    /// (cluster, sender /24) when both are known.
    group: Option<(i64, String)>,
    sender_domain: String,
    threat_types: String,
    threat_names: String,
    /// (recipient, time in ticks) per row.
    rows: Vec<(String, i64)>,
}

/// The first three octets of an IPv4 address (`203.0.113`), if it is one.
fn slash24(ip: &str) -> Option<String> {
    let (net, last) = ip.rsplit_once('.')?;
    (net.split('.').count() == 3 && last.parse::<u8>().is_ok()).then(|| net.to_string())
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The most frequent non-empty value (ties: the smallest), or "".
fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values.filter(|v| !v.is_empty()) {
        *n.entry(v).or_default() += 1;
    }
    let mut best: Option<(&str, usize)> = None;
    for (v, c) in n {
        if best.is_none_or(|(_, b)| c > b) {
            best = Some((v, c));
        }
    }
    best.map_or(String::new(), |(v, _)| v.to_string())
}

/// Campaigns derived from the cached mail (see the module docs), as `CampaignInfo`
/// rows: one per message × recipient.
pub fn derive(cache: &Cache) -> Result<Vec<CampaignMessage>, CacheError> {
    const COLUMNS: [&str; 8] = [
        "NetworkMessageId",
        "RecipientEmailAddress",
        "Timestamp",
        "EmailClusterId",
        "SenderIPv4",
        "SenderFromDomain",
        "ThreatTypes",
        "ThreatNames",
    ];
    let mut messages: Vec<Message> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    cache.scan_email_columns::<CacheError>(&COLUMNS, |_, r| {
        let Some(id) = r.text(0)? else {
            return Ok(());
        };
        let text = |k: usize| -> Result<String, CacheError> {
            Ok(r.text(k)?.map(|t| t.into_owned()).unwrap_or_default())
        };
        let m = match by_id.get(id.as_ref()) {
            Some(&m) => m,
            None => {
                let group = match (r.int(3)?, slash24(&text(4)?)) {
                    (Some(cluster), Some(net)) => Some((cluster, net)),
                    _ => None,
                };
                messages.push(Message {
                    id: id.to_string(),
                    group,
                    sender_domain: text(5)?,
                    threat_types: text(6)?,
                    threat_names: text(7)?,
                    rows: Vec::new(),
                });
                by_id.insert(id.into_owned(), messages.len() - 1);
                messages.len() - 1
            }
        };
        let time = r.int(2)?.unwrap_or(0);
        messages[m].rows.push((text(1)?, time));
        Ok(())
    })?;

    // Groups of one cluster and one sender /24.
    let mut groups: BTreeMap<(i64, String), Vec<usize>> = BTreeMap::new();
    for (i, m) in messages.iter().enumerate() {
        if let Some(g) = &m.group {
            groups.entry(g.clone()).or_default().push(i);
        }
    }
    let threat =
        |m: &Message| m.threat_types.contains("Phish") || m.threat_types.contains("Malware");
    let qualifying: Vec<((i64, String), Vec<usize>)> = groups
        .into_iter()
        .filter(|(_, ms)| ms.len() >= MIN_MESSAGES && ms.iter().any(|&m| threat(&messages[m])))
        .collect();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for (g, (_, ms)) in qualifying.iter().enumerate() {
        for &m in ms {
            group_of.insert(m, g);
        }
    }

    // Groups sharing a URL domain no other mail uses are one campaign.
    let mut domain_groups: HashMap<String, HashSet<usize>> = HashMap::new();
    let mut shared: HashSet<String> = HashSet::new();
    cache.scan_side::<CacheError>(SideScan::Urls, |r| {
        let (Some(id), Some(domain)) = (r.text(0)?, r.text(2)?) else {
            return Ok(());
        };
        let domain = domain.to_ascii_lowercase();
        match by_id.get(id.as_ref()).and_then(|m| group_of.get(m)) {
            Some(&g) => {
                domain_groups.entry(domain).or_default().insert(g);
            }
            None => {
                shared.insert(domain);
            }
        }
        Ok(())
    })?;
    let mut parent: Vec<usize> = (0..qualifying.len()).collect();
    for (domain, gs) in &domain_groups {
        if shared.contains(domain) {
            continue;
        }
        let mut it = gs.iter().copied();
        if let Some(first) = it.next() {
            for g in it {
                let (a, b) = (find(&mut parent, first), find(&mut parent, g));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut campaigns: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for g in 0..qualifying.len() {
        let root = find(&mut parent, g);
        campaigns.entry(root).or_default().push(g);
    }

    let mut out = Vec::new();
    for (root, gs) in campaigns {
        let members: Vec<&Message> = gs
            .iter()
            .flat_map(|&g| qualifying[g].1.iter().map(|&m| &messages[m]))
            .collect();
        let malware = members
            .iter()
            .filter(|m| m.threat_types.contains("Malware"))
            .count();
        let phish = members
            .iter()
            .filter(|m| m.threat_types.contains("Phish"))
            .count();
        let kind = if malware > phish { "Malware" } else { "Phish" };
        let subtype = if kind == "Malware" {
            most_common(members.iter().map(|m| m.threat_names.as_str()))
        } else {
            String::new()
        };
        let ((cluster, net), _) = &qualifying[root];
        let sender = most_common(members.iter().map(|m| m.sender_domain.as_str()));
        let name = format!("[derived] {kind} from {sender} ({net}.0/24)");
        let id = format!("{DERIVED_PREFIX}{cluster}-{net}");
        for m in members {
            for (recipient, time) in &m.rows {
                out.push(CampaignMessage {
                    timestamp: from_ticks(*time),
                    campaign_name: name.clone(),
                    campaign_id: id.clone(),
                    campaign_type: kind.to_string(),
                    campaign_subtype: subtype.clone(),
                    network_message_id: m.id.clone(),
                    recipient_email_address: recipient.clone(),
                    report_id: String::new(),
                });
            }
        }
    }
    // Newest first, as the cache returns `CampaignInfo`.
    out.sort_by_key(|m| std::cmp::Reverse(m.timestamp));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash24_takes_ipv4_networks_only() {
        assert_eq!(slash24("203.0.113.7").as_deref(), Some("203.0.113"));
        assert_eq!(slash24("2001:db8::1"), None);
        assert_eq!(slash24(""), None);
        assert_eq!(slash24("a.b.c.d"), None);
    }

    #[test]
    fn a_derived_campaign_is_refused_remotely_with_the_reason() {
        let tags = crate::index::TagTable::from_pairs(Vec::new());
        let now = chrono::Utc::now();
        let f = crate::lang::parse(crate::lang::Entity::Emails, "campaign:derived-42-203.0.113")
            .unwrap();
        let err = crate::kql::compile(crate::lang::Entity::Emails, &f, &tags, now)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("only in the cache"), "{err}");
        let f = crate::lang::parse(crate::lang::Entity::Emails, "campaign:phish").unwrap();
        assert!(crate::kql::compile(crate::lang::Entity::Emails, &f, &tags, now).is_ok());
    }

    #[test]
    fn most_common_skips_empty_values() {
        let v = ["", "", "", "Qakbot", "Emotet", "Qakbot"];
        assert_eq!(most_common(v.iter().copied()), "Qakbot");
        assert_eq!(most_common(["", ""].iter().copied()), "");
    }
}

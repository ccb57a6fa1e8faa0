//! `whalewatch query`: what the cache holds, as a table, JSON, JSON lines or CSV.

use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};

use super::context::ProfileArgs;
use super::output::{self, Format, Records};
use crate::cache::Cache;
use crate::config::PRIORITY_ACCOUNT;
use crate::model::email::{CampaignMessage, EmailEvent};
use crate::model::time::format_datetime;

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Entity {
    Emails,
    Alerts,
    Incidents,
    Campaigns,
    Users,
    Tags,
}

/// `query` options.
#[derive(Debug, Clone, clap::Args)]
pub struct QueryArgs {
    /// What to list.
    pub entity: Entity,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print at most N records (newest first).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print only the number of records.
    #[arg(long)]
    pub count: bool,
    /// Only records that involve a member of this tag (recipient, affected user, targeted recipient).
    #[arg(long)]
    pub tag: Option<String>,
    /// Only records that involve a priority account (the built-in tag).
    #[arg(long)]
    pub priority: bool,
}

pub fn run(p: &ProfileArgs, args: &QueryArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    let cache = ctx.read_cache()?;
    let tag = if args.priority {
        Some(PRIORITY_ACCOUNT.to_string())
    } else {
        args.tag.clone()
    };
    let members: Option<HashSet<String>> = match &tag {
        Some(t) => {
            let known = cache.tags()?;
            if !known.iter().any(|k| k.eq_ignore_ascii_case(t)) {
                anyhow::bail!(
                    "no tag `{t}` in profile `{}`; tags: {}",
                    ctx.name,
                    known.join(", ")
                );
            }
            Some(cache.tag_addresses(t)?.into_iter().collect())
        }
        None => None,
    };
    let mut records = match args.entity {
        Entity::Emails => emails(&cache, members.as_ref())?,
        Entity::Alerts => alerts(&cache, members.as_ref())?,
        Entity::Incidents => incidents(&cache)?,
        Entity::Campaigns => campaigns(&cache, members.as_ref())?,
        Entity::Users => users(&cache, members.as_ref())?,
        Entity::Tags => tags(&cache)?,
    };
    if args.count {
        println!("{}", records.raw.len());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(n) = args.limit {
        records.rows.truncate(n);
        records.raw.truncate(n);
    }
    output::print(&records, args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn involved(members: Option<&HashSet<String>>, address: &str) -> bool {
    members.is_none_or(|m| m.contains(&address.to_lowercase()))
}

fn emails(cache: &Cache, members: Option<&HashSet<String>>) -> Result<Records> {
    let rows: Vec<EmailEvent> = cache.rows(None, &[], None)?;
    let mut out = Records {
        columns: vec![
            "Date",
            "Recipient",
            "Sender",
            "Subject",
            "Threat",
            "Delivery",
            "Latest location",
        ],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for e in rows
        .into_iter()
        .filter(|e| involved(members, &e.recipient_email_address))
    {
        out.rows.push(vec![
            format_datetime(&e.timestamp),
            e.recipient_email_address.clone(),
            e.sender_from_address.clone(),
            e.subject.clone(),
            e.threat_types.clone(),
            e.delivery_action
                .as_ref()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            e.latest_delivery_location
                .as_ref()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
        ]);
        out.raw.push(serde_json::to_value(&e)?);
    }
    Ok(out)
}

fn opt(v: Option<&impl ToString>) -> String {
    v.map(ToString::to_string).unwrap_or_default()
}

fn alerts(cache: &Cache, members: Option<&HashSet<String>>) -> Result<Records> {
    let mut out = Records {
        columns: vec![
            "Created",
            "Severity",
            "Status",
            "Title",
            "Assigned to",
            "Id",
        ],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for row in cache.alerts()? {
        let a = row.alert;
        if let Some(m) = members {
            let hit = a
                .evidence
                .iter()
                .map(crate::cache::EvidenceRef::of)
                .any(|e| {
                    e.recipient
                        .iter()
                        .chain(e.account_upn.iter())
                        .any(|addr| m.contains(&addr.to_lowercase()))
                });
            if !hit {
                continue;
            }
        }
        out.rows.push(vec![
            a.created_date_time
                .as_ref()
                .map(format_datetime)
                .unwrap_or_default(),
            opt(a.severity.as_ref()),
            opt(a.status.as_ref()),
            a.title.clone(),
            a.assigned_to.clone().unwrap_or_default(),
            a.id.clone(),
        ]);
        out.raw.push(a.raw.clone());
    }
    Ok(out)
}

fn incidents(cache: &Cache) -> Result<Records> {
    let mut out = Records {
        columns: vec!["Updated", "Severity", "Status", "Name", "Id"],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for i in cache.incidents()? {
        out.rows.push(vec![
            i.last_update_date_time
                .as_ref()
                .map(format_datetime)
                .unwrap_or_default(),
            opt(i.severity.as_ref()),
            opt(i.status.as_ref()),
            i.display_name.clone(),
            i.id.clone(),
        ]);
        out.raw.push(i.raw.clone());
    }
    Ok(out)
}

#[derive(Default)]
struct CampaignAgg {
    name: String,
    kind: String,
    subtype: String,
    messages: HashSet<String>,
    recipients: HashSet<String>,
    first: Option<chrono::DateTime<chrono::Utc>>,
    last: Option<chrono::DateTime<chrono::Utc>>,
}

fn campaigns(cache: &Cache, members: Option<&HashSet<String>>) -> Result<Records> {
    let rows: Vec<CampaignMessage> = cache.rows(None, &[], None)?;
    let mut by_id: BTreeMap<String, CampaignAgg> = BTreeMap::new();
    for r in &rows {
        let agg = by_id.entry(r.campaign_id.clone()).or_default();
        agg.name = r.campaign_name.clone();
        agg.kind = r.campaign_type.clone();
        agg.subtype = r.campaign_subtype.clone();
        agg.messages.insert(r.network_message_id.clone());
        agg.recipients
            .insert(r.recipient_email_address.to_lowercase());
        agg.first = agg.first.min(Some(r.timestamp)).or(Some(r.timestamp));
        agg.last = agg.last.max(Some(r.timestamp));
    }
    let mut list: Vec<(String, CampaignAgg)> = by_id
        .into_iter()
        .filter(|(_, a)| members.is_none_or(|m| a.recipients.iter().any(|r| m.contains(r))))
        .collect();
    list.sort_by(|a, b| b.1.last.cmp(&a.1.last).then(a.0.cmp(&b.0)));
    let mut out = Records {
        columns: vec![
            "Name",
            "Type",
            "Subtype",
            "Messages",
            "Recipients",
            "First seen",
            "Last seen",
            "Id",
        ],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for (id, a) in list {
        let first = a.first.as_ref().map(format_datetime).unwrap_or_default();
        let last = a.last.as_ref().map(format_datetime).unwrap_or_default();
        out.rows.push(vec![
            a.name.clone(),
            a.kind.clone(),
            a.subtype.clone(),
            a.messages.len().to_string(),
            a.recipients.len().to_string(),
            first.clone(),
            last.clone(),
            id.clone(),
        ]);
        out.raw.push(json!({
            "CampaignId": id, "CampaignName": a.name, "CampaignType": a.kind, "CampaignSubtype": a.subtype,
            "Messages": a.messages.len(), "Recipients": a.recipients.len(), "FirstSeen": first, "LastSeen": last,
        }));
    }
    Ok(out)
}

fn users(cache: &Cache, members: Option<&HashSet<String>>) -> Result<Records> {
    let tag_members = cache.tag_members()?;
    let mut out = Records {
        columns: vec!["User", "Name", "Department", "Job title", "Tags"],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for u in cache.users()? {
        let Some(addr) = crate::sync::address_of(&u) else {
            continue;
        };
        if !involved(members, &addr) {
            continue;
        }
        let mut tags: Vec<&str> = tag_members
            .iter()
            .filter(|m| m.address == addr)
            .map(|m| m.tag.as_str())
            .collect();
        tags.dedup();
        out.rows.push(vec![
            addr.clone(),
            opt(u.display_name.as_ref()),
            opt(u.department.as_ref()),
            opt(u.job_title.as_ref()),
            tags.join(", "),
        ]);
        let mut v = serde_json::to_value(&u)?;
        v["tags"] = json!(tags);
        out.raw.push(v);
    }
    Ok(out)
}

fn tags(cache: &Cache) -> Result<Records> {
    let members = cache.tag_members()?;
    let mut out = Records {
        columns: vec!["Tag", "Members", "Sources"],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for tag in cache.tags()? {
        let mine: Vec<_> = members.iter().filter(|m| m.tag == tag).collect();
        let addresses: HashSet<&str> = mine.iter().map(|m| m.address.as_str()).collect();
        let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
        for m in &mine {
            *sources.entry(m.source.as_str()).or_default() += 1;
        }
        let summary: Vec<String> = sources.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        out.rows.push(vec![
            tag.clone(),
            addresses.len().to_string(),
            summary.join(", "),
        ]);
        out.raw.push(json!({
            "tag": tag,
            "members": addresses.len(),
            "memberships": mine.iter().map(|m| json!({"address": m.address, "source": m.source.as_str(), "detail": m.detail})).collect::<Vec<Value>>(),
        }));
    }
    Ok(out)
}

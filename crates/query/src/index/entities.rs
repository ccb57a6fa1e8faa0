//! Alerts, incidents, campaigns and users: small collections held as plain vectors,
//! with the same filter semantics as their advanced-hunting tables (see
//! [`crate::lang::fields`], "Other entities"). A filter is compiled once into
//! a tree of predicates (patterns prepared, tags resolved), then run per item.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::IndexError;
use super::eval::tick_bounds;
use super::tags::TagTable;
use super::text::{self, Pattern, fold};
use crate::lang::ast::{CmpOp, Expr, Filter, Term};
use crate::lang::fields::Field;
use whalewatch_cache::{Cache, EvidenceRef};
use whalewatch_config::PRIORITY_ACCOUNT;
use whalewatch_model::alert::{Alert, Incident};
use whalewatch_model::directory::User;
use whalewatch_model::email::CampaignMessage;
use whalewatch_model::hunting::to_ticks;

type Leaf<T> = Box<dyn Fn(&T) -> bool + Send + Sync>;

/// A compiled filter over items of type `T`.
pub enum Node<T> {
    /// All of.
    And(Vec<Node<T>>),
    /// Any of.
    Or(Vec<Node<T>>),
    /// Not.
    Not(Box<Node<T>>),
    /// One term.
    Leaf(Leaf<T>),
}

impl<T> Node<T> {
    /// Whether `item` matches.
    pub fn test(&self, item: &T) -> bool {
        match self {
            Node::And(k) => k.iter().all(|n| n.test(item)),
            Node::Or(k) => k.iter().any(|n| n.test(item)),
            Node::Not(n) => !n.test(item),
            Node::Leaf(f) => f(item),
        }
    }
}

fn compile<T>(
    filter: &Filter,
    leaf: &mut dyn FnMut(&Term) -> Result<Leaf<T>, IndexError>,
) -> Result<Node<T>, IndexError> {
    fn go<T>(
        e: &Expr,
        leaf: &mut dyn FnMut(&Term) -> Result<Leaf<T>, IndexError>,
    ) -> Result<Node<T>, IndexError> {
        Ok(match e {
            Expr::And(k) => Node::And(k.iter().map(|x| go(x, leaf)).collect::<Result<_, _>>()?),
            Expr::Or(k) => Node::Or(k.iter().map(|x| go(x, leaf)).collect::<Result<_, _>>()?),
            Expr::Not(x) => Node::Not(Box::new(go(x, leaf)?)),
            Expr::Term(t) => Node::Leaf(leaf(t)?),
        })
    }
    match &filter.root {
        None => Ok(Node::And(Vec::new())),
        Some(e) => go(e, leaf),
    }
}

fn exact(values: &[String]) -> Vec<Pattern> {
    values.iter().map(|v| Pattern::exact(v)).collect()
}

fn contains(values: &[String]) -> Vec<Pattern> {
    values.iter().map(|v| Pattern::contains(v)).collect()
}

fn eq_any(v: Option<&str>, values: &[String]) -> bool {
    v.is_some_and(|v| values.iter().any(|x| text::eq_ci(v, x)))
}

/// The folded member addresses of the tags a `tag:`/`is:` term names.
fn members(
    tags: &TagTable,
    field: Field,
    values: &[String],
) -> Result<HashSet<String>, IndexError> {
    let names: Vec<String> = if field == Field::Is {
        vec![PRIORITY_ACCOUNT.to_string()]
    } else {
        values.to_vec()
    };
    let mut out = HashSet::new();
    for n in &names {
        out.extend(tags.resolve(n)?.iter().cloned());
    }
    Ok(out)
}

fn in_time(t: Option<i64>, term: &crate::lang::ast::TimeFilter, now: DateTime<Utc>) -> bool {
    let (from, to) = tick_bounds(term, now);
    t.is_some_and(|t| t >= from && t < to)
}

/// One cached alert with what its filters need.
#[derive(Debug, Clone)]
pub struct AlertItem {
    /// The parsed alert (its `raw` JSON is the export).
    pub alert: Alert,
    /// Affected accounts: user and mailbox evidence, and message recipients (folded).
    pub accounts: Vec<String>,
    /// `NetworkMessageId`s of its message evidence.
    pub messages: Vec<String>,
    /// Creation time in ticks.
    pub created: Option<i64>,
}

/// Alerts held in memory.
#[derive(Debug, Clone, Default)]
pub struct AlertIndex {
    /// Alerts, most recently updated first.
    pub items: Vec<AlertItem>,
}

impl AlertIndex {
    /// Reads the cached alerts, each with its JSON (the CLI's exports).
    pub fn load(cache: &Cache) -> Result<AlertIndex, IndexError> {
        Ok(Self::of_rows(cache.alerts_newest(None)?))
    }

    /// The `limit` most recently updated alerts (all when `None`), without the JSON
    /// each was parsed from ([`Alert::raw`] is null; [`Cache::alerts_newest_parsed`]).
    /// As a tree of values it was ~150 bytes per mail row at a million rows; a
    /// long-lived reader (the console) keeps the parsed fields and reads the JSON
    /// back from the cache when it exports.
    pub fn load_parsed(cache: &Cache, limit: Option<usize>) -> Result<AlertIndex, IndexError> {
        Ok(Self::of_rows(cache.alerts_newest_parsed(limit)?))
    }

    fn of_rows(rows: Vec<whalewatch_cache::AlertRow>) -> AlertIndex {
        let items = rows
            .into_iter()
            .map(|row| {
                let a = row.alert;
                let refs: Vec<EvidenceRef> = a.evidence.iter().map(EvidenceRef::of).collect();
                let mut accounts: Vec<String> = refs
                    .iter()
                    .flat_map(|e| e.account_upn.iter().chain(e.recipient.iter()))
                    .map(|x| fold(x).into_owned())
                    .collect();
                accounts.sort();
                accounts.dedup();
                let mut messages: Vec<String> = refs
                    .iter()
                    .filter_map(|e| e.network_message_id.clone())
                    .collect();
                messages.sort();
                messages.dedup();
                AlertItem {
                    created: a.created_date_time.as_ref().map(to_ticks),
                    alert: a,
                    accounts,
                    messages,
                }
            })
            .collect();
        AlertIndex { items }
    }

    /// Positions of the alerts `filter` selects.
    pub fn eval(
        &self,
        filter: &Filter,
        tags: &TagTable,
        now: DateTime<Utc>,
    ) -> Result<Vec<usize>, IndexError> {
        let node = compile::<AlertItem>(filter, &mut |t| alert_leaf(t, tags, now))?;
        Ok((0..self.items.len())
            .filter(|&i| node.test(&self.items[i]))
            .collect())
    }

    /// Positions of the alerts with these ids.
    pub fn with_ids(&self, ids: &[String]) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| ids.contains(&self.items[i].alert.id))
            .collect()
    }
}

fn alert_leaf(
    t: &Term,
    tags: &TagTable,
    now: DateTime<Utc>,
) -> Result<Leaf<AlertItem>, IndexError> {
    let (field, values) = match t {
        Term::Text(w) => {
            let p = Pattern::contains(w);
            return Ok(Box::new(move |a: &AlertItem| p.test(&a.alert.title)));
        }
        Term::Time(f) => {
            let f = f.clone();
            return Ok(Box::new(move |a: &AlertItem| in_time(a.created, &f, now)));
        }
        Term::Number { op, values, .. } => {
            let (op, values) = (*op, values.clone());
            return Ok(Box::new(move |a: &AlertItem| {
                let Some(id) = a
                    .alert
                    .incident_id
                    .as_deref()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                else {
                    return false;
                };
                match op {
                    CmpOp::Eq => values.contains(&id),
                    op => op.holds(id, values.first().copied().unwrap_or(0)),
                }
            }));
        }
        Term::Match { field, values } => (*field, values.clone()),
    };
    Ok(match field {
        Field::Severity => {
            Box::new(move |a| eq_any(a.alert.severity.as_ref().map(|s| s.as_str()), &values))
        }
        Field::AlertStatus => {
            Box::new(move |a| eq_any(a.alert.status.as_ref().map(|s| s.as_str()), &values))
        }
        Field::Classification => {
            Box::new(move |a| eq_any(a.alert.classification.as_ref().map(|s| s.as_str()), &values))
        }
        Field::Determination => {
            Box::new(move |a| eq_any(a.alert.determination.as_ref().map(|s| s.as_str()), &values))
        }
        Field::Source => {
            Box::new(move |a| eq_any(a.alert.service_source.as_ref().map(|s| s.as_str()), &values))
        }
        Field::Category => {
            let p = exact(&values);
            Box::new(move |a| text::any(&p, a.alert.category.as_deref().unwrap_or("")))
        }
        Field::Title => {
            let p = contains(&values);
            Box::new(move |a| text::any(&p, &a.alert.title))
        }
        Field::Assigned => {
            let p = exact(&values);
            Box::new(move |a| text::any(&p, a.alert.assigned_to.as_deref().unwrap_or("")))
        }
        Field::User => {
            let p = exact(&values);
            Box::new(move |a| a.accounts.iter().any(|x| text::any(&p, x)))
        }
        Field::Tag | Field::Is => {
            let m = members(tags, field, &values)?;
            Box::new(move |a| a.accounts.iter().any(|x| m.contains(x)))
        }
        _ => Box::new(|_| false),
    })
}

/// One cached incident with what its filters and its rows need.
#[derive(Debug, Clone)]
pub struct IncidentItem {
    /// The incident, with the analyst's unconfirmed writes applied.
    pub incident: Incident,
    /// Ids of its cached alerts, most recently updated first.
    pub alerts: Vec<String>,
    /// Accounts its alerts affect (folded, sorted).
    pub accounts: Vec<String>,
}

/// The columns of an incident row: the console's Incidents pane and `whalewatch query
/// incidents` print the same cells from [`IncidentItem::cell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum IncidentColumn {
    Severity,
    Status,
    Title,
    Alerts,
    Users,
    Tags,
    Assigned,
    Classification,
    LastUpdate,
    Id,
}

impl IncidentColumn {
    /// Every column, in display order.
    pub const ALL: [IncidentColumn; 10] = [
        IncidentColumn::Severity,
        IncidentColumn::Status,
        IncidentColumn::Title,
        IncidentColumn::Alerts,
        IncidentColumn::Users,
        IncidentColumn::Tags,
        IncidentColumn::Assigned,
        IncidentColumn::Classification,
        IncidentColumn::LastUpdate,
        IncidentColumn::Id,
    ];

    /// The column's title.
    pub fn title(self) -> &'static str {
        match self {
            IncidentColumn::Severity => "Severity",
            IncidentColumn::Status => "Status",
            IncidentColumn::Title => "Title",
            IncidentColumn::Alerts => "Alerts",
            IncidentColumn::Users => "Users",
            IncidentColumn::Tags => "Tags",
            IncidentColumn::Assigned => "Assigned to",
            IncidentColumn::Classification => "Classification",
            IncidentColumn::LastUpdate => "Last update",
            IncidentColumn::Id => "Id",
        }
    }
}

/// How a priority account is marked in an incident's Users cell (not by colour alone).
pub const PRIORITY_MARK: &str = "★";

impl IncidentItem {
    /// The raw text of one cell. Users: priority accounts first, marked with
    /// [`PRIORITY_MARK`]; Classification: `classification · determination`.
    pub fn cell(&self, col: IncidentColumn, tags: &TagTable) -> String {
        let i = &self.incident;
        let s = |v: Option<&str>| v.unwrap_or("").to_string();
        match col {
            IncidentColumn::Severity => s(i.severity.as_ref().map(|x| x.as_str())),
            IncidentColumn::Status => s(i.status.as_ref().map(|x| x.as_str())),
            IncidentColumn::Title => i.display_name.clone(),
            IncidentColumn::Alerts => self.alerts.len().to_string(),
            IncidentColumn::Users => {
                let prio = |a: &String| {
                    tags.tags_of(a)
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(PRIORITY_ACCOUNT))
                };
                let mut users: Vec<(bool, &String)> =
                    self.accounts.iter().map(|a| (!prio(a), a)).collect();
                users.sort();
                users
                    .into_iter()
                    .map(|(other, a)| {
                        if other {
                            a.clone()
                        } else {
                            format!("{PRIORITY_MARK} {a}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            IncidentColumn::Tags => {
                let mut out: Vec<&str> = Vec::new();
                for name in tags.names() {
                    if self
                        .accounts
                        .iter()
                        .any(|a| tags.tags_of(a).contains(&name))
                    {
                        out.push(name);
                    }
                }
                out.join(", ")
            }
            IncidentColumn::Assigned => s(i.assigned_to.as_deref()),
            IncidentColumn::Classification => {
                let c = i.classification.as_ref().map(|x| x.as_str());
                let d = i.determination.as_ref().map(|x| x.as_str());
                match (c, d) {
                    (Some(c), Some(d)) if d != "unknown" => format!("{c} · {d}"),
                    (c, _) => s(c),
                }
            }
            IncidentColumn::LastUpdate => i
                .last_update_date_time
                .as_ref()
                .map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            IncidentColumn::Id => i.id.clone(),
        }
    }
}

/// Incidents held in memory (local only: advanced hunting has no incidents table).
#[derive(Debug, Clone, Default)]
pub struct IncidentIndex {
    /// Incidents, most recently updated first.
    pub items: Vec<IncidentItem>,
}

impl IncidentIndex {
    /// Reads the cached incidents; their alerts and affected accounts come from
    /// `alerts` (the incidents are listed without them).
    pub fn load(cache: &Cache, alerts: &AlertIndex) -> Result<IncidentIndex, IndexError> {
        Ok(IncidentIndex::of(cache.incidents()?, alerts))
    }

    /// These incidents without the JSON each was parsed from (as
    /// [`AlertIndex::load_parsed`]).
    pub fn without_raw(mut self) -> IncidentIndex {
        for i in &mut self.items {
            i.incident.raw = serde_json::Value::Null;
        }
        self
    }

    /// Joins incidents to their alerts.
    pub fn of(incidents: Vec<Incident>, alerts: &AlertIndex) -> IncidentIndex {
        let mut by_incident: BTreeMap<&str, Vec<&AlertItem>> = BTreeMap::new();
        for a in &alerts.items {
            if let Some(id) = a.alert.incident_id.as_deref() {
                by_incident.entry(id.trim()).or_default().push(a);
            }
        }
        let items = incidents
            .into_iter()
            .map(|incident| {
                let members = by_incident
                    .get(incident.id.trim())
                    .map_or(&[][..], Vec::as_slice);
                let mut accounts: Vec<String> = members
                    .iter()
                    .flat_map(|a| a.accounts.iter().cloned())
                    .collect();
                accounts.sort();
                accounts.dedup();
                IncidentItem {
                    alerts: members.iter().map(|a| a.alert.id.clone()).collect(),
                    accounts,
                    incident,
                }
            })
            .collect();
        IncidentIndex { items }
    }

    /// Positions of the incidents `filter` selects.
    pub fn eval(
        &self,
        filter: &Filter,
        tags: &TagTable,
        now: DateTime<Utc>,
    ) -> Result<Vec<usize>, IndexError> {
        let node = compile::<IncidentItem>(filter, &mut |t| {
            let (field, values) = match t {
                Term::Text(w) => {
                    let p = Pattern::contains(w);
                    return Ok(Box::new(move |i: &IncidentItem| {
                        p.test(&i.incident.display_name)
                    }));
                }
                Term::Time(f) => {
                    let f = f.clone();
                    return Ok(Box::new(move |i: &IncidentItem| {
                        in_time(i.incident.created_date_time.as_ref().map(to_ticks), &f, now)
                    }));
                }
                Term::Number { .. } => return Ok(Box::new(|_| false)),
                Term::Match { field, values } => (*field, values.clone()),
            };
            Ok(match field {
                Field::Severity => Box::new(move |i: &IncidentItem| {
                    eq_any(i.incident.severity.as_ref().map(|s| s.as_str()), &values)
                }),
                Field::IncidentStatus => Box::new(move |i: &IncidentItem| {
                    eq_any(i.incident.status.as_ref().map(|s| s.as_str()), &values)
                }),
                Field::Classification => Box::new(move |i: &IncidentItem| {
                    eq_any(
                        i.incident.classification.as_ref().map(|s| s.as_str()),
                        &values,
                    )
                }),
                Field::Determination => Box::new(move |i: &IncidentItem| {
                    eq_any(
                        i.incident.determination.as_ref().map(|s| s.as_str()),
                        &values,
                    )
                }),
                Field::Title => {
                    let p = contains(&values);
                    Box::new(move |i: &IncidentItem| text::any(&p, &i.incident.display_name))
                }
                Field::Assigned => {
                    let p = exact(&values);
                    Box::new(move |i: &IncidentItem| {
                        text::any(&p, i.incident.assigned_to.as_deref().unwrap_or(""))
                    })
                }
                Field::User => {
                    let p = exact(&values);
                    Box::new(move |i: &IncidentItem| i.accounts.iter().any(|x| text::any(&p, x)))
                }
                Field::Tag | Field::Is => {
                    let m = members(tags, field, &values)?;
                    Box::new(move |i: &IncidentItem| i.accounts.iter().any(|x| m.contains(x)))
                }
                _ => Box::new(|_| false),
            })
        })?;
        Ok((0..self.items.len())
            .filter(|&i| node.test(&self.items[i]))
            .collect())
    }
}

/// One `CampaignInfo` row (message × recipient), the unit campaign filters test.
#[derive(Debug, Clone)]
pub struct CampaignRow {
    /// Position of its campaign in [`CampaignIndex::campaigns`].
    pub campaign: usize,
    /// `Timestamp` in ticks.
    pub time: i64,
    /// `NetworkMessageId`.
    pub message: String,
    /// Folded recipient address.
    pub recipient: String,
}

/// A campaign, aggregated from its rows. Its figures (messages, recipients, clicks)
/// are [`crate::index::figures`], counted over the email rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// `CampaignId`.
    pub id: String,
    /// `CampaignName`.
    pub name: String,
    /// `CampaignType`.
    pub kind: String,
    /// `CampaignSubtype`.
    pub subtype: String,
    /// First and last `Timestamp` (ticks).
    pub first: i64,
    /// Last `Timestamp` (ticks).
    pub last: i64,
    /// Derived locally from the mail (a tenant without Campaign Views), not read
    /// from `CampaignInfo` (see [`super::derived`]).
    pub derived: bool,
}

impl Campaign {
    /// The campaign as JSON for exports (without figures: see [`crate::index::figures`]).
    pub fn to_json(&self) -> Value {
        let t = |x: i64| {
            whalewatch_model::time::format_datetime(&whalewatch_model::hunting::from_ticks(x))
        };
        json!({
            "CampaignId": self.id, "CampaignName": self.name, "CampaignType": self.kind,
            "CampaignSubtype": self.subtype,
            "FirstSeen": t(self.first), "LastSeen": t(self.last), "Derived": self.derived,
        })
    }
}

/// Campaigns held in memory, with their rows.
#[derive(Debug, Clone, Default)]
pub struct CampaignIndex {
    /// Campaigns, most recent last-seen first.
    pub campaigns: Vec<Campaign>,
    /// Every `CampaignInfo` row.
    pub rows: Vec<CampaignRow>,
}

impl CampaignIndex {
    /// Reads the cached campaign rows (derived from the mail when `CampaignInfo` is
    /// empty: [`super::derived`]).
    pub fn load(cache: &Cache) -> Result<CampaignIndex, IndexError> {
        let raw: Vec<CampaignMessage> = super::derived::campaign_messages(cache)?;
        let mut by: BTreeMap<String, Campaign> = BTreeMap::new();
        for r in &raw {
            let t = to_ticks(&r.timestamp);
            let e = by.entry(r.campaign_id.clone()).or_insert_with(|| Campaign {
                id: r.campaign_id.clone(),
                name: r.campaign_name.clone(),
                kind: r.campaign_type.clone(),
                subtype: r.campaign_subtype.clone(),
                first: t,
                last: t,
                derived: super::derived::is_derived(&r.campaign_id),
            });
            e.first = e.first.min(t);
            e.last = e.last.max(t);
        }
        let mut campaigns: Vec<Campaign> = by.into_values().collect();
        campaigns.sort_by(|a, b| b.last.cmp(&a.last).then(a.id.cmp(&b.id)));
        let pos: std::collections::HashMap<&str, usize> = campaigns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let rows = raw
            .iter()
            .map(|r| CampaignRow {
                campaign: pos[r.campaign_id.as_str()],
                time: to_ticks(&r.timestamp),
                message: r.network_message_id.clone(),
                recipient: fold(&r.recipient_email_address).into_owned(),
            })
            .collect();
        Ok(CampaignIndex { campaigns, rows })
    }

    /// Positions of the campaigns with at least one row `filter` selects (tag terms
    /// ask whether any row of the campaign has a member recipient, like the KQL).
    pub fn eval(
        &self,
        filter: &Filter,
        tags: &TagTable,
        now: DateTime<Utc>,
    ) -> Result<Vec<usize>, IndexError> {
        let cs = &self.campaigns;
        let node = compile::<CampaignRow>(filter, &mut |t| {
            let (field, values) = match t {
                Term::Text(w) => {
                    let p = Pattern::contains(w);
                    let hit: Vec<bool> = cs.iter().map(|c| p.test(&c.name)).collect();
                    return Ok(Box::new(move |r: &CampaignRow| hit[r.campaign]));
                }
                Term::Time(f) => {
                    let (from, to) = tick_bounds(f, now);
                    return Ok(Box::new(move |r: &CampaignRow| {
                        r.time >= from && r.time < to
                    }));
                }
                Term::Number { .. } => return Ok(Box::new(|_| false)),
                Term::Match { field, values } => (*field, values.clone()),
            };
            let hit: Vec<bool> = match field {
                Field::CampaignType => cs.iter().map(|c| eq_any(Some(&c.kind), &values)).collect(),
                Field::Subtype => {
                    let p = exact(&values);
                    cs.iter().map(|c| text::any(&p, &c.subtype)).collect()
                }
                Field::Name => {
                    let p = contains(&values);
                    cs.iter().map(|c| text::any(&p, &c.name)).collect()
                }
                Field::Tag | Field::Is => {
                    let m = members(tags, field, &values)?;
                    let mut hit = vec![false; cs.len()];
                    for r in &self.rows {
                        if m.contains(&r.recipient) {
                            hit[r.campaign] = true;
                        }
                    }
                    hit
                }
                _ => vec![false; cs.len()],
            };
            Ok(Box::new(move |r: &CampaignRow| hit[r.campaign]))
        })?;
        let mut hit = vec![false; cs.len()];
        for r in &self.rows {
            if !hit[r.campaign] && node.test(r) {
                hit[r.campaign] = true;
            }
        }
        Ok((0..cs.len()).filter(|&i| hit[i]).collect())
    }
}

/// One directory user.
#[derive(Debug, Clone)]
pub struct UserItem {
    /// The cached user.
    pub user: User,
    /// The user's tags, in display order.
    pub tags: Vec<String>,
}

/// Directory users held in memory.
#[derive(Debug, Clone, Default)]
pub struct UserIndex {
    /// Users by sign-in name.
    pub items: Vec<UserItem>,
}

impl UserIndex {
    /// Reads the cached users and tags them.
    pub fn load(cache: &Cache, tags: &TagTable) -> Result<UserIndex, IndexError> {
        let items = cache
            .users()?
            .into_iter()
            .map(|u| {
                let addr = whalewatch_model::directory::address_of(&u).unwrap_or_default();
                let t = tags
                    .tags_of(&addr)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                UserItem { user: u, tags: t }
            })
            .collect();
        Ok(UserIndex { items })
    }

    /// Positions of the users `filter` selects (`AccountUpn` is the user principal name).
    pub fn eval(&self, filter: &Filter, tags: &TagTable) -> Result<Vec<usize>, IndexError> {
        let node = compile::<UserItem>(filter, &mut |t| {
            let (field, values) = match t {
                Term::Text(w) => {
                    let p = Pattern::contains(w);
                    return Ok(Box::new(move |u: &UserItem| {
                        p.test(u.user.user_principal_name.as_deref().unwrap_or(""))
                            || p.test(u.user.display_name.as_deref().unwrap_or(""))
                    }));
                }
                Term::Time(_) | Term::Number { .. } => return Ok(Box::new(|_| false)),
                Term::Match { field, values } => (*field, values.clone()),
            };
            let pick = |u: &User, f: Field| -> String {
                match f {
                    Field::Upn => u.user_principal_name.clone(),
                    Field::Department => u.department.clone(),
                    Field::JobTitle => u.job_title.clone(),
                    _ => u.country.clone(),
                }
                .unwrap_or_default()
            };
            Ok(match field {
                Field::Upn | Field::Department | Field::JobTitle | Field::Country => {
                    let p = exact(&values);
                    Box::new(move |u: &UserItem| text::any(&p, &pick(&u.user, field)))
                }
                Field::Tag | Field::Is => {
                    let m = members(tags, field, &values)?;
                    Box::new(move |u: &UserItem| {
                        u.user
                            .user_principal_name
                            .as_deref()
                            .is_some_and(|x| m.contains(fold(x).as_ref()))
                    })
                }
                _ => Box::new(|_| false),
            })
        })?;
        Ok((0..self.items.len())
            .filter(|&i| node.test(&self.items[i]))
            .collect())
    }
}

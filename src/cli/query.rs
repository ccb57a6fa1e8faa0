//! `whalewatch query`: the filter language over the cache's in-memory index (or, with
//! `--remote`, over advanced hunting): counts, frequency tables, histograms, sorted
//! tables, and unlimited streaming exports with raw values.

use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;
use serde_json::{Value, json};

use super::context::ProfileArgs;
use super::output::{self, Format, Records};
use crate::cache::{Cache, NoteTarget};
use crate::model::email::EmailEvent;
use crate::model::hunting::{HuntingRow, from_ticks};
use crate::model::time::format_datetime;
use crate::query::index::entities::{
    AlertIndex, Campaign, CampaignIndex, IncidentColumn, IncidentIndex, IncidentItem, UserIndex,
    UserItem,
};
use crate::query::index::figures::{Audience, CampaignFigures, campaign_figures};
use crate::query::index::{
    BinTerm, Column, EmailIndex, Frequency, FrequencyRow, Histogram, SortKey, TagTable,
};
use crate::query::kql::TimeBin;
use crate::query::lang::{Entity as LangEntity, Filter, ParseError, parse};

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Entity {
    Emails,
    Alerts,
    Incidents,
    Campaigns,
    Users,
    Tags,
    /// Threat Explorer's Top URLs over the emails the filter selects.
    Urls,
    /// Threat Explorer's Top clicks over the emails the filter selects.
    Clicks,
}

impl Entity {
    /// The filter language's entity (tags have no filter).
    pub fn lang(self) -> Option<LangEntity> {
        Some(match self {
            Entity::Emails | Entity::Urls | Entity::Clicks => LangEntity::Emails,
            Entity::Alerts => LangEntity::Alerts,
            Entity::Incidents => LangEntity::Incidents,
            Entity::Campaigns => LangEntity::Campaigns,
            Entity::Users => LangEntity::Users,
            Entity::Tags => return None,
        })
    }
}

/// Histogram buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bin {
    Hour,
    Day,
}

impl From<Bin> for TimeBin {
    fn from(b: Bin) -> TimeBin {
        match b {
            Bin::Hour => TimeBin::Hour,
            Bin::Day => TimeBin::Day,
        }
    }
}

/// `query` options.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  whalewatch query emails 'is:priority threat:phish since:7d' --count
  whalewatch query emails 'threat:phish' --pivot sender-domain
  whalewatch query emails 'threat:phish,malware' --histogram day --split ThreatTypes
  whalewatch query emails 'from:*@contoso-billing.com' --sort Subject --columns Timestamp,Subject --limit 20
  whalewatch query emails 'clicked:yes' --format csv > clicked.csv
  whalewatch query emails 'tag:finance threat:phish' --count --remote
  whalewatch query urls 'threat:phish since:7d' --limit 20
  whalewatch query clicks 'is:priority' --format csv")]
pub struct QueryArgs {
    /// What to list.
    pub entity: Entity,
    /// A filter in the filter language (README "Filter language"); several words are AND-ed.
    /// Quote it; a filter that starts with `-` goes after `--`.
    #[arg(num_args = 0..)]
    pub filter: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print at most N records (exports are unlimited unless this is given).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print only the number of records.
    #[arg(long)]
    pub count: bool,
    /// A frequency table of this column over the result (value, count, percent, bar).
    #[arg(long, value_name = "COLUMN")]
    pub pivot: Option<String>,
    /// Counts per hour or day over the result.
    #[arg(long, value_enum)]
    pub histogram: Option<Bin>,
    /// Split the histogram by this (low-cardinality) column.
    #[arg(long, value_name = "COLUMN", requires = "histogram")]
    pub split: Option<String>,
    /// Sort by a column, `COLUMN` or `COLUMN:desc` [default: newest first].
    #[arg(long, value_name = "COLUMN[:desc]")]
    pub sort: Option<String>,
    /// Columns of the table and CSV (emails: advanced-hunting column names).
    #[arg(long, value_delimiter = ',', value_name = "a,b,c")]
    pub columns: Vec<String>,
    /// Run the filter in the tenant's advanced hunting (KQL via runHuntingQuery) instead of the cache.
    #[arg(long)]
    pub remote: bool,
    /// Shortcut for `tag:NAME`.
    #[arg(long)]
    pub tag: Option<String>,
    /// Shortcut for `is:priority`.
    #[arg(long)]
    pub priority: bool,
}

/// The filter text of `args`: the words, and the shortcuts AND-ed.
fn filter_text(args: &QueryArgs) -> String {
    let mut parts: Vec<String> = args.filter.clone();
    if let Some(t) = &args.tag {
        parts.push(format!("tag:\"{}\"", t.replace('"', "")));
    }
    if args.priority {
        parts.push("is:priority".into());
    }
    parts.join(" ")
}

/// Parses `text`, printing a caret under the offending character on failure.
pub fn parse_or_report(entity: LangEntity, text: &str) -> Result<Filter, ExitCode> {
    parse(entity, text).map_err(|e| {
        eprintln!("whalewatch: {}", e.message);
        let shown = crate::safe_text::sanitize(text);
        let caret = ParseError {
            char: shown[..].chars().take(e.char).count(),
            ..e.clone()
        };
        for line in caret.caret(&shown).lines() {
            eprintln!("  {line}");
        }
        if let Some(s) = &e.suggestion {
            eprintln!("  suggestion: {s}");
        }
        ExitCode::from(2)
    })
}

pub fn run(p: &ProfileArgs, args: &QueryArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    let cache = ctx.read_cache()?;
    let text = filter_text(args);
    let Some(entity) = args.entity.lang() else {
        if !text.trim().is_empty() {
            anyhow::bail!("tags take no filter; list them with `whalewatch query tags`");
        }
        let records = tags(&cache)?;
        return finish_records(records, args);
    };
    let filter = match parse_or_report(entity, &text) {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let now = Utc::now();
    if matches!(args.entity, Entity::Urls | Entity::Clicks) {
        if args.remote {
            anyhow::bail!(
                "Top URLs and Top clicks are computed from the cache; drop --remote (refresh first for the newest mail)"
            );
        }
        return urls_or_clicks(&cache, &filter, args, now);
    }
    if args.remote {
        return super::kql::run_remote(p, &ctx, &cache, entity, &filter, args, now);
    }
    let tags_table = TagTable::load(&cache)?;
    match entity {
        LangEntity::Emails => emails(&cache, &filter, args, now),
        LangEntity::Alerts => {
            let idx = AlertIndex::load(&cache)?;
            let hits = idx.eval(&filter, &tags_table, now)?;
            if let Some(bin) = args.histogram {
                let times: Vec<i64> = hits.iter().filter_map(|&i| idx.items[i].created).collect();
                print_histogram(&histogram_of(&times, bin.into()), args.format)?;
                return Ok(ExitCode::SUCCESS);
            }
            let records = alerts(hits.iter().map(|&i| &idx.items[i].alert));
            finish_records(
                with_notes(records, &cache, NoteTarget::Alert, &["id"])?,
                args,
            )
        }
        LangEntity::Incidents => {
            let idx = IncidentIndex::load(&cache, &AlertIndex::load(&cache)?)?;
            let hits = idx.eval(&filter, &tags_table, now)?;
            finish_records(
                incidents(hits.iter().map(|&i| &idx.items[i]), &tags_table),
                args,
            )
        }
        LangEntity::Campaigns => {
            let idx = CampaignIndex::load(&cache)?;
            let hits = idx.eval(&filter, &tags_table, now)?;
            // The figures the console shows, narrowed to the filter's tags like there.
            let index = EmailIndex::open(&cache)?;
            let figures = campaign_figures(&index, &idx, &Audience::of_filter(&filter))?;
            let records = campaigns(hits.iter().map(|&i| (&idx.campaigns[i], &figures[i])))?;
            finish_records(
                with_notes(records, &cache, NoteTarget::Campaign, &["CampaignId"])?,
                args,
            )
        }
        LangEntity::Users => {
            let idx = UserIndex::load(&cache, &tags_table)?;
            let hits = idx.eval(&filter, &tags_table)?;
            let records = users(hits.iter().map(|&i| &idx.items[i]))?;
            finish_records(
                with_notes(
                    records,
                    &cache,
                    NoteTarget::User,
                    &["userPrincipalName", "mail"],
                )?,
                args,
            )
        }
        // `query` offers no posture entity; `whalewatch posture` prints it.
        LangEntity::Posture | LangEntity::SignIns => {
            anyhow::bail!("posture is listed by `whalewatch posture`")
        }
    }
}

/// Adds the analyst's notes (`whalewatch note`) to exported records as `notes`:
/// `[{text, analyst, created}]`, looked up by the first of `keys` the record has.
fn with_notes(
    mut records: Records,
    cache: &Cache,
    kind: NoteTarget,
    keys: &[&str],
) -> Result<Records> {
    let mut by: std::collections::HashMap<String, Vec<Value>> = std::collections::HashMap::new();
    for n in cache.notes()?.into_iter().filter(|n| n.target_kind == kind) {
        let created = chrono::DateTime::from_timestamp_millis(n.created).map(|t| t.to_rfc3339());
        by.entry(n.target)
            .or_default()
            .push(json!({"text": n.text, "analyst": n.analyst, "created": created}));
    }
    if by.is_empty() {
        return Ok(records);
    }
    for raw in &mut records.raw {
        let found = keys
            .iter()
            .filter_map(|k| raw[*k].as_str())
            .find_map(|id| by.get(&kind.normalise(id)).cloned());
        if let Some(list) = found {
            raw["notes"] = Value::Array(list);
        }
    }
    Ok(records)
}

/// Counts, pivots, limits and prints records of the smaller entities.
fn finish_records(mut records: Records, args: &QueryArgs) -> Result<ExitCode> {
    if args.histogram.is_some() {
        anyhow::bail!("--histogram works on emails and alerts");
    }
    if args.count {
        println!("{}", records.raw.len());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(col) = &args.pivot {
        let f = pivot_records(&records, col)?;
        print_frequency(&f, args.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(sort) = &args.sort {
        sort_records(&mut records, sort)?;
    }
    if let Some(n) = args.limit {
        records.rows.truncate(n);
        records.raw.truncate(n);
    }
    if !args.columns.is_empty() {
        records = select_columns(records, &args.columns)?;
    }
    print_records(&records, args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn column_position(records: &Records, name: &str) -> Result<usize> {
    records
        .columns
        .iter()
        .position(|c| c.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let hint = crate::query::lang::error::closest(name, records.columns.iter().copied())
                .map_or(String::new(), |s| format!(", did you mean `{s}`?"));
            anyhow::anyhow!(
                "no column `{name}`{hint} (columns: {})",
                records.columns.join(", ")
            )
        })
}

fn pivot_records(records: &Records, col: &str) -> Result<Frequency> {
    let i = column_position(records, col)?;
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &records.rows {
        *by.entry(r[i].as_str()).or_default() += 1;
    }
    let total = records.rows.len();
    let mut rows: Vec<FrequencyRow> = by
        .into_iter()
        .map(|(v, n)| FrequencyRow {
            value: v.to_string(),
            count: n,
            percent: n as f64 * 100.0 / total.max(1) as f64,
            bin: BinTerm::None,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    Ok(Frequency {
        column: records.columns[i],
        total,
        rows,
    })
}

fn sort_records(records: &mut Records, sort: &str) -> Result<()> {
    let (name, desc) = match sort.rsplit_once(':') {
        Some((n, d)) if d.eq_ignore_ascii_case("desc") => (n, true),
        Some((n, d)) if d.eq_ignore_ascii_case("asc") => (n, false),
        _ => (sort, false),
    };
    let i = column_position(records, name)?;
    // Typed like the console's sort: numbers by value, text case-insensitively.
    let order =
        crate::query::records::sorted_order(records.rows.len(), |r| &records.rows[r][i], desc);
    let rows = std::mem::take(&mut records.rows);
    let raw = std::mem::take(&mut records.raw);
    let mut rows: Vec<Option<Vec<String>>> = rows.into_iter().map(Some).collect();
    let mut raw: Vec<Option<Value>> = raw.into_iter().map(Some).collect();
    for k in order {
        records.rows.extend(rows[k].take());
        records.raw.extend(raw[k].take());
    }
    Ok(())
}

fn select_columns(records: Records, names: &[String]) -> Result<Records> {
    let idx: Vec<usize> = names
        .iter()
        .map(|n| column_position(&records, n))
        .collect::<Result<_>>()?;
    Ok(Records {
        columns: idx.iter().map(|&i| records.columns[i]).collect(),
        rows: records
            .rows
            .iter()
            .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
            .collect(),
        raw: records.raw,
    })
}

/// A histogram of instants (ticks), for entities outside the email index.
fn histogram_of(times: &[i64], bin: TimeBin) -> Histogram {
    let span = crate::query::index::facets::bin_ticks(bin);
    let mut by: BTreeMap<i64, usize> = BTreeMap::new();
    for t in times {
        *by.entry(t.div_euclid(span)).or_default() += 1;
    }
    Histogram {
        split: None,
        buckets: by
            .into_iter()
            .map(|(b, n)| crate::query::index::HistogramBucket {
                start: from_ticks(b * span),
                split: None,
                count: n,
            })
            .collect(),
    }
}

/// Prints a frequency table: value, count, percent and a bar.
pub fn print_frequency(f: &Frequency, format: Format) -> std::io::Result<()> {
    let max = f.rows.first().map_or(0, |r| r.count);
    let records = Records {
        columns: vec![f.column, "Count", "Percent", ""],
        rows: f
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.value.clone(),
                    r.count.to_string(),
                    format!("{:.1}%", r.percent),
                    r.bar(max, 30),
                ]
            })
            .collect(),
        raw: f
            .rows
            .iter()
            .map(|r| json!({"value": r.value, "count": r.count, "percent": r.percent, "term": r.term()}))
            .collect(),
    };
    let mut records = records;
    if format.csv_cells().is_some() {
        records.columns.pop();
        for r in &mut records.rows {
            r.pop();
        }
    }
    print_records(&records, format)
}

/// Prints a histogram: bucket start, split value, count.
pub fn print_histogram(h: &Histogram, format: Format) -> std::io::Result<()> {
    let max = h.buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let mut columns = vec!["Bucket"];
    if let Some(s) = h.split {
        columns.push(s);
    }
    columns.push("Count");
    // The bar is drawn for people; files get the numbers only.
    let bars = format == Format::Table;
    if bars {
        columns.push("");
    }
    let rows = h
        .buckets
        .iter()
        .map(|b| {
            let mut r = vec![format_datetime(&b.start)];
            if h.split.is_some() {
                r.push(b.split.clone().unwrap_or_default());
            }
            r.push(b.count.to_string());
            if bars {
                let bar = FrequencyRow {
                    value: String::new(),
                    count: b.count,
                    percent: 0.0,
                    bin: BinTerm::None,
                };
                r.push(bar.bar(max, 30));
            }
            r
        })
        .collect();
    let raw = h
        .buckets
        .iter()
        .map(|b| json!({"start": format_datetime(&b.start), "split": b.split, "count": b.count}))
        .collect();
    print_records(&Records { columns, rows, raw }, format)
}

/// The default columns of the email table.
const EMAIL_COLUMNS: &[&str] = &[
    "Timestamp",
    "RecipientEmailAddress",
    "SenderFromAddress",
    "Subject",
    "ThreatTypes",
    "DeliveryAction",
    "LatestDeliveryLocation",
];

fn emails(
    cache: &Cache,
    filter: &Filter,
    args: &QueryArgs,
    now: chrono::DateTime<Utc>,
) -> Result<ExitCode> {
    let index = EmailIndex::open(cache)?;
    let rows = index.eval(filter, now)?;
    if args.count {
        println!("{}", rows.count());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(col) = &args.pivot {
        let c = index.column(col)?;
        let top = args.limit.unwrap_or(usize::MAX);
        print_frequency(&index.frequency_top(&rows, c, top), args.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(bin) = args.histogram {
        let split = match &args.split {
            Some(s) => {
                let c = index.column(s)?;
                Some(c)
            }
            None => None,
        };
        print_histogram(&index.histogram(&rows, bin.into(), split)?, args.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let sort = match &args.sort {
        Some(s) => Some(SortKey::parse(&index, s)?),
        None => None,
    };
    let export = args.format != Format::Table;
    // One order for every format: `--sort`, else newest first (an export that
    // followed storage order gave other rows than the table for the same limit).
    let key = sort.unwrap_or(SortKey::NEWEST);
    let order: Vec<u32> = match args.limit {
        Some(n) => index.top(&rows, key, n.min(rows.count())),
        None => index.sorted(&rows, key),
    };
    let columns: Vec<String> = if args.columns.is_empty() {
        if export {
            EmailEvent::COLUMNS.iter().map(|c| c.to_string()).collect()
        } else {
            EMAIL_COLUMNS.iter().map(|c| c.to_string()).collect()
        }
    } else {
        args.columns.clone()
    };
    if !export {
        let cols: Vec<Column> = columns
            .iter()
            .map(|c| index.column(c))
            .collect::<Result<_, _>>()?;
        let records = Records {
            columns: cols.iter().map(|c| c.name()).collect(),
            rows: order
                .iter()
                .map(|&r| cols.iter().map(|c| index.value(*c, r as usize)).collect())
                .collect(),
            raw: Vec::new(),
        };
        print_records(&records, Format::Table)?;
        return Ok(ExitCode::SUCCESS);
    }
    for c in &columns {
        if !EmailEvent::COLUMNS
            .iter()
            .any(|x| x.eq_ignore_ascii_case(c))
        {
            let hint = crate::query::lang::error::closest(c, EmailEvent::COLUMNS.iter().copied())
                .map_or(String::new(), |s| format!(", did you mean `{s}`?"));
            anyhow::bail!("`{c}` is not an EmailEvents column{hint}");
        }
    }
    let mut out = export::Export::start(args.format, &columns)?;
    for r in order {
        let key = index.key(r as usize);
        let e = export::event_by_key(cache, &key)?;
        out.row(&e)?;
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// `query urls` / `query clicks`: the tables `EmailIndex::top_urls` and
/// `EmailIndex::clicks` compute over the filter's emails.
fn urls_or_clicks(
    cache: &Cache,
    filter: &Filter,
    args: &QueryArgs,
    now: chrono::DateTime<Utc>,
) -> Result<ExitCode> {
    let index = EmailIndex::open(cache)?;
    let rows = index.eval(filter, now)?;
    let t = |x: i64| format_datetime(&from_ticks(x));
    let records = if args.entity == Entity::Urls {
        let mut out = Records {
            columns: vec![
                "URL",
                "Domain",
                "Messages",
                "Recipients",
                "Clicks",
                "Blocked",
                "Clicked through",
                "First seen",
                "Last seen",
            ],
            rows: Vec::new(),
            raw: Vec::new(),
        };
        for u in index.top_urls(&rows) {
            out.rows.push(vec![
                u.url.clone(),
                u.domain.clone(),
                u.messages.to_string(),
                u.recipients.to_string(),
                u.clicks.to_string(),
                u.blocked.to_string(),
                u.clicked_through.to_string(),
                t(u.first_seen),
                t(u.last_seen),
            ]);
            out.raw.push(json!({
                "url": u.url, "domain": u.domain, "messages": u.messages,
                "recipients": u.recipients, "clicks": u.clicks, "blocked": u.blocked,
                "clickedThrough": u.clicked_through,
                "firstSeen": t(u.first_seen), "lastSeen": t(u.last_seen),
            }));
        }
        out
    } else {
        let mut out = Records {
            columns: vec![
                "Time",
                "Account",
                "Tags",
                "URL",
                "Action",
                "Verdict",
                "Clicked through",
                "Workload",
                "IP",
                "NetworkMessageId",
            ],
            rows: Vec::new(),
            raw: Vec::new(),
        };
        for c in index.clicks(&rows) {
            let tags = index.tags().tags_of(&c.account).join(", ");
            let nmid = index.key(c.row).network_message_id;
            out.rows.push(vec![
                t(c.time),
                c.account.clone(),
                tags.clone(),
                c.url.clone(),
                c.action.clone(),
                c.verdict.clone(),
                c.clicked_through.to_string(),
                c.workload.clone(),
                c.ip.clone(),
                nmid.clone(),
            ]);
            out.raw.push(json!({
                "time": t(c.time), "account": c.account, "tags": tags, "url": c.url,
                "action": c.action, "verdict": c.verdict,
                "clickedThrough": c.clicked_through, "workload": c.workload,
                "ip": c.ip, "networkMessageId": nmid,
            }));
        }
        out
    };
    finish_records(records, args)
}

fn opt(v: Option<&impl ToString>) -> String {
    v.map(ToString::to_string).unwrap_or_default()
}

fn alerts<'a>(items: impl Iterator<Item = &'a crate::model::alert::Alert>) -> Records {
    let mut out = Records {
        columns: vec![
            "Created",
            "Severity",
            "Status",
            "Category",
            "Title",
            "Assigned to",
            "Incident",
            "Id",
        ],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for a in items {
        out.rows.push(vec![
            a.created_date_time
                .as_ref()
                .map(format_datetime)
                .unwrap_or_default(),
            opt(a.severity.as_ref()),
            opt(a.status.as_ref()),
            a.category.clone().unwrap_or_default(),
            a.title.clone(),
            a.assigned_to.clone().unwrap_or_default(),
            a.incident_id.clone().unwrap_or_default(),
            a.id.clone(),
        ]);
        out.raw.push(a.raw.clone());
    }
    out
}

/// The Incidents pane's rows, cell for cell (`IncidentItem::cell`), newest update first.
fn incidents<'a>(items: impl Iterator<Item = &'a IncidentItem>, tags: &TagTable) -> Records {
    let mut out = Records {
        columns: IncidentColumn::ALL.iter().map(|c| c.title()).collect(),
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for i in items {
        out.rows.push(
            IncidentColumn::ALL
                .iter()
                .map(|&c| i.cell(c, tags))
                .collect(),
        );
        out.raw.push(i.incident.raw.clone());
    }
    out
}

fn campaigns<'a>(
    items: impl Iterator<Item = (&'a Campaign, &'a CampaignFigures)>,
) -> Result<Records> {
    let mut out = Records {
        columns: vec![
            "Name",
            "Type",
            "Subtype",
            "Messages",
            "Recipients",
            "Inboxed",
            "Clicked",
            "Clicked through",
            "Click rate",
            "Priority accts",
            "Targeted",
            "First seen",
            "Last seen",
            "Id",
        ],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for (c, f) in items {
        let t = |x: i64| format_datetime(&from_ticks(x));
        out.rows.push(vec![
            c.name.clone(),
            c.kind.clone(),
            c.subtype.clone(),
            f.messages.to_string(),
            f.recipients.to_string(),
            f.inboxed.to_string(),
            f.clicked.to_string(),
            f.clicked_through.to_string(),
            CampaignFigures::percent_text(f.click_rate()),
            f.priority.to_string(),
            CampaignFigures::percent_text(f.targeted_percent()),
            t(c.first),
            t(c.last),
            c.id.clone(),
        ]);
        let mut raw = c.to_json();
        raw["Figures"] = serde_json::to_value(f)?;
        raw["ClickRate"] = json!(f.click_rate());
        raw["TargetedPercent"] = json!(f.targeted_percent());
        out.raw.push(raw);
    }
    Ok(out)
}

fn users<'a>(items: impl Iterator<Item = &'a UserItem>) -> Result<Records> {
    let mut out = Records {
        columns: vec!["User", "Name", "Department", "Job title", "Country", "Tags"],
        rows: Vec::new(),
        raw: Vec::new(),
    };
    for it in items {
        let u = &it.user;
        let addr = crate::model::directory::address_of(u).unwrap_or_default();
        out.rows.push(vec![
            addr,
            opt(u.display_name.as_ref()),
            opt(u.department.as_ref()),
            opt(u.job_title.as_ref()),
            opt(u.country.as_ref()),
            it.tags.join(", "),
        ]);
        let mut v = serde_json::to_value(u)?;
        v["tags"] = json!(it.tags);
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

/// Streaming exports of emails: one `EmailEvent` at a time, read back from the cache
/// and serialised with its raw values (JSON escaped so a terminal cannot act on it;
/// CSV raw into files and pipes, sanitised onto a terminal, as `output` does).
mod export {
    use std::io::{IsTerminal, Write};

    use anyhow::Result;
    use serde_json::Value;

    use super::super::output::{Format, terminal_cell};
    use crate::cache::Cache;
    use crate::model::email::EmailEvent;
    use crate::model::hunting::HuntingRow;
    use crate::query::index::RowKey;
    use crate::query::records::CsvWriter;
    use crate::safe_text;

    type Stdout = std::io::BufWriter<std::io::StdoutLock<'static>>;

    /// Where an export's bytes go: through the shared CSV writer, or straight out.
    enum Sink {
        Csv(Box<CsvWriter<Stdout>>),
        Plain(Stdout),
    }

    /// An export in progress.
    pub struct Export {
        format: Format,
        columns: Vec<String>,
        all_columns: bool,
        out: Sink,
        tty: bool,
        first: bool,
    }

    impl Export {
        /// Starts an export of `columns` in `format` (JSON with every column keeps all keys).
        pub fn start(format: Format, columns: &[String]) -> Result<Export> {
            let stdout = std::io::stdout();
            let tty = stdout.is_terminal();
            let mut e = Export {
                format,
                columns: columns.to_vec(),
                all_columns: columns.len() == EmailEvent::COLUMNS.len(),
                out: match format.csv_cells() {
                    Some(cells) => Sink::Csv(Box::new(CsvWriter::new(
                        std::io::BufWriter::new(stdout.lock()),
                        cells,
                    ))),
                    None => Sink::Plain(std::io::BufWriter::new(stdout.lock())),
                },
                tty,
                first: true,
            };
            match format {
                Format::Csv | Format::CsvRaw => e.csv_row(columns)?,
                Format::Json => write!(e.plain()?, "[")?,
                _ => {}
            }
            Ok(e)
        }

        /// Writes one row.
        pub fn row(&mut self, ev: &EmailEvent) -> Result<()> {
            let v = serde_json::to_value(ev)?;
            let pick = |c: &str| -> Value {
                v.as_object()
                    .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(c)))
                    .map(|(_, x)| x.clone())
                    .unwrap_or(Value::Null)
            };
            match self.format {
                Format::Csv | Format::CsvRaw => {
                    let fields: Vec<String> = self
                        .columns
                        .iter()
                        .map(|c| {
                            let raw = crate::query::records::json_cell(&v, c);
                            terminal_cell(&raw, self.tty).into_owned()
                        })
                        .collect();
                    self.csv_row(&fields)?;
                }
                Format::Json | Format::Jsonl => {
                    let obj = if self.all_columns {
                        v.clone()
                    } else {
                        Value::Object(self.columns.iter().map(|c| (c.clone(), pick(c))).collect())
                    };
                    let text = serde_json::to_string(&obj)?;
                    let text = safe_text::terminal_safe_json(&text);
                    if self.format == Format::Json {
                        let sep = if self.first { "\n  " } else { ",\n  " };
                        write!(self.plain()?, "{sep}{text}")?;
                    } else {
                        writeln!(self.plain()?, "{text}")?;
                    }
                }
                Format::Table => {}
            }
            self.first = false;
            Ok(())
        }

        /// Writes one CSV record through the shared writer.
        fn csv_row(&mut self, fields: &[String]) -> Result<()> {
            if let Sink::Csv(w) = &mut self.out {
                w.row(fields)?;
            }
            Ok(())
        }

        /// The output of a JSON export (`Plain`; CSV bytes go through [`Self::csv_row`]).
        fn plain(&mut self) -> std::io::Result<&mut Stdout> {
            match &mut self.out {
                Sink::Plain(w) => Ok(w),
                Sink::Csv(_) => Err(std::io::Error::other("a CSV export writes no JSON")),
            }
        }

        /// Closes the export.
        pub fn finish(mut self) -> Result<()> {
            if self.format == Format::Json {
                let first = self.first;
                writeln!(self.plain()?, "{}]", if first { "" } else { "\n" })?;
            }
            match self.out {
                Sink::Csv(w) => w.finish()?.flush()?,
                Sink::Plain(mut w) => w.flush()?,
            }
            Ok(())
        }
    }

    /// The cached row with `key`.
    pub fn event_by_key(cache: &Cache, key: &RowKey) -> Result<EmailEvent> {
        cache.email(key)?.ok_or_else(|| {
            anyhow::anyhow!("the cache changed while exporting (a refresh ran); export again")
        })
    }
}

/// Prints records; JSON is written one compact element per line (each made terminal-safe)
/// because `terminal_safe_json` escapes the newlines of pretty-printed JSON, which
/// would make the document invalid.
pub fn print_records(records: &Records, format: Format) -> std::io::Result<()> {
    output::print(records, format)
}

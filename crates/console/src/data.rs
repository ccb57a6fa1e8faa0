//! What the console shows, loaded from the cache through the query layer: one
//! immutable [`Snapshot`] that views read and `update` swaps whole.
//!
//! Loading is phased so the first frame waits for nothing slow: the tags, the
//! newest page of mail and the newest alerts straight from SQLite ([`load_first`]);
//! then two halves on worker threads, side by side and in either order — the
//! columnar [`EmailIndex`], mapped from its column file ([`load_index`], tens of
//! milliseconds; the per-recipient figures follow it, [`recipient_data`]) and every
//! alert, campaign, user, incident and the posture ([`load_quick`], seconds on a
//! million-row cache). What needs both halves (campaign figures, tag figures) is
//! computed when the second arrives ([`Snapshot::derive`]); until then the panes say
//! what they are waiting for ([`crate::panes::loading`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use whalewatch_cache::{Cache, SourceState};
use whalewatch_config::PRIORITY_ACCOUNT;
use whalewatch_model::email::EmailEvent;
use whalewatch_model::posture::PostureSources;
use whalewatch_query::index::entities::{AlertIndex, CampaignIndex, IncidentIndex, UserIndex};
use whalewatch_query::index::figures::{Audience, CampaignFigures, campaign_figures};
use whalewatch_query::index::schema as s;
use whalewatch_query::index::text::fold;
use whalewatch_query::index::{EmailIndex, IndexError, TagTable};
use whalewatch_query::posture::{self, AccountPosture, Checklist};

/// Rows of the newest mail shown before the index is ready.
pub const PREVIEW_ROWS: usize = 500;

/// Per-recipient figures (folded address → counts) computed from the email index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientStats {
    /// Messages with a threat.
    pub threats: usize,
    /// Messages whose URLs the recipient clicked.
    pub clicks: usize,
    /// All messages.
    pub mail: usize,
    /// Messages with a phish verdict.
    pub phish: usize,
    /// Messages with a threat whose latest location is the inbox.
    pub inboxed: usize,
}

/// One tag's figures for the Accounts pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagStats {
    pub name: String,
    pub members: usize,
    /// Mail with a threat to members (`None` until the per-recipient figures are in).
    pub threats: Option<usize>,
    pub clicks: Option<usize>,
    /// Alerts affecting a member (`None` until every alert is loaded).
    pub alerts: Option<usize>,
}

/// Every tag's figures, in display order (Priority account first).
fn tag_stats(data: &Snapshot) -> Vec<TagStats> {
    let mut out: Vec<TagStats> = data
        .tags
        .names()
        .map(|name| {
            let members: &[String] = data.tags.resolve(name).unwrap_or(&[]);
            let (threats, clicks) = if let Some(recipients) = &data.recipients {
                let (mut t, mut c) = (0, 0);
                for m in members {
                    if let Some(s) = recipients.get(m) {
                        t += s.threats;
                        c += s.clicks;
                    }
                }
                (Some(t), Some(c))
            } else {
                (None, None)
            };
            let mut alerts: Vec<u32> = members
                .iter()
                .flat_map(|m| data.account_alerts.get(m).into_iter().flatten().copied())
                .collect();
            alerts.sort_unstable();
            alerts.dedup();
            TagStats {
                name: name.to_string(),
                members: members.len(),
                threats,
                clicks,
                // The first frame's newest alerts would undercount.
                alerts: data.complete.then_some(alerts.len()),
            }
        })
        .collect();
    out.sort_by_key(|t| !t.name.eq_ignore_ascii_case(PRIORITY_ACCOUNT));
    out
}

fn account_alerts(alerts: &AlertIndex) -> HashMap<String, Vec<u32>> {
    let mut out: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, a) in alerts.items.iter().enumerate() {
        for acc in &a.accounts {
            out.entry(acc.clone()).or_default().push(i as u32);
        }
    }
    out
}

/// Everything the panes draw from, as of one load.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The email index, once built.
    pub emails: Option<Arc<EmailIndex>>,
    /// Every indexed row, newest first: a filter's result in the default order is
    /// this list thinned by the filter's row set, with no sort per keystroke.
    pub newest: Arc<Vec<u32>>,
    /// Mail per day by threat type over every row (the histogram of an unfiltered grid).
    pub histogram_all: Option<Arc<whalewatch_query::index::Histogram>>,
    /// The newest mail, read directly, until the index is ready.
    pub preview: Arc<Vec<EmailEvent>>,
    /// Mail rows in the cache (the preview's total).
    pub email_rows: usize,
    pub alerts: Arc<AlertIndex>,
    pub incidents: Arc<IncidentIndex>,
    pub campaigns: Arc<CampaignIndex>,
    /// Parallel to `campaigns.campaigns`, narrowed to `campaign_audience`; empty
    /// until both the campaigns and the index are loaded (cells show `…`), and
    /// emptied whenever either changes, then recomputed ([`Snapshot::derive`]).
    pub campaign_stats: Arc<Vec<CampaignFigures>>,
    /// Who `campaign_stats` counts (the session's tag and the Campaigns filter's tags).
    pub campaign_audience: Audience,
    pub users: Arc<UserIndex>,
    /// Keyed by folded address; `None` until computed from the current index (they
    /// follow the index in a `Msg::Recipients`).
    pub recipients: Option<Arc<HashMap<String, RecipientStats>>>,
    pub tags: Arc<TagTable>,
    /// Refresh state per source (cache age, last error).
    pub sources: Vec<SourceState>,
    /// Alerts with triage writes the tenant has not confirmed (pending, conflict).
    pub pending: Arc<HashMap<String, whalewatch_cache::PendingWrite>>,
    /// Incidents with triage writes the tenant has not confirmed, by incident id.
    pub pending_incidents: Arc<HashMap<String, whalewatch_cache::PendingWrite>>,
    /// When this snapshot was read.
    pub loaded_at: Option<DateTime<Utc>>,
    /// Positions in `alerts` of the alerts affecting each (folded) account.
    pub account_alerts: Arc<HashMap<String, Vec<u32>>>,
    /// Every tag's figures for the Accounts pane.
    pub tag_stats: Arc<Vec<TagStats>>,
    /// Whether every alert, campaign, user and incident is loaded (the first frame
    /// has only the newest alerts; the rest follows from a worker thread).
    pub complete: bool,
    /// What this load could not read (shown in the status line).
    pub problems: Vec<LoadProblem>,
    /// The cache generation this load read (`None`: not read, as for the first
    /// frame). Differing from the email index's means the index is stale.
    pub generation: Option<u64>,
    /// The loader builds the email index right after this snapshot (a refresh's
    /// reload), so a stale index needs no separate rebuild.
    pub index_follows: bool,
    /// Priority-account posture, judged on the worker thread at load.
    pub posture: Arc<PostureData>,
    /// The Top URLs tables the views of this snapshot computed (per filter).
    pub url_tables: Arc<crate::panes::urls::UrlTables>,
}

/// Posture as the console shows it: the sources (sign-ins, availability) and every
/// tagged account judged, with the tenant checklist.
#[derive(Debug, Clone, Default)]
pub struct PostureData {
    /// What the cache holds.
    pub sources: PostureSources,
    /// Every member of any tag, judged; worst first.
    pub accounts: Vec<AccountPosture>,
    /// UPNs (lower-case) of the priority accounts.
    pub priority: std::collections::HashSet<String>,
    /// The tenant checklist (over the priority accounts).
    pub checklist: Checklist,
    /// One line per source that is not fresh, with what to do.
    pub notes: Vec<String>,
}

impl PostureData {
    /// Judges every tagged account of `users` from `sources` (pure: tests inject
    /// hand-built sources here).
    pub fn build(
        sources: PostureSources,
        users: &[whalewatch_model::directory::User],
        tags: &TagTable,
        groups: &posture::GroupNames,
        now: DateTime<Utc>,
    ) -> PostureData {
        let mut members: Vec<String> = Vec::new();
        for name in tags.names() {
            members.extend(tags.resolve(name).unwrap_or(&[]).iter().cloned());
        }
        members.sort();
        members.dedup();
        let vips = tags.resolve(PRIORITY_ACCOUNT).unwrap_or(&[]);
        let priority_accounts = posture::accounts_of(users, vips);
        let accounts = posture::evaluate(
            &sources,
            &posture::accounts_of(users, &members),
            groups,
            now,
        );
        let priority: std::collections::HashSet<String> =
            priority_accounts.iter().map(|a| a.upn.clone()).collect();
        let judged: Vec<AccountPosture> = accounts
            .iter()
            .filter(|a| priority.contains(&a.account.upn))
            .cloned()
            .collect();
        PostureData {
            checklist: posture::checklist(&sources, &judged),
            notes: posture::source_notes(&sources),
            accounts,
            priority,
            sources,
        }
    }

    /// Reads the posture sources, the directory's groups and judges them.
    pub fn load(
        cache: &Cache,
        users: &UserIndex,
        tags: &TagTable,
        now: DateTime<Utc>,
    ) -> Result<PostureData, IndexError> {
        let sources = cache.posture_sources()?;
        let groups: posture::GroupNames = cache
            .groups()?
            .into_iter()
            .filter_map(|g| Some((g.id, g.display_name?)))
            .collect();
        let users: Vec<_> = users.items.iter().map(|u| u.user.clone()).collect();
        Ok(PostureData::build(sources, &users, tags, &groups, now))
    }
}

/// The email half of a snapshot, opened on a worker thread: what the Emails pane
/// needs (the index, its newest-first order, the whole-mailbox histogram).
#[derive(Debug, Clone)]
pub struct EmailData {
    pub index: Arc<EmailIndex>,
    pub newest: Arc<Vec<u32>>,
    pub histogram_all: Arc<whalewatch_query::index::Histogram>,
    /// The per-recipient figures when already computed ([`load_emails`]); `None`
    /// when they follow in their own message ([`load_index`], [`recipient_data`]).
    pub recipients: Option<Arc<HashMap<String, RecipientStats>>>,
}

/// The per-recipient figures of one index, computed after the index was sent.
#[derive(Debug, Clone)]
pub struct RecipientData {
    /// The generation of the index they were computed from.
    pub generation: u64,
    pub stats: Arc<HashMap<String, RecipientStats>>,
}

/// Alerts read for the first frame: more than any screen shows.
pub const FIRST_ALERTS: usize = 200;

/// What the first frame needs, and nothing slower: tags, the newest mail and the
/// newest alerts (tens of milliseconds on a million-row cache). [`load_quick`] follows.
pub fn load_first(path: &Path) -> Result<Snapshot, IndexError> {
    let cache = Cache::open_read_only(path)?;
    let (sources, pending, problems) = status_of(&cache);
    let alerts = AlertIndex::load_parsed(&cache, Some(FIRST_ALERTS))?;
    Ok(Snapshot {
        pending_incidents: pending.1,
        pending: pending.0,
        // No row count here: counting a million rows reads the whole table (a cold
        // cache pays for it in disk reads); `load_quick` counts on the worker.
        preview: Arc::new(cache.newest_emails(PREVIEW_ROWS)?),
        account_alerts: Arc::new(account_alerts(&alerts)),
        alerts: Arc::new(alerts),
        tags: Arc::new(TagTable::load(&cache)?),
        sources,
        problems,
        loaded_at: Some(Utc::now()),
        ..Snapshot::default()
    }
    .derive())
}

/// Reads everything but the email index.
pub fn load_quick(path: &Path) -> Result<Snapshot, IndexError> {
    let cache = Cache::open_read_only(path)?;
    let (sources, pending, problems) = status_of(&cache);
    let generation = cache.generation()?;
    let tags = TagTable::load(&cache)?;
    let users = UserIndex::load(&cache, &tags)?;
    let posture = Arc::new(PostureData::load(&cache, &users, &tags, Utc::now())?);
    let email_rows = cache.count("email_events").unwrap_or(0).max(0) as usize;
    // Without their JSON: kept, it would be the console's largest heap (the export
    // reads it back from the cache).
    let alerts = AlertIndex::load_parsed(&cache, None)?;
    let incidents = IncidentIndex::load(&cache, &alerts)?.without_raw();
    let by_account = account_alerts(&alerts);
    Ok(Snapshot {
        emails: None,
        newest: Arc::default(),
        histogram_all: None,
        preview: Arc::new(cache.newest_emails(PREVIEW_ROWS)?),
        email_rows,
        alerts: Arc::new(alerts),
        incidents: Arc::new(incidents),
        campaigns: Arc::new(CampaignIndex::load(&cache)?),
        campaign_stats: Arc::default(),
        campaign_audience: Audience::everyone(),
        users: Arc::new(users),
        recipients: None,
        tags: Arc::new(tags),
        sources,
        pending: pending.0,
        pending_incidents: pending.1,
        problems,
        loaded_at: Some(Utc::now()),
        account_alerts: Arc::new(by_account),
        tag_stats: Arc::default(),
        complete: true,
        generation: Some(generation),
        index_follows: false,
        posture,
        url_tables: Arc::default(),
    }
    .derive())
}

/// Why part of a snapshot is missing: the console shows the rest and says this in
/// the status line (never an empty list that looks like "nothing there").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadProblem {
    /// The outbox could not be read: queued writes are not shown.
    #[error(
        "queued writes cannot be read from the cache ({0}); they are not shown — `whalewatch alert outbox` lists them"
    )]
    Outbox(String),
    /// The refresh state could not be read: the status bar's ages are unknown.
    #[error("the refresh state cannot be read from the cache ({0}); cache ages are not shown")]
    Sources(String),
}

/// Pending triage writes: on alerts, on incidents.
type Pending = (
    Arc<HashMap<String, whalewatch_cache::PendingWrite>>,
    Arc<HashMap<String, whalewatch_cache::PendingWrite>>,
);

/// The refresh state and the outbox, each either read or reported.
fn status_of(cache: &Cache) -> (Vec<SourceState>, Pending, Vec<LoadProblem>) {
    let mut problems = Vec::new();
    let sources = cache.source_states().unwrap_or_else(|e| {
        problems.push(LoadProblem::Sources(e.to_string()));
        Vec::new()
    });
    let pending = cache
        .pending_alerts()
        .and_then(|a| Ok((a, cache.pending_incidents()?)))
        .unwrap_or_else(|e| {
            problems.push(LoadProblem::Outbox(e.to_string()));
            (HashMap::new(), HashMap::new())
        });
    (
        sources,
        (Arc::new(pending.0), Arc::new(pending.1)),
        problems,
    )
}

/// Opens the email index (mapped from its column file when current, else built)
/// with what the Emails pane needs at once; the per-recipient figures are left to
/// [`recipient_data`], so the grid need not wait for them.
pub fn load_index(path: &Path) -> Result<EmailData, IndexError> {
    let cache = Cache::open_read_only(path)?;
    let index = EmailIndex::open(&cache)?;
    // Free when the rows are stored in time order (one pass, no sort).
    let newest = Arc::new(index.sorted(&index.all(), whalewatch_query::index::SortKey::NEWEST));
    let histogram_all = Arc::new(index.histogram(
        &index.all(),
        whalewatch_query::kql::TimeBin::Day,
        Some(whalewatch_query::index::Column::Str(s::THREATS)),
    )?);
    // The open read every page (checksums) and the figures above scanned whole
    // columns; from here on only the pages the panes read stay resident.
    index.release_pages();
    Ok(EmailData {
        newest,
        histogram_all,
        index: Arc::new(index),
        recipients: None,
    })
}

/// [`load_index`] with the per-recipient figures, in one go (the CLI and tests,
/// which have nothing to draw meanwhile).
pub fn load_emails(path: &Path) -> Result<EmailData, IndexError> {
    let mut e = load_index(path)?;
    e.recipients = Some(recipient_data(&e.index).stats);
    Ok(e)
}

/// The per-recipient figures of `index` (one pass over its rows).
pub fn recipient_data(index: &EmailIndex) -> RecipientData {
    RecipientData {
        generation: index.generation(),
        stats: Arc::new(recipient_stats(index)),
    }
}

impl Snapshot {
    /// Recomputes what is derived from both halves (tag figures) once per load, not
    /// once per frame; and the campaign figures once both halves are here (the
    /// campaigns and the index), for `campaign_audience`. (Per-account alerts depend
    /// on the alerts alone: computed where they are loaded.)
    pub fn derive(mut self) -> Snapshot {
        self.tag_stats = Arc::new(tag_stats(&self));
        if self.campaign_stats.is_empty()
            && self.complete
            && let Some(ix) = &self.emails
            // An unknown tag in the audience leaves them out: the grid reports it.
            && let Ok(f) = campaign_figures(ix, &self.campaigns, &self.campaign_audience)
        {
            self.campaign_stats = Arc::new(f);
        }
        self
    }

    /// Whether both halves are loaded and everything derived from them computed:
    /// nothing on screen waits any more.
    pub fn fully_loaded(&self) -> bool {
        self.complete
            && self.emails.is_some()
            && self.recipients.is_some()
            && (self.campaigns.campaigns.is_empty() || !self.campaign_stats.is_empty())
    }

    /// This snapshot with the email half filled in (the quick half stays; the
    /// campaign figures are recomputed over the new index when it is here).
    pub fn with_emails(mut self, e: EmailData) -> Snapshot {
        self.email_rows = e.index.len();
        self.emails = Some(e.index);
        // Tables of the old index name its rows: never mix them with the new one.
        self.url_tables = Arc::default();
        self.newest = e.newest;
        self.histogram_all = Some(e.histogram_all);
        self.campaign_stats = Arc::default();
        self.recipients = e.recipients;
        self.derive()
    }

    /// This snapshot with the per-recipient figures of its index (`false`: they
    /// are of another index, and are dropped).
    pub fn with_recipients(mut self, r: RecipientData) -> (Snapshot, bool) {
        if self.emails.as_ref().map(|ix| ix.generation()) != Some(r.generation) {
            return (self, false);
        }
        self.recipients = Some(r.stats);
        (self.derive(), true)
    }
}

fn recipient_stats(index: &EmailIndex) -> HashMap<String, RecipientStats> {
    let recipient = index.str_column(s::RECIPIENT);
    let threats = index.str_column(s::THREATS);
    let location = index.str_column(s::LOCATION);
    let inbox = location.dict.find("Inbox/folder");
    let clicked = &index.side().clicked;
    let mut by_code: Vec<RecipientStats> = vec![RecipientStats::default(); recipient.dict.len()];
    for r in 0..index.len() {
        let st = &mut by_code[recipient.codes.get(r) as usize];
        st.mail += 1;
        let threat = threats.value(r);
        if !threat.is_empty() {
            st.threats += 1;
            if Some(location.codes.get(r)) == inbox {
                st.inboxed += 1;
            }
            if threat
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("Phish"))
            {
                st.phish += 1;
            }
        }
        if clicked.contains(r) {
            st.clicks += 1;
        }
    }
    recipient
        .dict
        .iter()
        .map(|(c, v)| (fold(v).into_owned(), by_code[c as usize].clone()))
        .collect()
}

#[cfg(test)]
mod load_tests {
    use super::*;

    #[test]
    fn an_unreadable_outbox_becomes_a_problem_not_an_empty_list() {
        let dir = std::env::temp_dir().join(format!("ww-data-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("c.sqlite");
        let c = Cache::open(&path).unwrap();
        let fine = load_quick(&path).unwrap();
        assert!(fine.problems.is_empty(), "{:?}", fine.problems);
        assert_eq!(fine.generation, Some(c.generation().unwrap()));
        // A damaged outbox (its columns gone) cannot be read.
        c.connection()
            .execute_batch("DROP TABLE outbox; CREATE TABLE outbox (id INTEGER PRIMARY KEY)")
            .unwrap();
        // (Alerts overlay the outbox too, so a whole load would fail louder; the
        // status half must not turn the failure into "no pending writes".)
        let (_, pending, problems) = status_of(&c);
        assert!(
            matches!(problems.as_slice(), [LoadProblem::Outbox(_)]),
            "{problems:?}"
        );
        assert!(pending.0.is_empty() && pending.1.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Refresh: brings the cache up to date with the tenant. The only writer of the cache.
//!
//! A refresh is one resumable, idempotent process: every source is upserted by
//! natural key and its watermark moves only in the transaction that commits the rows
//! it covers. Ctrl-C, `kill -9`, a network drop or a throttling storm leave a
//! consistent cache, and the next refresh ends with exactly what an uninterrupted one
//! would have had.
//!
//! Order (`run_sources`): the directory first (tags need it); then three things at
//! once — alerts and incidents (incidents without `$expand=alerts`: `alerts_v2` already
//! brings every alert), the tenant-wide posture sources (Conditional Access, risky
//! users, Secure Score), and the hunting tables: the small ones (`EmailUrlInfo`,
//! `EmailAttachmentInfo`, `UrlClickEvents`, `CampaignInfo`) first, so their index builds
//! run while `EmailEvents` is fetched, then `EmailEvents`, then `EmailPostDeliveryEvents`
//! (which move the messages). A hunting pull returns once its windows are fetched; its
//! last writes and index build are settled in order by a task beside the next pulls.
//! Tags are resolved next, from the directory and the protected recipients recorded as
//! `EmailEvents` windows were written; last, the posture sources about the priority
//! accounts the tags name (MFA registration, memberships, sign-ins, message traces),
//! concurrently. Posture calls are paced by `RefreshOptions::posture_limits` (the
//! documented limits unless lifted) and by the tenant's 429s.
//!
//! Speed (a million-row first refresh): hunting windows are fetched two at a time and
//! parsed on blocking threads straight into storage cells (`model::batch`); parsed windows
//! wait for the writer thread within a shared memory budget, not a fixed queue; a table
//! that is empty when its pull starts is bulk-loaded without its unique key index, and its
//! indexes are built once at the end (`cache::bulk`). A checkpointer thread with its own
//! connection copies committed WAL pages into the database after each write (`writer.rs`).
//!
//! Diagnostics: each source is a `source` span and each hunting window a `window` span
//! (`--log-file`, `WHALEWATCH_LOG=debug`), timed when they close.

pub mod connect;
mod hunting;
pub mod lock;
pub mod plan;
pub mod posture;
pub mod progress;
pub mod remediate;
pub mod shrink;
mod tags;
pub mod triage;
mod writer;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::Utc;

use whalewatch_cache::{Cache, CacheError, UpsertStats};
use whalewatch_config::{PRIORITY_ACCOUNT, Profile};
use whalewatch_model::directory::DirectoryObject;
use whalewatch_model::email::{
    CampaignMessage, EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, UrlClick,
};
use whalewatch_model::hunting::to_ticks;
use whalewatch_model::json::RejectedRecord;
use whalewatch_tenant::posture::{PostureLimits, PosturePacers};
use whalewatch_tenant::window::CallPacer;
use whalewatch_tenant::{GraphClient, RetryStatsSnapshot, TenantError};

pub use hunting::window_query;
pub use tags::{TagInputs, resolve as resolve_tags};
use writer::CacheWriter;

/// Why a refresh failed. What was committed before the failure stays committed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Tenant(TenantError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("{0}")]
    Setup(String),
    #[error("unexpected answer from the tenant: {0}")]
    Unexpected(String),
}

/// Rows per hunting window a refresh aims for: 97 % of the service's cap.
pub const DEFAULT_WINDOW_ROWS: u64 = 97_000;

/// How a refresh runs.
#[derive(Debug, Clone)]
pub struct RefreshOptions {
    /// How far back the first refresh of a source reaches; `None`: everything the
    /// service keeps (30 days for advanced hunting).
    pub since: Option<chrono::Duration>,
    /// Re-read this much before each watermark, for events that arrive late.
    pub overlap_ticks: i64,
    /// Rows per hunting call to aim for (the service's cap is 100,000); the
    /// default leaves 3 % for rows that arrive between the row count and the call.
    pub window_rows: u64,
    /// Hunting calls per minute to stay under.
    pub hunting_calls_per_minute: usize,
    /// Calls per period the posture readers stay under (the documented limits by
    /// default; a 429's `Retry-After` is honoured whatever they say).
    pub posture_limits: PostureLimits,
    /// Which sources to refresh (all when empty): `directory`, `alerts`,
    /// `incidents`, `tags`, or a hunting table name.
    pub only: Vec<String>,
    /// Apply full listings that shrank sharply without a second read (see [`shrink`]).
    pub accept_shrink: bool,
    /// Longest the refresh may run; when it runs out the refresh stops cleanly with
    /// what it committed and says so ([`RefreshSummary::budget_spent`]).
    pub budget: Option<std::time::Duration>,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        RefreshOptions {
            since: None,
            overlap_ticks: plan::HOUR,
            window_rows: DEFAULT_WINDOW_ROWS,
            hunting_calls_per_minute: whalewatch_tenant::hunting::HUNTING_CALLS_PER_MINUTE,
            posture_limits: PostureLimits::default(),
            only: Vec::new(),
            accept_shrink: false,
            budget: None,
        }
    }
}

/// A group's members with their type, and the records that could not be taken.
type MembersRead = (Vec<(String, &'static str)>, Vec<RejectedRecord>);

/// What one source did.
#[derive(Debug, Clone, Default)]
pub struct SourceSummary {
    pub source: String,
    /// Rows (or entities) received.
    pub fetched: u64,
    pub stats: UpsertStats,
    /// Requests made (hunting windows, pages).
    pub calls: u64,
    /// Hunting calls that counted rows to plan the windows (not in `calls`).
    pub counting_calls: u64,
    /// Hunting windows refused for the row cap and halved (their calls are in
    /// `calls`).
    pub splits: u64,
    pub seconds: f64,
    /// Entries this refresh removed from the cache, by listing (`users`, `groups`,
    /// `members of <group>`, `tag members`).
    pub removed: Vec<(String, u64)>,
    /// Listings that shrank sharply and were not applied (the previous set is kept).
    pub held: Vec<String>,
    /// Records rejected (no key, unreadable) and kept in the quarantine table.
    pub rejected: u64,
}

/// What a refresh did.
#[derive(Debug, Clone, Default)]
pub struct RefreshSummary {
    pub sources: Vec<SourceSummary>,
    pub seconds: f64,
    pub http: RetryStatsSnapshot,
    /// Problems that did not stop the refresh (an unreadable tag file, ...).
    pub warnings: Vec<String>,
    /// The refresh stopped because its budget ran out; `sources` lists only the
    /// sources that finished, the others resume on the next refresh.
    pub budget_spent: bool,
    /// The hunting quota the refresh paced itself to (calls per minute).
    pub hunting_calls_per_minute: usize,
}

/// How a refresh used advanced hunting: the figures its summary reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HuntingUse {
    /// Rows received from hunting windows.
    pub rows: u64,
    /// Window calls (halved windows' calls included).
    pub calls: u64,
    /// The fewest window calls the row cap allows: per table, rows / cap rounded up.
    pub fewest_calls: u64,
    /// Row-count calls that planned the windows.
    pub counting_calls: u64,
    /// Windows refused for the row cap and halved.
    pub splits: u64,
    /// The quota's bound on any refresh: calls per minute × the row cap.
    pub quota_rows_per_minute: u64,
}

impl HuntingUse {
    /// Rows per window call.
    pub fn rows_per_call(&self) -> u64 {
        self.rows / self.calls.max(1)
    }
}

impl RefreshSummary {
    /// Hunting calls, rows per call and the quota-bound limit of this refresh.
    pub fn hunting_use(&self) -> HuntingUse {
        let cap = whalewatch_tenant::hunting::HUNTING_ROW_CAP as u64;
        let mut u = HuntingUse {
            quota_rows_per_minute: self.hunting_calls_per_minute as u64 * cap,
            ..HuntingUse::default()
        };
        for s in self
            .sources
            .iter()
            .filter(|s| s.source.starts_with("hunting:"))
        {
            u.rows += s.fetched;
            u.calls += s.calls;
            u.fewest_calls += s.fetched.div_ceil(cap);
            u.counting_calls += s.counting_calls;
            u.splits += s.splits;
        }
        u
    }
}

/// Progress events, for a bar on a terminal or lines in a log.
#[derive(Debug, Clone)]
pub enum Progress {
    Started {
        source: String,
        expected_rows: Option<u64>,
    },
    Rows {
        source: String,
        rows: u64,
    },
    Finished(SourceSummary),
    Warning(String),
}

/// Everything a source pull needs.
pub struct RefreshContext<'a> {
    pub client: &'a GraphClient,
    pub options: &'a RefreshOptions,
    pub progress: &'a (dyn Fn(&Progress) + Send + Sync),
    pacer: Mutex<CallPacer>,
    /// The posture readers' quotas, shared by every posture source of the refresh.
    posture_pacers: PosturePacers,
    /// Parsed rows waiting for the writer, in KiB (see `hunting::WRITE_BUDGET_KIB`).
    write_budget: std::sync::Arc<tokio::sync::Semaphore>,
}

impl RefreshContext<'_> {
    /// Waits until `bytes` more of parsed rows may queue for the writer; the room is
    /// given back when the returned permit is dropped (once they are written).
    async fn room_for(&self, bytes: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, hunting::WRITE_BUDGET_KIB);
        // Never closed; a closed semaphore would only mean no limit.
        self.write_budget.clone().acquire_many_owned(kib).await.ok()
    }

    /// Waits for a slot in the per-minute hunting quota.
    async fn pace(&self) {
        let now = Instant::now();
        // Not a `Result` holding the guard: the future must stay `Send`.
        let wait = self
            .pacer
            .lock()
            .map(|mut p| {
                let w = p.delay(now);
                p.record(now + w);
                w
            })
            .ok();
        if let Some(w) = wait
            && !w.is_zero()
        {
            tokio::time::sleep(w).await;
        }
    }
}

/// The hunting tables a refresh pulls, in order: the small ones first (their index
/// builds overlap the `EmailEvents` download), post-delivery events after the
/// messages they move.
const HUNTING_TABLES: &[&str] = &[
    "EmailUrlInfo",
    "EmailAttachmentInfo",
    "UrlClickEvents",
    "CampaignInfo",
    "EmailEvents",
    "EmailPostDeliveryEvents",
];

fn wanted(options: &RefreshOptions, source: &str) -> bool {
    options.only.is_empty() || options.only.iter().any(|o| o.eq_ignore_ascii_case(source))
}

/// Entries of the cache's mail log a refresh keeps: months of post-delivery moves.
const MAIL_LOG_KEPT: i64 = 200_000;

/// Refreshes `cache` from the tenant behind `client`.
pub async fn refresh(
    client: &GraphClient,
    cache: Cache,
    profile: &Profile,
    options: &RefreshOptions,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RefreshSummary, SyncError> {
    let started = Instant::now();
    cache.defer_checkpoints()?;
    let writer = CacheWriter::spawn(cache);
    // A refresh killed during a bulk load left a table without its indexes.
    writer.run(|c| c.restore_indexes(None)).await?;
    // The log of email rows changed in place, which the index's column file reads to
    // catch up, kept to its newest entries (a file further behind is rebuilt).
    writer.run(|c| c.trim_mail_log(MAIL_LOG_KEPT)).await?;
    // Finished sources are recorded as they finish, so a refresh stopped by its budget
    // still reports what it completed.
    let finished = Mutex::new(Vec::new());
    let recording = |p: &Progress| {
        if let (Progress::Finished(s), Ok(mut f)) = (p, finished.lock()) {
            f.push(s.clone());
        }
        progress(p);
    };
    let ctx = RefreshContext {
        client,
        options,
        progress: &recording,
        pacer: Mutex::new(CallPacer::per_minute(
            options.hunting_calls_per_minute.max(1),
        )),
        posture_pacers: PosturePacers::new(options.posture_limits),
        write_budget: std::sync::Arc::new(tokio::sync::Semaphore::new(
            hunting::WRITE_BUDGET_KIB as usize,
        )),
    };
    tracing::info!(only = ?options.only, since = ?options.since, "refresh started");
    let run = run_sources(&ctx, &writer, profile);
    let mut budget_spent = false;
    // Dropping the pulls at the deadline is safe: every window and page commits with
    // its watermark in one transaction, exactly as when the process is killed.
    let result = match options.budget {
        Some(budget) => match tokio::time::timeout(budget, run).await {
            Ok(result) => result,
            Err(_) => {
                budget_spent = true;
                let done = finished.lock().map(|f| f.clone()).unwrap_or_default();
                let message = format!(
                    "the refresh budget of {}s ran out: stopped after {} finished source(s); what was fetched is kept and the next refresh resumes the rest",
                    budget.as_secs(),
                    done.len()
                );
                progress(&Progress::Warning(message.clone()));
                Ok((done, vec![message]))
            }
        },
        None => run.await,
    };
    // A pull that failed mid-load leaves its table unindexed: index it now.
    let restored = writer.run(|c| c.restore_indexes(None)).await;
    let Some(cache) = writer.finish() else {
        return Err(SyncError::Unexpected(
            "the cache writer stopped unexpectedly".into(),
        ));
    };
    let checkpoint = cache.checkpoint();
    let (sources, warnings) = result?;
    restored?;
    checkpoint?;
    let http = client.stats();
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        sources = sources.len(),
        http = ?http,
        "refresh finished"
    );
    Ok(RefreshSummary {
        sources,
        seconds: started.elapsed().as_secs_f64(),
        http,
        warnings,
        budget_spent,
        hunting_calls_per_minute: options.hunting_calls_per_minute.max(1),
    })
}

async fn run_sources(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    profile: &Profile,
) -> Result<(Vec<SourceSummary>, Vec<String>), SyncError> {
    let o = ctx.options;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    if wanted(o, "directory") || wanted(o, "tags") {
        out.push(directory(ctx, writer, profile).await?);
    }
    // Alerts and incidents do not depend on the mail tables: they are fetched and
    // parsed while hunting windows are written (their own writes queue in between).
    let entities = async {
        let mut found = Vec::new();
        if wanted(o, "alerts") {
            found.push(alerts(ctx, writer).await?);
        }
        if wanted(o, "incidents") {
            found.push(incidents(ctx, writer).await?);
        }
        Ok::<_, SyncError>(found)
    };
    let mail = async {
        // Every hunting source's state, read before any of them writes: a pull must
        // not wait on the writer while it builds the previous table's indexes.
        let states = writer
            .run(|c| {
                HUNTING_TABLES
                    .iter()
                    .map(|t| Ok((*t, c.source_state(&format!("hunting:{t}"))?)))
                    .collect::<Result<HashMap<_, _>, CacheError>>()
            })
            .await?;
        let state = |t: &str| states.get(t).cloned().flatten();
        // A pull returns once its windows are fetched; its last writes and index
        // build are settled here, in order, while the next tables are fetched.
        let (done, mut settling) = tokio::sync::mpsc::unbounded_channel();
        let settle = async {
            let mut found = Vec::new();
            while let Some((summary, pending)) = settling.recv().await {
                found.push(hunting::settle(ctx, summary, pending).await?);
            }
            Ok::<_, SyncError>(found)
        };
        let pulls = async move {
            let send = |p| {
                done.send(p)
                    .map_err(|_| SyncError::Unexpected("the refresh stopped".into()))
            };
            // The small tables first: their index builds run while `EmailEvents` is
            // fetched, leaving only its own at the end. Post-delivery events come after
            // `EmailEvents`, whose rows they move.
            if wanted(o, "EmailUrlInfo") {
                send(hunting::pull::<EmailUrl>(ctx, writer, state("EmailUrlInfo"), None).await?)?;
            }
            if wanted(o, "EmailAttachmentInfo") {
                let s = state("EmailAttachmentInfo");
                send(hunting::pull::<EmailAttachment>(ctx, writer, s, None).await?)?;
            }
            if wanted(o, "UrlClickEvents") {
                send(hunting::pull::<UrlClick>(ctx, writer, state("UrlClickEvents"), None).await?)?;
            }
            if wanted(o, "CampaignInfo") {
                let s = state("CampaignInfo");
                send(hunting::pull::<CampaignMessage>(ctx, writer, s, None).await?)?;
            }
            if wanted(o, "EmailEvents") {
                let hook = Some(hunting::note_protected_recipients as hunting::AfterWindow);
                send(hunting::pull::<EmailEvent>(ctx, writer, state("EmailEvents"), hook).await?)?;
            }
            if wanted(o, "EmailPostDeliveryEvents") {
                let (s, hook) = (
                    state("EmailPostDeliveryEvents"),
                    Some(hunting::apply_post_delivery_batch as hunting::AfterWindow),
                );
                send(hunting::pull::<PostDeliveryEvent>(ctx, writer, s, hook).await?)?;
            }
            Ok::<_, SyncError>(())
        };
        let ((), found) = futures_util::future::try_join(pulls, settle).await?;
        Ok::<_, SyncError>(found)
    };
    // Posture sources that need no priority account: other endpoints, other quotas.
    let tenant_wide = posture::refresh_tenant_wide(ctx, writer);
    let (entities, mail, mut posture) =
        futures_util::future::try_join3(entities, mail, tenant_wide).await?;
    out.extend(entities);
    out.extend(mail);
    if wanted(o, "tags") || wanted(o, "directory") {
        let (summary, w) = resolve_tags_into_cache(ctx, writer, profile).await?;
        for msg in &w {
            (ctx.progress)(&Progress::Warning(msg.clone()));
        }
        warnings.extend(w);
        out.push(summary);
    }
    // Posture sources about the priority accounts: after the tags, which name them.
    let (about_accounts, first) = posture::refresh_accounts(ctx, writer).await?;
    posture.extend(about_accounts);
    let (summaries, w) = posture::summarize(ctx, posture, first);
    out.extend(summaries);
    warnings.extend(w);
    Ok((out, warnings))
}

fn now_ticks() -> i64 {
    to_ticks(&Utc::now())
}

/// Users, groups, and the transitive members of the groups tags name.
#[tracing::instrument(name = "source", skip_all, fields(source = "directory"))]
async fn directory(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    profile: &Profile,
) -> Result<SourceSummary, SyncError> {
    let started = Instant::now();
    (ctx.progress)(&Progress::Started {
        source: "directory".into(),
        expected_rows: None,
    });
    let before = writer
        .run(|c| Ok((c.count("users")? as u64, c.count("groups")? as u64)))
        .await?;
    let mut calls = 2;
    let mut removed = Vec::new();
    let mut held = Vec::new();
    let users_read = ctx.client.list_users().collect_all().await?;
    let groups_read = ctx.client.list_groups().collect_all().await?;
    let mut rejected = vec![
        ("users", users_read.rejected),
        ("groups", groups_read.rejected),
    ];
    let (mut users, mut groups) = (users_read.records, groups_read.records);
    if shrinks(
        ctx,
        "users",
        before.0,
        users.len(),
        &mut calls,
        &mut removed,
        async || {
            let again = ctx.client.list_users().collect_all().await?;
            Ok(same_ids(&again.records, &users, |u| &u.id))
        },
    )
    .await?
        == Some(shrink::Shrink::Held)
    {
        users = writer.run(|c| c.users()).await?;
        held.push("users".to_string());
    }
    if shrinks(
        ctx,
        "groups",
        before.1,
        groups.len(),
        &mut calls,
        &mut removed,
        async || {
            let again = ctx.client.list_groups().collect_all().await?;
            Ok(same_ids(&again.records, &groups, |g| &g.id))
        },
    )
    .await?
        == Some(shrink::Shrink::Held)
    {
        groups = writer.run(|c| c.groups()).await?;
        held.push("groups".to_string());
    }
    let mut members: Vec<(String, Vec<(String, &'static str)>)> = Vec::new();
    for tag in profile.tags() {
        for g in &tag.groups {
            let Some(group) = tags::find_group(&groups, g) else {
                continue;
            };
            if members.iter().any(|(id, _)| *id == group.id) {
                continue;
            }
            // Members with their type, and the records that could not be taken.
            let read = async || -> Result<MembersRead, SyncError> {
                let objects = ctx
                    .client
                    .group_transitive_members(&group.id)
                    .collect_all()
                    .await?;
                let list = objects
                    .records
                    .into_iter()
                    .filter_map(|o| match o {
                        DirectoryObject::User(u) => Some((u.id, "user")),
                        DirectoryObject::Group(g) => Some((g.id, "group")),
                        _ => None,
                    })
                    .collect();
                Ok((list, objects.rejected))
            };
            let (list, group_rejected) = read().await?;
            rejected.push(("group members", group_rejected));
            calls += 1;
            let gid = group.id.clone();
            let known = writer.run(move |c| c.group_member_count(&gid)).await?;
            let name = format!(
                "members of {}",
                group.display_name.as_deref().unwrap_or(&group.id)
            );
            let outcome = shrinks(
                ctx,
                &name,
                known,
                list.len(),
                &mut calls,
                &mut removed,
                async || Ok(same_ids(&read().await?.0, &list, |m| &m.0)),
            )
            .await?;
            if outcome == Some(shrink::Shrink::Held) {
                held.push(name);
                continue;
            }
            members.push((group.id.clone(), list));
        }
    }
    let fetched = (users.len() + groups.len()) as u64;
    let rejected_count = rejected.iter().map(|(_, r)| r.len() as u64).sum();
    let now = now_ticks();
    let stats = writer
        .run(move |c| {
            c.write(|tx| {
                for (source, records) in &rejected {
                    tx.quarantine(source, records, now)?;
                }
                let stats = tx.replace_directory(&users, &groups)?;
                for (gid, list) in &members {
                    tx.replace_members(gid, list)?;
                }
                tx.advance("directory", None, now)?;
                Ok(stats)
            })
        })
        .await?;
    let summary = SourceSummary {
        source: "directory".into(),
        fetched,
        stats,
        calls,
        seconds: started.elapsed().as_secs_f64(),
        removed,
        held,
        rejected: rejected_count,
        ..SourceSummary::default()
    };
    (ctx.progress)(&Progress::Finished(summary.clone()));
    Ok(summary)
}

/// Guards one full listing against a sharp shrink (see [`shrink`]): `None` when it
/// did not shrink sharply; otherwise re-reads it with `again` (which says whether
/// the second read agrees) unless `--accept-shrink`, warns, and says whether it is
/// applied or held. Removals that will be applied are added to `removed`.
async fn shrinks(
    ctx: &RefreshContext<'_>,
    listing: &str,
    before: u64,
    after: usize,
    calls: &mut u64,
    removed: &mut Vec<(String, u64)>,
    again: impl AsyncFnOnce() -> Result<bool, SyncError>,
) -> Result<Option<shrink::Shrink>, SyncError> {
    let after = after as u64;
    if !shrink::is_sharp(before, after) {
        if before > after {
            removed.push((listing.to_string(), before - after));
        }
        return Ok(None);
    }
    // An empty answer where the cache knows many is the signature of a broken or
    // hostile endpoint, not of a tenant: only --accept-shrink applies it.
    let confirmed = if ctx.options.accept_shrink {
        true
    } else if after == 0 {
        false
    } else {
        *calls += 1;
        again().await?
    };
    let outcome = if confirmed {
        removed.push((listing.to_string(), before - after));
        (ctx.progress)(&Progress::Warning(format!(
            "{listing}: the tenant now lists {after} where the cache had {before}; applied ({})",
            if ctx.options.accept_shrink {
                "--accept-shrink"
            } else {
                "confirmed by a second read"
            }
        )));
        shrink::Shrink::Applied
    } else {
        (ctx.progress)(&Progress::Warning(format!(
            "{listing}: the tenant listed {after} where the cache has {before}, {}; kept the {before} cached (run `whalewatch refresh --accept-shrink` if the shrink is real)",
            if after == 0 {
                "an empty listing is never applied unasked"
            } else {
                "and a second read disagreed"
            }
        )));
        shrink::Shrink::Held
    };
    Ok(Some(outcome))
}

/// Whether two reads of a listing name the same objects.
fn same_ids<T>(a: &[T], b: &[T], id: fn(&T) -> &String) -> bool {
    let left: std::collections::BTreeSet<&String> = a.iter().map(id).collect();
    let right: std::collections::BTreeSet<&String> = b.iter().map(id).collect();
    left == right
}

fn since_of(
    state: Option<whalewatch_cache::SourceState>,
    overlap: i64,
) -> Option<chrono::DateTime<Utc>> {
    state
        .and_then(|s| s.watermark)
        .map(|w| whalewatch_model::hunting::from_ticks(w - overlap))
}

/// Alerts changed since the watermark.
#[tracing::instrument(name = "source", skip_all, fields(source = "alerts"))]
async fn alerts(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
) -> Result<SourceSummary, SyncError> {
    changed_since(
        ctx,
        writer,
        "alerts",
        |since| ctx.client.list_alerts(since, Some(500)),
        |a: &whalewatch_model::alert::Alert| a.last_update_date_time.as_ref().map(to_ticks),
        |tx, all| tx.upsert_alerts(all),
    )
    .await
}

/// Incidents changed since the watermark (their alerts come from `alerts_v2`).
#[tracing::instrument(name = "source", skip_all, fields(source = "incidents"))]
async fn incidents(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
) -> Result<SourceSummary, SyncError> {
    changed_since(
        ctx,
        writer,
        "incidents",
        |since| ctx.client.list_incidents(since, Some(100)),
        |i: &whalewatch_model::alert::Incident| i.last_update_date_time.as_ref().map(to_ticks),
        |tx, all| tx.upsert_incidents(all),
    )
    .await
}

/// Pulls a Graph collection incrementally by `lastUpdateDateTime`: everything
/// changed since the watermark (minus the overlap), upserted with the new watermark
/// in one transaction.
async fn changed_since<
    T: serde::de::DeserializeOwned + whalewatch_model::json::Keyed + Send + 'static,
>(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    source: &'static str,
    pager: impl FnOnce(Option<chrono::DateTime<Utc>>) -> whalewatch_tenant::Pager<T>,
    last_update: fn(&T) -> Option<i64>,
    upsert: fn(&whalewatch_cache::Writer<'_>, &[T]) -> Result<UpsertStats, CacheError>,
) -> Result<SourceSummary, SyncError> {
    let started = Instant::now();
    (ctx.progress)(&Progress::Started {
        source: source.into(),
        expected_rows: None,
    });
    let state = writer.run(move |c| c.source_state(source)).await?;
    let mut pager = pager(since_of(state, ctx.options.overlap_ticks));
    let mut all = Vec::new();
    while let Some(page) = pager.next_page().await {
        all.extend(page?);
        (ctx.progress)(&Progress::Rows {
            source: source.into(),
            rows: all.len() as u64,
        });
    }
    let calls = pager.pages() as u64;
    let rejected = pager.take_rejected();
    let rejected_count = rejected.len() as u64;
    let watermark = all.iter().filter_map(last_update).max();
    let fetched = all.len() as u64;
    let now = now_ticks();
    let stats = writer
        .run(move |c| {
            c.write(|tx| {
                tx.quarantine(source, &rejected, now)?;
                let s = upsert(tx, &all)?;
                tx.advance(source, watermark, now)?;
                Ok(s)
            })
        })
        .await?;
    let summary = SourceSummary {
        source: source.into(),
        fetched,
        stats,
        calls,
        seconds: started.elapsed().as_secs_f64(),
        rejected: rejected_count,
        ..SourceSummary::default()
    };
    (ctx.progress)(&Progress::Finished(summary.clone()));
    Ok(summary)
}

/// Resolves every tag from the cached directory and mail, and replaces memberships.
#[tracing::instrument(name = "source", skip_all, fields(source = "tags"))]
async fn resolve_tags_into_cache(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    profile: &Profile,
) -> Result<(SourceSummary, Vec<String>), SyncError> {
    let started = Instant::now();
    (ctx.progress)(&Progress::Started {
        source: "tags".into(),
        expected_rows: None,
    });
    let tag_defs = profile.tags();
    let accept_shrink = ctx.options.accept_shrink;
    let Retag {
        count,
        stats,
        mut warnings,
        removed,
        held,
    } = writer
        .run(move |c| retag(c, &tag_defs, accept_shrink))
        .await?;
    if let Some(before) = held {
        warnings.push(format!(
            "tag members: resolved {count} where the cache has {before}; kept the {before} cached (check the tag files and groups, or run `whalewatch refresh --accept-shrink` if the shrink is real)"
        ));
    }
    let summary = SourceSummary {
        source: "tags".into(),
        fetched: count,
        stats,
        calls: 0,
        seconds: started.elapsed().as_secs_f64(),
        removed: (removed > 0)
            .then(|| ("tag members".to_string(), removed))
            .into_iter()
            .collect(),
        held: held
            .map(|_| "tag members".to_string())
            .into_iter()
            .collect(),
        rejected: 0,
        ..SourceSummary::default()
    };
    (ctx.progress)(&Progress::Finished(summary.clone()));
    Ok((summary, warnings))
}

/// What re-resolving the tags did.
#[derive(Debug, Clone, Default)]
pub struct Retag {
    /// Members resolved.
    pub count: u64,
    /// Memberships new, changed (another source) or unchanged since the last resolution.
    pub stats: UpsertStats,
    /// Problems that did not stop it (an unreadable tag file, ...).
    pub warnings: Vec<String>,
    /// Memberships removed from the cache.
    pub removed: u64,
    /// The cached count, when a sharp shrink was held back (see [`shrink`]).
    pub held: Option<u64>,
}

/// Resolves every tag of `tag_defs` from what `c` holds (directory, group members,
/// protected recipients, the Exchange snapshot's VIP list) and replaces the
/// memberships, unless they shrink sharply and `accept_shrink` is off: tags are
/// resolved here, so a second read would agree, and a tag file or group that went
/// missing must not silently empty a tag. The refresh runs it last; `posture import`
/// runs it so imported VIPs join at once.
pub fn retag(
    c: &mut Cache,
    tag_defs: &[whalewatch_config::TagDef],
    accept_shrink: bool,
) -> Result<Retag, CacheError> {
    let users = c.users()?;
    let groups = c.groups()?;
    let group_users = c.group_members()?;
    let protected = c.protected_recipients()?;
    let vips = c.exchange_snapshot()?.map(|s| s.vips).unwrap_or_default();
    let input = TagInputs {
        users: &users,
        groups: &groups,
        group_users: &group_users,
        protected_recipients: &protected,
        exchange_vips: &vips,
    };
    let (members, warnings) = tags::resolve(tag_defs, &input);
    let names: Vec<(String, bool)> = tag_defs
        .iter()
        .map(|t| (t.name.clone(), t.name == PRIORITY_ACCOUNT))
        .collect();
    let count = members.len() as u64;
    let before = c.count("tag_members")? as u64;
    let hold = shrink::is_sharp(before, count) && !accept_shrink;
    let now = now_ticks();
    let stats = c.write(|tx| {
        let stats = if hold {
            UpsertStats::default()
        } else {
            tx.replace_tags(&names, &members)?
        };
        tx.advance("tags", None, now)?;
        Ok(stats)
    })?;
    Ok(Retag {
        count,
        stats,
        warnings,
        removed: if hold {
            0
        } else {
            before.saturating_sub(count)
        },
        held: hold.then_some(before),
    })
}

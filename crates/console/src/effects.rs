//! Runs the effects `update` returns — on tokio tasks or worker threads — and
//! answers each with a [`Msg`]. This is the console's only door to the network
//! (through `sync`) and to files.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::app::FrameWriter;
use super::data;
use super::state::Notice;
use super::update::{Effect, Msg, RefreshEvent, TriageWrite};
use whalewatch_cache::Cache;
use whalewatch_config::Profile;
use whalewatch_sync::remediate::{enqueue_remediation, record_cancelled};
use whalewatch_sync::triage::{
    Outcome, add_note, enqueue_alert_change, enqueue_incident_change, flush,
};
use whalewatch_sync::{RefreshOptions, refresh};
use whalewatch_tenant::GraphClient;

/// What a background refresh needs.
#[derive(Clone)]
pub struct RefreshTarget {
    pub client: GraphClient,
    pub profile: Profile,
    pub options: RefreshOptions,
}

/// Runs effects.
pub struct Effects {
    tx: UnboundedSender<Msg>,
    cache_path: PathBuf,
    settings_path: PathBuf,
    /// Where the prompt history is saved (`None`: not kept, as in tests).
    history_path: Option<PathBuf>,
    refresh: Option<Arc<RefreshTarget>>,
    /// Who the journal names; `a` may learn the analyst's name during the session.
    analyst: std::sync::Mutex<String>,
    profile: String,
    config_path: Option<PathBuf>,
    read_only: bool,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    /// The newest fuzzy search started; older ones stop at their next chunk.
    search: Arc<std::sync::atomic::AtomicU64>,
    /// The profile's session log.
    session_log: PathBuf,
    /// Whether writing it failed (reported once).
    log_failed: std::sync::atomic::AtomicBool,
}

fn notice(text: impl Into<String>, error: bool) -> Msg {
    Msg::Notice(Notice {
        text: text.into(),
        error,
    })
}

impl Effects {
    pub fn new(
        tx: UnboundedSender<Msg>,
        cache_path: PathBuf,
        settings_path: PathBuf,
        refresh: Option<RefreshTarget>,
        session: &super::state::Session,
    ) -> Effects {
        let dir = cache_path
            .parent()
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
        Effects {
            tx,
            cache_path,
            settings_path,
            history_path: None,
            refresh: refresh.map(Arc::new),
            analyst: std::sync::Mutex::new(session.analyst.clone()),
            profile: session.profile.clone(),
            config_path: session.config_path.clone(),
            read_only: session.read_only,
            tasks: Default::default(),
            search: Default::default(),
            session_log: super::session_log::path(&dir, &session.profile),
            log_failed: Default::default(),
        }
    }

    /// Sets what a refresh needs, once the tenant client is built (after the first
    /// frame; loading does not wait for it).
    pub fn set_refresh(&mut self, refresh: Option<RefreshTarget>) {
        self.refresh = refresh.map(Arc::new);
    }

    /// Saves the prompt history to `path` after each submitted line.
    pub fn with_history_path(mut self, path: PathBuf) -> Effects {
        self.history_path = Some(path);
        self
    }

    fn keep(&self, h: JoinHandle<()>) {
        if let Ok(mut t) = self.tasks.lock() {
            t.retain(|h| !h.is_finished());
            t.push(h);
        }
    }

    /// Loads what the first frame left out — the email index, and every alert,
    /// campaign, user and incident — on worker threads.
    pub fn load_rest(&self) {
        let (tx, path) = (self.tx.clone(), self.cache_path.clone());
        self.keep(tokio::task::spawn_blocking(move || Self::reload(tx, path)));
    }

    /// Reloads everything (at start, after a refresh): the email index on its own
    /// thread (mapped from its column file in milliseconds, it need not wait for
    /// every alert) beside the quick half. The two messages arrive in either order;
    /// `update` merges them whichever comes first.
    fn reload(tx: UnboundedSender<Msg>, path: PathBuf) {
        let (itx, ipath) = (tx.clone(), path.clone());
        let index = std::thread::Builder::new()
            .name("index".into())
            .spawn(move || Self::reindex(&itx, &ipath));
        match data::load_quick(&path) {
            Ok(mut s) => {
                s.index_follows = true;
                let _ = tx.send(Msg::Loaded(Box::new(s)));
            }
            Err(e) => {
                let _ = tx.send(notice(format!("cannot read the cache: {e}"), true));
            }
        }
        let joined = match index {
            Ok(h) => h.join().is_ok(),
            // No thread to spare: open it here, after the quick half.
            Err(_) => {
                Self::reindex(&tx, &path);
                true
            }
        };
        if !joined {
            let _ = tx.send(notice(
                "the email index could not be loaded (its worker stopped); press r to reload",
                true,
            ));
        }
    }

    /// Opens the email index and sends it (or why it could not be opened), then
    /// its per-recipient figures.
    fn reindex(tx: &UnboundedSender<Msg>, path: &std::path::Path) {
        match data::load_index(path) {
            Ok(e) => {
                let index = e.index.clone();
                let _ = tx.send(Msg::Emails(e));
                let _ = tx.send(Msg::Recipients(data::recipient_data(&index)));
            }
            Err(e) => {
                let _ = tx.send(notice(format!("cannot index the cached mail: {e}"), true));
            }
        }
    }

    /// Runs one effect. `out` is the terminal, for clipboard writes.
    pub fn run(&self, effect: Effect, out: &FrameWriter) {
        match effect {
            Effect::Refresh => self.refresh(),
            Effect::Reindex => {
                let (tx, path) = (self.tx.clone(), self.cache_path.clone());
                self.keep(tokio::task::spawn_blocking(move || {
                    Self::reindex(&tx, &path);
                }));
            }
            Effect::LoadDetail { kind, key, data } => {
                let (tx, path) = (self.tx.clone(), self.cache_path.clone());
                self.keep(tokio::task::spawn_blocking(move || {
                    let msg = match super::details::load(&path, &data, &kind, &key) {
                        Ok(detail) => Msg::Detail {
                            key,
                            detail: Arc::new(detail),
                        },
                        Err(e) => notice(format!("cannot load the details: {e}"), true),
                    };
                    let _ = tx.send(msg);
                }));
            }
            Effect::Copy { text, what } => {
                let n = text.chars().count();
                let msg = match osc52(out, &text) {
                    Ok(()) => notice(format!("copied {what} ({n} characters) with OSC 52"), false),
                    Err(e) => notice(format!("cannot copy: {e}"), true),
                };
                let _ = self.tx.send(msg);
            }
            Effect::Export(job) => {
                let (tx, cache) = (self.tx.clone(), self.cache_path.clone());
                let dir = self
                    .cache_path
                    .parent()
                    .map(|p| p.join("exports"))
                    .unwrap_or_else(|| PathBuf::from("exports"));
                self.keep(tokio::task::spawn_blocking(move || {
                    let msg = match super::export::write(&job, &cache, &dir) {
                        Ok(written) => notice(written.to_string(), false),
                        Err(e) => notice(format!("export failed: {e}"), true),
                    };
                    let _ = tx.send(msg);
                }));
            }
            Effect::Triage(write) => self.triage(*write),
            Effect::Analyst(name) => {
                if let Ok(mut a) = self.analyst.lock() {
                    *a = name;
                }
            }
            Effect::SaveAnalyst(name) => {
                let (tx, profile) = (self.tx.clone(), self.profile.clone());
                let Some(path) = self.config_path.clone() else {
                    let _ = tx.send(notice(
                        "this session has no config file to save the analyst in; add analyst = \"…\" to the profile",
                        true,
                    ));
                    return;
                };
                self.keep(tokio::task::spawn_blocking(move || {
                    let msg = match whalewatch_config::save_analyst(&path, &profile, &name) {
                        Ok(()) => notice(
                            format!(
                                "saved analyst = \"{name}\" in profile `{profile}` ({})",
                                path.display()
                            ),
                            false,
                        ),
                        Err(e) => notice(format!("cannot save the analyst: {e}"), true),
                    };
                    let _ = tx.send(msg);
                }));
            }
            Effect::Remote {
                id,
                filter,
                tags,
                now,
            } => self.remote(id, &filter, &tags, now),
            Effect::SaveView { name, view } => {
                let msg = match super::settings::save_view(&self.settings_path, &name, &view) {
                    Ok(()) => notice(
                        format!(
                            "saved view `{name}` (`:open {name}` or `whalewatch tui --open {name}`)"
                        ),
                        false,
                    ),
                    Err(e) => notice(format!("cannot save the view `{name}`: {e}"), true),
                };
                let _ = self.tx.send(msg);
            }
            Effect::Search {
                id,
                query,
                index,
                scope,
            } => {
                self.search.store(id, std::sync::atomic::Ordering::Relaxed);
                let (Some(index), false) = (index, query.is_empty()) else {
                    return;
                };
                let (tx, newest) = (self.tx.clone(), self.search.clone());
                self.keep(tokio::task::spawn_blocking(move || {
                    let scope = scope.as_deref();
                    super::search::run(&index, scope, id, &query, &newest, &mut |progress| {
                        let _ = tx.send(Msg::Search {
                            id,
                            query: query.clone(),
                            progress,
                        });
                    });
                }));
            }
            Effect::SaveColumns(titles) => {
                let msg = match super::settings::save_columns(&self.settings_path, &titles) {
                    Ok(()) => notice("columns saved for this profile", false),
                    Err(e) => notice(format!("cannot save the columns: {e}"), true),
                };
                let _ = self.tx.send(msg);
            }
            Effect::SaveHistory(history) => {
                // A few kilobytes, owner-only; a failure is said once per line submitted.
                if let Some(path) = &self.history_path
                    && let Err(e) = history.save(path)
                {
                    let _ = self.tx.send(notice(e.to_string(), true));
                }
            }
        }
    }

    /// Queues a triage write in the outbox (the console shows it pending at once),
    /// then sends everything queued and reports what the tenant said.
    fn triage(&self, write: TriageWrite) {
        let (tx, path) = (self.tx.clone(), self.cache_path.clone());
        let analyst = self
            .analyst
            .lock()
            .map(|a| a.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        let target = if self.read_only {
            None
        } else {
            self.refresh.clone()
        };
        self.keep(tokio::spawn(async move {
            let send = !matches!(write, TriageWrite::Note { .. });
            // Marks on these alerts clear once the write is queued.
            let alerts = match &write {
                TriageWrite::Alerts { ids, .. } => ids.clone(),
                _ => Vec::new(),
            };
            // A remediation moves mail: the grid's locations come from the index.
            let moves_mail = matches!(write, TriageWrite::Remediate { .. });
            let p = path.clone();
            let queued = tokio::task::spawn_blocking(move || queue(&p, write, &analyst))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            match queued {
                Ok(text) => {
                    let _ = tx.send(Msg::Queued {
                        alerts,
                        notice: text,
                    });
                }
                Err(e) => {
                    let _ = tx.send(notice(e, true));
                    return;
                }
            }
            let p = path.clone();
            let t2 = tx.clone();
            let _ = tokio::task::spawn_blocking(move || reload_quick(&t2, &p)).await;
            if !send {
                return;
            }
            let Some(target) = target else {
                let _ = tx.send(notice("queued; no tenant connection in this session, the next `whalewatch alert flush` sends it", false));
                return;
            };
            let (text, lines) = flush_outbox(&target, &path).await;
            if !lines.is_empty() {
                let _ = tx.send(Msg::Report { title: "remediation result".into(), lines });
            }
            let _ = tx.send(Msg::Notice(Notice { text, error: false }));
            let _ = tokio::task::spawn_blocking(move || {
                if moves_mail {
                    Self::reload(tx, path);
                } else {
                    reload_quick(&tx, &path);
                }
            })
            .await;
        }));
    }

    /// Appends what `update` recorded to the profile's session log: one small append,
    /// in order, on the loop — the log must not lose the last view to a quit, and a
    /// line costs microseconds (like saved columns).
    pub fn log(&self, records: Vec<super::session_log::Record>) {
        if records.is_empty() {
            return;
        }
        let at = chrono::Utc::now();
        let entries: Vec<super::session_log::Entry> = records
            .into_iter()
            .map(|r| super::session_log::Entry {
                at,
                kind: r.kind,
                line: r.line,
                run: r.run,
            })
            .collect();
        if let Err(e) = super::session_log::append(&self.session_log, &entries)
            && !self
                .log_failed
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            let _ = self.tx.send(notice(
                format!(
                    "cannot write the session log {}: {e}",
                    self.session_log.display()
                ),
                true,
            ));
        }
    }

    /// Runs remote view `id` on the tenant, sending each part as it arrives.
    fn remote(
        &self,
        id: u64,
        filter: &whalewatch_query::Filter,
        tags: &whalewatch_query::index::TagTable,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        let tx = self.tx.clone();
        let fail = |e: String| {
            let _ = tx.send(Msg::Remote {
                id,
                part: super::remote::RemotePart::Failed(e),
            });
        };
        let Some(target) = self.refresh.clone() else {
            fail("the remote view needs the tenant: this session works offline".into());
            return;
        };
        let q = match whalewatch_query::compile(whalewatch_query::Entity::Emails, filter, tags, now)
        {
            Ok(q) => q,
            Err(e) => {
                fail(format!("this view cannot run on advanced hunting: {e}"));
                return;
            }
        };
        self.keep(tokio::spawn(async move {
            super::remote::run_view(&target.client, &q, &mut |part| {
                let _ = tx.send(Msg::Remote { id, part });
            })
            .await;
        }));
    }

    /// Sends writes a previous session left queued (after a crash or offline work).
    pub fn flush_on_start(&self) {
        let Some(target) = (!self.read_only).then(|| self.refresh.clone()).flatten() else {
            return;
        };
        let (tx, path) = (self.tx.clone(), self.cache_path.clone());
        self.keep(tokio::spawn(async move {
            let waiting = Cache::open_read_only(&path)
                .and_then(|c| c.outbox())
                .map(|o| o.iter().any(|e| e.state.is_pending()))
                .unwrap_or(false);
            if !waiting {
                return;
            }
            let (text, _) = flush_outbox(&target, &path).await;
            let _ = tx.send(notice(format!("sent writes queued earlier: {text}"), false));
            let _ = tokio::task::spawn_blocking(move || reload_quick(&tx, &path)).await;
        }));
    }

    fn refresh(&self) {
        let Some(target) = self.refresh.clone() else {
            let _ = self.tx.send(Msg::Refresh(RefreshEvent::Failed(
                "this session cannot reach the tenant".into(),
            )));
            return;
        };
        let (tx, path) = (self.tx.clone(), self.cache_path.clone());
        self.keep(tokio::spawn(async move {
            // One refresh per cache: when another (a CLI refresh, another console)
            // holds it, say so, wait for it, and show what it brought.
            let lock = match whalewatch_sync::lock::RefreshLock::acquire(&path, None) {
                Ok(lock) => lock,
                Err(whalewatch_sync::lock::LockError::Busy { pid, .. }) => {
                    let _ = tx.send(Msg::Refresh(RefreshEvent::Progress(
                        whalewatch_sync::Progress::Warning(format!(
                            "another refresh is running (pid {pid}); its result will show when it ends"
                        )),
                    )));
                    let wait_path = path.clone();
                    let waited = tokio::task::spawn_blocking(move || {
                        whalewatch_sync::lock::RefreshLock::acquire(&wait_path, Some(&|_: &str| {}))
                            .map(drop)
                    })
                    .await;
                    match waited {
                        Ok(Ok(())) => {
                            let _ = tx.send(Msg::Refresh(RefreshEvent::Done(
                                "the other refresh ended; reloaded".into(),
                            )));
                            let _ = tokio::task::spawn_blocking(move || Self::reload(tx, path)).await;
                        }
                        Ok(Err(e)) => {
                            let _ = tx.send(Msg::Refresh(RefreshEvent::Failed(e.to_string())));
                        }
                        Err(e) => {
                            let _ = tx.send(Msg::Refresh(RefreshEvent::Failed(e.to_string())));
                        }
                    }
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Msg::Refresh(RefreshEvent::Failed(e.to_string())));
                    return;
                }
            };
            let cache = match Cache::open(&path).and_then(|c| c.quick_check().map(|()| c)) {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Msg::Refresh(RefreshEvent::Failed(e.to_string())));
                    return;
                }
            };
            let ptx = tx.clone();
            let progress = move |p: &whalewatch_sync::Progress| {
                let _ = ptx.send(Msg::Refresh(RefreshEvent::Progress(p.clone())));
            };
            let result = refresh(
                &target.client,
                cache,
                &target.profile,
                &target.options,
                &progress,
            )
            .await;
            drop(lock);
            match result {
                Ok(summary) => {
                    let rows: u64 = summary.sources.iter().map(|s| s.fetched).sum();
                    let _ = tx.send(Msg::Refresh(RefreshEvent::Done(format!(
                        "refreshed {} sources, {rows} rows in {:.1} s",
                        summary.sources.len(),
                        summary.seconds
                    ))));
                    let _ = tokio::task::spawn_blocking(move || Self::reload(tx, path)).await;
                }
                Err(e) => {
                    let _ = tx.send(Msg::Refresh(RefreshEvent::Failed(format!(
                        "refresh failed: {e}"
                    ))));
                }
            }
        }));
    }

    /// Stops background tasks (a refresh in flight resumes from its watermarks next
    /// time; worker threads are left to the runtime's shutdown timeout).
    pub fn shutdown(&self) {
        if let Ok(tasks) = self.tasks.lock() {
            for t in tasks.iter() {
                t.abort();
            }
        }
    }
}

/// Queues one write; the text says what was queued.
fn queue(path: &std::path::Path, write: TriageWrite, analyst: &str) -> Result<String, String> {
    let mut cache = Cache::open(path).map_err(|e| e.to_string())?;
    match write {
        TriageWrite::Alerts { ids, change } => {
            enqueue_alert_change(&mut cache, &ids, &change, analyst).map_err(|e| e.to_string())?;
            Ok(format!(
                "queued {} on {} alert(s); sending…",
                change.describe(),
                ids.len()
            ))
        }
        TriageWrite::Incidents { ids, change } => {
            enqueue_incident_change(&mut cache, &ids, &change, analyst)
                .map_err(|e| e.to_string())?;
            Ok(format!(
                "queued {} on {} incident(s); sending…",
                change.describe(),
                ids.len()
            ))
        }
        TriageWrite::Note { kind, id, text } => {
            add_note(&mut cache, kind, &id, &text, analyst).map_err(|e| e.to_string())?;
            Ok("note saved".into())
        }
        TriageWrite::Remediate { plan, typed } => {
            let display = plan.display_name.clone();
            match plan.clone().confirm(&typed) {
                Ok(confirmed) => {
                    enqueue_remediation(&mut cache, &confirmed, analyst)
                        .map_err(|e| e.to_string())?;
                    Ok(format!("queued remediation `{display}`; sending…"))
                }
                Err(e) => {
                    let _ = record_cancelled(&mut cache, &plan, &e.to_string(), analyst);
                    Err(e.to_string())
                }
            }
        }
    }
}

/// Sends what the outbox holds; a one-line summary of the tenant's answers.
async fn flush_outbox(target: &RefreshTarget, path: &std::path::Path) -> (String, Vec<String>) {
    let mut cache = match Cache::open(path) {
        Ok(c) => c,
        Err(e) => {
            return (
                format!("cannot open the cache to send queued writes: {e}"),
                Vec::new(),
            );
        }
    };
    match flush(&target.client, &mut cache).await {
        Ok(report) => {
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            let mut links = Vec::new();
            let mut lines = Vec::new();
            for o in &report.outcomes {
                let k = match &o.outcome {
                    Outcome::Sent | Outcome::AlreadyApplied => "sent",
                    Outcome::Conflict(_) => "conflict (changed on the tenant; see its details)",
                    Outcome::Failed(_) => "failed",
                    Outcome::Queued(_) => "still queued",
                };
                *counts.entry(k).or_default() += 1;
                if let Some(r) = &o.remediation {
                    use whalewatch_sync::remediate::MessageState;
                    lines.push(format!("{} — {}", o.target, o.detail));
                    if let Some(l) = &r.action_center {
                        lines.push(format!("Action center: {l}"));
                    }
                    for m in &r.messages {
                        let state = match &m.state {
                            MessageState::Done => "done".to_string(),
                            MessageState::Failed(why) => format!("FAILED: {why}"),
                            MessageState::NoResultYet => "no result yet".to_string(),
                        };
                        lines.push(format!(
                            "  {} → {}: now {} · {state}",
                            m.network_message_id,
                            m.recipient,
                            m.latest_location.as_deref().unwrap_or("?")
                        ));
                    }
                    let done = r
                        .messages
                        .iter()
                        .filter(|m| m.state == MessageState::Done)
                        .count();
                    let failed = r
                        .messages
                        .iter()
                        .filter(|m| matches!(m.state, MessageState::Failed(_)))
                        .count();
                    links.push(format!(
                        "remediation: {done} moved, {failed} failed, {} waiting{}",
                        r.messages.len() - done - failed,
                        r.action_center
                            .as_deref()
                            .map_or(String::new(), |l| format!(" · Action center {l}"))
                    ));
                }
            }
            let mut text: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            if let Some(s) = &report.stopped {
                text.push(format!("stopped: {s}"));
            }
            text.extend(links);
            let text = if text.is_empty() {
                "nothing to send".into()
            } else {
                text.join(" · ")
            };
            (text, lines)
        }
        Err(e) => (
            format!("sending queued writes failed (they stay queued): {e}"),
            Vec::new(),
        ),
    }
}

fn reload_quick(tx: &UnboundedSender<Msg>, path: &std::path::Path) {
    if let Ok(s) = data::load_quick(path) {
        let _ = tx.send(Msg::Loaded(Box::new(s)));
    }
}

/// Writes `text` to the clipboard with OSC 52 (the terminal, tmux and SSH carry it
/// to the analyst's machine). The raw value goes out base64-encoded, so nothing in it
/// can act on the terminal.
fn osc52(out: &FrameWriter, text: &str) -> std::io::Result<()> {
    let mut w = out.clone();
    crossterm::queue!(
        w,
        crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
    )?;
    out.commit()
}

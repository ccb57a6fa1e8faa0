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
use super::update::{Effect, Msg, RefreshEvent};
use crate::cache::Cache;
use crate::config::Profile;
use crate::query::index::entities::CampaignIndex;
use crate::sync::{RefreshOptions, refresh};
use crate::tenant::GraphClient;

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
    refresh: Option<Arc<RefreshTarget>>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
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
    ) -> Effects {
        Effects {
            tx,
            cache_path,
            settings_path,
            refresh: refresh.map(Arc::new),
            tasks: Default::default(),
        }
    }

    fn keep(&self, h: JoinHandle<()>) {
        if let Ok(mut t) = self.tasks.lock() {
            t.retain(|h| !h.is_finished());
            t.push(h);
        }
    }

    /// Builds the email index on a worker thread.
    pub fn load_emails(&self, campaigns: Arc<CampaignIndex>) {
        let (tx, path) = (self.tx.clone(), self.cache_path.clone());
        self.keep(tokio::task::spawn_blocking(
            move || match data::load_emails(&path, &campaigns) {
                Ok(e) => {
                    let _ = tx.send(Msg::Emails(e));
                }
                Err(e) => {
                    let _ = tx.send(notice(format!("cannot index the cached mail: {e}"), true));
                }
            },
        ));
    }

    /// Reloads everything after a refresh: the quick half, then the index.
    fn reload(tx: UnboundedSender<Msg>, path: PathBuf) {
        match data::load_quick(&path) {
            Ok(s) => {
                let campaigns = s.campaigns.clone();
                let _ = tx.send(Msg::Loaded(Box::new(s)));
                match data::load_emails(&path, &campaigns) {
                    Ok(e) => {
                        let _ = tx.send(Msg::Emails(e));
                    }
                    Err(e) => {
                        let _ = tx.send(notice(format!("cannot index the cached mail: {e}"), true));
                    }
                }
            }
            Err(e) => {
                let _ = tx.send(notice(format!("cannot read the cache: {e}"), true));
            }
        }
    }

    /// Runs one effect. `out` is the terminal, for clipboard writes.
    pub fn run(&self, effect: Effect, out: &FrameWriter) {
        match effect {
            Effect::Refresh => self.refresh(),
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
                let tx = self.tx.clone();
                let dir = self
                    .cache_path
                    .parent()
                    .map(|p| p.join("exports"))
                    .unwrap_or_else(|| PathBuf::from("exports"));
                self.keep(tokio::task::spawn_blocking(move || {
                    let msg = match super::export::write(&job, &dir) {
                        Ok(paths) => notice(
                            format!("exported {} rows to {paths}", job.rows.len()),
                            false,
                        ),
                        Err(e) => notice(format!("export failed: {e}"), true),
                    };
                    let _ = tx.send(msg);
                }));
            }
            Effect::SaveColumns(titles) => {
                let msg = match super::settings::save_columns(&self.settings_path, &titles) {
                    Ok(()) => notice("columns saved for this profile", false),
                    Err(e) => notice(format!("cannot save the columns: {e}"), true),
                };
                let _ = self.tx.send(msg);
            }
        }
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
            let cache = match Cache::open(&path) {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Msg::Refresh(RefreshEvent::Failed(e.to_string())));
                    return;
                }
            };
            let ptx = tx.clone();
            let progress = move |p: &crate::sync::Progress| {
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

//! Posture sources as refresh sources: each one read, stored and given its own state
//! (watermark, last success, last error, the permission it lacks), after the tags
//! (they need the priority accounts) and so after the hunting pull.
//!
//! One source refused (a missing permission or licence) or failing never stops the
//! others: it is recorded as such, a warning names what to grant, and the refresh
//! still succeeds.

use std::collections::HashSet;
use std::time::Instant;

use chrono::Utc;

use super::writer::CacheWriter;
use super::{Progress, RefreshContext, SourceSummary, SyncError, address_of, now_ticks, wanted};
use crate::cache::{Cache, CacheError, PostureRecord, UpsertStats};
use crate::config::PRIORITY_ACCOUNT;
use crate::model::hunting::{from_ticks, to_ticks};
use crate::model::posture::{MessageTrace, source};
use crate::tenant::TenantError;
use crate::tenant::posture::{PosturePacers, PostureReader, Records, refusal};

/// How far back sign-ins reach (and are kept): the posture checks look at 30 days.
pub const SIGN_IN_DAYS: i64 = 30;

/// How far back message traces reach: the Email issues check looks at 7 days.
pub const TRACE_DAYS: i64 = 7;

/// A priority account as the directory knows it.
#[derive(Debug, Clone, Default)]
struct Account {
    id: String,
    upn: String,
}

/// The members of the Priority account tag, joined to the cached directory (ids for
/// sign-ins and memberships, sign-in names for MFA registration).
fn priority_accounts(c: &Cache) -> Result<(Vec<Account>, Vec<String>), CacheError> {
    let addresses: HashSet<String> = c
        .tag_addresses(PRIORITY_ACCOUNT)?
        .into_iter()
        .map(|a| a.to_lowercase())
        .collect();
    let mut accounts: Vec<Account> = c
        .users()?
        .into_iter()
        .filter_map(|u| {
            let upn = u.user_principal_name.clone()?.to_lowercase();
            let address = address_of(&u)?;
            (addresses.contains(&address) || addresses.contains(&upn)).then(|| Account {
                id: u.id.clone(),
                upn,
            })
        })
        .collect();
    accounts.sort_by(|a, b| a.upn.cmp(&b.upn));
    let mut all: Vec<String> = addresses.into_iter().collect();
    all.sort();
    Ok((accounts, all))
}

/// What a posture source read, ready for the writer: it writes inside the source's
/// transaction and may return a warning (an empty listing that kept the cached set).
type Store = Box<
    dyn FnOnce(&crate::cache::Writer<'_>) -> Result<(UpsertStats, Option<String>), CacheError>
        + Send,
>;

fn nothing() -> Store {
    Box::new(|_| Ok((UpsertStats::default(), None)))
}

/// Why a source could not be read: the tenant (recorded, the refresh goes on) or the
/// cache (the refresh stops).
enum ReadError {
    Tenant(TenantError),
    Cache(CacheError),
}

impl From<TenantError> for ReadError {
    fn from(e: TenantError) -> Self {
        ReadError::Tenant(e)
    }
}

impl From<CacheError> for ReadError {
    fn from(e: CacheError) -> Self {
        ReadError::Cache(e)
    }
}

/// Refreshes every wanted posture source; returns their summaries and warnings.
pub(super) async fn refresh(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
) -> Result<(Vec<SourceSummary>, Vec<String>), SyncError> {
    let o = ctx.options;
    let graph: Vec<&str> = source::ALL
        .into_iter()
        .filter(|s| *s != source::EXCHANGE && wanted(o, s))
        .collect();
    if graph.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let (accounts, addresses) = writer.run(|c| priority_accounts(c)).await?;
    let pacers = PosturePacers::default();
    let reader = PostureReader::new(ctx.client, &pacers);
    let mut summaries = Vec::new();
    let mut warnings = Vec::new();
    if accounts.is_empty() {
        warnings.push(format!(
            "posture: no member of the `{PRIORITY_ACCOUNT}` tag is in the directory, so MFA registration, sign-ins and memberships were read for nobody; add priority accounts to the tag (a group, a file, or an imported Exchange VIP list)"
        ));
    }
    for name in graph {
        let started = Instant::now();
        (ctx.progress)(&Progress::Started {
            source: name.into(),
            expected_rows: None,
        });
        let read = read_source(name, &reader, writer, &accounts, &addresses).await;
        let now = now_ticks();
        let name_owned = name.to_string();
        let (fetched, calls, stats) = match read {
            Ok(read) => {
                if read.skipped > 0 {
                    warnings.push(format!(
                        "{name}: skipped {} record(s) that do not have the documented shape (first: {})",
                        read.skipped,
                        read.first_skip.as_deref().unwrap_or("?")
                    ));
                }
                let (store, watermark) = (read.store, read.watermark);
                let (stats, kept) = writer
                    .run(move |c| {
                        c.write(|tx| {
                            let s = store(tx)?;
                            tx.advance(&name_owned, watermark, now)?;
                            Ok(s)
                        })
                    })
                    .await?;
                warnings.extend(kept);
                (read.fetched, read.calls, stats)
            }
            Err(ReadError::Cache(e)) => return Err(e.into()),
            Err(ReadError::Tenant(e)) => {
                let (message, grant) = match refusal(&e) {
                    Some(r) => {
                        let w = format!(
                            "{name} unavailable: grant {} to the app registration (admin consent), then refresh; everything else was refreshed ({})",
                            r.grant, r.message
                        );
                        (w, Some(r.grant))
                    }
                    None => (format!("{name} failed: {e}"), None),
                };
                warnings.push(message.clone());
                writer
                    .run(move |c| {
                        c.write(|tx| tx.fail_source(&name_owned, &message, grant.as_deref()))
                    })
                    .await?;
                (0, 0, UpsertStats::default())
            }
        };
        let summary = SourceSummary {
            source: name.into(),
            fetched,
            stats,
            calls,
            seconds: started.elapsed().as_secs_f64(),
        };
        (ctx.progress)(&Progress::Finished(summary.clone()));
        summaries.push(summary);
    }
    for w in &warnings {
        (ctx.progress)(&Progress::Warning(w.clone()));
    }
    Ok((summaries, warnings))
}

/// One source's answer, not yet written.
struct Read {
    fetched: u64,
    calls: u64,
    skipped: usize,
    first_skip: Option<String>,
    watermark: Option<i64>,
    store: Store,
}

impl Read {
    fn of<T>(r: &Records<T>, store: Store) -> Read {
        Read {
            fetched: r.records.len() as u64,
            calls: r.calls,
            skipped: r.skipped,
            first_skip: r.first_skip.clone(),
            watermark: None,
            store,
        }
    }
}

/// A full listing replaces the cached one, unless it came back empty while the cache
/// had records: then the cached set stays and the analyst is told.
fn full_listing<T: PostureRecord + Send + 'static>(name: &str, records: Records<T>) -> Read {
    let mut read = Read::of(&records, nothing());
    let (name, list) = (name.to_string(), records.records);
    read.store = Box::new(move |tx| {
        if list.is_empty() {
            let cached = tx.posture_len::<T>()?;
            if cached > 0 {
                return Ok((
                    UpsertStats::default(),
                    Some(format!(
                        "{name}: the tenant listed nothing, but the cache holds {cached}; kept them (check the source in the portal, then refresh again)"
                    )),
                ));
            }
        }
        Ok((tx.replace_posture(&list)?, None))
    });
    read
}

async fn read_source(
    name: &str,
    reader: &PostureReader<'_>,
    writer: &CacheWriter,
    accounts: &[Account],
    addresses: &[String],
) -> Result<Read, ReadError> {
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    match name {
        source::MFA => {
            let upns: Vec<String> = accounts.iter().map(|a| a.upn.clone()).collect();
            let r = reader.mfa_registrations(Some(&upns)).await?;
            Ok(full_listing(name, r))
        }
        source::CONDITIONAL_ACCESS => {
            let r = reader.conditional_access_policies().await?;
            Ok(full_listing(name, r))
        }
        source::MEMBERSHIPS => {
            let r = reader.memberships(&ids).await?;
            Ok(full_listing(name, r))
        }
        source::RISKY_USERS => {
            let r = reader.risky_users().await?;
            Ok(full_listing(name, r))
        }
        source::SECURE_SCORE => {
            let scores = reader.secure_scores().await?;
            let controls = reader.secure_score_controls().await?;
            let mut read = full_listing(name, scores);
            let controls_read = full_listing(name, controls);
            read.fetched += controls_read.fetched;
            read.calls += controls_read.calls;
            read.skipped += controls_read.skipped;
            read.first_skip = read.first_skip.or(controls_read.first_skip);
            let (a, b) = (read.store, controls_read.store);
            read.store = Box::new(move |tx| {
                let (mut s, kept_a) = a(tx)?;
                let (t, kept_b) = b(tx)?;
                s.new += t.new;
                Ok((s, kept_a.or(kept_b)))
            });
            Ok(read)
        }
        source::SIGN_INS => {
            let state = writer.run(|c| c.source_state(source::SIGN_INS)).await?;
            let now = Utc::now();
            let floor = now - chrono::Duration::days(SIGN_IN_DAYS);
            // From the newest sign-in seen minus an overlap (late arrivals), never
            // further back than the checks look.
            let since = state
                .and_then(|s| s.watermark)
                .map(|w| from_ticks(w - super::plan::HOUR))
                .map_or(floor, |t| t.max(floor));
            let r = reader.sign_ins(&ids, since).await?;
            let mut read = Read::of(&r, nothing());
            read.watermark = r
                .records
                .iter()
                .filter_map(|s| s.created_date_time.as_ref().map(to_ticks))
                .max();
            let keep = to_ticks(&floor);
            let list = r.records;
            read.store = Box::new(move |tx| Ok((tx.upsert_sign_ins(&list, keep)?, None)));
            Ok(read)
        }
        source::MESSAGE_TRACES => {
            let to = Utc::now();
            let from = to - chrono::Duration::days(TRACE_DAYS);
            let wanted: HashSet<&str> = addresses.iter().map(String::as_str).collect();
            let involves = |t: &MessageTrace| {
                [&t.recipient_address, &t.sender_address]
                    .into_iter()
                    .flatten()
                    .any(|a| wanted.contains(a.to_lowercase().as_str()))
            };
            let r = reader.message_traces(from, to, &involves).await?;
            let mut read = Read::of(&r, nothing());
            // The window is the truth: replaced, even when empty (a quiet week).
            let list = r.records;
            read.store = Box::new(move |tx| Ok((tx.replace_posture(&list)?, None)));
            Ok(read)
        }
        _ => Ok(Read::of::<()>(&Records::default(), nothing())),
    }
}

//! Sending the outbox: one alert at a time, in the order the analyst asked, each write
//! confirmed in the same transaction that stores the tenant's answer.
//!
//! Per alert: read it from the tenant once, then for each queued write:
//! - a write marked `sending` (a crash or an ambiguous failure happened while it was
//!   on the wire) is first checked on the tenant: a PATCH whose fields the alert
//!   already shows, a comment whose text appears more often than before the send, is
//!   confirmed without sending it again;
//! - a PATCH whose alert's `lastUpdateDateTime` moved since the analyst saw it becomes
//!   a conflict: kept, not sent, shown;
//! - otherwise the write is marked `sending` (committed), sent, and confirmed.
//!
//! PATCHes go before comments: a comment overwrites nothing, and sending it first
//! would move `lastUpdateDateTime` under the PATCH. Failures that may or may not have
//! reached the tenant (5xx, a cut connection) are retried with the read backoff,
//! re-checking first; 403 and read-only stop the flush with everything kept queued.

use std::collections::HashMap;

use crate::remediate::{self, RemediationResult, Sent};
use whalewatch_cache::{
    Cache, CacheError, JournalResult, OutboxEntry, OutboxKind, OutboxState, Writer,
};
use whalewatch_model::Alert;
use whalewatch_tenant::alerts::AlertUpdate;
use whalewatch_tenant::{GraphClient, TenantError};

use super::{FlushLock, TriageError, action_name, describe_payload, journal_line, now_ms, stamp};

/// What became of one write in a flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The tenant confirmed it.
    Sent,
    /// It reached the tenant before an interruption; not sent again.
    AlreadyApplied,
    /// The alert changed on the tenant since the analyst saw it; kept, not sent.
    Conflict(String),
    /// The tenant refused it for good; kept as failed.
    Failed(String),
    /// Still queued (network, throttling, read-only, a missing permission): the text
    /// says why; the next flush sends it.
    Queued(String),
}

/// One write's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The outbox row.
    pub entry: i64,
    /// What it was.
    pub kind: OutboxKind,
    /// The alert id, or the remediation's name.
    pub target: String,
    /// What was asked, readable.
    pub detail: String,
    /// What became of it.
    pub outcome: Outcome,
    /// For remediations: the Action-center link and every message's result.
    pub remediation: Option<RemediationResult>,
}

/// Everything a flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Per write, in the order handled.
    pub outcomes: Vec<WriteOutcome>,
    /// Why the flush stopped early (read-only mode, a missing permission), if it did.
    pub stopped: Option<String>,
}

impl FlushReport {
    /// Writes that are still waiting (queued, conflict or failed) after the flush.
    pub fn unsettled(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| !matches!(o.outcome, Outcome::Sent | Outcome::AlreadyApplied))
            .count()
    }
}

/// How a step ended.
enum Step {
    /// Everything it could do is done (sent, conflicted or failed for good).
    Done,
    /// Ambiguous or temporary failure: wait and try the group again.
    Retry(String),
    /// Nothing more can be sent in this flush (read-only, permission).
    Stop(String),
}

fn is_permanent(e: &TenantError) -> bool {
    matches!(
        e,
        TenantError::BadRequest { .. } | TenantError::NotFound { .. }
    )
}

fn stops_flush(e: &TenantError) -> bool {
    matches!(
        e,
        TenantError::ReadOnly { .. } | TenantError::Forbidden { .. }
    )
}

/// Sends every queued write (see the module docs). Holds the outbox lock for its
/// duration; a second flush of the same cache fails with [`TriageError::Busy`].
pub async fn flush(client: &GraphClient, cache: &mut Cache) -> Result<FlushReport, TriageError> {
    let _lock = FlushLock::acquire(cache.path())?;
    cache.sync_fully()?;
    let policy = client.retry_policy();
    let mut report = FlushReport::default();
    // Groups in order of their first write: one per alert, one per remediation.
    let mut groups: Vec<(OutboxKind, String, Vec<i64>)> = Vec::new();
    let mut by_alert: HashMap<String, usize> = HashMap::new();
    for e in cache.outbox()?.into_iter().filter(|e| e.state.is_pending()) {
        if e.kind == OutboxKind::Remediate {
            groups.push((e.kind, e.target.clone(), vec![e.id]));
        } else if let Some(&g) = by_alert.get(&e.target) {
            groups[g].2.push(e.id);
        } else {
            by_alert.insert(e.target.clone(), groups.len());
            groups.push((e.kind, e.target.clone(), vec![e.id]));
        }
    }
    for (kind, target, ids) in &groups {
        if report.stopped.is_some() {
            for id in ids {
                if let Some(e) = cache.outbox_entry(*id)? {
                    let why = report.stopped.clone().unwrap_or_default();
                    report
                        .outcomes
                        .push(outcome(&e, Outcome::Queued(why), None));
                }
            }
            continue;
        }
        let mut round = 0;
        loop {
            round += 1;
            let entries: Vec<OutboxEntry> = ids
                .iter()
                .filter_map(|id| cache.outbox_entry(*id).transpose())
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|e| e.state.is_pending())
                .collect();
            if entries.is_empty() {
                break;
            }
            let step = if *kind == OutboxKind::Remediate {
                flush_remediation(client, cache, &entries[0], &mut report).await?
            } else {
                flush_alert(client, cache, target, entries, &mut report).await?
            };
            match step {
                Step::Done => break,
                Step::Stop(why) => {
                    for id in ids {
                        if let Some(e) = cache.outbox_entry(*id)?
                            && e.state.is_pending()
                        {
                            report
                                .outcomes
                                .push(outcome(&e, Outcome::Queued(why.clone()), None));
                        }
                    }
                    report.stopped = Some(why);
                    break;
                }
                Step::Retry(why) => match policy.delay(round, None, rand::random::<f64>()) {
                    Some(wait) => client.sleeper().sleep(wait).await,
                    None => {
                        for id in ids {
                            if let Some(e) = cache.outbox_entry(*id)?
                                && e.state.is_pending()
                            {
                                report.outcomes.push(outcome(
                                    &e,
                                    Outcome::Queued(format!(
                                        "{why}; kept in the outbox, the next flush retries"
                                    )),
                                    None,
                                ));
                            }
                        }
                        break;
                    }
                },
            }
        }
    }
    Ok(report)
}

fn outcome(
    e: &OutboxEntry,
    outcome: Outcome,
    remediation: Option<RemediationResult>,
) -> WriteOutcome {
    WriteOutcome {
        entry: e.id,
        kind: e.kind,
        target: e.target.clone(),
        detail: describe_payload(e.kind, &e.payload),
        outcome,
        remediation,
    }
}

/// Records a failed send on the entry and says what the flush does next.
fn failed_send(
    cache: &mut Cache,
    e: &OutboxEntry,
    err: TenantError,
    report: &mut FlushReport,
) -> Result<Option<Step>, TriageError> {
    let msg = err.to_string();
    let now = now_ms();
    if is_permanent(&err) {
        mark_failed(cache, e, &msg, report)?;
        return Ok(None);
    }
    if stops_flush(&err) {
        // Certainly not sent: back to queued, with the reason.
        cache.write(|w| w.set_outbox_state(e.id, OutboxState::Queued, Some(&msg), now))?;
        return Ok(Some(Step::Stop(msg)));
    }
    // Maybe sent: keep `sending` (if it got that far) so the next try checks first.
    cache.write(|w| w.set_outbox_state(e.id, e.state, Some(&msg), now))?;
    Ok(Some(Step::Retry(msg)))
}

/// Marks a write as refused for good and journals it.
fn mark_failed(
    cache: &mut Cache,
    e: &OutboxEntry,
    msg: &str,
    report: &mut FlushReport,
) -> Result<(), TriageError> {
    let now = now_ms();
    cache.write(|w| {
        w.set_outbox_state(e.id, OutboxState::Failed, Some(msg), now)?;
        w.journal(&journal_line(
            now,
            &e.analyst,
            action_name(e.kind),
            if e.kind == OutboxKind::Remediate {
                "messages"
            } else {
                "alert"
            },
            &e.target,
            &describe_payload(e.kind, &e.payload),
            JournalResult::Failed,
            Some(msg),
            Some(e.id),
        ))?;
        Ok(())
    })?;
    report
        .outcomes
        .push(outcome(e, Outcome::Failed(msg.to_string()), None));
    Ok(())
}

/// True when the tenant's alert already shows every field of the PATCH.
fn shows(alert: &Alert, payload: &serde_json::Value) -> bool {
    let Some(fields) = payload.as_object() else {
        return false;
    };
    fields
        .iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .all(|(k, want)| {
            let have = &alert.raw[k];
            match (want, have) {
                (serde_json::Value::String(w), serde_json::Value::String(h)) => {
                    w.eq_ignore_ascii_case(h)
                }
                (serde_json::Value::Null, h) => h.is_null(),
                (w, h) => w == h,
            }
        })
}

async fn flush_alert(
    client: &GraphClient,
    cache: &mut Cache,
    id: &str,
    mut entries: Vec<OutboxEntry>,
    report: &mut FlushReport,
) -> Result<Step, TriageError> {
    let mut tenant = match client.get_alert(id).await {
        Ok(a) => a,
        Err(err) => {
            let msg = err.to_string();
            let now = now_ms();
            if matches!(err, TenantError::NotFound { .. }) {
                for e in &entries {
                    mark_failed(cache, e, &msg, report)?;
                }
                return Ok(Step::Done);
            }
            for e in &entries {
                cache.write(|w| w.set_outbox_state(e.id, e.state, Some(&msg), now))?;
            }
            return Ok(if stops_flush(&err) {
                Step::Stop(msg)
            } else {
                Step::Retry(msg)
            });
        }
    };
    // PATCHes first (stable: the analyst's order within each kind).
    entries.sort_by_key(|e| (e.kind == OutboxKind::AlertComment, e.id));
    let mut commented = false;
    for e in &entries {
        let now = now_ms();
        match e.kind {
            OutboxKind::AlertUpdate => {
                if e.state == OutboxState::Sending && shows(&tenant, &e.payload) {
                    confirm_update(cache, e, &tenant, e.base_last_update.clone(), true)?;
                    report
                        .outcomes
                        .push(outcome(e, Outcome::AlreadyApplied, None));
                    continue;
                }
                let current = stamp(&tenant.last_update_date_time);
                if let Some(base) = &e.base_last_update
                    && current.as_deref() != Some(base.as_str())
                {
                    let msg = conflict_message(&tenant, base, e.id);
                    cache.write(|w| {
                        w.upsert_alerts(std::slice::from_ref(&tenant))?;
                        w.set_outbox_state(e.id, OutboxState::Conflict, Some(&msg), now)?;
                        w.journal(&journal_line(
                            now,
                            &e.analyst,
                            "alert update",
                            "alert",
                            id,
                            &describe_payload(e.kind, &e.payload),
                            JournalResult::Conflict,
                            Some(&msg),
                            Some(e.id),
                        ))?;
                        Ok(())
                    })?;
                    report
                        .outcomes
                        .push(outcome(e, Outcome::Conflict(msg), None));
                    continue;
                }
                let update: AlertUpdate =
                    serde_json::from_value(e.payload.clone()).map_err(|err| {
                        TriageError::Invalid(format!("queued write #{}: {err}", e.id))
                    })?;
                cache.write(|w| w.mark_sending(e.id, None, now))?;
                match client.update_alert(id, &update).await {
                    Ok(updated) => {
                        confirm_update(cache, e, &updated, current, false)?;
                        report.outcomes.push(outcome(e, Outcome::Sent, None));
                        tenant = updated;
                    }
                    Err(err) => match failed_send(cache, e, err, report)? {
                        Some(step) => return Ok(step),
                        None => continue,
                    },
                }
            }
            OutboxKind::AlertComment => {
                let text = e.payload["comment"].as_str().unwrap_or_default();
                let seen = tenant.comments.iter().filter(|c| c.comment == text).count() as i64;
                if e.state == OutboxState::Sending && e.seen_count.is_some_and(|s| seen > s) {
                    confirm_comment(cache, e, true)?;
                    report
                        .outcomes
                        .push(outcome(e, Outcome::AlreadyApplied, None));
                    commented = true;
                    continue;
                }
                cache.write(|w| w.mark_sending(e.id, Some(seen), now))?;
                match client.add_alert_comment(id, text).await {
                    Ok(_) => {
                        confirm_comment(cache, e, false)?;
                        report.outcomes.push(outcome(e, Outcome::Sent, None));
                        commented = true;
                    }
                    Err(err) => match failed_send(cache, e, err, report)? {
                        Some(step) => return Ok(step),
                        None => continue,
                    },
                }
            }
            OutboxKind::Remediate => {}
        }
    }
    if commented {
        // Best effort: the cache should show the comments and the new
        // lastUpdateDateTime (the next refresh fixes it if this read fails).
        if let Ok(a) = client.get_alert(id).await {
            cache.write(|w| w.upsert_alerts(std::slice::from_ref(&a)).map(drop))?;
        }
    }
    Ok(Step::Done)
}

fn conflict_message(tenant: &Alert, base: &str, entry: i64) -> String {
    let show = |v: Option<&str>| v.unwrap_or("none").to_string();
    format!(
        "the alert changed on the tenant at {} (after {base}, when you saw it): now status {}, classification {}, determination {}, owner {}; not sent. Keep yours with `whalewatch alert resolve {entry} --overwrite` or drop it with `--discard`",
        stamp(&tenant.last_update_date_time).unwrap_or_default(),
        show(tenant.status.as_ref().map(|s| s.as_str())),
        show(tenant.classification.as_ref().map(|s| s.as_str())),
        show(tenant.determination.as_ref().map(|s| s.as_str())),
        show(tenant.assigned_to.as_deref()),
    )
}

fn confirm_update(
    cache: &mut Cache,
    e: &OutboxEntry,
    alert: &Alert,
    old_base: Option<String>,
    before: bool,
) -> Result<(), TriageError> {
    let now = now_ms();
    let new_base = stamp(&alert.last_update_date_time);
    cache.write(|w| {
        w.upsert_alerts(std::slice::from_ref(alert))?;
        w.rebase_outbox(&e.target, old_base.as_deref(), new_base.as_deref())?;
        journal_sent(
            w,
            e,
            ("alert update", "alert"),
            now,
            before.then_some(SENT_BEFORE),
        )
    })?;
    Ok(())
}

fn confirm_comment(cache: &mut Cache, e: &OutboxEntry, before: bool) -> Result<(), TriageError> {
    let now = now_ms();
    cache.write(|w| {
        journal_sent(
            w,
            e,
            ("alert comment", "alert"),
            now,
            before.then_some(SENT_BEFORE),
        )
    })?;
    Ok(())
}

/// What a journal line says of a write found applied after an interruption.
const SENT_BEFORE: &str = "reached the tenant before an interruption; not sent again";

/// Removes a write the tenant confirmed and journals it as sent; `what` is the
/// journal's (action, target kind).
fn journal_sent(
    w: &Writer<'_>,
    e: &OutboxEntry,
    what: (&str, &str),
    now: i64,
    message: Option<&str>,
) -> Result<(), CacheError> {
    w.remove_outbox(e.id)?;
    w.journal(&journal_line(
        now,
        &e.analyst,
        what.0,
        what.1,
        &e.target,
        &describe_payload(e.kind, &e.payload),
        JournalResult::Sent,
        message,
        Some(e.id),
    ))?;
    Ok(())
}

async fn flush_remediation(
    client: &GraphClient,
    cache: &mut Cache,
    e: &OutboxEntry,
    report: &mut FlushReport,
) -> Result<Step, TriageError> {
    match remediate::send(client, cache, e).await? {
        Ok((sent, result)) => {
            let now = now_ms();
            let failed = result
                .messages
                .iter()
                .filter(|m| matches!(m.state, remediate::MessageState::Failed(_)))
                .count();
            let message = match (&sent, &result.action_center) {
                (Sent::Now(Some(link)), _) => format!("Action center: {link}; {failed} failed"),
                (Sent::Now(None), _) => {
                    format!("accepted (no Action-center link); {failed} failed")
                }
                (Sent::Before, _) => format!(
                    "reached the tenant before an interruption (its Action-center link was lost); not sent again; {failed} failed"
                ),
            };
            cache.write(|w| journal_sent(w, e, ("remediate", "messages"), now, Some(&message)))?;
            let o = match sent {
                Sent::Now(_) => Outcome::Sent,
                Sent::Before => Outcome::AlreadyApplied,
            };
            report.outcomes.push(outcome(e, o, Some(result)));
            Ok(Step::Done)
        }
        Err(err) => Ok(failed_send(cache, e, err, report)?.unwrap_or(Step::Done)),
    }
}

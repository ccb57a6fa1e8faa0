//! Sending the outbox: one alert (or incident) at a time, in the order the analyst asked, each write
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
use whalewatch_model::{Alert, AlertComment, Incident};
use whalewatch_tenant::alerts::AlertUpdate;
use whalewatch_tenant::incidents::IncidentUpdate;
use whalewatch_tenant::{GraphClient, TenantError};

use super::{
    Family, FlushLock, TriageError, action_name, describe_payload, journal_line, now_ms, stamp,
    target_kind,
};

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
    // Groups in order of their first write: one per alert or incident, one per
    // remediation.
    let mut groups: Vec<(OutboxKind, String, Vec<i64>)> = Vec::new();
    let mut by_target: HashMap<(Family, String), usize> = HashMap::new();
    for e in cache.outbox()?.into_iter().filter(|e| e.state.is_pending()) {
        let key = (Family::of(e.kind), e.target.clone());
        if e.kind == OutboxKind::Remediate {
            groups.push((e.kind, e.target.clone(), vec![e.id]));
        } else if let Some(&g) = by_target.get(&key) {
            groups[g].2.push(e.id);
        } else {
            by_target.insert(key, groups.len());
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
                flush_item(
                    client,
                    cache,
                    Family::of(*kind),
                    target,
                    entries,
                    &mut report,
                )
                .await?
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
            target_kind(e.kind),
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

/// The tenant's copy of what a group of writes targets.
enum Remote {
    Alert(Box<Alert>),
    Incident(Box<Incident>),
}

impl Remote {
    async fn get(client: &GraphClient, family: Family, id: &str) -> Result<Remote, TenantError> {
        Ok(match family {
            Family::Alert => Remote::Alert(Box::new(client.get_alert(id).await?)),
            Family::Incident => Remote::Incident(Box::new(client.get_incident(id).await?)),
        })
    }

    /// Sends a queued PATCH body; the answer is the updated item.
    async fn patch(
        client: &GraphClient,
        family: Family,
        id: &str,
        e: &OutboxEntry,
    ) -> Result<Result<Remote, TenantError>, TriageError> {
        let bad =
            |err: serde_json::Error| TriageError::Invalid(format!("queued write #{}: {err}", e.id));
        Ok(match family {
            Family::Alert => {
                let u: AlertUpdate = serde_json::from_value(e.payload.clone()).map_err(bad)?;
                client
                    .update_alert(id, &u)
                    .await
                    .map(|a| Remote::Alert(Box::new(a)))
            }
            Family::Incident => {
                let u: IncidentUpdate = serde_json::from_value(e.payload.clone()).map_err(bad)?;
                client
                    .update_incident(id, &u)
                    .await
                    .map(|i| Remote::Incident(Box::new(i)))
            }
        })
    }

    async fn comment(
        client: &GraphClient,
        family: Family,
        id: &str,
        text: &str,
    ) -> Result<(), TenantError> {
        match family {
            Family::Alert => client.add_alert_comment(id, text).await.map(drop),
            Family::Incident => client.add_incident_comment(id, text).await.map(drop),
        }
    }

    fn last_update(&self) -> Option<String> {
        stamp(match self {
            Remote::Alert(a) => &a.last_update_date_time,
            Remote::Incident(i) => &i.last_update_date_time,
        })
    }

    fn raw(&self) -> &serde_json::Value {
        match self {
            Remote::Alert(a) => &a.raw,
            Remote::Incident(i) => &i.raw,
        }
    }

    fn comments(&self) -> &[AlertComment] {
        match self {
            Remote::Alert(a) => &a.comments,
            Remote::Incident(i) => &i.comments,
        }
    }

    /// Stores the tenant's answer in the cache.
    fn store(&self, w: &Writer<'_>) -> Result<(), CacheError> {
        match self {
            Remote::Alert(a) => w.upsert_alerts(std::slice::from_ref(&**a)).map(drop),
            Remote::Incident(i) => w.upsert_incidents(std::slice::from_ref(&**i)).map(drop),
        }
    }

    /// Triage fields for the conflict message: status, classification,
    /// determination, owner.
    fn triage(&self) -> [Option<String>; 4] {
        let s = |v: Option<&str>| v.map(str::to_string);
        match self {
            Remote::Alert(a) => [
                s(a.status.as_ref().map(|x| x.as_str())),
                s(a.classification.as_ref().map(|x| x.as_str())),
                s(a.determination.as_ref().map(|x| x.as_str())),
                a.assigned_to.clone(),
            ],
            Remote::Incident(i) => [
                s(i.status.as_ref().map(|x| x.as_str())),
                s(i.classification.as_ref().map(|x| x.as_str())),
                s(i.determination.as_ref().map(|x| x.as_str())),
                i.assigned_to.clone(),
            ],
        }
    }
}

/// True when the tenant's item already shows every field of the PATCH.
fn shows(item: &Remote, payload: &serde_json::Value) -> bool {
    let Some(fields) = payload.as_object() else {
        return false;
    };
    fields
        .iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .all(|(k, want)| {
            let have = &item.raw()[k];
            match (want, have) {
                (serde_json::Value::String(w), serde_json::Value::String(h)) => {
                    w.eq_ignore_ascii_case(h)
                }
                (serde_json::Value::Null, h) => h.is_null(),
                (w, h) => w == h,
            }
        })
}

/// Sends one alert's or incident's writes (see the module docs).
async fn flush_item(
    client: &GraphClient,
    cache: &mut Cache,
    family: Family,
    id: &str,
    mut entries: Vec<OutboxEntry>,
    report: &mut FlushReport,
) -> Result<Step, TriageError> {
    let mut tenant = match Remote::get(client, family, id).await {
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
    entries.sort_by_key(|e| (!e.kind.is_update(), e.id));
    let mut commented = false;
    let mut sent = false;
    for e in &entries {
        let now = now_ms();
        if e.kind.is_update() {
            if e.state == OutboxState::Sending && shows(&tenant, &e.payload) {
                confirm_update(cache, e, &tenant, e.base_last_update.clone(), true)?;
                report
                    .outcomes
                    .push(outcome(e, Outcome::AlreadyApplied, None));
                continue;
            }
            let current = tenant.last_update();
            if let Some(base) = &e.base_last_update
                && current.as_deref() != Some(base.as_str())
            {
                let msg = conflict_message(family, &tenant, base, e.id);
                cache.write(|w| {
                    tenant.store(w)?;
                    w.set_outbox_state(e.id, OutboxState::Conflict, Some(&msg), now)?;
                    w.journal(&journal_line(
                        now,
                        &e.analyst,
                        action_name(e.kind),
                        family.noun(),
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
            cache.write(|w| w.mark_sending(e.id, None, now))?;
            match Remote::patch(client, family, id, e).await? {
                Ok(updated) => {
                    confirm_update(cache, e, &updated, current, false)?;
                    report.outcomes.push(outcome(e, Outcome::Sent, None));
                    tenant = updated;
                    sent = true;
                }
                Err(err) => match failed_send(cache, e, err, report)? {
                    Some(step) => return Ok(step),
                    None => continue,
                },
            }
        } else {
            let text = e.payload["comment"].as_str().unwrap_or_default();
            let seen = tenant
                .comments()
                .iter()
                .filter(|c| c.comment == text)
                .count() as i64;
            if e.state == OutboxState::Sending && e.seen_count.is_some_and(|s| seen > s) {
                confirm_comment(cache, e, true)?;
                report
                    .outcomes
                    .push(outcome(e, Outcome::AlreadyApplied, None));
                commented = true;
                continue;
            }
            cache.write(|w| w.mark_sending(e.id, Some(seen), now))?;
            match Remote::comment(client, family, id, text).await {
                Ok(()) => {
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
    }
    if commented {
        // Best effort: the cache should show the comments and the new
        // lastUpdateDateTime (the next refresh fixes it if this read fails).
        if let Ok(a) = Remote::get(client, family, id).await {
            cache.write(|w| a.store(w))?;
            tenant = a;
        }
    }
    if sent || commented {
        follow_incident(client, cache, &tenant).await?;
    }
    Ok(Step::Done)
}

/// After our own write to an alert, its incident moved on the tenant too (the
/// service rolls alert changes up): best effort, store the incident's new state and
/// rebase its pending writes made against the old one, so the analyst's next
/// incident change is not taken for a conflict with their own alert change.
async fn follow_incident(
    client: &GraphClient,
    cache: &mut Cache,
    tenant: &Remote,
) -> Result<(), TriageError> {
    let Remote::Alert(a) = tenant else {
        return Ok(());
    };
    let Some(inc) = a.incident_id.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let Some(old) = cache.tenant_incident(inc)? else {
        return Ok(());
    };
    if let Ok(new) = client.get_incident(inc).await {
        let (old, fresh) = (
            stamp(&old.last_update_date_time),
            stamp(&new.last_update_date_time),
        );
        cache.write(|w| {
            w.upsert_incidents(std::slice::from_ref(&new))?;
            w.rebase_outbox(inc, old.as_deref(), fresh.as_deref())
                .map(drop)
        })?;
    }
    Ok(())
}

fn conflict_message(family: Family, tenant: &Remote, base: &str, entry: i64) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_string());
    let [status, class, det, owner] = tenant.triage();
    format!(
        "the {} changed on the tenant at {} (after {base}, when you saw it): now status {}, classification {}, determination {}, owner {}; not sent. Keep yours with `whalewatch alert resolve {entry} --overwrite` or drop it with `--discard`",
        family.noun(),
        tenant.last_update().unwrap_or_default(),
        show(&status),
        show(&class),
        show(&det),
        show(&owner),
    )
}

fn confirm_update(
    cache: &mut Cache,
    e: &OutboxEntry,
    item: &Remote,
    old_base: Option<String>,
    before: bool,
) -> Result<(), TriageError> {
    let now = now_ms();
    let new_base = item.last_update();
    cache.write(|w| {
        item.store(w)?;
        w.rebase_outbox(&e.target, old_base.as_deref(), new_base.as_deref())?;
        journal_sent(
            w,
            e,
            (action_name(e.kind), target_kind(e.kind)),
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
            (action_name(e.kind), target_kind(e.kind)),
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

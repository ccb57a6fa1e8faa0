//! Email remediation (Threat Explorer's "Take action"): plan, review, typed
//! confirmation, queue, send, follow.
//!
//! ```text
//!  selected rows ──▶ RemediationPlan ──review_text()──▶ analyst types the count
//!                        │ confirm(typed) (a wrong number cancels)
//!                        ▼
//!                 ConfirmedRemediation ──enqueue_remediation──▶ outbox ──flush──▶ POST remediate (202 + Location)
//!                                                                          └──▶ EmailPostDeliveryEvents re-read:
//!                                                                               latest location per message, failures
//! ```
//!
//! Exactly once: `POST remediate` is not idempotent (each call is a new Action-center
//! job), so before sending, the flush counts the messages' `Manual remediation`
//! post-delivery events and stores the count with the `sending` mark. After a crash,
//! a count that grew means the job reached the tenant: it is not sent again, and the
//! result is read from the events (the Action-center link of that lost answer is
//! gone; the journal says so). The service records these events asynchronously, so on
//! a real tenant a crash in the seconds after a send may still resend: moving a
//! message to where it already is changes nothing, and the Action center shows both
//! jobs.

use std::collections::{BTreeSet, HashMap};

use whalewatch_cache::{Cache, CacheError, JournalResult, NewOutboxEntry, OutboxEntry, OutboxKind};
pub use whalewatch_model::PlannedMessage;
use whalewatch_model::email::{PostDeliveryEvent, RowKey};
use whalewatch_model::{RemediateRequest, RemediateTarget, RemediationAction, RemediationSeverity};
use whalewatch_tenant::GraphClient;

use super::triage::{TriageError, journal_line, now_ms};

/// What a remediation will do, for the review screen and `whalewatch remediate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationPlan {
    /// The action.
    pub action: RemediationAction,
    /// Every message copy, in the order selected.
    pub messages: Vec<PlannedMessage>,
    /// Distinct `NetworkMessageId`s.
    pub distinct_messages: usize,
    /// Distinct mailboxes.
    pub recipients: usize,
    /// Distinct priority-account mailboxes among them.
    pub priority_accounts: usize,
    /// Copies whose latest location is not a mailbox folder (quarantined, blocked,
    /// dropped): the service cannot move them and will report them as failed.
    pub not_in_mailbox: usize,
    /// Copies already where the action would put them.
    pub already_there: usize,
    /// Hard delete: the messages cannot be recovered.
    pub irreversible: bool,
    /// The Action center's name for the job.
    pub display_name: String,
}

/// The documented `remediationAction` spellings, with friendly aliases.
pub fn parse_action(s: &str) -> Result<RemediationAction, TriageError> {
    let q: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    Ok(match q.as_str() {
        "movetojunk" | "junk" => RemediationAction::MoveToJunk,
        "movetoinbox" | "inbox" => RemediationAction::MoveToInbox,
        "movetodeleteditems" | "deleteditems" | "deleted" => RemediationAction::MoveToDeletedItems,
        "softdelete" => RemediationAction::SoftDelete,
        "harddelete" => RemediationAction::HardDelete,
        _ => {
            return Err(TriageError::Invalid(format!(
                "`{s}` is not a remediation; use moveToJunk, moveToInbox, moveToDeletedItems, softDelete or hardDelete"
            )));
        }
    })
}

/// Where the action leaves a message, in `LatestDeliveryLocation` terms.
fn destination(action: &RemediationAction) -> &'static str {
    match action {
        RemediationAction::MoveToJunk => "Junk folder",
        RemediationAction::MoveToInbox => "Inbox/folder",
        RemediationAction::HardDelete => "Dropped",
        _ => "Deleted items",
    }
}

fn in_mailbox(location: &str) -> bool {
    ["Inbox/folder", "Junk folder", "Deleted items"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(location))
}

impl RemediationPlan {
    /// A plan over message copies; duplicates (same message and mailbox) are dropped.
    pub fn new(
        action: RemediationAction,
        messages: Vec<PlannedMessage>,
    ) -> Result<RemediationPlan, TriageError> {
        if matches!(
            action,
            RemediationAction::UnknownFutureValue | RemediationAction::Other(_)
        ) {
            return Err(TriageError::Invalid(format!(
                "`{action}` is not a remediation this build can send"
            )));
        }
        let mut seen = BTreeSet::new();
        let messages: Vec<PlannedMessage> = messages
            .into_iter()
            .filter(|m| {
                seen.insert((
                    m.network_message_id.to_lowercase(),
                    m.recipient.to_lowercase(),
                ))
            })
            .collect();
        if messages.is_empty() {
            return Err(TriageError::Invalid(
                "no message selected: the filter matches nothing in the cache".into(),
            ));
        }
        let distinct = |f: &dyn Fn(&PlannedMessage) -> Option<String>| {
            messages.iter().filter_map(f).collect::<BTreeSet<_>>().len()
        };
        let dest = destination(&action);
        Ok(RemediationPlan {
            distinct_messages: distinct(&|m| Some(m.network_message_id.to_lowercase())),
            recipients: distinct(&|m| Some(m.recipient.to_lowercase())),
            priority_accounts: distinct(&|m| m.priority.then(|| m.recipient.to_lowercase())),
            not_in_mailbox: messages
                .iter()
                .filter(|m| !in_mailbox(&m.latest_location))
                .count(),
            already_there: messages
                .iter()
                .filter(|m| m.latest_location.eq_ignore_ascii_case(dest))
                .count(),
            irreversible: action == RemediationAction::HardDelete,
            display_name: format!("whalewatch: {} of {} messages", action, messages.len()),
            action,
            messages,
        })
    }

    /// The number the analyst must type to confirm: the message copies acted on.
    pub fn count(&self) -> usize {
        self.messages.len()
    }

    /// What will happen, in plain text; the console's review screen and the CLI both
    /// show it. Subjects are sanitised here (they come from outside).
    pub fn review_text(&self) -> String {
        let mut t = String::new();
        t.push_str(&format!(
            "Remediation: {} ({})\n",
            self.action,
            match self.action {
                RemediationAction::MoveToJunk => "move to the Junk Email folder",
                RemediationAction::MoveToInbox => "move back to the Inbox",
                RemediationAction::MoveToDeletedItems => "move to Deleted Items",
                RemediationAction::SoftDelete =>
                    "soft delete (Recoverable Items; users can restore)",
                RemediationAction::HardDelete => "hard delete (purged)",
                _ => "unknown",
            }
        ));
        t.push_str(&format!(
            "  {} messages ({} distinct) in {} mailboxes, {} of them priority accounts\n",
            self.count(),
            self.distinct_messages,
            self.recipients,
            self.priority_accounts
        ));
        if self.already_there > 0 {
            t.push_str(&format!(
                "  {} already in {}\n",
                self.already_there,
                destination(&self.action)
            ));
        }
        if self.not_in_mailbox > 0 {
            t.push_str(&format!(
                "  {} not in a mailbox folder (quarantined, blocked or removed): the service will report them as failed\n",
                self.not_in_mailbox
            ));
        }
        if self.irreversible {
            t.push_str("  HARD DELETE IS IRREVERSIBLE: the messages cannot be restored.\n");
        }
        let shown = 10;
        for m in self.messages.iter().take(shown) {
            t.push_str(&format!(
                "  - {}  {}  [{}]{}\n",
                whalewatch_model::safe_text::sanitize(&m.recipient),
                whalewatch_model::safe_text::sanitize(&m.subject),
                whalewatch_model::safe_text::sanitize(&m.latest_location),
                if m.priority { "  (priority)" } else { "" }
            ));
        }
        if self.count() > shown {
            t.push_str(&format!("  ... and {} more\n", self.count() - shown));
        }
        t.push_str(&format!(
            "Type {} to confirm; anything else cancels.\n",
            self.count()
        ));
        t
    }

    /// Confirms with what the analyst typed: exactly the number of messages.
    pub fn confirm(self, typed: &str) -> Result<ConfirmedRemediation, TriageError> {
        match typed.trim().parse::<usize>() {
            Ok(n) if n == self.count() => Ok(ConfirmedRemediation { plan: self }),
            _ => Err(TriageError::Invalid(format!(
                "cancelled: you typed {:?}, but this remediation acts on {} messages; nothing was sent",
                typed.trim(),
                self.count()
            ))),
        }
    }

    /// The request body.
    fn request(&self) -> RemediateRequest {
        RemediateRequest {
            display_name: self.display_name.clone(),
            description: format!(
                "{} on {} messages in {} mailboxes, requested from whalewatch",
                self.action,
                self.count(),
                self.recipients
            ),
            severity: RemediationSeverity::Medium,
            action: self.action.clone(),
            remediate_senders_copy: false,
            analyzed_emails: self
                .messages
                .iter()
                .map(|m| RemediateTarget {
                    network_message_id: m.network_message_id.clone(),
                    recipient_email_address: m.recipient.clone(),
                })
                .collect(),
        }
    }
}

/// A plan the analyst confirmed by typing the count; the only thing that can be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedRemediation {
    plan: RemediationPlan,
}

impl ConfirmedRemediation {
    /// The plan.
    pub fn plan(&self) -> &RemediationPlan {
        &self.plan
    }
}

/// Journals a cancelled remediation (wrong typed count, or the analyst backed out).
pub fn record_cancelled(
    cache: &mut Cache,
    plan: &RemediationPlan,
    reason: &str,
    analyst: &str,
) -> Result<(), TriageError> {
    let now = now_ms();
    cache.write(|w| {
        w.journal(&journal_line(
            now,
            analyst,
            "remediate",
            "messages",
            &plan.display_name,
            &format!("{} on {} messages", plan.action, plan.count()),
            JournalResult::Cancelled,
            Some(reason),
            None,
        ))?;
        Ok(())
    })?;
    Ok(())
}

/// Queues a confirmed remediation; [`crate::triage::flush`] sends and follows it.
pub fn enqueue_remediation(
    cache: &mut Cache,
    confirmed: &ConfirmedRemediation,
    analyst: &str,
) -> Result<i64, TriageError> {
    let plan = &confirmed.plan;
    let payload =
        serde_json::to_value(plan.request()).map_err(|e| CacheError::Row(e.to_string()))?;
    cache.sync_fully()?;
    let now = now_ms();
    Ok(cache.write(|w| {
        let id = w.enqueue(
            &NewOutboxEntry {
                kind: OutboxKind::Remediate,
                target: plan.display_name.clone(),
                payload,
                base_last_update: None,
                analyst: analyst.to_string(),
            },
            now,
        )?;
        w.journal(&journal_line(
            now,
            analyst,
            "remediate",
            "messages",
            &plan.display_name,
            &format!(
                "{} on {} messages ({} distinct, {} mailboxes, {} priority)",
                plan.action,
                plan.count(),
                plan.distinct_messages,
                plan.recipients,
                plan.priority_accounts
            ),
            JournalResult::Queued,
            None,
            Some(id),
        ))?;
        Ok(id)
    })?)
}

/// What happened to one message copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageState {
    /// The service reports success.
    Done,
    /// The service reports a failure (the text is its `ActionResult`).
    Failed(String),
    /// No event yet: the Action center may still be working (see the link).
    NoResultYet,
}

/// One message copy after the remediation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageResult {
    /// `NetworkMessageId`.
    pub network_message_id: String,
    /// The mailbox.
    pub recipient: String,
    /// The latest delivery location as re-read from the tenant.
    pub latest_location: Option<String>,
    /// The outcome.
    pub state: MessageState,
}

/// A remediation's result: the Action-center link and every message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemediationResult {
    /// The 202's `Location` (the Action-center history), when this process got it.
    pub action_center: Option<String>,
    /// Per message copy.
    pub messages: Vec<MessageResult>,
}

fn kql_string(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace(['\n', '\r'], " ")
    )
}

/// Post-delivery events of these messages, from advanced hunting (chunks of 200 ids).
async fn events_of(
    client: &GraphClient,
    targets: &[RemediateTarget],
) -> Result<Vec<PostDeliveryEvent>, whalewatch_tenant::TenantError> {
    let ids: BTreeSet<String> = targets
        .iter()
        .map(|t| t.network_message_id.to_lowercase())
        .collect();
    let ids: Vec<String> = ids.into_iter().collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let list: Vec<String> = chunk.iter().map(|s| kql_string(s)).collect();
        let q = format!(
            "EmailPostDeliveryEvents | where NetworkMessageId in~ ({})",
            list.join(", ")
        );
        out.extend(
            client
                .run_hunting_rows::<PostDeliveryEvent>(&q, None)
                .await?
                .rows,
        );
    }
    Ok(out)
}

type Key = (String, String);

fn key(nmid: &str, recipient: &str) -> Key {
    (nmid.to_lowercase(), recipient.to_lowercase())
}

fn is_manual(e: &PostDeliveryEvent) -> bool {
    e.action_type.eq_ignore_ascii_case("Manual remediation")
}

/// Manual-remediation events per message copy.
fn manual_counts(events: &[PostDeliveryEvent]) -> HashMap<Key, i64> {
    let mut m = HashMap::new();
    for e in events.iter().filter(|e| is_manual(e)) {
        *m.entry(key(&e.network_message_id, &e.recipient_email_address))
            .or_default() += 1;
    }
    m
}

/// What one remediation flush step did.
pub(crate) enum Sent {
    /// Sent now; the link from the 202.
    Now(Option<String>),
    /// The tenant shows it was sent before an interruption.
    Before,
}

/// Sends one queued remediation (or recognises it was sent before a crash), then
/// re-reads the messages' post-delivery events into the cache. Errors are the
/// tenant's; the caller decides whether to retry.
pub(crate) async fn send(
    client: &GraphClient,
    cache: &mut Cache,
    e: &OutboxEntry,
) -> Result<Result<(Sent, RemediationResult), whalewatch_tenant::TenantError>, TriageError> {
    let req: RemediateRequest = serde_json::from_value(e.payload.clone())
        .map_err(|err| TriageError::Invalid(format!("queued remediation #{}: {err}", e.id)))?;
    let before = match events_of(client, &req.analyzed_emails).await {
        Ok(ev) => manual_counts(&ev),
        Err(err) => return Ok(Err(err)),
    };
    let total: i64 = req
        .analyzed_emails
        .iter()
        .map(|t| {
            before
                .get(&key(&t.network_message_id, &t.recipient_email_address))
                .copied()
                .unwrap_or(0)
        })
        .sum();
    let landed = e.state == whalewatch_cache::OutboxState::Sending
        && e.seen_count.is_some_and(|seen| total > seen);
    let sent = if landed {
        Sent::Before
    } else {
        let now = now_ms();
        cache.write(|w| w.mark_sending(e.id, Some(total), now))?;
        match client.remediate_emails(&req).await {
            Ok(link) => Sent::Now(link),
            Err(err) => return Ok(Err(err)),
        }
    };
    // Follow: where are the messages now? Re-read their events into the cache.
    let after = events_of(client, &req.analyzed_emails)
        .await
        .unwrap_or_default();
    if !after.is_empty() {
        cache.write(|w| {
            w.upsert_rows(&after)?;
            crate::hunting::apply_post_delivery(w, &after)?;
            Ok(())
        })?;
    }
    let counts_after = manual_counts(&after);
    let latest = latest_locations(cache, &req.analyzed_emails)?;
    let messages = req
        .analyzed_emails
        .iter()
        .map(|t| {
            let k = key(&t.network_message_id, &t.recipient_email_address);
            let newer = match &sent {
                Sent::Now(_) => {
                    counts_after.get(&k).copied().unwrap_or(0)
                        > before.get(&k).copied().unwrap_or(0)
                }
                Sent::Before => counts_after.get(&k).copied().unwrap_or(0) > 0,
            };
            let last = after
                .iter()
                .filter(|ev| {
                    is_manual(ev) && key(&ev.network_message_id, &ev.recipient_email_address) == k
                })
                .max_by_key(|ev| ev.timestamp);
            let state = match (newer, last) {
                (true, Some(ev)) if ev.action_result.eq_ignore_ascii_case("success") => {
                    MessageState::Done
                }
                (true, Some(ev)) => MessageState::Failed(ev.action_result.clone()),
                _ => MessageState::NoResultYet,
            };
            MessageResult {
                latest_location: latest.get(&k).cloned(),
                network_message_id: t.network_message_id.clone(),
                recipient: t.recipient_email_address.clone(),
                state,
            }
        })
        .collect();
    let link = match &sent {
        Sent::Now(l) => l.clone(),
        Sent::Before => None,
    };
    Ok(Ok((
        sent,
        RemediationResult {
            action_center: link,
            messages,
        },
    )))
}

/// The cached `LatestDeliveryLocation` of each message copy (recipients compare
/// case-insensitively, as everywhere in the cache).
fn latest_locations(
    cache: &Cache,
    targets: &[RemediateTarget],
) -> Result<HashMap<Key, String>, CacheError> {
    let mut out = HashMap::new();
    for t in targets {
        let row = RowKey {
            network_message_id: t.network_message_id.clone(),
            recipient: t.recipient_email_address.clone(),
        };
        if let Some(l) = cache.latest_location(&row)? {
            out.insert(key(&t.network_message_id, &t.recipient_email_address), l);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(n: &str, r: &str, loc: &str, vip: bool) -> PlannedMessage {
        PlannedMessage {
            network_message_id: n.into(),
            recipient: r.into(),
            subject: "Invoice\u{1b}[31m".into(),
            sender: "x@evil.example".into(),
            latest_location: loc.into(),
            priority: vip,
        }
    }

    #[test]
    fn the_review_counts_what_will_change_and_only_the_exact_count_confirms() {
        let plan = RemediationPlan::new(
            parse_action("hard-delete").unwrap(),
            vec![
                msg("m1", "a@x", "Inbox/folder", true),
                msg("m1", "b@x", "Quarantine", false),
                msg("m2", "a@x", "Inbox/folder", true),
                msg("M2", "A@x", "Inbox/folder", true),
            ],
        )
        .unwrap();
        assert_eq!(plan.count(), 3);
        assert_eq!(
            (
                plan.distinct_messages,
                plan.recipients,
                plan.priority_accounts
            ),
            (2, 2, 1)
        );
        assert_eq!(plan.not_in_mailbox, 1);
        let text = plan.review_text();
        assert!(text.contains("IRREVERSIBLE"), "{text}");
        assert!(text.contains("3 messages (2 distinct) in 2 mailboxes, 1 of them priority"));
        assert!(!text.contains('\u{1b}'), "subjects are sanitised: {text:?}");
        let e = plan.clone().confirm("4").unwrap_err().to_string();
        assert!(
            e.contains("cancelled") && e.contains("nothing was sent"),
            "{e}"
        );
        assert!(plan.clone().confirm("three").is_err());
        assert!(plan.confirm(" 3 ").is_ok());
    }

    #[test]
    fn actions_parse_in_the_documented_spelling() {
        for (s, want) in [
            ("moveToJunk", "moveToJunk"),
            ("junk", "moveToJunk"),
            ("move-to-deleted-items", "moveToDeletedItems"),
            ("softDelete", "softDelete"),
            ("HardDelete", "hardDelete"),
            ("inbox", "moveToInbox"),
        ] {
            assert_eq!(parse_action(s).unwrap().as_str(), want);
        }
        assert!(parse_action("quarantine").is_err());
        assert!(
            RemediationPlan::new(RemediationAction::MoveToJunk, Vec::new())
                .unwrap_err()
                .to_string()
                .contains("no message")
        );
    }
}

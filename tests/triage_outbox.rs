//! The outbox through the library against a real simulator on loopback: a crash in
//! the window between "sent" and "confirmed" is recognised and nothing is sent twice;
//! a change on the tenant in between is a conflict, not an overwrite; pending writes
//! show at once; read-only and a missing permission keep everything queued.
//!
//! The crash is reproduced exactly: the write is marked `sending` in the cache and its
//! request is sent (or not) by hand, which is the state a `kill -9` at that instant
//! leaves. `triage_cli.rs` kills the real process at a random point too.

mod common;

use common::triage::{
    ANALYST, TempCache, client, comments_with, requests, succeeded, tenant_alert, writes,
};
use common::{Api, config, start};
use serde_json::Value;
use whalewatch::cache::{Cache, JournalResult, NoteTarget, OutboxKind, OutboxState};
use whalewatch::model::{
    AlertStatus, Classification, Determination, RemediateRequest, RemediationAction,
};
use whalewatch::sim::server::SimServer;
use whalewatch::sync::remediate::{self, MessageState, PlannedMessage, RemediationPlan};
use whalewatch::sync::triage::{self, AlertChange, Outcome, Resolution};

/// A cache holding the tenant's alerts, as after a refresh.
async fn cache_with_alerts(server: &SimServer, name: &str) -> TempCache {
    let dir = std::env::temp_dir().join(format!("ww-triage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cache = Cache::open(&dir.join("t.sqlite")).unwrap();
    let alerts = client(server, true)
        .list_alerts(None, None)
        .collect_all()
        .await
        .unwrap()
        .records;
    assert!(alerts.len() >= 4, "the world has alerts to triage");
    cache.write(|w| w.upsert_alerts(&alerts)).unwrap();
    TempCache { dir, cache }
}

fn ids(cache: &Cache, n: usize) -> Vec<String> {
    cache
        .alerts()
        .unwrap()
        .into_iter()
        .take(n)
        .map(|r| r.alert.id)
        .collect()
}

fn resolve_as_phish(comment: &str) -> AlertChange {
    AlertChange {
        status: Some(AlertStatus::Resolved),
        classification: Some(Classification::TruePositive),
        determination: Some(Determination::Phishing),
        comment: Some(comment.into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_reached_the_tenant_before_a_crash_is_not_sent_again() {
    let server = start(config(611)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let mut t = cache_with_alerts(&server, "crash").await;
    let c = client(&server, false);
    let ids = ids(&t.cache, 2);
    let text = "crash-window comment";
    let queued =
        triage::enqueue_alert_change(&mut t.cache, &ids, &resolve_as_phish(text), ANALYST).unwrap();
    assert_eq!(queued.len(), 4);

    // The state a kill leaves: alert 0's PATCH and comment went out after being marked
    // `sending`; alert 1's were marked but never left.
    let update: whalewatch::tenant::alerts::AlertUpdate = serde_json::from_value(
        t.cache
            .outbox_entry(queued[0].entry)
            .unwrap()
            .unwrap()
            .payload,
    )
    .unwrap();
    let before = comments_with(&tenant_alert(&api, &token, &ids[0]).await, text) as i64;
    t.cache
        .write(|w| {
            w.mark_sending(queued[0].entry, None, 0)?;
            w.mark_sending(queued[1].entry, Some(before), 0)?;
            w.mark_sending(queued[2].entry, None, 0)?;
            w.mark_sending(queued[3].entry, Some(0), 0)
        })
        .unwrap();
    c.update_alert(&ids[0], &update).await.unwrap();
    c.add_alert_comment(&ids[0], text).await.unwrap();

    let report = triage::flush(&c, &mut t.cache).await.unwrap();
    let got: Vec<(String, OutboxKind, Outcome)> = report
        .outcomes
        .iter()
        .map(|o| (o.target.clone(), o.kind, o.outcome.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                ids[0].clone(),
                OutboxKind::AlertUpdate,
                Outcome::AlreadyApplied
            ),
            (
                ids[0].clone(),
                OutboxKind::AlertComment,
                Outcome::AlreadyApplied
            ),
            (ids[1].clone(), OutboxKind::AlertUpdate, Outcome::Sent),
            (ids[1].clone(), OutboxKind::AlertComment, Outcome::Sent),
        ]
    );
    assert!(t.cache.outbox().unwrap().is_empty(), "all confirmed");

    let log = requests(&api).await;
    for id in &ids {
        let path = format!("/security/alerts_v2/{id}");
        assert_eq!(succeeded(&log, "PATCH", &path), 1, "one PATCH of {id}");
        assert_eq!(
            succeeded(&log, "POST", &format!("{path}/comments")),
            1,
            "one comment POST on {id}"
        );
        let a = tenant_alert(&api, &token, id).await;
        assert_eq!(comments_with(&a, text), 1, "{a}");
        assert_eq!(
            (&a["status"], &a["classification"], &a["determination"]),
            (
                &Value::from("resolved"),
                &Value::from("truePositive"),
                &Value::from("phishing")
            )
        );
    }
    // The cache holds the tenant's confirmed alert, with nothing pending.
    let cached = t.cache.alerts().unwrap();
    let row = cached.iter().find(|r| r.alert.id == ids[1]).unwrap();
    assert!(row.pending.is_none());
    assert_eq!(row.alert.status, Some(AlertStatus::Resolved));
    assert!(row.alert.comments.iter().any(|c| c.comment == text));
    let journal = t.cache.journal(0).unwrap();
    assert_eq!(
        journal
            .iter()
            .filter(|j| j.result == JournalResult::Sent)
            .count(),
        4
    );
    assert!(
        journal.iter().any(|j| j
            .message
            .as_deref()
            .is_some_and(|m| m.contains("before an interruption"))),
        "{journal:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_on_the_tenant_in_between_is_a_conflict_the_analyst_resolves() {
    let server = start(config(612)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let mut t = cache_with_alerts(&server, "conflict").await;
    let c = client(&server, false);
    let id = ids(&t.cache, 1).remove(0);
    let mine = AlertChange {
        assigned_to: Some(ANALYST.into()),
        status: Some(AlertStatus::InProgress),
        ..Default::default()
    };
    let q = triage::enqueue_alert_change(&mut t.cache, std::slice::from_ref(&id), &mine, ANALYST)
        .unwrap();
    // Shown at once, marked pending.
    let row = t
        .cache
        .alerts()
        .unwrap()
        .into_iter()
        .find(|r| r.alert.id == id)
        .unwrap();
    assert_eq!(row.alert.assigned_to.as_deref(), Some(ANALYST));
    assert_eq!(
        row.pending.as_ref().map(|p| p.state),
        Some(OutboxState::Queued)
    );

    // A colleague takes the alert on the tenant first.
    let r = api
        .patch(
            &token,
            &format!("/v1.0/security/alerts_v2/{id}"),
            &serde_json::json!({"assignedTo": "colleague@contoso.example"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let report = triage::flush(&c, &mut t.cache).await.unwrap();
    let Outcome::Conflict(msg) = &report.outcomes[0].outcome else {
        panic!("expected a conflict: {report:#?}");
    };
    assert!(
        msg.contains("colleague@contoso.example") && msg.contains("--overwrite"),
        "{msg}"
    );
    let a = tenant_alert(&api, &token, &id).await;
    assert_eq!(
        a["assignedTo"], "colleague@contoso.example",
        "not overwritten"
    );
    let pending = t.cache.pending_alerts().unwrap();
    assert_eq!(pending[&id].state, OutboxState::Conflict);
    // The cache shows the tenant's value, not the conflicted one.
    let row = t
        .cache
        .alerts()
        .unwrap()
        .into_iter()
        .find(|r| r.alert.id == id)
        .unwrap();
    assert_eq!(
        row.alert.assigned_to.as_deref(),
        Some("colleague@contoso.example")
    );
    assert!(
        t.cache
            .journal(0)
            .unwrap()
            .iter()
            .any(|j| j.result == JournalResult::Conflict)
    );

    triage::resolve_conflict(&mut t.cache, q[0].entry, Resolution::Overwrite, ANALYST).unwrap();
    let report = triage::flush(&c, &mut t.cache).await.unwrap();
    assert_eq!(report.outcomes[0].outcome, Outcome::Sent, "{report:#?}");
    let a = tenant_alert(&api, &token, &id).await;
    assert_eq!(
        (&a["assignedTo"], &a["status"]),
        (&Value::from(ANALYST), &Value::from("inProgress"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_and_a_missing_permission_keep_every_write_queued() {
    let mut cfg = config(613);
    cfg.denied_roles = vec!["SecurityAlert.ReadWrite.All".into()];
    let server = start(cfg).await;
    let api = Api::of(&server);
    let mut t = cache_with_alerts(&server, "denied").await;
    let ids = ids(&t.cache, 2);
    triage::enqueue_alert_change(&mut t.cache, &ids, &resolve_as_phish("kept"), ANALYST).unwrap();

    let report = triage::flush(&client(&server, true), &mut t.cache)
        .await
        .unwrap();
    let why = report.stopped.clone().unwrap_or_default();
    assert!(why.contains("read-only"), "{why}");
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(o.outcome, Outcome::Queued(_)))
    );
    assert!(
        writes(&requests(&api).await).is_empty(),
        "read-only sent nothing"
    );

    let report = triage::flush(&client(&server, false), &mut t.cache)
        .await
        .unwrap();
    let why = report.stopped.clone().unwrap_or_default();
    assert!(why.contains("SecurityAlert.ReadWrite.All"), "{why}");
    let outbox = t.cache.outbox().unwrap();
    assert_eq!(outbox.len(), 4, "nothing lost");
    assert!(outbox.iter().all(|e| e.state == OutboxState::Queued));
    assert!(
        outbox[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("SecurityAlert.ReadWrite.All"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remediation_that_reached_the_tenant_before_a_crash_is_followed_not_resent() {
    let mut cfg = config(614);
    cfg.hunting_calls_per_minute = 100_000;
    let server = start(cfg).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let mut t = cache_with_alerts(&server, "remediate").await;
    let c = client(&server, false);
    let r = api
        .hunt(
            &token,
            "EmailEvents | where LatestDeliveryLocation == \"Inbox/folder\" | take 3 | project NetworkMessageId, RecipientEmailAddress",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let messages: Vec<PlannedMessage> = r.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| PlannedMessage {
            network_message_id: row["NetworkMessageId"].as_str().unwrap().into(),
            recipient: row["RecipientEmailAddress"].as_str().unwrap().into(),
            subject: String::new(),
            sender: String::new(),
            latest_location: "Inbox/folder".into(),
            priority: false,
        })
        .collect();
    assert_eq!(messages.len(), 3);
    let plan =
        RemediationPlan::new(RemediationAction::MoveToDeletedItems, messages.clone()).unwrap();
    let confirmed = plan.confirm("3").unwrap();
    let entry = remediate::enqueue_remediation(&mut t.cache, &confirmed, ANALYST).unwrap();
    let queued = t.cache.outbox_entry(entry).unwrap().unwrap();
    // Sent, then killed before the answer was stored.
    let ids: Vec<String> = messages
        .iter()
        .map(|m| format!("\"{}\"", m.network_message_id))
        .collect();
    let counted = api
        .hunt(
            &token,
            &format!(
                "EmailPostDeliveryEvents | where NetworkMessageId in ({}) and ActionType =~ \"Manual remediation\" | count",
                ids.join(", ")
            ),
            None,
        )
        .await;
    let seen = counted.json["results"][0]["Count"].as_i64().unwrap();
    t.cache
        .write(|w| w.mark_sending(entry, Some(seen), 0))
        .unwrap();
    let req: RemediateRequest = serde_json::from_value(queued.payload).unwrap();
    c.remediate_emails(&req).await.unwrap();

    let report = triage::flush(&c, &mut t.cache).await.unwrap();
    assert_eq!(report.outcomes.len(), 1);
    assert_eq!(report.outcomes[0].outcome, Outcome::AlreadyApplied);
    let result = report.outcomes[0].remediation.clone().unwrap();
    assert_eq!(result.messages.len(), 3);
    for m in &result.messages {
        assert_eq!(m.state, MessageState::Done, "{m:?}");
    }
    let log = requests(&api).await;
    assert_eq!(
        succeeded(&log, "POST", "/analyzedEmails/remediate"),
        1,
        "sent once"
    );
    assert!(t.cache.outbox().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn notes_are_local_and_journaled() {
    let server = start(config(615)).await;
    let mut t = cache_with_alerts(&server, "notes").await;
    let id = ids(&t.cache, 1).remove(0);
    triage::add_note(
        &mut t.cache,
        NoteTarget::Alert,
        &id,
        "asked HR about the sender",
        ANALYST,
    )
    .unwrap();
    triage::add_note(
        &mut t.cache,
        NoteTarget::User,
        "Ann@Contoso.com",
        "VIP travel",
        ANALYST,
    )
    .unwrap();
    let notes = t.cache.notes_for(NoteTarget::Alert, &id).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, "asked HR about the sender");
    assert_eq!(
        t.cache
            .notes_for(NoteTarget::User, "ann@contoso.com")
            .unwrap()
            .len(),
        1,
        "addresses compare case-insensitively"
    );
    assert!(triage::add_note(&mut t.cache, NoteTarget::Alert, &id, "  ", ANALYST).is_err());
    let journal = t.cache.journal(0).unwrap();
    assert_eq!(journal.len(), 2);
    assert!(
        journal
            .iter()
            .all(|j| j.action == "note" && j.analyst == ANALYST)
    );
}

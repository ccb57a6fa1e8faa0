//! Incident triage through the same outbox as alerts, against a real simulator: a
//! crash in the window between "sent" and "confirmed" is recognised and nothing is
//! sent twice; a change on the tenant in between is a conflict; read-only and a
//! missing permission keep everything queued; `kill -9` of the real process in the
//! middle of a flush on a faulty simulator, then a restart, delivers every write
//! exactly once. And `whalewatch query incidents` prints the Incidents pane's rows.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use common::refresh::{KillOnDrop, SimProcess, WorldFlags, wait_until};
use common::triage::{
    ANALYST, TempCache, api_of, client, requests, succeeded, token, workspace, writes,
};
use common::{Api, config, start};
use serde_json::Value;
use whalewatch::cache::{Cache, JournalResult, OutboxKind, OutboxState};
use whalewatch::model::{Classification, Determination, IncidentStatus};
use whalewatch::sim::server::SimServer;
use whalewatch::sync::triage::{self, IncidentChange, Outcome, Resolution};

/// A cache holding the tenant's incidents, as after a refresh.
async fn cache_with_incidents(server: &SimServer, name: &str) -> TempCache {
    let dir = std::env::temp_dir().join(format!("ww-incident-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cache = Cache::open(&dir.join("t.sqlite")).unwrap();
    let incidents = client(server, true)
        .list_incidents(None, None)
        .collect_all()
        .await
        .unwrap()
        .records;
    assert!(incidents.len() >= 2, "the world has incidents to triage");
    cache.write(|w| w.upsert_incidents(&incidents)).unwrap();
    TempCache { dir, cache }
}

fn ids(cache: &Cache, n: usize) -> Vec<String> {
    cache
        .incidents()
        .unwrap()
        .into_iter()
        .take(n)
        .map(|i| i.id)
        .collect()
}

fn resolve_as_phish(comment: &str) -> IncidentChange {
    IncidentChange {
        status: Some(IncidentStatus::Resolved),
        classification: Some(Classification::TruePositive),
        determination: Some(Determination::Phishing),
        comment: Some(comment.into()),
        ..Default::default()
    }
}

/// One incident as the tenant has it now (injected faults are retried).
async fn tenant_incident(api: &Api, token: &str, id: &str) -> Value {
    let mut last = String::new();
    for _ in 0..50 {
        let r = api
            .get(token, &format!("/v1.0/security/incidents/{id}"))
            .await;
        if r.status == 200 {
            return r.json;
        }
        last = r.text;
    }
    panic!("GET incident {id} kept failing: {last}");
}

fn comments_with(incident: &Value, text: &str) -> usize {
    incident["comments"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["comment"] == text).count())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incident_write_that_reached_the_tenant_before_a_crash_is_not_sent_again() {
    let server = start(config(621)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let mut t = cache_with_incidents(&server, "crash").await;
    let c = client(&server, false);
    let ids = ids(&t.cache, 2);
    let text = "incident crash-window comment";
    let queued =
        triage::enqueue_incident_change(&mut t.cache, &ids, &resolve_as_phish(text), ANALYST)
            .unwrap();
    assert_eq!(queued.len(), 4);
    // Shown at once, marked pending.
    let shown = t.cache.incidents().unwrap();
    let first = shown.iter().find(|i| i.id == ids[0]).unwrap();
    assert_eq!(first.status, Some(IncidentStatus::Resolved));
    assert_eq!(
        t.cache.pending_incidents().unwrap()[&ids[0]].state,
        OutboxState::Queued
    );
    assert!(t.cache.pending_alerts().unwrap().is_empty());

    // The state a kill leaves: incident 0's PATCH and comment went out after being
    // marked `sending`; incident 1's were marked but never left.
    let update: whalewatch::tenant::incidents::IncidentUpdate = serde_json::from_value(
        t.cache
            .outbox_entry(queued[0].entry)
            .unwrap()
            .unwrap()
            .payload,
    )
    .unwrap();
    let before = comments_with(&tenant_incident(&api, &token, &ids[0]).await, text) as i64;
    t.cache
        .write(|w| {
            w.mark_sending(queued[0].entry, None, 0)?;
            w.mark_sending(queued[1].entry, Some(before), 0)?;
            w.mark_sending(queued[2].entry, None, 0)?;
            w.mark_sending(queued[3].entry, Some(0), 0)
        })
        .unwrap();
    c.update_incident(&ids[0], &update).await.unwrap();
    c.add_incident_comment(&ids[0], text).await.unwrap();

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
                OutboxKind::IncidentUpdate,
                Outcome::AlreadyApplied
            ),
            (
                ids[0].clone(),
                OutboxKind::IncidentComment,
                Outcome::AlreadyApplied
            ),
            (ids[1].clone(), OutboxKind::IncidentUpdate, Outcome::Sent),
            (ids[1].clone(), OutboxKind::IncidentComment, Outcome::Sent),
        ]
    );
    assert!(t.cache.outbox().unwrap().is_empty(), "all confirmed");

    let log = requests(&api).await;
    for id in &ids {
        let path = format!("/security/incidents/{id}");
        assert_eq!(succeeded(&log, "PATCH", &path), 1, "one PATCH of {id}");
        assert_eq!(
            succeeded(&log, "POST", &format!("{path}/comments")),
            1,
            "one comment POST on {id}"
        );
        let i = tenant_incident(&api, &token, id).await;
        assert_eq!(comments_with(&i, text), 1, "{i}");
        assert_eq!(
            (&i["status"], &i["classification"], &i["determination"]),
            (
                &Value::from("resolved"),
                &Value::from("truePositive"),
                &Value::from("phishing")
            )
        );
    }
    // The cache holds the tenant's confirmed incident, with its comment.
    let cached = t.cache.incidents().unwrap();
    let i = cached.iter().find(|i| i.id == ids[1]).unwrap();
    assert!(t.cache.pending_incidents().unwrap().is_empty());
    assert!(i.comments.iter().any(|c| c.comment == text));
    let journal = t.cache.journal(0).unwrap();
    let sent: Vec<_> = journal
        .iter()
        .filter(|j| j.result == JournalResult::Sent)
        .collect();
    assert_eq!(sent.len(), 4);
    assert!(
        sent.iter()
            .all(|j| j.target_kind == "incident" && j.action.starts_with("incident "))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incident_changed_on_the_tenant_in_between_is_a_conflict_the_analyst_resolves() {
    let server = start(config(622)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let mut t = cache_with_incidents(&server, "conflict").await;
    let c = client(&server, false);
    let id = ids(&t.cache, 1).remove(0);
    let mine = IncidentChange {
        assigned_to: Some(ANALYST.into()),
        status: Some(IncidentStatus::InProgress),
        ..Default::default()
    };
    let q =
        triage::enqueue_incident_change(&mut t.cache, std::slice::from_ref(&id), &mine, ANALYST)
            .unwrap();

    // A colleague takes the incident on the tenant first.
    let r = api
        .patch(
            &token,
            &format!("/v1.0/security/incidents/{id}"),
            &serde_json::json!({"assignedTo": "colleague@contoso.example"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let report = triage::flush(&c, &mut t.cache).await.unwrap();
    let Outcome::Conflict(msg) = &report.outcomes[0].outcome else {
        panic!("expected a conflict: {report:#?}");
    };
    assert!(
        msg.contains("the incident changed")
            && msg.contains("colleague@contoso.example")
            && msg.contains("--overwrite"),
        "{msg}"
    );
    let i = tenant_incident(&api, &token, &id).await;
    assert_eq!(
        i["assignedTo"], "colleague@contoso.example",
        "not overwritten"
    );
    assert_eq!(
        t.cache.pending_incidents().unwrap()[&id].state,
        OutboxState::Conflict
    );
    // The cache shows the tenant's value, not the conflicted one.
    let cached = t.cache.incidents().unwrap();
    let row = cached.iter().find(|i| i.id == id).unwrap();
    assert_eq!(
        row.assigned_to.as_deref(),
        Some("colleague@contoso.example")
    );

    triage::resolve_conflict(&mut t.cache, q[0].entry, Resolution::Overwrite, ANALYST).unwrap();
    let report = triage::flush(&c, &mut t.cache).await.unwrap();
    assert_eq!(report.outcomes[0].outcome, Outcome::Sent, "{report:#?}");
    let i = tenant_incident(&api, &token, &id).await;
    assert_eq!(
        (&i["assignedTo"], &i["status"]),
        (&Value::from(ANALYST), &Value::from("inProgress"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_change_and_then_its_incident_change_are_not_taken_for_a_conflict() {
    let server = start(config(624)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let mut t = cache_with_incidents(&server, "rollup").await;
    let alerts = client(&server, true)
        .list_alerts(None, None)
        .collect_all()
        .await
        .unwrap()
        .records;
    t.cache.write(|w| w.upsert_alerts(&alerts)).unwrap();
    let alert = alerts
        .iter()
        .find(|a| a.incident_id.is_some())
        .expect("an alert in an incident");
    let incident = alert.incident_id.clone().unwrap();
    // The analyst resolves the alert, then (before anything is sent) its incident.
    triage::enqueue_alert_change(
        &mut t.cache,
        std::slice::from_ref(&alert.id),
        &triage::AlertChange {
            status: Some(whalewatch::model::AlertStatus::Resolved),
            ..Default::default()
        },
        ANALYST,
    )
    .unwrap();
    triage::enqueue_incident_change(
        &mut t.cache,
        std::slice::from_ref(&incident),
        &IncidentChange {
            status: Some(IncidentStatus::Resolved),
            ..Default::default()
        },
        ANALYST,
    )
    .unwrap();
    // The alert's PATCH moves its incident's lastUpdateDateTime on the tenant; that
    // change is the analyst's own, so the incident PATCH is sent, not held.
    let report = triage::flush(&client(&server, false), &mut t.cache)
        .await
        .unwrap();
    let got: Vec<(OutboxKind, Outcome)> = report
        .outcomes
        .iter()
        .map(|o| (o.kind, o.outcome.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (OutboxKind::AlertUpdate, Outcome::Sent),
            (OutboxKind::IncidentUpdate, Outcome::Sent),
        ],
        "{report:#?}"
    );
    let i = tenant_incident(&api, &token, &incident).await;
    assert_eq!(i["status"], "resolved");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_and_a_missing_incident_permission_keep_every_write_queued() {
    let mut cfg = config(623);
    cfg.denied_roles = vec!["SecurityIncident.ReadWrite.All".into()];
    let server = start(cfg).await;
    let api = Api::of(&server);
    let mut t = cache_with_incidents(&server, "denied").await;
    let ids = ids(&t.cache, 2);
    triage::enqueue_incident_change(&mut t.cache, &ids, &resolve_as_phish("kept"), ANALYST)
        .unwrap();

    let report = triage::flush(&client(&server, true), &mut t.cache)
        .await
        .unwrap();
    let why = report.stopped.clone().unwrap_or_default();
    assert!(why.contains("read-only"), "{why}");
    assert!(
        writes(&requests(&api).await).is_empty(),
        "read-only sent nothing"
    );

    let report = triage::flush(&client(&server, false), &mut t.cache)
        .await
        .unwrap();
    let why = report.stopped.clone().unwrap_or_default();
    assert!(why.contains("SecurityIncident.ReadWrite.All"), "{why}");
    let outbox = t.cache.outbox().unwrap();
    assert_eq!(outbox.len(), 4, "nothing lost");
    assert!(outbox.iter().all(|e| e.state == OutboxState::Queued));
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[cfg(unix)]
#[test]
fn an_incident_flush_killed_mid_way_on_a_faulty_tenant_delivers_every_write_exactly_once() {
    let world = WorldFlags::small(705);
    let sim = SimProcess::start(
        &world,
        &[
            "--faults",
            "429:0.1,500:0.1,503:0.05,slow:0.5",
            "--slow-ms",
            "150",
            "--fault-retry-after",
            "0.05",
        ],
    );
    let ws = workspace("incident-kill", &sim);
    let ids: Vec<String> =
        csv_rows(&ws.ok(&["query", "incidents", "--format", "csv", "--columns", "Id"]))
            .into_iter()
            .take(4)
            .map(|r| r[0].clone())
            .collect();
    assert_eq!(ids.len(), 4, "the world has four incidents");
    let comment = "incident: exactly once, please";
    {
        // Queued as the console queues it; the process below sends it.
        let mut cache = Cache::open(&ws.cache_file("sim")).unwrap();
        let q =
            triage::enqueue_incident_change(&mut cache, &ids, &resolve_as_phish(comment), ANALYST)
                .unwrap();
        assert_eq!(q.len(), 8);
    }
    let api = api_of(&sim.url, &sim.tenant, &sim.client_id, &sim.client_secret);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let incident_writes = |log: &[(String, String, u16)]| {
        succeeded(log, "PATCH", "") + succeeded(log, "POST", "/comments")
    };
    let mut child = KillOnDrop(
        ws.command(&["alert", "flush"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("alert flush starts"),
    );
    assert!(
        wait_until(Duration::from_secs(60), || {
            incident_writes(&rt.block_on(requests(&api))) >= 3
        }),
        "the flush starts writing"
    );
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL mid-flush");
    }
    assert!(
        incident_writes(&rt.block_on(requests(&api))) < 8,
        "the kill landed before the end of the flush"
    );

    let mut runs = 0;
    while !ws.ok(&["alert", "outbox"]).contains("empty") {
        runs += 1;
        assert!(
            runs <= 10,
            "the outbox never drained: {}",
            ws.ok(&["alert", "outbox"])
        );
        let _ = ws.run(&["alert", "flush"]);
    }

    let log = rt.block_on(requests(&api));
    let token = rt.block_on(token(&api));
    for id in &ids {
        let path = format!("/security/incidents/{id}");
        assert_eq!(
            succeeded(&log, "PATCH", &path),
            1,
            "one accepted PATCH of {id}"
        );
        assert_eq!(
            succeeded(&log, "POST", &format!("{path}/comments")),
            1,
            "one accepted comment on {id}"
        );
        let i = rt.block_on(tenant_incident(&api, &token, id));
        assert_eq!(comments_with(&i, comment), 1, "{i}");
        assert_eq!(i["status"], "resolved");
        assert_eq!(i["determination"], "phishing");
    }
    let journal: Value = serde_json::from_str(&ws.ok(&["journal", "--format", "json"])).unwrap();
    let sent = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["result"] == "sent" && j["targetKind"] == "incident")
        .count();
    assert_eq!(sent, 8, "{journal:#}");
}

#[test]
fn query_incidents_prints_the_panes_rows_for_the_same_filters() {
    use whalewatch::ui::action::{Action, Pane};
    use whalewatch::ui::state::{Session, State};
    use whalewatch::ui::update::{Msg, update};

    let world = WorldFlags::small(706);
    let sim = SimProcess::start(&world, &[]);
    let ws = workspace("incident-rows", &sim);
    let snapshot = whalewatch::ui::data::load_quick(&ws.cache_file("sim")).unwrap();
    let keymap = whalewatch::ui::commands::Keymap::new(&BTreeMap::new()).unwrap();
    let mut checked = 0;
    for filter in [
        "",
        "is:priority",
        "status:active",
        "severity:high",
        "-status:resolved",
    ] {
        let mut args = vec!["query", "incidents", "--format", "csv"];
        if !filter.is_empty() {
            args.extend(["--", filter]);
        }
        let cli = csv_rows(&ws.ok(&args));

        let mut s = State::new(
            Session::default(),
            snapshot.clone(),
            keymap.clone(),
            chrono::Utc::now(),
        );
        update(
            &mut s,
            Msg::Action(Action::Run(format!("incidents {filter}"))),
        );
        assert_eq!(s.pane(), Pane::Incidents);
        let g = s.grid().unwrap();
        let pane: Vec<Vec<String>> = g
            .rows
            .iter()
            .map(|&r| {
                g.columns
                    .iter()
                    .map(|c| whalewatch::ui::panes::cell(&s.data, r, c.id))
                    .collect()
            })
            .collect();
        // The CLI prints the pane's columns, then the id.
        let cli_cells: Vec<Vec<String>> =
            cli.iter().map(|r| r[..g.columns.len()].to_vec()).collect();
        assert_eq!(cli_cells, pane, "filter `{filter}`");
        checked += pane.len();
    }
    assert!(checked > 0, "some incidents were compared");
}

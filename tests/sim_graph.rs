//! The simulator's Graph endpoints against the world's ground truth: alerts and
//! incidents (paging, `$filter`, PATCH, comments), the directory (users, groups,
//! members), analyzedEmails (time range, get, remediate) and the documented shapes.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Api, config, fixture, has_keys_of, small_world, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use whalewatch::sim::World;
use whalewatch::sim::kql::table::format_datetime;
use whalewatch::sim::stats::WorldStats;
use whalewatch::sim::world::Location;

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

fn distinct(ids: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "duplicate ids across pages");
    set
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_page_to_exactly_the_worlds_alerts_and_filter_by_last_update() {
    // Alerts are rare; a busier world than the default small one has enough to page.
    let params = whalewatch::sim::WorldParams {
        emails_per_day: 1_500,
        ..small_world(21)
    };
    let world = World::generate(&params).unwrap();
    let stats = WorldStats::of(&world);
    assert!(stats.alerts > 10, "the test world needs several alerts");
    let server = start(whalewatch::sim::server::SimConfig::new(params.clone())).await;
    let api = Api::of(&server);
    let token = api.token().await;

    let all = api
        .page_all(&token, "/v1.0/security/alerts_v2", &[("$top", "7")])
        .await;
    let got = distinct(&ids(&all));
    assert_eq!(got.len(), stats.alerts);
    let want: BTreeSet<String> = world.alerts.iter().map(|a| a.id.clone()).collect();
    assert_eq!(got, want);

    // Every key of the documentation's alert is in ours.
    let doc = fixture("graph-alerts_v2-list.response.json");
    for a in &all {
        has_keys_of(a, &doc["value"][0], "alert");
        assert_eq!(a["@odata.type"], "#microsoft.graph.security.alert");
    }

    // $filter on lastUpdateDateTime, at the median of the world's update times.
    let mut times: Vec<i64> = world.alerts.iter().map(|a| a.last_update).collect();
    times.sort_unstable();
    let t = times[times.len() / 2];
    let filter = format!("lastUpdateDateTime ge {}", format_datetime(t));
    let filtered = api
        .page_all(
            &token,
            "/v1.0/security/alerts_v2",
            &[("$filter", &filter), ("$top", "5")],
        )
        .await;
    let got = distinct(&ids(&filtered));
    let want: BTreeSet<String> = world
        .alerts
        .iter()
        .filter(|a| a.last_update >= t)
        .map(|a| a.id.clone())
        .collect();
    assert!(!want.is_empty() && want.len() < stats.alerts);
    assert_eq!(got, want);

    for bad in [
        "lastUpdateDateTime ge",
        "status eq 'new",
        "status like 'new'",
        "(status eq 'new'",
    ] {
        let r = api
            .get_query(&token, "/v1.0/security/alerts_v2", &[("$filter", bad)])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert_eq!(r.graph_error().0, "BadRequest");
    }
    for bad in [("$top", "0"), ("$top", "x"), ("$skiptoken", "garbage")] {
        let r = api
            .get_query(&token, "/v1.0/security/alerts_v2", &[bad])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}: {}", r.text);
        r.graph_error();
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_get_patch_and_comments() {
    let server = start(config(22)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let (id, incident_id) = server.state.read_world(|w| {
        let a = w
            .alerts
            .iter()
            .find(|a| a.status != "resolved")
            .expect("an unresolved alert");
        (a.id.clone(), a.incident.to_string())
    });
    let path = format!("/v1.0/security/alerts_v2/{id}");

    let before = api.get(&token, &path).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(before.json["id"], id.as_str());
    assert_eq!(before.json["incidentId"], incident_id.as_str());
    has_keys_of(
        &before.json,
        &fixture("graph-alerts_v2-get.response.json"),
        "alert (get)",
    );

    let r = api
        .get(&token, "/v1.0/security/alerts_v2/da000000000000000000_0")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    r.graph_error();

    // Bad PATCHes change nothing.
    for body in [
        json!({"status": "closed"}),
        json!({"classification": "mostlyHarmless"}),
        json!({"determination": 7}),
        json!({"severity": "low"}),
        json!({"status": "resolved", "title": "renamed"}),
        json!(["status", "resolved"]),
    ] {
        let r = api.patch(&token, &path, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(r.graph_error().0, "BadRequest");
    }
    let r = common::Reply::of(
        api.http
            .patch(api.url(&path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{\"status\": \"resolved\"")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    r.graph_error();
    let unchanged = api.get(&token, &path).await;
    assert_eq!(
        unchanged.json, before.json,
        "a rejected PATCH changed the alert"
    );

    // The documented update.
    let update = fixture("graph-alerts_v2-update.request.json");
    assert!(update.is_object());
    let body = json!({
        "status": "resolved",
        "classification": "truePositive",
        "determination": "phishing",
        "assignedTo": "secAdmin@contoso.com",
    });
    let r = api.patch(&token, &path, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    has_keys_of(
        &r.json,
        &fixture("graph-alerts_v2-update.response.json"),
        "alert (update)",
    );
    let after = api.get(&token, &path).await;
    for (k, v) in body.as_object().unwrap() {
        assert_eq!(&after.json[k], v, "{k} after PATCH");
    }
    let old = before.json["lastUpdateDateTime"].as_str().unwrap();
    let new = after.json["lastUpdateDateTime"].as_str().unwrap();
    assert!(new > old, "lastUpdateDateTime {old} -> {new}");
    assert!(after.json["resolvedDateTime"].is_string());

    // The incident reflects the change.
    let inc = api
        .get(
            &token,
            &format!("/v1.0/security/incidents/{incident_id}?$expand=alerts"),
        )
        .await;
    assert_eq!(inc.status, StatusCode::OK, "{}", inc.text);
    assert_eq!(inc.json["lastUpdateDateTime"].as_str().unwrap(), new);
    let mine = inc.json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .expect("the alert is in its incident");
    assert_eq!(mine["status"], "resolved");
    assert_eq!(mine["assignedTo"], "secAdmin@contoso.com");
    let all_resolved = inc.json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["status"] == "resolved");
    assert_eq!(inc.json["status"] == "resolved", all_resolved);

    // assignedTo can be cleared.
    let r = api.patch(&token, &path, &json!({"assignedTo": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(api.get(&token, &path).await.json["assignedTo"].is_null());

    // Comments.
    let n = after.json["comments"].as_array().unwrap().len();
    let r = api
        .post(
            &token,
            &format!("{path}/comments"),
            &fixture("graph-alerts_v2-comment.request.json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = api
        .post(
            &token,
            &format!("{path}/comments"),
            &json!({"comment": "Confirmed phish; purged."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let value = r.json["value"].as_array().unwrap();
    assert_eq!(value.len(), n + 2);
    assert_eq!(value.last().unwrap()["comment"], "Confirmed phish; purged.");
    let doc = fixture("graph-alerts_v2-comment.response.json");
    has_keys_of(&r.json, &doc, "comments response");
    for c in value {
        has_keys_of(c, &doc["value"][0], "comment");
    }
    let got = api.get(&token, &path).await;
    assert_eq!(got.json["comments"].as_array().unwrap().len(), n + 2);
    for bad in [json!({}), json!({"comment": "  "}), json!({"comment": 3})] {
        let r = api.post(&token, &format!("{path}/comments"), &bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        r.graph_error();
    }
    let r = api
        .post(
            &token,
            "/v1.0/security/alerts_v2/nope/comments",
            &json!({"comment": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn incidents_expand_alerts_each_exactly_once() {
    let world = World::generate(&small_world(23)).unwrap();
    let stats = WorldStats::of(&world);
    let server = start(config(23)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let incidents = api
        .page_all(
            &token,
            "/v1.0/security/incidents",
            &[("$expand", "alerts"), ("$top", "3")],
        )
        .await;
    assert_eq!(incidents.len(), stats.incidents);
    distinct(&ids(&incidents));
    let doc = fixture("graph-incidents-list.response.json");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for inc in &incidents {
        has_keys_of(inc, &doc["value"][0], "incident");
        for a in inc["alerts"].as_array().expect("expanded alerts") {
            assert_eq!(a["incidentId"], inc["id"]);
            *seen
                .entry(a["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert_eq!(seen.len(), stats.alerts);
    assert!(seen.values().all(|n| *n == 1), "an alert in two incidents");
    let want: BTreeSet<String> = world.alerts.iter().map(|a| a.id.clone()).collect();
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), want);

    // Without $expand there are no alerts.
    let r = api.get(&token, "/v1.0/security/incidents?$top=1").await;
    assert!(r.json["value"][0].get("alerts").is_none(), "{}", r.text);
    let r = api.get(&token, "/v1.0/security/incidents/999999999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.graph_error();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn directory_users_groups_and_members() {
    let world = World::generate(&small_world(24)).unwrap();
    let stats = WorldStats::of(&world);
    let server = start(config(24)).await;
    let api = Api::of(&server);
    let token = api.token().await;

    let users = api.page_all(&token, "/v1.0/users", &[("$top", "9")]).await;
    assert_eq!(users.len(), stats.users);
    distinct(&ids(&users));
    let enabled = users.iter().filter(|u| u["accountEnabled"] == true).count();
    assert_eq!(enabled, stats.enabled_users);

    let selected = api
        .page_all(
            &token,
            "/v1.0/users",
            &[("$select", "displayName,mail"), ("$top", "50")],
        )
        .await;
    assert_eq!(selected.len(), stats.users);
    for u in &selected {
        let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.contains("displayName") && keys.contains("mail"), "{u}");
        assert!(
            keys.iter()
                .all(|k| ["id", "displayName", "mail"].contains(k) || k.starts_with('@')),
            "{u}"
        );
    }
    let upn = users[0]["userPrincipalName"].as_str().unwrap();
    let r = api.get(&token, &format!("/v1.0/users/{upn}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["id"], users[0]["id"]);

    let groups = api
        .page_all(
            &token,
            "/v1.0/groups",
            &[("$filter", "displayName eq 'Finance'")],
        )
        .await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    let finance = groups[0]["id"].as_str().unwrap();
    let g = world.directory.group_named("Finance").unwrap();
    let group = &world.directory.groups[g];

    let transitive = api
        .page_all(
            &token,
            &format!("/v1.0/groups/{finance}/transitiveMembers"),
            &[("$top", "4")],
        )
        .await;
    distinct(&ids(&transitive));
    let nested: Vec<&Value> = transitive
        .iter()
        .filter(|m| m["@odata.type"] == "#microsoft.graph.group")
        .collect();
    assert_eq!(nested.len(), 1, "{nested:?}");
    assert_eq!(nested[0]["displayName"], "Accounts Payable");
    assert_eq!(transitive.len(), stats.groups["Finance"] + 1);

    let direct = api
        .page_all(&token, &format!("/v1.0/groups/{finance}/members"), &[])
        .await;
    distinct(&ids(&direct));
    assert_eq!(direct.len(), group.members.len() + group.groups.len());
    let direct_users = direct
        .iter()
        .filter(|m| m["@odata.type"] == "#microsoft.graph.user")
        .count();
    assert_eq!(direct_users, group.members.len());
    assert!(
        direct_users < stats.groups["Finance"],
        "the nested group should add members that /members does not list"
    );

    let r = api
        .get(
            &token,
            "/v1.0/groups/00000000-0000-0000-0000-000000000000/members",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.graph_error();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn analyzed_emails_list_by_time_and_get() {
    let world = World::generate(&small_world(25)).unwrap();
    let server = start(config(25)).await;
    let api = Api::of(&server);
    let token = api.token().await;

    let day = 86_400 * whalewatch::sim::kql::TICKS_PER_SECOND;
    let start_t = world.now() - 2 * day;
    let end_t = world.now() - day;
    let (start_s, end_s) = (format_datetime(start_t), format_datetime(end_t));
    let want: BTreeSet<String> = world
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let t = world.message_of(r).time;
            t >= start_t && t < end_t
        })
        .map(|(i, r)| format!("{}_{i}", world.message_of(r).id))
        .collect();
    assert!(want.len() > 100, "{}", want.len());
    let items = api
        .page_all(
            &token,
            "/v1.0/security/collaboration/analyzedEmails",
            &[("startTime", &start_s), ("endTime", &end_s), ("$top", "97")],
        )
        .await;
    assert_eq!(distinct(&ids(&items)), want);
    let doc = fixture("graph-v1-analyzedEmails-list.response.json");
    for e in &items {
        let logged = e["loggedDateTime"].as_str().unwrap();
        assert!(
            logged >= start_s.as_str() && logged < end_s.as_str(),
            "{logged}"
        );
        has_keys_of(e, &doc["value"][0], "analyzedEmail (list)");
    }

    let one = &items[items.len() / 2];
    let id = one["id"].as_str().unwrap();
    let r = api
        .get(
            &token,
            &format!("/v1.0/security/collaboration/analyzedEmails/{id}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(&r.json, one);
    has_keys_of(
        &r.json,
        &fixture("graph-v1-analyzedEmails-get.response.json"),
        "analyzedEmail (get)",
    );
    let r = api
        .get(
            &token,
            "/v1.0/security/collaboration/analyzedEmails/00000000-0000-0000-0000-000000000000_1",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    r.graph_error();
    let r = api
        .get_query(
            &token,
            "/v1.0/security/collaboration/analyzedEmails",
            &[("startTime", "yesterday")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    r.graph_error();
    server.shutdown().await;
}

/// A hunting query's single row for one recipient of a message.
async fn hunting_rows(api: &Api, token: &str, query: &str) -> Vec<Value> {
    let r = api.hunt(token, query, None).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    let doc = fixture("graph-runHuntingQuery.response.json");
    has_keys_of(&r.json, &doc, "hunting response");
    for c in r.json["schema"].as_array().unwrap() {
        has_keys_of(c, &doc["schema"][0], "hunting schema column");
    }
    r.json["results"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn remediation_moves_mail_and_records_post_delivery_events() {
    let world = World::generate(&small_world(26)).unwrap();
    let server = start(config(26)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let addr = |row: usize| world.s(world.parties[world.rows[row].recipient as usize].address);
    let nmid = |row: usize| world.message_of(&world.rows[row]).id.to_string();

    // Prefer a message with two inbox recipients, as in the documentation's example.
    let inbox: Vec<usize> = (0..world.rows.len())
        .filter(|&i| world.rows[i].latest == Location::Inbox)
        .collect();
    let pair = inbox
        .windows(2)
        .find(|w| world.rows[w[0]].message == world.rows[w[1]].message)
        .map_or_else(|| vec![inbox[0], inbox[1]], |w| w.to_vec());
    let quarantined = (0..world.rows.len())
        .find(|&i| world.rows[i].latest == Location::Quarantine)
        .expect("a quarantined message");

    let mut body = fixture("graph-v1-analyzedEmails-remediate.request.json");
    body["analyzedEmails"] = Value::Array(
        pair.iter()
            .map(|&r| json!({"networkMessageId": nmid(r), "recipientEmailAddress": &**addr(r)}))
            .collect(),
    );
    assert_eq!(body["action"], "softDelete");
    let r = api
        .post(
            &token,
            "/v1.0/security/collaboration/analyzedEmails/remediate",
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap();
    assert!(location.contains("action-center"), "{location}");

    for &row in &pair {
        let id = format!("{}_{row}", nmid(row));
        let e = api
            .get(
                &token,
                &format!("/v1.0/security/collaboration/analyzedEmails/{id}"),
            )
            .await;
        assert_eq!(e.status, StatusCode::OK, "{}", e.text);
        assert_eq!(e.json["latestDelivery"]["location"], "deletedFolder");
        assert_eq!(e.json["originalDelivery"]["location"], "inbox_folder");

        let q = format!(
            "EmailEvents | where NetworkMessageId == \"{}\" and RecipientEmailAddress == \"{}\" | project DeliveryLocation, LatestDeliveryLocation",
            nmid(row),
            addr(row)
        );
        let rows = hunting_rows(&api, &token, &q).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["LatestDeliveryLocation"], "Deleted items");
        assert_eq!(rows[0]["DeliveryLocation"], "Inbox/folder");

        let q = format!(
            "EmailPostDeliveryEvents | where NetworkMessageId == \"{}\" and RecipientEmailAddress == \"{}\" and ActionType == \"Manual remediation\" | project Action, ActionResult, DeliveryLocation",
            nmid(row),
            addr(row)
        );
        let rows = hunting_rows(&api, &token, &q).await;
        assert!(
            rows.iter().any(|r| r["Action"] == "Soft delete"
                && r["ActionResult"] == "Success"
                && r["DeliveryLocation"] == "Deleted items"),
            "{rows:?}"
        );
    }

    // A quarantined copy cannot be moved: the attempt is recorded as a failure.
    let q_before = format!(
        "EmailPostDeliveryEvents | where NetworkMessageId == \"{}\" and RecipientEmailAddress == \"{}\" | count",
        nmid(quarantined),
        addr(quarantined)
    );
    let before = hunting_rows(&api, &token, &q_before).await[0]["Count"]
        .as_i64()
        .unwrap();
    let r = api
        .post(
            &token,
            "/v1.0/security/collaboration/analyzedEmails/remediate",
            &json!({
                "action": "moveToInbox",
                "analyzedEmails": [{"networkMessageId": nmid(quarantined), "recipientEmailAddress": &**addr(quarantined)}],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = format!("{}_{quarantined}", nmid(quarantined));
    let e = api
        .get(
            &token,
            &format!("/v1.0/security/collaboration/analyzedEmails/{id}"),
        )
        .await;
    assert_eq!(e.json["latestDelivery"]["location"], "quarantine");
    let after = hunting_rows(&api, &token, &q_before).await[0]["Count"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before + 1);
    let q = format!(
        "EmailPostDeliveryEvents | where NetworkMessageId == \"{}\" and RecipientEmailAddress == \"{}\" and ActionType == \"Manual remediation\" and ActionResult == \"Failed\" | project DeliveryLocation",
        nmid(quarantined),
        addr(quarantined)
    );
    let rows = hunting_rows(&api, &token, &q).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["DeliveryLocation"], "Quarantine");
    let q = format!(
        "EmailEvents | where NetworkMessageId == \"{}\" and RecipientEmailAddress == \"{}\" | project LatestDeliveryLocation",
        nmid(quarantined),
        addr(quarantined)
    );
    assert_eq!(
        hunting_rows(&api, &token, &q).await[0]["LatestDeliveryLocation"],
        "Quarantine"
    );

    // Invalid requests.
    let one =
        json!([{"networkMessageId": nmid(pair[0]), "recipientEmailAddress": &**addr(pair[0])}]);
    for bad in [
        json!({"action": "incinerate", "analyzedEmails": one}),
        json!({"action": "softDelete", "analyzedEmails": []}),
        json!({"action": "softDelete"}),
        json!({"action": "softDelete", "analyzedEmails": [{"networkMessageId": nmid(pair[0])}]}),
    ] {
        let r = api
            .post(
                &token,
                "/v1.0/security/collaboration/analyzedEmails/remediate",
                &bad,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        r.graph_error();
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_remediations_keep_post_delivery_events_in_time_order() {
    let server = start(config(27)).await;
    let api = std::sync::Arc::new(Api::of(&server));
    let token = api.token().await;
    let targets: Vec<Value> = server.state.read_world(|w| {
        (0..w.rows.len())
            .filter(|&i| w.rows[i].latest == Location::Inbox)
            .take(64)
            .map(|i| {
                json!({
                    "networkMessageId": w.message_of(&w.rows[i]).id.to_string(),
                    "recipientEmailAddress": &**w.s(w.parties[w.rows[i].recipient as usize].address),
                })
            })
            .collect()
    });
    let mut tasks = Vec::new();
    for t in targets.clone() {
        let (api, token) = (api.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            api.post(
                &token,
                "/v1.0/security/collaboration/analyzedEmails/remediate",
                &json!({"action": "moveToJunk", "analyzedEmails": [t]}),
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::ACCEPTED);
    }
    // The table is declared sorted by Timestamp; the engine relies on it.
    let sorted = server
        .state
        .read_world(|w| w.post_delivery.windows(2).all(|p| p[0].time <= p[1].time));
    assert!(sorted, "EmailPostDeliveryEvents out of time order");
    let r = api
        .hunt(
            &token,
            &format!(
                "EmailPostDeliveryEvents | where Timestamp >= datetime({}) and ActionType == \"Manual remediation\" | count",
                format_datetime(server.state.read_world(|w| w.now()))
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["results"][0]["Count"], targets.len());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn select_keeps_expanded_navigation_properties() {
    let server = start(config(28)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let r = api
        .get_query(
            &token,
            "/v1.0/security/incidents",
            &[
                ("$select", "displayName"),
                ("$expand", "alerts"),
                ("$top", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for inc in r.json["value"].as_array().unwrap() {
        assert!(inc["displayName"].is_string(), "{inc}");
        assert!(inc.get("severity").is_none(), "{inc}");
        assert!(
            !inc["alerts"]
                .as_array()
                .expect("expanded alerts")
                .is_empty(),
            "{inc}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn incident_patch_and_comments_take_the_documented_bodies() {
    let server = start(config(23)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let id = server.state.read_world(|w| w.incidents[0].id.to_string());
    let path = format!("/v1.0/security/incidents/{id}");
    let before = api.get(&token, &path).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);

    // Bad PATCHes change nothing; an alert status is not an incident status.
    for body in [
        json!({"status": "new"}),
        json!({"classification": "mostlyHarmless"}),
        json!({"customTags": "Demo"}),
        json!({"severity": "low"}),
    ] {
        let r = api.patch(&token, &path, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(r.graph_error().0, "BadRequest");
    }
    assert_eq!(api.get(&token, &path).await.json, before.json);

    // The documented request (PascalCase values, customTags).
    let r = api
        .patch(
            &token,
            &path,
            &fixture("graph-incidents-update.request.json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = api
        .patch(
            &token,
            &path,
            &json!({"status": "resolved", "assignedTo": "secAdmin@contoso.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after = api.get(&token, &path).await;
    assert_eq!(after.json["classification"], "truePositive");
    assert_eq!(after.json["determination"], "multiStagedAttack");
    assert_eq!(after.json["customTags"], json!(["Demo"]));
    assert_eq!(after.json["status"], "resolved");
    assert_eq!(after.json["assignedTo"], "secAdmin@contoso.com");
    let old = before.json["lastUpdateDateTime"].as_str().unwrap();
    let new = after.json["lastUpdateDateTime"].as_str().unwrap();
    assert!(new > old, "lastUpdateDateTime {old} -> {new}");

    // The documented comment; the answer lists every comment, the incident spells
    // them createdBy/createdTime.
    let r = api
        .post(
            &token,
            &format!("{path}/comments"),
            &fixture("graph-incidents-comment.request.json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["value"][0]["comment"], "Demo for docs");
    let after = api.get(&token, &path).await;
    assert_eq!(after.json["comments"][0]["comment"], "Demo for docs");
    assert!(after.json["comments"][0]["createdTime"].is_string());
    has_keys_of(
        &after.json["comments"][0],
        &fixture("graph-beta-incidents-update.response.json")["comments"][0],
        "incident comment",
    );

    // The analyst's verdict stays the incident's own when one of its alerts changes.
    let alert = server.state.read_world(|w| {
        let i = &w.incidents[0];
        w.alerts[i.alerts[0] as usize].id.clone()
    });
    let r = api
        .patch(
            &token,
            &format!("/v1.0/security/alerts_v2/{alert}"),
            &json!({"status": "inProgress"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let again = api.get(&token, &path).await;
    assert_eq!(again.json["status"], "resolved");
    assert_eq!(again.json["classification"], "truePositive");

    let r = api
        .patch(
            &token,
            "/v1.0/security/incidents/1",
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

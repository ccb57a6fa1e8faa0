//! `security/collaboration/analyzedEmails`: list (by `startTime`/`endTime`), get,
//! and `remediate`, which moves messages for later reads and records a
//! `Manual remediation` post-delivery event per message.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::alerts::page;
use super::errors::GraphError;
use super::odata::ListOptions;
use super::{AppState, json_response};
use crate::kql::table::format_datetime;
use crate::rng::Guid;
use crate::world::{DeliveryAction, Direction, Evidence, Location, PostDeliveryRow, World};

const READ: &[&str] = &[
    "SecurityAnalyzedMessage.Read.All",
    "SecurityAnalyzedMessage.ReadWrite.All",
];
const WRITE: &[&str] = &["SecurityAnalyzedMessage.ReadWrite.All"];

fn location(l: Location) -> &'static str {
    match l {
        Location::Inbox => "inbox_folder",
        Location::Junk => "junkFolder",
        Location::Quarantine => "quarantine",
        Location::DeletedItems => "deletedFolder",
        Location::Dropped => "dropped",
        Location::Failed => "failed",
        Location::External => "onprem_external",
    }
}

fn action(a: DeliveryAction) -> &'static str {
    match a {
        DeliveryAction::Delivered => "delivered",
        DeliveryAction::Junked => "deliveredToJunk",
        DeliveryAction::Blocked => "blocked",
        DeliveryAction::Replaced => "replaced",
    }
}

fn auth_detail(auth: &str) -> Value {
    let v: HashMap<String, String> = serde_json::from_str(auth).unwrap_or_default();
    let get = |k: &str| v.get(k).cloned().unwrap_or_default();
    json!({
        "senderPolicyFramework": get("SPF"),
        "dkim": get("DKIM"),
        "dmarc": get("DMARC"),
        "compositeAuthentication": get("CompAuth"),
    })
}

fn list_of_methods(s: &str) -> Vec<String> {
    let m: HashMap<String, Vec<String>> = serde_json::from_str(s).unwrap_or_default();
    let mut v: Vec<String> = m.into_values().flatten().collect();
    v.sort();
    v
}

/// The `analyzedEmail` id of a recipient row.
fn email_id(w: &World, row: usize) -> String {
    format!("{}_{row}", w.messages[w.rows[row].message as usize].id)
}

fn analyzed_email(w: &World, row: usize, alert_ids: &[String]) -> Value {
    let r = &w.rows[row];
    let m = w.message_of(r);
    let v = &w.verdicts[m.verdict as usize];
    let from = &w.parties[m.from as usize];
    let threats: Vec<String> = w
        .s(v.threat_types)
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|s| s.to_lowercase())
        .collect();
    let latest_threat = if m.kind.is_phish() {
        "Phish"
    } else if m.kind == crate::world::Kind::Malware {
        "Malware"
    } else {
        ""
    };
    let mut timeline = vec![json!({
        "eventDateTime": format_datetime(m.time),
        "eventType": "originalDelivery",
        "eventSource": "system",
        "eventResult": r.original.as_str(),
        "eventDetails": r.action.as_str(),
        "eventThreats": threats,
    })];
    for e in w.post_delivery.iter().filter(|e| e.row as usize == row) {
        let kind = &**w.s(e.action_type);
        timeline.push(json!({
            "eventDateTime": format_datetime(e.time),
            "eventType": if kind.ends_with("ZAP") { "zap" } else { "air" },
            "eventSource": if kind.ends_with("ZAP") { "system" } else { "admin" },
            "eventResult": e.location.as_str(),
            "eventDetails": format!("{}: {} ({})", kind, w.s(e.action), w.s(e.result)),
            "eventThreats": if latest_threat.is_empty() { vec![] } else { vec![latest_threat] },
        }));
    }
    let urls: Vec<Value> = w.urls
        [m.first_url as usize..(m.first_url + u32::from(m.url_count)) as usize]
        .iter()
        .map(|u| json!({"url": &**w.s(u.url), "domain": &**w.s(u.domain)}))
        .collect();
    let attachments: Vec<Value> = w.attachments[m.first_attachment as usize
        ..(m.first_attachment + u32::from(m.attachment_count)) as usize]
        .iter()
        .map(|a| {
            json!({
                "fileName": &**w.s(a.file_name),
                "fileType": &**w.s(a.file_type),
                "fileExtension": &**w.s(a.file_type),
                "fileSize": a.size,
                "sha256": &**w.s(a.sha256),
                "malwareFamily": if a.malicious { Some(&**w.s(v.threat_names)) } else { None },
            })
        })
        .collect();
    let conf: Value = serde_json::from_str(w.s(v.confidence)).unwrap_or(Value::Null);
    json!({
        "@odata.type": "#microsoft.graph.security.analyzedEmail",
        "id": email_id(w, row),
        "loggedDateTime": format_datetime(m.time),
        "networkMessageId": m.id.to_string(),
        "internetMessageId": w.internet_message_id(r.message),
        "senderDetail": {
            "fromAddress": &**w.s(from.address),
            "displayName": &**w.s(from.display_name),
            "domainName": &**w.s(from.domain),
            "mailFromAddress": &**w.s(m.mail_from),
            "mailFromDomainName": w.s(m.mail_from).rsplit_once('@').map_or("", |x| x.1),
            "ipv4": &**w.s(m.ip),
            "ipv6": null,
            "domainCreationDateTime": null,
            "domainOwner": null,
            "location": null,
        },
        "recipientEmailAddress": &**w.s(w.parties[r.recipient as usize].address),
        "distributionList": null,
        "subject": &**w.s(m.subject),
        "returnPath": &**w.s(m.mail_from),
        "directionality": match m.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::IntraOrg => "intraOrg",
        },
        "originalDelivery": {"action": action(r.action), "location": location(r.original), "originalThreats": &**w.s(v.threat_types), "latestThreats": latest_threat},
        "latestDelivery": {"action": action(r.action), "location": location(r.latest), "originalThreats": &**w.s(v.threat_types), "latestThreats": latest_threat},
        "attachments": attachments,
        "urls": urls,
        "language": &**w.s(m.language),
        "sizeInBytes": m.size,
        "alertIds": alert_ids,
        "exchangeTransportRules": [],
        "overrideSources": [],
        "threatTypes": threats,
        "detectionMethods": list_of_methods(w.s(v.detection_methods)),
        "contexts": if r.priority_context { vec![crate::world::PRIORITY_CONTEXT] } else { vec![] },
        "authenticationDetails": auth_detail(w.s(m.auth)),
        "phishConfidenceLevel": conf["Phish"].as_str().unwrap_or_default(),
        "spamConfidenceLevel": conf["Spam"].as_i64().map(|n| n.to_string()).unwrap_or_default(),
        "bulkComplaintLevel": m.bcl.to_string(),
        "emailClusterId": m.cluster.to_string(),
        "policyAction": &**w.s(v.email_action),
        "policy": &**w.s(v.policy),
        "timelineEvents": timeline,
        "threatDetectionDetails": [],
        "primaryOverrideSource": null,
        "inboundConnectorFormattedName": null,
        "policyType": null,
        "clientType": null,
        "dlpRules": [],
        "forwardingDetail": null,
        "recipientDetail": {"recipientEmailAddress": &**w.s(w.parties[r.recipient as usize].address)},
    })
}

/// Alert ids per recipient row, from the alerts' message evidence.
fn alerts_by_row(w: &World) -> HashMap<u32, Vec<String>> {
    let mut m: HashMap<u32, Vec<String>> = HashMap::new();
    for a in &w.alerts {
        for e in &a.evidence {
            if let Evidence::Message { row } = e {
                m.entry(*row).or_default().push(a.id.clone());
            }
        }
    }
    m
}

pub async fn list(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = st.authorize(&headers, READ) {
        return st.graph_error(e);
    }
    let opts = match ListOptions::from_query(&q, 100, 1000) {
        Ok(o) => o,
        Err(m) => return st.graph_error(GraphError::bad_request(m)),
    };
    #[allow(clippy::result_large_err)] // the error is the finished response
    let bound = |name: &str| -> Result<Option<i64>, Response> {
        match q.get(name) {
            None => Ok(None),
            Some(s) => whalewatch_model::time::parse_ticks(s).map(Some).ok_or_else(|| {
                st.graph_error(GraphError::bad_request(format!("Invalid {name} '{s}': expected an ISO 8601 date and time such as 2026-11-01T00:00:00Z.")))
            }),
        }
    };
    let (start, end) = match (bound("startTime"), bound("endTime")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let w = st.read();
    let by_row = alerts_by_row(&w);
    let lo = start.map_or(0, |s| {
        w.rows
            .partition_point(|r| w.messages[r.message as usize].time < s)
    });
    let hi = end.map_or(w.rows.len(), |e| {
        w.rows
            .partition_point(|r| w.messages[r.message as usize].time < e)
    });
    let render = |i: usize| analyzed_email(&w, i, by_row.get(&(i as u32)).map_or(&[][..], |v| v));
    let (total, items) = match &opts.filter {
        None => {
            let total = hi.saturating_sub(lo);
            (
                total,
                (lo.saturating_add(opts.skip)..hi)
                    .take(opts.top)
                    .map(render)
                    .collect(),
            )
        }
        Some(f) => {
            let matched: Vec<usize> = (lo..hi).filter(|&i| f.matches(&render(i))).collect();
            (
                matched.len(),
                matched
                    .iter()
                    .skip(opts.skip)
                    .take(opts.top)
                    .map(|&i| render(i))
                    .collect(),
            )
        }
    };
    page(
        &st,
        uri.path(),
        &q,
        &opts,
        total,
        items,
        "security/collaboration/analyzedEmails",
    )
}

/// The recipient row an `analyzedEmail` id names.
fn row_of(w: &World, id: &str) -> Option<usize> {
    let (nmid, row) = id.rsplit_once('_')?;
    let row: usize = row.parse().ok()?;
    (row < w.rows.len() && w.messages[w.rows[row].message as usize].id.to_string() == nmid)
        .then_some(row)
}

pub async fn get_one(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = st.authorize(&headers, READ) {
        return st.graph_error(e);
    }
    let w = st.read();
    match row_of(&w, &id) {
        Some(row) => {
            let by_row = alerts_by_row(&w);
            json_response(
                analyzed_email(&w, row, by_row.get(&(row as u32)).map_or(&[][..], |v| v))
                    .to_string(),
            )
        }
        None => st.graph_error(GraphError::not_found(&format!("analyzedEmail '{id}'"))),
    }
}

/// Documented `remediationAction` values and what each does here.
fn remediation(action: &str) -> Option<(Location, &'static str)> {
    Some(match action {
        "moveToJunk" => (Location::Junk, "Moved to junk folder"),
        "moveToInbox" => (Location::Inbox, "Moved to inbox"),
        "moveToDeletedItems" => (Location::DeletedItems, "Moved to deleted items"),
        "softDelete" => (Location::DeletedItems, "Soft delete"),
        "hardDelete" => (Location::Dropped, "Hard delete"),
        _ => return None,
    })
}

pub async fn remediate(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = st.authorize(&headers, WRITE) {
        return st.graph_error(e);
    }
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return st.graph_error(GraphError::bad_request(format!(
                "The request body is not valid JSON: {e}"
            )));
        }
    };
    let act = v["action"].as_str().unwrap_or_default();
    let Some((target, label)) = remediation(act) else {
        return st.graph_error(GraphError::bad_request(format!(
            "Invalid value '{act}' for property 'action'. Allowed: moveToJunk, moveToInbox, moveToDeletedItems, softDelete, hardDelete."
        )));
    };
    let Some(items) = v["analyzedEmails"].as_array().filter(|a| !a.is_empty()) else {
        return st.graph_error(GraphError::bad_request(
            "The request body must list at least one entry in 'analyzedEmails'.",
        ));
    };
    let mut wanted: Vec<(String, String)> = Vec::new();
    for it in items {
        match (
            it["networkMessageId"].as_str(),
            it["recipientEmailAddress"].as_str(),
        ) {
            (Some(n), Some(r)) => wanted.push((n.to_lowercase(), r.to_lowercase())),
            _ => {
                return st.graph_error(GraphError::bad_request(
                    "Each entry of 'analyzedEmails' needs 'networkMessageId' and 'recipientEmailAddress'.",
                ));
            }
        }
    }
    let mut w = st.write();
    // Read the clock under the lock: `EmailPostDeliveryEvents` is kept in time order.
    let now = st.clock.now();
    let rows = find_rows(&w, &wanted);
    let (action_id, type_id, trigger_id, ok_id, fail_id) = {
        let s = &mut w.strings;
        (
            s.intern(label),
            s.intern("Manual remediation"),
            s.intern("AdminAction"),
            s.intern("Success"),
            s.intern("Failed"),
        )
    };
    for row in rows {
        let latest = w.rows[row].latest;
        // Only mail still in a mailbox can be moved; blocked or quarantined copies cannot.
        let movable = matches!(
            latest,
            Location::Inbox | Location::Junk | Location::DeletedItems
        ) && latest != target;
        let result = if movable { ok_id } else { fail_id };
        w.post_delivery.push(PostDeliveryRow {
            time: now,
            row: row as u32,
            action: action_id,
            action_type: type_id,
            trigger: trigger_id,
            result,
            location: if movable { target } else { latest },
        });
        if movable {
            let r = &mut w.rows[row];
            r.latest = target;
            r.latest_action = action_id;
        }
    }
    let bulk = st
        .remediation_ids
        .lock()
        .map(|mut r| r.guid().to_string())
        .unwrap_or_default();
    let location = format!(
        "https://security.microsoft.com/action-center/history?filters={{\"bulkId\":[\"{bulk}\"]}}&tid={}",
        w.tenant.id
    );
    let mut resp = StatusCode::ACCEPTED.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Recipient rows matching (network message id, recipient) pairs, lower-cased.
fn find_rows(w: &World, wanted: &[(String, String)]) -> Vec<usize> {
    let mut ids: HashMap<u128, Vec<&str>> = HashMap::new();
    for (n, r) in wanted {
        if let Some(g) = Guid::parse(n) {
            ids.entry(g.0).or_default().push(r.as_str());
        }
    }
    let mut rows = Vec::new();
    for m in &w.messages {
        let Some(recipients) = ids.get(&m.id.0) else {
            continue;
        };
        for row in m.first_row as usize..m.first_row as usize + usize::from(m.row_count) {
            let addr = w
                .s(w.parties[w.rows[row].recipient as usize].address)
                .to_lowercase();
            if recipients.contains(&addr.as_str()) {
                rows.push(row);
            }
        }
    }
    rows
}

//! `alerts_v2` (list, get, PATCH, comments) and `incidents` (list with
//! `$expand=alerts`, get, PATCH, comments), rendered in the `microsoft.graph.security`
//! shapes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::odata::ListOptions;
use super::{AppState, json_response};
use crate::kql::table::format_datetime;
use crate::world::{Alert, AlertComment, Evidence, Incident, World};

const READ: &[&str] = &["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"];
const WRITE: &[&str] = &["SecurityAlert.ReadWrite.All"];
const INCIDENTS: &[&str] = &[
    "SecurityIncident.Read.All",
    "SecurityIncident.ReadWrite.All",
];
const INCIDENTS_WRITE: &[&str] = &["SecurityIncident.ReadWrite.All"];

/// Documented `incidentStatus` values (the update page's and the resource's).
pub const INCIDENT_STATUSES: &[&str] = &[
    "active",
    "resolved",
    "inProgress",
    "redirected",
    "awaitingAction",
];

/// Documented `alertStatus` values.
pub const STATUSES: &[&str] = &["unknown", "new", "inProgress", "resolved"];
/// Documented `alertClassification` values.
pub const CLASSIFICATIONS: &[&str] = &[
    "unknown",
    "falsePositive",
    "truePositive",
    "informationalExpectedActivity",
];
/// Documented `alertDetermination` values.
pub const DETERMINATIONS: &[&str] = &[
    "unknown",
    "apt",
    "malware",
    "securityPersonnel",
    "securityTesting",
    "unwantedSoftware",
    "other",
    "multiStagedAttack",
    "compromisedAccount",
    "phishing",
    "maliciousUserActivity",
    "notMalicious",
    "notEnoughDataToValidate",
    "confirmedActivity",
    "lineOfBusinessApplication",
];

fn dt(t: i64) -> Value {
    Value::String(format_datetime(t))
}

fn user_account(w: &World, u: u32) -> Value {
    let user = &w.directory.users[u as usize];
    json!({
        "accountName": user.upn.split('@').next().unwrap_or_default(),
        "domainName": w.tenant.domain,
        "userSid": null,
        "azureAdUserId": user.id.to_string(),
        "userPrincipalName": &*user.upn,
        "displayName": &*user.display_name,
    })
}

fn split_json_list(s: &str) -> Vec<String> {
    serde_json::from_str::<HashMap<String, Vec<String>>>(s)
        .map(|m| m.into_values().flatten().collect())
        .unwrap_or_default()
}

fn evidence_json(w: &World, a: &Alert, e: &Evidence) -> Value {
    let common = |kind: &str, verdict: &str| {
        json!({
            "@odata.type": format!("#microsoft.graph.security.{kind}"),
            "createdDateTime": format_datetime(a.created),
            "verdict": verdict,
            "remediationStatus": "none",
            "remediationStatusDetails": null,
            "roles": [],
            "detailedRoles": [],
            "tags": [],
        })
    };
    match e {
        Evidence::Message { row } => {
            let r = &w.rows[*row as usize];
            let m = w.message_of(r);
            let verdict = &w.verdicts[m.verdict as usize];
            let from = &w.parties[m.from as usize];
            let mut v = common(
                "analyzedMessageEvidence",
                if m.kind.is_threat() {
                    "malicious"
                } else {
                    "suspicious"
                },
            );
            if r.latest != r.original {
                v["remediationStatus"] = json!("remediated");
            }
            let urls: Vec<&str> = w.urls
                [m.first_url as usize..(m.first_url + u32::from(m.url_count)) as usize]
                .iter()
                .map(|u| &**w.s(u.url))
                .collect();
            let mut threats = split_json_list(w.s(verdict.detection_methods))
                .into_iter()
                .collect::<Vec<_>>();
            threats.sort();
            let sender = json!({
                "emailAddress": &**w.s(from.address),
                "displayName": &**w.s(from.display_name),
                "domainName": &**w.s(from.domain),
            });
            let extra = json!({
                "antiSpamDirection": m.direction.as_str(),
                "attachmentsCount": m.attachment_count,
                "deliveryAction": r.action.as_str(),
                "deliveryLocation": r.original.as_str(),
                "internetMessageId": w.internet_message_id(r.message),
                "language": &**w.s(m.language),
                "networkMessageId": m.id.to_string(),
                "p1Sender": {"emailAddress": &**w.s(m.mail_from), "displayName": null, "domainName": w.s(m.mail_from).rsplit_once('@').map_or("", |x| x.1)},
                "p2Sender": sender,
                "receivedDateTime": format_datetime(m.time),
                "recipientEmailAddress": &**w.s(w.parties[r.recipient as usize].address),
                "senderIp": &**w.s(m.ip),
                "subject": &**w.s(m.subject),
                "threatDetectionMethods": threats,
                "threats": w.s(verdict.threat_types).split(", ").filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                "urlCount": m.url_count,
                "urls": urls,
            });
            merge(&mut v, extra);
            v
        }
        Evidence::User { user } => {
            let mut v = common("userEvidence", "suspicious");
            v["userAccount"] = user_account(w, *user);
            v
        }
        Evidence::Mailbox { user } => {
            let mut v = common("mailboxEvidence", "suspicious");
            let u = &w.directory.users[*user as usize];
            v["primaryAddress"] = json!(&*u.upn);
            v["displayName"] = json!(&*u.display_name);
            v["userAccount"] = user_account(w, *user);
            v
        }
        Evidence::Url { url } => {
            let mut v = common("urlEvidence", "malicious");
            v["url"] = json!(&**w.s(w.urls[*url as usize].url));
            v
        }
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

/// The alert without evidence and comments: what `$filter` is evaluated against.
fn alert_summary(w: &World, a: &Alert) -> Value {
    let tid = w.tenant.id.to_string();
    json!({
        "@odata.type": "#microsoft.graph.security.alert",
        "id": a.id,
        "providerAlertId": a.id,
        "incidentId": a.incident.to_string(),
        "status": a.status,
        "severity": a.severity,
        "classification": a.classification,
        "determination": a.determination,
        "serviceSource": "microsoftDefenderForOffice365",
        "detectionSource": "microsoftDefenderForOffice365",
        "productName": "Microsoft Defender for Office 365",
        "detectorId": a.detector_id.to_string(),
        "tenantId": tid,
        "title": a.title,
        "description": a.description,
        "recommendedActions": "Review the evidence, confirm the verdict and remediate remaining copies of the message.",
        "category": a.category,
        "assignedTo": a.assigned_to,
        "alertWebUrl": format!("https://security.microsoft.com/alerts/{}?tid={tid}", a.id),
        "incidentWebUrl": format!("https://security.microsoft.com/incidents/{}?tid={tid}", a.incident),
        "actorDisplayName": null,
        "threatDisplayName": a.threat_family,
        "threatFamilyName": a.threat_family,
        "mitreTechniques": a.mitre,
        "createdDateTime": dt(a.created),
        "lastUpdateDateTime": dt(a.last_update),
        "resolvedDateTime": a.resolved.map(dt),
        "firstActivityDateTime": dt(a.first_activity),
        "lastActivityDateTime": dt(a.last_activity),
        "systemTags": [],
    })
}

fn comments_json(c: &[AlertComment]) -> Value {
    Value::Array(
        c.iter()
            .map(|c| json!({"comment": c.comment, "createdByDisplayName": c.created_by, "createdDateTime": format_datetime(c.time)}))
            .collect(),
    )
}

/// Incident comments: the incident pages spell the fields `createdBy`/`createdTime`.
fn incident_comments_json(c: &[AlertComment]) -> Value {
    Value::Array(
        c.iter()
            .map(|c| json!({"comment": c.comment, "createdBy": c.created_by, "createdTime": format_datetime(c.time)}))
            .collect(),
    )
}

/// The full alert, with comments and evidence.
pub fn alert_json(w: &World, a: &Alert) -> Value {
    let mut v = alert_summary(w, a);
    v["comments"] = comments_json(&a.comments);
    v["evidence"] = Value::Array(a.evidence.iter().map(|e| evidence_json(w, a, e)).collect());
    v
}

fn incident_summary(w: &World, i: &Incident) -> Value {
    let tid = w.tenant.id.to_string();
    json!({
        "@odata.type": "#microsoft.graph.security.incident",
        "id": i.id.to_string(),
        "incidentWebUrl": format!("https://security.microsoft.com/incidents/{}?tid={tid}", i.id),
        "redirectIncidentId": null,
        "tenantId": tid,
        "displayName": i.display_name,
        "createdDateTime": dt(i.created),
        "lastUpdateDateTime": dt(i.last_update),
        "assignedTo": i.assigned_to,
        "classification": i.classification,
        "determination": i.determination,
        "status": i.status,
        "severity": i.severity,
        "customTags": i.custom_tags,
        "systemTags": [],
        "description": i.description,
        "comments": incident_comments_json(&i.comments),
    })
}

/// A page of a list as Graph returns it: `items` is the page starting at
/// `opts.skip` of `total` matching entities.
pub(super) fn page(
    st: &AppState,
    path: &str,
    query: &HashMap<String, String>,
    opts: &ListOptions,
    total: usize,
    items: Vec<Value>,
    context: &str,
) -> Response {
    // A crafted `$skiptoken` can carry any offset: saturate, do not overflow.
    let end = opts.skip.saturating_add(opts.top).min(total);
    let items: Vec<Value> = items.into_iter().map(|e| opts.shape(e)).collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{}/v1.0/$metadata#{context}", st.base_url)),
    );
    if end < total {
        body.insert(
            "@odata.nextLink".into(),
            json!(st.next_link(path, query, end)),
        );
    }
    body.insert("value".into(), Value::Array(items));
    json_response(Value::Object(body).to_string())
}

// The error is the finished response, handed straight back to axum.
#[allow(clippy::result_large_err)]
fn options(st: &AppState, q: &HashMap<String, String>) -> Result<ListOptions, Response> {
    ListOptions::from_query(q, 100, 2000).map_err(|m| st.graph_error(GraphError::bad_request(m)))
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
    let opts = match options(&st, &q) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let w = st.read();
    let ids: Vec<usize> = (0..w.alerts.len())
        .filter(|&i| {
            opts.filter
                .as_ref()
                .is_none_or(|f| f.matches(&alert_summary(&w, &w.alerts[i])))
        })
        .collect();
    // Render the full entity only for the page being returned.
    let items = ids
        .iter()
        .skip(opts.skip)
        .take(opts.top)
        .map(|&i| alert_json(&w, &w.alerts[i]))
        .collect();
    page(
        &st,
        uri.path(),
        &q,
        &opts,
        ids.len(),
        items,
        "security/alerts_v2",
    )
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
    match w.alerts.iter().find(|a| a.id == id) {
        Some(a) => json_response(alert_json(&w, a).to_string()),
        None => st.graph_error(GraphError::not_found(&format!("alert '{id}'"))),
    }
}

/// Validates a PATCH body of `entity` (`alert` or `incident`, whose statuses are
/// `statuses`); returns the changes to apply.
fn parse_patch(
    body: &Bytes,
    entity: &str,
    statuses: &'static [&'static str],
) -> Result<Vec<(&'static str, Option<String>)>, GraphError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| GraphError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(map) = v else {
        return Err(GraphError::bad_request(
            "The request body must be a JSON object.",
        ));
    };
    let mut changes = Vec::new();
    for (k, v) in map {
        let (field, allowed): (&'static str, Option<&[&str]>) = match k.as_str() {
            "status" => ("status", Some(statuses)),
            "classification" => ("classification", Some(CLASSIFICATIONS)),
            "determination" => ("determination", Some(DETERMINATIONS)),
            "assignedTo" => ("assignedTo", None),
            k if k.starts_with('@') => continue,
            other => {
                return Err(GraphError::bad_request(format!(
                    "Property '{other}' does not exist on type 'microsoft.graph.security.{entity}' or cannot be updated."
                )));
            }
        };
        let value = match v {
            Value::Null if field == "assignedTo" => None,
            Value::String(s) => Some(s),
            other => {
                return Err(GraphError::bad_request(format!(
                    "Invalid value {other} for property '{field}': expected a string."
                )));
            }
        };
        if let (Some(allowed), Some(val)) = (allowed, &value) {
            match allowed.iter().find(|a| a.eq_ignore_ascii_case(val)) {
                Some(canonical) => {
                    changes.push((field, Some(canonical.to_string())));
                    continue;
                }
                None => {
                    return Err(GraphError::bad_request(format!(
                        "Invalid value '{val}' for property '{field}'. Allowed: {}.",
                        allowed.join(", ")
                    )));
                }
            }
        }
        changes.push((field, value));
    }
    Ok(changes)
}

pub async fn patch(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = st.authorize(&headers, WRITE) {
        return st.graph_error(e);
    }
    let changes = match parse_patch(&body, "alert", STATUSES) {
        Ok(c) => c,
        Err(e) => return st.graph_error(e),
    };
    let mut w = st.write();
    // Under the lock, so concurrent writes are stamped in the order they apply.
    let now = st.clock.now();
    let Some(idx) = w.alerts.iter().position(|a| a.id == id) else {
        return st.graph_error(GraphError::not_found(&format!("alert '{id}'")));
    };
    {
        let a = &mut w.alerts[idx];
        for (field, value) in changes {
            match field {
                "status" => {
                    let v = value.unwrap_or_default();
                    a.resolved = (v == "resolved").then_some(now);
                    a.status = v;
                }
                "classification" => a.classification = value.unwrap_or_default(),
                "determination" => a.determination = value.unwrap_or_default(),
                _ => a.assigned_to = value,
            }
        }
        a.last_update = now;
    }
    refresh_incident_of(&mut w, idx);
    json_response(alert_json(&w, &w.alerts[idx]).to_string())
}

fn refresh_incident_of(w: &mut World, alert: usize) {
    let incident = w.alerts[alert].incident;
    let World {
        incidents, alerts, ..
    } = w;
    if let Some(inc) = incidents.iter_mut().find(|i| i.id == incident) {
        crate::world::refresh_incident(inc, alerts);
    }
}

pub async fn comment(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (by, text) = match comment_request(&st, &headers, &body, WRITE) {
        Ok(r) => r,
        Err(e) => return st.graph_error(e),
    };
    let mut w = st.write();
    // Under the lock, so concurrent writes are stamped in the order they apply.
    let now = st.clock.now();
    let Some(idx) = w.alerts.iter().position(|a| a.id == id) else {
        return st.graph_error(GraphError::not_found(&format!("alert '{id}'")));
    };
    let a = &mut w.alerts[idx];
    a.comments.push(AlertComment {
        comment: text,
        created_by: by,
        time: now,
    });
    a.last_update = now;
    let answer = comments_answer(&st, &format!("alerts_v2('{id}')"), &a.comments);
    refresh_incident_of(&mut w, idx);
    answer
}

/// `PATCH /security/incidents/{id}`: status, classification, determination, owner.
/// The incident's own verdict then stops following its alerts'.
pub async fn patch_incident(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = st.authorize(&headers, INCIDENTS_WRITE) {
        return st.graph_error(e);
    }
    // `customTags` (a list) is the one incident field that is not a string.
    let (body, tags) = match custom_tags(&body) {
        Ok(t) => t,
        Err(e) => return st.graph_error(e),
    };
    let changes = match parse_patch(&body, "incident", INCIDENT_STATUSES) {
        Ok(c) => c,
        Err(e) => return st.graph_error(e),
    };
    let mut w = st.write();
    let now = st.clock.now();
    let Some(idx) = w.incidents.iter().position(|i| i.id.to_string() == id) else {
        return st.graph_error(GraphError::not_found(&format!("incident '{id}'")));
    };
    let i = &mut w.incidents[idx];
    for (field, value) in changes {
        match field {
            "status" => i.status = value.unwrap_or_default(),
            "classification" => i.classification = value.unwrap_or_default(),
            "determination" => i.determination = value.unwrap_or_default(),
            _ => i.assigned_to = value,
        }
    }
    if let Some(tags) = tags {
        i.custom_tags = tags;
    }
    i.triaged = true;
    i.last_update = now;
    json_response(incident_json(&w, &w.incidents[idx], false).to_string())
}

/// Takes `customTags` (a list of strings) out of a PATCH body: the rest, and the tags.
fn custom_tags(body: &Bytes) -> Result<(Bytes, Option<Vec<String>>), GraphError> {
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        // parse_patch words the error.
        return Ok((body.clone(), None));
    };
    let tags = match map.remove("customTags") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .into_iter()
                .map(|t| match t {
                    Value::String(s) => Ok(s),
                    other => Err(GraphError::bad_request(format!(
                        "Invalid value {other} in 'customTags': expected strings."
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "Invalid value {other} for property 'customTags': expected a list of strings."
            )));
        }
    };
    Ok((Bytes::from(Value::Object(map).to_string()), tags))
}

/// `POST /security/incidents/{id}/comments`: answers with every comment.
pub async fn comment_incident(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (by, text) = match comment_request(&st, &headers, &body, INCIDENTS_WRITE) {
        Ok(r) => r,
        Err(e) => return st.graph_error(e),
    };
    let mut w = st.write();
    let now = st.clock.now();
    let Some(i) = w.incidents.iter_mut().find(|i| i.id.to_string() == id) else {
        return st.graph_error(GraphError::not_found(&format!("incident '{id}'")));
    };
    i.comments.push(AlertComment {
        comment: text,
        created_by: by,
        time: now,
    });
    i.last_update = now;
    comments_answer(&st, &format!("incidents('{id}')"), &i.comments)
}

/// The poster and the text of a comment POST authorized for `roles`, or the
/// documented error.
fn comment_request(
    st: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    roles: &[&str],
) -> Result<(String, String), GraphError> {
    let claims = st.authorize(headers, roles)?;
    let text = comment_text(body)?;
    let by = claims
        .upn
        .unwrap_or_else(|| "whalewatch (application)".to_string());
    Ok((by, text))
}

/// The answer to a comment POST on `entity` (`alerts_v2('id')`): every comment.
fn comments_answer(st: &AppState, entity: &str, comments: &[AlertComment]) -> Response {
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#security/{entity}/comments", st.base_url),
        "value": comments_json(comments),
    });
    (StatusCode::OK, json_response(body.to_string())).into_response()
}

/// The `comment` of a comment POST, or the documented error.
fn comment_text(body: &Bytes) -> Result<String, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("comment").and_then(Value::as_str) {
            Some(c) if !c.trim().is_empty() => Ok(c.to_string()),
            _ => Err(GraphError::bad_request(
                "The request body must contain a non-empty 'comment'.",
            )),
        },
        Err(e) => Err(GraphError::bad_request(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

fn incident_json(w: &World, i: &Incident, expand_alerts: bool) -> Value {
    let mut v = incident_summary(w, i);
    if expand_alerts {
        v["alerts"] = Value::Array(
            i.alerts
                .iter()
                .map(|a| alert_json(w, &w.alerts[*a as usize]))
                .collect(),
        );
    }
    v
}

pub async fn list_incidents(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = st.authorize(&headers, INCIDENTS) {
        return st.graph_error(e);
    }
    let opts = match options(&st, &q) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let expand = opts.expand.iter().any(|e| e.eq_ignore_ascii_case("alerts"));
    let w = st.read();
    let ids: Vec<usize> = (0..w.incidents.len())
        .filter(|&i| {
            opts.filter
                .as_ref()
                .is_none_or(|f| f.matches(&incident_summary(&w, &w.incidents[i])))
        })
        .collect();
    let items = ids
        .iter()
        .skip(opts.skip)
        .take(opts.top)
        .map(|&i| incident_json(&w, &w.incidents[i], expand))
        .collect();
    page(
        &st,
        uri.path(),
        &q,
        &opts,
        ids.len(),
        items,
        "security/incidents",
    )
}

pub async fn get_incident(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = st.authorize(&headers, INCIDENTS) {
        return st.graph_error(e);
    }
    let expand = q
        .get("$expand")
        .is_some_and(|e| e.to_ascii_lowercase().contains("alerts"));
    let w = st.read();
    match w.incidents.iter().find(|i| i.id.to_string() == id) {
        Some(i) => json_response(incident_json(&w, i, expand).to_string()),
        None => st.graph_error(GraphError::not_found(&format!("incident '{id}'"))),
    }
}

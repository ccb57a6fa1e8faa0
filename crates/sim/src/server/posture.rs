//! Posture sources: MFA registration, sign-ins, Conditional Access policies, a user's
//! transitive memberships, risky users, Secure Score and message traces — in the
//! documented shapes, paged, filtered by the OData evaluator, and refused with a 403
//! naming the missing permission per endpoint.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::AppState;
use super::alerts::page;
use super::directory::{group_json, list_sized};
use super::errors::GraphError;
use super::odata::{Filter, ListOptions, Lit, Op};
use crate::world::World;
use crate::world::posture::DIRECTORY_ROLES;

/// `userRegistrationDetails`.
pub const MFA_ROLES: &[&[&str]] = &[&["AuditLog.Read.All"]];
/// `signIns` needs both (a documented known issue).
pub const SIGN_IN_ROLES: &[&[&str]] = &[&["AuditLog.Read.All", "Directory.Read.All"]];
/// Conditional Access policies.
pub const POLICY_ROLES: &[&[&str]] = &[&["Policy.Read.All"]];
/// `transitiveMemberOf`: any one of these (least privileged first).
pub const MEMBERSHIP_ROLES: &[&[&str]] = &[
    &["User.Read.All"],
    &["GroupMember.Read.All"],
    &["Group.Read.All"],
    &["Directory.Read.All"],
];
/// Risky users.
pub const RISKY_ROLES: &[&[&str]] = &[&["IdentityRiskyUser.Read.All"]];
/// Secure Score and its control profiles.
pub const SCORE_ROLES: &[&[&str]] = &[&["SecurityEvents.Read.All"]];
/// Message traces.
pub const TRACE_ROLES: &[&[&str]] = &[&["ExchangeMessageTrace.Read.All"]];

/// Checks the token holds every role of one of `alternatives`; otherwise a 403 in
/// Graph's shape naming what to grant.
#[allow(clippy::result_large_err)]
fn permit(st: &AppState, headers: &HeaderMap, alternatives: &[&[&str]]) -> Result<(), Response> {
    let claims = st.claims(headers).map_err(|e| st.graph_error(e))?;
    let has = |r: &&str| claims.roles.iter().any(|c| c.eq_ignore_ascii_case(r));
    if alternatives.iter().any(|alt| alt.iter().all(has)) {
        return Ok(());
    }
    let need = if alternatives.len() == 1 {
        let missing: Vec<&str> = alternatives[0]
            .iter()
            .copied()
            .filter(|r| !has(r))
            .collect();
        format!(
            "Required application permission{}: {}.",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )
    } else {
        let any: Vec<&str> = alternatives
            .iter()
            .flat_map(|a| a.iter().copied())
            .collect();
        format!(
            "Required application permission: one of {}.",
            any.join(", ")
        )
    };
    Err(st.graph_error(GraphError::new(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        format!("Insufficient privileges to complete the operation. {need}"),
    )))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn merge(mut v: Value, extra: Value) -> Value {
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        for (k, x) in e {
            m.entry(k).or_insert(x);
        }
    }
    v
}

type Q = Query<HashMap<String, String>>;

pub async fn registrations(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, MFA_ROLES) {
        return r;
    }
    // Unfiltered, only the page is rendered: a large directory is read page by page.
    if q.get("$filter").is_none_or(|f| f.trim().is_empty()) {
        let opts = match ListOptions::from_query(&q, 200, 999) {
            Ok(o) => o,
            Err(m) => return st.graph_error(GraphError::bad_request(m)),
        };
        let (total, items) = {
            let w = st.read();
            let total = w.directory.users.len();
            let end = opts.skip.saturating_add(opts.top).min(total);
            let items = (opts.skip.min(end)..end)
                .map(|u| w.posture.registration(&w.directory, u as u32, w.params.now))
                .collect();
            (total, items)
        };
        return page(
            &st,
            uri.path(),
            &q,
            &opts,
            total,
            items,
            "reports/authenticationMethods/userRegistrationDetails",
        );
    }
    let all = {
        let w = st.read();
        let now = w.params.now;
        (0..w.directory.users.len() as u32)
            .map(|u| w.posture.registration(&w.directory, u, now))
            .collect()
    };
    list_sized(
        &st,
        uri.path(),
        &q,
        all,
        "reports/authenticationMethods/userRegistrationDetails",
        (200, 999),
    )
}

fn sign_in_json(w: &World, s: &whalewatch_model::posture::SignIn) -> Value {
    let display = w
        .directory
        .users
        .iter()
        .find(|u| Some(u.id.to_string()) == s.user_id)
        .map(|u| u.display_name.to_string());
    let mut v = to_json(s);
    if let Some(loc) = v.get_mut("location").and_then(Value::as_object_mut) {
        loc.insert(
            "geoCoordinates".into(),
            json!({"altitude": null, "latitude": null, "longitude": null}),
        );
    }
    if let Some(status) = v.get_mut("status").and_then(Value::as_object_mut) {
        status.insert("additionalDetails".into(), Value::Null);
    }
    let legacy = !matches!(
        s.client_app_used.as_deref(),
        Some("Browser" | "Mobile Apps and Desktop clients")
    );
    merge(
        v,
        json!({
            "userDisplayName": display,
            "appId": "00000002-0000-0ff1-ce00-000000000000",
            "correlationId": s.id,
            "isInteractive": !legacy,
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "riskEventTypes": [],
            "resourceDisplayName": s.app_display_name,
            "resourceId": "00000002-0000-0ff1-ce00-000000000000",
            "deviceDetail": {
                "deviceId": "", "displayName": null,
                "operatingSystem": if legacy { "" } else { "Windows 10" },
                "browser": if s.client_app_used.as_deref() == Some("Browser") { "Edge 120.0.0" } else { "" },
                "isCompliant": null, "isManaged": null, "trustType": null
            },
            "appliedConditionalAccessPolicies": [],
        }),
    )
}

pub async fn sign_ins(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, SIGN_IN_ROLES) {
        return r;
    }
    let all = {
        let w = st.read();
        w.posture
            .sign_ins
            .iter()
            .map(|s| sign_in_json(&w, s))
            .collect()
    };
    list_sized(&st, uri.path(), &q, all, "auditLogs/signIns", (1000, 1000))
}

pub async fn policies(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, POLICY_ROLES) {
        return r;
    }
    let all = {
        let w = st.read();
        w.posture
            .policies
            .iter()
            .map(|p| {
                let mut v = to_json(p);
                if let Some(c) = v.get_mut("conditions") {
                    *c = merge(
                        c.take(),
                        json!({"servicePrincipalRiskLevels": [], "insiderRiskLevels": null,
                               "clientApplications": null}),
                    );
                }
                if let Some(g) = v.get_mut("grantControls") {
                    *g = merge(
                        g.take(),
                        json!({"customAuthenticationFactors": [], "termsOfUse": []}),
                    );
                }
                merge(
                    v,
                    json!({"templateId": null, "createdDateTime": p.modified_date_time,
                           "sessionControls": null}),
                )
            })
            .collect()
    };
    list_sized(
        &st,
        uri.path(),
        &q,
        all,
        "identity/conditionalAccess/policies",
        (100, 999),
    )
}

pub async fn transitive_member_of(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, MEMBERSHIP_ROLES) {
        return r;
    }
    let all = {
        let w = st.read();
        let dir = &w.directory;
        let Some(u) = dir
            .users
            .iter()
            .position(|u| u.id.to_string() == id || u.upn.eq_ignore_ascii_case(&id))
        else {
            return st.graph_error(GraphError::not_found(&format!("user '{id}'")));
        };
        let u = u as u32;
        let mut all: Vec<Value> = (0..dir.groups.len())
            .filter(|&g| dir.transitive_members(g).0.contains(&u))
            .map(|g| group_json(&w, g))
            .collect();
        all.extend(w.posture.groups_of(u).into_iter().map(|g| {
            let group = &w.posture.groups[g];
            json!({
                "@odata.type": "#microsoft.graph.group",
                "id": group.id.to_string(),
                "displayName": group.name,
                "description": group.description,
                "mail": null,
                "mailEnabled": false,
                "securityEnabled": true,
                "groupTypes": [],
            })
        }));
        for (user, role) in &w.posture.roles {
            if *user == u {
                all.push(json!({
                    "@odata.type": "#microsoft.graph.directoryRole",
                    "id": w.posture.role_ids[*role].to_string(),
                    "displayName": DIRECTORY_ROLES[*role].1,
                    "description": null,
                    "roleTemplateId": DIRECTORY_ROLES[*role].0,
                }));
            }
        }
        all
    };
    list_sized(&st, uri.path(), &q, all, "directoryObjects", (100, 999))
}

pub async fn risky_users(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, RISKY_ROLES) {
        return r;
    }
    let all = {
        let w = st.read();
        w.posture
            .risky
            .iter()
            .map(|r| {
                let display = w
                    .directory
                    .users
                    .iter()
                    .find(|u| u.id.to_string() == r.id)
                    .map(|u| u.display_name.to_string());
                merge(
                    to_json(r),
                    json!({"@odata.type": "#microsoft.graph.riskyUser", "isDeleted": false,
                           "isProcessing": false, "userDisplayName": display}),
                )
            })
            .collect()
    };
    list_sized(
        &st,
        uri.path(),
        &q,
        all,
        "identityProtection/riskyUsers",
        (100, 500),
    )
}

fn vendor() -> Value {
    json!({"provider": "SecureScore", "providerVersion": null, "subProvider": null, "vendor": "Microsoft"})
}

pub async fn secure_scores(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, SCORE_ROLES) {
        return r;
    }
    let all = {
        let w = st.read();
        let tenant = w.tenant.id.to_string();
        let users = w.directory.users.len();
        w.posture
            .scores
            .iter()
            .map(|s| {
                let mut v = to_json(s);
                if let Some(Value::Array(items)) = v.get_mut("controlScores") {
                    for item in items.iter_mut() {
                        *item = merge(item.take(), json!({"description": ""}));
                    }
                }
                merge(
                    v,
                    json!({
                        "azureTenantId": tenant,
                        "activeUserCount": users,
                        "enabledServices": ["HasExchange", "HasSharePoint", "HasInTune"],
                        "licensedUserCount": users,
                        "averageComparativeScores": [
                            {"basis": "AllTenants", "averageScore": 42.0},
                            {"basis": "TotalSeats", "averageScore": 47.0}
                        ],
                        "vendorInformation": vendor(),
                    }),
                )
            })
            .collect()
    };
    list_sized(
        &st,
        uri.path(),
        &q,
        all,
        "security/secureScores",
        (100, 999),
    )
}

pub async fn control_profiles(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, SCORE_ROLES) {
        return r;
    }
    let all = {
        let w = st.read();
        let tenant = w.tenant.id.to_string();
        w.posture
            .controls
            .iter()
            .map(|c| {
                merge(
                    to_json(c),
                    json!({
                        "azureTenantId": tenant,
                        "actionType": "Config",
                        "implementationCost": "Low",
                        "lastModifiedDateTime": null,
                        "remediationImpact": "",
                        "threats": [],
                        "userImpact": "Low",
                        "complianceInformation": [],
                        "vendorInformation": vendor(),
                    }),
                )
            })
            .collect()
    };
    list_sized(
        &st,
        uri.path(),
        &q,
        all,
        "security/secureScoreControlProfiles",
        (100, 999),
    )
}

/// The `receivedDateTime` bounds of a filter's top-level `and` chain.
fn time_bounds(f: &Filter, lo: &mut Option<String>, hi: &mut Option<String>) {
    match f {
        Filter::And(a, b) => {
            time_bounds(a, lo, hi);
            time_bounds(b, lo, hi);
        }
        Filter::Cmp(prop, op, Lit::Str(v) | Lit::Bare(v))
            if prop.eq_ignore_ascii_case("receivedDateTime") =>
        {
            match op {
                Op::Ge | Op::Gt => *lo = Some(v.clone()),
                Op::Le | Op::Lt => *hi = Some(v.clone()),
                _ => {}
            }
        }
        _ => {}
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The documented window: both bounds, at most 10 days apart, the start within 90
/// days and the end not after today; no bounds means the last 48 hours.
fn trace_window(
    filter: Option<&Filter>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    let (mut lo, mut hi) = (None, None);
    if let Some(f) = filter {
        time_bounds(f, &mut lo, &mut hi);
    }
    let rule = "filter on receivedDateTime with both bounds (ge and le), at most 10 days apart, \
                the start within the last 90 days and the end not later than today";
    match (lo, hi) {
        (None, None) => Ok(Some(now - Duration::hours(48))),
        (Some(lo), Some(hi)) => {
            let (Some(start), Some(end)) = (parse_time(&lo), parse_time(&hi)) else {
                return Err(format!(
                    "Invalid receivedDateTime: use ISO 8601 (YYYY-MM-DDThh:mm:ssZ); {rule}."
                ));
            };
            if end < start || end - start > Duration::days(10) {
                return Err(format!(
                    "The time interval must not exceed 10 days: {rule}."
                ));
            }
            if start < now - Duration::days(90) {
                return Err(format!(
                    "The start must not be more than 90 days before the current date: {rule}."
                ));
            }
            // "Not later than the current date": a day's grace for the client's clock.
            if end > now + Duration::days(1) {
                return Err(format!(
                    "The end must not be later than the current date: {rule}."
                ));
            }
            Ok(None)
        }
        _ => Err(format!("Specify both bounds: {rule}.")),
    }
}

pub async fn message_traces(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Q,
) -> Response {
    if let Err(r) = permit(&st, &headers, TRACE_ROLES) {
        return r;
    }
    let filter = match q.get("$filter").filter(|f| !f.trim().is_empty()) {
        Some(f) => match super::odata::parse_filter(f) {
            Ok(f) => Some(f),
            Err(e) => return st.graph_error(GraphError::bad_request(e.to_string())),
        },
        None => None,
    };
    let now = parse_time(&st.clock.now_rfc3339()).unwrap_or_else(Utc::now);
    let since = match trace_window(filter.as_ref(), now) {
        Ok(s) => s,
        Err(m) => return st.graph_error(GraphError::bad_request(m)),
    };
    let all = {
        let w = st.read();
        w.posture
            .traces
            .iter()
            .filter(|t| {
                since.is_none_or(|s| t.received_date_time.is_some_and(|r| r >= s && r <= now))
            })
            .map(to_json)
            .collect()
    };
    list_sized(
        &st,
        uri.path(),
        &q,
        all,
        "admin/exchange/tracing/messageTraces",
        (1000, 5000),
    )
}

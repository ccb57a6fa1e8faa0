//! Every documented example payload in `tests/fixtures` parses into the model, and the
//! request builders produce the documented token forms.

use std::collections::BTreeMap;
use std::path::PathBuf;
use whalewatch::model::{
    Alert, AlertComment, AlertStatus, AnalyzedEmail, Classification, Determination, HuntingResult,
    Incident, IncidentStatus, RemediateRequest, Severity,
};
use whalewatch::tenant::auth::{ClientSecret, Secret, TokenResponse, certificate, device_code};
use whalewatch::tenant::cloud::{Cloud, CloudEndpoints};
use whalewatch::tenant::error::{
    Endpoint, IdentityError, IdentityErrorKind, TenantError, from_graph_response,
};

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[derive(serde::Deserialize)]
struct Page<T> {
    value: Vec<T>,
}

/// A documentation-style HTTP message: start line (comment stripped), headers, and the body
/// with its split lines joined without separators, as the README says.
struct HttpDoc {
    start: String,
    headers: BTreeMap<String, String>,
    body: String,
}

fn http_doc(name: &str) -> HttpDoc {
    let text = read(name);
    let mut lines = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .skip_while(|l| l.trim().is_empty());
    let start = lines.next().unwrap_or("");
    // A trailing `// comment` follows whitespace; `https://` does not.
    let start = start.split(" //").next().unwrap_or("").trim().to_owned();
    let mut headers = BTreeMap::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let body: String = lines.map(str::trim).collect();
    HttpDoc {
        start,
        headers,
        body,
    }
}

fn form_map(body: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn built(form: Vec<(&'static str, String)>) -> BTreeMap<String, String> {
    form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The URL a documented request goes to (absolute start line, or Host header + path).
fn request_url(doc: &HttpDoc) -> String {
    let target = doc.start.split_whitespace().nth(1).unwrap_or("").to_owned();
    if target.starts_with("https://") {
        return target;
    }
    let host = doc
        .headers
        .get("host")
        .map(|h| h.trim_end_matches(":443"))
        .unwrap_or("");
    format!("https://{host}{target}")
}

#[test]
fn every_fixture_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap_or_else(|e| panic!("fixtures dir: {e}"))
        .filter_map(|e| e.ok())
        // posture/ has its own section and test (tests/posture_fixtures.rs).
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Every file in the directory names its source in the index.
    let index = read("INDEX.md");
    for name in names.iter().filter(|n| n.as_str() != "INDEX.md") {
        assert!(
            index.contains(&format!("| {name} |")),
            "{name} has no line in tests/fixtures/INDEX.md"
        );
    }
    // Not documentation payloads: the index itself, the simulator test certificate and
    // the fuzz corpus's synthetic page (parsed by tests/parsers_fuzz.rs).
    names.retain(|n| n != "INDEX.md" && !n.ends_with(".pem") && !n.contains(".synthetic."));
    let covered = [
        "devicecode.request.http",
        "graph-alerts_v2-comment.request.json",
        "graph-alerts_v2-comment.response.json",
        "graph-alerts_v2-get.response.json",
        "graph-alerts_v2-list.response.json",
        "graph-alerts_v2-update.request.json",
        "graph-alerts_v2-update.response.json",
        "graph-analyzedEmails-remediate.response.http",
        "graph-error-429.json",
        "graph-error-generic.json",
        "graph-incidents-list.response.json",
        "graph-incidents-update.request.json",
        "graph-beta-incidents-update.response.json",
        "graph-incidents-comment.request.json",
        "graph-incidents-comment.response.json",
        "graph-runHuntingQuery-timespan.request.json",
        "graph-runHuntingQuery-timespan.response.json",
        "graph-runHuntingQuery.request.json",
        "graph-runHuntingQuery.response.json",
        "graph-secureScores-list.response.json",
        "graph-userRegistrationDetails-list.response.json",
        "graph-v1-analyzedEmails-get-attachments.response.json",
        "graph-v1-analyzedEmails-get-urls.response.json",
        "graph-v1-analyzedEmails-get.response.json",
        "graph-v1-analyzedEmails-list.response.json",
        "graph-v1-analyzedEmails-remediate.request.json",
        "token-client-credentials-certificate.request.http",
        "token-client-credentials-secret.request.http",
        "token-client-credentials.response.json",
        "token-device-code-poll.request.http",
        "token-device-code.response.json",
        "token-error.response.json",
    ];
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !covered.contains(&n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "fixtures without a parse test: {missing:?}"
    );
    // Every JSON fixture is at least valid JSON.
    for name in names.iter().filter(|n| n.ends_with(".json")) {
        let _: serde_json::Value = json(name);
    }
}

#[test]
fn alerts_list_get_update() {
    let list: Page<Alert> = json("graph-alerts_v2-list.response.json");
    assert_eq!(list.value.len(), 1);
    let a = &list.value[0];
    assert_eq!(a.id, "da637551227677560813_-961444813");
    assert_eq!(a.status, Some(AlertStatus::New));
    assert_eq!(a.system_tags, vec!["Defender Experts".to_owned()]);
    assert_eq!(a.evidence.len(), 4);
    assert!(
        a.evidence
            .iter()
            .all(|e| matches!(e, whalewatch::model::Evidence::Other(_)))
    );
    assert_eq!(a.evidence[0].kind(), "deviceEvidence");
    assert!(a.raw.get("evidence").is_some(), "raw JSON kept");
    assert_eq!(
        a.first_activity_date_time
            .map(|t| t.timestamp_subsec_millis()),
        Some(116)
    );

    let get: Alert = json("graph-alerts_v2-get.response.json");
    assert_eq!(get.incident_id.as_deref(), Some("28282"));
    assert!(
        get.recommended_actions
            .as_deref()
            .unwrap_or("")
            .contains('\u{FFFD}')
    );
    assert_eq!(get.assigned_to, None);

    let updated: Alert = json("graph-alerts_v2-update.response.json");
    assert_eq!(updated.status, Some(AlertStatus::InProgress));
    assert_eq!(updated.classification, Some(Classification::TruePositive));
    assert_eq!(updated.determination, Some(Determination::Malware));

    let req: serde_json::Value = json("graph-alerts_v2-update.request.json");
    let update = whalewatch::tenant::alerts::AlertUpdate {
        assigned_to: Some("secAdmin@contoso.onmicrosoft.com".into()),
        classification: Some(Classification::TruePositive),
        determination: Some(Determination::Malware),
        status: Some(AlertStatus::InProgress),
    };
    assert_eq!(serde_json::to_value(&update).ok(), Some(req));
}

#[test]
fn alert_comments() {
    let req: serde_json::Value = json("graph-alerts_v2-comment.request.json");
    assert_eq!(req["comment"], "Demo for docs");
    let resp: Page<AlertComment> = json("graph-alerts_v2-comment.response.json");
    assert_eq!(resp.value.len(), 2);
    assert_eq!(
        resp.value[1].created_by_display_name.as_deref(),
        Some("secAdmin@contoso.com")
    );
    assert!(resp.value[1].created_date_time.is_some());
}

#[test]
fn incidents_with_pascal_case_enums() {
    let list: Page<Incident> = json("graph-incidents-list.response.json");
    let i = &list.value[0];
    assert_eq!(i.classification, Some(Classification::TruePositive));
    assert_eq!(i.determination, Some(Determination::MultiStagedAttack));
    assert_eq!(i.status, Some(IncidentStatus::Active));
    assert_eq!(i.severity, Some(Severity::Medium));
    assert_eq!(i.custom_tags, vec!["Demo".to_owned()]);
    assert_eq!(
        i.comments[0].created_by_display_name.as_deref(),
        Some("DavidS@contoso.onmicrosoft.com")
    );
    assert!(i.comments[0].created_date_time.is_some());
    // Serialising writes the documented camelCase spelling.
    let out = serde_json::to_value(i).unwrap_or_default();
    assert_eq!(out["classification"], "truePositive");
    assert_eq!(out["status"], "active");
    assert_eq!(
        i.raw["classification"], "TruePositive",
        "raw keeps the service's spelling"
    );
}

#[test]
fn incident_update_and_comment() {
    // The documented PATCH body reads as our update (PascalCase enums; `customTags`,
    // which whalewatch does not set, is ignored) and ours is in the documented shape.
    let req: whalewatch::tenant::incidents::IncidentUpdate =
        json("graph-incidents-update.request.json");
    assert_eq!(req.classification, Some(Classification::TruePositive));
    assert_eq!(req.determination, Some(Determination::MultiStagedAttack));
    assert_eq!(
        serde_json::to_value(&req).unwrap_or_default(),
        serde_json::json!({"classification": "truePositive", "determination": "multiStagedAttack"})
    );
    let updated: Incident = json("graph-beta-incidents-update.response.json");
    assert_eq!(updated.id, "2972395");
    assert_eq!(
        updated.assigned_to.as_deref(),
        Some("KaiC@contoso.onmicrosoft.com")
    );
    assert!(updated.last_update_date_time.is_some());
    assert_eq!(
        updated.comments[0].created_by_display_name.as_deref(),
        Some("DavidS@contoso.onmicrosoft.com")
    );
    let comment: serde_json::Value = json("graph-incidents-comment.request.json");
    assert_eq!(
        comment["@odata.type"],
        "microsoft.graph.security.alertComment"
    );
    let resp: Page<AlertComment> = json("graph-incidents-comment.response.json");
    assert_eq!(resp.value.len(), 2);
    assert_eq!(resp.value[1].comment, "Demo for docs");
}

#[test]
fn unknown_enum_values_round_trip() {
    let alert: Alert =
        serde_json::from_str(r#"{"id":"x","status":"somethingNew","severity":"apocalyptic"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        alert.status,
        Some(AlertStatus::Other("somethingNew".into()))
    );
    let out = serde_json::to_value(&alert).unwrap_or_default();
    assert_eq!(out["status"], "somethingNew");
    assert_eq!(out["severity"], "apocalyptic");
    let again: Alert = serde_json::from_value(out).unwrap_or_default();
    assert_eq!(again.status, alert.status);
}

#[test]
fn hunting_results_both_casings() {
    for name in [
        "graph-runHuntingQuery.response.json",
        "graph-runHuntingQuery-timespan.response.json",
    ] {
        let r: HuntingResult = json(name);
        assert_eq!(r.schema.len(), 3, "{name}");
        assert_eq!(r.schema[0].name, "Timestamp");
        assert_eq!(r.schema[0].column_type, "DateTime");
        assert!(!r.results.is_empty());
    }
    let upper = read("graph-runHuntingQuery.response.json")
        .replace("\"name\"", "\"Name\"")
        .replace("\"type\"", "\"Type\"");
    let r: HuntingResult = serde_json::from_str(&upper).unwrap_or_default();
    assert_eq!(r.schema[2].name, "InitiatingProcessFileName");
    assert_eq!(r.schema[2].column_type, "String");
    let r: HuntingResult = json("graph-runHuntingQuery-timespan.response.json");
    assert_eq!(r.results.len(), 4);

    let req: serde_json::Value = json("graph-runHuntingQuery.request.json");
    let q = req["Query"].as_str().unwrap_or("");
    let built = whalewatch::tenant::hunting::HuntingQuery {
        query: q,
        timespan: None,
    };
    assert_eq!(serde_json::to_value(built).ok(), Some(req.clone()));
    let req: serde_json::Value = json("graph-runHuntingQuery-timespan.request.json");
    let built = whalewatch::tenant::hunting::HuntingQuery {
        query: "DeviceProcessEvents",
        timespan: Some("P90D"),
    };
    assert_eq!(serde_json::to_value(built).ok(), Some(req));
}

#[test]
fn graph_errors() {
    let body = read("graph-error-429.json");
    let e = from_graph_response(
        Endpoint::new("GET", "/security/alerts_v2"),
        429,
        Some(std::time::Duration::from_secs(3)),
        body.as_bytes(),
    );
    assert!(matches!(e, TenantError::Throttled { .. }));
    assert!(
        e.to_string()
            .contains("throttled by Microsoft Graph for 3 seconds")
    );
    let parsed: whalewatch::tenant::error::GraphErrorBody = json("graph-error-429.json");
    assert_eq!(
        parsed.error.request_id(),
        Some("94fb3b52-452a-4535-a601-69e0a90e3aa2")
    );
    let body = read("graph-error-generic.json");
    let e = from_graph_response(Endpoint::new("PUT", "/drive/x"), 416, None, body.as_bytes());
    assert!(
        matches!(&e, TenantError::BadRequest { code, message, .. } if code == "invalidRange" && message.starts_with("Uploaded fragment"))
    );
    // innererror in lower case is accepted too.
    let lower = body.replace("innerError", "innererror");
    let parsed: whalewatch::tenant::error::GraphErrorBody =
        serde_json::from_str(&lower).unwrap_or_default();
    assert_eq!(parsed.error.request_id(), Some("request-id"));
}

#[test]
fn token_responses_and_errors() {
    let t: TokenResponse = json("token-client-credentials.response.json");
    assert_eq!((t.token_type.as_str(), t.expires_in), ("Bearer", 3599));
    assert!(t.refresh_token.is_none());
    let t: TokenResponse = json("token-device-code.response.json");
    assert!(t.refresh_token.is_some() && t.id_token.is_some());
    assert!(
        !format!("{t:?}").contains("AwABAAAA"),
        "Debug must not print tokens"
    );
    let body = read("token-error.response.json");
    let e = IdentityError::from_body("contoso", "app", 400, body.as_bytes());
    assert_eq!(e.kind, IdentityErrorKind::InvalidScope);
    assert!(e.description.starts_with("AADSTS70011"));
    assert!(!e.description.contains("Trace ID"), "first line only");
    assert_eq!(
        e.trace_id.as_deref(),
        Some("255d1aef-8c98-452f-ac51-23d051240864")
    );
}

#[test]
fn analyzed_emails_and_remediation() {
    let list: Page<AnalyzedEmail> = json("graph-v1-analyzedEmails-list.response.json");
    let e = &list.value[0];
    assert_eq!(e.id, "String");
    assert_eq!(
        e.logged_date_time, None,
        "placeholder Datetime is not a timestamp"
    );
    assert_eq!(e.size_in_bytes, None);
    assert!(e.raw.get("senderDetail").is_some());
    let one: AnalyzedEmail = json("graph-v1-analyzedEmails-get.response.json");
    assert_eq!(one.network_message_id.as_deref(), Some("String"));
    let urls: Page<serde_json::Value> = json("graph-v1-analyzedEmails-get-urls.response.json");
    assert_eq!(urls.value[0]["url"], "String");
    let atts: Page<serde_json::Value> =
        json("graph-v1-analyzedEmails-get-attachments.response.json");
    assert_eq!(atts.value[0]["fileName"], "String");

    let req: RemediateRequest = json("graph-v1-analyzedEmails-remediate.request.json");
    assert!(!req.remediate_senders_copy);
    assert_eq!(req.analyzed_emails.len(), 2);
    assert_eq!(req.action.as_str(), "softDelete");
    let out = serde_json::to_value(&req).unwrap_or_default();
    assert_eq!(
        out["analyzedEmails"][1]["recipientEmailAddress"],
        "preston.morales@contoso.com"
    );

    let doc = http_doc("graph-analyzedEmails-remediate.response.http");
    assert_eq!(doc.start, "HTTP/1.1 202 Accepted");
    assert!(
        doc.headers
            .get("location")
            .is_some_and(|l| l.starts_with("https://security.microsoft.com/action-center/history"))
    );
}

#[test]
fn posture_reports_as_generic_json() {
    let scores: Page<serde_json::Value> = json("graph-secureScores-list.response.json");
    assert_eq!(scores.value[0]["currentScore"], 387.0);
    let reg: Page<serde_json::Value> = json("graph-userRegistrationDetails-list.response.json");
    assert_eq!(reg.value.len(), 3);
    assert_eq!(
        reg.value[1]["userPreferredMethodForSecondaryAuthentication"],
        ""
    );
}

#[test]
fn client_secret_form_matches_the_documented_request() {
    let doc = http_doc("token-client-credentials-secret.request.http");
    let global = CloudEndpoints::new(Cloud::Global, None, None);
    assert_eq!(request_url(&doc), global.token_url("{tenant}"));
    assert_eq!(
        doc.headers.get("content-type").map(String::as_str),
        Some("application/x-www-form-urlencoded")
    );
    let documented = form_map(&doc.body);
    let ours = built(ClientSecret::new(Secret::new("sampleCredentials")).form(
        "535fb089-9ff3-47b6-9bfb-4f1264799865",
        &global.graph_scope(),
    ));
    assert_eq!(ours, documented);
}

#[test]
fn certificate_form_matches_the_documented_request() {
    let doc = http_doc("token-client-credentials-certificate.request.http");
    let global = CloudEndpoints::new(Cloud::Global, None, None);
    assert_eq!(request_url(&doc), global.token_url("{tenant}"));
    let documented = form_map(&doc.body);
    let assertion = Secret::new(
        documented
            .get("client_assertion")
            .cloned()
            .unwrap_or_default(),
    );
    let ours = built(certificate::form(
        "97e0a5b7-d745-40b6-94fe-5f77d35c6e05",
        &assertion,
        &global.graph_scope(),
    ));
    assert_eq!(ours, documented);
}

#[test]
fn device_code_forms_match_the_documented_requests() {
    let doc = http_doc("devicecode.request.http");
    let global = CloudEndpoints::new(Cloud::Global, None, None);
    assert_eq!(request_url(&doc), global.device_code_url("{tenant}"));
    let documented = form_map(&doc.body);
    assert_eq!(
        built(device_code::device_code_form(
            "535fb089-9ff3-47b6-9bfb-4f1264799865",
            "user.read openid profile"
        )),
        documented
    );

    let doc = http_doc("token-device-code-poll.request.http");
    assert_eq!(request_url(&doc), global.token_url("{tenant}"));
    let documented = form_map(&doc.body);
    let code = Secret::new(documented.get("device_code").cloned().unwrap_or_default());
    assert_eq!(
        built(device_code::poll_form(
            "535fb089-9ff3-47b6-9bfb-4f1264799865",
            &code
        )),
        documented
    );
}

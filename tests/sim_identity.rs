//! The identity platform's endpoints of the simulator: client credentials with a
//! secret and a certificate assertion, the device-code flow, refresh tokens, and how
//! Graph treats missing, expired and under-privileged tokens.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use common::{Api, Reply, config, fixture, has_keys_of, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A certificate client assertion with the given header and claims.
fn assertion(header: &Value, claims: &Value) -> String {
    format!("{}.{}.c2lnbmF0dXJl", b64(header), b64(claims))
}

fn good_header() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "x5t": "gx8tGysyjcRqKjFPnd7RFwvwZI0"})
}

fn good_claims(api: &Api) -> Value {
    let now = unix_now();
    json!({
        "aud": api.token_url(&api.tenant),
        "iss": api.client_id,
        "sub": api.client_id,
        "exp": now + 600,
        "nbf": now - 10,
        "jti": "7c1b6a3e-assertion",
    })
}

async fn with_assertion(api: &Api, assertion_type: &str, jwt: &str) -> Reply {
    api.token_form(
        &api.tenant,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &api.client_id),
            ("scope", GRAPH_SCOPE),
            ("client_assertion_type", assertion_type),
            ("client_assertion", jwt),
        ],
    )
    .await
}

fn assert_aadsts(r: &Reply, status: StatusCode, error: &str, code: u64) -> String {
    assert_eq!(r.status, status, "{}", r.text);
    let (e, desc) = r.oauth_error();
    assert_eq!(e, error, "{}", r.text);
    assert!(desc.starts_with(&format!("AADSTS{code}")), "{desc}");
    let codes = r.json["error_codes"].as_array().expect("error_codes");
    assert!(codes.contains(&json!(code)), "{}", r.text);
    desc
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_token_works_on_graph_and_bad_requests_get_aadsts_errors() {
    let server = start(config(11)).await;
    let api = Api::of(&server);

    let token = api.token().await;
    assert_eq!(token.split('.').count(), 3, "JWT-shaped: {token}");
    let r = api.get(&token, "/v1.0/users?$top=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["value"].as_array().unwrap().len(), 1);

    let ok = api
        .token_form(
            &api.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &api.client_id),
                ("client_secret", &api.client_secret),
                ("scope", GRAPH_SCOPE),
            ],
        )
        .await;
    assert_eq!(ok.json["token_type"], "Bearer");
    has_keys_of(
        &ok.json,
        &fixture("token-client-credentials.response.json"),
        "token response",
    );
    assert!(ok.json["expires_in"].as_u64().unwrap() > 0);

    // Wrong secret.
    let r = api
        .token_form(
            &api.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &api.client_id),
                ("client_secret", "not-the-secret"),
                ("scope", GRAPH_SCOPE),
            ],
        )
        .await;
    assert_aadsts(&r, StatusCode::UNAUTHORIZED, "invalid_client", 7000215);
    has_keys_of(
        &r.json,
        &fixture("token-error.response.json"),
        "token error",
    );

    // Unknown tenant.
    let r = api
        .token_form(
            "00000000-0000-0000-0000-000000000001",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &api.client_id),
                ("client_secret", &api.client_secret),
                ("scope", GRAPH_SCOPE),
            ],
        )
        .await;
    assert_aadsts(&r, StatusCode::BAD_REQUEST, "invalid_request", 90002);

    // The tenant by its initial domain.
    let r = api
        .token_form(
            "contoso.onmicrosoft.com",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &api.client_id),
                ("client_secret", &api.client_secret),
                ("scope", GRAPH_SCOPE),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let by_domain = r.json["access_token"].as_str().unwrap();
    assert_eq!(
        api.get(by_domain, "/v1.0/users?$top=1").await.status,
        StatusCode::OK
    );

    // A delegated-style scope is not valid for client credentials.
    let r = api
        .token_form(
            &api.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &api.client_id),
                ("client_secret", &api.client_secret),
                ("scope", "https://graph.microsoft.com/User.Read.All"),
            ],
        )
        .await;
    assert_aadsts(&r, StatusCode::BAD_REQUEST, "invalid_scope", 1002012);

    // Unsupported grant.
    let r = api
        .token_form(
            &api.tenant,
            &[
                ("grant_type", "password"),
                ("client_id", &api.client_id),
                ("scope", GRAPH_SCOPE),
            ],
        )
        .await;
    let desc = assert_aadsts(&r, StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003);
    assert!(desc.contains("password"), "{desc}");

    // Unknown application.
    let r = api
        .token_form(
            &api.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "11111111-2222-3333-4444-555555555555"),
                ("client_secret", &api.client_secret),
                ("scope", GRAPH_SCOPE),
            ],
        )
        .await;
    assert_aadsts(&r, StatusCode::BAD_REQUEST, "unauthorized_client", 700016);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_assertions_are_checked_claim_by_claim() {
    let server = start(config(12)).await;
    let api = Api::of(&server);

    let good = assertion(&good_header(), &good_claims(&api));
    let r = with_assertion(&api, JWT_BEARER, &good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let token = r.json["access_token"].as_str().unwrap();
    assert_eq!(
        api.get(token, "/v1.0/users?$top=1").await.status,
        StatusCode::OK
    );

    let mut claims = good_claims(&api);
    claims["aud"] = json!("https://login.microsoftonline.com/other/oauth2/v2.0/token");
    let r = with_assertion(&api, JWT_BEARER, &assertion(&good_header(), &claims)).await;
    let desc = assert_aadsts(&r, StatusCode::UNAUTHORIZED, "invalid_client", 700021);
    assert!(desc.contains("audience"), "{desc}");

    let mut claims = good_claims(&api);
    claims["exp"] = json!(unix_now() - 60);
    let r = with_assertion(&api, JWT_BEARER, &assertion(&good_header(), &claims)).await;
    let desc = assert_aadsts(&r, StatusCode::UNAUTHORIZED, "invalid_client", 700024);
    assert!(desc.contains("expired"), "{desc}");

    let header = json!({"alg": "RS256", "typ": "JWT"});
    let r = with_assertion(&api, JWT_BEARER, &assertion(&header, &good_claims(&api))).await;
    let desc = assert_aadsts(&r, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
    assert!(desc.contains("x5t"), "{desc}");

    let r = with_assertion(
        &api,
        "urn:ietf:params:oauth:client-assertion-type:saml2",
        &good,
    )
    .await;
    let desc = assert_aadsts(&r, StatusCode::UNAUTHORIZED, "invalid_client", 700025);
    assert!(desc.contains("client_assertion_type"), "{desc}");

    let mut claims = good_claims(&api);
    claims["iss"] = json!("someone-else");
    let r = with_assertion(&api, JWT_BEARER, &assertion(&good_header(), &claims)).await;
    let desc = assert_aadsts(&r, StatusCode::UNAUTHORIZED, "invalid_client", 700021);
    assert!(desc.contains("iss"), "{desc}");

    let unsigned = format!("{}.{}.", b64(&good_header()), b64(&good_claims(&api)));
    let r = with_assertion(&api, JWT_BEARER, &unsigned).await;
    let desc = assert_aadsts(&r, StatusCode::UNAUTHORIZED, "invalid_client", 700024);
    assert!(desc.contains("signed"), "{desc}");
    server.shutdown().await;
}

async fn start_device_code(api: &Api) -> Value {
    let r = Reply::of(
        api.http
            .post(format!(
                "{}/{}/oauth2/v2.0/devicecode",
                api.base, api.tenant
            ))
            .form(&[
                ("client_id", api.client_id.as_str()),
                (
                    "scope",
                    "https://graph.microsoft.com/.default offline_access",
                ),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for k in [
        "device_code",
        "user_code",
        "verification_uri",
        "expires_in",
        "interval",
        "message",
    ] {
        assert!(!r.json[k].is_null(), "devicecode response lacks {k}");
    }
    r.json
}

async fn poll(api: &Api, device_code: &str) -> Reply {
    api.token_form(
        &api.tenant,
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", &api.client_id),
            ("device_code", device_code),
        ],
    )
    .await
}

async fn sim_decision(api: &Api, what: &str, user_code: &str) -> StatusCode {
    api.http
        .post(api.url(&format!("/_sim/devicecode/{what}")))
        .json(&json!({ "user_code": user_code }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_flow_end_to_end_with_refresh() {
    let mut cfg = config(13);
    cfg.devicecode_interval = Duration::ZERO;
    let server = start(cfg).await;
    let api = Api::of(&server);

    let dc = start_device_code(&api).await;
    let device_code = dc["device_code"].as_str().unwrap();
    let user_code = dc["user_code"].as_str().unwrap();
    assert!(dc["message"].as_str().unwrap().contains(user_code));

    let r = poll(&api, device_code).await;
    assert_aadsts(&r, StatusCode::BAD_REQUEST, "authorization_pending", 70016);

    assert_eq!(
        sim_decision(&api, "approve", user_code).await,
        StatusCode::NO_CONTENT
    );
    let r = poll(&api, device_code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let access = r.json["access_token"].as_str().unwrap();
    let refresh = r.json["refresh_token"].as_str().expect("refresh_token");
    has_keys_of(
        &r.json,
        &fixture("token-device-code.response.json"),
        "device-code token response",
    );
    assert_eq!(
        api.get(access, "/v1.0/users?$top=1").await.status,
        StatusCode::OK
    );

    // A device code is redeemed once.
    let r = poll(&api, device_code).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.oauth_error().0, "invalid_grant");

    let r = api
        .token_form(
            &api.tenant,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &api.client_id),
                ("refresh_token", refresh),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let access2 = r.json["access_token"].as_str().unwrap();
    assert!(r.json["refresh_token"].is_string());
    assert_eq!(
        api.get(access2, "/v1.0/users?$top=1").await.status,
        StatusCode::OK
    );

    // A delegated token's comments carry the analyst's name.
    let alerts = api.get(access2, "/v1.0/security/alerts_v2?$top=1").await;
    let id = alerts.json["value"][0]["id"].as_str().unwrap().to_string();
    let r = api
        .post(
            access2,
            &format!("/v1.0/security/alerts_v2/{id}/comments"),
            &json!({"comment": "looked at it"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let last = r.json["value"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["createdByDisplayName"]
            .as_str()
            .unwrap()
            .starts_with("analyst@"),
        "{last}"
    );

    let r = api
        .token_form(
            &api.tenant,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &api.client_id),
                ("refresh_token", "rt.not-issued"),
            ],
        )
        .await;
    assert_aadsts(&r, StatusCode::BAD_REQUEST, "invalid_grant", 70008);

    // Approving an unknown code is a 404 in Graph's shape.
    let r = Reply::of(
        api.http
            .post(api.url("/_sim/devicecode/approve"))
            .json(&json!({"user_code": "NOPE"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.graph_error();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_polling_too_fast_gets_slow_down() {
    let mut cfg = config(14);
    cfg.devicecode_interval = Duration::from_secs(3600);
    let server = start(cfg).await;
    let api = Api::of(&server);
    let dc = start_device_code(&api).await;
    assert_eq!(dc["interval"], 3600);
    let code = dc["device_code"].as_str().unwrap();
    let r = poll(&api, code).await;
    assert_eq!(r.oauth_error().0, "authorization_pending", "{}", r.text);
    let r = poll(&api, code).await;
    assert_aadsts(&r, StatusCode::BAD_REQUEST, "slow_down", 70016);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_decline_expiry_and_auto_approval() {
    // Decline.
    let mut cfg = config(15);
    cfg.devicecode_interval = Duration::ZERO;
    let server = start(cfg).await;
    let api = Api::of(&server);
    let dc = start_device_code(&api).await;
    assert_eq!(
        sim_decision(&api, "decline", dc["user_code"].as_str().unwrap()).await,
        StatusCode::NO_CONTENT
    );
    let r = poll(&api, dc["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.oauth_error().0, "authorization_declined", "{}", r.text);
    // An unknown device code.
    let r = poll(&api, "DCnothing").await;
    assert_eq!(r.oauth_error().0, "bad_verification_code", "{}", r.text);
    server.shutdown().await;

    // Expiry.
    let mut cfg = config(15);
    cfg.devicecode_lifetime = Duration::ZERO;
    let server = start(cfg).await;
    let api = Api::of(&server);
    let dc = start_device_code(&api).await;
    let r = poll(&api, dc["device_code"].as_str().unwrap()).await;
    assert_aadsts(&r, StatusCode::BAD_REQUEST, "expired_token", 70019);
    server.shutdown().await;

    // Automatic approval.
    let mut cfg = config(15);
    cfg.devicecode_approve_after = Some(Duration::ZERO);
    let server = start(cfg).await;
    let api = Api::of(&server);
    let dc = start_device_code(&api).await;
    let r = poll(&api, dc["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["refresh_token"].is_string());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_rejects_missing_expired_and_forged_tokens() {
    let mut cfg = config(16);
    cfg.token_lifetime = Duration::ZERO;
    let server = start(cfg).await;
    let api = Api::of(&server);

    let expired = api.token().await;
    let r = api.get(&expired, "/v1.0/security/alerts_v2").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let (code, message) = r.graph_error();
    assert_eq!(code, "InvalidAuthenticationToken");
    assert!(message.contains("expired"), "{message}");
    let doc = fixture("graph-error-generic.json");
    has_keys_of(&r.json["error"], &doc["error"], "Graph error");
    has_keys_of(
        &r.json["error"]["innerError"],
        &serde_json::json!({"request-id": "", "date": ""}),
        "Graph innerError",
    );

    let r = Reply::of(
        api.http
            .get(api.url("/v1.0/security/alerts_v2"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.graph_error().0, "InvalidAuthenticationToken");

    let r = api.get("not-a-jwt", "/v1.0/users").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    r.graph_error();

    // A token whose payload was edited no longer matches its signature.
    let parts: Vec<&str> = expired.split('.').collect();
    let forged_claims = json!({"roles": ["User.Read.All"], "exp": unix_now() + 3600});
    let forged = format!("{}.{}.{}", parts[0], b64(&forged_claims), parts[2]);
    let r = api.get(&forged, "/v1.0/users").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    r.graph_error();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_role_gives_403_naming_it() {
    let mut cfg = config(17);
    cfg.denied_roles = vec!["User.Read.All".into()];
    let server = start(cfg).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let r = api.get(&token, "/v1.0/users").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let (_, message) = r.graph_error();
    assert!(message.contains("User.Read.All"), "{message}");
    // Other permissions still work.
    let r = api.get(&token, "/v1.0/security/alerts_v2?$top=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    server.shutdown().await;
}

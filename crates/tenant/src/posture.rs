//! Posture readers: MFA registration, sign-ins, Conditional Access, memberships, risky
//! users, Secure Score and message traces (`model::posture` shapes).
//!
//! Every reader goes through [`GraphClient`] (paging, retries, `Retry-After`, error
//! mapping) and is paced at the configured limits ([`PostureLimits`]), by default the
//! service's documented ones: identity & access
//! reports 5 requests per 10 s per tenant, Conditional Access and risky users 1 per
//! second (a 429 there carries no `Retry-After`, so the client's own backoff applies),
//! message trace 100 per 5 minutes.
//!
//! Records are parsed one at a time: Microsoft's own examples hold placeholders
//! (`"riskLastUpdatedDateTime": "String (timestamp)"`), so one malformed record is
//! skipped and counted, never the reason a whole source is lost.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;

use crate::error::TenantError;
use crate::http::{GraphClient, Pager};
use crate::window::CallPacer;
use whalewatch_model::posture::{
    AccountMemberships, ConditionalAccessPolicy, MessageTrace, MfaRegistration, RiskyUser,
    SecureScore, SecureScoreControl, SignIn,
};

/// Ids (or names) per `$filter` of `or`-ed equalities: keeps each URL short and each
/// filter within the complexity Graph accepts.
pub const IDS_PER_FILTER: usize = 15;

/// Sign-ins per page: "The maximum and default page size is 1,000 objects".
const SIGN_IN_PAGE: &str = "1000";

/// Message traces per page: `$top` between 1 and 5000.
const TRACE_PAGE: &str = "5000";

/// Secure Score history kept: 90 days, one score a day.
const SCORE_DAYS: &str = "90";

/// Calls per rolling period the posture readers stay under, one quota per service
/// family. The defaults are the documented limits; a tenant (or simulator) whose
/// quotas are lifted is read with [`PostureLimits::lifted`], and a 429 is still
/// retried after its `Retry-After` whatever the limits say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostureLimits {
    /// Identity & access reports (userRegistrationDetails, signIns): 5 per 10 s.
    pub reports: (usize, Duration),
    /// Identity protection & Conditional Access: 1 per second.
    pub protection: (usize, Duration),
    /// Exchange message trace: 100 per 5 minutes.
    pub traces: (usize, Duration),
}

impl Default for PostureLimits {
    fn default() -> Self {
        PostureLimits {
            reports: (5, Duration::from_secs(10)),
            protection: (1, Duration::from_secs(1)),
            traces: (100, Duration::from_secs(300)),
        }
    }
}

impl PostureLimits {
    /// No pacing of our own: only the tenant's answers (429 and `Retry-After`) slow
    /// the readers down.
    pub fn lifted() -> Self {
        let none = (usize::MAX, Duration::ZERO);
        PostureLimits {
            reports: none,
            protection: none,
            traces: none,
        }
    }
}

/// The rate limits the posture readers stay under, one per service family.
#[derive(Debug)]
pub struct PosturePacers {
    /// Identity & access reports (userRegistrationDetails, signIns).
    reports: Mutex<CallPacer>,
    /// Identity protection & Conditional Access.
    protection: Mutex<CallPacer>,
    /// Exchange message trace.
    traces: Mutex<CallPacer>,
}

impl Default for PosturePacers {
    fn default() -> Self {
        PosturePacers::new(PostureLimits::default())
    }
}

impl PosturePacers {
    /// Pacers for `limits`.
    pub fn new(limits: PostureLimits) -> Self {
        let pacer = |(calls, period): (usize, Duration)| Mutex::new(CallPacer::new(calls, period));
        PosturePacers {
            reports: pacer(limits.reports),
            protection: pacer(limits.protection),
            traces: pacer(limits.traces),
        }
    }
}

/// Which quota a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quota {
    Reports,
    Protection,
    Traces,
    /// Directory and security reads: only the client's `Retry-After` handling.
    None,
}

impl PosturePacers {
    async fn pace(&self, quota: Quota) {
        let wait = self.claim(quota, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Claims the next call slot of `quota` at `now`: how long to wait before it.
    fn claim(&self, quota: Quota, now: Instant) -> Duration {
        let pacer = match quota {
            Quota::Reports => &self.reports,
            Quota::Protection => &self.protection,
            Quota::Traces => &self.traces,
            Quota::None => return Duration::ZERO,
        };
        // Not a `Result` holding the guard: the future must stay `Send`.
        pacer
            .lock()
            .map(|mut p| {
                let w = p.delay(now);
                p.record(now + w);
                w
            })
            .unwrap_or_default()
    }
}

/// What one reader received: the records that parsed, and the ones that did not.
#[derive(Debug, Clone, PartialEq)]
pub struct Records<T> {
    /// Parsed records, in the service's order.
    pub records: Vec<T>,
    /// Records skipped because they did not fit the documented shape.
    pub skipped: usize,
    /// Why the first skipped record was skipped (for the refresh warning).
    pub first_skip: Option<String>,
    /// Requests made (pages).
    pub calls: u64,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Records {
            records: Vec::new(),
            skipped: 0,
            first_skip: None,
            calls: 0,
        }
    }
}

impl<T: DeserializeOwned> Records<T> {
    /// Adds one page's records, parsing each on its own.
    pub fn extend_page(&mut self, page: Vec<serde_json::Value>) {
        for value in page {
            match serde_json::from_value::<T>(value) {
                Ok(r) => self.records.push(r),
                Err(e) => {
                    self.skipped += 1;
                    self.first_skip.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }

    /// Parses a whole OData collection body (`{"value": [...]}`) record by record; the
    /// envelope itself must be JSON (a body that is not is the caller's error).
    pub fn from_body(body: &[u8]) -> Result<Records<T>, serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            value: Vec<serde_json::Value>,
        }
        let page: Page = serde_json::from_slice(body)?;
        let mut out = Records::default();
        out.extend_page(page.value);
        Ok(out)
    }
}

/// Why a source could not be read at all: the tenant refused for a missing permission
/// or licence. The refresh turns it into `SourceAvailability::Unavailable`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unavailable: grant {grant} ({message})")]
pub struct Refusal {
    /// The permission (`Policy.Read.All`) or licence (`Microsoft Entra ID P2`) to grant.
    pub grant: String,
    /// The tenant's message.
    pub message: String,
}

/// The refusal in `err`, when it is one: a 403 naming a permission (or on an endpoint
/// whose permission is known), or a licence error.
pub fn refusal(err: &TenantError) -> Option<Refusal> {
    let TenantError::Forbidden { endpoint, message } = err else {
        return None;
    };
    let lower = message.to_ascii_lowercase();
    let path = endpoint.path.to_ascii_lowercase();
    let licence = lower.contains("licens") || lower.contains("licenc") || lower.contains("premium");
    let grant = if licence && path.contains("/identityprotection/") {
        Some("Microsoft Entra ID P2".to_owned())
    } else if licence {
        Some("Microsoft Entra ID P1".to_owned())
    } else {
        named_permission(message).or_else(|| endpoint.required_permission().map(str::to_owned))
    }?;
    Some(Refusal {
        grant,
        message: message.clone(),
    })
}

/// The first permission a Graph 403 says is required ("API required roles: X, Y." or
/// "required scopes ... X"), not the ones it says the token has.
fn named_permission(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let start = [
        "required roles:",
        "required permissions:",
        "required scopes:",
    ]
    .iter()
    .find_map(|m| lower.find(m).map(|i| i + m.len()))?;
    let rest = &message[start..];
    let end = rest.find(". ").unwrap_or(rest.len());
    rest[..end]
        .split([',', ' '])
        .map(|s| s.trim().trim_end_matches('.'))
        .find(|s| s.contains('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
        .map(str::to_owned)
}

/// OData string literal: single quotes doubled.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `field eq 'a' or field eq 'b' ...`
fn any_of(field: &str, values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{field} eq {}", literal(v)))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Graph's timestamp form for filters: `2026-11-01T00:00:00Z`.
fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads the posture sources from one tenant, paced per service.
pub struct PostureReader<'a> {
    client: &'a GraphClient,
    pacers: &'a PosturePacers,
}

impl<'a> PostureReader<'a> {
    /// A reader over `client`, sharing `pacers` across every call of a refresh.
    pub fn new(client: &'a GraphClient, pacers: &'a PosturePacers) -> Self {
        PostureReader { client, pacers }
    }

    async fn drain<T: DeserializeOwned>(
        &self,
        mut pager: Pager<serde_json::Value>,
        quota: Quota,
        out: &mut Records<T>,
    ) -> Result<(), TenantError> {
        // A slot is claimed only for a request: asking a finished pager for its next
        // page makes none, so it must not spend a slot of the quota (and a wait).
        while pager.has_next() {
            self.pacers.pace(quota).await;
            let Some(page) = pager.next_page().await else {
                break;
            };
            out.calls += 1;
            out.extend_page(page?);
        }
        // Records the pager refused (no `id`) are skipped and counted like the rest.
        for r in pager.take_rejected() {
            out.skipped += 1;
            out.first_skip.get_or_insert(r.reason);
        }
        Ok(())
    }

    async fn listing<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
        quota: Quota,
    ) -> Result<Records<T>, TenantError> {
        let mut out = Records::default();
        self.drain(self.client.get_paged(path, query), quota, &mut out)
            .await?;
        Ok(out)
    }

    /// MFA registration of the accounts named (UPNs), 15 per request; every user's
    /// when `upns` is `None`.
    pub async fn mfa_registrations(
        &self,
        upns: Option<&[String]>,
    ) -> Result<Records<MfaRegistration>, TenantError> {
        const PATH: &str = "/reports/authenticationMethods/userRegistrationDetails";
        let Some(upns) = upns else {
            return self.listing(PATH, Vec::new(), Quota::Reports).await;
        };
        let mut out = Records::default();
        for batch in upns.chunks(IDS_PER_FILTER) {
            let filter = any_of("userPrincipalName", batch);
            let pager = self.client.get_paged(PATH, vec![("$filter", filter)]);
            self.drain(pager, Quota::Reports, &mut out).await?;
        }
        Ok(out)
    }

    /// Sign-ins of the users `ids` since `since`, newest first per batch of 15 users.
    pub async fn sign_ins(
        &self,
        ids: &[String],
        since: DateTime<Utc>,
    ) -> Result<Records<SignIn>, TenantError> {
        let mut out = Records::default();
        for batch in ids.chunks(IDS_PER_FILTER) {
            let filter = format!(
                "createdDateTime ge {} and ({})",
                iso(&since),
                any_of("userId", batch)
            );
            let pager = self.client.get_paged(
                "/auditLogs/signIns",
                vec![("$filter", filter), ("$top", SIGN_IN_PAGE.to_owned())],
            );
            self.drain(pager, Quota::Reports, &mut out).await?;
        }
        Ok(out)
    }

    /// Every Conditional Access policy, whatever its state.
    pub async fn conditional_access_policies(
        &self,
    ) -> Result<Records<ConditionalAccessPolicy>, TenantError> {
        self.listing(
            "/identity/conditionalAccess/policies",
            Vec::new(),
            Quota::Protection,
        )
        .await
    }

    /// The groups (transitively) and directory roles of each user in `ids`.
    pub async fn memberships(
        &self,
        ids: &[String],
    ) -> Result<Records<AccountMemberships>, TenantError> {
        #[derive(serde::Deserialize)]
        struct Member {
            #[serde(rename = "@odata.type", default)]
            kind: String,
            #[serde(default)]
            id: String,
            #[serde(rename = "roleTemplateId", default)]
            role_template_id: Option<String>,
        }
        let mut out = Records::default();
        for id in ids {
            let mut objects: Records<Member> = Records::default();
            let pager = self.client.get_paged(
                &format!("/users/{}/transitiveMemberOf", encode(id)),
                vec![("$select", "id,roleTemplateId".to_owned())],
            );
            self.drain(pager, Quota::None, &mut objects).await?;
            let mut m = AccountMemberships {
                user_id: id.clone(),
                ..AccountMemberships::default()
            };
            for o in objects.records {
                if o.kind
                    .eq_ignore_ascii_case("#microsoft.graph.directoryRole")
                {
                    m.role_template_ids.extend(o.role_template_id);
                } else if o.kind.eq_ignore_ascii_case("#microsoft.graph.group") {
                    m.group_ids.push(o.id);
                }
            }
            out.calls += objects.calls;
            out.skipped += objects.skipped;
            if out.first_skip.is_none() {
                out.first_skip = objects.first_skip;
            }
            out.records.push(m);
        }
        Ok(out)
    }

    /// Every risky user (Entra ID P2).
    pub async fn risky_users(&self) -> Result<Records<RiskyUser>, TenantError> {
        self.listing(
            "/identityProtection/riskyUsers",
            Vec::new(),
            Quota::Protection,
        )
        .await
    }

    /// The last 90 daily Secure Scores (newest first, as served).
    pub async fn secure_scores(&self) -> Result<Records<SecureScore>, TenantError> {
        self.listing(
            "/security/secureScores",
            vec![("$top", SCORE_DAYS.to_owned())],
            Quota::None,
        )
        .await
    }

    /// Every Secure Score control profile.
    pub async fn secure_score_controls(&self) -> Result<Records<SecureScoreControl>, TenantError> {
        self.listing(
            "/security/secureScoreControlProfiles",
            Vec::new(),
            Quota::None,
        )
        .await
    }

    /// Message traces received in `[from, to]`, in windows of at most 10 days, keeping
    /// those `keep` accepts (to or from a priority account). The whole tenant's
    /// traces are paged (5,000 a page) and filtered here: a per-account filter would
    /// cost two requests per account against the 100-per-5-minutes quota.
    pub async fn message_traces(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        keep: &(dyn Fn(&MessageTrace) -> bool + Sync),
    ) -> Result<Records<MessageTrace>, TenantError> {
        let mut out = Records::default();
        let mut start = from;
        while start < to {
            let end = (start + chrono::Duration::days(10)).min(to);
            let filter = format!(
                "receivedDateTime ge {} and receivedDateTime le {}",
                iso(&start),
                iso(&end)
            );
            let mut window = Records::default();
            let pager = self.client.get_paged(
                "/admin/exchange/tracing/messageTraces",
                vec![("$filter", filter), ("$top", TRACE_PAGE.to_owned())],
            );
            self.drain(pager, Quota::Traces, &mut window).await?;
            out.calls += window.calls;
            out.skipped += window.skipped;
            if out.first_skip.is_none() {
                out.first_skip = window.first_skip;
            }
            out.records
                .extend(window.records.into_iter().filter(|t| keep(t)));
            start = end;
        }
        Ok(out)
    }
}

fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Endpoint;

    fn forbidden(path: &str, message: &str) -> TenantError {
        TenantError::Forbidden {
            endpoint: Endpoint::new("GET", path),
            message: message.into(),
        }
    }

    #[test]
    fn refusals_name_the_permission_or_licence_to_grant() {
        let sim = forbidden(
            "/identity/conditionalAccess/policies",
            "Missing application roles. API required roles: Policy.Read.All. Application roles in token: AuditLog.Read.All, Directory.Read.All.",
        );
        assert_eq!(
            refusal(&sim).map(|r| r.grant),
            Some("Policy.Read.All".into())
        );
        let graph = forbidden(
            "/identity/conditionalAccess/policies",
            "You cannot perform the requested operation, required scopes are missing in the token.",
        );
        assert_eq!(
            refusal(&graph).map(|r| r.grant),
            Some("Policy.Read.All".into())
        );
        let p2 = forbidden(
            "/identityProtection/riskyUsers",
            "Your tenant is not licensed for this feature.",
        );
        assert_eq!(
            refusal(&p2).map(|r| r.grant),
            Some("Microsoft Entra ID P2".into())
        );
        let p1 = forbidden(
            "/auditLogs/signIns",
            "Neither tenant is B2C or tenant doesn't have premium license",
        );
        assert_eq!(
            refusal(&p1).map(|r| r.grant),
            Some("Microsoft Entra ID P1".into())
        );
        let other = TenantError::NotFound {
            endpoint: Endpoint::new("GET", "/security/secureScores"),
            message: "x".into(),
        };
        assert_eq!(refusal(&other), None);
    }

    #[test]
    fn filters_quote_and_batch() {
        assert_eq!(
            any_of("userId", &["a".into(), "o'b".into()]),
            "userId eq 'a' or userId eq 'o''b'"
        );
        let t = DateTime::parse_from_rfc3339("2026-11-01T00:00:00.5Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap();
        assert_eq!(iso(&t), "2026-11-01T00:00:00Z");
    }

    #[test]
    fn documented_limits_pace_and_lifted_limits_do_not() {
        let now = Instant::now();
        let documented = PosturePacers::default();
        let waits: Vec<Duration> = (0..6)
            .map(|_| documented.claim(Quota::Reports, now))
            .collect();
        assert!(waits[..5].iter().all(Duration::is_zero), "{waits:?}");
        assert_eq!(waits[5], Duration::from_secs(10), "5 per 10 s");
        assert_eq!(documented.claim(Quota::Protection, now), Duration::ZERO);
        assert_eq!(
            documented.claim(Quota::Protection, now),
            Duration::from_secs(1)
        );
        let lifted = PosturePacers::new(PostureLimits::lifted());
        for quota in [Quota::Reports, Quota::Protection, Quota::Traces] {
            for _ in 0..1000 {
                assert_eq!(lifted.claim(quota, now), Duration::ZERO, "{quota:?}");
            }
        }
    }

    #[test]
    fn a_malformed_record_is_skipped_and_counted() {
        let body = br#"{"value":[{"id":"1","riskLevel":"high"},{"id":"2","riskLastUpdatedDateTime":"String (timestamp)"}]}"#;
        let r = Records::<RiskyUser>::from_body(body).unwrap();
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.records[0].id, "1");
        assert_eq!(r.skipped, 1);
        assert!(r.first_skip.is_some());
    }
}

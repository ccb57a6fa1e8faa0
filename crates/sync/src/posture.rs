//! Posture sources as refresh sources: each one read, stored and given its own state
//! (watermark, last success, last error, the permission it lacks). The tenant-wide
//! ones (Conditional Access, risky users, Secure Score) run beside the hunting pull;
//! the ones about the priority accounts run after the tags, which name them (an
//! account can become one from the mail, as Defender protected it). Within each group
//! the sources run concurrently, each paced by its service's quota.
//!
//! One source refused (a missing permission or licence) or failing never stops the
//! others: it is recorded as such, a warning names what to grant, and the refresh
//! still succeeds.

use std::collections::HashSet;
use std::time::Instant;

use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::writer::CacheWriter;
use super::{Progress, RefreshContext, SourceSummary, SyncError, now_ticks, wanted};
use whalewatch_cache::{Cache, CacheError, PostureRecord, UpsertStats};
use whalewatch_config::{PRIORITY_ACCOUNT, Profile};
use whalewatch_model::directory::address_of;
use whalewatch_model::hunting::{from_ticks, to_ticks};
use whalewatch_model::posture::{
    EXCHANGE_SNAPSHOT_SCHEMA, ExchangeSnapshot, MailboxSettings, MessageTrace, PresetRule, source,
};
use whalewatch_tenant::TenantError;
use whalewatch_tenant::posture::{PostureReader, Records, refusal};

/// How far back sign-ins reach (and are kept): the posture checks look at 30 days.
pub const SIGN_IN_DAYS: i64 = 30;

/// How far back message traces reach: the Email issues check looks at 7 days.
pub const TRACE_DAYS: i64 = 7;

/// A priority account as the directory knows it.
#[derive(Debug, Clone, Default)]
struct Account {
    id: String,
    upn: String,
}

/// The members of the Priority account tag, joined to the cached directory (ids for
/// sign-ins and memberships, sign-in names for MFA registration).
fn priority_accounts(c: &Cache) -> Result<(Vec<Account>, Vec<String>), CacheError> {
    let addresses: HashSet<String> = c
        .tag_addresses(PRIORITY_ACCOUNT)?
        .into_iter()
        .map(|a| a.to_lowercase())
        .collect();
    let mut accounts: Vec<Account> = c
        .users()?
        .into_iter()
        .filter_map(|u| {
            let upn = u.user_principal_name.clone()?.to_lowercase();
            let address = address_of(&u)?;
            (addresses.contains(&address) || addresses.contains(&upn)).then(|| Account {
                id: u.id.clone(),
                upn,
            })
        })
        .collect();
    accounts.sort_by(|a, b| a.upn.cmp(&b.upn));
    let mut all: Vec<String> = addresses.into_iter().collect();
    all.sort();
    Ok((accounts, all))
}

/// What a posture source read, ready for the writer: it writes inside the source's
/// transaction and may return a warning (an empty listing that kept the cached set).
type Store = Box<
    dyn FnOnce(&whalewatch_cache::Writer<'_>) -> Result<(UpsertStats, Option<String>), CacheError>
        + Send,
>;

fn nothing() -> Store {
    Box::new(|_| Ok((UpsertStats::default(), None)))
}

/// Why a source could not be read: the tenant (recorded, the refresh goes on) or the
/// cache (the refresh stops).
enum ReadError {
    Tenant(TenantError),
    Cache(CacheError),
}

impl From<TenantError> for ReadError {
    fn from(e: TenantError) -> Self {
        ReadError::Tenant(e)
    }
}

impl From<CacheError> for ReadError {
    fn from(e: CacheError) -> Self {
        ReadError::Cache(e)
    }
}

/// The posture sources that read nothing of the priority accounts: they run alongside
/// the hunting pull instead of waiting for the tags.
const TENANT_WIDE: [&str; 3] = [
    source::CONDITIONAL_ACCESS,
    source::RISKY_USERS,
    source::SECURE_SCORE,
];

/// One posture source's summary and the warnings it raised.
pub(super) type Outcome = (SourceSummary, Vec<String>);

/// The wanted Graph posture sources that are (or are not) tenant-wide.
fn wanted_sources(o: &super::RefreshOptions, tenant_wide: bool) -> Vec<&'static str> {
    source::ALL
        .into_iter()
        .filter(|s| *s != source::EXCHANGE && wanted(o, s))
        .filter(|s| TENANT_WIDE.contains(s) == tenant_wide)
        .collect()
}

/// Refreshes the wanted tenant-wide posture sources (Conditional Access, risky users,
/// Secure Score), concurrently: they need no priority account, so the refresh runs
/// them beside the hunting pull.
pub(super) async fn refresh_tenant_wide(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
) -> Result<Vec<Outcome>, SyncError> {
    run_all(ctx, writer, &wanted_sources(ctx.options, true), &[], &[]).await
}

/// Refreshes the wanted posture sources about the priority accounts (MFA registration,
/// memberships, sign-ins, message traces), concurrently, once the tags are resolved;
/// returns their outcomes and a warning when the tag has no member.
pub(super) async fn refresh_accounts(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
) -> Result<(Vec<Outcome>, Vec<String>), SyncError> {
    let names = wanted_sources(ctx.options, false);
    if names.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let (accounts, addresses) = writer.run(|c| priority_accounts(c)).await?;
    let mut warnings = Vec::new();
    if accounts.is_empty() {
        warnings.push(format!(
            "posture: no member of the `{PRIORITY_ACCOUNT}` tag is in the directory, so MFA registration, sign-ins and memberships were read for nobody; add priority accounts to the tag (a group, a file, or an imported Exchange VIP list)"
        ));
    }
    let outcomes = run_all(ctx, writer, &names, &accounts, &addresses).await?;
    Ok((outcomes, warnings))
}

/// The summaries in `source::ALL` order and every warning (`first` before the
/// sources' own), each also reported as progress.
pub(super) fn summarize(
    ctx: &RefreshContext<'_>,
    mut outcomes: Vec<Outcome>,
    first: Vec<String>,
) -> (Vec<SourceSummary>, Vec<String>) {
    outcomes.sort_by_key(|(s, _)| source::ALL.iter().position(|n| *n == s.source));
    let mut warnings = first;
    let mut summaries = Vec::with_capacity(outcomes.len());
    for (summary, w) in outcomes {
        summaries.push(summary);
        warnings.extend(w);
    }
    for w in &warnings {
        (ctx.progress)(&Progress::Warning(w.clone()));
    }
    (summaries, warnings)
}

/// Reads and stores `names` concurrently: they are on different endpoints, and the
/// ones sharing a service's quota wait for it in `ctx`'s pacers, not for each other.
async fn run_all(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    names: &[&'static str],
    accounts: &[Account],
    addresses: &[String],
) -> Result<Vec<Outcome>, SyncError> {
    let reader = PostureReader::new(ctx.client, &ctx.posture_pacers);
    let reader = &reader;
    futures_util::future::try_join_all(
        names
            .iter()
            .map(|name| refresh_one(ctx, writer, reader, name, accounts, addresses)),
    )
    .await
}

/// Reads one posture source and stores it with its state; a tenant's refusal or
/// failure is recorded on the source and becomes a warning, a cache error stops.
async fn refresh_one(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    reader: &PostureReader<'_>,
    name: &'static str,
    accounts: &[Account],
    addresses: &[String],
) -> Result<Outcome, SyncError> {
    let mut warnings = Vec::new();
    let started = Instant::now();
    (ctx.progress)(&Progress::Started {
        source: name.into(),
        expected_rows: None,
    });
    let read = read_source(name, reader, writer, accounts, addresses).await;
    let now = now_ticks();
    let name_owned = name.to_string();
    let (fetched, calls, stats) = match read {
        Ok(read) => {
            if read.skipped > 0 {
                warnings.push(format!(
                    "{name}: skipped {} record(s) that do not have the documented shape (first: {})",
                    read.skipped,
                    read.first_skip.as_deref().unwrap_or("?")
                ));
            }
            let (store, watermark) = (read.store, read.watermark);
            let (stats, kept) = writer
                .run(move |c| {
                    c.write(|tx| {
                        let s = store(tx)?;
                        tx.advance(&name_owned, watermark, now)?;
                        Ok(s)
                    })
                })
                .await?;
            warnings.extend(kept);
            (read.fetched, read.calls, stats)
        }
        Err(ReadError::Cache(e)) => return Err(e.into()),
        Err(ReadError::Tenant(e)) => {
            // The state keeps "unavailable: grant X (the tenant's message)", which
            // `:sources` shows as is; the warning also says what to do.
            let (message, grant) = match refusal(&e) {
                Some(r) => {
                    warnings.push(format!(
                        "{name} unavailable: grant {} to the app registration (admin consent), then refresh; everything else was refreshed ({})",
                        r.grant, r.message
                    ));
                    (r.to_string(), Some(r.grant))
                }
                None => {
                    let m = format!("{name} failed: {e}");
                    warnings.push(m.clone());
                    (m, None)
                }
            };
            writer
                .run(move |c| c.write(|tx| tx.fail_source(&name_owned, &message, grant.as_deref())))
                .await?;
            (0, 0, UpsertStats::default())
        }
    };
    let summary = SourceSummary {
        source: name.into(),
        fetched,
        stats,
        calls,
        seconds: started.elapsed().as_secs_f64(),
        ..SourceSummary::default()
    };
    (ctx.progress)(&Progress::Finished(summary.clone()));
    Ok((summary, warnings))
}

/// One source's answer, not yet written.
struct Read {
    fetched: u64,
    calls: u64,
    skipped: usize,
    first_skip: Option<String>,
    watermark: Option<i64>,
    store: Store,
}

impl Read {
    fn of<T>(r: &Records<T>, store: Store) -> Read {
        Read {
            fetched: r.records.len() as u64,
            calls: r.calls,
            skipped: r.skipped,
            first_skip: r.first_skip.clone(),
            watermark: None,
            store,
        }
    }
}

/// A full listing replaces the cached one, unless it came back empty while the cache
/// had records: then the cached set stays and the analyst is told.
fn full_listing<T: PostureRecord + Send + 'static>(name: &str, records: Records<T>) -> Read {
    let mut read = Read::of(&records, nothing());
    let (name, list) = (name.to_string(), records.records);
    read.store = Box::new(move |tx| {
        if list.is_empty() {
            let cached = tx.posture_len::<T>()?;
            if cached > 0 {
                return Ok((
                    UpsertStats::default(),
                    Some(format!(
                        "{name}: the tenant listed nothing, but the cache holds {cached}; kept them (check the source in the portal, then refresh again)"
                    )),
                ));
            }
        }
        Ok((tx.replace_posture(&list)?, None))
    });
    read
}

async fn read_source(
    name: &str,
    reader: &PostureReader<'_>,
    writer: &CacheWriter,
    accounts: &[Account],
    addresses: &[String],
) -> Result<Read, ReadError> {
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    match name {
        source::MFA => {
            let upns: Vec<String> = accounts.iter().map(|a| a.upn.clone()).collect();
            let r = reader.mfa_registrations(Some(&upns)).await?;
            Ok(full_listing(name, r))
        }
        source::CONDITIONAL_ACCESS => {
            let r = reader.conditional_access_policies().await?;
            Ok(full_listing(name, r))
        }
        source::MEMBERSHIPS => {
            let r = reader.memberships(&ids).await?;
            Ok(full_listing(name, r))
        }
        source::RISKY_USERS => {
            let r = reader.risky_users().await?;
            Ok(full_listing(name, r))
        }
        source::SECURE_SCORE => {
            let scores = reader.secure_scores().await?;
            let controls = reader.secure_score_controls().await?;
            let mut read = full_listing(name, scores);
            let controls_read = full_listing(name, controls);
            read.fetched += controls_read.fetched;
            read.calls += controls_read.calls;
            read.skipped += controls_read.skipped;
            read.first_skip = read.first_skip.or(controls_read.first_skip);
            let (a, b) = (read.store, controls_read.store);
            read.store = Box::new(move |tx| {
                let (mut s, kept_a) = a(tx)?;
                let (t, kept_b) = b(tx)?;
                s.new += t.new;
                Ok((s, kept_a.or(kept_b)))
            });
            Ok(read)
        }
        source::SIGN_INS => {
            let state = writer.run(|c| c.source_state(source::SIGN_INS)).await?;
            let now = Utc::now();
            let floor = now - chrono::Duration::days(SIGN_IN_DAYS);
            // From the newest sign-in seen minus an overlap (late arrivals), never
            // further back than the checks look.
            let since = state
                .and_then(|s| s.watermark)
                .map(|w| from_ticks(w - super::plan::HOUR))
                .map_or(floor, |t| t.max(floor));
            // Accounts with no cached sign-in (new priority accounts, or quiet ones)
            // are read from the floor: a watermark moved by others says nothing of them.
            let cached = writer.run(|c| c.signed_in_users()).await?;
            let (known, fresh): (Vec<String>, Vec<String>) =
                ids.iter().cloned().partition(|id| cached.contains(id));
            let mut r = reader.sign_ins(&known, since).await?;
            if !fresh.is_empty() {
                let more = reader.sign_ins(&fresh, floor).await?;
                r.records.extend(more.records);
                r.skipped += more.skipped;
                r.first_skip = r.first_skip.or(more.first_skip);
                r.calls += more.calls;
            }
            let mut read = Read::of(&r, nothing());
            read.watermark = r
                .records
                .iter()
                .filter_map(|s| s.created_date_time.as_ref().map(to_ticks))
                .max();
            let keep = to_ticks(&floor);
            let list = r.records;
            read.store = Box::new(move |tx| Ok((tx.upsert_sign_ins(&list, keep)?, None)));
            Ok(read)
        }
        source::MESSAGE_TRACES => {
            let to = Utc::now();
            let from = to - chrono::Duration::days(TRACE_DAYS);
            let wanted: HashSet<&str> = addresses.iter().map(String::as_str).collect();
            let involves = |t: &MessageTrace| {
                [&t.recipient_address, &t.sender_address]
                    .into_iter()
                    .flatten()
                    .any(|a| wanted.contains(a.to_lowercase().as_str()))
            };
            let r = reader.message_traces(from, to, &involves).await?;
            let mut read = Read::of(&r, nothing());
            // The window is the truth: replaced, even when empty (a quiet week).
            let list = r.records;
            read.store = Box::new(move |tx| Ok((tx.replace_posture(&list)?, None)));
            Ok(read)
        }
        _ => Ok(Read::of::<()>(&Records::default(), nothing())),
    }
}

/// Why an Exchange snapshot was refused: every problem, each naming its JSON path and
/// what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the Exchange snapshot is not valid:\n  {}\nfix these (or run assets/Get-WhalewatchExchangeSnapshot.ps1 again) and import it again",
    problems.join("\n  ")
)]
pub struct SnapshotError {
    /// `$.path: what is wrong and what is expected`.
    pub problems: Vec<String>,
}

/// A snapshot that passed validation, and what was tolerated.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSnapshot {
    /// The snapshot.
    pub snapshot: ExchangeSnapshot,
    /// Unknown fields (ignored), by JSON path.
    pub warnings: Vec<String>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks `value` field by field against `T` (every field defaulted, so a one-field
/// object parses exactly when that field is right), so each problem names its path.
fn check_object<T: Default + Serialize + DeserializeOwned>(
    path: &str,
    value: &Value,
    skip: &[&str],
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let Value::Object(map) = value else {
        problems.push(format!(
            "{path}: expected an object, found {}",
            kind_of(value)
        ));
        return;
    };
    let known: Vec<String> = match serde_json::to_value(T::default()) {
        Ok(Value::Object(k)) => k.keys().cloned().collect(),
        _ => Vec::new(),
    };
    for (k, v) in map {
        if skip.contains(&k.as_str()) {
            continue;
        }
        if !known.contains(k) {
            warnings.push(format!("{path}.{k}: unknown field, ignored"));
            continue;
        }
        let one = Value::Object([(k.clone(), v.clone())].into_iter().collect());
        if let Err(e) = serde_json::from_value::<T>(one) {
            problems.push(format!("{path}.{k}: {e} (found {})", kind_of(v)));
        }
    }
}

fn check_array<T: Default + Serialize + DeserializeOwned>(
    path: &str,
    value: Option<&Value>,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_object::<T>(&format!("{path}[{i}]"), item, &[], problems, warnings);
            }
        }
        Some(other) => problems.push(format!(
            "{path}: expected an array, found {}",
            kind_of(other)
        )),
    }
}

/// Validates an Exchange snapshot as `assets/Get-WhalewatchExchangeSnapshot.ps1`
/// writes it: JSON (a UTF-8 byte-order mark, which Windows PowerShell writes, is
/// allowed), the schema tag, every field's type, `generatedDateTime` present, each
/// mailbox and rule named. Unknown fields are reported, not refused.
pub fn validate_snapshot(bytes: &[u8]) -> Result<ValidSnapshot, SnapshotError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let one = |p: String| SnapshotError { problems: vec![p] };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        one(format!(
            "$: not JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(map) = &value else {
        return Err(one(format!(
            "$: expected an object, found {}",
            kind_of(&value)
        )));
    };
    match map.get("schema") {
        Some(Value::String(s)) if s == EXCHANGE_SNAPSHOT_SCHEMA => {}
        Some(other) => {
            return Err(one(format!(
                "$.schema: expected \"{EXCHANGE_SNAPSHOT_SCHEMA}\", found {other}; this file was not written by the whalewatch script, or by a version this build does not read"
            )));
        }
        None => {
            return Err(one(format!(
                "$.schema: missing; a snapshot starts with \"schema\": \"{EXCHANGE_SNAPSHOT_SCHEMA}\""
            )));
        }
    }
    let (mut problems, mut warnings) = (Vec::new(), Vec::new());
    check_object::<ExchangeSnapshot>(
        "$",
        &value,
        &["mailboxes", "presetRules"],
        &mut problems,
        &mut warnings,
    );
    check_array::<MailboxSettings>(
        "$.mailboxes",
        map.get("mailboxes"),
        &mut problems,
        &mut warnings,
    );
    check_array::<PresetRule>(
        "$.presetRules",
        map.get("presetRules"),
        &mut problems,
        &mut warnings,
    );
    if !problems.is_empty() {
        return Err(SnapshotError { problems });
    }
    let snapshot: ExchangeSnapshot =
        serde_json::from_value(value).map_err(|e| one(format!("$: {e}")))?;
    if snapshot.generated_date_time.is_none() {
        problems.push(
            "$.generatedDateTime: missing; the snapshot's age is taken from it (ISO 8601, e.g. \"2026-11-01T08:00:00Z\")".into(),
        );
    }
    for (i, m) in snapshot.mailboxes.iter().enumerate() {
        if m.primary_smtp_address.trim().is_empty() {
            problems.push(format!(
                "$.mailboxes[{i}].primarySmtpAddress: missing or empty; each mailbox is named by its primary SMTP address"
            ));
        }
    }
    for (i, r) in snapshot.preset_rules.iter().enumerate() {
        if r.name.trim().is_empty() {
            problems.push(format!(
                "$.presetRules[{i}].name: missing or empty; name the rule as Get-EOPProtectionPolicyRule shows it"
            ));
        }
    }
    for (i, v) in snapshot.vips.iter().enumerate() {
        if !v.contains('@') {
            problems.push(format!(
                "$.vips[{i}]: \"{v}\" is not an address; list primary SMTP addresses or UPNs"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(SnapshotError { problems });
    }
    Ok(ValidSnapshot { snapshot, warnings })
}

/// What an import stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The snapshot's own time.
    pub generated: chrono::DateTime<Utc>,
    /// VIPs, mailboxes and preset rules it holds.
    pub vips: usize,
    pub mailboxes: usize,
    pub rules: usize,
    /// Members of the Priority account tag after the VIPs joined.
    pub priority_accounts: usize,
    /// Unknown fields and tag problems.
    pub warnings: Vec<String>,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Invalid(#[from] SnapshotError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Validates and stores an Exchange snapshot as the `exchange-snapshot` source (its
/// age is the snapshot's own `generatedDateTime`), then resolves the tags again so
/// its VIP list joins the Priority account tag at once.
pub fn import_exchange_snapshot(
    cache: &mut Cache,
    profile: &Profile,
    bytes: &[u8],
) -> Result<ImportReport, ImportError> {
    let ValidSnapshot {
        snapshot,
        mut warnings,
    } = validate_snapshot(bytes)?;
    let generated = snapshot.generated_date_time.unwrap_or_else(Utc::now);
    let stamp = to_ticks(&generated);
    cache.write(|tx| {
        tx.store_exchange_snapshot(&snapshot, now_ticks())?;
        tx.advance(source::EXCHANGE, Some(stamp), stamp)
    })?;
    let tag_warnings = super::retag(cache, &profile.tags(), false)?.warnings;
    warnings.extend(tag_warnings);
    let priority_accounts = cache.tag_addresses(PRIORITY_ACCOUNT)?.len();
    Ok(ImportReport {
        generated,
        vips: snapshot.vips.len(),
        mailboxes: snapshot.mailboxes.len(),
        rules: snapshot.preset_rules.len(),
        priority_accounts,
        warnings,
    })
}

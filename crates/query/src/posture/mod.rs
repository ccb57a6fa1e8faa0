//! Priority-account posture: the sources [`PostureSources`] holds, judged per account
//! against the checks of [`CHECK_IDS`] (the table of what fails and what warns is the
//! contract in [`whalewatch_model::posture`]), plus the tenant checklist.
//!
//! Pure: no I/O, no clock. The caller passes the accounts (from the directory and a
//! tag), the sources (from the cache) and `now`. Every check carries its evidence (the
//! policies, sign-ins, methods, rules it was decided from) and what to change where.
//!
//! Decisions this module makes beyond the contract's table (documented so the
//! simulator and reviewers can follow them):
//! - A source is usable when it is `Fresh`, or `Failed` with older data (`as_of`);
//!   `Missing`, `Unavailable` and `Failed` without data make its checks `unknown`.
//! - Conditional Access: see [`ca`] (grant `mfa` OR-ed with a non-MFA alternative such
//!   as `compliantDevice` is not counted: the account can sign in without MFA).
//! - A sign-in without a status counts as successful (nothing says it failed).
//! - Email issues count `failed`, `pending` and `quarantined` traces (the contract);
//!   `filteredAsSpam` is shown in the evidence only.

pub mod ca;
pub mod checklist;
pub mod exchange;
pub mod identity;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use whalewatch_model::directory::User;
pub use whalewatch_model::posture::CHECK_IDS;
use whalewatch_model::posture::{PostureSources, SourceAvailability, source};

pub use checklist::{Checklist, Practice, checklist};

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Meets the recommendation.
    Pass,
    /// Weaker than recommended.
    Warn,
    /// A gap.
    Fail,
    /// Its source is missing or unavailable: never counted as passing.
    Unknown,
}

impl Status {
    /// `pass`, `warn`, `fail`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
        }
    }
}

/// An account's verdict: worst first when sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A check fails.
    Fail,
    /// A check warns or is unknown.
    Warn,
    /// Every check passes.
    Pass,
}

impl Verdict {
    /// `fail`, `warn`, `pass`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::Pass => "pass",
        }
    }
}

/// One check of one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Check {
    /// One of [`CHECK_IDS`].
    pub id: &'static str,
    /// The outcome.
    pub status: Status,
    /// One line for the pane and the table.
    pub summary: String,
    /// What it was decided from (policies, sign-ins, methods, rules), one fact a line.
    pub evidence: Vec<String>,
    /// What to change and where (admin-centre page or cmdlet); empty when it passes.
    /// Mostly fixed text: borrowed, not copied into each of thousands of accounts.
    pub remedy: Cow<'static, str>,
}

impl Check {
    fn new(id: &'static str, status: Status, summary: impl Into<String>) -> Check {
        Check {
            id,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            remedy: Cow::Borrowed(""),
        }
    }

    fn unknown(id: &'static str, why: String) -> Check {
        Check::new(id, Status::Unknown, why)
    }

    fn remedy(mut self, r: impl Into<Cow<'static, str>>) -> Check {
        if self.status != Status::Pass {
            self.remedy = r.into();
        }
        self
    }
}

/// An account as posture evaluation sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// User principal name, lower-case (the JSON's `account`).
    pub upn: String,
    /// Entra object id, when the directory knows the account.
    pub id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Every address the account is known by (UPN, mail), lower-case.
    pub addresses: Vec<String>,
}

impl Account {
    /// From a directory user.
    pub fn from_user(u: &User) -> Account {
        let upn = u
            .user_principal_name
            .as_deref()
            .or(u.mail.as_deref())
            .unwrap_or(&u.id)
            .to_lowercase();
        let mut addresses = vec![upn.clone()];
        if let Some(m) = u.mail.as_deref().filter(|m| !m.is_empty()) {
            let m = m.to_lowercase();
            if !addresses.contains(&m) {
                addresses.push(m);
            }
        }
        Account {
            upn,
            id: Some(u.id.clone()),
            display_name: u.display_name.clone(),
            addresses,
        }
    }

    /// Whether `address` (any case) is one of the account's.
    pub fn has_address(&self, address: &str) -> bool {
        let a = address.trim().to_lowercase();
        self.addresses.contains(&a)
    }

    /// Whether `id` is the account's object id (ids compare case-insensitively).
    pub fn has_id(&self, id: &str) -> bool {
        self.id
            .as_deref()
            .is_some_and(|x| x.eq_ignore_ascii_case(id))
    }
}

/// The accounts of a tag's members (folded addresses), matched to the directory by
/// mail or UPN; a member the directory does not know is kept by its address alone.
pub fn accounts_of(users: &[User], members: &[String]) -> Vec<Account> {
    let mut by_address: HashMap<String, &User> = HashMap::new();
    for u in users {
        for a in [u.user_principal_name.as_deref(), u.mail.as_deref()]
            .into_iter()
            .flatten()
        {
            by_address.insert(a.to_lowercase(), u);
        }
    }
    let mut out: Vec<Account> = Vec::new();
    // Thousands of members (every tag's): a set, not a scan of `out` per member.
    let mut seen: HashSet<String> = HashSet::new();
    for m in members {
        let acc = match by_address.get(&m.to_lowercase()) {
            Some(u) => Account::from_user(u),
            None => Account {
                upn: m.to_lowercase(),
                id: None,
                display_name: None,
                addresses: vec![m.to_lowercase()],
            },
        };
        if seen.insert(acc.upn.clone()) {
            out.push(acc);
        }
    }
    out
}

/// Facts the pane shows in columns and filters on (`mfa:`, `ca:`, `legacy:`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// Strongest registered method: `phishing-resistant`, `app`, `phone`, `none`, or
    /// empty when unknown.
    pub mfa: String,
    /// Conditional Access: `mfa` (required), `no-mfa`, `report-only` (only report-only
    /// policies would require it), or empty when unknown.
    pub ca: String,
    /// Whether an enabled policy blocks legacy clients for the account.
    pub legacy_blocked: Option<bool>,
    /// Legacy sign-ins in 30 days.
    pub legacy_sign_ins: usize,
    /// The newest legacy sign-in's protocol and time.
    pub last_legacy: Option<(String, DateTime<Utc>)>,
    /// Risk level (`high`, `medium`, `low`, `none`), empty when unknown.
    pub risk: String,
    /// `strict`, `excluded`, `standard`, `none`, or empty when unknown.
    pub strict: String,
    /// POP / IMAP / SMTP AUTH as `on`/`off`/`?`, e.g. `POP off · IMAP on · SMTP off`.
    pub protocols: String,
    /// Failed, pending or quarantined mail in 7 days.
    pub email_issues: usize,
}

/// One account's posture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPosture {
    /// Who.
    pub account: Account,
    /// Every check, in [`CHECK_IDS`] order. Shared: [`evaluate`] gives accounts judged
    /// alike (most tagged accounts: nothing read for them, the same tenant settings)
    /// one list, not nine checks with their texts each.
    pub checks: Arc<[Check]>,
    /// Fail if any check fails, else warn if any warns or is unknown, else pass.
    pub verdict: Verdict,
    /// Ids of the checks that fail or warn — what the row names — in [`CHECK_IDS`]
    /// order (the contract `sim stats` and `posture --format json` share).
    pub failing: Vec<&'static str>,
    /// Ids of the checks that only warn (a subset of `failing`).
    pub warning: Vec<&'static str>,
    /// Ids of the checks whose source is missing or unavailable.
    pub unknown: Vec<&'static str>,
    /// Column values for the console.
    pub facts: Facts,
}

impl AccountPosture {
    /// The check `id`.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Whether a source's data can be used, and if not why (for `unknown` summaries).
pub fn usable(sources: &PostureSources, name: &str) -> Result<(), String> {
    match sources.availability.get(name) {
        Some(SourceAvailability::Fresh { .. })
        | Some(SourceAvailability::Failed { as_of: Some(_), .. }) => Ok(()),
        Some(SourceAvailability::Unavailable { grant, .. }) => {
            Err(format!("{name} unavailable — grant {grant}"))
        }
        Some(SourceAvailability::Failed {
            message,
            as_of: None,
        }) => Err(format!(
            "{name} failed: {message} — run `whalewatch refresh` again"
        )),
        Some(SourceAvailability::Missing) | None if name == source::EXCHANGE => Err(format!(
            "{name} not imported — run assets/Get-WhalewatchExchangeSnapshot.ps1, then `whalewatch posture import FILE`"
        )),
        Some(SourceAvailability::Missing) | None => Err(format!(
            "{name} not refreshed yet — run `whalewatch refresh`"
        )),
    }
}

/// One line per source that is not fresh: what is missing and what to do.
pub fn source_notes(sources: &PostureSources) -> Vec<String> {
    source::ALL
        .iter()
        .filter_map(|name| match sources.availability.get(*name) {
            Some(SourceAvailability::Fresh { .. }) => None,
            Some(SourceAvailability::Failed {
                message,
                as_of: Some(t),
            }) => Some(format!(
                "{name}: last refresh failed ({message}); using data from {}",
                t.format("%Y-%m-%d %H:%M")
            )),
            _ => usable(sources, name).err(),
        })
        .collect()
}

/// Names of groups (id → display name) for evidence; may be empty.
pub type GroupNames = HashMap<String, String>;

/// Judges every account, worst verdict first (then by UPN).
pub fn evaluate(
    sources: &PostureSources,
    accounts: &[Account],
    groups: &GroupNames,
    now: DateTime<Utc>,
) -> Vec<AccountPosture> {
    // Thousands of tagged accounts, most judged alike: one list per distinct outcome.
    let mut shared: HashSet<Arc<[Check]>> = HashSet::new();
    let mut out: Vec<AccountPosture> = accounts
        .iter()
        .map(|a| {
            let mut p = evaluate_account(sources, a, groups, now);
            match shared.get(&p.checks) {
                Some(same) => p.checks = Arc::clone(same),
                None => {
                    shared.insert(Arc::clone(&p.checks));
                }
            }
            p
        })
        .collect();
    out.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then(b.failing.len().cmp(&a.failing.len()))
            .then_with(|| a.account.upn.cmp(&b.account.upn))
    });
    out
}

/// The checks judged from sources read per priority account (registration, sign-ins,
/// memberships, message traces) are `unknown` for an account the last refresh did not
/// read them for — one that became a priority account since (a VIP list imported, a
/// tag changed): the absence of its records says nothing about it. Coverage is the
/// account's memberships record, read for every priority account at each refresh.
fn uncovered_unknown(
    sources: &PostureSources,
    account: &Account,
    checks: Vec<Check>,
) -> Vec<Check> {
    if usable(sources, source::MEMBERSHIPS).is_err() {
        return checks;
    }
    let covered = account
        .id
        .as_deref()
        .is_some_and(|id| sources.memberships.iter().any(|m| m.user_id == id));
    if covered {
        return checks;
    }
    const PER_ACCOUNT: [&str; 5] = ["mfa", "ca-mfa", "ca-legacy", "legacy-auth", "email-issues"];
    checks
        .into_iter()
        .map(|c| {
            if PER_ACCOUNT.contains(&c.id) && c.status != Status::Unknown {
                Check::new(
                    c.id,
                    Status::Unknown,
                    "not read for this account yet (it became a priority account after the last refresh) — run `whalewatch refresh`",
                )
            } else {
                c
            }
        })
        .collect()
}

/// Judges one account.
pub fn evaluate_account(
    sources: &PostureSources,
    account: &Account,
    groups: &GroupNames,
    now: DateTime<Utc>,
) -> AccountPosture {
    let mut facts = Facts::default();
    let ca = ca::evaluate(sources, account, groups);
    facts.ca = ca.fact.clone();
    facts.legacy_blocked = ca.legacy_blocked;
    let checks = vec![
        identity::mfa(sources, account, &mut facts),
        ca.mfa,
        ca.legacy,
        identity::legacy_auth(sources, account, now, &mut facts),
        identity::risk(sources, account, &mut facts),
        exchange::strict_preset(sources, account, &mut facts),
        exchange::protocols(sources, account, &mut facts),
        exchange::audit(sources, account),
        exchange::email_issues(sources, account, now, &mut facts),
    ];
    let checks = uncovered_unknown(sources, account, checks);
    let ids = |s: Status| -> Vec<&'static str> {
        checks
            .iter()
            .filter(|c| c.status == s)
            .map(|c| c.id)
            .collect()
    };
    let (warning, unknown) = (ids(Status::Warn), ids(Status::Unknown));
    let failing: Vec<&'static str> = checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
        .map(|c| c.id)
        .collect();
    let verdict = if checks.iter().any(|c| c.status == Status::Fail) {
        Verdict::Fail
    } else if !warning.is_empty() || !unknown.is_empty() {
        Verdict::Warn
    } else {
        Verdict::Pass
    };
    AccountPosture {
        account: account.clone(),
        checks: checks.into(),
        verdict,
        failing,
        warning,
        unknown,
        facts,
    }
}

/// Exposure of one account from the cache's index: what reached them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    /// Phish received.
    pub phish: usize,
    /// Mail with a threat still in the inbox.
    pub inbox: usize,
    /// Messages whose URLs they clicked.
    pub clicked: usize,
    /// Open (not resolved) alerts naming them.
    pub open_alerts: usize,
}

/// `▁▂▃▄▅▆▇█` for `values` scaled between their minimum and maximum.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    values
        .iter()
        .map(|&v| {
            if hi > lo {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize]
            } else {
                BARS[3]
            }
        })
        .collect()
}

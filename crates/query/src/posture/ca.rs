//! Conditional Access: which policies apply to an account, and whether together they
//! require MFA and block legacy clients.
//!
//! Rules (each unit-tested):
//! - **Users**: `includeUsers` `All`, the account's id, `GuestsOrExternalUsers` (or an
//!   `includeGuestsOrExternalUsers` object) for guests, `None` nobody; groups through
//!   the account's transitive memberships; roles by role template id. Any exclusion
//!   (user, guests, group, role) wins over every inclusion.
//! - **Applications**: `All` or `Office365` cover mail; a policy on specific app ids or
//!   on user actions (`includeUserActions`) does not count as "all cloud apps"; one
//!   that excludes `Office365` does not cover mail.
//! - **Client apps**: none listed or `all` covers every client; legacy clients are
//!   `exchangeActiveSync` + `other`. An MFA policy limited to some client types is
//!   partial.
//! - **Conditions** that narrow a policy — user or sign-in risk levels, platforms,
//!   locations (other than all locations), a device filter — make it partial: shown,
//!   never counted as "always".
//! - **Grants**: `mfa` or an authentication strength requires MFA; with operator `OR`
//!   and another, non-MFA control (`compliantDevice`, ...) it does not (the account
//!   could satisfy the other one), so it is shown as partial. `block` blocks.
//! - **States**: only `enabled` counts; report-only
//!   (`enabledForReportingButNotEnforced`) and `disabled` policies that would apply are
//!   listed in the evidence, marked as not counted.

use super::{Account, Check, GroupNames, Status, usable};
use whalewatch_model::posture::{
    AccountMemberships, CaConditions, ConditionalAccessPolicy, PostureSources, source,
};

/// Whether a policy's user conditions select the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Included, and why.
    Applies(String),
    /// Excluded (exclusions win), and why.
    Excluded(String),
    /// Not included.
    NotIncluded,
    /// It depends on groups or roles whose membership is unknown.
    Undetermined(String),
}

/// What the account's memberships are, if known.
pub struct Membership<'a> {
    /// Transitive groups and roles, when the source is usable and has the account.
    pub known: Option<&'a AccountMemberships>,
    /// Whether the account is a guest.
    pub guest: bool,
}

fn has(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(v))
}

fn group_name(groups: &GroupNames, id: &str) -> String {
    match groups.get(id) {
        Some(n) => format!("group '{n}'"),
        None => format!("group {id}"),
    }
}

/// Whether `conditions` select `account`.
pub fn scope(
    conditions: &CaConditions,
    account: &Account,
    m: &Membership<'_>,
    groups: &GroupNames,
) -> Scope {
    let Some(u) = &conditions.users else {
        return Scope::NotIncluded;
    };
    let id_in = |list: &[String]| account.id.as_deref().is_some_and(|id| has(list, id));
    let group_hit = |list: &[String]| -> Option<Result<String, ()>> {
        if list.is_empty() {
            return None;
        }
        match m.known {
            None => Some(Err(())),
            Some(ms) => list
                .iter()
                .find(|g| has(&ms.group_ids, g))
                .map(|g| Ok(group_name(groups, g))),
        }
    };
    let role_hit = |list: &[String]| -> Option<Result<String, ()>> {
        if list.is_empty() {
            return None;
        }
        match m.known {
            None => Some(Err(())),
            Some(ms) => list
                .iter()
                .find(|r| has(&ms.role_template_ids, r))
                .map(|r| Ok(format!("role {r}"))),
        }
    };
    // Exclusions first: any one wins.
    if id_in(&u.exclude_users) {
        return Scope::Excluded("excluded by user".into());
    }
    if m.guest
        && (has(&u.exclude_users, "GuestsOrExternalUsers")
            || u.exclude_guests_or_external_users.is_some())
    {
        return Scope::Excluded("excluded as a guest or external user".into());
    }
    let mut undetermined = false;
    match group_hit(&u.exclude_groups) {
        Some(Ok(g)) => return Scope::Excluded(format!("excluded through {g} (direct or nested)")),
        Some(Err(())) => undetermined = true,
        None => {}
    }
    match role_hit(&u.exclude_roles) {
        Some(Ok(r)) => return Scope::Excluded(format!("excluded through {r}")),
        Some(Err(())) => undetermined = true,
        None => {}
    }
    let mut included: Option<String> = None;
    if has(&u.include_users, "All") {
        included = Some("all users".into());
    } else if id_in(&u.include_users) {
        included = Some("included by user".into());
    } else if m.guest
        && (has(&u.include_users, "GuestsOrExternalUsers")
            || u.include_guests_or_external_users.is_some())
    {
        included = Some("guests or external users".into());
    }
    if included.is_none() {
        match group_hit(&u.include_groups) {
            Some(Ok(g)) => included = Some(format!("through {g}")),
            Some(Err(())) => undetermined = true,
            None => {}
        }
    }
    if included.is_none() {
        match role_hit(&u.include_roles) {
            Some(Ok(r)) => included = Some(format!("through {r}")),
            Some(Err(())) => undetermined = true,
            None => {}
        }
    }
    match (included, undetermined) {
        (_, true) => Scope::Undetermined("depends on group or role membership".into()),
        (Some(why), false) => Scope::Applies(why),
        (None, false) => Scope::NotIncluded,
    }
}

/// Whether the policy's applications cover mail (all cloud apps or Office 365); the
/// reason when not.
pub fn covers_mail(conditions: &CaConditions) -> Result<(), String> {
    let Some(apps) = &conditions.applications else {
        return Err("no applications".into());
    };
    let all = has(&apps.include_applications, "All");
    let o365 = has(&apps.include_applications, "Office365");
    if !(all || o365) {
        return Err(
            if apps.include_applications.is_empty() && !apps.include_user_actions.is_empty() {
                "user actions only, not sign-ins".into()
            } else {
                "specific applications only, not all cloud apps".into()
            },
        );
    }
    if has(&apps.exclude_applications, "Office365") {
        return Err("excludes Office 365".into());
    }
    Ok(())
}

fn all_clients(c: &CaConditions) -> bool {
    c.client_app_types.is_empty() || has(&c.client_app_types, "all")
}

/// Whether the policy's client app types include both legacy clients.
pub fn covers_legacy(c: &CaConditions) -> bool {
    all_clients(c)
        || (has(&c.client_app_types, "exchangeActiveSync") && has(&c.client_app_types, "other"))
}

fn covers_modern(c: &CaConditions) -> bool {
    all_clients(c)
        || (has(&c.client_app_types, "browser")
            && has(&c.client_app_types, "mobileAppsAndDesktopClients"))
}

fn is_all_list(v: &serde_json::Value, include: &str, exclude: &str) -> bool {
    let list = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    has(&list(include), "All") && list(exclude).is_empty()
}

/// Conditions that make the policy cover only some sign-ins.
pub fn narrowing(c: &CaConditions) -> Vec<String> {
    let mut out = Vec::new();
    if !c.user_risk_levels.is_empty() {
        out.push(format!(
            "only at user risk {}",
            c.user_risk_levels.join("/")
        ));
    }
    if !c.sign_in_risk_levels.is_empty() {
        out.push(format!(
            "only at sign-in risk {}",
            c.sign_in_risk_levels.join("/")
        ));
    }
    if let Some(p) = &c.platforms
        && !p.is_null()
        && !is_all_list(p, "includePlatforms", "excludePlatforms")
    {
        out.push("only some device platforms".into());
    }
    if let Some(l) = &c.locations
        && !l.is_null()
        && !is_all_list(l, "includeLocations", "excludeLocations")
    {
        out.push("only some locations".into());
    }
    if let Some(d) = &c.devices
        && !d.is_null()
    {
        out.push("only devices matching a filter".into());
    }
    out
}

/// What a policy's grant controls demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Blocks access.
    Block,
    /// Requires MFA or an authentication strength.
    Mfa,
    /// MFA OR-ed with a non-MFA alternative.
    MfaOrOther,
    /// Something else (compliant device, password change, ...).
    Other,
}

/// The grant of `p`.
pub fn grant(p: &ConditionalAccessPolicy) -> Grant {
    let Some(g) = &p.grant_controls else {
        return Grant::Other;
    };
    if has(&g.built_in_controls, "block") {
        return Grant::Block;
    }
    let mfa = has(&g.built_in_controls, "mfa") || g.authentication_strength.is_some();
    if !mfa {
        return Grant::Other;
    }
    let others = g
        .built_in_controls
        .iter()
        .any(|c| !c.eq_ignore_ascii_case("mfa"));
    let or = g
        .operator
        .as_deref()
        .is_some_and(|o| o.eq_ignore_ascii_case("OR"));
    if or && others {
        Grant::MfaOrOther
    } else {
        Grant::Mfa
    }
}

fn state_label(p: &ConditionalAccessPolicy) -> &'static str {
    match p.state.as_deref() {
        Some(s) if s.eq_ignore_ascii_case("enabled") => "enabled",
        Some(s) if s.eq_ignore_ascii_case("enabledForReportingButNotEnforced") => "report-only",
        _ => "disabled",
    }
}

fn name(p: &ConditionalAccessPolicy) -> String {
    p.display_name.clone().unwrap_or_else(|| p.id.clone())
}

/// Both Conditional Access checks of one account, and the pane's facts.
pub struct CaOutcome {
    /// `ca-mfa`.
    pub mfa: Check,
    /// `ca-legacy`.
    pub legacy: Check,
    /// `mfa`, `no-mfa`, `report-only`, or empty when unknown.
    pub fact: String,
    /// Whether legacy clients are blocked, when known.
    pub legacy_blocked: Option<bool>,
}

/// Evaluates every policy for `account`.
pub fn evaluate(sources: &PostureSources, account: &Account, groups: &GroupNames) -> CaOutcome {
    if let Err(why) = usable(sources, source::CONDITIONAL_ACCESS) {
        return CaOutcome {
            mfa: Check::unknown("ca-mfa", why.clone()),
            legacy: Check::unknown("ca-legacy", why),
            fact: String::new(),
            legacy_blocked: None,
        };
    }
    // Why group- or role-scoped policies cannot be decided, when they cannot.
    let gap = match usable(sources, source::MEMBERSHIPS) {
        Err(why) => why,
        Ok(()) => "memberships are read for priority accounts only".to_string(),
    };
    let known = if usable(sources, source::MEMBERSHIPS).is_ok() {
        sources
            .memberships
            .iter()
            .find(|m| account.has_id(&m.user_id))
    } else {
        None
    };
    let guest = sources
        .registrations
        .iter()
        .find(|r| account.has_id(&r.id) || account.has_address(&r.user_principal_name))
        .and_then(|r| r.user_type.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("guest"))
        || account.upn.contains("#ext#");
    let m = Membership { known, guest };
    let (mut mfa_ev, mut legacy_ev) = (Vec::new(), Vec::new());
    let (mut mfa_ok, mut legacy_ok) = (false, false);
    let (mut report_only_mfa, mut undetermined) = (false, None::<String>);
    for p in &sources.policies {
        let Some(c) = &p.conditions else { continue };
        let g = grant(p);
        if g == Grant::Other {
            continue;
        }
        let state = state_label(p);
        let who = match scope(c, account, &m, groups) {
            Scope::NotIncluded => continue,
            Scope::Excluded(why) => {
                let line = format!("{state}: '{}' — {why}", name(p));
                if g == Grant::Block && covers_legacy(c) {
                    legacy_ev.push(line);
                } else {
                    mfa_ev.push(line);
                }
                continue;
            }
            Scope::Undetermined(why) => {
                let why = format!("{why}: {gap}");
                if state == "enabled" {
                    undetermined = Some(why.clone());
                }
                mfa_ev.push(format!("{state}: '{}' — {why}", name(p)));
                continue;
            }
            Scope::Applies(why) => why,
        };
        let mut partial = narrowing(c);
        if let Err(why) = covers_mail(c) {
            partial.push(why);
        }
        let counted = state == "enabled";
        let note = if counted { "" } else { " — not counted" };
        match g {
            Grant::Block => {
                if !covers_legacy(c) {
                    continue;
                }
                let mut line =
                    format!("{state}: '{}' blocks legacy clients ({who}){note}", name(p));
                if !partial.is_empty() {
                    line.push_str(&format!(" — partial: {}", partial.join(", ")));
                } else if counted {
                    legacy_ok = true;
                }
                legacy_ev.push(line);
            }
            Grant::Mfa | Grant::MfaOrOther => {
                if !covers_modern(c) {
                    partial.push(format!(
                        "only client apps {}",
                        c.client_app_types.join(", ")
                    ));
                }
                if g == Grant::MfaOrOther {
                    partial.push("MFA OR-ed with another control (no MFA needed)".into());
                }
                let what = match p
                    .grant_controls
                    .as_ref()
                    .and_then(|g| g.authentication_strength.as_ref())
                {
                    Some(s) => format!(
                        "requires authentication strength '{}'",
                        s.display_name.as_deref().unwrap_or("?")
                    ),
                    None => "requires MFA".into(),
                };
                let mut line = format!("{state}: '{}' {what} ({who}){note}", name(p));
                if !partial.is_empty() {
                    line.push_str(&format!(" — partial: {}", partial.join(", ")));
                } else if counted {
                    mfa_ok = true;
                } else if state == "report-only" {
                    report_only_mfa = true;
                }
                mfa_ev.push(line);
            }
            Grant::Other => {}
        }
    }
    let fact = if mfa_ok {
        "mfa"
    } else if report_only_mfa {
        "report-only"
    } else {
        "no-mfa"
    };
    let mut mfa = if mfa_ok {
        Check::new("ca-mfa", Status::Pass, "an enabled policy requires MFA for all cloud apps")
    } else if let Some(why) = &undetermined {
        Check::unknown("ca-mfa", why.clone())
    } else if report_only_mfa {
        Check::new("ca-mfa", Status::Fail, "MFA required only by report-only policies")
    } else {
        Check::new("ca-mfa", Status::Fail, "no enabled policy requires MFA for all cloud apps")
    }
    .remedy("Entra admin centre › Protection › Conditional Access: require MFA (or an authentication strength) for all users and all cloud apps, and remove the account's exclusion; turn report-only policies on");
    if mfa_ev.is_empty() {
        mfa_ev.push("no policy requiring MFA applies".into());
    }
    mfa.evidence = mfa_ev;
    let mut legacy = if legacy_ok {
        Check::new("ca-legacy", Status::Pass, "an enabled policy blocks legacy clients")
    } else if let (Some(why), false) = (&undetermined, legacy_ev.iter().any(|l| l.starts_with("enabled"))) {
        Check::unknown("ca-legacy", why.clone())
    } else if legacy_ev.iter().any(|l| l.starts_with("report-only")) {
        Check::new("ca-legacy", Status::Fail, "legacy clients blocked only by report-only policies")
    } else {
        Check::new("ca-legacy", Status::Fail, "no enabled policy blocks legacy clients")
    }
    .remedy("Entra admin centre › Protection › Conditional Access: block client apps 'Exchange ActiveSync' and 'Other clients' for all users and all cloud apps (template 'Block legacy authentication')");
    if legacy_ev.is_empty() {
        legacy_ev.push("no policy blocking legacy clients applies".into());
    }
    legacy.evidence = legacy_ev;
    CaOutcome {
        legacy_blocked: (legacy.status != Status::Unknown).then_some(legacy_ok),
        fact: if mfa.status == Status::Unknown {
            String::new()
        } else {
            fact.to_string()
        },
        mfa,
        legacy,
    }
}

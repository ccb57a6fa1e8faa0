//! Identity checks: MFA strength from registered methods, legacy sign-ins, risk.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Account, Check, Facts, Status, usable};
use whalewatch_model::posture::{LEGACY_CLIENT_APPS, PostureSources, SignIn, source};

/// How strong the strongest registered method is, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MfaStrength {
    /// FIDO2, Windows Hello, passkeys, certificates, platform credentials.
    PhishingResistant,
    /// Authenticator app or a one-time-passcode token.
    App,
    /// SMS or voice.
    Phone,
    /// Nothing that counts as a second factor (email, security questions, TAP).
    None,
}

impl MfaStrength {
    /// `phishing-resistant`, `app`, `phone`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaStrength::PhishingResistant => "phishing-resistant",
            MfaStrength::App => "app",
            MfaStrength::Phone => "phone",
            MfaStrength::None => "none",
        }
    }
}

/// The strength of one `methodsRegistered` name (compared case-insensitively).
pub fn method_strength(method: &str) -> MfaStrength {
    let m = method.to_ascii_lowercase();
    if m == "fido2"
        || m == "windowshelloforbusiness"
        || m.starts_with("passkey")
        || m.starts_with("x509certificate")
        || m == "platformcredential"
        || m == "macossecureenclavekey"
    {
        MfaStrength::PhishingResistant
    } else if matches!(
        m.as_str(),
        "microsoftauthenticatorpush"
            | "microsoftauthenticatorpasswordless"
            | "softwareonetimepasscode"
            | "hardwareonetimepasscode"
    ) {
        MfaStrength::App
    } else if matches!(
        m.as_str(),
        "mobilephone" | "alternatemobilephone" | "officephone"
    ) {
        MfaStrength::Phone
    } else {
        MfaStrength::None
    }
}

/// `mfa`: the strongest registered method.
pub fn mfa(sources: &PostureSources, account: &Account, facts: &mut Facts) -> Check {
    if let Err(why) = usable(sources, source::MFA) {
        return Check::unknown("mfa", why);
    }
    let reg = sources
        .registrations
        .iter()
        .find(|r| account.has_id(&r.id) || account.has_address(&r.user_principal_name));
    let Some(reg) = reg else {
        facts.mfa = MfaStrength::None.as_str().into();
        let mut c =
            Check::new("mfa", Status::Fail, "no registration record: no MFA method").remedy(REMEDY);
        c.evidence
            .push("userRegistrationDetails has no record for this account".into());
        return c;
    };
    let strongest = reg
        .methods_registered
        .iter()
        .map(|m| method_strength(m))
        .min()
        .unwrap_or(MfaStrength::None);
    facts.mfa = strongest.as_str().into();
    let methods = if reg.methods_registered.is_empty() {
        "none".to_string()
    } else {
        reg.methods_registered.join(", ")
    };
    let mut c = match strongest {
        MfaStrength::PhishingResistant => {
            Check::new("mfa", Status::Pass, "phishing-resistant method registered")
        }
        MfaStrength::App => Check::new("mfa", Status::Pass, "authenticator app registered"),
        MfaStrength::Phone => Check::new("mfa", Status::Warn, "phone (SMS / voice) only"),
        MfaStrength::None => Check::new("mfa", Status::Fail, "no MFA method registered"),
    }
    .remedy(REMEDY);
    c.evidence.push(format!("methods registered: {methods}"));
    if let Some(p) = reg
        .user_preferred_method_for_secondary_authentication
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        c.evidence.push(format!("preferred second factor: {p}"));
    }
    if let Some(capable) = reg.is_mfa_capable {
        c.evidence.push(format!("MFA capable: {capable}"));
    }
    c
}

const REMEDY: &str = "Have the account register a phishing-resistant method (FIDO2 key, Windows Hello, passkey) or the Authenticator app: Entra admin centre › Protection › Authentication methods (and a registration campaign); retire SMS / voice";

/// Whether `client_app_used` names a legacy (basic-authentication) client.
pub fn is_legacy(client_app_used: &str) -> bool {
    LEGACY_CLIENT_APPS
        .iter()
        .any(|l| l.eq_ignore_ascii_case(client_app_used.trim()))
}

/// Whether a sign-in succeeded (no status: nothing says it failed).
pub fn succeeded(s: &SignIn) -> bool {
    s.status
        .as_ref()
        .and_then(|st| st.error_code)
        .is_none_or(|c| c == 0)
}

/// Whether a sign-in is the account's.
pub fn is_of(s: &SignIn, account: &Account) -> bool {
    s.user_id.as_deref().is_some_and(|id| account.has_id(id))
        || s.user_principal_name
            .as_deref()
            .is_some_and(|u| account.has_address(u))
}

/// One sign-in as an evidence line: time, protocol, IP, app, result.
pub fn describe(s: &SignIn) -> String {
    let when = s
        .created_date_time
        .map_or("?".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string());
    let result = if succeeded(s) {
        "success".to_string()
    } else {
        format!(
            "failed ({})",
            s.status
                .as_ref()
                .and_then(|st| st.failure_reason.clone())
                .unwrap_or_else(|| "error".into())
        )
    };
    format!(
        "{when} {} from {} to {} — {result}",
        s.client_app_used.as_deref().unwrap_or("?"),
        s.ip_address.as_deref().unwrap_or("?"),
        s.app_display_name.as_deref().unwrap_or("?"),
    )
}

/// Days of sign-ins the legacy check reads.
pub const LEGACY_DAYS: i64 = 30;

/// `legacy-auth`: legacy-protocol sign-ins in the last 30 days.
pub fn legacy_auth(
    sources: &PostureSources,
    account: &Account,
    now: DateTime<Utc>,
    facts: &mut Facts,
) -> Check {
    if let Err(why) = usable(sources, source::SIGN_INS) {
        return Check::unknown("legacy-auth", why);
    }
    let since = now - TimeDelta::days(LEGACY_DAYS);
    let mut legacy: Vec<&SignIn> = sources
        .sign_ins
        .iter()
        .filter(|s| is_of(s, account))
        .filter(|s| s.created_date_time.is_some_and(|t| t >= since && t <= now))
        .filter(|s| s.client_app_used.as_deref().is_some_and(is_legacy))
        .collect();
    legacy.sort_by_key(|s| std::cmp::Reverse(s.created_date_time));
    facts.legacy_sign_ins = legacy.len();
    facts.last_legacy = legacy.first().and_then(|s| {
        Some((
            s.client_app_used.clone().unwrap_or_default(),
            s.created_date_time?,
        ))
    });
    let ok = legacy.iter().filter(|s| succeeded(s)).count();
    let mut c = if ok > 0 {
        Check::new(
            "legacy-auth",
            Status::Fail,
            format!("{ok} successful legacy sign-in(s) in {LEGACY_DAYS} days"),
        )
    } else if !legacy.is_empty() {
        Check::new(
            "legacy-auth",
            Status::Warn,
            format!("{} failed legacy attempt(s) in {LEGACY_DAYS} days", legacy.len()),
        )
    } else {
        Check::new("legacy-auth", Status::Pass, "no legacy sign-ins in 30 days")
    }
    .remedy("Block legacy authentication in Conditional Access; turn off POP, IMAP and SMTP AUTH for the mailbox (Set-CASMailbox -PopEnabled $false -ImapEnabled $false -SmtpClientAuthenticationDisabled $true); move the client to modern authentication");
    c.evidence = legacy.iter().take(20).map(|s| describe(s)).collect();
    if legacy.len() > 20 {
        c.evidence.push(format!("… and {} more", legacy.len() - 20));
    }
    c
}

/// `risk`: Identity Protection's risk level and state.
pub fn risk(sources: &PostureSources, account: &Account, facts: &mut Facts) -> Check {
    if let Err(why) = usable(sources, source::RISKY_USERS) {
        return Check::unknown("risk", why);
    }
    let Some(r) = sources.risky_users.iter().find(|r| {
        account.has_id(&r.id)
            || r.user_principal_name
                .as_deref()
                .is_some_and(|u| account.has_address(u))
    }) else {
        facts.risk = "none".into();
        return Check::new("risk", Status::Pass, "not a risky user");
    };
    let level = r
        .risk_level
        .as_deref()
        .unwrap_or("none")
        .to_ascii_lowercase();
    let state = r.risk_state.as_deref().unwrap_or("none");
    let closed = ["remediated", "dismissed", "confirmedSafe"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(state));
    facts.risk = if closed { "none".into() } else { level.clone() };
    let status =
        if !closed && (level == "high" || state.eq_ignore_ascii_case("confirmedCompromised")) {
            Status::Fail
        } else if state.eq_ignore_ascii_case("atRisk") && (level == "medium" || level == "low") {
            Status::Warn
        } else {
            Status::Pass
        };
    let mut c = Check::new("risk", status, format!("risk {level}, {state}")).remedy(
        "Entra admin centre › Protection › Identity Protection › Risky users: investigate, reset the password and revoke sessions, then confirm compromised or dismiss",
    );
    c.evidence.push(format!(
        "risk level {level}, state {state}, detail {}",
        r.risk_detail.as_deref().unwrap_or("none")
    ));
    if let Some(t) = r.risk_last_updated_date_time {
        c.evidence
            .push(format!("last updated {}", t.format("%Y-%m-%d %H:%M")));
    }
    c
}

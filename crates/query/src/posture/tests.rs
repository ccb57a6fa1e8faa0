//! One test per Conditional Access case and per check.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use super::*;
use whalewatch_model::posture::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

fn vip() -> Account {
    Account {
        upn: "ceo@contoso.com".into(),
        id: Some("u-ceo".into()),
        display_name: Some("Chief".into()),
        addresses: vec!["ceo@contoso.com".into()],
    }
}

/// Every source fresh and empty.
fn fresh() -> PostureSources {
    let mut s = PostureSources::default();
    for n in source::ALL {
        s.availability
            .insert(n.into(), SourceAvailability::Fresh { as_of: now() });
    }
    s.memberships.push(AccountMemberships {
        user_id: "u-ceo".into(),
        group_ids: vec!["g-vip".into(), "g-nested".into()],
        role_template_ids: vec!["r-ga".into()],
    });
    s
}

fn users(include: &[&str], exclude: &[&str]) -> CaUsers {
    CaUsers {
        include_users: include.iter().map(|s| s.to_string()).collect(),
        exclude_users: exclude.iter().map(|s| s.to_string()).collect(),
        ..CaUsers::default()
    }
}

fn policy(name: &str, state: &str, u: CaUsers, grant: &[&str]) -> ConditionalAccessPolicy {
    ConditionalAccessPolicy {
        id: name.into(),
        display_name: Some(name.into()),
        state: Some(state.into()),
        conditions: Some(CaConditions {
            users: Some(u),
            applications: Some(CaApplications {
                include_applications: vec!["All".into()],
                ..CaApplications::default()
            }),
            client_app_types: vec!["all".into()],
            ..CaConditions::default()
        }),
        grant_controls: Some(CaGrantControls {
            operator: Some("OR".into()),
            built_in_controls: grant.iter().map(|s| s.to_string()).collect(),
            authentication_strength: None,
        }),
        modified_date_time: None,
    }
}

fn mfa_all(state: &str) -> ConditionalAccessPolicy {
    policy("Require MFA", state, users(&["All"], &[]), &["mfa"])
}

fn legacy_block(state: &str) -> ConditionalAccessPolicy {
    let mut p = policy("Block legacy auth", state, users(&["All"], &[]), &["block"]);
    p.conditions.as_mut().unwrap().client_app_types =
        vec!["exchangeActiveSync".into(), "other".into()];
    p
}

fn ca(s: &PostureSources) -> (Status, Status, Vec<String>) {
    let o = ca::evaluate(s, &vip(), &GroupNames::new());
    (o.mfa.status, o.legacy.status, o.mfa.evidence)
}

fn with(policies: Vec<ConditionalAccessPolicy>) -> PostureSources {
    let mut s = fresh();
    s.policies = policies;
    s
}

#[test]
fn ca_all_users_enabled_requires_mfa_and_blocks_legacy() {
    let (m, l, _) = ca(&with(vec![mfa_all("enabled"), legacy_block("enabled")]));
    assert_eq!((m, l), (Status::Pass, Status::Pass));
}

#[test]
fn ca_by_user_id_applies() {
    let p = policy("VIP MFA", "enabled", users(&["u-ceo"], &[]), &["mfa"]);
    assert_eq!(ca(&with(vec![p])).0, Status::Pass);
    let other = policy("Other MFA", "enabled", users(&["u-else"], &[]), &["mfa"]);
    assert_eq!(ca(&with(vec![other])).0, Status::Fail);
}

#[test]
fn ca_none_includes_nobody() {
    let p = policy("Nobody", "enabled", users(&["None"], &[]), &["mfa"]);
    assert_eq!(ca(&with(vec![p])).0, Status::Fail);
}

#[test]
fn ca_exclusion_by_user_wins_over_all() {
    let p = policy(
        "Require MFA",
        "enabled",
        users(&["All"], &["u-ceo"]),
        &["mfa"],
    );
    let (m, _, ev) = ca(&with(vec![p]));
    assert_eq!(m, Status::Fail);
    assert!(ev[0].contains("excluded by user"), "{ev:?}");
}

#[test]
fn ca_group_inclusion_is_transitive_through_memberships() {
    let mut u = users(&[], &[]);
    u.include_groups = vec!["g-nested".into()];
    let p = policy("Group MFA", "enabled", u, &["mfa"]);
    assert_eq!(ca(&with(vec![p])).0, Status::Pass);
}

#[test]
fn ca_group_exclusion_names_the_group() {
    let mut u = users(&["All"], &[]);
    u.exclude_groups = vec!["g-nested".into()];
    let p = policy("Require MFA", "enabled", u, &["mfa"]);
    let s = with(vec![p]);
    let groups: GroupNames = [("g-nested".to_string(), "MFA exclusions".to_string())].into();
    let o = ca::evaluate(&s, &vip(), &groups);
    assert_eq!(o.mfa.status, Status::Fail);
    assert!(
        o.mfa.evidence[0].contains("excluded through group 'MFA exclusions'"),
        "{:?}",
        o.mfa.evidence
    );
}

#[test]
fn ca_role_inclusion_and_exclusion() {
    let mut u = users(&[], &[]);
    u.include_roles = vec!["r-ga".into()];
    assert_eq!(
        ca(&with(vec![policy(
            "Admins",
            "enabled",
            u.clone(),
            &["mfa"]
        )]))
        .0,
        Status::Pass
    );
    let mut x = users(&["All"], &[]);
    x.exclude_roles = vec!["r-ga".into()];
    assert_eq!(
        ca(&with(vec![policy("All but GA", "enabled", x, &["mfa"])])).0,
        Status::Fail
    );
}

#[test]
fn ca_groups_without_memberships_are_unknown() {
    let mut u = users(&[], &[]);
    u.include_groups = vec!["g-vip".into()];
    let mut s = with(vec![policy("Group MFA", "enabled", u, &["mfa"])]);
    s.availability.insert(
        source::MEMBERSHIPS.into(),
        SourceAvailability::Unavailable {
            grant: "Directory.Read.All".into(),
            message: String::new(),
        },
    );
    let o = ca::evaluate(&s, &vip(), &GroupNames::new());
    assert_eq!(o.mfa.status, Status::Unknown);
    assert!(
        o.mfa.summary.contains("grant Directory.Read.All"),
        "{}",
        o.mfa.summary
    );
}

#[test]
fn ca_guests_include_and_exclude() {
    let mut s = with(vec![policy(
        "Guests MFA",
        "enabled",
        users(&["GuestsOrExternalUsers"], &[]),
        &["mfa"],
    )]);
    assert_eq!(ca(&s).0, Status::Fail, "a member is not a guest");
    s.registrations.push(MfaRegistration {
        id: "u-ceo".into(),
        user_type: Some("guest".into()),
        ..MfaRegistration::default()
    });
    assert_eq!(ca(&s).0, Status::Pass);
    let mut u = users(&["All"], &[]);
    u.exclude_guests_or_external_users =
        Some(json!({"guestOrExternalUserTypes": "b2bCollaborationGuest"}));
    s.policies = vec![policy("All but guests", "enabled", u, &["mfa"])];
    assert_eq!(ca(&s).0, Status::Fail);
}

#[test]
fn ca_specific_apps_or_user_actions_are_not_all_cloud_apps() {
    let mut p = mfa_all("enabled");
    p.conditions.as_mut().unwrap().applications = Some(CaApplications {
        include_applications: vec!["00000002-0000-0ff1-ce00-000000000000".into()],
        ..CaApplications::default()
    });
    assert_eq!(ca(&with(vec![p.clone()])).0, Status::Fail);
    p.conditions.as_mut().unwrap().applications = Some(CaApplications {
        include_user_actions: vec!["urn:user:registersecurityinfo".into()],
        ..CaApplications::default()
    });
    assert_eq!(ca(&with(vec![p.clone()])).0, Status::Fail);
    p.conditions.as_mut().unwrap().applications = Some(CaApplications {
        include_applications: vec!["Office365".into()],
        ..CaApplications::default()
    });
    assert_eq!(ca(&with(vec![p])).0, Status::Pass, "Office365 covers mail");
}

#[test]
fn ca_legacy_block_needs_both_legacy_client_types() {
    let mut p = legacy_block("enabled");
    p.conditions.as_mut().unwrap().client_app_types = vec!["exchangeActiveSync".into()];
    assert_eq!(ca(&with(vec![p.clone()])).1, Status::Fail);
    p.conditions.as_mut().unwrap().client_app_types = vec!["all".into()];
    assert_eq!(ca(&with(vec![p])).1, Status::Pass);
}

#[test]
fn ca_risk_conditions_are_not_always() {
    let mut p = mfa_all("enabled");
    p.conditions.as_mut().unwrap().sign_in_risk_levels = vec!["high".into()];
    let (m, _, ev) = ca(&with(vec![p.clone()]));
    assert_eq!(m, Status::Fail);
    assert!(
        ev[0].contains("partial: only at sign-in risk high"),
        "{ev:?}"
    );
    p.conditions.as_mut().unwrap().sign_in_risk_levels.clear();
    p.conditions.as_mut().unwrap().user_risk_levels = vec!["high".into()];
    assert_eq!(ca(&with(vec![p])).0, Status::Fail);
}

#[test]
fn ca_platform_location_device_conditions_are_partial() {
    for (field, value) in [
        ("platforms", json!({"includePlatforms": ["android"]})),
        (
            "locations",
            json!({"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}),
        ),
        (
            "devices",
            json!({"deviceFilter": {"mode": "include", "rule": "device.isCompliant -eq True"}}),
        ),
    ] {
        let mut p = mfa_all("enabled");
        let c = p.conditions.as_mut().unwrap();
        match field {
            "platforms" => c.platforms = Some(value),
            "locations" => c.locations = Some(value),
            _ => c.devices = Some(value),
        }
        assert_eq!(ca(&with(vec![p])).0, Status::Fail, "{field}");
    }
    let mut p = mfa_all("enabled");
    p.conditions.as_mut().unwrap().locations =
        Some(json!({"includeLocations": ["All"], "excludeLocations": []}));
    assert_eq!(
        ca(&with(vec![p])).0,
        Status::Pass,
        "all locations is not a narrowing"
    );
}

#[test]
fn ca_grant_mfa_or_compliant_device_is_weaker() {
    let p = policy(
        "MFA or compliant",
        "enabled",
        users(&["All"], &[]),
        &["mfa", "compliantDevice"],
    );
    let (m, _, ev) = ca(&with(vec![p.clone()]));
    assert_eq!(m, Status::Fail);
    assert!(ev[0].contains("OR-ed"), "{ev:?}");
    let mut and = p;
    and.grant_controls.as_mut().unwrap().operator = Some("AND".into());
    assert_eq!(ca(&with(vec![and])).0, Status::Pass);
}

#[test]
fn ca_authentication_strength_counts_as_mfa() {
    let mut p = policy("Phishing-resistant", "enabled", users(&["All"], &[]), &[]);
    p.grant_controls.as_mut().unwrap().authentication_strength = Some(CaAuthenticationStrength {
        id: Some("00000000-0000-0000-0000-000000000004".into()),
        display_name: Some("Phishing-resistant MFA".into()),
        requirements_satisfied: Some("mfa".into()),
    });
    let (m, _, ev) = ca(&with(vec![p]));
    assert_eq!(m, Status::Pass);
    assert!(ev[0].contains("Phishing-resistant MFA"));
}

#[test]
fn ca_report_only_and_disabled_are_shown_never_counted() {
    let o = ca::evaluate(
        &with(vec![
            mfa_all("enabledForReportingButNotEnforced"),
            legacy_block("disabled"),
        ]),
        &vip(),
        &GroupNames::new(),
    );
    assert_eq!(o.mfa.status, Status::Fail);
    assert_eq!(o.fact, "report-only");
    assert!(
        o.mfa.evidence[0].starts_with("report-only: 'Require MFA'"),
        "{:?}",
        o.mfa.evidence
    );
    assert!(o.mfa.evidence[0].ends_with("not counted"));
    assert_eq!(o.legacy.status, Status::Fail);
    assert!(o.legacy.evidence[0].starts_with("disabled: 'Block legacy auth'"));
}

#[test]
fn ca_unavailable_source_is_unknown_and_names_the_grant() {
    let mut s = fresh();
    s.availability.insert(
        source::CONDITIONAL_ACCESS.into(),
        SourceAvailability::Unavailable {
            grant: "Policy.Read.All".into(),
            message: "403".into(),
        },
    );
    let p = evaluate_account(&s, &vip(), &GroupNames::new(), now());
    assert_eq!(p.check("ca-mfa").unwrap().status, Status::Unknown);
    assert!(
        p.check("ca-mfa")
            .unwrap()
            .summary
            .contains("grant Policy.Read.All")
    );
    assert!(p.unknown.contains(&"ca-legacy"));
}

fn reg(methods: &[&str]) -> PostureSources {
    let mut s = fresh();
    s.registrations.push(MfaRegistration {
        id: "u-ceo".into(),
        user_principal_name: "CEO@contoso.com".into(),
        methods_registered: methods.iter().map(|m| m.to_string()).collect(),
        ..MfaRegistration::default()
    });
    s
}

fn status(s: &PostureSources, id: &str) -> Status {
    evaluate_account(s, &vip(), &GroupNames::new(), now())
        .check(id)
        .unwrap()
        .status
}

#[test]
fn mfa_strength_from_methods() {
    assert_eq!(status(&reg(&["fido2", "mobilePhone"]), "mfa"), Status::Pass);
    assert_eq!(status(&reg(&["passKeyDeviceBound"]), "mfa"), Status::Pass);
    assert_eq!(
        status(&reg(&["microsoftAuthenticatorPush"]), "mfa"),
        Status::Pass
    );
    assert_eq!(status(&reg(&["mobilePhone", "email"]), "mfa"), Status::Warn);
    assert_eq!(
        status(
            &reg(&["email", "securityQuestion", "temporaryAccessPass"]),
            "mfa"
        ),
        Status::Fail
    );
    assert_eq!(status(&reg(&[]), "mfa"), Status::Fail);
    assert_eq!(status(&fresh(), "mfa"), Status::Fail, "no record");
    assert_eq!(
        identity::method_strength("x509CertificateMultiFactor"),
        identity::MfaStrength::PhishingResistant
    );
}

fn sign_in(app: &str, days_ago: i64, code: i64) -> SignIn {
    SignIn {
        id: format!("{app}{days_ago}"),
        created_date_time: Some(now() - chrono::TimeDelta::days(days_ago)),
        user_id: Some("u-ceo".into()),
        client_app_used: Some(app.into()),
        ip_address: Some("203.0.113.9".into()),
        app_display_name: Some("Office 365 Exchange Online".into()),
        status: Some(SignInStatus {
            error_code: Some(code),
            failure_reason: None,
        }),
        ..SignIn::default()
    }
}

#[test]
fn legacy_auth_success_fails_failed_attempts_warn_old_ones_pass() {
    let mut s = fresh();
    s.sign_ins = vec![sign_in("IMAP4", 3, 0), sign_in("Browser", 1, 0)];
    let p = evaluate_account(&s, &vip(), &GroupNames::new(), now());
    let c = p.check("legacy-auth").unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence[0].contains("IMAP4 from 203.0.113.9"),
        "{:?}",
        c.evidence
    );
    assert_eq!(p.facts.legacy_sign_ins, 1);
    s.sign_ins = vec![sign_in("Authenticated SMTP", 3, 50126)];
    assert_eq!(status(&s, "legacy-auth"), Status::Warn);
    s.sign_ins = vec![sign_in("POP3", 40, 0)];
    assert_eq!(status(&s, "legacy-auth"), Status::Pass);
}

fn risky(level: &str, state: &str) -> PostureSources {
    let mut s = fresh();
    s.risky_users.push(RiskyUser {
        id: "u-ceo".into(),
        risk_level: Some(level.into()),
        risk_state: Some(state.into()),
        ..RiskyUser::default()
    });
    s
}

#[test]
fn risk_levels_and_states() {
    assert_eq!(status(&risky("high", "atRisk"), "risk"), Status::Fail);
    assert_eq!(
        status(&risky("none", "confirmedCompromised"), "risk"),
        Status::Fail
    );
    assert_eq!(status(&risky("high", "remediated"), "risk"), Status::Pass);
    assert_eq!(status(&risky("medium", "atRisk"), "risk"), Status::Warn);
    assert_eq!(status(&risky("low", "atRisk"), "risk"), Status::Warn);
    assert_eq!(status(&fresh(), "risk"), Status::Pass);
}

fn rule(
    preset: &str,
    kind: &str,
    sent_to: &[&str],
    groups: &[&str],
    except: &[&str],
) -> PresetRule {
    PresetRule {
        name: format!("{preset} Preset Security Policy"),
        preset: preset.into(),
        kind: kind.into(),
        state: "Enabled".into(),
        sent_to: sent_to.iter().map(|s| s.to_string()).collect(),
        sent_to_member_of: groups.iter().map(|s| s.to_string()).collect(),
        except_if_sent_to: except.iter().map(|s| s.to_string()).collect(),
        ..PresetRule::default()
    }
}

fn snapshot(rules: Vec<PresetRule>) -> PostureSources {
    let mut s = fresh();
    s.exchange = Some(ExchangeSnapshot {
        schema: EXCHANGE_SNAPSHOT_SCHEMA.into(),
        preset_rules: rules,
        group_members: [("VIPs".to_string(), vec!["ceo@contoso.com".to_string()])].into(),
        smtp_client_authentication_disabled: Some(true),
        audit_disabled: Some(false),
        mailboxes: vec![MailboxSettings {
            primary_smtp_address: "ceo@contoso.com".into(),
            pop_enabled: Some(false),
            imap_enabled: Some(false),
            audit_enabled: Some(true),
            ..MailboxSettings::default()
        }],
        ..ExchangeSnapshot::default()
    });
    s
}

#[test]
fn strict_preset_needs_eop_and_atp() {
    let both = snapshot(vec![
        rule("Strict", "EOP", &["ceo@contoso.com"], &[], &[]),
        rule("Strict", "ATP", &[], &["VIPs"], &[]),
    ]);
    assert_eq!(status(&both, "strict-preset"), Status::Pass);
    let eop_only = snapshot(vec![rule("Strict", "EOP", &["ceo@contoso.com"], &[], &[])]);
    assert_eq!(status(&eop_only, "strict-preset"), Status::Fail);
    let mut disabled = both.clone();
    disabled.exchange.as_mut().unwrap().preset_rules[1].state = "Disabled".into();
    assert_eq!(status(&disabled, "strict-preset"), Status::Fail);
}

#[test]
fn strict_preset_conditions_are_anded_and_exceptions_exclude() {
    // SentTo matches but RecipientDomainIs does not: ANDed, so not covered.
    let mut r = rule("Strict", "EOP", &["ceo@contoso.com"], &[], &[]);
    r.recipient_domain_is = vec!["fabrikam.com".into()];
    let s = snapshot(vec![
        r,
        rule("Strict", "ATP", &["ceo@contoso.com"], &[], &[]),
    ]);
    assert_eq!(status(&s, "strict-preset"), Status::Fail);
    let excluded = snapshot(vec![
        rule("Strict", "EOP", &[], &["VIPs"], &["ceo@contoso.com"]),
        rule("Strict", "ATP", &[], &["VIPs"], &[]),
    ]);
    let p = evaluate_account(&excluded, &vip(), &GroupNames::new(), now());
    assert_eq!(p.check("strict-preset").unwrap().status, Status::Fail);
    assert_eq!(p.facts.strict, "excluded");
}

#[test]
fn standard_preset_only_warns_and_strict_takes_precedence() {
    let standard = snapshot(vec![
        rule("Standard", "EOP", &["ceo@contoso.com"], &[], &[]),
        rule("Standard", "ATP", &["ceo@contoso.com"], &[], &[]),
    ]);
    assert_eq!(status(&standard, "strict-preset"), Status::Warn);
    let mut both = standard.clone();
    both.exchange.as_mut().unwrap().preset_rules.extend([
        rule("Strict", "EOP", &["ceo@contoso.com"], &[], &[]),
        rule("Strict", "ATP", &["ceo@contoso.com"], &[], &[]),
    ]);
    let p = evaluate_account(&both, &vip(), &GroupNames::new(), now());
    assert_eq!(p.check("strict-preset").unwrap().status, Status::Pass);
    assert!(
        p.check("strict-preset")
            .unwrap()
            .evidence
            .iter()
            .any(|e| e.contains("precedence"))
    );
}

#[test]
fn protocols_use_mailbox_value_else_org_default() {
    let s = snapshot(vec![]);
    assert_eq!(status(&s, "protocols"), Status::Pass);
    let mut imap = s.clone();
    imap.exchange.as_mut().unwrap().mailboxes[0].imap_enabled = Some(true);
    assert_eq!(status(&imap, "protocols"), Status::Fail);
    let mut org = s.clone();
    org.exchange
        .as_mut()
        .unwrap()
        .smtp_client_authentication_disabled = Some(false);
    assert_eq!(
        status(&org, "protocols"),
        Status::Fail,
        "org default enables SMTP AUTH"
    );
    org.exchange.as_mut().unwrap().mailboxes[0].smtp_client_authentication_disabled = Some(true);
    assert_eq!(
        status(&org, "protocols"),
        Status::Pass,
        "the mailbox value wins"
    );
}

#[test]
fn audit_off_warns() {
    let s = snapshot(vec![]);
    assert_eq!(status(&s, "audit"), Status::Pass);
    let mut off = s.clone();
    off.exchange.as_mut().unwrap().mailboxes[0].audit_enabled = Some(false);
    assert_eq!(status(&off, "audit"), Status::Warn);
    let mut org = s;
    org.exchange.as_mut().unwrap().audit_disabled = Some(true);
    assert_eq!(status(&org, "audit"), Status::Warn);
}

#[test]
fn email_issues_count_failed_pending_quarantined_in_7_days() {
    let mut s = fresh();
    let t = |status: &str, days: i64| MessageTrace {
        id: format!("{status}{days}"),
        received_date_time: Some(now() - chrono::TimeDelta::days(days)),
        sender_address: Some("x@fabrikam.com".into()),
        recipient_address: Some("CEO@contoso.com".into()),
        status: Some(status.into()),
        ..MessageTrace::default()
    };
    s.traces = vec![t("Delivered", 1), t("filteredAsSpam", 1), t("failed", 10)];
    assert_eq!(status(&s, "email-issues"), Status::Pass);
    s.traces.push(t("Pending", 2));
    assert_eq!(status(&s, "email-issues"), Status::Warn);
}

#[test]
fn verdict_fail_warn_pass_and_unknown_counts_as_warn() {
    // Everything missing: every check unknown → warn, nothing failing.
    let p = evaluate_account(
        &PostureSources::default(),
        &vip(),
        &GroupNames::new(),
        now(),
    );
    assert_eq!(p.verdict, Verdict::Warn);
    assert_eq!(p.unknown.len(), CHECK_IDS.len());
    assert!(p.failing.is_empty());
    // A fully protected account passes.
    let mut s = snapshot(vec![
        rule("Strict", "EOP", &["ceo@contoso.com"], &[], &[]),
        rule("Strict", "ATP", &["ceo@contoso.com"], &[], &[]),
    ]);
    s.policies = vec![mfa_all("enabled"), legacy_block("enabled")];
    s.registrations = reg(&["fido2"]).registrations;
    let p = evaluate_account(&s, &vip(), &GroupNames::new(), now());
    assert_eq!(
        (p.verdict, p.failing.clone(), p.unknown.clone()),
        (Verdict::Pass, vec![], vec![])
    );
    // Gaps: failing ids in CHECK_IDS order.
    s.policies.clear();
    s.registrations = reg(&["email"]).registrations;
    let p = evaluate_account(&s, &vip(), &GroupNames::new(), now());
    assert_eq!(p.verdict, Verdict::Fail);
    assert_eq!(p.failing, vec!["mfa", "ca-mfa", "ca-legacy"]);
    let ids: Vec<&str> = p.checks.iter().map(|c| c.id).collect();
    assert_eq!(ids, CHECK_IDS.to_vec());
}

#[test]
fn evaluate_sorts_worst_first() {
    let mut s = fresh();
    s.registrations = reg(&["fido2"]).registrations;
    let other = Account {
        upn: "aa@contoso.com".into(),
        id: Some("u-aa".into()),
        display_name: None,
        addresses: vec!["aa@contoso.com".into()],
    };
    s.memberships.push(AccountMemberships {
        user_id: "u-aa".into(),
        ..AccountMemberships::default()
    });
    let out = evaluate(&s, &[other, vip()], &GroupNames::new(), now());
    assert!(out[0].verdict <= out[1].verdict);
    assert_eq!(
        out[0].account.upn, "aa@contoso.com",
        "aa has no MFA: more failing"
    );
}

#[test]
fn checklist_reads_controls_and_own_checks() {
    let mut s = fresh();
    s.controls = vec![SecureScoreControl {
        id: "CustomerLockBoxEnabled".into(),
        title: Some("Ensure the customer lockbox feature is enabled".into()),
        max_score: Some(1.0),
        remediation: Some("<p>Turn on <b>Customer Lockbox</b>.</p>".into()),
        ..SecureScoreControl::default()
    }];
    s.scores = (0..3)
        .map(|i| SecureScore {
            current_score: Some(40.0 + f64::from(i)),
            max_score: Some(100.0),
            control_scores: vec![ControlScore {
                control_name: "CustomerLockBoxEnabled".into(),
                score: Some(0.0),
                ..ControlScore::default()
            }],
            ..SecureScore::default()
        })
        .collect();
    let c = checklist(&s, &[]);
    assert_eq!((c.score, c.max), (Some(42.0), Some(100.0)));
    assert_eq!(c.sparkline, "▁▅█");
    let lockbox = c
        .practices
        .iter()
        .find(|p| p.name == "Customer Lockbox")
        .unwrap();
    assert_eq!(lockbox.status, Status::Fail);
    assert_eq!(lockbox.remediation, "Turn on Customer Lockbox.");
    let dlp = c
        .practices
        .iter()
        .find(|p| p.name == "Data loss prevention")
        .unwrap();
    assert_eq!(dlp.status, Status::Unknown);
    assert_eq!(
        c.practices
            .iter()
            .find(|p| p.name == "Secure Score")
            .unwrap()
            .status,
        Status::Warn
    );
}

#[test]
fn accounts_of_matches_directory_by_mail_or_upn() {
    let u = whalewatch_model::directory::User {
        id: "u-ceo".into(),
        user_principal_name: Some("CEO@contoso.onmicrosoft.com".into()),
        mail: Some("CEO@contoso.com".into()),
        ..Default::default()
    };
    let out = accounts_of(
        &[u],
        &["ceo@contoso.com".into(), "ghost@contoso.com".into()],
    );
    assert_eq!(out[0].upn, "ceo@contoso.onmicrosoft.com");
    assert!(out[0].has_address("ceo@contoso.com"));
    assert_eq!(out[1].id, None);
}

#[test]
fn accounts_judged_alike_share_one_list_of_checks() {
    // The CEO has a registration (a passing `mfa`); two accounts without any record
    // are judged alike and must share their checks, and each keeps its own result.
    let s = reg(&["fido2"]);
    let other = |upn: &str| Account {
        upn: upn.into(),
        id: None,
        display_name: None,
        addresses: vec![upn.into()],
    };
    let out = evaluate(
        &s,
        &[vip(), other("a@contoso.com"), other("b@contoso.com")],
        &GroupNames::new(),
        now(),
    );
    let by = |upn: &str| out.iter().find(|p| p.account.upn == upn).unwrap();
    let (ceo, a, b) = (
        by("ceo@contoso.com"),
        by("a@contoso.com"),
        by("b@contoso.com"),
    );
    assert!(std::sync::Arc::ptr_eq(&a.checks, &b.checks));
    assert!(!std::sync::Arc::ptr_eq(&a.checks, &ceo.checks));
    assert_eq!(ceo.check("mfa").unwrap().status, Status::Pass);
    // Not read for them (no memberships record): unknown, not failing.
    assert_eq!(a.check("mfa").unwrap().status, Status::Unknown);
    for p in [ceo, a, b] {
        assert_eq!(
            *p,
            evaluate_account(&s, &p.account, &GroupNames::new(), now())
        );
    }
}

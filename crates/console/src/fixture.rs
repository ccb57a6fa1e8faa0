//! A small, deterministic cache filled through the real pipeline (the simulator on
//! loopback, `sync::refresh`), for the console's unit tests, snapshot tests and
//! benchmarks. Hidden from the docs: it is test support, not an API.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};

use whalewatch_cache::{Cache, cache_file};
use whalewatch_sim::params::WorldParams;
use whalewatch_sim::server::{SimConfig, SimServer};
use whalewatch_sync::{RefreshOptions, connect, refresh};

/// "Now" of the fixture world: every relative time in tests is measured from it.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A world of `rows` EmailEvents rows over 10 days.
pub fn params(seed: u64, rows: u32) -> WorldParams {
    WorldParams {
        seed,
        now: now(),
        users: 300,
        days: 10,
        emails_per_day: rows / 10,
    }
}

/// Generates the world, serves it on loopback and refreshes it into a cache under
/// `dir`; returns the cache file.
pub fn build(dir: &Path, params: WorldParams) -> anyhow::Result<PathBuf> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut config = SimConfig::new(params);
        config.hunting_calls_per_minute = 100_000;
        let server = SimServer::start("127.0.0.1:0".parse()?, config).await?;
        let profile = whalewatch_sim::demo::profile(&server, dir)?;
        let client = connect::client_with(
            &profile,
            whalewatch_sim::demo::credential(&server),
            None,
            false,
        )?;
        let path = cache_file(dir, "fixture");
        let cache = Cache::open(&path)?;
        let options = RefreshOptions {
            hunting_calls_per_minute: 100_000,
            ..RefreshOptions::default()
        };
        refresh(&client, cache, &profile, &options, &|_| {}).await?;
        server.shutdown().await;
        Ok(path)
    })
}

/// Hand-built posture sources for the fixture's priority accounts (sorted by UPN),
/// planting every gap with a known answer:
/// - the 1st: email only (no MFA), excluded from the MFA and legacy-block policies
///   through group 'MFA exclusions', a successful IMAP sign-in, POP on → fail;
/// - the 2nd: phone only, a failed SMTP attempt, Standard preset only, a pending
///   message → warn;
/// - the 3rd: high risk, outside every preset → fail;
/// - the 4th: medium risk, mailbox audit off → warn;
/// - the rest: FIDO2, covered by everything → pass.
///
/// Also a report-only legacy-auth block (shown, not counted) and 90 days of Secure
/// Score with controls not implemented.
pub fn posture_sources(
    users: &[whalewatch_model::directory::User],
    vips: &[String],
    now: DateTime<Utc>,
) -> whalewatch_model::posture::PostureSources {
    use whalewatch_model::posture::*;
    let mut accounts = whalewatch_query::posture::accounts_of(users, vips);
    accounts.sort_by(|a, b| a.upn.cmp(&b.upn));
    let id = |i: usize| {
        accounts
            .get(i)
            .and_then(|a| a.id.clone())
            .unwrap_or_default()
    };
    let addr = |i: usize| {
        accounts
            .get(i)
            .and_then(|a| a.addresses.last().cloned())
            .unwrap_or_default()
    };
    let day = |d: i64| now - chrono::TimeDelta::days(d);
    let mut s = PostureSources::default();
    for n in source::ALL {
        s.availability
            .insert(n.to_string(), SourceAvailability::Fresh { as_of: now });
    }
    for (i, a) in accounts.iter().enumerate() {
        let methods: &[&str] = match i {
            0 => &["email"],
            1 => &["mobilePhone"],
            _ => &["fido2", "microsoftAuthenticatorPush"],
        };
        s.registrations.push(MfaRegistration {
            id: id(i),
            user_principal_name: a.upn.clone(),
            methods_registered: methods.iter().map(|m| m.to_string()).collect(),
            is_mfa_capable: Some(i != 0),
            user_type: Some("member".into()),
            ..MfaRegistration::default()
        });
        s.memberships.push(AccountMemberships {
            user_id: id(i),
            group_ids: if i == 0 {
                vec!["g-mfa-excl".into()]
            } else {
                Vec::new()
            },
            role_template_ids: Vec::new(),
        });
        s.sign_ins.push(SignIn {
            id: format!("si-{i}-browser"),
            created_date_time: Some(day(1)),
            user_id: Some(id(i)),
            user_principal_name: Some(a.upn.clone()),
            app_display_name: Some("Office 365 Exchange Online".into()),
            client_app_used: Some("Browser".into()),
            ip_address: Some(format!("198.51.100.{}", i + 1)),
            location: Some(SignInLocation {
                city: Some("Seattle".into()),
                state: Some("Washington".into()),
                country_or_region: Some("US".into()),
            }),
            status: Some(SignInStatus {
                error_code: Some(0),
                failure_reason: None,
            }),
            conditional_access_status: Some("success".into()),
        });
    }
    let legacy = |i: usize, app: &str, code: i64, reason: Option<&str>, d: i64| SignIn {
        id: format!("si-{i}-{app}"),
        created_date_time: Some(day(d)),
        user_id: Some(id(i)),
        user_principal_name: accounts.get(i).map(|a| a.upn.clone()),
        app_display_name: Some("Office 365 Exchange Online".into()),
        client_app_used: Some(app.into()),
        ip_address: Some("203.0.113.77".into()),
        location: Some(SignInLocation {
            city: Some("Lagos".into()),
            state: None,
            country_or_region: Some("NG".into()),
        }),
        status: Some(SignInStatus {
            error_code: Some(code),
            failure_reason: reason.map(str::to_string),
        }),
        conditional_access_status: Some("notApplied".into()),
    };
    s.sign_ins.push(legacy(0, "IMAP4", 0, None, 2));
    s.sign_ins.push(legacy(
        1,
        "Authenticated SMTP",
        50126,
        Some("Invalid username or password"),
        3,
    ));
    s.sign_ins
        .sort_by_key(|x| std::cmp::Reverse(x.created_date_time));
    let all_users = |exclude_group: bool| CaUsers {
        include_users: vec!["All".into()],
        exclude_groups: if exclude_group {
            vec!["g-mfa-excl".into()]
        } else {
            Vec::new()
        },
        ..CaUsers::default()
    };
    let apps = || {
        Some(CaApplications {
            include_applications: vec!["All".into()],
            ..CaApplications::default()
        })
    };
    let policy =
        |id: &str, name: &str, state: &str, users: CaUsers, clients: &[&str], grant: &str| {
            ConditionalAccessPolicy {
                id: id.into(),
                display_name: Some(name.into()),
                state: Some(state.into()),
                conditions: Some(CaConditions {
                    users: Some(users),
                    applications: apps(),
                    client_app_types: clients.iter().map(|c| c.to_string()).collect(),
                    ..CaConditions::default()
                }),
                grant_controls: Some(CaGrantControls {
                    operator: Some("OR".into()),
                    built_in_controls: vec![grant.into()],
                    authentication_strength: None,
                }),
                modified_date_time: Some(day(30)),
            }
        };
    s.policies = vec![
        policy(
            "ca-1",
            "Require MFA for all users",
            "enabled",
            all_users(true),
            &["all"],
            "mfa",
        ),
        policy(
            "ca-2",
            "Block legacy authentication",
            "enabled",
            all_users(true),
            &["exchangeActiveSync", "other"],
            "block",
        ),
        policy(
            "ca-3",
            "Block legacy auth (pilot)",
            "enabledForReportingButNotEnforced",
            all_users(false),
            &["exchangeActiveSync", "other"],
            "block",
        ),
    ];
    s.risky_users = vec![
        RiskyUser {
            id: id(2),
            user_principal_name: accounts.get(2).map(|a| a.upn.clone()),
            risk_level: Some("high".into()),
            risk_state: Some("atRisk".into()),
            risk_detail: Some("none".into()),
            risk_last_updated_date_time: Some(day(1)),
        },
        RiskyUser {
            id: id(3),
            user_principal_name: accounts.get(3).map(|a| a.upn.clone()),
            risk_level: Some("medium".into()),
            risk_state: Some("atRisk".into()),
            risk_detail: Some("none".into()),
            risk_last_updated_date_time: Some(day(2)),
        },
    ];
    let control = |id: &str, title: &str, max: f64| SecureScoreControl {
        id: id.into(),
        title: Some(title.into()),
        max_score: Some(max),
        remediation: Some(format!("<p>Turn on <b>{title}</b>.</p>")),
        ..SecureScoreControl::default()
    };
    s.controls = vec![
        control(
            "MFARegistrationV2",
            "Ensure multifactor authentication is enabled for all users",
            9.0,
        ),
        control(
            "BlockLegacyAuthentication",
            "Enable Conditional Access policies to block legacy authentication",
            8.0,
        ),
        control(
            "mcas_mda_enabled",
            "Ensure Microsoft Defender for Cloud Apps is enabled and configured",
            5.0,
        ),
        control(
            "exo_mailboxaudit",
            "Ensure mailbox auditing for all users is Enabled",
            1.0,
        ),
        control(
            "dlp_datalossprevention",
            "Ensure DLP policies are enabled",
            1.0,
        ),
        control(
            "CustomerLockBoxEnabled",
            "Ensure the customer lockbox feature is enabled",
            1.0,
        ),
    ];
    let scored = [
        ("MFARegistrationV2", 9.0),
        ("BlockLegacyAuthentication", 0.0),
        ("mcas_mda_enabled", 2.0),
        ("exo_mailboxaudit", 1.0),
        ("dlp_datalossprevention", 0.0),
        ("CustomerLockBoxEnabled", 0.0),
    ];
    s.scores = (0..90)
        .map(|d| SecureScore {
            id: format!("contoso_{d}"),
            created_date_time: Some(day(89 - d)),
            current_score: Some(
                40.0 + f64::from(((d * 7) % 11) as u32) + f64::from(d as u32) / 6.0,
            ),
            max_score: Some(100.0),
            control_scores: scored
                .iter()
                .map(|(n, sc)| ControlScore {
                    control_name: n.to_string(),
                    control_category: None,
                    score: Some(*sc),
                })
                .collect(),
        })
        .collect();
    s.traces = vec![
        MessageTrace {
            id: "mt-1".into(),
            received_date_time: Some(day(1)),
            sender_address: Some("partner@fabrikam.com".into()),
            recipient_address: Some(addr(1)),
            subject: Some("Board pack".into()),
            status: Some("pending".into()),
            ..MessageTrace::default()
        },
        MessageTrace {
            id: "mt-2".into(),
            received_date_time: Some(day(1)),
            sender_address: Some("partner@fabrikam.com".into()),
            recipient_address: Some(addr(0)),
            subject: Some("Lunch".into()),
            status: Some("delivered".into()),
            ..MessageTrace::default()
        },
    ];
    let rule = |preset: &str, kind: &str, sent_to: Vec<String>, groups: Vec<String>| PresetRule {
        name: format!("{preset} Preset Security Policy"),
        preset: preset.into(),
        kind: kind.into(),
        state: "Enabled".into(),
        sent_to,
        sent_to_member_of: groups,
        ..PresetRule::default()
    };
    let strict_members: Vec<String> = (0..accounts.len())
        .filter(|&i| i != 1 && i != 2)
        .map(addr)
        .collect();
    s.exchange = Some(ExchangeSnapshot {
        schema: EXCHANGE_SNAPSHOT_SCHEMA.into(),
        generated_date_time: Some(day(1)),
        organization: Some("contoso".into()),
        priority_account_protection: Some(true),
        vips: (0..accounts.len()).map(addr).collect(),
        preset_rules: vec![
            rule("Strict", "EOP", Vec::new(), vec!["vips@contoso".into()]),
            rule("Strict", "ATP", Vec::new(), vec!["vips@contoso".into()]),
            rule("Standard", "EOP", vec![addr(1)], Vec::new()),
            rule("Standard", "ATP", vec![addr(1)], Vec::new()),
        ],
        group_members: [("vips@contoso".to_string(), strict_members)].into(),
        smtp_client_authentication_disabled: Some(true),
        audit_disabled: Some(false),
        mailboxes: (0..accounts.len())
            .map(|i| MailboxSettings {
                primary_smtp_address: addr(i),
                user_principal_name: accounts.get(i).map(|a| a.upn.clone()),
                pop_enabled: Some(i == 0),
                imap_enabled: Some(false),
                smtp_client_authentication_disabled: None,
                audit_enabled: Some(i != 3),
                ..MailboxSettings::default()
            })
            .collect(),
    });
    s
}

/// `data` with posture judged from `sources` (as the load step would from the cache).
pub fn with_posture(
    mut data: crate::data::Snapshot,
    sources: whalewatch_model::posture::PostureSources,
    now: DateTime<Utc>,
) -> crate::data::Snapshot {
    let users: Vec<_> = data.users.items.iter().map(|u| u.user.clone()).collect();
    let groups = [("g-mfa-excl".to_string(), "MFA exclusions".to_string())].into();
    data.posture = std::sync::Arc::new(crate::data::PostureData::build(
        sources, &users, &data.tags, &groups, now,
    ));
    data
}

/// The fixture's snapshot with [`posture_sources`] injected.
pub fn with_planted_posture(data: crate::data::Snapshot) -> crate::data::Snapshot {
    let users: Vec<_> = data.users.items.iter().map(|u| u.user.clone()).collect();
    let vips = data
        .tags
        .resolve(whalewatch_config::PRIORITY_ACCOUNT)
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let sources = posture_sources(&users, &vips, now());
    with_posture(data, sources, now())
}

//! The report logic of `whalewatch posture` over hand-built posture sources: the JSON
//! scripts rely on, `--fail-on`, `--tag`, and the Markdown report.

use std::collections::HashSet;
use std::process::ExitCode;

use super::*;
use crate::model::directory::User;
use crate::model::posture::{SourceAvailability, source};
use crate::query::index::TagTable;
use crate::ui::data::{PostureData, Snapshot};
use crate::ui::fixture::{now, posture_sources};

fn user(i: usize) -> User {
    User {
        id: format!("u-{i}"),
        user_principal_name: Some(format!("VIP{i}@Contoso.com")),
        mail: Some(format!("vip{i}@contoso.com")),
        display_name: Some(format!("Vip {i}")),
        ..User::default()
    }
}

/// Six priority accounts, two of them also in Finance, with the fixture's planted gaps.
fn data(edit: impl Fn(&mut crate::model::posture::PostureSources)) -> Snapshot {
    let users: Vec<User> = (0..6).map(user).collect();
    let vips: Vec<String> = (0..6).map(|i| format!("vip{i}@contoso.com")).collect();
    let tags = TagTable::from_pairs(vec![
        (crate::config::PRIORITY_ACCOUNT.to_string(), vips.clone()),
        (
            "Finance".to_string(),
            vec![vips[4].clone(), vips[5].clone()],
        ),
    ]);
    let mut sources = posture_sources(&users, &vips, now());
    edit(&mut sources);
    let posture = PostureData::build(sources, &users, &tags, &Default::default(), now());
    Snapshot {
        tags: std::sync::Arc::new(tags),
        posture: std::sync::Arc::new(posture),
        ..Snapshot::default()
    }
}

fn json_of(d: &Snapshot, rows: &[u32]) -> Vec<serde_json::Value> {
    records(d, rows).raw
}

#[test]
fn json_has_account_verdict_and_failing_in_check_order() {
    let d = data(|_| {});
    let rows = rows(&d, None).unwrap();
    let out = json_of(&d, &rows);
    assert_eq!(out.len(), 6);
    let by: std::collections::HashMap<&str, &serde_json::Value> = out
        .iter()
        .map(|v| (v["account"].as_str().unwrap(), v))
        .collect();
    let v0 = by["vip0@contoso.com"];
    assert_eq!(v0["verdict"], "fail");
    assert_eq!(
        v0["failing"],
        serde_json::json!(["mfa", "ca-mfa", "ca-legacy", "legacy-auth", "protocols"])
    );
    let v1 = by["vip1@contoso.com"];
    assert_eq!(v1["verdict"], "warn");
    assert_eq!(
        v1["failing"],
        serde_json::json!(["mfa", "legacy-auth", "strict-preset", "email-issues"])
    );
    assert_eq!(
        v1["warning"],
        serde_json::json!(["mfa", "legacy-auth", "strict-preset", "email-issues"])
    );
    assert_eq!(
        by["vip2@contoso.com"]["failing"],
        serde_json::json!(["risk", "strict-preset"])
    );
    assert_eq!(by["vip3@contoso.com"]["verdict"], "warn");
    assert_eq!(by["vip4@contoso.com"]["verdict"], "pass");
    // Worst first, accounts lower-case, evidence carried.
    assert_eq!(out[0]["verdict"], "fail");
    assert_eq!(out.last().unwrap()["verdict"], "pass");
    let ca = v0["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ca-mfa")
        .unwrap();
    assert!(
        ca["evidence"][0]
            .as_str()
            .unwrap()
            .contains("excluded through group g-mfa-excl"),
        "{ca}"
    );
}

#[test]
fn fail_on_gates_by_verdict() {
    let d = data(|_| {});
    let all = rows(&d, None).unwrap();
    assert_eq!(gate(&d, &all, None), ExitCode::SUCCESS);
    assert_eq!(
        gate(&d, &all, Some(FailOn::Fail)),
        ExitCode::from(GATE_EXIT)
    );
    // Finance holds only protected accounts: nothing fails or warns.
    let finance = rows(&d, Some("Finance")).unwrap();
    assert_eq!(finance.len(), 2);
    assert_eq!(gate(&d, &finance, Some(FailOn::Fail)), ExitCode::SUCCESS);
    assert_eq!(gate(&d, &finance, Some(FailOn::Warn)), ExitCode::SUCCESS);
    let warn_only: Vec<u32> = all
        .iter()
        .copied()
        .filter(|&r| d.posture.accounts[r as usize].verdict == Verdict::Warn)
        .collect();
    assert_eq!(gate(&d, &warn_only, Some(FailOn::Fail)), ExitCode::SUCCESS);
    assert_eq!(
        gate(&d, &warn_only, Some(FailOn::Warn)),
        ExitCode::from(GATE_EXIT)
    );
}

#[test]
fn unavailable_conditional_access_is_unknown_and_named() {
    let d = data(|s| {
        s.availability.insert(
            source::CONDITIONAL_ACCESS.into(),
            SourceAvailability::Unavailable {
                grant: "Policy.Read.All".into(),
                message: "Forbidden".into(),
            },
        );
    });
    let rows = rows(&d, None).unwrap();
    let out = json_of(&d, &rows);
    let v4 = out
        .iter()
        .find(|v| v["account"] == "vip4@contoso.com")
        .unwrap();
    assert_eq!(v4["verdict"], "warn", "unknown is never a pass");
    assert_eq!(v4["unknown"], serde_json::json!(["ca-mfa", "ca-legacy"]));
    assert!(
        d.posture
            .notes
            .iter()
            .any(|n| n == "conditional-access unavailable — grant Policy.Read.All")
    );
    let md = markdown(&d, &rows);
    assert!(md.contains("conditional-access unavailable — grant Policy.Read.All"));
}

#[test]
fn missing_sources_leave_every_check_unknown() {
    let d = data(|s| s.availability.clear());
    let rows = rows(&d, None).unwrap();
    let verdicts: HashSet<String> = json_of(&d, &rows)
        .iter()
        .map(|v| v["verdict"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(verdicts, HashSet::from(["warn".to_string()]));
    assert_eq!(
        d.posture.notes.len(),
        crate::model::posture::source::ALL.len()
    );
}

#[test]
fn markdown_escapes_cells_and_lists_the_checklist() {
    let d = data(|_| {});
    let rows = rows(&d, None).unwrap();
    let md = markdown(&d, &rows);
    assert!(md.starts_with("# Priority-account posture\n\n| Account | Verdict |"));
    assert!(
        md.contains("| vip0@contoso.com | fail | mfa, ca-mfa, ca-legacy, legacy-auth, protocols |")
    );
    assert!(md.contains("## Tenant checklist"));
    assert!(md.contains("| Customer Lockbox | fail |"));
}

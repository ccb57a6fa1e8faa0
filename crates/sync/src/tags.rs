//! Tag resolution: turns each tag's sources (Entra groups, address files, attribute
//! rules, explicit members) into addresses, and infers priority accounts from mail
//! Defender protected as such. Pure apart from reading address files, so it is
//! tested without a tenant.

use std::collections::{BTreeSet, HashMap};

use whalewatch_cache::{TagMember, TagSource};
use whalewatch_config::{PRIORITY_ACCOUNT, Rule, TagDef};
use whalewatch_model::directory::{Group, User, address_of};

/// The group a tag's `groups` entry names (by id, else display name).
pub fn find_group<'a>(groups: &'a [Group], wanted: &str) -> Option<&'a Group> {
    groups
        .iter()
        .find(|g| g.id.eq_ignore_ascii_case(wanted))
        .or_else(|| {
            groups.iter().find(|g| {
                g.display_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
            })
        })
}

/// Everything resolution needs from the directory and the cache.
pub struct TagInputs<'a> {
    pub users: &'a [User],
    pub groups: &'a [Group],
    /// Transitive user members (object ids) per group id.
    pub group_users: &'a HashMap<String, Vec<String>>,
    /// Recipients of mail whose `Context` is priority account protection.
    pub protected_recipients: &'a [String],
    /// The VIP list of the imported Exchange snapshot (Exchange's own priority
    /// accounts): members of the Priority account tag.
    pub exchange_vips: &'a [String],
}

/// How an Exchange VIP list membership is labelled (`detail`).
pub const EXCHANGE_VIP_LIST: &str = "exchange VIP list";

/// Resolves every tag. Returns the memberships and, separately, problems that did
/// not stop resolution (a missing file, an unknown group) for the refresh summary.
pub fn resolve(tags: &[TagDef], input: &TagInputs<'_>) -> (Vec<TagMember>, Vec<String>) {
    let by_id: HashMap<&str, &User> = input.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut members = BTreeSet::new();
    let mut warnings = Vec::new();
    let mut add = |tag: &str, address: String, source: TagSource, detail: &str| {
        members.insert(TagMember {
            tag: tag.to_string(),
            address: address.to_lowercase(),
            source,
            detail: detail.to_string(),
        });
    };
    for t in tags {
        for g in &t.groups {
            match find_group(input.groups, g) {
                Some(group) => {
                    for id in input
                        .group_users
                        .get(&group.id)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                    {
                        if let Some(a) = by_id.get(id.as_str()).and_then(|u| address_of(u)) {
                            add(
                                &t.name,
                                a,
                                TagSource::Group,
                                group.display_name.as_deref().unwrap_or(&group.id),
                            );
                        }
                    }
                }
                None => warnings.push(format!(
                    "tag `{}`: no Entra group named or with id `{g}`",
                    t.name
                )),
            }
        }
        for f in &t.files {
            match std::fs::read_to_string(f) {
                Ok(text) => {
                    for line in text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    {
                        add(
                            &t.name,
                            line.to_string(),
                            TagSource::File,
                            &f.display().to_string(),
                        );
                    }
                }
                Err(e) => warnings.push(format!(
                    "tag `{}`: cannot read {}: {e}",
                    t.name,
                    f.display()
                )),
            }
        }
        for r in &t.rules {
            match Rule::parse(r) {
                Ok(rule) => {
                    for u in input.users.iter().filter(|u| rule.matches(*u)) {
                        if let Some(a) = address_of(u) {
                            add(&t.name, a, TagSource::Rule, r);
                        }
                    }
                }
                Err(e) => warnings.push(format!("tag `{}`: {e}", t.name)),
            }
        }
        for m in &t.members {
            add(&t.name, m.trim().to_string(), TagSource::Member, "");
        }
    }
    for vip in input
        .exchange_vips
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        members.insert(TagMember {
            tag: PRIORITY_ACCOUNT.to_string(),
            address: vip.to_lowercase(),
            source: TagSource::Exchange,
            detail: EXCHANGE_VIP_LIST.into(),
        });
    }
    // Defender protected these recipients as priority accounts; show them as such,
    // marked inferred, unless a configured source already has them.
    let known: BTreeSet<String> = members
        .iter()
        .filter(|m| m.tag == PRIORITY_ACCOUNT)
        .map(|m| m.address.clone())
        .collect();
    for r in input.protected_recipients {
        let r = r.to_lowercase();
        if !known.contains(&r) {
            members.insert(TagMember {
                tag: PRIORITY_ACCOUNT.to_string(),
                address: r,
                source: TagSource::Inferred,
                detail: "Priority Account Protection".into(),
            });
        }
    }
    (members.into_iter().collect(), warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, mail: &str, dept: &str, title: &str) -> User {
        User {
            id: id.into(),
            user_principal_name: Some(mail.to_uppercase()),
            mail: Some(mail.into()),
            department: Some(dept.into()),
            job_title: Some(title.into()),
            ..User::default()
        }
    }

    #[test]
    fn every_source_contributes_with_its_origin_and_problems_are_reported() {
        let users = vec![
            user("1", "ceo@c.com", "Executive", "Chief Executive Officer"),
            user("2", "ap@c.com", "Finance", "Clerk"),
            user("3", "dev@c.com", "Engineering", "Engineer"),
        ];
        let groups = vec![Group {
            id: "g1".into(),
            display_name: Some("Executives".into()),
            ..Group::default()
        }];
        let group_users = HashMap::from([("g1".to_string(), vec!["1".to_string()])]);
        let dir = std::env::temp_dir().join(format!("ww-tags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("vips.txt");
        std::fs::write(&file, "# exported from Get-User -IsVIP\nBoard@C.com\n\n").unwrap();
        let tags = vec![
            TagDef {
                name: PRIORITY_ACCOUNT.into(),
                groups: vec!["executives".into(), "Nope".into()],
                files: vec![file.clone(), dir.join("missing.txt")],
                ..TagDef::default()
            },
            TagDef {
                name: "Finance".into(),
                rules: vec!["department == 'finance'".into()],
                members: vec!["Extra@c.com".into()],
                ..TagDef::default()
            },
        ];
        let protected = vec!["ceo@c.com".to_string(), "assistant@c.com".to_string()];
        let (members, warnings) = resolve(
            &tags,
            &TagInputs {
                users: &users,
                groups: &groups,
                group_users: &group_users,
                protected_recipients: &protected,
                exchange_vips: &["Chair@C.com".to_string()],
            },
        );
        let got: Vec<(String, String, TagSource)> = members
            .iter()
            .map(|m| (m.tag.clone(), m.address.clone(), m.source))
            .collect();
        assert!(got.contains(&(
            PRIORITY_ACCOUNT.into(),
            "ceo@c.com".into(),
            TagSource::Group
        )));
        assert!(got.contains(&(
            PRIORITY_ACCOUNT.into(),
            "board@c.com".into(),
            TagSource::File
        )));
        assert!(got.contains(&(
            PRIORITY_ACCOUNT.into(),
            "assistant@c.com".into(),
            TagSource::Inferred
        )));
        assert!(
            !got.contains(&(
                PRIORITY_ACCOUNT.into(),
                "ceo@c.com".into(),
                TagSource::Inferred
            )),
            "known members are not re-inferred"
        );
        assert!(got.contains(&(
            PRIORITY_ACCOUNT.into(),
            "chair@c.com".into(),
            TagSource::Exchange
        )));
        assert!(got.contains(&("Finance".into(), "ap@c.com".into(), TagSource::Rule)));
        assert!(got.contains(&("Finance".into(), "extra@c.com".into(), TagSource::Member)));
        assert!(!got.iter().any(|g| g.1 == "dev@c.com"));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

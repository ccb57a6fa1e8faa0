//! Users, groups and priority accounts.

use std::collections::HashSet;
use std::sync::Arc;

use super::strings::Strings;
use super::vocab;
use crate::params::WorldParams;
use crate::rng::{Guid, SimRng};

/// An Entra user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Guid,
    pub upn: Arc<str>,
    pub display_name: Arc<str>,
    pub given_name: Arc<str>,
    pub surname: Arc<str>,
    pub department: Arc<str>,
    pub job_title: Arc<str>,
    pub country: Arc<str>,
    pub enabled: bool,
}

/// An Entra security group; `groups` are nested groups (for `transitiveMembers`).
#[derive(Debug, Clone)]
pub struct Group {
    pub id: Guid,
    pub name: Arc<str>,
    pub description: Arc<str>,
    pub members: Vec<u32>,
    pub groups: Vec<u32>,
}

/// The tenant's directory.
#[derive(Debug, Clone)]
pub struct Directory {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Priority accounts, in user order (at most 250).
    pub priority: Vec<u32>,
    pub is_priority: Vec<bool>,
}

/// The portal's cap on priority accounts.
pub const MAX_PRIORITY_ACCOUNTS: usize = 250;

impl Directory {
    /// Users and groups reachable from group `g` through nesting, each once.
    pub fn transitive_members(&self, g: usize) -> (Vec<u32>, Vec<u32>) {
        let mut users = Vec::new();
        let mut groups = Vec::new();
        let mut seen_u = HashSet::new();
        let mut seen_g = HashSet::from([g as u32]);
        let mut stack = vec![g as u32];
        while let Some(cur) = stack.pop() {
            let group = &self.groups[cur as usize];
            for &u in &group.members {
                if seen_u.insert(u) {
                    users.push(u);
                }
            }
            for &child in &group.groups {
                if seen_g.insert(child) {
                    groups.push(child);
                    stack.push(child);
                }
            }
        }
        users.sort_unstable();
        groups.sort_unstable();
        (users, groups)
    }

    pub fn group_named(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| &*g.name == name)
    }

    /// Users whose department is `dept`.
    pub fn in_department(&self, dept: &str) -> Vec<u32> {
        (0..self.users.len() as u32)
            .filter(|&u| &*self.users[u as usize].department == dept)
            .collect()
    }
}

/// Lower-case ASCII letters and digits of `s`, accents folded (José → jose), for
/// building mailbox names.
pub(crate) fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let base = match c {
                'á' | 'à' | 'ä' | 'â' => 'a',
                'é' | 'è' | 'ë' | 'ê' => 'e',
                'í' | 'ï' => 'i',
                'ó' | 'ö' | 'ô' => 'o',
                'ú' | 'ü' => 'u',
                'ñ' => 'n',
                'ł' | 'Ł' => 'l',
                c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
                _ => return None,
            };
            Some(base)
        })
        .collect()
}

/// Generates the directory. Roles are carved first (executives, board, admins,
/// assistants) so their number scales with `--users` but stays within the
/// priority-account cap; everyone else gets a weighted department.
pub fn generate(params: &WorldParams, strings: &mut Strings) -> Directory {
    let mut rng = SimRng::new(params.seed, "directory");
    let n = params.users as usize;
    let execs = (n / 100).clamp(4, 60);
    let board = (n / 300).clamp(3, 15);
    let admins = (n / 200).clamp(2, 40);
    let assistants = (execs / 2).clamp(2, 40);
    let mut used = HashSet::new();
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let given = *rng.pick(vocab::GIVEN_NAMES);
        let surname = *rng.pick(vocab::SURNAMES);
        let (department, title) = if i < execs {
            (
                "Executive",
                vocab::EXECUTIVE_TITLES[i % vocab::EXECUTIVE_TITLES.len()].to_string(),
            )
        } else if i < execs + board {
            (
                "Board of Directors",
                if i == execs {
                    "Chair of the Board".into()
                } else {
                    "Board Member".into()
                },
            )
        } else if i < execs + board + admins {
            (
                "IT",
                vocab::ADMIN_TITLES[(i - execs - board) % vocab::ADMIN_TITLES.len()].to_string(),
            )
        } else if i < execs + board + admins + assistants {
            ("Executive Office", "Executive Assistant".to_string())
        } else {
            let weights: Vec<u32> = vocab::DEPARTMENTS.iter().map(|d| d.1).collect();
            let (dept, _, titles) = vocab::DEPARTMENTS[rng.weighted(&weights)];
            (dept, rng.pick(titles).to_string())
        };
        let base = format!("{}.{}", ascii_fold(given), ascii_fold(surname));
        let mut local = base.clone();
        let mut k = 2;
        while !used.insert(local.clone()) {
            local = format!("{base}{k}");
            k += 1;
        }
        let upn = format!("{local}@{}", vocab::TENANT_DOMAIN);
        strings.intern(&upn);
        users.push(User {
            id: rng.guid(),
            upn: Arc::from(upn),
            display_name: Arc::from(format!("{given} {surname}")),
            given_name: Arc::from(given),
            surname: Arc::from(surname),
            department: Arc::from(department),
            job_title: Arc::from(title),
            country: Arc::from(*rng.pick(vocab::COUNTRIES)),
            // Roles stay enabled; a few ordinary accounts are disabled leavers.
            enabled: i < execs + board + admins + assistants || !rng.chance(0.02),
        });
    }

    let range = |a: usize, b: usize| (a as u32..b as u32).collect::<Vec<u32>>();
    let by_dept = |d: &str| -> Vec<u32> {
        users
            .iter()
            .enumerate()
            .filter(|(_, u)| &*u.department == d)
            .map(|(i, _)| i as u32)
            .collect()
    };
    let finance = by_dept("Finance");
    let (ap, finance_rest): (Vec<u32>, Vec<u32>) = finance.iter().partition(|u| **u % 3 == 0);
    let mut it_admins = range(execs + board, execs + board + admins);
    it_admins.sort_unstable();
    let specs: Vec<(&str, &str, Vec<u32>)> = vec![
        ("Executives", "Executive leadership team", range(0, execs)),
        ("Board", "Board of directors", range(execs, execs + board)),
        (
            "Finance",
            "Finance department (includes Accounts Payable)",
            finance_rest,
        ),
        ("Accounts Payable", "Pays supplier invoices", ap),
        ("Legal", "Legal department", by_dept("Legal")),
        ("HR", "Human resources", by_dept("Human Resources")),
        ("IT administrators", "Privileged administrators", it_admins),
        (
            "Executive assistants",
            "Assistants to the executive team",
            range(execs + board + admins, execs + board + admins + assistants),
        ),
        ("Sales", "Sales organisation", by_dept("Sales")),
        (
            "Engineering",
            "Engineering organisation",
            by_dept("Engineering"),
        ),
    ];
    let mut groups: Vec<Group> = specs
        .into_iter()
        .map(|(name, desc, members)| Group {
            id: rng.guid(),
            name: Arc::from(name),
            description: Arc::from(desc),
            members,
            groups: Vec::new(),
        })
        .collect();
    // Finance nests Accounts Payable, so only a transitive lookup finds AP clerks.
    groups[2].groups.push(3);

    let mut priority: Vec<u32> = range(0, execs + board + admins + assistants);
    priority.truncate(MAX_PRIORITY_ACCOUNTS);
    let mut is_priority = vec![false; n];
    for &p in &priority {
        is_priority[p as usize] = true;
    }
    Directory {
        users,
        groups,
        priority,
        is_priority,
    }
}

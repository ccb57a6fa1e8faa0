//! Sign-ins: the cached sign-ins of priority accounts (time, app, client app, legacy?,
//! result, IP, location), newest first — where the posture flyout's `R` leads.

use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, match_term};
use crate::data::Snapshot;
use whalewatch_model::posture::SignIn;
use whalewatch_query::index::text::Pattern;
use whalewatch_query::lang::ast::{Expr, Filter, Term};
use whalewatch_query::lang::fields::Field;
use whalewatch_query::posture::identity::{is_legacy, succeeded};

/// A sign-in column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignInCol {
    Time,
    Account,
    App,
    ClientApp,
    Legacy,
    Result,
    Ip,
    Location,
}

const fn col(c: SignInCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::SignIn(c),
        title,
        min,
        max,
    }
}

/// The sign-ins pane's columns.
pub const COLUMNS: &[GridColumn] = &[
    col(SignInCol::Time, "Time", 16, 16),
    col(SignInCol::Account, "Account", 12, 36),
    col(SignInCol::App, "App", 6, 30),
    col(SignInCol::ClientApp, "Client app", 8, 24),
    col(SignInCol::Legacy, "Legacy", 3, 6),
    col(SignInCol::Result, "Result", 6, 30),
    col(SignInCol::Ip, "IP", 7, 39),
    col(SignInCol::Location, "Location", 6, 30),
];

fn account(s: &SignIn) -> String {
    s.user_principal_name
        .clone()
        .unwrap_or_default()
        .to_lowercase()
}

fn matches(data: &Snapshot, s: &SignIn, field: Field, value: &str) -> Result<bool, String> {
    Ok(match field {
        Field::Upn => Pattern::exact(value).test(&account(s)),
        Field::Legacy => {
            s.client_app_used.as_deref().is_some_and(is_legacy) == value.eq_ignore_ascii_case("yes")
        }
        Field::Tag | Field::Is => {
            let name = if field == Field::Is {
                whalewatch_config::PRIORITY_ACCOUNT
            } else {
                value
            };
            let members = data.tags.resolve(name).map_err(|e| e.to_string())?;
            members.iter().any(|m| *m == account(s))
        }
        _ => false,
    })
}

fn test(data: &Snapshot, s: &SignIn, e: &Expr) -> Result<bool, String> {
    e.holds(&mut |t| {
        Ok(match t {
            Term::Text(w) => {
                let p = Pattern::contains(w);
                p.test(&account(s)) || p.test(s.app_display_name.as_deref().unwrap_or(""))
            }
            Term::Match { field, values } => {
                for v in values {
                    if matches(data, s, *field, v)? {
                        return Ok(true);
                    }
                }
                false
            }
            _ => false,
        })
    })
}

/// Positions in the cached sign-ins (newest first, as cached).
pub fn evaluate(data: &Snapshot, filter: &Filter) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for (i, s) in data.posture.sources.sign_ins.iter().enumerate() {
        if let Some(e) = &filter.root
            && !test(data, s, e)?
        {
            continue;
        }
        out.push(i as u32);
    }
    Ok(out)
}

/// A cell's raw text.
pub fn cell(data: &Snapshot, row: u32, c: SignInCol) -> String {
    let Some(s) = data.posture.sources.sign_ins.get(row as usize) else {
        return String::new();
    };
    match c {
        SignInCol::Time => super::short_instant(s.created_date_time.as_ref()),
        SignInCol::Account => account(s),
        SignInCol::App => s.app_display_name.clone().unwrap_or_default(),
        SignInCol::ClientApp => s.client_app_used.clone().unwrap_or_default(),
        SignInCol::Legacy => if s.client_app_used.as_deref().is_some_and(is_legacy) {
            "yes"
        } else {
            "no"
        }
        .into(),
        SignInCol::Result => {
            if succeeded(s) {
                "success".into()
            } else {
                format!(
                    "failed {}",
                    s.status
                        .as_ref()
                        .and_then(|st| st.failure_reason.clone())
                        .unwrap_or_default()
                )
                .trim()
                .to_string()
            }
        }
        SignInCol::Ip => s.ip_address.clone().unwrap_or_default(),
        SignInCol::Location => s
            .location
            .as_ref()
            .map(|l| {
                [&l.city, &l.state, &l.country_or_region]
                    .iter()
                    .filter_map(|x| x.as_deref())
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
    }
}

/// The sign-in id.
pub fn key(data: &Snapshot, row: u32) -> String {
    data.posture
        .sources
        .sign_ins
        .get(row as usize)
        .map_or(String::new(), |s| s.id.clone())
}

/// The filter term for `value` in `c`.
pub fn term(c: SignInCol, value: &str) -> Option<String> {
    match c {
        SignInCol::Account => Some(match_term("upn", value)),
        SignInCol::Legacy => Some(match_term("legacy", value)),
        _ => None,
    }
}

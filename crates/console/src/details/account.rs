//! The account flyout: who the user is, their tags, and what reached them.

use super::DetailError;
use crate::action::Pane;
use crate::data::Snapshot;
use crate::detail::{Detail, Section};
use crate::panes::accounts;
use crate::update::jumps_for;

pub fn load(data: &Snapshot, upn: &str) -> Result<Detail, DetailError> {
    let (row, u) = data
        .users
        .items
        .iter()
        .enumerate()
        .find(|(_, u)| u.user.user_principal_name.as_deref() == Some(upn) || u.user.id == upn)
        .ok_or_else(|| DetailError::Gone(format!("user {upn}")))?;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut who = Section::new("User");
    who.line("Sign-in name", s(&u.user.user_principal_name))
        .line("Mail", s(&u.user.mail))
        .line("Department", s(&u.user.department))
        .line("Job title", s(&u.user.job_title))
        .line("Country", s(&u.user.country))
        .line(
            "Enabled",
            u.user
                .account_enabled
                .map_or(String::new(), |e| e.to_string()),
        )
        .line("Tags", u.tags.join(", "));
    let mut what = Section::new("What reached them");
    match data
        .recipients
        .as_ref()
        .map(|r| r.get(&accounts::address(u)))
    {
        Some(Some(st)) => {
            what.line("Mail", st.mail.to_string())
                .line("Threats", st.threats.to_string())
                .line("URL clicks", st.clicks.to_string());
        }
        None => {
            what.line("Mail", "indexing…");
        }
        Some(None) => {
            what.line("Mail", "0");
        }
    }
    what.line("Alerts", accounts::alert_count(data, u).to_string());
    Ok(Detail {
        title: s(&u.user.display_name),
        sections: vec![who, what],
        jumps: jumps_for(data, Pane::Accounts, row as u32),
        copy: s(&u.user.user_principal_name),
    })
}

//! Related-entity jumps from a row: message → its alerts, campaign, cluster,
//! sender, recipient; alert → its messages, incident, accounts; incident → its
//! alerts, their messages, its accounts; campaign → its
//! messages; user → mail, alerts, clicks. Each jump is a filter (or, for evidence
//! links, a list of alert ids), so the view it opens can be written down.

use crate::action::Pane;
use crate::data::Snapshot;
use crate::detail::Jump;
use crate::panes::{accounts, match_term};
use whalewatch_query::index::Pivot;
use whalewatch_query::lang::Entity;

fn jump(label: impl Into<String>, pane: Pane, filter: String) -> Jump {
    Jump {
        label: label.into(),
        pane,
        filter,
        only: None,
    }
}

/// The jumps from row `row` of `pane`.
pub fn jumps_for(data: &Snapshot, pane: Pane, row: u32) -> Vec<Jump> {
    match pane {
        Pane::Emails => email_jumps(data, row),
        Pane::Alerts => alert_jumps(data, row),
        Pane::Incidents => incident_jumps(data, row),
        Pane::Campaigns => data
            .campaigns
            .campaigns
            .get(row as usize)
            .map(|c| {
                vec![
                    jump(
                        "messages of this campaign",
                        Pane::Emails,
                        match_term("campaign", &c.id),
                    ),
                    jump(
                        "clicked messages of this campaign",
                        Pane::Emails,
                        format!("{} clicked:yes", match_term("campaign", &c.id)),
                    ),
                    jump(
                        "inboxed messages of this campaign",
                        Pane::Emails,
                        format!("{} location:inbox", match_term("campaign", &c.id)),
                    ),
                ]
            })
            .unwrap_or_default(),
        Pane::Accounts => data
            .users
            .items
            .get(row as usize)
            .map(|u| {
                let addr = accounts::address(u);
                let upn = u.user.user_principal_name.clone().unwrap_or(addr.clone());
                user_jumps(&addr, &upn)
            })
            .unwrap_or_default(),
        Pane::Posture => data
            .posture
            .accounts
            .get(row as usize)
            .map(|p| {
                let upn = &p.account.upn;
                let addr = p.account.addresses.last().unwrap_or(upn);
                let mut out = vec![
                    jump(
                        "sign-ins of this account",
                        Pane::SignIns,
                        match_term("upn", upn),
                    ),
                    jump(
                        "legacy sign-ins of this account",
                        Pane::SignIns,
                        format!("{} legacy:yes", match_term("upn", upn)),
                    ),
                ];
                out.extend(user_jumps(addr, upn));
                out
            })
            .unwrap_or_default(),
        Pane::SignIns => data
            .posture
            .sources
            .sign_ins
            .get(row as usize)
            .and_then(|s| s.user_principal_name.as_deref())
            .map(|upn| {
                let upn = upn.to_lowercase();
                vec![jump(
                    "posture of this account",
                    Pane::Posture,
                    format!("{} is:priority", match_term("upn", &upn)),
                )]
            })
            .unwrap_or_default(),
        Pane::Urls => {
            let url = crate::panes::urls::key(data, row);
            if url.is_empty() {
                return Vec::new();
            }
            vec![
                jump(
                    "mail carrying this URL",
                    Pane::Emails,
                    match_term("url", &url),
                ),
                jump("clicks on this URL", Pane::Clicks, match_term("url", &url)),
            ]
        }
        Pane::Clicks => {
            let Some(message) = crate::panes::clicks::email_filter(data, row) else {
                return Vec::new();
            };
            let account = crate::panes::cell(
                data,
                row,
                crate::panes::ColumnId::Click(crate::panes::clicks::ClickCol::Account),
            );
            vec![
                jump("the message clicked", Pane::Emails, message),
                jump(
                    "clicks by this account",
                    Pane::Clicks,
                    match_term("to", &account),
                ),
                jump(
                    "mail to this account",
                    Pane::Emails,
                    match_term("to", &account),
                ),
            ]
        }
    }
}

/// Mail, threats, clicks and alerts of one user (Accounts and Posture rows).
fn user_jumps(addr: &str, upn: &str) -> Vec<Jump> {
    vec![
        jump("mail to this user", Pane::Emails, match_term("to", addr)),
        jump(
            "threats to this user",
            Pane::Emails,
            format!("{} -threat:none", match_term("to", addr)),
        ),
        jump(
            "URL clicks by this user",
            Pane::Emails,
            format!("{} clicked:yes", match_term("to", addr)),
        ),
        jump("alerts of this user", Pane::Alerts, match_term("user", upn)),
    ]
}

fn email_jumps(data: &Snapshot, row: u32) -> Vec<Jump> {
    let Some(ix) = &data.emails else {
        return Vec::new();
    };
    let pivots = [
        (Pivot::MessageAlerts, "alerts naming this message"),
        (Pivot::SameCampaign, "this message's campaign"),
        (Pivot::SameCluster, "similar messages (same cluster)"),
        (Pivot::SameSender, "mail from this sender"),
        (Pivot::SameSenderIp, "mail from this sender IP"),
        (Pivot::SameUrlDomain, "mail with these URL domains"),
        (Pivot::SameAttachmentHash, "mail with these attachments"),
        (Pivot::RecipientMail, "mail to this recipient"),
        (Pivot::RecipientAlerts, "alerts of this recipient"),
    ];
    let mut out = Vec::new();
    for (p, label) in pivots {
        let Some(t) = ix.pivot(row as usize, p) else {
            continue;
        };
        let pane = if t.entity == Entity::Alerts {
            Pane::Alerts
        } else {
            Pane::Emails
        };
        out.push(Jump {
            label: label.to_string(),
            pane,
            filter: t.text,
            only: (!t.alert_ids.is_empty()).then_some(t.alert_ids),
        });
    }
    // The campaign itself, in the Campaigns pane.
    if let Some(id) = ix
        .pivot(row as usize, Pivot::SameCampaign)
        .and_then(|t| t.filter.root.map(|_| t.text))
        .and_then(|text| {
            text.split_once(':')
                .map(|(_, v)| v.trim_matches('"').to_string())
        })
    {
        let only = data
            .campaigns
            .campaigns
            .iter()
            .any(|c| c.id == id)
            .then(|| vec![id]);
        if only.is_some() {
            out.insert(
                2,
                Jump {
                    label: "open the campaign".into(),
                    pane: Pane::Campaigns,
                    filter: String::new(),
                    only,
                },
            );
        }
    }
    // Threat Explorer's other tabs, for this message.
    let nmid = match_term("nmid", &ix.key(row as usize).network_message_id);
    out.push(jump("URLs of this message", Pane::Urls, nmid.clone()));
    out.push(jump("clicks on this message", Pane::Clicks, nmid));
    out
}

/// An incident's alerts (all, then each), their messages, and its accounts' mail.
fn incident_jumps(data: &Snapshot, row: u32) -> Vec<Jump> {
    let Some(i) = data.incidents.items.get(row as usize) else {
        return Vec::new();
    };
    let id = i.incident.id.trim();
    let mut out = vec![jump(
        format!("alerts of incident {id}"),
        Pane::Alerts,
        format!("incident:{id}"),
    )];
    if !i.alerts.is_empty() {
        let mut all = String::from("alert:");
        for (n, a) in i.alerts.iter().enumerate() {
            if n > 0 {
                all.push(',');
            }
            whalewatch_query::lang::print::value(&mut all, a);
        }
        out.push(jump("messages of this incident", Pane::Emails, all));
    }
    for a in &i.alerts {
        let title = data
            .alerts
            .items
            .iter()
            .find(|x| &x.alert.id == a)
            .map_or(a.as_str(), |x| x.alert.title.as_str());
        out.push(Jump {
            label: format!("alert: {title}"),
            pane: Pane::Alerts,
            filter: String::new(),
            only: Some(vec![a.clone()]),
        });
        out.push(jump(
            format!("messages of alert {a}"),
            Pane::Emails,
            match_term("alert", a),
        ));
    }
    for acc in i.accounts.iter().take(6) {
        out.push(jump(
            format!("mail to {acc}"),
            Pane::Emails,
            match_term("to", acc),
        ));
    }
    out
}

fn alert_jumps(data: &Snapshot, row: u32) -> Vec<Jump> {
    let Some(a) = data.alerts.items.get(row as usize) else {
        return Vec::new();
    };
    let mut out = vec![jump(
        "messages in this alert",
        Pane::Emails,
        match_term("alert", &a.alert.id),
    )];
    if let Some(inc) = a.alert.incident_id.as_deref().filter(|s| !s.is_empty()) {
        out.push(jump(
            format!("alerts of incident {inc}"),
            Pane::Alerts,
            format!("incident:{}", inc.trim()),
        ));
    }
    for acc in a.accounts.iter().take(6) {
        out.push(jump(
            format!("mail to {acc}"),
            Pane::Emails,
            match_term("to", acc),
        ));
    }
    out
}

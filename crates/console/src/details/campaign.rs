//! The campaign flyout: impact, the flow sender IPs → sender domains → verdicts →
//! delivery locations → clicks (top 10 per layer, as an indented tree), its URLs,
//! attachments and recipients.

use std::collections::{HashMap, HashSet};

use super::{DetailError, top};
use crate::action::Pane;
use crate::data::Snapshot;
use crate::detail::{Detail, Section};
use crate::panes::short_time;
use crate::update::jumps_for;
use whalewatch_query::index::schema as s;

pub fn load(data: &Snapshot, id: &str) -> Result<Detail, DetailError> {
    let (row, c) = data
        .campaigns
        .campaigns
        .iter()
        .enumerate()
        .find(|(_, c)| c.id == id)
        .ok_or_else(|| DetailError::Gone(format!("campaign {id}")))?;
    let mut sections = Vec::new();
    let mut imp = Section::new("Impact");
    imp.line("Type", format!("{} · {}", c.kind, c.subtype))
        .line("Messages", c.messages.to_string())
        .line("Recipients", c.recipients.to_string())
        .line("First seen", short_time(Some(c.first)))
        .line("Last seen", short_time(Some(c.last)));
    if let Some(st) = data.campaign_stats.get(row) {
        imp.line("Inboxed", st.inboxed.to_string())
            .line("Clicked", st.clicked.to_string())
            .line("Priority accounts targeted", st.priority.to_string())
            .line("Sample subject", st.sample_subject.clone());
    }
    sections.push(imp);
    if let Some(ix) = &data.emails {
        // The campaign's recipient rows.
        let side = &ix.side().campaigns;
        let mut messages: HashSet<u32> = HashSet::new();
        if let Some(ids) = side.columns.first() {
            for (e, &m) in side.message.iter().enumerate() {
                if ids.value(e) == id {
                    messages.insert(m);
                }
            }
        }
        let rows: Vec<usize> = messages
            .iter()
            .flat_map(|&m| ix.message_rows(m).iter().map(|&r| r as usize))
            .collect();
        let count = |col: usize| -> HashMap<String, usize> {
            let c = ix.str_column(col);
            let mut out: HashMap<String, usize> = HashMap::new();
            for &r in &rows {
                *out.entry(c.value(r).to_string()).or_default() += 1;
            }
            out
        };
        let clicked = &ix.side().clicked;
        let mut flow = Section::new("Flow (top 10 per layer)");
        let layers: [(&str, HashMap<String, usize>); 4] = [
            ("Sender IPs", count(s::IPV4)),
            ("Sender domains", count(s::SENDER_DOMAIN)),
            ("Verdicts", {
                let threats = ix.str_column(s::THREATS);
                let delivery = ix.str_column(s::DELIVERY);
                let mut out: HashMap<String, usize> = HashMap::new();
                for &r in &rows {
                    let t = threats.value(r);
                    let v = format!(
                        "{} · {}",
                        if t.is_empty() { "no threat" } else { t },
                        delivery.value(r)
                    );
                    *out.entry(v).or_default() += 1;
                }
                out
            }),
            ("Delivery locations (latest)", count(s::LOCATION)),
        ];
        for (i, (name, counts)) in layers.into_iter().enumerate() {
            flow.line(&format!("{}{name}", "  ".repeat(i)), "");
            for (v, n) in top(counts, 10) {
                flow.line(
                    &format!("{}  {n:>6}", "  ".repeat(i)),
                    if v.is_empty() { "(empty)".into() } else { v },
                );
            }
        }
        let clicks = rows.iter().filter(|&&r| clicked.contains(r)).count();
        flow.line(
            "        URL clicks",
            format!("{clicks} recipient rows clicked through"),
        );
        sections.push(flow);

        let urls = &ix.side().urls;
        let mut url_counts: HashMap<String, usize> = HashMap::new();
        for (e, m) in urls.message.iter().enumerate() {
            if messages.contains(m) {
                *url_counts
                    .entry(urls.columns[0].value(e).to_string())
                    .or_default() += 1;
            }
        }
        let mut u = Section::new("URLs");
        for (v, n) in top(url_counts, 10) {
            u.line(&format!("{n} messages"), v);
        }
        sections.push(u);

        let att = &ix.side().attachments;
        let row_set: HashSet<usize> = rows.iter().copied().collect();
        let mut files: HashMap<String, usize> = HashMap::new();
        for (e, r) in att.row.iter().enumerate() {
            if row_set.contains(&(*r as usize)) {
                let name = format!(
                    "{} · SHA256 {}",
                    att.columns[0].value(e),
                    att.columns[1].value(e)
                );
                *files.entry(name).or_default() += 1;
            }
        }
        let mut a = Section::new("Attachments");
        for (v, n) in top(files, 10) {
            a.line(&format!("{n} copies"), v);
        }
        sections.push(a);

        let mut rc = Section::new("Recipients (top 10)");
        let recip = ix.str_column(s::RECIPIENT);
        let mut by: HashMap<String, usize> = HashMap::new();
        for &r in &rows {
            *by.entry(recip.value(r).to_string()).or_default() += 1;
        }
        for (v, n) in top(by, 10) {
            let tags = data.tags.tags_of(&v).join(", ");
            rc.line(
                &v,
                format!(
                    "{n} messages{}",
                    if tags.is_empty() {
                        String::new()
                    } else {
                        format!(" · {tags}")
                    }
                ),
            );
        }
        sections.push(rc);
    } else {
        let mut w = Section::new("Flow");
        w.line("", "the email index is still loading");
        sections.push(w);
    }
    Ok(Detail {
        title: c.name.clone(),
        sections,
        jumps: jumps_for(data, Pane::Campaigns, row as u32),
        copy: c.id.clone(),
    })
}

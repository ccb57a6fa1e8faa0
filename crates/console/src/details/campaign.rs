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
use whalewatch_query::index::figures::{CampaignFigures, campaign_flow, campaign_rows};
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
        .line("First seen", short_time(Some(c.first)))
        .line("Last seen", short_time(Some(c.last)));
    if !data.campaign_audience.is_everyone() {
        let tags: Vec<String> = data
            .campaign_audience
            .groups
            .iter()
            .map(|g| g.join(" or "))
            .collect();
        imp.line("Narrowed to", tags.join(" and "));
    }
    let flow = match &data.emails {
        Some(ix) => campaign_flow(ix, &data.campaigns, id, &data.campaign_audience, 10)?,
        None => None,
    };
    if let Some((f, _)) = &flow {
        imp.line("Messages", f.messages.to_string())
            .line("Recipients", f.recipients.to_string())
            .line("Copies (message × recipient)", f.copies.to_string())
            .line("Inboxed", f.inboxed.to_string())
            .line("Clicked", f.clicked.to_string())
            .line("Clicked through", f.clicked_through.to_string())
            .line(
                "Click rate (clicked ÷ inboxed)",
                CampaignFigures::percent_text(f.click_rate()),
            )
            .line("Priority accounts targeted", f.priority.to_string())
            .line(
                "Targeted",
                format!(
                    "{} ({} of {})",
                    CampaignFigures::percent_text(f.targeted_percent()),
                    f.targeted,
                    f.audience
                ),
            )
            .line("Sample subject", f.sample_subject.clone());
    }
    sections.push(imp);
    if let (Some(ix), Some((_, layers))) = (&data.emails, flow) {
        let rows =
            campaign_rows(ix, &data.campaigns, id, &data.campaign_audience)?.unwrap_or_default();
        let messages: HashSet<u32> = rows
            .iter()
            .map(|&r| ix.str_column(s::NMID).codes.get(r))
            .collect();
        let mut flow = Section::new(
            "Flow: sender IPs → sender domains → verdicts → delivery locations → URL clicks",
        );
        for (i, l) in layers.iter().enumerate() {
            let indent = "  ".repeat(i);
            // The layer's name with the impact figure it sums to (a line with an
            // empty value would not be drawn).
            flow.line(
                &format!("{indent}{}", l.name),
                format!("{} {}", l.total, l.unit),
            );
            for (v, n) in &l.values {
                flow.line(
                    &format!("{indent}  {n:>6}"),
                    if v.is_empty() {
                        "(empty)".into()
                    } else {
                        v.clone()
                    },
                );
            }
        }
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

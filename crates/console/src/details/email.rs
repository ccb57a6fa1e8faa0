//! The email details flyout: summary, delivery with the post-delivery timeline,
//! authentication, sender intelligence, URLs with clicks, attachments, related
//! alerts, campaign and cluster.

use super::{DetailError, lookalike};
use whalewatch_cache::Cache;
use whalewatch_model::email::{
    EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, RowKey, UrlClick,
};

use whalewatch_query::index::{Pivot, recipient_domain};

use crate::action::Pane;
use crate::data::Snapshot;
use crate::detail::{Detail, Jump, Section};
use crate::update::jumps_for;

/// `2026-11-22 09:10:54Z`: seconds matter in a timeline, ticks do not.
fn format_datetime(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

fn text<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// `key` is `NetworkMessageId|recipient`.
pub fn load(cache: &Cache, data: &Snapshot, key: &str) -> Result<Detail, DetailError> {
    let (nmid, recipient) = key.split_once('|').unwrap_or((key, ""));
    let key = RowKey {
        network_message_id: nmid.to_string(),
        recipient: recipient.to_string(),
    };
    let e = cache
        .email(&key)?
        .ok_or_else(|| DetailError::Gone(format!("message {nmid}")))?;
    let timeline = cache.post_delivery_of(&key)?;
    let urls = cache.urls_of(nmid)?;
    let clicks = cache.clicks_of(nmid)?;
    let attachments = cache.attachments_of(&key)?;
    let alert_ids = cache.alerts_for_message(nmid)?;
    let mut sections = vec![
        summary(&e, data),
        delivery(&e, &timeline),
        timeline_section(&e, &timeline),
        authentication(&e),
        sender_intelligence(&e),
        urls_section(&urls, &clicks, &e.recipient_email_address),
        attachments_section(&attachments),
        related_alerts(&alert_ids, data),
    ];
    let mut jumps = Vec::new();
    if let Some((section, j)) = campaign_and_cluster(data, &key) {
        sections.push(section);
        jumps = j;
    }
    Ok(Detail {
        title: e.subject.clone(),
        sections,
        jumps,
        copy: e.network_message_id.clone(),
    })
}

/// Who, when, what threat.
fn summary(e: &EmailEvent, data: &Snapshot) -> Section {
    let tags = data.tags.tags_of(&e.recipient_email_address).join(", ");
    let mut s = Section::new("Summary");
    s.line("Received", format_datetime(&e.timestamp))
        .line(
            "From",
            format!("{} <{}>", e.sender_display_name, e.sender_from_address),
        )
        .line("To", e.recipient_email_address.clone())
        .line("Recipient tags", tags)
        .line("Direction", text(&e.email_direction))
        .line("Threats", e.threat_types.clone())
        .line("Threat names", e.threat_names.clone())
        .line(
            "Detection",
            crate::panes::emails::display(
                crate::panes::emails::EmailCol::Str(whalewatch_query::index::schema::DETECTION),
                &e.detection_methods,
            )
            .unwrap_or_else(|| e.detection_methods.clone()),
        )
        .line(
            "Confidence",
            crate::panes::emails::confidence(&e.confidence_level)
                .unwrap_or_else(|| e.confidence_level.clone()),
        )
        .line("Language", e.email_language.clone())
        .line("Network message id", e.network_message_id.clone())
        .line("Internet message id", e.internet_message_id.clone())
        .line("Cluster", e.email_cluster_id.to_string());
    s
}

/// The verdict and where the message is now.
fn delivery(e: &EmailEvent, timeline: &[PostDeliveryEvent]) -> Section {
    let mut d = Section::new("Delivery");
    // From the timeline's own events, by the definition the grid's flag uses.
    let zapped = timeline.iter().any(PostDeliveryEvent::is_zap);
    let released = timeline
        .iter()
        .any(PostDeliveryEvent::is_quarantine_release);
    d.line("Action", text(&e.delivery_action))
        .line("Original location", text(&e.delivery_location))
        .line("Latest location", text(&e.latest_delivery_location))
        .line("Latest action", e.latest_delivery_action.clone())
        .line("Policy", e.email_action_policy.clone())
        .line("Policy action", e.email_action.clone())
        .line(
            "Org / user override",
            format!("{} {}", e.org_level_action, e.user_level_action)
                .trim()
                .to_string(),
        )
        .line("Bulk complaint level", e.bulk_complaint_level.to_string())
        .line(
            "Priority account protection",
            if e.context.to_ascii_lowercase().contains("priority") {
                "yes"
            } else {
                "no"
            },
        )
        .line("ZAP", if zapped { "yes" } else { "no" })
        .line(
            "Additional actions",
            crate::panes::emails::additional(
                zapped,
                released,
                &text(&e.delivery_action),
                &e.latest_delivery_action,
            ),
        )
        .line("Connectors", e.connectors.clone());
    d
}

/// Delivery, then every post-delivery event, oldest first.
fn timeline_section(e: &EmailEvent, timeline: &[PostDeliveryEvent]) -> Section {
    let mut t = Section::new("Timeline");
    t.line(
        &format_datetime(&e.timestamp),
        format!(
            "delivered: {} → {}",
            text(&e.delivery_action),
            text(&e.delivery_location)
        ),
    );
    for ev in timeline {
        let what = [
            ev.action.as_str(),
            ev.action_type.as_str(),
            ev.action_trigger.as_str(),
        ]
        .iter()
        .filter(|x| !x.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
        t.line(
            &format_datetime(&ev.timestamp),
            format!(
                "{what} → {} ({})",
                text(&ev.delivery_location),
                ev.action_result
            ),
        );
    }
    t
}

/// SPF, DKIM, DMARC and composite authentication, failures flagged.
fn authentication(e: &EmailEvent) -> Section {
    let mut a = Section::new("Authentication");
    match e.authentication() {
        Some(auth) => {
            for (label, v) in [
                ("SPF", auth.spf),
                ("DKIM", auth.dkim),
                ("DMARC", auth.dmarc),
                ("Composite", auth.comp_auth),
            ] {
                let v = v.unwrap_or_else(|| "(not reported)".into());
                let bad = matches!(
                    v.to_ascii_lowercase().as_str(),
                    "fail" | "softfail" | "none" | "permerror" | "temperror"
                );
                a.flagged(label, v, bad);
            }
        }
        None => {
            a.line(
                "Details",
                if e.authentication_details.is_empty() {
                    "(none)".to_string()
                } else {
                    e.authentication_details.clone()
                },
            );
        }
    }
    a
}

/// Sender IP, return path and lookalike-domain warnings.
pub(super) fn sender_intelligence(e: &EmailEvent) -> Section {
    let own: Vec<String> = {
        let mut v = vec![recipient_domain(&e.recipient_email_address).to_ascii_lowercase()];
        v.dedup();
        v
    };
    let mut si = Section::new("Sender intelligence");
    si.line(
        "Sender IP",
        if e.sender_ipv4.is_empty() {
            e.sender_ipv6.clone()
        } else {
            e.sender_ipv4.clone()
        },
    )
    .line("From domain", e.sender_from_domain.clone())
    .line(
        "Mail from (return path)",
        e.sender_mail_from_address.clone(),
    );
    if !e.sender_mail_from_domain.is_empty()
        && !e
            .sender_mail_from_domain
            .eq_ignore_ascii_case(&e.sender_from_domain)
    {
        si.flagged(
            "Return path domain",
            format!("{} differs from the From domain", e.sender_mail_from_domain),
            true,
        );
    }
    let mut domains = vec![&e.sender_from_domain];
    if !e
        .sender_mail_from_domain
        .eq_ignore_ascii_case(&e.sender_from_domain)
    {
        domains.push(&e.sender_mail_from_domain);
    }
    for dom in domains {
        if let Some(w) = lookalike::warning(dom, &own) {
            si.flagged("Lookalike domain", format!("{dom}: {w}"), true);
        }
    }
    si
}

/// URLs with this recipient's clicks (the row's `clicked:` flag counts the same
/// clicks; clicks through, by [`UrlClick::got_through`], flagged).
fn urls_section(urls: &[EmailUrl], clicks: &[UrlClick], recipient: &str) -> Section {
    let mut u = Section::new(&format!("URLs ({})", urls.len()));
    let mine: Vec<&UrlClick> = clicks
        .iter()
        .filter(|c| c.account_upn.eq_ignore_ascii_case(recipient))
        .collect();
    for url in urls {
        let n = mine.iter().filter(|c| c.url == url.url).count();
        let through = mine
            .iter()
            .filter(|c| c.url == url.url && c.got_through())
            .count();
        let note = if n == 0 {
            String::new()
        } else {
            format!("  [{n} clicks, {through} through]")
        };
        u.flagged(&url.url_location, format!("{}{note}", url.url), through > 0);
    }
    u
}

/// Attachments with SHA256 (malicious ones flagged).
fn attachments_section(attachments: &[EmailAttachment]) -> Section {
    let mut at = Section::new(&format!("Attachments ({})", attachments.len()));
    for f in attachments {
        at.flagged(
            &f.file_name,
            format!(
                "{} · {} bytes · SHA256 {} {}",
                f.file_type, f.file_size, f.sha256, f.threat_types
            )
            .trim()
            .to_string(),
            !f.threat_types.is_empty(),
        );
    }
    at
}

/// The alerts whose evidence names the message.
fn related_alerts(alert_ids: &[String], data: &Snapshot) -> Section {
    let mut r = Section::new(&format!("Related alerts ({})", alert_ids.len()));
    for id in alert_ids {
        let title = data
            .alerts
            .items
            .iter()
            .find(|a| a.alert.id == *id)
            .map(|a| {
                format!(
                    "{} ({})",
                    a.alert.title,
                    a.alert.severity.as_ref().map_or("", |s| s.as_str())
                )
            })
            .unwrap_or_default();
        r.line(id, title);
    }
    r
}

/// The message's campaign and cluster, with the jumps from its row (only once the
/// index holds the row).
fn campaign_and_cluster(data: &Snapshot, key: &RowKey) -> Option<(Section, Vec<Jump>)> {
    let ix = data.emails.as_ref()?;
    let row = ix.row_of(key)?;
    {
        let mut c = Section::new("Campaign and cluster");
        if let Some(t) = ix.pivot(row, Pivot::SameCampaign) {
            c.line("Campaign", t.text);
        }
        if let Some(t) = ix.pivot(row, Pivot::SameCluster) {
            let n = ix
                .eval(&t.filter, chrono::Utc::now())
                .map_or(0, |r| r.count());
            c.line("Same cluster", format!("{n} recipient rows ({})", t.text));
        }
        Some((c, jumps_for(data, Pane::Emails, row as u32)))
    }
}

//! The figures and flags a flyout shows agree with the grid's cells and with each
//! other (issue 14, "Figures must agree"), over the fixture cache.

use super::*;
use crate::panes::campaigns::{self, CampaignCol};
use crate::panes::emails::{self as email_pane, EmailCol};
use crate::state::FlyoutKind;
use crate::update::tests::fixture;
use whalewatch_model::email::EmailEvent;
use whalewatch_query::index::figures::{Audience, campaign_figures, campaign_flow};
use whalewatch_query::index::schema as s;

fn line<'a>(d: &'a Detail, section: &str, label: &str) -> Option<&'a str> {
    d.sections
        .iter()
        .filter(|x| x.title.starts_with(section))
        .flat_map(|x| x.lines.iter())
        .find(|l| l.label == label)
        .map(|l| l.value.as_str())
}

fn email_detail(row: usize) -> Detail {
    let (path, data) = fixture();
    let ix = data.emails.as_ref().expect("index");
    let k = ix.key(row);
    let key = format!("{}|{}", k.network_message_id, k.recipient);
    load(path, data, &FlyoutKind::Email, &key).expect("detail")
}

#[test]
fn a_zapped_copy_says_zap_in_its_delivery_section_timeline_and_grid() {
    let (_, data) = fixture();
    let ix = data.emails.as_ref().expect("index");
    let zapped: Vec<usize> = (0..ix.len())
        .filter(|&r| ix.side().zapped.contains(r))
        .collect();
    assert!(!zapped.is_empty(), "the fixture has ZAP'd copies");
    for &r in zapped.iter().take(20) {
        let d = email_detail(r);
        assert_eq!(line(&d, "Delivery", "ZAP"), Some("yes"), "row {r}");
        assert_eq!(line(&d, "Delivery", "Additional actions"), Some("ZAP"));
        assert_eq!(
            email_pane::cell(data, r as u32, EmailCol::AdditionalActions),
            "ZAP"
        );
        let timeline = d
            .sections
            .iter()
            .find(|x| x.title == "Timeline")
            .expect("timeline");
        assert!(timeline.lines.iter().any(|l| l.value.contains("ZAP")));
    }
    // And a copy that was not ZAP'd says no.
    let clean = (0..ix.len())
        .find(|&r| !ix.side().zapped.contains(r))
        .expect("row");
    assert_eq!(line(&email_detail(clean), "Delivery", "ZAP"), Some("no"));
}

#[test]
fn a_clicked_row_shows_a_click_through_and_an_unclicked_row_none() {
    let (_, data) = fixture();
    let ix = data.emails.as_ref().expect("index");
    let through = |d: &Detail| -> usize {
        d.sections
            .iter()
            .filter(|x| x.title.starts_with("URLs"))
            .flat_map(|x| x.lines.iter())
            .filter(|l| l.warn)
            .count()
    };
    let clicked: Vec<usize> = (0..ix.len())
        .filter(|&r| ix.side().clicked.contains(r))
        .collect();
    assert!(!clicked.is_empty(), "the fixture has clicks through");
    for &r in clicked.iter().take(20) {
        let d = email_detail(r);
        assert!(
            through(&d) > 0,
            "clicked:yes row {r} shows no click through"
        );
        assert!(
            !d.sections
                .iter()
                .flat_map(|x| x.lines.iter())
                .any(|l| l.value.contains(" 0 through]") && l.warn),
            "row {r}"
        );
    }
    // Rows with a click that did not get through: clicks listed, none through.
    let blocked: Vec<usize> = (0..ix.len())
        .filter(|&r| ix.side().clicked_any.contains(r) && !ix.side().clicked.contains(r))
        .take(10)
        .collect();
    for r in blocked {
        assert_eq!(through(&email_detail(r)), 0, "row {r}");
    }
}

#[test]
fn the_lookalike_domain_line_appears_once_when_both_domains_are_the_same() {
    let e = EmailEvent {
        recipient_email_address: "ceo@contoso.com".into(),
        sender_from_domain: "contos0.com".into(),
        sender_mail_from_domain: "CONTOS0.com".into(),
        ..EmailEvent::default()
    };
    let si = email::sender_intelligence(&e);
    let n = si
        .lines
        .iter()
        .filter(|l| l.label == "Lookalike domain")
        .count();
    assert_eq!(n, 1, "{:?}", si.lines);
    // Two different lookalike domains: one line each.
    let e = EmailEvent {
        sender_mail_from_domain: "xn--cntoso-9ya.com".into(),
        ..e
    };
    let si = email::sender_intelligence(&e);
    let n = si
        .lines
        .iter()
        .filter(|l| l.label == "Lookalike domain")
        .count();
    assert_eq!(n, 2);
}

#[test]
fn campaign_click_rates_never_exceed_100_percent_and_cells_show_the_figures() {
    let (_, data) = fixture();
    assert!(!data.campaign_stats.is_empty());
    for (i, f) in data.campaign_stats.iter().enumerate() {
        assert!(f.clicked_inboxed <= f.inboxed, "campaign {i}: {f:?}");
        assert!(
            f.inboxed <= f.recipients && f.clicked <= f.recipients,
            "{f:?}"
        );
        assert!(f.clicked_through <= f.clicked, "{f:?}");
        assert!(
            f.priority <= f.recipients && f.recipients <= f.copies,
            "{f:?}"
        );
        if let Some(rate) = f.click_rate() {
            assert!((0.0..=100.0).contains(&rate), "campaign {i}: {rate}");
        }
        let cell = |c| campaigns::cell(data, i as u32, c);
        assert_eq!(cell(CampaignCol::Recipients), f.recipients.to_string());
        assert_eq!(cell(CampaignCol::Messages), f.messages.to_string());
        assert_eq!(cell(CampaignCol::Inboxed), f.inboxed.to_string());
        assert_eq!(cell(CampaignCol::Clicked), f.clicked.to_string());
        let rate = cell(CampaignCol::ClickRate);
        if let Some(v) = rate.strip_suffix('%') {
            assert!(v.parse::<f64>().expect("number") <= 100.0, "{rate}");
        }
    }
    assert!(data.campaign_stats.iter().any(|f| f.inboxed > 0));
}

#[test]
fn every_flow_layer_sums_to_the_impact_figure_it_names() {
    let (path, data) = fixture();
    let ix = data.emails.as_ref().expect("index");
    for (i, c) in data.campaigns.campaigns.iter().enumerate() {
        let (f, layers) = campaign_flow(ix, &data.campaigns, &c.id, &Audience::everyone(), 3)
            .expect("flow")
            .expect("campaign");
        assert_eq!(
            f, data.campaign_stats[i],
            "the flow's figures are the pane's"
        );
        assert_eq!(layers.len(), 5);
        for l in &layers {
            let sum: usize = l.values.iter().map(|v| v.1).sum();
            let want = match l.unit {
                "messages" => f.messages,
                "copies" => f.copies,
                _ => f.recipients,
            };
            assert_eq!((sum, l.total), (want, want), "{} layer {}", c.name, l.name);
        }
    }
    // The flyout labels the layers and shows the figures the pane shows.
    let c = &data.campaigns.campaigns[0];
    let d = load(path, data, &FlyoutKind::Campaign, &c.id).expect("detail");
    let f = &data.campaign_stats[0];
    assert_eq!(
        line(&d, "Impact", "Recipients"),
        Some(f.recipients.to_string().as_str())
    );
    let flow = d
        .sections
        .iter()
        .find(|x| x.title.starts_with("Flow"))
        .expect("flow");
    let labels: Vec<&str> = flow.lines.iter().map(|l| l.label.trim()).collect();
    for name in [
        "Sender IPs",
        "Sender domains",
        "Verdicts",
        "Delivery locations",
        "URL clicks",
    ] {
        assert!(
            labels.iter().any(|l| l.starts_with(name)),
            "{name}: {labels:?}"
        );
    }
}

#[test]
fn narrowing_to_a_tag_narrows_every_figure() {
    let (_, data) = fixture();
    let ix = data.emails.as_ref().expect("index");
    let tag = whalewatch_config::PRIORITY_ACCOUNT;
    let narrow = campaign_figures(ix, &data.campaigns, &Audience::tag(tag)).expect("figures");
    let members = data.tags.resolve(tag).expect("tag");
    let recipient = ix.str_column(s::RECIPIENT);
    let mut some = false;
    for (i, (all, n)) in data.campaign_stats.iter().zip(&narrow).enumerate() {
        assert!(
            n.recipients <= all.recipients && n.messages <= all.messages,
            "{i}"
        );
        assert!(n.inboxed <= all.inboxed && n.clicked <= all.clicked, "{i}");
        // Narrowed to priority accounts, every recipient is one.
        assert_eq!(n.recipients, n.priority, "{i}");
        assert_eq!(n.priority, all.priority, "{i}");
        assert_eq!(n.audience, members.len());
        let c = &data.campaigns.campaigns[i];
        let rows = whalewatch_query::index::figures::campaign_rows(
            ix,
            &data.campaigns,
            &c.id,
            &Audience::tag(tag),
        )
        .expect("rows")
        .expect("campaign");
        assert!(rows.iter().all(|&r| {
            members.contains(&whalewatch_query::index::text::fold(recipient.value(r)).into_owned())
        }));
        some |= n.recipients > 0 && n.recipients < all.recipients;
    }
    assert!(some, "some campaign reached priority accounts and others");
}

#[test]
fn the_session_tag_narrows_the_campaign_pane_and_flyout() {
    use crate::action::Action;
    use crate::update::{Msg, update};
    let mut st = crate::update::tests::state();
    let tag = whalewatch_config::PRIORITY_ACCOUNT.to_string();
    update(&mut st, Msg::Action(Action::SetTag(Some(tag.clone()))));
    let ix = st.data.emails.clone().expect("index");
    let narrow = campaign_figures(&ix, &st.data.campaigns, &Audience::tag(&tag)).expect("figures");
    assert_eq!(st.data.campaign_audience, Audience::tag(&tag));
    for (i, f) in narrow.iter().enumerate() {
        assert_eq!(
            campaigns::cell(&st.data, i as u32, CampaignCol::Recipients),
            f.recipients.to_string()
        );
    }
    let (path, _) = fixture();
    let c = &st.data.campaigns.campaigns[0];
    let d = load(path, &st.data, &FlyoutKind::Campaign, &c.id).expect("detail");
    assert_eq!(
        line(&d, "Impact", "Recipients"),
        Some(narrow[0].recipients.to_string().as_str())
    );
    assert_eq!(line(&d, "Impact", "Narrowed to"), Some(tag.as_str()));
    // Clearing the tag restores the whole campaign.
    update(&mut st, Msg::Action(Action::SetTag(None)));
    assert_eq!(st.data.campaign_stats, fixture().1.campaign_stats);
}

#[test]
fn a_copy_released_from_quarantine_shows_it_in_timeline_grid_and_flyout() {
    let (_, data) = fixture();
    let ix = data.emails.as_ref().expect("index");
    let released: Vec<usize> = (0..ix.len())
        .filter(|&r| ix.side().released.contains(r))
        .collect();
    assert!(
        !released.is_empty(),
        "the fixture world releases some copies"
    );
    for &r in released.iter().take(10) {
        let d = email_detail(r);
        let timeline = d
            .sections
            .iter()
            .find(|x| x.title == "Timeline")
            .expect("timeline");
        assert!(
            timeline
                .lines
                .iter()
                .any(|l| l.value.contains("Quarantine release") && l.value.contains("Inbox")),
            "row {r}: {:?}",
            timeline.lines
        );
        let grid = email_pane::cell(data, r as u32, EmailCol::AdditionalActions);
        assert!(grid.contains("Quarantine release"), "row {r}: {grid}");
        assert_eq!(
            line(&d, "Delivery", "Additional actions"),
            Some(grid.as_str())
        );
        assert_eq!(
            line(&d, "Delivery", "Latest location"),
            Some("Inbox/folder")
        );
    }
}

#[test]
fn toggling_the_tag_back_reuses_the_figures_computed_at_load() {
    use crate::action::Action;
    use crate::update::{Msg, update};
    let mut st = crate::update::tests::state();
    let at_load = st.data.campaign_stats.clone();
    assert!(!at_load.is_empty());
    let tag = whalewatch_config::PRIORITY_ACCOUNT.to_string();
    update(&mut st, Msg::Action(Action::SetTag(Some(tag))));
    assert!(!std::sync::Arc::ptr_eq(&st.data.campaign_stats, &at_load));
    update(&mut st, Msg::Action(Action::SetTag(None)));
    assert!(
        std::sync::Arc::ptr_eq(&st.data.campaign_stats, &at_load),
        "the figures of everyone were computed again"
    );
}

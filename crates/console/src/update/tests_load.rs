//! `update()` tests for the load order (issue 15): the email index and the rest
//! (alerts, campaigns, users, incidents, posture) load side by side after the first
//! frame and arrive in either order. Each pane shows what it has and says what it
//! waits for — never an empty pane or a zero that reads as "nothing there", never a
//! figure computed from half the data.

use std::collections::BTreeMap;

use super::tests::{fixture, key};
use super::*;
use crate::commands::Keymap;
use crate::data::{self, RecipientData};
use crate::panes::{self, ColumnId};
use crate::panes::{accounts::AccountCol, campaigns::CampaignCol, posture::PostureCol};
use crate::views::tests::render;

/// The three messages of one load, as the workers send them.
struct Load {
    quick: Snapshot,
    emails: EmailData,
    recipients: RecipientData,
}

fn load() -> Load {
    let path = &fixture().0;
    let mut quick = crate::fixture::with_planted_posture(data::load_quick(path).expect("quick"));
    quick.index_follows = true;
    let emails = data::load_index(path).expect("index");
    let recipients = data::recipient_data(&emails.index);
    Load {
        quick,
        emails,
        recipients,
    }
}

/// The console as the first frame leaves it: the newest mail and alerts only.
fn first_frame() -> State {
    let first = data::load_first(&fixture().0).expect("first");
    let mut s = State::new(
        super::tests::session(),
        first,
        Keymap::new(&BTreeMap::new()).expect("keymap"),
        crate::fixture::now(),
    );
    update(&mut s, Msg::Action(Action::Resize(200, 50)));
    s
}

/// Shows `pane` (as its key would) and reads column `col` of its rows.
fn cells(s: &mut State, pane: Pane, col: ColumnId) -> Vec<String> {
    update(s, Msg::Action(Action::Pane(pane)));
    let g = s.grid().expect("grid");
    g.rows
        .iter()
        .map(|&r| panes::cell(&s.data, r, col))
        .collect()
}

/// Shows `pane` and renders the screen.
fn screen_of(s: &mut State, pane: Pane) -> String {
    update(s, Msg::Action(Action::Pane(pane)));
    render(s, 200, 50)
}

/// The figures every pane shows once everything is loaded, whatever the order.
fn assert_everything_shown(s: &mut State, how: &str) {
    let want = super::tests::snapshot();
    assert!(s.data.fully_loaded(), "{how}: not fully loaded");
    // Posture: the priority accounts, with their mail exposure.
    let posture = screen_of(s, Pane::Posture);
    assert!(!posture.contains("loading"), "{how}:\n{posture}");
    let verdicts = cells(s, Pane::Posture, ColumnId::Posture(PostureCol::Verdict));
    assert!(!verdicts.is_empty(), "{how}: an empty posture pane");
    let phish = cells(s, Pane::Posture, ColumnId::Posture(PostureCol::Phish));
    assert!(
        phish.iter().all(|p| p.parse::<usize>().is_ok()),
        "{how}: {phish:?}"
    );
    // Campaigns: the same figures as a load that had both halves at once.
    assert_eq!(s.data.campaign_stats, want.campaign_stats, "{how}");
    let recipients = cells(
        s,
        Pane::Campaigns,
        ColumnId::Campaign(CampaignCol::Recipients),
    );
    assert!(
        !recipients.is_empty() && recipients.iter().all(|r| r != panes::PENDING),
        "{how}: {recipients:?}"
    );
    // Accounts: the tag figures and per-user mail.
    assert_eq!(s.data.tag_stats, want.tag_stats, "{how}");
    let mail = cells(s, Pane::Accounts, ColumnId::Account(AccountCol::Mail));
    assert!(mail.iter().all(|m| m.parse::<usize>().is_ok()), "{how}");
    // Emails: every row, and the status line says so.
    assert_eq!(
        cells(
            s,
            Pane::Emails,
            ColumnId::Email(panes::emails::EmailCol::Time)
        )
        .len(),
        want.emails.as_ref().expect("index").len(),
        "{how}"
    );
    let screen = render(s, 200, 50);
    assert!(screen.contains("emails indexed"), "{how}:\n{screen}");
    assert!(!screen.contains("loading"), "{how}:\n{screen}");
}

#[test]
fn the_index_before_the_rest_leaves_no_pane_looking_empty() {
    let l = load();
    let mut s = first_frame();
    update(&mut s, Msg::Emails(l.emails));

    // The Emails pane is whole at once: every row, the histogram, a filter.
    key(&mut s, '2');
    let g = s.grid().expect("grid");
    assert_eq!(g.rows.len(), s.data.newest.len());
    assert!(g.histogram.is_some());
    let screen = render(&s, 200, 50);
    assert!(screen.contains("emails indexed"), "{screen}");
    // The other half's state is said, not hidden behind "indexed".
    assert!(screen.contains("loading alerts"), "{screen}");

    // Posture is loading, and says so: not an empty pane.
    let posture = screen_of(&mut s, Pane::Posture);
    assert!(posture.contains("loading posture…"), "{posture}");
    assert!(!posture.contains("no rows match"), "{posture}");
    assert!(!posture.contains("Secure Score unknown"), "{posture}");
    assert!(!posture.contains("0 practices failing"), "{posture}");
    // Alerts: the newest only, and said so.
    let alerts = screen_of(&mut s, Pane::Alerts);
    assert!(
        alerts.contains("loading alerts… (showing the newest"),
        "{alerts}"
    );
    // No figure from half the data: tag alert counts wait for every alert.
    assert!(s.data.tag_stats.iter().all(|t| t.alerts.is_none()));

    update(&mut s, Msg::Recipients(l.recipients));
    update(&mut s, Msg::Loaded(Box::new(l.quick)));
    assert_everything_shown(&mut s, "index, recipients, then the rest");
}

#[test]
fn the_rest_before_the_index_shows_pending_figures_then_the_figures() {
    let l = load();
    let mut s = first_frame();
    update(&mut s, Msg::Loaded(Box::new(l.quick)));

    // Posture rows are there; their mail figures wait for the index, visibly.
    let verdicts = cells(
        &mut s,
        Pane::Posture,
        ColumnId::Posture(PostureCol::Verdict),
    );
    assert!(!verdicts.is_empty());
    let phish = cells(&mut s, Pane::Posture, ColumnId::Posture(PostureCol::Phish));
    assert!(phish.iter().all(|p| p == panes::PENDING), "{phish:?}");
    // Campaigns are listed, their figures `…` (not blank, not zero).
    let recipients = cells(
        &mut s,
        Pane::Campaigns,
        ColumnId::Campaign(CampaignCol::Recipients),
    );
    assert!(!recipients.is_empty());
    assert!(
        recipients.iter().all(|r| r == panes::PENDING),
        "{recipients:?}"
    );
    let campaigns = screen_of(&mut s, Pane::Campaigns);
    assert!(campaigns.contains("figures follow"), "{campaigns}");
    let screen = render(&s, 200, 50);
    assert!(screen.contains("indexing"), "{screen}");
    assert!(!screen.contains("emails indexed"), "{screen}");

    // The index: campaign figures at once (both halves), mail figures after.
    update(&mut s, Msg::Emails(l.emails));
    assert!(!s.data.campaign_stats.is_empty());
    let mail = cells(&mut s, Pane::Accounts, ColumnId::Account(AccountCol::Mail));
    assert!(mail.iter().all(|m| m == panes::PENDING), "{mail:?}");
    update(&mut s, Msg::Recipients(l.recipients));
    assert_everything_shown(&mut s, "the rest, then the index");
}

#[test]
fn a_reload_in_either_order_keeps_every_pane_whole() {
    for index_first in [true, false] {
        let how = if index_first {
            "reload: index first"
        } else {
            "reload: the rest first"
        };
        let l = load();
        let mut s = first_frame();
        update(&mut s, Msg::Emails(l.emails.clone()));
        update(&mut s, Msg::Recipients(l.recipients.clone()));
        update(&mut s, Msg::Loaded(Box::new(l.quick.clone())));
        assert_everything_shown(&mut s, "before the reload");
        // The analyst sits on Posture while a refresh's reload arrives.
        key(&mut s, '5');
        let before = s.grid().expect("grid").rows.len();
        let again = load();
        if index_first {
            update(&mut s, Msg::Emails(again.emails));
            // The old quick half stays whole meanwhile.
            assert_eq!(s.grid().expect("grid").rows.len(), before, "{how}");
            update(&mut s, Msg::Recipients(again.recipients));
            update(&mut s, Msg::Loaded(Box::new(again.quick)));
        } else {
            update(&mut s, Msg::Loaded(Box::new(again.quick)));
            // The kept index keeps the Posture figures and campaign figures.
            assert!(s.data.recipients.is_some(), "{how}");
            assert_eq!(s.grid().expect("grid").rows.len(), before, "{how}");
            update(&mut s, Msg::Emails(again.emails));
            update(&mut s, Msg::Recipients(again.recipients));
        }
        assert_eq!(s.grid().expect("grid").rows.len(), before, "{how}");
        assert_everything_shown(&mut s, how);
    }
}

#[test]
fn figures_of_another_index_are_dropped() {
    let l = load();
    let mut s = first_frame();
    // Figures before their index (a stale worker) are not applied.
    update(&mut s, Msg::Recipients(l.recipients));
    assert!(s.data.recipients.is_none());
    let mut stale = data::recipient_data(&l.emails.index);
    stale.generation += 1;
    update(&mut s, Msg::Emails(l.emails));
    update(&mut s, Msg::Recipients(stale));
    assert!(s.data.recipients.is_none());
}

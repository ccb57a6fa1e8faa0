//! Snapshots of every pane, flyout and overlay at 80×24 and 200×50 (`TestBackend`,
//! text only; styles are covered by the theme's own words-and-symbols rule).

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::state::{State, View};
use crate::theme::{Palette, Theme};
use crate::update::tests::{code, key, settle_details, state, typed};
use crate::update::{Msg, update};

pub(crate) fn render(s: &State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("backend");
    t.draw(|f| super::draw(f, s, &Theme::new(Palette::None)))
        .expect("draw");
    format!("{}", t.backend())
}

/// Builds the state `setup` leads to at each size and snapshots both.
fn snap(name: &str, setup: impl Fn(&mut State)) {
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let mut s = state();
        update(&mut s, Msg::Action(crate::action::Action::Resize(w, h)));
        setup(&mut s);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&s, w, h));
    }
}

/// Moves the email grid's cursor to the first row with an alert, a campaign and ZAP.
fn to_rich_phish(s: &mut State) {
    key(s, ':');
    typed(s, "emails threat:phish zap:yes");
    code(s, KeyCode::Enter);
    let ix = s.data.emails.clone().expect("index");
    let g = s.grid().expect("grid");
    let pos = g
        .rows
        .iter()
        .position(|&r| {
            ix.pivot(r as usize, whalewatch_query::index::Pivot::MessageAlerts)
                .is_some()
                && ix
                    .pivot(r as usize, whalewatch_query::index::Pivot::SameCampaign)
                    .is_some()
        })
        .unwrap_or(0);
    for _ in 0..pos {
        key(s, 'j');
    }
}

#[test]
fn panes() {
    snap("alerts", |_| {});
    snap("emails", |s| {
        key(s, '2');
    });
    snap("emails_priority", |s| {
        key(s, '2');
        key(s, 'P');
    });
    snap("campaigns", |s| {
        key(s, '3');
    });
    snap("accounts", |s| {
        key(s, '4');
    });
}

#[test]
fn explorer_tabs() {
    snap("top_urls", |s| {
        key(s, '8');
    });
    snap("top_clicks", |s| {
        key(s, '9');
    });
    snap("top_targeted_users", |s| {
        key(s, '2');
        key(s, 'U');
    });
    snap("top_malware_families", |s| {
        key(s, '2');
        key(s, 'M');
    });
}

#[test]
fn flyouts() {
    snap("email_flyout", |s| {
        to_rich_phish(s);
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
    });
    snap("email_flyout_scrolled", |s| {
        to_rich_phish(s);
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
        code(s, KeyCode::PageDown);
    });
    snap("alert_flyout", |s| {
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
    });
    snap("campaign_flyout", |s| {
        key(s, '3');
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
    });
    snap("account_flyout", |s| {
        key(s, '4');
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
    });
}

#[test]
fn overlays_and_tables() {
    snap("help", |s| {
        key(s, '?');
    });
    snap("tag_picker", |s| {
        key(s, 't');
        typed(s, "fi");
    });
    snap("related", |s| {
        key(s, '2');
        to_rich_phish(s);
        key(s, 'R');
    });
    snap("columns", |s| {
        key(s, '2');
        key(s, 'C');
    });
    snap("frequency", |s| {
        key(s, '2');
        for _ in 0..5 {
            key(s, 'l');
        }
        key(s, 'F');
    });
    snap("filter_prompt", |s| {
        key(s, '2');
        key(s, '/');
        typed(s, "tag:Fin");
        code(s, KeyCode::Tab);
    });
    snap("command_view", |s| {
        key(s, ':');
        typed(s, "emails tag:Finance threat:phish since:7d");
        code(s, KeyCode::Enter);
    });
}

#[test]
fn small_terminals_get_a_notice_and_nothing_panics() {
    let s = state();
    let text = render(&s, 59, 14);
    assert!(text.contains("terminal too small"), "{text}");
    for (w, h) in [(1, 1), (1, 30), (200, 1), (60, 15), (61, 16), (300, 100)] {
        let _ = render(&s, w, h);
    }
    assert!(matches!(s.top(), View::Grid(_)));
}

#[test]
fn posture_pane_flyout_checklist_and_sign_ins() {
    snap("posture_pane", |s| {
        key(s, '5');
    });
    snap("posture_flyout", |s| {
        key(s, '5');
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
    });
    snap("posture_checklist", |s| {
        key(s, '5');
        let e = key(s, 'T');
        settle_details(s, e);
    });
    snap("posture_sign_ins", |s| {
        key(s, '5');
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
        key(s, 'R');
        code(s, KeyCode::Enter);
    });
}

#[test]
fn incidents_pane_and_flyout() {
    snap("incidents", |s| {
        key(s, '7');
    });
    snap("incidents_priority", |s| {
        key(s, '7');
        key(s, 'P');
    });
    snap("incident_flyout", |s| {
        key(s, '7');
        let e = code(s, KeyCode::Enter);
        settle_details(s, e);
    });
}

#[test]
fn search_range_and_selected_bar() {
    use crate::update::search_tests::search_for;
    snap("search", |s| {
        update(
            s,
            Msg::Key(crossterm::event::KeyEvent::new(
                KeyCode::Char('p'),
                crossterm::event::KeyModifiers::CONTROL,
            )),
        );
        search_for(s, "invoice");
        code(s, KeyCode::Down);
    });
    snap("range_and_bar", |s| {
        key(s, '2');
        key(s, ':');
        typed(s, "range 2026-10-25..2026-10-31");
        code(s, KeyCode::Enter);
        key(s, '[');
        key(s, '[');
    });
}

#[test]
fn remote_view() {
    use crate::update::remote_tests::{ctrl_r, settle};
    snap("remote", |s| {
        key(s, ':');
        typed(s, "emails threat:phish");
        code(s, KeyCode::Enter);
        let e = ctrl_r(s);
        settle(s, e);
    });
}

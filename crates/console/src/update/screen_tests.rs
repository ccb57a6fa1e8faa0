//! `update()` tests for what the screen says is now, marks and writes, the column
//! chooser, the view line and the export (issue 14).

use crossterm::event::KeyCode;

use super::tests::{code, key, state};
use super::*;

fn titles(s: &State) -> Vec<&'static str> {
    s.grid()
        .expect("grid")
        .columns
        .iter()
        .map(|c| c.title)
        .collect()
}

#[test]
fn column_chooser_esc_cancels_and_enter_applies() {
    let mut s = state();
    key(&mut s, '2');
    let before = titles(&s);
    key(&mut s, 'C');
    // Hide the first column, move the next one down: nothing changes until enter.
    code(&mut s, KeyCode::Char(' '));
    key(&mut s, 'J');
    assert_eq!(titles(&s), before, "the chooser edits a draft");
    let effects = code(&mut s, KeyCode::Esc);
    assert!(s.overlay.is_none());
    assert!(effects.is_empty(), "esc saves nothing");
    assert_eq!(titles(&s), before, "esc cancels");

    key(&mut s, 'C');
    code(&mut s, KeyCode::Char(' '));
    let effects = code(&mut s, KeyCode::Enter);
    assert!(s.overlay.is_none());
    let after = titles(&s);
    assert_eq!(after, before[1..].to_vec(), "enter applies");
    assert!(
        matches!(effects.as_slice(), [Effect::SaveColumns(t)] if *t == after.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        "enter saves: {effects:?}"
    );
}

/// The email index again with `n` rows now newest (every position shifts by `n`),
/// as a refresh that brought new mail delivers it.
fn reload_with_newer_rows(s: &State, n: usize) -> Msg {
    let data = super::tests::snapshot();
    let mut newest: Vec<u32> = data.newest.to_vec();
    newest.rotate_right(n);
    let _ = s;
    Msg::Emails(EmailData {
        index: data.emails.clone().expect("index"),
        newest: std::sync::Arc::new(newest),
        histogram_all: data.histogram_all.clone().expect("histogram"),
        campaign_stats: data.campaign_stats.clone(),
        recipients: data.recipients.clone(),
    })
}

#[test]
fn a_pane_opens_on_its_first_row_after_new_mail_arrived() {
    // The console opens on Alerts; the refresh on start brings three new messages.
    let mut s = state();
    let msg = reload_with_newer_rows(&s, 3);
    update(&mut s, msg);
    key(&mut s, '2');
    let g = s.grid().expect("grid");
    assert_eq!((g.cursor, g.offset), (0, 0), "first row, nothing hidden above");
    assert_eq!(g.rows.first(), s.data.newest.first(), "the newest row first");
}

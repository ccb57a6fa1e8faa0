//! What the console keeps in memory per row: one newest-first order shared by the
//! unfiltered mail grid and the snapshot, no alert or incident JSON.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{code, key, state, typed};
use super::*;
use crate::action::Pane;
use crate::state::Grid;

fn grid(s: &State) -> &Grid {
    s.grid().expect("a grid")
}

/// `/`, the line replaced by `text`, Enter: as the analyst filters.
fn filter(s: &mut State, text: &str) {
    key(s, '/');
    update(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typed(s, text);
    code(s, KeyCode::Enter);
}

/// The unfiltered mail grid in its default order is the snapshot's newest-first
/// list itself (not a copy: 4 bytes per row); a filter or a sort gives it rows of
/// its own, and clearing them shares the list again.
#[test]
fn the_unfiltered_mail_grid_shares_the_snapshots_newest_order() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Pane(Pane::Emails)));
    let all = s.data.newest.clone();
    assert!(all.len() > 500, "an indexed mailbox: {}", all.len());
    assert!(Arc::ptr_eq(&grid(&s).rows, &all), "shared, not copied");

    filter(&mut s, "threat:phish");
    assert_eq!(grid(&s).filter_text, "threat:phish");
    let phish = grid(&s).rows.clone();
    assert!(!phish.is_empty() && phish.len() < all.len());
    let expected: Vec<u32> = all.iter().copied().filter(|r| phish.contains(r)).collect();
    assert_eq!(*phish, expected, "a filter keeps the newest-first order");

    filter(&mut s, "");
    assert!(grid(&s).filter_text.is_empty());
    assert!(Arc::ptr_eq(&grid(&s).rows, &all));
    update(&mut s, Msg::Action(Action::SortDescending));
    assert!(
        !Arc::ptr_eq(&grid(&s).rows, &all),
        "a sort orders its own rows"
    );
    assert_eq!(grid(&s).rows.len(), all.len());
}

/// Alerts and incidents are held parsed, without the JSON they were parsed from
/// (as trees of values it was the console's largest heap); the export reads it
/// back from the cache (`export::tests`).
#[test]
fn the_snapshot_holds_no_alert_or_incident_json() {
    let s = state();
    assert!(!s.data.alerts.items.is_empty() && !s.data.incidents.items.is_empty());
    assert!(s.data.alerts.items.iter().all(|a| a.alert.raw.is_null()));
    assert!(
        s.data
            .incidents
            .items
            .iter()
            .all(|i| i.incident.raw.is_null())
    );
    // The parsed fields the panes read are all there.
    assert!(s.data.alerts.items.iter().all(|a| !a.alert.id.is_empty()));
}

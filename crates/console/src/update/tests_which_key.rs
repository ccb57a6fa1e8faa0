//! which-key: a prefix key lists the keys that complete it; a pause (an injected
//! `Msg::Pause`, as the app sends after a second without keys) lists the keys
//! available here; the next key acts as usual.

use crossterm::event::KeyCode;

use super::tests::{code, key, state};
use super::*;

#[test]
fn g_is_a_prefix_g_g_goes_to_the_top_and_g_e_to_the_bottom() {
    let mut s = state();
    key(&mut s, '2');
    for _ in 0..5 {
        key(&mut s, 'j');
    }
    key(&mut s, 'g');
    assert_eq!(
        s.overlay,
        Some(Overlay::WhichKey {
            prefix: Some("g".into())
        })
    );
    assert_eq!(
        s.grid().map(|g| g.cursor),
        Some(5),
        "g alone does nothing yet"
    );
    key(&mut s, 'g');
    assert_eq!(s.overlay, None);
    assert_eq!(s.grid().map(|g| g.cursor), Some(0));
    key(&mut s, 'g');
    key(&mut s, 'e');
    let last = s.grid().map(|g| g.rows.len() - 1);
    assert_eq!(s.grid().map(|g| g.cursor), last);
}

#[test]
fn a_key_that_completes_nothing_or_esc_only_cancels_the_prefix() {
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, 'j');
    key(&mut s, 'g');
    key(&mut s, 'x');
    assert_eq!(s.overlay, None);
    assert_eq!(s.grid().map(|g| g.cursor), Some(1));
    key(&mut s, 'g');
    code(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, None);
    assert_eq!(s.pane(), Pane::Emails);
    assert!(!s.quit);
}

#[test]
fn a_pause_after_a_key_that_does_nothing_shows_the_keys_and_the_next_key_acts() {
    let mut s = state();
    key(&mut s, '2');
    update(&mut s, Msg::Pause);
    assert_eq!(
        s.overlay, None,
        "a pause after a key that acted interrupts nobody"
    );
    key(&mut s, 'Z');
    update(&mut s, Msg::Pause);
    assert_eq!(s.overlay, Some(Overlay::WhichKey { prefix: None }));
    key(&mut s, 'j');
    assert_eq!(s.overlay, None);
    assert_eq!(s.grid().map(|g| g.cursor), Some(1), "j moved as usual");
    // Esc after a pause still goes back a view.
    let e = code(&mut s, KeyCode::Enter);
    assert!(!e.is_empty());
    key(&mut s, 'Z');
    update(&mut s, Msg::Pause);
    code(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, None);
    assert!(matches!(s.top(), View::Grid(_)), "back from the flyout");
}

#[test]
fn no_pause_popup_over_a_prompt_or_another_overlay() {
    let mut s = state();
    key(&mut s, '/');
    update(&mut s, Msg::Pause);
    assert_eq!(s.overlay, None);
    code(&mut s, KeyCode::Esc);
    key(&mut s, '?');
    update(&mut s, Msg::Pause);
    assert_eq!(s.overlay, Some(Overlay::Help { scroll: 0 }));
}

//! Snapshots of what the screen says about now and about order (issue 14): the
//! sort column's arrow, rows above and below the page, ticking ages, per-source
//! errors.

use crate::action::Action;
use crate::update::tests::{key, new_mail_above, state};
use crate::update::{Msg, update};

use super::tests::render;

#[test]
fn alert_queue_is_newest_activity_first_and_says_so() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Resize(120, 20)));
    let g = s.grid().expect("grid");
    let times: Vec<_> = g
        .rows
        .iter()
        .map(|&r| {
            s.data.alerts.items[r as usize]
                .alert
                .last_activity_date_time
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest activity first"
    );
    let screen = render(&s, 120, 20);
    assert!(screen.contains("Last activity ▼"), "{screen}");
    assert!(screen.contains("by Last activity ▼"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn rows_above_and_below_the_page_are_announced() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Resize(120, 24)));
    key(&mut s, '2');
    for _ in 0..4 {
        key(&mut s, 'j');
    }
    // New mail arrives: three rows now sit above the page (the selection keeps its
    // row and its screen line).
    new_mail_above(&mut s, 3);
    let g = s.grid().expect("grid");
    assert_eq!(g.offset, 3);
    let screen = render(&s, 120, 24);
    assert!(screen.contains("▲ 3 more"), "{screen}");
    assert!(screen.contains("Date ▼"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// The status line of a rendered screen.
fn status_line(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|l| l.contains("cache "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn cache_ages_tick_from_now_and_only_a_changed_text_asks_for_a_redraw() {
    let mut s = state();
    let start = crate::fixture::now();
    // The fixture's sources all succeeded at `start`.
    update(&mut s, Msg::Tick(start + chrono::Duration::seconds(42)));
    let at_42 = super::chrome::ticking(&s);
    assert!(
        status_line(&render(&s, 120, 24)).contains("cache 42s old"),
        "{}",
        render(&s, 120, 24)
    );
    // Half a second later the text is the same: the app draws nothing.
    update(
        &mut s,
        Msg::Tick(start + chrono::Duration::milliseconds(42_500)),
    );
    assert_eq!(super::chrome::ticking(&s), at_42);
    // Four minutes later the age has moved on.
    update(&mut s, Msg::Tick(start + chrono::Duration::minutes(4)));
    assert_ne!(super::chrome::ticking(&s), at_42);
    assert!(status_line(&render(&s, 120, 24)).contains("cache 4m old"));
    // `:sources` ticks too, per source.
    update(&mut s, Msg::Action(Action::Run("sources".into())));
    let screen = render(&s, 120, 24);
    assert!(screen.contains("4m ago"), "{screen}");
    let before = super::chrome::ticking(&s);
    update(&mut s, Msg::Tick(start + chrono::Duration::minutes(7)));
    assert_ne!(super::chrome::ticking(&s), before);
    assert!(render(&s, 120, 24).contains("7m ago"));
}

#[test]
fn a_failed_refresh_shows_its_error_on_its_source_in_sources() {
    use crate::update::RefreshEvent;
    use whalewatch_sync::Progress;
    let mut s = state();
    let source = s.data.sources[1].source.clone();
    update(&mut s, Msg::Action(Action::Refresh));
    update(
        &mut s,
        Msg::Refresh(RefreshEvent::Progress(Progress::Started {
            source: source.clone(),
            expected_rows: None,
        })),
    );
    update(
        &mut s,
        Msg::Refresh(RefreshEvent::Failed("403 Forbidden".into())),
    );
    update(&mut s, Msg::Action(Action::Run("sources".into())));
    let screen = render(&s, 120, 30);
    let line = screen
        .lines()
        .find(|l| l.contains(&source))
        .expect("the source's line");
    assert!(line.contains("403 Forbidden"), "{screen}");
    // The other sources are not blamed.
    let blamed = screen
        .lines()
        .filter(|l| l.contains('│') && l.contains("403"))
        .count();
    assert_eq!(blamed, 1, "{screen}");
    insta::assert_snapshot!(screen);
}

//! `update()` behaviour over a real cache (the simulator refreshed through the
//! pipeline once per test run).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::commands::Keymap;
use crate::data::{self, Snapshot};
use crate::panes::{self, ColumnId, emails::EmailCol};
use crate::state::{Grid, Session};
use whalewatch_config::PRIORITY_ACCOUNT;
use whalewatch_query::index::text::fold;

/// The fixture cache and its snapshot, built once per test run. Times that depend
/// on the wall clock (when the refresh ran) are pinned, so screens are stable.
pub(crate) fn fixture() -> &'static (std::path::PathBuf, Snapshot) {
    static DATA: OnceLock<(std::path::PathBuf, Snapshot)> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("whalewatch-ui-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path =
            crate::fixture::build(&dir, crate::fixture::params(11, 3_000)).expect("fixture cache");
        let quick = data::load_quick(&path).expect("load");
        let emails = data::load_emails(&path).expect("index");
        let mut s = quick.with_emails(emails);
        let now = crate::fixture::now();
        for src in &mut s.sources {
            src.last_success = Some(whalewatch_model::hunting::to_ticks(&now));
        }
        s.loaded_at = Some(now + chrono::Duration::minutes(5));
        (path, s)
    })
}

pub(crate) fn snapshot() -> Snapshot {
    fixture().1.clone()
}

/// The session the tests' console runs as.
pub(crate) fn session() -> Session {
    Session {
        profile: "fixture".into(),
        tenant: "contoso".into(),
        read_only: false,
        can_refresh: true,
        analyst: "analyst@contoso.com".into(),
        assignee: Some("analyst@contoso.com".into()),
        config_path: None,
    }
}

/// New mail arrives: the fixture's index again, with its last `n` rows first in the
/// newest-first order (they now sit above the rows on screen).
pub(crate) fn new_mail_above(s: &mut State, n: usize) {
    let data = snapshot();
    let mut newest: Vec<u32> = data.newest.to_vec();
    newest.rotate_right(n);
    update(
        s,
        Msg::Emails(crate::data::EmailData {
            index: data.emails.clone().expect("index"),
            newest: std::sync::Arc::new(newest),
            histogram_all: data.histogram_all.clone().expect("histogram"),
            recipients: data.recipients.clone(),
        }),
    );
}

/// The console over the fixture, with the planted posture gaps injected
/// (`fixture::with_planted_posture`) as the load step would read them.
pub(crate) fn state() -> State {
    let mut s = State::new(
        session(),
        crate::fixture::with_planted_posture(snapshot()),
        Keymap::new(&BTreeMap::new()).expect("keymap"),
        crate::fixture::now(),
    );
    update(&mut s, Msg::Action(Action::Resize(200, 50)));
    s
}

pub(crate) fn key(s: &mut State, c: char) -> Vec<Effect> {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    update(s, Msg::Key(KeyEvent::new(KeyCode::Char(c), mods)))
}

pub(crate) fn code(s: &mut State, c: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

/// The reason the command line refused its last line (it stays open with the reason,
/// not as a notice); closes the prompt as `esc` would. `None`: nothing was refused.
pub(crate) fn refusal(s: &mut State) -> Option<String> {
    let why = s.prompt.as_ref().and_then(|p| p.error.clone());
    if why.is_some() {
        code(s, KeyCode::Esc);
    }
    why
}

/// Effects other than saving the prompt history (which every submitted line makes).
pub(crate) fn without_history(effects: Vec<Effect>) -> Vec<Effect> {
    effects
        .into_iter()
        .filter(|e| !matches!(e, Effect::SaveHistory(_)))
        .collect()
}

pub(crate) fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        key(s, c);
    }
}

fn grid(s: &State) -> &Grid {
    s.grid().expect("a grid")
}

/// Raw values of column `col` over the rows of the nearest grid.
fn values(s: &State, col: ColumnId) -> Vec<String> {
    grid(s)
        .rows
        .iter()
        .map(|&r| panes::cell(&s.data, r, col))
        .collect()
}

const RECIPIENT: ColumnId =
    ColumnId::Email(EmailCol::Str(whalewatch_query::index::schema::RECIPIENT));
const SENDER_DOMAIN: ColumnId = ColumnId::Email(EmailCol::Str(
    whalewatch_query::index::schema::SENDER_DOMAIN,
));

#[test]
fn priority_key_narrows_every_pane_and_toggles_back() {
    let mut s = state();
    key(&mut s, '2');
    let all = grid(&s).rows.len();
    let alerts_all = s.panes[0].rows.len();
    key(&mut s, 'P');
    assert_eq!(s.tag.as_deref(), Some(PRIORITY_ACCOUNT));
    let members: Vec<String> = s.data.tags.resolve(PRIORITY_ACCOUNT).expect("tag").to_vec();
    let rows = values(&s, RECIPIENT);
    assert!(
        !rows.is_empty() && rows.len() < all,
        "{} of {all}",
        rows.len()
    );
    assert!(rows.iter().all(|r| members.contains(&fold(r).into_owned())));
    key(&mut s, '1');
    assert!(grid(&s).rows.len() < alerts_all, "alerts narrowed too");
    key(&mut s, 'P');
    assert_eq!(s.tag, None);
    assert_eq!(grid(&s).rows.len(), alerts_all);
}

#[test]
fn a_tag_evaluates_panes_off_screen_when_shown_keeping_the_row_under_their_cursor() {
    let mut s = state();
    let members: Vec<String> = s.data.tags.resolve(PRIORITY_ACCOUNT).expect("tag").to_vec();
    key(&mut s, '1');
    // An alert below the first row that stays in the result under the tag.
    let rows = grid(&s).rows.clone();
    let target = (1..rows.len())
        .find(|&i| {
            s.data.alerts.items[rows[i] as usize]
                .accounts
                .iter()
                .any(|a| members.contains(a))
        })
        .expect("an alert on a priority account below the first row");
    for _ in 0..target {
        code(&mut s, KeyCode::Down);
    }
    let picked = panes::key(Pane::Alerts, &s.data, grid(&s).rows[target]);
    key(&mut s, '7');
    key(&mut s, '2');
    key(&mut s, 'P');
    // Only the grid on screen was evaluated under the tag.
    assert!(s.panes[0].rows.is_empty(), "alerts wait until shown");
    key(&mut s, '1');
    let g = grid(&s);
    let want = panes::evaluate(
        Pane::Alerts,
        &s.data,
        &grid::view_filter(&s, g).expect("filter"),
        s.now,
    )
    .expect("alerts");
    assert_eq!(*g.rows, want, "the same rows as evaluated at once");
    assert!(g.rows.len() < rows.len(), "narrowed");
    assert_eq!(
        g.current().map(|r| panes::key(Pane::Alerts, &s.data, r)),
        Some(picked),
        "the row under the cursor is kept"
    );
    // A pane left on its first row opens on its new first row.
    key(&mut s, '7');
    assert_eq!(grid(&s).cursor, 0);
}

#[test]
fn enter_opens_the_flyout_and_j_moves_to_the_next_message_without_closing() {
    let mut s = state();
    key(&mut s, '2');
    let first = panes::key(Pane::Emails, &s.data, grid(&s).rows[0]);
    let second = panes::key(Pane::Emails, &s.data, grid(&s).rows[1]);
    let e = code(&mut s, KeyCode::Enter);
    assert!(
        matches!(&e[..], [Effect::LoadDetail { key, .. }] if *key == first),
        "{e:?}"
    );
    let e = key(&mut s, 'j');
    assert!(
        matches!(&e[..], [Effect::LoadDetail { key, .. }] if *key == second),
        "{e:?}"
    );
    assert!(matches!(s.top(), View::Flyout(f) if f.key == second));
    code(&mut s, KeyCode::Esc);
    assert!(matches!(s.top(), View::Grid(g) if g.cursor == 1));
}

#[test]
fn command_line_opens_a_filtered_view_and_the_view_line_reopens_it() {
    let mut s = state();
    key(&mut s, ':');
    typed(&mut s, "emails tag:Finance threat:phish since:7d");
    code(&mut s, KeyCode::Enter);
    assert_eq!(s.views.len(), 2);
    let g = grid(&s);
    assert_eq!(g.pane, Pane::Emails);
    assert!(g.error.is_none(), "{:?}", g.error);
    let threats = values(
        &s,
        ColumnId::Email(EmailCol::Str(whalewatch_query::index::schema::THREATS)),
    );
    assert!(!threats.is_empty());
    assert!(threats.iter().all(|t| t.contains("Phish")));
    let e = key(&mut s, 'Y');
    let [Effect::Copy { text, .. }] = &e[..] else {
        panic!("{e:?}")
    };
    assert_eq!(
        text,
        "whalewatch --profile 'fixture' tui --view 'emails tag:Finance threat:phish since:7d'"
    );
    // The view line's --view reopens the same rows.
    let mut t = state();
    update(
        &mut t,
        Msg::Action(parse_view_line("emails tag:Finance threat:phish since:7d")),
    );
    assert_eq!(grid(&t).rows, grid(&s).rows);
}

#[test]
fn frequency_table_of_a_column_and_enter_on_a_bin_filters_by_it() {
    let mut s = state();
    key(&mut s, '2');
    let total = grid(&s).rows.len();
    for _ in 0..5 {
        key(&mut s, 'l');
    }
    assert_eq!(grid(&s).columns[grid(&s).column].id, SENDER_DOMAIN);
    key(&mut s, 'F');
    let View::Frequency(f) = s.top() else {
        panic!("no frequency table")
    };
    assert_eq!(f.total, total);
    assert_eq!(f.rows.iter().map(|r| r.count).sum::<usize>(), total);
    assert!(f.rows.windows(2).all(|w| w[0].count >= w[1].count));
    let (top, n) = (f.rows[0].value.clone(), f.rows[0].count);
    code(&mut s, KeyCode::Enter);
    let rows = values(&s, SENDER_DOMAIN);
    assert_eq!(rows.len(), n);
    assert!(rows.iter().all(|d| d.eq_ignore_ascii_case(&top)));
    // esc walks back through the stack: the table, then the full grid.
    code(&mut s, KeyCode::Esc);
    assert!(matches!(s.top(), View::Frequency(_)));
    code(&mut s, KeyCode::Esc);
    assert_eq!(grid(&s).rows.len(), total);
}

#[test]
fn top_tabs_are_one_key_away_and_enter_narrows_the_mail() {
    let mut s = state();
    // From the alerts pane: `M` opens the tab over the whole mailbox.
    key(&mut s, 'M');
    let View::Frequency(f) = s.top() else {
        panic!("no malware families table")
    };
    assert_eq!(
        f.tab,
        Some(whalewatch_query::index::TopTab::MalwareFamilies)
    );
    assert_eq!(s.top().label(), "Top malware families");
    assert!(!f.rows.is_empty(), "the fixture holds malware");
    assert!(
        f.rows.iter().all(|r| !r.value.is_empty()),
        "no empty family row"
    );
    let (family, n) = (f.rows[0].value.clone(), f.rows[0].count);
    code(&mut s, KeyCode::Enter);
    let g = grid(&s);
    assert_eq!(g.pane, Pane::Emails);
    assert_eq!(g.rows.len(), n, "{}", g.filter_text);
    assert!(g.filter_text.contains(&family), "{}", g.filter_text);
    // `U` over a narrowed result counts only its rows.
    key(&mut s, 'U');
    let View::Frequency(f) = s.top() else {
        panic!("no targeted users table")
    };
    assert_eq!(f.rows.iter().map(|r| r.count).sum::<usize>(), n);
    assert_eq!(s.top().label(), "Top targeted users");
    // Over a Top URLs view: the mail its filter selects.
    key(&mut s, ':');
    typed(&mut s, "urls threat:malware");
    code(&mut s, KeyCode::Enter);
    key(&mut s, 'M');
    let View::Frequency(f) = s.top() else {
        panic!("no malware families table")
    };
    let ix = s.data.emails.clone().expect("index");
    let malware =
        whalewatch_query::parse(whalewatch_query::lang::Entity::Emails, "threat:malware").unwrap();
    assert_eq!(
        f.total,
        ix.eval(&malware, crate::fixture::now()).unwrap().count()
    );
}

#[test]
fn top_urls_pane_shows_the_query_figures_and_enter_opens_the_urls_mail() {
    use crate::panes::urls::UrlCol;
    let mut s = state();
    let ix = s.data.emails.clone().expect("index");
    let table = ix.top_urls(&ix.all());
    key(&mut s, '8');
    assert_eq!(s.pane(), Pane::Urls);
    assert_eq!(grid(&s).rows.len(), table.len());
    let cell = |s: &State, c: UrlCol| panes::cell(&s.data, grid(s).rows[0], ColumnId::Url(c));
    assert_eq!(cell(&s, UrlCol::Url), table[0].url);
    assert_eq!(
        cell(&s, UrlCol::Recipients),
        table[0].recipients.to_string()
    );
    // A filtered view counts only its mail: the same figures `query urls` prints.
    key(&mut s, ':');
    typed(&mut s, "urls threat:phish");
    code(&mut s, KeyCode::Enter);
    let phish =
        whalewatch_query::parse(whalewatch_query::lang::Entity::Emails, "threat:phish").unwrap();
    let want = ix.top_urls(&ix.eval(&phish, crate::fixture::now()).unwrap());
    assert_eq!(grid(&s).rows.len(), want.len());
    assert!(want.len() < table.len());
    assert_eq!(cell(&s, UrlCol::Messages), want[0].messages.to_string());
    // Enter: the URL's mail within the view's filter.
    code(&mut s, KeyCode::Enter);
    let g = grid(&s);
    assert_eq!(g.pane, Pane::Emails);
    assert!(
        g.filter_text.starts_with("threat:phish url:"),
        "{}",
        g.filter_text
    );
    assert_eq!(g.rows.len(), want[0].recipients);
    // And from a message, its URLs.
    let jumps = jumps::jumps_for(&s.data, Pane::Emails, g.rows[0]);
    let urls = jumps
        .iter()
        .find(|j| j.label == "URLs of this message")
        .expect("URLs jump");
    assert_eq!(urls.pane, Pane::Urls);
}

#[test]
fn url_clicks_view_is_the_click_table_and_enter_opens_the_message() {
    use crate::panes::clicks::ClickCol;
    let mut s = state();
    let ix = s.data.emails.clone().expect("index");
    let all = ix.clicks(&ix.all());
    assert!(!all.is_empty(), "the fixture has clicks");
    key(&mut s, '2');
    for _ in 0..3 {
        key(&mut s, 'v');
    }
    assert_eq!(s.pane(), Pane::Clicks);
    assert_eq!(s.top().label(), "URL clicks");
    assert_eq!(grid(&s).rows.len(), all.len());
    let cell = |s: &State, c: ClickCol| panes::cell(&s.data, grid(s).rows[0], ColumnId::Click(c));
    assert_eq!(cell(&s, ClickCol::Url), all[0].url);
    assert_eq!(cell(&s, ClickCol::Action), all[0].action);
    assert_eq!(cell(&s, ClickCol::Account), all[0].account);
    // `v` again: back to all email.
    key(&mut s, 'v');
    assert_eq!(s.pane(), Pane::Emails);
    assert_eq!(grid(&s).mail_view, crate::state::MailView::All);
    // `:clicks FILTER` answers an email filter; Enter opens the clicked message.
    let who = &all[0].account;
    let theirs = all.iter().filter(|c| &c.account == who).count();
    assert!(
        theirs < all.len(),
        "the fixture's clicks are by more than one account"
    );
    key(&mut s, ':');
    typed(&mut s, &format!("clicks to:{who}"));
    code(&mut s, KeyCode::Enter);
    assert_eq!(grid(&s).rows.len(), theirs);
    assert_eq!(
        cell(&s, ClickCol::Tags),
        s.data.tags.tags_of(who).join(", "),
        "the account's tags"
    );
    let account = cell(&s, ClickCol::Account);
    code(&mut s, KeyCode::Enter);
    let g = grid(&s);
    assert_eq!(g.pane, Pane::Emails);
    assert_eq!(g.rows.len(), 1, "{}", g.filter_text);
    assert_eq!(values(&s, RECIPIENT), [account]);
}

#[test]
fn pivot_adds_the_value_under_the_cursor_to_the_filter() {
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, 'l');
    key(&mut s, 'l');
    let who = panes::cell(&s.data, grid(&s).rows[0], RECIPIENT);
    key(&mut s, 'p');
    assert!(
        grid(&s).filter_text.starts_with("to:"),
        "{}",
        grid(&s).filter_text
    );
    assert!(values(&s, RECIPIENT).iter().all(|r| *r == who));
}

#[test]
fn sort_keys_order_the_grid_by_the_column() {
    let mut s = state();
    key(&mut s, '2');
    for _ in 0..5 {
        key(&mut s, 'l');
    }
    key(&mut s, 'o');
    let v: Vec<String> = values(&s, SENDER_DOMAIN)
        .iter()
        .map(|d| d.to_lowercase())
        .collect();
    assert!(v.windows(2).all(|w| w[0] <= w[1]));
    key(&mut s, 'O');
    let v: Vec<String> = values(&s, SENDER_DOMAIN)
        .iter()
        .map(|d| d.to_lowercase())
        .collect();
    assert!(v.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn new_data_never_moves_the_selection() {
    let mut s = state();
    key(&mut s, '2');
    for _ in 0..7 {
        key(&mut s, 'j');
    }
    let before = panes::key(Pane::Emails, &s.data, grid(&s).current().expect("row"));
    let screen = grid(&s).cursor - grid(&s).offset;
    // A reload in which three rows now come first: every position shifts by three.
    let data = snapshot();
    let mut newest: Vec<u32> = data.newest.to_vec();
    newest.rotate_right(3);
    let reload = EmailData {
        index: data.emails.clone().expect("index"),
        newest: std::sync::Arc::new(newest),
        histogram_all: data.histogram_all.clone().expect("histogram"),
        recipients: data.recipients.clone(),
    };
    update(&mut s, Msg::Emails(reload));
    assert_eq!(grid(&s).cursor, 10, "the row moved down three places");
    assert_eq!(
        panes::key(Pane::Emails, &s.data, grid(&s).current().expect("row")),
        before
    );
    assert_eq!(
        grid(&s).cursor - grid(&s).offset,
        screen,
        "and kept its screen line"
    );
}

#[test]
fn a_filter_that_does_not_parse_stays_in_the_prompt_with_the_error() {
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, '/');
    typed(&mut s, "threat:phsh");
    code(&mut s, KeyCode::Enter);
    let why = s
        .prompt
        .as_ref()
        .and_then(|p| p.error.clone())
        .expect("an error at the prompt");
    assert!(why.contains("phish"), "{why}");
    assert_eq!(s.last_error, None, "not left as the session's last error");
    code(&mut s, KeyCode::Esc);
    assert!(s.prompt.is_none());
    assert!(grid(&s).filter_text.is_empty());
}

#[test]
fn q_goes_back_then_quits_and_ctrl_c_quits_from_anywhere() {
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, 'F');
    key(&mut s, 'q');
    assert!(!s.quit);
    assert_eq!(s.views.len(), 1);
    key(&mut s, 'q');
    assert!(s.quit);
    let mut s = state();
    key(&mut s, '2');
    code(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(s.quit);
}

#[test]
fn tag_picker_matches_fuzzily_and_narrows_every_pane() {
    let mut s = state();
    key(&mut s, 't');
    typed(&mut s, "fnce");
    code(&mut s, KeyCode::Enter);
    assert_eq!(s.tag.as_deref(), Some("Finance"));
    assert!(s.overlay.is_none() && s.prompt.is_none());
}

#[test]
fn related_jump_from_a_message_opens_its_alerts() {
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, ':');
    typed(&mut s, "emails threat:phish");
    code(&mut s, KeyCode::Enter);
    // Find a phish that some alert names.
    let ix = s.data.emails.clone().expect("index");
    let pos = grid(&s)
        .rows
        .iter()
        .position(|&r| {
            ix.pivot(r as usize, whalewatch_query::index::Pivot::MessageAlerts)
                .is_some()
        })
        .expect("a phish with an alert");
    for _ in 0..pos {
        key(&mut s, 'j');
    }
    key(&mut s, 'R');
    let Some(Overlay::Jumps { jumps, .. }) = &s.overlay else {
        panic!("no jump menu")
    };
    assert_eq!(jumps[0].pane, Pane::Alerts);
    code(&mut s, KeyCode::Enter);
    let g = grid(&s);
    assert_eq!(g.pane, Pane::Alerts);
    assert!(!g.rows.is_empty());
}

#[test]
fn marked_alerts_get_one_status_change_and_read_only_refuses_it() {
    let mut s = state();
    for _ in 0..3 {
        key(&mut s, ' ');
    }
    key(&mut s, 's');
    let Some(Overlay::Choice { options, .. }) = &s.overlay else {
        panic!("no menu")
    };
    let resolved = options
        .iter()
        .position(|(l, _)| l == "resolved")
        .expect("resolved");
    for _ in 0..resolved {
        key(&mut s, 'j');
    }
    let e = code(&mut s, KeyCode::Enter);
    let [Effect::Triage(w)] = &e[..] else {
        panic!("{e:?}")
    };
    let TriageWrite::Alerts { ids, change } = &**w else {
        panic!("{w:?}")
    };
    assert_eq!(ids.len(), 3);
    assert_eq!(
        change.status,
        Some(whalewatch_model::enums::AlertStatus::Resolved)
    );
    assert!(s.overlay.is_none() && s.draft.is_none());

    let mut ro = state();
    ro.session.read_only = true;
    key(&mut ro, 's');
    assert!(ro.overlay.is_none());
    assert!(
        ro.notice
            .as_ref()
            .is_some_and(|n| n.error && n.text.contains("read-only"))
    );
    assert!(key(&mut ro, 'a').is_empty());
    // Notes stay local and allowed.
    key(&mut ro, 'n');
    typed(&mut ro, "seen by tier 1");
    let e = code(&mut ro, KeyCode::Enter);
    assert!(matches!(&e[..], [Effect::Triage(w)] if matches!(**w, TriageWrite::Note { .. })));
}

#[test]
fn classification_menu_offers_only_documented_pairs() {
    let mut s = state();
    key(&mut s, 'd');
    let Some(Overlay::Choice { options, .. }) = &s.overlay else {
        panic!("no menu")
    };
    for (_, d) in options {
        let Decision::Classify(c, d) = d else {
            panic!("{d:?}")
        };
        assert!(whalewatch_sync::triage::determinations_for(c).contains(d));
    }
    assert!(options.iter().any(|(l, _)| l == "truePositive · phishing"));
}

#[test]
fn remediation_shows_a_review_and_needs_the_typed_count() {
    let mut s = state();
    key(&mut s, ':');
    typed(&mut s, "emails threat:phish location:inbox");
    code(&mut s, KeyCode::Enter);
    let n = grid(&s).rows.len();
    assert!(n > 1);
    key(&mut s, 'X');
    code(&mut s, KeyCode::Enter); // move to junk
    let Some(Overlay::Review { plan }) = &s.overlay else {
        panic!("no review")
    };
    assert_eq!(plan.count(), n);
    assert!(plan.review_text().contains(&n.to_string()));
    typed(&mut s, &n.to_string());
    let e = code(&mut s, KeyCode::Enter);
    let [Effect::Triage(w)] = &e[..] else {
        panic!("{e:?}")
    };
    let TriageWrite::Remediate { plan, typed } = &**w else {
        panic!("{w:?}")
    };
    assert_eq!(typed, &n.to_string());
    assert!(plan.clone().confirm(typed).is_ok());
    // Esc in the review cancels without a write.
    key(&mut s, 'x');
    code(&mut s, KeyCode::Enter);
    let e = code(&mut s, KeyCode::Esc);
    assert!(e.is_empty() && s.overlay.is_none());
}

#[test]
fn a_load_from_a_newer_cache_generation_rebuilds_the_index_and_keeps_the_old_meanwhile() {
    let mut s = state();
    let ix = s.data.emails.clone().expect("index");
    let mut newer = snapshot();
    newer.emails = None;
    newer.generation = Some(ix.generation() + 1);
    let effects = update(&mut s, Msg::Loaded(Box::new(newer.clone())));
    assert!(
        matches!(effects.as_slice(), [Effect::Reindex]),
        "{effects:?}"
    );
    // The old index stays on screen until the new one arrives.
    assert!(Arc::ptr_eq(s.data.emails.as_ref().expect("kept"), &ix));
    // Same generation, or a load that builds the index itself: no rebuild.
    let mut same = newer.clone();
    same.generation = Some(ix.generation());
    assert!(update(&mut s, Msg::Loaded(Box::new(same))).is_empty());
    let mut follows = newer;
    follows.index_follows = true;
    assert!(update(&mut s, Msg::Loaded(Box::new(follows))).is_empty());
}

#[test]
fn an_unreadable_outbox_is_reported_not_shown_as_no_pending_writes() {
    let mut s = state();
    let mut broken = snapshot();
    broken.emails = None;
    broken.problems = vec![data::LoadProblem::Outbox("no such table: outbox".into())];
    update(&mut s, Msg::Loaded(Box::new(broken)));
    let n = s.notice.as_ref().expect("a notice");
    assert!(n.error);
    assert!(
        n.text.contains("queued writes cannot be read") && n.text.contains("alert outbox"),
        "{}",
        n.text
    );
}

/// Runs the detail loads effects ask for, as the app would.
pub(crate) fn settle_details(s: &mut State, effects: Vec<Effect>) {
    for e in effects {
        if let Effect::LoadDetail { kind, key, data } = e {
            let detail = crate::details::load(&fixture().0, &data, &kind, &key).expect("details");
            update(
                s,
                Msg::Detail {
                    key,
                    detail: std::sync::Arc::new(detail),
                },
            );
        }
    }
}

fn verdicts(s: &State) -> Vec<String> {
    values(
        s,
        ColumnId::Posture(crate::panes::posture::PostureCol::Verdict),
    )
}

#[test]
fn five_and_colon_posture_open_the_posture_pane_worst_first() {
    let mut s = state();
    key(&mut s, '5');
    assert_eq!(s.pane(), Pane::Posture);
    let vips = s.data.tags.resolve(PRIORITY_ACCOUNT).expect("tag").len();
    assert_eq!(grid(&s).rows.len(), vips, "one row per priority account");
    let v = verdicts(&s);
    assert_eq!(&v[..4], ["fail", "fail", "warn", "warn"], "{v:?}");
    assert!(v[4..].iter().all(|x| x == "pass"), "{v:?}");
    key(&mut s, '1');
    key(&mut s, ':');
    typed(&mut s, "posture");
    code(&mut s, KeyCode::Enter);
    assert_eq!(s.pane(), Pane::Posture);
}

#[test]
fn posture_filters_select_the_planted_gaps() {
    let mut s = state();
    for (filter, want) in [
        ("verdict:fail", 2),
        ("mfa:none", 1),
        ("mfa:phone", 1),
        ("legacy:yes", 2),
        ("ca:no-mfa", 1),
        ("strict:no", 2),
        ("strict:standard", 1),
        ("risk:high", 1),
        ("failing:protocols", 1),
        ("verdict:pass", 0),
    ] {
        key(&mut s, ':');
        typed(&mut s, &format!("posture {filter}"));
        code(&mut s, KeyCode::Enter);
        let n = grid(&s).rows.len();
        let want = if filter == "verdict:pass" {
            s.data.tags.resolve(PRIORITY_ACCOUNT).expect("tag").len() - 4
        } else {
            want
        };
        assert_eq!(n, want, "{filter}: {:?}", grid(&s).error);
    }
    key(&mut s, ':');
    typed(&mut s, "posture verdict:fail");
    code(&mut s, KeyCode::Enter);
    assert!(verdicts(&s).iter().all(|v| v == "fail"));
}

#[test]
fn enter_opens_the_posture_flyout_and_r_reaches_the_sign_ins() {
    let mut s = state();
    key(&mut s, ':');
    typed(&mut s, "posture failing:legacy-auth");
    code(&mut s, KeyCode::Enter);
    let upn = panes::key(Pane::Posture, &s.data, grid(&s).rows[0]);
    let e = code(&mut s, KeyCode::Enter);
    assert!(
        matches!(&e[..], [Effect::LoadDetail { kind: crate::state::FlyoutKind::Posture, key, .. }] if *key == upn),
        "{e:?}"
    );
    settle_details(&mut s, e);
    let View::Flyout(f) = s.top() else {
        panic!("no flyout")
    };
    let d = f.detail.clone().expect("detail");
    let titles: Vec<&str> = d.sections.iter().map(|x| x.title.as_str()).collect();
    for id in whalewatch_query::posture::CHECK_IDS {
        assert!(
            titles.iter().any(|t| t.starts_with(&format!("{id} · "))),
            "{titles:?}"
        );
    }
    key(&mut s, 'R');
    let Some(Overlay::Jumps { jumps, .. }) = &s.overlay else {
        panic!("no jumps: {:?}", s.overlay)
    };
    assert_eq!(jumps[0].label, "sign-ins of this account");
    code(&mut s, KeyCode::Enter);
    assert_eq!(s.pane(), Pane::SignIns);
    let accounts = values(
        &s,
        ColumnId::SignIn(crate::panes::sign_ins::SignInCol::Account),
    );
    assert!(
        !accounts.is_empty() && accounts.iter().all(|a| *a == upn),
        "{accounts:?}"
    );
    let apps = values(
        &s,
        ColumnId::SignIn(crate::panes::sign_ins::SignInCol::ClientApp),
    );
    assert!(apps.iter().any(|a| a == "IMAP4"), "{apps:?}");
}

#[test]
fn checklist_key_opens_the_tenant_checklist() {
    let mut s = state();
    key(&mut s, '5');
    let e = key(&mut s, 'T');
    assert!(
        matches!(
            &e[..],
            [Effect::LoadDetail {
                kind: crate::state::FlyoutKind::Checklist,
                ..
            }]
        ),
        "{e:?}"
    );
    settle_details(&mut s, e);
    let View::Flyout(f) = s.top() else {
        panic!("no flyout")
    };
    let d = f.detail.clone().expect("detail");
    assert!(
        d.sections[0].lines.iter().any(|l| l.value == "62 / 100"),
        "{:?}",
        d.sections[0]
    );
}

const INCIDENT_UPDATED: ColumnId = ColumnId::Incident(panes::incidents::IncidentCol::LastUpdate);

#[test]
fn seven_and_colon_incidents_open_the_pane_newest_update_first_and_p_narrows_it() {
    let mut s = state();
    key(&mut s, '7');
    assert_eq!(s.pane(), Pane::Incidents);
    let g = grid(&s);
    assert!(!g.rows.is_empty(), "the fixture has incidents");
    // The natural order is the last update, newest first, and the header says so.
    let order = panes::natural_order(Pane::Incidents);
    assert_eq!(order.column, Some(INCIDENT_UPDATED));
    assert!(order.descending);
    assert_eq!(
        g.order_column().map(|(c, _)| g.columns[c].id),
        Some(INCIDENT_UPDATED)
    );
    let times = values(&s, INCIDENT_UPDATED);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let all = g.rows.len();

    key(&mut s, 'P');
    let members: Vec<String> = s.data.tags.resolve(PRIORITY_ACCOUNT).expect("tag").to_vec();
    let narrowed = grid(&s).rows.clone();
    assert!(
        !narrowed.is_empty() && narrowed.len() < all,
        "{} of {all}",
        narrowed.len()
    );
    for &r in narrowed.iter() {
        let item = &s.data.incidents.items[r as usize];
        assert!(item.accounts.iter().any(|a| members.contains(a)));
        // Its Users cell marks the priority account.
        let users = panes::cell(
            &s.data,
            r,
            ColumnId::Incident(panes::incidents::IncidentCol::Users),
        );
        assert!(users.starts_with(whalewatch_query::index::entities::PRIORITY_MARK));
    }
    key(&mut s, 'P');

    let mut c = state();
    key(&mut c, ':');
    typed(&mut c, "incidents");
    code(&mut c, KeyCode::Enter);
    assert_eq!(c.pane(), Pane::Incidents);
    assert_eq!(grid(&c).rows.len(), all);
    assert!(c.notice.is_none(), "{:?}", c.notice);
}

/// Picks `label` in the open triage menu.
fn choose(s: &mut State, label: &str) -> Vec<Effect> {
    let Some(Overlay::Choice { options, .. }) = &s.overlay else {
        panic!("no menu")
    };
    let at = options
        .iter()
        .position(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no `{label}` in {options:?}"));
    for _ in 0..at {
        key(s, 'j');
    }
    code(s, KeyCode::Enter)
}

fn incident_write(e: &[Effect]) -> (Vec<String>, whalewatch_sync::triage::IncidentChange) {
    let [Effect::Triage(w)] = e else {
        panic!("{e:?}")
    };
    let TriageWrite::Incidents { ids, change } = &**w else {
        panic!("{w:?}")
    };
    (ids.clone(), change.clone())
}

#[test]
fn incident_triage_keys_write_incident_changes_and_read_only_refuses_them() {
    use whalewatch_model::enums::{Classification, Determination, IncidentStatus};
    let mut s = state();
    key(&mut s, '7');
    let first = panes::key(Pane::Incidents, &s.data, grid(&s).rows[0]);

    // s: the incident statuses, not the alert ones.
    key(&mut s, 's');
    let Some(Overlay::Choice { options, title, .. }) = &s.overlay else {
        panic!("no menu")
    };
    let labels: Vec<&str> = options.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["active", "inProgress", "resolved"]);
    assert_eq!(title, "Set the status of 1 incident");
    let (ids, change) = incident_write(&choose(&mut s, "resolved"));
    assert_eq!(ids, std::slice::from_ref(&first));
    assert_eq!(change.status, Some(IncidentStatus::Resolved));

    // d: the documented pairs.
    key(&mut s, 'd');
    let (_, change) = incident_write(&choose(&mut s, "truePositive · phishing"));
    assert_eq!(change.classification, Some(Classification::TruePositive));
    assert_eq!(change.determination, Some(Determination::Phishing));

    // a, A, c: owner and comment; marked incidents all get it.
    let (_, change) = incident_write(&key(&mut s, 'a'));
    assert_eq!(change.assigned_to.as_deref(), Some("analyst@contoso.com"));
    key(&mut s, ' ');
    key(&mut s, ' ');
    key(&mut s, 'A');
    typed(&mut s, "tier2@contoso.com");
    let (ids, change) = incident_write(&code(&mut s, KeyCode::Enter));
    assert_eq!(ids.len(), 2);
    assert_eq!(change.assigned_to.as_deref(), Some("tier2@contoso.com"));
    key(&mut s, 'c');
    typed(&mut s, "escalated to IR");
    let (ids, change) = incident_write(&code(&mut s, KeyCode::Enter));
    assert_eq!(ids.len(), 2);
    assert_eq!(change.comment.as_deref(), Some("escalated to IR"));

    // The same keys in the flyout act on the incident shown.
    let mut f = state();
    key(&mut f, '7');
    code(&mut f, KeyCode::Enter);
    assert!(matches!(f.top(), View::Flyout(fl) if fl.kind == FlyoutKind::Incident));
    key(&mut f, 's');
    let (ids, change) = incident_write(&choose(&mut f, "inProgress"));
    assert_eq!(ids, [first]);
    assert_eq!(change.status, Some(IncidentStatus::InProgress));

    let mut ro = state();
    ro.session.read_only = true;
    key(&mut ro, '7');
    key(&mut ro, 's');
    assert!(ro.overlay.is_none());
    assert!(key(&mut ro, 'a').is_empty());
    assert!(
        ro.notice
            .as_ref()
            .is_some_and(|n| n.error && n.text.contains("read-only"))
    );
}

#[test]
fn refresh_without_a_tenant_says_why_and_what_to_do() {
    let mut s = state();
    s.session.can_refresh = false;
    let e = key(&mut s, 'r');
    assert!(e.is_empty(), "{e:?}");
    let text = s
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(text.contains("see `whalewatch login`"), "{text}");

    // The demo profile without its simulator: the reason the client could not be
    // built is what `r` says, not a sign-in hint that cannot help.
    let why = format!("profile `demo`: {}", whalewatch_config::DEMO_NOT_RUNNING);
    s.refresh.unavailable = Some(why.clone());
    let e = key(&mut s, 'r');
    assert!(e.is_empty(), "{e:?}");
    let notice = s.notice.clone().expect("a notice");
    assert_eq!(notice.text, format!("refresh needs the tenant: {why}"));
    assert!(notice.error && notice.text.contains("run `whalewatch demo`"));
    assert!(!notice.text.contains("whalewatch login"));
    assert!(!s.refresh.running);
}

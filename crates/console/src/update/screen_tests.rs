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
    assert_eq!(
        (g.cursor, g.offset),
        (0, 0),
        "first row, nothing hidden above"
    );
    assert_eq!(
        g.rows.first(),
        s.data.newest.first(),
        "the newest row first"
    );
}

fn alert_writes(effects: &[Effect]) -> Vec<(Vec<String>, whalewatch_sync::triage::AlertChange)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Triage(w) => match &**w {
                TriageWrite::Alerts { ids, change } => Some((ids.clone(), change.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Types `text` into the open prompt.
fn type_in(s: &mut State, text: &str) {
    for c in text.chars() {
        update(s, Msg::Action(Action::Input(c)));
    }
}

/// Replaces the grid's filter, as `/` does (marks stay on the grid).
fn set_filter(s: &mut State, filter: &str) {
    update(s, Msg::Action(Action::EditFilter));
    if let Some(p) = s.prompt.as_mut() {
        *p = crate::prompt::Prompt::new(p.kind, "");
    }
    type_in(s, filter);
    code(s, KeyCode::Enter);
}

fn severity(s: &State, id: &str) -> String {
    let a = s
        .data
        .alerts
        .items
        .iter()
        .find(|a| a.alert.id == id)
        .expect("alert");
    a.alert
        .severity
        .as_ref()
        .map_or(String::new(), |x| x.as_str().to_string())
}

/// Marks three alerts of at least two severities from the top of the queue: the
/// first, the first of another severity, and the one after it.
fn mark_mixed(s: &mut State) {
    key(s, 'g');
    key(s, 'g');
    let rows = s.grid().expect("grid").rows.clone();
    let sev = |s: &State, i: usize| severity(s, &crate::panes::key(Pane::Alerts, &s.data, rows[i]));
    let other = (1..rows.len())
        .find(|&i| sev(s, i) != sev(s, 0))
        .expect("alerts of two severities");
    key(s, ' ');
    for _ in 1..other {
        key(s, 'j');
    }
    key(s, ' ');
    key(s, ' ');
}

#[test]
fn marks_out_of_view_are_counted_confirmed_before_a_write_and_cleared_after_it() {
    let mut s = state();
    mark_mixed(&mut s);
    let marked: Vec<String> = s.grid().expect("grid").marks.iter().cloned().collect();
    assert_eq!(marked.len(), 3);
    // A filter that leaves some of the marked alerts out of view.
    let sev = marked
        .iter()
        .map(|m| severity(&s, m))
        .find(|v| marked.iter().any(|m| severity(&s, m) != *v))
        .expect("marked alerts of two severities");
    let hidden = marked.iter().filter(|m| severity(&s, m) != sev).count();
    set_filter(&mut s, &format!("severity:{sev}"));
    let g = s.grid().expect("grid");
    assert_eq!(
        g.marks.len(),
        3,
        "marks stay when their rows leave the view"
    );
    let screen = crate::views::tests::render(&s, 160, 30);
    assert!(
        screen.contains(&format!("3 marked ({hidden} not in view)")),
        "{screen}"
    );

    // `a` does not act silently: it says how many, how many hidden, and asks.
    let effects = key(&mut s, 'a');
    assert!(alert_writes(&effects).is_empty(), "{effects:?}");
    let Some(Overlay::Choice { title, .. }) = &s.overlay else {
        panic!("no confirmation: {:?}", s.overlay)
    };
    assert!(
        title.contains("3 marked alerts") && title.contains(&format!("{hidden} not in this view")),
        "{title}"
    );
    let effects = code(&mut s, KeyCode::Enter);
    let writes = alert_writes(&effects);
    let [(ids, change)] = writes.as_slice() else {
        panic!("{effects:?}")
    };
    let mut ids = ids.clone();
    ids.sort();
    assert_eq!(ids, marked);
    assert_eq!(change.assigned_to.as_deref(), Some("analyst@contoso.com"));
    assert_eq!(s.grid().expect("grid").marks.len(), 3, "kept until queued");
    update(
        &mut s,
        Msg::Queued {
            alerts: marked.clone(),
            notice: "queued".into(),
        },
    );
    assert!(
        s.grid().expect("grid").marks.is_empty(),
        "cleared after the write"
    );

    // Again with marks out of view: cancelling `c` writes nothing; `u` clears them.
    set_filter(&mut s, "");
    mark_mixed(&mut s);
    set_filter(&mut s, &format!("severity:{sev}"));
    key(&mut s, 'c');
    assert!(matches!(s.overlay, Some(Overlay::Choice { .. })));
    key(&mut s, 'j');
    let effects = code(&mut s, KeyCode::Enter);
    assert!(
        effects.is_empty() && s.prompt.is_none(),
        "cancel writes nothing"
    );
    assert!(!s.grid().expect("grid").marks.is_empty());
    key(&mut s, 'u');
    assert!(s.grid().expect("grid").marks.is_empty());
    assert!(s.keymap.by_name("unmark").is_some_and(|c| c.keys == ["u"]));
}

#[test]
fn assign_to_me_without_an_analyst_asks_for_the_name_once_and_never_uses_the_app() {
    let mut s = state();
    s.session.assignee = None;
    s.session.analyst = "app:00000000-0000-0000-0000-000000000001".into();
    let effects = key(&mut s, 'a');
    assert!(alert_writes(&effects).is_empty(), "{effects:?}");
    assert_eq!(
        s.prompt.as_ref().map(|p| p.kind),
        Some(crate::prompt::PromptKind::Analyst)
    );
    // Not a sign-in name: refused, nothing assigned.
    type_in(&mut s, "not a name");
    let effects = code(&mut s, KeyCode::Enter);
    assert!(alert_writes(&effects).is_empty());
    assert!(s.notice.as_ref().is_some_and(|n| n.error));

    key(&mut s, 'a');
    type_in(&mut s, "ana@contoso.com");
    let effects = code(&mut s, KeyCode::Enter);
    assert!(
        matches!(effects.first(), Some(Effect::Analyst(n)) if n == "ana@contoso.com"),
        "the journal learns the name first: {effects:?}"
    );
    let writes = alert_writes(&effects);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].1.assigned_to.as_deref(), Some("ana@contoso.com"));
    // Offered to save it in the profile.
    let Some(Overlay::Choice { title, .. }) = &s.overlay else {
        panic!("no offer to save")
    };
    assert!(
        title.contains("ana@contoso.com") && title.contains("fixture"),
        "{title}"
    );
    let effects = code(&mut s, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::SaveAnalyst(n)] if n == "ana@contoso.com"),
        "{effects:?}"
    );
    // Asked once: the next `a` assigns at once.
    let effects = key(&mut s, 'a');
    let writes = alert_writes(&effects);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].1.assigned_to.as_deref(), Some("ana@contoso.com"));
    assert!(
        writes
            .iter()
            .all(|(_, c)| !c.assigned_to.as_deref().unwrap_or("").starts_with("app:"))
    );
}

/// The value of `--flag 'quoted value'` in a shell line `view_line` wrote.
fn shell_arg(line: &str, flag: &str) -> Option<String> {
    let rest = &line[line.find(&format!("{flag} '"))? + flag.len() + 2..];
    let mut out = String::new();
    let mut rest = rest;
    loop {
        let end = rest.find('\'')?;
        out.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        // `'\''` is a quote inside the value.
        match rest.strip_prefix("\\''") {
            Some(r) => {
                out.push('\'');
                rest = r;
            }
            None => return Some(out),
        }
    }
}

#[test]
fn the_view_line_carries_filter_tag_view_columns_and_sort_and_reopens_exactly() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Run("emails since:30d".into())));
    update(&mut s, Msg::Action(Action::Run("view phish".into())));
    key(&mut s, 'P');
    // Hide the first column and sort by Subject, descending.
    key(&mut s, 'C');
    code(&mut s, KeyCode::Char(' '));
    code(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Msg::Action(Action::Run("sort Sender domain desc".into())),
    );
    let g = s.grid().expect("grid").clone();
    assert!(g.sort.is_some() && g.rows.len() > 1);
    let effects = key(&mut s, 'Y');
    let [Effect::Copy { text: line, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let view = shell_arg(line, "--view").expect("--view");
    let tag = shell_arg(line, "--tag");
    assert_eq!(tag.as_deref(), s.tag.as_deref(), "{line}");

    // Reopened as `tui --tag … --view …` does.
    let mut t = state();
    update(&mut t, Msg::Action(Action::SetTag(tag)));
    update(&mut t, Msg::Action(parse_view_line(&view)));
    let h = t.grid().expect("grid");
    assert_eq!(t.tag, s.tag);
    assert_eq!(
        (h.pane, &h.filter_text, h.mail_view, &h.columns, h.sort),
        (g.pane, &g.filter_text, g.mail_view, &g.columns, g.sort),
        "{line}"
    );
    assert_eq!(h.rows, g.rows, "the same rows in the same order");
    assert!(t.notice.as_ref().is_none_or(|n| !n.error), "{:?}", t.notice);
}

#[test]
fn remediation_on_marks_says_which_marked_messages_it_leaves_out() {
    use whalewatch_query::index::schema::RECIPIENT;
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, ' ');
    key(&mut s, ' ');
    let g = s.grid().expect("grid");
    let ix = s.data.emails.clone().expect("index");
    let first = ix.value(
        whalewatch_query::index::Column::Str(RECIPIENT),
        g.rows[0] as usize,
    );
    let second = ix.value(
        whalewatch_query::index::Column::Str(RECIPIENT),
        g.rows[1] as usize,
    );
    assert_ne!(first, second, "two recipients");
    set_filter(&mut s, &format!("to:{first}"));
    key(&mut s, 'x');
    let Some(Overlay::Choice { title, .. }) = &s.overlay else {
        panic!("no menu: {:?}", s.notice)
    };
    assert!(
        title.starts_with("Take action on 1 message (1 marked, not in view, left out"),
        "{title}"
    );
}

/// What the email grid's columns need over the rows around its page: the page, a
/// page above and a page below.
fn measured_here(s: &State) -> Vec<u16> {
    let g = s.grid().expect("grid");
    let page = s.page_rows();
    let columns: Vec<_> = g.columns.iter().map(|c| c.table_column()).collect();
    crate::table::wants(
        &columns,
        &g.cells(&s.data, g.offset.saturating_sub(page)..g.offset + 2 * page),
    )
}

fn held(s: &State) -> Vec<u16> {
    let g = s.grid().expect("grid");
    g.sizing.as_ref().expect("held widths").wants().to_vec()
}

#[test]
fn grid_widths_are_held_while_scrolling_and_measured_again_on_a_jump_a_filter_or_a_resize() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Resize(200, 50)));
    key(&mut s, '2');
    let first = held(&s);
    assert_eq!(first, measured_here(&s));
    for _ in 0..s.page_rows() * 3 {
        key(&mut s, 'j');
        assert_eq!(held(&s), first, "held while scrolling");
    }
    // Three pages down, the rows around the page need other widths: still held.
    assert_ne!(measured_here(&s), first);
    key(&mut s, 'G');
    assert_eq!(held(&s), measured_here(&s), "the last page");
    assert_ne!(held(&s), first);
    set_filter(&mut s, "threat:phish");
    assert_eq!(held(&s), measured_here(&s), "a new filter");
    for _ in 0..5 {
        key(&mut s, 'j');
    }
    update(&mut s, Msg::Action(Action::Resize(120, 30)));
    assert_eq!(held(&s), measured_here(&s), "a new height");
}

#[test]
fn frequency_table_widths_are_held_while_scrolling() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Resize(120, 30)));
    key(&mut s, '2');
    key(&mut s, 'l');
    key(&mut s, 'F');
    let held = |s: &State| match s.views.last() {
        Some(View::Frequency(t)) => t.sizing.as_ref().expect("held").wants().to_vec(),
        _ => panic!("not a frequency table"),
    };
    let first = held(&s);
    let rows = match s.views.last() {
        Some(View::Frequency(t)) => t.rows.len(),
        _ => 0,
    };
    assert!(rows > s.page_rows() * 3, "{rows} subjects");
    for _ in 0..s.page_rows() * 3 {
        key(&mut s, 'j');
        assert_eq!(held(&s), first);
    }
}

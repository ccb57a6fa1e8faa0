//! `:profile NAME` (k9s's contexts): the console closes this profile and opens
//! another's cache in the same terminal session; `:profile` alone picks from a list.
//! The switch itself is the app's (`app::run` returns the name and the CLI opens that
//! profile's console), so the new console is built exactly as `tui --profile NAME`
//! builds it: its cache, settings, session log and tenant connection.

use super::notice;
use crate::state::{Overlay, State};

/// `:profile [NAME]`.
pub fn command(state: &mut State, name: &str) {
    if state.profiles.is_empty() {
        notice(
            state,
            "switching profiles needs `whalewatch tui` (this console has one profile)",
            true,
        );
        return;
    }
    if name.is_empty() {
        let cursor = state
            .profiles
            .iter()
            .position(|p| *p == state.session.profile)
            .unwrap_or(0);
        state.overlay = Some(Overlay::Profiles { cursor });
        return;
    }
    if name == state.session.profile {
        notice(state, format!("this console is already `{name}`"), false);
        return;
    }
    if !state.profiles.iter().any(|p| p == name) {
        notice(
            state,
            format!(
                "no profile `{name}` with a cache; profiles: {} (`whalewatch profile add {name}`, then `whalewatch refresh --profile {name}`)",
                state.profiles.join(", ")
            ),
            true,
        );
        return;
    }
    state.switch_to = Some(name.to_string());
    state.quit = true;
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use super::super::tests::{code, key, refusal, state, typed};
    use super::*;

    fn with_profiles() -> State {
        let mut s = state();
        s.profiles = vec!["contoso".into(), "fixture".into(), "fabrikam".into()];
        s
    }

    #[test]
    fn profile_name_asks_the_app_for_that_profile_s_console() {
        let mut s = with_profiles();
        key(&mut s, ':');
        typed(&mut s, "profile fabrikam");
        code(&mut s, KeyCode::Enter);
        assert!(s.quit);
        assert_eq!(s.switch_to.as_deref(), Some("fabrikam"));
    }

    #[test]
    fn unknown_and_current_profiles_are_refused_and_the_picker_switches() {
        let mut s = with_profiles();
        key(&mut s, ':');
        typed(&mut s, "profile nope");
        code(&mut s, KeyCode::Enter);
        assert!(!s.quit);
        let why = refusal(&mut s).expect("refused");
        assert!(why.contains("contoso, fixture, fabrikam"), "{why}");
        key(&mut s, ':');
        typed(&mut s, "profile fixture");
        code(&mut s, KeyCode::Enter);
        assert!(!s.quit && s.switch_to.is_none());
        refusal(&mut s);
        // The picker opens on this console's profile; j moves, enter switches.
        key(&mut s, ':');
        typed(&mut s, "profile");
        code(&mut s, KeyCode::Enter);
        assert_eq!(s.overlay, Some(Overlay::Profiles { cursor: 1 }));
        key(&mut s, 'j');
        code(&mut s, KeyCode::Enter);
        assert_eq!(s.switch_to.as_deref(), Some("fabrikam"));
        assert!(s.quit);
    }

    #[test]
    fn a_console_without_the_profile_list_says_why_it_cannot_switch() {
        let mut s = state();
        key(&mut s, ':');
        typed(&mut s, "profile other");
        code(&mut s, KeyCode::Enter);
        assert!(!s.quit);
        assert!(refusal(&mut s).is_some());
    }
}

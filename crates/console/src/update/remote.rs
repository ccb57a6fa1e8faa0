//! `:remote` / ctrl-r: the email view on top, run on the tenant (advanced hunting)
//! through the same code path as `whalewatch query --remote` ([`crate::remote`]).
//! The remote view replaces the grid until esc (or ctrl-r again) returns to the cache.

use super::{Effect, grid, notice};
use crate::action::{Action, Pane};
use crate::remote::RemoteView;
use crate::state::{State, View};

/// Starts a remote run of the email grid on top, or leaves the remote view.
pub fn toggle(state: &mut State) -> Vec<Effect> {
    if state.remote.take().is_some() {
        notice(state, "back to the cache", false);
        return Vec::new();
    }
    let Some(View::Grid(g)) = state.views.last() else {
        notice(
            state,
            "the remote view runs the email grid (close the details first)",
            false,
        );
        return Vec::new();
    };
    if g.pane != Pane::Emails {
        notice(
            state,
            "the remote view runs email views on advanced hunting's EmailEvents (2 or :emails first)",
            false,
        );
        return Vec::new();
    }
    if g.only.is_some() {
        notice(
            state,
            "this view lists chosen messages (a jump); the remote view runs filters",
            true,
        );
        return Vec::new();
    }
    if !state.session.can_refresh {
        notice(
            state,
            "the remote view needs the tenant: this session has no credentials (see `whalewatch login`)",
            true,
        );
        return Vec::new();
    }
    let filter = match grid::view_filter(state, g) {
        Ok(f) => f,
        Err(e) => {
            notice(state, e, true);
            return Vec::new();
        }
    };
    state.remote_runs += 1;
    let id = state.remote_runs;
    state.remote = Some(RemoteView {
        id,
        filter: whalewatch_query::print(&filter),
        progress: Some("starting…".into()),
        ..Default::default()
    });
    vec![Effect::Remote {
        id,
        filter,
        tags: state.data.tags.clone(),
        now: state.now,
    }]
}

/// Moves through the remote rows; `true` when `a` was a move.
pub fn scrolls(state: &mut State, a: &Action) -> bool {
    let page = state.page_rows() as i64;
    let delta = match a {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => i64::MIN / 2,
        Action::Bottom => i64::MAX / 2,
        _ => return false,
    };
    if let Some(r) = state.remote.as_mut() {
        let n = r.rows.as_ref().map_or(0, |x| x.len());
        r.offset = (r.offset as i64 + delta).clamp(0, n.saturating_sub(1) as i64) as usize;
    }
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::super::tests::{code, key, state, typed};
    use super::super::{Msg, update};
    use super::*;
    use crate::remote::RemotePart;
    use whalewatch_sim::server::{SimConfig, SimServer};
    use whalewatch_sync::connect;

    pub(crate) fn ctrl_r(s: &mut State) -> Vec<Effect> {
        update(
            s,
            Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)),
        )
    }

    /// Runs the remote effects against the fixture's world, served again on loopback,
    /// and delivers every part as the app would.
    pub(crate) fn settle(s: &mut State, effects: Vec<Effect>) -> Vec<RemotePart> {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let mut parts = Vec::new();
        rt.block_on(async {
            let mut config = SimConfig::new(crate::fixture::params(11, 3_000));
            config.hunting_calls_per_minute = 100_000;
            let server = SimServer::start("127.0.0.1:0".parse().expect("addr"), config)
                .await
                .expect("simulator");
            let dir =
                std::env::temp_dir().join(format!("whalewatch-remote-{}", std::process::id()));
            let profile = whalewatch_sim::demo::profile(&server, &dir).expect("profile");
            let client = connect::client_with(
                &profile,
                whalewatch_sim::demo::credential(&server),
                None,
                false,
            )
            .expect("client");
            for e in effects {
                if let Effect::Remote {
                    id,
                    filter,
                    tags,
                    now,
                } = e
                {
                    let q = whalewatch_query::compile(
                        whalewatch_query::Entity::Emails,
                        &filter,
                        &*tags,
                        now,
                    )
                    .expect("compiles");
                    let mut got = Vec::new();
                    crate::remote::run_view(&client, &q, &mut |p| got.push(p)).await;
                    for p in got {
                        parts.push(p.clone());
                        update(s, Msg::Remote { id, part: p });
                    }
                }
            }
            server.shutdown().await;
            let _ = std::fs::remove_dir_all(&dir);
        });
        parts
    }

    #[test]
    fn the_email_view_run_on_the_tenant_agrees_with_the_cache_and_esc_returns() {
        let mut s = state();
        key(&mut s, ':');
        typed(&mut s, "emails threat:phish");
        code(&mut s, KeyCode::Enter);
        key(&mut s, 'P');
        let local = s.grid().expect("grid").rows.len();
        let local_hist = s
            .grid()
            .and_then(|g| g.histogram.clone())
            .expect("histogram");
        let effects = ctrl_r(&mut s);
        assert!(s.remote.as_ref().is_some_and(|r| r.progress.is_some()));
        let parts = settle(&mut s, effects);
        assert!(
            parts
                .iter()
                .any(|p| matches!(p, RemotePart::Progress(t) if t.starts_with("rows: window"))),
            "progress names the windows: {parts:?}"
        );
        let r = s.remote.clone().expect("remote view");
        assert_eq!(r.error, None);
        assert_eq!(r.progress, None, "done");
        assert_eq!(
            r.count,
            Some(local),
            "the tenant counts what the cache counts"
        );
        let total = |h: &whalewatch_query::index::Histogram| -> usize {
            h.buckets.iter().map(|b| b.count).sum()
        };
        assert_eq!(r.histogram.as_deref().map(total), Some(total(&local_hist)));
        assert_eq!(r.frequency.as_ref().map(|f| f.total), Some(local));
        let rows = r.rows.clone().expect("rows");
        assert_eq!(rows.len(), local.min(crate::remote::PAGE));
        // Newest first, like the local grid.
        let times: Vec<String> = rows
            .iter()
            .map(|x| crate::remote::text_of(x.get("Timestamp")))
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
        // Scrolling moves through the remote rows, not the grid below.
        let cursor = s.grid().expect("grid").cursor;
        key(&mut s, 'j');
        assert_eq!(s.remote.as_ref().map(|r| r.offset), Some(1));
        assert_eq!(s.grid().expect("grid").cursor, cursor);
        // Esc leaves the remote view; a late part of that run is dropped.
        code(&mut s, KeyCode::Esc);
        assert!(s.remote.is_none());
        assert_eq!(s.grid().expect("grid").rows.len(), local);
        update(
            &mut s,
            Msg::Remote {
                id: r.id,
                part: RemotePart::Count(1),
            },
        );
        assert!(s.remote.is_none());
    }

    #[test]
    fn remote_needs_an_email_grid_and_a_tenant() {
        let mut s = state();
        assert!(ctrl_r(&mut s).is_empty(), "alerts pane");
        assert!(s.remote.is_none());
        key(&mut s, '2');
        s.session.can_refresh = false;
        assert!(ctrl_r(&mut s).is_empty());
        assert!(
            s.notice
                .as_ref()
                .is_some_and(|n| n.error && n.text.contains("login"))
        );
        s.session.can_refresh = true;
        assert!(matches!(
            ctrl_r(&mut s).as_slice(),
            [Effect::Remote { id: 1, .. }]
        ));
        // Again: back to the cache.
        assert!(ctrl_r(&mut s).is_empty());
        assert!(s.remote.is_none());
    }
}

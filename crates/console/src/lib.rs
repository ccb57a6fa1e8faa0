//! The console: a full-screen, keyboard-driven TUI (ratatui + crossterm + tokio).
//!
//! One state, named actions, effects on tasks:
//!
//! ```text
//!  keys, paste, resize ─┐                      ┌─▶ views::draw(&State) ─▶ one write per frame
//!  task results ────────┼─▶ Msg ─▶ update() ───┤
//!  signals ─────────────┘      (pure)          └─▶ Effects ─▶ tokio tasks / worker threads
//!                                                   (refresh, details, export, OSC 52) ─▶ Msg
//! ```
//!
//! Input becomes an [`action::Action`] through the one command registry
//! ([`commands`]); [`update::update`] applies it and returns effects; views are
//! functions of the state ([`views`]); the terminal is a guarded resource
//! ([`terminal`]). Data comes from the cache through the query layer ([`data`]).

pub mod action;
pub mod app;
pub mod commands;
pub mod data;
pub mod detail;
pub mod details;
pub mod effects;
pub mod export;
#[doc(hidden)]
/// Test support (starts the simulator): not in the product; tests and benches turn
/// it on with the `test-support` feature (a dev-dependency of the crate on itself).
#[cfg(any(test, feature = "test-support"))]
pub mod fixture;
pub mod panes;
pub mod prompt;
pub mod range;
pub mod remote;
pub mod screen;
pub mod search;
pub mod session_log;
pub mod settings;
pub mod state;
pub mod table;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod views;

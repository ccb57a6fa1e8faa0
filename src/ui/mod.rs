//! The console: a full-screen, keyboard-driven TUI (ratatui + crossterm + tokio).
//!
//! One state, named actions, effects on tasks: input becomes an [`action::Action`]
//! through the one command registry ([`commands`]); `update` applies it to the state
//! and returns effects; views are functions of the state; the terminal is a guarded
//! resource ([`terminal`]). (The panes arrive with the console issue.)

pub mod action;
pub mod commands;
pub mod prompt;
pub mod table;
pub mod terminal;
pub mod theme;

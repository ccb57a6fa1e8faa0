//! whalewatch: a terminal console for investigating email threats in a Microsoft 365
//! tenant. Data flows one way: tenant → sync → cache → query → ui; `sim` is a synthetic
//! tenant that speaks the same wire formats. See ARCHITECTURE.md.

pub mod cache;
pub mod cli;
pub mod config;
pub mod demo;
pub mod model;
pub mod query;
pub mod safe_text;
pub mod sim;
pub mod sync;
pub mod tenant;
pub mod ui;

//! `whalewatch demo`: the whole product on a fresh machine, with no tenant.
//!
//! Today it starts the built-in simulator on loopback and shows how to talk to it;
//! refresh, cache and the console join this command as they land.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::sim::{WorldArgs, serve_until_stopped};
use crate::sim::server::SimConfig;

pub fn run(world: &WorldArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let config = SimConfig::new(world.params());
    let listen = "127.0.0.1:0".parse().context("loopback address")?;
    runtime.block_on(serve_until_stopped(config, listen, true))?;
    Ok(ExitCode::SUCCESS)
}

//! `whalewatch sim ...`

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use crate::sim::stats::WorldStats;
use crate::sim::{World, WorldParams};

/// The flags that define a synthetic world. Same flags → byte-identical world.
#[derive(Debug, Clone, Args)]
pub struct WorldArgs {
    /// Seed of the synthetic world.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Reference time (RFC 3339); mail spans the days before it. Default: now.
    #[arg(long, value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Number of users in the directory.
    #[arg(long, default_value_t = 2_000)]
    pub users: u32,
    /// Days of mail before --now.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// EmailEvents rows (message × recipient) per day.
    #[arg(long, default_value_t = 3_000)]
    pub emails_per_day: u32,
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-11-01T00:00:00Z ({e})"))
}

impl WorldArgs {
    pub fn params(&self) -> WorldParams {
        let now = self.now.unwrap_or_else(Utc::now);
        WorldParams {
            seed: self.seed,
            // Whole seconds: a defaulted --now must not leak sub-second noise.
            now: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
            users: self.users,
            days: self.days,
            emails_per_day: self.emails_per_day,
        }
    }

    pub fn world(&self) -> Result<World> {
        World::generate(&self.params()).context("cannot build the synthetic world")
    }
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Print the world's ground truth as JSON (row counts per table, threat type, location...).
    Stats {
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Print the priority accounts, one address per line (the portal's import format).
    Vips {
        #[command(flatten)]
        world: WorldArgs,
    },
}

pub fn run(cmd: SimCommand) -> Result<ExitCode> {
    match cmd {
        SimCommand::Stats { world } => {
            let w = world.world()?;
            let json = serde_json::to_string_pretty(&WorldStats::of(&w))?;
            println!("{json}");
        }
        SimCommand::Vips { world } => {
            let w = world.world()?;
            std::io::stdout().write_all(w.vip_list().as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

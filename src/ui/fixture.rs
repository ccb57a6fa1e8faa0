//! A small, deterministic cache filled through the real pipeline (the simulator on
//! loopback, `sync::refresh`), for the console's unit tests, snapshot tests and
//! benchmarks. Hidden from the docs: it is test support, not an API.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};

use crate::cache::{Cache, cache_file};
use crate::sim::params::WorldParams;
use crate::sim::server::{SimConfig, SimServer};
use crate::sync::{RefreshOptions, connect, refresh};

/// "Now" of the fixture world: every relative time in tests is measured from it.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A world of `rows` EmailEvents rows over 10 days.
pub fn params(seed: u64, rows: u32) -> WorldParams {
    WorldParams {
        seed,
        now: now(),
        users: 300,
        days: 10,
        emails_per_day: rows / 10,
    }
}

/// Generates the world, serves it on loopback and refreshes it into a cache under
/// `dir`; returns the cache file.
pub fn build(dir: &Path, params: WorldParams) -> anyhow::Result<PathBuf> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut config = SimConfig::new(params);
        config.hunting_calls_per_minute = 100_000;
        let server = SimServer::start("127.0.0.1:0".parse()?, config).await?;
        let profile = crate::demo::profile(&server, dir)?;
        let client = connect::client_with(&profile, crate::demo::credential(&server), None, false)?;
        let path = cache_file(dir, "fixture");
        let cache = Cache::open(&path)?;
        let options = RefreshOptions {
            hunting_calls_per_minute: 100_000,
            ..RefreshOptions::default()
        };
        refresh(&client, cache, &profile, &options, &|_| {}).await?;
        server.shutdown().await;
        Ok(path)
    })
}

//! Diagnostics: the library's `tracing` spans and events (refresh sources, hunting windows,
//! the index build, the console's first frame), written where the user asks.
//!
//! `--log-file PATH` writes them to a file created owner-only (0600); `WHALEWATCH_LOG` picks
//! what (EnvFilter syntax: `debug`, `whalewatch::sync=debug,info`; default `info`). Without
//! `--log-file`, `WHALEWATCH_LOG` sends them to stderr — except for the console, whose terminal
//! stays clean: it logs to the file only. Spans report their time when they close.
//!
//! Other crates' events are capped at `info`: their debug output (HTTP/2 frames, connection
//! details) is not ours to vet for secrets. Ours never carry a secret, token or header.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::prelude::*;

/// Picks what is logged, in `tracing_subscriber::EnvFilter` syntax.
pub const LOG_ENV: &str = "WHALEWATCH_LOG";

/// The global `--log-file` flag.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LogArgs {
    /// Write diagnostics (levels, timings per refresh source and hunting window) to this
    /// file, created owner-only; never secrets or tokens [level: env WHALEWATCH_LOG, default info]
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

/// Installs the subscriber `args` and `WHALEWATCH_LOG` ask for; none when neither does.
/// `console`: the command draws on the terminal, so nothing may go to stderr.
pub fn init(args: &LogArgs, console: bool) -> Result<()> {
    let directives = std::env::var(LOG_ENV).ok().filter(|d| !d.trim().is_empty());
    let writer = match (&args.log_file, &directives) {
        (Some(path), _) => BoxMakeWriter::new(Mutex::new(open_private_log(path)?)),
        (None, Some(_)) if !console => BoxMakeWriter::new(io::stderr),
        _ => return Ok(()),
    };
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse(directives.as_deref().unwrap_or(""))
        .with_context(|| {
            format!("{LOG_ENV}: not a log filter (try `debug`, or `whalewatch::sync=debug,info`)")
        })?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE);
    tracing_subscriber::registry()
        .with(filter)
        .with(filter_fn(|meta| {
            meta.target().starts_with("whalewatch") || *meta.level() <= Level::INFO
        }))
        .with(fmt)
        .try_init()
        .context("a log subscriber was already installed")
}

/// Opens `path` for appending, creating it with mode 0600. An existing file that other users
/// can read is refused rather than silently re-permissioned.
fn open_private_log(path: &Path) -> Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts
        .open(path)
        .with_context(|| format!("--log-file {}: cannot open it for writing", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "--log-file {}: other users can read it (mode {mode:o}); `chmod 600` it or name a new file",
                path.display()
            );
        }
    }
    Ok(file)
}

//! `whalewatch completions SHELL` and `whalewatch man`: generated from the clap
//! definitions, so the completions and the manual cannot drift from the real flags.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory as _;

use super::Cli;

/// Which shell to write completions for.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for `args.shell` to stdout.
pub fn completions(args: &CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    // Generated into memory first: `generate` panics on a write error, and a closed
    // pipe (`… | head`) must end quietly instead.
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "whalewatch", &mut out);
    write_stdout(&out)
}

/// Prints the manual page (roff) to stdout: `whalewatch man | man -l -`.
pub fn man() -> Result<ExitCode> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

//! The command line: thin clap commands over the library.

use std::process::ExitCode;

/// Parses arguments and runs the chosen command.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}

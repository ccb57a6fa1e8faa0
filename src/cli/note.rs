//! `whalewatch note add|list`: local notes on emails, alerts, campaigns and users.

use std::process::ExitCode;

use anyhow::Result;

use super::context::ProfileArgs;
use crate::cache::NoteTarget;
use crate::safe_text;
use crate::sync::triage::{self, analyst_name};

/// Notes.
#[derive(Debug, clap::Subcommand)]
pub enum NoteCommand {
    /// Attach a note: KIND (email, alert, campaign, user), ID, TEXT.
    Add {
        /// email, alert, campaign or user.
        kind: String,
        /// The id: alert id, campaign id, user address, or NetworkMessageId[/recipient].
        id: String,
        /// The note.
        text: Vec<String>,
    },
    /// List notes, all or on one thing.
    List {
        /// email, alert, campaign or user.
        kind: Option<String>,
        /// The id.
        id: Option<String>,
    },
}

fn kind_of(s: &str) -> Result<NoteTarget> {
    NoteTarget::parse(s)
        .ok_or_else(|| anyhow::anyhow!("`{s}`: notes attach to an email, alert, campaign or user"))
}

pub fn run(p: &ProfileArgs, cmd: &NoteCommand) -> Result<ExitCode> {
    let ctx = p.context()?;
    match cmd {
        NoteCommand::Add { kind, id, text } => {
            let kind = kind_of(kind)?;
            let mut cache = ctx.open_cache()?;
            let n = triage::add_note(
                &mut cache,
                kind,
                id,
                &text.join(" "),
                &analyst_name(&ctx.profile),
            )?;
            println!("note #{n} on {} {}", kind.as_str(), safe_text::sanitize(id));
        }
        NoteCommand::List { kind, id } => {
            let cache = ctx.read_cache()?;
            let notes = match (kind, id) {
                (Some(k), Some(i)) => cache.notes_for(kind_of(k)?, i)?,
                (Some(k), None) => {
                    let k = kind_of(k)?;
                    cache
                        .notes()?
                        .into_iter()
                        .filter(|n| n.target_kind == k)
                        .collect()
                }
                _ => cache.notes()?,
            };
            for n in notes {
                println!(
                    "{} {}  [{}] {}",
                    n.target_kind.as_str(),
                    safe_text::sanitize(&n.target),
                    safe_text::sanitize(&n.analyst),
                    safe_text::sanitize(&n.text)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

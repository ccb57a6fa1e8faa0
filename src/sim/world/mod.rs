//! The synthetic tenant: directory, mail flow, campaigns, alerts and incidents.
//!
//! The world is generated once from `WorldParams` and kept in a compact layout:
//! repeated strings are interned (`StrId`), per-message facts live once in `Message`
//! and each recipient is a small `RecipientRow`. The server reads advanced-hunting
//! tables straight from this layout (see `tables.rs`), so a million-row world is held
//! in memory exactly once.

mod alerts;
mod directory;
mod hostile;
mod mail;
mod strings;
mod tables;
mod types;
pub mod vocab;

use std::sync::Arc;

pub use alerts::{Alert, AlertComment, Evidence, Incident, refresh_incident, titles};
pub use directory::{Directory, Group, User};
pub use hostile::subjects as hostile_subjects;
pub use mail::PRIORITY_CONTEXT;
pub use strings::{StrId, Strings};
pub use tables::HuntingCatalog;
pub use types::*;

use super::params::{ParamsError, WorldParams};
use super::rng::{Guid, SimRng};

/// Identity of the synthetic tenant.
#[derive(Debug, Clone)]
pub struct TenantInfo {
    pub id: Guid,
    pub name: &'static str,
    pub domain: &'static str,
    pub initial_domain: &'static str,
}

/// A whole synthetic tenant.
#[derive(Debug)]
pub struct World {
    pub params: WorldParams,
    pub tenant: TenantInfo,
    pub strings: Strings,
    pub directory: Directory,
    /// Every mailbox that sends or receives: the directory's users first (party `i`
    /// is user `i`), then external senders and recipients.
    pub parties: Vec<Party>,
    pub campaigns: Vec<Campaign>,
    pub messages: Vec<Message>,
    /// `EmailEvents`: one row per message × recipient, in time order.
    pub rows: Vec<RecipientRow>,
    pub verdicts: Vec<Verdict>,
    pub urls: Vec<UrlRow>,
    pub attachments: Vec<AttachmentRow>,
    /// `EmailAttachmentInfo` is per recipient: (attachment, recipient row) pairs.
    pub attachment_rows: Vec<(u32, u32)>,
    pub post_delivery: Vec<PostDeliveryRow>,
    pub clicks: Vec<ClickRow>,
    pub alerts: Vec<Alert>,
    pub incidents: Vec<Incident>,
}

impl World {
    /// Generates the world for `params`.
    pub fn generate(params: &WorldParams) -> Result<World, ParamsError> {
        params.validate()?;
        let mut tenant_rng = SimRng::new(params.seed, "tenant");
        let tenant = TenantInfo {
            id: tenant_rng.guid(),
            name: vocab::TENANT_NAME,
            domain: vocab::TENANT_DOMAIN,
            initial_domain: vocab::TENANT_INITIAL_DOMAIN,
        };
        let mut strings = Strings::default();
        let directory = directory::generate(params, &mut strings);
        let mut world = World {
            params: params.clone(),
            tenant,
            strings,
            directory,
            parties: Vec::new(),
            campaigns: Vec::new(),
            messages: Vec::new(),
            rows: Vec::new(),
            verdicts: Vec::new(),
            urls: Vec::new(),
            attachments: Vec::new(),
            attachment_rows: Vec::new(),
            post_delivery: Vec::new(),
            clicks: Vec::new(),
            alerts: Vec::new(),
            incidents: Vec::new(),
        };
        mail::generate(&mut world);
        alerts::generate(&mut world);
        Ok(world)
    }

    /// The interned string behind `id`.
    pub fn s(&self, id: StrId) -> &Arc<str> {
        self.strings.get(id)
    }

    /// The message a recipient row belongs to.
    pub fn message_of(&self, row: &RecipientRow) -> &Message {
        &self.messages[row.message as usize]
    }

    /// Ticks of the reference time.
    pub fn now(&self) -> i64 {
        self.params.now_ticks()
    }

    /// The priority accounts' addresses, one per line, as the Defender portal
    /// imports them and `Get-User -IsVIP` exports them.
    pub fn vip_list(&self) -> String {
        let mut out = String::new();
        for &u in &self.directory.priority {
            out.push_str(&self.directory.users[u as usize].upn);
            out.push('\n');
        }
        out
    }

    /// Whether party `p` is a priority account.
    pub fn is_priority_party(&self, p: u32) -> bool {
        (p as usize) < self.directory.users.len() && self.directory.is_priority[p as usize]
    }
}

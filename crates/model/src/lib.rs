//! Plain data shared by `tenant`, `cache`, `query` and `ui`: no I/O lives here.
//!
//! The shapes follow the wire formats (advanced-hunting tables, Graph `alerts_v2`, incidents,
//! directory objects) so that one type serves every layer; parsing is defensive because
//! Microsoft's own examples disagree on key casing, enum spelling and time formats.

#![warn(missing_docs)]

/// Implements `Deserialize` for a struct derived with `#[serde(remote = "Self")]`: parse to a
/// `Value` once, read the typed fields from it, then keep the value as `raw`.
macro_rules! keep_raw {
    ($name:ident) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                let mut typed =
                    $name::deserialize(&raw).map_err(<D::Error as serde::de::Error>::custom)?;
                typed.raw = raw;
                Ok(typed)
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $name::serialize(self, s)
            }
        }
        impl $name {
            /// Parses from an already-decoded JSON value, keeping it as `raw`.
            pub fn from_value(raw: serde_json::Value) -> Result<Self, serde_json::Error> {
                let mut typed = $name::deserialize(&raw)?;
                typed.raw = raw;
                Ok(typed)
            }
        }
    };
}

pub mod alert;
pub mod analyzed_email;
pub mod batch;
pub mod directory;
pub mod email;
pub mod enums;
pub mod hunting;
pub mod json;
pub mod posture;
pub mod safe_text;
pub mod time;

pub use alert::Alert;
pub use alert::{
    AlertComment, AnalyzedMessageEvidence, Evidence, EvidenceCommon, Incident, MailboxEvidence,
    UrlEvidence, UserAccount, UserEvidence,
};
pub use analyzed_email::{AnalyzedEmail, PlannedMessage, RemediateRequest, RemediateTarget};
pub use directory::{DirectoryObject, Group, User};
pub use email::{
    CampaignMessage, EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, UrlClick,
};
pub use enums::*;
pub use hunting::{HuntingColumn, HuntingResult, HuntingRow, HuntingRows, RowError};

//! Plain data shared by `tenant`, `cache`, `query` and `ui`: no I/O lives here.
//!
//! The shapes follow the wire formats (advanced-hunting tables, Graph `alerts_v2`, incidents,
//! directory objects) so that one type serves every layer; parsing is defensive because
//! Microsoft's own examples disagree on key casing, enum spelling and time formats.

pub mod alert;
pub mod analyzed_email;
pub mod directory;
pub mod email;
pub mod enums;
pub mod hunting;
pub mod time;

pub use alert::{
    AlertComment, AnalyzedMessageEvidence, Evidence, EvidenceCommon, Incident, MailboxEvidence,
    UrlEvidence, UserAccount, UserEvidence,
};
pub use alert::Alert;
pub use analyzed_email::{AnalyzedEmail, RemediateRequest, RemediateTarget};
pub use directory::{DirectoryObject, Group, User};
pub use email::{
    CampaignMessage, EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, UrlClick,
};
pub use enums::*;
pub use hunting::{HuntingColumn, HuntingResult, HuntingRow, HuntingRows, RowError};

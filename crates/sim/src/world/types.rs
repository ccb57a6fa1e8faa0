//! The compact row types of the mail flow. Spellings returned by `as_str` are the
//! documented advanced-hunting values.

use super::strings::StrId;
use crate::rng::Guid;

/// A mailbox that sends or receives mail.
#[derive(Debug, Clone)]
pub struct Party {
    pub address: StrId,
    pub display_name: StrId,
    pub domain: StrId,
    /// Entra object id, for the tenant's own users.
    pub object_id: Option<Guid>,
}

/// `EmailDirection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Inbound,
    Outbound,
    IntraOrg,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
            Direction::IntraOrg => "Intra-org",
        }
    }
}

/// What a message really is: the simulator's ground truth, of which the filtering
/// stack's verdict (`Verdict`) is an imperfect view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Clean,
    Bulk,
    Spam,
    CredentialPhish,
    BrandPhish,
    Bec,
    InvoiceFraud,
    Malware,
    /// Outbound spam from a compromised internal account.
    CompromisedOutbound,
}

impl Kind {
    pub fn is_phish(self) -> bool {
        matches!(
            self,
            Kind::CredentialPhish | Kind::BrandPhish | Kind::Bec | Kind::InvoiceFraud
        )
    }
    pub fn is_threat(self) -> bool {
        self.is_phish() || matches!(self, Kind::Malware)
    }
}

/// `DeliveryAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryAction {
    Delivered,
    Junked,
    Blocked,
    Replaced,
}

impl DeliveryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryAction::Delivered => "Delivered",
            DeliveryAction::Junked => "Junked",
            DeliveryAction::Blocked => "Blocked",
            DeliveryAction::Replaced => "Replaced",
        }
    }
}

/// `DeliveryLocation` / `LatestDeliveryLocation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    Inbox,
    Junk,
    Quarantine,
    DeletedItems,
    Dropped,
    Failed,
    External,
}

impl Location {
    pub const ALL: [Location; 7] = [
        Location::Inbox,
        Location::Junk,
        Location::Quarantine,
        Location::DeletedItems,
        Location::Dropped,
        Location::Failed,
        Location::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Location::Inbox => "Inbox/folder",
            Location::Junk => "Junk folder",
            Location::Quarantine => "Quarantine",
            Location::DeletedItems => "Deleted items",
            Location::Dropped => "Dropped",
            Location::Failed => "Failed",
            Location::External => "On-premises/external",
        }
    }
}

/// The filtering stack's verdict, interned because few combinations occur.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Verdict {
    pub threat_types: StrId,
    pub threat_names: StrId,
    pub detection_methods: StrId,
    pub confidence: StrId,
    pub email_action: StrId,
    pub policy: StrId,
    pub policy_guid: StrId,
    pub org_action: StrId,
    pub org_policy: StrId,
    pub user_action: StrId,
    pub user_policy: StrId,
}

/// One message; its recipients are `rows[first_row .. first_row + row_count]`.
#[derive(Debug, Clone)]
pub struct Message {
    pub time: i64,
    pub id: Guid,
    pub from: u32,
    pub mail_from: StrId,
    pub ip: StrId,
    pub subject: StrId,
    pub cluster: i64,
    pub direction: Direction,
    pub kind: Kind,
    pub verdict: u16,
    pub bcl: i32,
    pub auth: StrId,
    pub size: u32,
    pub language: StrId,
    pub connector: StrId,
    pub campaign: Option<u16>,
    pub first_row: u32,
    pub row_count: u16,
    pub first_url: u32,
    pub url_count: u16,
    pub first_attachment: u32,
    pub attachment_count: u16,
}

/// One `EmailEvents` row: a message as received by one recipient.
#[derive(Debug, Clone)]
pub struct RecipientRow {
    pub message: u32,
    pub recipient: u32,
    pub action: DeliveryAction,
    pub original: Location,
    pub latest: Location,
    /// `LatestDeliveryAction`.
    pub latest_action: StrId,
    /// Detected for a priority account: `Context` is priority account protection.
    pub priority_context: bool,
}

/// One `EmailUrlInfo` row.
#[derive(Debug, Clone)]
pub struct UrlRow {
    pub message: u32,
    pub url: StrId,
    pub domain: StrId,
    pub location: StrId,
    pub malicious: bool,
}

/// One attachment of a message (`EmailAttachmentInfo` repeats it per recipient).
#[derive(Debug, Clone)]
pub struct AttachmentRow {
    pub message: u32,
    pub file_name: StrId,
    pub file_type: StrId,
    pub sha256: StrId,
    pub size: u32,
    pub malicious: bool,
}

/// One `EmailPostDeliveryEvents` row.
#[derive(Debug, Clone)]
pub struct PostDeliveryRow {
    pub time: i64,
    pub row: u32,
    pub action: StrId,
    pub action_type: StrId,
    pub trigger: StrId,
    pub result: StrId,
    pub location: Location,
}

/// One `UrlClickEvents` row.
#[derive(Debug, Clone)]
pub struct ClickRow {
    pub time: i64,
    pub row: u32,
    pub url: u32,
    pub action_type: StrId,
    pub clicked_through: bool,
    pub ip: StrId,
}

/// A campaign: a cluster of messages sharing infrastructure, lure and payload.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: Guid,
    pub name: StrId,
    /// `Phish` or `Malware`.
    pub campaign_type: StrId,
    /// The brand phished or the malware family.
    pub subtype: StrId,
    pub kind: Kind,
    pub cluster: i64,
    pub sender_domains: Vec<StrId>,
    pub ip_prefix: [u8; 3],
    pub subjects: Vec<StrId>,
    pub url_domain: StrId,
    pub payload: Option<(StrId, StrId)>,
    pub threat_name: StrId,
    pub start: i64,
    pub end: i64,
    pub messages: u32,
    /// Aimed at finance and priority accounts rather than at anyone.
    pub whaling: bool,
}

//! The documented columns of the advanced-hunting tables the compiler may use: the
//! same lists as the simulator's catalog (a test checks they agree), so compiled KQL
//! names nothing Microsoft does not document.

use whalewatch_model::email::{
    CampaignMessage, EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, UrlClick,
};
use whalewatch_model::hunting::HuntingRow;

/// Every table with its documented columns, in schema order. The email tables come
/// from the model's row types, the single list the cache and the parser use too.
pub const TABLES: &[(&str, &[&str])] = &[
    (EmailEvent::TABLE, EmailEvent::COLUMNS),
    (EmailUrl::TABLE, EmailUrl::COLUMNS),
    (EmailAttachment::TABLE, EmailAttachment::COLUMNS),
    (PostDeliveryEvent::TABLE, PostDeliveryEvent::COLUMNS),
    (UrlClick::TABLE, UrlClick::COLUMNS),
    (CampaignMessage::TABLE, CampaignMessage::COLUMNS),
    (
        "IdentityInfo",
        &[
            "Timestamp",
            "AccountObjectId",
            "AccountUpn",
            "AccountDisplayName",
            "GivenName",
            "Surname",
            "Department",
            "JobTitle",
            "Country",
            "IsAccountEnabled",
            "EmailAddress",
            "AccountName",
            "AccountDomain",
        ],
    ),
    (
        "AlertInfo",
        &[
            "Timestamp",
            "AlertId",
            "Title",
            "Category",
            "Severity",
            "ServiceSource",
            "DetectionSource",
            "AttackTechniques",
        ],
    ),
    (
        "AlertEvidence",
        &[
            "Timestamp",
            "AlertId",
            "Title",
            "Categories",
            "AttackTechniques",
            "ServiceSource",
            "DetectionSource",
            "EntityType",
            "EvidenceRole",
            "NetworkMessageId",
            "EmailSubject",
            "AccountUpn",
            "AccountObjectId",
            "AccountName",
            "AccountDomain",
            "RemoteUrl",
            "ThreatFamily",
        ],
    ),
];

/// The documented columns of `table`, if it is a documented table.
pub fn columns(table: &str) -> Option<&'static [&'static str]> {
    TABLES.iter().find(|(t, _)| *t == table).map(|(_, c)| *c)
}

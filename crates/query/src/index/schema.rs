//! Which `EmailEvents` columns the index holds, and the names an analyst may use for
//! them (the hunting column, case-insensitive, or the filter language's field name).

/// String columns, in `EmailEvents` order. `ReportId` (unique per row) and
/// `AdditionalFields` (kept only as its `EmailSize`) stay in SQLite.
pub const STR_COLUMNS: &[&str] = &[
    "NetworkMessageId",
    "InternetMessageId",
    "SenderMailFromAddress",
    "SenderFromAddress",
    "SenderDisplayName",
    "SenderObjectId",
    "SenderMailFromDomain",
    "SenderFromDomain",
    "SenderIPv4",
    "SenderIPv6",
    "RecipientEmailAddress",
    "RecipientObjectId",
    "Subject",
    "EmailDirection",
    "DeliveryAction",
    "DeliveryLocation",
    "ThreatTypes",
    "ThreatNames",
    "DetectionMethods",
    "ConfidenceLevel",
    "EmailAction",
    "EmailActionPolicy",
    "EmailActionPolicyGuid",
    "AuthenticationDetails",
    "EmailLanguage",
    "Connectors",
    "OrgLevelAction",
    "OrgLevelPolicy",
    "UserLevelAction",
    "UserLevelPolicy",
    "LatestDeliveryLocation",
    "LatestDeliveryAction",
    "Context",
];

/// Whole-number columns; `EmailSize` comes from `AdditionalFields`.
pub const INT_COLUMNS: &[&str] = &[
    "EmailClusterId",
    "BulkComplaintLevel",
    "AttachmentCount",
    "UrlCount",
    "EmailSize",
];

macro_rules! consts {
    ($($name:ident = $i:expr),* $(,)?) => { $( #[allow(missing_docs)] pub const $name: usize = $i; )* };
}

consts! {
    NMID = 0, IMID = 1, MAIL_FROM = 2, FROM = 3, DISPLAY_NAME = 4, SENDER_DOMAIN = 7,
    IPV4 = 8, IPV6 = 9, RECIPIENT = 10, SUBJECT = 12, DIRECTION = 13, DELIVERY = 14,
    ORIGINAL_LOCATION = 15, THREATS = 16, DETECTION = 18, CONFIDENCE = 19, POLICY = 21, AUTH = 23,
    LANGUAGE = 24, RULE = 27, LOCATION = 30, LATEST_ACTION = 31, CONTEXT = 32,
    MAIL_FROM_DOMAIN = 6, THREAT_NAMES = 17, CONNECTORS = 25, ORG_ACTION = 26, USER_ACTION = 28,
}

consts! { CLUSTER = 0, BCL = 1, ATTACHMENT_COUNT = 2, URL_COUNT = 3, SIZE = 4 }

/// A column of the email index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// `Timestamp`.
    Time,
    /// A string column, by its position in [`STR_COLUMNS`].
    Str(usize),
    /// A number column, by its position in [`INT_COLUMNS`].
    Int(usize),
    /// The recipient's domain (the part of `RecipientEmailAddress` after `@`).
    RecipientDomain,
}

impl Column {
    /// The column's name as advanced hunting spells it.
    pub fn name(self) -> &'static str {
        match self {
            Column::Time => "Timestamp",
            Column::Str(i) => STR_COLUMNS[i],
            Column::Int(i) => INT_COLUMNS[i],
            Column::RecipientDomain => "RecipientDomain",
        }
    }

    /// Whether advanced hunting's `EmailEvents` has this column (frequency tables and
    /// splits of the others run locally only).
    pub fn is_remote(self) -> bool {
        !matches!(self, Column::RecipientDomain | Column::Int(SIZE))
    }

    /// The column named `name`: a hunting column (any case) or a filter field name
    /// (`sender-domain`, `location`, `threat`...).
    pub fn parse(name: &str) -> Option<Column> {
        let lower = name.to_ascii_lowercase();
        if lower == "timestamp" || lower == "time" || lower == "date" {
            return Some(Column::Time);
        }
        if let Some(i) = STR_COLUMNS
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
        {
            return Some(Column::Str(i));
        }
        if let Some(i) = INT_COLUMNS
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
        {
            return Some(Column::Int(i));
        }
        Some(match lower.as_str() {
            "from" | "sender" => Column::Str(FROM),
            "sender-domain" | "sd" | "fromdomain" | "from-domain" => Column::Str(SENDER_DOMAIN),
            "display-name" | "dn" => Column::Str(DISPLAY_NAME),
            "mail-from" | "mailfrom" | "return-path" => Column::Str(MAIL_FROM),
            "to" | "recipient" | "rcpt" => Column::Str(RECIPIENT),
            "recipient-domain" | "rd" | "recipientdomain" => Column::RecipientDomain,
            "subject" | "subj" => Column::Str(SUBJECT),
            "threat" | "threats" | "threat-type" => Column::Str(THREATS),
            "detection" | "dt" => Column::Str(DETECTION),
            "delivery" | "action" | "delivery-action" => Column::Str(DELIVERY),
            "location" | "loc" | "latest-location" => Column::Str(LOCATION),
            "original-location" | "oloc" | "original" => Column::Str(ORIGINAL_LOCATION),
            "direction" | "dir" => Column::Str(DIRECTION),
            "context" => Column::Str(CONTEXT),
            "cluster" | "cluster-id" => Column::Int(CLUSTER),
            "ip" | "sender-ip" => Column::Str(IPV4),
            "nmid" | "network-message-id" => Column::Str(NMID),
            "imid" | "internet-message-id" | "message-id" => Column::Str(IMID),
            "bcl" | "bulk" => Column::Int(BCL),
            "size" => Column::Int(SIZE),
            "attachment-count" => Column::Int(ATTACHMENT_COUNT),
            "url-count" => Column::Int(URL_COUNT),
            "rule" | "transport-rule" => Column::Str(RULE),
            "policy" => Column::Str(POLICY),
            "language" | "lang" => Column::Str(LANGUAGE),
            "threat-name" | "malware-family" | "malware" | "family" => Column::Str(THREAT_NAMES),
            "connector" => Column::Str(CONNECTORS),
            "mail-from-domain" | "return-path-domain" => Column::Str(MAIL_FROM_DOMAIN),
            "auth" | "authentication" => Column::Str(AUTH),
            _ => return None,
        })
    }

    /// Every column name an analyst can use, for "did you mean" hints.
    pub fn names() -> impl Iterator<Item = &'static str> {
        std::iter::once("Timestamp")
            .chain(STR_COLUMNS.iter().copied())
            .chain(INT_COLUMNS.iter().copied())
            .chain(std::iter::once("RecipientDomain"))
    }
}

//! The email grid (Threat Explorer's): one row per message × recipient. Cells come
//! from the columnar index once it is built, from the preview page before that.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, match_term, short_time};
use crate::data::Snapshot;
use whalewatch_model::hunting::{HuntingRow, to_ticks};
use whalewatch_query::Filter;
use whalewatch_query::index::schema::{self as s, Column, INT_COLUMNS, STR_COLUMNS};
use whalewatch_query::index::{IndexError, SortKey};

/// An email column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EmailCol {
    /// `Timestamp`.
    Time,
    /// A string column of the index (position in `STR_COLUMNS`).
    Str(usize),
    /// A number column of the index (position in `INT_COLUMNS`).
    Int(usize),
    /// The recipient's domain.
    RecipientDomain,
    /// The recipient's user tags.
    Tags,
    /// ZAP or remediation after delivery.
    AdditionalActions,
    /// The campaign the message belongs to.
    Campaign,
}

impl EmailCol {
    /// The index column behind this one, if any.
    pub fn index_column(self) -> Option<Column> {
        Some(match self {
            EmailCol::Time => Column::Time,
            EmailCol::Str(i) => Column::Str(i),
            EmailCol::Int(i) => Column::Int(i),
            EmailCol::RecipientDomain => Column::RecipientDomain,
            _ => return None,
        })
    }
}

const fn col(c: EmailCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Email(c),
        title,
        min,
        max,
    }
}

/// Threat Explorer's default columns, in its order.
pub const DEFAULT: &[GridColumn] = &[
    col(EmailCol::Time, "Date", 16, 16),
    col(EmailCol::Str(s::SUBJECT), "Subject", 24, 56),
    col(EmailCol::Str(s::RECIPIENT), "Recipient", 16, 34),
    col(EmailCol::Tags, "Tags", 4, 24),
    col(EmailCol::Str(s::FROM), "Sender", 10, 34),
    col(EmailCol::Str(s::SENDER_DOMAIN), "Sender domain", 8, 28),
    col(EmailCol::Str(s::LOCATION), "Latest location", 8, 20),
    col(
        EmailCol::Str(s::ORIGINAL_LOCATION),
        "Original location",
        8,
        20,
    ),
    col(EmailCol::Str(s::THREATS), "Threat", 6, 14),
    col(EmailCol::Str(s::DELIVERY), "Delivery", 8, 10),
    col(EmailCol::Str(s::DETECTION), "Detection", 8, 28),
    col(EmailCol::AdditionalActions, "Additional actions", 6, 22),
];

/// The default columns.
pub fn default_columns() -> Vec<GridColumn> {
    DEFAULT.to_vec()
}

/// Every column an analyst can show: the defaults, then every other cached column.
pub fn all_columns() -> Vec<GridColumn> {
    let mut out = default_columns();
    let more = STR_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, n)| col(EmailCol::Str(i), n, 6, 40))
        .chain(
            INT_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, n)| col(EmailCol::Int(i), n, 6, 12)),
        )
        .chain([
            col(EmailCol::RecipientDomain, "RecipientDomain", 8, 28),
            col(EmailCol::Campaign, "Campaign", 8, 30),
        ]);
    for c in more {
        if !out.iter().any(|o| o.id == c.id) {
            out.push(c);
        }
    }
    out
}

/// The column titled `title` (either spelling), for saved column choices.
pub fn by_title(title: &str) -> Option<GridColumn> {
    all_columns()
        .into_iter()
        .find(|c| c.title.eq_ignore_ascii_case(title))
}

/// Newest first.
pub fn evaluate(
    data: &Snapshot,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Vec<u32>, IndexError> {
    match &data.emails {
        Some(ix) if filter.root.is_none() && data.newest.len() == ix.len() => {
            Ok(data.newest.to_vec())
        }
        Some(ix) if data.newest.len() == ix.len() => {
            let rows = ix.eval(filter, now)?;
            Ok(data
                .newest
                .iter()
                .copied()
                .filter(|&r| rows.contains(r as usize))
                .collect())
        }
        Some(ix) => {
            let rows = ix.eval(filter, now)?;
            Ok(ix.sorted(&rows, SortKey::NEWEST))
        }
        None if filter.root.is_none() => Ok((0..data.preview.len() as u32).collect()),
        None => Err(IndexError::NotReady),
    }
}

/// A cell's raw text.
pub fn cell(data: &Snapshot, row: u32, c: EmailCol) -> String {
    let r = row as usize;
    let Some(ix) = &data.emails else {
        return preview_cell(data, r, c);
    };
    match c {
        EmailCol::Time => short_time(ix.times().get(r).copied()),
        EmailCol::Tags => data
            .tags
            .tags_of(ix.str_column(s::RECIPIENT).value(r))
            .join(", "),
        EmailCol::AdditionalActions => additional(
            ix.side().zapped.contains(r),
            ix.side().released.contains(r),
            ix.str_column(s::DELIVERY).value(r),
            ix.str_column(s::LATEST_ACTION).value(r),
        ),
        EmailCol::Campaign => {
            let m = ix.str_column(s::NMID).codes.get(r);
            let side = &ix.side().campaigns;
            side.message
                .iter()
                .position(|&x| x == m)
                .and_then(|e| side.columns.get(1).map(|c| c.value(e).to_string()))
                .unwrap_or_default()
        }
        other => match other.index_column() {
            Some(column) => ix.value(column, r),
            None => String::new(),
        },
    }
}

/// Threat Explorer's additional actions: "ZAP" when zero-hour auto purge moved the
/// copy, "Quarantine release" when an admin released it, otherwise the latest action
/// when it differs from the original one (an admin's remediation). The grid and the
/// flyout both call this, with flags from the same post-delivery events.
pub fn additional(zapped: bool, released: bool, delivery: &str, latest_action: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    if zapped {
        out.push("ZAP");
    }
    if released {
        out.push(whalewatch_model::email::QUARANTINE_RELEASE);
    }
    if out.is_empty() && !latest_action.is_empty() && !latest_action.eq_ignore_ascii_case(delivery)
    {
        out.push(latest_action);
    }
    out.join(", ")
}

fn preview_cell(data: &Snapshot, r: usize, c: EmailCol) -> String {
    let Some(e) = data.preview.get(r) else {
        return String::new();
    };
    let named = |name: &str| -> String {
        let cells = e.to_cells();
        whalewatch_model::email::EmailEvent::COLUMNS
            .iter()
            .position(|n| *n == name)
            .and_then(|i| cells.get(i))
            .map(|c| match c {
                whalewatch_model::hunting::Cell::Null => String::new(),
                whalewatch_model::hunting::Cell::Int(n) => n.to_string(),
                whalewatch_model::hunting::Cell::Text(t) => t.to_string(),
            })
            .unwrap_or_default()
    };
    match c {
        EmailCol::Time => short_time(Some(to_ticks(&e.timestamp))),
        EmailCol::Str(i) => named(STR_COLUMNS[i]),
        EmailCol::Int(i) => named(INT_COLUMNS[i]),
        EmailCol::RecipientDomain => {
            whalewatch_query::index::recipient_domain(&e.recipient_email_address).to_string()
        }
        EmailCol::Tags => data.tags.tags_of(&e.recipient_email_address).join(", "),
        EmailCol::AdditionalActions => additional(
            false,
            false,
            &named("DeliveryAction"),
            &named("LatestDeliveryAction"),
        ),
        EmailCol::Campaign => String::new(),
    }
}

/// `DetectionMethods` is JSON (`{"Phish":["URL detonation"]}`); the technologies
/// it names, in order.
pub fn detection_technologies(raw: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(raw) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for v in m.values() {
        for t in v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
        {
            if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    out
}

/// How a cell reads on screen when that differs from its raw value (JSON columns).
pub fn display(c: EmailCol, raw: &str) -> Option<String> {
    match c {
        EmailCol::Str(s::DETECTION) if raw.starts_with('{') => {
            Some(detection_technologies(raw).join(", "))
        }
        EmailCol::Str(s::CONFIDENCE) if raw.starts_with('{') => confidence(raw),
        _ => None,
    }
}

/// `{"Phish":"High","Spam":null}` as an analyst reads it: `Phish: High` (the levels
/// that are set, by name); `None` when it is not such an object.
pub fn confidence(raw: &str) -> Option<String> {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(raw) else {
        return None;
    };
    let set: Vec<String> = m
        .iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) if s.is_empty() => None,
            serde_json::Value::String(s) => Some(format!("{k}: {s}")),
            other => Some(format!("{k}: {other}")),
        })
        .collect();
    Some(if set.is_empty() {
        "none".to_string()
    } else {
        set.join(", ")
    })
}

/// Network message id and recipient: the row's identity across refreshes.
pub fn key(data: &Snapshot, row: u32) -> String {
    match &data.emails {
        Some(ix) => {
            let k = ix.key(row as usize);
            format!("{}|{}", k.network_message_id, k.recipient)
        }
        None => data
            .preview
            .get(row as usize)
            .map(|e| format!("{}|{}", e.network_message_id, e.recipient_email_address))
            .unwrap_or_default(),
    }
}

/// The filter term for `value` in `c`.
pub fn term(c: EmailCol, value: &str) -> Option<String> {
    let field = match c {
        EmailCol::Str(i) => match i {
            s::FROM => "from",
            s::SENDER_DOMAIN => "sender-domain",
            s::MAIL_FROM => "mail-from",
            s::DISPLAY_NAME => "display-name",
            s::RECIPIENT => "to",
            s::SUBJECT => "subject",
            s::NMID => "nmid",
            s::IMID => "imid",
            s::IPV4 | s::IPV6 => "ip",
            s::DELIVERY => "delivery",
            s::LOCATION => "location",
            s::ORIGINAL_LOCATION => "original-location",
            s::DIRECTION => "direction",
            s::CONTEXT => "context",
            s::LANGUAGE => "language",
            s::THREATS if !value.contains(',') => "threat",
            s::DETECTION => {
                return match detection_technologies(value).as_slice() {
                    [one] => Some(match_term("detection", one)),
                    _ => None,
                };
            }
            _ => return None,
        },
        EmailCol::Int(s::CLUSTER) => "cluster",
        EmailCol::Int(s::BCL) => "bcl",
        EmailCol::RecipientDomain => "recipient-domain",
        EmailCol::Campaign => "campaign",
        EmailCol::Tags if !value.contains(',') => "tag",
        EmailCol::AdditionalActions if value == "ZAP" => return Some("zap:yes".into()),
        _ => return None,
    };
    Some(match_term(field, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_reads_as_levels_not_json() {
        let c = EmailCol::Str(s::CONFIDENCE);
        assert_eq!(
            display(c, r#"{"Phish":"High","Spam":null}"#).as_deref(),
            Some("Phish: High")
        );
        assert_eq!(
            display(c, r#"{"Phish":"Normal","Spam":"Low"}"#).as_deref(),
            Some("Phish: Normal, Spam: Low")
        );
        assert_eq!(display(c, r#"{"Phish":null}"#).as_deref(), Some("none"));
        assert_eq!(display(c, "High"), None, "plain text is shown as it is");
    }
}

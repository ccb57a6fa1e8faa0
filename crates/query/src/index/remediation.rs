//! The index rows a remediation acts on, as plain data for `sync::remediate` (which
//! plans, confirms and sends; it does not read the index).

use super::{EmailIndex, RowSet, schema};
use whalewatch_config::PRIORITY_ACCOUNT;
use whalewatch_model::PlannedMessage;

impl EmailIndex {
    /// The message copies at `rows` (the cursor, marked rows, or a filter's result),
    /// in row order. Priority accounts come from the index's tags.
    pub fn planned_messages(&self, rows: &RowSet) -> Vec<PlannedMessage> {
        let tags = self.tags();
        rows.iter()
            .map(|row| {
                let key = self.key(row);
                PlannedMessage {
                    priority: tags
                        .tags_of(&key.recipient)
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(PRIORITY_ACCOUNT)),
                    network_message_id: key.network_message_id,
                    recipient: key.recipient,
                    subject: self.s(schema::SUBJECT).value(row).to_string(),
                    sender: self.s(schema::FROM).value(row).to_string(),
                    latest_location: self.s(schema::LOCATION).value(row).to_string(),
                }
            })
            .collect()
    }
}

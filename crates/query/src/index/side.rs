//! Tables that hang off the mail: URLs and campaigns per message, attachments per
//! message and recipient, alert evidence per message, and the per-row flags that
//! summarise clicks and ZAP. Semi-joins of the filter language evaluate a predicate
//! over a side table's distinct values, then mark the messages (or rows) it reaches.

use super::bitset::Bitset;
use super::buf::Buf;
use super::column::StrColumn;

/// Rows per message: `rows[start[m]..start[m+1]]` are message `m`'s rows (by
/// `NetworkMessageId` code), in row order.
#[derive(Debug, Clone, Default)]
pub struct MessageRows {
    start: Buf<u32>,
    rows: Buf<u32>,
}

impl MessageRows {
    /// Groups rows by their message code (`codes[row]`), for `messages` codes.
    pub fn build(messages: usize, codes: impl Fn(usize) -> u32, rows: usize) -> MessageRows {
        let mut start = vec![0u32; messages + 1];
        for r in 0..rows {
            start[codes(r) as usize + 1] += 1;
        }
        for m in 0..messages {
            start[m + 1] += start[m];
        }
        let mut fill = start.clone();
        let mut out = vec![0u32; rows];
        for r in 0..rows {
            let m = codes(r) as usize;
            out[fill[m] as usize] = r as u32;
            fill[m] += 1;
        }
        MessageRows {
            start: Buf::from(start),
            rows: Buf::from(out),
        }
    }

    /// From the two arrays of a column file; `None` unless they are consistent
    /// (starts ascend up to the row count, and every row id is below `rows`).
    pub(crate) fn from_parts(start: Buf<u32>, rows: Buf<u32>, n: usize) -> Option<MessageRows> {
        let ok = start.first().is_some_and(|&s| s == 0)
            && start.windows(2).all(|w| w[0] <= w[1])
            && start.last().is_some_and(|&s| s as usize == rows.len())
            && rows.len() == n
            && rows.iter().all(|&r| (r as usize) < n);
        ok.then_some(MessageRows { start, rows })
    }

    /// The two arrays (what a column file stores).
    pub(crate) fn parts(&self) -> (&Buf<u32>, &Buf<u32>) {
        (&self.start, &self.rows)
    }

    /// The rows of message `m`.
    pub fn of(&self, m: u32) -> &[u32] {
        let m = m as usize;
        if m + 1 >= self.start.len() {
            return &[];
        }
        &self.rows[self.start[m] as usize..self.start[m + 1] as usize]
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.start.heap_bytes() + self.rows.heap_bytes()
    }
}

/// A side table keyed by message (`EmailUrlInfo`, `CampaignInfo`, `AlertEvidence`):
/// each entry names a message code and carries string columns.
#[derive(Debug, Clone)]
pub struct ByMessage {
    /// Message code of each entry.
    pub message: Buf<u32>,
    /// The entry's columns (for URLs: `Url`, `UrlDomain`, `UrlLocation`; campaigns: `CampaignId`,
    /// `CampaignName`, `CampaignType`; alerts: `AlertId`).
    pub columns: Vec<StrColumn>,
}

impl ByMessage {
    /// Messages (a flag per message code) with an entry for which `hit` holds.
    pub fn messages(&self, messages: usize, hit: impl Fn(usize) -> bool) -> Vec<bool> {
        let mut out = vec![false; messages];
        for (e, &m) in self.message.iter().enumerate() {
            if hit(e) {
                out[m as usize] = true;
            }
        }
        out
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.message.heap_bytes()
            + self
                .columns
                .iter()
                .map(StrColumn::heap_bytes)
                .sum::<usize>()
    }
}

/// A side table keyed by email row (`EmailAttachmentInfo`): each entry names the
/// row (message and recipient) it belongs to.
#[derive(Debug, Clone)]
pub struct ByRow {
    /// Email row of each entry.
    pub row: Buf<u32>,
    /// Attachments: `FileName`, `SHA256`, `FileType`; clicks: `ActionType`, `Url`,
    /// `Workload`, `IPAddress`.
    pub columns: Vec<StrColumn>,
}

impl ByRow {
    /// Rows with an entry for which `hit` holds.
    pub fn rows(&self, rows: usize, hit: impl Fn(usize) -> bool) -> Bitset {
        let mut out = Bitset::new(rows);
        for (e, &r) in self.row.iter().enumerate() {
            if hit(e) {
                out.insert(r as usize);
            }
        }
        out
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.row.heap_bytes()
            + self
                .columns
                .iter()
                .map(StrColumn::heap_bytes)
                .sum::<usize>()
    }
}

/// `UrlClickEvents` joined to the email rows they came from (message and the
/// account that clicked): the click table and the `click-verdict:` filter.
#[derive(Debug, Clone)]
pub struct Clicks {
    /// The row of each click, and its `ActionType`, `Url`, `Workload`, `IPAddress`,
    /// `ThreatTypes`.
    pub by_row: ByRow,
    /// `Timestamp` of each click, in ticks.
    pub time: Vec<i64>,
    /// `IsClickedThrough` of each click.
    pub through: Vec<bool>,
}

/// Column positions of [`Clicks::by_row`].
pub mod click_col {
    #![allow(missing_docs)]
    pub const ACTION: usize = 0;
    pub const URL: usize = 1;
    pub const WORKLOAD: usize = 2;
    pub const IP: usize = 3;
    pub const THREATS: usize = 4;
}

impl Clicks {
    /// Clicks held.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether no click is held.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.by_row.heap_bytes() + self.time.capacity() * 8 + self.through.capacity()
    }
}

/// Every side table of the email index.
#[derive(Debug, Clone)]
pub struct Side {
    /// `EmailUrlInfo`: `Url`, `UrlDomain`, `UrlLocation`.
    pub urls: ByMessage,
    /// `CampaignInfo`: `CampaignId`, `CampaignName`, `CampaignType`.
    pub campaigns: ByMessage,
    /// Alert evidence naming a message: `AlertId`.
    pub alerts: ByMessage,
    /// `EmailAttachmentInfo`: `FileName`, `SHA256`, `FileType`.
    pub attachments: ByRow,
    /// `UrlClickEvents` by the row's recipient, oldest first.
    pub clicks: Clicks,
    /// `EmailPostDeliveryEvents` of the row (message and recipient): `ActionType`.
    pub post_delivery: ByRow,
    /// Rows whose recipient clicked a URL of the message, allowed or blocked.
    pub clicked_any: Bitset,
    /// Rows whose recipient clicked through a URL of the message
    /// ([`UrlClick::got_through`](whalewatch_model::email::UrlClick::got_through)).
    pub clicked: Bitset,
    /// Rows removed from the recipient's mailbox by ZAP.
    pub zapped: Bitset,
    /// Rows an admin released from quarantine.
    pub released: Bitset,
}

impl Side {
    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.urls.heap_bytes()
            + self.campaigns.heap_bytes()
            + self.alerts.heap_bytes()
            + self.attachments.heap_bytes()
            + self.clicks.heap_bytes()
            + self.post_delivery.heap_bytes()
            + self.clicked_any.heap_bytes()
            + self.clicked.heap_bytes()
            + self.zapped.heap_bytes()
            + self.released.heap_bytes()
    }
}

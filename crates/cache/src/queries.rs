//! Typed reads: every query the layers above run against the cache is one of these
//! methods, so SQL stays in this module and callers pass keys, never SQL.
//!
//! Addresses compare case-insensitively everywhere (`COLLATE NOCASE`, ASCII folding,
//! as the index's `tolower` keys do): Exchange treats `Ceo@Contoso.com` and
//! `ceo@contoso.com` as one mailbox, and the service does not keep one spelling.
//! Message ids compare exactly.

use std::borrow::Cow;
use std::collections::HashMap;

use rusqlite::types::ValueRef;

use super::{Cache, CacheError};
use whalewatch_model::email::{
    CampaignMessage, EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, RowKey, UrlClick,
};
use whalewatch_model::hunting::HuntingRow;

/// `NetworkMessageId` = ?1 AND recipient = ?2 (case-insensitively).
const BY_KEY: &str = "\"NetworkMessageId\" = ?1 AND \"RecipientEmailAddress\" = ?2 COLLATE NOCASE";
const BY_MESSAGE: &str = "\"NetworkMessageId\" = ?1";

/// One row of a scan ([`Cache::scan_email_columns`], [`Cache::scan_side`]): its
/// values by position in the scan's columns.
pub struct ScanRow<'r> {
    row: &'r rusqlite::Row<'r>,
    /// Columns before the caller's (the rowid of an email scan).
    offset: usize,
}

impl ScanRow<'_> {
    /// Value `k` as text (numbers in decimal; `None` for null). Invalid UTF-8 is
    /// replaced, as everywhere else the cache is read.
    pub fn text(&self, k: usize) -> Result<Option<Cow<'_, str>>, CacheError> {
        Ok(match self.row.get_ref(k + self.offset)? {
            ValueRef::Null => None,
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t)),
            ValueRef::Integer(i) => Some(Cow::Owned(i.to_string())),
            ValueRef::Real(f) => Some(Cow::Owned(f.to_string())),
        })
    }

    /// Value `k` as the bytes SQLite holds (numbers in decimal; `None` for null),
    /// not checked for UTF-8: for callers that check each distinct value once (the
    /// index's dictionaries) rather than every cell.
    pub fn bytes(&self, k: usize) -> Result<Option<Cow<'_, [u8]>>, CacheError> {
        Ok(match self.row.get_ref(k + self.offset)? {
            ValueRef::Null => None,
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(Cow::Borrowed(t)),
            ValueRef::Integer(i) => Some(Cow::Owned(i.to_string().into_bytes())),
            ValueRef::Real(f) => Some(Cow::Owned(f.to_string().into_bytes())),
        })
    }

    /// Value `k` as a whole number (`None` for null or text that is not one).
    pub fn int(&self, k: usize) -> Result<Option<i64>, CacheError> {
        Ok(match self.row.get_ref(k + self.offset)? {
            ValueRef::Integer(i) => Some(i),
            ValueRef::Real(f) => Some(f as i64),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.trim().parse().ok()),
            _ => None,
        })
    }
}

/// The side tables the email index joins to its rows, each read by one fixed query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideScan {
    /// `email_urls`: message id, `Url`, `UrlDomain`, `UrlLocation`.
    Urls,
    /// `campaign_messages`: message id, `CampaignId`, `CampaignName`, `CampaignType`.
    Campaigns,
    /// Alert evidence naming a message: message id, alert id.
    AlertEvidence,
    /// `email_attachments`: message id, recipient, `FileName`, `SHA256`, `FileType`.
    Attachments,
    /// Every URL click (allowed or blocked): message id, the account that clicked.
    Clicked,
    /// Clicks through ([`UrlClick::got_through`](whalewatch_model::email::UrlClick::got_through):
    /// the KQL's `IsClickedThrough == true or ActionType =~ "ClickAllowed"`): message
    /// id, the account that clicked.
    ClickedThrough,
    /// ZAP (`ActionType in~ ("Phish ZAP", "Malware ZAP")`): message id, recipient.
    Zapped,
    /// Every post-delivery event: message id, recipient, `ActionType`.
    PostDelivery,
    /// Every URL click, oldest first: message id, the account that clicked,
    /// `ActionType` (the click verdict), `Url`, `Workload`, `IPAddress`,
    /// `ThreatTypes`, `IsClickedThrough`, `Timestamp`.
    Clicks,
    /// Released from quarantine (`ActionType =~ "Quarantine release"`): message id,
    /// recipient.
    QuarantineReleased,
}

impl SideScan {
    fn sql(self) -> &'static str {
        match self {
            SideScan::Urls => "SELECT \"NetworkMessageId\", \"Url\", \"UrlDomain\", \"UrlLocation\" FROM email_urls",
            SideScan::Campaigns => {
                "SELECT \"NetworkMessageId\", \"CampaignId\", \"CampaignName\", \"CampaignType\" FROM campaign_messages"
            }
            SideScan::AlertEvidence => {
                "SELECT network_message_id, alert_id FROM alert_evidence WHERE network_message_id IS NOT NULL"
            }
            SideScan::Attachments => {
                "SELECT \"NetworkMessageId\", \"RecipientEmailAddress\", \"FileName\", \"SHA256\", \"FileType\" FROM email_attachments"
            }
            SideScan::Clicked => "SELECT \"NetworkMessageId\", \"AccountUpn\" FROM url_clicks",
            SideScan::ClickedThrough => {
                "SELECT \"NetworkMessageId\", \"AccountUpn\" FROM url_clicks
                 WHERE \"IsClickedThrough\" = 1 OR lower(\"ActionType\") = 'clickallowed'"
            }
            SideScan::QuarantineReleased => {
                "SELECT \"NetworkMessageId\", \"RecipientEmailAddress\" FROM post_delivery_events
                 WHERE lower(\"ActionType\") = 'quarantine release'"
            }
            SideScan::Zapped => {
                "SELECT \"NetworkMessageId\", \"RecipientEmailAddress\" FROM post_delivery_events
                 WHERE lower(\"ActionType\") IN ('phish zap', 'malware zap')"
            }
            SideScan::PostDelivery => {
                "SELECT \"NetworkMessageId\", \"RecipientEmailAddress\", \"ActionType\" FROM post_delivery_events"
            }
            SideScan::Clicks => {
                "SELECT \"NetworkMessageId\", \"AccountUpn\", \"ActionType\", \"Url\", \"Workload\",
                 \"IPAddress\", \"ThreatTypes\", \"IsClickedThrough\", \"Timestamp\" FROM url_clicks ORDER BY \"Timestamp\""
            }
        }
    }
}

impl Cache {
    /// The cached email row with `key`.
    pub fn email(&self, key: &RowKey) -> Result<Option<EmailEvent>, CacheError> {
        Ok(self
            .select(
                Some(BY_KEY),
                &[&key.network_message_id, &key.recipient],
                Some(1),
            )?
            .into_iter()
            .next())
    }

    /// The newest `limit` email rows, newest first (the console's first page).
    pub fn newest_emails(&self, limit: usize) -> Result<Vec<EmailEvent>, CacheError> {
        self.select(None, &[], Some(limit))
    }

    /// The URLs of message `network_message_id`.
    pub fn urls_of(&self, network_message_id: &str) -> Result<Vec<EmailUrl>, CacheError> {
        self.select(Some(BY_MESSAGE), &[&network_message_id], None)
    }

    /// The URL clicks on message `network_message_id`, newest first.
    pub fn clicks_of(&self, network_message_id: &str) -> Result<Vec<UrlClick>, CacheError> {
        self.select(Some(BY_MESSAGE), &[&network_message_id], None)
    }

    /// The attachments of the message copy `key`.
    pub fn attachments_of(&self, key: &RowKey) -> Result<Vec<EmailAttachment>, CacheError> {
        self.select(
            Some(BY_KEY),
            &[&key.network_message_id, &key.recipient],
            None,
        )
    }

    /// The post-delivery events (ZAP, remediation, ...) of the message copy `key`,
    /// oldest first: a timeline.
    pub fn post_delivery_of(&self, key: &RowKey) -> Result<Vec<PostDeliveryEvent>, CacheError> {
        let mut v: Vec<PostDeliveryEvent> = self.select(
            Some(BY_KEY),
            &[&key.network_message_id, &key.recipient],
            None,
        )?;
        v.reverse();
        Ok(v)
    }

    /// Every cached `CampaignInfo` row, newest first.
    pub fn campaign_messages(&self) -> Result<Vec<CampaignMessage>, CacheError> {
        self.select(None, &[], None)
    }

    /// The cached `LatestDeliveryLocation` of the message copy `key` (`None` when the
    /// copy is not cached or has no location).
    pub fn latest_location(&self, key: &RowKey) -> Result<Option<String>, CacheError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT \"LatestDeliveryLocation\" FROM email_events WHERE {BY_KEY}"
        ))?;
        let mut rows = stmt.query(rusqlite::params![key.network_message_id, key.recipient])?;
        Ok(match rows.next()? {
            Some(r) => r.get(0)?,
            None => None,
        })
    }

    /// The user members of every group: group id → member object ids.
    pub fn group_members(&self) -> Result<HashMap<String, Vec<String>>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT group_id, member_id FROM group_members WHERE member_type = 'user'")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            let (g, m) = row?;
            out.entry(g).or_default().push(m);
        }
        Ok(out)
    }

    /// Reads `columns` of every email row in rowid order (the index's row order),
    /// calling `f` with each row's rowid and values; stops at `f`'s first error.
    /// Column names are `EmailEvents` column names; any other name is refused.
    pub fn scan_email_columns<E: From<CacheError>>(
        &self,
        columns: &[&str],
        f: impl FnMut(i64, &ScanRow<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.scan_email_columns_after(i64::MIN, columns, f)
    }

    /// [`Cache::scan_email_columns`] over the rows whose rowid is above `after`
    /// only: the rows a refresh appended since an index that ends at `after`.
    pub fn scan_email_columns_after<E: From<CacheError>>(
        &self,
        after: i64,
        columns: &[&str],
        mut f: impl FnMut(i64, &ScanRow<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = email_select(columns, "rowid > ?1 ORDER BY rowid")?;
        let mut stmt = self.conn.prepare(&sql).map_err(CacheError::from)?;
        let mut rows = stmt.query([after]).map_err(CacheError::from)?;
        while let Some(r) = rows.next().map_err(CacheError::from)? {
            let rowid: i64 = r.get(0).map_err(CacheError::from)?;
            f(rowid, &ScanRow { row: r, offset: 1 })?;
        }
        Ok(())
    }

    /// Every email row in rowid order (the index's row order), parsed only where
    /// `want(i)` says so (`i` counts rows from 0); `f` gets the position and the row
    /// and returns `false` to stop.
    pub fn scan_emails<E: From<CacheError>>(
        &self,
        mut want: impl FnMut(usize) -> bool,
        mut f: impl FnMut(usize, EmailEvent) -> Result<bool, E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT {} FROM email_events ORDER BY rowid",
            super::hunting::quoted(EmailEvent::COLUMNS)
        );
        let mut stmt = self.conn.prepare(&sql).map_err(CacheError::from)?;
        let mut rows = stmt.query([]).map_err(CacheError::from)?;
        let mut i = 0usize;
        while let Some(r) = rows.next().map_err(CacheError::from)? {
            if want(i) {
                let e = super::hunting::from_row::<EmailEvent>(r)?;
                if !f(i, e)? {
                    break;
                }
            }
            i += 1;
        }
        Ok(())
    }

    /// Reads one side table ([`SideScan`] names its columns), calling `f` per row.
    pub fn scan_side<E: From<CacheError>>(
        &self,
        which: SideScan,
        mut f: impl FnMut(&ScanRow<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self.conn.prepare(which.sql()).map_err(CacheError::from)?;
        let mut rows = stmt.query([]).map_err(CacheError::from)?;
        while let Some(r) = rows.next().map_err(CacheError::from)? {
            f(&ScanRow { row: r, offset: 0 })?;
        }
        Ok(())
    }

    /// Runs `f` inside one read transaction, so everything it reads (and the
    /// [`Cache::generation`] it reads) comes from one consistent snapshot even while
    /// a refresh commits alongside (WAL).
    pub fn snapshot<T, E: From<CacheError>>(
        &self,
        f: impl FnOnce(&Cache) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(CacheError::from)?;
        let out = f(self)?;
        // Read-only: ending it releases the snapshot; nothing to commit.
        tx.rollback().map_err(CacheError::from)?;
        Ok(out)
    }

    /// An upper bound of the cached email rows (the largest rowid; no scan), for
    /// callers that size their buffers before a scan.
    pub fn email_rows_hint(&self) -> Result<usize, CacheError> {
        let n: Option<i64> =
            self.conn
                .query_row("SELECT max(rowid) FROM email_events", [], |r| r.get(0))?;
        // Only a size hint: a negative rowid (never written by whalewatch) hints nothing.
        Ok(n.map_or(0, |n| usize::try_from(n).unwrap_or(0)))
    }

    /// The cache's generation: a counter every write transaction bumps (refresh
    /// windows, triage and remediation writes, post-delivery moves, bulk-load index
    /// restores). A reader that remembers it knows whether what it derived is stale,
    /// including after in-place updates that add or remove no row. A cache whose
    /// schema predates the counter (opened read-only, never migrated by this build)
    /// has not been written by this build: generation 0.
    pub fn generation(&self) -> Result<u64, CacheError> {
        if self.schema_version()? < super::schema::GENERATION_SINCE {
            return Ok(0);
        }
        let g: i64 = self
            .conn
            .query_row("SELECT value FROM generation WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        Ok(g as u64)
    }
}

/// Where the log of in-place email row changes stands ([`Cache::mail_log`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLog {
    /// Email rows deleted so far: rows an index holds may be gone once this grows.
    pub deletes: u64,
    /// The newest change entry (0: none yet); [`Cache::rows_changed_after`] lists the
    /// rows changed after an earlier one.
    pub changes: i64,
    /// The largest email rowid: rows above an index's largest are the ones added
    /// since it was built.
    pub max_row: i64,
    /// Entries up to this one were trimmed ([`Cache::trim_mail_log`]): an index
    /// built before it cannot learn what changed since.
    pub trimmed: i64,
}

impl Cache {
    /// The email rows' change log: an index that remembers it can later take just
    /// the rows added and changed since, while no row was deleted. A cache whose
    /// schema predates the log (opened read-only, never migrated by this build)
    /// answers `None`: nothing can be carried forward from it.
    pub fn mail_log(&self) -> Result<Option<MailLog>, CacheError> {
        if self.schema_version()? < super::schema::MAIL_LOG_SINCE {
            return Ok(None);
        }
        let (deletes, trimmed, changes, max_row): (i64, i64, Option<i64>, Option<i64>) =
            self.conn.query_row(
                "SELECT mail_deletes, mail_trimmed,
                        (SELECT max(seq) FROM mail_changes),
                        (SELECT max(rowid) FROM email_events)
                 FROM generation WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        Ok(Some(MailLog {
            deletes: deletes as u64,
            // An empty log after a trim: the trim point is the newest entry there was.
            changes: changes.unwrap_or(0).max(trimmed),
            max_row: max_row.unwrap_or(0),
            trimmed,
        }))
    }

    /// Keeps the newest `keep` entries of the mail log (one per email row changed in
    /// place), so it cannot grow without end; an index older than what is kept is
    /// rebuilt instead of brought up to date. Returns how many entries went.
    pub fn trim_mail_log(&mut self, keep: i64) -> Result<u64, CacheError> {
        if self.schema_version()? < super::schema::MAIL_LOG_SINCE {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        let (newest, trimmed): (Option<i64>, i64) = tx.query_row(
            "SELECT (SELECT max(seq) FROM mail_changes), mail_trimmed FROM generation WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let upto = newest.unwrap_or(0) - keep;
        if upto <= trimmed {
            return Ok(0);
        }
        let gone = tx.execute("DELETE FROM mail_changes WHERE seq <= ?1", [upto])?;
        tx.execute(
            "UPDATE generation SET mail_trimmed = ?1 WHERE id = 1",
            [upto],
        )?;
        tx.commit()?;
        Ok(gone as u64)
    }

    /// The rowids of email rows changed in place after change entry `after` and up
    /// to `upto` ([`MailLog::changes`]), each once, ascending.
    pub fn rows_changed_after(&self, after: i64, upto: i64) -> Result<Vec<i64>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT row FROM mail_changes WHERE seq > ?1 AND seq <= ?2 ORDER BY row",
        )?;
        let rows = stmt.query_map([after, upto], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Reads `columns` of the email rows `rowids` (ascending), like
    /// [`Cache::scan_email_columns`]; a rowid with no row is skipped.
    pub fn scan_email_rows<E: From<CacheError>>(
        &self,
        rowids: &[i64],
        columns: &[&str],
        mut f: impl FnMut(i64, &ScanRow<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = email_select(columns, "rowid = ?1")?;
        let mut stmt = self.conn.prepare(&sql).map_err(CacheError::from)?;
        for &id in rowids {
            let mut rows = stmt.query([id]).map_err(CacheError::from)?;
            if let Some(r) = rows.next().map_err(CacheError::from)? {
                f(id, &ScanRow { row: r, offset: 1 })?;
            }
        }
        Ok(())
    }
}

impl Cache {
    /// How many migrations this cache has had (`PRAGMA user_version`): a cache opened
    /// read-only is never migrated, so a newer table may be missing.
    fn schema_version(&self) -> Result<i64, CacheError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// `SELECT rowid, <columns> FROM email_events WHERE <rest>`; column names are
/// `EmailEvents` column names, any other name is refused.
fn email_select(columns: &[&str], rest: &str) -> Result<String, CacheError> {
    if let Some(bad) = columns.iter().find(|c| !EmailEvent::COLUMNS.contains(c)) {
        return Err(CacheError::Row(format!(
            "`{bad}` is not an EmailEvents column"
        )));
    }
    let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    Ok(format!(
        "SELECT rowid, {} FROM email_events WHERE {rest}",
        cols.join(", ")
    ))
}

/// Bumps the generation inside the transaction that writes (see [`Cache::generation`]).
pub(super) fn bump_generation(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute("UPDATE generation SET value = value + 1 WHERE id = 1", [])
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// The side scans select what the model's definitions say (the flyout decides
    /// from those definitions, the index from these scans).
    #[test]
    fn side_scans_follow_the_model_definitions() {
        use whalewatch_model::email::{CLICK_ALLOWED, QUARANTINE_RELEASE, ZAP_ACTION_TYPES};
        for z in ZAP_ACTION_TYPES {
            let quoted = format!("'{}'", z.to_lowercase());
            assert!(SideScan::Zapped.sql().contains(&quoted), "{z}");
        }
        let allowed = format!("'{}'", CLICK_ALLOWED.to_lowercase());
        assert!(SideScan::ClickedThrough.sql().contains(&allowed));
        assert!(
            SideScan::ClickedThrough
                .sql()
                .contains("\"IsClickedThrough\" = 1")
        );
        let release = format!("'{}'", QUARANTINE_RELEASE.to_lowercase());
        assert!(SideScan::QuarantineReleased.sql().contains(&release));
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ww-queries-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn event(n: &str, r: &str, loc: &str, minute: u32) -> EmailEvent {
        EmailEvent {
            timestamp: Utc.with_ymd_and_hms(2026, 10, 30, 8, minute, 0).unwrap(),
            network_message_id: n.into(),
            recipient_email_address: r.into(),
            latest_delivery_location: Some(loc.into()),
            subject: format!("{n} to {r}"),
            ..EmailEvent::default()
        }
    }

    fn key(n: &str, r: &str) -> RowKey {
        RowKey {
            network_message_id: n.into(),
            recipient: r.into(),
        }
    }

    #[test]
    fn typed_queries_find_rows_by_key_with_addresses_case_insensitive() {
        let dir = temp("typed");
        let mut c = Cache::open(&dir.join("t.sqlite")).unwrap();
        let rows = vec![
            event("n1", "Ceo@Contoso.com", "Inbox/folder", 1),
            event("n1", "cfo@contoso.com", "Junk folder", 2),
            event("n2", "ceo@contoso.com", "Quarantine", 3),
        ];
        let urls = vec![
            EmailUrl {
                timestamp: rows[0].timestamp,
                network_message_id: "n1".into(),
                url: "https://a.example/x".into(),
                url_location: "Body".into(),
                ..EmailUrl::default()
            },
            EmailUrl {
                timestamp: rows[2].timestamp,
                network_message_id: "n2".into(),
                url: "https://b.example/y".into(),
                url_location: "Body".into(),
                ..EmailUrl::default()
            },
        ];
        let events = vec![
            PostDeliveryEvent {
                timestamp: Utc.with_ymd_and_hms(2026, 10, 30, 9, 0, 0).unwrap(),
                network_message_id: "n1".into(),
                recipient_email_address: "ceo@contoso.com".into(),
                action_type: "Phish ZAP".into(),
                ..PostDeliveryEvent::default()
            },
            PostDeliveryEvent {
                timestamp: Utc.with_ymd_and_hms(2026, 10, 30, 10, 0, 0).unwrap(),
                network_message_id: "n1".into(),
                recipient_email_address: "ceo@contoso.com".into(),
                action_type: "Manual remediation".into(),
                ..PostDeliveryEvent::default()
            },
        ];
        c.write(|w| {
            w.upsert_rows(&rows)?;
            w.upsert_rows(&urls)?;
            w.upsert_rows(&events)
        })
        .unwrap();

        // The stored spelling differs from the asked one: found all the same.
        let e = c.email(&key("n1", "CEO@contoso.COM")).unwrap().unwrap();
        assert_eq!(e, rows[0]);
        assert_eq!(c.email(&key("n1", "cto@contoso.com")).unwrap(), None);
        assert_eq!(c.email(&key("N1", "ceo@contoso.com")).unwrap(), None);
        assert_eq!(
            c.latest_location(&key("n1", "CFO@CONTOSO.COM")).unwrap(),
            Some("Junk folder".into())
        );
        assert_eq!(c.latest_location(&key("n9", "a@b")).unwrap(), None);
        assert_eq!(c.urls_of("n1").unwrap(), vec![urls[0].clone()]);
        assert!(c.clicks_of("n1").unwrap().is_empty());
        let timeline = c.post_delivery_of(&key("n1", "CEO@contoso.com")).unwrap();
        let kinds: Vec<&str> = timeline.iter().map(|t| t.action_type.as_str()).collect();
        assert_eq!(kinds, ["Phish ZAP", "Manual remediation"], "oldest first");
        assert!(
            c.attachments_of(&key("n1", "ceo@contoso.com"))
                .unwrap()
                .is_empty()
        );
        let newest: Vec<String> = c
            .newest_emails(2)
            .unwrap()
            .into_iter()
            .map(|e| e.network_message_id)
            .collect();
        assert_eq!(newest, ["n2", "n1"]);

        let mut seen = Vec::new();
        c.scan_email_columns::<CacheError>(&["NetworkMessageId", "BulkComplaintLevel"], |_, r| {
            seen.push((r.text(0)?.map(|t| t.into_owned()), r.int(1)?));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], (Some("n1".into()), Some(0)));
        let refused = c.scan_email_columns::<CacheError>(&["x\" FROM alerts --"], |_, _| Ok(()));
        assert!(refused.is_err());

        let mut zapped = Vec::new();
        c.scan_side::<CacheError>(SideScan::Zapped, |r| {
            zapped.push(r.text(1)?.map(|t| t.into_owned()));
            Ok(())
        })
        .unwrap();
        assert_eq!(zapped, [Some("ceo@contoso.com".to_string())]);

        let mut picked = Vec::new();
        c.scan_emails::<CacheError>(
            |i| i != 1,
            |i, e| {
                picked.push((i, e.network_message_id));
                Ok(true)
            },
        )
        .unwrap();
        assert_eq!(picked, [(0, "n1".to_string()), (2, "n2".to_string())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_write_bumps_the_generation_reads_do_not() {
        let dir = temp("generation");
        let path = dir.join("t.sqlite");
        let mut c = Cache::open(&path).unwrap();
        let g0 = c.generation().unwrap();
        let row = event("n1", "a@x", "Inbox/folder", 1);
        c.write(|w| w.upsert_rows(std::slice::from_ref(&row)))
            .unwrap();
        let g1 = c.generation().unwrap();
        assert!(g1 > g0);
        // An in-place update (same key, same row count) still moves it.
        let moved = event("n1", "a@x", "Deleted items", 1);
        c.write(|w| w.upsert_rows(&[moved])).unwrap();
        let g2 = c.generation().unwrap();
        assert!(g2 > g1);
        // Reads leave it alone; another connection sees the same value.
        let _ = c.email(&key("n1", "a@x")).unwrap();
        let reader = Cache::open_read_only(&path).unwrap();
        assert_eq!(reader.generation().unwrap(), g2);
        // A snapshot keeps its generation while a writer commits alongside.
        let inside = reader
            .snapshot::<_, CacheError>(|r| {
                let before = r.generation()?;
                c.write(|w| w.upsert_rows(std::slice::from_ref(&row)))?;
                Ok((before, r.generation()?))
            })
            .unwrap();
        assert_eq!(inside.0, inside.1);
        assert!(reader.generation().unwrap() > g2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_mail_log_names_rows_changed_in_place_and_counts_deletes_never_inserts() {
        let dir = temp("mail-log");
        let mut c = Cache::open(&dir.join("t.sqlite")).unwrap();
        let log = |c: &Cache| c.mail_log().unwrap().unwrap();
        assert_eq!(log(&c).changes, 0);
        c.write(|w| {
            w.upsert_rows(&[
                event("n1", "a@x", "Inbox/folder", 1),
                event("n2", "b@x", "Inbox/folder", 2),
                event("n3", "c@x", "Inbox/folder", 3),
            ])
        })
        .unwrap();
        let first = log(&c);
        assert_eq!((first.deletes, first.changes, first.max_row), (0, 0, 3));
        assert_eq!(first.trimmed, 0);
        // The same rows again change nothing; a new row is an insert.
        c.write(|w| {
            w.upsert_rows(&[
                event("n1", "a@x", "Inbox/folder", 1),
                event("n4", "d@x", "Inbox/folder", 4),
            ])
        })
        .unwrap();
        assert_eq!(log(&c).changes, 0);
        assert_eq!(log(&c).max_row, 4);
        let mut added = Vec::new();
        c.scan_email_columns_after::<CacheError>(first.max_row, &["NetworkMessageId"], |id, r| {
            added.push((id, r.text(0)?.map(|t| t.into_owned())));
            Ok(())
        })
        .unwrap();
        assert_eq!(added, [(4, Some("n4".to_string()))]);
        // An upsert that differs and a post-delivery move are changes in place.
        c.write(|w| w.upsert_rows(&[event("n2", "b@x", "Junk folder", 2)]))
            .unwrap();
        let zap = PostDeliveryEvent {
            network_message_id: "n3".into(),
            recipient_email_address: "C@X".into(),
            delivery_location: Some("Quarantine".into()),
            action_result: "Success".into(),
            ..PostDeliveryEvent::default()
        };
        c.write(|w| w.apply_post_delivery(&zap)).unwrap();
        let now = log(&c);
        assert_eq!(now.deletes, 0);
        assert_eq!(
            c.rows_changed_after(first.changes, now.changes).unwrap(),
            [2, 3]
        );
        let mut read = Vec::new();
        c.scan_email_rows::<CacheError>(&[3, 2, 99], &["LatestDeliveryLocation"], |id, r| {
            read.push((id, r.text(0)?.map(|t| t.into_owned())));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            read,
            [
                (3, Some("Quarantine".into())),
                (2, Some("Junk folder".into()))
            ]
        );
        // Trimmed to its newest entry: what was before is gone, and says so.
        assert_eq!(c.trim_mail_log(1).unwrap(), 1);
        assert_eq!(c.trim_mail_log(1).unwrap(), 0);
        let trimmed = log(&c);
        assert_eq!(
            (trimmed.trimmed, trimmed.changes),
            (now.changes - 1, now.changes)
        );
        assert_eq!(
            c.rows_changed_after(trimmed.trimmed, trimmed.changes)
                .unwrap(),
            [3]
        );
        // A de-duplication (the bulk load's) deletes: counted.
        c.conn
            .execute("DELETE FROM email_events WHERE rowid = 4", [])
            .unwrap();
        assert_eq!(log(&c).deletes, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Tags and their members. No Microsoft API exposes user tags or priority accounts,
//! so whalewatch owns them: each refresh resolves every tag's sources and replaces
//! its membership, keeping where each member came from.

use rusqlite::{Transaction, params};

use std::collections::HashMap;

use super::{Cache, CacheError, UpsertStats};
use whalewatch_model::batch::{CellRef, RowBatch};
use whalewatch_model::email::EmailEvent;
use whalewatch_model::hunting::HuntingRow;

/// Where a tag member came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TagSource {
    /// A (transitive) member of an Entra group.
    Group,
    /// A line of an address file.
    File,
    /// Matched a directory attribute rule.
    Rule,
    /// Listed explicitly in the config.
    Member,
    /// Seen as a recipient of mail Defender flagged with priority account protection.
    Inferred,
    /// On the VIP list (`Get-User -IsVIP`) of the imported Exchange snapshot.
    Exchange,
}

impl TagSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TagSource::Group => "group",
            TagSource::File => "file",
            TagSource::Rule => "rule",
            TagSource::Member => "member",
            TagSource::Inferred => "inferred",
            TagSource::Exchange => "exchange",
        }
    }

    fn parse(s: &str) -> TagSource {
        match s {
            "group" => TagSource::Group,
            "file" => TagSource::File,
            "rule" => TagSource::Rule,
            "inferred" => TagSource::Inferred,
            "exchange" => TagSource::Exchange,
            _ => TagSource::Member,
        }
    }
}

/// One membership of an address in a tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagMember {
    pub tag: String,
    /// Lower-cased address.
    pub address: String,
    pub source: TagSource,
    /// Which group, file or rule (empty for explicit members).
    pub detail: String,
}

/// Replaces all tags and memberships inside `tx`. `tags` are (name, built in) in
/// display order.
pub fn replace_tags(
    tx: &Transaction<'_>,
    tags: &[(String, bool)],
    members: &[TagMember],
) -> Result<UpsertStats, CacheError> {
    // What changes, measured against the memberships being replaced: a refresh that
    // resolves the same members reports nothing new.
    let mut before: HashMap<(String, String), (String, String)> = HashMap::new();
    {
        let mut q = tx.prepare_cached("SELECT tag, address, source, detail FROM tag_members")?;
        let rows = q.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?;
        for row in rows {
            let (k, v) = row?;
            before.insert(k, v);
        }
    }
    let mut stats = UpsertStats::default();
    for mem in members {
        let key = (mem.tag.clone(), mem.address.to_lowercase());
        match before.get(&key) {
            Some((source, detail))
                if source.as_str() == mem.source.as_str() && *detail == mem.detail =>
            {
                stats.unchanged += 1
            }
            Some(_) => stats.updated += 1,
            None => stats.new += 1,
        }
    }
    tx.execute("DELETE FROM tag_members", [])?;
    tx.execute("DELETE FROM tags", [])?;
    {
        let mut t = tx.prepare_cached(
            "INSERT OR IGNORE INTO tags (name, builtin, position) VALUES (?1, ?2, ?3)",
        )?;
        for (i, (name, builtin)) in tags.iter().enumerate() {
            t.execute(params![name, builtin, i as i64])?;
        }
        let mut m = tx.prepare_cached("INSERT OR IGNORE INTO tag_members (tag, address, source, detail) VALUES (?1, ?2, ?3, ?4)")?;
        for mem in members {
            m.execute(params![
                mem.tag,
                mem.address.to_lowercase(),
                mem.source.as_str(),
                mem.detail
            ])?;
        }
    }
    Ok(stats)
}

/// What marks mail as sent to a recipient Defender protects as a priority account:
/// its `Context` contains this, in any ASCII case (as SQL `LIKE` compares).
const PROTECTED_CONTEXT: &str = "priority account";

/// Records the recipients of `batch`'s mail (parsed `EmailEvents` rows) whose
/// `Context` marks them as priority accounts, inside `tx`.
pub fn note_protected(tx: &Transaction<'_>, batch: &RowBatch) -> Result<(), CacheError> {
    let col = |name: &str| EmailEvent::COLUMNS.iter().position(|c| *c == name);
    let (Some(context), Some(recipient)) = (col("Context"), col("RecipientEmailAddress")) else {
        return Ok(());
    };
    let mut insert = None;
    for i in 0..batch.len() {
        let row = batch.row(i);
        let text = |c: usize| match row.get(c).map(|s| batch.get(*s)) {
            Some(CellRef::Text(t)) => t,
            _ => "",
        };
        if !contains_ignore_ascii_case(text(context), PROTECTED_CONTEXT) {
            continue;
        }
        let stmt = match &mut insert {
            Some(s) => s,
            None => insert.insert(tx.prepare_cached(
                "INSERT OR IGNORE INTO protected_recipients (address) VALUES (?1)",
            )?),
        };
        stmt.execute(params![text(recipient).to_lowercase()])?;
    }
    Ok(())
}

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

impl Cache {
    /// Recipients Defender protected as priority accounts (lower-cased, sorted).
    pub fn protected_recipients(&self) -> Result<Vec<String>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT address FROM protected_recipients ORDER BY address")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Tag names in display order (Priority account first).
    pub fn tags(&self) -> Result<Vec<String>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM tags ORDER BY position, name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every membership, by tag then address.
    pub fn tag_members(&self) -> Result<Vec<TagMember>, CacheError> {
        let mut stmt = self.conn.prepare("SELECT tag, address, source, detail FROM tag_members ORDER BY tag, address, source, detail")?;
        let rows = stmt.query_map([], |r| {
            let source: String = r.get(2)?;
            Ok(TagMember {
                tag: r.get(0)?,
                address: r.get(1)?,
                source: TagSource::parse(&source),
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Distinct member addresses of `tag` (case-insensitive name).
    pub fn tag_addresses(&self, tag: &str) -> Result<Vec<String>, CacheError> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT address FROM tag_members WHERE tag = ?1 COLLATE NOCASE ORDER BY address")?;
        let rows = stmt.query_map(params![tag], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(rows: &[(&str, &str)]) -> RowBatch {
        let body = serde_json::json!({
            "results": rows.iter().enumerate().map(|(i, (to, context))| serde_json::json!({
                "Timestamp": "2026-10-30T08:00:00Z", "NetworkMessageId": format!("n{i}"),
                "RecipientEmailAddress": to, "Context": context,
            })).collect::<Vec<_>>(),
        });
        RowBatch::parse::<EmailEvent>(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn mail_to_protected_priority_accounts_records_its_recipients_once() {
        let dir = std::env::temp_dir().join(format!("ww-tags-protected-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Cache::open(&dir.join("t.sqlite")).unwrap();
        let rows = batch(&[
            ("CEO@Contoso.com", "Priority Account Protection"),
            ("cfo@contoso.com", "PRIORITY ACCOUNT protection"),
            ("staff@contoso.com", ""),
            ("ceo@contoso.com", "priority account protection"),
            ("intern@contoso.com", "Priority protection"),
        ]);
        c.write(|w| w.note_protected_recipients(&rows)).unwrap();
        c.write(|w| w.note_protected_recipients(&rows)).unwrap();
        assert_eq!(
            c.protected_recipients().unwrap(),
            vec!["ceo@contoso.com", "cfo@contoso.com"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

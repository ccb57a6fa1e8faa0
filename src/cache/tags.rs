//! Tags and their members. No Microsoft API exposes user tags or priority accounts,
//! so whalewatch owns them: each refresh resolves every tag's sources and replaces
//! its membership, keeping where each member came from.

use rusqlite::{Transaction, params};

use super::{Cache, CacheError};

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
}

impl TagSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TagSource::Group => "group",
            TagSource::File => "file",
            TagSource::Rule => "rule",
            TagSource::Member => "member",
            TagSource::Inferred => "inferred",
        }
    }

    fn parse(s: &str) -> TagSource {
        match s {
            "group" => TagSource::Group,
            "file" => TagSource::File,
            "rule" => TagSource::Rule,
            "inferred" => TagSource::Inferred,
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
) -> Result<(), CacheError> {
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
    Ok(())
}

impl Cache {
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

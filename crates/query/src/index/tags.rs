//! User tags as the cache resolved them at the last refresh: names in display order
//! and member addresses. The same table answers the local evaluator and, as a
//! [`TagResolver`], the KQL compiler, so both sides of a `--remote` comparison use
//! one membership.

use std::collections::BTreeSet;

use super::IndexError;
use super::text::fold;
use crate::kql::{CompileError, TagResolver};
use crate::lang::error::closest;
use whalewatch_cache::Cache;
use whalewatch_config::PRIORITY_ACCOUNT;

/// Tags and their members.
#[derive(Debug, Clone, Default)]
pub struct TagTable {
    /// (name, lower-cased member addresses), in display order.
    tags: Vec<(String, Vec<String>)>,
}

impl TagTable {
    /// Reads the tags of `cache`.
    pub fn load(cache: &Cache) -> Result<TagTable, IndexError> {
        let names = cache.tags()?;
        let members = cache.tag_members()?;
        let tags = names
            .into_iter()
            .map(|n| {
                let set: BTreeSet<String> = members
                    .iter()
                    .filter(|m| m.tag == n)
                    .map(|m| fold(&m.address).into_owned())
                    .collect();
                (n, set.into_iter().collect())
            })
            .collect();
        Ok(TagTable { tags })
    }

    /// A table from (name, addresses) pairs (tests, the console's edits).
    pub fn from_pairs(pairs: Vec<(String, Vec<String>)>) -> TagTable {
        TagTable {
            tags: pairs
                .into_iter()
                .map(|(n, m)| {
                    let set: BTreeSet<String> = m.iter().map(|a| fold(a).into_owned()).collect();
                    (n, set.into_iter().collect())
                })
                .collect(),
        }
    }

    /// Tag names in display order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(|(n, _)| n.as_str())
    }

    /// The members of the tag named `name` (case-insensitive), the way the compiler
    /// resolves it: the Priority account tag exists even when nobody defined it.
    pub fn resolve(&self, name: &str) -> Result<&[String], CompileError> {
        if let Some((_, m)) = self.tags.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Ok(m);
        }
        if name.eq_ignore_ascii_case(PRIORITY_ACCOUNT) {
            return Ok(&[]);
        }
        Err(CompileError::UnknownTag {
            name: name.to_string(),
            suggestion: closest(name, self.names()),
            known: self.names().map(String::from).collect(),
        })
    }

    /// The tags `address` belongs to, in display order.
    pub fn tags_of(&self, address: &str) -> Vec<&str> {
        let a = fold(address);
        self.tags
            .iter()
            .filter(|(_, m)| m.binary_search_by(|x| x.as_str().cmp(&a)).is_ok())
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Whether `address` is a member of the tag at display position `i`.
    pub fn is_member(&self, i: usize, folded_address: &str) -> bool {
        self.tags.get(i).is_some_and(|(_, m)| {
            m.binary_search_by(|x| x.as_str().cmp(folded_address))
                .is_ok()
        })
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

impl TagResolver for TagTable {
    fn members(&self, tag: &str) -> Option<Vec<String>> {
        self.tags
            .iter()
            .find(|(n, _)| n == tag)
            .map(|(_, m)| m.clone())
    }
    fn tag_names(&self) -> Vec<String> {
        self.tags.iter().map(|(n, _)| n.clone()).collect()
    }
}

//! String interning: most columns repeat a handful of values, so rows store a `u32`.

use std::collections::HashMap;
use std::sync::Arc;

/// Index of an interned string.
pub type StrId = u32;

/// The world's string pool. Id 0 is always the empty string.
#[derive(Debug)]
pub struct Strings {
    list: Vec<Arc<str>>,
    map: HashMap<Arc<str>, StrId>,
}

impl Default for Strings {
    fn default() -> Self {
        let mut s = Strings {
            list: Vec::new(),
            map: HashMap::new(),
        };
        s.intern("");
        s
    }
}

impl Strings {
    /// The id of `s`, adding it on first use.
    pub fn intern(&mut self, s: &str) -> StrId {
        if let Some(id) = self.map.get(s) {
            return *id;
        }
        let arc: Arc<str> = Arc::from(s);
        let id = self.list.len() as StrId;
        self.list.push(arc.clone());
        self.map.insert(arc, id);
        id
    }

    /// Adds a string known to be unique (subjects, message ids) without hashing it
    /// into the map, which would only cost memory.
    pub fn push_unique(&mut self, s: String) -> StrId {
        let id = self.list.len() as StrId;
        self.list.push(Arc::from(s));
        id
    }

    pub fn get(&self, id: StrId) -> &Arc<str> {
        &self.list[id as usize]
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

//! Posture sources in the cache.
//!
//! COORDINATION STUB (replaced by the posture-sources branch before it lands): the
//! signature is the contract between refresh (which stores posture sources) and
//! `query::posture` (which judges them).

use crate::cache::{Cache, CacheError};
use crate::model::posture::{PostureSources, SourceAvailability, source};

impl Cache {
    /// Every posture source as last refreshed or imported, with each source's
    /// availability.
    pub fn posture_sources(&self) -> Result<PostureSources, CacheError> {
        let mut sources = PostureSources::default();
        for name in source::ALL {
            sources
                .availability
                .insert(name.to_string(), SourceAvailability::Missing);
        }
        Ok(sources)
    }
}

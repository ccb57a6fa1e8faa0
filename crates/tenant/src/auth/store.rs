//! The on-disk token cache: one owner-only JSON file per profile.
//!
//! `keyring` needs a D-Bus Secret Service that jump hosts and CI lack, so tokens go to a file
//! created with mode 0600 in a 0700 directory, written to a temporary file and renamed so a crash
//! never leaves a half-written cache.

use super::Secret;
use crate::error::TenantError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use whalewatch_config::paths::write_private;

/// What is cached for one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Tenant the token belongs to (a profile edit invalidates it).
    pub tenant: String,
    /// Client the token belongs to.
    pub client_id: String,
    /// Bearer token.
    pub access_token: Secret,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
    /// Refresh token of a delegated sign-in.
    pub refresh_token: Option<Secret>,
}

/// A directory of per-profile token files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStore {
    dir: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TenantError + '_ {
    move |source| TenantError::TokenStore {
        path: path.display().to_string(),
        source,
    }
}

impl TokenStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TokenStore { dir: dir.into() }
    }

    /// The file for `profile`; profile names are restricted so they cannot escape the directory.
    pub fn path(&self, profile: &str) -> Result<PathBuf, TenantError> {
        let ok = !profile.is_empty()
            && !profile.starts_with('.')
            && profile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(TenantError::Config {
                message: format!(
                    "profile name {profile:?} may only use letters, digits, '-', '_' and '.'"
                ),
            });
        }
        Ok(self.dir.join(format!("{profile}.json")))
    }

    /// Reads the cached token, if any.
    pub fn load(&self, profile: &str) -> Result<Option<StoredToken>, TenantError> {
        let path = self.path(profile)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Writes the token atomically with owner-only permissions.
    pub fn save(&self, profile: &str, token: &StoredToken) -> Result<(), TenantError> {
        let path = self.path(profile)?;
        let body = serde_json::to_vec_pretty(token)
            .map_err(|e| io_err(&path)(std::io::Error::other(e)))?;
        write_private(&path, &body).map_err(io_err(&path))
    }

    /// Deletes the cached token (sign-out).
    pub fn remove(&self, profile: &str) -> Result<(), TenantError> {
        let path = self.path(profile)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&path)(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_is_owner_only_and_round_trips() {
        let dir = std::env::temp_dir().join(format!(
            "ww-store-{}-{}",
            std::process::id(),
            super::super::certificate::random_jti()
        ));
        let store = TokenStore::new(dir.join("tokens"));
        let token = StoredToken {
            tenant: "t".into(),
            client_id: "c".into(),
            access_token: Secret::new("at"),
            expires_at: DateTime::<Utc>::UNIX_EPOCH,
            refresh_token: Some(Secret::new("rt")),
        };
        store
            .save("default", &token)
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .save("default", &token)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.load("default").ok().flatten(), Some(token));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| {
                std::fs::metadata(p)
                    .map(|m| m.permissions().mode() & 0o777)
                    .unwrap_or(0)
            };
            assert_eq!(mode(&dir.join("tokens/default.json")), 0o600);
            assert_eq!(mode(&dir.join("tokens")), 0o700);
        }
        assert!(store.path("../evil").is_err());
        store.remove("default").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.load("default").ok().flatten(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

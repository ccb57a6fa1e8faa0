//! What every tenant command needs: the config file, the chosen profile, the cache.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::cache::{Cache, cache_file};
use crate::config::{Config, Profile, paths};

/// Flags shared by every command that works on a profile.
#[derive(Debug, Clone, clap::Args)]
pub struct ProfileArgs {
    /// Config file [default: the platform config dir; env WHALEWATCH_CONFIG]
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Cache directory [default: the platform cache dir; env WHALEWATCH_CACHE_DIR]
    #[arg(long, global = true)]
    pub cache_dir: Option<PathBuf>,
    /// Profile to use [default: default_profile in the config]
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Refuse every write to the tenant.
    #[arg(long, global = true)]
    pub read_only: bool,
}

/// A loaded profile and where its files are.
pub struct Context {
    pub cache_dir: PathBuf,
    pub name: String,
    pub profile: Profile,
}

impl ProfileArgs {
    pub fn config_path(&self) -> PathBuf {
        paths::config_file(self.config.as_deref())
    }

    pub fn cache_dir(&self) -> PathBuf {
        paths::cache_dir(self.cache_dir.as_deref())
    }

    /// Loads the config and picks the profile.
    pub fn context(&self) -> Result<Context> {
        let config_path = self.config_path();
        let config = Config::load(&config_path)?;
        let (name, profile) = config.profile(self.profile.as_deref(), &config_path)?;
        let (name, profile) = (name.to_string(), profile.clone());
        Ok(Context {
            cache_dir: self.cache_dir(),
            name,
            profile,
        })
    }
}

impl Context {
    /// The profile's cache file.
    pub fn cache_path(&self) -> PathBuf {
        cache_file(&self.cache_dir, &self.name)
    }

    /// Opens the cache for writing.
    pub fn open_cache(&self) -> Result<Cache> {
        Cache::open(&self.cache_path()).with_context(|| format!("profile `{}`", self.name))
    }

    /// Opens the cache for reading; a missing cache says how to make one.
    pub fn read_cache(&self) -> Result<Cache> {
        let path = self.cache_path();
        if !path.exists() {
            anyhow::bail!(
                "no cache for profile `{}` yet ({}); run `whalewatch refresh --profile {}` first",
                self.name,
                path.display(),
                self.name
            );
        }
        let cache = Cache::open_read_only(&path)?;
        // A refresh that was killed or crashed may have left a damaged file: check
        // it before answering from it (a running refresh holds the lock: no check).
        if crate::sync::lock::RefreshLock::left_unclean(&path) {
            cache.quick_check()?;
        }
        Ok(cache)
    }
}

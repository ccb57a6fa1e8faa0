//! Where whalewatch keeps its files: the platform's config and cache directories
//! (`directories`), overridable by flags and environment variables. Files that may
//! hold tokens or tenant data are created owner-only.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Overrides the config file path.
pub const CONFIG_ENV: &str = "WHALEWATCH_CONFIG";
/// Overrides the cache directory.
pub const CACHE_DIR_ENV: &str = "WHALEWATCH_CACHE_DIR";

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "whalewatch")
}

/// The config file: `--config`, else `$WHALEWATCH_CONFIG`, else the platform's.
pub fn config_file(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    project().map_or_else(
        || PathBuf::from("whalewatch.toml"),
        |d| d.config_dir().join("config.toml"),
    )
}

/// The cache directory: `--cache-dir`, else `$WHALEWATCH_CACHE_DIR`, else the platform's.
pub fn cache_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(CACHE_DIR_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    project().map_or_else(
        || PathBuf::from(".whalewatch-cache"),
        |d| d.cache_dir().to_path_buf(),
    )
}

/// Creates `dir` (and missing parents) readable by the owner only (0700). An
/// existing directory keeps its mode: whalewatch never changes permissions the user
/// set (a read-only cache directory is reported, not made writable).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Open options that create a file owner-only (0600 on Unix). Every file whalewatch
/// writes is opened through here or [`create_private`] / [`write_private`].
pub fn private_options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Creates or truncates `path` for writing, owner-only. A file that already existed
/// with a wider mode is narrowed to 0600: what is written into it is tenant data.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let f = private_options().truncate(true).open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if f.metadata()?.permissions().mode() & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(f)
}

/// Writes `bytes` to `path` atomically with mode 0600: a temporary file in the same
/// directory (named per process and call, so two threads never share one), flushed,
/// renamed over the target, and the directory synced so the rename survives a crash.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("whalewatch"),
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = private_options().truncate(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_and_private_files_are_owner_only() {
        assert_eq!(
            config_file(Some(Path::new("/x/c.toml"))),
            PathBuf::from("/x/c.toml")
        );
        assert_eq!(
            cache_dir(Some(Path::new("/x/cache"))),
            PathBuf::from("/x/cache")
        );
        let dir = std::env::temp_dir().join(format!("ww-paths-{}", std::process::id()));
        create_private_dir(&dir).unwrap();
        let f = dir.join("t.json");
        write_private(&f, b"{}").unwrap();
        write_private(&f, b"{\"a\":1}").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"{\"a\":1}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

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

/// Creates `dir` (and missing parents) with mode 0700.
///
/// A directory that already exists keeps its mode: changing permissions the user chose is not
/// ours to do silently. One that others can read gets a warning in the log instead.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        let existed = dir.is_dir();
        builder.create(dir)?;
        if existed {
            let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = %format!("{mode:o}"),
                    "directory is accessible to other users; left as it is (chmod 700 it to make it private)"
                );
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        builder.create(dir)
    }
}

/// Writes `bytes` to `path` atomically with mode 0600: a uniquely named temporary file in the
/// same directory (so concurrent writers never share one), synced, renamed over the target, and
/// the directory synced so the rename itself survives a crash. Missing directories are created
/// private ([`create_private_dir`]).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_with(path, |f| f.write_all(bytes))
}

/// [`write_private`] for content too big to hold in memory: `write` streams it into
/// the temporary file (which it may seek in); the target is replaced only after
/// `write` succeeded and the file was synced, so a crash leaves the old file or the
/// new one, never a part. A crash may leave the temporary file
/// (`.whalewatch-*.tmp` beside the target); the next write in that directory removes
/// it ([`remove_abandoned_temps`]).
pub fn write_private_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    remove_abandoned_temps(dir);
    let mut tmp = locked_temp(dir)?;
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Some(name) = path.file_name() {
        pause_point(&format!("renamed:{}", name.to_string_lossy()));
    }
    sync_dir(dir)
}

const TEMP_PREFIX: &str = ".whalewatch-";
const TEMP_SUFFIX: &str = ".tmp";

/// A new temporary file in `dir` (mode 0600: tempfile creates it so on Unix), holding
/// an exclusive OS lock for as long as it lives, so [`remove_abandoned_temps`] can tell
/// it from one a dead process left. The lock is taken after the file is created; if a
/// cleaner removed the file in between (it could lock it then), the name is gone and
/// another one is made.
fn locked_temp(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    loop {
        let tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)?;
        // A file system without locks: cleaners cannot lock it either, so they keep it.
        if tmp.as_file().lock().is_err() {
            return Ok(tmp);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if tmp.as_file().metadata()?.nlink() == 0 {
                continue;
            }
        }
        return Ok(tmp);
    }
}

/// Removes the temporary files (`.whalewatch-*.tmp`) in `dir` that no live writer
/// holds: each writer keeps its temporary file locked until it is renamed, and the
/// kernel drops the lock when the writer dies (`kill -9` included), so a file whose
/// lock can be taken was abandoned. Best effort: a file that cannot be checked stays.
pub fn remove_abandoned_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        if file.try_lock().is_ok() {
            // Removed while locked: a writer that created it but had not locked it
            // yet finds it unlinked and makes another (`locked_temp`).
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(file = %path.display(), "removed a temporary file an interrupted write left")
                }
                Err(e) => {
                    tracing::debug!(file = %path.display(), error = %e, "cannot remove an abandoned temporary file")
                }
            }
        }
    }
}

/// The environment variable naming the point where a debug build stops (see
/// [`pause_point`]). Test-only: release builds ignore it.
pub const PAUSE_AT_ENV: &str = "WHALEWATCH_TEST_PAUSE_AT";

/// A named point where a crash test stops the process: in a debug build whose
/// [`PAUSE_AT_ENV`] is `point`, prints `whalewatch: paused at POINT` to stderr and
/// blocks for ever, so the test can `kill -9` it exactly there without sleeping.
/// Release builds compile this to nothing. The points: `index-half-written` (the email
/// index's temporary column file half written), `renamed:<file name>` (a
/// [`write_private_with`] target renamed into place, its directory not yet synced),
/// `writing:<hunting table>` (inside a window's SQLite transaction, rows written).
pub fn pause_point(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var_os(PAUSE_AT_ENV).is_some_and(|v| v == point) {
        eprintln!("whalewatch: paused at {point}");
        loop {
            std::thread::park();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

/// Makes a rename in `dir` durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
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

    #[cfg(unix)]
    #[test]
    fn an_existing_directory_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ww-paths-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        write_private(&dir.join("f"), b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o755, "no silent chmod");
        assert_eq!(mode(&dir.join("f")), 0o600);
        // A new nested directory is created private, parents included.
        let nested = dir.join("a/b");
        create_private_dir(&nested).unwrap();
        assert_eq!(mode(&dir.join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_abandoned_temporary_file_is_removed_and_a_live_one_kept() {
        let dir = std::env::temp_dir().join(format!("ww-paths-temps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        create_private_dir(&dir).unwrap();
        // Left by a killed writer: nobody holds its lock.
        let dead = dir.join(".whalewatch-dead.tmp");
        std::fs::write(&dead, b"half").unwrap();
        // Being written by a live writer: locked.
        let live = locked_temp(&dir).unwrap();
        // Not ours.
        let other = dir.join(".other.tmp");
        std::fs::write(&other, b"x").unwrap();
        write_private(&dir.join("f"), b"x").unwrap();
        assert!(!dead.exists(), "the abandoned temporary file is removed");
        assert!(live.path().exists(), "a live writer's file stays");
        assert!(other.exists(), "other programs' files stay");
        // The live writer still completes its write.
        let target = dir.join("g");
        live.persist(&target).unwrap();
        assert!(target.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_writers_never_share_a_temporary_file() {
        let dir = std::env::temp_dir().join(format!("ww-paths-race-{}", std::process::id()));
        let target = dir.join("settings.toml");
        // Each thread writes a distinct, long payload many times: a shared temporary name
        // would interleave or truncate them, or fail a rename whose source another thread moved.
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let target = target.clone();
                std::thread::spawn(move || {
                    let body = vec![b'a' + t; 64 * 1024];
                    for _ in 0..50 {
                        write_private(&target, &body).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let body = std::fs::read(&target).unwrap();
        assert_eq!(body.len(), 64 * 1024);
        assert!(
            body.iter().all(|&b| b == body[0]),
            "one writer's bytes only"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "settings.toml")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

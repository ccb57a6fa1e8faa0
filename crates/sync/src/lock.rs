//! Process locks next to a cache file: one refresh per cache (`<cache>.refresh.lock`)
//! and one outbox sender (`<cache>.outbox.lock`). They are OS file locks, released
//! by the kernel when the process dies (`kill -9` included), so a crash never leaves
//! one stuck. The holder writes its pid into the file, so a second process can say
//! who holds it; a refresh lock whose file still names a pid when it is taken again
//! was left by a refresh that did not end cleanly (see [`RefreshLock::unclean`]).

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{what} {path} is held by another whalewatch (pid {pid}); {advice}")]
    Busy {
        what: &'static str,
        path: PathBuf,
        pid: String,
        advice: &'static str,
    },
    #[error("cannot use the lock file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An OS lock on a file next to the cache; released on drop.
#[derive(Debug)]
pub struct CacheLock {
    file: std::fs::File,
    path: PathBuf,
}

/// The lock file `<cache><suffix>`.
pub fn lock_path(cache_path: &Path, suffix: &str) -> PathBuf {
    let mut name = cache_path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The pid written in a lock file, or "unknown".
fn holder(file: &mut std::fs::File) -> String {
    let mut s = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut s));
    let pid = s.trim();
    if pid.is_empty() {
        "unknown".into()
    } else {
        pid.into()
    }
}

impl CacheLock {
    /// Takes the lock at `path`. When another process holds it: with `wait`, calls
    /// `waiting` with its pid and blocks until it is released; without, returns
    /// [`LockError::Busy`] (`what` and `advice` make its message).
    pub fn acquire(
        path: PathBuf,
        what: &'static str,
        advice: &'static str,
        wait: Option<&dyn Fn(&str)>,
    ) -> Result<CacheLock, LockError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io { path, source }
        };
        let mut file = whalewatch_config::paths::private_options()
            .read(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = holder(&mut file);
                match wait {
                    Some(waiting) => {
                        waiting(&pid);
                        file.lock().map_err(io(&path))?;
                    }
                    None => {
                        return Err(LockError::Busy {
                            what,
                            path,
                            pid,
                            advice,
                        });
                    }
                }
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(LockError::Io { path, source });
            }
        }
        Ok(CacheLock { file, path })
    }

    /// The pid the previous holder left in the file ("" when it cleared it).
    fn previous(&mut self) -> String {
        let pid = holder(&mut self.file);
        if pid == "unknown" { String::new() } else { pid }
    }

    /// Writes our pid into the file, for a process that finds it held.
    pub fn mark(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        write!(self.file, "{}", std::process::id())?;
        self.file.sync_data()
    }

    /// Empties the file: the holder ended cleanly.
    fn clear(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)
    }
}

/// One refresh per cache: taken before the cache is opened for writing, held until
/// the refresh returns.
#[derive(Debug)]
pub struct RefreshLock {
    lock: CacheLock,
    unclean: bool,
}

impl RefreshLock {
    /// Takes the refresh lock of the cache at `cache_path`; see [`CacheLock::acquire`].
    pub fn acquire(
        cache_path: &Path,
        wait: Option<&dyn Fn(&str)>,
    ) -> Result<RefreshLock, LockError> {
        let mut lock = CacheLock::acquire(
            lock_path(cache_path, ".refresh.lock"),
            "the refresh lock",
            "wait for that refresh to finish, or run without --no-wait to wait for it",
            wait,
        )?;
        let unclean = !lock.previous().is_empty();
        lock.mark().map_err(|source| LockError::Io {
            path: lock.path.clone(),
            source,
        })?;
        Ok(RefreshLock { lock, unclean })
    }

    /// Whether the last refresh of this cache ended without releasing the lock
    /// cleanly (killed, crashed, power lost): its cache deserves a check.
    pub fn unclean(&self) -> bool {
        self.unclean
    }

    /// Whether a refresh of `cache_path` ended uncleanly and none is running now
    /// (readers check the cache then). Takes and releases the lock if it is free.
    pub fn left_unclean(cache_path: &Path) -> bool {
        let path = lock_path(cache_path, ".refresh.lock");
        if !path.exists() {
            return false;
        }
        let Ok(mut file) = std::fs::OpenOptions::new().read(true).open(&path) else {
            return false;
        };
        // Held: a refresh is running, its pid is expected in the file.
        if file.try_lock_shared().is_err() {
            return false;
        }
        holder(&mut file) != "unknown"
    }
}

impl Drop for RefreshLock {
    fn drop(&mut self) {
        // Best effort: a file left non-empty only costs the next open a quick check.
        let _ = self.lock.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_the_pid_and_an_abandoned_lock_is_unclean() {
        let dir = std::env::temp_dir().join(format!("ww-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cache = dir.join("c.sqlite");
        let first = RefreshLock::acquire(&cache, None).unwrap();
        assert!(!first.unclean());
        // A second open file description conflicts even within one process.
        let e = RefreshLock::acquire(&cache, None).unwrap_err().to_string();
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        assert!(e.contains("c.sqlite.refresh.lock"), "{e}");
        assert!(!RefreshLock::left_unclean(&cache), "held: not abandoned");
        drop(first);
        assert!(!RefreshLock::left_unclean(&cache), "released cleanly");
        // A killed refresh leaves its pid behind, with the lock released by the kernel.
        std::fs::write(lock_path(&cache, ".refresh.lock"), "4242").unwrap();
        assert!(RefreshLock::left_unclean(&cache));
        let again = RefreshLock::acquire(&cache, None).unwrap();
        assert!(again.unclean());
        drop(again);
        assert!(!RefreshLock::left_unclean(&cache));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The cache's single writer: a thread that owns the connection and runs write jobs
//! in submission order. Fetching and parsing the next window overlaps with writing
//! the previous one, and order (hence watermark order) is kept by the queue.
//!
//! Beside it, a checkpointer thread with its own connection copies committed WAL
//! pages into the database file after each write, so that copy (a second write of
//! every page) runs on another core while the writer goes on, not after the refresh.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use whalewatch_cache::{Cache, CacheError, Checkpointer};

type Job = Box<dyn FnOnce(&mut Cache) + Send>;

/// A handle to the writer thread.
pub struct CacheWriter {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<Cache>>,
}

impl CacheWriter {
    /// Moves `cache` onto its own thread.
    pub fn spawn(cache: Cache) -> CacheWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        // Without a second connection the final checkpoint does all the copying.
        let checkpoints = cache.checkpointer().ok().and_then(spawn_checkpointer);
        let thread = std::thread::Builder::new()
            .name("cache-writer".into())
            .spawn(move || {
                let mut cache = cache;
                let (wrote, checkpointer) = checkpoints.unzip();
                for job in rx {
                    job(&mut cache);
                    if let Some(w) = &wrote {
                        // Full means a checkpoint is already due: nothing to add.
                        let _ = w.try_send(());
                    }
                }
                drop(wrote);
                if let Some(t) = checkpointer {
                    let _ = t.join();
                }
                cache
            })
            .ok();
        CacheWriter {
            jobs: Some(tx),
            thread,
        }
    }

    /// Queues `f`; the receiver yields its result once it has run.
    pub fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Cache) -> Result<T, CacheError> + Send + 'static,
    ) -> oneshot::Receiver<Result<T, CacheError>> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |cache| {
            let _ = tx.send(f(cache));
        });
        if let Some(jobs) = &self.jobs {
            // A send error means the thread is gone; the dropped sender reports it.
            let _ = jobs.send(job);
        }
        rx
    }

    /// Runs `f` and waits for it.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Cache) -> Result<T, CacheError> + Send + 'static,
    ) -> Result<T, CacheError> {
        wait(self.submit(f)).await
    }

    /// Waits for queued jobs (and the checkpointer) and returns the cache.
    pub fn finish(mut self) -> Option<Cache> {
        self.jobs.take();
        self.thread.take().and_then(|t| t.join().ok())
    }
}

/// The result of a submitted job.
pub async fn wait<T>(rx: oneshot::Receiver<Result<T, CacheError>>) -> Result<T, CacheError> {
    rx.await
        .unwrap_or_else(|_| Err(CacheError::Row("the cache writer stopped".into())))
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the checkpointer: one passive checkpoint per signal, until the sender is
/// dropped. Signals sent while one runs collapse into one.
fn spawn_checkpointer(cp: Checkpointer) -> Option<(mpsc::SyncSender<()>, JoinHandle<()>)> {
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    let thread = std::thread::Builder::new()
        .name("cache-checkpoint".into())
        .spawn(move || {
            for () in rx {
                // A failure here leaves the pages in the WAL for the final checkpoint.
                let _ = cp.passive();
            }
        })
        .ok()?;
    Some((tx, thread))
}

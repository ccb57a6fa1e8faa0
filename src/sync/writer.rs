//! The cache's single writer: a thread that owns the connection and runs write jobs
//! in submission order. Fetching and parsing the next window overlaps with writing
//! the previous one, and order (hence watermark order) is kept by the queue. When
//! the queue runs dry the writer checkpoints the WAL, so the copy into the database
//! file happens while the network (or the simulator) is busy, not after the refresh.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::cache::{Cache, CacheError};

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
        let thread = std::thread::Builder::new()
            .name("cache-writer".into())
            .spawn(move || {
                let mut cache = cache;
                let mut written = false;
                loop {
                    let job = match rx.try_recv() {
                        Ok(job) => job,
                        Err(mpsc::TryRecvError::Disconnected) => break,
                        Err(mpsc::TryRecvError::Empty) => {
                            // Idle while the next window is fetched: fold what was
                            // written into the database file now rather than all at
                            // the end (a failure here is retried by the final one).
                            if written {
                                let _ = cache.checkpoint_passive();
                            }
                            match rx.recv() {
                                Ok(job) => job,
                                Err(_) => break,
                            }
                        }
                    };
                    job(&mut cache);
                    written = true;
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

    /// Waits for queued jobs and returns the cache.
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

/// The result of a submitted job, awaited in place (the receiver stays queued until
/// it resolves, so a caller can wait on it and on other work at once).
pub async fn wait_ref<T>(
    rx: &mut oneshot::Receiver<Result<T, CacheError>>,
) -> Result<T, CacheError> {
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

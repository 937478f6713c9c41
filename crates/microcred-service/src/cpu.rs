//! The bounded pool for CPU-heavy request work: verification, JSON-LD checks, badge images
//! (and whatever else a handler hands it through [`AppState::cpu`] / [`AppState::cpu_public`]).
//!
//! A fixed number of jobs run at once (by default one per core), a bounded number wait, and
//! a request arriving when the waiting places are taken is answered at once with 503 and a
//! `Retry-After` header ([`ApiError::Busy`]) instead of piling up. Unauthenticated callers
//! (the VC API verifiers, the credential page, badge images) have their own, smaller share of
//! both the running and the waiting places, so a flood of them can never take every place
//! from authenticated work (issuance): with two or more workers at least one always stays
//! free for it, and its admission never depends on how many public requests are waiting.
//!
//! Mechanism: tokio semaphores in front of `spawn_blocking`, rather than a thread pool of
//! our own with a bounded job channel.
//! - A request waiting for a worker is only a parked future. When its client goes away or the
//!   request times out, the future is dropped and its waiting place is freed without any CPU
//!   spent; a dedicated pool's channel would hold the closure and still run it for nobody,
//!   which is what a flood of abandoned requests would aim at.
//! - tokio's semaphores are fair: waiting jobs get a worker first come, first served.
//! - The permits move into the blocking closure, so a job whose request was abandoned while it
//!   ran keeps its worker until it has really finished: the number of running jobs is the real
//!   one and never exceeds the configured workers.
//! - `spawn_blocking` reuses tokio's blocking threads; at most `workers` of them run pool jobs
//!   at any time, the rest stay available to store access ([`AppState::blocking`]).
//!
//! [`AppState::cpu`]: crate::state::AppState::cpu
//! [`AppState::cpu_public`]: crate::state::AppState::cpu_public
//! [`AppState::blocking`]: crate::state::AppState::blocking

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::config::Limits;
use crate::error::ApiError;

/// The longest `Retry-After` the pool suggests, in seconds.
const MAX_RETRY_AFTER_SECS: u64 = 30;

/// At most one warning about refused requests per this many seconds: a flood must not turn
/// into a flood of log lines.
const WARN_EVERY_SECS: u64 = 10;

/// The run time assumed for a job before any has finished, in microseconds (a verification
/// of a typical credential takes a few milliseconds; this errs on the slow side).
const INITIAL_JOB_MICROS: u64 = 20_000;

/// Who a job runs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A request with a valid token (issuance, management).
    Authenticated,
    /// A request anyone can send (verification, pages, badge images).
    Public,
}

/// How many jobs run and wait, overall and for unauthenticated callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolSize {
    /// Jobs running at once.
    pub(crate) workers: usize,
    /// Jobs waiting for a worker, beyond which requests are refused.
    pub(crate) queue: usize,
    /// Public jobs running at once (at most `workers`).
    pub(crate) public_workers: usize,
    /// Public jobs waiting.
    pub(crate) public_queue: usize,
}

impl PoolSize {
    /// The sizes the limits ask for, with defaults derived from the number of cores; refuses
    /// sizes that would let public work fill the whole pool.
    pub(crate) fn from_limits(limits: &Limits) -> Result<Self, String> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let workers = limits.cpu_workers.unwrap_or(cores);
        if workers == 0 {
            return Err("cpu_workers must be at least 1".into());
        }
        let queue = limits.cpu_queue.unwrap_or(8 * workers);
        let public_workers = limits.public_cpu_workers.unwrap_or((workers / 2).max(1));
        if public_workers == 0 || public_workers > workers {
            return Err(format!(
                "public_cpu_workers must be between 1 and cpu_workers ({workers})"
            ));
        }
        // By default half the waiting places, fewer if the pool's queue is set very short.
        let public_queue = limits.public_cpu_queue.unwrap_or_else(|| {
            (4 * workers).min((workers + queue).saturating_sub(public_workers + 1))
        });
        if public_workers + public_queue >= workers + queue {
            return Err(format!(
                "public_cpu_workers + public_cpu_queue must be less than cpu_workers + cpu_queue ({}), so that authenticated work always gets in",
                workers + queue
            ));
        }
        Ok(Self {
            workers,
            queue,
            public_workers,
            public_queue,
        })
    }
}

/// The pool: shared by every handler through the application state.
#[derive(Debug, Clone)]
pub(crate) struct CpuPool(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    size: PoolSize,
    /// Jobs running (`workers` permits).
    running: Arc<Semaphore>,
    /// Jobs running or waiting (`workers + queue` permits), taken without waiting.
    admitted: Arc<Semaphore>,
    /// Public jobs running.
    public_running: Arc<Semaphore>,
    /// Public jobs running or waiting, taken without waiting.
    public_admitted: Arc<Semaphore>,
    /// Unauthenticated requests whose body may be being read (see [`CpuPool::admit_request`]).
    public_requests: Arc<Semaphore>,
    /// A moving average of job run times, in microseconds, for `Retry-After`.
    job_micros: AtomicU64,
    /// When the pool was made (the clock of `next_warning`).
    created: Instant,
    /// Seconds after `created` before which no new warning is logged.
    next_warning: AtomicU64,
    /// Requests refused since the last warning.
    refused: AtomicU64,
}

/// A job's place in the pool, from the moment it may run until it has finished.
#[derive(Debug)]
pub(crate) struct CpuSlot {
    pool: Arc<Shared>,
    started: Instant,
    _permits: Vec<OwnedSemaphorePermit>,
}

impl Drop for CpuSlot {
    fn drop(&mut self) {
        let took = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        // One eighth of the new sample: smooth enough for a hint, quick to follow a change.
        let _ = self
            .pool
            .job_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                Some(avg - avg / 8 + took / 8)
            });
    }
}

impl CpuPool {
    pub(crate) fn new(size: PoolSize) -> Self {
        Self(Arc::new(Shared {
            size,
            running: Arc::new(Semaphore::new(size.workers)),
            admitted: Arc::new(Semaphore::new(size.workers + size.queue)),
            public_running: Arc::new(Semaphore::new(size.public_workers)),
            public_admitted: Arc::new(Semaphore::new(size.public_workers + size.public_queue)),
            public_requests: Arc::new(Semaphore::new(size.public_workers + size.public_queue)),
            job_micros: AtomicU64::new(INITIAL_JOB_MICROS),
            created: Instant::now(),
            next_warning: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }))
    }

    /// The pool's sizes.
    pub(crate) fn size(&self) -> PoolSize {
        self.0.size
    }

    /// Takes a waiting place at once (or answers [`ApiError::Busy`]), then waits for a worker.
    /// Hold the slot while the work runs: dropping it frees the worker.
    pub(crate) async fn admit(&self, caller: Caller) -> Result<CpuSlot, ApiError> {
        let pool = &self.0;
        let mut permits = Vec::with_capacity(4);
        if caller == Caller::Public {
            permits.push(self.try_take(&pool.public_admitted, caller)?);
        }
        permits.push(self.try_take(&pool.admitted, caller)?);
        if caller == Caller::Public {
            permits.push(wait(&pool.public_running).await?);
        }
        permits.push(wait(&pool.running).await?);
        Ok(CpuSlot {
            pool: pool.clone(),
            started: Instant::now(),
            _permits: permits,
        })
    }

    /// Runs `f` on a blocking thread once admitted; the slot is held until `f` returns, even
    /// if the request is dropped meanwhile.
    /// Admits an unauthenticated request to a CPU-heavy endpoint *before its body is read*:
    /// as many may be in flight as the public share has running and waiting places, and one
    /// more is refused at once (503). Without it, any number of clients could each have a
    /// full-size body read into memory before the job is refused, so memory would grow with
    /// the number of connections; with it, at most `public_workers + public_queue` bodies
    /// (each within the body limit) are held. The request keeps the permit until answered.
    pub(crate) fn admit_request(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.try_take(&self.0.public_requests, Caller::Public)
    }

    pub(crate) async fn run<T, F>(&self, caller: Caller, f: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = self.admit(caller).await?;
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(slot);
            out
        })
        .await
        .map_err(|e| ApiError::Internal(format!("CPU job failed: {e}")))
    }

    fn try_take(
        &self,
        semaphore: &Arc<Semaphore>,
        caller: Caller,
    ) -> Result<OwnedSemaphorePermit, ApiError> {
        semaphore.clone().try_acquire_owned().map_err(|e| match e {
            TryAcquireError::NoPermits => self.busy(caller),
            TryAcquireError::Closed => ApiError::Internal("the CPU pool is closed".into()),
        })
    }

    /// 503 with the time the jobs ahead should take to drain, at the current average.
    fn busy(&self, caller: Caller) -> ApiError {
        let pool = &self.0;
        let size = pool.size;
        let (in_flight, workers) = match caller {
            Caller::Public => (
                (size.public_workers + size.public_queue)
                    .saturating_sub(pool.public_admitted.available_permits()),
                size.public_workers,
            ),
            Caller::Authenticated => (
                (size.workers + size.queue).saturating_sub(pool.admitted.available_permits()),
                size.workers,
            ),
        };
        let micros = pool.job_micros.load(Ordering::Relaxed);
        let secs = (in_flight as u64)
            .saturating_mul(micros)
            .div_ceil((workers as u64).saturating_mul(1_000_000).max(1))
            .clamp(1, MAX_RETRY_AFTER_SECS);
        let who = match caller {
            Caller::Public => "unauthenticated requests such as verification",
            Caller::Authenticated => "this kind of work",
        };
        self.note_refusal(caller);
        ApiError::Busy {
            message: format!(
                "the service is busy: every place for {who} is taken; retry in {secs} s"
            ),
            retry_after_secs: secs,
        }
    }
}

impl CpuPool {
    /// Counts a refusal and, at most every [`WARN_EVERY_SECS`], logs how many there were.
    fn note_refusal(&self, caller: Caller) {
        let pool = &self.0;
        pool.refused.fetch_add(1, Ordering::Relaxed);
        let now = pool.created.elapsed().as_secs();
        let due = pool.next_warning.load(Ordering::Relaxed);
        if now >= due
            && pool
                .next_warning
                .compare_exchange(
                    due,
                    now + WARN_EVERY_SECS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            let refused = pool.refused.swap(0, Ordering::Relaxed);
            tracing::warn!(
                refused,
                last = ?caller,
                "the CPU pool is full: requests refused with 503 and Retry-After"
            );
        }
    }
}

async fn wait(semaphore: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, ApiError> {
    semaphore
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::Internal("the CPU pool is closed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(workers: usize, queue: usize, pw: usize, pq: usize) -> Limits {
        Limits {
            cpu_workers: Some(workers),
            cpu_queue: Some(queue),
            public_cpu_workers: Some(pw),
            public_cpu_queue: Some(pq),
            ..Limits::default()
        }
    }

    #[test]
    fn defaults_leave_room_for_authenticated_work() {
        let size = PoolSize::from_limits(&Limits::default()).unwrap();
        assert!(size.workers >= 1);
        assert!(size.public_workers <= size.workers);
        assert!(size.public_workers + size.public_queue < size.workers + size.queue);
        if size.workers >= 2 {
            assert!(size.public_workers < size.workers);
        }
        for workers in 1..=64 {
            let l = Limits {
                cpu_workers: Some(workers),
                ..Limits::default()
            };
            let s = PoolSize::from_limits(&l).unwrap();
            assert_eq!(s.public_workers, (workers / 2).max(1));
            assert_eq!(s.queue, 8 * workers);
        }
        assert!(PoolSize::from_limits(&limits(0, 1, 1, 0)).is_err());
        assert!(PoolSize::from_limits(&limits(2, 0, 3, 0)).is_err());
        assert!(PoolSize::from_limits(&limits(2, 0, 0, 0)).is_err());
        assert!(PoolSize::from_limits(&limits(1, 0, 1, 0)).is_err());
        assert!(PoolSize::from_limits(&limits(2, 0, 1, 0)).is_ok());
    }

    #[tokio::test]
    async fn a_full_public_share_is_refused_at_once_and_authenticated_work_still_runs() {
        let pool = CpuPool::new(PoolSize::from_limits(&limits(2, 1, 1, 0)).unwrap());
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let busy = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(Caller::Public, move || {
                    let _ = started_tx.send(());
                    let _ = hold_rx.recv();
                })
                .await
            })
        };
        started_rx.await.unwrap();
        // The public share (one worker, no queue) is taken: refused without waiting.
        let refused = tokio::time::timeout(Duration::from_secs(5), pool.run(Caller::Public, || ()))
            .await
            .unwrap();
        match refused {
            Err(ApiError::Busy {
                retry_after_secs, ..
            }) => assert!((1..=MAX_RETRY_AFTER_SECS).contains(&retry_after_secs)),
            other => panic!("expected Busy, got {other:?}"),
        }
        // Authenticated work has a worker of its own.
        let v = tokio::time::timeout(
            Duration::from_secs(5),
            pool.run(Caller::Authenticated, || 7),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(v, 7);
        hold_tx.send(()).unwrap();
        busy.await.unwrap().unwrap();
        // Freed: public work runs again.
        pool.run(Caller::Public, || ()).await.unwrap();
        assert_eq!(pool.0.running.available_permits(), 2);
        assert_eq!(pool.0.public_admitted.available_permits(), 1);
    }

    #[tokio::test]
    async fn waiting_jobs_queue_up_to_the_limit_and_a_dropped_waiter_frees_its_place() {
        let pool = CpuPool::new(PoolSize::from_limits(&limits(1, 1, 1, 0)).unwrap());
        let held = pool.admit(Caller::Authenticated).await.unwrap();
        // One may wait...
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.admit(Caller::Authenticated).await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // ...a third is refused.
        assert!(matches!(
            pool.admit(Caller::Authenticated).await,
            Err(ApiError::Busy { .. })
        ));
        // A waiter that gives up (client gone, time-out) frees its place at once.
        waiting.abort();
        let _ = waiting.await;
        let again = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.admit(Caller::Authenticated).await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        again.await.unwrap().unwrap();
    }
}

//! Group commit: one writer thread per kind of write, many requests per durable transaction.
//!
//! [`GroupCommit`] is the generic writer. Handlers submit a job (a list of items) and wait.
//! The writer thread takes the first waiting job and every job waiting behind it (up to a
//! budget of items), hands all their items, in order, to its batch function, which applies
//! them in **one** store transaction (one fsync), and only then answers each job with its
//! own outcomes. So a response is sent only after its write is durable, and under load many
//! requests share one fsync: throughput grows with concurrency instead of being bounded by
//! the disk's sync latency. If the transaction fails, every job in it gets the error and
//! nothing of it was stored; jobs in other transactions are not affected.
//!
//! Two writers use it: [`CommitQueue`] stores issued credentials (a batch request is one
//! job, so one transaction for the whole batch), and `status::StatusQueue` applies
//! revocations and suspensions.
//!
//! Before a credential reaches the store, its packed form (if any) must give back exactly
//! the signed bytes ([`crate::store::PackedBody::gives_back`]); one that does not is dropped
//! and the row stored whole. The store persists what it is given, so this rule holds for
//! every backend.

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::store::{InsertOutcome, NewCredential, Store, StoreError};

/// Most credential rows merged into one transaction (a single larger job still goes alone).
const MAX_ROWS_PER_COMMIT: usize = 20_000;
/// Credential jobs that may wait for the writer before callers are slowed down.
const QUEUE_DEPTH: usize = 8_192;

/// How a [`GroupCommit`] writer is named and bounded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupSettings {
    /// The writer thread's name ("credential-writer").
    pub(crate) thread: &'static str,
    /// What the writer is called in log lines and errors ("credential writer").
    pub(crate) name: &'static str,
    /// Most items applied in one transaction; a single larger job still goes alone.
    pub(crate) max_items: usize,
    /// Jobs that may wait for the writer; beyond that, [`GroupCommit::submit`] waits for room
    /// (callers are slowed down, none is refused).
    pub(crate) queue_depth: usize,
}

/// The batch function of a writer: applies every item of a group in one transaction and
/// returns one outcome per item, in order. It may change the items first (the packing check).
pub(crate) type BatchFn<I, O> =
    dyn Fn(&dyn Store, &mut Vec<I>) -> Result<Vec<O>, StoreError> + Send + Sync;

/// A job: its items and where its outcomes go.
struct Job<I, O> {
    items: Vec<I>,
    reply: oneshot::Sender<Result<Vec<O>, StoreError>>,
}

/// The handle through which jobs are submitted to one group-commit writer. Cloning it is
/// cheap; when every clone is dropped, the writer applies what is still queued and stops.
pub(crate) struct GroupCommit<I, O> {
    tx: mpsc::Sender<Job<I, O>>,
    name: &'static str,
}

impl<I, O> Clone for GroupCommit<I, O> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            name: self.name,
        }
    }
}

/// A writer thread; dropping every handle of its [`GroupCommit`] lets it drain the queue and
/// stop. Dropping this without [`Self::join`] leaves the thread to finish on its own.
pub(crate) struct GroupWriter {
    handle: JoinHandle<()>,
    name: &'static str,
}

impl GroupWriter {
    /// Waits until the writer has applied everything queued and stopped (call after every
    /// handle is dropped, or it waits for that).
    pub(crate) fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("the {} thread panicked", self.name);
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> GroupCommit<I, O> {
    /// Starts the writer thread, which applies groups of jobs with `batch`.
    pub(crate) fn start(
        store: Arc<dyn Store>,
        settings: GroupSettings,
        batch: Box<BatchFn<I, O>>,
    ) -> std::io::Result<(Self, GroupWriter)> {
        let (tx, rx) = mpsc::channel(settings.queue_depth.max(1));
        let handle = std::thread::Builder::new()
            .name(settings.thread.into())
            .spawn(move || run(&*store, rx, settings, &*batch))?;
        Ok((
            Self {
                tx,
                name: settings.name,
            },
            GroupWriter {
                handle,
                name: settings.name,
            },
        ))
    }

    /// Applies `items` durably (with other waiting jobs, in one transaction) and returns
    /// each item's outcome, in order.
    pub(crate) async fn submit(&self, items: Vec<I>) -> Result<Vec<O>, StoreError> {
        let (reply, wait) = oneshot::channel();
        self.tx.send(Job { items, reply }).await.map_err(|_| {
            StoreError::Backend(format!("the {} has stopped (shutting down)", self.name))
        })?;
        wait.await.map_err(|_| {
            StoreError::Backend(format!("the {} stopped before answering", self.name))
        })?
    }
}

/// The writer loop: groups of jobs in arrival order, each applied in one transaction; a job
/// that would take a group over `max_items` waits for the next group.
fn run<I, O>(
    store: &dyn Store,
    mut rx: mpsc::Receiver<Job<I, O>>,
    settings: GroupSettings,
    batch: &BatchFn<I, O>,
) {
    let mut next: Option<Job<I, O>> = None;
    loop {
        let Some(first) = next.take().or_else(|| rx.blocking_recv()) else {
            break;
        };
        let mut total = first.items.len();
        let mut jobs = vec![first];
        while total < settings.max_items {
            match rx.try_recv() {
                Ok(job) if total + job.items.len() > settings.max_items => {
                    next = Some(job);
                    break;
                }
                Ok(job) => {
                    total += job.items.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        apply_group(store, jobs, total, settings.name, batch);
    }
}

/// Applies one group in one transaction and answers each of its jobs.
fn apply_group<I, O>(
    store: &dyn Store,
    mut jobs: Vec<Job<I, O>>,
    total: usize,
    name: &str,
    batch: &BatchFn<I, O>,
) {
    let lengths: Vec<usize> = jobs.iter().map(|j| j.items.len()).collect();
    let mut items = Vec::with_capacity(total);
    for job in &mut jobs {
        items.append(&mut job.items);
    }
    let result = batch(store, &mut items).and_then(|outcomes| {
        if outcomes.len() == total {
            Ok(outcomes)
        } else {
            Err(StoreError::Backend(format!(
                "the store returned {} outcomes for {total} items",
                outcomes.len()
            )))
        }
    });
    match result {
        Ok(outcomes) => {
            let mut outcomes = outcomes.into_iter();
            for (job, n) in jobs.into_iter().zip(lengths) {
                let mine: Vec<O> = outcomes.by_ref().take(n).collect();
                let _ = job.reply.send(Ok(mine));
            }
        }
        Err(e) => {
            tracing::error!(writer = name, error = %e, jobs = jobs.len(), items = total, "a group-commit transaction failed");
            // A group of one gets the store's own error (a conflict stays a conflict); the
            // jobs of a larger group each get its text.
            if jobs.len() == 1 {
                if let Some(job) = jobs.pop() {
                    let _ = job.reply.send(Err(e));
                }
            } else {
                let message = e.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(StoreError::Backend(message.clone())));
                }
            }
        }
    }
}

/// The handle through which credentials are stored.
#[derive(Clone)]
pub(crate) struct CommitQueue {
    group: GroupCommit<NewCredential, InsertOutcome>,
}

/// The credential writer thread.
pub(crate) type Writer = GroupWriter;

impl CommitQueue {
    /// Starts the credential writer thread.
    pub(crate) fn start(store: Arc<dyn Store>) -> std::io::Result<(Self, Writer)> {
        let settings = GroupSettings {
            thread: "credential-writer",
            name: "credential writer",
            max_items: MAX_ROWS_PER_COMMIT,
            queue_depth: QUEUE_DEPTH,
        };
        let (group, writer) = GroupCommit::start(
            store,
            settings,
            Box::new(|store: &dyn Store, rows: &mut Vec<NewCredential>| {
                check_packing(rows);
                store.insert_credentials(rows)
            }),
        )?;
        Ok((Self { group }, writer))
    }

    /// Stores `rows` durably (with other waiting jobs, in one transaction) and returns what
    /// happened to each row, in order.
    pub(crate) async fn commit(
        &self,
        rows: Vec<NewCredential>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        self.group.submit(rows).await
    }
}

/// Drops every packed form that does not give back its row's exact bytes (see the module
/// docs): that row is stored whole.
fn check_packing(rows: &mut [NewCredential]) {
    for c in rows {
        if c.packed.as_ref().is_some_and(|p| !p.gives_back(&c.body)) {
            tracing::error!(id = %c.id, "a packed credential body does not give back its bytes; storing them whole");
            c.packed = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    /// A writer over numbers whose batch function reports each group it is given, then waits
    /// for a permit before answering (10 × each number; a group holding 99 fails as a backend
    /// error, one holding 98 as a conflict).
    struct Gated {
        queue: GroupCommit<u32, u32>,
        writer: GroupWriter,
        groups: std::sync::mpsc::Receiver<Vec<u32>>,
        permits: std::sync::mpsc::Sender<()>,
        _dir: tempfile::TempDir,
    }

    const DEPTH: usize = 16;

    fn gated(max_items: usize) -> Gated {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        let (group_tx, groups) = std::sync::mpsc::channel();
        let (permits, permit_rx) = std::sync::mpsc::channel::<()>();
        let (group_tx, permit_rx) = (
            std::sync::Mutex::new(group_tx),
            std::sync::Mutex::new(permit_rx),
        );
        let settings = GroupSettings {
            thread: "test-writer",
            name: "test writer",
            max_items,
            queue_depth: DEPTH,
        };
        let (queue, writer) = GroupCommit::start(
            store,
            settings,
            Box::new(move |_: &dyn Store, items: &mut Vec<u32>| {
                group_tx.lock().unwrap().send(items.clone()).unwrap();
                permit_rx.lock().unwrap().recv().unwrap();
                if items.contains(&99) {
                    Err(StoreError::Backend("boom".into()))
                } else if items.contains(&98) {
                    Err(StoreError::Conflict("taken".into()))
                } else {
                    Ok(items.iter().map(|i| i * 10).collect())
                }
            }),
        )
        .unwrap();
        Gated {
            queue,
            writer,
            groups,
            permits,
            _dir: dir,
        }
    }

    /// Submits `items` from a task, and returns once the job is in the queue (so jobs queue
    /// in the order of the calls).
    async fn submit_queued(
        q: &GroupCommit<u32, u32>,
        items: Vec<u32>,
    ) -> tokio::task::JoinHandle<Result<Vec<u32>, StoreError>> {
        let queued = DEPTH - q.tx.capacity();
        let q2 = q.clone();
        let task = tokio::spawn(async move { q2.submit(items).await });
        while DEPTH - q.tx.capacity() == queued {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        task
    }

    /// Jobs waiting together share one transaction (up to the item budget, in order); a
    /// failing transaction fails exactly its jobs; a group of one gets the store's own error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn groups_share_a_transaction_and_fail_together() {
        let g = gated(3);
        let q = &g.queue;
        let a = q.clone();
        let a = tokio::spawn(async move { a.submit(vec![1]).await });
        // The writer holds the first job in its transaction while the others queue.
        assert_eq!(g.groups.recv().unwrap(), [1]);
        let b = submit_queued(q, vec![2, 3]).await;
        let c = submit_queued(q, vec![4]).await;
        let d = submit_queued(q, vec![99]).await;
        let e = submit_queued(q, vec![5]).await;
        let f = submit_queued(q, vec![6, 7]).await;
        for _ in 0..4 {
            g.permits.send(()).unwrap();
        }
        assert_eq!(a.await.unwrap().unwrap(), [10]);
        assert_eq!(b.await.unwrap().unwrap(), [20, 30]);
        assert_eq!(c.await.unwrap().unwrap(), [40]);
        for failed in [d, e] {
            match failed.await.unwrap() {
                Err(StoreError::Backend(m)) => assert!(m.contains("boom"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(f.await.unwrap().unwrap(), [60, 70]);
        let groups: Vec<Vec<u32>> = g.groups.try_iter().collect();
        // [6, 7] would take the third group over 3 items: it waits for the next.
        assert_eq!(groups, [vec![2, 3, 4], vec![99, 5], vec![6, 7]]);

        g.permits.send(()).unwrap();
        assert!(matches!(
            q.submit(vec![98]).await,
            Err(StoreError::Conflict(m)) if m == "taken"
        ));
        // A job larger than the budget still goes, alone.
        g.permits.send(()).unwrap();
        assert_eq!(q.submit(vec![1, 2, 3, 4]).await.unwrap(), [10, 20, 30, 40]);
    }

    /// When the last handle is dropped, the writer applies everything still queued, answers
    /// it, and stops.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_drains_the_queue() {
        let Gated {
            queue,
            writer,
            groups,
            permits,
            _dir,
        } = gated(100);
        let first = queue.clone();
        let first = tokio::spawn(async move { first.submit(vec![1]).await });
        assert_eq!(groups.recv().unwrap(), [1]);
        let second = submit_queued(&queue, vec![2]).await;
        let third = submit_queued(&queue, vec![3, 4]).await;
        drop(queue);
        permits.send(()).unwrap();
        permits.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), [10]);
        assert_eq!(second.await.unwrap().unwrap(), [20]);
        assert_eq!(third.await.unwrap().unwrap(), [30, 40]);
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .unwrap();
        assert_eq!(groups.try_iter().collect::<Vec<_>>(), [vec![2, 3, 4]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_jobs_share_commits_and_keep_order() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        store.meta_set_if_absent("x", b"1").unwrap();
        let (queue, writer) = CommitQueue::start(store.clone()).unwrap();
        // Foreign keys: credentials need an institution.
        let inst = crate::store::InstitutionRecord {
            slug: "i".into(),
            did: "did:web:x".into(),
            identity: crate::store::IdentityKind::DidWeb,
            profile: serde_json::json!({}),
            created_at: "t".into(),
        };
        let key = crate::store::KeyRecord {
            method_id: "did:web:x#key-1".into(),
            institution: "i".into(),
            seq: 1,
            public_multibase: "z".into(),
            status: crate::store::KeyStatus::Active,
            created_at: "t".into(),
            retired_at: None,
            secret: crate::store::KeySecret::Sealed(crate::store::SealedSecret {
                nonce: vec![0; 24],
                ciphertext: vec![0; 48],
            }),
        };
        store.create_institution(&inst, &key).unwrap();
        let mut tasks = Vec::new();
        for j in 0..50 {
            let q = queue.clone();
            tasks.push(tokio::spawn(async move {
                let rows: Vec<NewCredential> = (0..3)
                    .map(|r| NewCredential {
                        id: format!("{j}-{r}"),
                        institution: "i".into(),
                        achievement: "a".into(),
                        achievement_version: 1,
                        idempotency_key: Some(format!("k{j}")),
                        request_hash: [0; 32],
                        issued_at: "t".into(),
                        method_id: "m".into(),
                        body: vec![b'x'],
                        packed: None,
                        learner: None,
                        stack_check: None,
                    })
                    .collect();
                q.commit(rows).await.unwrap()
            }));
        }
        for t in tasks {
            let out = t.await.unwrap();
            assert_eq!(out.len(), 3);
            assert_eq!(out[0], InsertOutcome::Inserted);
            assert!(matches!(out[1], InsertOutcome::Existing(_)));
        }
        drop(queue);
        writer.join();
        assert_eq!(store.credential_count("i").unwrap(), 50);
    }

    /// A packed form that does not give back its row's bytes is dropped before the store
    /// sees it: the row is stored whole, byte for byte.
    #[test]
    fn packed_forms_that_do_not_give_back_the_body_are_dropped() {
        let parts = Arc::new(crate::store::BodyParts::new(vec![b"\"s\":1".to_vec()]));
        let row = |extra: &[u8]| {
            let mut p = crate::store::Packer::new(parts.clone(), 64);
            p.out().extend_from_slice(b"{");
            assert!(p.part(0));
            p.out().extend_from_slice(b"}");
            let (mut body, packed) = p.finish();
            body.extend_from_slice(extra);
            NewCredential {
                id: "c".into(),
                institution: "i".into(),
                achievement: "a".into(),
                achievement_version: 1,
                idempotency_key: None,
                request_hash: [0; 32],
                issued_at: "t".into(),
                method_id: "m".into(),
                body,
                packed: Some(packed),
                learner: None,
                stack_check: None,
            }
        };
        let mut rows = vec![row(b""), row(b" ")];
        check_packing(&mut rows);
        assert!(rows[0].packed.is_some());
        assert_eq!(rows[1].packed, None);
        assert_eq!(rows[1].body, b"{\"s\":1} ");
    }
}

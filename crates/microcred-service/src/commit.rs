//! Group commit: one writer thread stores every issued credential.
//!
//! Handlers sign credentials in parallel, then hand the signed rows to [`CommitQueue::commit`]
//! and wait. The writer thread takes every job waiting in the queue (up to a row budget),
//! stores them all in **one** transaction ([`Store::insert_credentials`], one fsync), and
//! only then answers each job. So a response is sent only after its credential is durable,
//! and under load many requests share one fsync: throughput grows with concurrency instead
//! of being bounded by the disk's sync latency.
//!
//! A batch request is one job (one transaction for the whole batch). If the transaction
//! fails, every job in it gets the error and nothing was stored.

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::store::{InsertOutcome, NewCredential, Store, StoreError};

/// Most rows merged into one transaction (a single larger job still goes alone).
const MAX_ROWS_PER_COMMIT: usize = 20_000;
/// Jobs that may wait for the writer before callers are slowed down.
const QUEUE_DEPTH: usize = 8_192;

struct Job {
    rows: Vec<NewCredential>,
    reply: oneshot::Sender<Result<Vec<InsertOutcome>, StoreError>>,
}

/// The handle through which credentials are stored.
#[derive(Clone)]
pub(crate) struct CommitQueue {
    tx: mpsc::Sender<Job>,
}

/// The writer thread; dropping every [`CommitQueue`] lets it drain the queue and stop.
pub(crate) struct Writer {
    handle: JoinHandle<()>,
}

impl Writer {
    /// Waits until the writer has stored everything queued and stopped.
    pub(crate) fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("the credential writer thread panicked");
        }
    }
}

impl CommitQueue {
    /// Starts the writer thread.
    pub(crate) fn start(store: Arc<dyn Store>) -> std::io::Result<(Self, Writer)> {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let handle = std::thread::Builder::new()
            .name("credential-writer".into())
            .spawn(move || run(&*store, rx))?;
        Ok((Self { tx }, Writer { handle }))
    }

    /// Stores `rows` durably (with other waiting jobs, in one transaction) and returns what
    /// happened to each row, in order.
    pub(crate) async fn commit(
        &self,
        rows: Vec<NewCredential>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let (reply, wait) = oneshot::channel();
        self.tx.send(Job { rows, reply }).await.map_err(|_| {
            StoreError::Backend("the credential writer has stopped (shutting down)".into())
        })?;
        wait.await.map_err(|_| {
            StoreError::Backend("the credential writer stopped before answering".into())
        })?
    }
}

fn run(store: &dyn Store, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        let mut total = jobs[0].rows.len();
        while total < MAX_ROWS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => {
                    total += job.rows.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        if jobs.len() == 1 {
            if let Some(job) = jobs.pop() {
                let result = store.insert_credentials(&job.rows);
                if let Err(e) = &result {
                    tracing::error!(error = %e, "storing credentials failed");
                }
                let _ = job.reply.send(result);
            }
            continue;
        }
        let lengths: Vec<usize> = jobs.iter().map(|j| j.rows.len()).collect();
        let mut all = Vec::with_capacity(total);
        for job in &mut jobs {
            all.append(&mut job.rows);
        }
        match store.insert_credentials(&all) {
            Ok(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                for (job, n) in jobs.into_iter().zip(lengths) {
                    let mine: Vec<InsertOutcome> = outcomes.by_ref().take(n).collect();
                    let _ = job.reply.send(Ok(mine));
                }
            }
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error = %message, jobs = lengths.len(), "storing credentials failed");
                for job in jobs {
                    let _ = job.reply.send(Err(StoreError::Backend(message.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

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
}

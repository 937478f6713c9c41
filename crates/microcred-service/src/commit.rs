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
//!
//! Before a row reaches the store, its packed form (if any) must give back exactly the
//! signed bytes ([`crate::store::PackedBody::gives_back`]); one that does not is dropped and
//! the row stored whole. The store persists what it is given, so this rule holds for every
//! backend.

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
        for job in &mut jobs {
            check_packing(&mut job.rows);
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
            }
        };
        let mut rows = vec![row(b""), row(b" ")];
        check_packing(&mut rows);
        assert!(rows[0].packed.is_some());
        assert_eq!(rows[1].packed, None);
        assert_eq!(rows[1].body, b"{\"s\":1} ");
    }
}

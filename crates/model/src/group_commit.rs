//! Group commit of the writes every charger makes when it connects, boots and goes:
//! the connection (`chargestations::mark_connected`: generation bump, online, the
//! `chargestation.online` event), the BootNotification (`chargestations::record_boot`)
//! and the disconnection (`chargestations::mark_disconnected`).
//!
//! A reconnect storm (or a mass disconnection) brings thousands of these at once.
//! Written one transaction each they serialise on SQLite's single connection (and cost one WAL commit, or one
//! PostgreSQL commit, each). Here one task takes every write waiting in its queue — up
//! to `max_batch` — and applies them in arrival order in **one** transaction; each
//! caller gets its own answer only after that transaction committed, so a charger that
//! was answered is persisted. Nothing waits for company: a write arriving alone is
//! committed at once, and the writes that arrive while a batch is being committed form
//! the next batch.
//!
//! When anything in a batch fails (a station deleted meanwhile, a failed commit), the
//! batch is rolled back and each of its writes is applied again alone, so every caller
//! gets the answer its own write would have had: one bad write never fails the others,
//! and no caller is left waiting.
//!
//! The handshake's station lookups go the same way: the lookups waiting together are
//! answered from one `SELECT ... WHERE endpoint IN (...)` before the next group of
//! writes (on SQLite's single connection, thousands of separate lookups would each
//! wait for it in turn). A lookup sees the stations as they were before the writes of
//! its round; those writes never change what the handshake reads (identity, security,
//! password, handshake leniency).
//!
//! The writes go through the same functions as the unbatched path.

use sea_orm::TransactionTrait;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::chargestations::{
    self, mark_connected_in, mark_disconnected_in, record_boot_in, Chargestation,
};
use crate::{Db, ModelError, ModelResult};

/// The most writes committed in one transaction.
pub const DEFAULT_MAX_BATCH: usize = 512;

/// Writes waiting for the committer before callers wait for room.
const QUEUE_CAPACITY: usize = 4096;

/// One write of the group.
#[derive(Debug)]
enum Write {
    Connect {
        id: String,
        ocpp_base_url: String,
        instance: String,
    },
    Boot {
        id: String,
        boot_info: Value,
    },
    Disconnect {
        id: String,
        generation: i64,
        ocpp_base_url: String,
    },
}

#[derive(Debug)]
struct Job {
    write: Write,
    reply: oneshot::Sender<ModelResult<i64>>,
}

#[derive(Debug)]
struct Lookup {
    endpoint: String,
    reply: oneshot::Sender<ModelResult<Option<Chargestation>>>,
}

/// The handle callers write through: cheap to clone. The committer task it feeds ends
/// when every handle is dropped, after committing what it already received.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    sender: mpsc::Sender<Job>,
    lookups: mpsc::Sender<Lookup>,
    batches: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl GroupCommit {
    /// Starts the committer on the current tokio runtime.
    pub fn spawn(db: Db, max_batch: usize) -> GroupCommit {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let (lookups, lookup_receiver) = mpsc::channel(QUEUE_CAPACITY);
        let batches = std::sync::Arc::default();
        tokio::spawn(run(
            db,
            receiver,
            lookup_receiver,
            max_batch.max(1),
            std::sync::Arc::clone(&batches),
        ));
        GroupCommit {
            sender,
            lookups,
            batches,
        }
    }

    /// [`crate::chargestations::find_by_endpoint`], answered together with the lookups
    /// waiting alongside it.
    ///
    /// # Errors
    /// On database failure; [`ModelError::Unavailable`] when the committer stopped.
    pub async fn find_by_endpoint(&self, endpoint: &str) -> ModelResult<Option<Chargestation>> {
        let (reply, answer) = oneshot::channel();
        self.lookups
            .send(Lookup {
                endpoint: endpoint.to_owned(),
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// [`crate::chargestations::mark_connected`], committed with the writes waiting
    /// alongside it. Returns the new connection generation.
    ///
    /// # Errors
    /// As `mark_connected`; [`ModelError::Unavailable`] when the committer stopped.
    pub async fn mark_connected(
        &self,
        id: &str,
        ocpp_base_url: &str,
        instance: &str,
    ) -> ModelResult<i64> {
        self.submit(Write::Connect {
            id: id.to_owned(),
            ocpp_base_url: ocpp_base_url.to_owned(),
            instance: instance.to_owned(),
        })
        .await
    }

    /// [`crate::chargestations::record_boot`], committed with the writes waiting
    /// alongside it. Returns the boot count after this boot.
    ///
    /// # Errors
    /// As `record_boot`; [`ModelError::Unavailable`] when the committer stopped.
    pub async fn record_boot(&self, id: &str, boot_info: Value) -> ModelResult<i64> {
        self.submit(Write::Boot {
            id: id.to_owned(),
            boot_info,
        })
        .await
    }

    /// [`crate::chargestations::mark_disconnected`], committed with the writes waiting
    /// alongside it. Returns whether it applied (no newer connection took over).
    ///
    /// # Errors
    /// As `mark_disconnected`; [`ModelError::Unavailable`] when the committer stopped.
    pub async fn mark_disconnected(
        &self,
        id: &str,
        generation: i64,
        ocpp_base_url: &str,
    ) -> ModelResult<bool> {
        let applied = self
            .submit(Write::Disconnect {
                id: id.to_owned(),
                generation,
                ocpp_base_url: ocpp_base_url.to_owned(),
            })
            .await?;
        Ok(applied != 0)
    }

    /// How many transactions the committer has run (batches, not writes).
    pub fn batches(&self) -> u64 {
        self.batches.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn submit(&self, write: Write) -> ModelResult<i64> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job { write, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> ModelError {
    ModelError::Unavailable("the connection writer stopped")
}

async fn run(
    db: Db,
    mut writes: mpsc::Receiver<Job>,
    mut lookups: mpsc::Receiver<Lookup>,
    max_batch: usize,
    batches: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    let mut finds = Vec::with_capacity(max_batch);
    loop {
        tokio::select! {
            biased;
            received = lookups.recv_many(&mut finds, max_batch) => if received == 0 { return },
            received = writes.recv_many(&mut batch, max_batch) => if received == 0 { return },
        }
        // Whatever else waits, of both kinds.
        while finds.len() < max_batch {
            let Ok(lookup) = lookups.try_recv() else {
                break;
            };
            finds.push(lookup);
        }
        while batch.len() < max_batch {
            let Ok(job) = writes.try_recv() else { break };
            batch.push(job);
        }
        if !finds.is_empty() {
            find_all(&db, &mut finds).await;
        }
        if !batch.is_empty() {
            batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            commit(&db, &mut batch).await;
        }
    }
}

/// Answers the lookups from one query; when it fails, each lookup alone.
async fn find_all(db: &Db, finds: &mut Vec<Lookup>) {
    let endpoints: Vec<String> = finds.iter().map(|f| f.endpoint.clone()).collect();
    match chargestations::find_by_endpoints(db, &endpoints).await {
        Ok(found) => {
            for lookup in finds.drain(..) {
                let _ = lookup.reply.send(Ok(found.get(&lookup.endpoint).cloned()));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, lookups = finds.len(), "grouped station lookup failed; looking up each alone");
            for lookup in finds.drain(..) {
                let answer = chargestations::find_by_endpoint(db, &lookup.endpoint).await;
                let _ = lookup.reply.send(answer);
            }
        }
    }
}

/// Commits `batch` in one transaction and answers each caller; on any failure, rolls
/// back and applies each write alone.
async fn commit(db: &Db, batch: &mut Vec<Job>) {
    if batch.len() > 1 {
        match apply_all(db, batch).await {
            Ok(answers) => {
                for (job, answer) in batch.drain(..).zip(answers) {
                    // A caller that went away (the charger disconnected) needs no answer.
                    let _ = job.reply.send(Ok(answer));
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, writes = batch.len(), "group commit failed; writing each alone");
            }
        }
    }
    for job in batch.drain(..) {
        let answer = apply_alone(db, &job.write).await;
        let _ = job.reply.send(answer);
    }
}

async fn apply_all(db: &Db, batch: &[Job]) -> ModelResult<Vec<i64>> {
    let txn = db.conn().begin().await?;
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch {
        answers.push(apply(&txn, db.now_ms(), &job.write).await?);
    }
    txn.commit().await?;
    // Connects and disconnects wrote chargestation.online / .offline events.
    db.outbox_written();
    Ok(answers)
}

/// One write through the unbatched function of `chargestations` (its own transaction).
async fn apply_alone(db: &Db, write: &Write) -> ModelResult<i64> {
    match write {
        Write::Connect {
            id,
            ocpp_base_url,
            instance,
        } => chargestations::mark_connected(db, id, ocpp_base_url, instance).await,
        // `record_boot` without taking the value: a single statement, no transaction.
        Write::Boot { id, boot_info } => {
            record_boot_in(db.conn(), db.now_ms(), id, boot_info).await
        }
        Write::Disconnect {
            id,
            generation,
            ocpp_base_url,
        } => Ok(i64::from(
            chargestations::mark_disconnected(db, id, *generation, ocpp_base_url).await?,
        )),
    }
}

async fn apply<C: sea_orm::ConnectionTrait>(conn: &C, now: i64, write: &Write) -> ModelResult<i64> {
    match write {
        Write::Connect {
            id,
            ocpp_base_url,
            instance,
        } => mark_connected_in(conn, now, id, ocpp_base_url, instance).await,
        Write::Boot { id, boot_info } => record_boot_in(conn, now, id, boot_info).await,
        Write::Disconnect {
            id,
            generation,
            ocpp_base_url,
        } => Ok(i64::from(
            mark_disconnected_in(conn, now, id, *generation, ocpp_base_url).await?,
        )),
    }
}

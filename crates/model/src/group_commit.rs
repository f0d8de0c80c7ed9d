//! Group commit of the writes every charger makes when it connects, boots, reports its
//! connectors and goes: the connection (`chargestations::mark_connected`: generation
//! bump, online, the `chargestation.online` event), the BootNotification
//! (`chargestations::record_boot`), the StatusNotification
//! (`chargestations::record_connector_status`) and the disconnection
//! (`chargestations::mark_disconnected`).
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
//! The writes go through the same functions as the unbatched path, with two shortcuts
//! that keep the statements per group nearly constant: the events of the whole group
//! are recorded together at its end (`events::record_many`, in arrival order), and the
//! group's connector statuses are applied in memory to their stations, read together
//! first and each written back once (`chargestations::ConnectorStatuses`).

use std::collections::HashMap;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::chargestations::{
    self, mark_connected_in, mark_disconnected_in, record_boot_in, Chargestation, ConnectorStatus,
    ConnectorStatuses,
};
use crate::events::{self, NewEvent};
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
    ConnectorStatus {
        id: String,
        status: ConnectorStatus,
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

    /// [`crate::chargestations::record_connector_status`], committed with the writes
    /// waiting alongside it.
    ///
    /// # Errors
    /// As `record_connector_status`; [`ModelError::Unavailable`] when the committer
    /// stopped.
    pub async fn record_connector_status(
        &self,
        id: &str,
        status: ConnectorStatus,
        ocpp_base_url: &str,
    ) -> ModelResult<()> {
        self.submit(Write::ConnectorStatus {
            id: id.to_owned(),
            status,
            ocpp_base_url: ocpp_base_url.to_owned(),
        })
        .await?;
        Ok(())
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

/// Applies the group's writes in arrival order in one transaction, then writes the
/// statuses' stations and records the group's events (one `record_many`), and commits.
async fn apply_all(db: &Db, batch: &[Job]) -> ModelResult<Vec<i64>> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let mut statuses = ConnectorStatuses::read(
        &txn,
        batch.iter().filter_map(|job| match &job.write {
            Write::ConnectorStatus { id, .. } => Some(id.as_str()),
            _ => None,
        }),
    )
    .await?;
    let mut ahead = WrittenAhead::write(&txn, now, batch).await?;
    let mut answers = Vec::with_capacity(batch.len());
    let mut group_events = Vec::with_capacity(batch.len());
    for job in batch {
        let (answer, event) = apply(&txn, now, &mut statuses, &mut ahead, &job.write).await?;
        answers.push(answer);
        group_events.extend(event);
    }
    statuses.write_all(&txn).await?;
    events::record_many(&txn, now, group_events).await?;
    txn.commit().await?;
    // Connects, statuses and disconnects wrote chargestation.* events.
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
        Write::ConnectorStatus {
            id,
            status,
            ocpp_base_url,
        } => {
            chargestations::record_connector_status(db, id, status.clone(), ocpp_base_url).await?;
            Ok(0)
        }
    }
}

/// One write of a group: its answer, and the event it leaves to record. A write other
/// than a status first has the station's pending statuses written (it must see them)
/// and makes a later status of the station read it again (it must see that write).
async fn apply<C: sea_orm::ConnectionTrait>(
    conn: &C,
    now: i64,
    statuses: &mut ConnectorStatuses,
    ahead: &mut WrittenAhead,
    write: &Write,
) -> ModelResult<(i64, Option<NewEvent>)> {
    match write {
        Write::Connect { id, .. } if ahead.connected.contains_key(id) => {
            let (generation, event) = ahead
                .connected
                .remove(id)
                .flatten()
                .ok_or(ModelError::NotFound("chargestation"))?;
            Ok((generation, Some(event)))
        }
        Write::Boot { id, .. } if ahead.booted.contains_key(id) => {
            Ok((ahead.booted.remove(id).unwrap_or(0), None))
        }
        Write::Connect {
            id,
            ocpp_base_url,
            instance,
        } => {
            statuses.release(conn, id).await?;
            let (generation, event) =
                mark_connected_in(conn, now, id, ocpp_base_url, instance).await?;
            Ok((generation, Some(event)))
        }
        Write::Boot { id, boot_info } => {
            statuses.release(conn, id).await?;
            Ok((record_boot_in(conn, now, id, boot_info).await?, None))
        }
        Write::Disconnect {
            id,
            generation,
            ocpp_base_url,
        } => {
            statuses.release(conn, id).await?;
            let event = mark_disconnected_in(conn, now, id, *generation, ocpp_base_url).await?;
            Ok((i64::from(event.is_some()), event))
        }
        Write::ConnectorStatus {
            id,
            status,
            ocpp_base_url,
        } => {
            let event = statuses
                .apply(conn, now, id, status.clone(), ocpp_base_url)
                .await?;
            Ok((0, Some(event)))
        }
    }
}

impl Write {
    /// The station the write concerns.
    fn station_id(&self) -> &str {
        match self {
            Write::Connect { id, .. }
            | Write::Boot { id, .. }
            | Write::Disconnect { id, .. }
            | Write::ConnectorStatus { id, .. } => id,
        }
    }
}

/// The connects and boots of stations no other write of the group concerns, written
/// ahead of the group's other writes with one statement per kind (a reconnect storm
/// is thousands of them): with nothing else of their station in the group, writing them
/// first changes no answer and no event. The group's events are still recorded in
/// arrival order. Stations written more than once in a group go one write at a time.
#[derive(Debug, Default)]
struct WrittenAhead {
    /// By station: the new generation and the `chargestation.online` event, or `None`
    /// for a station that does not exist.
    connected: HashMap<String, Option<(i64, NewEvent)>>,
    /// By station: the boot count after the boot (0: no such station, as alone).
    booted: HashMap<String, i64>,
}

impl WrittenAhead {
    async fn write<C: sea_orm::ConnectionTrait>(
        conn: &C,
        now: i64,
        batch: &[Job],
    ) -> ModelResult<WrittenAhead> {
        let mut writes_per_station: HashMap<&str, usize> = HashMap::new();
        for job in batch {
            *writes_per_station
                .entry(job.write.station_id())
                .or_default() += 1;
        }
        let alone = |id: &str| writes_per_station.get(id) == Some(&1);
        let mut connects: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
        let mut boots = Vec::new();
        for job in batch {
            match &job.write {
                Write::Connect {
                    id,
                    ocpp_base_url,
                    instance,
                } if alone(id) => connects
                    .entry((ocpp_base_url.as_str(), instance.as_str()))
                    .or_default()
                    .push(id.as_str()),
                Write::Boot { id, boot_info } if alone(id) => boots.push((id.as_str(), boot_info)),
                _ => {}
            }
        }
        let mut ahead = WrittenAhead::default();
        for ((ocpp_base_url, instance), ids) in connects {
            let mut connected =
                chargestations::mark_connected_many(conn, now, &ids, ocpp_base_url, instance)
                    .await?;
            for id in ids {
                ahead.connected.insert(id.to_owned(), connected.remove(id));
            }
        }
        if !boots.is_empty() {
            let counts = chargestations::record_boots_many(conn, now, &boots).await?;
            for (id, _) in boots {
                ahead
                    .booted
                    .insert(id.to_owned(), counts.get(id).copied().unwrap_or(0));
            }
        }
        Ok(ahead)
    }
}

/// Group commits of StatusNotifications against a real database ([`crate::test_db`]).
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_db::TestDb;

    const BASE: &str = "ws://x/ocpp";

    async fn station(t: &TestDb, endpoint: &str) -> String {
        t.station(endpoint).await.id
    }

    fn status(connector_id: i64, status: &str) -> ConnectorStatus {
        ConnectorStatus {
            connector_id,
            status: status.to_owned(),
            error_code: "NoError".to_owned(),
            info: None,
            vendor_error_code: None,
            timestamp: "2024-01-01T00:00:00.000Z".to_owned(),
        }
    }

    /// Connectors as (id, status).
    type Connectors = Vec<(i64, String)>;

    /// The connectors an event's station had.
    fn connectors(event: &Value) -> Connectors {
        event["data"]["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["connectorId"].as_i64().unwrap(),
                    c["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn pair(id: i64, status: &str) -> (i64, String) {
        (id, status.to_owned())
    }

    #[tokio::test]
    async fn two_statuses_of_one_station_in_one_group_both_apply_in_order() {
        let t = TestDb::new().await;
        let id = station(&t, "GS-1").await;
        let writer = GroupCommit::spawn(t.db.clone(), 512);
        let (first, second, third) = tokio::join!(
            writer.record_connector_status(&id, status(2, "Available"), BASE),
            writer.record_connector_status(&id, status(1, "Preparing"), BASE),
            writer.record_connector_status(&id, status(2, "Charging"), BASE),
        );
        first.unwrap();
        second.unwrap();
        third.unwrap();
        assert_eq!(writer.batches(), 1, "one group");

        let stored = chargestations::get(&t.db, &id).await.unwrap();
        assert_eq!(
            stored.connectors,
            [status(1, "Preparing"), status(2, "Charging")]
        );
        assert_eq!(stored.last_message_at, Some(t.db.now_ms()));
        let events = crate::events::for_chargestation(&t.db, &id).await.unwrap();
        assert_eq!(events.len(), 3);
        assert!(events
            .iter()
            .all(|e| e["type"] == "chargestation.connector_status.updated"));
        // Each event shows the station as its own status left it.
        assert_eq!(connectors(&events[0]), [pair(2, "Available")]);
        assert_eq!(
            connectors(&events[1]),
            [pair(1, "Preparing"), pair(2, "Available")]
        );
        assert_eq!(
            connectors(&events[2]),
            [pair(1, "Preparing"), pair(2, "Charging")]
        );
        assert_eq!(
            events[1]["data"]["connector"],
            json!(status(1, "Preparing"))
        );
        assert_eq!(events[2]["data"]["_id"], json!(id));
        t.done().await;
    }

    #[tokio::test]
    async fn a_group_status_is_the_event_the_unbatched_write_makes() {
        let t = TestDb::new().await;
        let grouped = station(&t, "GS-G").await;
        let alone = station(&t, "GS-A").await;
        let writer = GroupCommit::spawn(t.db.clone(), 512);
        let (a, b) = tokio::join!(
            writer.record_connector_status(&grouped, status(1, "Faulted"), BASE),
            writer.record_boot(&grouped, json!({"chargePointVendor": "V"})),
        );
        a.unwrap();
        b.unwrap();
        chargestations::record_boot(&t.db, &alone, json!({"chargePointVendor": "V"}))
            .await
            .unwrap();
        chargestations::record_connector_status(&t.db, &alone, status(1, "Faulted"), BASE)
            .await
            .unwrap();
        let data = |events: Vec<Value>| {
            let mut data = events[0]["data"].clone();
            let map = data.as_object_mut().unwrap();
            for differs in ["_id", "endpoint", "connection_url", "bootInfo"] {
                map.remove(differs);
            }
            data
        };
        let grouped_events = crate::events::for_chargestation(&t.db, &grouped)
            .await
            .unwrap();
        let alone_events = crate::events::for_chargestation(&t.db, &alone)
            .await
            .unwrap();
        // The grouped status came before the boot: its event has no boot info.
        assert!(grouped_events[0]["data"].get("bootInfo").is_none());
        assert!(alone_events[0]["data"].get("bootInfo").is_some());
        assert_eq!(data(grouped_events), data(alone_events));
        t.done().await;
    }

    #[tokio::test]
    async fn the_statuses_of_several_stations_in_one_group_are_each_stored() {
        let t = TestDb::new().await;
        let ids = [
            station(&t, "GS-A").await,
            station(&t, "GS-B").await,
            station(&t, "GS-C").await,
        ];
        let writer = GroupCommit::spawn(t.db.clone(), 512);
        let (a, b, c, a_again) = tokio::join!(
            writer.record_connector_status(&ids[0], status(1, "Available"), BASE),
            writer.record_connector_status(&ids[1], status(1, "Charging"), BASE),
            writer.record_connector_status(&ids[2], status(2, "Faulted"), BASE),
            writer.record_connector_status(&ids[0], status(2, "Preparing"), BASE),
        );
        for written in [a, b, c, a_again] {
            written.unwrap();
        }
        assert_eq!(writer.batches(), 1, "one group");
        let expected = [
            vec![status(1, "Available"), status(2, "Preparing")],
            vec![status(1, "Charging")],
            vec![status(2, "Faulted")],
        ];
        for (id, connectors) in ids.iter().zip(expected) {
            let stored = chargestations::get(&t.db, id).await.unwrap();
            assert_eq!(stored.connectors, connectors);
            assert_eq!(stored.last_message_at, Some(t.db.now_ms()));
        }
        t.done().await;
    }

    #[tokio::test]
    async fn connects_and_boots_of_different_stations_are_written_ahead_with_the_answers_and_events_of_single_writes(
    ) {
        let t = TestDb::new().await;
        let (a, b, c) = (
            station(&t, "GS-A").await,
            station(&t, "GS-B").await,
            station(&t, "GS-C").await,
        );
        // C is online already: its boot is the only write of C in the group.
        let writer = GroupCommit::spawn(t.db.clone(), 512);
        writer.mark_connected(&c, BASE, "here").await.unwrap();
        let batches = writer.batches();
        let (connect_a, connect_b, boot_c) = tokio::join!(
            writer.mark_connected(&a, BASE, "here"),
            writer.mark_connected(&b, BASE, "here"),
            writer.record_boot(&c, json!({"firmwareVersion": "2"})),
        );
        assert_eq!(writer.batches(), batches + 1, "one group");
        assert_eq!((connect_a.unwrap(), connect_b.unwrap()), (1, 1));
        assert_eq!(boot_c.unwrap(), 1);
        for id in [&a, &b] {
            let stored = chargestations::get(&t.db, id).await.unwrap();
            assert!(stored.online);
            assert_eq!(stored.connection_generation, 1);
            let events = crate::events::for_chargestation(&t.db, id).await.unwrap();
            let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(types, ["chargestation.online"]);
            assert_eq!(events[0]["data"]["online"], true);
        }
        let c_stored = chargestations::get(&t.db, &c).await.unwrap();
        assert_eq!(c_stored.boot_count, 1);
        assert_eq!(c_stored.boot_info, Some(json!({"firmwareVersion": "2"})));

        // A connect of a station that does not exist fails alone; the others stand.
        let missing = "0123456789abcdef01234567";
        let (again_a, nowhere, boot_b) = tokio::join!(
            writer.mark_connected(&a, BASE, "here"),
            writer.mark_connected(missing, BASE, "here"),
            writer.record_boot(&b, json!({"firmwareVersion": "3"})),
        );
        assert_eq!(again_a.unwrap(), 2);
        assert!(
            matches!(nowhere, Err(ModelError::NotFound(_))),
            "{nowhere:?}"
        );
        assert_eq!(boot_b.unwrap(), 1);
        t.done().await;
    }

    #[tokio::test]
    async fn a_status_for_a_missing_station_fails_alone_and_the_others_are_committed() {
        let t = TestDb::new().await;
        let a = station(&t, "GS-A").await;
        let b = station(&t, "GS-B").await;
        let missing = "0123456789abcdef01234567";
        let writer = GroupCommit::spawn(t.db.clone(), 512);
        let (for_a, for_missing, for_b) = tokio::join!(
            writer.record_connector_status(&a, status(1, "Available"), BASE),
            writer.record_connector_status(missing, status(1, "Available"), BASE),
            writer.record_connector_status(&b, status(1, "Charging"), BASE),
        );
        for_a.unwrap();
        assert!(
            matches!(for_missing, Err(ModelError::NotFound(_))),
            "{for_missing:?}"
        );
        for_b.unwrap();
        for (id, expected) in [(&a, "Available"), (&b, "Charging")] {
            let stored = chargestations::get(&t.db, id).await.unwrap();
            assert_eq!(stored.connectors, [status(1, expected)]);
            let events = crate::events::for_chargestation(&t.db, id).await.unwrap();
            assert_eq!(events.len(), 1, "the rolled back group left no event");
        }
        assert!(crate::events::for_chargestation(&t.db, missing)
            .await
            .unwrap()
            .is_empty());
        t.done().await;
    }

    #[tokio::test]
    async fn connects_and_disconnects_in_a_group_see_the_statuses_before_them_and_are_seen_by_those_after(
    ) {
        let t = TestDb::new().await;
        let id = station(&t, "GS-1").await;
        let writer = GroupCommit::spawn(t.db.clone(), 512);
        let (s1, connected, s2, disconnected, s3) = tokio::join!(
            writer.record_connector_status(&id, status(1, "Available"), BASE),
            writer.mark_connected(&id, BASE, "here"),
            writer.record_connector_status(&id, status(1, "Charging"), BASE),
            writer.mark_disconnected(&id, 1, BASE),
            writer.record_connector_status(&id, status(2, "Unavailable"), BASE),
        );
        s1.unwrap();
        assert_eq!(connected.unwrap(), 1);
        s2.unwrap();
        assert!(disconnected.unwrap());
        s3.unwrap();
        assert_eq!(writer.batches(), 1, "one group");

        let events = crate::events::for_chargestation(&t.db, &id).await.unwrap();
        let summary: Vec<(String, bool, Connectors)> = events
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_owned(),
                    e["data"]["online"].as_bool().unwrap(),
                    connectors(e),
                )
            })
            .collect();
        let updated = "chargestation.connector_status.updated".to_owned();
        assert_eq!(
            summary,
            [
                (updated.clone(), false, vec![pair(1, "Available")]),
                (
                    "chargestation.online".into(),
                    true,
                    vec![pair(1, "Available")]
                ),
                (updated.clone(), true, vec![pair(1, "Charging")]),
                (
                    "chargestation.offline".into(),
                    false,
                    vec![pair(1, "Charging")]
                ),
                (
                    updated,
                    false,
                    vec![pair(1, "Charging"), pair(2, "Unavailable")]
                ),
            ]
        );
        let stored = chargestations::get(&t.db, &id).await.unwrap();
        assert!(!stored.online);
        assert_eq!(stored.connection_generation, 1);
        assert_eq!(
            stored.connectors,
            [status(1, "Charging"), status(2, "Unavailable")]
        );
        t.done().await;
    }
}

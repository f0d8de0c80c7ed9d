//! One worker task per chargestation with queued commands. It sends the oldest queued
//! command when the charger is connected (only a reset while the queue is held after
//! `RebootRequired`), waits for it to finish, pauses for the configured gap, and goes on;
//! with nothing left it ends. Wake-ups come from new commands and from the gateway's
//! connection and boot events; none is lost (`Notify` keeps a permit).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, Notify};

use crate::{commands, DispatchError, Dispatcher};

/// The running workers, by station id.
#[derive(Default)]
pub(crate) struct Queues {
    workers: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Queues {
    /// Nudges the station's worker if it runs.
    pub(crate) async fn wake_if_running(&self, station_id: &str) {
        if let Some(notify) = self.workers.lock().await.get(station_id) {
            notify.notify_one();
        }
    }

    /// Nudges every worker.
    pub(crate) async fn wake_all(&self) {
        for notify in self.workers.lock().await.values() {
            notify.notify_one();
        }
    }
}

/// Starts the station's worker, or nudges it if it runs.
pub(crate) async fn wake(dispatcher: &Dispatcher, station_id: &str) {
    let mut workers = dispatcher.inner.queues.workers.lock().await;
    if let Some(notify) = workers.get(station_id) {
        notify.notify_one();
        return;
    }
    let notify = Arc::new(Notify::new());
    workers.insert(station_id.to_owned(), notify.clone());
    tokio::spawn(run(dispatcher.clone(), station_id.to_owned(), notify));
}

enum Step {
    /// A command finished: pause for the gap, then look again.
    Worked,
    /// Something is queued but cannot go yet (offline, or held): wait for a nudge.
    Wait,
    /// Nothing queued.
    Empty,
}

async fn step(dispatcher: &Dispatcher, station_id: &str) -> Result<Step, DispatchError> {
    let db = dispatcher.db();
    let Some(station) = model::chargestations::find(db, station_id).await? else {
        model::actions::cancel_queued(
            db,
            station_id,
            "the chargestation was deleted before this command was sent",
        )
        .await?;
        return Ok(Step::Empty);
    };
    let Some(action) = model::actions::next_queued(db, &station.id, station.queue_held).await?
    else {
        return Ok(
            if station.queue_held && model::actions::has_queued(db, &station.id).await? {
                Step::Wait
            } else {
                Step::Empty
            },
        );
    };
    // Only the instance holding the connection sends, and only when no command of the
    // station is on the wire anywhere (single flight across instances).
    if !dispatcher.gateway().is_connected(&station.id)
        || model::actions::has_in_flight(db, &station.id).await?
    {
        return Ok(Step::Wait);
    }
    commands::run(dispatcher, action).await?;
    Ok(Step::Worked)
}

async fn run(dispatcher: Dispatcher, station_id: String, notify: Arc<Notify>) {
    let shutdown = dispatcher.inner.shutdown.clone();
    let gap = dispatcher.inner.config.command_gap;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        // On shutdown a command on the wire is abandoned, not recorded: the next start
        // ends it `failed` with `Interrupted` (CONTRACT §8).
        let result = tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            result = step(&dispatcher, &station_id) => result,
        };
        match result {
            Ok(Step::Worked) => {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(gap) => {}
                }
            }
            Ok(Step::Wait) => {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = notify.notified() => {}
                }
            }
            Ok(Step::Empty) => {
                let mut workers = dispatcher.inner.queues.workers.lock().await;
                match model::actions::has_queued(dispatcher.db(), &station_id).await {
                    Ok(false) => {
                        workers.remove(&station_id);
                        return;
                    }
                    Ok(true) => {}
                    Err(e) => tracing::warn!(station_id, error = %e, "queue check failed"),
                }
            }
            Err(e) => {
                tracing::error!(station_id, error = %e, "command queue step failed; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = notify.notified() => {}
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

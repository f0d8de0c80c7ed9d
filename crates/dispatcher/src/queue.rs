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
    let worker = run(dispatcher.clone(), station_id.to_owned(), notify);
    match &dispatcher.inner.runtime {
        Some(runtime) => drop(runtime.spawn(worker)),
        None => drop(tokio::spawn(worker)),
    }
}

enum Step {
    /// A command finished: pause for the gap, then look again — if others were queued
    /// behind it (`more_queued`) or a wake-up came meanwhile (see [`stop_unless_woken`]).
    Worked { more_queued: bool },
    /// Something is queued but cannot go yet (offline, or held): wait for a nudge.
    Wait,
    /// Nothing queued.
    Empty,
}

/// One look at the station's queue (one statement) and, when a command may go, its
/// execution.
async fn step(dispatcher: &Dispatcher, station_id: &str) -> Result<Step, DispatchError> {
    let db = dispatcher.db();
    let Some(queue) = model::actions::queue_head(db, station_id).await? else {
        model::actions::cancel_queued(
            db,
            station_id,
            "the chargestation was deleted before this command was sent",
        )
        .await?;
        return Ok(Step::Empty);
    };
    let Some(action) = queue.next else {
        // Queued but held after `RebootRequired` (not a reset): wait for the boot.
        return Ok(if queue.queued > 0 {
            Step::Wait
        } else {
            Step::Empty
        });
    };
    // Only the instance holding the connection sends, and only when no command of the
    // station is on the wire anywhere (single flight across instances).
    if !dispatcher.gateway().is_connected(station_id) || queue.in_flight {
        return Ok(Step::Wait);
    }
    commands::run(dispatcher, action).await?;
    Ok(Step::Worked {
        more_queued: queue.queued > 1,
    })
}

/// Ends the worker (returns `true`) unless a wake-up came since its last look at the
/// queue.
///
/// Every enqueue is followed by a wake-up, under the workers' lock taken here: one
/// before this point left a permit and the worker looks again; one after it finds no
/// worker and starts a new one. So an action queued since the last look (which saw
/// nothing else queued) never waits without a worker, and no statement is needed to
/// make sure.
async fn stop_unless_woken(dispatcher: &Dispatcher, station_id: &str, notify: &Notify) -> bool {
    let mut workers = dispatcher.inner.queues.workers.lock().await;
    let woken = tokio::select! {
        biased;
        () = notify.notified() => true,
        () = std::future::ready(()) => false,
    };
    if !woken {
        workers.remove(station_id);
    }
    !woken
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
            Ok(Step::Worked { more_queued }) => {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(gap) => {}
                }
                if !more_queued && stop_unless_woken(&dispatcher, &station_id, &notify).await {
                    return;
                }
            }
            Ok(Step::Wait) => {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = notify.notified() => {}
                }
            }
            Ok(Step::Empty) => {
                if stop_unless_woken(&dispatcher, &station_id, &notify).await {
                    return;
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use model::{Db, DbOptions};
    use ocpp_gateway::{Gateway, GatewayConfig, Metrics};
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::DispatcherConfig;

    /// An API call wakes a station's worker from an HTTP worker's runtime. The worker
    /// must not live there: had it died with that runtime, its entry would stay in the
    /// registry and every later wake-up would nudge a worker that no longer runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_worker_woken_from_another_runtime_outlives_it() {
        let dir = std::env::temp_dir().join(format!("csms-queue-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("csms.db").display());
        let db = Db::connect(&DbOptions::new(url)).await.unwrap();
        let shutdown = CancellationToken::new();
        let gateway = Gateway::new(
            db.clone(),
            GatewayConfig::default(),
            Metrics::new().unwrap(),
            shutdown.clone(),
        );
        let dispatcher = Dispatcher::new(
            db.clone(),
            gateway,
            DispatcherConfig::default(),
            shutdown.clone(),
        );
        let waker = dispatcher.clone();
        tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(wake(&waker, "no-such-station"));
            // The runtime stops here, with whatever was spawned on it.
        })
        .await
        .unwrap();
        // The worker finds nothing queued for the station and leaves the registry.
        let deadline = Instant::now() + Duration::from_secs(10);
        while dispatcher
            .inner
            .queues
            .workers
            .lock()
            .await
            .contains_key("no-such-station")
        {
            assert!(
                Instant::now() < deadline,
                "the worker died with the runtime that woke it"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        shutdown.cancel();
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

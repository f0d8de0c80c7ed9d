//! Several instances on one PostgreSQL database. Each instance registers itself and
//! keeps a heartbeat; dead instances' chargers and commands on the wire are released by
//! the survivors. Work for a charger connected to another instance reaches it as a
//! PostgreSQL `NOTIFY` (`model::notify`), and a charger that reconnects elsewhere makes
//! its old instance close the stale socket. On SQLite there is one instance per
//! database, so every other registered instance is a previous run and is released at
//! start-up.

use std::time::Duration;

use model::notify::{self, Signal};

use crate::{queue, DispatchError, Dispatcher};

fn lease_ms(dispatcher: &Dispatcher) -> i64 {
    i64::try_from(dispatcher.inner.config.instance_lease.as_millis()).unwrap_or(i64::MAX)
}

/// Registers this instance and releases what dead instances (or, on SQLite, previous
/// runs) held.
pub(crate) async fn join(dispatcher: &Dispatcher) -> Result<(), DispatchError> {
    let db = dispatcher.db();
    let me = dispatcher.gateway().instance_id().to_owned();
    model::instances::register(db, &me).await?;
    let released = model::instances::reap(
        db,
        &me,
        lease_ms(dispatcher),
        !db.is_postgres(),
        dispatcher.gateway().public_base_url(),
    )
    .await?;
    if !released.stations.is_empty() || !released.interrupted.is_empty() {
        tracing::warn!(
            offline = released.stations.len(),
            interrupted = released.interrupted.len(),
            "released chargers and commands left by a stopped instance"
        );
    }
    Ok(())
}

/// Tells the instance holding the station's connection that it has work (PostgreSQL).
pub(crate) async fn tell_others(dispatcher: &Dispatcher, station_id: &str) {
    let signal = Signal::Wake {
        station_id: station_id.to_owned(),
    };
    if let Err(e) = notify::publish(dispatcher.db(), &signal).await {
        tracing::warn!(station_id, error = %e, "could not signal the other instances");
    }
}

/// Follows the other instances' signals until shutdown.
pub(crate) async fn listen(dispatcher: Dispatcher) {
    let shutdown = dispatcher.inner.shutdown.clone();
    let mut listener = match notify::listen(dispatcher.db()).await {
        Ok(Some(listener)) => listener,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "cannot LISTEN for other instances' signals; relying on periodic checks");
            return;
        }
    };
    loop {
        let signal = tokio::select! {
            () = shutdown.cancelled() => return,
            signal = listener.recv() => signal,
        };
        match signal {
            Ok(Signal::Wake { station_id }) => {
                if dispatcher.gateway().is_connected(&station_id) {
                    queue::wake(&dispatcher, &station_id).await;
                }
            }
            Ok(Signal::Takeover {
                station_id,
                generation,
            }) => {
                dispatcher.gateway().close_if_older(&station_id, generation);
            }
            Err(e) => {
                tracing::warn!(error = %e, "lost the LISTEN connection; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

/// Keeps this instance's heartbeat, releases dead instances' chargers and commands, and
/// re-checks the queues of locally connected chargers (covering lost signals). On
/// shutdown the instance deregisters, so the others release it at once.
pub(crate) async fn heartbeat(dispatcher: Dispatcher) {
    let shutdown = dispatcher.inner.shutdown.clone();
    let every = dispatcher.inner.config.instance_lease / 3;
    let me = dispatcher.gateway().instance_id().to_owned();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
        let db = dispatcher.db();
        if let Err(e) = model::instances::heartbeat(db, &me).await {
            tracing::warn!(error = %e, "instance heartbeat failed");
            continue;
        }
        if !db.is_postgres() {
            continue;
        }
        match model::instances::reap(
            db,
            &me,
            lease_ms(&dispatcher),
            false,
            dispatcher.gateway().public_base_url(),
        )
        .await
        {
            Ok(released) => {
                for station_id in released.interrupted {
                    queue::wake(&dispatcher, &station_id).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "releasing dead instances failed"),
        }
        dispatcher.inner.queues.wake_all().await;
    }
    if let Err(e) = model::instances::deregister(dispatcher.db(), &me).await {
        tracing::warn!(error = %e, "could not deregister this instance");
    }
}

//! The dispatcher: turns API calls into OCPP commands and follows them to their end.
//!
//! - [`commands`]: one file per command type — its checks before anything is queued and
//!   its execution on the wire — and one table (`commands::execute`).
//! - [`queue`]: one FIFO per chargestation, persisted as actions: one command in flight,
//!   the next only after the previous one finished plus a gap, held after
//!   `RebootRequired` until the charger boots again.
//! - [`webhooks`]: delivers outbox events to webhook endpoints — signed, ordered per
//!   chargestation and endpoint, retried for about three days.
//!
//! It reaches chargers only through the narrow [`Gateway`] handle and stores state only
//! through `model`; it never touches a socket itself.

mod cluster;
pub mod commands;
mod error;
mod queue;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use model::config::DesiredProfile;
use model::Db;
use ocpp_gateway::{Gateway, GatewayEvent};
use tokio_util::sync::CancellationToken;

pub use error::DispatchError;

/// The dispatcher's settings, a slice of the binary's `Settings`.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// How long to wait for a charger's answer.
    pub call_timeout: Duration,
    /// Pause after each finished command before the next one to the same charger.
    pub command_gap: Duration,
    /// Read a key back after `Accepted`.
    pub verify_changes: bool,
    /// Request a full configuration upload after a charger's first boot.
    pub fetch_configuration_on_boot: bool,
    /// The most unfinished commands one chargestation may have (429 beyond).
    pub max_queue: u64,
    /// The desired-configuration profile.
    pub desired: DesiredProfile,
    /// How long an instance may miss heartbeats before the others release what it held.
    pub instance_lease: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            call_timeout: Duration::from_secs(30),
            command_gap: Duration::from_secs(1),
            verify_changes: true,
            fetch_configuration_on_boot: true,
            max_queue: 100,
            desired: DesiredProfile::default(),
            instance_lease: Duration::from_secs(30),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) gateway: Gateway,
    pub(crate) config: DispatcherConfig,
    pub(crate) shutdown: CancellationToken,
    /// Write-only values (AuthorizationKey) waiting to be sent, by action id: kept in
    /// memory only, never stored.
    pub(crate) secrets: Mutex<HashMap<String, String>>,
    pub(crate) queues: queue::Queues,
    /// The runtime the stations' workers run on: the one the dispatcher was made on (the
    /// server's main runtime), never an HTTP worker's, whose API call woke the worker —
    /// those are single-threaded and stop first at shutdown (ADR 0010). `None` outside
    /// a runtime: then the caller's.
    pub(crate) runtime: Option<tokio::runtime::Handle>,
}

/// A cheap, cloneable handle to the dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    pub(crate) inner: Arc<Inner>,
}

impl Dispatcher {
    /// A dispatcher over the database and the charger gateway.
    pub fn new(
        db: Db,
        gateway: Gateway,
        config: DispatcherConfig,
        shutdown: CancellationToken,
    ) -> Dispatcher {
        Dispatcher {
            inner: Arc::new(Inner {
                db,
                gateway,
                config,
                shutdown,
                secrets: Mutex::new(HashMap::new()),
                queues: queue::Queues::default(),
                runtime: tokio::runtime::Handle::try_current().ok(),
            }),
        }
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The gateway handle.
    pub fn gateway(&self) -> &Gateway {
        &self.inner.gateway
    }

    /// The desired-configuration profile.
    pub fn desired_profile(&self) -> &DesiredProfile {
        &self.inner.config.desired
    }

    /// Start-up: registers this instance, releases what dead instances held (their
    /// commands on the wire end `Interrupted`), resumes queued commands, and follows the
    /// gateway's events and the other instances' signals. Returns the task doing that.
    ///
    /// # Errors
    /// On database failure.
    pub async fn start(&self) -> Result<tokio::task::JoinHandle<()>, DispatchError> {
        cluster::join(self).await?;
        for station_id in model::actions::stations_with_queued(self.db()).await? {
            queue::wake(self, &station_id).await;
        }
        let mut events = self.inner.gateway.subscribe();
        let this = self.clone();
        let follow = async move {
            loop {
                let event = tokio::select! {
                    () = this.inner.shutdown.cancelled() => return,
                    event = events.recv() => event,
                };
                match event {
                    Ok(event) => this.on_gateway_event(event).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "dispatcher lagged behind gateway events; waking every queue"
                        );
                        this.inner.queues.wake_all().await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        };
        let listen = cluster::listen(self.clone());
        let heartbeat = cluster::heartbeat(self.clone());
        Ok(tokio::spawn(async move {
            tokio::join!(follow, listen, heartbeat);
        }))
    }

    async fn on_gateway_event(&self, event: GatewayEvent) {
        match event {
            GatewayEvent::Connected { station_id } | GatewayEvent::Disconnected { station_id } => {
                self.inner.queues.wake_if_running(&station_id).await;
            }
            GatewayEvent::Booted {
                station_id,
                boot_count,
            } => {
                if boot_count == 1 && self.inner.config.fetch_configuration_on_boot {
                    if let Err(e) =
                        commands::get_configuration::queue(self, &station_id, Vec::new(), None)
                            .await
                    {
                        tracing::warn!(station_id, error = %e, "could not request the configuration after the first boot");
                    }
                }
                self.inner.queues.wake_if_running(&station_id).await;
            }
        }
    }

    /// Makes sure the station's queue worker runs and looks at its queue, here and (on
    /// PostgreSQL) on the instance that holds the charger's connection.
    pub(crate) async fn wake(&self, station_id: &str) {
        queue::wake(self, station_id).await;
        cluster::tell_others(self, station_id).await;
    }

    /// A station is about to be deleted: its never-sent commands end `failed`
    /// (`Cancelled`) and its connection is closed.
    ///
    /// # Errors
    /// On database failure.
    pub async fn station_deleted(&self, station_id: &str) -> Result<(), DispatchError> {
        model::actions::cancel_queued(
            self.db(),
            station_id,
            "the chargestation was deleted before this command was sent",
        )
        .await?;
        self.inner.gateway.disconnect(station_id);
        self.inner.queues.wake_if_running(station_id).await;
        Ok(())
    }

    /// A station was deactivated. Its connection stays; new commands are refused (406).
    pub fn station_deactivated(&self, station_id: &str) {
        tracing::info!(station_id, "chargestation deactivated");
    }
}

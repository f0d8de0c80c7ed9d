//! The charger side of csms: the OCPP 1.6J WebSocket gateway.
//!
//! The listener with its TLS (`listener`), the handshake (`upgrade`), one task per
//! connection (`connection`), the session registry
//! (`registry`), inbound handlers with one file per action (`handlers`), and the
//! outbound `Gateway` handle with one CALL in flight per charger (`gateway`), and the
//! capture of every frame for the message log, written in batches off the connection
//! task (`message_log`).
//! The gateway does not decide what to send to chargers — the dispatcher does — and it
//! makes no HTTP requests of its own.

mod config;
mod connection;
mod error;
mod gateway;
pub mod handlers;
mod listener;
pub mod message_log;
mod metrics;
mod registry;
mod upgrade;

use std::sync::Arc;

use model::group_commit::{self, GroupCommit};
use model::Db;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use config::GatewayConfig;
pub use error::CallFailure;
pub use gateway::{Gateway, GatewayEvent};
pub use listener::{common_name, REQUEST_TIMEOUT};
pub use metrics::{Metrics, MetricsError};
pub use upgrade::{identity_from_path, VerifiedClientCertificate, MAX_HEAD_BYTES, SUBPROTOCOL};

/// State shared by the handshake, every connection task and the `Gateway` handle.
pub(crate) struct Shared {
    pub(crate) db: Db,
    pub(crate) config: GatewayConfig,
    pub(crate) shutdown: CancellationToken,
    pub(crate) metrics: Metrics,
    /// Failed handshake authentications per source address.
    pub(crate) auth_limiter: model::auth_limit::AuthLimiter,
    /// Connections and boots, committed in groups (a reconnect storm).
    pub(crate) group_commit: GroupCommit,
}

impl Gateway {
    /// A gateway over `db` counting into `metrics`; `shutdown` closes every connection
    /// when cancelled. Starts the group commit of connections and boots on the current
    /// tokio runtime.
    pub fn new(
        db: Db,
        config: GatewayConfig,
        metrics: Metrics,
        shutdown: CancellationToken,
    ) -> Gateway {
        let (events, _) = broadcast::channel(4096);
        Gateway {
            registry: Default::default(),
            events,
            shared: Arc::new(Shared {
                group_commit: GroupCommit::spawn(db.clone(), group_commit::DEFAULT_MAX_BATCH),
                db,
                config,
                shutdown,
                metrics,
                auth_limiter: Default::default(),
            }),
        }
    }

    /// The process's metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }
}

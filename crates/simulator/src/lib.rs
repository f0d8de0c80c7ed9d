//! A simulated OCPP 1.6J charger, for end-to-end tests, demos and load tests, and for
//! teams without hardware (the `csms-sim` binary).
//!
//! ```no_run
//! # async fn demo() -> Result<(), simulator::SimError> {
//! use simulator::{Charger, ChargerConfig};
//! let charger = Charger::connect(ChargerConfig::new("ws://127.0.0.1:9000/ocpp", "CP001")).await?;
//! let answer = charger.boot().await?;
//! assert_eq!(answer["status"], "Accepted");
//! # Ok(()) }
//! ```
//!
//! A [`Charger`] answers the server's CALLs on its own (GetConfiguration and
//! ChangeConfiguration from its configuration store, Reset with a real reconnect and
//! boot, ...) unless [`ChargerConfig::auto_answer`] is off, and records everything the
//! server sent for tests to inspect.
//!
//! This crate depends on no workspace crate but `ocpp`; it knows nothing of the server's
//! internals and speaks only OCPP-J over `ws://` (no TLS).

mod charger;
mod config;
mod connection;
mod error;
mod handlers;
mod pong_filter;
mod sessions;

pub use charger::Charger;
pub use config::{realistic_keys, ChargerConfig, ConfigKey, KeyBehaviour, AUTHORIZATION_KEY};
pub use error::SimError;

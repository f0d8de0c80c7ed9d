//! The domain model and data layer of csms: ids, chargestations, API keys, the event
//! outbox, and the database handle.
//!
//! `model` does no network I/O besides the database, and knows nothing of actix,
//! HTTP clients or OCPP framing.

pub mod actions;
pub mod api_keys;
pub mod auth_limit;
pub mod chargestations;
pub mod config;
mod conn;
mod db;
pub mod entities;
mod error;
pub mod events;
pub mod group_commit;
pub mod guide;
pub mod ids;
pub mod instances;
pub mod message_log;
pub mod metrics;
pub mod notifications;
pub mod notify;
pub mod page;
pub mod password;
mod sql;
mod sqlite;
pub mod time;
pub mod tokens;
pub mod transactions;
pub mod webhooks;

pub use conn::{Conn, Txn};
pub use db::{drop_schema, Db, DbOptions};
pub use error::{ModelError, ModelResult};

#[cfg(test)]
mod guide_examples;
#[cfg(test)]
mod test_db;

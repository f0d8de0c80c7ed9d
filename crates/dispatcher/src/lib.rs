//! The dispatcher: turns API calls into OCPP commands and follows them to their end,
//! and (later) delivers webhook events from the outbox.
//!
//! It reaches chargers only through the narrow [`Gateway`] handle and stores state only
//! through `model`; it never touches a socket itself.

use model::{Db, ModelResult};
use ocpp_gateway::Gateway;

/// A cheap, cloneable handle to the dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    gateway: Gateway,
}

impl Dispatcher {
    /// A dispatcher over the database and the charger gateway.
    pub fn new(db: Db, gateway: Gateway) -> Dispatcher {
        Dispatcher { db, gateway }
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The gateway handle.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// A station is about to be deleted: close its connection.
    ///
    /// # Errors
    /// On database failure.
    pub async fn station_deleted(&self, station_id: &str) -> ModelResult<()> {
        self.gateway.disconnect(station_id);
        Ok(())
    }

    /// A station was deactivated. Its connection stays; commands are refused (406).
    pub fn station_deactivated(&self, station_id: &str) {
        tracing::info!(station_id, "chargestation deactivated");
    }
}

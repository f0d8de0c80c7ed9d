//! The csms binary's library half: settings, logging, and start-up wiring, so tests can
//! run the real application on port 0.

mod settings;
mod startup;
pub mod telemetry;
pub mod tls;

pub use settings::{Settings, SettingsError};
pub use startup::{build, build_with_db, App, StartError};

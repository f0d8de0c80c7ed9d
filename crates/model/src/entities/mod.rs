//! sea-orm entities, one per table of `migrations`. Columns mirror the migration exactly;
//! JSON lives in text columns and times are Unix milliseconds.

pub mod action;
pub mod api_key;
pub mod chargestation;
pub mod event;
pub mod instance;
pub mod message_log;
pub mod meter_value;
pub mod token;
pub mod transaction;
pub mod webhook_delivery;
pub mod webhook_endpoint;

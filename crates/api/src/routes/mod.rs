//! Route handlers, one module per resource.

pub mod actions;
pub mod chargestations;
pub mod commands;
pub mod configurations;
pub mod health;
pub mod messages;
pub mod metrics;
pub mod tokens;
pub mod transactions;
pub mod webhooks;

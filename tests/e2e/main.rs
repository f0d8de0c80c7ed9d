//! End-to-end tests: the real application on port 0, simulated chargers, real HTTP.
//! One test binary (one link) with a module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth_limit;
mod chargestations_api;
mod cluster;
mod commands;
mod configuration;
mod console;
mod gateway_calls;
mod golden_frames;
mod group_commit;
mod handlers;
mod handshake;
mod hostile;
mod messages;
mod metrics;
mod migrations;
mod openapi;
mod schemas;
mod tls;
mod tokens;
mod transactions;
mod webhooks;

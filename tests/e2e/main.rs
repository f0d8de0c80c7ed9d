//! End-to-end tests: the real application on port 0, simulated chargers, real HTTP.
//! One test binary (one link) with a module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chargestations_api;
mod gateway_calls;
mod handlers;
mod handshake;

//! The benchmark suite of issue 10 (`csms-bench` and `bench-baseline`).
//!
//! - [`load`]: the load generator — N lean OCPP 1.6J chargers over tokio-tungstenite
//!   that boot, send Heartbeats (fixed rate or back-to-back, one outstanding CALL each)
//!   or StatusNotifications, and answer the server's CALLs.
//! - [`baseline`]: the bare WebSocket server every figure is compared with.
//! - [`server`]: starts `csms` (SQLite file or a fresh PostgreSQL schema) or the
//!   baseline as a subprocess; [`proc_stats`] reads its RSS and CPU time from `/proc`.
//! - [`receiver`]: a local webhook receiver; [`rest`]: the few REST calls the scenarios
//!   make.
//! - [`scenarios`] and [`report`]: the scenario runner writing `BENCHMARKS.md`.
//!
//! The crate depends on no workspace crate but `ocpp`: it measures csms from the
//! outside, over loopback, as a real deployment would see it.

pub mod baseline;
pub mod error;
pub mod load;
pub mod machine;
pub mod proc_stats;
pub mod receiver;
pub mod report;
pub mod rest;
pub mod scenarios;
pub mod server;
pub mod stats;

pub use error::BenchError;

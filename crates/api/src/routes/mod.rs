//! Route handlers, one module per resource.

pub mod chargestations;
pub mod health;

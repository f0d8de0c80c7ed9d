//! Chargestation configuration: the OCPP 1.6 key catalogue, the desired-configuration
//! profile, and the `/configurations/details` and drift views (CONTRACT §4, §8).
//!
//! Pure data and functions, no I/O:
//! - [`catalogue`]: every standard key with its category, value type, access, unit and
//!   description; [`lookup`], [`KeyInfo::validate`], write-only masking ([`MASK`]).
//! - [`desired`]: [`DesiredProfile`] (default = eDRV's recommended configuration),
//!   [`matches()`] and [`to_wire_value`].
//! - [`details`](mod@details): [`ReportedKey`] uploads turned into [`ConfigurationDetail`]
//!   rows and [`DriftItem`]s.

pub mod catalogue;
pub mod desired;
pub mod details;

#[cfg(test)]
mod tests;

pub use catalogue::{
    is_write_only, lookup, masked, Access, Category, KeyInfo, ValueType, CATALOGUE,
    CHARGING_RATE_UNITS, FEATURE_PROFILES, MASK, MEASURANDS, PHASES, PHASE_ROTATIONS,
    SHOWN_AS_UNKNOWN,
};
pub use desired::{matches, to_wire_value, DesiredEntry, DesiredProfile, RECOMMENDED_MEASURANDS};
pub use details::{
    details, drift, ConfigurationDetail, DriftItem, ReportedKey, NOT_DEFINED, UNKNOWN,
};

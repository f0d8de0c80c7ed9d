//! Types shared by the Smart Charging actions (SetChargingProfile, ClearChargingProfile,
//! GetCompositeSchedule) and RemoteStartTransaction: charging profiles and schedules.
//!
//! Read leniently, written in exact OCPP spelling, checked strictly ([`Validate`]) when
//! an API body becomes one of them. No I/O.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::lenient_enum;
use crate::strict::{Check, Validate};

lenient_enum! {
    /// What a charging profile is for.
    pub enum ChargingProfilePurpose {
        ChargePointMaxProfile,
        TxDefaultProfile,
        TxProfile,
    }
}

lenient_enum! {
    /// How a charging profile's schedule is placed in time.
    pub enum ChargingProfileKind {
        Absolute,
        Recurring,
        Relative,
    }
}

lenient_enum! {
    /// How often a recurring profile repeats.
    pub enum RecurrencyKind {
        Daily,
        Weekly,
    }
}

lenient_enum! {
    /// The unit of a schedule's limits: amperes or watts.
    pub enum ChargingRateUnit {
        A,
        W,
    }
}

/// One period of a charging schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingSchedulePeriod {
    /// Seconds from the start of the schedule.
    #[serde(deserialize_with = "lenient::int")]
    pub start_period: i32,
    /// The limit, in the schedule's unit (one decimal).
    #[serde(deserialize_with = "lenient::decimal")]
    pub limit: f64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub number_phases: Option<i32>,
}

/// A charging schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingSchedule {
    /// Seconds.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub duration: Option<i32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub start_schedule: Option<String>,
    pub charging_rate_unit: ChargingRateUnit,
    pub charging_schedule_period: Vec<ChargingSchedulePeriod>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_decimal"
    )]
    pub min_charging_rate: Option<f64>,
}

/// A charging profile (`csChargingProfiles` in SetChargingProfile).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfile {
    #[serde(deserialize_with = "lenient::int")]
    pub charging_profile_id: i32,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub transaction_id: Option<i32>,
    #[serde(deserialize_with = "lenient::int")]
    pub stack_level: i32,
    pub charging_profile_purpose: ChargingProfilePurpose,
    pub charging_profile_kind: ChargingProfileKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recurrency_kind: Option<RecurrencyKind>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub valid_from: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub valid_to: Option<String>,
    pub charging_schedule: ChargingSchedule,
}

/// Whether `value` is a multiple of 0.1 (the schema's `multipleOf`).
fn one_decimal(value: f64) -> bool {
    let tenths = value * 10.0;
    (tenths - tenths.round()).abs() < 1e-6
}

impl Validate for ChargingSchedulePeriod {
    fn validate(&self, check: &mut Check) {
        check.min("startPeriod", self.start_period.into(), 0);
        if !one_decimal(self.limit) || self.limit < 0.0 {
            check.fail(
                "limit",
                "must be a non-negative number with at most one decimal",
            );
        }
        if let Some(phases) = self.number_phases {
            if !(1..=3).contains(&phases) {
                check.fail("numberPhases", "must be 1, 2 or 3");
            }
        }
    }
}

impl Validate for ChargingSchedule {
    fn validate(&self, check: &mut Check) {
        check.opt_min("duration", self.duration.map(i64::from), 0);
        check.opt_date_time("startSchedule", self.start_schedule.as_deref());
        check.known(
            "chargingRateUnit",
            self.charging_rate_unit.is_known(),
            ChargingRateUnit::KNOWN,
        );
        if self.charging_schedule_period.is_empty() {
            check.fail("chargingSchedulePeriod", "must have at least one period");
        }
        check.each("chargingSchedulePeriod", &self.charging_schedule_period);
        if let Some(rate) = self.min_charging_rate {
            if !one_decimal(rate) || rate < 0.0 {
                check.fail(
                    "minChargingRate",
                    "must be a non-negative number with at most one decimal",
                );
            }
        }
    }
}

impl Validate for ChargingProfile {
    fn validate(&self, check: &mut Check) {
        check.min("stackLevel", self.stack_level.into(), 0);
        check.known(
            "chargingProfilePurpose",
            self.charging_profile_purpose.is_known(),
            ChargingProfilePurpose::KNOWN,
        );
        check.known(
            "chargingProfileKind",
            self.charging_profile_kind.is_known(),
            ChargingProfileKind::KNOWN,
        );
        if let Some(kind) = &self.recurrency_kind {
            check.known("recurrencyKind", kind.is_known(), RecurrencyKind::KNOWN);
        }
        if self.charging_profile_kind == ChargingProfileKind::Recurring
            && self.recurrency_kind.is_none()
        {
            check.fail("recurrencyKind", "is required for a Recurring profile");
        }
        check.opt_date_time("validFrom", self.valid_from.as_deref());
        check.opt_date_time("validTo", self.valid_to.as_deref());
        if self.transaction_id.is_some()
            && self.charging_profile_purpose != ChargingProfilePurpose::TxProfile
        {
            check.fail("transactionId", "is only allowed in a TxProfile");
        }
        check.nested("chargingSchedule", &self.charging_schedule);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::strict::from_api;
    use crate::testing::round_trip;

    fn profile() -> serde_json::Value {
        json!({
            "chargingProfileId": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validFrom": "2024-05-01T00:00:00Z",
            "chargingSchedule": {
                "duration": 86400,
                "startSchedule": "2024-05-01T00:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 3600, "limit": 6.5}
                ],
                "minChargingRate": 6.0
            }
        })
    }

    #[test]
    fn a_full_profile_round_trips_and_is_valid() {
        let p: ChargingProfile = round_trip(profile());
        assert_eq!(p.charging_schedule.charging_schedule_period.len(), 2);
        from_api::<ChargingProfile>(&profile()).unwrap();
    }

    #[test]
    fn nested_problems_name_their_path() {
        let mut body = profile();
        body["chargingSchedule"]["chargingSchedulePeriod"][1]["limit"] = json!(6.55);
        let err = from_api::<ChargingProfile>(&body).unwrap_err();
        assert_eq!(
            err.field,
            "chargingSchedule.chargingSchedulePeriod[1].limit"
        );
        let mut body = profile();
        body["chargingSchedule"]["chargingRateUnit"] = json!("kW");
        let err = from_api::<ChargingProfile>(&body).unwrap_err();
        assert_eq!(err.field, "chargingSchedule.chargingRateUnit");
    }
}

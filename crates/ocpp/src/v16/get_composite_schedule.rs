//! GetCompositeSchedule (us → charger): the schedule a connector will follow for the
//! next `duration` seconds, all profiles combined.

use serde::{Deserialize, Serialize};

use super::smart_charging::{ChargingRateUnit, ChargingSchedule};
use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The charger's answer to GetCompositeSchedule.
    pub enum GetCompositeScheduleStatus {
        Accepted,
        Rejected,
    }
}

/// GetCompositeSchedule.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCompositeScheduleRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub connector_id: i32,
    /// Seconds.
    #[serde(deserialize_with = "lenient::int")]
    pub duration: i32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub charging_rate_unit: Option<ChargingRateUnit>,
}

/// GetCompositeSchedule.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCompositeScheduleResponse {
    pub status: GetCompositeScheduleStatus,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub connector_id: Option<i32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub schedule_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub charging_schedule: Option<ChargingSchedule>,
}

impl OcppRequest for GetCompositeScheduleRequest {
    const ACTION: &'static str = "GetCompositeSchedule";
    type Response = GetCompositeScheduleResponse;
}

impl Validate for GetCompositeScheduleRequest {
    fn validate(&self, check: &mut Check) {
        check.min("connectorId", self.connector_id.into(), 0);
        check.min("duration", self.duration.into(), 0);
        if let Some(unit) = &self.charging_rate_unit {
            check.known("chargingRateUnit", unit.is_known(), ChargingRateUnit::KNOWN);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<GetCompositeScheduleRequest>(
            json!({"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"}),
        );
        let conf: GetCompositeScheduleResponse = round_trip(json!({
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": "2024-05-01T00:00:00Z",
            "chargingSchedule": {
                "duration": 3600,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]
            }
        }));
        assert_eq!(conf.connector_id, Some(1));
    }
}

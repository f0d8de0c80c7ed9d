//! BootNotification (charger → us): the charger announces itself after (re)booting
//! and learns whether it is registered, the server time and the heartbeat interval.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::{lenient_enum, OcppRequest};

ci_strings! {
    fn vendor("chargePointVendor", 20);
    fn model("chargePointModel", 20);
    fn cp_serial("chargePointSerialNumber", 25);
    fn box_serial("chargeBoxSerialNumber", 25);
    fn firmware("firmwareVersion", 50);
    fn iccid("iccid", 20);
    fn imsi("imsi", 20);
    fn meter_type("meterType", 25);
    fn meter_serial("meterSerialNumber", 25);
}

/// BootNotification.req.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotificationRequest {
    #[serde(deserialize_with = "vendor")]
    pub charge_point_vendor: String,
    #[serde(deserialize_with = "model")]
    pub charge_point_model: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "cp_serial"
    )]
    pub charge_point_serial_number: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "box_serial"
    )]
    pub charge_box_serial_number: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "firmware"
    )]
    pub firmware_version: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "iccid"
    )]
    pub iccid: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "imsi"
    )]
    pub imsi: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "meter_type"
    )]
    pub meter_type: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "meter_serial"
    )]
    pub meter_serial_number: Option<String>,
}

lenient_enum! {
    /// Whether the charger is accepted by us.
    pub enum RegistrationStatus {
        Accepted,
        Pending,
        Rejected,
    }
}

/// BootNotification.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotificationResponse {
    pub status: RegistrationStatus,
    /// Our current time (RFC 3339 date-time).
    #[serde(deserialize_with = "lenient::string")]
    pub current_time: String,
    /// Heartbeat interval (Accepted) or retry delay (Pending/Rejected), in seconds.
    #[serde(deserialize_with = "lenient::int")]
    pub interval: i32,
}

impl OcppRequest for BootNotificationRequest {
    const ACTION: &'static str = "BootNotification";
    type Response = BootNotificationResponse;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;
    use crate::{parse_payload, ErrorCode};

    #[test]
    fn request_with_every_field_round_trips() {
        let req: BootNotificationRequest = round_trip(json!({
            "chargePointVendor": "VendorX",
            "chargePointModel": "SingleSocketCharger",
            "chargePointSerialNumber": "CP-0001",
            "chargeBoxSerialNumber": "CB-0001",
            "firmwareVersion": "1.2.3",
            "iccid": "8931440400000000000",
            "imsi": "204080000000000",
            "meterType": "ABB B23",
            "meterSerialNumber": "M-77"
        }));
        assert_eq!(req.charge_point_vendor, "VendorX");
        assert_eq!(req.meter_serial_number.as_deref(), Some("M-77"));
    }

    #[test]
    fn minimal_request_round_trips() {
        let req: BootNotificationRequest =
            round_trip(json!({"chargePointVendor": "VendorX", "chargePointModel": "M1"}));
        assert_eq!(req.firmware_version, None);
    }

    #[test]
    fn over_long_and_extra_fields_are_accepted() {
        let vendor = "V".repeat(40);
        let req: BootNotificationRequest = parse_payload(&json!({
            "chargePointVendor": vendor,
            "chargePointModel": "M1",
            "somethingVendorSpecific": {"a": 1}
        }))
        .unwrap();
        assert_eq!(req.charge_point_vendor, vendor);
    }

    #[test]
    fn missing_model_is_a_protocol_error() {
        let err = parse_payload::<BootNotificationRequest>(&json!({"chargePointVendor": "V"}))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
    }

    #[test]
    fn response_is_written_exactly() {
        let conf = BootNotificationResponse {
            status: RegistrationStatus::Accepted,
            current_time: "2024-05-01T10:00:00.000Z".into(),
            interval: 300,
        };
        assert_eq!(
            serde_json::to_string(&conf).unwrap(),
            r#"{"status":"Accepted","currentTime":"2024-05-01T10:00:00.000Z","interval":300}"#
        );
        round_trip::<BootNotificationResponse>(serde_json::to_value(&conf).unwrap());
    }
}

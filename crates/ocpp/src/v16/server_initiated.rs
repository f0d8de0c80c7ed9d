//! Every server-initiated OCPP 1.6 action (and the security extension's), with the
//! strict check that turns a raw payload into what we may send ([`check_request`]).
//!
//! Also the [`Validate`] rules of the server-initiated requests defined before the
//! strict checks existed (ChangeConfiguration, GetConfiguration, Reset, DataTransfer).
//! No I/O here.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::*;
use crate::strict::{from_api, Check, FieldError, Validate};

impl Validate for ChangeConfigurationRequest {
    fn validate(&self, check: &mut Check) {
        check.max_len("key", &self.key, 50);
        check.max_len("value", &self.value, 500);
    }
}

impl Validate for GetConfigurationRequest {
    fn validate(&self, check: &mut Check) {
        for key in self.key.iter().flatten() {
            check.max_len("key", key, 50);
        }
    }
}

impl Validate for ResetRequest {
    fn validate(&self, check: &mut Check) {
        check.known("type", self.kind.is_known(), ResetType::KNOWN);
    }
}

impl Validate for DataTransferRequest {
    fn validate(&self, check: &mut Check) {
        check.max_len("vendorId", &self.vendor_id, 255);
        check.opt_max_len("messageId", self.message_id.as_deref(), 50);
    }
}

fn strictly<R>(payload: &Value) -> Result<Value, FieldError>
where
    R: DeserializeOwned + Serialize + Validate,
{
    let request: R = from_api(payload)?;
    serde_json::to_value(&request).map_err(|e| FieldError {
        field: String::new(),
        problem: format!("cannot be written: {e}"),
    })
}

/// Defines [`SERVER_INITIATED_ACTIONS`] and [`check_request`] from one list.
macro_rules! server_initiated {
    ($($request:ty),+ $(,)?) => {
        /// Every action the server may send, spelled as on the wire.
        pub const SERVER_INITIATED_ACTIONS: &[&str] =
            &[$(<$request as crate::OcppRequest>::ACTION),+];

        /// Checks `payload` strictly as the request of `action` and returns it as it
        /// will be sent; `None` when `action` is not a server-initiated 1.6 action.
        pub fn check_request(action: &str, payload: &Value) -> Option<Result<Value, FieldError>> {
            $(
                if action == <$request as crate::OcppRequest>::ACTION {
                    return Some(strictly::<$request>(payload));
                }
            )+
            None
        }
    };
}

server_initiated! {
    CancelReservationRequest,
    ChangeAvailabilityRequest,
    ChangeConfigurationRequest,
    ClearCacheRequest,
    ClearChargingProfileRequest,
    DataTransferRequest,
    GetCompositeScheduleRequest,
    GetConfigurationRequest,
    GetDiagnosticsRequest,
    GetLocalListVersionRequest,
    RemoteStartTransactionRequest,
    RemoteStopTransactionRequest,
    ReserveNowRequest,
    ResetRequest,
    SendLocalListRequest,
    SetChargingProfileRequest,
    TriggerMessageRequest,
    UnlockConnectorRequest,
    UpdateFirmwareRequest,
    CertificateSignedRequest,
    DeleteCertificateRequest,
    ExtendedTriggerMessageRequest,
    GetInstalledCertificateIdsRequest,
    GetLogRequest,
    InstallCertificateRequest,
    SignedUpdateFirmwareRequest,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_server_initiated_action_of_1_6_and_the_security_extension_is_listed() {
        assert_eq!(SERVER_INITIATED_ACTIONS.len(), 26);
        for action in [
            "UnlockConnector",
            "SetChargingProfile",
            "ExtendedTriggerMessage",
            "SignedUpdateFirmware",
        ] {
            assert!(SERVER_INITIATED_ACTIONS.contains(&action), "{action}");
        }
    }

    #[test]
    fn payloads_are_checked_by_action() {
        assert_eq!(
            check_request("UnlockConnector", &json!({"connectorId": 1})),
            Some(Ok(json!({"connectorId": 1})))
        );
        let err = check_request("Reset", &json!({"type": "Warm"}))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.field, "type");
        assert!(check_request("BootNotification", &json!({})).is_none());
        assert!(check_request("Teleport", &json!({})).is_none());
    }
}

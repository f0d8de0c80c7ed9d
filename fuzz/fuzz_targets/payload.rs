//! Fuzzes the lenient inbound payload parser: any JSON value read as every request a
//! charger may send us, and as every answer a charger gives to our requests.
//!
//! `ocpp::parse_payload` must never panic; what it accepts must serialise, and what we
//! write must read back to the same value (so a stored or forwarded payload keeps its
//! meaning).

#![no_main]

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use ocpp::v16;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn check<T: DeserializeOwned + Serialize + PartialEq + Debug>(value: &Value) {
    let Ok(parsed) = ocpp::parse_payload::<T>(value) else {
        return;
    };
    let written = match serde_json::to_value(&parsed) {
        Ok(written) => written,
        Err(e) => panic!("cannot write what we read ({parsed:?}): {e}"),
    };
    match ocpp::parse_payload::<T>(&written) {
        Ok(again) => assert_eq!(again, parsed, "written as {written}"),
        Err(e) => panic!("cannot read what we wrote ({written}): {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Charger-initiated requests (every action of v16::CHARGER_INITIATED_ACTIONS).
    check::<v16::AuthorizeRequest>(&value);
    check::<v16::BootNotificationRequest>(&value);
    check::<v16::DataTransferRequest>(&value);
    check::<v16::DiagnosticsStatusNotificationRequest>(&value);
    check::<v16::FirmwareStatusNotificationRequest>(&value);
    check::<v16::HeartbeatRequest>(&value);
    check::<v16::MeterValuesRequest>(&value);
    check::<v16::StartTransactionRequest>(&value);
    check::<v16::StatusNotificationRequest>(&value);
    check::<v16::StopTransactionRequest>(&value);
    check::<v16::SecurityEventNotificationRequest>(&value);
    check::<v16::SignCertificateRequest>(&value);
    check::<v16::LogStatusNotificationRequest>(&value);
    check::<v16::SignedFirmwareStatusNotificationRequest>(&value);
    // Chargers' answers to our requests (every server-initiated action).
    check::<v16::CancelReservationResponse>(&value);
    check::<v16::CertificateSignedResponse>(&value);
    check::<v16::ChangeAvailabilityResponse>(&value);
    check::<v16::ChangeConfigurationResponse>(&value);
    check::<v16::ClearCacheResponse>(&value);
    check::<v16::ClearChargingProfileResponse>(&value);
    check::<v16::DataTransferResponse>(&value);
    check::<v16::DeleteCertificateResponse>(&value);
    check::<v16::ExtendedTriggerMessageResponse>(&value);
    check::<v16::GetCompositeScheduleResponse>(&value);
    check::<v16::GetConfigurationResponse>(&value);
    check::<v16::GetDiagnosticsResponse>(&value);
    check::<v16::GetInstalledCertificateIdsResponse>(&value);
    check::<v16::GetLocalListVersionResponse>(&value);
    check::<v16::GetLogResponse>(&value);
    check::<v16::InstallCertificateResponse>(&value);
    check::<v16::RemoteStartTransactionResponse>(&value);
    check::<v16::RemoteStopTransactionResponse>(&value);
    check::<v16::ReserveNowResponse>(&value);
    check::<v16::ResetResponse>(&value);
    check::<v16::SendLocalListResponse>(&value);
    check::<v16::SetChargingProfileResponse>(&value);
    check::<v16::SignedUpdateFirmwareResponse>(&value);
    check::<v16::TriggerMessageResponse>(&value);
    check::<v16::UnlockConnectorResponse>(&value);
    check::<v16::UpdateFirmwareResponse>(&value);
});

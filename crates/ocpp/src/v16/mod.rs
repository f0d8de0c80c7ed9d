//! OCPP 1.6J payloads: one module per action (request, response, and the action's own
//! enums), shared types in [`common`]. Everything is re-exported here, so use
//! `ocpp::v16::BootNotificationRequest`.
//!
//! Charger-initiated requests (and server-initiated responses) are read leniently;
//! what we send is only ever built from known values and written in exact OCPP
//! spelling. No I/O here.

pub mod common;

pub mod authorize;
pub mod boot_notification;
pub mod data_transfer;
pub mod diagnostics_status_notification;
pub mod firmware_status_notification;
pub mod heartbeat;
pub mod log_status_notification;
pub mod meter_values;
pub mod security_event_notification;
pub mod sign_certificate;
pub mod signed_firmware_status_notification;
pub mod start_transaction;
pub mod status_notification;
pub mod stop_transaction;

pub mod change_configuration;
pub mod get_configuration;
pub mod reset;

pub use authorize::*;
pub use boot_notification::*;
pub use change_configuration::*;
pub use common::*;
pub use data_transfer::*;
pub use diagnostics_status_notification::*;
pub use firmware_status_notification::*;
pub use get_configuration::*;
pub use heartbeat::*;
pub use log_status_notification::*;
pub use meter_values::*;
pub use reset::*;
pub use security_event_notification::*;
pub use sign_certificate::*;
pub use signed_firmware_status_notification::*;
pub use start_transaction::*;
pub use status_notification::*;
pub use stop_transaction::*;

/// Every action a charger may send us that we answer (Core, Firmware and the security
/// extension). Other actions are answered `NotImplemented`.
pub const CHARGER_INITIATED_ACTIONS: &[&str] = &[
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    "SecurityEventNotification",
    "SignCertificate",
    "LogStatusNotification",
    "SignedFirmwareStatusNotification",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OcppRequest;

    #[test]
    fn charger_initiated_actions_match_the_request_types() {
        let actions = [
            AuthorizeRequest::ACTION,
            BootNotificationRequest::ACTION,
            DataTransferRequest::ACTION,
            DiagnosticsStatusNotificationRequest::ACTION,
            FirmwareStatusNotificationRequest::ACTION,
            HeartbeatRequest::ACTION,
            MeterValuesRequest::ACTION,
            StartTransactionRequest::ACTION,
            StatusNotificationRequest::ACTION,
            StopTransactionRequest::ACTION,
            SecurityEventNotificationRequest::ACTION,
            SignCertificateRequest::ACTION,
            LogStatusNotificationRequest::ACTION,
            SignedFirmwareStatusNotificationRequest::ACTION,
        ];
        assert_eq!(CHARGER_INITIATED_ACTIONS, actions);
    }

    #[test]
    fn server_initiated_actions_are_named_as_in_ocpp() {
        assert_eq!(ChangeConfigurationRequest::ACTION, "ChangeConfiguration");
        assert_eq!(GetConfigurationRequest::ACTION, "GetConfiguration");
        assert_eq!(ResetRequest::ACTION, "Reset");
    }
}

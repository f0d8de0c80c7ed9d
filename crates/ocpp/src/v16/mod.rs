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

pub mod cancel_reservation;
pub mod certificate_signed;
pub mod change_availability;
pub mod clear_cache;
pub mod clear_charging_profile;
pub mod delete_certificate;
pub mod extended_trigger_message;
pub mod get_composite_schedule;
pub mod get_diagnostics;
pub mod get_installed_certificate_ids;
pub mod get_local_list_version;
pub mod get_log;
pub mod install_certificate;
pub mod remote_start_transaction;
pub mod remote_stop_transaction;
pub mod reserve_now;
pub mod send_local_list;
pub mod server_initiated;
pub mod set_charging_profile;
pub mod signed_update_firmware;
pub mod smart_charging;
pub mod trigger_message;
pub mod unlock_connector;
pub mod update_firmware;

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

pub use cancel_reservation::*;
pub use certificate_signed::*;
pub use change_availability::*;
pub use clear_cache::*;
pub use clear_charging_profile::*;
pub use delete_certificate::*;
pub use extended_trigger_message::*;
pub use get_composite_schedule::*;
pub use get_diagnostics::*;
pub use get_installed_certificate_ids::*;
pub use get_local_list_version::*;
pub use get_log::*;
pub use install_certificate::*;
pub use remote_start_transaction::*;
pub use remote_stop_transaction::*;
pub use reserve_now::*;
pub use send_local_list::*;
pub use server_initiated::{check_request, SERVER_INITIATED_ACTIONS};
pub use set_charging_profile::*;
pub use signed_update_firmware::*;
pub use smart_charging::*;
pub use trigger_message::*;
pub use unlock_connector::*;
pub use update_firmware::*;

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

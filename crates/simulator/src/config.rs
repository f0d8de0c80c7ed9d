//! What a simulated charger is: its connection settings, its identity as reported in
//! BootNotification, its OCPP configuration store and how it reacts to configuration
//! commands ([`KeyBehaviour`]).
//!
//! Plain data only: this module does no I/O and starts no task.

use std::collections::HashMap;
use std::time::Duration;

/// The configuration key that is write-only: `ChangeConfiguration` may set it, but
/// `GetConfiguration` never reports it (it is listed under `unknownKey` when named).
pub const AUTHORIZATION_KEY: &str = "AuthorizationKey";

/// Everything needed to connect and run one simulated charger.
///
/// Build it with [`ChargerConfig::new`] and adjust the public fields.
#[derive(Clone, Debug)]
pub struct ChargerConfig {
    /// Server base URL, e.g. `ws://127.0.0.1:9000/ocpp`; the URL-encoded identity is
    /// appended as the last path segment. Only `ws://` is supported (no TLS).
    pub url: String,
    /// The charge point identity.
    pub identity: String,
    /// Basic-auth password (username = identity) when `Some`.
    pub password: Option<String>,
    /// Offered in `Sec-WebSocket-Protocol`; default `["ocpp1.6"]`; empty = offer none.
    pub subprotocols: Vec<String>,
    /// `chargePointVendor` in BootNotification.
    pub vendor: String,
    /// `chargePointModel` in BootNotification.
    pub model: String,
    /// `chargePointSerialNumber` in BootNotification, when `Some`.
    pub serial: Option<String>,
    /// `firmwareVersion` in BootNotification, when `Some`.
    pub firmware: Option<String>,
    /// Number of connectors (also reported as `NumberOfConnectors`); default 1.
    pub connectors: u32,
    /// The initial configuration store; default [`realistic_keys`].
    pub keys: Vec<ConfigKey>,
    /// Per-key behaviour for ChangeConfiguration; keys not listed use the default
    /// (unknown key → `NotSupported`, read-only key → `Rejected`, otherwise accepted).
    pub behaviours: HashMap<String, KeyBehaviour>,
    /// How Reset is answered; default [`KeyBehaviour::Accept`].
    pub reset_behaviour: KeyBehaviour,
    /// Reported as the `GetConfigurationMaxKeys` key; default 20.
    pub get_configuration_max_keys: usize,
    /// Answer server CALLs automatically; default `true`.
    pub auto_answer: bool,
}

impl ChargerConfig {
    /// A charger with realistic defaults for `identity` connecting below `url`.
    pub fn new(url: impl Into<String>, identity: impl Into<String>) -> Self {
        ChargerConfig {
            url: url.into(),
            identity: identity.into(),
            password: None,
            subprotocols: vec!["ocpp1.6".to_owned()],
            vendor: "CSMS-Sim".to_owned(),
            model: "Virtual-AC22".to_owned(),
            serial: None,
            firmware: Some(concat!("csms-sim ", env!("CARGO_PKG_VERSION")).to_owned()),
            connectors: 1,
            keys: realistic_keys(),
            behaviours: HashMap::new(),
            reset_behaviour: KeyBehaviour::Accept,
            get_configuration_max_keys: 20,
            auto_answer: true,
        }
    }
}

/// One entry of the charger's configuration store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigKey {
    pub key: String,
    pub readonly: bool,
    pub value: Option<String>,
}

impl ConfigKey {
    /// A key with a value.
    pub fn new(key: impl Into<String>, readonly: bool, value: impl Into<String>) -> Self {
        ConfigKey {
            key: key.into(),
            readonly,
            value: Some(value.into()),
        }
    }
}

/// How the charger answers a ChangeConfiguration for one key (or a Reset).
#[derive(Clone, Debug, PartialEq)]
pub enum KeyBehaviour {
    /// `Accepted`; the value is stored (a Reset reboots).
    Accept,
    /// `Rejected`; nothing is stored.
    Reject,
    /// `NotSupported`; nothing is stored (a Reset, which has no such status, answers `Rejected`).
    NotSupported,
    /// `RebootRequired`; the value is stored (a Reset treats it as `Accept`).
    RebootRequired,
    /// No answer at all; the server's CALL times out (the test may answer late by hand).
    NoAnswer,
    /// Waits this long, then behaves as [`KeyBehaviour::Accept`].
    Delay(Duration),
    /// Answers a CALLERROR with this code.
    CallError(ocpp::ErrorCode),
}

/// About 45 standard OCPP 1.6 configuration keys with realistic values and read-only
/// flags, plus the write-only `AuthorizationKey` and a few vendor keys.
pub fn realistic_keys() -> Vec<ConfigKey> {
    const KEYS: &[(&str, bool, &str)] = &[
        // Core profile.
        ("AllowOfflineTxForUnknownId", false, "false"),
        ("AuthorizationCacheEnabled", false, "true"),
        ("AuthorizeRemoteTxRequests", false, "true"),
        ("BlinkRepeat", false, "3"),
        ("ClockAlignedDataInterval", false, "0"),
        ("ConnectionTimeOut", false, "60"),
        ("ConnectorPhaseRotation", false, "0.RST,1.RST"),
        ("ConnectorPhaseRotationMaxLength", true, "2"),
        ("GetConfigurationMaxKeys", true, "20"),
        ("HeartbeatInterval", false, "300"),
        ("LightIntensity", false, "50"),
        ("LocalAuthorizeOffline", false, "true"),
        ("LocalPreAuthorize", false, "false"),
        ("MaxEnergyOnInvalidId", false, "0"),
        ("MeterValuesAlignedData", false, "Energy.Active.Import.Register"),
        ("MeterValuesAlignedDataMaxLength", true, "4"),
        (
            "MeterValuesSampledData",
            false,
            "Energy.Active.Import.Register,Power.Active.Import",
        ),
        ("MeterValuesSampledDataMaxLength", true, "4"),
        ("MeterValueSampleInterval", false, "60"),
        ("MinimumStatusDuration", false, "0"),
        ("NumberOfConnectors", true, "1"),
        ("ResetRetries", false, "3"),
        ("StopTransactionOnEVSideDisconnect", false, "true"),
        ("StopTransactionOnInvalidId", false, "true"),
        ("StopTxnAlignedData", false, ""),
        ("StopTxnAlignedDataMaxLength", true, "4"),
        ("StopTxnSampledData", false, "Energy.Active.Import.Register"),
        ("StopTxnSampledDataMaxLength", true, "4"),
        (
            "SupportedFeatureProfiles",
            true,
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
        ),
        ("SupportedFeatureProfilesMaxLength", true, "6"),
        ("TransactionMessageAttempts", false, "3"),
        ("TransactionMessageRetryInterval", false, "60"),
        ("UnlockConnectorOnEVSideDisconnect", false, "true"),
        ("WebSocketPingInterval", false, "60"),
        // Local auth list management.
        ("LocalAuthListEnabled", false, "true"),
        ("LocalAuthListMaxLength", true, "100"),
        ("SendLocalListMaxLength", true, "20"),
        // Reservation.
        ("ReserveConnectorZeroSupported", true, "false"),
        // Smart charging.
        ("ChargeProfileMaxStackLevel", true, "10"),
        ("ChargingScheduleAllowedChargingRateUnit", true, "Current,Power"),
        ("ChargingScheduleMaxPeriods", true, "24"),
        ("ConnectorSwitch3to1PhaseSupported", true, "false"),
        ("MaxChargingProfilesInstalled", true, "10"),
        // Security extension.
        ("SecurityProfile", false, "0"),
        // Vendor keys.
        ("VendorLedBrightness", false, "80"),
        ("VendorDisplayLanguage", false, "en"),
        ("VendorFirmwareChannel", true, "stable"),
    ];
    let mut keys: Vec<ConfigKey> = KEYS
        .iter()
        .map(|(key, readonly, value)| ConfigKey::new(*key, *readonly, *value))
        .collect();
    keys.push(ConfigKey {
        key: AUTHORIZATION_KEY.to_owned(),
        readonly: false,
        value: None,
    });
    keys
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn realistic_keys_have_unique_names_and_expected_flags() {
        let keys = realistic_keys();
        assert!(keys.len() >= 40);
        let mut names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), keys.len());
        let find = |name: &str| keys.iter().find(|k| k.key == name).unwrap();
        assert_eq!(find("HeartbeatInterval").value.as_deref(), Some("300"));
        assert!(!find("HeartbeatInterval").readonly);
        assert!(find("NumberOfConnectors").readonly);
        assert!(find("GetConfigurationMaxKeys").readonly);
        assert!(find("SupportedFeatureProfiles").readonly);
        assert!(!find(AUTHORIZATION_KEY).readonly);
    }
}

//! The catalogue of standard OCPP 1.6 configuration keys.
//!
//! One [`KeyInfo`] per key of the OCPP 1.6 specification's profiles (Core, Local Auth
//! List Management, Reservation, Smart Charging) and of the 1.6 security whitepaper. Each
//! entry says which `/details` category the key belongs to, what values it takes, whether
//! a central system may read and/or change it, its unit, and a description written for
//! this project (not copied from the specification or from eDRV).
//!
//! Where eDRV's guide shows a key, the guide's category wins (CONTRACT §8 "Categories"):
//! `ReserveConnectorZeroSupported` is `local_auth`, and `SecurityProfile`,
//! `SupportedFileTransferProtocols` and `CpoName` are left out of the catalogue so that they
//! show as vendor keys (`Unknown`) exactly as in the guide's example. They are listed in
//! [`SHOWN_AS_UNKNOWN`].
//!
//! [`KeyInfo::validate`] checks a value a person wants to send with ChangeConfiguration and
//! explains the rule in its error. Write-only keys ([`Access::WriteOnly`], i.e.
//! `AuthorizationKey`) must never be shown in clear: use [`MASK`] / [`masked`].

use serde::Serialize;

/// What write-only values are shown as, everywhere (CONTRACT §4, §8).
pub const MASK: &str = "********";

/// Standard keys that the catalogue leaves out on purpose, so that `/details` shows them as
/// `Unknown` the way eDRV's guide does (CONTRACT §8 "Categories").
pub const SHOWN_AS_UNKNOWN: &[&str] = &[
    "SecurityProfile",
    "SupportedFileTransferProtocols",
    "CpoName",
];

/// The `/details` category of a standard key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// `core`
    Core,
    /// `local_auth`
    LocalAuth,
    /// `smart_charging`
    SmartCharging,
    /// `firmware_management`
    FirmwareManagement,
    /// `reservation`
    Reservation,
    /// `remote_trigger`
    RemoteTrigger,
    /// `security`
    Security,
}

impl Category {
    /// The category as it appears in `/details` (`core`, `local_auth`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::LocalAuth => "local_auth",
            Self::SmartCharging => "smart_charging",
            Self::FirmwareManagement => "firmware_management",
            Self::Reservation => "reservation",
            Self::RemoteTrigger => "remote_trigger",
            Self::Security => "security",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may read and change a key, from the central system's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Reported by the charger, never changed by ChangeConfiguration.
    ReadOnly,
    /// Reported and changeable.
    ReadWrite,
    /// Changeable, never reported in clear (secrets).
    WriteOnly,
}

/// The kind of value a key holds, used to check values before they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ValueType {
    /// A whole number, optionally bounded (inclusive).
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// `true` or `false`, in any letter case.
    Boolean,
    /// Comma-separated OCPP 1.6 measurands, each optionally with a phase suffix
    /// (`Voltage.L1`, `Current.Import.L1-N`); the empty string (nothing) is allowed.
    MeasurandList,
    /// Comma-separated feature profile names ([`FEATURE_PROFILES`]).
    ProfileList,
    /// Comma-separated charging rate units (`Current`, `Power`).
    ChargingRateUnitList,
    /// Comma-separated `<connectorId>.<rotation>` items (`0.RST,1.RST,2.RTS`).
    PhaseRotationList,
    /// Free text (length limits are the API's CiString checks).
    String,
    /// A station password: 8 to 40 printable ASCII characters.
    Password,
}

/// One standard configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct KeyInfo {
    /// The key's name, in the specification's spelling.
    pub name: &'static str,
    /// The `/details` category.
    pub category: Category,
    /// What values it takes.
    pub value_type: ValueType,
    /// Read-only, read-write or write-only.
    pub access: Access,
    /// Unit of the value, when it has one (`seconds`, `Wh`, `percent`, `times`, ...).
    pub unit: Option<&'static str>,
    /// What the key does, in this project's own words.
    pub description: &'static str,
}

/// The OCPP 1.6 measurands (`Measurand` enumeration).
pub const MEASURANDS: &[&str] = &[
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "RPM",
    "SoC",
    "Temperature",
    "Voltage",
];

/// The OCPP 1.6 phases (`Phase` enumeration), usable as a measurand suffix.
pub const PHASES: &[&str] = &[
    "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1",
];

/// The OCPP 1.6 feature profile names.
pub const FEATURE_PROFILES: &[&str] = &[
    "Core",
    "FirmwareManagement",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "RemoteTrigger",
];

/// The OCPP 1.6 charging rate units.
pub const CHARGING_RATE_UNITS: &[&str] = &["Current", "Power"];

/// The OCPP 1.6 phase rotation values.
pub const PHASE_ROTATIONS: &[&str] = &[
    "NotApplicable",
    "Unknown",
    "RST",
    "RTS",
    "SRT",
    "STR",
    "TRS",
    "TSR",
];

const NON_NEGATIVE: ValueType = ValueType::Integer {
    min: Some(0),
    max: None,
};

const fn key(
    name: &'static str,
    category: Category,
    value_type: ValueType,
    access: Access,
    unit: Option<&'static str>,
    description: &'static str,
) -> KeyInfo {
    KeyInfo {
        name,
        category,
        value_type,
        access,
        unit,
        description,
    }
}

use Access::{ReadOnly, ReadWrite, WriteOnly};
use Category::{Core, LocalAuth, Security, SmartCharging};

const SECONDS: Option<&str> = Some("seconds");
const TIMES: Option<&str> = Some("times");
const ITEMS: Option<&str> = Some("items");

/// Every standard key, grouped by profile.
pub static CATALOGUE: &[KeyInfo] = &[
    // ----- Core -----
    key(
        "AllowOfflineTxForUnknownId",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "When true, a charger that cannot reach the central system lets an unrecognised \
         badge start charging anyway. Present only on chargers that support this.",
    ),
    key(
        "AuthorizationCacheEnabled",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "Turns the charger's memory of recently accepted badges on (true) or off (false). \
         Present only on chargers that keep such a cache.",
    ),
    key(
        "AuthorizeRemoteTxRequests",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "When true, a session started remotely by the central system is checked with an \
         Authorize request first, just like a badge presented at the charger.",
    ),
    key(
        "BlinkRepeat",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        TIMES,
        "How many times the charger flashes its lights when asked to blink.",
    ),
    key(
        "ClockAlignedDataInterval",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        SECONDS,
        "Length of the fixed meter reporting periods counted from midnight; for instance \
         900 splits each day into quarter hours and a reading is sent at the end of each. \
         0 switches clock-aligned readings off.",
    ),
    key(
        "ConnectionTimeOut",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        SECONDS,
        "How long after a driver is authorised the charger waits for the cable to be \
         plugged in before it abandons the pending session.",
    ),
    key(
        "ConnectorPhaseRotation",
        Core,
        ValueType::PhaseRotationList,
        ReadWrite,
        None,
        "How each connector's phases are wired relative to its meter (or the grid), as \
         connectorId.rotation items such as 0.RST,1.RTS; NotApplicable suits single-phase \
         and DC outlets.",
    ),
    key(
        "ConnectorPhaseRotationMaxLength",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The largest number of entries the charger accepts in ConnectorPhaseRotation.",
    ),
    key(
        "GetConfigurationMaxKeys",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The most keys the central system may name in a single GetConfiguration request.",
    ),
    key(
        "HeartbeatInterval",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        SECONDS,
        "After this long without any OCPP traffic, the charger sends a Heartbeat so the \
         central system knows it is still connected.",
    ),
    key(
        "LightIntensity",
        Core,
        ValueType::Integer {
            min: Some(0),
            max: Some(100),
        },
        ReadWrite,
        Some("percent"),
        "Brightness of the charger's lights, as a share of their full brightness.",
    ),
    key(
        "LocalAuthorizeOffline",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "When true, a charger that has lost its connection still starts sessions for badges \
         it already knows from its local list or cache.",
    ),
    key(
        "LocalPreAuthorize",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "When true, a connected charger starts at once for badges it knows locally instead \
         of waiting for the central system's Authorize answer.",
    ),
    key(
        "MaxEnergyOnInvalidId",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        Some("Wh"),
        "How much energy a session may still deliver after the central system reports, once \
         charging has begun, that the badge is not valid.",
    ),
    key(
        "MeterValuesAlignedData",
        Core,
        ValueType::MeasurandList,
        ReadWrite,
        None,
        "Which quantities the charger reports in MeterValues at each clock-aligned period \
         (see ClockAlignedDataInterval).",
    ),
    key(
        "MeterValuesAlignedDataMaxLength",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The largest number of measurands the charger accepts in MeterValuesAlignedData.",
    ),
    key(
        "MeterValuesSampledData",
        Core,
        ValueType::MeasurandList,
        ReadWrite,
        None,
        "Which quantities the charger reports in MeterValues during a session, every \
         MeterValueSampleInterval; a phase may be appended, as in Voltage.L1.",
    ),
    key(
        "MeterValuesSampledDataMaxLength",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The largest number of measurands the charger accepts in MeterValuesSampledData.",
    ),
    key(
        "MeterValueSampleInterval",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        SECONDS,
        "Time between two meter samples sent during a session, counted from the session's \
         start. 0 switches sampled readings off.",
    ),
    key(
        "MinimumStatusDuration",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        SECONDS,
        "How long a connector status must hold before the charger reports it, which keeps \
         brief flickers out of StatusNotification.",
    ),
    key(
        "NumberOfConnectors",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        None,
        "How many physical outlets the charger has.",
    ),
    key(
        "ResetRetries",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        TIMES,
        "How many more attempts the charger makes when a reset does not succeed.",
    ),
    key(
        "StopTransactionOnEVSideDisconnect",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "When true, pulling the cable out of the vehicle ends the session; when false the \
         session only pauses.",
    ),
    key(
        "StopTransactionOnInvalidId",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "When true, the charger ends a running session as soon as the central system says \
         its badge is not valid.",
    ),
    key(
        "StopTxnAlignedData",
        Core,
        ValueType::MeasurandList,
        ReadWrite,
        None,
        "Which clock-aligned quantities the charger collects during a session and attaches \
         to its StopTransaction message.",
    ),
    key(
        "StopTxnAlignedDataMaxLength",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The largest number of measurands the charger accepts in StopTxnAlignedData.",
    ),
    key(
        "StopTxnSampledData",
        Core,
        ValueType::MeasurandList,
        ReadWrite,
        None,
        "Which sampled quantities the charger collects every MeterValueSampleInterval and \
         attaches to its StopTransaction message.",
    ),
    key(
        "StopTxnSampledDataMaxLength",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The largest number of measurands the charger accepts in StopTxnSampledData.",
    ),
    key(
        "SupportedFeatureProfiles",
        Core,
        ValueType::ProfileList,
        ReadOnly,
        None,
        "The OCPP feature profiles this charger implements, among Core, \
         FirmwareManagement, LocalAuthListManagement, Reservation, SmartCharging and \
         RemoteTrigger.",
    ),
    key(
        "SupportedFeatureProfilesMaxLength",
        Core,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The largest number of entries SupportedFeatureProfiles can hold.",
    ),
    key(
        "TransactionMessageAttempts",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        TIMES,
        "How many times the charger tries to deliver a session message (start, stop, meter \
         values) that the central system did not process before giving up on it.",
    ),
    key(
        "TransactionMessageRetryInterval",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        SECONDS,
        "Base waiting time before resending a session message the central system did not \
         process; the wait grows with each further attempt.",
    ),
    key(
        "UnlockConnectorOnEVSideDisconnect",
        Core,
        ValueType::Boolean,
        ReadWrite,
        None,
        "When true, the charger releases its end of the cable once the cable is pulled out \
         of the vehicle.",
    ),
    key(
        "WebSocketPingInterval",
        Core,
        NON_NEGATIVE,
        ReadWrite,
        SECONDS,
        "Time between WebSocket pings sent by the charger to keep the connection alive. 0 \
         means the charger sends none (the server may still ping); negative values are \
         invalid.",
    ),
    // ----- Local Auth List Management -----
    key(
        "LocalAuthListEnabled",
        LocalAuth,
        ValueType::Boolean,
        ReadWrite,
        None,
        "Turns the use of the badge list sent by the central system (SendLocalList) on or \
         off.",
    ),
    key(
        "LocalAuthListMaxLength",
        LocalAuth,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "How many badges the charger's local list can hold in total.",
    ),
    key(
        "SendLocalListMaxLength",
        LocalAuth,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "How many badges a single SendLocalList request may carry.",
    ),
    // ----- Reservation (eDRV files it under local_auth) -----
    key(
        "ReserveConnectorZeroSupported",
        LocalAuth,
        ValueType::Boolean,
        ReadOnly,
        None,
        "When present and true, a reservation may target connector 0, holding whichever \
         outlet becomes free rather than a specific one.",
    ),
    // ----- Smart Charging -----
    key(
        "ChargeProfileMaxStackLevel",
        SmartCharging,
        NON_NEGATIVE,
        ReadOnly,
        None,
        "Highest stack level a charging profile may use, which also bounds how many \
         schedules of one purpose can be installed at once.",
    ),
    key(
        "ChargingScheduleAllowedChargingRateUnit",
        SmartCharging,
        ValueType::ChargingRateUnitList,
        ReadOnly,
        None,
        "Units in which charging schedules may express limits: Current (amperes), Power \
         (watts) or both.",
    ),
    key(
        "ChargingScheduleMaxPeriods",
        SmartCharging,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "The most periods a single charging schedule may contain.",
    ),
    key(
        "ConnectorSwitch3to1PhaseSupported",
        SmartCharging,
        ValueType::Boolean,
        ReadOnly,
        None,
        "When present and true, the charger can move a running session from three-phase to \
         single-phase charging.",
    ),
    key(
        "MaxChargingProfilesInstalled",
        SmartCharging,
        NON_NEGATIVE,
        ReadOnly,
        ITEMS,
        "How many charging profiles the charger can store altogether.",
    ),
    // ----- Security whitepaper -----
    key(
        "AdditionalRootCertificateCheck",
        Security,
        ValueType::Boolean,
        ReadOnly,
        None,
        "When true, a new central system root certificate is only accepted if it is signed \
         by the one it replaces, and only a single such certificate is kept.",
    ),
    key(
        "AuthorizationKey",
        Security,
        ValueType::Password,
        WriteOnly,
        None,
        "The password the charger presents with HTTP Basic authentication when it connects. \
         It can be set but is never read back in clear.",
    ),
    key(
        "CertificateSignedMaxChainSize",
        Security,
        ValueType::Integer {
            min: Some(0),
            max: Some(10_000),
        },
        ReadOnly,
        Some("bytes"),
        "Largest certificate chain the charger accepts in a CertificateSigned request.",
    ),
    key(
        "CertificateStoreMaxLength",
        Security,
        NON_NEGATIVE,
        ReadOnly,
        Some("certificates"),
        "How many installed certificates of all kinds the charger can keep.",
    ),
];

/// Finds a standard key: exact name first, then ignoring ASCII letter case.
pub fn lookup(name: &str) -> Option<&'static KeyInfo> {
    CATALOGUE
        .iter()
        .find(|k| k.name == name)
        .or_else(|| CATALOGUE.iter().find(|k| k.name.eq_ignore_ascii_case(name)))
}

/// Whether `name` is a standard key the central system may set but never read in clear.
pub fn is_write_only(name: &str) -> bool {
    lookup(name).is_some_and(KeyInfo::is_write_only)
}

/// `value` as it may be shown for key `name`: [`MASK`] for a non-empty value of a
/// write-only key, the value itself otherwise.
pub fn masked<'a>(name: &str, value: &'a str) -> &'a str {
    if !value.is_empty() && is_write_only(name) {
        MASK
    } else {
        value
    }
}

impl KeyInfo {
    /// Reported but never changeable.
    pub fn is_read_only(&self) -> bool {
        self.access == Access::ReadOnly
    }

    /// Changeable but never shown in clear.
    pub fn is_write_only(&self) -> bool {
        self.access == Access::WriteOnly
    }

    /// Checks `value` against the key's value type before it is sent with
    /// ChangeConfiguration. Whitespace around numbers, booleans and list items is ignored.
    ///
    /// Access (read-only) is not checked here; see [`KeyInfo::is_read_only`].
    ///
    /// # Errors
    ///
    /// A sentence naming the key and the rule the value breaks, e.g.
    /// `HeartbeatInterval must be an integer >= 0`. The value of a write-only key is never
    /// repeated in the message.
    pub fn validate(&self, value: &str) -> Result<(), String> {
        let name = self.name;
        match self.value_type {
            ValueType::Integer { min, max } => validate_integer(name, value, min, max),
            ValueType::Boolean => {
                let v = value.trim();
                if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
                    Ok(())
                } else {
                    Err(format!("{name} must be true or false"))
                }
            }
            ValueType::MeasurandList => validate_list(name, value, true, |item| {
                if is_measurand_item(item) {
                    Ok(())
                } else {
                    Err(format!(
                        "{name} must be a comma-separated list of measurands (e.g. \
                         Energy.Active.Import.Register,Voltage.L1); '{item}' is not one{}",
                        suggestion(item, canonical_measurand_item)
                    ))
                }
            }),
            ValueType::ProfileList => validate_list(name, value, false, |item| {
                one_of(name, item, FEATURE_PROFILES, "feature profiles")
            }),
            ValueType::ChargingRateUnitList => validate_list(name, value, false, |item| {
                one_of(name, item, CHARGING_RATE_UNITS, "charging rate units")
            }),
            ValueType::PhaseRotationList => validate_list(name, value, false, |item| {
                if is_phase_rotation_item(item) {
                    Ok(())
                } else {
                    Err(format!(
                        "{name} must be a comma-separated list of <connectorId>.<rotation> \
                         items such as 0.RST,1.RTS, with rotation one of {}; '{item}' is not one",
                        PHASE_ROTATIONS.join(", ")
                    ))
                }
            }),
            ValueType::String => Ok(()),
            ValueType::Password => {
                let ok = (8..=40).contains(&value.len())
                    && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
                if ok {
                    Ok(())
                } else {
                    Err(format!("{name} must be 8 to 40 printable ASCII characters"))
                }
            }
        }
    }
}

fn validate_integer(
    name: &str,
    value: &str,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<(), String> {
    let rule = match (min, max) {
        (Some(lo), Some(hi)) => format!("{name} must be an integer between {lo} and {hi}"),
        (Some(lo), None) => format!("{name} must be an integer >= {lo}"),
        (None, Some(hi)) => format!("{name} must be an integer <= {hi}"),
        (None, None) => format!("{name} must be an integer"),
    };
    let Ok(n) = value.trim().parse::<i64>() else {
        return Err(rule);
    };
    if min.is_some_and(|lo| n < lo) || max.is_some_and(|hi| n > hi) {
        return Err(rule);
    }
    Ok(())
}

/// Splits a comma-separated list into trimmed items; `None` when an item is empty.
fn list_items(value: &str) -> Option<Vec<&str>> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|i| i.is_empty()) {
        None
    } else {
        Some(items)
    }
}

fn validate_list(
    name: &str,
    value: &str,
    empty_allowed: bool,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<(), String> {
    if value.trim().is_empty() {
        return if empty_allowed {
            Ok(())
        } else {
            Err(format!("{name} must be a non-empty comma-separated list"))
        };
    }
    let Some(items) = list_items(value) else {
        return Err(format!(
            "{name} must be a comma-separated list without empty items"
        ));
    };
    items.into_iter().try_for_each(check)
}

fn one_of(name: &str, item: &str, allowed: &[&str], what: &str) -> Result<(), String> {
    if allowed.contains(&item) {
        return Ok(());
    }
    Err(format!(
        "{name} must be a comma-separated list of {what} ({}); '{item}' is not one{}",
        allowed.join(", "),
        suggestion(item, |s| {
            allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(s))
                .map(|a| (*a).to_owned())
        })
    ))
}

/// ` (did you mean 'X'?)` when a differently-cased spelling is valid.
fn suggestion(item: &str, canonical: impl Fn(&str) -> Option<String>) -> String {
    canonical(item)
        .filter(|c| c != item)
        .map(|c| format!(" (did you mean '{c}'?)"))
        .unwrap_or_default()
}

fn is_measurand_item(item: &str) -> bool {
    if MEASURANDS.contains(&item) {
        return true;
    }
    // A phase suffix never contains a dot, so the last dot separates it.
    item.rsplit_once('.')
        .is_some_and(|(m, p)| MEASURANDS.contains(&m) && PHASES.contains(&p))
}

/// The correctly-cased spelling of a measurand item, if one exists.
fn canonical_measurand_item(item: &str) -> Option<String> {
    let find =
        |s: &str, set: &[&'static str]| set.iter().copied().find(|c| c.eq_ignore_ascii_case(s));
    if let Some(m) = find(item, MEASURANDS) {
        return Some(m.to_owned());
    }
    let (m, p) = item.rsplit_once('.')?;
    Some(format!("{}.{}", find(m, MEASURANDS)?, find(p, PHASES)?))
}

fn is_phase_rotation_item(item: &str) -> bool {
    item.split_once('.').is_some_and(|(connector, rotation)| {
        !connector.is_empty()
            && connector.bytes().all(|b| b.is_ascii_digit())
            && PHASE_ROTATIONS.contains(&rotation)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn info(name: &str) -> &'static KeyInfo {
        lookup(name).unwrap()
    }

    #[test]
    fn every_entry_has_a_non_empty_description_and_a_unique_name() {
        let mut seen = HashSet::new();
        for k in CATALOGUE {
            assert!(
                !k.description.trim().is_empty(),
                "{} has no description",
                k.name
            );
            assert!(!k.name.is_empty());
            assert!(
                seen.insert(k.name.to_ascii_lowercase()),
                "{} listed twice",
                k.name
            );
        }
    }

    #[test]
    fn every_standard_key_named_in_the_brief_is_catalogued() {
        let expected = [
            "AllowOfflineTxForUnknownId",
            "AuthorizationCacheEnabled",
            "AuthorizeRemoteTxRequests",
            "BlinkRepeat",
            "ClockAlignedDataInterval",
            "ConnectionTimeOut",
            "ConnectorPhaseRotation",
            "ConnectorPhaseRotationMaxLength",
            "GetConfigurationMaxKeys",
            "HeartbeatInterval",
            "LightIntensity",
            "LocalAuthorizeOffline",
            "LocalPreAuthorize",
            "MaxEnergyOnInvalidId",
            "MeterValuesAlignedData",
            "MeterValuesAlignedDataMaxLength",
            "MeterValuesSampledData",
            "MeterValuesSampledDataMaxLength",
            "MeterValueSampleInterval",
            "MinimumStatusDuration",
            "NumberOfConnectors",
            "ResetRetries",
            "StopTransactionOnEVSideDisconnect",
            "StopTransactionOnInvalidId",
            "StopTxnAlignedData",
            "StopTxnAlignedDataMaxLength",
            "StopTxnSampledData",
            "StopTxnSampledDataMaxLength",
            "SupportedFeatureProfiles",
            "SupportedFeatureProfilesMaxLength",
            "TransactionMessageAttempts",
            "TransactionMessageRetryInterval",
            "UnlockConnectorOnEVSideDisconnect",
            "WebSocketPingInterval",
            "LocalAuthListEnabled",
            "LocalAuthListMaxLength",
            "SendLocalListMaxLength",
            "ReserveConnectorZeroSupported",
            "ChargeProfileMaxStackLevel",
            "ChargingScheduleAllowedChargingRateUnit",
            "ChargingScheduleMaxPeriods",
            "ConnectorSwitch3to1PhaseSupported",
            "MaxChargingProfilesInstalled",
            "AdditionalRootCertificateCheck",
            "AuthorizationKey",
            "CertificateSignedMaxChainSize",
            "CertificateStoreMaxLength",
        ];
        for name in expected {
            assert_eq!(lookup(name).map(|k| k.name), Some(name));
        }
        assert_eq!(CATALOGUE.len(), expected.len());
    }

    #[test]
    fn keys_the_guide_shows_as_unknown_are_not_catalogued() {
        for name in SHOWN_AS_UNKNOWN {
            assert!(lookup(name).is_none(), "{name}");
        }
        assert_eq!(
            info("ReserveConnectorZeroSupported").category,
            Category::LocalAuth
        );
    }

    #[test]
    fn lookup_prefers_exact_match_then_ignores_ascii_case() {
        assert_eq!(info("HeartbeatInterval").name, "HeartbeatInterval");
        assert_eq!(info("heartbeatinterval").name, "HeartbeatInterval");
        assert_eq!(info("CONNECTIONTIMEOUT").name, "ConnectionTimeOut");
        assert!(lookup("Heartbeat").is_none());
        assert!(lookup("").is_none());
    }

    #[test]
    fn read_only_keys_follow_the_specification() {
        for name in [
            "NumberOfConnectors",
            "GetConfigurationMaxKeys",
            "ConnectorPhaseRotationMaxLength",
            "MeterValuesAlignedDataMaxLength",
            "MeterValuesSampledDataMaxLength",
            "StopTxnAlignedDataMaxLength",
            "StopTxnSampledDataMaxLength",
            "SupportedFeatureProfiles",
            "SupportedFeatureProfilesMaxLength",
            "ChargeProfileMaxStackLevel",
            "ConnectorSwitch3to1PhaseSupported",
            "ReserveConnectorZeroSupported",
            "LocalAuthListMaxLength",
            "SendLocalListMaxLength",
            "ChargingScheduleMaxPeriods",
            "ChargingScheduleAllowedChargingRateUnit",
            "MaxChargingProfilesInstalled",
            "AdditionalRootCertificateCheck",
            "CertificateSignedMaxChainSize",
            "CertificateStoreMaxLength",
        ] {
            assert!(info(name).is_read_only(), "{name}");
        }
        for name in [
            "LocalAuthListEnabled",
            "HeartbeatInterval",
            "MeterValuesSampledData",
        ] {
            assert_eq!(info(name).access, Access::ReadWrite, "{name}");
        }
    }

    #[test]
    fn authorization_key_is_the_only_write_only_key_and_is_masked() {
        let write_only: Vec<_> = CATALOGUE
            .iter()
            .filter(|k| k.is_write_only())
            .map(|k| k.name)
            .collect();
        assert_eq!(write_only, ["AuthorizationKey"]);
        assert!(is_write_only("authorizationkey"));
        assert!(!is_write_only("HeartbeatInterval"));
        assert!(!is_write_only("VendorSecret"));
        assert_eq!(masked("AuthorizationKey", "s3cretpass"), MASK);
        assert_eq!(masked("AuthorizationKey", ""), "");
        assert_eq!(masked("HeartbeatInterval", "900"), "900");
        assert_eq!(MASK, "********");
    }

    #[test]
    fn categories_serialise_in_snake_case() {
        let all = [
            (Category::Core, "core"),
            (Category::LocalAuth, "local_auth"),
            (Category::SmartCharging, "smart_charging"),
            (Category::FirmwareManagement, "firmware_management"),
            (Category::Reservation, "reservation"),
            (Category::RemoteTrigger, "remote_trigger"),
            (Category::Security, "security"),
        ];
        for (c, s) in all {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(s));
            assert_eq!(c.as_str(), s);
            assert_eq!(c.to_string(), s);
        }
    }

    #[test]
    fn units_are_given_for_intervals_energy_and_brightness() {
        assert_eq!(info("HeartbeatInterval").unit, Some("seconds"));
        assert_eq!(info("MaxEnergyOnInvalidId").unit, Some("Wh"));
        assert_eq!(info("LightIntensity").unit, Some("percent"));
        assert_eq!(info("BlinkRepeat").unit, Some("times"));
        assert_eq!(info("LocalPreAuthorize").unit, None);
    }

    #[test]
    fn integer_validation_accepts_numbers_in_range_and_names_the_rule() {
        let hb = info("HeartbeatInterval");
        for ok in ["0", "900", " 900 ", "86400"] {
            assert_eq!(hb.validate(ok), Ok(()), "{ok:?}");
        }
        for bad in ["-1", "abc", "", "9.5", "1e3", "0x10"] {
            assert_eq!(
                hb.validate(bad),
                Err("HeartbeatInterval must be an integer >= 0".to_owned()),
                "{bad:?}"
            );
        }
        let li = info("LightIntensity");
        assert_eq!(li.validate("0"), Ok(()));
        assert_eq!(li.validate("100"), Ok(()));
        assert_eq!(
            li.validate("101"),
            Err("LightIntensity must be an integer between 0 and 100".to_owned())
        );
        assert!(info("WebSocketPingInterval").validate("-5").is_err());
    }

    #[test]
    fn boolean_validation_accepts_true_and_false_in_any_case() {
        let k = info("AllowOfflineTxForUnknownId");
        for ok in ["true", "false", "True", "FALSE", " true "] {
            assert_eq!(k.validate(ok), Ok(()), "{ok:?}");
        }
        for bad in ["yes", "1", "0", "", "truee"] {
            assert_eq!(
                k.validate(bad),
                Err("AllowOfflineTxForUnknownId must be true or false".to_owned())
            );
        }
    }

    #[test]
    fn measurand_lists_accept_measurands_with_optional_phases_and_the_empty_string() {
        let k = info("MeterValuesSampledData");
        for ok in [
            "",
            "Energy.Active.Import.Register",
            "Voltage,Power.Active.Import,Energy.Active.Import.Register,Energy.Active.Import.Interval,Current.Import",
            "Voltage.L1",
            "Current.Import.L1-N, Voltage.L2-L3",
            "SoC,RPM,Temperature,Frequency,Power.Factor",
        ] {
            assert_eq!(k.validate(ok), Ok(()), "{ok:?}");
        }
        assert_eq!(
            k.validate("Voltage,Foo"),
            Err(
                "MeterValuesSampledData must be a comma-separated list of measurands (e.g. \
                 Energy.Active.Import.Register,Voltage.L1); 'Foo' is not one"
                    .to_owned()
            )
        );
        let err = k.validate("voltage.l1").unwrap_err();
        assert!(
            err.contains("'voltage.l1' is not one (did you mean 'Voltage.L1'?)"),
            "{err}"
        );
        for bad in [
            "Voltage,",
            ",Voltage",
            "Voltage.L4",
            "Voltage.",
            "Energy.Active",
            "Voltage;Current.Import",
        ] {
            assert!(k.validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn profile_lists_accept_only_ocpp_feature_profiles() {
        let k = info("SupportedFeatureProfiles");
        assert_eq!(
            k.validate("Core,FirmwareManagement,Reservation,LocalAuthListManagement,RemoteTrigger,SmartCharging"),
            Ok(())
        );
        let err = k.validate("Core,Security").unwrap_err();
        assert!(err.starts_with("SupportedFeatureProfiles must be a comma-separated list of feature profiles (Core, "), "{err}");
        assert!(err.ends_with("'Security' is not one"), "{err}");
        assert!(k
            .validate("core")
            .unwrap_err()
            .ends_with("(did you mean 'Core'?)"));
        assert!(k.validate("").is_err());
    }

    #[test]
    fn charging_rate_unit_lists_accept_current_and_power() {
        let k = info("ChargingScheduleAllowedChargingRateUnit");
        for ok in ["Current", "Power", "Current,Power", "Power, Current"] {
            assert_eq!(k.validate(ok), Ok(()), "{ok:?}");
        }
        for bad in ["", "Watts", "Current,,Power", "A"] {
            assert!(k.validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phase_rotation_lists_accept_connector_dot_rotation_items() {
        let k = info("ConnectorPhaseRotation");
        for ok in [
            "0.RST",
            "0.RST,1.RST,2.RTS",
            "0.NotApplicable, 1.Unknown, 12.TSR",
        ] {
            assert_eq!(k.validate(ok), Ok(()), "{ok:?}");
        }
        for bad in ["", "RST", "0.XYZ", "a.RST", "-1.RST", "0.rst", ".RST"] {
            let err = k.validate(bad).unwrap_err();
            assert!(err.starts_with("ConnectorPhaseRotation must be a"), "{err}");
        }
    }

    #[test]
    fn password_validation_wants_8_to_40_printable_ascii_and_never_echoes_the_value() {
        let k = info("AuthorizationKey");
        assert_eq!(k.validate("abcdefgh"), Ok(()));
        assert_eq!(k.validate(&"x".repeat(40)), Ok(()));
        assert_eq!(k.validate("with space ok!"), Ok(()));
        for bad in ["short", "", "tab\there1", "ünïcödé-pass", &"y".repeat(41)] {
            let err = k.validate(bad).unwrap_err();
            assert_eq!(
                err,
                "AuthorizationKey must be 8 to 40 printable ASCII characters"
            );
        }
    }

    #[test]
    fn string_values_are_accepted_as_they_are() {
        let k = KeyInfo {
            name: "Example",
            category: Category::Core,
            value_type: ValueType::String,
            access: Access::ReadWrite,
            unit: None,
            description: "example",
        };
        assert_eq!(k.validate(""), Ok(()));
        assert_eq!(k.validate("anything, at all"), Ok(()));
    }
}

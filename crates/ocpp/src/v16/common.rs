//! Types shared by several OCPP 1.6 actions: `IdTagInfo`, meter values, connector
//! status and error codes, configuration `KeyValue`s.
//!
//! Read leniently (see [`crate::lenient`]), written in exact OCPP spelling. No I/O.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, ci_strings};
use crate::lenient_enum;

ci_strings! {
    fn parent_id_tag("parentIdTag", 20);
    fn key_name("key", 50);
    fn key_value("value", 500);
}

lenient_enum! {
    /// Whether an idTag may be used (`IdTagInfo.status`).
    pub enum AuthorizationStatus {
        Accepted,
        Blocked,
        Expired,
        Invalid,
        ConcurrentTx,
    }
}

/// What we tell a charger about an idTag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdTagInfo {
    /// When the idTag expires (RFC 3339 date-time).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub expiry_date: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "parent_id_tag"
    )]
    pub parent_id_tag: Option<String>,
    pub status: AuthorizationStatus,
}

impl IdTagInfo {
    /// An `IdTagInfo` with only a status.
    pub fn new(status: AuthorizationStatus) -> Self {
        IdTagInfo {
            expiry_date: None,
            parent_id_tag: None,
            status,
        }
    }
}

lenient_enum! {
    /// The status a connector (or the charger, connector 0) reports.
    pub enum ChargePointStatus {
        Available,
        Preparing,
        Charging,
        SuspendedEVSE,
        SuspendedEV,
        Finishing,
        Reserved,
        Unavailable,
        Faulted,
    }
}

lenient_enum! {
    /// The error a charger reports in a StatusNotification.
    pub enum ChargePointErrorCode {
        ConnectorLockFailure,
        EVCommunicationError,
        GroundFailure,
        HighTemperature,
        InternalError,
        LocalListConflict,
        NoError,
        OtherError,
        OverCurrentFailure,
        PowerMeterFailure,
        PowerSwitchFailure,
        ReaderFailure,
        ResetFailure,
        UnderVoltage,
        OverVoltage,
        WeakSignal,
    }
}

/// A set of sampled values taken at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValue {
    #[serde(deserialize_with = "lenient::string")]
    pub timestamp: String,
    pub sampled_value: Vec<SampledValue>,
}

/// One measured value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampledValue {
    #[serde(deserialize_with = "lenient::string")]
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub context: Option<ReadingContext>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub format: Option<ValueFormat>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub measurand: Option<Measurand>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phase: Option<Phase>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<UnitOfMeasure>,
}

impl SampledValue {
    /// A sampled value with only its value set.
    pub fn new(value: impl Into<String>) -> Self {
        SampledValue {
            value: value.into(),
            context: None,
            format: None,
            measurand: None,
            phase: None,
            location: None,
            unit: None,
        }
    }
}

lenient_enum! {
    /// Why a value was sampled.
    pub enum ReadingContext {
        InterruptionBegin = "Interruption.Begin",
        InterruptionEnd = "Interruption.End",
        Other = "Other",
        SampleClock = "Sample.Clock",
        SamplePeriodic = "Sample.Periodic",
        TransactionBegin = "Transaction.Begin",
        TransactionEnd = "Transaction.End",
        Trigger = "Trigger",
    }
}

lenient_enum! {
    /// Whether a sampled value is plain or signed data.
    pub enum ValueFormat {
        Raw,
        SignedData,
    }
}

lenient_enum! {
    /// What was measured.
    pub enum Measurand {
        CurrentExport = "Current.Export",
        CurrentImport = "Current.Import",
        CurrentOffered = "Current.Offered",
        EnergyActiveExportRegister = "Energy.Active.Export.Register",
        EnergyActiveImportRegister = "Energy.Active.Import.Register",
        EnergyReactiveExportRegister = "Energy.Reactive.Export.Register",
        EnergyReactiveImportRegister = "Energy.Reactive.Import.Register",
        EnergyActiveExportInterval = "Energy.Active.Export.Interval",
        EnergyActiveImportInterval = "Energy.Active.Import.Interval",
        EnergyReactiveExportInterval = "Energy.Reactive.Export.Interval",
        EnergyReactiveImportInterval = "Energy.Reactive.Import.Interval",
        Frequency = "Frequency",
        PowerActiveExport = "Power.Active.Export",
        PowerActiveImport = "Power.Active.Import",
        PowerFactor = "Power.Factor",
        PowerOffered = "Power.Offered",
        PowerReactiveExport = "Power.Reactive.Export",
        PowerReactiveImport = "Power.Reactive.Import",
        Rpm = "RPM",
        SoC = "SoC",
        Temperature = "Temperature",
        Voltage = "Voltage",
    }
}

lenient_enum! {
    /// The phase(s) a value was measured on.
    pub enum Phase {
        L1,
        L2,
        L3,
        N,
        L1N = "L1-N",
        L2N = "L2-N",
        L3N = "L3-N",
        L1L2 = "L1-L2",
        L2L3 = "L2-L3",
        L3L1 = "L3-L1",
    }
}

lenient_enum! {
    /// Where a value was measured.
    pub enum Location {
        Body,
        Cable,
        EV,
        Inlet,
        Outlet,
    }
}

lenient_enum! {
    /// The unit of a sampled value (1.6 lists both `Celcius` and `Celsius`).
    pub enum UnitOfMeasure {
        Wh,
        KWh = "kWh",
        Varh = "varh",
        Kvarh = "kvarh",
        W,
        KW = "kW",
        VA,
        KVA = "kVA",
        Var = "var",
        Kvar = "kvar",
        A,
        V,
        K,
        Celcius,
        Celsius,
        Fahrenheit,
        Percent,
    }
}

/// One configuration key as a charger reports it in GetConfiguration.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyValue {
    #[serde(deserialize_with = "key_name")]
    pub key: String,
    /// Whether the key is read-only; `"true"`/`"false"` in any case are accepted.
    #[serde(deserialize_with = "lenient::boolean")]
    pub readonly: bool,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "key_value"
    )]
    pub value: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn id_tag_info_round_trips() {
        let info: IdTagInfo = round_trip(json!({
            "expiryDate": "2030-01-01T00:00:00Z",
            "parentIdTag": "PARENT",
            "status": "Accepted"
        }));
        assert_eq!(info.status, AuthorizationStatus::Accepted);
        let info: IdTagInfo = round_trip(json!({"status": "ConcurrentTx"}));
        assert_eq!(info, IdTagInfo::new(AuthorizationStatus::ConcurrentTx));
    }

    #[test]
    fn meter_value_round_trips_with_every_sampled_value_field() {
        let mv: MeterValue = round_trip(json!({
            "timestamp": "2024-05-01T10:00:00Z",
            "sampledValue": [
                {
                    "value": "1234.5",
                    "context": "Sample.Periodic",
                    "format": "Raw",
                    "measurand": "Energy.Active.Import.Register",
                    "phase": "L1-N",
                    "location": "Outlet",
                    "unit": "kWh"
                },
                {"value": "20"}
            ]
        }));
        assert_eq!(
            mv.sampled_value[0].measurand,
            Some(Measurand::EnergyActiveImportRegister)
        );
        assert_eq!(mv.sampled_value[0].unit, Some(UnitOfMeasure::KWh));
        assert_eq!(mv.sampled_value[1], SampledValue::new("20"));
    }

    #[test]
    fn sampled_values_accept_numbers_and_wrong_case_enums() {
        let sv: SampledValue = crate::parse_payload(
            &json!({"value": 42.5, "unit": "KWH", "measurand": "soc", "phase": "l1-n"}),
        )
        .unwrap();
        assert_eq!(sv.value, "42.5");
        assert_eq!(sv.unit, Some(UnitOfMeasure::KWh));
        assert_eq!(sv.measurand, Some(Measurand::SoC));
        assert_eq!(sv.phase, Some(Phase::L1N));
    }

    #[test]
    fn key_value_round_trips() {
        let kv: KeyValue =
            round_trip(json!({"key": "HeartbeatInterval", "readonly": false, "value": "300"}));
        assert!(!kv.readonly);
        let kv: KeyValue = round_trip(json!({"key": "ChargePointVendor", "readonly": true}));
        assert_eq!(kv.value, None);
    }

    #[test]
    fn key_value_readonly_accepts_strings_in_any_case() {
        for (sent, expected) in [("true", true), ("FALSE", false), ("True", true)] {
            let kv: KeyValue =
                crate::parse_payload(&json!({"key": "K", "readonly": sent})).unwrap();
            assert_eq!(kv.readonly, expected);
        }
        let err = crate::parse_payload::<KeyValue>(&json!({"key": "K", "readonly": "maybe"}))
            .unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::TypeConstraintViolation);
    }

    #[test]
    fn enums_are_spelled_as_in_ocpp() {
        assert_eq!(ChargePointStatus::SuspendedEVSE.as_str(), "SuspendedEVSE");
        assert_eq!(
            ChargePointErrorCode::EVCommunicationError.as_str(),
            "EVCommunicationError"
        );
        assert_eq!(ReadingContext::TransactionEnd.as_str(), "Transaction.End");
        assert_eq!(Measurand::Rpm.as_str(), "RPM");
        assert_eq!(Phase::L3L1.as_str(), "L3-L1");
        assert_eq!(UnitOfMeasure::Kvarh.as_str(), "kvarh");
        assert_eq!(Location::EV.as_str(), "EV");
    }
}

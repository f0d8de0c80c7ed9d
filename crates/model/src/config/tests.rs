//! Tests against eDRV's guide: its `/configurations/details` example is our reference.
//!
//! `GUIDE_DETAILS` is the guide's example response copied verbatim from
//! `reference/edrv-chargestation-configuration.txt`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use super::*;

/// The guide's `GET /v1.1/chargestations/{id}/configurations/details` example response.
const GUIDE_DETAILS: &str = r#"{
"ok": true,
"result": [
{
"category": "core",
"description": "Size (in seconds) of the clock-aligned data interval. This is the size (in seconds) of the set of evenly spaced aggregation intervals per day, starting at 00:00:00 (midnight). For example, a value of 900 (15 minutes) indicates that every day should be broken into 96 15-minute intervals. When clock aligned data is being transmitted, the interval in question is identified by the start time and (optional) duration interval value, represented according to the ISO8601 standard. All \"per-period\" data (e.g. energy readings) should be accumulated (for \"flow\" type measurands such as energy), or averaged (for other values) across the entire interval (or partial interval, at the beginning or end of a charging session), and transmitted (if so enabled) at the end of each interval, bearing the interval start time timestamp. A value of \"0\" (numeric zero), by convention, is to be interpreted to mean that no clock-aligned data should be transmitted.",
"name": "ClockAlignedDataInterval",
"desiredValue": 0,
"value": "0",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Clock-aligned measurand(s) to be included in a MeterValues.req PDU, every ClockAlignedDataInterval seconds",
"name": "MeterValuesAlignedData",
"value": "",
"writable": true,
"editable": true
},
{
"category": "core",
"description": "Clock-aligned periodic measurand(s) to be included in the TransactionData element of StopTransaction.req MeterValues.req PDU for every ClockAlignedDataInterval of the charging session",
"name": "StopTxnAlignedData",
"value": "",
"writable": true,
"editable": true
},
{
"category": "core",
"description": "If this key exists, the Charge Point supports Unknown Offline Authorization.If this key reports a value of true, Unknown Offline Authorization is enabled.",
"name": "AllowOfflineTxForUnknownId",
"desiredValue": false,
"value": "False",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Whether a remote request to start a transaction in the form of a RemoteStartTransaction.req message should be authorized beforehand like a local action to start a transaction.",
"name": "AuthorizeRemoteTxRequests",
"desiredValue": false,
"value": "False",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Whether the Charge Point, when offline, will start a transaction for locally authorized identifiers.",
"name": "LocalAuthorizeOffline",
"desiredValue": true,
"value": "True",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Whether the Charge Point, when online, will start a transaction for locally authorized identifiers without waiting for or requesting an Authorize.conf from the Central System",
"name": "LocalPreAuthorize",
"desiredValue": false,
"value": "False",
"writable": true,
"editable": true
},
{
"category": "core",
"description": "If this key exists, the Charge Point supports an Authorization Cache. If this key reports a value of true, the Authorization Cache is enabled.",
"name": "AuthorizationCacheEnabled",
"desiredValue": false,
"value": "True",
"writable": true,
"editable": false
},
{
"category": "Unknown",
"description": "Unknown",
"name": "SupportedFileTransferProtocols",
"desiredValue": "Not Defined",
"value": "FTP",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Interval of inactivity (no OCPP exchanges) with central system after which the Charge Point should send a Heartbeat.req PDU",
"name": "HeartbeatInterval",
"desiredValue": 900,
"value": "901",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "How often the Charge Point should try to submit a transaction-related message when the Central System fails to process it.",
"name": "TransactionMessageAttempts",
"desiredValue": 3,
"value": "0",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "How often the Charge Point should try to submit a transaction-related message when the Central System fails to process it.",
"name": "TransactionMessageRetryInterval",
"desiredValue": 30,
"value": "60",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "When set to true, the Charge Point SHALL unlock the cable on Charge Point side when the cable is unplugged at the EV.",
"name": "UnlockConnectorOnEVSideDisconnect",
"desiredValue": true,
"value": "True",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Only relevant for websocket implementations. 0 disables client side websocket Ping/Pong. In this case there is either no ping/pong or the server initiates the ping and client responds with Pong. Positive values are interpreted as number of seconds between pings. Negative values are not allowed. ChangeConfiguration is expected to return a REJECTED result.",
"name": "WebSocketPingInterval",
"desiredValue": 10,
"value": "120",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Number of times to retry an unsuccessful reset of the Charge Point.",
"name": "ResetRetries",
"value": "0",
"writable": true,
"editable": true
},
{
"category": "local_auth",
"description": "Whether the Local Authorization List is enabled.",
"name": "LocalAuthListEnabled",
"desiredValue": "default",
"value": "True",
"writable": true,
"editable": true
},
{
"category": "local_auth",
"description": "If this configuration key is present and set to true: Charge Point support reservations on connector 0.",
"name": "ReserveConnectorZeroSupported",
"value": "True",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Sampled measurands to be included in the TransactionData element of StopTransaction.req PDU, every MeterValueSampleInterval seconds from the start of the charging session",
"name": "StopTxnSampledData",
"desiredValue": [
"Voltage",
"Power.Active.Import",
"Energy.Active.Import.Register",
"Energy.Active.Import.Interval",
"Current.Import"
],
"value": "",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Sampled measurands to be included in a MeterValues.req PDU, every MeterValueSampleInterval seconds. Where applicable, the Measurand is combined with the optional phase; for instance: Voltage.L1 Default: Energy.Active.Import.Register",
"name": "MeterValuesSampledData",
"desiredValue": [
"Voltage",
"Power.Active.Import",
"Energy.Active.Import.Register",
"Energy.Active.Import.Interval",
"Current.Import"
],
"value": "Energy.Active.Import.Register",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Interval between sampling of metering (or other) data, intended to be transmitted by MeterValues PDUs. For charging session data (ConnectorId>0), samples are acquired and transmitted periodically at this interval from the start of the charging transaction. A value of \"0\" (numeric zero), by convention, is to be interpreted to mean that no sampled data should be transmitted.",
"name": "MeterValueSampleInterval",
"desiredValue": 30,
"value": "30",
"writable": true,
"editable": false
},
{
"category": "Unknown",
"description": "Unknown",
"name": "RegisterMeterValuesIncludePhases",
"desiredValue": "Not Defined",
"value": "False",
"writable": true,
"editable": true
},
{
"category": "Unknown",
"description": "Unknown",
"name": "Identity",
"desiredValue": "Not Defined",
"value": "edrv03",
"writable": true,
"editable": true
},
{
"category": "Unknown",
"description": "Unknown",
"name": "CpoName",
"desiredValue": "Not Defined",
"value": "",
"writable": true,
"editable": true
},
{
"category": "Unknown",
"description": "Unknown",
"name": "SecurityProfile",
"desiredValue": "Not Defined",
"value": "0",
"writable": true,
"editable": true
},
{
"category": "smart_charging",
"description": "Max StackLevel of a ChargingProfile. The number defined also indicates the max allowed number of installed charging schedules per Charging Profile Purposes.",
"name": "ChargeProfileMaxStackLevel",
"value": "15",
"writable": false,
"editable": true
},
{
"category": "smart_charging",
"description": "If defined and true, this Charge Point support switching from 3 to 1 phase during a charging session.",
"name": "ConnectorSwitch3to1PhaseSupported",
"value": "False",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Interval (from successful authorization) until incipient charging session is automatically canceled due to failure of EV user to (correctly) insert the charging cable connector(s) into the appropriate connector(s).",
"name": "ConnectionTimeOut",
"desiredValue": 285,
"value": "285",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "When set to true, the Charge Point SHALL administratively stop the transaction when the cable is unplugged from the EV.",
"name": "StopTransactionOnEVSideDisconnect",
"desiredValue": true,
"value": "True",
"writable": true,
"editable": false
},
{
"category": "core",
"description": "Maximum energy in Wh delivered when an identifier is invalidated by the Central System after start of a transaction.",
"name": "MaxEnergyOnInvalidId",
"value": "0",
"writable": true,
"editable": true
},
{
"category": "core",
"description": "When set to true, the Charge Point SHALL administratively stop the transaction when the cable is unplugged from the EV.",
"name": "StopTransactionOnInvalidId",
"value": "False",
"writable": true,
"editable": true
},
{
"category": "core",
"description": "The phase rotation per connector in respect to the connector's energy meter (or if absent, the grid connection). Possible values per connector are: NotApplicable (for Single phase or DC Charge Points)",
"name": "ConnectorPhaseRotation",
"value": "0.RST",
"writable": true,
"editable": true
},
{
"category": "core",
"description": "Maximum number of items in a ConnectorPhaseRotation Configuration Key.",
"name": "ConnectorPhaseRotationMaxLength",
"value": "0",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Maximum number of requested configuration keys in a GetConfiguration.req PDU.",
"name": "GetConfigurationMaxKeys",
"value": "35",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Percentage of maximum intensity at which to illuminate Charge Point lighting.",
"name": "LightIntensity",
"value": "100",
"writable": true,
"editable": true
},
{
"category": "core",
"description": "Maximum number of items in a MeterValuesAlignedData Configuration Key.",
"name": "MeterValuesAlignedDataMaxLength",
"value": "9",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Maximum number of items in a MeterValuesSampledData Configuration Key.",
"name": "MeterValuesSampledDataMaxLength",
"value": "9",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "The number of physical charging connectors of this Charge Point.",
"name": "NumberOfConnectors",
"value": "1",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Maximum number of items in a StopTxnAlignedData Configuration Key.",
"name": "StopTxnAlignedDataMaxLength",
"value": "0",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Maximum number of items in a StopTxnSampledData Configuration Key.",
"name": "StopTxnSampledDataMaxLength",
"value": "0",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "A list of supported Feature Profiles. Possible profile identifiers: Core, FirmwareManagement, LocalAuthListManagement, Reservation, SmartCharging and RemoteTrigger.",
"name": "SupportedFeatureProfiles",
"desiredValue": [],
"value": "Core,FirmwareManagement,Reservation,LocalAuthListManagement,RemoteTrigger,SmartCharging",
"writable": false,
"editable": true
},
{
"category": "core",
"description": "Maximum number of items in a SupportedFeatureProfiles Configuration Key.",
"name": "SupportedFeatureProfilesMaxLength",
"value": "6",
"writable": false,
"editable": true
}
],
"message": "Success"
}"#;

fn guide_rows() -> Vec<Value> {
    let doc: Value = serde_json::from_str(GUIDE_DETAILS).unwrap();
    doc["result"].as_array().unwrap().clone()
}

/// The charger upload behind the guide's example: one key per row, `readonly = !writable`.
fn guide_snapshot() -> Vec<ReportedKey> {
    guide_rows()
        .iter()
        .map(|row| ReportedKey {
            key: row["name"].as_str().unwrap().to_owned(),
            readonly: !row["writable"].as_bool().unwrap(),
            value: Some(row["value"].as_str().unwrap().to_owned()),
        })
        .collect()
}

/// A profile holding exactly the desired values the guide's example shows.
fn guide_profile() -> DesiredProfile {
    guide_rows()
        .iter()
        .filter(|row| row.get("desiredValue").is_some_and(|d| d != NOT_DEFINED))
        .map(|row| DesiredEntry {
            key: row["name"].as_str().unwrap().to_owned(),
            value: row["desiredValue"].clone(),
            enforced: !row["editable"].as_bool().unwrap(),
        })
        .collect::<Vec<_>>()
        .into()
}

#[test]
fn the_guides_details_array_round_trips_through_configuration_detail_unchanged() {
    let doc: Value = serde_json::from_str(GUIDE_DETAILS).unwrap();
    let original = doc["result"].clone();
    assert_eq!(original.as_array().unwrap().len(), 41);
    let rows: Vec<ConfigurationDetail> = serde_json::from_value(original.clone()).unwrap();
    assert_eq!(serde_json::to_value(&rows).unwrap(), original);
}

/// The JSON text without whitespace between tokens.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_guides_rows_serialise_back_to_the_guides_exact_text_and_field_order() {
    let guide = minify(GUIDE_DETAILS);
    let array = guide
        .strip_prefix(r#"{"ok":true,"result":"#)
        .and_then(|rest| rest.strip_suffix(r#","message":"Success"}"#))
        .unwrap();
    let rows: Vec<ConfigurationDetail> = serde_json::from_str(array).unwrap();
    assert_eq!(serde_json::to_string(&rows).unwrap(), array);
}

#[test]
fn every_guide_row_gets_the_guides_category_and_writable_flag_from_its_upload() {
    let snapshot = guide_snapshot();
    let ours = details(&snapshot, &DesiredProfile::default());
    let guide = guide_rows();
    assert_eq!(ours.len(), guide.len());
    for (row, g) in ours.iter().zip(&guide) {
        assert_eq!(row.name, g["name"], "name");
        assert_eq!(row.category, g["category"], "category of {}", row.name);
        assert_eq!(row.writable, g["writable"], "writable of {}", row.name);
        assert_eq!(row.value, g["value"], "value of {}", row.name);
        assert_eq!(row.editable, g["editable"], "editable of {}", row.name);
        if g["category"] == UNKNOWN {
            assert_eq!(row.description, UNKNOWN);
            assert_eq!(row.desired_value, Some(json!(NOT_DEFINED)), "{}", row.name);
        }
    }
}

#[test]
fn details_reproduce_the_guides_example_except_for_descriptions_given_its_profile() {
    let ours = details(&guide_snapshot(), &guide_profile());
    for (row, g) in ours.iter().zip(guide_rows()) {
        let mut ours = serde_json::to_value(row).unwrap();
        let mut theirs = g.clone();
        ours.as_object_mut().unwrap().remove("description");
        theirs.as_object_mut().unwrap().remove("description");
        assert_eq!(ours, theirs);
    }
}

#[test]
fn our_descriptions_are_our_own_words_not_the_guides() {
    for g in guide_rows() {
        let name = g["name"].as_str().unwrap();
        if let Some(info) = lookup(name) {
            assert_ne!(
                info.description,
                g["description"].as_str().unwrap(),
                "{name}"
            );
        }
    }
}

#[test]
fn catalogue_access_agrees_with_the_guides_writable_flags() {
    for g in guide_rows() {
        let name = g["name"].as_str().unwrap();
        if let Some(info) = lookup(name) {
            let writable = g["writable"].as_bool().unwrap();
            assert_eq!(!info.is_read_only(), writable, "{name}");
        }
    }
}

#[test]
fn every_value_the_guides_charger_reported_passes_the_catalogue_rules() {
    for r in guide_snapshot() {
        if let Some(info) = lookup(&r.key) {
            assert_eq!(
                info.validate(r.value.as_deref().unwrap_or("")),
                Ok(()),
                "{}",
                r.key
            );
        }
    }
}

#[test]
fn the_default_profile_enforces_the_guides_recommended_values_where_its_example_shows_them() {
    let profile = DesiredProfile::default();
    for g in guide_rows() {
        let name = g["name"].as_str().unwrap();
        if g["editable"] == false {
            let entry = profile.get(name).unwrap();
            assert!(entry.enforced, "{name}");
            // The example's ConnectionTimeOut (285) disagrees with the guide's own
            // recommended list (300); the list is what we enforce.
            if name == "ConnectionTimeOut" {
                assert_eq!(entry.value, json!(300));
            } else {
                assert_eq!(entry.value, g["desiredValue"], "{name}");
            }
        }
    }
}

#[test]
fn drift_of_the_guides_upload_against_the_default_profile_lists_each_mismatch_once() {
    let items = drift(&guide_snapshot(), &DesiredProfile::default());
    let summary: Vec<(&str, &str)> = items
        .iter()
        .map(|d| (d.key.as_str(), d.value.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("AuthorizationCacheEnabled", "True"),
            ("ConnectionTimeOut", "285"),
            ("HeartbeatInterval", "901"),
            ("MeterValuesSampledData", "Energy.Active.Import.Register"),
            ("StopTxnSampledData", ""),
            ("TransactionMessageAttempts", "0"),
            ("TransactionMessageRetryInterval", "60"),
            ("WebSocketPingInterval", "120"),
        ]
    );
    assert!(items.iter().all(|d| d.writable && d.enforced));
    assert_eq!(items[2].desired_value, json!(900));
    // "False" reported for a desired `false` (AllowOfflineTxForUnknownId) is no drift.
    assert!(!items.iter().any(|d| d.key == "AllowOfflineTxForUnknownId"));
}

#[test]
fn drift_of_the_guides_upload_against_its_own_profile_includes_advisory_entries() {
    let items = drift(&guide_snapshot(), &guide_profile());
    let advisory: Vec<&str> = items
        .iter()
        .filter(|d| !d.enforced)
        .map(|d| d.key.as_str())
        .collect();
    // LocalAuthListEnabled wants the string "default" and reports "True";
    // SupportedFeatureProfiles wants [] and reports six profiles. LocalPreAuthorize matches.
    assert_eq!(
        advisory,
        ["LocalAuthListEnabled", "SupportedFeatureProfiles"]
    );
    let sfp = items
        .iter()
        .find(|d| d.key == "SupportedFeatureProfiles")
        .unwrap();
    assert!(!sfp.writable);
    assert!(!items.iter().any(|d| d.key == "ConnectionTimeOut"));
}

//! The rows of `GET /v1.1/chargestations/{id}/configurations/details` and the drift list.
//!
//! [`details`] turns a charger's last configuration upload (a list of [`ReportedKey`], as in
//! a GetConfiguration answer) into eDRV's `{category, description, name, desiredValue?,
//! value, writable, editable}` rows (CONTRACT §4). [`drift`] lists the profile keys whose
//! reported value differs from the desired one (`/configurations/drift`).
//!
//! Write-only keys are always shown as [`MASK`] (CONTRACT §8).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalogue::{self, MASK};
use super::desired::{self, DesiredEntry, DesiredProfile};

/// `category` and `description` of a vendor (non-catalogued) key.
pub const UNKNOWN: &str = "Unknown";

/// `desiredValue` of a vendor key that the profile does not mention.
pub const NOT_DEFINED: &str = "Not Defined";

/// One key of a configuration upload, in GetConfiguration's `configurationKey` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedKey {
    /// The key, as the charger spells it.
    pub key: String,
    /// Whether the charger refuses changes to it.
    pub readonly: bool,
    /// The value, when the charger reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One row of `/configurations/details`, fields in eDRV's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationDetail {
    /// `core`, `local_auth`, ... for standard keys, `Unknown` for vendor keys.
    pub category: String,
    /// What the key does, or `Unknown` for vendor keys.
    pub description: String,
    /// The key, as the charger spells it.
    pub name: String,
    /// The profile's typed value, `"Not Defined"` for vendor keys outside the profile,
    /// absent for standard keys outside the profile.
    #[serde(
        rename = "desiredValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub desired_value: Option<Value>,
    /// The reported value (empty when none; masked for write-only keys).
    pub value: String,
    /// Not `readonly` in the upload.
    pub writable: bool,
    /// False exactly when the profile enforces the key.
    pub editable: bool,
}

/// A profile key whose reported value differs from the desired one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftItem {
    /// The key, as the charger spells it (the spelling to use in ChangeConfiguration).
    pub key: String,
    /// The reported value (empty when none).
    pub value: String,
    /// The profile's typed value.
    #[serde(rename = "desiredValue")]
    pub desired_value: Value,
    /// Not `readonly` in the upload.
    pub writable: bool,
    /// Whether the profile enforces the key (else it is advisory).
    pub enforced: bool,
}

/// The `/details` rows for an upload, in upload order.
pub fn details(snapshot: &[ReportedKey], profile: &DesiredProfile) -> Vec<ConfigurationDetail> {
    snapshot
        .iter()
        .map(|reported| detail(reported, profile))
        .collect()
}

fn detail(reported: &ReportedKey, profile: &DesiredProfile) -> ConfigurationDetail {
    let info = catalogue::lookup(&reported.key);
    let write_only = info.is_some_and(catalogue::KeyInfo::is_write_only);
    let entry = profile.get(&reported.key);
    let desired_value = match (entry, info) {
        (Some(_), _) if write_only => Some(Value::from(MASK)),
        (Some(e), _) => Some(e.value.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(Value::from(NOT_DEFINED)),
    };
    ConfigurationDetail {
        category: info.map_or(UNKNOWN, |k| k.category.as_str()).to_owned(),
        description: info.map_or(UNKNOWN, |k| k.description).to_owned(),
        name: reported.key.clone(),
        desired_value,
        value: shown_value(reported, write_only),
        writable: !reported.readonly,
        editable: !entry.is_some_and(|e| e.enforced),
    }
}

fn shown_value(reported: &ReportedKey, write_only: bool) -> String {
    let value = reported.value.as_deref().unwrap_or("");
    if write_only && !value.is_empty() {
        MASK.to_owned()
    } else {
        value.to_owned()
    }
}

/// The profile keys present in the upload whose reported value does not match the
/// desired one, in profile order; both enforced and advisory entries are listed.
///
/// Write-only keys are skipped: their value cannot be read back, so drift cannot be told.
/// A key reported without a value is compared as the empty string.
pub fn drift(snapshot: &[ReportedKey], profile: &DesiredProfile) -> Vec<DriftItem> {
    profile
        .entries
        .iter()
        .filter(|e| !catalogue::is_write_only(&e.key))
        .filter_map(|e| find_reported(snapshot, e).map(|r| (e, r)))
        .filter(|(e, r)| !desired::matches(&e.value, r.value.as_deref().unwrap_or("")))
        .map(|(e, r)| DriftItem {
            key: r.key.clone(),
            value: r.value.clone().unwrap_or_default(),
            desired_value: e.value.clone(),
            writable: !r.readonly,
            enforced: e.enforced,
        })
        .collect()
}

fn find_reported<'a>(snapshot: &'a [ReportedKey], entry: &DesiredEntry) -> Option<&'a ReportedKey> {
    snapshot.iter().find(|r| r.key == entry.key).or_else(|| {
        snapshot
            .iter()
            .find(|r| r.key.eq_ignore_ascii_case(&entry.key))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rk(key: &str, readonly: bool, value: Option<&str>) -> ReportedKey {
        ReportedKey {
            key: key.to_owned(),
            readonly,
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn reported_keys_omit_a_missing_value_and_accept_its_absence() {
        assert_eq!(
            serde_json::to_value(rk("A", true, None)).unwrap(),
            json!({"key": "A", "readonly": true})
        );
        assert_eq!(
            serde_json::to_value(rk("A", false, Some(""))).unwrap(),
            json!({"key": "A", "readonly": false, "value": ""})
        );
        let parsed: ReportedKey =
            serde_json::from_value(json!({"key": "B", "readonly": false})).unwrap();
        assert_eq!(parsed, rk("B", false, None));
    }

    #[test]
    fn detail_fields_serialise_in_the_guides_order() {
        let row = &details(
            &[rk("HeartbeatInterval", false, Some("901"))],
            &DesiredProfile::default(),
        )[0];
        let text = serde_json::to_string(row).unwrap();
        let order = [
            "\"category\"",
            "\"description\"",
            "\"name\"",
            "\"desiredValue\"",
            "\"value\"",
            "\"writable\"",
            "\"editable\"",
        ];
        let positions: Vec<usize> = order.iter().map(|f| text.find(f).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn standard_keys_outside_the_profile_have_no_desired_value_and_are_editable() {
        let rows = details(
            &[rk("ResetRetries", false, None)],
            &DesiredProfile::default(),
        );
        let v = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(v["category"], "core");
        assert!(v.get("desiredValue").is_none());
        assert_eq!(v["value"], "");
        assert_eq!(v["writable"], true);
        assert_eq!(v["editable"], true);
    }

    #[test]
    fn vendor_keys_are_unknown_and_not_defined_unless_the_profile_names_them() {
        let profile = DesiredProfile::from(vec![DesiredEntry::new("VendorMode", "eco", true)]);
        let rows = details(
            &[
                rk("Identity", false, Some("edrv03")),
                rk("VendorMode", false, Some("boost")),
            ],
            &profile,
        );
        assert_eq!(rows[0].category, "Unknown");
        assert_eq!(rows[0].description, "Unknown");
        assert_eq!(rows[0].desired_value, Some(json!("Not Defined")));
        assert!(rows[0].editable);
        assert_eq!(rows[1].category, "Unknown");
        assert_eq!(rows[1].desired_value, Some(json!("eco")));
        assert!(!rows[1].editable);
    }

    #[test]
    fn enforced_entries_are_not_editable_and_advisory_ones_are() {
        let rows = details(
            &[
                rk("heartbeatinterval", false, Some("900")),
                rk("LocalPreAuthorize", false, Some("False")),
            ],
            &DesiredProfile::default(),
        );
        assert_eq!(rows[0].name, "heartbeatinterval");
        assert_eq!(rows[0].desired_value, Some(json!(900)));
        assert!(!rows[0].editable);
        assert_eq!(rows[1].desired_value, Some(json!(false)));
        assert!(rows[1].editable);
    }

    #[test]
    fn write_only_values_are_masked_in_details_and_never_in_drift() {
        let profile = DesiredProfile::from(vec![DesiredEntry::new(
            "AuthorizationKey",
            "secret-pass-1",
            true,
        )]);
        let snapshot = [rk("AuthorizationKey", false, Some("leaked-in-clear"))];
        let rows = details(&snapshot, &profile);
        assert_eq!(rows[0].value, MASK);
        assert_eq!(rows[0].desired_value, Some(json!(MASK)));
        assert_eq!(rows[0].category, "security");
        let text = serde_json::to_string(&rows).unwrap();
        assert!(
            !text.contains("leaked") && !text.contains("secret-pass"),
            "{text}"
        );
        assert!(drift(&snapshot, &profile).is_empty());
        let unset = details(
            &[rk("AuthorizationKey", false, None)],
            &DesiredProfile::default(),
        );
        assert_eq!(unset[0].value, "");
    }

    #[test]
    fn drift_lists_profile_keys_whose_reported_value_differs() {
        let snapshot = [
            rk("AllowOfflineTxForUnknownId", false, Some("False")),
            rk("HeartbeatInterval", false, Some("901")),
            rk("MeterValuesSampledData", false, Some(
                "Current.Import,Energy.Active.Import.Interval,Energy.Active.Import.Register,Power.Active.Import,Voltage",
            )),
            rk("StopTxnSampledData", false, Some("")),
            rk("WebSocketPingInterval", true, Some(" 10")),
            rk("LocalPreAuthorize", false, Some("True")),
            rk("ConnectionTimeOut", true, None),
            rk("Identity", false, Some("edrv03")),
        ];
        let items = drift(&snapshot, &DesiredProfile::default());
        let v = serde_json::to_value(&items).unwrap();
        assert_eq!(
            v,
            json!([
                {"key": "ConnectionTimeOut", "value": "", "desiredValue": 300, "writable": false, "enforced": true},
                {"key": "HeartbeatInterval", "value": "901", "desiredValue": 900, "writable": true, "enforced": true},
                {"key": "StopTxnSampledData", "value": "", "desiredValue": ["Voltage", "Power.Active.Import",
                    "Energy.Active.Import.Register", "Energy.Active.Import.Interval", "Current.Import"],
                    "writable": true, "enforced": true},
                {"key": "LocalPreAuthorize", "value": "True", "desiredValue": false, "writable": true, "enforced": false},
            ])
        );
    }

    #[test]
    fn drift_is_empty_without_an_upload() {
        assert!(drift(&[], &DesiredProfile::default()).is_empty());
        assert!(details(&[], &DesiredProfile::default()).is_empty());
    }
}

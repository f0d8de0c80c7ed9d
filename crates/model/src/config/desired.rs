//! The desired-configuration profile: the values the central system wants chargers to hold.
//!
//! A profile is a list of `{key, value, enforced}` entries (`enforced` defaults to true), so
//! it can be loaded from a TOML or JSON settings section. Values are typed JSON: a number,
//! a boolean, an array of strings (for comma-separated list keys) or a string. Enforced
//! entries show as `editable: false` in `/details`, advisory ones as `editable: true`
//! (CONTRACT §4). The default profile is eDRV's "Recommended Chargestation Configuration"
//! list, enforced, plus `LocalPreAuthorize: false` as advisory, as the guide's example shows.
//!
//! [`matches()`] compares a desired value with what a charger reported; [`to_wire_value`]
//! gives the string sent with ChangeConfiguration.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalogue;

/// The five measurands eDRV recommends for sampled meter data.
pub const RECOMMENDED_MEASURANDS: [&str; 5] = [
    "Voltage",
    "Power.Active.Import",
    "Energy.Active.Import.Register",
    "Energy.Active.Import.Interval",
    "Current.Import",
];

/// A list of desired key values. Serialises as (and deserialises from) a plain list of
/// entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DesiredProfile {
    /// The entries, in the order changes are applied.
    pub entries: Vec<DesiredEntry>,
}

/// One desired key value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredEntry {
    /// The configuration key.
    pub key: String,
    /// The desired value: number, boolean, array of strings or string.
    pub value: Value,
    /// Enforced (`editable: false`) or advisory (`editable: true`); defaults to enforced.
    #[serde(default = "enforced_by_default")]
    pub enforced: bool,
}

fn enforced_by_default() -> bool {
    true
}

impl DesiredEntry {
    /// An entry; `value` is anything convertible to JSON (`900`, `false`, `vec![...]`).
    pub fn new(key: impl Into<String>, value: impl Into<Value>, enforced: bool) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            enforced,
        }
    }
}

impl From<Vec<DesiredEntry>> for DesiredProfile {
    fn from(entries: Vec<DesiredEntry>) -> Self {
        Self { entries }
    }
}

impl Default for DesiredProfile {
    /// eDRV's recommended configuration, enforced, plus advisory `LocalPreAuthorize: false`.
    fn default() -> Self {
        let measurands = || Value::from(RECOMMENDED_MEASURANDS.to_vec());
        let enforced = |key: &str, value: Value| DesiredEntry::new(key, value, true);
        Self {
            entries: vec![
                enforced("AllowOfflineTxForUnknownId", false.into()),
                enforced("AuthorizationCacheEnabled", false.into()),
                enforced("AuthorizeRemoteTxRequests", false.into()),
                enforced("ClockAlignedDataInterval", 0.into()),
                enforced("ConnectionTimeOut", 300.into()),
                enforced("HeartbeatInterval", 900.into()),
                enforced("LocalAuthorizeOffline", true.into()),
                enforced("MeterValuesSampledData", measurands()),
                enforced("MeterValueSampleInterval", 30.into()),
                enforced("MinimumStatusDuration", 5.into()),
                enforced("StopTransactionOnEVSideDisconnect", true.into()),
                enforced("StopTxnSampledData", measurands()),
                enforced("TransactionMessageAttempts", 3.into()),
                enforced("TransactionMessageRetryInterval", 30.into()),
                enforced("UnlockConnectorOnEVSideDisconnect", true.into()),
                enforced("WebSocketPingInterval", 10.into()),
                DesiredEntry::new("LocalPreAuthorize", false, false),
            ],
        }
    }
}

impl DesiredProfile {
    /// The entry for `key`: exact name first, then ignoring ASCII letter case.
    pub fn get(&self, key: &str) -> Option<&DesiredEntry> {
        self.entries.iter().find(|e| e.key == key).or_else(|| {
            self.entries
                .iter()
                .find(|e| e.key.eq_ignore_ascii_case(key))
        })
    }

    /// Checks a profile loaded from settings: keys 1–50 characters and listed once
    /// (ignoring case), values typed (number, boolean, array of strings, string), standard
    /// keys not write-only and their values passing the catalogue's rules.
    ///
    /// # Errors
    ///
    /// Every problem found, each naming the key, joined with `"; "`.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for entry in &self.entries {
            let key = entry.key.as_str();
            if key.is_empty() || key.chars().count() > 50 {
                problems.push(format!("desired key '{key}' must be 1 to 50 characters"));
            }
            if !seen.insert(key.to_ascii_lowercase()) {
                problems.push(format!("desired key {key} is listed more than once"));
            }
            let typed = match &entry.value {
                Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
                Value::Array(items) => items.iter().all(Value::is_string),
                Value::Null | Value::Object(_) => false,
            };
            if !typed {
                problems.push(format!(
                    "desired value of {key} must be a number, a boolean, a string or an array of strings"
                ));
                continue;
            }
            if let Some(info) = catalogue::lookup(key) {
                if info.is_write_only() {
                    problems.push(format!(
                        "{} is write-only and cannot be part of the desired profile",
                        info.name
                    ));
                } else if let Err(rule) = info.validate(&to_wire_value(&entry.value)) {
                    problems.push(format!("desired value: {rule}"));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Whether a charger's `reported` string holds the `desired` typed value.
///
/// Booleans compare ignoring letter case (`"False"` matches `false`), numbers numerically
/// after trimming (`" 900"` matches `900`), arrays as sets of trimmed, non-empty items
/// (order and repeats do not matter, `[]` matches `""`), strings exactly. `null` matches only
/// the empty string; an object never matches.
pub fn matches(desired: &Value, reported: &str) -> bool {
    match desired {
        Value::Bool(b) => {
            let r = reported.trim();
            (*b && r.eq_ignore_ascii_case("true")) || (!*b && r.eq_ignore_ascii_case("false"))
        }
        Value::Number(n) => number_matches(n, reported.trim()),
        Value::Array(items) => {
            let want: BTreeSet<String> = items
                .iter()
                .map(|v| to_wire_value(v).trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            let have: BTreeSet<String> = reported
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            want == have
        }
        Value::String(s) => s == reported,
        Value::Null => reported.is_empty(),
        Value::Object(_) => false,
    }
}

fn number_matches(desired: &serde_json::Number, reported: &str) -> bool {
    if let (Some(d), Ok(r)) = (desired.as_i64(), reported.parse::<i64>()) {
        return d == r;
    }
    if let (Some(d), Ok(r)) = (desired.as_u64(), reported.parse::<u64>()) {
        return d == r;
    }
    match (desired.as_f64(), reported.parse::<f64>()) {
        (Some(d), Ok(r)) => d == r,
        _ => false,
    }
}

/// The string sent with ChangeConfiguration for a typed value: booleans as `true`/`false`,
/// numbers in their shortest decimal form (`30.0` → `30`), arrays comma-joined, strings as
/// they are, `null` as the empty string.
pub fn to_wire_value(desired: &Value) -> String {
    match desired {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                // Rust prints the shortest decimal that reads back as the same f64,
                // without an exponent and without a trailing `.0`.
                n.as_f64()
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| n.to_string())
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(to_wire_value)
            .collect::<Vec<_>>()
            .join(","),
        Value::Null => String::new(),
        Value::Object(_) => desired.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_profile_is_the_guides_recommended_list_enforced_plus_advisory_local_pre_authorize() {
        let p = DesiredProfile::default();
        let expected = json!([
            {"key": "AllowOfflineTxForUnknownId", "value": false, "enforced": true},
            {"key": "AuthorizationCacheEnabled", "value": false, "enforced": true},
            {"key": "AuthorizeRemoteTxRequests", "value": false, "enforced": true},
            {"key": "ClockAlignedDataInterval", "value": 0, "enforced": true},
            {"key": "ConnectionTimeOut", "value": 300, "enforced": true},
            {"key": "HeartbeatInterval", "value": 900, "enforced": true},
            {"key": "LocalAuthorizeOffline", "value": true, "enforced": true},
            {"key": "MeterValuesSampledData", "value": ["Voltage", "Power.Active.Import",
                "Energy.Active.Import.Register", "Energy.Active.Import.Interval", "Current.Import"],
                "enforced": true},
            {"key": "MeterValueSampleInterval", "value": 30, "enforced": true},
            {"key": "MinimumStatusDuration", "value": 5, "enforced": true},
            {"key": "StopTransactionOnEVSideDisconnect", "value": true, "enforced": true},
            {"key": "StopTxnSampledData", "value": ["Voltage", "Power.Active.Import",
                "Energy.Active.Import.Register", "Energy.Active.Import.Interval", "Current.Import"],
                "enforced": true},
            {"key": "TransactionMessageAttempts", "value": 3, "enforced": true},
            {"key": "TransactionMessageRetryInterval", "value": 30, "enforced": true},
            {"key": "UnlockConnectorOnEVSideDisconnect", "value": true, "enforced": true},
            {"key": "WebSocketPingInterval", "value": 10, "enforced": true},
            {"key": "LocalPreAuthorize", "value": false, "enforced": false},
        ]);
        assert_eq!(serde_json::to_value(&p).unwrap(), expected);
        assert_eq!(p.validate(), Ok(()));
        // Every recommended key is a catalogued standard key.
        for e in &p.entries {
            assert!(catalogue::lookup(&e.key).is_some(), "{}", e.key);
        }
    }

    #[test]
    fn a_profile_loads_from_a_plain_list_with_enforced_defaulting_to_true() {
        let p: DesiredProfile = serde_json::from_value(json!([
            {"key": "HeartbeatInterval", "value": 600},
            {"key": "LocalPreAuthorize", "value": false, "enforced": false},
            {"key": "MeterValuesSampledData", "value": ["Voltage"]},
            {"key": "VendorMode", "value": "eco"},
        ]))
        .unwrap();
        assert_eq!(p.entries.len(), 4);
        assert!(p.entries[0].enforced);
        assert!(!p.entries[1].enforced);
        assert_eq!(p.entries[2].value, json!(["Voltage"]));
        assert_eq!(p.validate(), Ok(()));
        assert!(serde_json::from_value::<DesiredProfile>(json!([{"key": "A"}])).is_err());
    }

    #[test]
    fn profile_validation_reports_bad_types_values_duplicates_and_write_only_keys() {
        let p = DesiredProfile::from(vec![
            DesiredEntry::new("HeartbeatInterval", -1, true),
            DesiredEntry::new("heartbeatinterval", 60, true),
            DesiredEntry::new("MeterValuesSampledData", json!(["Voltage", "Foo"]), true),
            DesiredEntry::new("Vendor", json!({"a": 1}), true),
            DesiredEntry::new("Vendor2", json!([1, 2]), true),
            DesiredEntry::new("AuthorizationKey", "abcdefgh12", true),
            DesiredEntry::new("", "x", false),
        ]);
        let err = p.validate().unwrap_err();
        assert!(
            err.contains("desired value: HeartbeatInterval must be an integer >= 0"),
            "{err}"
        );
        assert!(
            err.contains("desired key heartbeatinterval is listed more than once"),
            "{err}"
        );
        assert!(err.contains("'Foo' is not one"), "{err}");
        assert!(err.contains("desired value of Vendor must be"), "{err}");
        assert!(err.contains("desired value of Vendor2 must be"), "{err}");
        assert!(err.contains("AuthorizationKey is write-only"), "{err}");
        assert!(!err.contains("abcdefgh12"), "{err}");
        assert!(
            err.contains("desired key '' must be 1 to 50 characters"),
            "{err}"
        );
    }

    #[test]
    fn get_finds_entries_ignoring_case_and_prefers_the_exact_spelling() {
        let p = DesiredProfile::default();
        assert_eq!(p.get("HeartbeatInterval").unwrap().value, json!(900));
        assert_eq!(p.get("heartbeatINTERVAL").unwrap().key, "HeartbeatInterval");
        assert!(p.get("ResetRetries").is_none());
        let two = DesiredProfile::from(vec![
            DesiredEntry::new("Mode", "a", true),
            DesiredEntry::new("mode", "b", true),
        ]);
        assert_eq!(two.get("mode").unwrap().value, json!("b"));
        assert_eq!(two.get("MODE").unwrap().value, json!("a"));
    }

    #[test]
    fn booleans_match_ignoring_case() {
        assert!(matches(&json!(false), "False"));
        assert!(matches(&json!(false), "false"));
        assert!(matches(&json!(true), " TRUE "));
        assert!(!matches(&json!(true), "False"));
        assert!(!matches(&json!(false), "0"));
        assert!(!matches(&json!(false), ""));
    }

    #[test]
    fn numbers_match_numerically_after_trimming() {
        assert!(matches(&json!(900), "900"));
        assert!(matches(&json!(900), " 900"));
        assert!(matches(&json!(900), "0900"));
        assert!(matches(&json!(900), "+900"));
        assert!(matches(&json!(900.0), "900"));
        assert!(matches(&json!(0.5), "0.50"));
        assert!(!matches(&json!(900), "901"));
        assert!(!matches(&json!(900), "abc"));
        assert!(!matches(&json!(900), ""));
        assert!(matches(&json!(u64::MAX), &u64::MAX.to_string()));
    }

    #[test]
    fn lists_match_as_sets_of_trimmed_items() {
        let want = json!(["Voltage", "Power.Active.Import", "Current.Import"]);
        assert!(matches(&want, "Current.Import,Voltage,Power.Active.Import"));
        assert!(matches(
            &want,
            " Voltage , Power.Active.Import,Current.Import,"
        ));
        assert!(!matches(&want, "Voltage,Power.Active.Import"));
        assert!(!matches(
            &want,
            "Voltage,Power.Active.Import,Current.Import,SoC"
        ));
        assert!(!matches(
            &want,
            "voltage,power.active.import,current.import"
        ));
        assert!(matches(&json!([]), ""));
        assert!(!matches(&json!([]), "Core"));
    }

    #[test]
    fn strings_match_exactly() {
        assert!(matches(&json!("eco"), "eco"));
        assert!(!matches(&json!("eco"), "Eco"));
        assert!(!matches(&json!("eco"), " eco"));
        assert!(matches(&Value::Null, ""));
        assert!(!matches(&json!({}), ""));
    }

    #[test]
    fn wire_values_are_plain_strings() {
        assert_eq!(to_wire_value(&json!(true)), "true");
        assert_eq!(to_wire_value(&json!(false)), "false");
        assert_eq!(to_wire_value(&json!(900)), "900");
        assert_eq!(to_wire_value(&json!(-3)), "-3");
        assert_eq!(to_wire_value(&json!(30.0)), "30");
        assert_eq!(to_wire_value(&json!(0.25)), "0.25");
        assert_eq!(to_wire_value(&json!(1e21)), "1000000000000000000000");
        assert_eq!(to_wire_value(&json!(u64::MAX)), u64::MAX.to_string());
        assert_eq!(
            to_wire_value(&json!(["Voltage", "Current.Import"])),
            "Voltage,Current.Import"
        );
        assert_eq!(to_wire_value(&json!([])), "");
        assert_eq!(to_wire_value(&json!("as is ")), "as is ");
        assert_eq!(to_wire_value(&Value::Null), "");
    }

    #[test]
    fn every_default_value_matches_its_own_wire_form() {
        for e in DesiredProfile::default().entries {
            assert!(matches(&e.value, &to_wire_value(&e.value)), "{}", e.key);
        }
    }
}

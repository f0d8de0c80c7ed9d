//! Tests against eDRV's guide: its `/configurations/details` example is our reference.
//!
//! `GUIDE_DETAILS` is the guide's example response, copied verbatim in `crate::guide`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use super::*;
use crate::guide::CONFIGURATION_DETAILS_RESPONSE as GUIDE_DETAILS;

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

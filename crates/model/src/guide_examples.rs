//! Every JSON example of the eDRV guide (`../shared/reference/...`) parses into our types
//! and serialises back to the same JSON.

use serde_json::Value;

use crate::actions::{ActionView, ConfigurationChange};
use crate::config::ConfigurationDetail;
use crate::events::Envelope;

fn guide() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/edrv-chargestation-configuration.txt"
    );
    std::fs::read_to_string(path).expect("the eDRV guide beside the repository (../shared)")
}

/// The top-level JSON objects in the text, found by brace matching from lines that
/// start with `{`.
fn json_blocks(text: &str) -> Vec<Value> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    for line in text.lines() {
        if depth == 0 && !line.trim_start().starts_with('{') {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        let mut in_string = false;
        let mut escaped = false;
        for c in line.chars() {
            match (in_string, escaped, c) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (_, false, '"') => in_string = !in_string,
                (false, _, '{') => depth += 1,
                (false, _, '}') => depth -= 1,
                _ => {}
            }
        }
        if depth == 0 {
            blocks.push(serde_json::from_str(&current).expect("guide example is JSON"));
            current.clear();
        }
    }
    blocks
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) {
    let typed: T = serde_json::from_value(value.clone()).expect("parses into our type");
    assert_eq!(
        &serde_json::to_value(typed).unwrap(),
        value,
        "round trip changed the JSON"
    );
}

#[test]
fn every_json_example_of_the_guide_round_trips_through_our_types() {
    let blocks = json_blocks(&guide());
    assert_eq!(blocks.len(), 6, "the guide has six JSON examples");
    let mut seen = (0, 0, 0, 0);
    for block in &blocks {
        if block.get("object").is_some() {
            round_trip::<Envelope>(block);
            round_trip::<ActionView>(&block["data"]);
            seen.0 += 1;
        } else if block.get("ok").is_some() {
            assert_eq!(block.as_object().unwrap().len(), 3);
            match &block["result"] {
                Value::Array(_) => {
                    round_trip::<Vec<ConfigurationDetail>>(&block["result"]);
                    seen.1 += 1;
                }
                result => {
                    round_trip::<ActionView>(result);
                    seen.2 += 1;
                }
            }
        } else {
            round_trip::<ConfigurationChange>(block);
            seen.3 += 1;
        }
    }
    assert_eq!(
        seen,
        (3, 1, 1, 1),
        "three events, the details, the action response, the request body"
    );
}

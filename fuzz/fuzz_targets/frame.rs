//! Fuzzes the OCPP-J frame codec with whatever text a charger may send.
//!
//! `Frame::parse` must never panic; a frame it accepts has a message id of 1 to 36
//! characters and reads back the same after we write it; a frame it refuses with a
//! readable message id is answered by a well-formed CALLERROR
//! (`[4, id, "FormationViolation", description, {}]`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use ocpp::frame::MAX_MESSAGE_ID_LEN;
use ocpp::Frame;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // WebSocket text frames are UTF-8; the connection drops anything else earlier.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Frame::parse(text) {
        Ok(frame) => {
            let id_len = frame.message_id().chars().count();
            assert!(
                (1..=MAX_MESSAGE_ID_LEN).contains(&id_len),
                "accepted id length {id_len}"
            );
            let written = frame.to_text();
            let again = match Frame::parse(&written) {
                Ok(again) => again,
                Err(e) => panic!("a frame we wrote does not parse: {e}: {written}"),
            };
            assert_eq!(again.message_id(), frame.message_id());
            assert_eq!(again.to_text(), written, "writing is stable");
        }
        Err(error) => {
            if let Some(answer) = error.to_call_error() {
                let written = Frame::CallError(answer).to_text();
                let value: Value = match serde_json::from_str(&written) {
                    Ok(value) => value,
                    Err(e) => panic!("our CALLERROR is not JSON: {e}: {written}"),
                };
                let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
                assert_eq!(items.len(), 5, "{written}");
                assert_eq!(items[0], 4);
                assert!(items[1].is_string());
                assert_eq!(items[2], "FormationViolation");
                assert!(items[3].is_string());
                assert!(items[4].is_object());
            }
        }
    }
});

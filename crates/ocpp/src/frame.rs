//! The OCPP-J frame codec: `[2, id, action, payload]` (CALL), `[3, id, payload]`
//! (CALLRESULT) and `[4, id, code, description, details]` (CALLERROR).
//!
//! Parsing is lenient about what a charger may reasonably send (numeric message ids,
//! a missing CALLERROR details object) and reports, for anything it cannot accept, the
//! message id when one can be read so the caller can answer with a CALLERROR.
//! This module does no I/O.

use serde_json::{json, Value};

use crate::ErrorCode;

/// The longest message id OCPP-J allows.
pub const MAX_MESSAGE_ID_LEN: usize = 36;

/// A CALL: a request from either side.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub message_id: String,
    pub action: String,
    pub payload: Value,
}

/// A CALLRESULT: the positive answer to a CALL.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    pub message_id: String,
    pub payload: Value,
}

/// A CALLERROR: the negative answer to a CALL.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    pub message_id: String,
    pub code: ErrorCode,
    pub description: String,
    pub details: Value,
}

/// One OCPP-J message.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call(Call),
    CallResult(CallResult),
    CallError(CallError),
}

/// Why a text could not be read as a frame.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON at all; no message id can be read.
    #[error("frame is not valid JSON: {0}")]
    NotJson(String),
    /// JSON, but not an array whose second element is a message id.
    #[error("frame is not an OCPP-J array with a message id")]
    NoMessageId,
    /// The message id was readable but the rest of the frame is malformed.
    #[error("malformed frame {message_id}: {reason}")]
    Malformed {
        message_id: String,
        /// Whether the frame looked like a CALL (so a CALLERROR answer is due).
        is_call: bool,
        reason: String,
    },
}

impl FrameError {
    /// The message id of the offending frame, when it could be read.
    pub fn message_id(&self) -> Option<&str> {
        match self {
            FrameError::Malformed { message_id, .. } => Some(message_id),
            _ => None,
        }
    }

    /// The CALLERROR that answers this malformed frame, when one is due.
    /// Only CALLs (or frames whose type cannot be told) are answered; a broken
    /// CALLRESULT or CALLERROR is logged and dropped by the caller.
    pub fn to_call_error(&self) -> Option<CallError> {
        match self {
            FrameError::Malformed {
                message_id,
                is_call: true,
                reason,
            } => Some(CallError {
                message_id: message_id.clone(),
                code: ErrorCode::FormationViolation,
                description: reason.clone(),
                details: json!({}),
            }),
            _ => None,
        }
    }
}

fn read_message_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Frame {
    /// Parses one text frame.
    ///
    /// # Errors
    /// [`FrameError`] when the text is not an OCPP-J frame; see its variants.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
        Frame::from_value(value)
    }

    /// Reads a frame from an already parsed JSON value.
    ///
    /// # Errors
    /// As [`Frame::parse`].
    pub fn from_value(value: Value) -> Result<Frame, FrameError> {
        let Value::Array(mut items) = value else {
            return Err(FrameError::NoMessageId);
        };
        let message_id = items
            .get(1)
            .and_then(read_message_id)
            .ok_or(FrameError::NoMessageId)?;
        let type_id = items.first().and_then(Value::as_u64);
        let malformed = |is_call: bool, reason: String| FrameError::Malformed {
            message_id: message_id.clone(),
            is_call,
            reason,
        };
        if message_id.is_empty() || message_id.chars().count() > MAX_MESSAGE_ID_LEN {
            return Err(malformed(
                type_id != Some(3) && type_id != Some(4),
                format!("message id must be 1 to {MAX_MESSAGE_ID_LEN} characters"),
            ));
        }
        match type_id {
            Some(2) => {
                if items.len() != 4 {
                    return Err(malformed(true, "a CALL has exactly 4 elements".into()));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                let action = match items.pop() {
                    Some(Value::String(action)) if !action.is_empty() => action,
                    _ => return Err(malformed(true, "action must be a non-empty string".into())),
                };
                if !payload.is_object() {
                    return Err(malformed(true, "payload must be a JSON object".into()));
                }
                Ok(Frame::Call(Call {
                    message_id,
                    action,
                    payload,
                }))
            }
            Some(3) => {
                if items.len() != 3 {
                    return Err(malformed(
                        false,
                        "a CALLRESULT has exactly 3 elements".into(),
                    ));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                if !payload.is_object() {
                    return Err(malformed(false, "payload must be a JSON object".into()));
                }
                Ok(Frame::CallResult(CallResult {
                    message_id,
                    payload,
                }))
            }
            Some(4) => {
                if !(4..=5).contains(&items.len()) {
                    return Err(malformed(false, "a CALLERROR has 5 elements".into()));
                }
                let details = if items.len() == 5 {
                    items.pop().unwrap_or(Value::Null)
                } else {
                    json!({})
                };
                let description = match items.pop() {
                    Some(Value::String(s)) => s,
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let code = match items.pop() {
                    Some(Value::String(s)) => ErrorCode::parse_lenient(&s),
                    _ => ErrorCode::GenericError,
                };
                Ok(Frame::CallError(CallError {
                    message_id,
                    code,
                    description,
                    details,
                }))
            }
            _ => Err(malformed(true, "unknown message type id".into())),
        }
    }

    /// The frame's message id.
    pub fn message_id(&self) -> &str {
        match self {
            Frame::Call(c) => &c.message_id,
            Frame::CallResult(r) => &r.message_id,
            Frame::CallError(e) => &e.message_id,
        }
    }

    /// The frame as a JSON value, in OCPP-J array form.
    pub fn to_value(&self) -> Value {
        match self {
            Frame::Call(c) => json!([2, c.message_id, c.action, c.payload]),
            Frame::CallResult(r) => json!([3, r.message_id, r.payload]),
            Frame::CallError(e) => {
                let details = if e.details.is_object() {
                    e.details.clone()
                } else {
                    json!({})
                };
                json!([4, e.message_id, e.code.as_str(), e.description, details])
            }
        }
    }

    /// The frame serialised as the text sent on the wire.
    pub fn to_text(&self) -> String {
        self.to_value().to_string()
    }
}

impl CallError {
    /// A CALLERROR answering `message_id` with an empty details object.
    pub fn new(
        message_id: impl Into<String>,
        code: ErrorCode,
        description: impl Into<String>,
    ) -> Self {
        CallError {
            message_id: message_id.into(),
            code,
            description: description.into(),
            details: json!({}),
        }
    }
}

/// A fresh message id for a CALL we send: a UUID (36 characters).
pub fn new_message_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_round_trips() {
        let text = r#"[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]"#;
        let frame = Frame::parse(text).unwrap();
        assert!(matches!(&frame, Frame::Call(c) if c.action == "BootNotification"));
        assert_eq!(Frame::parse(&frame.to_text()).unwrap(), frame);
    }

    #[test]
    fn numeric_message_ids_from_chargers_are_accepted_as_text() {
        let frame = Frame::parse(r#"[2, 42, "Heartbeat", {}]"#).unwrap();
        assert_eq!(frame.message_id(), "42");
    }

    #[test]
    fn call_error_uses_exact_shape_with_empty_details_object() {
        let frame = Frame::CallError(CallError::new("1", ErrorCode::NotImplemented, "nope"));
        assert_eq!(frame.to_text(), r#"[4,"1","NotImplemented","nope",{}]"#);
    }

    #[test]
    fn non_json_and_non_array_frames_have_no_message_id() {
        assert!(matches!(Frame::parse("hello"), Err(FrameError::NotJson(_))));
        assert_eq!(Frame::parse("{}"), Err(FrameError::NoMessageId));
        assert_eq!(Frame::parse("[2]"), Err(FrameError::NoMessageId));
    }

    #[test]
    fn malformed_call_with_readable_id_answers_formation_violation() {
        let err = Frame::parse(r#"[2,"abc","Heartbeat"]"#).unwrap_err();
        let answer = err.to_call_error().unwrap();
        assert_eq!(answer.message_id, "abc");
        assert_eq!(answer.code, ErrorCode::FormationViolation);
        let err = Frame::parse(r#"[2,"abc","Heartbeat",[]]"#).unwrap_err();
        assert!(err.to_call_error().is_some());
    }

    #[test]
    fn over_long_message_id_is_a_formation_violation() {
        let id = "x".repeat(37);
        let err = Frame::parse(&format!(r#"[2,"{id}","Heartbeat",{{}}]"#)).unwrap_err();
        assert_eq!(
            err.to_call_error().unwrap().code,
            ErrorCode::FormationViolation
        );
    }

    #[test]
    fn malformed_call_result_is_not_answered() {
        let err = Frame::parse(r#"[3,"abc"]"#).unwrap_err();
        assert!(err.to_call_error().is_none());
    }

    #[test]
    fn call_error_without_details_is_tolerated() {
        let frame = Frame::parse(r#"[4,"a","notsupported","x"]"#).unwrap();
        let Frame::CallError(e) = frame else {
            panic!("not a CALLERROR")
        };
        assert_eq!(e.code, ErrorCode::NotSupported);
    }

    #[test]
    fn new_message_ids_fit_the_limit() {
        assert!(new_message_id().len() <= MAX_MESSAGE_ID_LEN);
    }
}

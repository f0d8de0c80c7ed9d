//! The OCPP-J 1.6 CALLERROR codes, spelled exactly as the specification spells them
//! (including its `OccurenceConstraintViolation` misspelling).

use std::fmt;

/// An OCPP-J 1.6 CALLERROR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The requested action is not known by the receiver.
    NotImplemented,
    /// The requested action is recognised but not supported by the receiver.
    NotSupported,
    /// An internal error occurred and the receiver could not process the action.
    InternalError,
    /// Payload for the action is incomplete.
    ProtocolError,
    /// A security issue occurred while processing the action.
    SecurityError,
    /// Payload for the action is syntactically incorrect or not conform the PDU structure.
    FormationViolation,
    /// Payload is syntactically correct but at least one field contains an invalid value.
    PropertyConstraintViolation,
    /// Payload violates occurrence constraints (1.6J spelling kept on purpose).
    OccurenceConstraintViolation,
    /// Payload violates data type constraints.
    TypeConstraintViolation,
    /// Any other error.
    GenericError,
}

impl ErrorCode {
    /// Every code, in specification order.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::InternalError,
        ErrorCode::ProtocolError,
        ErrorCode::SecurityError,
        ErrorCode::FormationViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::OccurenceConstraintViolation,
        ErrorCode::TypeConstraintViolation,
        ErrorCode::GenericError,
    ];

    /// The exact wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::FormationViolation => "FormationViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::OccurenceConstraintViolation => "OccurenceConstraintViolation",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
            ErrorCode::GenericError => "GenericError",
        }
    }

    /// Parses a code leniently: case-insensitive, and the corrected spelling
    /// `OccurrenceConstraintViolation` is accepted too. Unknown codes become `GenericError`.
    pub fn parse_lenient(text: &str) -> ErrorCode {
        if text.eq_ignore_ascii_case("OccurrenceConstraintViolation") {
            return ErrorCode::OccurenceConstraintViolation;
        }
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str().eq_ignore_ascii_case(text))
            .unwrap_or(ErrorCode::GenericError)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_exactly_as_in_ocpp_j_1_6() {
        let spelled: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spelled,
            [
                "NotImplemented",
                "NotSupported",
                "InternalError",
                "ProtocolError",
                "SecurityError",
                "FormationViolation",
                "PropertyConstraintViolation",
                "OccurenceConstraintViolation",
                "TypeConstraintViolation",
                "GenericError",
            ]
        );
    }

    #[test]
    fn parsing_is_case_insensitive_and_falls_back_to_generic_error() {
        assert_eq!(
            ErrorCode::parse_lenient("notimplemented"),
            ErrorCode::NotImplemented
        );
        assert_eq!(
            ErrorCode::parse_lenient("OccurrenceConstraintViolation"),
            ErrorCode::OccurenceConstraintViolation
        );
        assert_eq!(ErrorCode::parse_lenient("Bogus"), ErrorCode::GenericError);
    }
}

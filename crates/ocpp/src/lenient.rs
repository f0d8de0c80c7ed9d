//! Helpers for reading what chargers send: be lenient in what we accept.
//!
//! Chargers in the field send wrong-case enum values, numbers where strings are due,
//! numeric strings where integers are due, and strings longer than OCPP's `CiString`
//! limits. This module turns all of that into typed values instead of errors, and
//! classifies what really cannot be read into the OCPP-J CALLERROR code to answer with
//! ([`parse_payload`]).
//!
//! - [`lenient_enum!`](crate::lenient_enum) defines OCPP enums: case-insensitive on
//!   input, unknown values kept as `Unknown(text)`, exact OCPP spelling on output.
//! - [`string`], [`int`], [`decimal`], [`boolean`], [`json_text`] and their `opt_`
//!   forms are `#[serde(deserialize_with = ...)]` functions.
//! - Over-long strings are accepted and logged with [`warn_if_too_long`], never rejected.
//!
//! Nothing here is used when *serialising*: what we send is strict by construction.
//! This module does no I/O (apart from `tracing` warnings).

use std::fmt;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, Unexpected, Visitor};
use serde_json::Value;

use crate::ErrorCode;

#[doc(hidden)]
pub use serde as __serde;

/// Defines an OCPP enum with the listed variants plus `Unknown(String)`.
///
/// Each variant's wire spelling is its name, or the literal given after `=`
/// (`EnergyActiveImportRegister = "Energy.Active.Import.Register"`).
///
/// The generated type derives `Clone, Debug, PartialEq, Eq, Hash` and has:
/// - `as_str()`: the exact OCPP spelling (`Unknown` gives back its text);
/// - `parse(text)`: case-insensitive, surrounding whitespace ignored, never fails;
/// - `is_known()`, `KNOWN` (every known wire spelling, in order);
/// - `Display`, `FromStr` (infallible), `Serialize` (exact spelling) and
///   `Deserialize` (a string, number or bool, read with `parse`; never fails on
///   an unknown value).
#[macro_export]
macro_rules! lenient_enum {
    (@wire $variant:ident) => { ::core::stringify!($variant) };
    (@wire $variant:ident $wire:literal) => { $wire };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident $(= $wire:literal)?
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(clippy::upper_case_acronyms)] // variants mirror OCPP's spelling (`EV`, `VA`)
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
            /// A value this implementation does not know, kept exactly as received.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Every known wire spelling, in declaration order.
            pub const KNOWN: &'static [&'static str] =
                &[$($crate::lenient_enum!(@wire $variant $($wire)?)),+];

            /// The exact OCPP spelling (an `Unknown` value gives back its text).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $crate::lenient_enum!(@wire $variant $($wire)?),)+
                    Self::Unknown(text) => text.as_str(),
                }
            }

            /// Reads a value case-insensitively; an unknown value becomes `Unknown(text)`.
            pub fn parse(text: &str) -> Self {
                let trimmed = text.trim();
                $(
                    if trimmed.eq_ignore_ascii_case(
                        $crate::lenient_enum!(@wire $variant $($wire)?)
                    ) {
                        return Self::$variant;
                    }
                )+
                Self::Unknown(text.to_owned())
            }

            /// Whether this is one of the listed variants (not `Unknown`).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = ::core::convert::Infallible;

            fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
                Ok(Self::parse(text))
            }
        }

        impl $crate::lenient::__serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error>
            where
                S: $crate::lenient::__serde::Serializer,
            {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::lenient::__serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
            where
                D: $crate::lenient::__serde::Deserializer<'de>,
            {
                $crate::lenient::string(deserializer).map(|text| Self::parse(&text))
            }
        }
    };
}

/// Defines, inside this crate, one `deserialize_with` function per `CiString` field:
/// the field is read leniently (see [`LenientText`]) and an over-long value is logged
/// with [`warn_if_too_long`] under the field's OCPP name.
///
/// ```text
/// ci_strings! {
///     fn vendor("chargePointVendor", 20);
/// }
/// // #[serde(deserialize_with = "vendor")] pub charge_point_vendor: String,
/// ```
macro_rules! ci_strings {
    ($(fn $name:ident($field:literal, $max:expr);)+) => {
        $(
            fn $name<'de, D, T>(deserializer: D) -> ::core::result::Result<T, D::Error>
            where
                D: ::serde::Deserializer<'de>,
                T: $crate::lenient::LenientText,
            {
                $crate::lenient::ci_text(deserializer, $field, $max)
            }
        )+
    };
}
pub(crate) use ci_strings;

/// Why a payload could not be read, with the CALLERROR code to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct PayloadError {
    pub code: ErrorCode,
    pub description: String,
}

impl PayloadError {
    /// Classifies a serde error: a missing field is a `ProtocolError`, a value whose
    /// type (or range) cannot be coerced is a `TypeConstraintViolation`, anything else
    /// a `FormationViolation`.
    pub fn from_serde(error: &serde_json::Error) -> PayloadError {
        let description = error.to_string();
        let code = if description.starts_with("missing field") {
            ErrorCode::ProtocolError
        } else if description.starts_with("invalid type")
            || description.starts_with("invalid value")
        {
            ErrorCode::TypeConstraintViolation
        } else {
            ErrorCode::FormationViolation
        };
        PayloadError { code, description }
    }

    /// The CALLERROR answering the CALL `message_id` with this error.
    pub fn to_call_error(&self, message_id: impl Into<String>) -> crate::CallError {
        crate::CallError::new(message_id, self.code, self.description.clone())
    }
}

/// Reads a CALL or CALLRESULT payload as `T`, leniently. Unknown fields are ignored.
///
/// # Errors
/// [`PayloadError`] with `ProtocolError` when a required field is missing,
/// `TypeConstraintViolation` when a field's value cannot be coerced to its type,
/// `FormationViolation` when the payload is not a JSON object or is otherwise malformed.
pub fn parse_payload<T: DeserializeOwned>(payload: &Value) -> Result<T, PayloadError> {
    if !payload.is_object() {
        return Err(PayloadError {
            code: ErrorCode::FormationViolation,
            description: "payload must be a JSON object".to_owned(),
        });
    }
    T::deserialize(payload).map_err(|e| PayloadError::from_serde(&e))
}

/// Logs a warning when `value` is longer than `max` characters (an OCPP `CiString`
/// limit). The value itself is not logged: it may be a secret (e.g. `AuthorizationKey`).
pub fn warn_if_too_long(field: &str, value: &str, max: usize) {
    let len = value.chars().count();
    if len > max {
        tracing::warn!(field, len, max, "accepted a string longer than OCPP allows");
    }
}

// ---------------------------------------------------------------------------------
// Text

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string (a number or boolean is accepted as text)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// Reads a string; a JSON number or bool is accepted and turned into its text.
///
/// # Errors
/// An "invalid type" error for `null`, arrays and objects.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(TextVisitor)
}

/// As [`string`], for an optional field (`null` reads as `None`). Use with
/// `#[serde(default)]`.
///
/// # Errors
/// As [`string`].
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Text>::deserialize(d)?.map(|t| t.0))
}

struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string(d).map(Text)
    }
}

/// Text-like field shapes that can be read leniently and checked against a `CiString`
/// limit: `String`, `Option<String>`, `Vec<String>` and `Option<Vec<String>>`.
pub trait LenientText: Sized {
    /// Reads the value with [`string`] semantics for each string.
    ///
    /// # Errors
    /// As [`string`].
    fn deserialize_text<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;

    /// Calls [`warn_if_too_long`] for each string.
    fn warn_if_too_long(&self, field: &str, max: usize);
}

impl LenientText for String {
    fn deserialize_text<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string(d)
    }

    fn warn_if_too_long(&self, field: &str, max: usize) {
        warn_if_too_long(field, self, max);
    }
}

impl LenientText for Option<String> {
    fn deserialize_text<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_string(d)
    }

    fn warn_if_too_long(&self, field: &str, max: usize) {
        if let Some(value) = self {
            warn_if_too_long(field, value, max);
        }
    }
}

impl LenientText for Vec<String> {
    fn deserialize_text<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Text>::deserialize(d)?
            .into_iter()
            .map(|t| t.0)
            .collect())
    }

    fn warn_if_too_long(&self, field: &str, max: usize) {
        for value in self {
            warn_if_too_long(field, value, max);
        }
    }
}

impl LenientText for Option<Vec<String>> {
    fn deserialize_text<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<Vec<Text>>::deserialize(d)?.map(|v| v.into_iter().map(|t| t.0).collect()))
    }

    fn warn_if_too_long(&self, field: &str, max: usize) {
        if let Some(values) = self {
            values.warn_if_too_long(field, max);
        }
    }
}

/// Reads a text-like value leniently and warns when a string exceeds `max` characters.
///
/// # Errors
/// As [`string`].
pub fn ci_text<'de, D, T>(d: D, field: &str, max: usize) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: LenientText,
{
    let value = T::deserialize_text(d)?;
    value.warn_if_too_long(field, max);
    Ok(value)
}

/// Reads any JSON value as text: a string as it is, anything else as its JSON text
/// (for DataTransfer `data`, which is a string in 1.6 but often sent as an object).
///
/// # Errors
/// Only when the input is not JSON-like at all.
pub fn json_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(text) => text,
        other => other.to_string(),
    })
}

/// As [`json_text`], for an optional field (`null` reads as `None`).
///
/// # Errors
/// As [`json_text`].
pub fn opt_json_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    })
}

// ---------------------------------------------------------------------------------
// Numbers

struct IntVisitor;

fn round_to_i64<E: de::Error>(
    v: f64,
    unexpected: Unexpected<'_>,
    exp: &dyn de::Expected,
) -> Result<i64, E> {
    // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let rounded = v.round();
    if rounded.is_finite() && (-LIMIT..LIMIT).contains(&rounded) {
        Ok(rounded as i64)
    } else {
        Err(E::invalid_value(unexpected, exp))
    }
}

impl Visitor<'_> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer (a number or a numeric string)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        round_to_i64(v, Unexpected::Float(v), &self)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        let trimmed = v.trim();
        if let Ok(n) = trimmed.parse::<i64>() {
            return Ok(n);
        }
        match trimmed.parse::<f64>() {
            Ok(f) if f.is_finite() => round_to_i64(f, Unexpected::Str(v), &self),
            _ => Err(E::invalid_type(Unexpected::Str(v), &self)),
        }
    }
}

/// Reads an integer: a JSON number (a fractional one is rounded) or a numeric string
/// such as `"5"`, into any integer type that holds it.
///
/// # Errors
/// "invalid type" for other values (objects, booleans, non-numeric strings), "invalid
/// value" when the number does not fit `T`.
pub fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let v = d.deserialize_any(IntVisitor)?;
    T::try_from(v)
        .map_err(|_| de::Error::invalid_value(Unexpected::Signed(v), &"an integer within range"))
}

/// As [`int`], for an optional field (`null` reads as `None`).
///
/// # Errors
/// As [`int`].
pub fn opt_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    Ok(Option::<Int<T>>::deserialize(d)?.map(|i| i.0))
}

struct Int<T>(T);

impl<'de, T: TryFrom<i64>> Deserialize<'de> for Int<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        int(d).map(Int)
    }
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number (a number or a numeric string)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(f),
            _ => Err(E::invalid_type(Unexpected::Str(v), &self)),
        }
    }
}

/// Reads a decimal number: a JSON number or a numeric string such as `"6.5"`.
///
/// # Errors
/// "invalid type" for other values.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// As [`decimal`], for an optional field (`null` reads as `None`).
///
/// # Errors
/// As [`decimal`].
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<Decimal>::deserialize(d)?.map(|x| x.0))
}

struct Decimal(f64);

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decimal(d).map(Decimal)
    }
}

// ---------------------------------------------------------------------------------
// Booleans

struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean (true/false, \"true\"/\"false\" in any case, or 0/1)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        let trimmed = v.trim();
        if trimmed.eq_ignore_ascii_case("true") || trimmed == "1" {
            Ok(true)
        } else if trimmed.eq_ignore_ascii_case("false") || trimmed == "0" {
            Ok(false)
        } else {
            Err(E::invalid_type(Unexpected::Str(v), &self))
        }
    }
}

/// Reads a boolean: `true`/`false`, the strings `"true"`/`"false"` in any case, or 0/1.
///
/// # Errors
/// "invalid type" for other values.
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_any(BoolVisitor)
}

/// As [`boolean`], for an optional field (`null` reads as `None`).
///
/// # Errors
/// As [`boolean`].
pub fn opt_boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Option::<Boolean>::deserialize(d)?.map(|b| b.0))
}

struct Boolean(bool);

impl<'de> Deserialize<'de> for Boolean {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        boolean(d).map(Boolean)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;

    crate::lenient_enum! {
        /// A test enum.
        pub enum Colour {
            Red,
            DarkBlue = "Dark.Blue",
        }
    }

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        #[serde(deserialize_with = "string")]
        name: String,
        #[serde(
            default,
            deserialize_with = "opt_string",
            skip_serializing_if = "Option::is_none"
        )]
        note: Option<String>,
        #[serde(deserialize_with = "int")]
        count: i32,
        #[serde(
            default,
            deserialize_with = "opt_int",
            skip_serializing_if = "Option::is_none"
        )]
        extra: Option<u8>,
        #[serde(
            default,
            deserialize_with = "opt_decimal",
            skip_serializing_if = "Option::is_none"
        )]
        limit: Option<f64>,
        #[serde(
            default,
            deserialize_with = "opt_boolean",
            skip_serializing_if = "Option::is_none"
        )]
        flag: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        colour: Option<Colour>,
    }

    fn parse(value: serde_json::Value) -> Result<Sample, PayloadError> {
        parse_payload(&value)
    }

    #[test]
    fn enum_values_are_read_case_insensitively_and_written_exactly() {
        assert_eq!(Colour::parse("red"), Colour::Red);
        assert_eq!(Colour::parse(" dark.BLUE "), Colour::DarkBlue);
        assert_eq!(
            serde_json::to_value(Colour::DarkBlue).unwrap(),
            json!("Dark.Blue")
        );
        assert_eq!(Colour::DarkBlue.to_string(), "Dark.Blue");
        assert_eq!(Colour::KNOWN, &["Red", "Dark.Blue"]);
    }

    #[test]
    fn unknown_enum_values_are_kept_as_sent_and_written_back_unchanged() {
        let colour: Colour = serde_json::from_value(json!("Purple")).unwrap();
        assert_eq!(colour, Colour::Unknown("Purple".into()));
        assert!(!colour.is_known());
        assert_eq!(colour.as_str(), "Purple");
        assert_eq!(serde_json::to_value(&colour).unwrap(), json!("Purple"));
    }

    #[test]
    fn numbers_and_booleans_are_accepted_where_strings_are_due() {
        let s = parse(json!({"name": 12345, "note": true, "count": 1})).unwrap();
        assert_eq!(s.name, "12345");
        assert_eq!(s.note.as_deref(), Some("true"));
    }

    #[test]
    fn numeric_strings_and_whole_floats_are_accepted_where_integers_are_due() {
        let s = parse(json!({"name": "a", "count": " 5 ", "extra": 7.0})).unwrap();
        assert_eq!(s.count, 5);
        assert_eq!(s.extra, Some(7));
    }

    #[test]
    fn decimals_and_booleans_are_read_from_strings_too() {
        let s = parse(json!({"name": "a", "count": 1, "limit": "6.5", "flag": "TRUE"})).unwrap();
        assert_eq!(s.limit, Some(6.5));
        assert_eq!(s.flag, Some(true));
        let s = parse(json!({"name": "a", "count": 1, "limit": 16, "flag": "false"})).unwrap();
        assert_eq!(s.limit, Some(16.0));
        assert_eq!(s.flag, Some(false));
    }

    #[test]
    fn null_optional_fields_read_as_absent() {
        let s =
            parse(json!({"name": "a", "count": 1, "note": null, "extra": null, "colour": null}))
                .unwrap();
        assert_eq!(s.note, None);
        assert_eq!(s.extra, None);
        assert_eq!(s.colour, None);
    }

    #[test]
    fn missing_required_field_is_a_protocol_error() {
        let err = parse(json!({"count": 1})).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProtocolError);
        assert!(err.description.contains("name"), "{}", err.description);
    }

    #[test]
    fn uncoercible_values_are_type_constraint_violations() {
        for bad in [
            json!({}),
            json!([]),
            json!("five"),
            json!(true),
            json!(null),
        ] {
            let err = parse(json!({"name": "a", "count": bad})).unwrap_err();
            assert_eq!(
                err.code,
                ErrorCode::TypeConstraintViolation,
                "{bad}: {}",
                err.description
            );
        }
        let err = parse(json!({"name": {"x": 1}, "count": 1})).unwrap_err();
        assert_eq!(err.code, ErrorCode::TypeConstraintViolation);
        let err = parse(json!({"name": "a", "count": 1, "colour": {}})).unwrap_err();
        assert_eq!(err.code, ErrorCode::TypeConstraintViolation);
    }

    #[test]
    fn out_of_range_integers_are_type_constraint_violations() {
        let err = parse(json!({"name": "a", "count": 1, "extra": 300})).unwrap_err();
        assert_eq!(err.code, ErrorCode::TypeConstraintViolation);
        let err = parse(json!({"name": "a", "count": u64::MAX})).unwrap_err();
        assert_eq!(err.code, ErrorCode::TypeConstraintViolation);
    }

    #[test]
    fn non_object_payloads_are_formation_violations() {
        let err = parse(json!(["a", 1])).unwrap_err();
        assert_eq!(err.code, ErrorCode::FormationViolation);
    }

    #[test]
    fn payload_errors_become_call_errors_for_the_message() {
        let err = parse(json!({})).unwrap_err();
        let answer = err.to_call_error("m1");
        assert_eq!(answer.message_id, "m1");
        assert_eq!(answer.code, ErrorCode::ProtocolError);
    }

    #[test]
    fn extra_fields_are_ignored() {
        let s = parse(json!({"name": "a", "count": 1, "vendorSpecific": {"x": [1, 2]}})).unwrap();
        assert_eq!(s.name, "a");
    }

    #[test]
    fn over_long_strings_are_accepted() {
        #[derive(Debug, Deserialize)]
        struct Limited {
            #[serde(deserialize_with = "short")]
            id: String,
        }
        ci_strings! {
            fn short("id", 3);
        }
        let v: Limited = parse_payload(&json!({"id": "much too long"})).unwrap();
        assert_eq!(v.id, "much too long");
    }

    #[test]
    fn any_json_is_kept_as_text() {
        #[derive(Debug, Deserialize)]
        struct Data {
            #[serde(default, deserialize_with = "opt_json_text")]
            data: Option<String>,
        }
        let d: Data = parse_payload(&json!({"data": {"a": 1}})).unwrap();
        assert_eq!(d.data.as_deref(), Some(r#"{"a":1}"#));
        let d: Data = parse_payload(&json!({"data": "plain"})).unwrap();
        assert_eq!(d.data.as_deref(), Some("plain"));
        let d: Data = parse_payload(&json!({"data": null})).unwrap();
        assert_eq!(d.data, None);
    }
}

//! Strict reading of payloads we are asked to *send* (an API body that becomes a CALL):
//! the opposite of [`crate::lenient`].
//!
//! [`from_api`] reads a JSON object as an OCPP request type and accepts it only when it
//! is exactly what the OCPP 1.6 JSON schema allows: every required field present, every
//! value of its schema type (no numbers as strings, no wrong-case enums), no unknown
//! fields, and the request's own rules ([`Validate`]: known enum values, `CiString`
//! lengths, date-times, ranges). The first problem found is returned as a
//! [`FieldError`] naming the field by its path (`csChargingProfiles.chargingSchedule.
//! chargingSchedulePeriod[0].limit`).
//!
//! How: the body is deserialised with the types' (lenient) readers while tracking the
//! path, serialised back (strictly), and the result must equal the body; then
//! [`Validate::validate`] checks what types alone cannot. No I/O here.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Why a body is not a valid request: the field (a path) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path in OCPP spelling; empty for the body itself.
    pub field: String,
    /// What is wrong, e.g. `is required`, `must be an integer`.
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "the body {}", self.problem)
        } else {
            write!(f, "'{}' {}", self.field, self.problem)
        }
    }
}

impl std::error::Error for FieldError {}

/// The rules of a request that its types alone do not enforce.
pub trait Validate {
    /// Reports the first broken rule to `check`.
    fn validate(&self, check: &mut Check);
}

/// Collects the first broken rule while [`Validate`] implementations walk a request.
#[derive(Debug, Default)]
pub struct Check {
    path: String,
    error: Option<FieldError>,
}

impl Check {
    fn at(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else if field.starts_with('[') {
            format!("{}{field}", self.path)
        } else {
            format!("{}.{field}", self.path)
        }
    }

    /// Records a broken rule for `field` (the first one wins).
    pub fn fail(&mut self, field: &str, problem: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(FieldError {
                field: self.at(field),
                problem: problem.into(),
            });
        }
    }

    /// Checks a nested object under `field`.
    pub fn nested<T: Validate + ?Sized>(&mut self, field: &str, value: &T) {
        let outer = std::mem::take(&mut self.path);
        self.path = if outer.is_empty() {
            field.to_owned()
        } else {
            format!("{outer}.{field}")
        };
        value.validate(self);
        self.path = outer;
    }

    /// Checks an optional nested object under `field`.
    pub fn opt_nested<T: Validate>(&mut self, field: &str, value: Option<&T>) {
        if let Some(value) = value {
            self.nested(field, value);
        }
    }

    /// Checks each element of an array under `field` (`field[0]`, `field[1]`, ...).
    pub fn each<T: Validate>(&mut self, field: &str, items: &[T]) {
        for (index, item) in items.iter().enumerate() {
            self.nested(&format!("{field}[{index}]"), item);
        }
    }

    /// A `CiString` limit.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
    }

    /// A `CiString` limit on an optional field.
    pub fn opt_max_len(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.max_len(field, value, max);
        }
    }

    /// An enum value must be one of the known spellings.
    pub fn known(&mut self, field: &str, known: bool, allowed: &[&str]) {
        if !known {
            self.fail(field, format!("must be one of {}", allowed.join(", ")));
        }
    }

    /// An integer lower bound.
    pub fn min(&mut self, field: &str, value: i64, min: i64) {
        if value < min {
            self.fail(field, format!("must be at least {min}"));
        }
    }

    /// An integer lower bound on an optional field.
    pub fn opt_min(&mut self, field: &str, value: Option<i64>, min: i64) {
        if let Some(value) = value {
            self.min(field, value, min);
        }
    }

    /// An RFC 3339 date-time (`2024-05-01T10:00:00Z`, fractions and offsets allowed).
    pub fn date_time(&mut self, field: &str, value: &str) {
        if !is_date_time(value) {
            self.fail(
                field,
                "must be an RFC 3339 date-time such as 2024-05-01T10:00:00Z",
            );
        }
    }

    /// An RFC 3339 date-time on an optional field.
    pub fn opt_date_time(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.date_time(field, value);
        }
    }

    /// An absolute URI (`scheme:...`), as the schema's `format: uri`.
    pub fn uri(&mut self, field: &str, value: &str) {
        let scheme_ok = value.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        if !scheme_ok || value.chars().any(char::is_whitespace) {
            self.fail(field, "must be an absolute URI such as ftp://host/path");
        }
    }
}

/// Whether `text` is an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
pub fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|s| s.len() == range.len() && s.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        std::str::from_utf8(&b[range])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(99)
    };
    if !(1..=12).contains(&number(5..7))
        || !(1..=31).contains(&number(8..10))
        || number(11..13) > 23
        || number(14..16) > 59
        || number(17..19) > 60
    {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return false;
        }
        rest = &fraction[len..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Compares the body with its strict re-serialisation; the first difference is a
/// value the lenient readers coerced (or a field the type does not have).
fn compare(given: &Value, strict: &Value, path: &str) -> Option<FieldError> {
    let error = |problem: String| {
        Some(FieldError {
            field: path.to_owned(),
            problem,
        })
    };
    match (given, strict) {
        (Value::Object(given), Value::Object(strict)) => {
            for (key, value) in given {
                let field = join(path, key);
                match strict.get(key) {
                    Some(expected) => {
                        if let Some(e) = compare(value, expected, &field) {
                            return Some(e);
                        }
                    }
                    None if value.is_null() => {
                        return Some(FieldError {
                            field,
                            problem: "must be omitted rather than null".into(),
                        })
                    }
                    None => {
                        return Some(FieldError {
                            field,
                            problem: "is not a field of this request".into(),
                        })
                    }
                }
            }
            None
        }
        (Value::Array(given), Value::Array(strict)) if given.len() == strict.len() => given
            .iter()
            .zip(strict)
            .enumerate()
            .find_map(|(i, (g, s))| compare(g, s, &format!("{path}[{i}]"))),
        (Value::Number(g), Value::Number(s)) => {
            if g.as_f64() == s.as_f64() {
                None
            } else {
                error(format!("must be {}", type_name(strict)))
            }
        }
        (Value::String(g), Value::String(s)) if g != s => {
            error(format!("must be spelled exactly \"{s}\""))
        }
        (g, s) if g == s => None,
        (_, s) => error(format!("must be {}", type_name(s))),
    }
}

/// Reads an API body strictly as the request `R` (see the module docs).
///
/// # Errors
/// A [`FieldError`] naming the first field that is missing, of the wrong type, not a
/// field of the request, or breaking one of the request's rules.
pub fn from_api<R>(body: &Value) -> Result<R, FieldError>
where
    R: DeserializeOwned + Serialize + Validate,
{
    if !body.is_object() {
        return Err(FieldError {
            field: String::new(),
            problem: "must be a JSON object".into(),
        });
    }
    let request: R = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let message = e.inner().to_string();
        if let Some(missing) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            FieldError {
                field: join(&path, missing),
                problem: "is required".into(),
            }
        } else {
            FieldError {
                field: path,
                problem: format!("is not valid: {message}"),
            }
        }
    })?;
    let strict = serde_json::to_value(&request).map_err(|e| FieldError {
        field: String::new(),
        problem: format!("cannot be written: {e}"),
    })?;
    if let Some(error) = compare(body, &strict, "") {
        return Err(error);
    }
    let mut check = Check::default();
    request.validate(&mut check);
    match check.error {
        Some(error) => Err(error),
        None => Ok(request),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::lenient;

    crate::lenient_enum! {
        pub enum Kind { Hard, Soft }
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        #[serde(deserialize_with = "lenient::decimal")]
        limit: f64,
    }

    impl Validate for Inner {
        fn validate(&self, check: &mut Check) {
            if self.limit < 0.0 {
                check.fail("limit", "must not be negative");
            }
        }
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        #[serde(deserialize_with = "lenient::int")]
        connector_id: i32,
        #[serde(rename = "type")]
        kind: Kind,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        periods: Option<Vec<Inner>>,
    }

    impl Validate for Sample {
        fn validate(&self, check: &mut Check) {
            check.min("connectorId", i64::from(self.connector_id), 0);
            check.known("type", self.kind.is_known(), Kind::KNOWN);
            if let Some(periods) = &self.periods {
                check.each("periods", periods);
            }
        }
    }

    fn error(body: Value) -> String {
        from_api::<Sample>(&body).unwrap_err().to_string()
    }

    #[test]
    fn an_exact_body_is_accepted() {
        let s: Sample =
            from_api(&json!({"connectorId": 1, "type": "Hard", "periods": [{"limit": 16}]}))
                .unwrap();
        assert_eq!(s.connector_id, 1);
    }

    #[test]
    fn every_problem_names_its_field() {
        assert_eq!(error(json!({"type": "Hard"})), "'connectorId' is required");
        assert_eq!(
            error(json!({"connectorId": "1", "type": "Hard"})),
            "'connectorId' must be an integer"
        );
        assert!(error(json!({"connectorId": {}, "type": "Hard"})).starts_with("'connectorId'"));
        assert_eq!(
            error(json!({"connectorId": 1, "type": "hard"})),
            "'type' must be spelled exactly \"Hard\""
        );
        assert_eq!(
            error(json!({"connectorId": 1, "type": "Warm"})),
            "'type' must be one of Hard, Soft"
        );
        assert_eq!(
            error(json!({"connectorId": -1, "type": "Hard"})),
            "'connectorId' must be at least 0"
        );
        assert_eq!(
            error(json!({"connectorId": 1, "type": "Hard", "extra": 1})),
            "'extra' is not a field of this request"
        );
        assert_eq!(
            error(
                json!({"connectorId": 1, "type": "Hard", "periods": [{"limit": 1}, {"limit": "2"}]})
            ),
            "'periods[1].limit' must be a number"
        );
        assert_eq!(
            error(json!({"connectorId": 1, "type": "Hard", "periods": [{"limit": -1}]})),
            "'periods[0].limit' must not be negative"
        );
        assert_eq!(
            error(json!({"connectorId": 1, "type": "Hard", "periods": [{}]})),
            "'periods[0].limit' is required"
        );
        assert_eq!(error(json!([1])), "the body must be a JSON object");
    }

    #[test]
    fn date_times_follow_rfc_3339() {
        for ok in [
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00.123Z",
            "2024-05-01T10:00:00+02:00",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "2024-05-01",
            "2024-13-01T10:00:00Z",
            "2024-05-01 10:00:00Z",
            "2024-05-01T10:00:00",
            "soon",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}

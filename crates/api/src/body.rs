//! Request bodies and query strings, read by hand so that the status codes follow
//! CONTRACT §8: not JSON or not an object → 400; a missing, wrongly typed or
//! out-of-range field → 422 naming the field. Unknown fields are ignored.

use std::collections::HashMap;

use actix_web::web::Bytes;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// A JSON object body with typed, field-naming accessors.
#[derive(Debug)]
pub struct JsonObject(Map<String, Value>);

impl JsonObject {
    /// Parses a request body.
    ///
    /// # Errors
    /// 400 when the body is not JSON or not a JSON object.
    pub fn parse(body: &Bytes) -> ApiResult<JsonObject> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest(
                "request body must be a JSON object".into(),
            ));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::BadRequest(
                "request body must be a JSON object".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(format!(
                "request body is not valid JSON: {e}"
            ))),
        }
    }

    /// Wraps an already-parsed object (nested objects).
    pub fn from_map(map: Map<String, Value>) -> JsonObject {
        JsonObject(map)
    }

    fn present(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    /// The raw value of a field, if present.
    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.present(field)
    }

    /// Whether the field is present (even as `null`).
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// A required string.
    ///
    /// # Errors
    /// 422 naming the field.
    pub fn string(&self, field: &str) -> ApiResult<String> {
        self.opt_string(field)?
            .ok_or_else(|| ApiError::Unprocessable(format!("'{field}' is required")))
    }

    /// An optional string (`null` counts as absent).
    ///
    /// # Errors
    /// 422 when present with another type.
    pub fn opt_string(&self, field: &str) -> ApiResult<Option<String>> {
        match self.present(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::Unprocessable(format!(
                "'{field}' must be a string"
            ))),
        }
    }

    /// An optional boolean.
    ///
    /// # Errors
    /// 422 when present with another type.
    pub fn opt_bool(&self, field: &str) -> ApiResult<Option<bool>> {
        match self.present(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::Unprocessable(format!(
                "'{field}' must be a boolean"
            ))),
        }
    }

    /// An optional object.
    ///
    /// # Errors
    /// 422 when present with another type.
    pub fn opt_object(&self, field: &str) -> ApiResult<Option<JsonObject>> {
        match self.present(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(JsonObject(map.clone()))),
            Some(_) => Err(ApiError::Unprocessable(format!(
                "'{field}' must be an object"
            ))),
        }
    }

    /// An optional array of strings.
    ///
    /// # Errors
    /// 422 when present with another type.
    pub fn opt_string_array(&self, field: &str) -> ApiResult<Option<Vec<String>>> {
        match self.present(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().map(str::to_owned).ok_or_else(|| {
                        ApiError::Unprocessable(format!("'{field}' must be an array of strings"))
                    })
                })
                .collect::<ApiResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(ApiError::Unprocessable(format!(
                "'{field}' must be an array of strings"
            ))),
        }
    }
}

/// The highest `paginate_page`: the offset it gives must fit the database's integers
/// (a larger page once reached the SQL binder as an out-of-range offset, found by
/// `scripts/api-fuzz`).
pub const MAX_PAGE: u64 = 1_000_000;

/// Query-string parameters (repeated keys kept in order).
#[derive(Debug, Default)]
pub struct Query(HashMap<String, Vec<String>>);

impl Query {
    /// Parses `a=1&b=2&b=3`.
    pub fn parse(query: &str) -> Query {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            map.entry(decode(key)).or_default().push(decode(value));
        }
        Query(map)
    }

    /// The first value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    /// Every value of a parameter.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.get(key).cloned().unwrap_or_default()
    }

    /// An optional boolean parameter (`true`/`false`).
    ///
    /// # Errors
    /// 422 naming the parameter.
    pub fn opt_bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::Unprocessable(format!(
                "'{key}' must be true or false"
            ))),
        }
    }

    /// The pagination and sorting parameters of CONTRACT §1.
    ///
    /// # Errors
    /// 422 naming the parameter that is out of range.
    pub fn page(&self) -> ApiResult<model::page::Page> {
        let mut page = model::page::Page::default();
        if let Some(limit) = self.get("paginate_limit") {
            page.limit = limit
                .parse::<u64>()
                .ok()
                .filter(|l| (1..=1000).contains(l))
                .ok_or_else(|| {
                    ApiError::Unprocessable(
                        "'paginate_limit' must be an integer from 1 to 1000".into(),
                    )
                })?;
        }
        if let Some(number) = self.get("paginate_page") {
            page.page = number
                .parse::<u64>()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| {
                    ApiError::Unprocessable(format!(
                        "'paginate_page' must be an integer from 1 to {MAX_PAGE}"
                    ))
                })?;
        }
        if let Some(sort_by) = self.get("sort_by") {
            page.sort_by = model::page::SortField::parse(sort_by).ok_or_else(|| {
                ApiError::Unprocessable("'sort_by' must be createdAt or updatedAt".into())
            })?;
        }
        match self.get("sort_order") {
            None | Some("desc") => page.descending = true,
            Some("asc") => page.descending = false,
            Some(_) => {
                return Err(ApiError::Unprocessable(
                    "'sort_order' must be asc or desc".into(),
                ))
            }
        }
        Ok(page)
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_not_json_objects_are_bad_requests() {
        for body in ["", "nope", "[1]", "3", "\"x\""] {
            let err = JsonObject::parse(&Bytes::from(body)).unwrap_err();
            assert!(matches!(err, ApiError::BadRequest(_)), "{body}");
        }
    }

    #[test]
    fn wrong_field_types_are_unprocessable_and_name_the_field() {
        let body = JsonObject::parse(&Bytes::from(r#"{"active":"yes"}"#)).unwrap();
        let err = body.opt_bool("active").unwrap_err();
        assert!(matches!(&err, ApiError::Unprocessable(m) if m.contains("active")));
        let err = body.string("endpoint").unwrap_err();
        assert!(matches!(&err, ApiError::Unprocessable(m) if m.contains("endpoint")));
    }

    #[test]
    fn query_strings_keep_repeated_keys_and_decode() {
        let q = Query::parse("key=A&key=B%20C&online=true&x=a+b");
        assert_eq!(q.all("key"), vec!["A", "B C"]);
        assert_eq!(q.opt_bool("online").unwrap(), Some(true));
        assert_eq!(q.get("x"), Some("a b"));
    }

    #[test]
    fn pagination_limits_are_checked() {
        assert!(Query::parse("paginate_limit=1001").page().is_err());
        assert!(Query::parse("paginate_limit=0").page().is_err());
        assert!(Query::parse("paginate_page=0").page().is_err());
        assert!(Query::parse("paginate_page=1000001").page().is_err());
        assert!(Query::parse("paginate_page=9223372036854775807")
            .page()
            .is_err());
        assert!(Query::parse("paginate_page=1000000").page().is_ok());
        assert!(Query::parse("sort_order=up").page().is_err());
        let page = Query::parse("paginate_limit=5&paginate_page=3&sort_order=asc")
            .page()
            .unwrap();
        assert_eq!((page.limit, page.offset(), page.descending), (5, 10, false));
    }
}

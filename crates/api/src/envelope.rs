//! The `{ok, message, result}` success envelope, and list responses with the total in
//! `X-Total-Count` (CONTRACT §8).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

/// `200 {ok:true, message, result}`.
pub fn ok(message: &str, result: Value) -> HttpResponse {
    with_status(StatusCode::OK, message, result)
}

/// `201 {ok:true, message, result}`.
pub fn created(message: &str, result: Value) -> HttpResponse {
    with_status(StatusCode::CREATED, message, result)
}

fn with_status(status: StatusCode, message: &str, result: Value) -> HttpResponse {
    HttpResponse::build(status).json(json!({"ok": true, "message": message, "result": result}))
}

/// `200` with `result` a plain array and the total count in `X-Total-Count`.
pub fn list(items: Vec<Value>, total: u64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .insert_header(("Access-Control-Expose-Headers", "X-Total-Count"))
        .json(json!({"ok": true, "message": "Success", "result": items}))
}

//! Every other command (CONTRACT §9): `POST /v1.1/chargestations/{id}/<command>` with
//! the OCPP request's fields as the body (plus an optional `meta_data` object), and
//! the escape hatch `POST /v1.1/chargestations/{id}/ocpp/{Action}` with a raw payload.
//! Each answers at once with the queued Action (status `requested`); the dispatcher
//! checks the body strictly (422 naming the field) before anything is queued.
//!
//! Adding a command: its file in `dispatcher::commands` and one name in the
//! `commands!` table below.

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use dispatcher::commands;
use serde_json::{Map, Value};

use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi::schemas as doc;
use crate::ApiState;

/// The body as a JSON object (an empty body is `{}`: several requests have no fields).
fn object(body: &Bytes) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest(
            "request body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!(
            "request body is not valid JSON: {e}"
        ))),
    }
}

/// The OCPP request fields and the `meta_data` kept with the action.
fn request_and_meta(body: &Bytes) -> ApiResult<(Value, Option<Value>)> {
    let mut map = object(body)?;
    let meta = match map.remove("meta_data") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value),
        Some(_) => {
            return Err(ApiError::Unprocessable(
                "'meta_data' must be an object".into(),
            ))
        }
    };
    Ok((Value::Object(map), meta))
}

/// Defines one handler per command and [`configure`], which registers them all.
macro_rules! commands {
    ($($name:ident),+ $(,)?) => {
        $(
            #[doc = concat!("`POST /v1.1/chargestations/{id}/", stringify!($name), "`.")]
            ///
            /// # Errors
            /// 400, 404, 406, 422 (naming the field), 429.
            pub async fn $name(
                state: web::Data<ApiState>,
                id: web::Path<String>,
                body: Bytes,
            ) -> ApiResult<HttpResponse> {
                let (request, meta) = request_and_meta(&body)?;
                let action = commands::$name::queue(&state.dispatcher, &id, &request, meta).await?;
                Ok(envelope::ok("", action.to_json()))
            }
        )+

        /// The command names of the table, in order (`trigger_message`, ...).
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),+];

        /// Every route [`configure`] registers (paths inside `/v1.1`), from the same table.
        pub const ROUTES: &[&str] = &[
            $(concat!("/chargestations/{id}/", stringify!($name)),)+
            "/chargestations/{id}/ocpp/{action}",
        ];

        /// Registers every command route (inside the authenticated `/v1.1` scope).
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource(concat!("/chargestations/{id}/", stringify!($name)))
                        .route(web::post().to($name)),
                );
            )+
            cfg.service(
                web::resource("/chargestations/{id}/ocpp/{action}").route(web::post().to(ocpp)),
            );
        }
    };
}

commands! {
    trigger_message,
    unlock_connector,
    change_availability,
    clear_cache,
    remote_start,
    remote_stop,
    set_charging_profile,
    clear_charging_profile,
    get_composite_schedule,
    reserve_now,
    cancel_reservation,
    send_local_list,
    get_local_list_version,
    update_firmware,
    get_diagnostics,
    signed_update_firmware,
    get_log,
    install_certificate,
    get_installed_certificate_ids,
    delete_certificate,
    certificate_signed,
    data_transfer,
}

/// `POST /v1.1/chargestations/{id}/ocpp/{Action}` with the raw OCPP payload as the body.
///
/// # Errors
/// 400, 404, 406, 422 (an action the server may not send, or the field of the payload
/// that is wrong), 429.
#[utoipa::path(post, path = "/v1.1/chargestations/{id}/ocpp/{action}", tag = "commands", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity)."), ("action" = String, Path, description = "The OCPP action the server may send, e.g. `UnlockConnector`.")), request_body(content = Object, description = "The raw OCPP payload."), responses((status = 200, description = "The queued action.", body = doc::Envelope<doc::Action>), (status = 400), (status = 404), (status = 406), (status = 422), (status = 429)))]
pub async fn ocpp(
    state: web::Data<ApiState>,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let payload = Value::Object(object(&body)?);
    let action = commands::ocpp::queue(&state.dispatcher, &id, &action, &payload, None).await?;
    Ok(envelope::ok("", action.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_data_is_taken_out_of_the_request() {
        let (request, meta) =
            request_and_meta(&Bytes::from(r#"{"connectorId":1,"meta_data":{"a":1}}"#)).unwrap();
        assert_eq!(request, serde_json::json!({"connectorId": 1}));
        assert_eq!(meta, Some(serde_json::json!({"a": 1})));
        let (request, meta) = request_and_meta(&Bytes::from("  ")).unwrap();
        assert_eq!((request, meta), (serde_json::json!({}), None));
        assert!(matches!(
            request_and_meta(&Bytes::from("[1]")),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            request_and_meta(&Bytes::from(r#"{"meta_data":1}"#)),
            Err(ApiError::Unprocessable(_))
        ));
    }
}

//! `GET /v1.1/actions/{id}` and `GET /v1.1/actions?chargestation=&type=&status=`, so a
//! client can poll instead of listening to webhooks.

use actix_web::{web, HttpRequest, HttpResponse};
use model::actions::{self, ActionStatus, ListFilter};

use crate::body::Query;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi as doc_params;
use crate::openapi::schemas as doc;
use crate::ApiState;

/// One action.
///
/// # Errors
/// 404.
#[utoipa::path(get, path = "/v1.1/actions/{id}", tag = "actions", params(("id" = String, Path, description = "The action's `_id`.")), responses((status = 200, body = doc::Envelope<doc::Action>), (status = 404)))]
pub async fn get(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let action = actions::get(&state.db, &id).await?;
    Ok(envelope::ok("Success", action.to_json()))
}

/// A page of actions.
///
/// # Errors
/// 422 for bad parameters.
#[utoipa::path(get, path = "/v1.1/actions", tag = "actions", params(("chargestation" = Option<String>, Query, description = "The station's `_id` or endpoint."), ("type" = Option<String>, Query, description = "The action type, e.g. `chargestation.unlock_connector`."), ("status" = Option<String>, Query, description = "`requested`, `completed`, `rejected` or `failed`."), doc_params::Pagination), responses((status = 200, body = doc::ListEnvelope<doc::Action>, headers(("X-Total-Count" = u64, description = "The number of matching items."))), (status = 422)))]
pub async fn list(state: web::Data<ApiState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = Query::parse(req.query_string());
    let chargestation_id = match query.get("chargestation") {
        None => None,
        Some(given) => Some(
            model::chargestations::find(&state.db, given)
                .await?
                .map_or_else(|| given.to_owned(), |s| s.id),
        ),
    };
    let status = query
        .get("status")
        .map(|s| {
            ActionStatus::parse(s).ok_or_else(|| {
                ApiError::Unprocessable(
                    "'status' must be requested, completed, rejected or failed".into(),
                )
            })
        })
        .transpose()?;
    let filter = ListFilter {
        chargestation_id,
        action_type: query.get("type").map(str::to_owned),
        status,
    };
    let (items, total) = actions::list(&state.db, &filter, &query.page()?).await?;
    Ok(envelope::list(
        items.iter().map(|a| a.to_json()).collect(),
        total,
    ))
}

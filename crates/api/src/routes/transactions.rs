//! `GET /v1.1/transactions` (filters `chargestation`, `active`) and
//! `GET /v1.1/transactions/{id}` (`_id` or transactionId) with its meter values
//! (CONTRACT §9). Transactions are written by the gateway, never through the API.

use actix_web::{web, HttpRequest, HttpResponse};
use model::transactions::{self, ListFilter};

use crate::body::Query;
use crate::envelope;
use crate::error::ApiResult;
use crate::openapi as doc_params;
use crate::openapi::schemas as doc;
use crate::ApiState;

/// A page of transactions (without meter values).
///
/// # Errors
/// 422 for bad parameters.
#[utoipa::path(get, path = "/v1.1/transactions", tag = "transactions", params(("chargestation" = Option<String>, Query, description = "The station's `_id` or endpoint."), ("active" = Option<bool>, Query, description = "Only ongoing (or finished) transactions."), doc_params::Pagination), responses((status = 200, body = doc::ListEnvelope<doc::Transaction>, headers(("X-Total-Count" = u64, description = "The number of matching items."))), (status = 422)))]
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
    let filter = ListFilter {
        chargestation_id,
        active: query.opt_bool("active")?,
    };
    let (items, total) = transactions::list(&state.db, &filter, &query.page()?).await?;
    Ok(envelope::list(
        items.iter().map(|t| t.to_json(None)).collect(),
        total,
    ))
}

/// One transaction with its meter values.
///
/// # Errors
/// 404.
#[utoipa::path(get, path = "/v1.1/transactions/{id}", tag = "transactions", params(("id" = String, Path, description = "The transaction's `_id` or its transactionId.")), responses((status = 200, description = "With its meter values.", body = doc::Envelope<doc::Transaction>), (status = 404)))]
pub async fn get(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let transaction = transactions::get(&state.db, &id).await?;
    let meter_values = transactions::meter_values(&state.db, &transaction).await?;
    Ok(envelope::ok(
        "Success",
        transaction.to_json(Some(meter_values)),
    ))
}

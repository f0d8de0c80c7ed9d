//! `GET /v1.1/transactions` (filters `chargestation`, `active`) and
//! `GET /v1.1/transactions/{id}` (`_id` or transactionId) with its meter values
//! (CONTRACT §9). Transactions are written by the gateway, never through the API.

use actix_web::{web, HttpRequest, HttpResponse};
use model::transactions::{self, ListFilter};

use crate::body::Query;
use crate::envelope;
use crate::error::ApiResult;
use crate::ApiState;

/// A page of transactions (without meter values).
///
/// # Errors
/// 422 for bad parameters.
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
pub async fn get(state: web::Data<ApiState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let transaction = transactions::get(&state.db, &id).await?;
    let meter_values = transactions::meter_values(&state.db, &transaction).await?;
    Ok(envelope::ok(
        "Success",
        transaction.to_json(Some(meter_values)),
    ))
}

/// Registers the transaction routes (inside the authenticated `/v1.1` scope).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/transactions").route(web::get().to(list)))
        .service(web::resource("/transactions/{id}").route(web::get().to(get)));
}

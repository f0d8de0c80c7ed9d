//! The webhooks page: every endpoint (never its secret) with its newest deliveries, and
//! a redeliver button doing what `POST /v1.1/webhooks/{id}/deliveries/{d}/redeliver`
//! does (the model's `redeliver`, then wake the delivery worker).

use actix_web::http::StatusCode;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use model::page::Page;
use model::webhooks::{self, Delivery, Endpoint};

use super::html::{self, escape, BannerKind, Section};
use super::{check_same_origin, respond, see_other, session, ConsoleError};
use crate::auth::percent_encode;
use crate::body::Query;
use crate::error::ApiError;
use crate::ApiState;

/// Endpoints shown.
const ENDPOINTS_SHOWN: u64 = 100;
/// Deliveries shown per endpoint.
const DELIVERIES_SHOWN: u64 = 20;

/// `GET /console/webhooks`.
pub async fn page(state: web::Data<ApiState>, req: HttpRequest) -> HttpResponse {
    respond(render(&state, &req).await)
}

async fn render(state: &ApiState, req: &HttpRequest) -> Result<HttpResponse, ConsoleError> {
    session::require(state, req).await?;
    let notice = match Query::parse(req.query_string()).get("done") {
        Some("redeliver") => html::banner(
            BannerKind::Notice,
            "Delivery re-queued; it is sent again shortly.",
        ),
        _ => String::new(),
    };
    let endpoints_page = Page {
        limit: ENDPOINTS_SHOWN,
        descending: false,
        ..Page::default()
    };
    let (endpoints, total) = webhooks::list(&state.db, &endpoints_page)
        .await
        .map_err(ApiError::from)?;
    let deliveries_page = Page {
        limit: DELIVERIES_SHOWN,
        ..Page::default()
    };
    let mut sections = String::new();
    for endpoint in &endpoints {
        let (deliveries, count) =
            webhooks::list_deliveries(&state.db, &endpoint.id, None, &deliveries_page)
                .await
                .map_err(ApiError::from)?;
        sections.push_str(&endpoint_section(endpoint, &deliveries, count));
    }
    if endpoints.is_empty() {
        sections.push_str(r#"<p class="empty">No webhook endpoints. Add one with <code>POST /v1.1/webhooks</code> or <code>CSMS_WEBHOOK_URL</code>.</p>"#);
    }
    let main = format!(
        r#"<h1>Webhooks</h1>{notice}<p class="summary">{total} endpoint(s).</p>{sections}"#
    );
    Ok(html::page(
        StatusCode::OK,
        Section::Webhooks,
        "Webhooks",
        "",
        &main,
    ))
}

fn endpoint_section(endpoint: &Endpoint, deliveries: &[Delivery], count: u64) -> String {
    let events = if endpoint.events.is_empty() {
        "all events".to_owned()
    } else {
        escape(&endpoint.events.join(", "))
    };
    let state = match (endpoint.active, endpoint.failing_since) {
        (false, _) => r#"<span class="state inactive">inactive</span>"#.to_owned(),
        (true, Some(since)) => format!(
            r#"<span class="state offline">failing since {}</span>"#,
            html::time(Some(since))
        ),
        (true, None) => r#"<span class="state online">active</span>"#.to_owned(),
    };
    let rows: String = deliveries
        .iter()
        .map(|d| delivery_row(endpoint, d))
        .collect();
    let table = if deliveries.is_empty() {
        r#"<p class="empty">No deliveries yet.</p>"#.to_owned()
    } else {
        format!(
            r#"<table class="deliveries"><thead><tr><th>Created</th><th>Event</th><th>Status</th><th>Attempts</th><th>Last response</th><th>Last error</th><th>Next attempt</th><th></th></tr></thead><tbody>{rows}</tbody></table>"#
        )
    };
    format!(
        r#"<section class="endpoint" data-endpoint-id="{id}"><h2><code>{url}</code> {state}</h2><p class="summary">{description}Events: {events}. {count} deliveries, newest first.</p>{table}</section>"#,
        id = escape(&endpoint.id),
        url = escape(&endpoint.url),
        description = endpoint
            .description
            .as_deref()
            .map_or_else(String::new, |d| format!("{}. ", escape(d))),
    )
}

fn delivery_row(endpoint: &Endpoint, d: &Delivery) -> String {
    let next = if d.status == webhooks::DeliveryStatus::Pending.as_str() {
        html::time(Some(d.next_attempt_at))
    } else {
        String::new()
    };
    format!(
        r#"<tr data-delivery-id="{id}"><td>{created}</td><td>{event}</td><td><span class="status {status}">{status}</span></td><td>{attempts}</td><td>{code}</td><td>{error}</td><td>{next}</td><td><form method="post" action="/console/webhooks/{endpoint}/deliveries/{delivery}/redeliver"><button type="submit">Redeliver</button></form></td></tr>"#,
        id = escape(&d.id),
        created = html::time(Some(d.created_at)),
        event = escape(&d.event_type),
        status = escape(&d.status),
        attempts = d.attempts,
        code = d
            .last_status_code
            .map_or_else(String::new, |c| c.to_string()),
        error = escape(d.last_error.as_deref().unwrap_or("")),
        endpoint = escape(&percent_encode(&endpoint.id)),
        delivery = escape(&percent_encode(&d.id)),
    )
}

/// `POST /console/webhooks/{id}/deliveries/{delivery_id}/redeliver`.
pub async fn redeliver(
    state: web::Data<ApiState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> HttpResponse {
    let (id, delivery_id) = path.into_inner();
    respond(
        async {
            session::require(&state, &req).await?;
            check_same_origin(&req)?;
            webhooks::redeliver(&state.db, &id, &delivery_id)
                .await
                .map_err(ApiError::from)?;
            Ok(see_other("/console/webhooks?done=redeliver"))
        }
        .await,
    )
}

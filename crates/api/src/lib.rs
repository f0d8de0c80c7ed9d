//! The v1.1 REST API (actix-web): routes, Bearer API-key auth, the one error type with
//! its `{ok:false,message,result:null}` envelope, and request-body rules.
//!
//! `api` never touches a charger socket: commands go through the dispatcher.

mod auth;
pub mod body;
mod console;
pub mod envelope;
mod error;
pub mod openapi;
mod request_log;
pub mod routes;

use actix_web::{middleware, web, HttpResponse};
use dispatcher::Dispatcher;
use model::Db;

pub use error::{ApiError, ApiResult};
pub use request_log::log_request;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub db: Db,
    pub dispatcher: Dispatcher,
    /// The charger-facing base URL, for `connection_url`.
    pub ocpp_base_url: String,
    /// Failed Bearer authentications per source address (429 once over the limit).
    pub auth_limiter: std::sync::Arc<model::auth_limit::AuthLimiter>,
    /// The message log's live feed: every frame this instance stores, as it is stored.
    pub message_log: tokio::sync::broadcast::Sender<model::message_log::Message>,
    /// Cancelled when the app stops (ends the live streams).
    pub shutdown: tokio_util::sync::CancellationToken,
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route".into()))
}

/// One registered route, as [`registered_routes`] lists it: the HTTP method and the
/// full path in OpenAPI form (`/v1.1/chargestations/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteInfo {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The full path, with `{name}` path parameters.
    pub path: String,
}

/// The route tables: each line both registers an actix resource (one per path, so a
/// method the path does not serve answers 405) and lists its routes in a constant that
/// [`registered_routes`] returns, so the list of routes cannot drift from what is
/// served. Every API route is registered through a table (the command routes through
/// the `commands!` table of `routes::commands`); `tests/e2e/openapi.rs` checks that each
/// one is in `/openapi.json` and that each documented one answers. The operator
/// console's HTML pages (`console::scope()`) are not API routes and are not listed.
macro_rules! route_table {
    ($list:ident, $register:ident, $prefix:literal, {
        $( $path:literal => { $( $method:ident $handler:path ),+ $(,)? } )+
    }) => {
        const $list: &[(&str, &str)] = &[
            $( $( (stringify!($method), concat!($prefix, $path)), )+ )+
        ];

        fn $register(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $( .route(web::method(actix_web::http::Method::$method).to($handler)) )+,
                );
            )+
        }
    };
}

route_table!(PUBLIC_ROUTES, register_public, "", {
    "/health" => { GET routes::health::health }
    "/ready" => { GET routes::health::ready }
    "/metrics" => { GET routes::metrics::metrics }
    "/openapi.json" => { GET openapi::document }
    "/docs" => { GET openapi::docs_page }
});

route_table!(V1_ROUTES, register_v1, "/v1.1", {
    "/chargestations" => {
        POST routes::chargestations::create,
        GET routes::chargestations::list,
    }
    "/chargestations/{id}" => {
        GET routes::chargestations::get,
        PATCH routes::chargestations::patch,
        DELETE routes::chargestations::delete,
    }
    "/chargestations/{id}/reset_password" => { PATCH routes::chargestations::reset_password }
    "/chargestations/{id}/configurations" => {
        POST routes::configurations::change,
        PATCH routes::configurations::change,
        GET routes::configurations::request_upload,
    }
    "/chargestations/{id}/configurations/details" => { GET routes::configurations::details }
    "/chargestations/{id}/configurations/drift" => { GET routes::configurations::drift }
    "/chargestations/{id}/configurations/apply_desired" => {
        POST routes::configurations::apply_desired
    }
    "/chargestations/{id}/reset" => { POST routes::configurations::reset }
    "/chargestations/{id}/messages" => { GET routes::messages::list }
    "/chargestations/{id}/messages/stream" => { GET routes::messages::stream }
    "/actions" => { GET routes::actions::list }
    "/actions/{id}" => { GET routes::actions::get }
    "/tokens" => { POST routes::tokens::create, GET routes::tokens::list }
    "/tokens/{id}" => {
        GET routes::tokens::get,
        PATCH routes::tokens::patch,
        DELETE routes::tokens::delete,
    }
    "/transactions" => { GET routes::transactions::list }
    "/transactions/{id}" => { GET routes::transactions::get }
    "/webhooks" => { POST routes::webhooks::create, GET routes::webhooks::list }
    "/webhooks/{id}" => {
        GET routes::webhooks::get,
        PATCH routes::webhooks::patch,
        DELETE routes::webhooks::delete,
    }
    "/webhooks/{id}/deliveries" => { GET routes::webhooks::deliveries }
    "/webhooks/{id}/deliveries/{delivery_id}/redeliver" => { POST routes::webhooks::redeliver }
});

/// Every route [`configure`] registers, from the same tables that register them.
pub fn registered_routes() -> Vec<RouteInfo> {
    let tables = PUBLIC_ROUTES.iter().chain(V1_ROUTES);
    let listed = tables.map(|(method, path)| RouteInfo {
        method,
        path: (*path).to_owned(),
    });
    let commands = routes::commands::ROUTES.iter().map(|path| RouteInfo {
        method: "POST",
        path: format!("/v1.1{path}"),
    });
    listed.chain(commands).collect()
}

/// Registers every route on an actix app.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::NotFound(e.to_string()).into()),
            )
            .configure(register_public)
            .service(console::scope())
            .service(
                web::scope("/v1.1")
                    .wrap(middleware::from_fn(auth::require_api_key))
                    .configure(register_v1)
                    .configure(routes::commands::configure)
                    .default_service(web::to(not_found)),
            )
            .default_service(web::to(not_found));
    }
}

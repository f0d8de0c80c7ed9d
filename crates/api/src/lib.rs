//! The v1.1 REST API (actix-web): routes, Bearer API-key auth, the one error type with
//! its `{ok:false,message,result:null}` envelope, and request-body rules.
//!
//! `api` never touches a charger socket: commands go through the dispatcher.

mod auth;
pub mod body;
pub mod envelope;
mod error;
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
    /// Wakes the webhook worker (after a redelivery or a re-activated endpoint).
    pub webhooks: dispatcher::webhooks::WebhookWaker,
    /// Failed Bearer authentications per source address (429 once over the limit).
    pub auth_limiter: std::sync::Arc<model::auth_limit::AuthLimiter>,
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route".into()))
}

/// Registers every route on an actix app.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        use routes::{actions, chargestations, configurations, health, webhooks};
        cfg.app_data(web::Data::new(state))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::NotFound(e.to_string()).into()),
            )
            .route("/health", web::get().to(health::health))
            .route("/ready", web::get().to(health::ready))
            .route("/metrics", web::get().to(routes::metrics::metrics))
            .service(
                web::scope("/v1.1")
                    .wrap(middleware::from_fn(auth::require_api_key))
                    .service(
                        web::resource("/chargestations")
                            .route(web::post().to(chargestations::create))
                            .route(web::get().to(chargestations::list)),
                    )
                    .service(
                        web::resource("/chargestations/{id}")
                            .route(web::get().to(chargestations::get))
                            .route(web::patch().to(chargestations::patch))
                            .route(web::delete().to(chargestations::delete)),
                    )
                    .service(
                        web::resource("/chargestations/{id}/reset_password")
                            .route(web::patch().to(chargestations::reset_password)),
                    )
                    .service(
                        web::resource("/chargestations/{id}/configurations")
                            .route(web::post().to(configurations::change))
                            .route(web::patch().to(configurations::change))
                            .route(web::get().to(configurations::request_upload)),
                    )
                    .service(
                        web::resource("/chargestations/{id}/configurations/details")
                            .route(web::get().to(configurations::details)),
                    )
                    .service(
                        web::resource("/chargestations/{id}/configurations/drift")
                            .route(web::get().to(configurations::drift)),
                    )
                    .service(
                        web::resource("/chargestations/{id}/configurations/apply_desired")
                            .route(web::post().to(configurations::apply_desired)),
                    )
                    .service(
                        web::resource("/chargestations/{id}/reset")
                            .route(web::post().to(configurations::reset)),
                    )
                    .service(web::resource("/actions").route(web::get().to(actions::list)))
                    .service(web::resource("/actions/{id}").route(web::get().to(actions::get)))
                    .configure(routes::commands::configure)
                    .configure(routes::tokens::configure)
                    .configure(routes::transactions::configure)
                    .service(
                        web::resource("/webhooks")
                            .route(web::post().to(webhooks::create))
                            .route(web::get().to(webhooks::list)),
                    )
                    .service(
                        web::resource("/webhooks/{id}")
                            .route(web::get().to(webhooks::get))
                            .route(web::patch().to(webhooks::patch))
                            .route(web::delete().to(webhooks::delete)),
                    )
                    .service(
                        web::resource("/webhooks/{id}/deliveries")
                            .route(web::get().to(webhooks::deliveries)),
                    )
                    .service(
                        web::resource("/webhooks/{id}/deliveries/{delivery_id}/redeliver")
                            .route(web::post().to(webhooks::redeliver)),
                    )
                    .default_service(web::to(not_found)),
            )
            .default_service(web::to(not_found));
    }
}

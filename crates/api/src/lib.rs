//! The v1.1 REST API (actix-web): routes, Bearer API-key auth, the one error type with
//! its `{ok:false,message,result:null}` envelope, and request-body rules.
//!
//! `api` never touches a charger socket: commands go through the dispatcher.

mod auth;
pub mod body;
pub mod envelope;
mod error;
pub mod routes;

use actix_web::{middleware, web, HttpResponse};
use dispatcher::Dispatcher;
use model::Db;

pub use error::{ApiError, ApiResult};

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub db: Db,
    pub dispatcher: Dispatcher,
    /// The charger-facing base URL, for `connection_url`.
    pub ocpp_base_url: String,
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route".into()))
}

/// Registers every route on an actix app.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        use routes::{chargestations, health};
        cfg.app_data(web::Data::new(state))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::NotFound(e.to_string()).into()),
            )
            .route("/health", web::get().to(health::health))
            .route("/ready", web::get().to(health::ready))
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
                    .default_service(web::to(not_found)),
            )
            .default_service(web::to(not_found));
    }
}

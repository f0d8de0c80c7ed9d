//! The operator console: server-rendered HTML pages under `/console` (chargers, one
//! charger, webhooks), behind a login that takes an API key and keeps it in an
//! `HttpOnly; SameSite=Strict` cookie (see `docs/console.md`).
//!
//! The console is a second face of the same API, not a second implementation: its forms
//! call the functions the `/v1.1` routes call (the dispatcher's queue for configuration
//! commands, the model for webhook redeliveries), and its script reads `/v1.1` with the
//! cookie (`GET`/`HEAD` only, [`crate::auth`]). Its stylesheet and script are compiled in
//! (`include_str!`); no page refers to another origin. Every form `POST` is refused
//! unless its `Origin` (or `Referer`) names this host, on top of the `SameSite` cookie.
//! It never touches a charger socket.

mod chargers;
mod html;
mod session;
mod webhooks;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");
const ICON: &[u8] = include_bytes!("assets/favicon.png");

/// Why a console request was not served.
#[derive(Debug, thiserror::Error)]
enum ConsoleError {
    /// No valid session cookie: the browser is sent to the login form.
    #[error("login required")]
    LoginRequired {
        /// The request carried a cookie that is no longer valid (cleared on the way).
        stale_cookie: bool,
    },
    /// A form was posted from another origin, or without saying where from.
    #[error("form submission refused: {0}")]
    CrossSite(String),
    /// What the API would have answered.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl ConsoleError {
    /// The HTML response for the error.
    fn response(&self) -> HttpResponse {
        match self {
            ConsoleError::LoginRequired { stale_cookie } => {
                let mut response = HttpResponse::SeeOther();
                html::secure_headers(&mut response);
                response.insert_header((header::LOCATION, "/console/login"));
                if *stale_cookie {
                    response.insert_header((header::SET_COOKIE, session::clearing_cookie()));
                }
                response.finish()
            }
            ConsoleError::CrossSite(_) => error_page(StatusCode::FORBIDDEN, &self.to_string()),
            ConsoleError::Api(e) => {
                if let ApiError::Internal(detail) = e {
                    tracing::error!(error = %detail, "internal error answering a console request");
                }
                error_page(actix_web::ResponseError::status_code(e), &e.to_string())
            }
        }
    }
}

/// The response of a console handler, errors rendered as pages.
fn respond(result: Result<HttpResponse, ConsoleError>) -> HttpResponse {
    result.unwrap_or_else(|e| e.response())
}

fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let main = format!(
        r#"<h1>{} {}</h1>{}<p><a href="/console">Back to the chargers</a></p>"#,
        status.as_u16(),
        html::escape(status.canonical_reason().unwrap_or("Error")),
        html::banner(html::BannerKind::Error, message),
    );
    html::page(status, html::Section::Error, "Error", "", &main)
}

/// A `303 See Other` to a console path (after a form was handled).
fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    html::secure_headers(&mut response);
    response
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// Refuses a form `POST` that does not come from a page of this host: its `Origin`
/// header (or, when a browser sends none, its `Referer`) must name the host the request
/// was sent to. Form posts cannot set headers, so a page of another origin cannot pass.
fn check_same_origin(req: &HttpRequest) -> Result<(), ConsoleError> {
    let header_text = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let source = header_text(header::ORIGIN)
        .filter(|origin| origin != "null")
        .or_else(|| header_text(header::REFERER))
        .ok_or_else(|| ConsoleError::CrossSite("no Origin or Referer header".into()))?;
    let info = req.connection_info();
    let host = info.host();
    match authority(&source) {
        Some(authority) if authority.eq_ignore_ascii_case(host) => Ok(()),
        _ => {
            tracing::warn!(peer = ?req.peer_addr(), path = req.path(), %source, "console form from another origin refused");
            Err(ConsoleError::CrossSite(format!(
                "it comes from another origin than {host}"
            )))
        }
    }
}

/// `host[:port]` of an `http(s)://` URL or origin.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|a| !a.is_empty())
}

async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLESHEET.as_bytes())
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT.as_bytes())
}

async fn icon() -> HttpResponse {
    asset("image/png", ICON)
}

fn asset(content_type: &str, body: &'static [u8]) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    html::secure_headers(&mut response);
    response
        .content_type(content_type.to_owned())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn not_found() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND, "no such console page")
}

/// The `/console` scope: login and logout, the pages, their forms and the assets.
pub fn scope() -> actix_web::Scope {
    web::scope("/console")
        .route("", web::get().to(chargers::list))
        .route("/", web::get().to(chargers::list))
        .route("/login", web::get().to(session::form))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::post().to(session::logout))
        .route("/assets/console.css", web::get().to(stylesheet))
        .route("/assets/console.js", web::get().to(script))
        .route("/assets/favicon.png", web::get().to(icon))
        .route("/chargestations/{id}", web::get().to(chargers::station))
        .route(
            "/chargestations/{id}/configuration",
            web::post().to(chargers::change_key),
        )
        .route(
            "/chargestations/{id}/upload",
            web::post().to(chargers::request_upload),
        )
        .route(
            "/chargestations/{id}/apply_desired",
            web::post().to(chargers::apply_desired),
        )
        .route("/webhooks", web::get().to(webhooks::page))
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            web::post().to(webhooks::redeliver),
        )
        .default_service(web::to(not_found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_of_an_origin_or_referer_is_its_host_and_port() {
        assert_eq!(authority("http://127.0.0.1:8080"), Some("127.0.0.1:8080"));
        assert_eq!(
            authority("https://csms.example/console/x?y#z"),
            Some("csms.example")
        );
        assert_eq!(authority("ftp://x"), None);
        assert_eq!(authority("http://"), None);
        assert_eq!(authority("null"), None);
    }

    #[test]
    fn the_assets_refer_to_no_other_origin() {
        for asset in [STYLESHEET, SCRIPT] {
            assert!(!asset.contains("://"), "an absolute URL in an asset");
            assert!(!asset.contains("url("), "CSS loads nothing");
            assert!(!asset.contains("@import"));
        }
    }
}

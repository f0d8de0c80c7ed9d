//! Console login and logout, and the session check every other console page makes.
//!
//! The login form takes an API key and checks it with [`crate::auth::check_key`], the
//! very check of `/v1.1` (failed attempts count towards the same per-address limit). The
//! session is the key itself in the [`CONSOLE_COOKIE`] cookie (`HttpOnly`,
//! `SameSite=Strict`, `Path=/`, plus `Secure` on a TLS listener), re-checked on every
//! request: revoking the key ends the session.

use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::html::{self, BannerKind, Section};
use super::{check_same_origin, respond, see_other, ConsoleError};
use crate::auth::{check_key, console_cookie, percent_encode, CONSOLE_COOKIE};
use crate::body::Query;
use crate::error::ApiError;
use crate::ApiState;

/// Checks the request's session cookie.
///
/// # Errors
/// [`ConsoleError::LoginRequired`] without a cookie or with one that no longer holds a
/// valid key; 429 while the address is over the failure limit; a database failure.
pub(super) async fn require(state: &ApiState, req: &HttpRequest) -> Result<(), ConsoleError> {
    let Some(key) = console_cookie(req.headers()) else {
        return Err(ConsoleError::LoginRequired {
            stale_cookie: false,
        });
    };
    match check_key(state, req.peer_addr(), req.path(), Some(&key)).await {
        Ok(()) => Ok(()),
        Err(ApiError::Unauthorized) => Err(ConsoleError::LoginRequired { stale_cookie: true }),
        Err(other) => Err(other.into()),
    }
}

/// The `Set-Cookie` value that ends a session.
pub(super) fn clearing_cookie() -> String {
    format!("{CONSOLE_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

fn session_cookie(key: &str, secure: bool) -> String {
    format!(
        "{CONSOLE_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/{}",
        percent_encode(key),
        if secure { "; Secure" } else { "" }
    )
}

fn login_page(status: StatusCode, problem: Option<&str>) -> HttpResponse {
    let banner = problem.map_or_else(String::new, |p| html::banner(BannerKind::Error, p));
    let main = format!(
        r#"<section class="login">
<h1>csms console</h1>
<p>Log in with an API key (the one given as <code>CSMS_API_KEY</code> or made with <code>csms api-key create</code>).</p>
{banner}
<form method="post" action="/console/login">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
</section>"#
    );
    html::page(status, Section::Login, "Log in", "", &main)
}

/// `GET /console/login`: the form.
pub async fn form() -> HttpResponse {
    login_page(StatusCode::OK, None)
}

/// `POST /console/login` `key=...`: sets the session cookie and redirects to the
/// chargers list; the form again with 401 for a wrong key, 429 when over the limit.
pub async fn login(state: web::Data<ApiState>, req: HttpRequest, body: Bytes) -> HttpResponse {
    if let Err(e) = check_same_origin(&req) {
        return e.response();
    }
    let form = Query::parse(std::str::from_utf8(&body).unwrap_or(""));
    let key = form.get("key").map(str::trim).unwrap_or("");
    match check_key(&state, req.peer_addr(), req.path(), Some(key)).await {
        Ok(()) => {
            let secure = req.app_config().secure();
            let mut response = see_other("/console");
            match header::HeaderValue::from_str(&session_cookie(key, secure)) {
                Ok(cookie) => {
                    response.headers_mut().insert(header::SET_COOKIE, cookie);
                    response
                }
                Err(_) => respond(Err(ApiError::Internal("session cookie".into()).into())),
            }
        }
        Err(ApiError::Unauthorized) => {
            login_page(StatusCode::UNAUTHORIZED, Some("That API key is not valid."))
        }
        Err(ApiError::TooManyRequests(message)) => {
            login_page(StatusCode::TOO_MANY_REQUESTS, Some(&message))
        }
        Err(other) => respond(Err(other.into())),
    }
}

/// `POST /console/logout`: clears the cookie and shows the login form.
pub async fn logout(req: HttpRequest) -> HttpResponse {
    if let Err(e) = check_same_origin(&req) {
        return e.response();
    }
    let mut response = see_other("/console/login");
    if let Ok(cookie) = header::HeaderValue::from_str(&clearing_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_strict_and_secure_on_tls() {
        assert_eq!(
            session_cookie("k;1", false),
            "csms_console=k%3B1; HttpOnly; SameSite=Strict; Path=/"
        );
        assert!(session_cookie("k", true).ends_with("; Secure"));
    }
}

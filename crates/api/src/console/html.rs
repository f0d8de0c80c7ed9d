//! HTML building for the console: the one escaping function, the page layout and the
//! response headers every console page carries.
//!
//! Pages are assembled with `format!`; every value that comes from a charger, a client or
//! the database goes through [`escape`] (text and attribute values alike, always inside
//! double quotes). Nothing here loads anything from another origin: the stylesheet and
//! the script are served by the console itself.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::Value;

/// Escapes text for an HTML text node or a double-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value as compact text for a cell: strings without quotes, the rest as JSON.
pub fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Unix milliseconds as an escaped `<time>` element, or an em dash when absent.
pub fn time(ms: Option<i64>) -> String {
    match ms {
        Some(ms) => {
            let text = model::time::format_ms(ms);
            format!(r#"<time datetime="{text}">{text}</time>"#)
        }
        None => "—".to_owned(),
    }
}

/// The security headers of every console response: a Content-Security-Policy allowing
/// only this origin's script, style and connections, no framing, no sniffing, no
/// caching, no referrer to other origins.
pub fn secure_headers(response: &mut actix_web::HttpResponseBuilder) {
    response
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

/// Where a page sits in the navigation (and which behaviour `console.js` attaches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The login form: no navigation.
    Login,
    /// The chargers list.
    Chargers,
    /// One charger's page.
    Station,
    /// Webhook endpoints and deliveries.
    Webhooks,
    /// An error page.
    Error,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Login => "login",
            Section::Chargers => "chargers",
            Section::Station => "station",
            Section::Webhooks => "webhooks",
            Section::Error => "error",
        }
    }
}

/// A whole page: `title` is plain text (escaped here); `body_attributes` and `main` are
/// HTML already escaped by the caller.
pub fn page(
    status: StatusCode,
    section: Section,
    title: &str,
    body_attributes: &str,
    main: &str,
) -> HttpResponse {
    let nav = if section == Section::Login {
        String::new()
    } else {
        let current = |s: Section| {
            if s == section {
                r#" aria-current="page""#
            } else {
                ""
            }
        };
        format!(
            r#"<header><span class="brand">csms console</span><nav><a href="/console"{}>Chargers</a><a href="/console/webhooks"{}>Webhooks</a></nav><form method="post" action="/console/logout" class="logout"><button type="submit">Log out</button></form></header>"#,
            current(Section::Chargers),
            current(Section::Webhooks),
        )
    };
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · csms console</title>
<link rel="icon" href="/console/assets/favicon.png" type="image/png">
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body data-page="{page}"{body_attributes}>
{nav}
<main>
{main}
</main>
<script src="/console/assets/console.js"></script>
</body>
</html>
"#,
        title = escape(title),
        page = section.name(),
    );
    let mut response = HttpResponse::build(status);
    secure_headers(&mut response);
    response.content_type("text/html; charset=utf-8").body(html)
}

/// A notice (`ok`) or error banner; `text` is plain text.
pub fn banner(kind: BannerKind, text: &str) -> String {
    let (class, role) = match kind {
        BannerKind::Notice => ("notice", "status"),
        BannerKind::Error => ("error", "alert"),
    };
    format!(
        r#"<p class="banner {class}" role="{role}">{}</p>"#,
        escape(text)
    )
}

/// The two kinds of [`banner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BannerKind {
    /// Something the operator asked for was done.
    Notice,
    /// Something went wrong.
    Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x" + 'y') & co</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;) &amp; co&lt;/script&gt;"
        );
        assert_eq!(escape("plain text ü"), "plain text ü");
    }

    #[test]
    fn json_cells_show_strings_bare_and_the_rest_as_json() {
        assert_eq!(json_text(&serde_json::json!("x")), "x");
        assert_eq!(json_text(&serde_json::json!({"a": 1})), r#"{"a":1}"#);
    }
}

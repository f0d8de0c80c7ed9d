//! The operator console (`/console`) end to end: login with an API key (the API's check
//! and failure limit), the session cookie and its `/v1.1` read-only rule, the pages with
//! a simulated charger, escaping of what chargers and clients send, the forms going
//! through the same queue as the API, cross-site form refusal, and pages that load
//! nothing from another origin.

use e2e_tests::receiver::Receiver;
use e2e_tests::{wait_until, TestApp, API_KEY};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{json, Value};
use simulator::ConfigKey;

/// A browser stand-in: no redirects followed, cookies passed by hand.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: Option<String>,
}

/// What a page request answered.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn set_cookie(&self) -> &str {
        self.headers
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    /// A browser logged in with the test key.
    async fn logged_in(app: &'a TestApp) -> Browser<'a> {
        let mut browser = Browser::new(app);
        let answer = browser.login(API_KEY).await;
        assert_eq!(answer.status, 303, "login: {}", answer.body);
        assert_eq!(answer.location(), "/console");
        let cookie = answer.set_cookie().split(';').next().unwrap().to_owned();
        assert!(cookie.starts_with("csms_console="), "{cookie}");
        browser.cookie = Some(cookie);
        browser
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.app.api)))
            .await
    }

    /// A form post as a page of `origin` would send it (`None`: no Origin header).
    async fn post_from(&self, origin: Option<&str>, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.app.api))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(fields));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        self.send(request).await
    }

    /// A form post from a console page.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post_from(Some(&self.app.api), path, fields).await
    }

    async fn login(&self, key: &str) -> Answer {
        self.post("/console/login", &[("key", key)]).await
    }
}

/// The actions of a station, newest first.
async fn actions_of(app: &TestApp, station: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/v1.1/actions?chargestation={station}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_array().unwrap().clone()
}

/// Every value of `attribute="..."` in a page.
fn attribute_values<'p>(page: &'p str, attribute: &str) -> Vec<&'p str> {
    let needle = format!(" {attribute}=\"");
    page.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &page[at + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_send_a_browser_without_a_valid_session_to_the_login_form() {
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP-LOGIN"})).await;
    let id = station["_id"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    for path in [
        "/console".to_owned(),
        "/console/".to_owned(),
        "/console/webhooks".to_owned(),
        format!("/console/chargestations/{id}"),
    ] {
        let answer = browser.get(&path).await;
        assert_eq!(answer.status, 303, "{path}");
        assert_eq!(answer.location(), "/console/login", "{path}");
    }
    let answer = browser
        .post(
            &format!("/console/chargestations/{id}/configuration"),
            &[("key", "HeartbeatInterval"), ("value", "60")],
        )
        .await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location(), "/console/login");
    assert!(actions_of(&app, id).await.is_empty(), "nothing queued");

    browser.cookie = Some("csms_console=not-a-key".into());
    let answer = browser.get("/console").await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location(), "/console/login");
    assert!(
        answer.set_cookie().contains("Max-Age=0"),
        "a stale cookie is cleared: {}",
        answer.set_cookie()
    );

    let login = Browser::new(&app).get("/console/login").await;
    assert_eq!(login.status, 200);
    assert!(login
        .body
        .contains(r#"<form method="post" action="/console/login">"#));
    assert!(login.body.contains(r#"name="key" type="password""#));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_sets_an_http_only_strict_cookie_and_logging_out_clears_it() {
    let app = TestApp::spawn().await;
    let answer = Browser::new(&app).login(API_KEY).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location(), "/console");
    let cookie = answer.set_cookie();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{part} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP listener: {cookie}");

    let browser = Browser::logged_in(&app).await;
    let chargers = browser.get("/console").await;
    assert_eq!(chargers.status, 200);
    assert!(chargers.body.contains("<h1>Chargers</h1>"));
    let out = browser.post("/console/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/console/login");
    assert!(out.set_cookie().starts_with("csms_console=;"));
    assert!(out.set_cookie().contains("Max-Age=0"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_and_counts_towards_the_address_failure_limit() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let answer = browser.login("wrong-key").await;
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("That API key is not valid."));
    assert!(answer.set_cookie().is_empty(), "no session for a wrong key");
    assert_eq!(browser.login("").await.status, 401);

    let limit = model::auth_limit::DEFAULT_MAX_FAILURES as usize;
    for _ in 2..limit {
        assert_eq!(browser.login("wrong-key").await.status, 401);
    }
    let blocked = browser.login(API_KEY).await;
    assert_eq!(blocked.status, 429, "blocked even with the right key");
    assert!(blocked.set_cookie().is_empty());
    let (status, _) = app.get("/v1.1/chargestations").await;
    assert_eq!(status, 429, "the same limiter as the API's Bearer keys");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_cookie_reads_the_api_but_changes_nothing() {
    let app = TestApp::spawn().await;
    let browser = Browser::logged_in(&app).await;
    let cookie = browser.cookie.clone().unwrap();
    let url = format!("{}/v1.1/chargestations", app.api);
    // A request to /v1.1 with only a cookie → (status, body).
    let with_cookie = |method: reqwest::Method, cookie: &str| {
        let request = app
            .client
            .request(method, &url)
            .header("cookie", cookie)
            .json(&json!({"endpoint": "CP-COOKIE"}));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    assert_eq!(with_cookie(reqwest::Method::GET, &cookie).await.0, 200);
    // The API routes answer GET only (405 for HEAD), but past authentication: not 401.
    assert_eq!(with_cookie(reqwest::Method::HEAD, &cookie).await.0, 405);
    let (status, body) = with_cookie(reqwest::Method::POST, &cookie).await;
    assert_eq!(status, 401, "a POST with only the cookie is refused");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["ok"], false);
    for method in [reqwest::Method::PATCH, reqwest::Method::DELETE] {
        let (status, _) = with_cookie(method, &cookie).await;
        assert_eq!(status, 401);
    }
    let stale = with_cookie(reqwest::Method::GET, "csms_console=not-a-key").await;
    assert_eq!(stale.0, 401);
    let (_, list) = app.get("/v1.1/chargestations").await;
    assert_eq!(list["result"], json!([]), "nothing was created");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_a_simulated_charger_with_everything_it_sent_escaped() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP-ESCAPE", |c| {
            c.vendor = "<script>x</script>".into();
            c.model = "\"><b>m</b>".into();
            c.firmware = Some("fw-1.2.3".into());
            c.keys = vec![
                ConfigKey::new("HeartbeatInterval", false, "300"),
                ConfigKey::new("VendorBanner", false, "<script>alert(1)</script>"),
                ConfigKey::new("NumberOfConnectors", true, "1"),
            ];
        })
        .await;
    charger
        .status_notification(1, "Available", "NoError")
        .await
        .unwrap();
    let (_, upload) = app
        .get(&format!("/v1.1/chargestations/{id}/configurations"))
        .await;
    let done = app
        .finished(upload["result"]["_id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "completed");
    let browser = Browser::logged_in(&app).await;

    let list = browser.get("/console").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&format!(
        r#"<tr data-station-id="{id}" data-identity="CP-ESCAPE">"#
    )));
    assert!(list
        .body
        .contains(r#"<span class="state online">online</span>"#));
    assert!(list.body.contains("&lt;script&gt;x&lt;/script&gt;"));
    assert!(list.body.contains("&quot;&gt;&lt;b&gt;m&lt;/b&gt;"));
    assert!(list.body.contains("fw-1.2.3"));
    // The last logged frame (the log is written in batches: poll for it).
    let mut last = String::new();
    let shown = wait_until(
        "the upload's answer as the last frame",
        || async {
            let list = browser.get("/console").await;
            let ok = list
                .body
                .contains(r#"<td class="last-frame">in · CALLRESULT · GetConfiguration</td>"#);
            (ok, list.body)
        },
        &mut last,
    )
    .await;
    assert!(shown, "{last}");

    let page = browser.get(&format!("/console/chargestations/{id}")).await;
    assert_eq!(page.status, 200);
    let html = &page.body;
    assert!(html.contains(&format!(r#"data-station="{id}""#)));
    assert!(html.contains("<th>chargePointVendor</th><td>&lt;script&gt;x&lt;/script&gt;</td>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the console's own script tag"
    );
    assert!(!html.contains("<b>m</b>"));
    // Connectors, configuration with drift against the default profile, and the history.
    assert!(
        html.contains(r#"<span class="status">Available</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"<tr data-key="HeartbeatInterval" class="drift">"#));
    assert!(html.contains("<td>read-only</td>"));
    assert!(html.contains(r#"data-type="get_configuration" data-status="completed""#));
    assert!(html.contains(r#"<tbody id="message-log"></tbody>"#));

    let missing = browser.get("/console/chargestations/nope").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("chargestation not found"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_form_queues_a_change_through_the_queue_until_it_completes() {
    let app = TestApp::spawn().await;
    let (id, charger) = app.online_charger("CP-FORM", |_| {}).await;
    let browser = Browser::logged_in(&app).await;
    let answer = browser
        .post(
            &format!("/console/chargestations/{id}/configuration"),
            &[("key", "HeartbeatInterval"), ("value", "123")],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(
        answer.location(),
        format!("/console/chargestations/{id}?done=change#actions")
    );
    let actions = actions_of(&app, &id).await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["type"], "chargestation.update_configuration");
    assert_eq!(
        actions[0]["data"],
        json!({"key": "HeartbeatInterval", "value": "123"})
    );
    let done = app.finished(actions[0]["_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        charger.config_value("HeartbeatInterval").as_deref(),
        Some("123")
    );

    let page = browser
        .get(&format!("/console/chargestations/{id}?done=change"))
        .await;
    assert!(page.body.contains("Configuration change queued"));
    assert!(page
        .body
        .contains(r#"data-type="update_configuration" data-status="completed""#));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_and_apply_buttons_queue_what_the_api_routes_queue() {
    let app = TestApp::spawn().await;
    let (id, charger) = app
        .online_charger("CP-APPLY", |c| {
            c.keys = vec![
                ConfigKey::new("HeartbeatInterval", false, "300"),
                ConfigKey::new("WebSocketPingInterval", true, "60"),
            ];
        })
        .await;
    let browser = Browser::logged_in(&app).await;
    let answer = browser
        .post(&format!("/console/chargestations/{id}/upload"), &[])
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let upload = actions_of(&app, &id).await[0].clone();
    assert_eq!(upload["type"], "chargestation.get_configuration");
    assert_eq!(
        app.finished(upload["_id"].as_str().unwrap()).await["status"],
        "completed"
    );

    let answer = browser
        .post(&format!("/console/chargestations/{id}/apply_desired"), &[])
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(
        answer.location(),
        format!("/console/chargestations/{id}?done=apply&n=1#actions"),
        "one writable key drifts (the read-only one is left)"
    );
    let change = actions_of(&app, &id).await[0].clone();
    assert_eq!(change["data"]["key"], "HeartbeatInterval");
    assert_eq!(
        app.finished(change["_id"].as_str().unwrap()).await["status"],
        "completed"
    );
    assert_eq!(
        charger.config_value("HeartbeatInterval").as_deref(),
        Some("900")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_form_shows_the_apis_error_with_its_status() {
    let app = TestApp::spawn().await;
    let station = app.create_station(json!({"endpoint": "CP-OFF"})).await;
    let offline = station["_id"].as_str().unwrap().to_owned();
    let (online, _charger) = app.online_charger("CP-ON", |_| {}).await;
    let browser = Browser::logged_in(&app).await;

    let answer = browser
        .post(
            &format!("/console/chargestations/{offline}/configuration"),
            &[("key", "HeartbeatInterval"), ("value", "60")],
        )
        .await;
    assert_eq!(answer.status, 406, "{}", answer.body);
    assert!(answer
        .body
        .contains(r#"<p class="banner error" role="alert">"#));
    assert!(answer.body.contains("<h1>CP-OFF"), "the station page again");

    let answer = browser
        .post(
            &format!("/console/chargestations/{online}/configuration"),
            &[("key", ""), ("value", "60")],
        )
        .await;
    assert_eq!(answer.status, 422);
    assert!(answer.body.contains("&#39;key&#39; is required"));
    let answer = browser
        .post(
            &format!("/console/chargestations/{online}/configuration"),
            &[("key", "HeartbeatInterval"), ("value", "not-a-number")],
        )
        .await;
    assert_eq!(answer.status, 422, "the catalogue check of the API route");
    assert!(actions_of(&app, &online).await.is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_posted_from_another_origin_or_without_one_are_refused() {
    let app = TestApp::spawn().await;
    let (id, _charger) = app.online_charger("CP-CSRF", |_| {}).await;
    let browser = Browser::logged_in(&app).await;
    let path = format!("/console/chargestations/{id}/configuration");
    let fields = [("key", "HeartbeatInterval"), ("value", "61")];

    for origin in [
        Some("http://evil.example"),
        Some("http://127.0.0.1:1"),
        Some("null"),
        None,
    ] {
        let answer = browser.post_from(origin, &path, &fields).await;
        assert_eq!(answer.status, 403, "{origin:?}");
        assert!(
            answer.body.contains("form submission refused"),
            "{origin:?}"
        );
    }
    let evil_login = browser
        .post_from(
            Some("http://evil.example"),
            "/console/login",
            &[("key", API_KEY)],
        )
        .await;
    assert_eq!(evil_login.status, 403);
    assert!(evil_login.set_cookie().is_empty());
    let evil_logout = browser
        .post_from(Some("http://evil.example"), "/console/logout", &[])
        .await;
    assert_eq!(evil_logout.status, 403);
    assert!(actions_of(&app, &id).await.is_empty(), "nothing queued");

    // A browser that sends a same-host Referer but no Origin is let through.
    let answer = browser
        .send(
            browser
                .client
                .post(format!("{}{path}", app.api))
                .header("content-type", "application/x-www-form-urlencoded")
                .header(
                    "referer",
                    format!("{}/console/chargestations/{id}", app.api),
                )
                .body(form_encode(&fields)),
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(actions_of(&app, &id).await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhooks_page_lists_deliveries_and_redelivers_through_the_worker() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn().await;
    let (status, endpoint) = app
        .post(
            "/v1.1/webhooks",
            &json!({"url": receiver.url("/hook"), "description": "<img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");
    let endpoint_id = endpoint["result"]["_id"].as_str().unwrap().to_owned();
    let secret = endpoint["result"]["secret"].as_str().unwrap().to_owned();
    let _charger = app.online_charger("CP-HOOK", |_| {}).await;
    let deliveries_path = format!("/v1.1/webhooks/{endpoint_id}/deliveries");
    let body = app
        .wait_for_get(&deliveries_path, "a delivered event", |b| {
            b["result"]
                .as_array()
                .is_some_and(|d| !d.is_empty() && d.iter().all(|d| d["status"] == "delivered"))
        })
        .await;
    let delivery = body["result"].as_array().unwrap().last().unwrap().clone();
    let delivery_id = delivery["_id"].as_str().unwrap();
    let sent_before = receiver.accepted().len();

    let browser = Browser::logged_in(&app).await;
    let page = browser.get("/console/webhooks").await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains(&format!(r#"data-endpoint-id="{endpoint_id}""#)));
    assert!(page.body.contains(&receiver.url("/hook")));
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.body.contains("<img"));
    assert!(!page.body.contains(&secret), "secrets are never shown");
    assert!(page
        .body
        .contains(&format!(r#"<tr data-delivery-id="{delivery_id}">"#)));
    let redeliver = format!("/console/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver");
    assert!(page.body.contains(&format!(r#"action="{redeliver}""#)));

    let answer = browser.post(&redeliver, &[]).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location(), "/console/webhooks?done=redeliver");
    receiver
        .wait_for("the redelivery", |log| {
            log.iter().filter(|r| r.accepted()).count() > sent_before
        })
        .await;
    let missing = browser
        .post(
            &format!("/console/webhooks/{endpoint_id}/deliveries/nope/redeliver"),
            &[],
        )
        .await;
    assert_eq!(missing.status, 404);
    app.stop().await;
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_page_loads_anything_from_another_origin() {
    let app = TestApp::spawn().await;
    let (id, _charger) = app.online_charger("CP-LOCAL", |_| {}).await;
    let browser = Browser::logged_in(&app).await;
    let mut pages = vec![Browser::new(&app).get("/console/login").await];
    for path in [
        "/console".to_owned(),
        format!("/console/chargestations/{id}"),
        "/console/webhooks".to_owned(),
        "/console/no-such-page".to_owned(),
    ] {
        pages.push(browser.get(&path).await);
    }
    for page in &pages {
        assert!(
            !page.body.contains("://"),
            "an absolute URL in {}",
            page.body
        );
        for attribute in ["src", "href", "action"] {
            for value in attribute_values(&page.body, attribute) {
                assert!(
                    value.starts_with('/') && !value.starts_with("//"),
                    "{attribute}={value:?} is not a local path"
                );
            }
        }
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    assert_eq!(pages.last().unwrap().status, 404);
    let icon = Browser::new(&app).get("/console/assets/favicon.png").await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.headers["content-type"], "image/png");
    for asset in ["/console/assets/console.css", "/console/assets/console.js"] {
        let answer = Browser::new(&app).get(asset).await;
        assert_eq!(answer.status, 200, "{asset}");
        assert!(!answer.body.is_empty());
        assert!(!answer.body.contains("://"), "{asset}");
    }
    app.stop().await;
}

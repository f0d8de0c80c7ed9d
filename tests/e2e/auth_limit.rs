//! Failed authentication is rate-limited per source address on both listeners: after
//! ten failures within a minute the address gets 429 for the rest of the window, even
//! with valid credentials; the two listeners count separately.

use e2e_tests::{TestApp, API_KEY};
use model::time::ManualClock;
use serde_json::json;
use simulator::{Charger, SimError};

const LIMIT: usize = model::auth_limit::DEFAULT_MAX_FAILURES as usize;

async fn status_with_key(app: &TestApp, key: &str) -> u16 {
    app.client
        .get(format!("{}/v1.1/chargestations", app.api))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_with_too_many_wrong_api_keys_gets_429_until_the_window_ends() {
    let clock = ManualClock::new(1_700_000_000_000);
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    for attempt in 1..=LIMIT {
        assert_eq!(
            status_with_key(&app, "wrong-key").await,
            401,
            "attempt {attempt}"
        );
    }
    assert_eq!(status_with_key(&app, "wrong-key").await, 429);
    assert_eq!(
        status_with_key(&app, API_KEY).await,
        429,
        "blocked even with a valid key"
    );
    let response = reqwest::get(format!("{}/health", app.api)).await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "unauthenticated routes still answer"
    );

    clock.advance_ms(model::auth_limit::DEFAULT_WINDOW_MS);
    assert_eq!(status_with_key(&app, API_KEY).await, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_limit_of_failed_authentications_is_a_setting() {
    let app = TestApp::spawn_with(|s| s.api_auth_max_failures = 2).await;
    for _ in 0..2 {
        assert_eq!(status_with_key(&app, "wrong-key").await, 401);
    }
    assert_eq!(status_with_key(&app, API_KEY).await, 429);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_with_too_many_wrong_charger_passwords_gets_429_until_the_window_ends() {
    let clock = ManualClock::new(1_700_000_000_000);
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    app.create_station(
        json!({"endpoint": "CP-LIMIT", "security": {"type": "basic_auth", "password": "correct-horse-1"}}),
    )
    .await;
    let mut config = app.charger_config("CP-LIMIT");
    config.password = Some("wrong-password".into());
    for attempt in 1..=LIMIT {
        assert_eq!(
            Charger::connect(config.clone()).await.err(),
            Some(SimError::Handshake { status: 401 }),
            "attempt {attempt}"
        );
    }
    config.password = Some("correct-horse-1".into());
    assert_eq!(
        Charger::connect(config.clone()).await.err(),
        Some(SimError::Handshake { status: 429 }),
        "blocked even with the right password"
    );
    assert_eq!(
        status_with_key(&app, API_KEY).await,
        200,
        "the API listener counts on its own"
    );

    clock.advance_ms(model::auth_limit::DEFAULT_WINDOW_MS);
    let charger = Charger::connect(config).await.unwrap();
    assert_eq!(charger.boot().await.unwrap()["status"], "Accepted");
    app.stop().await;
}

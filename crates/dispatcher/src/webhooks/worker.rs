//! The delivery loop: claim due deliveries (up to the free concurrency slots), send each
//! in a task of its own, record the outcome, repeat. Woken by a poll interval, a
//! [`super::WebhookWaker`], or a finished attempt (the next event of that chargestation
//! may now be due). On shutdown it stops claiming and waits for the attempts in flight.
//!
//! It never decides ordering itself: `model::webhooks::claim_due` only hands out the
//! oldest pending delivery of each (endpoint, chargestation) pair.

use std::error::Error as _;
use std::sync::Arc;

use model::webhooks::{self, AttemptOutcome, AttemptReport, ClaimedDelivery};
use model::Db;
use reqwest::header::CONTENT_TYPE;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{sign, WebhookConfig, WebhookWorker};

/// The most response-body bytes kept for `lastError`.
const SNIPPET_BYTES: usize = 200;
/// The most response-body bytes read at all (the rest is dropped with the connection).
const MAX_READ_BYTES: usize = 64 * 1024;

struct Shared {
    db: Db,
    config: WebhookConfig,
    client: reqwest::Client,
    metrics: Option<ocpp_gateway::Metrics>,
}

pub(super) async fn run(worker: WebhookWorker, shutdown: CancellationToken) {
    let waker = worker.waker.clone();
    let shared = Arc::new(Shared {
        db: worker.db,
        config: worker.config,
        client: worker.client,
        metrics: worker.metrics,
    });
    let lease_ms = shared.config.lease_ms();
    let max_in_flight = shared.config.max_in_flight.max(1);
    let mut in_flight = JoinSet::new();
    tracing::debug!("webhook worker started");
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let free = max_in_flight.saturating_sub(in_flight.len());
        let mut filled = false;
        if free > 0 {
            let now = shared.db.now_ms();
            match webhooks::claim_due(&shared.db, now, free as u64, lease_ms).await {
                Ok(batch) => {
                    filled = batch.len() == free;
                    for claimed in batch {
                        in_flight.spawn(attempt(shared.clone(), claimed));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not claim webhook deliveries"),
            }
        }
        if filled {
            // Every slot was used: more may be due. Wait only for a slot to free up.
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(_) = in_flight.join_next() => {}
            }
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = waker.0.notified() => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            () = tokio::time::sleep(shared.config.poll_interval) => {}
        }
    }
    let finishing = in_flight.len();
    if finishing > 0 {
        tracing::info!(finishing, "webhook worker finishing the attempts in flight");
    }
    while in_flight.join_next().await.is_some() {}
    tracing::debug!("webhook worker stopped");
}

/// What the receiver did with one request.
struct Answer {
    status_code: Option<u16>,
    error: Option<String>,
    success: bool,
}

async fn attempt(shared: Arc<Shared>, claimed: ClaimedDelivery) {
    let started_at = shared.db.now_ms();
    let answer = post(&shared, &claimed, started_at).await;
    let finished_at = shared.db.now_ms();
    let policy = shared.config.retry;
    let outcome = if answer.success {
        AttemptOutcome::Delivered
    } else {
        policy.after_failure(
            claimed.first_attempt_at.unwrap_or(started_at),
            claimed.window_attempts.saturating_add(1),
            finished_at,
            rand::random::<f64>(),
        )
    };
    let report = AttemptReport {
        started_at,
        finished_at,
        status_code: answer.status_code,
        error: answer.error,
        outcome,
    };
    if let Some(metrics) = &shared.metrics {
        metrics.webhook_delivery(match report.outcome {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::RetryAt(_) => "retry",
            AttemptOutcome::GiveUp => "given_up",
        });
    }
    match webhooks::finish_attempt(&shared.db, &claimed, &report, policy.window_ms).await {
        Ok(effects) => {
            if effects.lost_lease {
                tracing::warn!(delivery = %claimed.id, "webhook attempt finished after its lease was taken over; outcome not recorded");
            }
            if effects.endpoint_disabled {
                tracing::warn!(endpoint = %claimed.endpoint_id, url = %claimed.url, "webhook endpoint disabled: every attempt failed for the whole retry window");
            }
            match report.outcome {
                AttemptOutcome::Delivered => {
                    tracing::debug!(delivery = %claimed.id, event = %claimed.event_id, "webhook delivered")
                }
                AttemptOutcome::RetryAt(at) => {
                    tracing::info!(delivery = %claimed.id, event = %claimed.event_id, url = %claimed.url, status = ?report.status_code, error = ?report.error, retry_in_ms = at - finished_at, "webhook attempt failed; will retry")
                }
                AttemptOutcome::GiveUp => {
                    tracing::warn!(delivery = %claimed.id, event = %claimed.event_id, url = %claimed.url, "webhook delivery failed for good after the retry window")
                }
            }
        }
        // The lease runs out and the delivery is tried again: at-least-once holds.
        Err(e) => {
            tracing::error!(delivery = %claimed.id, error = %e, "could not record a webhook attempt")
        }
    }
}

async fn post(shared: &Shared, claimed: &ClaimedDelivery, now_ms: i64) -> Answer {
    let headers = sign(&claimed.secret, &claimed.event_id, &claimed.body, now_ms);
    let mut request = shared
        .client
        .post(&claimed.url)
        .header(CONTENT_TYPE, "application/json")
        .body(claimed.body.clone());
    for (name, value) in headers.pairs() {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(mut response) => {
            let status = response.status();
            let mut body = Vec::new();
            while body.len() < MAX_READ_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    Ok(None) | Err(_) => break,
                }
            }
            if status.is_success() {
                Answer {
                    status_code: Some(status.as_u16()),
                    error: None,
                    success: true,
                }
            } else {
                let text = String::from_utf8_lossy(&body);
                let snippet: String = text.trim().chars().take(SNIPPET_BYTES).collect();
                let error = if snippet.is_empty() {
                    format!("the receiver answered HTTP {}", status.as_u16())
                } else {
                    format!("the receiver answered HTTP {}: {snippet}", status.as_u16())
                };
                Answer {
                    status_code: Some(status.as_u16()),
                    error: Some(error),
                    success: false,
                }
            }
        }
        Err(e) => Answer {
            status_code: None,
            error: Some(describe(&e, &shared.config)),
            success: false,
        },
    }
}

fn describe(error: &reqwest::Error, config: &WebhookConfig) -> String {
    if error.is_timeout() {
        return format!(
            "timed out: no answer within {} ms",
            config.timeout.as_millis()
        );
    }
    let mut text = if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

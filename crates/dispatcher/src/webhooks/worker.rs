//! The delivery loop. Three parts:
//!
//! - the **claimer** (this task's loop) claims due deliveries in runs — up to the free
//!   concurrency slots, in one round — and spawns one task per run. A run is the head of
//!   one (endpoint, chargestation) pair and up to [`RUN_LEN`] − 1 deliveries right
//!   behind it (`model::webhooks::claim_runs`), so a pair's backlog goes out back to
//!   back instead of one claim-send-record cycle per event. It is woken by the outbox
//!   signal of [`model::Db`] (raised after every commit that wrote an event, by
//!   redeliveries, re-activated endpoints and runs given back unsent), by a slot
//!   freeing up when every slot was busy, or by the poll interval (retries falling due,
//!   events written by other instances on one PostgreSQL database). It also spawns the
//!   runs the finisher claimed;
//! - each **run** task POSTs its deliveries one after another and hands each report to
//!   the finisher; it stops at the first failure (or when the next attempt could
//!   outlast the lease) and gives the rest of its leases back, so nothing is sent
//!   before an earlier event of its pair was accepted;
//! - the **finisher** records the reports in batches, one transaction for whatever
//!   finished while the previous batch was being written, and in the same transaction
//!   claims the run waiting behind each run it completes (`model::webhooks::
//!   finish_attempts_and_continue`): a chargestation's next events — its `.accepted`
//!   behind its `.requested` — are due the moment the previous outcome is written, and
//!   go straight to the claimer to be sent, without waiting for another claim round.
//!
//! On shutdown the claimer stops claiming, waits for the attempts in flight, and the
//! finisher records them all (claiming nothing more) before the task ends; a run it
//! claimed as the worker was stopping is given back unsent.
//!
//! Ordering: `model::webhooks::claim_runs` (and the finisher's claim) only starts a run
//! at the oldest pending delivery of each (endpoint, chargestation) pair, every
//! delivery of the run stays leased (so no other claim can start behind it) until the
//! finisher has recorded its outcome or the run released it, and a run sends in order
//! and stops at a failure.

use std::error::Error as _;
use std::sync::Arc;

use model::webhooks::{self, AttemptOutcome, AttemptReport, ClaimedDelivery};
use model::Db;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{sign, WebhookConfig, WebhookWorker};

/// The most response-body bytes kept for `lastError`.
const SNIPPET_BYTES: usize = 200;
/// The most response-body bytes read at all (the rest is dropped with the connection).
const MAX_READ_BYTES: usize = 64 * 1024;
/// The most attempts the finisher records in one transaction.
const FINISH_BATCH: usize = 512;
/// The most deliveries of one (endpoint, chargestation) pair claimed and sent as a run.
const RUN_LEN: usize = 32;

struct Shared {
    db: Db,
    config: WebhookConfig,
    client: reqwest::Client,
    metrics: Option<ocpp_gateway::Metrics>,
}

/// A finished attempt on its way to the finisher.
struct Finished {
    claimed: ClaimedDelivery,
    report: AttemptReport,
    /// It was delivered and was the last of its run: what waits behind it in its pair
    /// is claimed with the batch that records it.
    ends_run: bool,
}

/// A run claimed by the finisher, on its way to the claimer to be sent.
type Run = Vec<ClaimedDelivery>;

pub(super) async fn run(worker: WebhookWorker, shutdown: CancellationToken) {
    let signal = worker.db.outbox_signal();
    let shared = Arc::new(Shared {
        db: worker.db,
        config: worker.config,
        client: worker.client,
        metrics: worker.metrics,
    });
    let lease_ms = shared.config.lease_ms();
    let max_in_flight = shared.config.max_in_flight.max(1);
    // When every slot was busy, claim again once a quarter of them is free (one claim
    // per round of deliveries, not one per delivery) — or when signalled or polled.
    let low_water = (max_in_flight / 4).max(1);
    let (finished_tx, finished_rx) = mpsc::unbounded_channel::<Finished>();
    let (continued_tx, mut continued_rx) = mpsc::unbounded_channel::<Run>();
    let finisher = tokio::spawn(finish_loop(
        shared.clone(),
        finished_rx,
        continued_tx,
        shutdown.clone(),
    ));
    let mut in_flight = JoinSet::new();
    tracing::debug!(max_in_flight, "webhook worker started");
    // Whether to claim on this turn, and whether every slot was in use the last time.
    let mut claim = true;
    let mut saturated = false;
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        while in_flight.try_join_next().is_some() {}
        let free = max_in_flight.saturating_sub(in_flight.len());
        if saturated && free >= low_water {
            // More may be due than there were slots: claim again now that enough are
            // free (one claim per round of deliveries, not one per delivery).
            claim = true;
        }
        if free == 0 {
            saturated = true;
        } else if claim {
            claim = false;
            let now = shared.db.now_ms();
            match webhooks::claim_runs(&shared.db, now, free, RUN_LEN, lease_ms).await {
                Ok(runs) => {
                    saturated = runs.len() >= free;
                    for run in runs {
                        in_flight.spawn(send_run(shared.clone(), run, finished_tx.clone()));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not claim webhook deliveries"),
            }
        }
        tokio::select! {
            // Runs already claimed go out before anything else is claimed.
            biased;
            () = shutdown.cancelled() => break,
            // The runs the finisher claimed behind runs just delivered, all at once: each
            // replaces a finished run's slot, so they go out whether or not one is free.
            Some(run) = continued_rx.recv() => {
                in_flight.spawn(send_run(shared.clone(), run, finished_tx.clone()));
                while let Ok(run) = continued_rx.try_recv() {
                    in_flight.spawn(send_run(shared.clone(), run, finished_tx.clone()));
                }
            }
            () = signal.notified() => claim = true,
            // A slot freed up; the top of the loop decides whether to claim.
            Some(_) = in_flight.join_next(), if saturated => {}
            () = tokio::time::sleep(shared.config.poll_interval) => claim = true,
        }
    }
    let finishing = in_flight.len();
    if finishing > 0 {
        tracing::info!(finishing, "webhook worker finishing the attempts in flight");
    }
    while in_flight.join_next().await.is_some() {}
    drop(finished_tx);
    if let Err(e) = finisher.await {
        tracing::error!(error = %e, "the webhook finisher failed");
    }
    // Runs the finisher claimed as the worker was stopping are given back unsent.
    let mut unsent = Vec::new();
    while let Ok(run) = continued_rx.try_recv() {
        unsent.extend(run);
    }
    if let Err(e) = webhooks::release(&shared.db, &unsent).await {
        tracing::warn!(error = %e, deliveries = unsent.len(), "could not give back unsent webhook deliveries; their leases will run out");
    }
    tracing::debug!("webhook worker stopped");
}

/// Records finished attempts, as many per transaction as have arrived, until every
/// run task and the claimer are gone. With each batch it claims the runs waiting behind
/// the runs it completes and hands them to the claimer (`continued`), except once the
/// worker is stopping.
async fn finish_loop(
    shared: Arc<Shared>,
    mut finished: mpsc::UnboundedReceiver<Finished>,
    continued: mpsc::UnboundedSender<Run>,
    shutdown: CancellationToken,
) {
    let window_ms = shared.config.retry.window_ms;
    let lease_ms = shared.config.lease_ms();
    let mut batch = Vec::with_capacity(FINISH_BATCH);
    while finished.recv_many(&mut batch, FINISH_BATCH).await > 0 {
        let items: Vec<(&ClaimedDelivery, &AttemptReport)> =
            batch.iter().map(|f| (&f.claimed, &f.report)).collect();
        let pairs: Vec<(String, String)> = if shutdown.is_cancelled() {
            Vec::new()
        } else {
            batch
                .iter()
                .filter(|f| f.ends_run)
                .map(|f| (f.claimed.endpoint_id.clone(), f.claimed.order_key.clone()))
                .collect()
        };
        let continuation = webhooks::Continuation {
            pairs: &pairs,
            now_ms: shared.db.now_ms(),
            run_len: RUN_LEN,
            lease_ms,
        };
        match webhooks::finish_attempts_and_continue(&shared.db, &items, window_ms, continuation)
            .await
        {
            Ok((effects, runs)) => {
                for (f, effects) in batch.iter().zip(effects) {
                    log_outcome(&f.claimed, &f.report, effects);
                }
                for run in runs {
                    // The claimer is gone only after this loop ends.
                    let _ = continued.send(run);
                }
            }
            // The leases run out and the deliveries are tried again: at-least-once holds.
            Err(e) => {
                for f in &batch {
                    tracing::error!(delivery = %f.claimed.id, error = %e, "could not record a webhook attempt");
                }
            }
        }
        batch.clear();
    }
}

fn log_outcome(
    claimed: &ClaimedDelivery,
    report: &AttemptReport,
    effects: webhooks::FinishEffects,
) {
    if effects.lost_lease {
        tracing::warn!(delivery = %claimed.id, "webhook attempt finished after its lease was taken over; outcome not recorded");
        return;
    }
    if effects.endpoint_disabled {
        tracing::warn!(endpoint = %claimed.endpoint_id, url = %claimed.url, "webhook endpoint disabled: every attempt failed for the whole retry window");
    }
    match report.outcome {
        AttemptOutcome::Delivered => {
            tracing::debug!(delivery = %claimed.id, event = %claimed.event_id, "webhook delivered");
        }
        AttemptOutcome::RetryAt(at) => {
            tracing::info!(delivery = %claimed.id, event = %claimed.event_id, url = %claimed.url, status = ?report.status_code, error = ?report.error, retry_in_ms = at - report.finished_at, "webhook attempt failed; will retry");
        }
        AttemptOutcome::GiveUp => {
            tracing::warn!(delivery = %claimed.id, event = %claimed.event_id, url = %claimed.url, "webhook delivery failed for good after the retry window");
        }
    }
}

/// What the receiver did with one request.
struct Answer {
    status_code: Option<u16>,
    error: Option<String>,
    success: bool,
}

/// Sends a run's deliveries in order, each report to the finisher as it ends; at the
/// first failure, or when another attempt could outlast the run's lease, the rest of
/// the run is given back unattempted (due again at once, still in order).
async fn send_run(
    shared: Arc<Shared>,
    run: Vec<ClaimedDelivery>,
    finished: mpsc::UnboundedSender<Finished>,
) {
    let claimed_at = std::time::Instant::now();
    let mut run = run.into_iter().peekable();
    while let Some(claimed) = run.next() {
        let last = run.peek().is_none();
        let delivered = attempt(&shared, claimed, last, &finished).await;
        // The lease covers two timeouts and more: an attempt started within one timeout
        // of the claim ends inside it.
        if !delivered || claimed_at.elapsed() >= shared.config.timeout {
            break;
        }
    }
    let rest: Vec<ClaimedDelivery> = run.collect();
    if !rest.is_empty() {
        if let Err(e) = webhooks::release(&shared.db, &rest).await {
            tracing::warn!(error = %e, deliveries = rest.len(), "could not give back unsent webhook deliveries; their leases will run out");
        }
    }
}

/// POSTs one delivery (`last` of its run or not) and hands its report to the
/// finisher; whether it was delivered.
async fn attempt(
    shared: &Shared,
    claimed: ClaimedDelivery,
    last: bool,
    finished: &mpsc::UnboundedSender<Finished>,
) -> bool {
    let started_at = shared.db.now_ms();
    let answer = post(shared, &claimed, started_at).await;
    let finished_at = shared.db.now_ms();
    let policy = shared.config.retry;
    let outcome = if answer.success {
        AttemptOutcome::Delivered
    } else {
        policy.after_failure(
            claimed.first_attempt_at.unwrap_or(started_at),
            i32::try_from(claimed.window_attempts.saturating_add(1)).unwrap_or(i32::MAX),
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
    let delivered = report.outcome == AttemptOutcome::Delivered;
    // The finisher outlives every run task (the claimer waits for them before it lets
    // the finisher end), so this only fails if the finisher panicked; the lease then
    // runs out and the delivery is tried again.
    let sent = finished.send(Finished {
        claimed,
        report,
        ends_run: last && delivered,
    });
    if sent.is_err() {
        tracing::error!("the webhook finisher is gone; the attempt will be repeated");
        return false;
    }
    delivered
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

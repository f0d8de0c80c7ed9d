//! The Prometheus registry of one csms process, threaded explicitly (no global): built
//! once at start-up, owned by the [`crate::Gateway`], reached by the dispatcher (webhook
//! deliveries) through it and rendered by the API's `GET /metrics`.
//!
//! Series (all prefixed `csms_`): `connected_chargers`, `ocpp_frames_in_total`,
//! `ocpp_inbound_messages_total{action,outcome}` (`result`, `error`, or `malformed` with
//! action `unknown`), `ocpp_outbound_call_duration_seconds{action}` (histogram of
//! answered calls), `ocpp_outbound_calls_total{action,outcome}` (`result`, `callerror`,
//! `timeout`, `disconnected`, `not_connected`), `ocpp_outbound_call_timeouts_total
//! {action}`, `command_queue_depth{station}` and `webhook_outbox_lag_seconds` (set from
//! the database at scrape time), `webhook_deliveries_total{outcome}` (`delivered`,
//! `retry`, `given_up`), `message_log_dropped_total` (frames not logged because the
//! message-log writer was behind), plus the standard `process_*` series.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// A metric could not be created, registered or encoded.
#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// The process's metrics; cheap to clone (every clone updates the same series).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    connected: IntGauge,
    frames_in: IntCounter,
    inbound: IntCounterVec,
    outbound_latency: HistogramVec,
    outbound: IntCounterVec,
    outbound_timeouts: IntCounterVec,
    queue_depth: IntGaugeVec,
    webhook_deliveries: IntCounterVec,
    outbox_lag: Gauge,
    message_log_dropped: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn register<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> Result<M, MetricsError> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Metrics {
    /// A fresh registry with every csms series and the process collector.
    ///
    /// # Errors
    /// Only if a metric definition is invalid (a programming error).
    pub fn new() -> Result<Metrics, MetricsError> {
        let registry = Registry::new();
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let latency_buckets = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
        ];
        Ok(Metrics {
            connected: register(
                &registry,
                IntGauge::new(
                    "csms_connected_chargers",
                    "Chargers connected to this instance",
                )?,
            )?,
            frames_in: register(
                &registry,
                IntCounter::new(
                    "csms_ocpp_frames_in_total",
                    "Text frames received from chargers",
                )?,
            )?,
            inbound: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "csms_ocpp_inbound_messages_total",
                        "Charger-initiated messages served, by action and outcome",
                    ),
                    &["action", "outcome"],
                )?,
            )?,
            outbound_latency: register(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "csms_ocpp_outbound_call_duration_seconds",
                        "Time from sending a CALL to a charger to its answer",
                    )
                    .buckets(latency_buckets),
                    &["action"],
                )?,
            )?,
            outbound: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "csms_ocpp_outbound_calls_total",
                        "CALLs to chargers, by action and outcome",
                    ),
                    &["action", "outcome"],
                )?,
            )?,
            outbound_timeouts: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "csms_ocpp_outbound_call_timeouts_total",
                        "CALLs to chargers that got no answer in time",
                    ),
                    &["action"],
                )?,
            )?,
            queue_depth: register(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "csms_command_queue_depth",
                        "Unfinished commands (queued or on the wire) per chargestation id",
                    ),
                    &["station"],
                )?,
            )?,
            webhook_deliveries: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "csms_webhook_deliveries_total",
                        "Webhook delivery attempts made by this instance, by outcome",
                    ),
                    &["outcome"],
                )?,
            )?,
            outbox_lag: register(
                &registry,
                Gauge::new(
                    "csms_webhook_outbox_lag_seconds",
                    "Age of the oldest pending webhook delivery (0 when none)",
                )?,
            )?,
            message_log_dropped: register(
                &registry,
                IntCounter::new(
                    "csms_message_log_dropped_total",
                    "OCPP frames not stored in the message log because its writer was behind",
                )?,
            )?,
            registry,
        })
    }

    pub(crate) fn charger_connected(&self) {
        self.connected.inc();
    }

    pub(crate) fn charger_disconnected(&self) {
        self.connected.dec();
    }

    pub(crate) fn message_log_dropped(&self) {
        self.message_log_dropped.inc();
    }

    /// Frames dropped from the message log so far (its channel was full).
    pub fn message_log_dropped_total(&self) -> u64 {
        self.message_log_dropped.get()
    }

    pub(crate) fn frame_in(&self) {
        self.frames_in.inc();
    }

    pub(crate) fn inbound(&self, action: &str, outcome: &str) {
        self.inbound.with_label_values(&[action, outcome]).inc();
    }

    pub(crate) fn outbound(&self, action: &str, outcome: &str, seconds: Option<f64>) {
        self.outbound.with_label_values(&[action, outcome]).inc();
        if let Some(seconds) = seconds {
            self.outbound_latency
                .with_label_values(&[action])
                .observe(seconds);
        }
        if outcome == "timeout" {
            self.outbound_timeouts.with_label_values(&[action]).inc();
        }
    }

    /// Chargers connected to this instance.
    pub fn connected(&self) -> i64 {
        self.connected.get()
    }

    /// Counts one webhook attempt by its outcome (`delivered`, `retry`, `given_up`).
    pub fn webhook_delivery(&self, outcome: &str) {
        self.webhook_deliveries.with_label_values(&[outcome]).inc();
    }

    /// Replaces the per-chargestation queue depths (read from the database at scrape time).
    pub fn set_queue_depths<'a>(&self, depths: impl IntoIterator<Item = (&'a str, u64)>) {
        self.queue_depth.reset();
        for (station, depth) in depths {
            self.queue_depth
                .with_label_values(&[station])
                .set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
    }

    /// Sets the outbox lag (read from the database at scrape time).
    pub fn set_outbox_lag_ms(&self, lag_ms: i64) {
        self.outbox_lag.set(lag_ms as f64 / 1000.0);
    }

    /// The text exposition format (`text/plain; version=0.0.4`).
    ///
    /// # Errors
    /// When encoding fails.
    pub fn render(&self) -> Result<String, MetricsError> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

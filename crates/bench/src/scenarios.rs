//! The scenarios of issue 10, each run against the baseline and csms (on every database
//! asked for where storage is involved), each bounded in time, each adding a Markdown
//! section and its targets to the [`Outcome`]. A scenario that does not reach its
//! outcome (chargers not booted, a webhook never received, a REST call refused) is
//! recorded as an error and the run goes on with the next one.

use std::fmt::Write as _;
use std::time::Duration;

use futures_util::future::join_all;
use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::error::{BenchError, BenchResult};
use crate::load::{Fleet, LoadConfig};
use crate::machine::Machine;
use crate::proc_stats::{self, ProcSample};
use crate::receiver::{self, Received, Receiver};
use crate::report::{ratio, Outcome, Target};
use crate::server::{Binaries, Database, Server, ServerKind};
use crate::stats::{self, fmt_micros, Summary};

/// How big each scenario is.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// `smoke`, `medium`, `full`.
    pub name: &'static str,
    /// Fleet sizes of the idle-footprint scenario.
    pub footprint: Vec<usize>,
    /// Chargers of the reconnect storm.
    pub storm: usize,
    /// Chargers sending Heartbeats.
    pub heartbeat_chargers: usize,
    /// Back-to-back window.
    pub heartbeat_window: Duration,
    /// Fixed 1/s window.
    pub fixed_rate_window: Duration,
    /// Configuration changes per charger, and the fleet sizes configured concurrently.
    pub config_changes: usize,
    /// Fleet sizes of the configuration path (1 and 100 in full).
    pub config_fleets: Vec<usize>,
    /// Chargers and StatusNotifications per charger of the webhook scenario.
    pub webhook_chargers: usize,
    /// StatusNotifications per charger.
    pub webhook_per_charger: u32,
    /// Keys of the upload scenario and how many uploads.
    pub upload_keys: usize,
    /// Uploads.
    pub upload_repeats: usize,
    /// Connections per second when a fleet is ramped.
    pub ramp_per_sec: u32,
}

impl Sizes {
    /// `smoke` (seconds, a few chargers: CI), `medium` (1k chargers) or `full` (issue 10
    /// sizes, up to the open-files limit).
    pub fn named(name: &str, machine: &Machine) -> Option<Sizes> {
        match name {
            "smoke" => Some(Sizes {
                name: "smoke",
                footprint: vec![5],
                storm: 5,
                heartbeat_chargers: 5,
                heartbeat_window: Duration::from_secs(2),
                fixed_rate_window: Duration::from_secs(2),
                config_changes: 3,
                config_fleets: vec![1, 3],
                webhook_chargers: 5,
                webhook_per_charger: 10,
                upload_keys: 2_000,
                upload_repeats: 1,
                ramp_per_sec: 2_000,
            }),
            "medium" => Some(Sizes {
                name: "medium",
                footprint: vec![1_000],
                storm: 1_000,
                heartbeat_chargers: 1_000,
                heartbeat_window: Duration::from_secs(10),
                fixed_rate_window: Duration::from_secs(10),
                config_changes: 20,
                config_fleets: vec![1, 100],
                webhook_chargers: 100,
                webhook_per_charger: 50,
                upload_keys: 2_000,
                upload_repeats: 3,
                ramp_per_sec: 2_000,
            }),
            "full" => {
                let mut footprint = vec![1_000, 5_000, 10_000];
                let most = machine.max_chargers();
                if most > 10_000 {
                    footprint.push(most);
                }
                footprint.retain(|&n| n <= most);
                Some(Sizes {
                    name: "full",
                    footprint,
                    storm: 10_000.min(most),
                    heartbeat_chargers: 1_000,
                    heartbeat_window: Duration::from_secs(20),
                    fixed_rate_window: Duration::from_secs(30),
                    config_changes: 100,
                    config_fleets: vec![1, 100],
                    webhook_chargers: 100,
                    webhook_per_charger: 200,
                    upload_keys: 2_000,
                    upload_repeats: 10,
                    ramp_per_sec: 2_000,
                })
            }
            _ => None,
        }
    }
}

/// The scenarios, in run order.
pub const SCENARIOS: [&str; 6] = [
    "footprint",
    "storm",
    "heartbeat",
    "config",
    "webhooks",
    "upload",
];

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Sizes.
    pub sizes: Sizes,
    /// Databases for csms.
    pub databases: Vec<Database>,
    /// Programs.
    pub bins: Binaries,
    /// Scenarios to run (names of [`SCENARIOS`]).
    pub scenarios: Vec<String>,
    /// The machine's CPUs ([`Machine::cpus`]), which bound the CPU time a second of a
    /// scenario can use.
    pub cpus: usize,
}

/// Runs every scenario of the plan.
pub async fn run(plan: &Plan) -> Outcome {
    let mut outcome = Outcome::default();
    for name in SCENARIOS {
        if !plan.scenarios.iter().any(|s| s == name) {
            continue;
        }
        eprintln!("csms-bench: scenario {name}");
        let started = Instant::now();
        let result = match name {
            "footprint" => footprint(plan, &mut outcome).await,
            "storm" => storm(plan, &mut outcome).await,
            "heartbeat" => heartbeat(plan, &mut outcome).await,
            "config" => config_path(plan, &mut outcome).await,
            "webhooks" => webhooks(plan, &mut outcome).await,
            _ => upload(plan, &mut outcome).await,
        };
        eprintln!(
            "csms-bench: scenario {name} done in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        if let Err(e) = result {
            eprintln!("csms-bench: scenario {name} FAILED: {e}");
            outcome.errors.push(format!("{name}: {e}"));
        }
    }
    outcome
}

/// How long a fleet of `n` may take to boot.
fn boot_timeout(n: usize) -> Duration {
    Duration::from_secs(60 + (n / 100) as u64)
}

/// Seconds in the unit that suits them (`–` when not measured).
fn fmt_secs(secs: f64) -> String {
    if secs.is_finite() {
        fmt_micros((secs * 1e6) as u64)
    } else {
        "–".into()
    }
}

fn kib(k: f64) -> String {
    if k >= 10_240.0 {
        format!("{:.1} MiB", k / 1024.0)
    } else {
        format!("{k:.0} KiB")
    }
}

/// Starts a fleet on `server` and waits until every charger booted.
async fn booted_fleet(server: &Server, mut config: LoadConfig) -> BenchResult<Fleet> {
    config.url.clone_from(&server.ocpp_url);
    let n = config.chargers;
    let fleet = Fleet::start(config);
    let boot = fleet.wait_booted(boot_timeout(n)).await;
    if !boot.all_booted() {
        let first = boot
            .first_error
            .clone()
            .unwrap_or_else(|| "timed out".into());
        fleet.close(Duration::from_secs(5)).await;
        return Err(server.failure(&format!(
            "{} of {} chargers booted: {first}",
            boot.booted, boot.chargers
        )));
    }
    Ok(fleet)
}

fn csms_kinds(plan: &Plan) -> Vec<ServerKind> {
    plan.databases
        .iter()
        .map(|&db| ServerKind::csms(db))
        .collect()
}

fn all_kinds(plan: &Plan) -> Vec<ServerKind> {
    std::iter::once(ServerKind::Baseline)
        .chain(csms_kinds(plan))
        .collect()
}

/// Idle footprint: server RSS per booted charger.
async fn footprint(plan: &Plan, outcome: &mut Outcome) -> BenchResult<()> {
    let mut md = String::from(
        "## Idle footprint\n\nRSS of the server before the fleet connects and after every \
         charger booted and 2 s passed (ramped at the size's rate, no Heartbeats; csms pings \
         every 30 s). KiB per charger = (after − before) / chargers.\n\n\
         | chargers | server | RSS before | RSS after | KiB / charger | vs baseline | threads |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let mut result = Ok(());
    for &n in &plan.sizes.footprint {
        let mut baseline_per = 0.0;
        for kind in all_kinds(plan) {
            let server = Server::start(&kind, &plan.bins).await?;
            let before = server.sample()?;
            let mut config = LoadConfig::new("", "FP-", n);
            config.ramp_per_sec = Some(plan.sizes.ramp_per_sec);
            let fleet = match booted_fleet(&server, config).await {
                Ok(fleet) => fleet,
                Err(e) => {
                    server.stop().await;
                    result = Err(e);
                    continue;
                }
            };
            tokio::time::sleep(Duration::from_secs(2)).await; // let allocations settle
            let after = server.sample()?;
            fleet.close(Duration::from_secs(30)).await;
            server.stop().await;
            let per = after.rss_kib.saturating_sub(before.rss_kib) as f64 / n as f64;
            if kind.label() == "baseline" {
                baseline_per = per;
            }
            let _ = writeln!(
                md,
                "| {n} | {} | {} | {} | {per:.1} | {} | {} |",
                kind.label(),
                kib(before.rss_kib as f64),
                kib(after.rss_kib as f64),
                ratio(per, baseline_per),
                after.threads
            );
            if kind.label() == "csms/sqlite" {
                outcome.targets.push(Target {
                    name: format!("idle memory per charger, {n} chargers"),
                    goal: "≤ 1.5× baseline".into(),
                    measured: format!(
                        "{per:.1} KiB vs {baseline_per:.1} KiB ({})",
                        ratio(per, baseline_per)
                    ),
                    met: (baseline_per > 0.0).then_some(per <= 1.5 * baseline_per),
                });
            }
        }
    }
    outcome.sections.push(md);
    result
}

/// Reconnect storm: every charger known, all reconnect and boot at once.
async fn storm(plan: &Plan, outcome: &mut Outcome) -> BenchResult<()> {
    let n = plan.sizes.storm;
    let mut md = format!(
        "## Reconnect storm\n\n{n} chargers connect and boot once (ramped), disconnect, then \
         all reconnect and boot **at once** (firmwareVersion `storm-2`). *Booted* is the \
         last BootNotification answer; csms answers only after the boot is committed, so it \
         is also *persisted*. *Confirmed* is when the REST API first showed all {n} online \
         with `bootInfo.firmwareVersion = storm-2` (reading {n} rows takes part of it).\n\n\
         | server | chargers | all booted | vs baseline | boot p50 | boot p99 | connect retries | confirmed via REST |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    let mut baseline_secs = 0.0;
    for kind in all_kinds(plan) {
        let server = match Server::start(&kind, &plan.bins).await {
            Ok(server) => server,
            Err(e) => {
                outcome.errors.push(format!("storm: {e}"));
                continue;
            }
        };
        let result = storm_on(&server, plan, n).await;
        server.stop().await;
        let (boot, confirmed) = match result {
            Ok(r) => r,
            Err(e) => {
                outcome.errors.push(format!("storm: {e}"));
                continue;
            }
        };
        let secs = boot
            .time_to_all_booted
            .map_or(f64::NAN, |d| d.as_secs_f64());
        if kind.label() == "baseline" {
            baseline_secs = secs;
        }
        let _ = writeln!(
            md,
            "| {} | {n} | {} | {} | {} | {} | {} | {} |",
            kind.label(),
            fmt_secs(secs),
            ratio(secs, baseline_secs),
            fmt_micros(boot.boot_latency.p50),
            fmt_micros(boot.boot_latency.p99),
            boot.connect_retries,
            confirmed.map_or_else(|| "–".into(), |d| fmt_secs(d.as_secs_f64()))
        );
        if kind.label() == "csms/sqlite" {
            outcome.targets.push(Target {
                name: format!("reconnect storm of {n}, booted and persisted"),
                goal: "≤ 2× baseline".into(),
                measured: format!(
                    "{} vs {} ({})",
                    fmt_secs(secs),
                    fmt_secs(baseline_secs),
                    ratio(secs, baseline_secs)
                ),
                met: (baseline_secs > 0.0).then_some(secs <= 2.0 * baseline_secs),
            });
        }
    }
    outcome.sections.push(md);
    Ok(())
}

async fn storm_on(
    server: &Server,
    plan: &Plan,
    n: usize,
) -> BenchResult<(crate::load::BootReport, Option<Duration>)> {
    let mut first = LoadConfig::new("", "ST-", n);
    first.ramp_per_sec = Some(plan.sizes.ramp_per_sec);
    first.firmware = "storm-1".into();
    booted_fleet(server, first)
        .await?
        .close(Duration::from_secs(30))
        .await;
    if let Some(rest) = &server.rest {
        let deadline = Instant::now() + Duration::from_secs(60);
        while rest.count_stations("online=true").await? > 0 {
            if Instant::now() > deadline {
                return Err(server.failure("chargers still online 60 s after disconnecting"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let mut second = LoadConfig::new(server.ocpp_url.clone(), "ST-", n);
    second.firmware = "storm-2".into();
    let fleet = Fleet::start(second);
    let started = fleet.started();
    let boot = fleet.wait_booted(boot_timeout(n)).await;
    if !boot.all_booted() {
        fleet.close(Duration::from_secs(5)).await;
        return Err(server.failure(&format!(
            "storm: {} of {n} booted: {}",
            boot.booted,
            boot.first_error
                .clone()
                .unwrap_or_else(|| "timed out".into())
        )));
    }
    let mut confirmed = None;
    if let Some(rest) = &server.rest {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let online = rest.count_stations("online=true").await?;
            if online as usize >= n {
                let stations = rest.all_stations().await?;
                let rebooted = stations
                    .iter()
                    .filter(|s| s["bootInfo"]["firmwareVersion"] == "storm-2")
                    .count();
                if rebooted >= n {
                    confirmed = Some(started.elapsed());
                    break;
                }
            }
            if Instant::now() > deadline {
                fleet.close(Duration::from_secs(5)).await;
                return Err(server.failure("storm: the boots were not all persisted after 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    fleet.close(Duration::from_secs(30)).await;
    Ok((boot, confirmed))
}

/// Heartbeat cost: back-to-back round-trips/s and server CPU per round-trip, then p99 at a
/// fixed 1/s per charger; csms with the message log on and off.
async fn heartbeat(plan: &Plan, outcome: &mut Outcome) -> BenchResult<()> {
    let n = plan.sizes.heartbeat_chargers;
    let mut md = format!(
        "## Heartbeat cost\n\n{n} booted chargers send Heartbeats back-to-back (one outstanding \
         CALL each) for {} s, then at a fixed 1/s each for {} s. CPU µs per round-trip = \
         server user+system time (from `/proc/<pid>/stat`) over the back-to-back window / \
         round-trips. `CSMS_MESSAGE_LOG_ENABLED` is set as shown (a csms without the setting \
         ignores it). *Frames dropped* = `csms_message_log_dropped_total` after the \
         back-to-back window: frames the message log's writer could not keep up with (the \
         CPU per round trip with the log on includes storing only the others).\n\n\
         | server | message log | round-trips/s | CPU µs / round-trip | vs baseline | p50 | p99 | p50 @ 1/s | p99 @ 1/s | max @ 1/s | errors | frames dropped |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
        plan.sizes.heartbeat_window.as_secs(),
        plan.sizes.fixed_rate_window.as_secs()
    );
    let mut kinds = vec![(ServerKind::Baseline, "–")];
    for kind in csms_kinds(plan) {
        kinds.push((kind.clone().with("CSMS_MESSAGE_LOG_ENABLED", "true"), "on"));
        kinds.push((kind.with("CSMS_MESSAGE_LOG_ENABLED", "false"), "off"));
    }
    let mut baseline_cpu = 0.0;
    let mut errors = 0;
    for (kind, log) in kinds {
        let server = match Server::start(&kind, &plan.bins).await {
            Ok(server) => server,
            Err(e) => {
                outcome.errors.push(format!("heartbeat: {e}"));
                continue;
            }
        };
        let mut config = LoadConfig::new("", "HB-", n);
        config.ramp_per_sec = Some(plan.sizes.ramp_per_sec);
        let mut fleet = match booted_fleet(&server, config).await {
            Ok(f) => f,
            Err(e) => {
                server.stop().await;
                outcome.errors.push(format!("heartbeat: {e}"));
                continue;
            }
        };
        let before = server.sample()?;
        let b2b = fleet.heartbeats(0, plan.sizes.heartbeat_window).await;
        let after = server.sample()?;
        let dropped = match (log, server.rest()) {
            ("on", Ok(rest)) => rest
                .metric("csms_message_log_dropped_total")
                .await?
                .map_or("?".to_owned(), |n| format!("{n:.0}")),
            _ => "–".to_owned(),
        };
        let fixed = fleet.heartbeats(1_000, plan.sizes.fixed_rate_window).await;
        fleet.close(Duration::from_secs(30)).await;
        server.stop().await;
        let cpu_us = (after.cpu.saturating_sub(before.cpu)).as_secs_f64() * 1e6
            / b2b.round_trips.max(1) as f64;
        if kind.label() == "baseline" {
            baseline_cpu = cpu_us;
        }
        errors += b2b.errors + fixed.errors;
        if b2b.round_trips == 0 || fixed.round_trips == 0 {
            outcome.errors.push(format!(
                "heartbeat: {}: no Heartbeat was answered",
                kind.label()
            ));
        }
        let _ = writeln!(
            md,
            "| {} | {log} | {:.0} | {cpu_us:.1} | {} | {} | {} | {} | {} | {} | {} | {dropped} |",
            kind.label(),
            b2b.per_sec(),
            ratio(cpu_us, baseline_cpu),
            fmt_micros(b2b.latency.p50),
            fmt_micros(b2b.latency.p99),
            fmt_micros(fixed.latency.p50),
            fmt_micros(fixed.latency.p99),
            fmt_micros(fixed.latency.max),
            b2b.errors + fixed.errors
        );
        if kind.label() == "csms/sqlite" {
            outcome.targets.push(Target {
                name: format!("Heartbeat server CPU per round-trip (message log {log})"),
                goal: "≤ 1.5× baseline".into(),
                measured: format!(
                    "{cpu_us:.1} µs vs {baseline_cpu:.1} µs ({})",
                    ratio(cpu_us, baseline_cpu)
                ),
                met: (baseline_cpu > 0.0).then_some(cpu_us <= 1.5 * baseline_cpu),
            });
            outcome.targets.push(Target {
                name: format!("Heartbeat p99 at {n} × 1/s (message log {log})"),
                goal: "≤ 0.5 ms".into(),
                measured: fmt_micros(fixed.latency.p99),
                met: Some(fixed.latency.p99 <= 500),
            });
        }
    }
    outcome.sections.push(md);
    if errors > 0 {
        return Err(BenchError::failed(format!("{errors} Heartbeats failed")));
    }
    Ok(())
}

/// Configuration path: REST change → ChangeConfiguration → answer → `.accepted` webhook.
async fn config_path(plan: &Plan, outcome: &mut Outcome) -> BenchResult<()> {
    let changes = plan.sizes.config_changes;
    let mut md = format!(
        "## Configuration path\n\n`POST /v1.1/chargestations/{{id}}/configurations` \
         (`HeartbeatInterval`) → ChangeConfiguration → `Accepted` → (read-back when \
         verification is on) → `chargestation.update_configuration.accepted` received by a \
         local webhook receiver; latency from the POST to the receipt. Each charger makes \
         {changes} changes one after another, after one warm-up change that is not counted \
         (it opens the API client's and the webhook sender's connections); the chargers of \
         a fleet run concurrently. \
         `CSMS_CONFIG_CHANGE_GAP_MS=0`.\n\n\
         | server | verify | chargers | changes | p50 | p90 | p99 | max |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    let mut stages_md = String::from(
        "\nWhere the time goes: each stage's p50 / p90, in time since the POST was sent \
         (the stages' times come from the events' `createdAt`, in whole ms; the POST's \
         answer and the webhook's arrival are read by the benchmark).\n\n\
         | server | verify | chargers | POST answered (queued) | `.requested` written (on the wire) \
         | `.accepted` written (answer recorded) | `.accepted` received |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let cpus = plan.cpus;
    let tick_ms = 1000 / proc_stats::clock_ticks_per_sec().max(1);
    let mut cpu_md = format!(
        "\nWhat a change costs in CPU, over each fleet's whole run (warm-up included): \
         changes/s, then user + system CPU time per change of csms (`/proc/<pid>/stat`) and \
         of the benchmark process (its clients and the webhook receiver, on the same \
         machine). By Little's law a closed loop of N chargers has a mean latency of N ÷ \
         throughput, and throughput cannot exceed the {cpus} CPUs ÷ the CPU per change: \
         the floor below is N × CPU per change ÷ {cpus}, with and without the benchmark's \
         share — the least mean latency this machine allows at that cost per change, \
         however the work is scheduled. CPU time is counted in the kernel's clock ticks \
         (`getconf CLK_TCK`, {tick_ms} ms here), so the rows of 1 charger, a few dozen ms of work, \
         are coarse.\n\n\
         *busy* = csms and the benchmark together as a share of the {cpus} CPUs.\n\n\
         | server | verify | chargers | changes/s | csms CPU / change | benchmark CPU / change \
         | busy | floor of the mean (csms + benchmark) | floor of the mean (csms alone) |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for db in &plan.databases {
        for verify in [true, false] {
            let receiver = Receiver::start().await?;
            let kind = ServerKind::csms(*db)
                .with("CSMS_WEBHOOK_URL", receiver.url())
                .with("CSMS_CONFIG_CHANGE_GAP_MS", "0")
                .with("CSMS_WEBHOOK_RETRY_BASE_MS", "1000")
                .with("CSMS_VERIFY_CHANGES", verify.to_string());
            let server = match Server::start(&kind, &plan.bins).await {
                Ok(server) => server,
                Err(e) => {
                    outcome.errors.push(format!("config: {e}"));
                    continue;
                }
            };
            let result = config_on(&server, &receiver, &plan.sizes).await;
            server.stop().await;
            let verify_text = if verify { "on" } else { "off" };
            let rows = match result {
                Ok(rows) => rows,
                Err(e) => {
                    outcome.errors.push(format!("config: {e}"));
                    continue;
                }
            };
            for run in rows {
                let (chargers, summary) = (run.chargers, run.latency);
                let floor =
                    |cpu_us: f64| fmt_micros((chargers as f64 * cpu_us / cpus as f64) as u64);
                let _ = writeln!(
                    cpu_md,
                    "| {} | {verify_text} | {chargers} | {:.0} | {} | {} | {:.0} % | {} | {} |",
                    kind.label(),
                    run.cost.per_sec,
                    fmt_micros(run.cost.csms_us as u64),
                    fmt_micros(run.cost.bench_us as u64),
                    run.cost.busy_percent(cpus),
                    floor(run.cost.csms_us + run.cost.bench_us),
                    floor(run.cost.csms_us),
                );
                let _ = writeln!(
                    stages_md,
                    "| {} | {verify_text} | {chargers} | {} |",
                    kind.label(),
                    run.stages.row()
                );
                let _ = writeln!(
                    md,
                    "| {} | {verify_text} | {chargers} | {} | {} | {} | {} | {} |",
                    kind.label(),
                    summary.count,
                    fmt_micros(summary.p50),
                    fmt_micros(summary.p90),
                    fmt_micros(summary.p99),
                    fmt_micros(summary.max)
                );
                if *db == Database::Sqlite {
                    let goal_us = if chargers <= 1 { 5_000 } else { 20_000 };
                    outcome.targets.push(Target {
                        name: format!("configuration path p99, {chargers} charger(s), verification {verify_text}"),
                        goal: format!("≤ {}", fmt_micros(goal_us)),
                        measured: fmt_micros(summary.p99),
                        met: Some(summary.p99 <= goal_us),
                    });
                }
            }
        }
    }
    md.push_str(&stages_md);
    md.push_str(&cpu_md);
    outcome.sections.push(md);
    Ok(())
}

/// Where a configuration change's time goes, each stage in ms after the POST was sent
/// (csms's `createdAt` of the events has ms precision).
struct Stages {
    /// The API answered the POST (the action is queued).
    answered: Histogram<u64>,
    /// `.requested` was written (the command went on the wire).
    requested: Histogram<u64>,
    /// `.accepted` was written (the answer, and the read-back when verifying, recorded).
    accepted: Histogram<u64>,
    /// `.accepted` reached the receiver.
    received: Histogram<u64>,
}

impl Stages {
    fn new() -> Stages {
        Stages {
            answered: stats::histogram(),
            requested: stats::histogram(),
            accepted: stats::histogram(),
            received: stats::histogram(),
        }
    }

    /// Records one change sent at `start_unix_ms`, answered after `answered`, whose
    /// `.accepted` event is `accepted` (its `.requested` is looked up in `receiver`).
    fn record(
        &mut self,
        receiver: &Receiver,
        accepted: &Received,
        start_unix_ms: i64,
        answered: Duration,
    ) {
        let since_start = |unix_ms: i64| {
            Duration::from_millis(u64::try_from(unix_ms - start_unix_ms).unwrap_or(0))
        };
        stats::record(&mut self.answered, answered);
        let requested = accepted.object_id.as_deref().and_then(|action| {
            receiver.find("chargestation.update_configuration.requested", action)
        });
        if let Some(at) = requested.and_then(|event| event.created_at_ms) {
            stats::record(&mut self.requested, since_start(at));
        }
        if let Some(at) = accepted.created_at_ms {
            stats::record(&mut self.accepted, since_start(at));
        }
        stats::record(&mut self.received, since_start(accepted.at_unix_ms));
    }

    fn merge(&mut self, other: &Stages) {
        for (into, from) in [
            (&mut self.answered, &other.answered),
            (&mut self.requested, &other.requested),
            (&mut self.accepted, &other.accepted),
            (&mut self.received, &other.received),
        ] {
            // Both come from `stats::histogram`, with the same bounds.
            let _ = into.add(from);
        }
    }

    /// The table row: p50 / p90 of each stage.
    fn row(&self) -> String {
        [
            &self.answered,
            &self.requested,
            &self.accepted,
            &self.received,
        ]
        .iter()
        .map(|h| {
            let s = Summary::of(h);
            format!("{} / {}", fmt_micros(s.p50), fmt_micros(s.p90))
        })
        .collect::<Vec<_>>()
        .join(" | ")
    }
}

/// One fleet size of the configuration path: latencies and their stages.
struct ConfigRun {
    chargers: usize,
    latency: Summary,
    stages: Stages,
    cost: CpuCost,
}

/// Throughput and CPU time per unit of work (a change, an event) over a measured window.
struct CpuCost {
    per_sec: f64,
    /// csms's user + system CPU time per unit, µs.
    csms_us: f64,
    /// The benchmark process's (clients and webhook receiver), µs.
    bench_us: f64,
}

impl CpuCost {
    /// The cost of `units` of work done in `elapsed`, between the samples `before` and
    /// `after` of csms and of this process.
    fn between(
        units: usize,
        elapsed: Duration,
        (csms_before, csms_after): (ProcSample, ProcSample),
        (bench_before, bench_after): (ProcSample, ProcSample),
    ) -> CpuCost {
        let units = units.max(1) as f64;
        let per_unit =
            |a: ProcSample, b: ProcSample| b.cpu.saturating_sub(a.cpu).as_secs_f64() * 1e6 / units;
        CpuCost {
            per_sec: units / elapsed.as_secs_f64().max(1e-9),
            csms_us: per_unit(csms_before, csms_after),
            bench_us: per_unit(bench_before, bench_after),
        }
    }

    /// The share of the machine's `cpus` csms and the benchmark kept busy, in %.
    fn busy_percent(&self, cpus: usize) -> f64 {
        (self.csms_us + self.bench_us) * self.per_sec / 1e4 / cpus as f64
    }
}

/// This process's RSS and CPU time now.
fn own_sample() -> BenchResult<ProcSample> {
    proc_stats::sample(std::process::id(), proc_stats::clock_ticks_per_sec())
        .map_err(|e| BenchError::failed(format!("cannot read /proc/self: {e}")))
}

async fn config_on(
    server: &Server,
    receiver: &Receiver,
    sizes: &Sizes,
) -> BenchResult<Vec<ConfigRun>> {
    let rest = server.rest()?;
    let mut rows = Vec::new();
    for &chargers in &sizes.config_fleets {
        let fleet = booted_fleet(
            server,
            LoadConfig::new("", format!("CF{chargers}-"), chargers),
        )
        .await?;
        let identities: Vec<String> = (0..chargers).map(|i| fleet.config().identity(i)).collect();
        let runs = identities.iter().map(|identity| async move {
            let mut latencies = Vec::new();
            let mut stages = Stages::new();
            // Change 0 warms the connections up and is not counted.
            for change in 0..=sizes.config_changes {
                let value = (600 + change).to_string();
                let start = Instant::now();
                let start_unix_ms = receiver::unix_ms();
                let action = rest.change_configuration(identity, "HeartbeatInterval", &value).await?;
                let answered = start.elapsed();
                let accepted = receiver
                    .wait_for(
                        "chargestation.update_configuration.accepted",
                        &action,
                        start + Duration::from_secs(60),
                    )
                    .await
                    .ok_or_else(|| {
                        BenchError::failed(format!(
                            "{identity}: no update_configuration.accepted webhook for action {action} within 60 s"
                        ))
                    })?;
                if change > 0 {
                    latencies.push(accepted.at.saturating_duration_since(start));
                    stages.record(receiver, &accepted, start_unix_ms, answered);
                }
            }
            Ok::<_, BenchError>((latencies, stages))
        });
        let (csms_before, bench_before, started) =
            (server.sample()?, own_sample()?, Instant::now());
        let results = join_all(runs).await;
        let cost = CpuCost::between(
            chargers * (sizes.config_changes + 1),
            started.elapsed(),
            (csms_before, server.sample()?),
            (bench_before, own_sample()?),
        );
        fleet.close(Duration::from_secs(10)).await;
        let mut histogram = stats::histogram();
        let mut stages = Stages::new();
        for result in results {
            let (latencies, charger_stages) = result?;
            for latency in latencies {
                stats::record(&mut histogram, latency);
            }
            stages.merge(&charger_stages);
        }
        rows.push(ConfigRun {
            chargers,
            latency: Summary::of(&histogram),
            stages,
            cost,
        });
    }
    Ok(rows)
}

/// Webhook throughput: a burst of StatusNotifications, each an event, to a local receiver.
async fn webhooks(plan: &Plan, outcome: &mut Outcome) -> BenchResult<()> {
    let chargers = plan.sizes.webhook_chargers;
    let per = plan.sizes.webhook_per_charger;
    let expected = chargers * per as usize;
    let cpus = plan.cpus;
    let mut md = format!(
        "## Webhook throughput\n\n{chargers} chargers send {per} StatusNotifications each \
         back-to-back ({expected} `chargestation.connector_status.updated` events, generated \
         while they are delivered). *Delivered/s* = events / (last receipt − start of the \
         burst); *lag* = receipt time − the event's `createdAt` (ms resolution).\n\n\
         *CPU / event* = user + system CPU time of csms, and of the benchmark process (its \
         chargers and the receiver), from the burst's start to the last receipt, per event; \
         *busy* = both together as a share of the machine's {cpus} CPUs over that time.\n\n\
         | server | events | generated/s | delivered/s | lag p50 | lag p99 | lag max \
         | csms CPU / event | benchmark CPU / event | busy |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    for db in &plan.databases {
        let receiver = Receiver::start().await?;
        let kind = ServerKind::csms(*db)
            .with("CSMS_WEBHOOK_URL", receiver.url())
            .with("CSMS_WEBHOOK_RETRY_BASE_MS", "1000");
        let server = match Server::start(&kind, &plan.bins).await {
            Ok(server) => server,
            Err(e) => {
                outcome.errors.push(format!("webhooks: {e}"));
                continue;
            }
        };
        let result = webhooks_on(&server, &receiver, chargers, per).await;
        server.stop().await;
        let (generated_per_sec, cost, lag) = match result {
            Ok(r) => r,
            Err(e) => {
                outcome.errors.push(format!("webhooks: {e}"));
                continue;
            }
        };
        let delivered_per_sec = cost.per_sec;
        let _ = writeln!(
            md,
            "| {} | {expected} | {generated_per_sec:.0} | {delivered_per_sec:.0} | {} | {} | {} | {} | {} | {:.0} % |",
            kind.label(),
            fmt_micros(lag.p50),
            fmt_micros(lag.p99),
            fmt_micros(lag.max),
            fmt_micros(cost.csms_us as u64),
            fmt_micros(cost.bench_us as u64),
            cost.busy_percent(cpus),
        );
        if *db == Database::Sqlite {
            outcome.targets.push(Target {
                name: "webhook delivery".into(),
                goal: "≥ 5,000 events/s".into(),
                measured: format!("{delivered_per_sec:.0} events/s"),
                met: Some(delivered_per_sec >= 5_000.0),
            });
            outcome.targets.push(Target {
                name: "webhook outbox lag p99".into(),
                goal: "≤ 50 ms".into(),
                measured: fmt_micros(lag.p99),
                met: Some(lag.p99 <= 50_000),
            });
        }
    }
    outcome.sections.push(md);
    Ok(())
}

async fn webhooks_on(
    server: &Server,
    receiver: &Receiver,
    chargers: usize,
    per: u32,
) -> BenchResult<(f64, CpuCost, Summary)> {
    const TYPE: &str = "chargestation.connector_status.updated";
    let mut fleet = booted_fleet(server, LoadConfig::new("", "WH-", chargers)).await?;
    let settle = Instant::now() + Duration::from_secs(60);
    if receiver
        .wait_count("chargestation.online", chargers, settle)
        .await
        < chargers
    {
        fleet.close(Duration::from_secs(5)).await;
        return Err(
            server.failure("webhooks: chargestation.online never received for every charger")
        );
    }
    let before = receiver.count_of(TYPE);
    let (csms_before, bench_before) = (server.sample()?, own_sample()?);
    let start = Instant::now();
    let burst = fleet.status_burst(per, Duration::from_secs(120)).await;
    let expected = before + chargers * per as usize;
    let got = receiver
        .wait_count(TYPE, expected, Instant::now() + Duration::from_secs(120))
        .await;
    let samples_after = (server.sample()?, own_sample()?);
    fleet.close(Duration::from_secs(10)).await;
    if got < expected || burst.errors > 0 {
        return Err(server.failure(&format!(
            "webhooks: {} of {} events received, {} StatusNotifications failed",
            got - before,
            expected - before,
            burst.errors
        )));
    }
    let events: Vec<_> = receiver
        .events()
        .into_iter()
        .filter(|e| e.event_type == TYPE)
        .skip(before)
        .collect();
    let last = events.iter().map(|e| e.at).max().unwrap_or(start);
    // Delivered/s is the cost's rate: events over (last receipt − start of the burst).
    let cost = CpuCost::between(
        events.len(),
        last.saturating_duration_since(start),
        (csms_before, samples_after.0),
        (bench_before, samples_after.1),
    );
    let mut histogram = stats::histogram();
    for lag in receiver::lags(&events) {
        stats::record(&mut histogram, lag);
    }
    Ok((burst.per_sec(), cost, Summary::of(&histogram)))
}

/// A full GetConfiguration upload of a charger with 2,000 keys, end to end.
async fn upload(plan: &Plan, outcome: &mut Outcome) -> BenchResult<()> {
    let keys = plan.sizes.upload_keys;
    let mut md = format!(
        "## Configuration upload\n\nA charger with {keys} configuration keys (plus \
         `HeartbeatInterval`); `GET /v1.1/chargestations/{{id}}/configurations` → \
         GetConfiguration → the answer stored as the snapshot → \
         `chargestation.get_configuration.accepted` at the receiver; latency from the GET \
         to the receipt.\n\n\
         | server | keys | uploads | p50 | max | keys in the snapshot |\n|---|---|---|---|---|---|\n"
    );
    for db in &plan.databases {
        let receiver = Receiver::start().await?;
        let kind = ServerKind::csms(*db)
            .with("CSMS_WEBHOOK_URL", receiver.url())
            .with("CSMS_CONFIG_CHANGE_GAP_MS", "0");
        let server = match Server::start(&kind, &plan.bins).await {
            Ok(server) => server,
            Err(e) => {
                outcome.errors.push(format!("upload: {e}"));
                continue;
            }
        };
        let result = upload_on(&server, &receiver, keys, plan.sizes.upload_repeats).await;
        server.stop().await;
        let (summary, stored) = match result {
            Ok(r) => r,
            Err(e) => {
                outcome.errors.push(format!("upload: {e}"));
                continue;
            }
        };
        let _ = writeln!(
            md,
            "| {} | {keys} | {} | {} | {} | {stored} |",
            kind.label(),
            summary.count,
            fmt_micros(summary.p50),
            fmt_micros(summary.max)
        );
    }
    outcome.sections.push(md);
    Ok(())
}

async fn upload_on(
    server: &Server,
    receiver: &Receiver,
    keys: usize,
    repeats: usize,
) -> BenchResult<(Summary, usize)> {
    let rest = server.rest()?;
    let mut config = LoadConfig::new("", "UP-", 1);
    config.config_keys = keys;
    let fleet = booted_fleet(server, config).await?;
    let identity = fleet.config().identity(0);
    let mut histogram = stats::histogram();
    let mut outcome = Ok(());
    for _ in 0..repeats {
        let start = Instant::now();
        let action = match rest.request_upload(&identity).await {
            Ok(a) => a,
            Err(e) => {
                outcome = Err(e);
                break;
            }
        };
        match receiver
            .wait_for(
                "chargestation.get_configuration.accepted",
                &action,
                start + Duration::from_secs(120),
            )
            .await
        {
            Some(accepted) => {
                stats::record(&mut histogram, accepted.at.saturating_duration_since(start))
            }
            None => {
                outcome = Err(BenchError::failed(format!(
                    "upload: no get_configuration.accepted webhook for action {action} within 120 s"
                )));
                break;
            }
        }
    }
    fleet.close(Duration::from_secs(10)).await;
    outcome?;
    let station = rest.station(&identity).await?;
    let stored = station["configuration"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    if stored < keys {
        return Err(BenchError::failed(format!(
            "upload: the snapshot holds {stored} keys, expected {keys}+"
        )));
    }
    Ok((Summary::of(&histogram), stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(ms: u64) -> ProcSample {
        ProcSample {
            cpu: Duration::from_millis(ms),
            ..ProcSample::default()
        }
    }

    #[test]
    fn a_cost_is_each_process_cpu_time_per_unit_and_their_share_of_the_machine() {
        // 1,000 changes in 2 s; csms used 1.2 s of CPU, the benchmark 0.3 s.
        let cost = CpuCost::between(
            1_000,
            Duration::from_secs(2),
            (cpu(500), cpu(1_700)),
            (cpu(100), cpu(400)),
        );
        assert!((cost.per_sec - 500.0).abs() < 1e-9);
        assert!((cost.csms_us - 1_200.0).abs() < 1e-9);
        assert!((cost.bench_us - 300.0).abs() < 1e-9);
        // 1.5 s of CPU in 2 s on 2 CPUs.
        assert!((cost.busy_percent(2) - 37.5).abs() < 1e-9);
        // No work and no time: no division by zero.
        let none = CpuCost::between(0, Duration::ZERO, (cpu(0), cpu(0)), (cpu(0), cpu(0)));
        assert!(none.per_sec.is_finite() && none.csms_us == 0.0);
    }
}

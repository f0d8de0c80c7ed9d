//! `csms-bench`: the load generator (`load`) and the scenario runner (`run`) of the
//! benchmark suite. See `docs/benchmarks.md`.
//!
//! ```text
//! csms-bench load --url ws://127.0.0.1:9000/ocpp --chargers 1000 --seconds 10
//! csms-bench run --size full --db both --out BENCHMARKS.md
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bench::load::{self, LoadConfig};
use bench::machine::{self, Machine};
use bench::report::{self, RunInfo};
use bench::scenarios::{self, Plan, Sizes, SCENARIOS};
use bench::server::{self, Binaries, Database};
use bench::stats::fmt_micros;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "csms-bench", version, about = "The csms benchmark suite")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Opens N chargers against a server, boots them, sends Heartbeats, reports.
    Load(LoadArgs),
    /// Runs the scenarios against bench-baseline and csms, writing a Markdown report.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct LoadArgs {
    /// WebSocket base URL (loopback); chargers connect to `{url}/{identity}`.
    #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
    url: String,
    /// How many chargers.
    #[arg(long, default_value_t = 100)]
    chargers: usize,
    /// Identity prefix (`{prefix}00000`, ...).
    #[arg(long, default_value = "LOAD-")]
    prefix: String,
    /// Connections per second (0 = all at once).
    #[arg(long, default_value_t = 0)]
    ramp: u32,
    /// Heartbeat period per charger in ms (0 = back-to-back, one outstanding CALL each).
    #[arg(long, default_value_t = 0)]
    interval_ms: u64,
    /// Length of the Heartbeat window.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// How long booting may take.
    #[arg(long, default_value_t = 120)]
    boot_timeout_secs: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum DbChoice {
    Sqlite,
    Postgres,
    /// PostgreSQL too when it is reachable.
    Both,
}

#[derive(clap::Args)]
struct RunArgs {
    /// smoke (seconds, CI), medium (1k chargers) or full (issue 10 sizes).
    #[arg(long, default_value = "full")]
    size: String,
    /// Database(s) for csms.
    #[arg(long, value_enum, default_value_t = DbChoice::Both)]
    db: DbChoice,
    /// Where to write the report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// The csms binary.
    #[arg(long, default_value = "target/release/csms")]
    csms_bin: PathBuf,
    /// The bench-baseline binary (default: beside this program).
    #[arg(long)]
    baseline_bin: Option<PathBuf>,
    /// PostgreSQL for `--db postgres|both` (each server gets a fresh schema, dropped after).
    #[arg(
        long,
        env = "CSMS_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// Only these scenarios (comma-separated): footprint, storm, heartbeat, config,
    /// webhooks, upload.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// A note shown at the top of the report (e.g. "Provisional: ...").
    #[arg(long)]
    note: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    machine::raise_open_files_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("csms-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.command {
        Command::Load(load_args) => runtime.block_on(run_load(load_args)),
        Command::Run(run_args) => runtime.block_on(run_scenarios(run_args)),
    }
}

async fn run_load(args: LoadArgs) -> ExitCode {
    let mut config = LoadConfig::new(args.url, args.prefix, args.chargers);
    config.ramp_per_sec = (args.ramp > 0).then_some(args.ramp);
    let result = load::run_standalone(
        config,
        Duration::from_secs(args.boot_timeout_secs),
        args.interval_ms,
        Duration::from_secs(args.seconds),
    )
    .await;
    match result {
        Ok((boot, beats)) => {
            println!("connections:        {}", boot.connected);
            println!("booted:             {} of {}", boot.booted, boot.chargers);
            println!(
                "time to all booted: {}",
                boot.time_to_all_booted
                    .map_or_else(|| "–".into(), |d| format!("{:.3} s", d.as_secs_f64()))
            );
            println!("connect retries:    {}", boot.connect_retries);
            println!(
                "round-trips:        {} in {:.2} s ({:.0}/s)",
                beats.round_trips,
                beats.elapsed.as_secs_f64(),
                beats.per_sec()
            );
            let l = beats.latency;
            println!(
                "latency:            p50 {} p90 {} p99 {} max {}",
                fmt_micros(l.p50),
                fmt_micros(l.p90),
                fmt_micros(l.p99),
                fmt_micros(l.max)
            );
            println!("errors:             {}", beats.errors);
            if beats.errors > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("csms-bench load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_scenarios(args: RunArgs) -> ExitCode {
    let started = std::time::Instant::now();
    let machine = Machine::detect();
    let Some(sizes) = Sizes::named(&args.size, &machine) else {
        eprintln!(
            "csms-bench run: --size must be smoke, medium or full (got {})",
            args.size
        );
        return ExitCode::FAILURE;
    };
    let scenarios: Vec<String> = if args.only.is_empty() {
        SCENARIOS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.only.clone()
    };
    if let Some(bad) = scenarios.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
        eprintln!(
            "csms-bench run: unknown scenario {bad} (known: {})",
            SCENARIOS.join(", ")
        );
        return ExitCode::FAILURE;
    }
    let postgres_host = args
        .postgres_url
        .rsplit('@')
        .next()
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let databases = match args.db {
        DbChoice::Sqlite => vec![Database::Sqlite],
        DbChoice::Postgres => vec![Database::Postgres],
        DbChoice::Both if server::reachable(&postgres_host) => {
            vec![Database::Sqlite, Database::Postgres]
        }
        DbChoice::Both => {
            eprintln!("csms-bench: PostgreSQL not reachable at {postgres_host}; SQLite only");
            vec![Database::Sqlite]
        }
    };
    let baseline = args.baseline_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("bench-baseline")))
            .unwrap_or_else(|| PathBuf::from("bench-baseline"))
    });
    for bin in [&args.csms_bin, &baseline] {
        if !bin.exists() {
            eprintln!(
                "csms-bench run: {} does not exist (build it first: see bench/run.sh)",
                bin.display()
            );
            return ExitCode::FAILURE;
        }
    }
    let plan = Plan {
        sizes,
        databases: databases.clone(),
        bins: Binaries {
            csms: args.csms_bin.clone(),
            baseline,
            postgres_url: args.postgres_url.clone(),
        },
        scenarios,
        cpus: machine.cpus,
    };
    let date = time::OffsetDateTime::now_utc();
    let outcome = scenarios::run(&plan).await;
    let run = RunInfo {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        date: format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            date.year(),
            u8::from(date.month()),
            date.day(),
            date.hour(),
            date.minute()
        ),
        size: args.size.clone(),
        databases: databases
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join(", "),
        csms_binary: args.csms_bin.display().to_string(),
        duration_secs: started.elapsed().as_secs_f64(),
        note: args.note.clone(),
    };
    let markdown = report::render(&machine, &run, &outcome);
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("csms-bench run: cannot create {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = std::fs::write(&args.out, markdown) {
        eprintln!("csms-bench run: cannot write {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    eprintln!("csms-bench: report written to {}", args.out.display());
    if outcome.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        for e in &outcome.errors {
            eprintln!("csms-bench: FAILED {e}");
        }
        ExitCode::FAILURE
    }
}

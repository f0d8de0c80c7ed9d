//! Starts the servers under test as subprocesses: the real `csms` binary (on a fresh
//! SQLite file or a fresh PostgreSQL schema, `CSMS_DATABASE_SCHEMA`) or `bench-baseline`,
//! each on free loopback ports, and stops them again.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::error::{BenchError, BenchResult};
use crate::proc_stats::{self, ProcSample};
use crate::rest::Rest;

/// The API key the suite gives csms.
pub const API_KEY: &str = "csms-bench-api-key-0123456789abcdef";

/// Where csms keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// A new SQLite file in a temporary directory.
    Sqlite,
    /// A new schema in the PostgreSQL database of [`Binaries::postgres_url`].
    Postgres,
}

impl Database {
    /// `sqlite` / `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
        }
    }
}

/// The programs to start.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The `csms` binary (release for real figures).
    pub csms: PathBuf,
    /// The `bench-baseline` binary.
    pub baseline: PathBuf,
    /// PostgreSQL URL for [`Database::Postgres`].
    pub postgres_url: String,
}

/// Which server to start.
#[derive(Debug, Clone)]
pub enum ServerKind {
    /// `bench-baseline`.
    Baseline,
    /// `csms` on `db` with extra `CSMS_*` settings.
    Csms {
        /// Its database.
        db: Database,
        /// Extra environment (`CSMS_WEBHOOK_URL`, `CSMS_VERIFY_CHANGES`, ...).
        env: Vec<(String, String)>,
    },
}

impl ServerKind {
    /// csms on `db` with the suite's defaults.
    pub fn csms(db: Database) -> Self {
        ServerKind::Csms {
            db,
            env: Vec::new(),
        }
    }

    /// Adds a setting.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        if let ServerKind::Csms { env, .. } = &mut self {
            env.push((name.to_owned(), value.into()));
        }
        self
    }

    /// `baseline`, `csms/sqlite`, `csms/postgres`.
    pub fn label(&self) -> String {
        match self {
            ServerKind::Baseline => "baseline".into(),
            ServerKind::Csms { db, .. } => format!("csms/{}", db.name()),
        }
    }
}

/// A started server.
pub struct Server {
    /// `baseline`, `csms/sqlite`, ...
    pub label: String,
    child: Child,
    pid: u32,
    /// WebSocket base URL for chargers (`ws://127.0.0.1:port/ocpp`).
    pub ocpp_url: String,
    /// The REST API (csms only).
    pub rest: Option<Rest>,
    workdir: PathBuf,
    pg: Option<(String, String)>,
    clock_ticks: u64,
}

static NEXT_RUN: AtomicU32 = AtomicU32::new(0);

fn free_port() -> BenchResult<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Whether something listens at `host:port` (used to detect PostgreSQL).
pub fn reachable(host_port: &str) -> bool {
    use std::net::ToSocketAddrs;
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        })
}

impl Server {
    /// Starts a server and waits (at most 60 s) until it is ready.
    ///
    /// # Errors
    /// When it cannot be started, exits, or is not ready in time (the end of its log is
    /// in the message).
    pub async fn start(kind: &ServerKind, bins: &Binaries) -> BenchResult<Server> {
        let label = kind.label();
        let run = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
        let workdir = std::env::temp_dir().join(format!("csms-bench-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&workdir)?;
        let log = std::fs::File::create(workdir.join("server.log"))?;
        let ocpp_port = free_port()?;
        let mut pg = None;
        let mut api = None;
        let mut command = match kind {
            ServerKind::Baseline => {
                let mut c = Command::new(&bins.baseline);
                c.arg("--listen").arg(format!("127.0.0.1:{ocpp_port}"));
                c
            }
            ServerKind::Csms { db, env } => {
                let api_port = free_port()?;
                let mut c = Command::new(&bins.csms);
                for (name, _) in std::env::vars() {
                    if name.starts_with("CSMS_") {
                        c.env_remove(name);
                    }
                }
                c.env("CSMS_API_LISTEN", format!("127.0.0.1:{api_port}"))
                    .env("CSMS_OCPP_LISTEN", format!("127.0.0.1:{ocpp_port}"))
                    .env("CSMS_API_KEY", API_KEY)
                    .env("CSMS_AUTO_REGISTER", "true")
                    .env("CSMS_FETCH_CONFIGURATION_ON_BOOT", "false")
                    .env("CSMS_LOG", "warn");
                match db {
                    Database::Sqlite => {
                        let file = workdir.join("csms.db");
                        c.env(
                            "CSMS_DATABASE_URL",
                            format!("sqlite://{}?mode=rwc", file.display()),
                        );
                    }
                    Database::Postgres => {
                        let schema = format!("bench_{}_{run}", std::process::id());
                        c.env("CSMS_DATABASE_URL", &bins.postgres_url)
                            .env("CSMS_DATABASE_SCHEMA", &schema);
                        pg = Some((bins.postgres_url.clone(), schema));
                    }
                }
                for (name, value) in env {
                    c.env(name, value);
                }
                api = Some(format!("http://127.0.0.1:{api_port}"));
                c
            }
        };
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command.spawn().map_err(|e| BenchError::Server {
            label: label.clone(),
            reason: format!("cannot start: {e}"),
        })?;
        let pid = child.id().unwrap_or(0);
        let rest = api.map(|base| Rest::new(base, API_KEY)).transpose()?;
        let mut server = Server {
            label,
            child,
            pid,
            ocpp_url: format!("ws://127.0.0.1:{ocpp_port}/ocpp"),
            rest,
            workdir,
            pg,
            clock_ticks: proc_stats::clock_ticks_per_sec(),
        };
        if let Err(e) = server.wait_ready(ocpp_port).await {
            server.stop().await;
            return Err(e);
        }
        Ok(server)
    }

    async fn wait_ready(&mut self, ocpp_port: u16) -> BenchResult<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(&format!("exited at start-up ({status})")));
            }
            let api_ready = match &self.rest {
                Some(rest) => rest.ready().await,
                None => true,
            };
            if api_ready
                && tokio::net::TcpStream::connect(("127.0.0.1", ocpp_port))
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.failure("not ready after 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A start-up or run failure with the end of the server's log.
    pub fn failure(&self, reason: &str) -> BenchError {
        BenchError::Server {
            label: self.label.clone(),
            reason: format!("{reason}; server log tail:\n{}", self.log_tail(5)),
        }
    }

    /// The last `lines` lines of the server's output, without terminal colours.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.workdir.join("server.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        strip_ansi(&all[all.len().saturating_sub(lines)..].join("\n"))
    }

    /// The REST client (csms only).
    ///
    /// # Errors
    /// For the baseline, which has no API.
    pub fn rest(&self) -> BenchResult<&Rest> {
        self.rest
            .as_ref()
            .ok_or_else(|| BenchError::failed(format!("{} has no REST API", self.label)))
    }

    /// The server's RSS and CPU time now.
    ///
    /// # Errors
    /// When the process is gone.
    pub fn sample(&self) -> BenchResult<ProcSample> {
        proc_stats::sample(self.pid, self.clock_ticks)
            .map_err(|e| self.failure(&format!("cannot read /proc: {e}")))
    }

    /// Kills the server and removes its files (drops its PostgreSQL schema).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        if let Some((url, schema)) = &self.pg {
            let dropped = Command::new("psql")
                .arg(url)
                .arg("-q")
                .arg("-c")
                .arg(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
            if !dropped.is_ok_and(|s| s.success()) {
                eprintln!("csms-bench: could not drop PostgreSQL schema {schema} (psql)");
            }
        }
        let _ = std::fs::remove_dir_all(&self.workdir);
    }
}

/// Removes ANSI colour sequences (`ESC [ ... m`) from a log text.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_removed_from_log_lines() {
        let line = "\u{1b}[2m2026-11-25T22:54:55Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m closing";
        assert_eq!(strip_ansi(line), "2026-11-25T22:54:55Z  WARN closing");
    }
}

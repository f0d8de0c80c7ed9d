//! `csms-sim`: run one or many simulated OCPP 1.6J chargers against a central system.
//!
//! Each charger connects, boots (retrying until `Accepted`), sends
//! StatusNotification(Available) per connector, then heartbeats at the interval from
//! the BootNotification answer (or `--heartbeat-secs`), answering the server's commands
//! on its own. A dropped connection is re-established with exponential backoff. Runs
//! until Ctrl-C. Logs go to stderr; the filter is taken from `RUST_LOG` (default `info`).
//!
//! This file is only argument parsing and the run loop; the charger itself is the
//! `simulator` library.

use std::time::Duration;

use clap::Parser;
use simulator::{Charger, ChargerConfig, KeyBehaviour, SimError};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing_subscriber::EnvFilter;

/// Run simulated OCPP 1.6J chargers against a central system.
#[derive(Debug, Parser)]
#[command(name = "csms-sim", version)]
struct Args {
    /// Server base URL; the identity is appended as the last path segment.
    #[arg(long, env = "CSMS_SIM_URL", default_value = "ws://127.0.0.1:9000/ocpp")]
    url: String,
    /// Charge point identity (the first one when --count > 1).
    #[arg(long, env = "CSMS_SIM_IDENTITY", default_value = "CP001")]
    identity: String,
    /// Basic-auth password (security profile 1).
    #[arg(long, env = "CSMS_SIM_PASSWORD")]
    password: Option<String>,
    /// Number of chargers: identities count up a trailing number (CP001, CP002, ...),
    /// or are IDENTITY-1, IDENTITY-2, ... when the identity does not end in digits.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Heartbeat period in seconds; overrides the interval from BootNotification
    /// (which is used when this is not given, 60 s when it is 0 or missing).
    #[arg(long)]
    heartbeat_secs: Option<u64>,
    /// Connectors per charger.
    #[arg(long, default_value_t = 1)]
    connectors: u32,
    /// chargePointVendor.
    #[arg(long, default_value = "CSMS-Sim")]
    vendor: String,
    /// chargePointModel.
    #[arg(long, default_value = "Virtual-AC22")]
    model: String,
    /// chargePointSerialNumber.
    #[arg(long)]
    serial: Option<String>,
    /// firmwareVersion.
    #[arg(long)]
    firmware: Option<String>,
    /// How ChangeConfiguration of a key is answered:
    /// KEY=accept|reject|notsupported|rebootrequired|noanswer|delay:MS|callerror:CODE.
    /// Repeatable.
    #[arg(long = "behaviour", value_name = "KEY=BEHAVIOUR", value_parser = parse_key_behaviour)]
    behaviours: Vec<(String, KeyBehaviour)>,
    /// How Reset is answered (same values as --behaviour, without KEY=).
    #[arg(long, value_parser = parse_behaviour)]
    reset_behaviour: Option<KeyBehaviour>,
}

/// Parses `accept|reject|notsupported|rebootrequired|noanswer|delay:MS|callerror:CODE`.
fn parse_behaviour(text: &str) -> Result<KeyBehaviour, String> {
    let lower = text.trim().to_ascii_lowercase();
    let behaviour = match lower.as_str() {
        "accept" | "accepted" => KeyBehaviour::Accept,
        "reject" | "rejected" => KeyBehaviour::Reject,
        "notsupported" => KeyBehaviour::NotSupported,
        "rebootrequired" => KeyBehaviour::RebootRequired,
        "noanswer" => KeyBehaviour::NoAnswer,
        _ => {
            if let Some(ms) = lower.strip_prefix("delay:") {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| format!("delay needs milliseconds, got {ms:?}"))?;
                KeyBehaviour::Delay(Duration::from_millis(ms))
            } else if let Some(code) = lower.strip_prefix("callerror:") {
                let code = ocpp::ErrorCode::ALL
                    .into_iter()
                    .find(|c| c.as_str().eq_ignore_ascii_case(code))
                    .ok_or_else(|| format!("unknown CALLERROR code {code:?}"))?;
                KeyBehaviour::CallError(code)
            } else {
                return Err(format!(
                    "unknown behaviour {text:?}; expected accept, reject, notsupported, \
                     rebootrequired, noanswer, delay:MS or callerror:CODE"
                ));
            }
        }
    };
    Ok(behaviour)
}

/// Parses `KEY=BEHAVIOUR`.
fn parse_key_behaviour(text: &str) -> Result<(String, KeyBehaviour), String> {
    let (key, behaviour) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=BEHAVIOUR, got {text:?}"))?;
    if key.is_empty() {
        return Err("the key must not be empty".into());
    }
    Ok((key.to_owned(), parse_behaviour(behaviour)?))
}

/// The identities of `count` chargers starting from `first`.
fn identities(first: &str, count: u32) -> Vec<String> {
    if count <= 1 {
        return vec![first.to_owned()];
    }
    let digits = first.len() - first.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let prefix = &first[..first.len() - digits];
    match first[prefix.len()..].parse::<u64>() {
        Ok(start) if digits > 0 => (0..u64::from(count))
            .map(|n| format!("{prefix}{:0width$}", start + n, width = digits))
            .collect(),
        _ => (1..=count).map(|n| format!("{first}-{n}")).collect(),
    }
}

const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
const DEFAULT_HEARTBEAT_SECS: u64 = 60;

/// One connection's life: boot until accepted, statuses, heartbeats until the server
/// drops us.
async fn session(charger: &Charger, connectors: u32, heartbeat_override: Option<u64>) {
    let interval = loop {
        match charger.boot().await {
            Ok(answer) => {
                let interval = answer["interval"]
                    .as_u64()
                    .filter(|i| *i > 0)
                    .unwrap_or(DEFAULT_HEARTBEAT_SECS);
                let status = answer["status"].as_str().unwrap_or("").to_owned();
                if status == "Accepted" {
                    tracing::info!(identity = charger.identity(), interval, "boot accepted");
                    break interval;
                }
                tracing::info!(identity = charger.identity(), %status, interval, "boot not accepted; retrying");
                if charger.wait_closed(Duration::from_secs(interval)).await {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(identity = charger.identity(), error = %e, "BootNotification failed");
                if !charger.is_connected() || charger.wait_closed(Duration::from_secs(10)).await {
                    return;
                }
            }
        }
    };
    for connector in 1..=connectors {
        if let Err(e) = charger
            .status_notification(connector, "Available", "NoError")
            .await
        {
            tracing::warn!(identity = charger.identity(), connector, error = %e, "StatusNotification failed");
        }
    }
    // A HeartbeatInterval changed by the server after boot takes effect, as on a real
    // charger; --heartbeat-secs always wins.
    let at_boot = charger.config_value("HeartbeatInterval");
    loop {
        let current = charger.config_value("HeartbeatInterval");
        let changed = current
            .filter(|value| Some(value) != at_boot.as_ref())
            .and_then(|value| value.parse::<u64>().ok());
        let secs = heartbeat_override.or(changed).unwrap_or(interval).max(1);
        if charger.wait_closed(Duration::from_secs(secs)).await {
            return;
        }
        match charger.heartbeat().await {
            Ok(answer) => tracing::debug!(identity = charger.identity(), %answer, "heartbeat"),
            // Closed while a Reset reboot reconnects: the library boots again itself.
            Err(e) => tracing::warn!(identity = charger.identity(), error = %e, "heartbeat failed"),
        }
    }
}

/// Keeps one charger connected until shutdown. The same [`Charger`] is reconnected, so
/// its configuration store (and a new AuthorizationKey) survives dropped connections,
/// as on a real charger.
async fn run_charger(
    config: ChargerConfig,
    heartbeat: Option<u64>,
    mut stop: watch::Receiver<bool>,
) {
    let identity = config.identity.clone();
    let connectors = config.connectors;
    let mut backoff = BACKOFF_START;
    let mut charger: Option<Charger> = None;
    loop {
        let attempt = async {
            match &charger {
                Some(existing) => existing.reconnect().await.map(|()| None),
                None => Charger::connect(config.clone()).await.map(Some),
            }
        };
        let result = tokio::select! {
            result = attempt => result,
            _ = stop.changed() => break,
        };
        match result {
            Ok(new) => {
                if new.is_some() {
                    charger = new;
                }
                let Some(connected) = &charger else { continue };
                tracing::info!(%identity, "connected");
                backoff = BACKOFF_START;
                tokio::select! {
                    () = session(connected, connectors, heartbeat) => {
                        tracing::warn!(%identity, "connection lost");
                    }
                    _ = stop.changed() => break,
                }
            }
            Err(SimError::Handshake { status }) => {
                tracing::warn!(%identity, status, "handshake refused");
            }
            Err(e) => tracing::warn!(%identity, error = %e, "cannot connect"),
        }
        tracing::info!(%identity, ?backoff, "reconnecting");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => break,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    if let Some(charger) = charger {
        charger.disconnect().await;
        tracing::info!(%identity, "disconnected");
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut chargers = JoinSet::new();
    for identity in identities(&args.identity, args.count) {
        let mut config = ChargerConfig::new(args.url.clone(), identity);
        config.password.clone_from(&args.password);
        config.connectors = args.connectors;
        config.vendor.clone_from(&args.vendor);
        config.model.clone_from(&args.model);
        config.serial.clone_from(&args.serial);
        if args.firmware.is_some() {
            config.firmware.clone_from(&args.firmware);
        }
        config.behaviours = args.behaviours.iter().cloned().collect();
        if let Some(reset) = &args.reset_behaviour {
            config.reset_behaviour = reset.clone();
        }
        chargers.spawn(run_charger(config, args.heartbeat_secs, stop_rx.clone()));
    }
    tokio::select! {
        result = tokio::signal::ctrl_c() => {
            if let Err(e) = result {
                tracing::error!(error = %e, "cannot listen for Ctrl-C");
            }
            tracing::info!("stopping");
        }
        _ = async { while chargers.join_next().await.is_some() {} } => {}
    }
    let _ = stop_tx.send(true);
    while chargers.join_next().await.is_some() {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn identities_count_up_a_trailing_number_keeping_its_width() {
        assert_eq!(identities("CP001", 3), ["CP001", "CP002", "CP003"]);
        assert_eq!(identities("CP9", 2), ["CP9", "CP10"]);
        assert_eq!(identities("station", 2), ["station-1", "station-2"]);
        assert_eq!(identities("CP001", 1), ["CP001"]);
    }

    #[test]
    fn behaviours_parse_from_the_command_line() {
        assert_eq!(
            parse_key_behaviour("HeartbeatInterval=delay:250").unwrap(),
            (
                "HeartbeatInterval".to_owned(),
                KeyBehaviour::Delay(Duration::from_millis(250))
            )
        );
        assert_eq!(
            parse_behaviour("callerror:NotSupported").unwrap(),
            KeyBehaviour::CallError(ocpp::ErrorCode::NotSupported)
        );
        assert_eq!(
            parse_behaviour("RebootRequired").unwrap(),
            KeyBehaviour::RebootRequired
        );
        assert!(parse_behaviour("callerror:Bogus").is_err());
        assert!(parse_key_behaviour("noequals").is_err());
    }

    #[test]
    fn cli_arguments_are_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}

//! Settings: defaults, then an optional TOML file (`CSMS_CONFIG`), then `CSMS_*`
//! environment variables. Loaded once and passed explicitly; no globals.
//! The variable names are part of the contract (CONTRACT §7).

use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use model::config::{DesiredEntry, DesiredProfile};
use serde::{Deserialize, Serialize};

/// Every setting of the binary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    /// REST listener (`CSMS_API_LISTEN`).
    pub api_listen: String,
    /// Charger WebSocket listener (`CSMS_OCPP_LISTEN`).
    pub ocpp_listen: String,
    /// Charger-facing base URL shown as `connection_url` (`CSMS_OCPP_PUBLIC_URL`);
    /// derived from `ocpp_listen` when empty.
    pub ocpp_public_url: String,
    /// `sqlite://...` or `postgres://...` (`CSMS_DATABASE_URL`).
    pub database_url: String,
    /// PostgreSQL schema to use (`CSMS_DATABASE_SCHEMA`); empty = the default search path.
    #[serde(deserialize_with = "text")]
    pub database_schema: String,
    /// An API key accepted from start-up (`CSMS_API_KEY`).
    #[serde(deserialize_with = "opt_text")]
    pub api_key: Option<String>,
    /// One webhook endpoint subscribed to every event (`CSMS_WEBHOOK_URL`).
    pub webhook_url: Option<String>,
    /// Its secret (`CSMS_WEBHOOK_SECRET`).
    #[serde(deserialize_with = "opt_text")]
    pub webhook_secret: Option<String>,
    /// Accept unknown identities (`CSMS_AUTO_REGISTER`).
    pub auto_register: bool,
    /// How long to wait for a charger's answer (`CSMS_CALL_TIMEOUT_SECS`).
    pub call_timeout_secs: u64,
    /// Pause between two configuration commands to one charger (`CSMS_CONFIG_CHANGE_GAP_MS`).
    pub config_change_gap_ms: u64,
    /// Read a key back after `Accepted` (`CSMS_VERIFY_CHANGES`).
    pub verify_changes: bool,
    /// Request a full upload after a first boot (`CSMS_FETCH_CONFIGURATION_ON_BOOT`).
    pub fetch_configuration_on_boot: bool,
    /// First webhook retry delay (`CSMS_WEBHOOK_RETRY_BASE_MS`).
    pub webhook_retry_base_ms: u64,
    /// How long a webhook receiver has to answer (`CSMS_WEBHOOK_TIMEOUT_MS`).
    pub webhook_timeout_ms: u64,
    /// Log filter in `tracing` syntax (`CSMS_LOG`).
    pub log: String,
    /// `text` or `json` (`CSMS_LOG_FORMAT`).
    pub log_format: String,
    /// PEM certificate for `wss` (`CSMS_OCPP_TLS_CERT`).
    pub ocpp_tls_cert: Option<PathBuf>,
    /// PEM key for `wss` (`CSMS_OCPP_TLS_KEY`).
    pub ocpp_tls_key: Option<PathBuf>,
    /// PEM bundle checking client certificates (`CSMS_OCPP_TLS_CLIENT_CA`).
    pub ocpp_tls_client_ca: Option<PathBuf>,
    /// PEM certificate for `https` (`CSMS_API_TLS_CERT`).
    pub api_tls_cert: Option<PathBuf>,
    /// PEM key for `https` (`CSMS_API_TLS_KEY`).
    pub api_tls_key: Option<PathBuf>,
    /// Accept idTags not in the token list (`CSMS_ACCEPT_UNKNOWN_TOKENS`).
    pub accept_unknown_tokens: bool,
    /// Heartbeat interval told to chargers at boot (`CSMS_HEARTBEAT_INTERVAL_SECS`).
    pub heartbeat_interval_secs: u64,
    /// Server ping period (`CSMS_OCPP_PING_INTERVAL_SECS`).
    pub ocpp_ping_interval_secs: u64,
    /// Ping periods without any frame before a charger is offline (`CSMS_OCPP_MISSED_PONGS`).
    pub ocpp_missed_pongs: u32,
    /// Largest charger frame in bytes (`CSMS_OCPP_MAX_FRAME_BYTES`).
    pub ocpp_max_frame_bytes: usize,
    /// HTTP worker threads of the REST listener (chargers are served on the tokio
    /// runtime); 0 = one per CPU (`CSMS_WORKERS`).
    pub workers: usize,
    /// Seconds an instance may miss heartbeats before the others on the same PostgreSQL
    /// database release its chargers (`CSMS_INSTANCE_LEASE_SECS`).
    pub instance_lease_secs: u64,
    /// The most unfinished commands per chargestation before 429
    /// (`CSMS_MAX_QUEUE_PER_STATION`).
    pub max_queue_per_station: u64,
    /// The desired-configuration profile (TOML `[[desired_configuration]]` entries
    /// `{key, value, enforced}`); the guide's recommended list when absent.
    pub desired_configuration: Option<Vec<DesiredEntry>>,
    /// Store every OCPP frame in the message log (`CSMS_MESSAGE_LOG_ENABLED`).
    pub message_log_enabled: bool,
    /// The most message-log frames kept per chargestation; 0 = no count limit
    /// (`CSMS_MESSAGE_LOG_MAX_PER_CHARGER`).
    pub message_log_max_per_charger: u64,
    /// Message-log frames older than this many hours are deleted; 0 = no age limit
    /// (`CSMS_MESSAGE_LOG_MAX_AGE_HOURS`).
    pub message_log_max_age_hours: u64,
    /// Failed API authentications per source address and minute before that address
    /// gets 429 (`CSMS_API_AUTH_MAX_FAILURES`).
    pub api_auth_max_failures: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            api_listen: "127.0.0.1:8080".into(),
            ocpp_listen: "0.0.0.0:9000".into(),
            ocpp_public_url: String::new(),
            database_url: "sqlite://csms.db?mode=rwc".into(),
            database_schema: String::new(),
            api_key: None,
            webhook_url: None,
            webhook_secret: None,
            auto_register: false,
            call_timeout_secs: 30,
            config_change_gap_ms: 1000,
            verify_changes: true,
            fetch_configuration_on_boot: true,
            webhook_retry_base_ms: 5000,
            webhook_timeout_ms: 10_000,
            log: "info".into(),
            log_format: "text".into(),
            ocpp_tls_cert: None,
            ocpp_tls_key: None,
            ocpp_tls_client_ca: None,
            api_tls_cert: None,
            api_tls_key: None,
            accept_unknown_tokens: true,
            heartbeat_interval_secs: 900,
            ocpp_ping_interval_secs: 30,
            ocpp_missed_pongs: 2,
            ocpp_max_frame_bytes: 8 * 1024 * 1024,
            workers: 0,
            max_queue_per_station: 100,
            instance_lease_secs: 30,
            desired_configuration: None,
            message_log_enabled: true,
            message_log_max_per_charger: 10_000,
            message_log_max_age_hours: 168,
            api_auth_max_failures: model::auth_limit::DEFAULT_MAX_FAILURES,
        }
    }
}

/// Environment values that look like numbers or booleans arrive typed; text settings
/// (keys, secrets, names) take them back as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    S(String),
    I(i64),
    U(u64),
    F(f64),
    B(bool),
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        match t {
            Text::S(s) => s,
            Text::I(i) => i.to_string(),
            Text::U(u) => u.to_string(),
            Text::F(f) => f.to_string(),
            Text::B(b) => b.to_string(),
        }
    }
}

fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<Text>::deserialize(d)?
        .map(String::from)
        .unwrap_or_default())
}

fn opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Text>::deserialize(d)?.map(String::from))
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("invalid settings: {0}")]
pub struct SettingsError(String);

impl Settings {
    /// Loads defaults ← `CSMS_CONFIG` TOML file (if set) ← `CSMS_*` variables.
    ///
    /// # Errors
    /// When the file cannot be read or a value has the wrong type.
    pub fn load() -> Result<Settings, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Ok(path) = std::env::var("CSMS_CONFIG") {
            if !std::path::Path::new(&path).exists() {
                return Err(SettingsError(format!(
                    "CSMS_CONFIG file {path} does not exist"
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("CSMS_").ignore(&["config"]));
        let settings: Settings = figment
            .extract()
            .map_err(|e| SettingsError(e.to_string()))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), SettingsError> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(SettingsError("CSMS_LOG_FORMAT must be text or json".into()));
        }
        if self.call_timeout_secs == 0 {
            return Err(SettingsError(
                "CSMS_CALL_TIMEOUT_SECS must be at least 1".into(),
            ));
        }
        if self.instance_lease_secs < 3 {
            return Err(SettingsError(
                "CSMS_INSTANCE_LEASE_SECS must be at least 3".into(),
            ));
        }
        if self.max_queue_per_station == 0 {
            return Err(SettingsError(
                "CSMS_MAX_QUEUE_PER_STATION must be at least 1".into(),
            ));
        }
        self.desired_profile()
            .validate()
            .map_err(|e| SettingsError(format!("desired_configuration: {e}")))?;
        if self.webhook_timeout_ms == 0 || self.webhook_retry_base_ms == 0 {
            return Err(SettingsError(
                "CSMS_WEBHOOK_TIMEOUT_MS and CSMS_WEBHOOK_RETRY_BASE_MS must be at least 1".into(),
            ));
        }
        if let Some(url) = self.webhook_url.as_deref().filter(|u| !u.is_empty()) {
            model::webhooks::check_url(url)
                .map_err(|e| SettingsError(format!("CSMS_WEBHOOK_URL: {e}")))?;
        }
        if let Some(secret) = self.webhook_secret.as_deref().filter(|s| !s.is_empty()) {
            model::webhooks::check_secret(secret)
                .map_err(|e| SettingsError(format!("CSMS_WEBHOOK_SECRET: {e}")))?;
        }
        if self.ocpp_ping_interval_secs == 0 {
            return Err(SettingsError(
                "CSMS_OCPP_PING_INTERVAL_SECS must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The desired-configuration profile in force.
    pub fn desired_profile(&self) -> DesiredProfile {
        self.desired_configuration
            .clone()
            .map_or_else(DesiredProfile::default, DesiredProfile::from)
    }

    /// The charger-facing base URL.
    pub fn ocpp_base_url(&self, bound: std::net::SocketAddr) -> String {
        if !self.ocpp_public_url.is_empty() {
            return self.ocpp_public_url.trim_end_matches('/').to_owned();
        }
        // As crate::tls: an empty path is unset.
        let tls = self
            .ocpp_tls_cert
            .as_ref()
            .is_some_and(|p| !p.as_os_str().is_empty());
        let scheme = if tls { "wss" } else { "ws" };
        let host = if bound.ip().is_unspecified() {
            format!("127.0.0.1:{}", bound.port())
        } else {
            bound.to_string()
        };
        format!("{scheme}://{host}/ocpp")
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_match_the_contract() {
        let s = Settings::default();
        assert_eq!(s.api_listen, "127.0.0.1:8080");
        assert_eq!(s.ocpp_listen, "0.0.0.0:9000");
        assert_eq!(s.database_url, "sqlite://csms.db?mode=rwc");
        assert_eq!(s.call_timeout_secs, 30);
        assert_eq!(s.config_change_gap_ms, 1000);
        assert!(s.verify_changes && s.fetch_configuration_on_boot && s.accept_unknown_tokens);
        assert!(!s.auto_register);
        assert_eq!(s.webhook_retry_base_ms, 5000);
        assert_eq!(s.webhook_timeout_ms, 10_000);
    }

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "csms.toml",
                "api_listen = \"127.0.0.1:1\"\ncall_timeout_secs = 7\nauto_register = true\n",
            )?;
            jail.set_env("CSMS_CONFIG", "csms.toml");
            jail.set_env("CSMS_API_LISTEN", "127.0.0.1:2");
            jail.set_env("CSMS_API_KEY", "12345678");
            jail.set_env("CSMS_VERIFY_CHANGES", "false");
            jail.set_env("CSMS_API_AUTH_MAX_FAILURES", "50");
            let s = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(s.api_auth_max_failures, 50);
            assert_eq!(s.api_listen, "127.0.0.1:2");
            assert_eq!(s.call_timeout_secs, 7);
            assert!(s.auto_register);
            assert!(!s.verify_changes);
            assert_eq!(s.api_key.as_deref(), Some("12345678"));
            Ok(())
        });
    }

    #[test]
    fn the_desired_profile_can_be_replaced_in_the_toml_file_and_is_checked() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "csms.toml",
                "[[desired_configuration]]\nkey = \"HeartbeatInterval\"\nvalue = 300\n\n[[desired_configuration]]\nkey = \"LocalPreAuthorize\"\nvalue = true\nenforced = false\n",
            )?;
            jail.set_env("CSMS_CONFIG", "csms.toml");
            let s = Settings::load().map_err(|e| e.to_string())?;
            let profile = s.desired_profile();
            assert_eq!(profile.entries.len(), 2);
            let heartbeat = profile.get("HeartbeatInterval").ok_or("missing")?;
            assert_eq!(
                (heartbeat.value.clone(), heartbeat.enforced),
                (serde_json::json!(300), true)
            );
            assert!(!profile.get("LocalPreAuthorize").ok_or("missing")?.enforced);
            jail.create_file(
                "csms.toml",
                "[[desired_configuration]]\nkey = \"HeartbeatInterval\"\nvalue = \"often\"\n",
            )?;
            assert!(
                Settings::load().is_err(),
                "a badly typed desired value is refused at start-up"
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused() {
        Jail::expect_with(|jail| {
            jail.set_env("CSMS_CALL_TIMEOUT_SECS", "soon");
            assert!(Settings::load().is_err());
            jail.set_env("CSMS_CALL_TIMEOUT_SECS", "5");
            jail.set_env("CSMS_LOG_FORMAT", "xml");
            assert!(Settings::load().is_err());
            Ok(())
        });
    }
}

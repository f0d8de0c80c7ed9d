//! Start-up as a library call: `build(settings)` connects the database, binds both
//! listeners (port 0 works) and returns an [`App`]; `App::run_until_stopped` serves
//! until the shutdown token is cancelled (SIGTERM / Ctrl-C in the binary), then stops
//! gracefully.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{web, App as ActixApp, HttpServer};
use api::ApiState;
use dispatcher::webhooks::{RetryPolicy, WebhookConfig, WebhookWorker};
use dispatcher::{Dispatcher, DispatcherConfig};
use model::{Db, DbOptions};
use ocpp_gateway::message_log::{MessageLog, MessageLogConfig};
use ocpp_gateway::{Gateway, GatewayConfig, Metrics};
use tokio_util::sync::CancellationToken;

use crate::Settings;

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] model::ModelError),
    #[error("cannot bind {what} listener on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error("dispatcher: {0}")]
    Dispatcher(#[from] dispatcher::DispatchError),
    #[error("webhooks: {0}")]
    Webhooks(String),
    #[error("server error: {0}")]
    Server(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("{0}")]
    Metrics(#[from] ocpp_gateway::MetricsError),
}

/// A built, bound, not yet running application.
pub struct App {
    api_addr: SocketAddr,
    ocpp_addr: SocketAddr,
    api_server: actix_web::dev::Server,
    /// The charger listener, served by the gateway once the app runs.
    ocpp_listener: tokio::net::TcpListener,
    ocpp_tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
    db: Db,
    gateway: Gateway,
    initial_api_key: Option<String>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

fn workers(settings: &Settings) -> usize {
    if settings.workers > 0 {
        settings.workers
    } else {
        std::thread::available_parallelism().map_or(2, usize::from)
    }
}

/// The accept queue asked for; the kernel caps it at `net.core.somaxconn` (4096 on
/// current Linux).
const LISTEN_BACKLOG: u32 = 65_535;

/// Binds a listener with the longest accept queue the kernel allows. std's
/// `TcpListener::bind` asks for 128: a reconnect storm of a thousand chargers overflows
/// that, and each dropped SYN is sent again by the charger's kernel only after a second
/// (docs/benchmarks.md). Like std, it tries each address `addr` resolves to.
fn bind_listener(addr: &str) -> std::io::Result<std::net::TcpListener> {
    use std::net::ToSocketAddrs;
    let mut last_error = None;
    for address in addr.to_socket_addrs()? {
        let socket = if address.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket
            .bind(address)
            .and_then(|()| socket.listen(LISTEN_BACKLOG))
        {
            Ok(listener) => return listener.into_std(),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

/// Builds the application: database (migrated), gateway, dispatcher, both listeners.
///
/// # Errors
/// [`StartError`] when the database cannot be reached or a listener cannot be bound.
pub async fn build(settings: Settings) -> Result<App, StartError> {
    let mut options = DbOptions::new(settings.database_url.clone());
    if !settings.database_schema.is_empty() {
        options.schema = Some(settings.database_schema.clone());
    }
    let db = Db::connect(&options).await?;
    build_with_db(settings, db).await
}

/// As [`build`], over an already connected database (tests inject a clock this way).
///
/// # Errors
/// [`StartError`] when a listener cannot be bound.
pub async fn build_with_db(settings: Settings, db: Db) -> Result<App, StartError> {
    // Certificates first: a bad file stops the start before anything else happens.
    let ocpp_tls = crate::tls::ocpp_server_config(&settings)?;
    let api_tls = crate::tls::api_server_config(&settings)?;
    let shutdown = CancellationToken::new();
    let initial_api_key = model::api_keys::ensure_initial(&db, settings.api_key.as_deref()).await?;
    if let Some(url) = settings.webhook_url.as_deref().filter(|u| !u.is_empty()) {
        let secret = settings.webhook_secret.as_deref().filter(|s| !s.is_empty());
        let endpoint = model::webhooks::ensure_declared(&db, url, secret)
            .await
            .map_err(|e| StartError::Webhooks(format!("CSMS_WEBHOOK_URL: {e}")))?;
        tracing::info!(url, id = %endpoint.id, "webhook endpoint declared by CSMS_WEBHOOK_URL");
    }
    let metrics = Metrics::new()?;
    let webhook_worker = WebhookWorker::new(
        db.clone(),
        WebhookConfig {
            timeout: Duration::from_millis(settings.webhook_timeout_ms),
            retry: RetryPolicy {
                base_ms: i64::try_from(settings.webhook_retry_base_ms).unwrap_or(i64::MAX),
                ..RetryPolicy::default()
            },
            ..WebhookConfig::default()
        },
    )
    .map_err(|e| StartError::Webhooks(e.to_string()))?
    .with_metrics(metrics.clone());

    let ocpp_listener =
        bind_listener(&settings.ocpp_listen).map_err(|source| StartError::Bind {
            what: "OCPP",
            addr: settings.ocpp_listen.clone(),
            source,
        })?;
    let ocpp_addr = ocpp_listener.local_addr()?;
    ocpp_listener.set_nonblocking(true)?;
    let ocpp_listener = tokio::net::TcpListener::from_std(ocpp_listener)?;
    let api_listener = bind_listener(&settings.api_listen).map_err(|source| StartError::Bind {
        what: "API",
        addr: settings.api_listen.clone(),
        source,
    })?;
    let api_addr = api_listener.local_addr()?;
    let ocpp_base_url = settings.ocpp_base_url(ocpp_addr);
    let instance_id = uuid::Uuid::new_v4().simple().to_string();
    tracing::info!(instance = %instance_id, "starting instance");

    let message_log = MessageLog::new(
        db.clone(),
        MessageLogConfig {
            enabled: settings.message_log_enabled,
            max_per_station: settings.message_log_max_per_charger,
            max_age: Duration::from_secs(settings.message_log_max_age_hours.saturating_mul(3600)),
            ..MessageLogConfig::default()
        },
    );
    let gateway = Gateway::new(
        db.clone(),
        GatewayConfig {
            auto_register: settings.auto_register,
            public_base_url: ocpp_base_url.clone(),
            heartbeat_interval: Duration::from_secs(settings.heartbeat_interval_secs),
            ping_interval: Duration::from_secs(settings.ocpp_ping_interval_secs),
            missed_pongs: settings.ocpp_missed_pongs,
            max_frame_bytes: settings.ocpp_max_frame_bytes,
            accept_unknown_tokens: settings.accept_unknown_tokens,
            instance_id: instance_id.clone(),
            message_log: message_log.capture(),
        },
        metrics,
        shutdown.clone(),
    );
    let dispatcher = Dispatcher::new(
        db.clone(),
        gateway.clone(),
        DispatcherConfig {
            call_timeout: Duration::from_secs(settings.call_timeout_secs),
            command_gap: Duration::from_millis(settings.config_change_gap_ms),
            verify_changes: settings.verify_changes,
            fetch_configuration_on_boot: settings.fetch_configuration_on_boot,
            max_queue: settings.max_queue_per_station,
            desired: settings.desired_profile(),
            instance_lease: Duration::from_secs(settings.instance_lease_secs),
        },
        shutdown.clone(),
    );
    let workers = workers(&settings);

    let api_state = ApiState {
        db: db.clone(),
        dispatcher: dispatcher.clone(),
        ocpp_base_url,
        auth_limiter: std::sync::Arc::new(model::auth_limit::AuthLimiter::new(
            settings.api_auth_max_failures,
            model::auth_limit::DEFAULT_WINDOW_MS,
        )),
        message_log: message_log.live(),
        shutdown: shutdown.clone(),
    };
    let api_server = HttpServer::new(move || {
        ActixApp::new()
            .wrap(actix_web::middleware::from_fn(api::log_request))
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .configure(api::configure(api_state.clone()))
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(5);
    let api_server = match api_tls {
        Some(config) => api_server.listen_rustls_0_23(api_listener, config)?,
        None => api_server.listen(api_listener)?,
    }
    .run();

    // Spawned last, once nothing can fail any more, so a failed start leaves no task.
    let dispatcher_task = dispatcher.start().await?;
    let webhook_task = webhook_worker.spawn(shutdown.clone());
    let message_log_task = message_log.spawn(shutdown.clone());
    Ok(App {
        api_addr,
        ocpp_addr,
        api_server,
        ocpp_listener,
        ocpp_tls: ocpp_tls.map(std::sync::Arc::new),
        shutdown,
        db,
        gateway,
        initial_api_key,
        background: vec![dispatcher_task, webhook_task, message_log_task],
    })
}

impl App {
    /// The bound REST address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The bound charger address.
    pub fn ocpp_addr(&self) -> SocketAddr {
        self.ocpp_addr
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The gateway handle.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The API key generated at this start, if one was (print it once).
    pub fn initial_api_key(&self) -> Option<&str> {
        self.initial_api_key.as_deref()
    }

    /// The token that stops the app when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled, then closes charger connections,
    /// stops both listeners gracefully and lets background work finish.
    ///
    /// # Errors
    /// When a server fails.
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        let api_handle = self.api_server.handle();
        let api = tokio::spawn(self.api_server);
        // Stops by itself on the shutdown token, after closing every charger connection.
        let gateway = self.gateway.clone();
        let ocpp =
            tokio::spawn(async move { gateway.serve(self.ocpp_listener, self.ocpp_tls).await });
        self.shutdown.cancelled().await;
        tracing::info!("shutting down");
        let _ = ocpp.await;
        api_handle.stop(true).await;
        let _ = api.await;
        for task in self.background {
            let _ = task.await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More connections than std's backlog of 128 (and fewer than a test's usual 1,024
    /// open files) wait in the accept queue of a listener that accepts none: with the
    /// short queue the ones past it would never complete their handshake.
    #[tokio::test]
    async fn the_listeners_accept_queue_holds_a_burst_longer_than_std_s_128() {
        const BURST: usize = 300;
        let listener = bind_listener("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..BURST {
            connects.spawn(tokio::net::TcpStream::connect(addr));
        }
        // A failure hangs (the SYNs past the queue are dropped and retried for minutes):
        // bounded by a generous deadline, never by a tight one.
        let all = tokio::time::timeout(Duration::from_secs(30), connects.join_all())
            .await
            .expect("every connection completes its handshake while none is accepted");
        assert_eq!(all.into_iter().filter(Result::is_ok).count(), BURST);
        drop(listener);
    }
}

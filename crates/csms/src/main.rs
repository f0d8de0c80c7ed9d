//! `csms`: the OCPP 1.6J central system. `csms` (or `csms serve`) runs the server;
//! `csms api-key create|list|revoke` manages API keys.

use clap::{Parser, Subcommand};
use csms::Settings;
use model::time::format_ms;
use model::{Db, DbOptions};

#[derive(Parser)]
#[command(
    name = "csms",
    version,
    about = "OCPP 1.6J central system with the eDRV v1.1 configuration API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Exit 0 when the local server answers `GET /health` (container health checks).
    Health,
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a named key and print it once.
    Create { name: String },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id or name.
    Revoke { id_or_name: String },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    csms::telemetry::init(&settings.log, &settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::ApiKey(command) => api_key(settings, command).await,
            Command::Health => health(&settings).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let app = csms::build(settings).await?;
    if let Some(key) = app.initial_api_key() {
        println!("Generated an API key (shown once, stored hashed): {key}");
    }
    tracing::info!(api = %app.api_addr(), ocpp = %app.ocpp_addr(), "csms listening");
    let token = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        token.cancel();
    });
    app.run_until_stopped().await?;
    Ok(())
}

/// A minimal HTTP/1.0 `GET /health` against the configured API listener, so the
/// container image needs no curl.
async fn health(settings: &Settings) -> Result<(), Box<dyn std::error::Error>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = settings.api_listen.replace("0.0.0.0", "127.0.0.1");
    let connect = tokio::net::TcpStream::connect(&addr);
    let mut stream = tokio::time::timeout(std::time::Duration::from_secs(3), connect).await??;
    stream
        .write_all(format!("GET /health HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut head = [0u8; 12];
    tokio::time::timeout(
        std::time::Duration::from_secs(3),
        stream.read_exact(&mut head),
    )
    .await??;
    if head.starts_with(b"HTTP/1.0 200") || head.starts_with(b"HTTP/1.1 200") {
        println!("healthy");
        Ok(())
    } else {
        Err(format!("unhealthy: {}", String::from_utf8_lossy(&head)).into())
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn api_key(
    settings: Settings,
    command: ApiKeyCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut options = DbOptions::new(settings.database_url.clone());
    if !settings.database_schema.is_empty() {
        options.schema = Some(settings.database_schema.clone());
    }
    let db = Db::connect(&options).await?;
    match command {
        ApiKeyCommand::Create { name } => {
            let (info, key) = model::api_keys::create(&db, &name).await?;
            println!(
                "Created API key '{}' ({}). It is shown once:\n{key}",
                info.name, info.id
            );
        }
        ApiKeyCommand::List => {
            println!(
                "{:<26} {:<20} {:<26} {:<26} status",
                "id", "name", "created", "last used"
            );
            for key in model::api_keys::list(&db).await? {
                println!(
                    "{:<26} {:<20} {:<26} {:<26} {}",
                    key.id,
                    key.name,
                    format_ms(key.created_at),
                    key.last_used_at
                        .map(format_ms)
                        .unwrap_or_else(|| "-".into()),
                    if key.revoked { "revoked" } else { "active" }
                );
            }
        }
        ApiKeyCommand::Revoke { id_or_name } => {
            if model::api_keys::revoke(&db, &id_or_name).await? {
                println!("Revoked {id_or_name}");
            } else {
                return Err(format!("no active key with id or name '{id_or_name}'").into());
            }
        }
    }
    db.close().await?;
    Ok(())
}

//! The database handle: connecting (SQLite file or PostgreSQL URL), running the
//! migrations, the clock every timestamp is taken from, and the in-process "outbox
//! written" signal that wakes the webhook worker after a commit that wrote an event.

use std::sync::Arc;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend};

use tokio::sync::Notify;

use crate::conn::Conn;
use crate::time::{Clock, SystemClock};
use crate::ModelResult;

/// A connected, migrated database plus the clock used for every timestamp.
///
/// Clones share the connection, the clock and the outbox signal.
#[derive(Clone, Debug)]
pub struct Db {
    conn: Conn,
    /// See [`Db::reader`].
    reader: Conn,
    clock: Arc<dyn Clock>,
    schema: Option<String>,
    outbox: Arc<Notify>,
}

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// `sqlite://file.db?mode=rwc` or `postgres://...`.
    pub url: String,
    /// PostgreSQL only: the schema to use (created when missing); tests use one each.
    pub schema: Option<String>,
    /// PostgreSQL pool size.
    pub max_connections: u32,
}

impl DbOptions {
    /// Options for `url` with defaults.
    pub fn new(url: impl Into<String>) -> DbOptions {
        DbOptions {
            url: url.into(),
            schema: None,
            max_connections: 16,
        }
    }
}

impl Db {
    /// Connects with the system clock and runs pending migrations.
    ///
    /// # Errors
    /// When the database cannot be reached or a migration fails.
    pub async fn connect(options: &DbOptions) -> ModelResult<Db> {
        Db::connect_with_clock(options, Arc::new(SystemClock)).await
    }

    /// Connects with the given clock and runs pending migrations.
    ///
    /// # Errors
    /// When the database cannot be reached or a migration fails.
    pub async fn connect_with_clock(options: &DbOptions, clock: Arc<dyn Clock>) -> ModelResult<Db> {
        let mut connect = ConnectOptions::new(options.url.clone());
        connect
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(30));
        if options.url.starts_with("sqlite:") {
            // One connection: SQLite serialises writers anyway, and a single connection
            // never meets SQLITE_BUSY on a read-then-write transaction (ADR 0002).
            // The pool only runs the migrations; then `Conn::new` closes it and opens
            // the connection statements run on in place (ADRs 0008, 0009).
            connect
                .max_connections(1)
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .busy_timeout(crate::sqlite::BUSY_TIMEOUT)
                        .foreign_keys(true)
                });
        } else {
            connect.max_connections(options.max_connections);
            if let Some(schema) = &options.schema {
                let admin = Database::connect(ConnectOptions::new(options.url.clone())).await?;
                admin
                    .execute_unprepared(&format!(
                        "CREATE SCHEMA IF NOT EXISTS \"{}\"",
                        schema.replace('"', "")
                    ))
                    .await?;
                admin.close().await?;
                connect.set_schema_search_path(schema.clone());
            }
        }
        let pool = Database::connect(connect).await?;
        Migrator::up(&pool, None).await?;
        let conn = Conn::new(pool, &options.url).await?;
        let reader = conn.reader(&options.url)?;
        Ok(Db {
            conn,
            reader,
            clock,
            schema: options.schema.clone(),
            outbox: Arc::new(Notify::new()),
        })
    }

    /// Signals that a transaction which wrote webhook deliveries (an event, a
    /// redelivery, a finished attempt that unblocks the next event of a chargestation)
    /// has **committed**. Call it after `commit`, never before: a worker woken earlier
    /// could look before the rows are visible (PostgreSQL) and then sleep until its next
    /// poll. Cheap (one atomic operation); wake-ups coalesce.
    ///
    /// Only this process hears it; other instances sharing a PostgreSQL database find
    /// the rows by polling.
    pub fn outbox_written(&self) {
        self.outbox.notify_one();
    }

    /// The signal [`Db::outbox_written`] raises, for the webhook worker to wait on
    /// (`notified().await`). A signal raised while nobody waits is kept (one permit), so
    /// a commit between two looks is never missed.
    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox.clone()
    }

    /// The connection every query goes through (a sea-orm [`ConnectionTrait`]).
    pub fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The connection for frequent reads outside any transaction that should not wait
    /// behind writes — the API key and the chargestation of every API call. On SQLite a
    /// second, read-only connection: in WAL mode a read there sees every transaction
    /// committed before it started and runs while the main connection writes, instead
    /// of queueing for it behind the transactions of every charger and worker. On
    /// PostgreSQL the same pool as [`Db::conn`]. It cannot write (SQLite refuses).
    pub fn reader(&self) -> &Conn {
        &self.reader
    }

    /// Now, from the injected clock, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The clock itself.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The PostgreSQL schema in use, if one was chosen.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Whether this is PostgreSQL (some statements differ).
    pub fn is_postgres(&self) -> bool {
        self.conn.get_database_backend() == DbBackend::Postgres
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> ModelResult<()> {
        self.conn.ping().await?;
        Ok(())
    }

    /// Closes the connection (the pool, or SQLite's one connection) for every clone.
    ///
    /// # Errors
    /// When closing fails.
    pub async fn close(self) -> ModelResult<()> {
        // The reader first: the last connection to close checkpoints and removes the WAL.
        if !self.is_postgres() {
            self.reader.close().await?;
        }
        self.conn.close().await?;
        Ok(())
    }
}

/// Drops a PostgreSQL schema and everything in it; tests call it to leave nothing behind.
///
/// # Errors
/// When the database cannot be reached.
pub async fn drop_schema(url: &str, schema: &str) -> ModelResult<()> {
    let admin = Database::connect(ConnectOptions::new(url.to_owned())).await?;
    admin
        .execute_unprepared(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            schema.replace('"', "")
        ))
        .await?;
    admin.close().await?;
    Ok(())
}

//! The connection every statement goes through: sea-orm's pool for PostgreSQL, and for
//! SQLite the one connection held by the process itself (ADRs 0008 and 0009).
//!
//! SQLite's connection sits behind a fair async mutex: a statement locks it, runs in
//! place on the calling task ([`crate::sqlite`]: no thread hand-off), and unlocks it; a
//! transaction holds the lock from `BEGIN` to `COMMIT`/`ROLLBACK`, so its statements
//! never wait for anything but SQLite.
//!
//! PostgreSQL's pooled connections are opened on the runtime the [`Db`](crate::Db) was
//! connected on (its *home*, the server's main runtime), whichever runtime asks: a
//! connection's socket belongs to the runtime that opened it and dies with it, and the
//! API's HTTP workers run runtimes of their own that stop before the background work
//! finishes at shutdown ([`PoolConn`]).
//!
//! [`Conn`] and [`Txn`] implement sea-orm's [`ConnectionTrait`], so queries are written
//! once for both databases.

use std::future::Future;
use std::sync::Arc;

use rusqlite::Connection;
use sea_orm::sqlx::PgPool;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, Statement, TransactionTrait,
};
use tokio::runtime::Handle;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::sqlite;

/// The database connection: PostgreSQL's pool, or SQLite's one connection. Clones
/// share it.
#[derive(Clone, Debug)]
pub enum Conn {
    /// sea-orm's pool (PostgreSQL).
    Pool(PoolConn),
    /// The one SQLite connection.
    Sqlite(SqliteConn),
}

/// sea-orm's pool, whose connections are all opened on its home runtime.
///
/// sqlx opens a connection on the task that needs one, so a statement from an HTTP
/// worker's runtime would leave a connection behind whose socket dies with that runtime:
/// at shutdown the HTTP workers stop first, and the webhook worker recording the
/// outcome of its last attempt then met "Tokio context is being shutdown". Statements
/// and `BEGIN` from another runtime therefore run on the home runtime (a task each);
/// a transaction's later statements run where they are called (its connection's socket
/// can be polled from any runtime while home runs).
#[derive(Clone, Debug)]
pub struct PoolConn {
    pool: DatabaseConnection,
    /// The runtime connections are opened on; `None` outside a runtime.
    home: Option<Handle>,
}

impl PoolConn {
    /// Runs `work` on the pool: in place on the home runtime, else as a task there.
    async fn at_home<R, F>(&self, work: impl FnOnce(DatabaseConnection) -> F) -> Result<R, DbErr>
    where
        F: Future<Output = Result<R, DbErr>> + Send + 'static,
        R: Send + 'static,
    {
        let work = work(self.pool.clone());
        match away_from(self.home.as_ref()) {
            Some(home) => home.spawn(work).await.map_err(task_ended)?,
            None => work.await,
        }
    }
}

/// `home`, when the caller runs on another runtime.
fn away_from(home: Option<&Handle>) -> Option<&Handle> {
    home.filter(|home| Handle::try_current().is_ok_and(|here| here.id() != home.id()))
}

/// The error of a database task on the home runtime that did not finish (the runtime
/// stopped, or the task panicked).
fn task_ended(error: tokio::task::JoinError) -> DbErr {
    DbErr::Custom(format!("a database task ended: {error}"))
}

/// A transaction on a pooled connection. It ends on the home runtime: the connection
/// goes back to the pool from a task of the runtime that ends it, and a task of an
/// HTTP worker's runtime that stops right after would never run.
#[derive(Debug)]
pub struct PoolTxn {
    /// `Some` until the transaction ends.
    txn: Option<DatabaseTransaction>,
    home: Option<Handle>,
}

impl PoolTxn {
    /// The open transaction.
    fn open(&self) -> Result<&DatabaseTransaction, DbErr> {
        self.txn
            .as_ref()
            .ok_or_else(|| DbErr::Custom("the transaction has ended".into()))
    }

    /// Commits (`commit`) or rolls back, on the home runtime.
    async fn end(mut self, commit: bool) -> Result<(), DbErr> {
        let Some(txn) = self.txn.take() else {
            return Ok(());
        };
        let end = async move {
            if commit {
                txn.commit().await
            } else {
                txn.rollback().await
            }
        };
        match away_from(self.home.as_ref()) {
            Some(home) => home.spawn(end).await.map_err(task_ended)?,
            None => end.await,
        }
    }
}

impl Drop for PoolTxn {
    fn drop(&mut self) {
        // Dropped open: sea-orm rolls it back as the connection goes back to the pool.
        if let (Some(txn), Some(home)) = (self.txn.take(), away_from(self.home.as_ref())) {
            home.spawn(async move { drop(txn) });
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for PoolTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn
            .as_ref()
            .map_or(DbBackend::Postgres, ConnectionTrait::get_database_backend)
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.open()?.execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.open()?.execute_unprepared(sql).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.open()?.query_one(stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.open()?.query_all(stmt).await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for PoolConn {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.at_home(|pool| async move { pool.execute(stmt).await })
            .await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let sql = sql.to_owned();
        self.at_home(|pool| async move { pool.execute_unprepared(&sql).await })
            .await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.at_home(|pool| async move { pool.query_one(stmt).await })
            .await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.at_home(|pool| async move { pool.query_all(stmt).await })
            .await
    }
}

/// SQLite's one connection, shared by every task through a fair mutex; `None` once
/// closed.
#[derive(Clone, Debug)]
pub struct SqliteConn {
    inner: Arc<Mutex<Option<Connection>>>,
    /// Stopped when the connection is closed (or the last clone dropped).
    checkpointer: Arc<std::sync::Mutex<Option<sqlite::Checkpointer>>>,
}

/// An open transaction on a [`Conn`]. Dropped without [`Txn::commit`], it rolls back.
#[derive(Debug)]
pub enum Txn {
    /// A transaction on a pooled connection (PostgreSQL).
    Pool(PoolTxn),
    /// A transaction on SQLite's one connection, which it holds until it ends.
    Sqlite(SqliteTxn),
}

/// A transaction on SQLite's one connection: holds the connection's lock.
#[derive(Debug)]
pub struct SqliteTxn {
    // rusqlite's connection is not `Sync` and sea-orm's `ConnectionTrait` is, so the
    // held connection sits behind a (never contended) mutex of its own.
    conn: std::sync::Mutex<OwnedMutexGuard<Option<Connection>>>,
    open: bool,
}

impl SqliteConn {
    /// Runs `f` on the connection once the lock is free.
    async fn run<R>(&self, f: impl FnOnce(&Connection) -> Result<R, DbErr>) -> Result<R, DbErr> {
        f(open(&*self.inner.lock().await)?)
    }

    /// Stops (and joins) the WAL checkpointer thread, if it still runs.
    fn stop_checkpointer(&self) {
        let checkpointer = match self.checkpointer.lock() {
            Ok(mut held) => held.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(checkpointer);
    }
}

impl SqliteTxn {
    /// Runs `f` on the transaction's connection.
    #[allow(clippy::unused_async)] // the same shape as `SqliteConn::run`, for the macro
    async fn run<R>(&self, f: impl FnOnce(&Connection) -> Result<R, DbErr>) -> Result<R, DbErr> {
        let held = self.conn.lock().map_err(panicked)?;
        f(open(&held)?)
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`.
    fn end(&mut self, sql: &str) -> Result<(), DbErr> {
        let held = self.conn.get_mut().map_err(panicked)?;
        sqlite::execute_unprepared(open(held)?, sql)?;
        self.open = false;
        Ok(())
    }
}

impl Conn {
    /// Keeps PostgreSQL's pool; for SQLite, closes sea-orm's pool (which the migrations
    /// ran on) and opens the connection every statement then runs on.
    ///
    /// # Errors
    /// When the connection cannot be opened.
    pub(crate) async fn new(pool: DatabaseConnection, url: &str) -> Result<Conn, DbErr> {
        if pool.get_database_backend() != DbBackend::Sqlite {
            return Ok(Conn::Pool(PoolConn {
                pool,
                home: Handle::try_current().ok(),
            }));
        }
        pool.close().await?;
        let (connection, checkpointer) = sqlite::open(url)?;
        Ok(Conn::Sqlite(SqliteConn {
            inner: Arc::new(Mutex::new(Some(connection))),
            checkpointer: Arc::new(std::sync::Mutex::new(Some(checkpointer))),
        }))
    }

    /// The connection for [`crate::Db::reader`]: PostgreSQL's pool itself; on SQLite a
    /// second connection to the same file, for reads only ([`sqlite::open_reader`]),
    /// behind a lock of its own.
    ///
    /// # Errors
    /// When the connection cannot be opened.
    pub(crate) fn reader(&self, url: &str) -> Result<Conn, DbErr> {
        match self {
            Conn::Pool(_) => Ok(self.clone()),
            Conn::Sqlite(_) => Ok(Conn::Sqlite(SqliteConn {
                inner: Arc::new(Mutex::new(Some(sqlite::open_reader(url)?))),
                checkpointer: Arc::new(std::sync::Mutex::new(None)),
            })),
        }
    }

    /// Begins a transaction. On SQLite it waits for the connection and keeps it until the
    /// transaction ends.
    ///
    /// # Errors
    /// When `BEGIN` fails.
    pub async fn begin(&self) -> Result<Txn, DbErr> {
        match self {
            Conn::Pool(pool) => Ok(Txn::Pool(PoolTxn {
                txn: Some(
                    pool.at_home(|pool| async move { pool.begin().await })
                        .await?,
                ),
                home: pool.home.clone(),
            })),
            Conn::Sqlite(sqlite) => {
                let held = Arc::clone(&sqlite.inner).lock_owned().await;
                sqlite::execute_unprepared(open(&held)?, "BEGIN")?;
                Ok(Txn::Sqlite(SqliteTxn {
                    conn: std::sync::Mutex::new(held),
                    open: true,
                }))
            }
        }
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), DbErr> {
        match self {
            Conn::Pool(pool) => pool.at_home(|pool| async move { pool.ping().await }).await,
            Conn::Sqlite(sqlite) => {
                sqlite
                    .run(|conn| {
                        conn.query_row("SELECT 1", [], |_| Ok(()))
                            .map_err(sqlite::conn_err)
                    })
                    .await
            }
        }
    }

    /// Closes the pool, or SQLite's connection, for every clone: statements after it
    /// fail (`ConnectionClosed`), as on a closed pool.
    ///
    /// # Errors
    /// When closing fails.
    pub async fn close(self) -> Result<(), DbErr> {
        match self {
            Conn::Pool(pool) => pool.pool.close().await,
            Conn::Sqlite(sqlite) => {
                // The checkpointer first: closing the last connection checkpoints and
                // removes the WAL.
                sqlite.stop_checkpointer();
                match sqlite.inner.lock().await.take() {
                    Some(connection) => connection
                        .close()
                        .map_err(|(_, error)| sqlite::conn_err(error)),
                    None => Ok(()),
                }
            }
        }
    }

    /// PostgreSQL's pool (for `LISTEN`), `None` on SQLite.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match self {
            Conn::Pool(pool) if pool.get_database_backend() == DbBackend::Postgres => {
                Some(pool.pool.get_postgres_connection_pool())
            }
            _ => None,
        }
    }
}

impl Txn {
    /// Commits.
    ///
    /// # Errors
    /// When `COMMIT` fails; the transaction is then rolled back.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Txn::Pool(txn) => txn.end(true).await,
            Txn::Sqlite(mut txn) => txn.end("COMMIT"),
        }
    }

    /// Rolls back.
    ///
    /// # Errors
    /// When `ROLLBACK` fails.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Txn::Pool(txn) => txn.end(false).await,
            Txn::Sqlite(mut txn) => txn.end("ROLLBACK"),
        }
    }
}

impl Drop for SqliteTxn {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let held = match self.conn.get_mut() {
            Ok(held) => held,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Before the lock is released, so the next holder starts on a clean connection.
        // (SQLite may have ended the transaction itself after some errors.)
        if let Some(conn) = held.as_ref().filter(|conn| !conn.is_autocommit()) {
            if let Err(error) = conn.execute_batch("ROLLBACK") {
                tracing::error!(%error, "rolling back a dropped transaction failed");
            }
        }
    }
}

/// `ConnectionTrait` for [`Conn`] and [`Txn`]: the pooled variant delegates to sea-orm;
/// the SQLite variant runs the statement in place ([`crate::sqlite`]) on the connection
/// its `run` reaches (the shared connection once its lock is free for `Conn`, the held
/// one for `Txn`).
macro_rules! connection_trait {
    ($type:ident) => {
        #[async_trait::async_trait]
        impl ConnectionTrait for $type {
            fn get_database_backend(&self) -> DbBackend {
                match self {
                    $type::Pool(pool) => pool.get_database_backend(),
                    $type::Sqlite(_) => DbBackend::Sqlite,
                }
            }

            async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                match self {
                    $type::Pool(pool) => pool.execute(stmt).await,
                    $type::Sqlite(sqlite) => sqlite.run(|c| sqlite::execute(c, &stmt)).await,
                }
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                match self {
                    $type::Pool(pool) => pool.execute_unprepared(sql).await,
                    $type::Sqlite(sqlite) => {
                        sqlite.run(|c| sqlite::execute_unprepared(c, sql)).await
                    }
                }
            }

            async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                match self {
                    $type::Pool(pool) => pool.query_one(stmt).await,
                    $type::Sqlite(sqlite) => sqlite.run(|c| sqlite::query_one(c, &stmt)).await,
                }
            }

            async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                match self {
                    $type::Pool(pool) => pool.query_all(stmt).await,
                    $type::Sqlite(sqlite) => sqlite.run(|c| sqlite::query_all(c, &stmt)).await,
                }
            }
        }
    };
}

connection_trait!(Conn);
connection_trait!(Txn);

/// The error of a transaction whose lock a panicking statement poisoned.
fn panicked<T>(_: std::sync::PoisonError<T>) -> DbErr {
    DbErr::Custom("a statement of this transaction panicked".into())
}

/// The connection, unless it was closed.
fn open(conn: &Option<Connection>) -> Result<&Connection, DbErr> {
    conn.as_ref()
        .ok_or(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use sea_orm::ConnectionTrait;

    use crate::test_db::TestDb;
    use crate::Db;

    async fn probe_table(db: &Db) {
        db.conn()
            .execute_unprepared("CREATE TABLE conn_probe (v INTEGER NOT NULL)")
            .await
            .unwrap();
    }

    async fn rows(db: &Db) -> i64 {
        rows_on(db.conn()).await
    }

    async fn rows_on(conn: &super::Conn) -> i64 {
        let row = conn
            .query_one(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "SELECT COUNT(*) AS n FROM conn_probe",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    #[tokio::test]
    async fn the_reader_reads_the_last_commit_while_a_transaction_holds_the_writer_and_cannot_write(
    ) {
        let t = TestDb::new().await;
        probe_table(&t.db).await;
        t.db.conn()
            .execute_unprepared("INSERT INTO conn_probe (v) VALUES (1)")
            .await
            .unwrap();
        assert_eq!(rows_on(t.db.reader()).await, 1, "a committed row");

        let txn = t.db.conn().begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO conn_probe (v) VALUES (2)")
            .await
            .unwrap();
        if t.db.is_postgres() {
            // Another pooled connection: it does not wait for the open transaction.
            assert_eq!(rows_on(t.db.reader()).await, 1);
        } else {
            // The writer's lock is held, yet the read completes in its first poll: it
            // runs in place on a connection of its own, from the last commit.
            let mut read = Box::pin(rows_on(t.db.reader()));
            let mut cx = Context::from_waker(Waker::noop());
            assert_eq!(read.as_mut().poll(&mut cx), Poll::Ready(1));
            let err =
                t.db.reader()
                    .execute_unprepared("INSERT INTO conn_probe (v) VALUES (3)")
                    .await
                    .unwrap_err();
            assert!(err.to_string().contains("readonly"), "{err}");
        }
        txn.commit().await.unwrap();
        assert_eq!(
            rows_on(t.db.reader()).await,
            2,
            "the commit is seen at once"
        );
        t.done().await;
    }

    #[tokio::test]
    async fn a_committed_transaction_is_kept_and_a_dropped_one_rolls_back() {
        let t = TestDb::new().await;
        probe_table(&t.db).await;
        let txn = t.db.conn().begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO conn_probe (v) VALUES (1)")
            .await
            .unwrap();
        drop(txn);
        assert_eq!(rows(&t.db).await, 0, "dropped without commit");

        let txn = t.db.conn().begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO conn_probe (v) VALUES (2)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(rows(&t.db).await, 1);

        let txn = t.db.conn().begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO conn_probe (v) VALUES (3)")
            .await
            .unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(rows(&t.db).await, 1, "rolled back");

        // A failed statement inside a transaction leaves the connection usable once
        // the transaction is dropped.
        let txn = t.db.conn().begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO conn_probe (v) VALUES (4)")
            .await
            .unwrap();
        assert!(txn
            .execute_unprepared("INSERT INTO conn_probe (v) VALUES (NULL)")
            .await
            .is_err());
        drop(txn);
        assert_eq!(rows(&t.db).await, 1);
        t.done().await;
    }

    #[tokio::test]
    async fn a_statement_outside_an_open_transaction_waits_for_it_and_never_joins_it() {
        let t = TestDb::new().await;
        probe_table(&t.db).await;
        let txn = t.db.conn().begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO conn_probe (v) VALUES (1)")
            .await
            .unwrap();
        // The reader starts while the transaction is open. On SQLite's one connection
        // it must wait for the transaction: run at once, it would read inside it and
        // count the row that the rollback below takes back.
        // (PostgreSQL reads outside the transaction on another connection: its answer
        // may even be ready at the first poll.)
        let mut reader = Box::pin(rows(&t.db));
        let mut cx = Context::from_waker(Waker::noop());
        let first = reader.as_mut().poll(&mut cx);
        assert!(t.db.is_postgres() || matches!(first, Poll::Pending));
        drop(txn);
        let counted = match first {
            Poll::Ready(counted) => counted,
            Poll::Pending => reader.as_mut().await,
        };
        drop(reader);
        assert_eq!(counted, 0);
        t.done().await;
    }

    /// The backend's process id on PostgreSQL (one per connection), 0 on SQLite.
    async fn backend(txn: &super::Txn) -> i64 {
        let sql = match txn.get_database_backend() {
            sea_orm::DbBackend::Postgres => "SELECT pg_backend_pid()::BIGINT AS n",
            _ => "SELECT 0 AS n",
        };
        let row = txn
            .query_one(sea_orm::Statement::from_string(
                txn.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// `n` transactions open at once (tasks of the calling runtime), each with the
    /// backend it runs on, sorted.
    async fn backends_at_once(db: &Db, n: usize) -> Vec<i64> {
        let all_open = std::sync::Arc::new(tokio::sync::Barrier::new(n));
        let mut txns = tokio::task::JoinSet::new();
        for _ in 0..n {
            let (db, all_open) = (db.clone(), all_open.clone());
            txns.spawn(async move {
                let txn = db.conn().begin().await.unwrap();
                let backend = backend(&txn).await;
                all_open.wait().await;
                txn.commit().await.unwrap();
                backend
            });
        }
        let mut backends = txns.join_all().await;
        backends.sort_unstable();
        backends
    }

    /// Waits until every connection of the pool is back in it.
    async fn all_idle(pool: &sea_orm::sqlx::PgPool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while pool.num_idle() < pool.size() as usize {
            assert!(
                std::time::Instant::now() < deadline,
                "connections never returned"
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_a_foreign_runtime_asked_for_outlive_it() {
        let t = TestDb::new().await;
        let Some(pool) = t.db.conn().postgres_pool().cloned() else {
            // SQLite's one connection belongs to no runtime.
            return t.done().await;
        };
        all_idle(&pool).await;
        let db = t.db.clone();
        // As an HTTP worker does: another runtime, which needs three connections at once
        // (so the pool opens some for it) and then stops.
        let foreign = tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(backends_at_once(&db, 3))
        })
        .await
        .unwrap();
        // Each connection goes back to the pool from a task of the runtime that ended
        // its transaction: the home one, where those tasks run.
        all_idle(&pool).await;
        // Every connection of the pool at once: the foreign runtime's are among them,
        // alive (a dead one would fail its ping and be replaced by a new backend).
        let home = backends_at_once(&t.db, pool.size() as usize).await;
        assert!(
            foreign.iter().all(|backend| home.contains(backend)),
            "foreign {foreign:?}, home {home:?}"
        );
        t.done().await;
    }

    #[tokio::test]
    async fn closing_one_handle_closes_the_connection_for_every_clone() {
        let t = TestDb::new().await;
        let other = t.db.clone();
        t.db.clone().close().await.unwrap();
        assert!(other.ping().await.is_err());
        assert!(other.conn().begin().await.is_err());
        t.done().await;
    }
}

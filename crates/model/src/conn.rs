//! The connection every statement goes through: sea-orm's pool for PostgreSQL, and for
//! SQLite the one connection held by the process itself, without sqlx's pool
//! (ADR 0008).
//!
//! Why SQLite skips the pool: sqlx's pool tests a connection each time it is given back,
//! from a task it spawns for that, with a `ping`, which on SQLite is one more round trip
//! to the connection's worker thread. With SQLite's one connection (ADR 0002) the next
//! statement waits for that ping, so a statement run on its own cost two thread
//! hand-offs and a spawned task instead of one hand-off. Here the connection sits behind
//! a fair async mutex: a statement locks it, runs (one hand-off), and unlocks it; a
//! transaction holds the lock from `BEGIN` to `COMMIT`/`ROLLBACK`.
//!
//! [`Conn`] and [`Txn`] implement sea-orm's [`ConnectionTrait`], so queries are written
//! once for both databases, as before.

use std::sync::Arc;

use sea_orm::sqlx::sqlite::{Sqlite, SqliteConnection, SqliteTransactionManager};
use sea_orm::sqlx::{self, Connection as _, PgPool, TransactionManager as _};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, RuntimeErr, Statement, TransactionTrait, Values,
};
use sea_query_binder::SqlxValues;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The database connection: PostgreSQL's pool, or SQLite's one connection. Clones
/// share it.
#[derive(Clone, Debug)]
pub enum Conn {
    /// sea-orm's pool (PostgreSQL).
    Pool(DatabaseConnection),
    /// The one SQLite connection.
    Sqlite(SqliteConn),
}

/// SQLite's one connection, shared by every task through a fair mutex; `None` once
/// closed.
#[derive(Clone, Debug)]
pub struct SqliteConn {
    inner: Arc<Mutex<Option<SqliteConnection>>>,
}

/// An open transaction on a [`Conn`]. Dropped without [`Txn::commit`], it rolls back.
#[derive(Debug)]
pub enum Txn {
    /// A transaction on a pooled connection (PostgreSQL).
    Pool(DatabaseTransaction),
    /// A transaction on SQLite's one connection, which it holds until it ends.
    Sqlite(SqliteTxn),
}

/// A transaction on SQLite's one connection: holds the connection's lock.
#[derive(Debug)]
pub struct SqliteTxn {
    // The statements of one transaction take `&self` (sea-orm's `ConnectionTrait`), so
    // the held connection sits behind a mutex of its own; it is never contended.
    conn: Mutex<OwnedMutexGuard<Option<SqliteConnection>>>,
    open: bool,
}

impl Conn {
    /// Takes SQLite's connection out of sea-orm's pool (which the migrations ran on) and
    /// keeps it; PostgreSQL keeps its pool.
    ///
    /// # Errors
    /// When the connection cannot be taken.
    pub(crate) async fn new(pool: DatabaseConnection) -> Result<Conn, DbErr> {
        if pool.get_database_backend() != DbBackend::Sqlite {
            return Ok(Conn::Pool(pool));
        }
        let connection = pool
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .map_err(conn_err)?
            .detach();
        pool.close().await?;
        Ok(Conn::Sqlite(SqliteConn {
            inner: Arc::new(Mutex::new(Some(connection))),
        }))
    }

    /// Begins a transaction. On SQLite it waits for the connection and keeps it until the
    /// transaction ends.
    ///
    /// # Errors
    /// When `BEGIN` fails.
    pub async fn begin(&self) -> Result<Txn, DbErr> {
        match self {
            Conn::Pool(pool) => Ok(Txn::Pool(pool.begin().await?)),
            Conn::Sqlite(sqlite) => {
                // Built before `BEGIN` is sent: if this future is dropped while `BEGIN`
                // is on its way, the transaction's drop queues the rollback behind it
                // (sqlx's worker skips a rollback when no transaction is open).
                let mut txn = SqliteTxn {
                    conn: Mutex::new(Arc::clone(&sqlite.inner).lock_owned().await),
                    open: true,
                };
                SqliteTransactionManager::begin(open(txn.conn.get_mut())?, None)
                    .await
                    .map_err(exec_err)?;
                Ok(Txn::Sqlite(txn))
            }
        }
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), DbErr> {
        match self {
            Conn::Pool(pool) => pool.ping().await,
            Conn::Sqlite(sqlite) => open(&mut *sqlite.inner.lock().await)?
                .ping()
                .await
                .map_err(conn_err),
        }
    }

    /// Closes the pool, or SQLite's connection, for every clone: statements after it
    /// fail (`ConnectionClosed`), as on a closed pool.
    ///
    /// # Errors
    /// When closing fails.
    pub async fn close(self) -> Result<(), DbErr> {
        match self {
            Conn::Pool(pool) => pool.close().await,
            Conn::Sqlite(sqlite) => match sqlite.inner.lock().await.take() {
                Some(connection) => connection.close().await.map_err(conn_err),
                None => Ok(()),
            },
        }
    }

    /// PostgreSQL's pool (for `LISTEN`), `None` on SQLite.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match self {
            Conn::Pool(pool) if pool.get_database_backend() == DbBackend::Postgres => {
                Some(pool.get_postgres_connection_pool())
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
            Txn::Pool(txn) => txn.commit().await,
            Txn::Sqlite(mut txn) => {
                SqliteTransactionManager::commit(open(txn.conn.get_mut())?)
                    .await
                    .map_err(exec_err)?;
                txn.open = false;
                Ok(())
            }
        }
    }

    /// Rolls back.
    ///
    /// # Errors
    /// When `ROLLBACK` fails.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Txn::Pool(txn) => txn.rollback().await,
            Txn::Sqlite(mut txn) => {
                SqliteTransactionManager::rollback(open(txn.conn.get_mut())?)
                    .await
                    .map_err(exec_err)?;
                txn.open = false;
                Ok(())
            }
        }
    }
}

impl Drop for SqliteTxn {
    fn drop(&mut self) {
        if let (true, Some(conn)) = (self.open, self.conn.get_mut().as_mut()) {
            // Queued on the connection's worker before the lock is released, so the
            // next holder's statements run after the rollback.
            SqliteTransactionManager::start_rollback(conn);
        }
    }
}

/// `ConnectionTrait` for [`Conn`] and [`Txn`]: the pooled variant delegates to sea-orm;
/// the SQLite variant runs the statement on the connection `$lock` reaches (the shared
/// connection's lock for `Conn`, the transaction's held connection for `Txn`).
macro_rules! connection_trait {
    ($type:ident, |$sqlite:ident| $lock:expr) => {
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
                    $type::Sqlite($sqlite) => execute(&mut $lock, &stmt).await,
                }
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                match self {
                    $type::Pool(pool) => pool.execute_unprepared(sql).await,
                    $type::Sqlite($sqlite) => execute_unprepared(&mut $lock, sql).await,
                }
            }

            async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                match self {
                    $type::Pool(pool) => pool.query_one(stmt).await,
                    $type::Sqlite($sqlite) => query_one(&mut $lock, &stmt).await,
                }
            }

            async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                match self {
                    $type::Pool(pool) => pool.query_all(stmt).await,
                    $type::Sqlite($sqlite) => query_all(&mut $lock, &stmt).await,
                }
            }
        }
    };
}

connection_trait!(Conn, |sqlite| *sqlite.inner.lock().await);
connection_trait!(Txn, |txn| **txn.conn.lock().await);

/// The sqlx query for a sea-orm statement, as sea-orm's own SQLite driver builds it.
fn sqlx_query(stmt: &Statement) -> sqlx::query::Query<'_, Sqlite, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(&stmt.sql, SqlxValues(values))
}

async fn execute(
    conn: &mut Option<SqliteConnection>,
    stmt: &Statement,
) -> Result<ExecResult, DbErr> {
    sqlx_query(stmt)
        .execute(open(conn)?)
        .await
        .map(ExecResult::from)
        .map_err(exec_err)
}

async fn execute_unprepared(
    conn: &mut Option<SqliteConnection>,
    sql: &str,
) -> Result<ExecResult, DbErr> {
    sqlx::Executor::execute(open(conn)?, sql)
        .await
        .map(ExecResult::from)
        .map_err(exec_err)
}

async fn query_one(
    conn: &mut Option<SqliteConnection>,
    stmt: &Statement,
) -> Result<Option<QueryResult>, DbErr> {
    sqlx_query(stmt)
        .fetch_optional(open(conn)?)
        .await
        .map(|row| row.map(QueryResult::from))
        .map_err(query_err)
}

async fn query_all(
    conn: &mut Option<SqliteConnection>,
    stmt: &Statement,
) -> Result<Vec<QueryResult>, DbErr> {
    sqlx_query(stmt)
        .fetch_all(open(conn)?)
        .await
        .map(|rows| rows.into_iter().map(QueryResult::from).collect())
        .map_err(query_err)
}

/// The connection, unless it was closed.
fn open(conn: &mut Option<SqliteConnection>) -> Result<&mut SqliteConnection, DbErr> {
    conn.as_mut()
        .ok_or(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))
}

// The same error kinds sea-orm's own driver gives, so `DbErr::sql_err` (unique
// violations) works unchanged.
fn exec_err(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(error))
}

fn query_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(error))
}

fn conn_err(error: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(error))
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
        let row = db
            .conn()
            .query_one(sea_orm::Statement::from_string(
                db.conn().get_database_backend(),
                "SELECT COUNT(*) AS n FROM conn_probe",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
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

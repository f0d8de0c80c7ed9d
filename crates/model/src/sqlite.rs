//! SQLite's statements, run in place on the calling task (ADR 0009): sea-orm builds the
//! statement, rusqlite runs it on the process's one connection, and the rows come back
//! as sea-orm [`QueryResult`]s, so every query is still written once for both
//! databases.
//!
//! Why not sqlx here: sqlx runs each SQLite connection on a worker thread of its own,
//! and every statement is a round trip to it (two thread wake-ups, and the caller then
//! waits its turn on the runtime again). A transaction of five statements held the
//! connection across ten such hand-offs while every other task waited for it. Run in
//! place, a statement costs what SQLite costs (microseconds: WAL, `synchronous =
//! NORMAL`, no fsync at commit) and a transaction whose statements only touch the
//! database runs in one poll.
//!
//! Rows are handed over as sea-orm proxy rows (name → value), whose reads are exact:
//! an `i64` field reads only a `BigInt`, a `bool` only a `Bool`. SQLite hands back its
//! storage classes, so the conversion is: a column declared `boolean` → `Bool`, every
//! other integer → `BigInt` (the schema has no narrower integers: migration m0007),
//! text → `String`, real → `Double`, blob → `Bytes`. What follows from that:
//! - an expression column (no declared type) that Rust reads as `bool` must be written
//!   as a count or a cast on the Rust side instead (`actions::QUEUE_HEAD`);
//! - rows are read by column name, never by position (a proxy row is ordered by name):
//!   a tuple of several columns is read into a named struct instead;
//! - sea-orm's paginator reads its count as `i32` on SQLite: [`crate::page::count`]
//!   counts instead.
//!
//! WAL checkpoints run on a thread of their own ([`Checkpointer`]), so the file I/O and
//! fsync of a checkpoint never stall the runtime.
//!
//! The statements [`crate::conn`]'s tests and every model test run on SQLite cover
//! these reads.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{
    DbErr, ExecResult, ProxyExecResult, ProxyRow, QueryResult, RuntimeErr, Statement, Value, Values,
};
use sea_query_rusqlite::RusqliteValue;

/// Prepared statements the connection keeps. The set-based statements of the group
/// commit and the webhook claims have one text per batch size, so rusqlite's default of
/// 16 (and sqlx's 100 before it) kept evicting them (`sqlite3Prepare` was about 11 % of
/// SQLite's time in the webhook benchmark: docs/benchmarks.md, fifth pass).
const STATEMENT_CACHE: usize = 1000;

/// How long a statement waits for a lock another process holds before failing.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the [`Checkpointer`] copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// WAL pages after which a commit on the main connection checkpoints by itself: only a
/// backstop (about 40 MB) should the checkpointer fall behind; SQLite's default is 1,000.
const WAL_BACKSTOP_PAGES: u32 = 10_000;

/// Opens the database file of a `sqlite:` URL (already migrated, so already in WAL
/// mode) with the connection settings of ADR 0002.
///
/// # Errors
/// When the URL is not a SQLite URL or the file cannot be opened.
pub(crate) fn open(url: &str) -> Result<(Connection, Checkpointer), DbErr> {
    let path = path_of(url)?;
    let conn = open_file(&path)?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)
        .map_err(conn_err)?;
    Ok((conn, Checkpointer::start(open_file(&path)?)?))
}

/// Opens a second connection to the database file of a `sqlite:` URL for reads only
/// (`query_only`): in WAL mode its reads see every committed transaction and neither
/// wait for nor block the main connection's writes (`Db::reader`).
///
/// # Errors
/// When the URL is not a SQLite URL or the file cannot be opened.
pub(crate) fn open_reader(url: &str) -> Result<Connection, DbErr> {
    let conn = open_file(&path_of(url)?)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(conn_err)?;
    Ok(conn)
}

/// The file of a `sqlite:` URL.
fn path_of(url: &str) -> Result<std::path::PathBuf, DbErr> {
    if !url.starts_with("sqlite:") {
        return Err(DbErr::Conn(RuntimeErr::Internal(format!(
            "{url}: not a sqlite: URL"
        ))));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbErr::Conn(RuntimeErr::Internal(format!("{url}: {e}"))))?;
    Ok(options.get_filename().to_path_buf())
}

/// A thread with a connection of its own that checkpoints the WAL (`PASSIVE`: it never
/// waits for, nor blocks, the main connection) every [`CHECKPOINT_EVERY`].
///
/// Statements run in place on the runtime's threads (ADR 0009); a checkpoint on the
/// main connection would run inside whichever commit crossed SQLite's threshold, and its
/// writes and fsync would stall that runtime thread and every task queued on it for
/// milliseconds. Here they stall nobody. Stopped (and joined) when dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(conn: Connection) -> Result<Checkpointer, DbErr> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if let Err(error) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(%error, "SQLite WAL checkpoint failed");
                    }
                }
            })
            .map_err(|e| DbErr::Conn(RuntimeErr::Internal(format!("checkpoint thread: {e}"))))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn open_file(path: &Path) -> Result<Connection, DbErr> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(conn_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(conn_err)?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .map_err(conn_err)?;
    // `temp_store = MEMORY` keeps statement journals in memory: a statement that
    // writes many rows inside a transaction journals the pages it changes so it can be
    // undone alone, and past 64 KiB SQLite spilled that journal to a temporary file
    // (about 5 % of csms's time in the webhook benchmark went to those writes).
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
    )
    .map_err(conn_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// The statement's text as SQLite is given it: the hand-written statements' `$n`
/// parameters become `?n` (sea-query's SQLite statements use `?` already).
///
/// SQLite reads `$n` as a *name*: it numbers names by first appearance (so `... $1 ...
/// $3 ... $2` would misbind) and looks each one up in the statement's list of names
/// when parsing and binding, which is quadratic in the number of parameters — the
/// set-based statements of the group commit and the webhook finisher have hundreds
/// (about 9 % of csms's time in the webhook benchmark, docs/benchmarks.md, seventh
/// pass). `?n` is parameter number n outright, so every parameter binds by position.
fn sqlite_text(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut text = String::with_capacity(sql.len());
    // The quote (`'` string, `"` identifier) the scan is inside, if any.
    let mut quoted: Option<char> = None;
    let mut previous = ' ';
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quoted {
            Some(quote) if c == quote => quoted = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quoted = Some(c),
            None if c == '$'
                && !(previous.is_alphanumeric() || previous == '_')
                && chars.peek().is_some_and(char::is_ascii_digit) =>
            {
                text.push('?');
                previous = '?';
                continue;
            }
            None => {}
        }
        text.push(c);
        previous = c;
    }
    Cow::Owned(text)
}

/// Binds the statement's values by position: after [`sqlite_text`] every parameter is
/// `?n` (number n) or `?` (numbered in order), so parameter i takes value i.
fn bind(prepared: &mut rusqlite::Statement<'_>, stmt: &Statement) -> rusqlite::Result<()> {
    let values: &[Value] = stmt.values.as_ref().map_or(&[], |Values(values)| values);
    let count = prepared.parameter_count();
    if count > values.len() {
        return Err(rusqlite::Error::InvalidParameterCount(count, values.len()));
    }
    for (index, value) in values.iter().enumerate().take(count) {
        prepared.raw_bind_parameter(index + 1, RusqliteValue(value.clone()))?;
    }
    Ok(())
}

/// Runs a statement that may or may not return rows (they are dropped).
pub(crate) fn execute(conn: &Connection, stmt: &Statement) -> Result<ExecResult, DbErr> {
    let mut prepared = conn
        .prepare_cached(&sqlite_text(&stmt.sql))
        .map_err(exec_err)?;
    bind(&mut prepared, stmt).map_err(exec_err)?;
    let mut rows = prepared.raw_query();
    while rows.next().map_err(exec_err)?.is_some() {}
    Ok(exec_result(conn))
}

/// Runs one or more statements without parameters.
pub(crate) fn execute_unprepared(conn: &Connection, sql: &str) -> Result<ExecResult, DbErr> {
    conn.execute_batch(sql).map_err(exec_err)?;
    Ok(exec_result(conn))
}

fn exec_result(conn: &Connection) -> ExecResult {
    ExecResult::from(ProxyExecResult {
        last_insert_id: u64::try_from(conn.last_insert_rowid()).unwrap_or(0),
        rows_affected: conn.changes(),
    })
}

/// The statement's first row, if any.
pub(crate) fn query_one(conn: &Connection, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
    Ok(query(conn, stmt, Some(1))?.pop())
}

/// All the statement's rows.
pub(crate) fn query_all(conn: &Connection, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
    query(conn, stmt, None)
}

/// How a column's integers are handed to sea-orm.
#[derive(Clone, Copy)]
enum Integers {
    /// Declared `boolean`: 0 and 1 as `Bool`.
    Bool,
    /// Anything else: `BigInt`.
    BigInt,
}

fn query(
    conn: &Connection,
    stmt: &Statement,
    limit: Option<usize>,
) -> Result<Vec<QueryResult>, DbErr> {
    let mut prepared = conn
        .prepare_cached(&sqlite_text(&stmt.sql))
        .map_err(query_err)?;
    let columns: Vec<(String, Integers)> = prepared
        .columns()
        .iter()
        .map(|column| {
            let integers = match column.decl_type() {
                Some(declared) if declared.eq_ignore_ascii_case("boolean") => Integers::Bool,
                _ => Integers::BigInt,
            };
            (column.name().to_owned(), integers)
        })
        .collect();
    bind(&mut prepared, stmt).map_err(query_err)?;
    let mut rows = prepared.raw_query();
    let mut results = Vec::new();
    while let Some(row) = rows.next().map_err(query_err)? {
        let mut values = BTreeMap::new();
        for (index, (name, integers)) in columns.iter().enumerate() {
            let value = row.get_ref(index).map_err(query_err)?;
            values.insert(name.clone(), sea_value(value, *integers)?);
        }
        results.push(QueryResult::from(ProxyRow::new(values)));
        if limit.is_some_and(|limit| results.len() >= limit) {
            break;
        }
    }
    Ok(results)
}

/// One SQLite value as the sea-orm value its Rust field reads.
fn sea_value(value: ValueRef<'_>, integers: Integers) -> Result<Value, DbErr> {
    Ok(match (value, integers) {
        // Any typed `None` reads as `None` into an `Option` and fails a required field.
        (ValueRef::Null, Integers::Bool) => Value::Bool(None),
        (ValueRef::Null, Integers::BigInt) => Value::BigInt(None),
        (ValueRef::Integer(n), Integers::Bool) => Value::Bool(Some(n != 0)),
        (ValueRef::Integer(n), Integers::BigInt) => Value::BigInt(Some(n)),
        (ValueRef::Real(x), _) => Value::Double(Some(x)),
        (ValueRef::Text(text), _) => Value::String(Some(Box::new(
            std::str::from_utf8(text)
                .map_err(|e| DbErr::Type(format!("text that is not UTF-8: {e}")))?
                .to_owned(),
        ))),
        (ValueRef::Blob(bytes), _) => Value::Bytes(Some(Box::new(bytes.to_vec()))),
    })
}

// The same error kinds sea-orm's own drivers give; the message is SQLite's (a unique
// violation reads "UNIQUE constraint failed: ...").
fn exec_err(error: rusqlite::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::Internal(error.to_string()))
}

fn query_err(error: rusqlite::Error) -> DbErr {
    DbErr::Query(RuntimeErr::Internal(error.to_string()))
}

pub(crate) fn conn_err(error: rusqlite::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(error.to_string()))
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Statement};

    use super::*;
    use crate::test_db::TempDir;

    fn probe() -> (TempDir, Connection) {
        let dir = TempDir::new("csms-sqlite");
        let conn = open_file(&dir.0.join("probe.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, flag boolean NOT NULL, \
             n bigint, s text, r REAL, b BLOB)",
        )
        .unwrap();
        (dir, conn)
    }

    fn stmt(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    #[test]
    fn values_come_back_as_the_types_their_fields_read() {
        let (_dir, conn) = probe();
        let inserted = execute(
            &conn,
            &stmt(
                "INSERT INTO t (flag, n, s, r, b) VALUES ($1, $2, $3, $4, $5)",
                vec![
                    true.into(),
                    7_i64.into(),
                    "x".into(),
                    1.5_f64.into(),
                    vec![1_u8, 2].into(),
                ],
            ),
        )
        .unwrap();
        assert_eq!(inserted.rows_affected(), 1);
        assert_eq!(inserted.last_insert_id(), 1);
        let row = query_one(
            &conn,
            &stmt(
                "SELECT seq, flag, n, s, r, b, NULL AS absent, COUNT(*) OVER () AS total, \
                 (SELECT flag FROM t) AS sub FROM t",
                vec![],
            ),
        )
        .unwrap()
        .unwrap();
        assert_eq!(row.try_get::<i64>("", "seq").unwrap(), 1);
        assert!(row.try_get::<bool>("", "flag").unwrap());
        assert!(
            row.try_get::<bool>("", "sub").unwrap(),
            "a subquery keeps the declared type"
        );
        assert_eq!(row.try_get::<Option<i64>>("", "n").unwrap(), Some(7));
        assert_eq!(row.try_get::<String>("", "s").unwrap(), "x");
        assert!((row.try_get::<f64>("", "r").unwrap() - 1.5).abs() < f64::EPSILON);
        assert_eq!(row.try_get::<Vec<u8>>("", "b").unwrap(), vec![1, 2]);
        assert_eq!(row.try_get::<Option<String>>("", "absent").unwrap(), None);
        assert!(
            row.try_get::<String>("", "absent").is_err(),
            "NULL into a required field"
        );
        assert_eq!(row.try_get::<i64>("", "total").unwrap(), 1);
    }

    #[test]
    fn returning_rows_keep_declared_types_and_a_limit_of_one_stops_early() {
        let (_dir, conn) = probe();
        for n in 0..3_i64 {
            execute(
                &conn,
                &stmt(
                    "INSERT INTO t (flag, n) VALUES ($1, $2)",
                    vec![false.into(), n.into()],
                ),
            )
            .unwrap();
        }
        let updated = query_all(
            &conn,
            &stmt(
                "UPDATE t SET flag = $1 WHERE n >= $2 RETURNING *",
                vec![true.into(), 1_i64.into()],
            ),
        )
        .unwrap();
        assert_eq!(updated.len(), 2);
        assert!(updated
            .iter()
            .all(|row| row.try_get::<bool>("", "flag").unwrap()));
        let first = query_one(&conn, &stmt("SELECT n FROM t ORDER BY n", vec![])).unwrap();
        assert_eq!(
            first.unwrap().try_get::<Option<i64>>("", "n").unwrap(),
            Some(0)
        );
        // The statement was reset, not left mid-way: the table can be written again.
        execute(&conn, &stmt("DELETE FROM t", vec![])).unwrap();
    }

    #[test]
    fn numbered_parameters_are_bound_by_their_number_and_question_marks_in_order() {
        let (_dir, conn) = probe();
        let row = query_one(
            &conn,
            &stmt(
                "SELECT $2 AS two, $1 AS one, $2 AS again",
                vec![1_i64.into(), 2_i64.into()],
            ),
        )
        .unwrap()
        .unwrap();
        let read = |name| row.try_get::<i64>("", name).unwrap();
        assert_eq!((read("one"), read("two"), read("again")), (1, 2, 2));
        let row = query_one(
            &conn,
            &stmt("SELECT ? AS a, ? AS b", vec![1_i64.into(), 2_i64.into()]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(row.try_get::<i64>("", "b").unwrap(), 2);
        // `$n` in a string or a quoted identifier is text, not a parameter.
        let row = query_one(
            &conn,
            &stmt(
                "SELECT '$1 it''s $2' AS \"$1\", $1 AS one",
                vec![7_i64.into()],
            ),
        )
        .unwrap()
        .unwrap();
        assert_eq!(row.try_get::<String>("", "$1").unwrap(), "$1 it's $2");
        assert_eq!(row.try_get::<i64>("", "one").unwrap(), 7);
    }

    #[test]
    fn numbered_parameters_become_question_marks_outside_quotes_only() {
        assert_eq!(
            sqlite_text("SELECT $1, $12 FROM t WHERE a = '$2' AND \"b$3\" = $3"),
            "SELECT ?1, ?12 FROM t WHERE a = '$2' AND \"b$3\" = ?3"
        );
        assert!(matches!(sqlite_text("SELECT ?"), Cow::Borrowed(_)));
        assert_eq!(sqlite_text("SELECT x$1, $a"), "SELECT x$1, $a");
    }

    #[test]
    fn a_statement_with_thousands_of_numbered_parameters_binds_each_by_its_number() {
        let (_dir, conn) = probe();
        let n = 5_000_usize;
        let rows: Vec<String> = (1..=n).map(|i| format!("(${i})")).collect();
        let sql = format!(
            "WITH v (x) AS (VALUES {}) SELECT SUM(x) AS total FROM v",
            rows.join(", ")
        );
        let values: Vec<Value> = (1..=n).map(|i| (i as i64).into()).collect();
        let row = query_one(&conn, &stmt(&sql, values)).unwrap().unwrap();
        let expected = i64::try_from(n * (n + 1) / 2).unwrap();
        assert_eq!(row.try_get::<i64>("", "total").unwrap(), expected);
    }

    #[test]
    fn the_checkpointer_copies_the_wal_into_the_database_file_and_stops_when_dropped() {
        let dir = TempDir::new("csms-sqlite");
        let file = dir.0.join("checkpointed.db");
        let (conn, checkpointer) = open(&format!("sqlite://{}?mode=rwc", file.display())).unwrap();
        // Statement journals stay in memory (2 = MEMORY).
        let temp_store: i64 = conn
            .pragma_query_value(None, "temp_store", |row| row.get(0))
            .unwrap();
        assert_eq!(temp_store, 2);
        conn.execute_batch("CREATE TABLE big (b BLOB NOT NULL)")
            .unwrap();
        execute(
            &conn,
            &stmt(
                "INSERT INTO big (b) VALUES ($1)",
                vec![vec![7_u8; 256 * 1024].into()],
            ),
        )
        .unwrap();
        // The main connection checkpoints only past the backstop (about 40 MB of WAL),
        // so the blob reaches the database file only through the checkpointer.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::fs::metadata(&file).unwrap().len() < 256 * 1024 {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(checkpointer);
        conn.close().unwrap();
    }

    #[test]
    fn errors_carry_sqlites_message() {
        let (_dir, conn) = probe();
        conn.execute_batch("CREATE UNIQUE INDEX t_n ON t (n)")
            .unwrap();
        let insert = stmt(
            "INSERT INTO t (flag, n) VALUES ($1, $2)",
            vec![true.into(), 1_i64.into()],
        );
        execute(&conn, &insert).unwrap();
        let error = execute(&conn, &insert).unwrap_err();
        assert!(matches!(error, DbErr::Exec(_)));
        assert!(
            error.to_string().contains("UNIQUE constraint failed"),
            "{error}"
        );
        assert!(matches!(
            query_all(&conn, &stmt("SELECT nope FROM t", vec![])).unwrap_err(),
            DbErr::Query(_)
        ));
        assert!(open("postgres://nowhere").is_err());
    }
}

//! Statements written once for both databases: `$n` parameters ([`Arg`], `args![]`), rows read
//! by [`Row`], stored row types and their column lists declared once ([`stored_row!`]).
//!
//! PostgreSQL runs on sqlx. SQLite runs on `rusqlite` connections used in place, with their
//! prepared statements cached: one write connection (transactions, and single statements
//! outside them) and read-only connections for reads. sqlx's SQLite driver hands every
//! statement to a worker thread and back (two thread wake-ups a statement), which was a quarter
//! of a turn's CPU (docs/performance.md). The caller of a SQLite statement therefore blocks
//! while it runs; the turn engine runs its writer on a thread of its own for that reason.

use crate::{Result, StoreError};
use sqlx::postgres::PgRow;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A statement parameter (`$1`, `$2`, … in the SQL, in order of first use).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::OptText(v.as_deref())
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::OptText(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// `args![a, b, …]`: statement parameters.
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$($crate::sql::Arg::from($a)),*] };
}
pub(crate) use args;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match *self {
            Arg::Text(s) | Arg::OptText(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Arg::Int(i) | Arg::OptInt(Some(i)) => ToSqlOutput::Owned(Value::Integer(i)),
            Arg::OptText(None) | Arg::OptInt(None) => ToSqlOutput::Owned(Value::Null),
            Arg::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(b))),
        })
    }
}

/// A row type both databases can read: sqlx's `FromRow` for PostgreSQL, by column position for
/// SQLite (the same column order as the `SELECT`).
pub(crate) trait Row: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin + Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Implements [`Row`] for tuples of plain columns (counts, single values, small aggregates).
macro_rules! tuple_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t),+> Row for ($($t,)+)
        where
            $($t: rusqlite::types::FromSql
                + for<'r> sqlx::Decode<'r, sqlx::Postgres>
                + sqlx::Type<sqlx::Postgres>
                + Send
                + Unpin,)+
        {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}
tuple_row!(A 0);
tuple_row!(A 0, B 1);
tuple_row!(A 0, B 1, C 2);
tuple_row!(A 0, B 1, C 2, D 3);

/// Implements [`Row`] for a struct whose fields are the `SELECT`'s columns, in order (rows that
/// are not one table's, such as the inbox's; a table's row type is a [`stored_row!`]).
macro_rules! sqlite_row {
    ($t:ty { $($field:ident),* $(,)? }) => {
        impl $crate::sql::Row for $t {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                let mut column = 0..;
                Ok(Self { $($field: row.get(column.next().unwrap_or_default())?),* })
            }
        }
    };
}
pub(crate) use sqlite_row;

/// Declares a table's row type once: the struct (read by sqlx on PostgreSQL), its reading by
/// position on SQLite, and `$columns!()`, its columns in field order for `SELECT`s
/// (`concat!("SELECT ", $columns!(), " FROM …")`), so the list is never written by hand.
macro_rules! stored_row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident, columns $columns:ident {
            $(#[$fmeta0:meta])* $fvis0:vis $field0:ident : $ty0:ty
            $(, $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty)* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(sqlx::FromRow)]
        $vis struct $name {
            $(#[$fmeta0])* $fvis0 $field0: $ty0,
            $($(#[$fmeta])* $fvis $field: $ty,)*
        }

        $crate::sql::sqlite_row!($name { $field0 $(, $field)* });

        #[allow(unused_macros)]
        macro_rules! $columns {
            () => { concat!(stringify!($field0) $(, ", ", stringify!($field))*) };
        }
    };
}
pub(crate) use stored_row;

/// The SQLite connection transactions use (one writer at a time).
pub(crate) type SqliteWriter = Arc<Mutex<rusqlite::Connection>>;

/// Opens the write connection: WAL, and `synchronous=FULL` so a commit is on disk before the
/// turn is acknowledged, even across a power loss (batched commits amortise the sync).
pub(crate) fn open_writer(path: &str) -> Result<SqliteWriter> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(128);
    keep_plans(&conn)?;
    Ok(Arc::new(Mutex::new(conn)))
}

/// Turns on SQLite's query planner stability guarantee. Without it, binding a `LIMIT $n` (or
/// a range bound, with STAT4) marks a cached statement for compiling again, and
/// `messages_after` was parsed and planned anew on every call.
fn keep_plans(conn: &rusqlite::Connection) -> Result<()> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// One statement on the write connection outside a transaction (it commits alone); returns
/// the rows it changed.
pub(crate) async fn write(writer: &SqliteWriter, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
    execute(&*writer.lock().await, sql, args)
}

/// One statement that returns a row (`… RETURNING`) on the write connection, outside a
/// transaction.
pub(crate) async fn write_optional<T: Row>(writer: &SqliteWriter, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>> {
    let conn = writer.lock().await;
    query_optional(&conn, sql, args)
}

/// A SQLite transaction on the write connection; rolled back when dropped uncommitted.
pub(crate) struct SqliteTx {
    conn: OwnedMutexGuard<rusqlite::Connection>,
    open: bool,
}

impl SqliteTx {
    /// `BEGIN IMMEDIATE`: takes the write lock up front, so writers queue instead of failing.
    pub(crate) async fn begin(writer: &SqliteWriter) -> Result<SqliteTx> {
        let conn = writer.clone().lock_owned().await;
        // Cached statements, like every other: `execute_batch` would parse them at every batch.
        execute(&conn, "BEGIN IMMEDIATE", &[])?;
        Ok(SqliteTx { conn, open: true })
    }

    pub(crate) fn commit(mut self) -> Result<()> {
        execute(&self.conn, "COMMIT", &[])?;
        self.open = false;
        Ok(())
    }

    pub(crate) fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        execute(&self.conn, sql, args)
    }

    /// The rowid of the row this connection inserted last.
    pub(crate) fn last_insert_rowid(&self) -> i64 {
        self.conn.last_insert_rowid()
    }

    pub(crate) fn execute_raw(&mut self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    pub(crate) fn all<T: Row>(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>> {
        query_all(&self.conn, sql, args)
    }

    pub(crate) fn optional<T: Row>(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>> {
        query_optional(&self.conn, sql, args)
    }
}

/// Runs a statement on a connection's cached statement; returns the rows it changed.
fn execute(conn: &rusqlite::Connection, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
    let mut statement = conn.prepare_cached(sql)?;
    Ok(statement.execute(rusqlite::params_from_iter(args))? as u64)
}

/// Every row of a query, on a connection's cached statement.
fn query_all<T: Row>(conn: &rusqlite::Connection, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(args), T::from_sqlite)?;
    rows.collect::<rusqlite::Result<Vec<T>>>().map_err(StoreError::from)
}

/// The first row of a query, if any, on a connection's cached statement.
fn query_optional<T: Row>(conn: &rusqlite::Connection, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(args))?;
    match rows.next()? {
        Some(row) => Ok(Some(T::from_sqlite(row)?)),
        None => Ok(None),
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rollback failed");
            }
        }
    }
}

/// Read-only SQLite connections, used on the calling thread: a read in WAL mode never waits
/// for the writer, and takes microseconds, so it costs less than handing it to a thread.
pub(crate) struct SqliteReaders {
    path: String,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

/// Idle read connections kept open (more are opened while many reads run at once).
const IDLE_READERS: usize = 8;

impl SqliteReaders {
    pub(crate) fn new(path: &str) -> SqliteReaders {
        SqliteReaders {
            path: path.to_string(),
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn with<R>(&self, read: impl FnOnce(&rusqlite::Connection) -> Result<R>) -> Result<R> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = rusqlite::Connection::open_with_flags(
                    &self.path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn.set_prepared_statement_cache_capacity(64);
                keep_plans(&conn)?;
                conn
            }
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }

    pub(crate) fn all<T: Row>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>> {
        self.with(|conn| query_all(conn, sql, args))
    }

    pub(crate) fn optional<T: Row>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>> {
        self.with(|conn| query_optional(conn, sql, args))
    }
}

//! Baton's storage: SQLite (the embedded default) and PostgreSQL behind one API.
//!
//! Queries are written once in SQL both dialects read (`$1` parameters, `RETURNING`) and run
//! one way: [`Tx`]'s statements inside a transaction, the store's `read_*` and `write*`
//! outside one (`sql.rs`); the few statements that differ (row locks, PostgreSQL's arrays) are
//! chosen per dialect here and nowhere else. Migrations are per dialect, embedded in the binary
//! and applied at start.
//! Timestamps are milliseconds since the Unix epoch, given by the caller (whose clock tests
//! control); ids are chosen by the caller.

// `#[macro_use]`: the modules after these read their tables' column lists (`member_columns!`…).
#[macro_use]
mod accounts;
#[macro_use]
mod conversations;
mod events;
mod flows;
mod handover;
mod instances;
mod kb;
mod ratings;
mod sql;
mod types;
mod work;

pub use accounts::*;
pub use conversations::*;
pub use events::*;
pub use flows::*;
pub use handover::*;
pub use instances::*;
pub use kb::*;
pub use ratings::*;
pub use types::*;
pub use work::*;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("migration {name} failed: {message}")]
    Migration { name: &'static str, message: String },
    #[error("{0}")]
    Conflict(String),
}

impl StoreError {
    /// True when a unique constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            StoreError::Conflict(_) => true,
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// The connections to a SQLite database (see `sql.rs`).
#[derive(Clone)]
struct SqliteDb {
    /// The one connection every write goes through (transactions and single statements).
    writer: sql::SqliteWriter,
    /// Read-only connections used on the calling thread: in WAL mode a read never waits for
    /// the writer, which reads while it holds the write lock.
    readers: std::sync::Arc<sql::SqliteReaders>,
}

/// The store: connections to one of the two databases.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// PostgreSQL: the connection holding this instance's outbox locks.
    lock_conn: std::sync::Arc<tokio::sync::Mutex<Option<sqlx::PgConnection>>>,
    /// Counts this store's changes to who may sign in as what (roles, deactivations, sessions
    /// ended, presence): what a signed-in caller is remembered as is good only while it stands.
    accounts_changed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Counts this store's changes to entry routing (a flow published or switched on or off,
    /// the order of live flows, the fallback).
    routing_changed: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// A database transaction; dropped without `commit`, it rolls back.
pub struct Tx {
    inner: TxInner,
}

enum TxInner {
    Sqlite(sql::SqliteTx),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Binds [`sql::Arg`]s to a sqlx PostgreSQL query.
macro_rules! bind_pg {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match *a {
                sql::Arg::Text(s) => q.bind(s.to_string()),
                sql::Arg::OptText(s) => q.bind(s.map(str::to_string)),
                sql::Arg::Int(i) => q.bind(i),
                sql::Arg::OptInt(i) => q.bind(i),
                sql::Arg::Bool(b) => q.bind(b),
            };
        }
        q
    }};
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit()?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            TxInner::Sqlite(_) => Dialect::Sqlite,
            TxInner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub(crate) async fn execute(&mut self, sql: &'static str, args: &[sql::Arg<'_>]) -> Result<u64> {
        match &mut self.inner {
            TxInner::Sqlite(t) => t.execute(sql, args),
            TxInner::Postgres(t) => Ok(bind_pg!(sqlx::query(sql), args)
                .execute(&mut **t)
                .await?
                .rows_affected()),
        }
    }

    pub(crate) async fn all<T: sql::Row>(&mut self, sql: &'static str, args: &[sql::Arg<'_>]) -> Result<Vec<T>> {
        match &mut self.inner {
            TxInner::Sqlite(t) => t.all(sql, args),
            TxInner::Postgres(t) => Ok(bind_pg!(sqlx::query_as::<_, T>(sql), args).fetch_all(&mut **t).await?),
        }
    }

    pub(crate) async fn optional<T: sql::Row>(
        &mut self,
        sql: &'static str,
        args: &[sql::Arg<'_>],
    ) -> Result<Option<T>> {
        match &mut self.inner {
            TxInner::Sqlite(t) => t.optional(sql, args),
            TxInner::Postgres(t) => Ok(bind_pg!(sqlx::query_as::<_, T>(sql), args)
                .fetch_optional(&mut **t)
                .await?),
        }
    }

    /// A statement that returns exactly one row.
    pub(crate) async fn one<T: sql::Row>(&mut self, sql: &'static str, args: &[sql::Arg<'_>]) -> Result<T> {
        exactly_one(self.optional(sql, args).await?)
    }
}

const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/sqlite/0001_init.sql")),
    ("0002_handover", include_str!("../migrations/sqlite/0002_handover.sql")),
    ("0003_events", include_str!("../migrations/sqlite/0003_events.sql")),
    ("0004_kb", include_str!("../migrations/sqlite/0004_kb.sql")),
    ("0005_ai", include_str!("../migrations/sqlite/0005_ai.sql")),
    ("0006_hot_rows", include_str!("../migrations/sqlite/0006_hot_rows.sql")),
    ("0007_routing", include_str!("../migrations/sqlite/0007_routing.sql")),
    ("0008_ratings", include_str!("../migrations/sqlite/0008_ratings.sql")),
    (
        "0009_reply_targets",
        include_str!("../migrations/sqlite/0009_reply_targets.sql"),
    ),
    ("0010_team", include_str!("../migrations/sqlite/0010_team.sql")),
    (
        "0011_open_handover",
        include_str!("../migrations/sqlite/0011_open_handover.sql"),
    ),
    (
        "0012_message_rows",
        include_str!("../migrations/sqlite/0012_message_rows.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/postgres/0001_init.sql")),
    (
        "0002_handover",
        include_str!("../migrations/postgres/0002_handover.sql"),
    ),
    ("0003_events", include_str!("../migrations/postgres/0003_events.sql")),
    ("0004_kb", include_str!("../migrations/postgres/0004_kb.sql")),
    ("0005_ai", include_str!("../migrations/postgres/0005_ai.sql")),
    (
        "0006_hot_rows",
        include_str!("../migrations/postgres/0006_hot_rows.sql"),
    ),
    ("0007_routing", include_str!("../migrations/postgres/0007_routing.sql")),
    ("0008_ratings", include_str!("../migrations/postgres/0008_ratings.sql")),
    (
        "0009_reply_targets",
        include_str!("../migrations/postgres/0009_reply_targets.sql"),
    ),
    ("0010_team", include_str!("../migrations/postgres/0010_team.sql")),
    (
        "0011_open_handover",
        include_str!("../migrations/postgres/0011_open_handover.sql"),
    ),
    (
        "0012_message_rows",
        include_str!("../migrations/postgres/0012_message_rows.sql"),
    ),
];

impl Store {
    /// Connects to `sqlite://PATH` (created when missing; `?…` options are ignored) or
    /// `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = sqlite_path(rest);
            if path.is_empty() || path.starts_with(':') {
                // A memory database would be a different one on each connection.
                return Err(StoreError::UnsupportedUrl(url.to_string()));
            }
            // The writer creates the file and switches it to WAL before any reader opens it.
            let writer = sql::open_writer(path)?;
            Ok(Store {
                db: Db::Sqlite(SqliteDb {
                    writer,
                    readers: std::sync::Arc::new(sql::SqliteReaders::new(path)),
                }),
                lock_conn: Default::default(),
                accounts_changed: Default::default(),
                routing_changed: Default::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            // The turn engine's writers hold one each while they commit; requests read on the rest.
            let pool = PgPoolOptions::new()
                .max_connections(24)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Store {
                db: Db::Postgres(pool),
                lock_conn: Default::default(),
                accounts_changed: Default::default(),
                routing_changed: Default::default(),
            })
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    /// How many times this store changed a member's role, deactivation or presence, or ended
    /// sessions: a caller remembered at one count is out of date at another. Changes made by
    /// other instances (PostgreSQL) are not counted here.
    pub fn accounts_generation(&self) -> u64 {
        self.accounts_changed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Counts a change to members or sessions ([`Store::accounts_generation`]).
    pub(crate) fn accounts_changed(&self) {
        self.accounts_changed.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// How many times this store changed which flows are live, their live versions, their
    /// order or a workspace's fallback flow: what entry routing read at one count is out of
    /// date at another. Changes made by other instances (PostgreSQL) are not counted here.
    pub fn routing_generation(&self) -> u64 {
        self.routing_changed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Counts a change to entry routing ([`Store::routing_generation`]), after its commit.
    pub(crate) fn routing_changed(&self) {
        self.routing_changed.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// One statement outside a transaction (it commits alone); returns the rows it changed.
    pub(crate) async fn write(&self, sql: &'static str, args: &[sql::Arg<'_>]) -> Result<u64> {
        match &self.db {
            Db::Sqlite(sqlite) => sql::write(&sqlite.writer, sql, args).await,
            Db::Postgres(pool) => Ok(bind_pg!(sqlx::query(sql), args).execute(pool).await?.rows_affected()),
        }
    }

    /// One statement outside a transaction that returns exactly one row (`… RETURNING`).
    pub(crate) async fn write_one<T: sql::Row>(&self, sql: &'static str, args: &[sql::Arg<'_>]) -> Result<T> {
        let row = match &self.db {
            Db::Sqlite(sqlite) => sql::write_optional(&sqlite.writer, sql, args).await?,
            Db::Postgres(pool) => bind_pg!(sqlx::query_as::<_, T>(sql), args).fetch_optional(pool).await?,
        };
        exactly_one(row)
    }

    /// The one row of a read outside a transaction (an aggregate).
    pub(crate) async fn read_one<T: sql::Row>(&self, sql: &'static str, args: &[sql::Arg<'_>]) -> Result<T> {
        exactly_one(self.read_optional(sql, args).await?)
    }

    /// Rows of a read outside a transaction.
    pub(crate) async fn read_all<T: sql::Row>(&self, sql: &'static str, args: &[sql::Arg<'_>]) -> Result<Vec<T>> {
        match &self.db {
            Db::Sqlite(sqlite) => sqlite.readers.all(sql, args),
            Db::Postgres(pool) => Ok(bind_pg!(sqlx::query_as::<_, T>(sql), args).fetch_all(pool).await?),
        }
    }

    /// The first row of a read outside a transaction, if any.
    pub(crate) async fn read_optional<T: sql::Row>(
        &self,
        sql: &'static str,
        args: &[sql::Arg<'_>],
    ) -> Result<Option<T>> {
        match &self.db {
            Db::Sqlite(sqlite) => sqlite.readers.optional(sql, args),
            Db::Postgres(pool) => Ok(bind_pg!(sqlx::query_as::<_, T>(sql), args).fetch_optional(pool).await?),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.db {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Applies the migrations this database has not seen yet, in order.
    pub async fn migrate(&self) -> Result<()> {
        let migrations = match self.dialect() {
            Dialect::Sqlite => SQLITE_MIGRATIONS,
            Dialect::Postgres => POSTGRES_MIGRATIONS,
        };
        self.write(
            "CREATE TABLE IF NOT EXISTS baton_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            sql::args![],
        )
        .await?;
        for (name, script) in migrations {
            let mut tx = self.begin().await?;
            let done: Option<(String,)> = tx
                .optional("SELECT name FROM baton_migrations WHERE name = $1", sql::args![*name])
                .await?;
            if done.is_some() {
                continue;
            }
            for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let applied = match &mut tx.inner {
                    TxInner::Sqlite(t) => t.execute_raw(statement),
                    TxInner::Postgres(t) => sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
                        .execute(&mut **t)
                        .await
                        .map(|_| ())
                        .map_err(StoreError::from),
                };
                applied.map_err(|e| StoreError::Migration {
                    name,
                    message: e.to_string(),
                })?;
            }
            tx.execute(
                "INSERT INTO baton_migrations (name, applied_at) VALUES ($1, 0)",
                sql::args![*name],
            )
            .await?;
            tx.commit().await?;
            tracing::info!(migration = name, "applied");
        }
        Ok(())
    }

    /// Begins a write transaction (SQLite: `BEGIN IMMEDIATE`, so writers queue up front).
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.db {
            Db::Sqlite(sqlite) => TxInner::Sqlite(sql::SqliteTx::begin(&sqlite.writer).await?),
            Db::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// Closes the connections (PostgreSQL: waits for them to be returned to the pool; SQLite's
    /// close when the last handle to the store is dropped).
    pub async fn close(&self) {
        if let Db::Postgres(pool) = &self.db {
            pool.close().await
        }
    }
}

/// The row a statement that returns exactly one gave, or the error for none.
fn exactly_one<T>(row: Option<T>) -> Result<T> {
    row.ok_or(StoreError::Database(sqlx::Error::RowNotFound))
}

/// The file of a `sqlite:` URL: `sqlite://PATH`, `sqlite:PATH`, with any `?options` left off.
fn sqlite_path(rest: &str) -> &str {
    let path = rest.strip_prefix("//").unwrap_or(rest);
    path.split_once('?').map_or(path, |(path, _)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file_with_or_without_slashes_and_options() {
        assert_eq!(sqlite_path("///var/lib/baton/baton.db"), "/var/lib/baton/baton.db");
        assert_eq!(sqlite_path("//baton.db"), "baton.db");
        assert_eq!(sqlite_path("baton.db?mode=rwc"), "baton.db");
        assert_eq!(sqlite_path("//:memory:"), ":memory:");
    }

    #[tokio::test]
    async fn a_memory_or_empty_sqlite_url_is_refused() {
        for url in ["sqlite::memory:", "sqlite://", "sqlite://?mode=memory", "mysql://x"] {
            assert!(
                matches!(Store::connect(url).await, Err(StoreError::UnsupportedUrl(_))),
                "{url}"
            );
        }
    }
}

//! What several instances on one PostgreSQL need: effects carried out once (a session-level
//! advisory lock per outbox item, released at once when an instance dies), and notifications
//! that reach every instance (`pg_notify` inside the turn's statement, delivered on commit:
//! [`crate::Tx::write_turn`]).
//! With SQLite there is one instance: the lock always succeeds and notifications are local.

use crate::{Db, Dialect, Result, Store};
use sqlx::Connection;

/// The channel turns notify on.
pub const NOTIFY_CHANNEL: &str = "baton_events";
/// Largest notification payload PostgreSQL takes, less a margin.
pub const MAX_NOTIFY_BYTES: usize = 7_800;

impl Store {
    /// Takes the lock on an outbox item for this instance; false when another instance holds it.
    pub async fn try_lock_outbox(&self, id: i64) -> Result<bool> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(true);
        };
        let mut guard = self.lock_conn.lock().await;
        if guard.is_none() {
            let conn = pool.acquire().await?.detach();
            *guard = Some(conn);
        }
        let Some(conn) = guard.as_mut() else {
            return Ok(false);
        };
        let result: std::result::Result<(bool,), sqlx::Error> = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(id)
            .fetch_one(&mut *conn)
            .await;
        match result {
            Ok((locked,)) => Ok(locked),
            Err(e) => {
                // A broken lock connection: drop it (its locks go with it) and report.
                if let Some(c) = guard.take() {
                    let _ = c.close().await;
                }
                Err(e.into())
            }
        }
    }

    pub async fn unlock_outbox(&self, id: i64) -> Result<()> {
        if self.dialect() != Dialect::Postgres {
            return Ok(());
        }
        let mut guard = self.lock_conn.lock().await;
        if let Some(conn) = guard.as_mut() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// A listener for the notifications of every instance (PostgreSQL only).
    pub async fn listener(&self) -> Result<Option<sqlx::postgres::PgListener>> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(Some(listener))
    }
}

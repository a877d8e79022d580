//! Work that outlives a request: the outbox of effects, persisted timers, webhook deliveries.

use crate::sql::{args, stored_row};
use crate::{Result, Store, Tx, TxInner};
use serde::Serialize;

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct OutboxItem, columns outbox_columns {
        pub id: i64,
        pub workspace_id: String,
        pub conversation_id: String,
        /// `webhook` or `ai`.
        pub kind: String,
        /// The effect (JSON text).
        pub payload: String,
        pub attempts: i64,
        pub next_attempt_at: i64,
        pub done_at: Option<i64>,
        pub last_error: Option<String>,
        pub created_at: i64,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Timer, columns timer_columns {
        pub conversation_id: String,
        pub timer_id: i64,
        pub due_at: i64,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct WebhookDelivery, columns webhook_delivery_columns {
        pub id: i64,
        pub workspace_id: String,
        pub conversation_id: String,
        pub node: String,
        pub url: String,
        pub attempt: i64,
        pub status_code: Option<i64>,
        pub error: Option<String>,
        pub duration_ms: i64,
        pub created_at: i64,
    }
}

/// One attempt at a webhook call, for the delivery log.
#[derive(Debug, Clone)]
pub struct DeliveryAttempt {
    pub node: String,
    pub url: String,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: i64,
}

impl Tx {
    pub async fn insert_delivery(
        &mut self,
        workspace_id: &str,
        conversation_id: &str,
        d: &DeliveryAttempt,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO webhook_deliveries (workspace_id, conversation_id, node, url, attempt, status_code, error, duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            args![workspace_id, conversation_id, &d.node, &d.url, d.attempt, d.status_code, &d.error, d.duration_ms, d.at],
        )
        .await?;
        Ok(())
    }

    pub async fn insert_outbox(
        &mut self,
        workspace_id: &str,
        conversation_id: &str,
        kind: &str,
        payload: &str,
        now: i64,
    ) -> Result<i64> {
        macro_rules! insert {
            () => {
                "INSERT INTO outbox (workspace_id, conversation_id, kind, payload, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 0, $5, $5)"
            };
        }
        let args = args![workspace_id, conversation_id, kind, payload, now];
        match &mut self.inner {
            // SQLite answers `RETURNING` through a temporary table; the new row's id is at hand.
            TxInner::Sqlite(t) => {
                t.execute(insert!(), args)?;
                Ok(t.last_insert_rowid())
            }
            TxInner::Postgres(_) => {
                let (id,): (i64,) = self.one(concat!(insert!(), " RETURNING id"), args).await?;
                Ok(id)
            }
        }
    }

    /// Marks an outbox item done; false when it was already done (a replayed result).
    pub async fn complete_outbox(&mut self, id: i64, now: i64) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE outbox SET done_at = $1 WHERE id = $2 AND done_at IS NULL",
                args![now, id],
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn insert_timer(&mut self, conversation_id: &str, timer_id: i64, due_at: i64) -> Result<()> {
        self.execute(
            concat!("INSERT INTO timers (", timer_columns!(), ") VALUES ($1, $2, $3)"),
            args![conversation_id, timer_id, due_at],
        )
        .await?;
        Ok(())
    }

    /// Removes a timer; false when it was not there (already fired or cancelled).
    pub async fn delete_timer(&mut self, conversation_id: &str, timer_id: i64) -> Result<bool> {
        let n = self
            .execute(
                "DELETE FROM timers WHERE conversation_id = $1 AND timer_id = $2",
                args![conversation_id, timer_id],
            )
            .await?;
        Ok(n > 0)
    }
}

impl Store {
    /// Outbox items due at `now`, oldest first.
    pub async fn due_outbox(&self, now: i64, limit: i64) -> Result<Vec<OutboxItem>> {
        self.read_all(
            concat!(
                "SELECT ",
                outbox_columns!(),
                " FROM outbox WHERE done_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
            ),
            args![now, limit],
        )
        .await
    }

    pub async fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>> {
        self.read_optional(
            concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE id = $1"),
            args![id],
        )
        .await
    }

    pub async fn pending_outbox_count(&self) -> Result<i64> {
        let (n,): (i64,) = self
            .read_one("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL", args![])
            .await?;
        Ok(n)
    }

    pub async fn reschedule_outbox(&self, id: i64, attempts: i64, next_attempt_at: i64, error: &str) -> Result<()> {
        self.write(
            "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
            args![attempts, next_attempt_at, error, id],
        )
        .await?;
        Ok(())
    }

    /// Timers due at `now`, earliest first.
    pub async fn due_timers(&self, now: i64, limit: i64) -> Result<Vec<Timer>> {
        self.read_all(
            concat!(
                "SELECT ",
                timer_columns!(),
                " FROM timers WHERE due_at <= $1 ORDER BY due_at LIMIT $2"
            ),
            args![now, limit],
        )
        .await
    }

    pub async fn next_timer_due(&self) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> = self.read_optional("SELECT MIN(due_at) FROM timers", args![]).await?;
        Ok(row.and_then(|(n,)| n))
    }

    pub async fn deliveries(&self, conversation_id: &str) -> Result<Vec<WebhookDelivery>> {
        self.read_all(
            concat!(
                "SELECT ",
                webhook_delivery_columns!(),
                " FROM webhook_deliveries WHERE conversation_id = $1 ORDER BY id"
            ),
            args![conversation_id],
        )
        .await
    }
}

//! Outbound events: workspace subscriptions and the log of delivery attempts. The events
//! themselves wait in the outbox (kind `event`) until delivered.

use crate::sql::{args, sqlite_row, stored_row};
use crate::{Result, Store, Tx};
use serde::Serialize;

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct EventSubscription, columns subscription_columns {
        pub id: String,
        pub workspace_id: String,
        pub url: String,
        /// JSON list of event types; `*` means all.
        pub event_types: String,
        pub active: bool,
        pub created_at: i64,
    }
}

impl EventSubscription {
    /// The event types, as stored.
    pub fn types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    /// True when the subscription asks for `event_type` (or for everything).
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && self.types().iter().any(|t| t == "*" || t == event_type)
    }
}

pub struct NewEventSubscription<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub url: &'a str,
    /// JSON list of event types.
    pub event_types: &'a str,
    pub active: bool,
    pub now: i64,
}

stored_row! {
    /// One delivery attempt of one event to one subscription.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct EventDelivery, columns delivery_columns {
        pub id: i64,
        pub workspace_id: String,
        pub subscription_id: String,
        /// The outbox item that carried this attempt (it holds the event).
        pub outbox_id: i64,
        pub event_id: String,
        pub event_type: String,
        pub url: String,
        /// 1-based, per queued delivery (a replay starts again at 1).
        pub attempt: i64,
        pub status_code: Option<i64>,
        pub error: Option<String>,
        pub duration_ms: i64,
        pub created_at: i64,
    }
}

pub struct NewEventDelivery<'a> {
    pub workspace_id: &'a str,
    pub subscription_id: &'a str,
    pub outbox_id: i64,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub url: &'a str,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
    pub now: i64,
}

/// A logged event found again for a replay: the outbox item that carried it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LoggedEvent {
    pub conversation_id: String,
    /// The outbox payload (JSON text), as first queued.
    pub payload: String,
}

impl Tx {
    /// The active subscriptions of a workspace that want `event_type`, oldest first (read
    /// inside the turn that emits the event).
    pub async fn subscriptions_for(&mut self, workspace_id: &str, event_type: &str) -> Result<Vec<EventSubscription>> {
        Ok(self
            .active_subscriptions(workspace_id)
            .await?
            .into_iter()
            .filter(|s| s.wants(event_type))
            .collect())
    }

    /// Every active subscription of the workspace.
    pub async fn active_subscriptions(&mut self, workspace_id: &str) -> Result<Vec<EventSubscription>> {
        let sql = concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM event_subscriptions WHERE workspace_id = $1 AND active = TRUE ORDER BY created_at, id"
        );
        self.all(sql, args![workspace_id]).await
    }
}

impl Store {
    pub async fn create_event_subscription(&self, s: NewEventSubscription<'_>) -> Result<EventSubscription> {
        let sql = concat!(
            "INSERT INTO event_subscriptions (",
            subscription_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            subscription_columns!()
        );
        self.write_one(sql, args![s.id, s.workspace_id, s.url, s.event_types, s.active, s.now])
            .await
    }

    /// The workspace's subscriptions, oldest first.
    pub async fn event_subscriptions(&self, workspace_id: &str) -> Result<Vec<EventSubscription>> {
        let sql = concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM event_subscriptions WHERE workspace_id = $1 ORDER BY created_at, id"
        );
        self.read_all(sql, args![workspace_id]).await
    }

    /// One subscription, by id alone (the delivery worker); routes use
    /// [`Store::workspace_event_subscription`].
    pub async fn event_subscription(&self, id: &str) -> Result<Option<EventSubscription>> {
        let sql = concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM event_subscriptions WHERE id = $1"
        );
        self.read_optional(sql, args![id]).await
    }

    /// One subscription of a workspace (None for another workspace's).
    pub async fn workspace_event_subscription(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<EventSubscription>> {
        let sql = concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM event_subscriptions WHERE id = $1 AND workspace_id = $2"
        );
        self.read_optional(sql, args![id, workspace_id]).await
    }

    /// Deletes a subscription with its delivery log; false when the workspace has no such
    /// subscription. Its events still waiting in the outbox are dropped by the worker.
    pub async fn delete_event_subscription(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "DELETE FROM event_subscriptions WHERE id = $1 AND workspace_id = $2",
                args![id, workspace_id],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "DELETE FROM event_deliveries WHERE subscription_id = $1 AND workspace_id = $2",
            args![id, workspace_id],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn insert_event_delivery(&self, d: NewEventDelivery<'_>) -> Result<()> {
        self.write("INSERT INTO event_deliveries (workspace_id, subscription_id, outbox_id, event_id, event_type, url, attempt, status_code, error, duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", args![d.workspace_id, d.subscription_id, d.outbox_id, d.event_id, d.event_type, d.url, d.attempt, d.status_code, d.error, d.duration_ms, d.now]).await?;
        Ok(())
    }

    /// The delivery attempts of a subscription, newest first.
    /// A subscription's delivery log, newest first, before the attempt `before` (a page after
    /// the one that ended with it).
    pub async fn event_deliveries(
        &self,
        subscription_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EventDelivery>> {
        let sql = concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM event_deliveries WHERE subscription_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        );
        self.read_all(sql, args![subscription_id, before.unwrap_or(i64::MAX), limit])
            .await
    }

    /// How many attempts a subscription's delivery log holds.
    pub async fn event_delivery_count(&self, subscription_id: &str) -> Result<i64> {
        let (n,): (i64,) = self
            .read_one(
                "SELECT COUNT(*) FROM event_deliveries WHERE subscription_id = $1",
                args![subscription_id],
            )
            .await?;
        Ok(n)
    }

    /// The event `event_id` as delivered (or attempted) to a subscription, for a replay.
    pub async fn logged_event(&self, subscription_id: &str, event_id: &str) -> Result<Option<LoggedEvent>> {
        self.read_optional("SELECT o.conversation_id, o.payload FROM event_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.subscription_id = $1 AND d.event_id = $2 ORDER BY d.id LIMIT 1", args![subscription_id, event_id]).await
    }

    /// Queues an outbox item outside a turn (a replayed event); returns its id.
    pub async fn queue_outbox(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        kind: &str,
        payload: &str,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = tx
            .insert_outbox(workspace_id, conversation_id, kind, payload, now)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Marks an outbox item done (delivered).
    pub async fn complete_outbox_item(&self, id: i64, now: i64) -> Result<()> {
        self.write(
            "UPDATE outbox SET done_at = $1 WHERE id = $2 AND done_at IS NULL",
            args![now, id],
        )
        .await?;
        Ok(())
    }

    /// Gives up on an outbox item: done, with the attempts made and the last error kept.
    pub async fn give_up_outbox_item(&self, id: i64, attempts: i64, now: i64, error: &str) -> Result<()> {
        self.write(
            "UPDATE outbox SET done_at = $1, attempts = $2, last_error = $3 WHERE id = $4 AND done_at IS NULL",
            args![now, attempts, error, id],
        )
        .await?;
        Ok(())
    }
}

sqlite_row!(LoggedEvent {
    conversation_id,
    payload
});

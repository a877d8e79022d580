//! Outbound events: workspace subscriptions and the log of delivery attempts. The events
//! themselves wait in the outbox (kind `event`) until delivered.

use crate::sql::{args, sqlite_row};
use crate::{on_pool, on_read, Result, Store, Tx};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EventSubscription {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    /// JSON list of event types; `*` means all.
    pub event_types: String,
    pub active: bool,
    pub created_at: i64,
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

/// One delivery attempt of one event to one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EventDelivery {
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
        let sql = "SELECT id, workspace_id, url, event_types, active, created_at FROM event_subscriptions WHERE workspace_id = $1 AND active = TRUE ORDER BY created_at, id";
        self.all(sql, args![workspace_id]).await
    }
}

sqlite_row!(EventSubscription {
    id,
    workspace_id,
    url,
    event_types,
    active,
    created_at
});

impl Store {
    pub async fn create_event_subscription(&self, s: NewEventSubscription<'_>) -> Result<EventSubscription> {
        let sql = "INSERT INTO event_subscriptions (id, workspace_id, url, event_types, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, workspace_id, url, event_types, active, created_at";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(s.id).bind(s.workspace_id).bind(s.url).bind(s.event_types).bind(s.active).bind(s.now)
            .fetch_one(pool).await?))
    }

    /// The workspace's subscriptions, oldest first.
    pub async fn event_subscriptions(&self, workspace_id: &str) -> Result<Vec<EventSubscription>> {
        let sql =
            "SELECT id, workspace_id, url, event_types, active, created_at FROM event_subscriptions WHERE workspace_id = $1 ORDER BY created_at, id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(workspace_id).fetch_all(pool).await?))
    }

    /// One subscription, by id alone (the delivery worker); routes use
    /// [`Store::workspace_event_subscription`].
    pub async fn event_subscription(&self, id: &str) -> Result<Option<EventSubscription>> {
        let sql =
            "SELECT id, workspace_id, url, event_types, active, created_at FROM event_subscriptions WHERE id = $1";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(id).fetch_optional(pool).await?))
    }

    /// One subscription of a workspace (None for another workspace's).
    pub async fn workspace_event_subscription(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<EventSubscription>> {
        let sql = "SELECT id, workspace_id, url, event_types, active, created_at FROM event_subscriptions WHERE id = $1 AND workspace_id = $2";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(id).bind(workspace_id).fetch_optional(pool).await?))
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
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO event_deliveries (workspace_id, subscription_id, outbox_id, event_id, event_type, url, attempt, status_code, error, duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(d.workspace_id).bind(d.subscription_id).bind(d.outbox_id).bind(d.event_id).bind(d.event_type).bind(d.url)
            .bind(d.attempt).bind(d.status_code).bind(d.error).bind(d.duration_ms).bind(d.now)
            .execute(pool).await?.rows_affected());
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
        let sql = "SELECT id, workspace_id, subscription_id, outbox_id, event_id, event_type, url, attempt, status_code, error, duration_ms, created_at FROM event_deliveries WHERE subscription_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(subscription_id).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(pool).await?))
    }

    /// How many attempts a subscription's delivery log holds.
    pub async fn event_delivery_count(&self, subscription_id: &str) -> Result<i64> {
        let (n,): (i64,) = on_read!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM event_deliveries WHERE subscription_id = $1")
            .bind(subscription_id).fetch_one(pool).await?);
        Ok(n)
    }

    /// The event `event_id` as delivered (or attempted) to a subscription, for a replay.
    pub async fn logged_event(&self, subscription_id: &str, event_id: &str) -> Result<Option<LoggedEvent>> {
        Ok(on_read!(self, pool => sqlx::query_as(
            "SELECT o.conversation_id, o.payload FROM event_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.subscription_id = $1 AND d.event_id = $2 ORDER BY d.id LIMIT 1")
            .bind(subscription_id).bind(event_id).fetch_optional(pool).await?))
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
        on_pool!(self, pool => sqlx::query("UPDATE outbox SET done_at = $1 WHERE id = $2 AND done_at IS NULL")
            .bind(now).bind(id).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Gives up on an outbox item: done, with the attempts made and the last error kept.
    pub async fn give_up_outbox_item(&self, id: i64, attempts: i64, now: i64, error: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE outbox SET done_at = $1, attempts = $2, last_error = $3 WHERE id = $4 AND done_at IS NULL")
            .bind(now).bind(attempts).bind(error).bind(id).execute(pool).await?.rows_affected());
        Ok(())
    }
}

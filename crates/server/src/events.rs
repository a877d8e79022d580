//! Outbound events: lifecycle transitions and messages, queued in the same transaction as the
//! turn that caused them and delivered by the outbox worker.
//!
//! Each subscription of the workspace that wants an event gets its own outbox item (kind
//! `event`) holding an [`EventPayload`]. The worker POSTs [`EventPayload::body`] signed the
//! Standard Webhooks way with the workspace's secret; `webhook-id` is the event id, so
//! redeliveries and replays can be deduplicated by the receiver.

use baton_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Outbox kind of event deliveries.
pub const OUTBOX_KIND: &str = "event";

/// Every event type a subscription can ask for (`*` asks for all).
pub const EVENT_TYPES: &[&str] = &[
    "conversation.queued",
    "conversation.assigned",
    "conversation.transferred",
    "conversation.handed_back",
    "conversation.resolved",
    "conversation.cancelled",
    "conversation.timeout",
    "conversation.ended",
    "conversation.off_hours",
    "conversation.no_agent",
    "conversation.abandoned",
    "conversation.rated",
    "conversation.reply_missed",
    "message.created",
];

/// What an `event` outbox item holds: one event for one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPayload {
    pub subscription_id: String,
    pub url: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened (ms since the epoch).
    pub created_at: i64,
    pub data: Value,
}

impl EventPayload {
    /// The JSON body POSTed to the subscriber.
    pub fn body(&self) -> String {
        json!({
            "id": self.event_id,
            "type": self.event_type,
            "timestamp": rfc3339(self.created_at),
            "data": self.data,
        })
        .to_string()
    }
}

/// The workspace's subscriptions that want `event_type` (none for most workspaces: that
/// answer is remembered for a moment, so a turn's events cost no lookup).
pub async fn subscriptions_for(
    tx: &mut Tx,
    workspace_id: &str,
    event_type: &str,
) -> Result<Vec<baton_store::EventSubscription>, StoreError> {
    if known_without_subscriptions(workspace_id) {
        return Ok(Vec::new());
    }
    let all = tx.active_subscriptions(workspace_id).await?;
    if all.is_empty() {
        remember_without_subscriptions(workspace_id);
    }
    Ok(all.into_iter().filter(|s| s.wants(event_type)).collect())
}

/// Queues `event_type` with `data` for each of `subscriptions` (from [`subscriptions_for`]).
pub async fn queue(
    tx: &mut Tx,
    workspace_id: &str,
    subscriptions: Vec<baton_store::EventSubscription>,
    event_type: &str,
    data: &Value,
    now: i64,
) -> Result<(), StoreError> {
    let conversation_id = data.get("conversation_id").and_then(Value::as_str).unwrap_or("");
    for s in subscriptions {
        let payload = EventPayload {
            subscription_id: s.id,
            url: s.url,
            event_id: new_event_id(),
            event_type: event_type.to_string(),
            created_at: now,
            data: data.clone(),
        };
        let text = serde_json::to_string(&payload).unwrap_or_default();
        tx.insert_outbox(workspace_id, conversation_id, OUTBOX_KIND, &text, now)
            .await?;
    }
    Ok(())
}

/// `evt_` + 16 random bytes.
pub fn new_event_id() -> String {
    format!("evt_{}", crate::ids::random_token(16))
}

/// Milliseconds since the epoch as RFC 3339 in UTC, e.g. `2027-01-15T08:00:00.000Z`.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Workspaces known to have no subscriptions at all, and since when: most workspaces have
/// none, and a turn emits several events, so the lookup is skipped for a moment.
static WITHOUT_SUBSCRIPTIONS: std::sync::Mutex<Option<std::collections::HashMap<String, std::time::Instant>>> =
    std::sync::Mutex::new(None);

/// How long "no subscriptions" is trusted (another instance may have added one).
const NO_SUBSCRIPTIONS_TTL: std::time::Duration = std::time::Duration::from_secs(2);

fn known_without_subscriptions(workspace_id: &str) -> bool {
    let guard = WITHOUT_SUBSCRIPTIONS.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .and_then(|m| m.get(workspace_id))
        .is_some_and(|at| at.elapsed() < NO_SUBSCRIPTIONS_TTL)
}

fn remember_without_subscriptions(workspace_id: &str) {
    let mut guard = WITHOUT_SUBSCRIPTIONS.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .get_or_insert_with(Default::default)
        .insert(workspace_id.to_string(), std::time::Instant::now());
}

/// A subscription of the workspace was added or removed here: look again from now on.
pub fn forget(workspace_id: &str) {
    let mut guard = WITHOUT_SUBSCRIPTIONS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(m) = guard.as_mut() {
        m.remove(workspace_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_800_000_000_000), "2027-01-15T08:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn bodies_follow_the_standard_shape() {
        let p = EventPayload {
            subscription_id: "sub_1".into(),
            url: "https://example.com".into(),
            event_id: "evt_1".into(),
            event_type: "message.created".into(),
            created_at: 0,
            data: json!({"a": 1}),
        };
        let body: Value = serde_json::from_str(&p.body()).unwrap();
        assert_eq!(
            body,
            json!({"id": "evt_1", "type": "message.created", "timestamp": "1970-01-01T00:00:00.000Z", "data": {"a": 1}})
        );
        let back: EventPayload = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}

//! After the commit: what a turn did is told to the customer's sockets (its messages, and its
//! status when it changed), the workspace's inbox and, on PostgreSQL, the other instances (sent
//! inside the transaction, heard on commit).

use super::{Core, Job, TurnError, TurnOutcome};
use crate::metrics::METRICS;
use crate::views::MessageView;
use baton_store::{Conversation, ConversationStatus, Message};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A committed (or failed) batch: each turn with its result.
pub(super) type Done = Vec<(Job, Result<Applied, TurnError>)>;

/// What a turn wrote and who must hear of it.
pub(super) struct Applied {
    pub outcome: TurnOutcome,
    /// Messages for the conversation's sockets.
    pub publish: Vec<Message>,
    /// Inbox events for the workspace's agents.
    pub inbox: Vec<InboxItem>,
    /// The turn queued outbox items: wake their worker.
    pub outbox: bool,
    /// The earliest due time (ms) of the timers the turn set, for the timer worker.
    pub timer_due: Option<i64>,
}

/// What the other instances (PostgreSQL) must hear of a turn that leaves `conversation` as it
/// is, having written `publish` and told the inbox `inbox`: sent in its transaction, so on
/// commit.
pub(super) fn notifications_of(
    core: &Core,
    conversation: &Conversation,
    publish: &[Message],
    inbox: &[InboxItem],
) -> Vec<String> {
    // The whole item when it fits in a notification, else a reference to read it by.
    let fitting = |full: Value, reference: &dyn Fn() -> Value| {
        let full = full.to_string();
        if full.len() <= baton_store::MAX_NOTIFY_BYTES {
            full
        } else {
            reference().to_string()
        }
    };
    let origin = &core.instance;
    let workspace_id = &conversation.workspace_id;
    let messages = publish.iter().map(|m| {
        fitting(
            json!({ "origin": origin, "kind": "message", "message": m }),
            &|| json!({ "origin": origin, "kind": "message_ref", "conversation_id": m.conversation_id, "seq": m.seq }),
        )
    });
    let told_inbox = inbox.iter().map(|item| {
        let e = match item {
            InboxItem::Message(m) => message_created(m),
            InboxItem::Event(e) => e.clone(),
        };
        let e = &e;
        fitting(
            json!({ "origin": origin, "kind": "inbox", "workspace_id": workspace_id, "event": e }),
            &|| {
                let brief = json!({ "type": e["type"], "conversation_id": e["conversation_id"], "truncated": true });
                json!({ "origin": origin, "kind": "inbox", "workspace_id": workspace_id, "event": brief })
            },
        )
    });
    // Who has the conversation now, for the customer's sockets on other instances: when a
    // conversation event says it may have changed hands, or the conversation ended (their hubs
    // pass it on only if it differs from what those sockets were last told).
    let may_have_changed = inbox.iter().any(|item| matches!(item, InboxItem::Event(_)))
        || matches!(
            conversation.status,
            ConversationStatus::Resolved | ConversationStatus::FollowUp
        );
    let status = may_have_changed.then(|| {
        json!({ "origin": origin, "kind": "status", "conversation_id": conversation.id,
                "status": conversation.status, "assignee": conversation.assignee })
        .to_string()
    });
    messages.chain(told_inbox).chain(status).collect()
}

/// What the workspace's agents hear of a turn, in order. A message becomes its JSON event
/// after the commit, off the writer.
pub(super) enum InboxItem {
    /// `message.created`.
    Message(Box<Message>),
    /// A conversation event, already JSON.
    Event(Value),
}

impl InboxItem {
    fn into_value(self) -> Value {
        match self {
            InboxItem::Message(m) => message_created(&m),
            InboxItem::Event(event) => event,
        }
    }
}

/// The inbox event of a new message.
fn message_created(m: &Message) -> Value {
    json!({
        "type": "message.created",
        "conversation_id": m.conversation_id,
        "message": MessageView::from_message(m),
    })
}

/// Tells everyone about the batches a writer committed, in commit order (SQLite: the writer
/// has a thread of its own and goes back to writing).
pub(super) async fn publisher(core: Arc<Core>, mut rx: mpsc::UnboundedReceiver<Done>) {
    while let Some(done) = rx.recv().await {
        finish(&core, done);
    }
}

/// Answers each turn of a committed batch and tells who follows its conversation.
pub(super) fn finish(core: &Core, done: Done) {
    let mut wake_outbox = false;
    for (job, result) in done {
        let reply = match result {
            Ok(applied) => {
                METRICS.turns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                METRICS
                    .turn_latency
                    .observe_us(job.enqueued.elapsed().as_micros() as u64);
                wake_outbox |= applied.outbox;
                if let Some(due) = applied.timer_due {
                    core.timer_wake.set(due);
                }
                for m in applied.publish {
                    core.hub.publish(m);
                }
                for item in applied.inbox {
                    core.hub
                        .publish_inbox(&applied.outcome.conversation.workspace_id, || item.into_value());
                }
                let conversation = &applied.outcome.conversation;
                core.hub.publish_status(
                    &conversation.id,
                    conversation.status,
                    conversation.assignee.as_deref(),
                    Some(conversation),
                );
                Ok(applied.outcome)
            }
            Err(e) => Err(e),
        };
        let _ = job.reply.send(reply);
    }
    if wake_outbox {
        core.outbox_wake.notify_one();
    }
}

/// Forwards other instances' notifications (PostgreSQL LISTEN) into this instance's hub, so a
/// customer or agent connected here sees what happened on any instance.
pub async fn listen_to_other_instances(core: Arc<Core>) {
    loop {
        let mut listener = match core.store.listener().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other instances; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            let notification = match listener.recv().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for other instances failed; reconnecting");
                    break;
                }
            };
            let Ok(v) = serde_json::from_str::<Value>(notification.payload()) else {
                continue;
            };
            if v["origin"] == Value::String(core.instance.clone()) {
                continue;
            }
            match v["kind"].as_str() {
                Some("message") => {
                    if let Ok(m) = serde_json::from_value::<Message>(v["message"].clone()) {
                        core.hub.publish(m);
                    }
                }
                Some("message_ref") => {
                    let (Some(conv), Some(seq)) = (v["conversation_id"].as_str(), v["seq"].as_i64()) else {
                        continue;
                    };
                    if let Ok(found) = core.store.messages_after(conv, seq - 1, 1).await {
                        for m in found {
                            core.hub.publish(m);
                        }
                    }
                }
                Some("inbox") => {
                    if let Some(ws) = v["workspace_id"].as_str() {
                        core.hub.publish_inbox(ws, || v["event"].clone());
                    }
                }
                Some("status") => {
                    let conversation = v["conversation_id"].as_str();
                    let status = v["status"].as_str().and_then(|s| s.parse::<ConversationStatus>().ok());
                    if let (Some(conversation), Some(status)) = (conversation, status) {
                        core.hub
                            .publish_status(conversation, status, v["assignee"].as_str(), None);
                    }
                }
                _ => {}
            }
        }
    }
}

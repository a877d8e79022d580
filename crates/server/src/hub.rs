//! Real-time fan-out inside one instance: committed messages go to the WebSockets that follow
//! their conversation; inbox events go to the agents of the workspace.

use baton_store::Message;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Buffered items per channel before a slow reader lags. A customer's socket then catches up
/// from the store (messages) or skips to the next draft, so its channels stay small: there is
/// one per open conversation. A workspace's inbox channel is shared by all its agents.
const CONVERSATION_CAPACITY: usize = 32;
const DRAFT_CAPACITY: usize = 8;
const INBOX_CAPACITY: usize = 256;

type Channels<T> = Arc<Mutex<HashMap<String, broadcast::Sender<Arc<T>>>>>;

/// An inbox event, serialised once for all the sockets that get it.
pub struct InboxEvent {
    /// The conversation it is about, if any.
    pub conversation_id: Option<String>,
    /// A `message.*` event: only sockets watching its conversation get it.
    pub about_message: bool,
    pub json: String,
}

impl InboxEvent {
    fn new(event: &Value) -> InboxEvent {
        InboxEvent {
            conversation_id: event["conversation_id"].as_str().map(str::to_string),
            about_message: event["type"].as_str().is_some_and(|t| t.starts_with("message.")),
            json: event.to_string(),
        }
    }

    /// Whether a socket watching `watched` (the conversation its agent has open) gets it.
    pub fn for_socket(&self, watched: Option<&str>) -> bool {
        !self.about_message || (watched.is_some() && self.conversation_id.as_deref() == watched)
    }
}

#[derive(Clone, Default)]
pub struct Hub {
    conversations: Channels<Message>,
    inboxes: Channels<InboxEvent>,
    /// The text of an answer while a model writes it, by conversation: shown, never stored
    /// (the whole message follows when its turn commits).
    drafts: Channels<String>,
}

fn subscribe<T>(channels: &Channels<T>, key: &str, capacity: usize) -> broadcast::Receiver<Arc<T>> {
    let mut map = channels.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.to_string())
        .or_insert_with(|| broadcast::channel(capacity).0)
        .subscribe()
}

/// Sends to the key's followers; forgets channels nobody follows any more.
fn publish<T>(channels: &Channels<T>, key: &str, item: T) {
    let mut map = channels.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = map.get(key) {
        if tx.receiver_count() == 0 {
            map.remove(key);
        } else {
            let _ = tx.send(Arc::new(item));
        }
    }
}

impl Hub {
    pub fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Arc<Message>> {
        subscribe(&self.conversations, conversation_id, CONVERSATION_CAPACITY)
    }

    pub fn publish(&self, message: Message) {
        let key = message.conversation_id.clone();
        publish(&self.conversations, &key, message);
    }

    /// Drafts of the conversation's next bot message: the whole text so far, each time.
    pub fn subscribe_drafts(&self, conversation_id: &str) -> broadcast::Receiver<Arc<String>> {
        subscribe(&self.drafts, conversation_id, DRAFT_CAPACITY)
    }

    pub fn publish_draft(&self, conversation_id: &str, text_so_far: String) {
        publish(&self.drafts, conversation_id, text_so_far);
    }

    /// Inbox events of a workspace: `{"type": "conversation.queued", "conversation": …}`.
    pub fn subscribe_inbox(&self, workspace_id: &str) -> broadcast::Receiver<Arc<InboxEvent>> {
        subscribe(&self.inboxes, workspace_id, INBOX_CAPACITY)
    }

    pub fn publish_inbox(&self, workspace_id: &str, event: Value) {
        publish(&self.inboxes, workspace_id, InboxEvent::new(&event));
    }
}

/// Open inbox WebSockets per member, to drive presence.
#[derive(Default)]
pub struct Connections {
    per_member: Mutex<HashMap<String, usize>>,
}

impl Connections {
    /// How many inbox sockets a member has open on this instance.
    pub fn open(&self, member_id: &str) -> usize {
        let map = self.per_member.lock().unwrap_or_else(|p| p.into_inner());
        map.get(member_id).copied().unwrap_or(0)
    }

    /// Counts one of a member's inbox sockets opening or closing; returns how many they have
    /// open now.
    pub fn count(&self, member_id: &str, connected: bool) -> usize {
        let mut map = self.per_member.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(member_id.to_string()).or_insert(0);
        if connected {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
        }
        *n
    }
}

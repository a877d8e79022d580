//! Real-time fan-out inside one instance: committed messages go to the WebSockets that follow
//! their conversation; inbox events go to the agents of the workspace.

use baton_store::Message;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Buffered items per channel for a slow WebSocket before it must catch up from the store.
const CHANNEL_CAPACITY: usize = 256;

type Channels<T> = Arc<Mutex<HashMap<String, broadcast::Sender<Arc<T>>>>>;

#[derive(Clone, Default)]
pub struct Hub {
    conversations: Channels<Message>,
    inboxes: Channels<Value>,
}

fn subscribe<T>(channels: &Channels<T>, key: &str) -> broadcast::Receiver<Arc<T>> {
    let mut map = channels.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.to_string())
        .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
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
        subscribe(&self.conversations, conversation_id)
    }

    pub fn publish(&self, message: Message) {
        let key = message.conversation_id.clone();
        publish(&self.conversations, &key, message);
    }

    /// Inbox events of a workspace: `{"type": "conversation.queued", "conversation": …}`.
    pub fn subscribe_inbox(&self, workspace_id: &str) -> broadcast::Receiver<Arc<Value>> {
        subscribe(&self.inboxes, workspace_id)
    }

    pub fn publish_inbox(&self, workspace_id: &str, event: Value) {
        publish(&self.inboxes, workspace_id, event);
    }
}

//! Real-time fan-out inside one instance: committed messages go to the WebSockets that follow
//! their conversation.

use baton_store::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Buffered messages per conversation for a slow WebSocket before it must catch up by polling.
const CHANNEL_CAPACITY: usize = 256;

#[derive(Clone, Default)]
pub struct Hub {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<Message>>>>>,
}

impl Hub {
    pub fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Arc<Message>> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels
            .entry(conversation_id.to_string())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Sends to the conversation's followers; forgets channels nobody follows any more.
    pub fn publish(&self, message: Message) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = channels.get(&message.conversation_id) {
            if tx.receiver_count() == 0 {
                channels.remove(&message.conversation_id);
            } else {
                let _ = tx.send(Arc::new(message));
            }
        }
    }
}

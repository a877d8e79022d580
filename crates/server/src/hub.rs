//! Real-time fan-out inside one instance: committed messages go to the WebSockets that follow
//! their conversation; inbox events go to the agents of the workspace; a conversation's status
//! changes and its agent typing go to the customer's sockets.

use crate::memo::Memo;
use baton_store::{Conversation, ConversationStatus, Message};
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
const SIGNAL_CAPACITY: usize = 8;
/// An agent's typing is passed on to the customer at most this often per conversation.
pub const TYPING_INTERVAL_MS: i64 = 1_000;
/// Agent and conversation pairs whose last typing is remembered (then it starts over).
const TYPING_KEYS: usize = 10_000;

type Channels<T> = Arc<Mutex<HashMap<String, broadcast::Sender<Arc<T>>>>>;

/// What a follower's channel holds after a wake-up: the item it woke for and every one already
/// waiting behind it, so a socket writes them together and flushes once (one system call for
/// a commit's frames).
pub struct Ready<T> {
    pub items: Vec<Arc<T>>,
    /// Items were skipped after `items` (the follower fell behind by this many).
    pub lagged: Option<u64>,
    /// The channel is gone: nothing more will come.
    pub closed: bool,
}

/// Reads `first` (what `recv` gave) and what is waiting after it, up to a lag or the end.
pub fn ready<T>(
    first: Result<Arc<T>, broadcast::error::RecvError>,
    receiver: &mut broadcast::Receiver<Arc<T>>,
) -> Ready<T> {
    use broadcast::error::{RecvError, TryRecvError};
    let mut ready = Ready {
        items: Vec::new(),
        lagged: None,
        closed: false,
    };
    match first {
        Ok(item) => ready.items.push(item),
        Err(RecvError::Lagged(n)) => ready.lagged = Some(n),
        Err(RecvError::Closed) => ready.closed = true,
    }
    while ready.lagged.is_none() && !ready.closed {
        match receiver.try_recv() {
            Ok(item) => ready.items.push(item),
            Err(TryRecvError::Lagged(n)) => ready.lagged = Some(n),
            Err(TryRecvError::Closed) => ready.closed = true,
            Err(TryRecvError::Empty) => break,
        }
    }
    ready
}

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
            // Faster than `to_string()` (`Display` writes through a formatter); the same text.
            json: serde_json::to_string(event).unwrap_or_default(),
        }
    }

    /// Whether a socket watching `watched` (the conversation its agent has open) gets it.
    pub fn for_socket(&self, watched: Option<&str>) -> bool {
        !self.about_message || (watched.is_some() && self.conversation_id.as_deref() == watched)
    }
}

/// What a customer's socket hears besides messages and drafts.
pub enum Signal {
    /// The conversation's status or its agent changed: the socket sends its status frame, from
    /// the conversation as the turn committed it (or, told by another instance, as read then).
    StatusChanged(Option<Box<Conversation>>),
    /// An agent is typing to the customer.
    Typing { agent_name: String },
}

/// Who has a conversation, as far as its customer can tell.
#[derive(Clone, PartialEq)]
struct Holder {
    status: ConversationStatus,
    assignee: Option<String>,
}

/// A conversation's signal channel and who had it when last told.
struct SignalChannel {
    tx: broadcast::Sender<Arc<Signal>>,
    told: Option<Holder>,
}

#[derive(Clone)]
pub struct Hub {
    conversations: Channels<Message>,
    inboxes: Channels<InboxEvent>,
    /// The text of an answer while a model writes it, by conversation: shown, never stored
    /// (the whole message follows when its turn commits).
    drafts: Channels<String>,
    /// Status changes and typing, by conversation: only conversations with a customer's socket
    /// open have a channel, so a turn of any other costs a lookup.
    signals: Arc<Mutex<HashMap<String, SignalChannel>>>,
    /// When each agent's typing in each conversation was last passed on (clock ms).
    typing_passed_on: Arc<Memo<i64>>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub {
            conversations: Channels::default(),
            inboxes: Channels::default(),
            drafts: Channels::default(),
            signals: Arc::default(),
            typing_passed_on: Arc::new(Memo::new(TYPING_KEYS)),
        }
    }
}

fn subscribe<T>(channels: &Channels<T>, key: &str, capacity: usize) -> broadcast::Receiver<Arc<T>> {
    let mut map = channels.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.to_string())
        .or_insert_with(|| broadcast::channel(capacity).0)
        .subscribe()
}

/// Sends to the key's followers, building the item only when there are some; forgets channels
/// nobody follows any more.
fn publish<T>(channels: &Channels<T>, key: &str, item: impl FnOnce() -> T) {
    let mut map = channels.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = map.get(key) {
        if tx.receiver_count() == 0 {
            map.remove(key);
        } else {
            let _ = tx.send(Arc::new(item()));
        }
    }
}

impl Hub {
    pub fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Arc<Message>> {
        subscribe(&self.conversations, conversation_id, CONVERSATION_CAPACITY)
    }

    pub fn publish(&self, message: Message) {
        let key = message.conversation_id.clone();
        publish(&self.conversations, &key, || message);
    }

    /// Drafts of the conversation's next bot message: the whole text so far, each time.
    pub fn subscribe_drafts(&self, conversation_id: &str) -> broadcast::Receiver<Arc<String>> {
        subscribe(&self.drafts, conversation_id, DRAFT_CAPACITY)
    }

    pub fn publish_draft(&self, conversation_id: &str, text_so_far: String) {
        publish(&self.drafts, conversation_id, || text_so_far);
    }

    /// Inbox events of a workspace: `{"type": "conversation.queued", "conversation": …}`.
    pub fn subscribe_inbox(&self, workspace_id: &str) -> broadcast::Receiver<Arc<InboxEvent>> {
        subscribe(&self.inboxes, workspace_id, INBOX_CAPACITY)
    }

    /// An inbox event, built only when a socket follows the workspace's inbox.
    pub fn publish_inbox(&self, workspace_id: &str, event: impl FnOnce() -> Value) {
        publish(&self.inboxes, workspace_id, || InboxEvent::new(&event()));
    }

    /// Status changes and agent typing of a conversation (for its customer's sockets).
    pub fn subscribe_signals(&self, conversation_id: &str) -> broadcast::Receiver<Arc<Signal>> {
        let mut map = self.signals.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(conversation_id.to_string())
            .or_insert_with(|| SignalChannel {
                tx: broadcast::channel(SIGNAL_CAPACITY).0,
                told: None,
            })
            .tx
            .subscribe()
    }

    /// A socket that just sent the status it read: later turns signal only a change from it
    /// (unless one was signalled meanwhile).
    pub fn status_seen(&self, conversation_id: &str, status: ConversationStatus, assignee: Option<&str>) {
        let mut map = self.signals.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(channel) = map.get_mut(conversation_id) {
            channel.told.get_or_insert_with(|| Holder {
                status,
                assignee: assignee.map(str::to_string),
            });
        }
    }

    /// A turn committed with the conversation in `status`, held by `assignee` (`committed`: the
    /// conversation it wrote, when this instance wrote it): its sockets are signalled when that
    /// differs from what they were last told. A lookup, and no allocation unless it changed.
    pub fn publish_status(
        &self,
        conversation_id: &str,
        status: ConversationStatus,
        assignee: Option<&str>,
        committed: Option<&Conversation>,
    ) {
        let mut map = self.signals.lock().unwrap_or_else(|p| p.into_inner());
        let Some(channel) = map.get_mut(conversation_id) else {
            return;
        };
        if channel.tx.receiver_count() == 0 {
            map.remove(conversation_id);
            return;
        }
        let unchanged = channel
            .told
            .as_ref()
            .is_some_and(|t| t.status == status && t.assignee.as_deref() == assignee);
        if unchanged {
            return;
        }
        channel.told = Some(Holder {
            status,
            assignee: assignee.map(str::to_string),
        });
        let _ = channel
            .tx
            .send(Arc::new(Signal::StatusChanged(committed.map(|c| Box::new(c.clone())))));
    }

    /// An agent typing in a conversation: passed on to its customer's sockets at most once per
    /// [`TYPING_INTERVAL_MS`] per agent and conversation.
    pub fn publish_typing(&self, conversation_id: &str, member_id: &str, agent_name: &str, now_ms: i64) {
        let key = format!("{member_id} {conversation_id}");
        let recent = self
            .typing_passed_on
            .with(&key, |at| now_ms >= *at && now_ms - *at < TYPING_INTERVAL_MS)
            .unwrap_or(false);
        if recent {
            return;
        }
        self.typing_passed_on.insert(key, now_ms);
        let mut map = self.signals.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(channel) = map.get(conversation_id) {
            if channel.tx.receiver_count() == 0 {
                map.remove(conversation_id);
            } else {
                let _ = channel.tx.send(Arc::new(Signal::Typing {
                    agent_name: agent_name.to_string(),
                }));
            }
        }
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

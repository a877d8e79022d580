//! What turns read often, kept in memory: published flow versions (they never change), the
//! conversations the writers wrote last, and what entry routing reads for every new
//! conversation.

use super::TurnError;
use crate::memo::{Dated, Memo};
use baton_flow::runtime::State;
use baton_flow::Flow;
use baton_store::{Conversation, Dialect, Handover, Store, StoreError, Workspace};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Conversations kept as the writers last wrote them (the ones talking now): their next turn
/// needs no state parsing and no hand-over lookup, and on SQLite no read at all. About 2 KB
/// each.
const WRITTEN_MAX: usize = 1024;

/// Published flow versions, loaded once.
pub struct FlowCache {
    store: Store,
    flows: Mutex<HashMap<(String, i64), Arc<Flow>>>,
}

impl FlowCache {
    pub fn new(store: Store) -> FlowCache {
        FlowCache {
            store,
            flows: Mutex::new(HashMap::new()),
        }
    }

    /// A published flow version, loaded once (versions never change).
    pub async fn get(&self, flow_id: &str, version: i64) -> Result<Arc<Flow>, TurnError> {
        let key = (flow_id.to_string(), version);
        if let Some(f) = self.flows.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(f.clone());
        }
        let row = self
            .store
            .flow_version(flow_id, version)
            .await
            .map_err(|e| TurnError::Store(e.to_string()))?
            .ok_or_else(|| TurnError::Internal(format!("flow {flow_id} version {version} is missing")))?;
        let flow = Flow::from_json(&row.document)
            .map_err(|d| TurnError::Internal(format!("published flow {flow_id} v{version} does not load: {d:?}")))?;
        let flow = Arc::new(flow);
        self.flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, flow.clone());
        Ok(flow)
    }
}

/// A conversation as a committed turn left it.
pub(super) struct Written {
    pub conv: Conversation,
    pub kept: Kept,
}

/// A conversation's parsed state and its open hand-over, kept from the turn before.
pub(super) type Kept = (State, Option<Handover>);

/// The conversations the writers wrote last, as they wrote them. On SQLite the one writer is
/// the only one to write, so what it kept is the conversation. On PostgreSQL other instances
/// write too: what was kept is used only when the row the turn locked is exactly the row kept
/// ([`WrittenCache::take_if_current`]), since every turn that changes a conversation or its
/// hand-over rewrites the row (its state and the time of the turn among the columns).
pub struct WrittenCache {
    dialect: Dialect,
    written: Memo<Written>,
}

impl WrittenCache {
    pub fn new(dialect: Dialect) -> WrittenCache {
        WrittenCache {
            dialect,
            written: Memo::new(WRITTEN_MAX),
        }
    }

    /// Keeps what a turn wrote, for the conversation's next turn.
    pub(super) fn remember(&self, written: Written) {
        self.written.insert(written.conv.id.clone(), written);
    }

    /// SQLite: what the last turn of the conversation wrote, taken (its turn keeps it again);
    /// the turn needs no read. None on PostgreSQL, where the turn reads and locks the row.
    pub(super) fn take(&self, conversation_id: &str) -> Option<Written> {
        match self.dialect {
            Dialect::Sqlite => self.written.take(conversation_id),
            Dialect::Postgres => None,
        }
    }

    /// PostgreSQL: the state and hand-over kept for the conversation a turn just locked, when
    /// the locked row is the one kept (no other instance wrote since).
    pub(super) fn take_if_current(&self, locked: &Conversation) -> Option<Kept> {
        self.written
            .take(&locked.id)
            .filter(|w| w.conv == *locked)
            .map(|w| w.kept)
    }

    /// Forgets everything (a batch failed: what its turns remembered never reached the store).
    pub(super) fn clear(&self) {
        self.written.clear();
    }
}

/// How long what entry routing reads is used before it is read again: changes made on this
/// instance apply at once ([`Store::routing_generation`]), those of other instances sharing
/// the PostgreSQL database within this time.
pub const ROUTING_MEMORY: Duration = Duration::from_secs(1);

/// A workspace's live flows with a published version, in routing order: (flow id, version).
pub type LiveVersions = Arc<[(String, i64)]>;

/// Workspaces and live flows remembered at most.
const ROUTING_MAX: usize = 10_000;

/// What every new conversation reads to choose its flow, remembered for a moment: the
/// workspace its widget key names, and the workspace's live flows in routing order.
pub struct RoutingCache {
    store: Store,
    workspaces: Memo<Dated<Workspace>>,
    live: Memo<Dated<LiveVersions>>,
}

impl RoutingCache {
    pub fn new(store: Store) -> RoutingCache {
        RoutingCache {
            store,
            workspaces: Memo::new(ROUTING_MAX),
            live: Memo::new(ROUTING_MAX),
        }
    }

    /// The workspace a widget key names (an unknown key is read every time).
    pub async fn workspace_by_widget_key(&self, widget_key: &str) -> Result<Option<Workspace>, StoreError> {
        let generation = self.store.routing_generation();
        let remembered = |d: &Dated<Workspace>| d.current(generation, ROUTING_MEMORY);
        if let Some(w) = self.workspaces.with(widget_key, remembered).flatten() {
            return Ok(Some(w));
        }
        let found = self.store.workspace_by_widget_key(widget_key).await?;
        if let Some(w) = &found {
            self.workspaces
                .insert(widget_key.to_string(), Dated::new(w.clone(), generation));
        }
        Ok(found)
    }

    /// The workspace's live flows with a published version, in routing order: (id, version).
    pub async fn live_versions(&self, workspace_id: &str) -> Result<LiveVersions, StoreError> {
        let generation = self.store.routing_generation();
        let remembered = |d: &Dated<LiveVersions>| d.current(generation, ROUTING_MEMORY);
        if let Some(live) = self.live.with(workspace_id, remembered).flatten() {
            return Ok(live);
        }
        let live: LiveVersions = self.store.live_versions(workspace_id).await?.into();
        self.live
            .insert(workspace_id.to_string(), Dated::new(live.clone(), generation));
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_store::ConversationStatus;

    fn conversation(updated_at: i64) -> Conversation {
        Conversation {
            id: "conv_1".into(),
            workspace_id: "ws".into(),
            contact_id: "ct".into(),
            flow_id: "flow".into(),
            flow_version: 1,
            token_hash: "hash".into(),
            channel: "web".into(),
            status: ConversationStatus::Bot,
            state: "{}".into(),
            last_seq: 3,
            created_at: 1,
            updated_at,
            team: None,
            assignee: None,
            priority: None,
            queued_at: None,
            reply_due_at: None,
        }
    }

    fn written(updated_at: i64) -> Written {
        Written {
            conv: conversation(updated_at),
            kept: (State::default(), None),
        }
    }

    #[test]
    fn postgres_uses_what_it_kept_only_for_the_row_it_wrote() {
        let cache = WrittenCache::new(Dialect::Postgres);
        cache.remember(written(10));
        assert!(cache.take("conv_1").is_none(), "PostgreSQL always reads the row");
        assert!(cache.take_if_current(&conversation(10)).is_some(), "the row as written");
        assert!(
            cache.take_if_current(&conversation(10)).is_none(),
            "taken: the turn keeps it again"
        );
        cache.remember(written(10));
        assert!(
            cache.take_if_current(&conversation(11)).is_none(),
            "another instance wrote the row since"
        );
        assert!(
            cache.take_if_current(&conversation(10)).is_none(),
            "and what was kept is forgotten"
        );
    }

    #[tokio::test]
    async fn routing_reads_again_after_a_change_made_here() {
        let dir = std::env::temp_dir().join(format!("baton-routing-{}", crate::ids::random_token(8)));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::connect(&format!("sqlite://{}", dir.join("b.db").display()))
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        let workspace = baton_store::NewWorkspace {
            id: "ws",
            name: "W",
            widget_key: "wk",
            webhook_secret: "s",
            settings: "{}",
            now: 0,
        };
        store.create_workspace(workspace).await.expect("workspace");
        store.create_flow("flow_1", "ws", "F", "{}", 0).await.expect("flow");
        let routing = RoutingCache::new(store.clone());
        assert!(routing.workspace_by_widget_key("nope").await.expect("read").is_none());
        let ws = routing
            .workspace_by_widget_key("wk")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(ws.id, "ws");
        assert!(routing.live_versions("ws").await.expect("read").is_empty());

        store
            .publish_flow("ws", "flow_1", "{}", None, None, 1)
            .await
            .expect("publish");
        store.set_flow_live("ws", "flow_1", true, 1).await.expect("live");
        assert_eq!(
            &*routing.live_versions("ws").await.expect("read"),
            [("flow_1".to_string(), 1)]
        );
        store
            .set_routing("ws", &["flow_1".to_string()], Some("flow_1"))
            .await
            .expect("fallback");
        let ws = routing
            .workspace_by_widget_key("wk")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(ws.fallback_flow_id.as_deref(), Some("flow_1"));
        store.set_flow_live("ws", "flow_1", false, 2).await.expect("off");
        assert!(routing.live_versions("ws").await.expect("read").is_empty());
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sqlite_uses_what_its_one_writer_kept() {
        let cache = WrittenCache::new(Dialect::Sqlite);
        cache.remember(written(10));
        assert_eq!(cache.take("conv_1").map(|w| w.conv), Some(conversation(10)));
        assert!(cache.take("conv_1").is_none());
    }
}

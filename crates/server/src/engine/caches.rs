//! What turns read often, kept in memory: published flow versions (they never change) and,
//! on SQLite, the conversations the one writer wrote last.

use super::TurnError;
use crate::memo::Memo;
use baton_flow::runtime::State;
use baton_flow::Flow;
use baton_store::{Conversation, Dialect, Handover, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Conversations the SQLite writer keeps as it last wrote them (the ones talking now): their
/// next turn needs no read, no state parsing and no hand-over lookup. About 2 KB each.
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

/// SQLite: the conversations the one writer wrote last, as it wrote them. On PostgreSQL other
/// writers and instances write too, so nothing is kept.
pub struct WrittenCache {
    keep: bool,
    written: Memo<Written>,
}

impl WrittenCache {
    pub fn new(dialect: Dialect) -> WrittenCache {
        WrittenCache {
            keep: dialect == Dialect::Sqlite,
            written: Memo::new(WRITTEN_MAX),
        }
    }

    /// Keeps what a turn wrote, for the conversation's next turn.
    pub(super) fn remember(&self, written: Written) {
        if self.keep {
            self.written.insert(written.conv.id.clone(), written);
        }
    }

    /// What the last turn of the conversation wrote, taken (its turn keeps it again).
    pub(super) fn take(&self, conversation_id: &str) -> Option<Written> {
        self.written.take(conversation_id)
    }

    /// Forgets everything (a batch failed: what its turns remembered never reached the store).
    pub(super) fn clear(&self) {
        self.written.clear();
    }
}

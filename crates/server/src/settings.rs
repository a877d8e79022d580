//! Workspace settings (stored as JSON on the workspace) and the [`World`] a turn reads.

use crate::error::ApiError;
use baton_flow::runtime::{HandoffSettings, World};
use baton_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;

/// A workspace's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WorkspaceSettings {
    /// Hand-off to people switched on.
    pub handoff_enabled: bool,
    /// Messages and times of the hand-off (Handover nodes may override them).
    #[schema(value_type = Object)]
    pub handoff: HandoffSettings,
    /// Web origins allowed to start widget conversations (empty: any origin).
    pub allowed_origins: Vec<String>,
}

impl Default for WorkspaceSettings {
    fn default() -> Self {
        WorkspaceSettings {
            handoff_enabled: true,
            handoff: HandoffSettings::default(),
            allowed_origins: Vec::new(),
        }
    }
}

/// Settings by workspace, read once and dropped when they change.
pub struct SettingsCache {
    store: Store,
    cache: Mutex<HashMap<String, Arc<WorkspaceSettings>>>,
}

impl SettingsCache {
    pub fn new(store: Store) -> SettingsCache {
        SettingsCache {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(&self, workspace_id: &str) -> Result<Arc<WorkspaceSettings>, ApiError> {
        if let Some(s) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(workspace_id)
        {
            return Ok(s.clone());
        }
        let ws = self
            .store
            .workspace(workspace_id)
            .await?
            .ok_or_else(|| ApiError::not_found("workspace"))?;
        let settings: WorkspaceSettings = serde_json::from_str(&ws.settings).unwrap_or_default();
        let settings = Arc::new(settings);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(workspace_id.to_string(), settings.clone());
        Ok(settings)
    }

    pub fn forget(&self, workspace_id: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(workspace_id);
    }
}

/// What the flow may read about the workspace right now. Business hours and agent presence
/// arrive with the hand-over issue; until then teams count as open and staffed.
pub struct ServerWorld<'a> {
    settings: &'a WorkspaceSettings,
}

impl<'a> ServerWorld<'a> {
    pub fn new(settings: &'a WorkspaceSettings) -> ServerWorld<'a> {
        ServerWorld { settings }
    }
}

impl World for ServerWorld<'_> {
    fn settings(&self) -> &HandoffSettings {
        &self.settings.handoff
    }
    fn handoff_enabled(&self) -> bool {
        self.settings.handoff_enabled
    }
    fn is_open(&self, _team: Option<&str>) -> bool {
        true
    }
    fn agents_available(&self, _team: Option<&str>, _agent: Option<&str>) -> bool {
        true
    }
}

//! Creating workspaces, and the demo workspace on a server's first start.

use crate::auth::{hash_password, API_KEY_PREFIX};
use crate::clock::Clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::{hash_token, new_id, random_token};
use crate::settings::WorkspaceSettings;
use baton_store::{NewApiKey, NewMember, NewWorkspace, Store};

/// The demo flow every new server starts with.
pub const DEMO_FLOW: &str = include_str!("../../../examples/refund.flow.json");

/// What the first start created; printed once.
#[derive(Debug, Clone)]
pub struct FirstStart {
    pub workspace: CreatedWorkspace,
    pub demo_flow_id: String,
}

#[derive(Debug, Clone)]
pub struct CreatedWorkspace {
    pub workspace_id: String,
    pub widget_key: String,
    pub owner_email: String,
    pub owner_password: String,
    /// An owner API key for automation, shown once.
    pub api_key: String,
}

/// Creates the demo workspace when the store has none.
pub async fn first_start(store: &Store, clock: &Clock) -> ApiResult<Option<FirstStart>> {
    if !store.workspaces().await?.is_empty() {
        return Ok(None);
    }
    let workspace = create_workspace(store, clock, "Demo", "owner@example.com", None).await?;
    let now = clock.now_ms();
    let flow_id = new_id("flow");
    let name = serde_json::from_str::<serde_json::Value>(DEMO_FLOW)
        .ok()
        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "Demo".into());
    store
        .create_flow(&flow_id, &workspace.workspace_id, &name, DEMO_FLOW, now)
        .await?;
    store
        .publish_flow(
            &workspace.workspace_id,
            &flow_id,
            DEMO_FLOW,
            Some("demo flow"),
            None,
            now,
        )
        .await?;
    store
        .set_flow_live(&workspace.workspace_id, &flow_id, true, now)
        .await?;
    // It takes what later flows' entry rules do not.
    store
        .set_routing(&workspace.workspace_id, std::slice::from_ref(&flow_id), Some(&flow_id))
        .await?;
    // The demo flow hands over to `billing`; the owner is its first agent.
    let team_id = new_id("team");
    store
        .create_team(&baton_store::Team {
            id: team_id.clone(),
            workspace_id: workspace.workspace_id.clone(),
            name: "Billing".into(),
            slug: "billing".into(),
            business_hours: None,
            created_at: now,
            reply_targets: None,
        })
        .await?;
    if let Some(owner) = store.member_by_email(&workspace.owner_email).await? {
        store.set_team_members(&team_id, &[owner.id]).await?;
    }
    Ok(Some(FirstStart {
        workspace,
        demo_flow_id: flow_id,
    }))
}

/// Creates a workspace with its owner (a random password when none is given) and an owner
/// API key.
pub async fn create_workspace(
    store: &Store,
    clock: &Clock,
    name: &str,
    owner_email: &str,
    owner_password: Option<&str>,
) -> ApiResult<CreatedWorkspace> {
    let now = clock.now_ms();
    let workspace_id = new_id("ws");
    let widget_key = format!("wk_{}", random_token(18));
    let settings =
        serde_json::to_string(&WorkspaceSettings::default()).map_err(|e| ApiError::internal(e.to_string()))?;
    store
        .create_workspace(NewWorkspace {
            id: &workspace_id,
            name,
            widget_key: &widget_key,
            webhook_secret: &crate::webhook::new_secret(),
            settings: &settings,
            now,
        })
        .await?;
    let password = owner_password.map_or_else(|| random_token(12), str::to_owned);
    store
        .create_member(NewMember {
            id: &new_id("mem"),
            workspace_id: &workspace_id,
            email: owner_email,
            name: "Owner",
            role: "owner",
            password_hash: &hash_password(&password)?,
            now,
        })
        .await?;
    let api_key = format!("{API_KEY_PREFIX}{}", random_token(24));
    store
        .create_api_key(NewApiKey {
            id: &new_id("key"),
            workspace_id: &workspace_id,
            name: "owner key",
            key_hash: &hash_token(&api_key),
            prefix: &api_key[..8],
            role: "owner",
            now,
        })
        .await?;
    Ok(CreatedWorkspace {
        workspace_id,
        widget_key,
        owner_email: owner_email.to_string(),
        owner_password: password,
        api_key,
    })
}

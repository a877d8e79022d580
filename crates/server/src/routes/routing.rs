//! Entry routing: the order in which live flows are offered a new conversation, the fallback
//! flow, and findings about rules that shadow each other.

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::routing::LiveFlows;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use baton_flow::Flow;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/flows/routing", get(routing).put(update_routing))
}

/// The workspace's entry routing.
#[derive(Serialize, ToSchema)]
pub struct RoutingView {
    /// Every flow of the workspace in entry order: a new conversation starts on the first live
    /// flow whose entry rules hold (flows that are off keep their place).
    pub flows: Vec<RoutingFlow>,
    /// The flow a conversation starts on when no live flow's rules hold (none: the first live
    /// flow in order).
    pub fallback_flow_id: Option<String>,
    /// Rules that shadow each other, and a missing fallback.
    pub findings: Vec<RoutingFindingView>,
}

#[derive(Serialize, ToSchema)]
pub struct RoutingFlow {
    pub id: String,
    pub name: String,
    pub live: bool,
    pub live_version: Option<i64>,
    /// The entry rules of the live version (of the draft when the flow is not published), in
    /// words.
    pub rules: String,
}

#[derive(Serialize, ToSchema)]
pub struct RoutingFindingView {
    /// `entry_shadowed`, `entry_keyword_taken` or `no_fallback`.
    pub code: String,
    /// The flow the finding is about.
    pub flow: String,
    /// The flow that takes its conversations first.
    pub by: Option<String>,
    pub message: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingRequest {
    /// Flow ids in the order they are offered a new conversation; flows left out keep their
    /// order, after these.
    #[schema(max_items = 500)]
    pub order: Vec<String>,
    /// The flow for conversations no flow's rules take (null: none).
    #[serde(default)]
    pub fallback_flow_id: Option<String>,
}

/// The entry routing: flows in order, the fallback, and findings.
#[utoipa::path(get, path = "/api/v1/flows/routing", tag = "flows",
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = RoutingView)))]
pub async fn routing(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RoutingView>> {
    Ok(Json(view(&state, &caller.workspace_id).await?))
}

/// Sets the order in which live flows are offered a new conversation, and the fallback flow.
#[utoipa::path(put, path = "/api/v1/flows/routing", tag = "flows",
    security(("session" = []), ("api_key" = [])), request_body = RoutingRequest,
    responses((status = 200, body = RoutingView), (status = 422, body = crate::error::ErrorBody),
              (status = 409, description = "`flows_changed`: the flows changed meanwhile; try again", body = crate::error::ErrorBody)))]
pub async fn update_routing(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RoutingRequest>,
) -> ApiResult<Json<RoutingView>> {
    caller.require(Role::Admin)?;
    let owned: HashSet<String> = state
        .core
        .store
        .flows(&caller.workspace_id)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    let mut seen = HashSet::new();
    for (i, id) in req.order.iter().enumerate() {
        if !owned.contains(id) {
            return Err(ApiError::invalid_field(
                &format!("order[{i}]"),
                format!("no flow `{id}` here"),
            ));
        }
        if !seen.insert(id) {
            return Err(ApiError::invalid_field(
                &format!("order[{i}]"),
                format!("`{id}` is listed twice"),
            ));
        }
    }
    if let Some(id) = &req.fallback_flow_id {
        if !owned.contains(id) {
            return Err(ApiError::invalid_field(
                "fallback_flow_id",
                format!("no flow `{id}` here"),
            ));
        }
    }
    let saved = state
        .core
        .store
        .set_routing(&caller.workspace_id, &req.order, req.fallback_flow_id.as_deref())
        .await?;
    if !saved {
        // A flow named was checked above; only a concurrent change gets here.
        return Err(ApiError::conflict(
            "flows_changed",
            "the flows changed meanwhile; try again",
        ));
    }
    Ok(Json(view(&state, &caller.workspace_id).await?))
}

async fn view(state: &AppState, workspace_id: &str) -> ApiResult<RoutingView> {
    let store = &state.core.store;
    let fallback_flow_id = store
        .workspace(workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?
        .fallback_flow_id;
    let mut rows = store.flows(workspace_id).await?;
    rows.sort_by(|a, b| (a.entry_order, a.created_at, &a.id).cmp(&(b.entry_order, b.created_at, &b.id)));
    let mut flows = Vec::with_capacity(rows.len());
    for row in rows {
        let rules = match row.live_version {
            Some(version) => baton_flow::entry::describe(&*state.core.flows.get(&row.id, version).await?),
            None => Flow::from_json(&row.draft)
                .map(|f| baton_flow::entry::describe(&f))
                .unwrap_or_else(|_| "the draft does not load".into()),
        };
        flows.push(RoutingFlow {
            id: row.id,
            name: row.name,
            live: row.live,
            live_version: row.live_version,
            rules,
        });
    }
    let live = LiveFlows::load(&state.core, workspace_id, fallback_flow_id.clone()).await?;
    let findings = live
        .findings()
        .into_iter()
        .map(|f| RoutingFindingView {
            code: f.code.to_string(),
            flow: f.flow,
            by: f.by,
            message: f.message,
        })
        .collect();
    Ok(RoutingView {
        flows,
        fallback_flow_id,
        findings,
    })
}

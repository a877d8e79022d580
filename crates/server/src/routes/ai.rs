//! The workspace's AI provider: the built-in offline AI, or an OpenAI-compatible endpoint
//! (base URL, model, key). The key is write-only.

use crate::ai::{AiSettingsUpdate, AiSettingsView};
use crate::auth::{Caller, Role};
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/workspace/ai", get(get_settings).put(update_settings))
        .route("/api/v1/workspace/ai/test", post(test_connection))
}

/// The workspace's AI provider (never the key).
#[utoipa::path(get, path = "/api/v1/workspace/ai", tag = "ai", security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = AiSettingsView)))]
async fn get_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AiSettingsView>> {
    caller.require(Role::Admin)?;
    let ai = &state.core.ai;
    Ok(Json(
        ai.settings(&caller.workspace_id)
            .await?
            .view(ai.embedder().is_some(), ai.local_model()),
    ))
}

/// Chooses the provider. For `openai_compatible`, `base_url` and `model` are required (or kept
/// from before); `api_key` absent keeps the stored key, empty removes it.
#[utoipa::path(put, path = "/api/v1/workspace/ai", tag = "ai", security(("session" = []), ("api_key" = [])),
    request_body = AiSettingsUpdate,
    responses((status = 200, body = AiSettingsView), (status = 422, body = crate::error::ErrorBody)))]
async fn update_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(update): ApiJson<AiSettingsUpdate>,
) -> ApiResult<Json<AiSettingsView>> {
    caller.require(Role::Admin)?;
    let ai = &state.core.ai;
    let settings = ai.settings(&caller.workspace_id).await?.apply(update)?;
    ai.save(&caller.workspace_id, &settings).await?;
    tracing::info!(workspace = %caller.workspace_id, provider = ?settings.provider, "AI provider changed");
    Ok(Json(settings.view(ai.embedder().is_some(), ai.local_model())))
}

/// The result of a connection test.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTest {
    pub ok: bool,
    /// What happened, in a sentence ("The model answered in 412 ms: OK", "cannot reach the
    /// model endpoint: Connection refused").
    pub message: String,
}

/// Sends one tiny request to the saved endpoint (no retries).
#[utoipa::path(post, path = "/api/v1/workspace/ai/test", tag = "ai", security(("session" = []), ("api_key" = [])),
    request_body = Object, responses((status = 200, body = ConnectionTest)))]
async fn test_connection(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(_body): ApiJson<Value>,
) -> ApiResult<Json<ConnectionTest>> {
    caller.require(Role::Admin)?;
    let result = state.core.ai.check(&caller.workspace_id).await;
    Ok(Json(match result {
        Ok(message) => ConnectionTest { ok: true, message },
        Err(message) => ConnectionTest { ok: false, message },
    }))
}

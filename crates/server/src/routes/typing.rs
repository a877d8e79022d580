//! An agent typing to a customer: the inbox says so while the agent writes, and the customer's
//! sockets show "Sam is typing…". Nothing is stored, and it stays on the instance the agent
//! called (on PostgreSQL a customer connected to another instance does not see it).

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::routes::inbox::workspace_conversation;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use baton_store::ConversationStatus;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/inbox/conversations/{id}/typing", post(typing))
}

/// The agent is typing a reply: the customer's widget shows "… is typing" (about 5 s after the
/// last call, or until the reply comes). Call it while the agent types, say every 2 s; at most
/// one call a second per agent and conversation is passed on (the others are answered 204 too).
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/typing", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])),
    responses((status = 204, description = "passed on to the customer's open sockets (or within a second of the last one, dropped)"),
              (status = 401, description = "`unauthorized`: not signed in", body = crate::error::ErrorBody),
              (status = 403, description = "`forbidden`: an API key (typing is shown with a member's name: sign in as the member), or the CSRF token is missing", body = crate::error::ErrorBody),
              (status = 404, description = "`not_found`: no such conversation in the workspace", body = crate::error::ErrorBody),
              (status = 409, description = "`assigned_to_other`: another agent has it; `not_with_a_person`: nobody is expected on it (the bot has it, or it ended)", body = crate::error::ErrorBody)))]
async fn typing(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.require(Role::Agent)?;
    let member = caller.member.as_ref().ok_or_else(|| {
        ApiError::forbidden("typing is shown with a member's name: sign in as the member, not with an API key")
    })?;
    let conversation = workspace_conversation(&state, &caller, &id).await?;
    match (conversation.status, conversation.assignee.as_deref()) {
        (ConversationStatus::Queued, _) => {}
        (ConversationStatus::Assigned, Some(assignee)) if assignee == member.id => {}
        (ConversationStatus::Assigned, _) => {
            return Err(ApiError::conflict(
                "assigned_to_other",
                "another agent has this conversation",
            ))
        }
        _ => {
            return Err(ApiError::conflict(
                "not_with_a_person",
                "nobody is expected on this conversation: the bot has it, or it has ended",
            ))
        }
    }
    state
        .core
        .hub
        .publish_typing(&conversation.id, &member.id, &member.name, state.core.clock.now_ms());
    Ok(StatusCode::NO_CONTENT)
}

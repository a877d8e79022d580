//! What helps an agent write a reply in the inbox: the workspace's canned replies filled in for
//! one conversation, and a reply drafted by the AI from the knowledge base. Neither sends
//! anything: the agent edits the text and sends it as a reply.

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::routes::inbox::workspace_conversation;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use baton_flow::ai::{AiOutcome, AnswerIntent, Source};
use baton_flow::runtime::{AiQuery, AiRequest};
use baton_flow::template::Template;
use baton_store::{Conversation, Role as MessageRole};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

/// Longest an AI draft may take before the agent is told to write it themselves.
const DRAFT_TIMEOUT: Duration = Duration::from_secs(20);
/// The customer's latest messages (since a person or the bot last spoke) that make the question.
const QUESTION_MESSAGES: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/inbox/conversations/{id}/canned-replies", get(canned_replies))
        .route("/api/v1/inbox/conversations/{id}/draft-reply", post(draft_reply))
}

#[derive(Serialize, ToSchema)]
pub struct FilledCannedReply {
    pub title: String,
    /// The reply's template filled in for this conversation and the signed-in agent.
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct DraftReply {
    /// Whether the knowledge base answered; when not, `text` is `null` and `reason` says why.
    pub answered: bool,
    #[schema(required = true)]
    pub text: Option<String>,
    /// The articles the draft comes from.
    #[schema(value_type = Vec<Object>)]
    pub sources: Vec<Source>,
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The customer's words the draft answers.
    pub question: String,
}

/// The workspace's canned replies filled in for this conversation (its variables, the
/// contact's attributes as `contact.…`, the agent as `agent.name` and `agent.email`).
#[utoipa::path(get, path = "/api/v1/inbox/conversations/{id}/canned-replies", tag = "inbox", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = Vec<FilledCannedReply>), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn canned_replies(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<FilledCannedReply>>> {
    caller.require(Role::Agent)?;
    let c = workspace_conversation(&state, &caller, &id).await?;
    let settings = state.core.settings.get(&caller.workspace_id).await?;
    if settings.canned_replies.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let vars = variables(&state, &caller, &c).await?;
    let filled = settings
        .canned_replies
        .iter()
        .map(|reply| FilledCannedReply {
            title: reply.title.clone(),
            // Checked when saved; a template that no longer parses is given as written.
            text: Template::parse(&reply.text).map_or_else(|_| reply.text.clone(), |t| t.render(&vars)),
        })
        .collect();
    Ok(Json(filled))
}

/// Drafts a reply to the customer's latest messages from the knowledge base, with the
/// workspace's AI (the offline provider, or its model endpoint). Nothing is sent or stored.
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/draft-reply", tag = "inbox", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = DraftReply), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub(crate) async fn draft_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DraftReply>> {
    caller.require(Role::Agent)?;
    let c = workspace_conversation(&state, &caller, &id).await?;
    let core = &state.core;
    let messages = core.store.messages_after(&c.id, 0, 500).await?;
    let question = latest_question(&messages);
    if question.is_empty() {
        return Err(ApiError::conflict(
            "nothing_to_answer",
            "the customer has not written anything to answer yet",
        ));
    }
    let transcript = messages
        .iter()
        .filter_map(|m| {
            let role = match m.role {
                MessageRole::Customer => baton_ai::Role::Customer,
                MessageRole::Bot => baton_ai::Role::Bot,
                MessageRole::Agent => baton_ai::Role::Agent,
                _ => return None,
            };
            Some(baton_ai::Turn {
                role,
                text: m.text.clone(),
            })
        })
        .collect();
    let mut context = baton_ai::AiContext::default().with_transcript(transcript);
    if let Ok(k) = core.knowledge.get(&caller.workspace_id).await {
        context = context.with_knowledge(k);
    }
    let request = AiRequest {
        request: 0,
        node: "inbox".into(),
        query: AiQuery::Answer {
            question: question.clone(),
            collections: Vec::new(),
            threshold: None,
        },
    };
    let mut ignore_deltas = |_: &str| {};
    let run = core
        .ai
        .run(&caller.workspace_id, &request, &context, &mut ignore_deltas);
    let (answered, text, sources, reason) = match tokio::time::timeout(DRAFT_TIMEOUT, run).await {
        Err(_) => (
            false,
            None,
            Vec::new(),
            Some("the AI took too long; write this one yourself".into()),
        ),
        Ok((
            _,
            AiOutcome::Answer {
                text,
                sources,
                intent: AnswerIntent::Answered,
            },
        )) if !text.trim().is_empty() => (true, Some(text), sources, None),
        Ok((_, AiOutcome::Failed { reason })) => (false, None, Vec::new(), Some(format!("the AI failed: {reason}"))),
        Ok(_) => (
            false,
            None,
            Vec::new(),
            Some("the knowledge base has no answer to this".into()),
        ),
    };
    Ok(Json(DraftReply {
        answered,
        text,
        sources,
        reason,
        question,
    }))
}

/// What a canned reply's template may name.
async fn variables(state: &AppState, caller: &Caller, c: &Conversation) -> ApiResult<BTreeMap<String, Value>> {
    let mut vars = serde_json::from_str::<baton_flow::State>(&c.state)
        .map(|s| s.vars)
        .unwrap_or_default();
    if let Some(contact) = state.core.store.contact(&c.contact_id).await? {
        if let Ok(serde_json::Value::Object(attributes)) = serde_json::from_str(&contact.attributes) {
            for (k, v) in attributes {
                vars.insert(format!("contact.{k}"), v);
            }
        }
    }
    if let Some(m) = &caller.member {
        vars.insert("agent.name".into(), Value::String(m.name.clone()));
        vars.insert("agent.email".into(), Value::String(m.email.clone()));
    }
    Ok(vars)
}

/// The customer's messages since anyone else last spoke (at most the last few), as one
/// question.
fn latest_question(messages: &[baton_store::Message]) -> String {
    let mut parts: Vec<&str> = messages
        .iter()
        .rev()
        .filter(|m| matches!(m.role, MessageRole::Customer | MessageRole::Bot | MessageRole::Agent))
        .take_while(|m| m.role == MessageRole::Customer)
        .take(QUESTION_MESSAGES)
        .map(|m| m.text.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if parts.is_empty() {
        // The customer spoke last before someone else: their newest message.
        parts = messages
            .iter()
            .rev()
            .find(|m| m.role == MessageRole::Customer)
            .map(|m| vec![m.text.trim()])
            .unwrap_or_default();
    }
    parts.reverse();
    parts.join(" ")
}

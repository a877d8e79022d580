//! The customer channel: start a conversation with a widget key, send messages (idempotent by
//! client id), read replies by polling or over a WebSocket.

use crate::auth::{customer_conversation, customer_conversation_id, Caller, Role};
use crate::engine::{CustomerContent, Routed, StartConversation, TurnInput, TurnOutcome};
use crate::error::{ApiError, ApiResult};
use crate::hub::Signal;
use crate::ids::{hash_token, new_id, random_token};
use crate::json::ApiJson;
use crate::metrics::METRICS;
use crate::routing::{Entry, LiveFlows};
use crate::state::AppState;
pub use crate::views::{ConversationView, MessageView};
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use baton_flow::matching::MAX_INPUT_CHARS;
use baton_store::{Conversation, ConversationStatus, Message, WebhookDelivery};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use utoipa::ToSchema;

/// Shortest client id of a start: it gives back the conversation's token, so it must not be
/// guessable (a UUID has 32 hex digits).
const MIN_START_CLIENT_ID: usize = 16;
/// Longest client message id.
const MAX_CLIENT_ID: usize = 100;
/// Most messages one poll returns.
const MAX_PAGE: i64 = 200;
/// Most contact attributes sent at start, and their total size.
const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
/// Longest page URL a start may name.
const MAX_PAGE_URL_CHARS: usize = 2000;

pub fn customer_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/widget/conversations", post(start_conversation))
        .route("/api/v1/widget/availability", get(availability))
        .route("/api/v1/conversations/{id}", get(get_conversation))
        .route(
            "/api/v1/conversations/{id}/messages",
            post(send_message).get(list_messages),
        )
        .route("/api/v1/conversations/{id}/ws", get(websocket))
}

pub fn member_routes() -> Router<AppState> {
    Router::new().route("/api/v1/conversations/{id}/deliveries", get(deliveries))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The workspace's public widget key.
    pub widget_key: String,
    /// Who the customer is; attributes are kept on the contact across conversations.
    #[serde(default)]
    pub contact: Option<ContactInput>,
    /// A live flow of the workspace to start on. Without it, entry routing chooses: the first
    /// live flow, in the workspace's order, whose entry rules hold, else the fallback flow.
    #[serde(default)]
    pub flow_id: Option<String>,
    /// The page the customer is on (the widget sends it): entry rules on pages read it, and
    /// flows read it as `conversation.page_url`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 2000)]
    pub page_url: Option<String>,
    /// The customer's first message, if they wrote one before the conversation started (not
    /// blank, at most 4,000 characters).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub message: Option<String>,
    /// Where the customer is: `widget` (default), `api`, …
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,40}$")]
    pub channel: Option<String>,
    /// A random id for this start (a UUID): a retry with the same id answers `200` with the
    /// same conversation, token and first messages, and starts nothing. It gives back the
    /// token: keep it as secret.
    #[serde(default)]
    #[schema(min_length = 16, max_length = 100)]
    pub client_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Your id for this customer: the same id finds the same contact again.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// More attributes, readable in flows as `contact.<name>`.
    #[serde(default)]
    #[schema(schema_with = crate::api_enums::attributes_schema)]
    pub attributes: Map<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub struct StartResponse {
    pub conversation: ConversationView,
    /// The customer's secret for this conversation: send it as `Authorization: Bearer …`.
    pub token: String,
    /// What the flow said first.
    pub messages: Vec<MessageView>,
}

/// Roles a customer may see.
fn customer_visible(m: &Message) -> bool {
    m.role.customer_sees()
}

/// A customer's message: exactly one of `text` and `button` (both, or neither, is `422`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct SendRequest {
    /// Your id for this message (e.g. a UUID): a retry with the same id is answered with the
    /// first answer and never makes a second turn.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub client_id: Option<String>,
    /// What the customer typed (not blank).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub text: Option<String>,
    /// The id of a button the customer pressed.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub button: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SendResponse {
    pub conversation: ConversationView,
    /// The replies this message produced (for a retry: the replies of the first time).
    pub messages: Vec<MessageView>,
    /// The message was a retry of one already handled.
    pub duplicate: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MessagesPage {
    pub messages: Vec<MessageView>,
    pub last_seq: i64,
}

#[derive(Deserialize)]
pub struct AfterQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    token: Option<String>,
}

/// The client's address: the peer, or — only when the operator says a proxy sets it
/// (`--trust-forwarded-for`) — the last address the proxy added to X-Forwarded-For.
pub(crate) fn client_ip(headers: &HeaderMap, addr: SocketAddr, trust_forwarded_for: bool) -> String {
    if !trust_forwarded_for {
        return addr.ip().to_string();
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| addr.ip().to_string())
}

fn check_text(field: &str, text: &str) -> ApiResult<()> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid_field(field, format!("`{field}` is empty")));
    }
    if text.chars().count() > MAX_INPUT_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("`{field}` is longer than {MAX_INPUT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Starts a conversation on a live flow.
#[derive(Deserialize)]
pub struct AvailabilityQuery {
    widget_key: String,
    #[serde(default)]
    flow_id: Option<String>,
}

/// Whether the widget can start a conversation: a live flow (or the named one is live).
#[derive(Serialize, ToSchema)]
pub struct WidgetAvailability {
    pub available: bool,
}

/// Whether the widget has a live flow to start, so a page can hide its launcher when not
/// (it never says which flows there are).
#[utoipa::path(get, path = "/api/v1/widget/availability", tag = "customer",
    params(("widget_key" = String, Query), ("flow_id" = Option<String>, Query, description = "the flow the widget names, if any")),
    responses((status = 200, body = WidgetAvailability), (status = 404, description = "`not_found`: no such widget key", body = crate::error::ErrorBody)))]
async fn availability(
    State(state): State<AppState>,
    Query(q): Query<AvailabilityQuery>,
) -> ApiResult<Json<WidgetAvailability>> {
    let routing = &state.core.routing;
    let workspace = routing
        .workspace_by_widget_key(&q.widget_key)
        .await?
        .ok_or_else(|| ApiError::not_found("widget key").field("widget_key"))?;
    // Every page view with the widget asks: ids only, no flow documents, remembered a moment.
    let live = routing.live_versions(&workspace.id).await?;
    let available = match q.flow_id.as_deref().filter(|f| !f.is_empty()) {
        Some(flow_id) => live.iter().any(|(id, _)| id == flow_id),
        None => !live.is_empty(),
    };
    Ok(Json(WidgetAvailability { available }))
}

#[utoipa::path(post, path = "/api/v1/widget/conversations", tag = "customer",
    request_body = StartRequest,
    responses((status = 201, body = StartResponse),
              (status = 200, description = "a retry of a start with the same `client_id`", body = StartResponse),
              (status = 403, description = "`forbidden`: the `Origin` is not in the workspace's `allowed_origins`", body = crate::error::ErrorBody),
              (status = 404, description = "`not_found`: no such widget key, or `flow_id` is not a live flow", body = crate::error::ErrorBody),
              (status = 409, description = "`no_live_flow`: the workspace has no live flow", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn start_conversation(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<StartRequest>,
) -> ApiResult<Response> {
    if !state
        .start_limiter
        .allow(&client_ip(&headers, addr, state.trust_forwarded_for))
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many conversations started; wait a minute",
        ));
    }
    let workspace = state
        .core
        .routing
        .workspace_by_widget_key(&req.widget_key)
        .await?
        .ok_or_else(|| ApiError::not_found("widget key").field("widget_key"))?;
    let settings = state.core.settings.get(&workspace.id).await?;
    if !settings.allowed_origins.is_empty() {
        let origin = headers.get("origin").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !settings.allowed_origins.iter().any(|o| o == origin) {
            return Err(ApiError::forbidden(format!(
                "the origin `{origin}` may not start conversations for this workspace"
            )));
        }
    }
    let mut attributes = Map::new();
    let mut external_id = None;
    if let Some(c) = req.contact {
        if c.attributes.len() > MAX_ATTRIBUTES
            || Value::Object(c.attributes.clone()).to_string().len() > MAX_ATTRIBUTES_BYTES
        {
            return Err(ApiError::invalid_field(
                "contact.attributes",
                format!("at most {MAX_ATTRIBUTES} attributes and {MAX_ATTRIBUTES_BYTES} bytes"),
            ));
        }
        for key in c.attributes.keys() {
            if !baton_flow::template::is_valid_path(key) || key.contains('.') {
                return Err(ApiError::invalid_field(
                    &format!("contact.attributes.{key}"),
                    "attribute names are letters, digits and _",
                ));
            }
        }
        attributes = c.attributes;
        if let Some(name) = c.name {
            attributes.insert("name".into(), Value::String(name));
        }
        if let Some(email) = c.email {
            attributes.insert("email".into(), Value::String(email));
        }
        if let Some(ext) = c.external_id {
            if ext.is_empty() || ext.chars().count() > 200 {
                return Err(ApiError::invalid_field("contact.external_id", "1 to 200 characters"));
            }
            external_id = Some(ext);
        }
    }
    if let Some(m) = &req.message {
        check_text("message", m)?;
    }
    if let Some(page) = &req.page_url {
        if page.is_empty() || page.chars().count() > MAX_PAGE_URL_CHARS || page.chars().any(char::is_control) {
            return Err(ApiError::invalid_field(
                "page_url",
                format!("the page's URL: 1 to {MAX_PAGE_URL_CHARS} characters, no control characters"),
            ));
        }
    }
    let channel = req.channel.unwrap_or_else(|| "widget".into());
    if channel.is_empty()
        || channel.len() > 40
        || !channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ApiError::invalid_field("channel", "1 to 40 letters, digits, _ or -"));
    }
    let (conversation_id, token) = match &req.client_id {
        Some(client_id) => {
            if client_id.chars().count() < MIN_START_CLIENT_ID || client_id.chars().count() > MAX_CLIENT_ID {
                return Err(ApiError::invalid_field(
                    "client_id",
                    "a random id of 16 to 100 characters (a UUID): it gives back the conversation's token",
                ));
            }
            let secret = state.core.settings.webhook_secret(&workspace.id).await?;
            let (id, token) = started_by(&secret, client_id)?;
            if let Some(first) = first_answer(&state, &workspace.id, &id).await? {
                return Ok((StatusCode::OK, Json(StartResponse { token, ..first })).into_response());
            }
            (id, token)
        }
        None => (new_id("conv"), random_token(24)),
    };
    let (routed, awaiting_message) = entry_flow(
        &state,
        &workspace,
        req.flow_id.as_deref(),
        &channel,
        req.page_url.as_deref(),
        external_id.as_deref(),
        &attributes,
        req.message.as_deref(),
    )
    .await?;
    let token_hash = hash_token(&token);
    let submitted = state
        .engine
        .submit(TurnInput::Start(StartConversation {
            workspace_id: workspace.id.clone(),
            conversation_id: conversation_id.clone(),
            token_hash: token_hash.clone(),
            channel,
            routed,
            awaiting_message,
            page_url: req.page_url,
            external_id,
            attributes,
            first_message: req.message,
        }))
        .await;
    let outcome = match submitted {
        Ok(outcome) => outcome,
        // Two starts with one client_id at once: the other one's conversation is the answer.
        Err(e) if req.client_id.is_some() => match first_answer(&state, &workspace.id, &conversation_id).await? {
            Some(first) => return Ok((StatusCode::OK, Json(StartResponse { token, ..first })).into_response()),
            None => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    // The customer's next requests need no read to be let in.
    state.checked_tokens.insert(conversation_id.clone(), token_hash);
    state.awaiting_entry.insert(conversation_id.clone(), awaiting_message);
    let body = StartResponse {
        conversation: ConversationView::from(&outcome.conversation),
        token,
        messages: outcome.messages.iter().map(MessageView::from_message).collect(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The flow a new conversation starts on: the one the request names, or the one entry routing
/// chooses across the live flows (and whether it waits for the first message to choose).
#[allow(clippy::too_many_arguments)]
async fn entry_flow(
    state: &AppState,
    workspace: &baton_store::Workspace,
    flow_id: Option<&str>,
    channel: &str,
    page_url: Option<&str>,
    external_id: Option<&str>,
    attributes: &Map<String, Value>,
    message: Option<&str>,
) -> ApiResult<(Routed, bool)> {
    let store = &state.core.store;
    if let Some(id) = flow_id {
        let live = state.core.routing.live_versions(&workspace.id).await?;
        let (flow_id, version) = live
            .iter()
            .find(|(live_id, _)| live_id == id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("live flow").field("flow_id"))?;
        let routed = Routed {
            flow_id,
            version,
            by: baton_flow::entry::Matched::Named,
        };
        return Ok((routed, false));
    }
    // What the rules read: the contact as it will be (stored attributes, then the request's),
    // the channel and the page.
    let mut vars = BTreeMap::new();
    if let Some(ext) = external_id {
        if let Some(contact) = store.contact_by_external_id(&workspace.id, ext).await? {
            let stored: Map<String, Value> = serde_json::from_str(&contact.attributes).unwrap_or_default();
            for (k, v) in stored {
                vars.insert(format!("contact.{k}"), v);
            }
        }
    }
    for (k, v) in attributes {
        vars.insert(format!("contact.{k}"), v.clone());
    }
    vars.insert(
        baton_flow::entry::CHANNEL_VARIABLE.into(),
        Value::String(channel.into()),
    );
    if let Some(page) = page_url {
        vars.insert(baton_flow::entry::PAGE_URL_VARIABLE.into(), Value::String(page.into()));
    }
    let live = LiveFlows::load(&state.core, &workspace.id, workspace.fallback_flow_id.clone()).await?;
    match live.route(&state.core, &workspace.id, &vars, message).await {
        Some(Entry::Start(routed)) => Ok((routed, false)),
        Some(Entry::AwaitMessage(fallback)) => Ok((fallback, true)),
        None => Err(ApiError::conflict(
            "no_live_flow",
            "the workspace has no live flow: publish one and switch it on",
        )),
    }
}

/// The conversation id and token of a start with the customer's `client_id`: derived from it
/// with the workspace's secret, so a retry finds the same conversation and gets the same token
/// (which is stored only as a hash).
fn started_by(secret: &str, client_id: &str) -> ApiResult<(String, String)> {
    use hmac::{Hmac, Mac};
    let derive = |purpose: &str| -> ApiResult<Vec<u8>> {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
            .map_err(|e| ApiError::internal(format!("the workspace secret: {e}")))?;
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(client_id.as_bytes());
        Ok(mac.finalize().into_bytes().to_vec())
    };
    let id: String = derive("conversation id")?
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let token = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        derive("conversation token")?,
    );
    Ok((format!("conv_c{id}"), token))
}

/// What a start answered the first time, for a retry with the same `client_id`: the
/// conversation and the messages its first turn wrote (the token is the caller's to add).
async fn first_answer(state: &AppState, workspace_id: &str, conversation_id: &str) -> ApiResult<Option<StartResponse>> {
    let store = &state.core.store;
    let Some(conversation) = store
        .conversation(conversation_id)
        .await?
        .filter(|c| c.workspace_id == workspace_id)
    else {
        return Ok(None);
    };
    let messages = store
        .messages_after(conversation_id, 0, MAX_PAGE)
        .await?
        .into_iter()
        .filter(|m| m.created_at == conversation.created_at && m.role.says_to_customer())
        .map(|m| MessageView::from_message(&m))
        .collect();
    Ok(Some(StartResponse {
        conversation: ConversationView::from(&conversation),
        token: String::new(),
        messages,
    }))
}

/// The conversation as its customer sees it: its status and, while it waits for a person, the
/// place in the queue.
#[derive(Serialize, ToSchema)]
pub struct CustomerConversation {
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// While `queued`: the place in the queue; otherwise absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueuePlace>,
}

#[derive(Serialize, ToSchema)]
pub struct QueuePlace {
    /// 1: next to be taken.
    pub position: i64,
    /// How long the queue's last 20 conversations an agent took waited, on average (ms); `null`
    /// without any.
    #[schema(required = true)]
    pub typical_wait_ms: Option<i64>,
}

/// The conversation's status (and, while queued, its place in the queue).
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "customer",
    params(("id" = String, Path)), security(("conversation_token" = [])),
    responses((status = 200, body = CustomerConversation), (status = 404, body = crate::error::ErrorBody)))]
async fn get_conversation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<CustomerConversation>> {
    let conv = customer_conversation(&state, &id, &headers, None).await?;
    Ok(Json(CustomerConversation {
        conversation: ConversationView::from(&conv),
        queue: queue_place(&state, &conv).await?,
    }))
}

/// While the conversation is queued: its place in the queue (one read).
async fn queue_place(state: &AppState, conv: &Conversation) -> ApiResult<Option<QueuePlace>> {
    if conv.status != ConversationStatus::Queued {
        return Ok(None);
    }
    let standing = state.core.store.queue_standing(conv).await?;
    Ok(Some(QueuePlace {
        position: standing.ahead + 1,
        typical_wait_ms: standing.typical_pickup_ms,
    }))
}

/// Sends the customer's message (text or a button press) and returns the replies once stored.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "customer",
    params(("id" = String, Path)), security(("conversation_token" = [])), request_body = SendRequest,
    responses((status = 200, body = SendResponse), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn send_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SendRequest>,
) -> ApiResult<Json<SendResponse>> {
    let conversation_id = customer_conversation_id(&state, &id, &headers, None).await?;
    let outcome = send(&state, &conversation_id, req).await?;
    Ok(Json(SendResponse {
        conversation: ConversationView::from(&outcome.conversation),
        messages: outcome.messages.iter().map(MessageView::from_message).collect(),
        duplicate: outcome.duplicate,
    }))
}

async fn send(state: &AppState, conversation_id: &str, req: SendRequest) -> ApiResult<TurnOutcome> {
    if !state.message_limiter.allow(conversation_id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many messages; slow down",
        ));
    }
    if let Some(c) = &req.client_id {
        if c.is_empty() || c.chars().count() > MAX_CLIENT_ID {
            return Err(ApiError::invalid_field(
                "client_id",
                format!("1 to {MAX_CLIENT_ID} characters"),
            ));
        }
    }
    let content = match (req.text, req.button) {
        (Some(text), None) => {
            check_text("text", &text)?;
            CustomerContent::Text(text)
        }
        (None, Some(button)) => {
            if button.is_empty() || button.chars().count() > 64 {
                return Err(ApiError::invalid_field("button", "a button id of 1 to 64 characters"));
            }
            CustomerContent::Button(button)
        }
        (Some(_), Some(_)) => return Err(ApiError::invalid_field("button", "send `text` or `button`, not both")),
        (None, None) => {
            return Err(ApiError::invalid_field(
                "text",
                "send `text` (what the customer typed) or `button`",
            ))
        }
    };
    let awaiting = match state.awaiting_entry.with(conversation_id, |a| *a) {
        Some(awaiting) => awaiting,
        None => {
            let awaiting = state
                .core
                .store
                .conversation(conversation_id)
                .await?
                .is_some_and(|c| crate::routing::awaits_first_message(&c));
            state.awaiting_entry.insert(conversation_id.to_string(), awaiting);
            awaiting
        }
    };
    // One at a time while the conversation waits for its first message: a second message
    // waits here until the first is applied, then finds the flow chosen.
    let _first = match awaiting {
        true => Some(state.first_messages.lock(conversation_id).await),
        false => None,
    };
    let awaiting = awaiting && state.awaiting_entry.with(conversation_id, |a| *a).unwrap_or(true);
    let entry = match &content {
        CustomerContent::Text(text) if awaiting => {
            crate::routing::first_message_entry(&state.core, conversation_id, text).await?
        }
        _ => None,
    };
    let outcome = state
        .engine
        .submit(TurnInput::Customer {
            conversation_id: conversation_id.to_string(),
            client_id: req.client_id,
            content,
            entry,
        })
        .await
        .map_err(ApiError::from)?;
    if awaiting {
        state.awaiting_entry.insert(conversation_id.to_string(), false);
    }
    Ok(outcome)
}

/// Messages after a sequence number (polling).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "customer",
    params(("id" = String, Path), ("after" = Option<i64>, Query, minimum = 0, description = "only messages with a larger seq"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "at most this many (default 200)"),
           ("token" = Option<String>, Query, description = "the conversation token, when it cannot be sent as `Authorization: Bearer …`")),
    security(("conversation_token" = [])),
    responses((status = 200, body = MessagesPage), (status = 404, body = crate::error::ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
) -> ApiResult<Json<MessagesPage>> {
    let conversation_id = customer_conversation_id(&state, &id, &headers, q.token.as_deref()).await?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let messages = state
        .core
        .store
        .messages_after(&conversation_id, q.after.unwrap_or(0).max(0), limit)
        .await?;
    let last_seq = messages.last().map_or(q.after.unwrap_or(0), |m| m.seq);
    Ok(Json(MessagesPage {
        messages: messages
            .iter()
            .filter(|m| customer_visible(m))
            .map(MessageView::from_message)
            .collect(),
        last_seq,
    }))
}

/// A WebSocket that receives the conversation's status as `{"type": "status", "status": …,
/// "queue": {…} or null, "agent": {"name": …} or null}` (at once, then whenever it changes),
/// every new message as `{"type": "message", "message": {…}}` (first those after `?after=`),
/// and `{"type": "typing", "agent": {"name": …}}` while an agent types; it accepts the
/// customer's messages as `{"type": "message", "client_id": …, "text": …}` or `"button"`.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/ws", tag = "customer",
    params(("id" = String, Path), ("token" = Option<String>, Query, description = "the conversation token (browsers cannot send a header on a WebSocket)"),
           ("after" = Option<i64>, Query, minimum = 0)),
    security(("conversation_token" = [])),
    responses((status = 101, description = "switching to WebSocket"), (status = 404, body = crate::error::ErrorBody)))]
async fn websocket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let conversation_id = customer_conversation_id(&state, &id, &headers, q.token.as_deref()).await?;
    let after = q.after.unwrap_or(0).max(0);
    Ok(ws
        .max_message_size(CUSTOMER_WS_READ_MAX)
        .max_frame_size(CUSTOMER_WS_READ_MAX)
        .read_buffer_size(WS_BUFFER)
        // Frames written together (a turn's replies) wait here for one flush: one system call.
        .write_buffer_size(WS_BUFFER)
        .on_upgrade(move |socket| follow(state, conversation_id, after, socket)))
}

/// The largest frame a customer may send; a larger one gets an error frame.
const CUSTOMER_WS_FRAME: usize = 64 * 1024;
/// The largest frame read at all; a larger one closes the socket with 1009 (message too big).
const CUSTOMER_WS_READ_MAX: usize = 256 * 1024;
/// A socket's read buffer, and how much a customer socket's writes gather before they go out
/// (frames written together wait for one flush). The library's default (128 KiB, allocated
/// per socket) would make 10,000 idle customers cost over a gigabyte; frames here are small
/// chat messages.
pub const WS_BUFFER: usize = 4 * 1024;

/// What a customer's WebSocket frame asks for.
enum WsIncoming {
    Message(SendRequest),
    Ping,
}

/// Reads a frame: `{"type": "ping"}` or `{"type": "message", …SendRequest}`; errors name the field.
fn parse_frame(text: &str) -> ApiResult<WsIncoming> {
    let mut value: Value = crate::json::parse(text.as_bytes())?;
    let kind = value
        .as_object_mut()
        .and_then(|o| o.remove("type"))
        .ok_or_else(|| ApiError::bad_request("invalid_body", "a frame is a JSON object with a `type`").field("type"))?;
    match kind.as_str() {
        Some("ping") => Ok(WsIncoming::Ping),
        Some("message") => crate::json::parse(value.to_string().as_bytes()).map(WsIncoming::Message),
        _ => Err(ApiError::bad_request("invalid_body", "`type` is `message` or `ping`").field("type")),
    }
}

/// The conversation's status frame: who has it, the place in the queue while queued, the
/// agent's name while assigned. Read when a socket opens and when the status changes, never on
/// an ordinary turn.
async fn status_frame(state: &AppState, conv: &Conversation) -> Value {
    // Without the extras (a failed read) the status itself still goes out.
    let queue = queue_place(state, conv).await.ok().flatten();
    let agent = match (conv.status, conv.assignee.as_deref()) {
        (ConversationStatus::Assigned, Some(member_id)) => agent_name(state, member_id).await,
        _ => None,
    };
    serde_json::json!({
        "type": "status",
        "status": conv.status,
        "queue": queue,
        "agent": agent.map(|name| serde_json::json!({ "name": name })),
    })
}

/// The name of the agent who has a conversation, as its customer sees it: read once (a
/// member's name never changes).
async fn agent_name(state: &AppState, member_id: &str) -> Option<String> {
    if let Some(name) = state.agent_names.with(member_id, String::clone) {
        return Some(name);
    }
    let name = state.core.store.member(member_id).await.ok().flatten()?.name;
    state.agent_names.insert(member_id.to_string(), name.clone());
    Some(name)
}

/// The conversation's status frame, unless it is the one sent last: from the conversation as
/// a turn of this instance committed it (`committed`), else as the store has it now.
async fn changed_status(
    state: &AppState,
    conversation_id: &str,
    committed: Option<&Conversation>,
    last: &mut Option<Value>,
) -> Option<Value> {
    let read;
    let conv = match committed {
        Some(conv) => conv,
        None => {
            read = state.core.store.conversation(conversation_id).await.ok().flatten()?;
            &read
        }
    };
    let frame = status_frame(state, conv).await;
    if last.as_ref() == Some(&frame) {
        return None;
    }
    *last = Some(frame.clone());
    Some(frame)
}

async fn send_frame<S>(sink: &mut S, frame: &Value) -> Result<(), ()>
where
    S: futures_util::Sink<WsMessage> + Unpin,
{
    sink.send(WsMessage::Text(serde_json::to_string(frame).unwrap_or_default().into()))
        .await
        .map_err(|_| ())
}

async fn follow(state: AppState, conversation_id: String, after: i64, socket: WebSocket) {
    METRICS.ws_connections.fetch_add(1, Ordering::Relaxed);
    let mut updates = state.core.hub.subscribe(&conversation_id);
    let mut drafts = state.core.hub.subscribe_drafts(&conversation_id);
    let mut signals = state.core.hub.subscribe_signals(&conversation_id);
    let (mut sink, mut stream) = socket.split();
    let mut sent = after;
    // The status first (subscribed before reading it: a change in between is signalled).
    let mut last_status = None;
    if let Ok(Some(conv)) = state.core.store.conversation(&conversation_id).await {
        let frame = status_frame(&state, &conv).await;
        state
            .core
            .hub
            .status_seen(&conv.id, conv.status, conv.assignee.as_deref());
        if send_frame(&mut sink, &frame).await.is_err() {
            METRICS.ws_connections.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        last_status = Some(frame);
    }
    // Subscribed first, then the backlog page by page: nothing committed in between is missed.
    while let Ok(backlog) = state.core.store.messages_after(&conversation_id, sent, MAX_PAGE).await {
        for m in backlog.iter().filter(|m| customer_visible(m)) {
            if send_ws(&mut sink, m).await.is_err() {
                METRICS.ws_connections.fetch_sub(1, Ordering::Relaxed);
                return;
            }
        }
        match backlog.last() {
            Some(last) => sent = last.seq,
            None => break,
        }
        if (backlog.len() as i64) < MAX_PAGE {
            break;
        }
    }
    loop {
        tokio::select! {
            update = updates.recv() => {
                // This message and those published with it (a turn's replies) go out together.
                let mut ready = crate::hub::ready(update, &mut updates);
                if ready.lagged.is_some() {
                    // Too far behind: catch up from the store.
                    match state.core.store.messages_after(&conversation_id, sent, MAX_PAGE).await {
                        Ok(missed) => ready.items.extend(missed.into_iter().map(Arc::new)),
                        Err(_) => break,
                    }
                }
                let mut wrote = false;
                let mut failed = false;
                for m in &ready.items {
                    if m.seq <= sent || !customer_visible(m) {
                        continue;
                    }
                    if feed_ws(&mut sink, m).await.is_err() {
                        failed = true;
                        break;
                    }
                    sent = m.seq;
                    wrote = true;
                }
                if failed || (wrote && sink.flush().await.is_err()) || ready.closed {
                    break;
                }
            },
            signal = signals.recv() => {
                let frame = match signal {
                    Ok(signal) => match &*signal {
                        Signal::StatusChanged(committed) => {
                            changed_status(&state, &conversation_id, committed.as_deref(), &mut last_status).await
                        }
                        Signal::Typing { agent_name } => {
                            Some(serde_json::json!({"type": "typing", "agent": {"name": agent_name}}))
                        }
                    },
                    // Signals were skipped: the status may have changed among them.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        changed_status(&state, &conversation_id, None, &mut last_status).await
                    }
                    Err(_) => break,
                };
                if let Some(frame) = frame {
                    if send_frame(&mut sink, &frame).await.is_err() {
                        break;
                    }
                }
            },
            draft = drafts.recv() => match draft {
                Ok(text) => {
                    let frame = serde_json::json!({"type": "draft", "text": text.as_str()});
                    if sink.send(WsMessage::Text(frame.to_string().into())).await.is_err() {
                        break;
                    }
                }
                // A slow reader skips drafts: each one has the whole text so far.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Text(text))) if text.len() > CUSTOMER_WS_FRAME => {
                    let reply = serde_json::json!({"type": "error", "code": "frame_too_large",
                        "message": format!("frames are at most {CUSTOMER_WS_FRAME} bytes"), "field": null});
                    if sink.send(WsMessage::Text(reply.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(WsMessage::Binary(_))) => {
                    let reply = serde_json::json!({"type": "error", "code": "invalid_body",
                        "message": "frames are JSON text; binary frames are not read", "field": null});
                    if sink.send(WsMessage::Text(reply.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(WsMessage::Text(text))) => {
                    let reply = match parse_frame(&text) {
                        Ok(WsIncoming::Ping) => serde_json::json!({"type": "pong"}),
                        Ok(WsIncoming::Message(request)) => {
                            match send(&state, &conversation_id, request).await {
                                Ok(o) => serde_json::json!({"type": "ack", "duplicate": o.duplicate, "status": o.conversation.status}),
                                Err(e) => serde_json::json!({"type": "error", "code": e.code, "message": e.message, "field": e.field}),
                            }
                        }
                        Err(e) => serde_json::json!({"type": "error", "code": e.code, "message": e.message, "field": e.field}),
                    };
                    if sink.send(WsMessage::Text(reply.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Some(Err(e)) => {
                    // Over the read limit: say so with 1009 before closing (other errors end
                    // the connection anyway).
                    if e.to_string().contains("too long") {
                        let close = CloseFrame {
                            code: axum::extract::ws::close_code::SIZE,
                            reason: "frame too large".into(),
                        };
                        let _ = sink.send(WsMessage::Close(Some(close))).await;
                    }
                    break;
                }
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    METRICS.ws_connections.fetch_sub(1, Ordering::Relaxed);
}

/// A message frame, sent at once.
async fn send_ws<S>(sink: &mut S, m: &Message) -> Result<(), ()>
where
    S: futures_util::Sink<WsMessage> + Unpin,
{
    sink.send(message_frame(m)).await.map_err(|_| ())
}

/// A message frame, written without a flush (the caller flushes after the last).
async fn feed_ws<S>(sink: &mut S, m: &Message) -> Result<(), ()>
where
    S: futures_util::Sink<WsMessage> + Unpin,
{
    sink.feed(message_frame(m)).await.map_err(|_| ())
}

fn message_frame(m: &Message) -> WsMessage {
    /// `{"type": "message", "message": …}`, serialised without building a JSON value first.
    #[derive(serde::Serialize)]
    struct MessageFrame {
        #[serde(rename = "type")]
        kind: &'static str,
        message: MessageView,
    }
    let frame = MessageFrame {
        kind: "message",
        message: MessageView::from_message(m),
    };
    WsMessage::Text(serde_json::to_string(&frame).unwrap_or_default().into())
}

/// The webhook delivery log of a conversation (every attempt, with status or error).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/deliveries", tag = "members",
    params(("id" = String, Path), crate::pages::PageParams), security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = crate::pages::Page<WebhookDeliveryShape>), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<crate::pages::PageQuery>,
) -> ApiResult<Json<crate::pages::Page<WebhookDelivery>>> {
    caller.require(Role::Agent)?;
    let conv = crate::routes::inbox::workspace_conversation(&state, &caller, &id).await?;
    let log = state.core.store.deliveries(&conv.id).await?;
    Ok(Json(crate::pages::page_of(log, |d| d.id.to_string(), &page)?))
}

/// One attempt of a webhook node's call (`baton_store::WebhookDelivery`).
#[derive(utoipa::ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct WebhookDeliveryShape {
    pub id: i64,
    pub workspace_id: String,
    pub conversation_id: String,
    /// The Send to Webhook node.
    pub node: String,
    pub url: String,
    /// 1 for the first try, then each retry.
    pub attempt: i64,
    /// The HTTP status, `null` when no response came.
    #[schema(required = true)]
    pub status_code: Option<i64>,
    /// Why it failed, `null` on a response.
    #[schema(required = true)]
    pub error: Option<String>,
    pub duration_ms: i64,
    pub created_at: i64,
}

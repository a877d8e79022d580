//! The inbox: queues and conversations for agents, the hand-over context, agent actions,
//! presence, teams, real-time events, and hand-over analytics per flow node.

use crate::auth::{customer_conversation_id, Caller, Role};
use crate::engine::{AgentAction, TurnInput};
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::json::ApiJson;
use crate::pages::{page_of, Page, PageQuery};
use crate::routes::conversations::{ConversationView, MessageView};
use crate::state::AppState;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use baton_flow::hours::BusinessHours;
use baton_flow::sla::ReplyTargets;
use baton_store::{Conversation, InboxFilter, InboxKey, InboxRow, InboxSort, Team};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/inbox/conversations", get(list))
        .route("/api/v1/inbox/counts", get(counts))
        .route("/api/v1/inbox/conversations/{id}", get(detail))
        .route("/api/v1/inbox/conversations/{id}/read", post(mark_read))
        .route("/api/v1/inbox/conversations/{id}/claim", post(claim))
        .route("/api/v1/inbox/conversations/{id}/assign", post(assign))
        .route("/api/v1/inbox/conversations/{id}/transfer", post(transfer))
        .route("/api/v1/inbox/conversations/{id}/reply", post(reply))
        .route("/api/v1/inbox/conversations/{id}/note", post(note))
        .route("/api/v1/inbox/conversations/{id}/hand-back", post(hand_back))
        .route("/api/v1/inbox/conversations/{id}/resolve", post(resolve))
        .route("/api/v1/inbox/ws", get(inbox_socket))
        .route("/api/v1/me/presence", put(set_presence))
        .route("/api/v1/teams", get(list_teams).post(create_team))
        .route("/api/v1/teams/{id}", put(update_team))
        .route("/api/v1/flows/{id}/analytics", get(analytics))
}

/// The customer's side: stop waiting for a person.
pub fn customer_routes() -> Router<AppState> {
    Router::new().route("/api/v1/conversations/{id}/cancel", post(customer_cancel))
}

#[derive(Serialize, ToSchema)]
pub struct InboxItem {
    #[serde(flatten)]
    pub conversation: ConversationView,
    #[schema(required = true)]
    pub team: Option<String>,
    #[schema(required = true)]
    pub assignee: Option<String>,
    #[schema(value_type = Option<crate::api_enums::PriorityName>, required = true)]
    pub priority: Option<String>,
    /// When it was queued (ms since the epoch).
    #[schema(required = true)]
    pub waiting_since: Option<i64>,
    /// When the agent who has it must reply by (the team's reply targets; ms since the
    /// epoch), or `null` when no target runs.
    #[schema(required = true)]
    pub reply_due_at: Option<i64>,
    /// Contact attributes (name, email, …).
    #[schema(value_type = Object)]
    pub contact: Value,
    /// Who the customer is, from the contact's attributes or what the flow collected.
    pub customer: CustomerIdentity,
    /// The newest message the customer, the bot or an agent wrote, or `null`.
    #[schema(required = true)]
    pub last_message: Option<LastMessage>,
    /// Why it was handed over (the open hand-over's reason), or `null`.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The customer wrote since the signed-in member last read it (`POST …/read`); always
    /// `false` for an API key.
    pub unread: bool,
}

/// A page of the inbox list.
#[derive(Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// How many conversations the filters list, on all pages.
    pub total: i64,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The customer's name and email as far as known: the contact's `name` and `email`
/// attributes, else the flow's variables (`name`, `customer_name`, `full_name`, `first_name`;
/// `email`, `customer_email`).
#[derive(Serialize, ToSchema, Default)]
pub struct CustomerIdentity {
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LastMessage {
    #[schema(value_type = crate::api_enums::MessageRoleName)]
    pub role: String,
    /// Its first 140 characters.
    pub text: String,
    pub at: i64,
}

/// The variables of a flow state, the rest skipped.
#[derive(Deserialize)]
struct JustVars {
    #[serde(default)]
    vars: serde_json::Map<String, Value>,
}

/// The reason of a hand-over's context package, the rest skipped.
#[derive(Deserialize)]
struct JustReason {
    #[serde(default)]
    reason: Option<String>,
}

/// Longest text of a message in a list row.
const ROW_TEXT_CHARS: usize = 140;

/// The first string among `keys` in `attributes`, then in the flow's `vars`.
fn first_known(attributes: &Value, vars: &Value, keys: &[&str]) -> Option<String> {
    [attributes, vars].into_iter().find_map(|source| {
        keys.iter().find_map(|k| {
            source[*k]
                .as_str()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| v.chars().take(ROW_TEXT_CHARS).collect())
        })
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    /// Comma-separated statuses (default `queued,assigned`).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    team: Option<String>,
    /// `me`, `none` or a member id.
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    /// Words to find in the transcripts (notes included) and the contacts' attributes.
    #[serde(default)]
    q: Option<String>,
    /// `priority` (default), `waiting` or `newest`.
    #[serde(default)]
    sort: Option<String>,
    /// The `next_cursor` of the page before.
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// Longest search text of the inbox list.
const MAX_SEARCH_CHARS: usize = 200;

/// A page cursor: the sort it belongs to and the last row's place in it.
fn cursor_of(sort: InboxSort, key: &InboxKey) -> String {
    format!("{}.{}.{}.{}", sort.as_str(), key.rank, key.time, key.id)
}

fn parse_cursor(sort: InboxSort, cursor: &str) -> ApiResult<InboxKey> {
    let bad = || ApiError::invalid_field("cursor", "not a cursor of this list: pass `next_cursor` as it came");
    let mut parts = cursor.splitn(4, '.');
    if parts.next() != Some(sort.as_str()) {
        return Err(bad());
    }
    let rank = parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?;
    let time = parts.next().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().filter(|id| !id.is_empty()).ok_or_else(bad)?;
    Ok(InboxKey {
        rank,
        time,
        id: id.to_string(),
    })
}

fn member_of(caller: &Caller) -> ApiResult<&baton_store::Member> {
    caller
        .member
        .as_ref()
        .ok_or_else(|| ApiError::forbidden("agent actions need a signed-in member, not an API key"))
}

/// The conversation `id` of the caller's workspace (`404` for another's).
pub(crate) async fn workspace_conversation(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Conversation> {
    state
        .core
        .store
        .conversation(id)
        .await?
        .filter(|c| c.workspace_id == caller.workspace_id)
        .ok_or_else(|| ApiError::not_found("conversation"))
}

/// A conversation as an inbox row, `unread` for the member `reader` ("" for an API key).
async fn item(state: &AppState, c: &Conversation, reader: &str) -> ApiResult<InboxItem> {
    // One read: the contact's attributes, the last word, the open hand-over's context, how far
    // the reader has read.
    let row = state.core.store.inbox_row(&c.id, &c.contact_id, reader).await?;
    Ok(item_of(c, row, reader))
}

/// The inbox item of a conversation and its row as `reader` sees it.
fn item_of(c: &Conversation, row: InboxRow, reader: &str) -> InboxItem {
    let unread = !reader.is_empty() && row.last_customer_seq.unwrap_or(0) > row.read_seq.unwrap_or(0);
    let contact = row
        .attributes
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or(json!({}));
    let known = |key: &str| contact[key].as_str().is_some_and(|v| !v.trim().is_empty());
    // The flow's variables are read only when the contact does not say (the state is large).
    let vars = if known("name") && known("email") {
        Value::Null
    } else {
        serde_json::from_str::<JustVars>(&c.state)
            .map(|s| Value::Object(s.vars))
            .unwrap_or(Value::Null)
    };
    let customer = CustomerIdentity {
        name: first_known(&contact, &vars, &["name", "customer_name", "full_name", "first_name"]),
        email: first_known(&contact, &vars, &["email", "customer_email"]),
    };
    let last_message = match (row.last_role, row.last_text, row.last_at) {
        (Some(role), Some(text), Some(at)) => Some(LastMessage {
            role,
            text: text.chars().take(ROW_TEXT_CHARS).collect(),
            at,
        }),
        _ => None,
    };
    let reason = row
        .open_context
        .and_then(|context| serde_json::from_str::<JustReason>(&context).ok())
        .and_then(|ctx| ctx.reason);
    InboxItem {
        conversation: ConversationView::from(c),
        team: c.team.clone(),
        assignee: c.assignee.clone(),
        priority: c.priority.clone(),
        waiting_since: c.queued_at,
        reply_due_at: c.reply_due_at,
        contact,
        customer,
        last_message,
        reason,
        unread,
    }
}

/// Conversations waiting for or with a person, filtered and searched, a page at a time; by
/// default urgent and longest waiting first.
#[utoipa::path(get, path = "/api/v1/inbox/conversations", tag = "inbox", security(("session" = []), ("api_key" = [])),
    params(("status" = Option<Vec<crate::api_enums::ConversationStatusName>>, Query, style = Form, explode = false,
                description = "comma-separated statuses (default queued,assigned)"),
           ("team" = Option<String>, Query, description = "a team's slug"), ("assignee" = Option<String>, Query, description = "me, none or a member id"),
           ("priority" = Option<crate::api_enums::PriorityName>, Query),
           ("q" = Option<String>, Query, max_length = 200, description = "words to find in the transcripts (notes included) and the contacts' attributes, case-insensitive"),
           ("sort" = Option<crate::api_enums::InboxSortName>, Query, description = "priority (default): urgent first, then longest waiting; waiting: longest waiting first; newest: most recently active first"),
           ("cursor" = Option<String>, Query, description = "the next_cursor of the page before"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "default 100")),
    responses((status = 200, body = InboxPage), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn list(State(state): State<AppState>, caller: Caller, Query(q): Query<ListQuery>) -> ApiResult<Json<InboxPage>> {
    caller.require(Role::Agent)?;
    let filter = list_filter(&state, &caller, q).await?;
    let mut rows = state.core.store.inbox(&caller.workspace_id, &filter).await?;
    // One row more than a page says whether there is another page.
    let next_cursor = if rows.len() as i64 == filter.limit {
        rows.pop();
        rows.last().map(|c| cursor_of(filter.sort, &filter.sort.key(c)))
    } else {
        None
    };
    let total = state.core.store.inbox_total(&caller.workspace_id, &filter).await?;
    let reader = caller.member_id().unwrap_or("");
    let mut items = Vec::with_capacity(rows.len());
    for c in &rows {
        items.push(item(&state, c, reader).await?);
    }
    Ok(Json(InboxPage {
        items,
        total,
        next_cursor,
    }))
}

/// The list's query checked, every filter alike: a value that cannot match is a `422` naming it.
async fn list_filter(state: &AppState, caller: &Caller, q: ListQuery) -> ApiResult<InboxFilter> {
    let statuses: Vec<String> = q
        .status
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for s in &statuses {
        if s.parse::<baton_store::ConversationStatus>().is_err() {
            return Err(ApiError::invalid_field(
                "status",
                format!("`{s}` is not a status: queued, assigned, bot, resolved or follow_up"),
            ));
        }
    }
    let priority = q.priority.filter(|p| !p.is_empty());
    if let Some(p) = &priority {
        if !baton_flow::document::Priority::ALL.iter().any(|x| x.as_str() == p) {
            return Err(ApiError::invalid_field(
                "priority",
                format!("`{p}` is not a priority: low, normal, high or urgent"),
            ));
        }
    }
    let team = q.team.filter(|t| !t.is_empty());
    if let Some(t) = &team {
        let teams = state.core.store.teams(&caller.workspace_id).await?;
        if !teams.iter().any(|x| &x.slug == t) {
            return Err(ApiError::invalid_field(
                "team",
                format!("the workspace has no team `{t}`"),
            ));
        }
    }
    let assignee = match q.assignee.as_deref() {
        None | Some("") => None,
        Some("none") => Some(None),
        Some("me") => Some(Some(member_of(caller)?.id.clone())),
        Some(id) => {
            let known = state.core.store.member(id).await?;
            if known.is_none_or(|m| m.workspace_id != caller.workspace_id) {
                return Err(ApiError::invalid_field(
                    "assignee",
                    format!("`{id}` is not me, none or a member of the workspace"),
                ));
            }
            Some(Some(id.to_string()))
        }
    };
    let search = q.q.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
        return Err(ApiError::invalid_field(
            "q",
            format!("at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    let sort = match q.sort.as_deref() {
        None | Some("") => InboxSort::default(),
        Some(s) => InboxSort::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
            ApiError::invalid_field("sort", format!("`{s}` is not an order: priority, waiting or newest"))
        })?,
    };
    let after = q
        .cursor
        .filter(|c| !c.is_empty())
        .map(|c| parse_cursor(sort, &c))
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "1 to 500"));
    }
    Ok(InboxFilter {
        statuses,
        team,
        assignee,
        priority,
        search,
        sort,
        after,
        // One more than asked: whether another page follows.
        limit: limit + 1,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// Read up to this message (default: all of it).
    #[serde(default)]
    pub seq: Option<i64>,
}

/// The signed-in member has read the conversation (up to `seq`): it is no longer `unread`
/// for them until the customer writes again.
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/read", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), request_body = ReadRequest,
    responses((status = 204, description = "marked read"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReadRequest>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Agent)?;
    let member = member_of(&caller)?;
    let c = workspace_conversation(&state, &caller, &id).await?;
    let seq = req.seq.unwrap_or(c.last_seq);
    if seq < 0 {
        return Err(ApiError::invalid_field("seq", "0 or more"));
    }
    state
        .core
        .store
        .mark_read(&member.id, &c.id, seq.min(c.last_seq))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open conversations of one team (`team: null`: the default queue).
#[derive(Serialize, ToSchema)]
pub struct TeamCount {
    #[schema(required = true)]
    pub team: Option<String>,
    pub queued: i64,
    pub assigned: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Counts {
    pub teams: Vec<TeamCount>,
}

/// Open conversations per team: `{"teams": [{"team", "queued", "assigned"}]}`.
#[utoipa::path(get, path = "/api/v1/inbox/counts", tag = "inbox", security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = Counts)))]
async fn counts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Counts>> {
    caller.require(Role::Agent)?;
    let rows = state.core.store.inbox_counts(&caller.workspace_id).await?;
    let mut teams: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (team, status, n) in rows {
        let entry = teams.entry(team.unwrap_or_default()).or_default();
        if status == "queued" {
            entry.0 += n;
        } else {
            entry.1 += n;
        }
    }
    let teams = teams
        .into_iter()
        .map(|(team, (queued, assigned))| TeamCount {
            team: Some(team).filter(|t| !t.is_empty()),
            queued,
            assigned,
        })
        .collect();
    Ok(Json(Counts { teams }))
}

/// A conversation for the agent: the hand-over context first, then timeline, transcript
/// (with notes), variables and the flow's nodes (to hand back to).
#[utoipa::path(get, path = "/api/v1/inbox/conversations/{id}", tag = "inbox", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = InboxDetail), (status = 404, body = crate::error::ErrorBody)))]
async fn detail(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let c = workspace_conversation(&state, &caller, &id).await?;
    let store = &state.core.store;
    let handovers: Vec<Value> = store
        .handovers_of(&c.id)
        .await?
        .into_iter()
        .map(|h| {
            let context: Value = serde_json::from_str(&h.context).unwrap_or(json!({}));
            json!({ "id": h.id, "node": h.node, "team": h.team, "assignee": h.assignee, "priority": h.priority,
                    "status": h.status, "queued_at": h.queued_at, "assigned_at": h.assigned_at, "ended_at": h.ended_at,
                    "context": context })
        })
        .collect();
    let timeline: Vec<Value> = store
        .timeline(&c.id)
        .await?
        .into_iter()
        .map(|t| json!({ "kind": t.kind, "actor": t.actor, "at": t.at, "data": t.data.and_then(|d| serde_json::from_str::<Value>(&d).ok()) }))
        .collect();
    let transcript: Vec<MessageView> = store
        .messages_after(&c.id, 0, 1000)
        .await?
        .iter()
        .map(MessageView::from_message)
        .collect();
    let flow_state: baton_flow::State = serde_json::from_str(&c.state).unwrap_or_default();
    let nodes: Vec<Value> = match state.core.flows.get(&c.flow_id, c.flow_version).await {
        Ok(flow) => flow
            .nodes()
            .iter()
            .map(|n| json!({ "id": n.id, "type": n.kind.type_name() }))
            .collect(),
        Err(_) => Vec::new(),
    };
    let current = handovers
        .iter()
        .rev()
        .find(|h| h["status"] == "queued" || h["status"] == "assigned")
        .cloned();
    Ok(Json(json!({
        "conversation": item(&state, &c, caller.member_id().unwrap_or("")).await?,
        "handover": current,
        "handovers": handovers,
        "timeline": timeline,
        "transcript": transcript,
        "variables": flow_state.vars,
        "at_node": flow_state.at,
        "nodes": nodes,
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub member_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct TransferRequest {
    /// A team slug: the conversation waits in that team's queue.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub team: Option<String>,
    /// A member: the conversation goes to them.
    #[serde(default)]
    pub member_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextRequest {
    /// Not blank; at most 4,000 characters.
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub text: String,
    /// For replies: a retry with the same id is not sent twice (notes ignore it).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub client_id: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct HandBackRequest {
    /// Variables the flow continues with, e.g. {"refund_id": "R-1"}.
    #[serde(default)]
    #[schema(schema_with = crate::api_enums::variables_schema)]
    pub variables: BTreeMap<String, Value>,
    /// Continue at this node instead of the Handover node's `handed_back` port.
    #[serde(default)]
    pub resume_at: Option<String>,
}

/// What an agent action answers: the conversation as the inbox lists it, and the messages the
/// action wrote.
#[derive(Serialize, ToSchema)]
pub struct ActionResponse {
    pub conversation: InboxItem,
    pub messages: Vec<MessageView>,
}

async fn act(state: &AppState, caller: &Caller, id: &str, action: AgentAction) -> ApiResult<Json<ActionResponse>> {
    caller.require(Role::Agent)?;
    let member = member_of(caller)?;
    // The turn checks that the conversation is in the member's workspace.
    let outcome = state
        .engine
        .submit(TurnInput::Agent {
            conversation_id: id.to_string(),
            member: member.clone(),
            action,
        })
        .await?;
    // The turn read the row in its transaction.
    let conversation = match outcome.inbox_row {
        Some(row) => item_of(&outcome.conversation, row, &member.id),
        None => item(state, &outcome.conversation, &member.id).await?,
    };
    Ok(Json(ActionResponse {
        conversation,
        messages: outcome.messages.iter().map(MessageView::from_message).collect(),
    }))
}

/// Takes a queued conversation; exactly one of two simultaneous claims wins (409 `already_claimed`).
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/claim", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), responses((status = 200, body = ActionResponse), (status = 409, body = crate::error::ErrorBody)))]
async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ActionResponse>> {
    act(&state, &caller, &id, AgentAction::Claim).await
}

/// Gives the conversation to a member.
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/assign", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), request_body = AssignRequest, responses((status = 200, body = ActionResponse), (status = 404, body = crate::error::ErrorBody)))]
async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<ActionResponse>> {
    act(
        &state,
        &caller,
        &id,
        AgentAction::Assign {
            member_id: req.member_id,
        },
    )
    .await
}

/// Moves the conversation to another team's queue or to a member.
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/transfer", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), request_body = TransferRequest, responses((status = 200, body = ActionResponse), (status = 422, body = crate::error::ErrorBody)))]
async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> ApiResult<Json<ActionResponse>> {
    if let Some(team) = &req.team {
        let teams = state.core.store.teams(&caller.workspace_id).await?;
        if !teams.iter().any(|t| &t.slug == team) {
            return Err(ApiError::invalid_field(
                "team",
                format!("the workspace has no team `{team}`"),
            ));
        }
    }
    act(
        &state,
        &caller,
        &id,
        AgentAction::Transfer {
            team: req.team,
            member_id: req.member_id,
        },
    )
    .await
}

fn check_text(text: &str) -> ApiResult<()> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid_field("text", "`text` is empty"));
    }
    if text.chars().count() > baton_flow::matching::MAX_INPUT_CHARS {
        return Err(ApiError::invalid_field(
            "text",
            format!(
                "`text` is longer than {} characters",
                baton_flow::matching::MAX_INPUT_CHARS
            ),
        ));
    }
    Ok(())
}

/// Writes to the customer (claims the conversation first when it is still queued).
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/reply", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), request_body = TextRequest, responses((status = 200, body = ActionResponse), (status = 409, body = crate::error::ErrorBody)))]
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TextRequest>,
) -> ApiResult<Json<ActionResponse>> {
    check_text(&req.text)?;
    if req
        .client_id
        .as_ref()
        .is_some_and(|c| c.is_empty() || c.chars().count() > 100)
    {
        return Err(ApiError::invalid_field("client_id", "1 to 100 characters"));
    }
    act(
        &state,
        &caller,
        &id,
        AgentAction::Reply {
            text: req.text,
            client_id: req.client_id,
        },
    )
    .await
}

/// Writes an internal note: members see it, the customer never does.
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/note", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), request_body = TextRequest, responses((status = 200, body = ActionResponse)))]
async fn note(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TextRequest>,
) -> ApiResult<Json<ActionResponse>> {
    check_text(&req.text)?;
    act(&state, &caller, &id, AgentAction::Note { text: req.text }).await
}

/// Hands the conversation back to the flow: it continues from the Handover node's
/// `handed_back` port (or `resume_at`) with the given variables.
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/hand-back", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), request_body = HandBackRequest,
    responses((status = 200, body = ActionResponse), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn hand_back(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HandBackRequest>,
) -> ApiResult<Json<ActionResponse>> {
    if req.variables.len() > 50
        || Value::Object(req.variables.clone().into_iter().collect())
            .to_string()
            .len()
            > 16 * 1024
    {
        return Err(ApiError::invalid_field("variables", "at most 50 variables and 16 KB"));
    }
    act(
        &state,
        &caller,
        &id,
        AgentAction::HandBack {
            variables: req.variables,
            resume_at: req.resume_at,
        },
    )
    .await
}

/// Resolves the conversation: the flow continues from `resolved` if wired, else it closes.
#[utoipa::path(post, path = "/api/v1/inbox/conversations/{id}/resolve", tag = "inbox", params(("id" = String, Path)),
    security(("session" = [])), responses((status = 200, body = ActionResponse), (status = 409, body = crate::error::ErrorBody)))]
async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ActionResponse>> {
    act(&state, &caller, &id, AgentAction::Resolve).await
}

/// The customer stops waiting for a person (the flow leaves through `cancelled`).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/cancel", tag = "customer", params(("id" = String, Path)),
    security(("conversation_token" = [])), responses((status = 200, body = CancelResponse), (status = 409, body = crate::error::ErrorBody)))]
async fn customer_cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let conversation_id = customer_conversation_id(&state, &id, &headers, None).await?;
    let outcome = state
        .engine
        .submit(TurnInput::CustomerCancel { conversation_id })
        .await?;
    Ok(Json(json!({
        "conversation": ConversationView::from(&outcome.conversation),
        "messages": outcome.messages.iter().map(MessageView::from_message).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceRequest {
    /// `online`, `away` or `offline` (an inbox connection also sets `online` and `offline`).
    #[schema(value_type = crate::api_enums::PresenceName)]
    pub status: String,
}

/// The presences a member can have.
pub const PRESENCE: [&str; 3] = ["online", "away", "offline"];

/// Sets the member's presence: only online agents get conversations.
#[utoipa::path(put, path = "/api/v1/me/presence", tag = "inbox", security(("session" = [])), request_body = PresenceRequest,
    responses((status = 200, description = "the presence now, `{\"status\": …}`", body = PresenceRequest), (status = 422, body = crate::error::ErrorBody)))]
async fn set_presence(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PresenceRequest>,
) -> ApiResult<Json<Value>> {
    let member = member_of(&caller)?;
    if !PRESENCE.contains(&req.status.as_str()) {
        return Err(ApiError::invalid_field("status", "online, away or offline"));
    }
    state.core.store.set_presence(&member.id, &req.status).await?;
    state.core.availability.forget(&caller.workspace_id);
    state.core.hub.publish_inbox(
        &caller.workspace_id,
        || json!({ "type": "presence", "member_id": member.id, "status": req.status }),
    );
    Ok(Json(json!({ "status": req.status })))
}

/// Inbox events of the workspace as they happen: `{"type": "conversation.queued", …}`,
/// `conversation.assigned`, `presence`, …, and `message.created` for the conversation the
/// socket watches (send `{"type": "watch", "conversation_id": …}` when the agent opens one,
/// `null` when none). While a member has the inbox open they count as online (unless they set
/// themselves away).
#[utoipa::path(get, path = "/api/v1/inbox/ws", tag = "inbox", security(("session" = []), ("api_key" = [])),
    responses((status = 101, description = "switching to WebSocket"),
              (status = 400, description = "`invalid_request`: not a WebSocket upgrade", body = crate::error::ErrorBody)))]
async fn inbox_socket(State(state): State<AppState>, caller: Caller, ws: WebSocketUpgrade) -> ApiResult<Response> {
    caller.require(Role::Agent)?;
    Ok(ws
        .read_buffer_size(crate::routes::conversations::WS_BUFFER)
        // Events written together wait here for one flush.
        .write_buffer_size(crate::routes::conversations::WS_BUFFER)
        .on_upgrade(move |socket| follow_inbox(state, caller, socket)))
}

async fn follow_inbox(state: AppState, caller: Caller, socket: WebSocket) {
    let mut events = state.core.hub.subscribe_inbox(&caller.workspace_id);
    let member_id = caller.member.as_ref().map(|m| m.id.clone());
    if let Some(id) = &member_id {
        presence_connected(&state, &caller.workspace_id, id, true).await;
    }
    let (mut sink, mut stream) = socket.split();
    let hello = json!({ "type": "hello", "workspace_id": caller.workspace_id });
    let mut open = sink.send(WsMessage::Text(hello.to_string().into())).await.is_ok();
    // The conversation this agent has open: its messages come live, others' do not (a
    // workspace's every message to every agent would be most of the inbox traffic).
    let mut watched: Option<String> = None;
    while open {
        tokio::select! {
            event = events.recv() => {
                // This event and those that came with it go out together, then one flush.
                let ready = crate::hub::ready(event, &mut events);
                let lagged = ready.lagged.map(|n| json!({ "type": "lagged", "missed": n }).to_string());
                let frames = ready
                    .items
                    .iter()
                    .filter(|e| e.for_socket(watched.as_deref()))
                    .map(|e| e.json.as_str().into())
                    .chain(lagged.map(Into::into));
                let mut wrote = false;
                for frame in frames {
                    open = sink.feed(WsMessage::Text(frame)).await.is_ok();
                    wrote = true;
                    if !open {
                        break;
                    }
                }
                if open && wrote {
                    open = sink.flush().await.is_ok();
                }
                open = open && !ready.closed;
            },
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => open = false,
                Some(Ok(WsMessage::Text(t))) => {
                    let frame: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    if frame["type"] == "watch" {
                        watched = frame["conversation_id"].as_str().filter(|id| id.len() <= 64).map(str::to_string);
                    } else if t.contains("\"ping\"") {
                        open = sink.send(WsMessage::Text(json!({ "type": "pong" }).to_string().into())).await.is_ok();
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
    if let Some(id) = &member_id {
        presence_connected(&state, &caller.workspace_id, id, false).await;
    }
}

/// How long after a start (SQLite: one instance) presence stays as stored while agents' inboxes
/// reconnect.
pub const PRESENCE_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// After `grace` ([`PRESENCE_GRACE`] unless configured): members still `online` from before the
/// start whose inbox has not reconnected become `offline`, so hand-overs stop counting on them.
pub async fn settle_presence_after_start(state: AppState, grace: std::time::Duration) {
    tokio::time::sleep(grace).await;
    let store = &state.core.store;
    let Ok(workspaces) = store.workspaces().await else {
        return;
    };
    for workspace in workspaces {
        let Ok(members) = store.members(&workspace.id).await else {
            continue;
        };
        for member in members {
            if member.presence != "online" || state.connections.open(&member.id) > 0 {
                continue;
            }
            if store.set_presence(&member.id, "offline").await.is_ok() {
                state.core.availability.forget(&workspace.id);
                state.core.hub.publish_inbox(
                    &workspace.id,
                    || json!({ "type": "presence", "member_id": member.id, "status": "offline" }),
                );
            }
        }
    }
}

/// The first inbox connection makes a member online; the last one closing makes them offline.
/// A member who set themselves away stays away.
async fn presence_connected(state: &AppState, workspace_id: &str, member_id: &str, connected: bool) {
    let now_count = state.connections.count(member_id, connected);
    let change = match (connected, now_count) {
        (true, 1) => Some("online"),
        (false, 0) => Some("offline"),
        _ => None,
    };
    let Some(status) = change else { return };
    let current = state
        .core
        .store
        .member(member_id)
        .await
        .ok()
        .flatten()
        .map(|m| m.presence);
    if current.as_deref() == Some("away") {
        return;
    }
    if state.core.store.set_presence(member_id, status).await.is_ok() {
        state.core.availability.forget(workspace_id);
        state.core.hub.publish_inbox(
            workspace_id,
            || json!({ "type": "presence", "member_id": member_id, "status": status }),
        );
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// What Handover nodes name in `team` (letters, digits, `_`, `-`).
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub slug: String,
    /// Member ids, each once.
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeSet<String>)]
    pub members: Vec<String>,
    /// None: always open.
    #[serde(default)]
    #[schema(value_type = Option<crate::api_enums::BusinessHoursShape>)]
    pub business_hours: Option<BusinessHours>,
    /// The reply targets of the team's agents; none: the workspace's (`reply_targets` in the
    /// settings).
    #[serde(default)]
    #[schema(value_type = Option<crate::settings::ReplyTargetsShape>)]
    pub reply_targets: Option<ReplyTargets>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub members: Vec<String>,
    #[schema(value_type = Option<crate::api_enums::BusinessHoursShape>, required = true)]
    pub business_hours: Option<Value>,
    /// Open right now (server time).
    pub open_now: bool,
    /// None: the workspace's.
    #[schema(value_type = Option<crate::settings::ReplyTargetsShape>, required = true)]
    pub reply_targets: Option<ReplyTargets>,
}

async fn team_views(state: &AppState, workspace_id: &str) -> ApiResult<Vec<TeamView>> {
    let teams = state.core.store.teams(workspace_id).await?;
    let memberships = state.core.store.team_members(workspace_id).await?;
    let now = state.core.clock.now_ms();
    Ok(teams
        .into_iter()
        .map(|t| {
            let hours: Option<BusinessHours> = t.business_hours.as_deref().and_then(|h| serde_json::from_str(h).ok());
            TeamView {
                members: memberships
                    .iter()
                    .filter(|m| m.team_id == t.id)
                    .map(|m| m.member_id.clone())
                    .collect(),
                open_now: hours.as_ref().is_none_or(|h| h.is_open(now)),
                business_hours: t.business_hours.as_deref().and_then(|h| serde_json::from_str(h).ok()),
                reply_targets: t.reply_targets.as_deref().and_then(|r| serde_json::from_str(r).ok()),
                id: t.id,
                name: t.name,
                slug: t.slug,
            }
        })
        .collect())
}

/// The workspace's teams with members and hours.
#[utoipa::path(get, path = "/api/v1/teams", tag = "inbox", security(("session" = []), ("api_key" = [])), params(crate::pages::PageParams),
    responses((status = 200, body = Page<TeamView>), (status = 422, body = crate::error::ErrorBody)))]
async fn list_teams(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<TeamView>>> {
    caller.require(Role::Agent)?;
    let teams = team_views(&state, &caller.workspace_id).await?;
    Ok(Json(page_of(teams, |t| t.id.clone(), &page)?))
}

/// A team request checked: its hours and reply targets as stored (JSON).
struct CheckedTeam {
    hours: Option<String>,
    reply_targets: Option<String>,
}

async fn check_team(state: &AppState, caller: &Caller, req: &TeamRequest) -> ApiResult<CheckedTeam> {
    if req.name.trim().is_empty() || req.name.chars().count() > 100 {
        return Err(ApiError::invalid_field("name", "1 to 100 characters"));
    }
    if !baton_flow::flow::is_valid_id(&req.slug) {
        return Err(ApiError::invalid_field("slug", "1 to 64 letters, digits, _ or -"));
    }
    let members = state.core.store.members(&caller.workspace_id).await?;
    for (i, m) in req.members.iter().enumerate() {
        if !members.iter().any(|x| &x.id == m) {
            return Err(ApiError::invalid_field(
                &format!("members[{i}]"),
                format!("no member `{m}` in this workspace"),
            ));
        }
        if req.members[..i].contains(m) {
            return Err(ApiError::invalid_field(
                &format!("members[{i}]"),
                format!("`{m}` is listed twice"),
            ));
        }
    }
    let hours = match &req.business_hours {
        None => None,
        Some(h) => {
            h.validate()
                .map_err(|e| ApiError::invalid_field(&format!("business_hours.{}", e.field), e.message.clone()))?;
            Some(serde_json::to_string(h).map_err(|e| ApiError::internal(e.to_string()))?)
        }
    };
    let reply_targets = match &req.reply_targets {
        None => None,
        Some(r) => {
            if let Some((field, message)) = r.invalid_field() {
                return Err(ApiError::invalid_field(&format!("reply_targets.{field}"), message));
            }
            Some(serde_json::to_string(r).map_err(|e| ApiError::internal(e.to_string()))?)
        }
    };
    Ok(CheckedTeam { hours, reply_targets })
}

/// Creates a team.
#[utoipa::path(post, path = "/api/v1/teams", tag = "inbox", security(("session" = []), ("api_key" = [])), request_body = TeamRequest,
    responses((status = 201, body = TeamView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TeamRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let checked = check_team(&state, &caller, &req).await?;
    let team = Team {
        id: new_id("team"),
        workspace_id: caller.workspace_id.clone(),
        name: req.name.trim().to_string(),
        slug: req.slug.clone(),
        business_hours: checked.hours,
        created_at: state.core.clock.now_ms(),
        reply_targets: checked.reply_targets,
    };
    match state.core.store.create_team(&team).await {
        Err(e) if e.is_unique_violation() => {
            return Err(ApiError::conflict("slug_taken", "a team with this slug exists").field("slug"))
        }
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    state.core.store.set_team_members(&team.id, &req.members).await?;
    state.core.availability.forget(&caller.workspace_id);
    let view = team_views(&state, &caller.workspace_id)
        .await?
        .into_iter()
        .find(|t| t.id == team.id)
        .ok_or_else(|| ApiError::internal("team vanished"))?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Replaces a team's name, slug, members and hours.
#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "inbox", params(("id" = String, Path)), security(("session" = []), ("api_key" = [])),
    request_body = TeamRequest, responses((status = 200, body = TeamView), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "`slug_taken`", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn update_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TeamRequest>,
) -> ApiResult<Json<TeamView>> {
    caller.require(Role::Admin)?;
    let checked = check_team(&state, &caller, &req).await?;
    let team = Team {
        id: id.clone(),
        workspace_id: caller.workspace_id.clone(),
        name: req.name.trim().to_string(),
        slug: req.slug.clone(),
        business_hours: checked.hours,
        created_at: 0,
        reply_targets: checked.reply_targets,
    };
    match state.core.store.update_team(&team).await {
        Ok(false) => return Err(ApiError::not_found("team")),
        Err(e) if e.is_unique_violation() => {
            return Err(ApiError::conflict("slug_taken", "a team with this slug exists").field("slug"))
        }
        Err(e) => return Err(e.into()),
        Ok(true) => {}
    }
    state.core.store.set_team_members(&id, &req.members).await?;
    state.core.availability.forget(&caller.workspace_id);
    team_views(&state, &caller.workspace_id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("team"))
}

/// A conversation the flow waits on whose customer has been silent this long has dropped off.
const DROP_OFF_AFTER_MS: i64 = 30 * 60 * 1000;
/// Conversations read for drop-off (the most recently active).
const DROP_OFF_SAMPLE: i64 = 100_000;

/// Per node where the flow waits for the customer: how many conversations wait there now and
/// how many were left there (silent for [`DROP_OFF_AFTER_MS`]), most drop-offs first.
async fn drop_off(state: &AppState, flow_id: &str) -> ApiResult<Vec<Value>> {
    let now = state.core.clock.now_ms();
    let mut per_node: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (text, updated_at) in state
        .core
        .store
        .flow_bot_conversations(flow_id, DROP_OFF_SAMPLE)
        .await?
    {
        let Ok(flow_state) = serde_json::from_str::<baton_flow::State>(&text) else {
            continue;
        };
        let Some(at) = flow_state.at else { continue };
        let counts = per_node.entry(at).or_default();
        if now - updated_at >= DROP_OFF_AFTER_MS {
            counts.1 += 1;
        } else {
            counts.0 += 1;
        }
    }
    let mut rows: Vec<(String, (i64, i64))> = per_node.into_iter().collect();
    rows.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(&b.0)));
    Ok(rows
        .into_iter()
        .map(|(node, (waiting, dropped_off))| json!({ "node": node, "waiting": waiting, "dropped_off": dropped_off }))
        .collect())
}

/// Hand-overs per Handover node and outcome, with time to pickup; conversations and
/// containment (resolved without a person) of the flow; drop-off per waiting node.
#[utoipa::path(get, path = "/api/v1/flows/{id}/analytics", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
async fn analytics(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let flow = state
        .core
        .store
        .flow(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("flow"))?;
    let stats = state.core.store.handover_stats(&flow.id).await?;
    let counts = state.core.store.flow_conversation_counts(&flow.id).await?;
    let (conversations, contained) = (counts.conversations, counts.contained);
    let mut nodes: BTreeMap<String, Value> = BTreeMap::new();
    for s in stats {
        let entry = nodes
            .entry(s.node.clone())
            .or_insert_with(|| json!({ "node": s.node, "handovers": 0, "outcomes": {}, "picked_up": 0, "pickup_ms_total": 0, "pickup_ms_max": 0 }));
        entry["handovers"] = json!(entry["handovers"].as_i64().unwrap_or(0) + s.count);
        entry["outcomes"][s.status.as_str()] = json!(s.count);
        entry["picked_up"] = json!(entry["picked_up"].as_i64().unwrap_or(0) + s.picked_up);
        entry["pickup_ms_total"] = json!(entry["pickup_ms_total"].as_i64().unwrap_or(0) + s.pickup_ms_total);
        entry["pickup_ms_max"] = json!(entry["pickup_ms_max"].as_i64().unwrap_or(0).max(s.pickup_ms_max));
    }
    let nodes: Vec<Value> = nodes
        .into_values()
        .map(|mut n| {
            let picked = n["picked_up"].as_i64().unwrap_or(0);
            let total = n["pickup_ms_total"].as_i64().unwrap_or(0);
            n["pickup_ms_avg"] = if picked > 0 { json!(total / picked) } else { Value::Null };
            n
        })
        .collect();
    let drop_off = drop_off(&state, &flow.id).await?;
    let csat = csat(&state.core.store.rating_stats(&flow.id).await?);
    let reply_missed = reply_missed(&state.core.store.reply_misses(&flow.id).await?);
    Ok(Json(json!({
        "flow_id": flow.id,
        "conversations": conversations,
        "drop_off_after_ms": DROP_OFF_AFTER_MS,
        "drop_off": drop_off,
        "contained": contained,
        "containment_rate": if conversations > 0 { json!(contained as f64 / conversations as f64) } else { Value::Null },
        "abandoned": counts.abandoned,
        "cancelled": counts.cancelled,
        "csat": csat,
        "reply_missed": reply_missed,
        "handover_nodes": nodes,
    })))
}

/// A conversation as the inbox opens it (the shape of `GET /api/v1/inbox/conversations/{id}`;
/// a test checks the answer against it).
#[derive(ToSchema)]
#[schema(as = InboxDetail)]
pub struct InboxDetail {
    pub conversation: InboxItem,
    /// The open hand-over (queued or assigned), or `null`.
    #[schema(required = true)]
    pub handover: Option<HandoverShape>,
    /// Every hand-over of the conversation, oldest first.
    pub handovers: Vec<HandoverShape>,
    pub timeline: Vec<TimelineShape>,
    /// Up to 1,000 messages, notes and hand-over records included.
    pub transcript: Vec<MessageView>,
    /// The flow's variables.
    #[schema(value_type = Object)]
    pub variables: Value,
    /// The node the flow is at.
    #[schema(required = true)]
    pub at_node: Option<String>,
    /// The flow's nodes, to choose a `resume_at`.
    pub nodes: Vec<NodeRef>,
}

/// A hand-over: where it went, its state or outcome, and the context package.
#[derive(ToSchema)]
#[schema(as = Handover)]
pub struct HandoverShape {
    pub id: String,
    pub node: String,
    #[schema(required = true)]
    pub team: Option<String>,
    #[schema(required = true)]
    pub assignee: Option<String>,
    #[schema(value_type = crate::api_enums::PriorityName)]
    pub priority: String,
    #[schema(value_type = crate::api_enums::HandoverStatusName)]
    pub status: String,
    pub queued_at: i64,
    #[schema(required = true)]
    pub assigned_at: Option<i64>,
    #[schema(required = true)]
    pub ended_at: Option<i64>,
    /// Reason, node, path, typed variables, last message, summary, sentiment.
    #[schema(value_type = Object)]
    pub context: Value,
}

/// One entry of a conversation's timeline (kinds: docs/api.md).
#[derive(ToSchema)]
#[schema(as = TimelineEntry)]
pub struct TimelineShape {
    pub kind: String,
    /// The member who acted, `null` for the flow and the customer.
    #[schema(required = true)]
    pub actor: Option<String>,
    pub at: i64,
    #[schema(value_type = Option<Object>, required = true)]
    pub data: Option<Value>,
}

/// A node of the flow: its id and type.
#[derive(ToSchema)]
pub struct NodeRef {
    pub id: String,
    #[serde(rename = "type")]
    pub node_type: String,
}

/// What a customer's cancel answers: the conversation and the messages the cancel wrote.
#[derive(ToSchema)]
pub struct CancelResponse {
    pub conversation: ConversationView,
    pub messages: Vec<MessageView>,
}

/// Missed reply targets of a flow's conversations: how many, and per agent who missed them, by
/// target.
fn reply_missed(entries: &[Option<String>]) -> Value {
    let mut by_agent: BTreeMap<String, (Value, i64, i64)> = BTreeMap::new();
    for data in entries.iter().flatten() {
        let Ok(data) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        let id = data["agent"]["id"].as_str().unwrap_or_default().to_string();
        let entry = by_agent.entry(id).or_insert_with(|| (data["agent"].clone(), 0, 0));
        match data["target"].as_str() {
            Some("first_reply") => entry.1 += 1,
            _ => entry.2 += 1,
        }
    }
    let by_agent: Vec<Value> = by_agent
        .into_values()
        .map(|(agent, first, next)| json!({ "agent": agent, "first_reply": first, "next_reply": next }))
        .collect();
    json!({ "total": entries.len(), "by_agent": by_agent })
}

/// A flow's CSAT: ratings, satisfied ones (4–5 of 5, good of 2) and their share, the average of
/// the ratings on the 5-point scale, overall and per agent who had the conversation last.
fn csat(stats: &[baton_store::RatingStat]) -> Value {
    let summary = |rows: &[&baton_store::RatingStat]| {
        let count: i64 = rows.iter().map(|r| r.count).sum();
        let satisfied: i64 = rows.iter().map(|r| r.satisfied).sum();
        let (five_count, five_sum) = rows
            .iter()
            .filter(|r| r.scale == 5)
            .fold((0, 0), |(c, s), r| (c + r.count, s + r.score_sum));
        json!({
            "ratings": count,
            "satisfied": satisfied,
            "csat": if count > 0 { json!(satisfied as f64 / count as f64) } else { Value::Null },
            "average_of_5": if five_count > 0 { json!(five_sum as f64 / five_count as f64) } else { Value::Null },
        })
    };
    let all: Vec<&baton_store::RatingStat> = stats.iter().collect();
    let mut agents: BTreeMap<Option<String>, Vec<&baton_store::RatingStat>> = BTreeMap::new();
    for s in stats {
        agents.entry(s.agent_id.clone()).or_default().push(s);
    }
    let by_agent: Vec<Value> = agents
        .into_iter()
        .map(|(agent, rows)| {
            let mut v = summary(&rows);
            v["agent_id"] = json!(agent);
            v
        })
        .collect();
    let mut out = summary(&all);
    out["by_agent"] = json!(by_agent);
    out
}

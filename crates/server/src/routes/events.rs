//! Outbound event subscriptions: which URL gets which events, the delivery log, replays.

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::events::{EventPayload, EVENT_TYPES, OUTBOX_KIND};
use crate::ids::new_id;
use crate::json::ApiJson;
use crate::pages::{page_of, Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use baton_store::{EventDelivery, EventSubscription, NewEventSubscription};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest subscription URL.
const MAX_URL_CHARS: usize = 2048;
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/event-subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route(
            "/api/v1/event-subscriptions/{id}",
            get(get_subscription).delete(delete_subscription),
        )
        .route("/api/v1/event-subscriptions/{id}/deliveries", get(list_deliveries))
        .route(
            "/api/v1/event-subscriptions/{id}/deliveries/{event_id}/replay",
            post(replay),
        )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriptionRequest {
    /// Where events are POSTed: an http(s) URL.
    #[schema(max_length = 2048, pattern = "^https?://")]
    pub url: String,
    /// Event types to receive (e.g. `conversation.queued`, `message.created`); `*` means all.
    #[schema(value_type = Vec<crate::api_enums::EventTypeName>, min_items = 1)]
    pub event_types: Vec<String>,
    /// Default true; an inactive subscription receives nothing.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    /// ms since the epoch.
    pub created_at: i64,
}

impl From<&EventSubscription> for SubscriptionView {
    fn from(s: &EventSubscription) -> Self {
        SubscriptionView {
            id: s.id.clone(),
            url: s.url.clone(),
            event_types: s.types(),
            active: s.active,
            created_at: s.created_at,
        }
    }
}

/// One delivery attempt of one event.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub subscription_id: String,
    /// The event id, also sent as the `webhook-id` header.
    pub event_id: String,
    pub event_type: String,
    pub url: String,
    /// 1-based within one queued delivery (a replay starts again at 1).
    pub attempt: i64,
    /// The response status, when one arrived.
    pub status_code: Option<i64>,
    /// What went wrong before a response arrived (refused address, timeout, network error).
    pub error: Option<String>,
    pub duration_ms: i64,
    /// ms since the epoch.
    pub created_at: i64,
}

impl From<EventDelivery> for DeliveryView {
    fn from(d: EventDelivery) -> Self {
        DeliveryView {
            id: d.id,
            subscription_id: d.subscription_id,
            event_id: d.event_id,
            event_type: d.event_type,
            url: d.url,
            attempt: d.attempt,
            status_code: d.status_code,
            error: d.error,
            duration_ms: d.duration_ms,
            created_at: d.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReplayResponse {
    pub subscription_id: String,
    /// The same event id as the first delivery: receivers can deduplicate.
    pub event_id: String,
    pub queued: bool,
}

/// The URL, trimmed, when it is an absolute http(s) URL with a host.
fn valid_url(url: &str) -> ApiResult<String> {
    let url = url.trim();
    if url.is_empty() || url.chars().count() > MAX_URL_CHARS {
        return Err(ApiError::invalid_field(
            "url",
            format!("an http(s) URL of 1 to {MAX_URL_CHARS} characters"),
        ));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ApiError::invalid_field("url", format!("not a valid URL ({e}); use http(s)://host/path")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::invalid_field(
            "url",
            format!("unsupported scheme `{}`; use http or https", parsed.scheme()),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::invalid_field("url", "the URL has no host"));
    }
    Ok(url.to_string())
}

/// Known event types (or `*`), without repeats, in the order given.
fn valid_types(types: &[String]) -> ApiResult<Vec<String>> {
    if types.is_empty() {
        return Err(ApiError::invalid_field(
            "event_types",
            "name at least one event type, or `*` for all",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, t) in types.iter().enumerate() {
        let t = t.trim();
        if t != "*" && !EVENT_TYPES.contains(&t) {
            return Err(ApiError::invalid_field(
                &format!("event_types[{i}]"),
                format!(
                    "unknown event type `{t}`; use `*` or one of: {}",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

async fn workspace_subscription(state: &AppState, caller: &Caller, id: &str) -> ApiResult<EventSubscription> {
    state
        .core
        .store
        .workspace_event_subscription(&caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("event subscription"))
}

/// The workspace's event subscriptions.
#[utoipa::path(get, path = "/api/v1/event-subscriptions", tag = "events", security(("session" = []), ("api_key" = [])),
    params(crate::pages::PageParams),
    responses((status = 200, body = Page<SubscriptionView>), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<SubscriptionView>>> {
    caller.require(Role::Admin)?;
    let all = state.core.store.event_subscriptions(&caller.workspace_id).await?;
    let views = all.iter().map(SubscriptionView::from).collect();
    Ok(Json(page_of(views, |v: &SubscriptionView| v.id.clone(), &page)?))
}

/// Subscribes a URL to event types. Events are POSTed as `{"id", "type", "timestamp", "data"}`,
/// signed per Standard Webhooks with the workspace's signing secret (`webhook-id` is the event
/// id), and retried with backoff (5 s doubling to 1 h, 12 attempts) until a 2xx answer.
#[utoipa::path(post, path = "/api/v1/event-subscriptions", tag = "events", security(("session" = []), ("api_key" = [])),
    request_body = NewSubscriptionRequest,
    responses((status = 201, body = SubscriptionView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_subscription(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewSubscriptionRequest>,
) -> ApiResult<(StatusCode, Json<SubscriptionView>)> {
    caller.require(Role::Admin)?;
    let url = valid_url(&req.url)?;
    // Never accept a subscription this server can never deliver to.
    crate::webhook::check_target(&url, state.webhook_policy).map_err(|why| {
        ApiError::invalid_field(
            "url",
            format!("this server cannot send events there ({why} with `baton serve --webhook-targets`)"),
        )
    })?;
    let types = valid_types(&req.event_types)?;
    let event_types = serde_json::to_string(&types).map_err(|e| ApiError::internal(e.to_string()))?;
    let id = new_id("sub");
    let created = state
        .core
        .store
        .create_event_subscription(NewEventSubscription {
            id: &id,
            workspace_id: &caller.workspace_id,
            url: &url,
            event_types: &event_types,
            active: req.active.unwrap_or(true),
            now: state.core.clock.now_ms(),
        })
        .await?;
    crate::events::forget(&caller.workspace_id);
    Ok((StatusCode::CREATED, Json(SubscriptionView::from(&created))))
}

/// One event subscription.
#[utoipa::path(get, path = "/api/v1/event-subscriptions/{id}", tag = "events", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = SubscriptionView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SubscriptionView>> {
    caller.require(Role::Admin)?;
    let s = workspace_subscription(&state, &caller, &id).await?;
    Ok(Json(SubscriptionView::from(&s)))
}

/// Deletes a subscription and its delivery log; events not yet delivered are dropped.
#[utoipa::path(delete, path = "/api/v1/event-subscriptions/{id}", tag = "events", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    if state
        .core
        .store
        .delete_event_subscription(&caller.workspace_id, &id)
        .await?
    {
        crate::events::forget(&caller.workspace_id);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("event subscription"))
    }
}

/// The delivery log of a subscription: every attempt, newest first.
#[utoipa::path(get, path = "/api/v1/event-subscriptions/{id}/deliveries", tag = "events",
    params(("id" = String, Path), crate::pages::PageParams),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = Page<DeliveryView>), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<DeliveryView>>> {
    caller.require(Role::Admin)?;
    let s = workspace_subscription(&state, &caller, &id).await?;
    let limit = page.limit()?;
    let before = crate::pages::before_id(&page)?;
    // One more than a page says whether another follows.
    let mut log = state
        .core
        .store
        .event_deliveries(&s.id, before, limit as i64 + 1)
        .await?;
    let next_cursor = if log.len() > limit {
        log.truncate(limit);
        log.last().map(|d| d.id.to_string())
    } else {
        None
    };
    let total = state.core.store.event_delivery_count(&s.id).await?;
    Ok(Json(Page {
        items: log.into_iter().map(DeliveryView::from).collect(),
        total,
        next_cursor,
    }))
}

/// Sends a logged event to the subscription again, with the same event id (and so the same
/// `webhook-id`), retried like a new one.
#[utoipa::path(post, path = "/api/v1/event-subscriptions/{id}/deliveries/{event_id}/replay", tag = "events",
    params(("id" = String, Path), ("event_id" = String, Path)), security(("session" = []), ("api_key" = [])),
    responses((status = 202, body = ReplayResponse), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<ReplayResponse>)> {
    caller.require(Role::Admin)?;
    let s = workspace_subscription(&state, &caller, &id).await?;
    if !s.active {
        return Err(ApiError::conflict(
            "subscription_inactive",
            "the subscription is inactive; it receives nothing",
        ));
    }
    let store = &state.core.store;
    let logged = store
        .logged_event(&s.id, &event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    let mut payload: EventPayload = serde_json::from_str(&logged.payload)
        .map_err(|e| ApiError::internal(format!("the logged event is unreadable: {e}")))?;
    payload.url = s.url.clone();
    let text = serde_json::to_string(&payload).map_err(|e| ApiError::internal(e.to_string()))?;
    store
        .queue_outbox(
            &caller.workspace_id,
            &logged.conversation_id,
            OUTBOX_KIND,
            &text,
            state.core.clock.now_ms(),
        )
        .await?;
    state.core.outbox_wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayResponse {
            subscription_id: s.id,
            event_id: payload.event_id,
            queued: true,
        }),
    ))
}

//! The HTTP API, one file per resource. `app()` puts them together with the cross-cutting
//! layers: body limits, CORS for the customer endpoints, metrics.

pub mod accounts;
pub mod ai;
pub mod conversations;
pub mod events;
pub mod flows;
pub mod inbox;
pub mod kb;
pub mod limits;
pub mod members;
pub mod reply_aids;
pub mod routing;
pub mod system;
pub mod typing;
pub mod web;

use crate::engine::TurnError;
use crate::error::ApiError;
use crate::metrics::METRICS;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::time::Instant;
use tower_http::cors::{Any, CorsLayer};

pub fn app(state: AppState) -> Router {
    // Customers authenticate with a bearer token, never cookies, so any origin may call these;
    // a workspace can still restrict which origins start conversations (allowed_origins).
    let cors = CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any);
    let customer = conversations::customer_routes()
        .merge(inbox::customer_routes())
        // axum's own limit, set to what limits.rs already enforces per route.
        .layer(DefaultBodyLimit::max(limits::BODY_LIMIT))
        .layer(cors);
    let member = Router::new()
        .merge(flows::routes())
        .merge(routing::routes())
        .merge(accounts::routes())
        .merge(members::routes())
        .merge(reply_aids::routes())
        .merge(conversations::member_routes())
        .merge(inbox::routes())
        .merge(typing::routes())
        .merge(kb::routes())
        .merge(ai::routes())
        .merge(events::routes())
        .layer(DefaultBodyLimit::max(limits::LARGE_BODY_LIMIT));
    Router::new()
        .merge(system::routes())
        .merge(web::routes())
        .merge(customer)
        .merge(member)
        .fallback(system::not_found)
        .layer(middleware::from_fn(limits::bodies))
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let res = next.run(req).await;
    let mut res = json_errors(res).await;
    METRICS.count_http(res.status().as_u16());
    METRICS.http_latency.observe_us(started.elapsed().as_micros() as u64);
    if res.status() == axum::http::StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut()
            .insert("retry-after", axum::http::HeaderValue::from_static("60"));
    }
    let headers = res.headers_mut();
    headers.insert(
        "x-content-type-options",
        axum::http::HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", axum::http::HeaderValue::from_static("no-referrer"));
    res
}

/// Errors produced by the framework itself (wrong method, a path or query value that does not
/// parse, a WebSocket route called without an upgrade) become the same JSON error body.
async fn json_errors(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        axum::http::StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        axum::http::StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "invalid_request",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut err = ApiError::new(status, code, message).into_response();
    for (k, v) in parts.headers.iter() {
        if k != axum::http::header::CONTENT_TYPE && k != axum::http::header::CONTENT_LENGTH {
            err.headers_mut().insert(k.clone(), v.clone());
        }
    }
    err
}

/// A turn's failure as the API answers it (codes in docs/api.md).
impl From<TurnError> for ApiError {
    fn from(e: TurnError) -> ApiError {
        match e {
            TurnError::Store(message) => ApiError::internal(format!("storage: {message}")),
            TurnError::Refused(refusal) => ApiError::conflict(refusal.code(), refusal.to_string()),
            TurnError::NotFound { what, field } => {
                let e = ApiError::not_found(what);
                match field {
                    Some(field) => e.field(field),
                    None => e,
                }
            }
            TurnError::InvalidField { field, message } => ApiError::invalid_field(&field, message),
            TurnError::AlreadyResolved => ApiError::conflict("already_resolved", "the conversation has ended"),
            TurnError::Unavailable(message) => ApiError::unavailable(message),
            TurnError::Internal(message) => ApiError::internal(message),
        }
    }
}

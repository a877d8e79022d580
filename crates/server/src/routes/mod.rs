//! The HTTP API, one file per resource. `app()` puts them together with the cross-cutting
//! layers: body limits, CORS for the customer endpoints, metrics.

pub mod accounts;
pub mod conversations;
pub mod flows;
pub mod system;

use crate::metrics::METRICS;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use std::time::Instant;
use tower_http::cors::{Any, CorsLayer};

/// Largest body of customer endpoints.
pub const CUSTOMER_BODY_LIMIT: usize = 64 * 1024;
/// Largest body of member endpoints (flow documents).
pub const MEMBER_BODY_LIMIT: usize = 2 * 1024 * 1024 + 4096;

pub fn app(state: AppState) -> Router {
    // Customers authenticate with a bearer token, never cookies, so any origin may call these;
    // a workspace can still restrict which origins start conversations (allowed_origins).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any);
    let customer = conversations::customer_routes()
        .layer(DefaultBodyLimit::max(CUSTOMER_BODY_LIMIT))
        .layer(cors);
    let member = Router::new()
        .merge(flows::routes())
        .merge(accounts::routes())
        .merge(conversations::member_routes())
        .layer(DefaultBodyLimit::max(MEMBER_BODY_LIMIT));
    Router::new()
        .merge(system::routes())
        .merge(customer)
        .merge(member)
        .fallback(system::not_found)
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut res = next.run(req).await;
    METRICS.count_http(res.status().as_u16());
    METRICS
        .http_latency
        .observe_us(started.elapsed().as_micros() as u64);
    let headers = res.headers_mut();
    headers.insert(
        "x-content-type-options",
        axum::http::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "referrer-policy",
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    res
}

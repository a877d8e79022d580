//! Request bodies: a limit per route, checked against `Content-Length` before anything is
//! read, and a deadline for the whole body, so a declared-huge or trickled body costs the
//! server neither memory nor a connection for long.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::time::Duration;

/// How long a client has to send a whole body once its headers are in.
pub const BODY_DEADLINE: Duration = Duration::from_secs(30);
/// Flow documents (2 MiB) and knowledge-base imports, with room for the JSON around them.
pub const LARGE_BODY_LIMIT: usize = 2 * 1024 * 1024 + 4096;
/// Every other route.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Signing in: an email and a password.
pub const SIGN_IN_BODY_LIMIT: usize = 8 * 1024;

/// The largest body a route accepts.
pub fn body_limit(path: &str) -> usize {
    if path == "/api/v1/auth/login" {
        SIGN_IN_BODY_LIMIT
    } else if path.starts_with("/api/v1/flows") || path.starts_with("/api/v1/kb/") {
        LARGE_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// Reads the request's body within its route's limit and [`BODY_DEADLINE`] before the handler
/// runs: `413 body_too_large` at once when `Content-Length` says it is too large, `408
/// body_timeout` when it does not arrive in time.
pub async fn bodies(req: Request, next: Next) -> Response {
    let limit = body_limit(req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let may_have_body = declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    let bodiless = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !may_have_body && bodiless {
        // WebSocket upgrades and reads: nothing to read.
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(BODY_DEADLINE, Limited::new(body, limit).collect()).await;
    match read {
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the body did not arrive within {} s", BODY_DEADLINE.as_secs()),
        )
        .into_response(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => too_large(limit),
        Ok(Err(e)) => ApiError::bad_request("invalid_body", format!("the body could not be read: {e}")).into_response(),
        Ok(Ok(collected)) => {
            next.run(Request::from_parts(parts, Body::from(collected.to_bytes())))
                .await
        }
    }
}

fn too_large(limit: usize) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("this endpoint accepts bodies up to {limit} bytes"),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_in_takes_small_bodies_and_documents_large_ones() {
        assert_eq!(body_limit("/api/v1/auth/login"), SIGN_IN_BODY_LIMIT);
        assert_eq!(body_limit("/api/v1/flows/f1/draft"), LARGE_BODY_LIMIT);
        assert_eq!(body_limit("/api/v1/kb/import"), LARGE_BODY_LIMIT);
        assert_eq!(body_limit("/api/v1/conversations/c1/messages"), BODY_LIMIT);
        assert_eq!(body_limit("/api/v1/members"), BODY_LIMIT);
    }
}

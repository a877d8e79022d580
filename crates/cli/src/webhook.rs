//! Carrying out webhook effects for real (the CLI's chat), with timeout and retries.

use baton_flow::runtime::{WebhookCall, WebhookOutcome};
use serde_json::Value;
use std::time::Duration;

/// Largest response body read, in bytes.
const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// Calls the webhook: retries network errors and 5xx with backoff (200 ms, doubling).
pub fn call(call: &WebhookCall) -> WebhookOutcome {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(u64::from(call.timeout_ms))))
        .http_status_as_error(false)
        .user_agent("baton")
        .build()
        .into();
    let mut last_failure = String::new();
    for attempt in 0..=call.retries {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200 << (attempt - 1).min(5)));
        }
        match once(&agent, call) {
            Ok((status, body)) if status < 500 => return WebhookOutcome::Response { status, body },
            Ok((status, _)) => last_failure = format!("HTTP {status}"),
            Err(e) => last_failure = e,
        }
    }
    WebhookOutcome::Failed {
        reason: format!("{last_failure} after {} attempts", call.retries + 1),
    }
}

fn once(agent: &ureq::Agent, call: &WebhookCall) -> Result<(u16, Value), String> {
    let mut builder = ureq::http::Request::builder()
        .method(call.method.as_str())
        .uri(&call.url);
    let has_content_type = call.headers.keys().any(|k| k.eq_ignore_ascii_case("content-type"));
    for (k, v) in &call.headers {
        builder = builder.header(k, v);
    }
    if call.body.is_some() && !has_content_type {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder
        .body(call.body.clone().unwrap_or_default())
        .map_err(|e| format!("bad request: {e}"))?;
    let mut response = agent.run(request).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_string()
        .map_err(|e| format!("reading the response: {e}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, body))
}

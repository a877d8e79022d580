//! Health, metrics, the OpenAPI document and its reading page, and the test clock.

use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::metrics::METRICS;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page))
        .route("/api/v1/test/clock", post(advance_clock))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Baton API", description = "Conversations, flows and members of a Baton server. Errors are JSON `{\"error\": {\"code\", \"message\", \"field\"}}`; codes are listed in docs/api.md."),
    paths(
        healthz,
        crate::routes::conversations::start_conversation,
        crate::routes::conversations::get_conversation,
        crate::routes::conversations::send_message,
        crate::routes::conversations::list_messages,
        crate::routes::conversations::websocket,
        crate::routes::conversations::deliveries,
        crate::routes::flows::list_flows,
        crate::routes::flows::create_flow,
        crate::routes::flows::get_flow,
        crate::routes::flows::update_draft,
        crate::routes::flows::publish,
        crate::routes::flows::versions,
        crate::routes::flows::version,
        crate::routes::flows::rollback,
        crate::routes::flows::set_live,
        crate::routes::flows::flow_settings,
        crate::routes::flows::export,
        crate::routes::flows::simulate,
        crate::routes::flows::run_tests,
        crate::routes::routing::routing,
        crate::routes::routing::update_routing,
        crate::routes::accounts::login,
        crate::routes::accounts::logout,
        crate::routes::accounts::session,
        crate::routes::conversations::availability,
        crate::routes::accounts::me,
        crate::routes::accounts::workspace,
        crate::routes::accounts::update_settings,
        crate::routes::accounts::signing_secret,
        crate::routes::members::list_members,
        crate::routes::members::create_member,
        crate::routes::members::update_member,
        crate::routes::members::list_invites,
        crate::routes::members::create_invite,
        crate::routes::members::revoke_invite,
        crate::routes::members::invite,
        crate::routes::members::accept_invite,
        crate::routes::reply_aids::canned_replies,
        crate::routes::reply_aids::draft_reply,
        crate::routes::accounts::list_keys,
        crate::routes::accounts::create_key,
        crate::routes::accounts::revoke_key,
        crate::routes::inbox::list,
        crate::routes::inbox::counts,
        crate::routes::inbox::detail,
        crate::routes::inbox::mark_read,
        crate::routes::inbox::claim,
        crate::routes::inbox::assign,
        crate::routes::inbox::transfer,
        crate::routes::inbox::reply,
        crate::routes::inbox::note,
        crate::routes::inbox::hand_back,
        crate::routes::inbox::resolve,
        crate::routes::inbox::customer_cancel,
        crate::routes::inbox::set_presence,
        crate::routes::inbox::inbox_socket,
        crate::routes::typing::typing,
        crate::routes::inbox::list_teams,
        crate::routes::inbox::create_team,
        crate::routes::inbox::update_team,
        crate::routes::inbox::analytics,
        crate::routes::kb::list,
        crate::routes::kb::article,
        crate::routes::kb::upsert,
        crate::routes::kb::remove,
        crate::routes::kb::import,
        crate::routes::ai::get_settings,
        crate::routes::ai::update_settings,
        crate::routes::ai::test_connection,
        crate::routes::events::list_subscriptions,
        crate::routes::events::create_subscription,
        crate::routes::events::get_subscription,
        crate::routes::events::delete_subscription,
        crate::routes::events::list_deliveries,
        crate::routes::events::replay,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail, ClockRequest)),
    modifiers(&Security, &CommonErrors),
    tags(
        (name = "customer", description = "The customer channel: a widget key starts a conversation; its token reads and writes it."),
        (name = "flows", description = "Drafts, versions, publishing, the live switch."),
        (name = "members", description = "Signing in, the workspace, members and API keys."),
        (name = "knowledge", description = "Knowledge-base articles: the source of Let AI Answer."),
        (name = "ai", description = "The workspace's AI provider: offline (built in) or an OpenAI-compatible endpoint."),
        (name = "inbox", description = "Queues, conversations with their hand-over context, agent actions, presence, teams."),
        (name = "events", description = "Outbound events: subscriptions, the delivery log, replays."),
        (name = "system", description = "Health and metrics."),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("bk_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "conversation_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("conversation token")
                    .build(),
            ),
        );
    }
}

/// The errors whole kinds of operation can answer, added where an operation's own list lacks
/// them (docs/api.md lists the codes): bodies (400, 408, 413, 415), unparsable parameters
/// (400), credentials (401; 403 for members), ids that name nothing (404), inbox actions the
/// lifecycle refuses (409, 422), rate limits (429), turns (503) and server faults (500).
struct CommonErrors;

/// The inbox's agent actions (`POST /api/v1/inbox/conversations/{id}/<action>`).
const INBOX_ACTIONS: [&str; 7] = ["claim", "assign", "transfer", "reply", "note", "hand-back", "resolve"];

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") || path.starts_with("/api/v1/test/") {
                continue;
            }
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(op) = operation.as_mut() else {
                    continue;
                };
                let has_body = op.request_body.is_some();
                let has_parameters = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let member = op.security.as_ref().is_some_and(|list| {
                    list.iter().any(|requirement| {
                        let names = serde_json::to_value(requirement).unwrap_or_default();
                        names.get("session").is_some() || names.get("api_key").is_some()
                    })
                });
                let customer = path.starts_with("/api/v1/conversations/");
                let names_a_thing = path.contains('{');
                // Agent actions are turns the hand-over lifecycle may refuse; the inbox's other
                // posts (read, draft-reply, typing) are not.
                let inbox_action = method == "post"
                    && path
                        .strip_prefix("/api/v1/inbox/conversations/{id}/")
                        .is_some_and(|action| INBOX_ACTIONS.contains(&action));
                let turn = method == "post" && (customer || path.starts_with("/api/v1/widget/") || inbox_action);
                let rate_limited = method == "post"
                    && (path == "/api/v1/widget/conversations" || path == "/api/v1/conversations/{id}/messages");
                let mut errors: Vec<(&str, &str)> = Vec::new();
                if has_body {
                    errors.push((
                        "400",
                        "`invalid_body`: the body is not valid JSON, or a field is wrong (`field` names it).",
                    ));
                    errors.push(("408", "`body_timeout`: the body did not arrive within 30 s."));
                    errors.push(("413", "`body_too_large`: the body is over the endpoint's limit."));
                    errors.push(("415", "`unsupported_media_type`: the body is not sent as JSON."));
                } else if has_parameters {
                    errors.push(("400", "`invalid_request`: a path or query parameter does not parse."));
                }
                if member || customer {
                    errors.push((
                        "401",
                        "`unauthorized`: no credentials, or they are expired, revoked or wrong.",
                    ));
                }
                if member {
                    errors.push(("403", "`forbidden`: the role is too low, or the CSRF token is missing."));
                }
                if names_a_thing {
                    errors.push((
                        "404",
                        "`not_found`: nothing with this id here (another workspace's is not found either).",
                    ));
                }
                if inbox_action {
                    errors.push((
                        "409",
                        "The conversation is not in a state for this (`not_with_a_person`, `not_queued`, `already_resolved`, …).",
                    ));
                    errors.push(("422", "`invalid_field`: a field breaks a rule (`field` names it)."));
                }
                if rate_limited {
                    errors.push(("429", "`rate_limited`: too many requests; see `retry-after`."));
                }
                errors.push(("500", "`internal`: a storage or server fault."));
                if turn {
                    errors.push((
                        "503",
                        "`unavailable`: the turn could not be stored; retry with the same `client_id`.",
                    ));
                }
                let limit = crate::routes::limits::body_limit(path);
                for (code, description) in errors {
                    let description = if code == "413" {
                        format!("{description} Here: {limit} bytes.")
                    } else {
                        description.to_string()
                    };
                    op.responses.responses.entry(code.to_string()).or_insert_with(|| {
                        utoipa::openapi::ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/json",
                                utoipa::openapi::ContentBuilder::new()
                                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                            .build()
                            .into()
                    });
                }
                // Every 429 says when to try again.
                if let Some(utoipa::openapi::RefOr::T(response)) = op.responses.responses.get_mut("429") {
                    response.headers.entry("retry-after".to_string()).or_insert_with(|| {
                        utoipa::openapi::HeaderBuilder::new()
                            .schema(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer))
                            .description(Some("seconds to wait before trying again"))
                            .build()
                    });
                }
            }
        }
    }
}

/// The OpenAPI document, pretty-printed (as checked in at docs/openapi.json).
pub fn openapi_text() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// Ready when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Object), (status = 503, body = crate::error::ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let pending = state
        .core
        .store
        .pending_outbox_count()
        .await
        .map_err(|e| ApiError::unavailable(format!("database: {e}")))?;
    let database = match state.core.store.dialect() {
        baton_store::Dialect::Sqlite => "sqlite",
        baton_store::Dialect::Postgres => "postgres",
    };
    Ok(Json(
        json!({ "status": "ok", "database": database, "pending_effects": pending }),
    ))
}

async fn metrics(State(state): State<AppState>) -> Response {
    let pending = state.core.store.pending_outbox_count().await.unwrap_or(-1);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        METRICS.render(pending),
    )
        .into_response()
}

async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi_text()).into_response()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {
    /// Milliseconds to move the clock on.
    pub advance_ms: i64,
}

/// Test servers only (started with a manual clock): moves the clock on, firing due timers.
async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ClockRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    if !state.manual_clock {
        return Err(ApiError::not_found("endpoint"));
    }
    if !(0..=366 * 24 * 3600 * 1000).contains(&req.advance_ms) {
        return Err(ApiError::invalid_field("advance_ms", "0 to one year in milliseconds"));
    }
    state.core.clock.advance(req.advance_ms);
    Ok(Json(json!({ "now_ms": state.core.clock.now_ms() })))
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint; see /docs")
}

/// The web app when it is built into the binary; otherwise this landing page.
async fn home() -> Response {
    if super::web::is_built() {
        return axum::response::Redirect::to("/app/").into_response();
    }
    Html(HOME_PAGE).into_response()
}

async fn docs_page() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

const HOME_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Baton</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1c1c1c}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}</style>
</head><body>
<h1>Baton is running</h1>
<p>AI customer-support flows with a clean hand-over to people.</p>
<ul>
<li><a href="/app/">Web app</a> (not built into this binary: run <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, then build the server)</li>
<li><a href="/docs">API documentation</a> (<a href="/api/openapi.json">OpenAPI document</a>)</li>
<li><a href="/healthz">Health</a> and <a href="/metrics">metrics</a></li>
</ul>
<p>Start a conversation with the widget key printed at first start:</p>
<pre><code>curl -s -X POST localhost:8080/api/v1/widget/conversations \
  -H 'content-type: application/json' -d '{"widget_key": "wk_…"}'</code></pre>
</body></html>"#;

/// A self-contained reader for the OpenAPI document (no scripts from elsewhere).
const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Baton API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1c1c1c}
h2{border-bottom:1px solid #ddd;margin-top:2rem}.op{border:1px solid #e3e3e3;border-radius:6px;margin:.8rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.5rem;font-weight:600}.get{color:#1a7f37}.post{color:#0b5cad}.put{color:#9a6700}.delete{color:#cf222e}
code,pre{background:#f6f8fa;border-radius:4px}pre{padding:.5rem;overflow:auto;font-size:13px}details summary{cursor:pointer;color:#555}
</style></head><body>
<h1 id="title">Baton API</h1><p id="desc"></p><div id="ops">Loading /api/openapi.json…</div>
<script>
const el = (tag, attrs, ...kids) => { const e = document.createElement(tag); Object.assign(e, attrs || {}); for (const k of kids) e.append(k); return e; };
fetch('/api/openapi.json').then(r => r.json()).then(doc => {
  document.getElementById('desc').textContent = doc.info.description || '';
  const ops = document.getElementById('ops'); ops.textContent = '';
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags || ['other'])[0]; (byTag[tag] = byTag[tag] || []).push([method, path, op]);
  }
  for (const [tag, list] of Object.entries(byTag)) {
    ops.append(el('h2', {textContent: tag}));
    for (const [method, path, op] of list) {
      const box = el('div', {className: 'op'});
      box.append(el('div', {}, el('span', {className: 'm ' + method, textContent: method.toUpperCase()}), el('code', {textContent: path})));
      box.append(el('p', {textContent: op.description || op.summary || ''}));
      const details = el('details', {}, el('summary', {textContent: 'parameters, body and responses'}));
      details.append(el('pre', {textContent: JSON.stringify({parameters: op.parameters, requestBody: op.requestBody, responses: op.responses, security: op.security}, null, 2)}));
      box.append(details); ops.append(box);
    }
  }
  ops.append(el('h2', {textContent: 'schemas'}), el('pre', {textContent: JSON.stringify(doc.components.schemas, null, 2)}));
});
</script></body></html>"#;

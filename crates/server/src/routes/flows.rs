//! Flows: drafts validated as they are saved, immutable numbered versions, the live switch,
//! rollback, import and export.

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::json::{ApiJson, OptionalJson};
use crate::pages::{page_of, Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use baton_flow::diagnostic::has_errors;
use baton_flow::script::run_test_in;
use baton_flow::{check, Diagnostic};
use baton_store::{FlowRow, FlowVersion};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/flows", get(list_flows).post(create_flow))
        .route("/api/v1/flows/import", post(create_flow))
        .route("/api/v1/flows/{id}", get(get_flow))
        .route("/api/v1/flows/{id}/draft", put(update_draft))
        .route("/api/v1/flows/{id}/publish", post(publish))
        .route("/api/v1/flows/{id}/versions", get(versions))
        .route("/api/v1/flows/{id}/versions/{version}", get(version))
        .route("/api/v1/flows/{id}/rollback", post(rollback))
        .route("/api/v1/flows/{id}/live", put(set_live))
        .route("/api/v1/flows/{id}/settings", put(flow_settings))
        .route("/api/v1/flows/{id}/export", get(export))
        .route("/api/v1/flows/{id}/simulate", post(simulate))
        .route("/api/v1/flows/{id}/tests/run", post(run_tests))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    /// A flow document, format 1 (see docs/flow-format.md).
    #[schema(value_type = Object)]
    pub document: Value,
}

#[derive(Serialize, ToSchema)]
pub struct FlowSummary {
    pub id: String,
    pub name: String,
    /// Switched on: new conversations may start on its live version.
    pub live: bool,
    /// The version new conversations start on.
    pub live_version: Option<i64>,
    /// Publishing requires the flow's scripted tests to pass.
    pub require_tests: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FlowDetail {
    #[serde(flatten)]
    pub summary: FlowSummary,
    /// The draft document.
    #[schema(value_type = Object)]
    pub draft: Value,
    /// Validation findings of the draft (codes: docs/validation.md).
    #[schema(value_type = Vec<DiagnosticShape>)]
    pub diagnostics: Vec<Diagnostic>,
    /// Errors block publishing.
    pub errors: usize,
    /// Warnings not accepted as intended.
    pub warnings: usize,
    /// Warnings the document's `accepted` list marks as intended.
    pub accepted: usize,
}

#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: i64,
    pub note: Option<String>,
    pub published_by: Option<String>,
    pub published_at: i64,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// What changed, for the version history.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublishResponse {
    pub version: i64,
    /// With required tests: how many passed.
    pub tests_passed: usize,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The version whose document is published again as a new version.
    pub version: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveRequest {
    pub live: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowSettingsRequest {
    pub require_tests: bool,
}

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    version: Option<i64>,
}

fn summary(f: &FlowRow) -> FlowSummary {
    FlowSummary {
        id: f.id.clone(),
        name: f.name.clone(),
        live: f.live,
        live_version: f.live_version,
        require_tests: f.require_tests,
        created_at: f.created_at,
        updated_at: f.updated_at,
    }
}

/// Reads a document: unreadable ones (bad shape, another format) are refused; documents with
/// findings are kept (drafts may be unfinished) and the findings returned.
fn read_document(document: &Value) -> ApiResult<(String, String, Vec<Diagnostic>)> {
    let text = document.to_string();
    let checked = check(&text).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "flow_unreadable", e.to_string()).field(&match &e {
            baton_flow::document::DocumentError::Shape { field, .. } => format!("document.{field}"),
            baton_flow::document::DocumentError::UnsupportedFormat { .. } => "document.format".to_string(),
            _ => "document".to_string(),
        })
    })?;
    let name = document
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "document.name",
            "a flow needs a name of 1 to 200 characters",
        ));
    }
    Ok((name, text, checked.diagnostics))
}

fn detail(f: &FlowRow) -> FlowDetail {
    let diagnostics = match check(&f.draft) {
        Ok(c) => c.diagnostics,
        Err(e) => vec![Diagnostic::error(e.code(), e.to_string())],
    };
    let counts = baton_flow::diagnostic::counts(&diagnostics);
    FlowDetail {
        summary: summary(f),
        draft: serde_json::from_str(&f.draft).unwrap_or(Value::Null),
        errors: counts.errors,
        warnings: counts.warnings,
        accepted: counts.accepted,
        diagnostics,
    }
}

async fn owned_flow(state: &AppState, caller: &Caller, id: &str) -> ApiResult<FlowRow> {
    state
        .core
        .store
        .flow(&caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("flow"))
}

/// Every flow of the workspace.
#[utoipa::path(get, path = "/api/v1/flows", tag = "flows", security(("session" = []), ("api_key" = [])), params(crate::pages::PageParams),
    responses((status = 200, body = Page<FlowSummary>), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn list_flows(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<FlowSummary>>> {
    caller.require(Role::Agent)?;
    let flows = state.core.store.flows(&caller.workspace_id).await?;
    Ok(Json(page_of(
        flows.iter().map(summary).collect(),
        |f| f.id.clone(),
        &page,
    )?))
}

/// Creates a flow from a document (also `POST /api/v1/flows/import`).
#[utoipa::path(post, path = "/api/v1/flows", tag = "flows", security(("session" = []), ("api_key" = [])),
    request_body = DocumentRequest,
    responses((status = 201, body = FlowDetail), (status = 422, body = crate::error::ErrorBody)))]
async fn create_flow(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DocumentRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let (name, text, _) = read_document(&req.document)?;
    let id = new_id("flow");
    let now = state.core.clock.now_ms();
    state
        .core
        .store
        .create_flow(&id, &caller.workspace_id, &name, &text, now)
        .await?;
    let flow = owned_flow(&state, &caller, &id).await?;
    Ok((StatusCode::CREATED, Json(detail(&flow))).into_response())
}

/// A flow with its draft and the draft's validation findings.
#[utoipa::path(get, path = "/api/v1/flows/{id}", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = FlowDetail), (status = 404, body = crate::error::ErrorBody)))]
async fn get_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<FlowDetail>> {
    caller.require(Role::Agent)?;
    Ok(Json(detail(&owned_flow(&state, &caller, &id).await?)))
}

/// Saves the draft; returns it with its findings.
#[utoipa::path(put, path = "/api/v1/flows/{id}/draft", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body = DocumentRequest,
    responses((status = 200, body = FlowDetail), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn update_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DocumentRequest>,
) -> ApiResult<Json<FlowDetail>> {
    caller.require(Role::Admin)?;
    let (name, text, _) = read_document(&req.document)?;
    let now = state.core.clock.now_ms();
    if !state
        .core
        .store
        .update_draft(&caller.workspace_id, &id, &name, &text, now)
        .await?
    {
        return Err(ApiError::not_found("flow"));
    }
    Ok(Json(detail(&owned_flow(&state, &caller, &id).await?)))
}

/// Publishes the draft as the next version; refused while validation finds errors, or while
/// required scripted tests fail.
#[utoipa::path(post, path = "/api/v1/flows/{id}/publish", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body(content = Option<PublishRequest>, description = "optional: `{\"note\": …}`, `{}` or no body"),
    responses((status = 201, body = PublishResponse), (status = 404, body = crate::error::ErrorBody),
              (status = 422, description = "flow_invalid or tests_failed; details hold the findings or failures", body = crate::error::ErrorBody)))]
async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(req): OptionalJson<PublishRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    if req.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::invalid_field("note", "at most 500 characters"));
    }
    let flow = owned_flow(&state, &caller, &id).await?;
    let version = publish_document(&state, &caller, &flow, &flow.draft, req.note.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(version)).into_response())
}

async fn publish_document(
    state: &AppState,
    caller: &Caller,
    flow: &FlowRow,
    document: &str,
    note: Option<&str>,
) -> ApiResult<PublishResponse> {
    let checked = check(document)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "flow_unreadable", e.to_string()))?;
    if has_errors(&checked.diagnostics) {
        let errors: Vec<&Diagnostic> = checked.diagnostics.iter().filter(|d| d.is_error()).collect();
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "flow_invalid",
            format!(
                "the flow has {} validation error(s); fix them before publishing",
                errors.len()
            ),
        )
        .details(json!(errors)));
    }
    let Some(loaded) = checked.flow else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "flow_invalid",
            "the flow does not load",
        ));
    };
    let mut tests_passed = 0;
    if flow.require_tests {
        if loaded.tests().is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "tests_failed",
                "publishing requires scripted tests, and the flow has none",
            ));
        }
        let failures: Vec<Value> = loaded
            .tests()
            .iter()
            .map(|t| run_test_in(&loaded, t, tests_world(state)))
            .filter(|r| !r.passed)
            .map(|r| json!({ "test": r.name, "failure": r.failure }))
            .collect();
        if !failures.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "tests_failed",
                format!(
                    "{} scripted test(s) fail; publishing requires them to pass",
                    failures.len()
                ),
            )
            .details(json!(failures)));
        }
        tests_passed = loaded.tests().len();
    }
    let now = state.core.clock.now_ms();
    let version = state
        .core
        .store
        .publish_flow(&caller.workspace_id, &flow.id, document, note, caller.member_id(), now)
        .await?;
    Ok(PublishResponse { version, tests_passed })
}

/// The published versions, newest first.
#[utoipa::path(get, path = "/api/v1/flows/{id}/versions", tag = "flows", params(("id" = String, Path), crate::pages::PageParams),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = Page<VersionView>), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<VersionView>>> {
    caller.require(Role::Agent)?;
    let flow = owned_flow(&state, &caller, &id).await?;
    let versions = state.core.store.flow_versions(&flow.id).await?;
    let views = versions.iter().map(version_view).collect();
    Ok(Json(page_of(views, |v| v.version.to_string(), &page)?))
}

fn version_view(v: &FlowVersion) -> VersionView {
    VersionView {
        version: v.version,
        note: v.note.clone(),
        published_by: v.published_by.clone(),
        published_at: v.published_at,
    }
}

/// One published version's document.
#[utoipa::path(get, path = "/api/v1/flows/{id}/versions/{version}", tag = "flows",
    params(("id" = String, Path), ("version" = i64, Path)), security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = VersionDocument), (status = 404, body = crate::error::ErrorBody)))]
async fn version(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, version)): Path<(String, i64)>,
) -> ApiResult<Json<VersionDocument>> {
    caller.require(Role::Agent)?;
    let flow = owned_flow(&state, &caller, &id).await?;
    let v = state
        .core
        .store
        .flow_version(&flow.id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("version"))?;
    let document: Value = serde_json::from_str(&v.document).unwrap_or(Value::Null);
    Ok(Json(VersionDocument {
        version: version_view(&v),
        document,
    }))
}

/// Rolls back: publishes an earlier version's document again as a new version, and makes it
/// the draft. Conversations keep the version they started on.
#[utoipa::path(post, path = "/api/v1/flows/{id}/rollback", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body = RollbackRequest,
    responses((status = 201, body = PublishResponse), (status = 404, body = crate::error::ErrorBody),
              (status = 422, description = "flow_invalid or tests_failed, as for publishing", body = crate::error::ErrorBody)))]
async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RollbackRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let flow = owned_flow(&state, &caller, &id).await?;
    let old = state
        .core
        .store
        .flow_version(&flow.id, req.version)
        .await?
        .ok_or_else(|| ApiError::not_found("version").field("version"))?;
    let note = format!("rollback to version {}", req.version);
    let published = publish_document(&state, &caller, &flow, &old.document, Some(&note)).await?;
    let now = state.core.clock.now_ms();
    state
        .core
        .store
        .update_draft(&caller.workspace_id, &flow.id, &flow.name, &old.document, now)
        .await?;
    Ok((StatusCode::CREATED, Json(published)).into_response())
}

/// Switches the flow on (new conversations start on its live version) or off.
#[utoipa::path(put, path = "/api/v1/flows/{id}/live", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body = LiveRequest,
    responses((status = 200, body = FlowSummary), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn set_live(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<LiveRequest>,
) -> ApiResult<Json<FlowSummary>> {
    caller.require(Role::Admin)?;
    let flow = owned_flow(&state, &caller, &id).await?;
    if req.live && flow.live_version.is_none() {
        return Err(ApiError::conflict(
            "not_published",
            "publish the flow before switching it on",
        ));
    }
    let now = state.core.clock.now_ms();
    state
        .core
        .store
        .set_flow_live(&caller.workspace_id, &id, req.live, now)
        .await?;
    Ok(Json(summary(&owned_flow(&state, &caller, &id).await?)))
}

/// Flow settings: whether publishing requires the scripted tests to pass.
#[utoipa::path(put, path = "/api/v1/flows/{id}/settings", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body = FlowSettingsRequest,
    responses((status = 200, body = FlowSummary), (status = 404, body = crate::error::ErrorBody)))]
async fn flow_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<FlowSettingsRequest>,
) -> ApiResult<Json<FlowSummary>> {
    caller.require(Role::Admin)?;
    let now = state.core.clock.now_ms();
    if !state
        .core
        .store
        .set_require_tests(&caller.workspace_id, &id, req.require_tests, now)
        .await?
    {
        return Err(ApiError::not_found("flow"));
    }
    Ok(Json(summary(&owned_flow(&state, &caller, &id).await?)))
}

/// The flow document as a file: the draft, or `?version=N`.
#[utoipa::path(get, path = "/api/v1/flows/{id}/export", tag = "flows",
    params(("id" = String, Path), ("version" = Option<i64>, Query)), security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Agent)?;
    let flow = owned_flow(&state, &caller, &id).await?;
    let text = match q.version {
        None => flow.draft.clone(),
        Some(v) => {
            state
                .core
                .store
                .flow_version(&flow.id, v)
                .await?
                .ok_or_else(|| ApiError::not_found("version"))?
                .document
        }
    };
    let pretty = serde_json::from_str::<Value>(&text)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(text);
    let filename: String = flow
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}.flow.json\""),
            ),
        ],
        pretty,
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// The conversation so far: setup, fixtures and steps (`say`, `press`, `take_over`,
    /// `agent_reply`, `hand_back`, `resolve`, `cancel`, `advance`, `set`, and expectations), as in
    /// scripted tests. The builder sends the whole list each time.
    #[schema(value_type = Object)]
    pub conversation: Value,
    /// A document to run instead of the saved draft (e.g. unsaved edits).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub document: Option<Value>,
}

fn loaded(text: &str) -> ApiResult<baton_flow::Flow> {
    let checked =
        check(text).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "flow_unreadable", e.to_string()))?;
    checked.flow.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "flow_invalid",
            "the flow's structure is broken; fix its errors to run it",
        )
        .details(json!(checked.diagnostics))
    })
}

/// The builder's test conversation: runs the draft (or a given document) in the simulator —
/// customer, agent and clock — and returns the transcript, the path taken, the variables and
/// hand-overs. Nothing is stored and no webhook is called (give fixtures, or it fails).
#[utoipa::path(post, path = "/api/v1/flows/{id}/simulate", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body = SimulateRequest,
    responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SimulateRequest>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let flow = owned_flow(&state, &caller, &id).await?;
    let text = match &req.document {
        Some(d) => d.to_string(),
        None => flow.draft.clone(),
    };
    let loaded = loaded(&text)?;
    let mut conversation = req.conversation;
    if let Some(o) = conversation.as_object_mut() {
        o.entry("name").or_insert(json!("test conversation"));
    }
    let test: baton_flow::script::TestCase = crate::json::parse(conversation.to_string().as_bytes()).map_err(|e| {
        let field = format!("conversation.{}", e.field.clone().unwrap_or_default());
        e.field(field.trim_end_matches('.'))
    })?;
    if test.steps.len() > 500 {
        return Err(ApiError::invalid_field("conversation.steps", "at most 500 steps"));
    }
    // The test conversation plays in the workspace's world: its hand-off messages and times,
    // escapes, silence and reply targets (the test's setup still decides what it names).
    let settings = state.core.settings.get(&caller.workspace_id).await?;
    let world = settings.simulated_world(&state.core.intent);
    let result = baton_flow::script::simulate_in(&loaded, &test, world);
    Ok(Json(json!(result)))
}

/// The world of saved scripted tests: the defaults, whatever the workspace's settings (as
/// `baton test`).
fn tests_world(state: &AppState) -> baton_flow::runtime::StaticWorld {
    state.core.intent.default_world()
}

/// Runs every scripted test saved with the draft; returns each result and the node and port
/// coverage (for the coverage overlay).
#[utoipa::path(post, path = "/api/v1/flows/{id}/tests/run", tag = "flows", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
async fn run_tests(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let flow = owned_flow(&state, &caller, &id).await?;
    let loaded = loaded(&flow.draft)?;
    let mut coverage = baton_flow::sim::Coverage::default();
    let results: Vec<Value> = loaded
        .tests()
        .iter()
        .map(|t| {
            let r = run_test_in(&loaded, t, tests_world(&state));
            coverage.merge(&r.coverage);
            json!({ "name": r.name, "passed": r.passed, "failure": r.failure, "transcript": r.transcript })
        })
        .collect();
    let passed = results.iter().filter(|r| r["passed"] == true).count();
    Ok(Json(json!({
        "passed": passed,
        "failed": results.len() - passed,
        "tests": results,
        "coverage": coverage.summary(&loaded),
        "covered_nodes": coverage.nodes,
        "covered_ports": coverage.ports.iter().map(|(n, p)| format!("{n}.{p}")).collect::<Vec<_>>(),
    })))
}

/// A published version and its document.
#[derive(Serialize, ToSchema)]
pub struct VersionDocument {
    pub version: VersionView,
    /// The flow document, format 1.
    #[schema(value_type = Object)]
    pub document: Value,
}

/// A validation finding (`baton_flow::Diagnostic`; a test checks the fields).
#[derive(ToSchema)]
#[schema(as = Diagnostic)]
pub struct DiagnosticShape {
    /// Stable, documented in docs/validation.md.
    pub code: String,
    /// `error` blocks publishing; `warning` does not.
    #[schema(pattern = "^(error|warning)$")]
    pub severity: String,
    pub node: Option<String>,
    pub port: Option<String>,
    /// Where in the document, e.g. `nodes[3].variable`.
    pub location: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// `true` for a warning the document's `accepted` list marks as intended (not counted);
    /// absent otherwise.
    pub accepted: Option<bool>,
}

//! Signing in, the workspace and its settings, API keys (members: members.rs).

use crate::auth::{verify_password, Caller, Role, API_KEY_PREFIX, CSRF_HEADER, SESSION_COOKIE, SESSION_MS};
use crate::error::{ApiError, ApiResult};
use crate::ids::{hash_token, new_id, random_token};
use crate::json::ApiJson;
use crate::pages::{page_of, Page, PageQuery};
use crate::settings::WorkspaceSettings;
use crate::signin::SignInRefusal;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use baton_store::{ApiKey, Member, NewApiKey, Session};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/session", get(session))
        .route("/api/v1/me", get(me))
        .route("/api/v1/workspace", get(workspace))
        .route("/api/v1/workspace/settings", put(update_settings))
        .route("/api/v1/workspace/signing-secret", get(signing_secret))
        .route("/api/v1/api-keys", get(list_keys).post(create_key))
        .route("/api/v1/api-keys/{id}", delete(revoke_key))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub member: MemberView,
    /// Send it as the `x-csrf-token` header with every change made with the session cookie.
    pub csrf_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    pub email: String,
    pub name: String,
    #[schema(value_type = crate::api_enums::MemberRoleName)]
    pub role: String,
    pub workspace_id: String,
    /// `online`, `away` or `offline` (see Presence and assignment).
    #[schema(value_type = crate::api_enums::PresenceName)]
    pub presence: String,
    /// `false` once an admin deactivated the member: they cannot sign in or get conversations.
    pub active: bool,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        MemberView {
            id: m.id.clone(),
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role.clone(),
            workspace_id: m.workspace_id.clone(),
            presence: m.presence.clone(),
            active: m.deactivated_at.is_none(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
    /// Public: put it in the widget's script tag.
    pub widget_key: String,
    pub settings: WorkspaceSettings,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `admin` (default) or `agent`; owners create `owner` keys.
    #[serde(default)]
    #[schema(value_type = Option<crate::api_enums::MemberRoleName>)]
    pub role: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NewKeyResponse {
    #[schema(value_type = Object)]
    pub key: ApiKey,
    /// The key itself, shown this once.
    pub secret: String,
}

/// Signs in with email and password: sets the session cookie and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "members", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 408, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let store = &state.core.store;
    let email = req.email.trim().to_lowercase();
    let address = crate::routes::conversations::client_ip(&headers, addr, state.trust_forwarded_for);
    state.sign_in.admit(&address, &email).map_err(sign_in_refused)?;
    let member = store.member_by_email(&email).await?;
    let hash = member.as_ref().map(|m| m.password_hash.clone());
    let password = req.password;
    let ok = state
        .sign_in
        .hash(move || match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                // Verify against a dummy hash when the email is unknown, so timing does not tell.
                let _ = verify_password(
                    &password,
                    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$2XLVPnzDjGNUUMBK5lsU0BZa8EzQhlJeDb9iqFqvnIU",
                );
                false
            }
        })
        .await
        .map_err(sign_in_refused)?;
    let Some(member) = member.filter(|_| ok) else {
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    if member.deactivated_at.is_some() {
        return Err(ApiError::unauthorized(
            "this account has been deactivated: ask an admin of the workspace",
        ));
    }
    state.sign_in.succeeded(&address, &email);
    let token = random_token(32);
    let csrf = random_token(24);
    store
        .create_session(&Session {
            token_hash: hash_token(&token),
            member_id: member.id.clone(),
            csrf_token: csrf.clone(),
            expires_at: state.core.clock.now_ms() + SESSION_MS,
        })
        .await?;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
        SESSION_MS / 1000
    );
    let body = LoginResponse {
        member: MemberView::from(&member),
        csrf_token: csrf,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// A sign-in that was not tried: `429 too_many_sign_ins` (with `retry-after`).
fn sign_in_refused(refusal: SignInRefusal) -> ApiError {
    let message = match refusal {
        SignInRefusal::Address => "too many sign-in attempts from this address; wait a minute",
        SignInRefusal::Account => "too many failed sign-ins for this account; wait a minute",
        SignInRefusal::Busy => "too many sign-ins at once; try again in a moment",
    };
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_sign_ins", message)
}

/// Ends the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "members", security(("session" = [])),
    responses((status = 204, description = "signed out")))]
async fn logout(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<Response> {
    let _ = caller;
    if let Some(token) = crate::auth::cookie(&headers, SESSION_COOKIE) {
        state.core.store.delete_session(&hash_token(token)).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// Who is signed in.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub workspace_id: String,
    /// The signed-in member; `null` for an API key.
    #[schema(required = true)]
    pub member: Option<MemberView>,
    /// The header that carries the CSRF token on a session's writes.
    pub csrf_header: String,
    /// The session's CSRF token (the one login answered with), so a new tab of the web app can
    /// write too; `null` for an API key. Only pages of this server's origin can read it.
    #[schema(required = true)]
    pub csrf_token: Option<String>,
}

/// Whether this browser has a session, and its CSRF token.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub signed_in: bool,
    /// The session's CSRF token (as login answered), so a new tab of the web app can write;
    /// absent when signed out. Only pages of this server's origin can read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

/// Whether the session cookie is a live session: `200` either way (a page asks before it knows).
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "members",
    responses((status = 200, body = SessionView)))]
async fn session(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<SessionView>> {
    let live = match crate::auth::cookie(&headers, SESSION_COOKIE) {
        Some(token) => state
            .core
            .store
            .session(&hash_token(token))
            .await?
            .filter(|s| s.expires_at > state.core.clock.now_ms()),
        None => None,
    };
    Ok(Json(SessionView {
        signed_in: live.is_some(),
        csrf_token: live.map(|s| s.csrf_token),
    }))
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/v1/me", tag = "members", security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = MeView), (status = 401, body = crate::error::ErrorBody)))]
async fn me(caller: Caller) -> ApiResult<Json<MeView>> {
    Ok(Json(MeView {
        member: caller.member.as_ref().map(MemberView::from),
        workspace_id: caller.workspace_id,
        csrf_header: CSRF_HEADER.to_string(),
        csrf_token: caller.csrf_token,
    }))
}

/// Longest a conversation may be left waiting on the customer before it closes (a year).
const MAX_ABANDON_AFTER_HOURS: u32 = 8760;

/// The workspace, its widget key and settings.
#[utoipa::path(get, path = "/api/v1/workspace", tag = "members", security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = WorkspaceView)))]
async fn workspace(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WorkspaceView>> {
    caller.require(Role::Agent)?;
    let ws = state
        .core
        .store
        .workspace(&caller.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let settings = state.core.settings.get(&ws.id).await?;
    Ok(Json(WorkspaceView {
        id: ws.id,
        name: ws.name,
        widget_key: ws.widget_key,
        settings: (*settings).clone(),
    }))
}

/// The secret that signs webhook calls and events (Standard Webhooks): give it to receivers.
#[utoipa::path(get, path = "/api/v1/workspace/signing-secret", tag = "members", security(("session" = []), ("api_key" = [])),
    responses((status = 200, body = SigningSecret), (status = 403, body = crate::error::ErrorBody)))]
async fn signing_secret(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Role::Admin)?;
    let ws = state
        .core
        .store
        .workspace(&caller.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(Json(
        serde_json::json!({ "secret": ws.webhook_secret, "scheme": "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>)" }),
    ))
}

/// Replaces the workspace settings.
#[utoipa::path(put, path = "/api/v1/workspace/settings", tag = "members", security(("session" = []), ("api_key" = [])),
    request_body = WorkspaceSettings,
    responses((status = 200, body = WorkspaceSettings), (status = 422, body = crate::error::ErrorBody)))]
async fn update_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(settings): ApiJson<WorkspaceSettings>,
) -> ApiResult<Json<WorkspaceSettings>> {
    caller.require(Role::Admin)?;
    if let Some(hours) = &settings.business_hours {
        hours
            .validate()
            .map_err(|e| ApiError::invalid_field(&format!("business_hours.{}", e.field), e.message.clone()))?;
    }
    if settings.allowed_origins.len() > 50 {
        return Err(ApiError::invalid_field("allowed_origins", "at most 50 origins"));
    }
    for (i, o) in settings.allowed_origins.iter().enumerate() {
        if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') || o.chars().count() > 200 {
            return Err(ApiError::invalid_field(
                &format!("allowed_origins[{i}]"),
                "an origin is scheme and host, e.g. https://shop.example (no path, no trailing /)",
            ));
        }
    }
    if settings.abandon_after_hours > MAX_ABANDON_AFTER_HOURS {
        return Err(ApiError::invalid_field(
            "abandon_after_hours",
            format!("0 (never) to {MAX_ABANDON_AFTER_HOURS} hours"),
        ));
    }
    settings
        .escapes
        .check()
        .map_err(|(field, message)| ApiError::invalid_field(&format!("escapes.{field}"), message))?;
    if let Some((field, message)) = settings.reply_targets.invalid_field() {
        return Err(ApiError::invalid_field(&format!("reply_targets.{field}"), message));
    }
    if settings.canned_replies.len() > crate::settings::MAX_CANNED_REPLIES {
        return Err(ApiError::invalid_field(
            "canned_replies",
            format!("at most {} canned replies", crate::settings::MAX_CANNED_REPLIES),
        ));
    }
    for (i, reply) in settings.canned_replies.iter().enumerate() {
        if let Some((field, message)) = reply.invalid_field(i, &settings.canned_replies[..i]) {
            return Err(ApiError::invalid_field(&field, message));
        }
    }
    let text = serde_json::to_string(&settings).map_err(|e| ApiError::internal(e.to_string()))?;
    state
        .core
        .store
        .update_workspace_settings(&caller.workspace_id, &text)
        .await?;
    state.core.settings.forget(&caller.workspace_id);
    Ok(Json(settings))
}

/// The workspace's API keys (not their secrets).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "members", security(("session" = []), ("api_key" = [])),
    params(crate::pages::PageParams),
    responses((status = 200, body = Page<ApiKeyShape>), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    caller.require(Role::Admin)?;
    let keys = state.core.store.api_keys(&caller.workspace_id).await?;
    Ok(Json(page_of(keys, |k| k.id.clone(), &page)?))
}

/// Creates an API key; its secret is in the answer once.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "members", security(("session" = []), ("api_key" = [])),
    request_body = NewKeyRequest,
    responses((status = 201, body = NewKeyResponse), (status = 422, body = crate::error::ErrorBody)))]
async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewKeyRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let role_name = req.role.unwrap_or_else(|| "admin".into());
    let role = Role::parse(&role_name).ok_or_else(|| ApiError::invalid_field("role", "owner, admin or agent"))?;
    caller.require(role)?;
    if req.name.trim().is_empty() || req.name.chars().count() > 100 {
        return Err(ApiError::invalid_field("name", "1 to 100 characters"));
    }
    let secret = format!("{API_KEY_PREFIX}{}", random_token(24));
    let id = new_id("key");
    state
        .core
        .store
        .create_api_key(NewApiKey {
            id: &id,
            workspace_id: &caller.workspace_id,
            name: req.name.trim(),
            key_hash: &hash_token(&secret),
            prefix: &secret[..8],
            role: &role_name,
            now: state.core.clock.now_ms(),
        })
        .await?;
    let key = state
        .core
        .store
        .api_keys(&caller.workspace_id)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| ApiError::internal("key vanished"))?;
    Ok((StatusCode::CREATED, Json(NewKeyResponse { key, secret })).into_response())
}

/// Revokes an API key.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "members", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 204, description = "revoked"), (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    if state
        .core
        .store
        .revoke_api_key(&caller.workspace_id, &id, state.core.clock.now_ms())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("API key"))
    }
}

/// An API key as listed (never its secret; `baton_store::ApiKey`).
#[derive(ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyShape {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// The first characters of the key, to recognise it in a list.
    pub prefix: String,
    #[schema(value_type = crate::api_enums::MemberRoleName)]
    pub role: String,
    pub created_at: i64,
    /// When it was revoked; `null` while it works.
    #[schema(required = true)]
    pub revoked_at: Option<i64>,
}

/// The workspace's signing secret and how it signs.
#[derive(ToSchema)]
pub struct SigningSecret {
    /// `whsec_…`: keep it secret.
    pub secret: String,
    pub scheme: String,
}

//! The team: members (added with a first password or invited by a link), their roles, and
//! deactivation.

use crate::auth::{hash_password, Caller, Role};
use crate::engine::{AgentAction, TurnInput};
use crate::error::{ApiError, ApiResult};
use crate::ids::{hash_token, new_id, random_token};
use crate::json::ApiJson;
use crate::pages::{page_of, Page, PageQuery};
use crate::routes::accounts::MemberView;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use baton_store::{InboxFilter, Invite, Member, NewMember};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// How long an invitation link works.
pub const INVITE_MS: i64 = 7 * 24 * 3600 * 1000;
/// Most conversations a deactivation gives back to the queue at once (more: call again).
const RELEASE_LIMIT: i64 = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/members", get(list_members).post(create_member))
        .route("/api/v1/members/{id}", axum::routing::patch(update_member))
        .route("/api/v1/members/invites", get(list_invites).post(create_invite))
        .route("/api/v1/members/invites/{id}", delete(revoke_invite))
        .route("/api/v1/invites/{token}", get(invite))
        .route("/api/v1/invites/{token}/accept", post(accept_invite))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberRequest {
    #[schema(format = Email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(value_type = crate::api_enums::MemberRoleName)]
    pub role: String,
    /// 12 to 200 characters, not one of the 30,000 most common passwords (nor one with digits
    /// or symbols around it), not containing the email's name.
    #[schema(min_length = 12, max_length = 200)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    /// The new role. Admins set `agent` or `admin` on agents and admins; only owners make or
    /// unmake owners; the last active owner keeps the role.
    #[serde(default)]
    #[schema(value_type = Option<crate::api_enums::MemberRoleName>)]
    pub role: Option<String>,
    /// `false` deactivates: signed out everywhere, cannot sign in, offline, and the
    /// conversations they have go back to their team's queue. `true` brings them back.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInviteRequest {
    #[schema(format = Email)]
    pub email: String,
    #[schema(value_type = crate::api_enums::MemberRoleName)]
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct InviteView {
    pub id: String,
    pub email: String,
    #[schema(value_type = crate::api_enums::MemberRoleName)]
    pub role: String,
    /// The member who invited.
    pub invited_by: String,
    pub created_at: i64,
    /// After this (ms since the epoch) the link no longer works.
    pub expires_at: i64,
}

impl From<&Invite> for InviteView {
    fn from(i: &Invite) -> Self {
        InviteView {
            id: i.id.clone(),
            email: i.email.clone(),
            role: i.role.clone(),
            invited_by: i.invited_by.clone(),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NewInviteResponse {
    pub invite: InviteView,
    /// The link's path on this server (`/app/invite/…`), shown this once: send it to the
    /// person. Only its hash is stored.
    pub path: String,
}

/// What the person opening an invitation link sees before accepting.
#[derive(Serialize, ToSchema)]
pub struct InviteLookup {
    pub workspace_name: String,
    pub email: String,
    #[schema(value_type = crate::api_enums::MemberRoleName)]
    pub role: String,
    pub invited_by_name: String,
    pub expires_at: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInviteRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// As for a new member's password.
    #[schema(min_length = 12, max_length = 200)]
    pub password: String,
}

/// The workspace's members, deactivated ones included (`active: false`).
#[utoipa::path(get, path = "/api/v1/members", tag = "members", security(("session" = []), ("api_key" = [])), params(crate::pages::PageParams),
    responses((status = 200, body = Page<MemberView>), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MemberView>>> {
    caller.require(Role::Agent)?;
    let members = state.core.store.members(&caller.workspace_id).await?;
    Ok(Json(page_of(
        members.iter().map(MemberView::from).collect(),
        |m| m.id.clone(),
        &page,
    )?))
}

/// Adds a member with a first password. Admins add agents and admins; only owners add owners.
#[utoipa::path(post, path = "/api/v1/members", tag = "members", security(("session" = []), ("api_key" = [])),
    request_body = NewMemberRequest,
    responses((status = 201, body = MemberView), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn create_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewMemberRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let role = grantable_role(&caller, &req.role)?;
    let email = checked_email(&req.email)?;
    let name = checked_name(&req.name)?;
    check_password(&req.password, &email)?;
    let id = new_id("mem");
    let result = state
        .core
        .store
        .create_member(NewMember {
            id: &id,
            workspace_id: &caller.workspace_id,
            email: &email,
            name,
            role: role.as_str(),
            password_hash: &hash_password(&req.password)?,
            now: state.core.clock.now_ms(),
        })
        .await;
    match result {
        Err(e) if e.is_unique_violation() => return Err(email_taken()),
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    created(&state, &id).await
}

/// Changes a member's role, or deactivates (or reactivates) them.
#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "members", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body = UpdateMemberRequest,
    responses((status = 200, body = MemberView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateMemberRequest>,
) -> ApiResult<Json<MemberView>> {
    caller.require(Role::Admin)?;
    let store = &state.core.store;
    let members = store.members(&caller.workspace_id).await?;
    let target = members
        .iter()
        .find(|m| m.id == id)
        .ok_or_else(|| ApiError::not_found("member"))?;
    let target_role = Role::parse(&target.role).unwrap_or(Role::Agent);
    if target_role == Role::Owner {
        caller.require(Role::Owner)?;
    }
    let new_role = req.role.as_deref().map(|r| grantable_role(&caller, r)).transpose()?;
    let deactivating = req.active == Some(false) && target.deactivated_at.is_none();
    let loses_owner = target_role == Role::Owner
        && target.deactivated_at.is_none()
        && (deactivating || new_role.is_some_and(|r| r != Role::Owner));
    if loses_owner {
        let other_owners = members
            .iter()
            .filter(|m| m.id != target.id && m.role == Role::Owner.as_str() && m.deactivated_at.is_none())
            .count();
        if other_owners == 0 {
            return Err(ApiError::conflict(
                "last_owner",
                "the workspace needs an active owner: make someone else owner first",
            ));
        }
    }
    if deactivating && caller.member_id() == Some(target.id.as_str()) {
        return Err(ApiError::conflict("deactivate_self", "you cannot deactivate yourself").field("active"));
    }
    if let Some(role) = new_role {
        store.set_member_role(&caller.workspace_id, &id, role.as_str()).await?;
    }
    match req.active {
        Some(false) if deactivating => {
            let now = state.core.clock.now_ms();
            store
                .set_member_deactivated(&caller.workspace_id, &id, Some(now))
                .await?;
            state.core.availability.forget(&caller.workspace_id);
            state.core.hub.publish_inbox(
                &caller.workspace_id,
                || json!({ "type": "presence", "member_id": id, "status": "offline" }),
            );
            release_conversations(&state, &caller, target).await?;
        }
        Some(true) if target.deactivated_at.is_some() => {
            store.set_member_deactivated(&caller.workspace_id, &id, None).await?;
        }
        _ => {}
    }
    let member = store.member(&id).await?.ok_or_else(|| ApiError::not_found("member"))?;
    Ok(Json(MemberView::from(&member)))
}

/// Gives the conversations a deactivated member has back to their teams' queues.
async fn release_conversations(state: &AppState, caller: &Caller, member: &Member) -> ApiResult<()> {
    let filter = InboxFilter {
        statuses: vec!["assigned".to_string()],
        assignee: Some(Some(member.id.clone())),
        limit: RELEASE_LIMIT,
        ..InboxFilter::default()
    };
    let conversations = state.core.store.inbox(&caller.workspace_id, &filter).await?;
    let acting = caller.member.clone().unwrap_or_else(|| member.clone());
    for conversation in conversations {
        state
            .engine
            .submit(TurnInput::Agent {
                conversation_id: conversation.id,
                member: acting.clone(),
                action: AgentAction::Release {
                    member_id: member.id.clone(),
                },
            })
            .await?;
    }
    Ok(())
}

/// Invitations not yet accepted, revoked or expired.
#[utoipa::path(get, path = "/api/v1/members/invites", tag = "members", security(("session" = []), ("api_key" = [])), params(crate::pages::PageParams),
    responses((status = 200, body = Page<InviteView>), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn list_invites(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<InviteView>>> {
    caller.require(Role::Admin)?;
    let now = state.core.clock.now_ms();
    let invites = state.core.store.pending_invites(&caller.workspace_id, now).await?;
    Ok(Json(page_of(
        invites.iter().map(InviteView::from).collect(),
        |i| i.id.clone(),
        &page,
    )?))
}

/// Invites someone by a link that works for 7 days. Admins invite agents and admins; only
/// owners invite owners.
#[utoipa::path(post, path = "/api/v1/members/invites", tag = "members", security(("session" = []), ("api_key" = [])),
    request_body = NewInviteRequest,
    responses((status = 201, body = NewInviteResponse), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn create_invite(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewInviteRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let role = grantable_role(&caller, &req.role)?;
    let email = checked_email(&req.email)?;
    let store = &state.core.store;
    if store.member_by_email(&email).await?.is_some() {
        return Err(email_taken());
    }
    let token = random_token(32);
    let now = state.core.clock.now_ms();
    let invite = Invite {
        id: new_id("inv"),
        workspace_id: caller.workspace_id.clone(),
        token_hash: hash_token(&token),
        email,
        role: role.as_str().to_string(),
        invited_by: caller.member_id().unwrap_or("api_key").to_string(),
        created_at: now,
        expires_at: now + INVITE_MS,
        accepted_at: None,
        revoked_at: None,
    };
    store.create_invite(&invite).await?;
    let body = NewInviteResponse {
        invite: InviteView::from(&invite),
        path: format!("/app/invite/{token}"),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Revokes an invitation: its link stops working.
#[utoipa::path(delete, path = "/api/v1/members/invites/{id}", tag = "members", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])),
    responses((status = 204, description = "revoked"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn revoke_invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let now = state.core.clock.now_ms();
    if state.core.store.revoke_invite(&caller.workspace_id, &id, now).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("invite"))
    }
}

/// An invitation link's details, for the page that accepts it (no sign-in: the token is the
/// proof). `404` for an unknown token; `410 invite_used` or `invite_expired` once it no longer works.
#[utoipa::path(get, path = "/api/v1/invites/{token}", tag = "members", params(("token" = String, Path)),
    responses((status = 200, body = InviteLookup), (status = 404, body = crate::error::ErrorBody),
        (status = 410, body = crate::error::ErrorBody)))]
pub(crate) async fn invite(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Json<InviteLookup>> {
    let invite = live_invite(&state, &token).await?;
    let store = &state.core.store;
    let workspace = store
        .workspace(&invite.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let invited_by_name = match store.member(&invite.invited_by).await? {
        Some(m) => m.name,
        None => workspace.name.clone(),
    };
    Ok(Json(InviteLookup {
        workspace_name: workspace.name,
        email: invite.email,
        role: invite.role,
        invited_by_name,
        expires_at: invite.expires_at,
    }))
}

/// Accepts an invitation: the member is created with their name and password (the email is
/// the invited one). Then sign in as usual.
#[utoipa::path(post, path = "/api/v1/invites/{token}/accept", tag = "members", params(("token" = String, Path)),
    request_body = AcceptInviteRequest,
    responses((status = 201, body = MemberView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 410, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn accept_invite(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<AcceptInviteRequest>,
) -> ApiResult<Response> {
    let invite = live_invite(&state, &token).await?;
    let name = checked_name(&req.name)?;
    check_password(&req.password, &invite.email)?;
    let id = new_id("mem");
    let accepted = state
        .core
        .store
        .accept_invite(
            &invite.id,
            NewMember {
                id: &id,
                workspace_id: &invite.workspace_id,
                email: &invite.email,
                name,
                role: &invite.role,
                password_hash: &hash_password(&req.password)?,
                now: state.core.clock.now_ms(),
            },
        )
        .await;
    match accepted {
        Err(e) if e.is_unique_violation() => return Err(email_taken()),
        Err(e) => return Err(e.into()),
        Ok(false) => return Err(invite_used()),
        Ok(true) => {}
    }
    created(&state, &id).await
}

/// `201` with the member just created.
async fn created(state: &AppState, id: &str) -> ApiResult<Response> {
    let member = state
        .core
        .store
        .member(id)
        .await?
        .ok_or_else(|| ApiError::internal("member vanished"))?;
    Ok((StatusCode::CREATED, Json(MemberView::from(&member))).into_response())
}

/// The invitation a link's token names, while it still works.
async fn live_invite(state: &AppState, token: &str) -> ApiResult<Invite> {
    let invite = state
        .core
        .store
        .invite_by_token(&hash_token(token))
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    if invite.accepted_at.is_some() || invite.revoked_at.is_some() {
        return Err(invite_used());
    }
    if invite.expires_at <= state.core.clock.now_ms() {
        return Err(ApiError::new(
            StatusCode::GONE,
            "invite_expired",
            "this invitation has expired: ask for a new one",
        ));
    }
    Ok(invite)
}

fn invite_used() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "invite_used",
        "this invitation was already used or revoked: sign in, or ask for a new one",
    )
}

fn email_taken() -> ApiError {
    ApiError::conflict("email_taken", "a member with this email exists").field("email")
}

/// A role the caller may give: admins give `agent` and `admin`, owners also `owner`.
fn grantable_role(caller: &Caller, role: &str) -> ApiResult<Role> {
    let role = Role::parse(role).ok_or_else(|| ApiError::invalid_field("role", "owner, admin or agent"))?;
    if role == Role::Owner {
        caller.require(Role::Owner)?;
    }
    Ok(role)
}

fn checked_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    if baton_flow::matching::validate_input(baton_flow::document::InputKind::Email, &email, None).is_err() {
        return Err(ApiError::invalid_field("email", "not an email address"));
    }
    Ok(email)
}

fn checked_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_field("name", "1 to 100 characters"));
    }
    Ok(name)
}

fn check_password(password: &str, email: &str) -> ApiResult<()> {
    match crate::passwords::weakness(password, email) {
        Some(weakness) => Err(ApiError::invalid_field("password", weakness)),
        None => Ok(()),
    }
}

//! Who is asking: members by session cookie (with a CSRF token for changes) or API key;
//! customers by their conversation token.

use crate::error::{ApiError, ApiResult};
use crate::ids::{constant_time_eq, hash_token};
use crate::memo::{Dated, Memo};
use crate::state::AppState;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use baton_store::{Conversation, Member, Session};
use std::time::Duration;

pub const SESSION_COOKIE: &str = "baton_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// API keys start with this, so they are easy to recognise (and to scan for in leaks).
pub const API_KEY_PREFIX: &str = "bk_";
/// Sessions last this long.
pub const SESSION_MS: i64 = 14 * 24 * 3600 * 1000;

pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("hashing the password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Agent];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }
}

/// A signed-in member (or an API key acting for the workspace).
#[derive(Debug, Clone)]
pub struct Caller {
    pub workspace_id: String,
    /// The member, when signed in with a session.
    pub member: Option<Member>,
    pub role: Role,
    /// The session's CSRF token (none for an API key).
    pub csrf_token: Option<String>,
}

impl Caller {
    /// Refuses callers below `role`.
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this needs the {} role", role.as_str())))
        }
    }

    pub fn member_id(&self) -> Option<&str> {
        self.member.as_ref().map(|m| m.id.as_str())
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let store = &state.core.store;
        if let Some(token) = bearer(&parts.headers) {
            if !token.starts_with(API_KEY_PREFIX) {
                return Err(ApiError::unauthorized(
                    "this endpoint takes an API key (bk_…) or a signed-in session",
                ));
            }
            let key = store
                .api_key_by_hash(&hash_token(token))
                .await?
                .filter(|k| k.revoked_at.is_none())
                .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
            let role = Role::parse(&key.role).unwrap_or(Role::Agent);
            return Ok(Caller {
                workspace_id: key.workspace_id,
                member: None,
                role,
                csrf_token: None,
            });
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ApiError::unauthorized(
                "sign in first (POST /api/v1/auth/login) or send an API key",
            ));
        };
        let token_hash = hash_token(token);
        // Taken before any read: a change made meanwhile makes what is read here out of date.
        let generation = store.accounts_generation();
        let (session, member) = match state.signed_in.recall(&token_hash, generation) {
            Some(known) => known,
            None => {
                let Some(session) = store.session(&token_hash).await? else {
                    return Err(ApiError::unauthorized("the session has expired; sign in again"));
                };
                let Some(member) = store.member(&session.member_id).await? else {
                    return Err(ApiError::unauthorized("the member no longer exists"));
                };
                state
                    .signed_in
                    .remember(token_hash, generation, session.clone(), member.clone());
                (session, member)
            }
        };
        if session.expires_at <= state.core.clock.now_ms() {
            return Err(ApiError::unauthorized("the session has expired; sign in again"));
        }
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent, &session.csrf_token) {
                return Err(ApiError::forbidden(format!(
                    "missing or wrong {CSRF_HEADER} header (the csrf_token from login)"
                )));
            }
        }
        if member.deactivated_at.is_some() {
            return Err(ApiError::unauthorized("this account has been deactivated"));
        }
        Ok(Caller {
            workspace_id: member.workspace_id.clone(),
            role: Role::parse(&member.role).unwrap_or(Role::Agent),
            member: Some(member),
            csrf_token: Some(session.csrf_token),
        })
    }
}

/// How long a signed-in caller's session and member are used without reading them again.
/// Changes made on this instance (a role, a deactivation, presence, signing out) are seen at
/// once; changes made by another instance sharing the PostgreSQL database, within this time.
pub const SIGNED_IN_MEMORY: Duration = Duration::from_secs(1);

/// Members remembered at most (about 2 KB each).
const SIGNED_IN_MAX: usize = 10_000;

/// Signed-in callers as last read, by session token hash: an agent working the inbox sends
/// several requests a second, and each would otherwise read its session and its member.
pub struct SignedIn {
    known: Memo<Dated<(Session, Member)>>,
}

impl Default for SignedIn {
    fn default() -> SignedIn {
        SignedIn {
            known: Memo::new(SIGNED_IN_MAX),
        }
    }
}

impl SignedIn {
    /// The session and member read for `token_hash`, if read recently and nothing about
    /// accounts changed since (`generation`).
    fn recall(&self, token_hash: &str, generation: u64) -> Option<(Session, Member)> {
        self.known
            .with(token_hash, |d| d.current(generation, SIGNED_IN_MEMORY))
            .flatten()
    }

    fn remember(&self, token_hash: String, generation: u64, session: Session, member: Member) {
        self.known.insert(token_hash, Dated::new((session, member), generation));
    }
}

/// Conversation token hashes already checked against the store, by conversation id. A
/// conversation's token never changes and conversations are not deleted, so a customer's
/// requests after the first need no read to be let in.
pub type CheckedTokens = crate::memo::Memo<String>;

/// Conversations whose token is remembered at most (about 10 MB).
pub const CHECKED_TOKENS_MAX: usize = 100_000;

/// The id of the conversation a customer's token opens, like [`customer_conversation`] but
/// without reading the conversation when its token was checked before.
pub async fn customer_conversation_id(
    state: &AppState,
    conversation_id: &str,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> ApiResult<String> {
    let token_hash = hash_token(customer_token(headers, query_token)?);
    match state
        .checked_tokens
        .with(conversation_id, |known| constant_time_eq(known, &token_hash))
    {
        Some(true) => Ok(conversation_id.to_string()),
        Some(false) => Err(ApiError::not_found("conversation")),
        None => Ok(conversation_opened_by(state, conversation_id, &token_hash).await?.id),
    }
}

fn customer_token<'a>(headers: &'a HeaderMap, query_token: Option<&'a str>) -> ApiResult<&'a str> {
    bearer(headers)
        .or(query_token)
        .ok_or_else(|| ApiError::unauthorized("send the conversation token as `Authorization: Bearer …`"))
}

/// The conversation a customer's token opens (header `Authorization: Bearer …` or `?token=`).
pub async fn customer_conversation(
    state: &AppState,
    conversation_id: &str,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> ApiResult<Conversation> {
    let token_hash = hash_token(customer_token(headers, query_token)?);
    conversation_opened_by(state, conversation_id, &token_hash).await
}

/// The conversation, read, when `token_hash` is its token's; remembered as checked.
async fn conversation_opened_by(state: &AppState, conversation_id: &str, token_hash: &str) -> ApiResult<Conversation> {
    let conv = state
        .core
        .store
        .conversation(conversation_id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    if !constant_time_eq(&conv.token_hash, token_hash) {
        // Same answer as a missing conversation: ids cannot be probed.
        return Err(ApiError::not_found("conversation"));
    }
    state.checked_tokens.insert(conv.id.clone(), conv.token_hash.clone());
    state
        .awaiting_entry
        .insert(conv.id.clone(), crate::routing::awaits_first_message(&conv));
    Ok(conv)
}

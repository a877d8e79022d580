//! What every handler can reach.

use crate::engine::{Core, Engine};
use crate::hub::Connections;
use crate::memo::Memo;
use crate::ratelimit::RateLimiter;
use crate::signin::SignInGuard;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub engine: Engine,
    pub secure_cookies: bool,
    pub manual_clock: bool,
    pub start_limiter: Arc<RateLimiter>,
    pub message_limiter: Arc<RateLimiter>,
    /// Sign-in attempts, failures and password hashing, bounded.
    pub sign_in: Arc<SignInGuard>,
    /// Rate limits read the client address from X-Forwarded-For (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Open inbox connections per member (presence).
    pub connections: Arc<Connections>,
    /// Conversation token hashes already checked against the store (`auth::CheckedTokens`).
    pub checked_tokens: Arc<Memo<String>>,
    /// Conversations seen waiting for their first message to choose a flow (entry routing):
    /// a message to one of them is routed before it is sent to the engine.
    pub awaiting_entry: Arc<Memo<()>>,
}

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
    /// Members' names by id, as customers' status frames show them (a name never changes).
    pub agent_names: Arc<Memo<String>>,
    /// Signed-in callers as last read (`auth::SignedIn`).
    pub signed_in: Arc<crate::auth::SignedIn>,
    /// Conversation token hashes already checked against the store (`auth::CheckedTokens`).
    pub checked_tokens: Arc<Memo<String>>,
    /// Whether a conversation waits for its first message to choose a flow (entry routing), as
    /// last seen here: a message to one that waits is routed before it goes to the engine. A
    /// conversation not in it is read once.
    pub awaiting_entry: Arc<Memo<bool>>,
    /// Messages to a conversation that waits for its first message go one at a time here, so
    /// the one sent first is routed and applied first (routing may wait for the classifier).
    pub first_messages: Arc<crate::locks::KeyedLocks>,
    /// Which addresses webhook calls and outbound events may go to (`--webhook-targets`).
    pub webhook_policy: crate::webhook::AddressPolicy,
}

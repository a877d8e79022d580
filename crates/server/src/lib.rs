//! Baton's server: customers chat with published flows over HTTP and WebSocket; support leads
//! manage flows; every turn is durable before it is acknowledged.
//!
//! `app()` builds the router (tested with real HTTP on loopback); `start()` opens the store,
//! applies migrations, starts the writer and workers and serves.

pub mod ai;
pub mod api_enums;
pub mod auth;
pub mod bootstrap;
pub mod clock;
pub mod context;
pub mod engine;
pub mod error;
pub mod events;
pub mod hub;
pub mod ids;
pub mod json;
pub mod listener;
pub mod locks;
pub mod memo;
pub mod metrics;
pub mod pages;
pub mod passwords;
pub mod ratelimit;
pub mod routes;
pub mod routing;
pub mod settings;
pub mod signin;
pub mod state;
pub mod views;
pub mod webhook;
pub mod workers;

use crate::clock::Clock;
use crate::engine::{Core, Engine};
use crate::ratelimit::RateLimiter;
use crate::webhook::{AddressPolicy, WebhookClient};
use baton_store::Store;
pub use state::AppState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Open connections from one client address, by default.
pub const DEFAULT_CONNECTIONS_PER_ADDRESS: usize = 256;

/// Members' names remembered at most for customers' status frames.
const AGENT_NAMES_MAX: usize = 10_000;

/// How a server runs.
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    pub addr: SocketAddr,
    /// Which webhook targets are allowed (private and loopback addresses are refused by default).
    pub webhook_policy: AddressPolicy,
    /// Where a workspace's AI endpoint may be (the same rule as webhooks; a local Ollama needs
    /// `AllowLoopback`).
    pub ai_targets: AddressPolicy,
    /// Start a manual clock at this time (ms) instead of the system clock: for tests only; it
    /// also enables `POST /api/v1/test/clock`.
    pub manual_clock_start: Option<i64>,
    /// Mark session cookies `Secure` (serve over HTTPS).
    pub secure_cookies: bool,
    /// On first start, create the demo workspace, owner and published demo flow.
    pub create_demo: bool,
    /// Conversation starts per client address: burst and per minute.
    pub start_limit: (u32, u32),
    /// Customer messages per conversation: burst and per minute.
    pub message_limit: (u32, u32),
    /// Sign-in attempts per client address: burst and per minute.
    pub sign_in_limit: (u32, u32),
    /// Failed sign-ins per account: burst and per minute.
    pub sign_in_failures: (u32, u32),
    /// Read client addresses from X-Forwarded-For (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Open connections at most from one client address (None: no limit; behind a proxy every
    /// connection comes from the proxy).
    pub max_connections_per_address: Option<usize>,
    /// SQLite: how long after a start presence stays as stored while agents' inboxes reconnect.
    pub presence_grace: Duration,
    /// The offline AI: lexical and extractive by default; the binary adds sentence embeddings
    /// (all-MiniLM-L6-v2, `--embedding-model DIR`, also used by the knowledge bases) and the
    /// embedded language model (`--model FILE`).
    pub offline_ai: baton_ai::OfflineProvider,
}

impl Config {
    pub fn new(database_url: impl Into<String>, addr: SocketAddr) -> Config {
        Config {
            database_url: database_url.into(),
            addr,
            webhook_policy: AddressPolicy::PublicOnly,
            ai_targets: AddressPolicy::PublicOnly,
            manual_clock_start: None,
            secure_cookies: false,
            create_demo: true,
            start_limit: (30, 60),
            message_limit: (60, 120),
            sign_in_limit: (20, 10),
            sign_in_failures: (5, 1),
            trust_forwarded_for: false,
            max_connections_per_address: Some(DEFAULT_CONNECTIONS_PER_ADDRESS),
            presence_grace: routes::inbox::PRESENCE_GRACE,
            offline_ai: baton_ai::OfflineProvider::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] baton_store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("first start: {0}")]
    Bootstrap(String),
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Filled on the first start: the demo workspace's credentials, to print once.
    pub first_start: Option<bootstrap::FirstStart>,
    pub server: tokio::task::JoinHandle<()>,
}

/// Opens the store, migrates, bootstraps, starts the writer and workers, and serves.
pub async fn start(config: Config) -> Result<Running, ServerError> {
    // The port first: if it is taken, nothing is created (and no credentials are lost).
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.addr,
        source,
    })?;
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let clock = match config.manual_clock_start {
        Some(start) => Clock::manual(start),
        None => Clock::System,
    };
    let first_start = if config.create_demo {
        bootstrap::first_start(&store, &clock)
            .await
            .map_err(|e| ServerError::Bootstrap(e.message))?
    } else {
        None
    };
    let core = Arc::new(Core::new(store, clock, config.offline_ai.clone(), config.ai_targets));
    let engine = Engine::start(core.clone());
    let webhooks = Arc::new(WebhookClient::new(config.webhook_policy, Duration::from_millis(200)));
    workers::start(core.clone(), engine.clone(), webhooks);
    tokio::spawn(engine::listen_to_other_instances(core.clone()));
    let state = AppState {
        core,
        engine,
        secure_cookies: config.secure_cookies,
        manual_clock: config.manual_clock_start.is_some(),
        start_limiter: Arc::new(RateLimiter::new(config.start_limit.0, config.start_limit.1)),
        message_limiter: Arc::new(RateLimiter::new(config.message_limit.0, config.message_limit.1)),
        sign_in: Arc::new(signin::SignInGuard::new(config.sign_in_limit, config.sign_in_failures)),
        connections: Arc::default(),
        signed_in: Arc::new(auth::SignedIn::default()),
        agent_names: Arc::new(memo::Memo::new(AGENT_NAMES_MAX)),
        checked_tokens: Arc::new(auth::CheckedTokens::new(auth::CHECKED_TOKENS_MAX)),
        awaiting_entry: Arc::new(memo::Memo::new(auth::CHECKED_TOKENS_MAX)),
        first_messages: Arc::default(),
        webhook_policy: config.webhook_policy,
        trust_forwarded_for: config.trust_forwarded_for,
    };
    if state.core.store.dialect() == baton_store::Dialect::Sqlite {
        // One instance: whoever had the inbox open before a stop or crash reconnects within
        // the grace period or goes offline.
        tokio::spawn(routes::inbox::settle_presence_after_start(
            state.clone(),
            config.presence_grace,
        ));
    }
    let app = routes::app(state.clone());
    let limits = crate::listener::ConnectionLimits::from_open_files(config.max_connections_per_address);
    tracing::debug!(total = limits.total, per_address = ?limits.per_address, "connection limits");
    let server = tokio::spawn(crate::listener::serve(listener, app, limits));
    Ok(Running {
        addr,
        state,
        first_start,
        server,
    })
}

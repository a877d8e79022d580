//! `baton serve`

use anyhow::{Context, Result};
use baton_server::webhook::AddressPolicy;
use baton_server::{start, Config};
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "BATON_ADDR")]
    addr: SocketAddr,
    /// Where the embedded database lives (ignored with --database-url).
    #[arg(long, default_value = "baton-data", env = "BATON_DATA_DIR")]
    data_dir: PathBuf,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite file.
    #[arg(long, env = "BATON_DATABASE_URL")]
    database_url: Option<String>,
    /// Which addresses webhook nodes may call: public (default), loopback too, or any.
    #[arg(long, value_enum, default_value = "public", env = "BATON_WEBHOOK_TARGETS")]
    webhook_targets: WebhookTargets,
    /// Which addresses a workspace's AI endpoint may be at: public (default), loopback too (a
    /// local Ollama or llama.cpp server), or any (private networks).
    #[arg(long, value_enum, default_value = "public", env = "BATON_AI_TARGETS")]
    ai_targets: WebhookTargets,
    /// Mark session cookies Secure (when served over HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// Behind a proxy that sets X-Forwarded-For: rate limits count by that address (and
    /// connections are not limited per address: they all come from the proxy).
    #[arg(long)]
    trust_forwarded_for: bool,
    /// Open connections at most from one client address (WebSockets included); 0: no limit.
    #[arg(long, default_value_t = baton_server::DEFAULT_CONNECTIONS_PER_ADDRESS, env = "BATON_MAX_CONNECTIONS_PER_ADDRESS")]
    max_connections_per_address: usize,
    /// Logs as JSON lines.
    #[arg(long)]
    json_logs: bool,
    /// A folder with all-MiniLM-L6-v2 (config.json, tokenizer.json, model.safetensors; see
    /// docs/ai.md): the offline AI and the knowledge bases use sentence embeddings.
    #[arg(long, env = "BATON_EMBEDDING_MODEL")]
    embedding_model: Option<PathBuf>,
    /// A GGUF file of a small instruct model (scripts/fetch-model.sh; see docs/ai.md): the
    /// offline AI writes Let AI Answer's answers, instructions and hand-over summaries with
    /// it, in-process. Without it, answers are extractive.
    #[arg(long, env = "BATON_MODEL", value_name = "FILE")]
    model: Option<PathBuf>,
    /// Tests only: start a manual clock at this time (ms since the epoch), moved with
    /// POST /api/v1/test/clock.
    #[arg(long, hide = true)]
    manual_clock: Option<i64>,
    /// Tests only: conversation starts and messages are not rate limited.
    #[arg(long, hide = true)]
    no_rate_limits: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum WebhookTargets {
    Public,
    Loopback,
    Any,
}

impl WebhookTargets {
    fn policy(self) -> AddressPolicy {
        match self {
            WebhookTargets::Public => AddressPolicy::PublicOnly,
            WebhookTargets::Loopback => AddressPolicy::AllowLoopback,
            WebhookTargets::Any => AddressPolicy::AllowAll,
        }
    }
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    if args.json_logs {
        tracing_subscriber::fmt().with_env_filter(filter).json().init();
    } else {
        // Colours only on a terminal: a log file or journal gets plain text.
        use std::io::IsTerminal;
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stdout().is_terminal())
            .init();
    }
    let database_url = match &args.database_url {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
            format!("sqlite://{}", args.data_dir.join("baton.db").display())
        }
    };
    let mut config = Config::new(database_url, args.addr);
    config.webhook_policy = args.webhook_targets.policy();
    config.ai_targets = args.ai_targets.policy();
    config.secure_cookies = args.secure_cookies;
    config.trust_forwarded_for = args.trust_forwarded_for;
    config.max_connections_per_address =
        Some(args.max_connections_per_address).filter(|n| *n > 0 && !args.trust_forwarded_for);
    config.manual_clock_start = args.manual_clock;
    if args.no_rate_limits {
        config.start_limit = (u32::MAX / 2, u32::MAX / 2);
        config.message_limit = (u32::MAX / 2, u32::MAX / 2);
        config.sign_in_limit = (u32::MAX / 2, u32::MAX / 2);
        config.sign_in_failures = (u32::MAX / 2, u32::MAX / 2);
    }
    let embedder = match &args.embedding_model {
        Some(dir) => Some(crate::eval::load_model_dir(dir)?),
        None => None,
    };
    config.offline_ai = crate::eval::offline_provider(embedder, args.model.as_deref(), Default::default())?;
    let ai_mode = match config.offline_ai.model_id() {
        Some(model) => format!("answers written by the embedded model {model}"),
        None => "extractive answers (no --model; scripts/fetch-model.sh fetches one)".to_string(),
    };
    let retrieval = if config.offline_ai.embedder().is_some() {
        "words and sentence embeddings"
    } else {
        "words only (no --embedding-model)"
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let running = start(config).await?;
        let base = format!("http://{}", running.addr);
        println!("Baton is running at {base}");
        println!("  API docs:   {base}/docs");
        println!("  offline AI: {ai_mode}; retrieval by {retrieval}");
        if let Some(first) = &running.first_start {
            let w = &first.workspace;
            println!("First start: created the Demo workspace with a live demo flow. Shown once:");
            println!("  owner:      {} / {}", w.owner_email, w.owner_password);
            println!("  API key:    {}", w.api_key);
            println!("  widget key: {}", w.widget_key);
            println!("  try it:     curl -s -X POST {base}/api/v1/widget/conversations -H 'content-type: application/json' -d '{{\"widget_key\": \"{}\"}}'", w.widget_key);
        }
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => println!("stopping"),
            _ = terminate => println!("stopping"),
            _ = running.server => {}
        }
        // Turns are committed before they are answered: stopping here loses nothing; effects
        // and timers still pending run after the next start.
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

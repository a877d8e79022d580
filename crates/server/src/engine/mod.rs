//! The turn engine: one writer that applies turns in batches, each batch one transaction.
//!
//! A turn reads the conversation (locked on PostgreSQL), checks the customer's client message
//! id (a retry gets the first answer again), steps the pure runtime, and writes the inbound
//! message, the new state, the outbound messages, the effects to carry out (outbox) and the
//! timers — all in the same commit, before anyone is told. Effects run after the commit
//! (see `workers.rs`) and come back as turns of their own.
//!
//! The files, by job: `writer.rs` batches turns into transactions (commit, retries);
//! `apply.rs` reads what a turn needs and dispatches it; `turn.rs` steps the flow runtime and
//! writes what it produced; `handover.rs` steps the hand-over lifecycle
//! (`baton_flow::handover`) for agents, customers and the flow; `publish.rs` tells sockets,
//! the inbox and other instances after the commit; `caches.rs` and `knowledge.rs` keep what
//! turns read often; `error.rs` is what a turn can fail with.

mod apply;
mod caches;
mod error;
mod handover;
mod knowledge;
mod publish;
mod timer_wake;
mod turn;
mod writer;

pub use error::TurnError;
pub use knowledge::KnowledgeChange;
pub use publish::listen_to_other_instances;

use crate::clock::Clock;
use crate::hub::Hub;
use crate::settings::{AvailabilityCache, SettingsCache};
use baton_flow::runtime::Event;
use baton_store::{Conversation, Member, Message, Store};
use caches::{FlowCache, RoutingCache, WrittenCache};
use knowledge::KnowledgeCache;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use timer_wake::TimerWake;
use tokio::sync::{mpsc, oneshot, Notify};

/// The outbox kind of a hand-over summary written by a language model after the hand-over.
pub const SUMMARY_KIND: &str = "summary";
/// Turns waiting for the writer before callers wait to enqueue.
const QUEUE_CAPACITY: usize = 8192;

/// What moves a conversation.
#[derive(Debug, Clone)]
pub enum TurnInput {
    Start(StartConversation),
    Customer {
        conversation_id: String,
        client_id: Option<String>,
        content: CustomerContent,
        /// For a conversation that waits for its first message: the flow entry routing chose
        /// (None: the flow it waits on, its fallback).
        entry: Option<Routed>,
    },
    /// The result of an outbox effect (webhook call, AI request), with the webhook attempts
    /// it took (logged in the same commit).
    EffectResult {
        conversation_id: String,
        outbox_id: i64,
        event: Event,
        attempts: Vec<baton_store::DeliveryAttempt>,
    },
    Timer {
        conversation_id: String,
        timer_id: i64,
    },
    /// The hand-over's summary written by a language model after the hand-over (None: it
    /// could not be written; the extractive one stays).
    HandoverSummary {
        conversation_id: String,
        outbox_id: i64,
        handover_id: String,
        summary: Option<String>,
    },
    /// A member acts on the conversation (inbox): the member the request was authenticated as.
    Agent {
        conversation_id: String,
        member: Member,
        action: AgentAction,
    },
    /// The customer stops waiting for a person.
    CustomerCancel {
        conversation_id: String,
    },
}

impl TurnInput {
    /// The conversation the turn locks, and the client id of the customer's message (None for
    /// a new conversation).
    fn locks(&self) -> Option<(&str, Option<&str>)> {
        match self {
            TurnInput::Start(_) => None,
            TurnInput::Customer {
                conversation_id,
                client_id,
                ..
            } => Some((conversation_id, client_id.as_deref())),
            TurnInput::EffectResult { conversation_id, .. }
            | TurnInput::Timer { conversation_id, .. }
            | TurnInput::HandoverSummary { conversation_id, .. }
            | TurnInput::Agent { conversation_id, .. }
            | TurnInput::CustomerCancel { conversation_id } => Some((conversation_id, None)),
        }
    }
}

/// What an agent does to a conversation.
#[derive(Debug, Clone)]
pub enum AgentAction {
    /// Takes a queued conversation.
    Claim,
    /// Gives it to a member (admins, or an agent passing it on).
    Assign {
        member_id: String,
    },
    /// Moves it to another team's queue, or to a member.
    Transfer {
        team: Option<String>,
        member_id: Option<String>,
    },
    /// Writes to the customer (claims it first when it is still queued).
    Reply {
        text: String,
        client_id: Option<String>,
    },
    /// Writes a note only members see.
    Note {
        text: String,
    },
    /// Gives the conversation back to the flow, with variables, optionally at another node.
    HandBack {
        variables: BTreeMap<String, Value>,
        resume_at: Option<String>,
    },
    Resolve,
    /// Gives the conversation back to its team's queue if `member_id` still has it (they were
    /// deactivated).
    Release {
        member_id: String,
    },
}

#[derive(Debug, Clone)]
pub enum CustomerContent {
    Text(String),
    Button(String),
}

#[derive(Debug, Clone)]
pub struct StartConversation {
    pub workspace_id: String,
    pub conversation_id: String,
    pub token_hash: String,
    pub channel: String,
    /// The flow it starts on (or, waiting for its first message, the fallback).
    pub routed: Routed,
    /// A flow that comes first in entry routing decides on the first message: the flow does
    /// not start until it comes.
    pub awaiting_message: bool,
    /// The page the widget was on (`conversation.page_url`).
    pub page_url: Option<String>,
    /// An existing contact (by the workspace's external id) is reused and its attributes merged.
    pub external_id: Option<String>,
    pub attributes: Map<String, Value>,
    pub first_message: Option<String>,
}

/// The flow a conversation starts on, and why (entry routing, `crate::routing`).
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    pub flow_id: String,
    pub version: i64,
    pub by: baton_flow::entry::Matched,
}

/// What a turn did.
#[derive(Debug, Clone)]
pub struct TurnOutcome {
    pub conversation: Conversation,
    /// Messages this turn wrote for the customer (or, for a retry, those of the first time).
    pub messages: Vec<Message>,
    /// The customer's message was a retry of one already handled.
    pub duplicate: bool,
    /// An agent's action: the conversation's inbox row for that agent, read in the turn's
    /// transaction after its writes.
    pub inbox_row: Option<baton_store::InboxRow>,
}

/// A turn waiting for the writer, with whom to answer.
struct Job {
    input: TurnInput,
    reply: oneshot::Sender<Result<TurnOutcome, TurnError>>,
    enqueued: Instant,
}

/// What the engine and the workers share.
pub struct Core {
    pub store: Store,
    pub clock: Clock,
    pub hub: Hub,
    pub settings: SettingsCache,
    pub availability: AvailabilityCache,
    /// Published flow versions, loaded once.
    pub flows: FlowCache,
    /// What entry routing reads for a new conversation (workspace by widget key, live flows).
    pub routing: RoutingCache,
    /// The conversations the writers wrote last, as they wrote them.
    written: WrittenCache,
    pub outbox_wake: Notify,
    /// Timers set by committed turns, for the timer worker.
    pub timer_wake: TimerWake,
    /// This instance's id: notifications from other instances carry theirs.
    pub instance: String,
    /// Knowledge bases by workspace, loaded on first use and updated on edits here.
    pub knowledge: KnowledgeCache,
    /// The AI of each workspace: offline, or the endpoint it configured.
    pub ai: crate::ai::Ai,
    /// Reads escapes the phrases miss at questions, inside the turn: the offline classifier on
    /// words only (an embedding per message would hold up the writer).
    pub intent: baton_ai::OfflineProvider,
}

impl Core {
    /// `offline_ai`: the offline AI, with the models loaded at start (its sentence embedder
    /// indexes the knowledge bases too).
    /// `ai_targets`: which addresses a workspace's AI endpoint may be at.
    pub fn new(
        store: Store,
        clock: Clock,
        offline_ai: baton_ai::OfflineProvider,
        ai_targets: crate::webhook::AddressPolicy,
    ) -> Core {
        let embedder = offline_ai.embedder().cloned();
        Core {
            ai: crate::ai::Ai::new(store.clone(), offline_ai, ai_targets),
            settings: SettingsCache::new(store.clone()),
            availability: AvailabilityCache::new(store.clone()),
            flows: FlowCache::new(store.clone()),
            routing: RoutingCache::new(store.clone()),
            written: WrittenCache::new(store.dialect()),
            knowledge: KnowledgeCache::new(store.clone(), embedder),
            store,
            clock,
            hub: Hub::default(),
            outbox_wake: Notify::new(),
            timer_wake: TimerWake::default(),
            instance: crate::ids::new_id("inst"),
            intent: baton_ai::OfflineProvider::new(),
        }
    }
}

/// Writers on PostgreSQL. Each conversation's turns go to one of them (by its id), so they
/// stay in order, and different conversations commit in parallel: a turn there is mostly
/// waiting for round trips. SQLite has one writer (one write lock).
const POSTGRES_WRITERS: usize = 8;

/// The handle to the writers.
#[derive(Clone)]
pub struct Engine {
    writers: Arc<[mpsc::Sender<Job>]>,
}

impl TurnInput {
    fn conversation_id(&self) -> &str {
        match self {
            TurnInput::Start(start) => &start.conversation_id,
            TurnInput::Customer { conversation_id, .. }
            | TurnInput::EffectResult { conversation_id, .. }
            | TurnInput::Timer { conversation_id, .. }
            | TurnInput::Agent { conversation_id, .. }
            | TurnInput::HandoverSummary { conversation_id, .. }
            | TurnInput::CustomerCancel { conversation_id } => conversation_id,
        }
    }
}

impl Engine {
    /// Starts the writer task.
    pub fn start(core: Arc<Core>) -> Engine {
        match core.store.dialect() {
            baton_store::Dialect::Postgres => {
                let writers = (0..POSTGRES_WRITERS)
                    .map(|_| {
                        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY / POSTGRES_WRITERS);
                        tokio::spawn(writer::run(core.clone(), rx, writer::Publish::Here));
                        tx
                    })
                    .collect();
                Engine { writers }
            }
            baton_store::Dialect::Sqlite => {
                let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
                let (to_publisher, published) = mpsc::unbounded_channel();
                tokio::spawn(publish::publisher(core.clone(), published));
                // A SQLite statement runs on the thread that issues it (no driver thread in
                // between): the writer gets a thread of its own, so a commit's fsync never
                // holds up the threads serving requests.
                let started = std::thread::Builder::new().name("baton-writer".into()).spawn(move || {
                    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(runtime) => {
                            runtime.block_on(writer::run(core, rx, writer::Publish::Publisher(to_publisher)))
                        }
                        Err(e) => tracing::error!(error = %e, "the turn writer could not start"),
                    }
                });
                if let Err(e) = started {
                    tracing::error!(error = %e, "the turn writer thread could not start");
                }
                Engine {
                    writers: Arc::new([tx]),
                }
            }
        }
    }

    /// Applies a turn; returns once it is committed.
    pub async fn submit(&self, input: TurnInput) -> Result<TurnOutcome, TurnError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            input,
            reply,
            enqueued: Instant::now(),
        };
        // FNV-1a of the conversation id: the same writer for every turn of a conversation.
        let hash = conversation_hash(job.input.conversation_id());
        let writer = &self.writers[(hash % self.writers.len() as u64) as usize];
        writer
            .send(job)
            .await
            .map_err(|_| TurnError::Unavailable("the server is shutting down".into()))?;
        rx.await
            .map_err(|_| TurnError::Unavailable("the turn was not applied; retry with the same client id".into()))?
    }
}

fn conversation_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

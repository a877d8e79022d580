//! The turn engine: one writer that applies turns in batches, each batch one transaction.
//!
//! A turn reads the conversation (locked on PostgreSQL), checks the customer's client message
//! id (a retry gets the first answer again), steps the pure runtime, and writes the inbound
//! message, the new state, the outbound messages, the effects to carry out (outbox) and the
//! timers — all in the same commit, before anyone is told. Effects run after the commit
//! (see `workers.rs`) and come back as turns of their own.

use crate::clock::Clock;
use crate::error::ApiError;
use crate::hub::Hub;
use crate::memo::Memo;
use crate::metrics::METRICS;
use crate::settings::{Assignment, AvailabilityCache, ServerWorld, SettingsCache};
use baton_flow::runtime::{step_in_place, AiOutcome, Effect, Event, Handled, State, Status};
use baton_flow::Flow;
use baton_store::{Contact, Conversation, Handover, Member, Message, Store, StoreError, Tx};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, Notify};

/// Most turns committed together.
/// The outbox kind of a hand-over summary written by a language model after the hand-over.
pub const SUMMARY_KIND: &str = "summary";
const MAX_BATCH: usize = 256;
/// Turns waiting for the writer before callers wait to enqueue.
const QUEUE_CAPACITY: usize = 8192;
/// Conversations the SQLite writer keeps as it last wrote them (the ones talking now): their
/// next turn needs no read, no state parsing and no hand-over lookup. About 2 KB each.
const WRITTEN_MAX: usize = 1024;
/// Most messages a customer may read back in one retry answer.
const REPLAY_LIMIT: i64 = 50;

/// What moves a conversation.
#[derive(Debug, Clone)]
pub enum TurnInput {
    Start(StartConversation),
    Customer {
        conversation_id: String,
        client_id: Option<String>,
        content: CustomerContent,
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
    pub flow_id: String,
    pub flow_version: i64,
    /// An existing contact (by the workspace's external id) is reused and its attributes merged.
    pub external_id: Option<String>,
    pub attributes: Map<String, Value>,
    pub first_message: Option<String>,
}

/// What a turn did.
#[derive(Debug, Clone)]
pub struct TurnOutcome {
    pub conversation: Conversation,
    /// Messages this turn wrote for the customer (or, for a retry, those of the first time).
    pub messages: Vec<Message>,
    /// The customer's message was a retry of one already handled.
    pub duplicate: bool,
}

enum JobError {
    Api(ApiError),
    Store(StoreError),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> JobError {
        JobError::Store(e)
    }
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> JobError {
        JobError::Api(e)
    }
}

struct Job {
    input: TurnInput,
    reply: oneshot::Sender<Result<TurnOutcome, ApiError>>,
    enqueued: Instant,
}

/// How often a loaded knowledge base checks that no other instance edited it.
const KNOWLEDGE_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// A workspace's index and the knowledge-base revision it reflects.
struct CachedKnowledge {
    index: baton_ai::Knowledge,
    revision: i64,
    checked: Instant,
}

/// An edit of a knowledge base, for [`Core::knowledge_changed`].
pub enum KnowledgeChange {
    Written(baton_store::KbArticle),
    Removed(String),
}

fn knowledge_article(a: baton_store::KbArticle) -> baton_ai::Article {
    baton_ai::Article {
        id: a.id,
        collection: a.collection,
        title: a.title,
        url: a.url,
        markdown: a.markdown,
    }
}

/// What the engine and the workers share.
pub struct Core {
    pub store: Store,
    pub clock: Clock,
    pub hub: Hub,
    pub settings: SettingsCache,
    pub availability: AvailabilityCache,
    flows: Mutex<HashMap<(String, i64), Arc<Flow>>>,
    /// SQLite: the conversations the one writer wrote last, as it wrote them.
    written: Memo<Written>,
    pub outbox_wake: Notify,
    pub timer_wake: Notify,
    /// This instance's id: notifications from other instances carry theirs.
    pub instance: String,
    /// Knowledge bases by workspace, loaded on first use and updated on edits here.
    knowledge: tokio::sync::Mutex<HashMap<String, CachedKnowledge>>,
    /// The AI of each workspace: offline, or the endpoint it configured.
    pub ai: crate::ai::Ai,
}

impl Core {
    /// `offline_ai`: the offline AI, with the models loaded at start (its sentence embedder
    /// indexes the knowledge bases too).
    pub fn new(store: Store, clock: Clock, offline_ai: baton_ai::OfflineProvider) -> Core {
        Core {
            ai: crate::ai::Ai::new(store.clone(), offline_ai),
            settings: SettingsCache::new(store.clone()),
            availability: AvailabilityCache::new(store.clone()),
            store,
            clock,
            hub: Hub::default(),
            flows: Mutex::new(HashMap::new()),
            written: Memo::new(WRITTEN_MAX),
            outbox_wake: Notify::new(),
            timer_wake: Notify::new(),
            instance: crate::ids::new_id("inst"),
            knowledge: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The workspace's knowledge base (articles indexed for retrieval). The index is kept while
    /// the workspace's knowledge-base revision is unchanged (read at most every
    /// [`KNOWLEDGE_CHECK`]), so an edit made on another instance is seen within that time.
    pub async fn knowledge(&self, workspace_id: &str) -> Result<baton_ai::Knowledge, ApiError> {
        let mut cache = self.knowledge.lock().await;
        if let Some(cached) = cache.get(workspace_id) {
            if cached.checked.elapsed() < KNOWLEDGE_CHECK {
                return Ok(cached.index.clone());
            }
        }
        let revision = self.store.kb_revision(workspace_id).await?;
        if let Some(cached) = cache.get_mut(workspace_id).filter(|c| c.revision == revision) {
            cached.checked = Instant::now();
            return Ok(cached.index.clone());
        }
        let mut base = match self.ai.embedder() {
            Some(e) => baton_ai::KnowledgeBase::with_embedder(e.clone()),
            None => baton_ai::KnowledgeBase::new(),
        };
        let articles = self.store.articles(workspace_id).await?;
        // Chunking (and embedding) is CPU work: off the async threads.
        let base = tokio::task::spawn_blocking(move || {
            for a in articles {
                if let Err(e) = base.upsert(knowledge_article(a)) {
                    tracing::warn!(error = %e, "an article could not be indexed");
                }
            }
            base
        })
        .await
        .map_err(|e| ApiError::internal(format!("indexing the knowledge base failed: {e}")))?;
        let index = baton_ai::Knowledge::new(base);
        cache.insert(
            workspace_id.to_string(),
            CachedKnowledge {
                index: index.clone(),
                revision,
                checked: Instant::now(),
            },
        );
        Ok(index)
    }

    /// Updates a loaded index after this instance wrote `changed` (written or removed articles)
    /// and counted them in the revision; an index that missed other edits is dropped instead.
    pub async fn knowledge_changed(&self, workspace_id: &str, changed: Vec<KnowledgeChange>) -> Result<(), ApiError> {
        let mut cache = self.knowledge.lock().await;
        let Some(cached) = cache.get_mut(workspace_id) else {
            return Ok(());
        };
        let revision = self.store.kb_revision(workspace_id).await?;
        if revision != cached.revision + changed.len() as i64 {
            cache.remove(workspace_id);
            return Ok(());
        }
        let index = cached.index.clone();
        tokio::task::spawn_blocking(move || {
            for change in changed {
                match change {
                    KnowledgeChange::Written(a) => {
                        if let Err(e) = index.upsert(knowledge_article(a)) {
                            tracing::warn!(error = %e, "an article could not be indexed");
                        }
                    }
                    KnowledgeChange::Removed(id) => {
                        index.remove(&id);
                    }
                }
            }
        })
        .await
        .map_err(|e| ApiError::internal(format!("indexing the knowledge base failed: {e}")))?;
        cached.revision = revision;
        cached.checked = Instant::now();
        Ok(())
    }

    /// Keeps what a turn wrote, for the conversation's next turn. On SQLite the one writer's
    /// last write is what the store holds; on PostgreSQL other writers and instances write
    /// too, so nothing is kept.
    fn remember_written(&self, written: Written) {
        if self.store.dialect() == baton_store::Dialect::Sqlite {
            self.written.insert(written.conv.id.clone(), written);
        }
    }

    /// A published flow version, loaded once (versions never change).
    pub async fn flow(&self, flow_id: &str, version: i64) -> Result<Arc<Flow>, ApiError> {
        let key = (flow_id.to_string(), version);
        if let Some(f) = self.flows.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(f.clone());
        }
        let row = self
            .store
            .flow_version(flow_id, version)
            .await?
            .ok_or_else(|| ApiError::internal(format!("flow {flow_id} version {version} is missing")))?;
        let flow = Flow::from_json(&row.document)
            .map_err(|d| ApiError::internal(format!("published flow {flow_id} v{version} does not load: {d:?}")))?;
        let flow = Arc::new(flow);
        self.flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, flow.clone());
        Ok(flow)
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
                        tokio::spawn(writer(core.clone(), rx, Publish::Here));
                        tx
                    })
                    .collect();
                Engine { writers }
            }
            baton_store::Dialect::Sqlite => {
                let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
                let (to_publisher, published) = mpsc::unbounded_channel();
                tokio::spawn(publisher(core.clone(), published));
                // A SQLite statement runs on the thread that issues it (no driver thread in
                // between): the writer gets a thread of its own, so a commit's fsync never
                // holds up the threads serving requests.
                let started = std::thread::Builder::new().name("baton-writer".into()).spawn(move || {
                    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(runtime) => runtime.block_on(writer(core, rx, Publish::Publisher(to_publisher))),
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
    pub async fn submit(&self, input: TurnInput) -> Result<TurnOutcome, ApiError> {
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
            .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
        rx.await
            .map_err(|_| ApiError::unavailable("the turn was not applied; retry with the same client id"))?
    }
}

fn conversation_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A committed (or failed) batch: each turn with its result.
type Done = Vec<(Job, Result<Applied, ApiError>)>;

/// Where a writer hands its committed batches: told on the spot, or by the publisher task
/// when the writer has a thread of its own (SQLite), so the writer goes back to writing.
enum Publish {
    Here,
    Publisher(mpsc::UnboundedSender<Done>),
}

async fn writer(core: Arc<Core>, mut rx: mpsc::Receiver<Job>, publish: Publish) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let done = run_batch(&core, batch).await;
        match &publish {
            Publish::Here => finish(&core, done),
            Publish::Publisher(to) => {
                if let Err(mpsc::error::SendError(done)) = to.send(done) {
                    finish(&core, done);
                }
            }
        }
    }
}

/// Tells everyone about the batches a writer committed, in commit order.
async fn publisher(core: Arc<Core>, mut rx: mpsc::UnboundedReceiver<Done>) {
    while let Some(done) = rx.recv().await {
        finish(&core, done);
    }
}

/// One transaction for the whole batch; when it fails, each turn is retried on its own so one
/// bad turn cannot sink the others.
async fn run_batch(core: &Core, batch: Vec<Job>) -> Done {
    match try_batch(core, &batch).await {
        Ok(results) => {
            METRICS.turn_batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            batch.into_iter().zip(results).collect()
        }
        Err(e) if batch.len() > 1 => {
            tracing::warn!(error = %e, size = batch.len(), "batch failed; applying its turns one by one");
            let mut done = Vec::with_capacity(batch.len());
            for job in batch {
                let single = [job];
                match try_batch(core, &single).await {
                    Ok(results) => done.extend(single.into_iter().zip(results)),
                    Err(e) => done.extend(failed(single, &e)),
                }
            }
            done
        }
        Err(e) => failed(batch, &e).collect(),
    }
}

fn failed(
    batch: impl IntoIterator<Item = Job>,
    e: &StoreError,
) -> impl Iterator<Item = (Job, Result<Applied, ApiError>)> {
    let error = ApiError::unavailable(format!(
        "the turn could not be stored ({e}); retry with the same client id"
    ));
    batch.into_iter().map(move |job| (job, Err(error.clone())))
}

struct Applied {
    outcome: TurnOutcome,
    publish: Vec<Message>,
    /// Inbox events for the workspace's agents.
    inbox: Vec<InboxItem>,
    outbox: bool,
    timers: bool,
}

async fn try_batch(core: &Core, batch: &[Job]) -> Result<Vec<Result<Applied, ApiError>>, StoreError> {
    let applied = apply_batch(core, batch).await;
    if applied.is_err() {
        // What the batch's turns remembered never reached the store.
        core.written.clear();
    }
    applied
}

async fn apply_batch(core: &Core, batch: &[Job]) -> Result<Vec<Result<Applied, ApiError>>, StoreError> {
    let mut tx = core.store.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    let mut notifications = Vec::new();
    for job in batch {
        match apply(core, &mut tx, &job.input).await {
            Ok(applied) => {
                if core.store.dialect() == baton_store::Dialect::Postgres {
                    notifications.extend(notifications_of(core, &applied));
                }
                results.push(Ok(applied))
            }
            Err(JobError::Api(e)) => results.push(Err(e)),
            Err(JobError::Store(e)) => return Err(e),
        }
    }
    tx.notify_all(&notifications).await?;
    tx.commit().await?;
    Ok(results)
}

/// What the other instances (PostgreSQL) must hear of this turn: sent in its transaction, so
/// on commit.
fn notifications_of(core: &Core, applied: &Applied) -> Vec<String> {
    // The whole item when it fits in a notification, else a reference to read it by.
    let fitting = |full: Value, reference: &dyn Fn() -> Value| {
        let full = full.to_string();
        if full.len() <= baton_store::MAX_NOTIFY_BYTES {
            full
        } else {
            reference().to_string()
        }
    };
    let origin = &core.instance;
    let workspace_id = &applied.outcome.conversation.workspace_id;
    let messages = applied.publish.iter().map(|m| {
        fitting(
            json!({ "origin": origin, "kind": "message", "message": m }),
            &|| json!({ "origin": origin, "kind": "message_ref", "conversation_id": m.conversation_id, "seq": m.seq }),
        )
    });
    let inbox = applied.inbox.iter().map(|item| {
        let e = match item {
            InboxItem::Message(m) => message_created(m),
            InboxItem::Event(e) => e.clone(),
        };
        let e = &e;
        fitting(
            json!({ "origin": origin, "kind": "inbox", "workspace_id": workspace_id, "event": e }),
            &|| {
                let brief = json!({ "type": e["type"], "conversation_id": e["conversation_id"], "truncated": true });
                json!({ "origin": origin, "kind": "inbox", "workspace_id": workspace_id, "event": brief })
            },
        )
    });
    messages.chain(inbox).collect()
}

/// A conversation as a committed turn left it.
struct Written {
    conv: Conversation,
    kept: Kept,
}

/// A conversation's parsed state and its open hand-over, kept from the turn before.
type Kept = (State, Option<Handover>);

/// What the workspace's agents hear of a turn, in order. A message becomes its JSON event
/// after the commit, off the writer.
enum InboxItem {
    /// `message.created`.
    Message(Message),
    /// A conversation event, already JSON.
    Event(Value),
}

impl InboxItem {
    fn into_value(self) -> Value {
        match self {
            InboxItem::Message(m) => message_created(&m),
            InboxItem::Event(event) => event,
        }
    }
}

/// The inbox event of a new message.
fn message_created(m: &Message) -> Value {
    json!({
        "type": "message.created",
        "conversation_id": m.conversation_id,
        "message": crate::routes::conversations::MessageView::from_message(m),
    })
}

fn finish(core: &Core, done: Done) {
    let mut wake_outbox = false;
    let mut wake_timers = false;
    for (job, result) in done {
        let reply = match result {
            Ok(applied) => {
                METRICS.turns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                METRICS
                    .turn_latency
                    .observe_us(job.enqueued.elapsed().as_micros() as u64);
                wake_outbox |= applied.outbox;
                wake_timers |= applied.timers;
                for m in applied.publish {
                    core.hub.publish(m);
                }
                for item in applied.inbox {
                    core.hub
                        .publish_inbox(&applied.outcome.conversation.workspace_id, item.into_value());
                }
                Ok(applied.outcome)
            }
            Err(e) => Err(e),
        };
        let _ = job.reply.send(reply);
    }
    if wake_outbox {
        core.outbox_wake.notify_one();
    }
    if wake_timers {
        core.timer_wake.notify_one();
    }
}

async fn apply(core: &Core, tx: &mut Tx, input: &TurnInput) -> Result<Applied, JobError> {
    let now = core.clock.now_ms();
    match input {
        TurnInput::Start(start) => apply_start(core, tx, start, now).await,
        TurnInput::Customer {
            conversation_id,
            client_id,
            content,
        } => {
            let (conv, kept, retry) = lock(core, tx, conversation_id, client_id.as_deref()).await?;
            if let (true, Some(client_id)) = (retry, client_id) {
                if let Some(first) = tx.message_by_client_id(conversation_id, client_id).await? {
                    METRICS
                        .duplicate_messages
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // Exactly the replies of the first time: the messages its turn wrote.
                    let turn_end = first
                        .payload
                        .as_deref()
                        .and_then(|p| serde_json::from_str::<Value>(p).ok())
                        .and_then(|p| p["turn_end"].as_i64())
                        .unwrap_or(first.seq);
                    let replies = tx
                        .messages_after(conversation_id, first.seq, REPLAY_LIMIT)
                        .await?
                        .into_iter()
                        .take_while(|m| m.seq <= turn_end)
                        .filter(|m| matches!(m.role.as_str(), "bot" | "agent" | "system"))
                        .collect();
                    return Ok(unchanged(conv, replies, true));
                }
            }
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            let (text, event) = match content {
                CustomerContent::Text(t) => (t.clone(), Event::CustomerText { text: t.clone() }),
                CustomerContent::Button(option) => (
                    turn.button_label(option).unwrap_or_else(|| format!("[{option}]")),
                    Event::ButtonPressed { option: option.clone() },
                ),
            };
            let payload = match content {
                CustomerContent::Button(option) => Some(json!({ "button": option })),
                CustomerContent::Text(_) => None,
            };
            turn.message(tx, "customer", &text, payload, client_id.clone(), None)
                .await?;
            turn.step(core, tx, &event).await?;
            turn.finish(core, tx).await
        }
        TurnInput::EffectResult {
            conversation_id,
            outbox_id,
            event,
            attempts,
        } => {
            let (conv, kept, _) = lock(core, tx, conversation_id, None).await?;
            for a in attempts {
                tx.insert_delivery(&conv.workspace_id, conversation_id, a).await?;
            }
            if !tx.complete_outbox(*outbox_id, now).await? {
                return Ok(unchanged(conv, Vec::new(), false));
            }
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            if let Event::AiResult {
                result: AiOutcome::Failed { reason },
                ..
            } = event
            {
                // The flow leaves through `error` / `unanswered`; the timeline says why.
                turn.timeline(tx, "ai_failed", None, json!({ "reason": reason }))
                    .await?;
            }
            turn.step(core, tx, event).await?;
            turn.finish(core, tx).await
        }
        TurnInput::Timer {
            conversation_id,
            timer_id,
        } => {
            let (conv, kept, _) = lock(core, tx, conversation_id, None).await?;
            if !tx.delete_timer(conversation_id, *timer_id).await? {
                return Ok(unchanged(conv, Vec::new(), false));
            }
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            let event = Event::TimerFired {
                timer: u64::try_from(*timer_id).unwrap_or(0),
            };
            turn.step(core, tx, &event).await?;
            turn.finish(core, tx).await
        }
        TurnInput::HandoverSummary {
            conversation_id,
            outbox_id,
            handover_id,
            summary,
        } => {
            let (conv, kept, _) = lock(core, tx, conversation_id, None).await?;
            if !tx.complete_outbox(*outbox_id, now).await? {
                return Ok(unchanged(conv, Vec::new(), false));
            }
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            if let Some(summary) = summary {
                turn.replace_summary(tx, handover_id, summary).await?;
            }
            turn.finish(core, tx).await
        }
        TurnInput::CustomerCancel { conversation_id } => {
            let (conv, kept, _) = lock(core, tx, conversation_id, None).await?;
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            if turn.open.as_ref().map(|h| h.status.as_str()) != Some("queued") {
                return Err(ApiError::conflict("not_queued", "the conversation is not waiting for a person").into());
            }
            turn.step(core, tx, &Event::CustomerCancelled).await?;
            turn.finish(core, tx).await
        }
        TurnInput::Agent {
            conversation_id,
            member,
            action,
        } => {
            let (conv, kept, _) = lock(core, tx, conversation_id, None).await?;
            if member.workspace_id != conv.workspace_id {
                return Err(ApiError::not_found("conversation").into());
            }
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            turn.agent(core, tx, member, action).await?;
            turn.finish(core, tx).await
        }
    }
}

/// The conversation (locked on PostgreSQL), and its state and open hand-over when the writer
/// kept them from the turn before (taken: the turn keeps them again when it finishes); and
/// whether a message with `client_id` is stored already (a customer's retry).
async fn lock(
    core: &Core,
    tx: &mut Tx,
    conversation_id: &str,
    client_id: Option<&str>,
) -> Result<(Conversation, Option<Kept>, bool), JobError> {
    if let Some(Written { conv, kept }) = core.written.take(conversation_id) {
        let retry = match client_id {
            Some(client_id) => tx.message_by_client_id(conversation_id, client_id).await?.is_some(),
            None => false,
        };
        return Ok((conv, Some(kept), retry));
    }
    let locked = tx
        .lock_conversation(conversation_id, client_id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    Ok((locked.conversation, None, locked.retry_of.is_some()))
}

fn unchanged(conv: Conversation, messages: Vec<Message>, duplicate: bool) -> Applied {
    Applied {
        outcome: TurnOutcome {
            conversation: conv,
            messages,
            duplicate,
        },
        publish: Vec::new(),
        inbox: Vec::new(),
        outbox: false,
        timers: false,
    }
}

async fn apply_start(core: &Core, tx: &mut Tx, start: &StartConversation, now: i64) -> Result<Applied, JobError> {
    let existing = match &start.external_id {
        Some(ext) => core.store.contact_by_external_id(&start.workspace_id, ext).await?,
        None => None,
    };
    let contact = match existing {
        Some(mut c) => {
            let mut attrs: Map<String, Value> = serde_json::from_str(&c.attributes).unwrap_or_default();
            if !start.attributes.is_empty() {
                attrs.extend(start.attributes.clone());
                c.attributes = Value::Object(attrs).to_string();
                tx.update_contact_attributes(&c.id, &c.attributes, now).await?;
            }
            c
        }
        None => {
            let c = Contact {
                id: crate::ids::new_id("ct"),
                workspace_id: start.workspace_id.clone(),
                external_id: start.external_id.clone(),
                attributes: Value::Object(start.attributes.clone()).to_string(),
                created_at: now,
                updated_at: now,
            };
            tx.insert_contact(&c).await?;
            c
        }
    };
    let conv = Conversation {
        id: start.conversation_id.clone(),
        workspace_id: start.workspace_id.clone(),
        contact_id: contact.id.clone(),
        flow_id: start.flow_id.clone(),
        flow_version: start.flow_version,
        token_hash: start.token_hash.clone(),
        channel: start.channel.clone(),
        status: "bot".into(),
        state: "{}".into(),
        last_seq: 0,
        created_at: now,
        updated_at: now,
        team: None,
        assignee: None,
        priority: None,
        queued_at: None,
    };
    tx.insert_conversation(&conv).await?;
    let mut variables = BTreeMap::new();
    let attrs: Map<String, Value> = serde_json::from_str(&contact.attributes).unwrap_or_default();
    for (k, v) in attrs {
        variables.insert(format!("contact.{k}"), v);
    }
    variables.insert("contact.id".into(), Value::String(contact.id.clone()));
    variables.insert("conversation.id".into(), Value::String(conv.id.clone()));
    variables.insert("conversation.channel".into(), Value::String(conv.channel.clone()));
    let mut turn = Turn::begin(core, tx, conv, None, now).await?;
    turn.timeline(
        tx,
        "started",
        None,
        json!({ "flow_id": start.flow_id, "version": start.flow_version }),
    )
    .await?;
    if let Some(text) = &start.first_message {
        turn.message(tx, "customer", text, None, None, None).await?;
    }
    let event = Event::Start {
        variables,
        message: start.first_message.clone(),
        event: None,
    };
    turn.step(core, tx, &event).await?;
    turn.finish(core, tx).await
}

/// One turn of one conversation inside the batch's transaction.
struct Turn {
    conv: Conversation,
    flow: Arc<Flow>,
    state: State,
    settings: Arc<crate::settings::WorkspaceSettings>,
    /// The hand-over waiting or in progress, if any.
    open: Option<Handover>,
    now: i64,
    outbound: Vec<Message>,
    publish: Vec<Message>,
    inbox: Vec<InboxItem>,
    outbox: bool,
    timers: bool,
    /// The customer's message this turn answers (its payload records the turn's last seq).
    inbound: Option<Message>,
    /// The other messages of the turn, stored with the conversation when it finishes.
    to_store: Vec<Message>,
    /// The member acting in this turn (agent actions).
    acting: Option<Member>,
}

impl Turn {
    async fn begin(
        core: &Core,
        tx: &mut Tx,
        conv: Conversation,
        kept: Option<Kept>,
        now: i64,
    ) -> Result<Turn, JobError> {
        let flow = core.flow(&conv.flow_id, conv.flow_version).await?;
        let settings = core.settings.get(&conv.workspace_id).await?;
        let (state, open) = match kept {
            Some(kept) => kept,
            None => {
                let state: State = if conv.state == "{}" {
                    State::default()
                } else {
                    serde_json::from_str(&conv.state)
                        .map_err(|e| ApiError::internal(format!("conversation state unreadable: {e}")))?
                };
                let open = if matches!(state.status, Status::Queued | Status::Assigned) {
                    tx.open_handover(&conv.id).await?
                } else {
                    None
                };
                (state, open)
            }
        };
        Ok(Turn {
            conv,
            flow,
            state,
            settings,
            open,
            now,
            outbound: Vec::new(),
            publish: Vec::new(),
            inbox: Vec::new(),
            outbox: false,
            timers: false,
            inbound: None,
            to_store: Vec::new(),
            acting: None,
        })
    }

    fn button_label(&self, option: &str) -> Option<String> {
        let node = self.flow.node(self.flow.index_of(self.state.at.as_deref()?)?);
        match &node.kind {
            baton_flow::document::NodeKind::Options(o) => {
                o.options.iter().find(|c| c.id == option).map(|c| c.label.clone())
            }
            _ => None,
        }
    }

    /// Writes a message of the conversation and tells whoever follows it.
    async fn message(
        &mut self,
        tx: &mut Tx,
        role: &str,
        text: &str,
        payload: Option<Value>,
        client_id: Option<String>,
        author: Option<String>,
    ) -> Result<Message, JobError> {
        self.conv.last_seq += 1;
        let m = Message {
            conversation_id: self.conv.id.clone(),
            seq: self.conv.last_seq,
            role: role.to_string(),
            text: text.to_string(),
            payload: payload.map(|p| p.to_string()),
            client_id,
            author,
            created_at: self.now,
        };
        if role == "customer" {
            // Written when the turn finishes, with the seq of its last reply (for retries).
            self.inbound = Some(m.clone());
        } else {
            self.to_store.push(m.clone());
        }
        if matches!(role, "bot" | "agent" | "system") {
            self.outbound.push(m.clone());
        }
        if role != "event" {
            self.inbox.push(InboxItem::Message(m.clone()));
        }
        if matches!(role, "customer" | "bot" | "agent") {
            self.emit_with(
                tx,
                "message.created",
                || json!({ "message": crate::routes::conversations::MessageView::from_message(&m) }),
            )
            .await?;
        }
        self.publish.push(m.clone());
        Ok(m)
    }

    async fn timeline(&mut self, tx: &mut Tx, kind: &str, actor: Option<&str>, data: Value) -> Result<(), JobError> {
        tx.add_timeline(
            &self.conv.workspace_id,
            &self.conv.id,
            kind,
            actor,
            Some(&data.to_string()),
            self.now,
        )
        .await?;
        Ok(())
    }

    /// Queues an outbound event and tells the inbox.
    async fn emit(&mut self, tx: &mut Tx, event_type: &str, data: Value) -> Result<(), JobError> {
        self.emit_with(tx, event_type, move || data).await
    }

    /// [`Turn::emit`] with `data` built only when someone hears the event: most workspaces
    /// subscribe to no `message.created`.
    async fn emit_with(&mut self, tx: &mut Tx, event_type: &str, data: impl FnOnce() -> Value) -> Result<(), JobError> {
        let to_inbox = event_type.starts_with("conversation.");
        let (conversation_id, workspace_id) = (&self.conv.id, &self.conv.workspace_id);
        let body = || {
            let mut body = json!({ "conversation_id": conversation_id, "workspace_id": workspace_id });
            if let (Value::Object(b), Value::Object(d)) = (&mut body, data()) {
                b.extend(d);
            }
            body
        };
        let subscriptions = crate::events::subscriptions_for(tx, workspace_id, event_type).await?;
        if subscriptions.is_empty() && !to_inbox {
            return Ok(());
        }
        let mut body = body();
        if !subscriptions.is_empty() {
            crate::events::queue(tx, workspace_id, subscriptions, event_type, &body, self.now).await?;
            self.outbox = true;
        }
        if to_inbox {
            body["type"] = json!(event_type);
            self.inbox.push(InboxItem::Event(body));
        }
        Ok(())
    }

    /// The open hand-over's summary replaced by `summary` (nothing when that hand-over has
    /// ended meanwhile); the inbox hears `conversation.summarized`.
    async fn replace_summary(&mut self, tx: &mut Tx, handover_id: &str, summary: &str) -> Result<(), JobError> {
        let Some(open) = self.open.as_mut().filter(|h| h.id == handover_id) else {
            return Ok(());
        };
        let mut context: Value = serde_json::from_str(&open.context).unwrap_or_else(|_| json!({}));
        context["summary"] = json!(summary);
        open.context = context.to_string();
        tx.set_handover_context(&open.id, &open.context).await?;
        self.inbox.push(InboxItem::Event(json!({
            "type": "conversation.summarized",
            "conversation_id": self.conv.id,
            "workspace_id": self.conv.workspace_id,
            "handover_id": handover_id,
            "summary": summary,
        })));
        Ok(())
    }

    /// Steps the flow with `event` and writes everything the step produced.
    async fn step(&mut self, core: &Core, tx: &mut Tx, event: &Event) -> Result<(), JobError> {
        let availability = core.availability.get(&self.conv.workspace_id).await?;
        let world = ServerWorld::new(&self.settings, &availability, self.now);
        let mut effects = Vec::new();
        let handled = step_in_place(&self.flow, &mut self.state, event, &world, &mut effects);
        if let Handled::Ignored(why) = handled {
            tracing::debug!(conversation = %self.conv.id, why, "event ignored by the flow");
        }
        let mut auto_assign: Option<Member> = None;
        let mut contact_updates: Map<String, Value> = Map::new();
        for effect in &effects {
            match effect {
                Effect::Send(m) => {
                    let payload = json!({
                        "node": m.node,
                        "buttons": m.buttons,
                        "links": m.links,
                        "image": m.image,
                        "buttons_only": m.buttons_only,
                    });
                    self.message(tx, "bot", &m.text, Some(payload), None, None).await?;
                }
                Effect::CallWebhook(call) => {
                    let payload = serde_json::to_string(call).map_err(|e| ApiError::internal(e.to_string()))?;
                    tx.insert_outbox(&self.conv.workspace_id, &self.conv.id, "webhook", &payload, self.now)
                        .await?;
                    self.outbox = true;
                }
                Effect::AskAi(req) => {
                    let payload = serde_json::to_string(req).map_err(|e| ApiError::internal(e.to_string()))?;
                    tx.insert_outbox(&self.conv.workspace_id, &self.conv.id, "ai", &payload, self.now)
                        .await?;
                    self.outbox = true;
                }
                Effect::SetTimer { timer, after_ms, .. } => {
                    let due = self
                        .now
                        .saturating_add(i64::try_from(*after_ms).unwrap_or(i64::MAX / 2));
                    tx.insert_timer(&self.conv.id, i64::try_from(*timer).unwrap_or(0), due)
                        .await?;
                    self.timers = true;
                }
                Effect::CancelTimer { timer } => {
                    tx.delete_timer(&self.conv.id, i64::try_from(*timer).unwrap_or(0))
                        .await?;
                }
                Effect::SetVariables { values } => {
                    for (k, v) in values {
                        if let Some(attr) = k.strip_prefix("contact.") {
                            contact_updates.insert(attr.to_string(), v.clone());
                        }
                    }
                }
                Effect::HandOver(h) => {
                    auto_assign = self.queue(core, tx, h).await?;
                }
                Effect::Route { from, port, .. } => {
                    let is_handover_port = baton_flow::document::HANDOVER_PORTS.contains(&port.as_str());
                    let from_handover = self
                        .flow
                        .index_of(from)
                        .is_some_and(|i| matches!(self.flow.node(i).kind, baton_flow::document::NodeKind::Handover(_)));
                    if is_handover_port && from_handover {
                        match port.as_str() {
                            "off_hours" | "no_agent" => self.unreachable(tx, from, port).await?,
                            _ => self.close_handover(tx, port, None).await?,
                        }
                    }
                }
                Effect::End { .. } => {
                    if self.open.is_some() {
                        let outcome = if matches!(event, Event::Resolved) {
                            "resolved"
                        } else {
                            "ended"
                        };
                        self.close_handover(tx, outcome, None).await?;
                    }
                }
                Effect::Error { node, code, message } => {
                    self.message(
                        tx,
                        "event",
                        message,
                        Some(json!({ "error": code, "node": node })),
                        None,
                        None,
                    )
                    .await?;
                }
            }
        }
        if !contact_updates.is_empty() {
            if let Some(contact) = tx.contact(&self.conv.contact_id).await? {
                let mut attrs: Map<String, Value> = serde_json::from_str(&contact.attributes).unwrap_or_default();
                attrs.extend(contact_updates);
                tx.update_contact_attributes(&contact.id, &Value::Object(attrs).to_string(), self.now)
                    .await?;
            }
        }
        if self.open.is_some() && !matches!(self.state.status, Status::Queued | Status::Assigned) {
            self.close_handover(tx, "ended", None).await?;
        }
        if let Some(agent) = auto_assign {
            Box::pin(self.take(core, tx, &agent, None)).await?;
        }
        Ok(())
    }

    /// The flow reached a Handover node and the conversation is queued: the hand-over is
    /// recorded with its context package. Returns the agent round-robin picks, if any.
    async fn queue(
        &mut self,
        core: &Core,
        tx: &mut Tx,
        h: &baton_flow::runtime::Handover,
    ) -> Result<Option<Member>, JobError> {
        let transcript = tx.messages_after(&self.conv.id, 0, 500).await?;
        // The message this turn answers is written when the turn finishes: count it too.
        let said: Vec<&str> = transcript
            .iter()
            .chain(self.inbound.iter())
            .filter(|m| m.role == "customer")
            .map(|m| m.text.as_str())
            .collect();
        let summary = crate::context::summary(&said);
        let sentiment = crate::context::sentiment(&said);
        let context = json!({
            "reason": h.context.reason,
            "node": h.node,
            "path": h.context.path,
            "variables": h.context.variables,
            "last_message": h.context.last_message,
            "summary": summary,
            "sentiment": sentiment.0,
            "frustrated": sentiment.1,
        });
        let handover = Handover {
            id: crate::ids::new_id("ho"),
            workspace_id: self.conv.workspace_id.clone(),
            conversation_id: self.conv.id.clone(),
            flow_id: self.conv.flow_id.clone(),
            flow_version: self.conv.flow_version,
            node: h.node.clone(),
            team: h.team.clone(),
            assignee: None,
            priority: h.priority.as_str().to_string(),
            status: "queued".into(),
            context: context.to_string(),
            queued_at: self.now,
            assigned_at: None,
            ended_at: None,
        };
        tx.insert_handover(&handover).await?;
        // A language model writes a better summary after the commit (workers.rs).
        if core.ai.writes_summaries(&self.conv.workspace_id).await {
            let payload = json!({ "handover": handover.id }).to_string();
            tx.insert_outbox(&self.conv.workspace_id, &self.conv.id, SUMMARY_KIND, &payload, self.now)
                .await?;
            self.outbox = true;
        }
        self.timeline(
            tx,
            "queued",
            None,
            json!({ "handover": handover.id, "node": h.node, "team": h.team, "priority": handover.priority }),
        )
        .await?;
        self.message(
            tx,
            "event",
            &format!("Queued for {}", h.team.as_deref().unwrap_or("the default queue")),
            Some(json!({ "handover": handover.id })),
            None,
            None,
        )
        .await?;
        self.emit(
            tx,
            "conversation.queued",
            json!({ "handover_id": handover.id, "team": h.team, "priority": handover.priority, "queued_at": handover.queued_at, "context": context }),
        )
        .await?;
        self.open = Some(handover);
        if self.settings.assignment == Assignment::RoundRobin {
            let candidates = tx
                .online_team_members(&self.conv.workspace_id, h.team.as_deref())
                .await?;
            let wanted = h.agent.as_deref();
            let pick = candidates
                .into_iter()
                .find(|m| wanted.is_none_or(|a| m.email.eq_ignore_ascii_case(a)));
            let _ = core;
            return Ok(pick);
        }
        Ok(None)
    }

    /// A Handover node left through off_hours / no_agent: recorded for analytics.
    async fn unreachable(&mut self, tx: &mut Tx, node: &str, outcome: &str) -> Result<(), JobError> {
        let (team, priority) = match self.flow.index_of(node).map(|i| &self.flow.node(i).kind) {
            Some(baton_flow::document::NodeKind::Handover(h)) => (h.team.clone(), h.priority.as_str().to_string()),
            _ => (None, "normal".to_string()),
        };
        let handover = Handover {
            id: crate::ids::new_id("ho"),
            workspace_id: self.conv.workspace_id.clone(),
            conversation_id: self.conv.id.clone(),
            flow_id: self.conv.flow_id.clone(),
            flow_version: self.conv.flow_version,
            node: node.to_string(),
            team,
            assignee: None,
            priority,
            status: outcome.to_string(),
            context: "{}".into(),
            queued_at: self.now,
            assigned_at: None,
            ended_at: Some(self.now),
        };
        tx.insert_handover(&handover).await?;
        self.timeline(tx, outcome, None, json!({ "node": node })).await?;
        self.emit(tx, &format!("conversation.{outcome}"), json!({ "node": node }))
            .await
    }

    /// The open hand-over ends with `outcome`.
    async fn close_handover(&mut self, tx: &mut Tx, outcome: &str, actor: Option<&Member>) -> Result<(), JobError> {
        let Some(mut h) = self.open.take() else {
            return Ok(());
        };
        // Without a named actor, the member acting in this turn (if any) ended it.
        let acting = actor.cloned().or_else(|| self.acting.clone());
        let actor = acting.as_ref();
        h.status = outcome.to_string();
        h.ended_at = Some(self.now);
        tx.update_handover(&h).await?;
        self.timeline(tx, outcome, actor.map(|m| m.id.as_str()), json!({ "handover": h.id }))
            .await?;
        self.emit(
            tx,
            &format!("conversation.{outcome}"),
            json!({ "handover_id": h.id, "by": actor.map(|m| &m.name) }),
        )
        .await
    }

    /// `agent` takes the conversation (claim, assignment or round-robin).
    async fn take(&mut self, core: &Core, tx: &mut Tx, agent: &Member, by: Option<&Member>) -> Result<(), JobError> {
        let Some(h) = self.open.as_mut() else {
            return Err(ApiError::conflict("not_queued", "the conversation is not waiting for a person").into());
        };
        if h.assignee.as_deref() == Some(agent.id.as_str()) {
            return Ok(());
        }
        h.status = "assigned".into();
        h.assignee = Some(agent.id.clone());
        h.assigned_at.get_or_insert(self.now);
        let h = h.clone();
        tx.update_handover(&h).await?;
        tx.touch_assigned(&agent.id, self.now).await?;
        let event = Event::AgentTookOver {
            agent: agent.name.clone(),
        };
        Box::pin(self.step(core, tx, &event)).await?;
        let text = format!("{} joined the conversation.", agent.name);
        self.message(tx, "system", &text, None, None, Some(agent.name.clone()))
            .await?;
        let actor = by.unwrap_or(agent);
        self.timeline(
            tx,
            "assigned",
            Some(&actor.id),
            json!({ "handover": h.id, "agent": agent.id, "agent_name": agent.name }),
        )
        .await?;
        self.emit(
            tx,
            "conversation.assigned",
            json!({ "handover_id": h.id, "agent": { "id": agent.id, "name": agent.name } }),
        )
        .await
    }

    async fn agent(&mut self, core: &Core, tx: &mut Tx, member: &Member, action: &AgentAction) -> Result<(), JobError> {
        self.acting = Some(member.clone());
        match action {
            AgentAction::Claim => {
                match self.open.as_ref() {
                    Some(h) if h.status == "assigned" && h.assignee.as_deref() != Some(member.id.as_str()) => {
                        return Err(
                            ApiError::conflict("already_claimed", "another agent has this conversation").into(),
                        );
                    }
                    Some(_) => {}
                    None => {
                        return Err(
                            ApiError::conflict("not_queued", "the conversation is not waiting for a person").into(),
                        )
                    }
                }
                self.take(core, tx, member, None).await
            }
            AgentAction::Assign { member_id } => {
                let target = tx
                    .member(member_id)
                    .await?
                    .filter(|m| m.workspace_id == self.conv.workspace_id)
                    .ok_or_else(|| ApiError::not_found("member").field("member_id"))?;
                self.take(core, tx, &target, Some(member)).await
            }
            AgentAction::Transfer { team, member_id } => {
                if self.open.is_none() {
                    return Err(ApiError::conflict(
                        "not_queued",
                        "only a conversation with a person can be transferred",
                    )
                    .into());
                }
                if let Some(target_id) = member_id {
                    let target = tx
                        .member(target_id)
                        .await?
                        .filter(|m| m.workspace_id == self.conv.workspace_id)
                        .ok_or_else(|| ApiError::not_found("member").field("member_id"))?;
                    if let (Some(h), Some(t)) = (self.open.as_mut(), team) {
                        h.team = Some(t.clone());
                    }
                    self.timeline(
                        tx,
                        "transferred",
                        Some(&member.id),
                        json!({ "to_member": target.id, "to_team": team }),
                    )
                    .await?;
                    self.emit(
                        tx,
                        "conversation.transferred",
                        json!({ "to_member": target.id, "to_team": team }),
                    )
                    .await?;
                    return self.take(core, tx, &target, Some(member)).await;
                }
                let Some(team) = team else {
                    return Err(ApiError::invalid_field("team", "name a team or a member to transfer to").into());
                };
                if let Some(h) = self.open.as_mut() {
                    h.team = Some(team.clone());
                    h.status = "queued".into();
                    h.assignee = None;
                    let h = h.clone();
                    tx.update_handover(&h).await?;
                }
                self.message(
                    tx,
                    "system",
                    "You're being transferred to another team. Someone will be with you shortly.",
                    None,
                    None,
                    None,
                )
                .await?;
                self.timeline(tx, "transferred", Some(&member.id), json!({ "to_team": team }))
                    .await?;
                self.emit(tx, "conversation.transferred", json!({ "to_team": team }))
                    .await?;
                // It waits in the new team's queue again: timers, cancel, the queued event.
                self.step(core, tx, &Event::Requeued).await?;
                if let Some(h) = self.open.clone() {
                    let context: Value = serde_json::from_str(&h.context).unwrap_or(json!({}));
                    self.emit(
                        tx,
                        "conversation.queued",
                        json!({ "handover_id": h.id, "team": h.team, "priority": h.priority, "queued_at": self.now, "context": context }),
                    )
                    .await?;
                }
                Ok(())
            }
            AgentAction::Reply { text, client_id } => {
                if let Some(cid) = client_id {
                    if tx
                        .message_by_client_id(&self.conv.id, &format!("agent:{cid}"))
                        .await?
                        .is_some()
                    {
                        return Ok(());
                    }
                }
                match self.open.as_ref() {
                    Some(h) if h.status == "queued" => self.take(core, tx, member, None).await?,
                    Some(h) if h.assignee.as_deref() != Some(member.id.as_str()) => {
                        return Err(ApiError::conflict(
                            "assigned_to_other",
                            "another agent has this conversation; ask them or transfer it",
                        )
                        .into());
                    }
                    Some(_) => {}
                    None => {
                        return Err(ApiError::conflict(
                            "not_with_a_person",
                            "the bot has this conversation; reply once it is handed over",
                        )
                        .into());
                    }
                }
                let cid = client_id.as_ref().map(|c| format!("agent:{c}"));
                self.message(tx, "agent", text, None, cid, Some(member.name.clone()))
                    .await?;
                self.step(
                    core,
                    tx,
                    &Event::AgentReplied {
                        agent: member.name.clone(),
                    },
                )
                .await
            }
            AgentAction::Note { text } => {
                self.message(tx, "note", text, None, None, Some(member.name.clone()))
                    .await?;
                Ok(())
            }
            AgentAction::HandBack { variables, resume_at } => {
                if self.open.is_none() {
                    return Err(
                        ApiError::conflict("not_with_a_person", "the bot already has this conversation").into(),
                    );
                }
                if let Some(node) = resume_at {
                    if self.flow.index_of(node).is_none() {
                        return Err(
                            ApiError::invalid_field("resume_at", format!("the flow has no node `{node}`")).into(),
                        );
                    }
                }
                for k in variables.keys() {
                    if !baton_flow::template::is_valid_path(k) {
                        return Err(ApiError::invalid_field(
                            &format!("variables.{k}"),
                            "variable names are letters, digits and _, joined by dots",
                        )
                        .into());
                    }
                }
                self.timeline(
                    tx,
                    "hand_back_requested",
                    Some(&member.id),
                    json!({ "variables": variables, "resume_at": resume_at }),
                )
                .await?;
                let event = Event::HandedBack {
                    variables: variables.clone(),
                    resume_at: resume_at.clone(),
                };
                if resume_at.is_some() {
                    // No edge leaves the Handover node: record the outcome here.
                    self.close_handover(tx, "handed_back", Some(member)).await?;
                }
                // Otherwise the close is recorded by the Route effect (or the end) of the step.
                self.step(core, tx, &event).await
            }
            AgentAction::Resolve => {
                if self.state.status == Status::Ended {
                    return Err(ApiError::conflict("already_resolved", "the conversation has ended").into());
                }
                self.step(core, tx, &Event::Resolved).await
            }
        }
    }

    async fn finish(mut self, core: &Core, tx: &mut Tx) -> Result<Applied, JobError> {
        self.conv.status = match self.state.status {
            Status::NotStarted | Status::Bot => "bot".into(),
            Status::Ended => "resolved".into(),
            Status::Queued | Status::Assigned => {
                self.open.as_ref().map_or_else(|| "queued".into(), |h| h.status.clone())
            }
        };
        match &self.open {
            Some(h) => {
                self.conv.team = h.team.clone();
                self.conv.assignee = h.assignee.clone();
                self.conv.priority = Some(h.priority.clone());
                self.conv.queued_at = Some(h.queued_at);
            }
            None => {
                self.conv.assignee = None;
                self.conv.queued_at = None;
            }
        }
        if let Some(mut m) = self.inbound.take() {
            let mut payload: Value = m
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or(json!({}));
            payload["turn_end"] = json!(self.conv.last_seq);
            m.payload = Some(payload.to_string());
            self.to_store.push(m);
        }
        self.conv.state = serde_json::to_string(&self.state).map_err(|e| ApiError::internal(e.to_string()))?;
        self.conv.updated_at = self.now;
        tx.write_turn(&self.conv, &self.to_store).await?;
        core.remember_written(Written {
            conv: self.conv.clone(),
            kept: (self.state, self.open),
        });
        Ok(Applied {
            outcome: TurnOutcome {
                conversation: self.conv,
                messages: self.outbound,
                duplicate: false,
            },
            publish: self.publish,
            inbox: self.inbox,
            outbox: self.outbox,
            timers: self.timers,
        })
    }
}

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
use crate::metrics::METRICS;
use crate::settings::{ServerWorld, SettingsCache};
use baton_flow::runtime::{step_in_place, Effect, Event, Handled, State, Status};
use baton_flow::Flow;
use baton_store::{Contact, Conversation, Message, Store, StoreError, Tx};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, Notify};

/// Most turns committed together.
const MAX_BATCH: usize = 256;
/// Turns waiting for the writer before callers wait to enqueue.
const QUEUE_CAPACITY: usize = 8192;
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
    /// The result of an outbox effect (webhook call, AI request).
    EffectResult {
        conversation_id: String,
        outbox_id: i64,
        event: Event,
    },
    Timer {
        conversation_id: String,
        timer_id: i64,
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

/// What the engine and the workers share.
pub struct Core {
    pub store: Store,
    pub clock: Clock,
    pub hub: Hub,
    pub settings: SettingsCache,
    flows: Mutex<HashMap<(String, i64), Arc<Flow>>>,
    pub outbox_wake: Notify,
    pub timer_wake: Notify,
}

impl Core {
    pub fn new(store: Store, clock: Clock) -> Core {
        Core {
            settings: SettingsCache::new(store.clone()),
            store,
            clock,
            hub: Hub::default(),
            flows: Mutex::new(HashMap::new()),
            outbox_wake: Notify::new(),
            timer_wake: Notify::new(),
        }
    }

    /// A published flow version, loaded once (versions never change).
    pub async fn flow(&self, flow_id: &str, version: i64) -> Result<Arc<Flow>, ApiError> {
        let key = (flow_id.to_string(), version);
        if let Some(f) = self
            .flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(f.clone());
        }
        let row = self
            .store
            .flow_version(flow_id, version)
            .await?
            .ok_or_else(|| {
                ApiError::internal(format!("flow {flow_id} version {version} is missing"))
            })?;
        let flow = Flow::from_json(&row.document).map_err(|d| {
            ApiError::internal(format!(
                "published flow {flow_id} v{version} does not load: {d:?}"
            ))
        })?;
        let flow = Arc::new(flow);
        self.flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, flow.clone());
        Ok(flow)
    }
}

/// The handle to the writer.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
}

impl Engine {
    /// Starts the writer task.
    pub fn start(core: Arc<Core>) -> Engine {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(writer(core, rx));
        Engine { jobs: tx }
    }

    /// Applies a turn; returns once it is committed.
    pub async fn submit(&self, input: TurnInput) -> Result<TurnOutcome, ApiError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            input,
            reply,
            enqueued: Instant::now(),
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
        rx.await.map_err(|_| {
            ApiError::unavailable("the turn was not applied; retry with the same client id")
        })?
    }
}

async fn writer(core: Arc<Core>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&core, batch).await;
    }
}

/// One transaction for the whole batch; when it fails, each turn is retried on its own so one
/// bad turn cannot sink the others.
async fn run_batch(core: &Core, batch: Vec<Job>) {
    match try_batch(core, &batch).await {
        Ok(results) => {
            METRICS
                .turn_batches
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            finish(core, batch, results);
        }
        Err(e) if batch.len() > 1 => {
            tracing::warn!(error = %e, size = batch.len(), "batch failed; applying its turns one by one");
            for job in batch {
                let single = vec![job];
                match try_batch(core, &single).await {
                    Ok(results) => finish(core, single, results),
                    Err(e) => fail(single, &e),
                }
            }
        }
        Err(e) => fail(batch, &e),
    }
}

fn fail(batch: Vec<Job>, e: &StoreError) {
    for job in batch {
        let _ = job.reply.send(Err(ApiError::unavailable(format!(
            "the turn could not be stored ({e}); retry with the same client id"
        ))));
    }
}

struct Applied {
    outcome: TurnOutcome,
    publish: Vec<Message>,
    outbox: bool,
    timers: bool,
}

async fn try_batch(
    core: &Core,
    batch: &[Job],
) -> Result<Vec<Result<Applied, ApiError>>, StoreError> {
    let mut tx = core.store.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        match apply(core, &mut tx, &job.input).await {
            Ok(applied) => results.push(Ok(applied)),
            Err(JobError::Api(e)) => results.push(Err(e)),
            Err(JobError::Store(e)) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(results)
}

fn finish(core: &Core, batch: Vec<Job>, results: Vec<Result<Applied, ApiError>>) {
    let mut wake_outbox = false;
    let mut wake_timers = false;
    for (job, result) in batch.into_iter().zip(results) {
        let reply = match result {
            Ok(applied) => {
                METRICS
                    .turns
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                METRICS
                    .turn_latency
                    .observe_us(job.enqueued.elapsed().as_micros() as u64);
                wake_outbox |= applied.outbox;
                wake_timers |= applied.timers;
                for m in applied.publish {
                    core.hub.publish(m);
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
            let conv = tx
                .lock_conversation(conversation_id)
                .await?
                .ok_or_else(|| ApiError::not_found("conversation"))?;
            if let Some(client_id) = client_id {
                if let Some(first) = tx.message_by_client_id(conversation_id, client_id).await? {
                    METRICS
                        .duplicate_messages
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let replies = tx
                        .messages_after(conversation_id, first.seq, REPLAY_LIMIT)
                        .await?
                        .into_iter()
                        .take_while(|m| m.role != "customer")
                        .filter(|m| m.role == "bot" || m.role == "agent")
                        .collect();
                    return Ok(Applied {
                        outcome: TurnOutcome {
                            conversation: conv,
                            messages: replies,
                            duplicate: true,
                        },
                        publish: Vec::new(),
                        outbox: false,
                        timers: false,
                    });
                }
            }
            let (text, event) = match content {
                CustomerContent::Text(t) => (t.clone(), Event::CustomerText { text: t.clone() }),
                CustomerContent::Button(option) => (
                    format!("[{option}]"),
                    Event::ButtonPressed {
                        option: option.clone(),
                    },
                ),
            };
            let inbound = Message {
                conversation_id: conv.id.clone(),
                seq: 0,
                role: "customer".into(),
                text,
                payload: match content {
                    CustomerContent::Button(option) => {
                        Some(json!({ "button": option }).to_string())
                    }
                    CustomerContent::Text(_) => None,
                },
                client_id: client_id.clone(),
                author: None,
                created_at: now,
            };
            run_event(core, tx, conv, Some(inbound), &event, now).await
        }
        TurnInput::EffectResult {
            conversation_id,
            outbox_id,
            event,
        } => {
            let conv = tx
                .lock_conversation(conversation_id)
                .await?
                .ok_or_else(|| ApiError::not_found("conversation"))?;
            if !tx.complete_outbox(*outbox_id, now).await? {
                return Ok(unchanged(conv));
            }
            run_event(core, tx, conv, None, event, now).await
        }
        TurnInput::Timer {
            conversation_id,
            timer_id,
        } => {
            let conv = tx
                .lock_conversation(conversation_id)
                .await?
                .ok_or_else(|| ApiError::not_found("conversation"))?;
            if !tx.delete_timer(conversation_id, *timer_id).await? {
                return Ok(unchanged(conv));
            }
            let event = Event::TimerFired {
                timer: u64::try_from(*timer_id).unwrap_or(0),
            };
            run_event(core, tx, conv, None, &event, now).await
        }
    }
}

fn unchanged(conv: Conversation) -> Applied {
    Applied {
        outcome: TurnOutcome {
            conversation: conv,
            messages: Vec::new(),
            duplicate: false,
        },
        publish: Vec::new(),
        outbox: false,
        timers: false,
    }
}

async fn apply_start(
    core: &Core,
    tx: &mut Tx,
    start: &StartConversation,
    now: i64,
) -> Result<Applied, JobError> {
    let existing = match &start.external_id {
        Some(ext) => {
            core.store
                .contact_by_external_id(&start.workspace_id, ext)
                .await?
        }
        None => None,
    };
    let contact = match existing {
        Some(mut c) => {
            let mut attrs: Map<String, Value> =
                serde_json::from_str(&c.attributes).unwrap_or_default();
            if !start.attributes.is_empty() {
                attrs.extend(start.attributes.clone());
                c.attributes = Value::Object(attrs).to_string();
                tx.update_contact_attributes(&c.id, &c.attributes, now)
                    .await?;
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
    };
    tx.insert_conversation(&conv).await?;
    let mut variables = BTreeMap::new();
    let attrs: Map<String, Value> = serde_json::from_str(&contact.attributes).unwrap_or_default();
    for (k, v) in attrs {
        variables.insert(format!("contact.{k}"), v);
    }
    variables.insert("contact.id".into(), Value::String(contact.id.clone()));
    variables.insert("conversation.id".into(), Value::String(conv.id.clone()));
    variables.insert(
        "conversation.channel".into(),
        Value::String(conv.channel.clone()),
    );
    let inbound = start.first_message.as_ref().map(|text| Message {
        conversation_id: conv.id.clone(),
        seq: 0,
        role: "customer".into(),
        text: text.clone(),
        payload: None,
        client_id: None,
        author: None,
        created_at: now,
    });
    let event = Event::Start {
        variables,
        message: start.first_message.clone(),
        event: None,
    };
    run_event(core, tx, conv, inbound, &event, now).await
}

/// Steps the flow with `event` and writes everything the step produced.
async fn run_event(
    core: &Core,
    tx: &mut Tx,
    mut conv: Conversation,
    mut inbound: Option<Message>,
    event: &Event,
    now: i64,
) -> Result<Applied, JobError> {
    let flow = core.flow(&conv.flow_id, conv.flow_version).await?;
    let settings = core.settings.get(&conv.workspace_id).await?;
    let world = ServerWorld::new(&settings);
    let mut state: State = if conv.state == "{}" {
        State::default()
    } else {
        serde_json::from_str(&conv.state)
            .map_err(|e| ApiError::internal(format!("conversation state unreadable: {e}")))?
    };
    let mut seq = conv.last_seq;
    let mut publish = Vec::new();
    if let (Some(m), Event::ButtonPressed { option }) = (inbound.as_mut(), event) {
        // Show what the customer pressed as the button's label.
        if let Some(label) = button_label(&flow, &state, option) {
            m.text = label;
        }
    }
    if let Some(mut m) = inbound {
        seq += 1;
        m.seq = seq;
        tx.insert_message(&m).await?;
        publish.push(m);
    }
    let mut effects = Vec::new();
    let handled = step_in_place(&flow, &mut state, event, &world, &mut effects);
    if let Handled::Ignored(why) = handled {
        tracing::debug!(conversation = %conv.id, why, "event ignored by the flow");
    }
    let mut outbound = Vec::new();
    let mut outbox = false;
    let mut timers = false;
    let mut contact_updates: Map<String, Value> = Map::new();
    for effect in &effects {
        match effect {
            Effect::Send(m) => {
                seq += 1;
                let payload = json!({
                    "node": m.node,
                    "buttons": m.buttons,
                    "links": m.links,
                    "image": m.image,
                    "buttons_only": m.buttons_only,
                });
                let msg = Message {
                    conversation_id: conv.id.clone(),
                    seq,
                    role: "bot".into(),
                    text: m.text.clone(),
                    payload: Some(payload.to_string()),
                    client_id: None,
                    author: None,
                    created_at: now,
                };
                tx.insert_message(&msg).await?;
                outbound.push(msg.clone());
                publish.push(msg);
            }
            Effect::CallWebhook(call) => {
                let payload =
                    serde_json::to_string(call).map_err(|e| ApiError::internal(e.to_string()))?;
                tx.insert_outbox(&conv.workspace_id, &conv.id, "webhook", &payload, now)
                    .await?;
                outbox = true;
            }
            Effect::AskAi(req) => {
                let payload =
                    serde_json::to_string(req).map_err(|e| ApiError::internal(e.to_string()))?;
                tx.insert_outbox(&conv.workspace_id, &conv.id, "ai", &payload, now)
                    .await?;
                outbox = true;
            }
            Effect::SetTimer {
                timer, after_ms, ..
            } => {
                let due = now.saturating_add(i64::try_from(*after_ms).unwrap_or(i64::MAX / 2));
                tx.insert_timer(&conv.id, i64::try_from(*timer).unwrap_or(0), due)
                    .await?;
                timers = true;
            }
            Effect::CancelTimer { timer } => {
                tx.delete_timer(&conv.id, i64::try_from(*timer).unwrap_or(0))
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
                seq += 1;
                let msg = Message {
                    conversation_id: conv.id.clone(),
                    seq,
                    role: "event".into(),
                    text: format!(
                        "Handed over to {}",
                        h.team.as_deref().unwrap_or("the default queue")
                    ),
                    payload: Some(json!({ "handover": h }).to_string()),
                    client_id: None,
                    author: None,
                    created_at: now,
                };
                tx.insert_message(&msg).await?;
            }
            Effect::Error {
                node,
                code,
                message,
            } => {
                seq += 1;
                let msg = Message {
                    conversation_id: conv.id.clone(),
                    seq,
                    role: "event".into(),
                    text: message.clone(),
                    payload: Some(json!({ "error": code, "node": node }).to_string()),
                    client_id: None,
                    author: None,
                    created_at: now,
                };
                tx.insert_message(&msg).await?;
            }
            Effect::Route { .. } | Effect::End { .. } => {}
        }
    }
    if !contact_updates.is_empty() {
        if let Some(contact) = tx.contact(&conv.contact_id).await? {
            let mut attrs: Map<String, Value> =
                serde_json::from_str(&contact.attributes).unwrap_or_default();
            attrs.extend(contact_updates);
            tx.update_contact_attributes(&contact.id, &Value::Object(attrs).to_string(), now)
                .await?;
        }
    }
    let status = conversation_status(&state);
    let state_json =
        serde_json::to_string(&state).map_err(|e| ApiError::internal(e.to_string()))?;
    tx.update_conversation(&conv.id, status, &state_json, seq, now)
        .await?;
    conv.status = status.to_string();
    conv.state = state_json;
    conv.last_seq = seq;
    conv.updated_at = now;
    Ok(Applied {
        outcome: TurnOutcome {
            conversation: conv,
            messages: outbound,
            duplicate: false,
        },
        publish,
        outbox,
        timers,
    })
}

fn button_label(flow: &Flow, state: &State, option: &str) -> Option<String> {
    let node = flow.node(flow.index_of(state.at.as_deref()?)?);
    match &node.kind {
        baton_flow::document::NodeKind::Options(o) => o
            .options
            .iter()
            .find(|c| c.id == option)
            .map(|c| c.label.clone()),
        _ => None,
    }
}

/// The conversation status people see, from the flow's state.
pub fn conversation_status(state: &State) -> &'static str {
    match state.status {
        Status::NotStarted | Status::Bot => "bot",
        Status::Queued => "queued",
        Status::Assigned => "assigned",
        Status::Ended => "resolved",
    }
}

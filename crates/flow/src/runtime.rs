//! The pure runtime: `step(flow, state, event) -> (state, effects)`.
//!
//! No IO, no clock, no randomness. What the outside world must do (send a message, call a
//! webhook, ask the AI, hand over, set a timer) comes out as [`Effect`] data; what happens out
//! there comes back in as an [`Event`]. Facts the flow reads about the world right now (is the
//! team open, is an agent online, the workspace's hand-off settings) come from a [`World`],
//! which callers build from data they hold, so a step is a function of its inputs.

pub use crate::ai::{AiOutcome, AnswerIntent, Source};
use crate::document::*;
pub use crate::escape::EscapeSettings;
use crate::flow::Flow;
use crate::matching::{self, MAX_INPUT_CHARS};
pub use crate::sla::{ReplyClock, ReplyTarget, ReplyTargets, RunningTarget, WhenMissed};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Most nodes one event may run through before the runtime stops the flow: a guard against
/// loops that never wait for the customer (validation reports them as `loop_without_wait`).
pub const MAX_NODES_PER_EVENT: u32 = 100;
/// How many recent node ids the state keeps for the hand-over's "path that led here".
pub const PATH_LENGTH: usize = 24;
/// Most variables a conversation holds.
pub const MAX_VARIABLES: usize = 200;
/// Largest value (as JSON) a variable holds.
pub const MAX_VALUE_BYTES: usize = 8 * 1024;

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// A conversation's position in its flow. Small and serialisable: the transcript lives
/// elsewhere.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// The node the flow is stopped at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default)]
    pub wait: Wait,
    /// Failed answers (Collect Input) or re-asks (Options) at the current node.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// Answers given by the current Let AI Answer node.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub turns: u32,
    /// True while the customer's last message has not been used by a node yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending_text: bool,
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    /// The most recent nodes run, oldest first.
    #[serde(default)]
    pub path: Vec<String>,
    /// Next id for a webhook call, AI request or timer: ids are never reused in a conversation.
    #[serde(default)]
    pub next_id: u64,
    /// How many times this conversation was queued for a person.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub handovers: u32,
    /// With `status: ended`: whether the conversation was resolved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resolved: bool,
    /// The question's nudge and `no_reply` timers, while the flow waits for its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<Silence>,
    /// The check that closes a conversation left waiting on the customer (`abandoned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet: Option<QuietWatch>,
    /// The agent's reply clock, while a person owns the conversation (docs: agent SLAs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyClock>,
}

/// The timers of a question the customer has not answered yet.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Silence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nudge: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_reply: Option<u64>,
}

/// Checks, every quarter of the workspace's `abandon_after_hours`, whether the customer answered
/// since the last check: the fifth quiet check in a row closes the conversation as abandoned
/// (so between 1 and 1¼ times `abandon_after_hours` after the last answer). One timer per
/// quarter instead of one per answer keeps turns free of timer writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuietWatch {
    pub timer: u64,
    #[serde(default)]
    pub quiet_checks: u32,
}

/// Longest free-text answer the classifier reads as a possible escape: a request is short, a
/// description longer (evals/escapes, dev half).
const MAX_REQUEST_WORDS: usize = 10;

/// Quiet checks in a row that close a conversation as abandoned.
pub const QUIET_CHECKS_TO_ABANDON: u32 = 5;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a start event.
    #[default]
    NotStarted,
    /// The flow (bot) is in charge.
    Bot,
    /// Waiting for a person to claim it; the bot is silent.
    Queued,
    /// A person is in charge; the bot is silent.
    Assigned,
    /// The flow has ended.
    Ended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::Bot => "bot",
            Status::Queued => "queued",
            Status::Assigned => "assigned",
            Status::Ended => "ended",
        }
    }
}

/// What the flow is waiting for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Wait {
    #[default]
    Nothing,
    /// The customer's next message or press.
    Customer,
    Webhook {
        request: u64,
    },
    Ai {
        request: u64,
    },
    /// A person: queued at a Handover node, or taken over by an agent while the flow waited
    /// (`barged_in`), in which case hand-back resumes at the node the flow was at.
    Person {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stalling_timer: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_wait_timer: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        barged_in: bool,
        /// Queued because the customer asked for a person at a question (an escape): hand-back
        /// and cancel ask the question again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        escaped: bool,
    },
}

// ---------------------------------------------------------------------------------------------
// Events and effects
// ---------------------------------------------------------------------------------------------

/// Something that happened to the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The conversation starts. `variables` seeds contact and conversation facts
    /// (`contact.name`, `conversation.channel`); `message` is the first customer message, if
    /// any (keyword triggers read it); `event` names an API event.
    Start {
        #[serde(default)]
        variables: BTreeMap<String, Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event: Option<String>,
        /// The server chose this flow by entry routing (its rules hold, or it is the
        /// fallback): the trigger's rules are not checked again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        routed: bool,
    },
    CustomerText {
        text: String,
    },
    /// The customer pressed a button (an option id).
    ButtonPressed {
        option: String,
    },
    AgentTookOver {
        agent: String,
        /// The team the agent has it in, whose reply targets apply (none: the team of the
        /// Handover node the flow waits at).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<String>,
    },
    /// An agent's reply: the flow only notes who is in charge; the transcript is kept outside.
    AgentReplied {
        agent: String,
    },
    HandedBack {
        #[serde(default)]
        variables: BTreeMap<String, Value>,
        /// Resume at this node instead of the `handed_back` port.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_at: Option<String>,
    },
    Resolved,
    CustomerCancelled,
    /// An agent put the conversation back in a queue (transfer to a team).
    Requeued,
    WebhookResult {
        request: u64,
        result: WebhookOutcome,
    },
    AiResult {
        request: u64,
        result: AiOutcome,
    },
    TimerFired {
        timer: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// A response arrived (any status; 2xx leaves through `success`).
    Response {
        status: u16,
        #[serde(default)]
        body: Value,
    },
    /// No usable response after all retries.
    Failed { reason: String },
}

/// Something the outside world must do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// The flow moved along an edge (or hit an unwired port: `to` is None).
    Route {
        from: String,
        port: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    Send(OutMessage),
    CallWebhook(WebhookCall),
    AskAi(AiRequest),
    HandOver(Handover),
    SetTimer {
        timer: u64,
        purpose: TimerPurpose,
        after_ms: u64,
    },
    CancelTimer {
        timer: u64,
    },
    /// Variables changed (after a node stored values, or an agent's hand-back).
    SetVariables {
        values: BTreeMap<String, Value>,
    },
    /// A hand-over the customer asked for at a question (an escape: there is no Handover node
    /// to leave through a port) ended: `handed_back` or `cancelled`.
    HandoverEnded {
        outcome: String,
    },
    /// The agent who owns the conversation missed a reply target; `then` says what happens
    /// now (`flow`: the step already left the Handover node through `timeout`; `requeue` and
    /// `next_agent` are the server's to carry out, the flow waits for `Requeued` or
    /// `AgentTookOver`).
    ReplyMissed {
        agent: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<String>,
        target: ReplyTarget,
        then: WhenMissed,
    },
    /// The customer rated the conversation (an End node's `csat`).
    Rated {
        score: u8,
        scale: u8,
    },
    /// The flow ended.
    End {
        resolve: bool,
        /// Closed because the customer stopped answering (the workspace's
        /// `abandon_after_hours`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        abandoned: bool,
    },
    /// The flow could not go on (e.g. a loop without a wait); it has ended.
    Error {
        node: String,
        code: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutMessage {
    pub node: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Only a button press is accepted (Options in `strict` mode): the widget disables typing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub buttons_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Button {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCall {
    pub request: u64,
    pub node: String,
    pub method: HttpMethod,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub timeout_ms: u32,
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiRequest {
    pub request: u64,
    pub node: String,
    pub query: AiQuery,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum AiQuery {
    Classify {
        text: String,
        categories: Vec<Category>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<f64>,
    },
    Extract {
        text: String,
        fields: Vec<ExtractField>,
    },
    /// Summarise the conversation's transcript (held outside the flow).
    Summarize,
    Sentiment {
        text: String,
    },
    Instruction {
        instruction: String,
        text: String,
    },
    Answer {
        question: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        collections: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<f64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerPurpose {
    /// Tell a queued customer that nobody is free yet.
    Stalling,
    /// Leave a Handover node through `timeout`.
    MaxWait,
    /// Nudge a customer who has not answered the question.
    Nudge,
    /// Leave a question through `no_reply`.
    NoReply,
    /// Check whether a conversation was left waiting on the customer (see [`QuietWatch`]).
    QuietCheck,
    /// The agent's reply is due (see [`ReplyClock`]).
    ReplyDue,
}

/// The conversation moves to the inbox with what the agent needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handover {
    pub node: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub priority: Priority,
    pub context: ContextPackage,
}

/// Shown first in the inbox. The transcript, an AI summary and sentiment are added by the
/// server, which holds the conversation's messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextPackage {
    /// Why: the node's reason, or which node was reached.
    pub reason: String,
    /// The nodes that led here, oldest first.
    pub path: Vec<String>,
    /// The variables the node names, typed, with their values (None: never collected).
    pub variables: Vec<ContextVariable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextVariable {
    pub name: String,
    #[serde(rename = "type")]
    pub var_type: VarType,
    pub value: Option<Value>,
}

/// Whether the step changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Applied,
    /// The event does not apply in this state (e.g. a stale timer, text after the end).
    Ignored(&'static str),
}

// ---------------------------------------------------------------------------------------------
// The world the flow reads
// ---------------------------------------------------------------------------------------------

/// The workspace's hand-off settings; a Handover node's own fields override them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffSettings {
    pub confirmation_message: String,
    pub off_hours_message: String,
    pub no_agent_message: String,
    pub stalling_message: String,
    pub cancelled_message: String,
    /// 0: never send the stalling message.
    pub stalling_seconds: u32,
    /// 0: wait forever.
    pub max_wait_seconds: u32,
}

impl Default for HandoffSettings {
    fn default() -> Self {
        HandoffSettings {
            confirmation_message: "Thanks! I'm connecting you to a person from our team. They'll be with you shortly."
                .into(),
            off_hours_message: "Our team is offline right now.".into(),
            no_agent_message: "Nobody from our team is available right now.".into(),
            stalling_message:
                "Everyone on our team is busy right now, but you're still in the queue. Thanks for waiting.".into(),
            cancelled_message: "Okay, I've cancelled your request for a person.".into(),
            stalling_seconds: 120,
            max_wait_seconds: 1800,
        }
    }
}

/// Facts about the world right now, as the flow may read them.
pub trait World {
    fn settings(&self) -> &HandoffSettings;
    /// Hand-off to people is switched on for the workspace.
    fn handoff_enabled(&self) -> bool;
    /// The team (None: the workspace default) is within its business hours.
    fn is_open(&self, team: Option<&str>) -> bool;
    /// An agent of the team (or the named agent) is online.
    fn agents_available(&self, team: Option<&str>, agent: Option<&str>) -> bool;
    /// The workspace's escapes at questions (a person, start over, cancel, corrections).
    fn escapes(&self) -> &EscapeSettings;
    /// Hours a conversation may wait on the customer before it closes as abandoned (0: never).
    fn abandon_after_hours(&self) -> u32;
    /// The reply targets of the team's agents (None: the default queue).
    fn reply_targets(&self, team: Option<&str>) -> ReplyTargets;
    /// The escape the workspace's intent classifier reads in `text` among `categories`
    /// (`crate::escape::classifier_categories`), asked when a text at a question may not be an
    /// answer and no phrase is in it; None: an answer, or no classifier.
    fn escape_intent(&self, text: &str, categories: &[Category]) -> Option<EscapeKind> {
        let _ = (text, categories);
        None
    }
}

/// A [`World`] from plain values, for tests, the CLI and simulations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaticWorld {
    pub settings: HandoffSettings,
    pub handoff_enabled: bool,
    pub open: bool,
    pub agents_online: bool,
    #[serde(default)]
    pub escapes: EscapeSettings,
    #[serde(default = "default_abandon_after_hours")]
    pub abandon_after_hours: u32,
    /// The reply targets of every team.
    #[serde(default)]
    pub reply_targets: ReplyTargets,
    /// Reads escapes the phrases miss (none: phrases only).
    #[serde(skip)]
    pub intent: Option<IntentClassifier>,
}

/// The intent classifier a [`StaticWorld`] reads escapes with: the text and the categories to
/// the category chosen (the offline classifier, in the CLI and the builder's test conversation).
#[derive(Clone)]
pub struct IntentClassifier(pub std::sync::Arc<ChooseCategory>);

/// Reads a text and chooses one of the categories, or none.
pub type ChooseCategory = dyn Fn(&str, &[Category]) -> Option<String> + Send + Sync;

impl std::fmt::Debug for IntentClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntentClassifier")
    }
}

impl PartialEq for IntentClassifier {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A conversation left waiting on the customer for a day closes as abandoned.
pub fn default_abandon_after_hours() -> u32 {
    24
}

/// A quarter of `hours`, in milliseconds: the interval of the quiet check.
fn quarter_ms(hours: u32) -> u64 {
    u64::from(hours) * 3_600_000 / 4
}

impl Default for StaticWorld {
    fn default() -> Self {
        StaticWorld {
            settings: HandoffSettings::default(),
            handoff_enabled: true,
            open: true,
            agents_online: true,
            escapes: EscapeSettings::default(),
            abandon_after_hours: default_abandon_after_hours(),
            reply_targets: ReplyTargets::default(),
            intent: None,
        }
    }
}

impl World for StaticWorld {
    fn settings(&self) -> &HandoffSettings {
        &self.settings
    }
    fn handoff_enabled(&self) -> bool {
        self.handoff_enabled
    }
    fn is_open(&self, _team: Option<&str>) -> bool {
        self.open
    }
    fn agents_available(&self, _team: Option<&str>, _agent: Option<&str>) -> bool {
        self.agents_online
    }
    fn escapes(&self) -> &EscapeSettings {
        &self.escapes
    }
    fn abandon_after_hours(&self) -> u32 {
        self.abandon_after_hours
    }
    fn reply_targets(&self, _team: Option<&str>) -> ReplyTargets {
        self.reply_targets
    }
    fn escape_intent(&self, text: &str, categories: &[Category]) -> Option<EscapeKind> {
        let chosen = (self.intent.as_ref()?.0)(text, categories)?;
        EscapeKind::from_name(&chosen)
    }
}

// ---------------------------------------------------------------------------------------------
// Stepping
// ---------------------------------------------------------------------------------------------

/// Applies one event: returns the new state and what the world must do.
pub fn step(flow: &Flow, state: State, event: &Event, world: &dyn World) -> (State, Vec<Effect>) {
    let mut state = state;
    let mut effects = Vec::new();
    step_in_place(flow, &mut state, event, world, &mut effects);
    (state, effects)
}

/// [`step`] without moving the state, appending effects to `out`: the form servers and
/// benchmarks use.
pub fn step_in_place(
    flow: &Flow,
    state: &mut State,
    event: &Event,
    world: &dyn World,
    out: &mut Vec<Effect>,
) -> Handled {
    let mut m = Machine {
        flow,
        state,
        world,
        out,
        budget: MAX_NODES_PER_EVENT,
    };
    m.handle(event)
}

/// Where a node sends the flow next.
enum Next {
    Port(&'static str),
    /// A port named by the document (an option, branch or category id).
    Named(String),
    /// The node waits (for the customer, an effect result or a person).
    Wait,
    /// The flow ended.
    Stop,
}

struct Machine<'a> {
    flow: &'a Flow,
    state: &'a mut State,
    world: &'a dyn World,
    out: &'a mut Vec<Effect>,
    budget: u32,
}

impl Machine<'_> {
    fn handle(&mut self, event: &Event) -> Handled {
        let handled = self.apply(event);
        if handled == Handled::Applied {
            self.watch_silence(event);
            self.watch_reply(event);
        }
        handled
    }

    /// The silence timers follow the wait for the customer: an answer (or leaving the wait)
    /// stops the question's nudge and `no_reply`, a new wait starts them; the quiet check runs
    /// while the conversation is with the bot and is reset by every answer.
    fn watch_silence(&mut self, event: &Event) {
        let answered = matches!(event, Event::CustomerText { .. } | Event::ButtonPressed { .. });
        let waiting = self.state.status == Status::Bot && self.state.wait == Wait::Customer;
        if let Some(silence) = &self.state.silence {
            if !answered && waiting {
                return self.watch_quiet(answered);
            }
            for t in [silence.nudge, silence.no_reply].into_iter().flatten() {
                self.out.push(Effect::CancelTimer { timer: t });
            }
            self.state.silence = None;
        }
        if waiting {
            if let Some(i) = self.current() {
                if let Some(no_reply) = self.flow.node(i).kind.no_reply() {
                    let minutes = |m: u32| u64::from(m) * 60_000;
                    let nudge = no_reply
                        .nudge_after_minutes
                        .filter(|m| *m < no_reply.after_minutes)
                        .map(|m| self.set_timer(TimerPurpose::Nudge, minutes(m)));
                    let no_reply = Some(self.set_timer(TimerPurpose::NoReply, minutes(no_reply.after_minutes)));
                    self.state.silence = Some(Silence { nudge, no_reply });
                }
            }
        }
        self.watch_quiet(answered);
    }

    /// The quiet check: armed while the bot has the conversation, stopped when a person has it
    /// or it ended; an answer resets the count.
    fn watch_quiet(&mut self, answered: bool) {
        let with_bot = self.state.status == Status::Bot;
        match (&mut self.state.quiet, with_bot) {
            (Some(q), true) => {
                if answered {
                    q.quiet_checks = 0;
                }
            }
            (Some(q), false) => {
                let timer = q.timer;
                self.out.push(Effect::CancelTimer { timer });
                self.state.quiet = None;
            }
            (None, true) => {
                let hours = self.world.abandon_after_hours();
                if hours > 0 {
                    let timer = self.set_timer(TimerPurpose::QuietCheck, quarter_ms(hours));
                    self.state.quiet = Some(QuietWatch { timer, quiet_checks: 0 });
                }
            }
            (None, false) => {}
        }
    }

    /// The reply clock follows the person who owns the conversation: an agent taking it starts
    /// the first-reply target, their reply stops the clock, the customer's next message starts
    /// the next-reply target; it stops when no person owns the conversation.
    fn watch_reply(&mut self, event: &Event) {
        if self.state.status != Status::Assigned {
            self.stop_reply_clock();
            return;
        }
        let target = match event {
            Event::AgentTookOver { team, .. } => {
                let team = team.clone().or_else(|| self.handover_team());
                self.stop_reply_clock();
                self.state.reply = Some(ReplyClock { team, running: None });
                Some(ReplyTarget::FirstReply)
            }
            Event::AgentReplied { .. } => {
                self.stop_running_target();
                if self.state.reply.is_none() {
                    // Replying took a queued conversation: the clock starts stopped.
                    let team = self.handover_team();
                    self.state.reply = Some(ReplyClock { team, running: None });
                }
                None
            }
            Event::CustomerText { .. } | Event::ButtonPressed { .. } => Some(ReplyTarget::NextReply),
            _ => None,
        };
        let Some(target) = target else { return };
        let Some(clock) = &self.state.reply else { return };
        if clock.running.is_some() {
            // The first reply is still due: a customer's message does not move it.
            return;
        }
        let seconds = self.world.reply_targets(clock.team.as_deref()).seconds(target);
        if seconds > 0 {
            let timer = self.set_timer(TimerPurpose::ReplyDue, u64::from(seconds) * 1000);
            if let Some(clock) = &mut self.state.reply {
                clock.running = Some(RunningTarget { timer, target });
            }
        }
    }

    /// The team of the Handover node the flow waits at, if any.
    fn handover_team(&self) -> Option<String> {
        match self.current().map(|i| &self.flow.node(i).kind) {
            Some(NodeKind::Handover(h)) => h.team.clone(),
            _ => None,
        }
    }

    fn stop_running_target(&mut self) {
        if let Some(running) = self.state.reply.as_mut().and_then(|c| c.running.take()) {
            self.out.push(Effect::CancelTimer { timer: running.timer });
        }
    }

    fn stop_reply_clock(&mut self) {
        self.stop_running_target();
        self.state.reply = None;
    }

    /// The reply timer fired: the agent missed the target. With `flow` the conversation leaves
    /// the Handover node through `timeout`; otherwise the server requeues or reassigns it.
    fn reply_due(&mut self, timer: u64) -> Option<Handled> {
        let clock = self.state.reply.as_mut()?;
        let running = clock.running.filter(|r| r.timer == timer)?;
        clock.running = None;
        let team = clock.team.clone();
        if self.state.status != Status::Assigned {
            return Some(Handled::Ignored("no person has the conversation"));
        }
        let agent = match &self.state.wait {
            Wait::Person { agent, .. } => agent.clone().unwrap_or_default(),
            _ => String::new(),
        };
        let mut then = self.world.reply_targets(team.as_deref()).when_missed;
        let at_handover = self
            .current()
            .filter(|i| matches!(self.flow.node(*i).kind, NodeKind::Handover(_)))
            .filter(|_| {
                !matches!(
                    self.state.wait,
                    Wait::Person { barged_in: true, .. } | Wait::Person { escaped: true, .. }
                )
            });
        if then == WhenMissed::Flow && at_handover.is_none() {
            then = WhenMissed::Requeue;
        }
        self.out.push(Effect::ReplyMissed {
            agent,
            team,
            target: running.target,
            then,
        });
        if let (WhenMissed::Flow, Some(i)) = (then, at_handover) {
            self.leave_person();
            self.state.status = Status::Bot;
            self.follow_and_run(i, "timeout");
        }
        Some(Handled::Applied)
    }

    fn set_timer(&mut self, purpose: TimerPurpose, after_ms: u64) -> u64 {
        let timer = self.new_id();
        self.out.push(Effect::SetTimer {
            timer,
            purpose,
            after_ms,
        });
        timer
    }

    /// A silence timer fired: the nudge, `no_reply`, or a quiet check (which may close the
    /// conversation as abandoned).
    fn silence_timer(&mut self, timer: u64) -> Option<Handled> {
        if self.state.quiet.as_ref().is_some_and(|q| q.timer == timer) {
            return Some(self.quiet_check());
        }
        let silence = self.state.silence.clone()?;
        let i = self.current()?;
        if silence.nudge == Some(timer) {
            if let Some(s) = &mut self.state.silence {
                s.nudge = None;
            }
            let text = match self.flow.node(i).kind.no_reply().and_then(|n| n.nudge.as_ref()) {
                Some(t) => self.render(t),
                None => "Are you still there?".to_string(),
            };
            self.send_plain(i, text);
            return Some(Handled::Applied);
        }
        if silence.no_reply == Some(timer) {
            if let Some(t) = silence.nudge {
                self.out.push(Effect::CancelTimer { timer: t });
            }
            self.state.silence = None;
            self.state.pending_text = false;
            self.follow_and_run(i, "no_reply");
            return Some(Handled::Applied);
        }
        None
    }

    fn quiet_check(&mut self) -> Handled {
        let hours = self.world.abandon_after_hours();
        let waiting = self.state.status == Status::Bot && self.state.wait == Wait::Customer;
        let Some(q) = self.state.quiet.as_mut() else {
            return Handled::Ignored("no quiet check is awaited");
        };
        if hours == 0 {
            // Switched off since it was armed: no more checks (an answer arms it again if the
            // workspace switches it back on).
            self.state.quiet = None;
            return Handled::Applied;
        }
        q.quiet_checks = if waiting { q.quiet_checks + 1 } else { 0 };
        if q.quiet_checks < QUIET_CHECKS_TO_ABANDON {
            let timer = self.set_timer(TimerPurpose::QuietCheck, quarter_ms(hours));
            if let Some(q) = self.state.quiet.as_mut() {
                q.timer = timer;
            }
            return Handled::Applied;
        }
        self.state.quiet = None;
        if let Some(NodeKind::End(e)) = self.current().map(|i| &self.flow.node(i).kind) {
            // Left without rating: the conversation ends as its End node says.
            self.end(e.resolve);
            return Handled::Applied;
        }
        if let Some(silence) = self.state.silence.take() {
            for t in [silence.nudge, silence.no_reply].into_iter().flatten() {
                self.out.push(Effect::CancelTimer { timer: t });
            }
        }
        self.state.status = Status::Ended;
        self.state.wait = Wait::Nothing;
        self.state.resolved = true;
        self.out.push(Effect::End {
            resolve: true,
            abandoned: true,
        });
        Handled::Applied
    }

    fn apply(&mut self, event: &Event) -> Handled {
        match event {
            Event::Start {
                variables,
                message,
                event,
                routed,
            } => self.start(variables, message.as_deref(), event.as_deref(), *routed),
            Event::CustomerText { text } => self.customer_text(text),
            Event::ButtonPressed { option } => self.button(option),
            Event::AgentTookOver { agent, .. } => self.took_over(agent),
            Event::AgentReplied { agent } => match self.state.status {
                Status::Queued | Status::Bot => self.took_over(agent),
                Status::Assigned => Handled::Applied,
                _ => Handled::Ignored("the conversation has ended"),
            },
            Event::HandedBack { variables, resume_at } => self.handed_back(variables, resume_at.as_deref()),
            Event::Resolved => self.resolved(),
            Event::CustomerCancelled => self.cancelled(),
            Event::Requeued => self.requeued(),
            Event::WebhookResult { request, result } => self.webhook_result(*request, result),
            Event::AiResult { request, result } => self.ai_result(*request, result),
            Event::TimerFired { timer } => self.timer(*timer),
        }
    }

    // --- events --------------------------------------------------------------------------

    fn start(
        &mut self,
        variables: &BTreeMap<String, Value>,
        message: Option<&str>,
        event: Option<&str>,
        routed: bool,
    ) -> Handled {
        if self.state.status != Status::NotStarted {
            return Handled::Ignored("the conversation has already started");
        }
        let Some(trigger) = self.flow.trigger() else {
            return Handled::Ignored("the flow has no trigger");
        };
        if let NodeKind::Trigger(t) = &self.flow.node(trigger).kind {
            if t.on == TriggerOn::ApiEvent {
                if event != t.event.as_deref() {
                    return Handled::Ignored("the API event is not the trigger's");
                }
            } else if !routed {
                let facts = crate::entry::Facts {
                    vars: variables,
                    message,
                    intent: crate::entry::Intent::NotAsked,
                };
                if let Err(why) = crate::entry::admits(self.flow, &facts) {
                    return Handled::Ignored(why);
                }
            }
        }
        for (k, v) in variables {
            self.set_var(k, v.clone());
        }
        if let Some(text) = message {
            self.set_var("last_message", Value::String(cut(text)));
            self.state.pending_text = true;
        }
        self.state.status = Status::Bot;
        self.run_from(trigger);
        Handled::Applied
    }

    fn customer_text(&mut self, text: &str) -> Handled {
        match self.state.status {
            Status::NotStarted | Status::Ended => return Handled::Ignored("the flow is not running"),
            _ => {}
        }
        let text = cut(text);
        self.set_var("last_message", Value::String(text.clone()));
        self.state.pending_text = true;
        match self.state.status {
            Status::Queued => {
                let Some(i) = self.current() else {
                    return Handled::Applied;
                };
                if let NodeKind::Handover(h) = &self.flow.node(i).kind {
                    let t = matching::normalize(&text);
                    if h.cancel_keywords.iter().any(|k| matching::normalize(k) == t) {
                        return self.cancelled();
                    }
                } else if matches!(self.state.wait, Wait::Person { escaped: true, .. })
                    && crate::escape::detect(&text, self.world.escapes(), &[EscapeKind::Cancel]).is_some()
                {
                    return self.cancelled();
                }
                // The bot stays silent while a person is expected.
                Handled::Applied
            }
            Status::Assigned => Handled::Applied,
            _ => {
                if self.state.wait != Wait::Customer {
                    // Waiting on a webhook or the AI: the text is kept as last_message.
                    return Handled::Applied;
                }
                let Some(i) = self.current() else {
                    return Handled::Ignored("the flow is not at a node");
                };
                self.answer_at(i, &text);
                Handled::Applied
            }
        }
    }

    fn button(&mut self, option: &str) -> Handled {
        if self.state.status != Status::Bot || self.state.wait != Wait::Customer {
            return match self.state.status {
                Status::Queued | Status::Assigned => Handled::Applied,
                _ => Handled::Ignored("no question is waiting for a press"),
            };
        }
        let Some(i) = self.current() else {
            return Handled::Ignored("the flow is not at a node");
        };
        if let NodeKind::Options(o) = &self.flow.node(i).kind {
            if let Some(k) = o.options.iter().position(|c| c.id == option) {
                let label = o.options[k].label.clone();
                self.set_var("last_message", Value::String(label));
                self.state.pending_text = false;
                return self.pick(i, k);
            }
        }
        // A press that is not an option of this node reads as its text.
        self.customer_text(option)
    }

    fn took_over(&mut self, agent: &str) -> Handled {
        match (self.state.status, &self.state.wait) {
            (
                Status::Queued,
                Wait::Person {
                    stalling_timer,
                    max_wait_timer,
                    barged_in,
                    escaped,
                    ..
                },
            ) => {
                let (barged_in, escaped) = (*barged_in, *escaped);
                let timers = [*stalling_timer, *max_wait_timer];
                for t in timers.into_iter().flatten() {
                    self.out.push(Effect::CancelTimer { timer: t });
                }
                self.state.status = Status::Assigned;
                self.state.wait = Wait::Person {
                    stalling_timer: None,
                    max_wait_timer: None,
                    agent: Some(agent.to_string()),
                    barged_in,
                    escaped,
                };
                Handled::Applied
            }
            (Status::Assigned, Wait::Person { barged_in, escaped, .. }) => {
                let (barged_in, escaped) = (*barged_in, *escaped);
                self.state.wait = Wait::Person {
                    stalling_timer: None,
                    max_wait_timer: None,
                    agent: Some(agent.to_string()),
                    barged_in,
                    escaped,
                };
                Handled::Applied
            }
            (Status::Bot, _) => {
                // An agent steps into a bot conversation: the flow pauses where it is.
                self.state.status = Status::Assigned;
                self.state.wait = Wait::Person {
                    stalling_timer: None,
                    max_wait_timer: None,
                    agent: Some(agent.to_string()),
                    barged_in: true,
                    escaped: false,
                };
                Handled::Applied
            }
            _ => Handled::Ignored("the conversation is not waiting for a person"),
        }
    }

    fn handed_back(&mut self, variables: &BTreeMap<String, Value>, resume_at: Option<&str>) -> Handled {
        if !matches!(self.state.status, Status::Queued | Status::Assigned) {
            return Handled::Ignored("no person has the conversation");
        }
        let resume = match resume_at {
            Some(id) => match self.flow.index_of(id) {
                Some(i) => Some(i),
                None => return Handled::Ignored("the node to resume at does not exist"),
            },
            None => None,
        };
        let escaped = matches!(self.state.wait, Wait::Person { escaped: true, .. });
        let barged_in = self.leave_person();
        if escaped && resume.is_none() {
            self.out.push(Effect::HandoverEnded {
                outcome: "handed_back".into(),
            });
        }
        if !variables.is_empty() {
            for (k, v) in variables {
                self.set_var(k, v.clone());
            }
            self.out.push(Effect::SetVariables {
                values: variables.clone(),
            });
        }
        self.state.status = Status::Bot;
        self.state.pending_text = false;
        let Some(at) = self.current() else {
            return Handled::Ignored("the flow is not at a node");
        };
        match resume {
            Some(i) => self.run_from(i),
            None if barged_in => self.run_from(at),
            None => self.follow_and_run(at, "handed_back"),
        }
        Handled::Applied
    }

    fn resolved(&mut self) -> Handled {
        match self.state.status {
            Status::Queued | Status::Assigned => {
                let barged_in = self.leave_person();
                self.state.status = Status::Bot;
                let at = self.current();
                match at {
                    Some(i) if !barged_in && self.flow.target(i, "resolved").is_some() => {
                        self.follow_and_run(i, "resolved")
                    }
                    _ => self.end(true),
                }
                Handled::Applied
            }
            Status::Bot => {
                self.cancel_wait_timers();
                // Waiting for a rating: the End node says whether it is resolved.
                let resolve = match self.current().map(|i| &self.flow.node(i).kind) {
                    Some(NodeKind::End(e)) => e.resolve,
                    _ => true,
                };
                self.end(resolve);
                Handled::Applied
            }
            _ => Handled::Ignored("the conversation has ended"),
        }
    }

    fn cancelled(&mut self) -> Handled {
        if self.state.status != Status::Queued {
            return Handled::Ignored("the conversation is not queued");
        }
        let escaped = matches!(self.state.wait, Wait::Person { escaped: true, .. });
        self.leave_person();
        self.state.status = Status::Bot;
        let text = self.world.settings().cancelled_message.clone();
        let Some(i) = self.current() else {
            return Handled::Applied;
        };
        self.send_plain(i, text);
        if escaped {
            // No Handover node to leave: the question is asked again.
            self.out.push(Effect::HandoverEnded {
                outcome: "cancelled".into(),
            });
            self.run_from(i);
        } else {
            self.follow_and_run(i, "cancelled");
        }
        Handled::Applied
    }

    fn webhook_result(&mut self, request: u64, result: &WebhookOutcome) -> Handled {
        if self.state.wait != (Wait::Webhook { request }) || self.state.status != Status::Bot {
            return Handled::Ignored("no webhook call with this id is awaited");
        }
        let Some(i) = self.current() else {
            return Handled::Ignored("the flow is not at a node");
        };
        let NodeKind::Webhook(w) = &self.flow.node(i).kind else {
            return Handled::Ignored("the flow is not at a webhook node");
        };
        self.state.wait = Wait::Nothing;
        let port = match result {
            WebhookOutcome::Response { status, body } if (200..300).contains(status) => {
                let mut values = BTreeMap::new();
                for (var, path) in &w.response_mapping {
                    let found = if path == "status" {
                        Some(Value::from(*status))
                    } else {
                        lookup_path(body, path).cloned()
                    };
                    if let Some(v) = found {
                        values.insert(var.clone(), v);
                    }
                }
                self.store(values);
                "success"
            }
            _ => "failure",
        };
        self.follow_and_run(i, port);
        Handled::Applied
    }

    fn ai_result(&mut self, request: u64, result: &AiOutcome) -> Handled {
        if self.state.wait != (Wait::Ai { request }) || self.state.status != Status::Bot {
            return Handled::Ignored("no AI request with this id is awaited");
        }
        let Some(i) = self.current() else {
            return Handled::Ignored("the flow is not at a node");
        };
        self.state.wait = Wait::Nothing;
        let flow = self.flow;
        let next = match &flow.node(i).kind {
            NodeKind::Options(o) => match result {
                AiOutcome::Category { category: Some(c), .. } => match o.options.iter().position(|x| &x.id == c) {
                    Some(k) => {
                        self.state.pending_text = false;
                        return self.pick(i, k);
                    }
                    None => Next::Port("no_match"),
                },
                _ => Next::Port("no_match"),
            },
            NodeKind::AiAction(a) => self.ai_action_result(a, result),
            NodeKind::AiAnswer(a) => self.ai_answer_result(i, a, result),
            _ => return Handled::Ignored("the flow is not at an AI node"),
        };
        self.continue_with(i, next);
        Handled::Applied
    }

    fn timer(&mut self, timer: u64) -> Handled {
        if let Some(handled) = self.silence_timer(timer) {
            return handled;
        }
        if let Some(handled) = self.reply_due(timer) {
            return handled;
        }
        let Wait::Person {
            stalling_timer,
            max_wait_timer,
            ..
        } = self.state.wait.clone()
        else {
            return Handled::Ignored("no timer is awaited");
        };
        if self.state.status != Status::Queued {
            return Handled::Ignored("the conversation is not queued");
        }
        let Some(i) = self.current() else {
            return Handled::Ignored("the flow is not at a node");
        };
        let handover = match &self.flow.node(i).kind {
            NodeKind::Handover(h) => Some(h),
            _ => None,
        };
        if stalling_timer == Some(timer) {
            if let Wait::Person { stalling_timer, .. } = &mut self.state.wait {
                *stalling_timer = None;
            }
            let text = match handover.and_then(|h| h.stalling_message.as_ref()) {
                Some(t) => self.render(t),
                None => self.world.settings().stalling_message.clone(),
            };
            self.send_plain(i, text);
            Handled::Applied
        } else if max_wait_timer == Some(timer) {
            self.leave_person();
            self.state.status = Status::Bot;
            self.follow_and_run(i, "timeout");
            Handled::Applied
        } else {
            Handled::Ignored("the timer is no longer awaited")
        }
    }

    // --- nodes ---------------------------------------------------------------------------

    /// Runs nodes from `start` until one waits or the flow ends.
    fn run_from(&mut self, start: usize) {
        let mut cur = start;
        loop {
            if self.budget == 0 {
                let id = self.flow.node(cur).id.clone();
                self.out.push(Effect::Error {
                    node: id.clone(),
                    code: "loop_without_wait".into(),
                    message: format!(
                        "The flow ran through {MAX_NODES_PER_EVENT} nodes without waiting for the customer and was stopped at `{id}`."
                    ),
                });
                self.end(false);
                return;
            }
            self.budget -= 1;
            self.visit(cur);
            let next = self.enter(cur);
            match self.resolve_next(cur, next) {
                Some(n) => cur = n,
                None => return,
            }
        }
    }

    fn continue_with(&mut self, at: usize, next: Next) {
        if let Some(n) = self.resolve_next(at, next) {
            self.run_from(n);
        }
    }

    fn follow_and_run(&mut self, at: usize, port: &str) {
        if let Some(n) = self.follow(at, port) {
            self.run_from(n);
        }
    }

    fn resolve_next(&mut self, at: usize, next: Next) -> Option<usize> {
        match next {
            Next::Port(p) => self.follow(at, p),
            Next::Named(p) => self.follow(at, &p),
            Next::Wait | Next::Stop => None,
        }
    }

    /// Leaves `at` through `port`. An unwired port ends the flow (not resolved).
    fn follow(&mut self, at: usize, port: &str) -> Option<usize> {
        let from = &self.flow.node(at).id;
        let target = self.flow.target(at, port);
        self.out.push(Effect::Route {
            from: from.clone(),
            port: port.to_string(),
            to: target.map(|t| self.flow.node(t).id.clone()),
        });
        self.state.attempts = 0;
        self.state.turns = 0;
        if target.is_none() {
            self.end(false);
        }
        target
    }

    fn visit(&mut self, i: usize) {
        let id = &self.flow.node(i).id;
        if self.state.path.len() >= PATH_LENGTH {
            self.state.path.remove(0);
        }
        self.state.path.push(id.clone());
        if self.state.at.as_deref() != Some(id) {
            self.state.at = Some(id.clone());
        }
        self.state.wait = Wait::Nothing;
    }

    fn current(&self) -> Option<usize> {
        self.state.at.as_deref().and_then(|id| self.flow.index_of(id))
    }

    /// Runs a node on arrival.
    fn enter(&mut self, i: usize) -> Next {
        let flow = self.flow;
        let node = flow.node(i);
        match &node.kind {
            NodeKind::Trigger(_) => Next::Port("next"),
            NodeKind::Message(m) => {
                let text = self.render(&m.text);
                let links = m
                    .links
                    .iter()
                    .map(|l| Link {
                        label: self.render(&l.label),
                        url: self.render(&l.url),
                    })
                    .collect();
                let image = m.image.as_ref().map(|img| Image {
                    url: self.render(&img.url),
                    alt: img.alt.clone(),
                });
                self.out.push(Effect::Send(OutMessage {
                    node: node.id.clone(),
                    text,
                    buttons: Vec::new(),
                    image,
                    links,
                    buttons_only: false,
                }));
                Next::Port("next")
            }
            NodeKind::Options(o) => {
                self.state.pending_text = false;
                self.ask_options(i, o, None);
                Next::Wait
            }
            NodeKind::CollectInput(c) => {
                self.state.pending_text = false;
                let text = self.render(&c.text);
                self.send_plain(i, text);
                self.state.wait = Wait::Customer;
                Next::Wait
            }
            NodeKind::Branch(b) => {
                for case in &b.branches {
                    let hits = case.conditions.iter().map(|c| self.condition(c));
                    let ok = match case.match_mode {
                        MatchMode::All => hits.fold(true, |a, b| a & b),
                        MatchMode::Any => hits.fold(false, |a, b| a | b),
                    };
                    if ok && !case.conditions.is_empty() {
                        return Next::Named(case.id.clone());
                    }
                }
                Next::Port("else")
            }
            NodeKind::AiAction(a) => {
                let text = match &a.input {
                    Some(t) => self.render(t),
                    None => self.last_message(),
                };
                self.state.pending_text = false;
                let query = match a.task {
                    AiTask::Classify => AiQuery::Classify {
                        text,
                        categories: a.categories.clone(),
                        threshold: a.threshold,
                    },
                    AiTask::Extract => AiQuery::Extract {
                        text,
                        fields: a.fields.clone(),
                    },
                    AiTask::Summarize => AiQuery::Summarize,
                    AiTask::Sentiment => AiQuery::Sentiment { text },
                    AiTask::Instruction => AiQuery::Instruction {
                        instruction: a.instruction.as_deref().map(|s| self.render(s)).unwrap_or_default(),
                        text,
                    },
                };
                self.ask_ai(i, query);
                Next::Wait
            }
            NodeKind::AiAnswer(a) => {
                if a.answer_last_message && self.state.pending_text {
                    let question = self.last_message();
                    self.ask_answer(i, a, question);
                } else {
                    if let Some(intro) = &a.intro {
                        let text = self.render(intro);
                        if !text.trim().is_empty() {
                            self.send_plain(i, text);
                        }
                    }
                    self.state.wait = Wait::Customer;
                }
                Next::Wait
            }
            NodeKind::Webhook(w) => {
                let request = self.new_id();
                let headers = w.headers.iter().map(|(k, v)| (k.clone(), self.render(v))).collect();
                let body = w.body.as_ref().map(|b| self.render_json(b).to_string());
                self.out.push(Effect::CallWebhook(WebhookCall {
                    request,
                    node: node.id.clone(),
                    method: w.method,
                    url: self.render(&w.url),
                    headers,
                    body,
                    timeout_ms: w.timeout_ms,
                    retries: w.retries,
                }));
                self.state.wait = Wait::Webhook { request };
                Next::Wait
            }
            NodeKind::Handover(h) => self.enter_handover(i, h),
            NodeKind::End(e) => {
                if let Some(m) = &e.message {
                    let text = self.render(m);
                    if !text.trim().is_empty() {
                        self.send_plain(i, text);
                    }
                }
                if let Some(csat) = &e.csat {
                    let question = match &csat.question {
                        Some(q) => self.render(q),
                        None => "How would you rate this conversation?".to_string(),
                    };
                    self.out.push(Effect::Send(OutMessage {
                        node: self.flow.node(i).id.clone(),
                        text: question,
                        buttons: csat
                            .buttons()
                            .into_iter()
                            .map(|(id, label)| Button { id, label })
                            .collect(),
                        image: None,
                        links: Vec::new(),
                        buttons_only: false,
                    }));
                    self.state.wait = Wait::Customer;
                    return Next::Wait;
                }
                self.end(e.resolve);
                Next::Stop
            }
        }
    }

    fn enter_handover(&mut self, i: usize, h: &HandoverNode) -> Next {
        let team = h.team.as_deref();
        let settings = self.world.settings();
        if !self.world.handoff_enabled() || !self.world.is_open(team) {
            let text = match &h.off_hours_message {
                Some(t) => self.render(t),
                None => settings.off_hours_message.clone(),
            };
            self.send_plain(i, text);
            return Next::Port("off_hours");
        }
        if !self.world.agents_available(team, h.agent.as_deref()) {
            let text = match &h.no_agent_message {
                Some(t) => self.render(t),
                None => settings.no_agent_message.clone(),
            };
            self.send_plain(i, text);
            return Next::Port("no_agent");
        }
        let node = &self.flow.node(i).id;
        let confirmation = match &h.message {
            Some(t) => self.render(t),
            None => settings.confirmation_message.clone(),
        };
        self.send_plain(i, confirmation);
        let declared = self.flow.declared_variables();
        let variables = h
            .context_variables()
            .map(|name| ContextVariable {
                name: name.to_string(),
                var_type: declared.get(name).copied().unwrap_or_default(),
                value: self.state.vars.get(name).cloned(),
            })
            .collect();
        let reason = match &h.reason {
            Some(r) => self.render(r),
            None => format!("The flow reached `{node}`."),
        };
        self.hand_over(
            node.clone(),
            h.team.clone(),
            h.agent.clone(),
            h.priority,
            reason,
            variables,
        );
        self.state.pending_text = false;
        self.wait_in_queue(h);
        Next::Wait
    }

    /// Emits the hand-over with its context package (the path and last message added here).
    fn hand_over(
        &mut self,
        node: String,
        team: Option<String>,
        agent: Option<String>,
        priority: Priority,
        reason: String,
        variables: Vec<ContextVariable>,
    ) {
        self.out.push(Effect::HandOver(Handover {
            node,
            team,
            agent,
            priority,
            context: ContextPackage {
                reason,
                path: self.state.path.clone(),
                variables,
                last_message: self.state.vars.get("last_message").map(crate::template::display_value),
            },
        }));
        self.state.handovers += 1;
    }

    /// Queued at a Handover node: the stalling and maximum-wait timers run.
    fn wait_in_queue(&mut self, h: &HandoverNode) {
        let settings = self.world.settings();
        let stalling = h.stalling_seconds.unwrap_or(settings.stalling_seconds);
        let max_wait = h.max_wait_seconds.unwrap_or(settings.max_wait_seconds);
        let stalling_timer = (stalling > 0 && (max_wait == 0 || stalling < max_wait))
            .then(|| self.set_timer(TimerPurpose::Stalling, u64::from(stalling) * 1000));
        let max_wait_timer = (max_wait > 0).then(|| self.set_timer(TimerPurpose::MaxWait, u64::from(max_wait) * 1000));
        self.state.status = Status::Queued;
        self.state.wait = Wait::Person {
            stalling_timer,
            max_wait_timer,
            agent: None,
            barged_in: false,
            escaped: false,
        };
    }

    /// The agent put the conversation back in a queue (a transfer to a team): it waits again,
    /// with its timers, and the customer may cancel.
    fn requeued(&mut self) -> Handled {
        if !matches!(self.state.status, Status::Queued | Status::Assigned) {
            return Handled::Ignored("no person has the conversation");
        }
        let Some(i) = self.current() else {
            return Handled::Ignored("the flow is not at a node");
        };
        let flow = self.flow;
        let NodeKind::Handover(h) = &flow.node(i).kind else {
            // An agent who barged in (or took an escape's hand-over) hands the conversation to a
            // queue: it waits for a person.
            let escaped = matches!(self.state.wait, Wait::Person { escaped: true, .. });
            self.cancel_wait_timers();
            self.state.status = Status::Queued;
            self.state.wait = Wait::Person {
                stalling_timer: None,
                max_wait_timer: None,
                agent: None,
                barged_in: true,
                escaped,
            };
            return Handled::Applied;
        };
        self.cancel_wait_timers();
        self.wait_in_queue(h);
        Handled::Applied
    }

    /// The customer answered the node the flow waits at.
    /// The escapes the question at `i` offers: its own list, or every one the workspace has on.
    fn offered_escapes(&self, i: usize) -> Vec<EscapeKind> {
        let own = match &self.flow.node(i).kind {
            NodeKind::Options(o) => o.escapes.as_deref(),
            NodeKind::CollectInput(c) => c.escapes.as_deref(),
            _ => return Vec::new(),
        };
        let settings = self.world.escapes();
        own.unwrap_or(&EscapeKind::ALL)
            .iter()
            .copied()
            .filter(|k| settings.is_on(*k))
            .collect()
    }

    /// Takes the escape the customer's text asks for at the question `i`, if any (then the
    /// text is not an answer).
    fn escaped_at(&mut self, i: usize, text: &str) -> bool {
        let offered = self.offered_escapes(i);
        if offered.is_empty() {
            return false;
        }
        if let Some(kind) = crate::escape::detect(text, self.world.escapes(), &offered) {
            self.escape(i, kind);
            return true;
        }
        offered.contains(&EscapeKind::Correction) && self.corrected(i, text)
    }

    fn escape(&mut self, i: usize, kind: EscapeKind) {
        let Some(port) = kind.port() else { return };
        self.state.pending_text = false;
        self.state.attempts = 0;
        if self.flow.target(i, port).is_some() {
            self.follow_and_run(i, port);
            return;
        }
        // Unwired: the escape's default.
        self.out.push(Effect::Route {
            from: self.flow.node(i).id.clone(),
            port: port.to_string(),
            to: None,
        });
        let escapes = self.world.escapes();
        match kind {
            EscapeKind::Human => self.escape_to_person(i),
            EscapeKind::StartOver => {
                let text = escapes.start_over_message.clone();
                self.send_plain(i, text);
                self.start_over();
            }
            EscapeKind::Cancel => {
                let text = escapes.cancel_message.clone();
                self.send_plain(i, text);
                self.end(true);
            }
            EscapeKind::Correction => {}
        }
    }

    /// The flow starts again from its trigger; what it collected is forgotten (the contact's
    /// and the conversation's facts stay).
    fn start_over(&mut self) {
        let Some(trigger) = self.flow.trigger() else {
            return self.end(false);
        };
        self.state
            .vars
            .retain(|k, _| k.starts_with("contact.") || k.starts_with("conversation."));
        self.state.attempts = 0;
        self.state.turns = 0;
        self.state.pending_text = false;
        self.run_from(trigger);
    }

    /// A hand-over to the workspace's default queue from a question, when its `escape_human`
    /// port is not wired. Hand-back or a cancel asks the question again; there is no maximum
    /// wait (no `timeout` port to leave through).
    fn escape_to_person(&mut self, i: usize) {
        let settings = self.world.settings();
        if !self.world.handoff_enabled() || !self.world.is_open(None) {
            self.send_plain(i, settings.off_hours_message.clone());
            return self.run_from(i);
        }
        if !self.world.agents_available(None, None) {
            self.send_plain(i, settings.no_agent_message.clone());
            return self.run_from(i);
        }
        self.send_plain(i, settings.confirmation_message.clone());
        let node = self.flow.node(i).id.clone();
        let declared = self.flow.declared_variables();
        let variables = declared
            .iter()
            .filter(|(name, _)| self.state.vars.contains_key(*name))
            .map(|(name, ty)| ContextVariable {
                name: name.clone(),
                var_type: *ty,
                value: self.state.vars.get(name).cloned(),
            })
            .collect();
        let reason = format!("The customer asked for a person at `{node}`.");
        self.hand_over(node, None, None, Priority::Normal, reason, variables);
        let stalling = settings.stalling_seconds;
        let stalling_timer = (stalling > 0).then(|| self.set_timer(TimerPurpose::Stalling, u64::from(stalling) * 1000));
        self.state.status = Status::Queued;
        self.state.wait = Wait::Person {
            stalling_timer,
            max_wait_timer: None,
            agent: None,
            barged_in: true,
            escaped: true,
        };
    }

    /// "Actually my email is …": an earlier question's answer is replaced, and the question at
    /// `i` is asked again (or, when the correction answers it, the flow goes on).
    fn corrected(&mut self, i: usize, text: &str) -> bool {
        let flow = self.flow;
        // The question being asked first, then the earlier ones that have an answer.
        let mut candidates: Vec<(bool, crate::escape::Correctable<'_>)> = flow
            .nodes()
            .iter()
            .enumerate()
            .filter_map(|(k, n)| match &n.kind {
                NodeKind::CollectInput(c) if k == i || self.state.vars.contains_key(&c.variable) => Some((
                    k != i,
                    crate::escape::Correctable {
                        variable: &c.variable,
                        input: c.input,
                        pattern: c.pattern.as_deref().and_then(|p| flow.whole_regex(p)),
                    },
                )),
                _ => None,
            })
            .collect();
        candidates.sort_by_key(|(earlier, _)| *earlier);
        let candidates: Vec<crate::escape::Correctable<'_>> = candidates.into_iter().map(|(_, c)| c).collect();
        let Some((variable, value)) = crate::escape::correction(text, &candidates) else {
            return false;
        };
        self.state.pending_text = false;
        let answers_this = matches!(&flow.node(i).kind, NodeKind::CollectInput(c) if c.variable == variable);
        self.store(BTreeMap::from([(variable.clone(), value)]));
        if answers_this {
            self.follow_and_run(i, "next");
            return true;
        }
        let mut said = BTreeMap::new();
        said.insert("corrected".to_string(), Value::String(variable.replace('_', " ")));
        let template = &self.world.escapes().correction_message;
        let text = crate::template::Template::parse(template)
            .map(|t| t.render(&said))
            .unwrap_or_else(|_| template.clone());
        self.send_plain(i, text);
        self.run_from(i);
        true
    }

    /// The escape the workspace's intent classifier reads in `text`, typed at the question `i`
    /// where it may not be an answer and no phrase is in it (None when the question offers no
    /// such escape, or the world has no classifier).
    fn classified_escape(&self, i: usize, text: &str) -> Option<EscapeKind> {
        if !crate::escape::reads_like_a_request(text) {
            return None;
        }
        let offered = self.offered_escapes(i);
        let categories = crate::escape::classifier_categories(self.world.escapes(), &offered)?;
        self.world
            .escape_intent(text, &categories)
            .filter(|k| offered.contains(k))
    }

    fn answer_at(&mut self, i: usize, text: &str) {
        let flow = self.flow;
        // At an Options question an option comes first (a "Talk to someone" option is the
        // author's way to a person); elsewhere an escape does.
        let options_first = matches!(flow.node(i).kind, NodeKind::Options(_));
        if !options_first && self.escaped_at(i, text) {
            return;
        }
        match &flow.node(i).kind {
            NodeKind::Options(o) => {
                let found = match o.typed_text {
                    TypedTextMode::Reprompt => matching::fuzzy_option(text, &o.options),
                    TypedTextMode::Strict | TypedTextMode::Bail | TypedTextMode::AiClassify => {
                        matching::exact_option(text, &o.options)
                    }
                };
                if let Some(k) = found {
                    self.state.pending_text = false;
                    self.pick(i, k);
                    return;
                }
                if self.escaped_at(i, text) {
                    return;
                }
                // With `ai_classify` the options' classifier reads the text instead.
                if o.typed_text != TypedTextMode::AiClassify {
                    if let Some(kind) = self.classified_escape(i, text) {
                        self.escape(i, kind);
                        return;
                    }
                }
                match o.typed_text {
                    TypedTextMode::Strict => self.ask_options(i, o, Some(&o.reprompt_text)),
                    TypedTextMode::Reprompt => {
                        if self.state.attempts < o.max_reprompts {
                            self.state.attempts += 1;
                            self.ask_options(i, o, Some(&o.reprompt_text));
                        } else {
                            self.follow_and_run(i, "no_match");
                        }
                    }
                    TypedTextMode::Bail => self.follow_and_run(i, "no_match"),
                    TypedTextMode::AiClassify => {
                        let categories = o
                            .options
                            .iter()
                            .map(|c| Category {
                                id: c.id.clone(),
                                description: Some(c.label.clone()),
                                examples: c.synonyms.clone(),
                            })
                            .collect();
                        self.ask_ai(
                            i,
                            AiQuery::Classify {
                                text: text.to_string(),
                                categories,
                                threshold: None,
                            },
                        );
                    }
                }
            }
            NodeKind::CollectInput(c) => {
                let pattern = c.pattern.as_deref().and_then(|p| flow.whole_regex(p));
                let validated = matching::validate_input(c.input, text, pattern);
                // Short free text, a name of more than one word, or an answer that does not
                // validate may be a request: the classifier is asked first.
                let may_be_request = match c.input {
                    InputKind::Text => text.split_whitespace().count() <= MAX_REQUEST_WORDS,
                    InputKind::Name => text.split_whitespace().count() > 1,
                    _ => validated.is_err(),
                };
                if let Some(kind) = may_be_request.then(|| self.classified_escape(i, text)).flatten() {
                    self.escape(i, kind);
                    return;
                }
                match validated {
                    Ok(value) => {
                        self.state.pending_text = false;
                        let mut values = BTreeMap::new();
                        values.insert(c.variable.clone(), value);
                        self.store(values);
                        self.follow_and_run(i, "next");
                    }
                    Err(matching::InvalidInput) => {
                        self.state.attempts += 1;
                        if self.state.attempts >= c.max_attempts {
                            self.follow_and_run(i, "invalid");
                        } else {
                            let text = match &c.error_text {
                                Some(t) => self.render(t),
                                None => default_error_text(c.input).to_string(),
                            };
                            self.send_plain(i, text);
                            self.state.wait = Wait::Customer;
                        }
                    }
                }
            }
            NodeKind::AiAnswer(a) => self.ask_answer(i, a, text.to_string()),
            NodeKind::End(e) => {
                // A score (pressed or typed) is the rating; anything else ends without one.
                self.state.pending_text = false;
                if let Some(csat) = &e.csat {
                    let score = text.trim().parse::<u8>().ok().filter(|s| (1..=csat.scale).contains(s));
                    if let Some(score) = score {
                        self.out.push(Effect::Rated {
                            score,
                            scale: csat.scale,
                        });
                        if let Some(t) = &csat.thanks {
                            let thanks = self.render(t);
                            self.send_plain(i, thanks);
                        }
                    }
                }
                self.end(e.resolve);
            }
            _ => {}
        }
    }

    fn pick(&mut self, i: usize, k: usize) -> Handled {
        let NodeKind::Options(o) = &self.flow.node(i).kind else {
            return Handled::Ignored("the flow is not at an options node");
        };
        let choice = &o.options[k];
        if let Some(v) = &o.variable {
            let mut values = BTreeMap::new();
            values.insert(v.clone(), Value::String(choice.label.clone()));
            values.insert(format!("{v}_id"), Value::String(choice.id.clone()));
            self.store(values);
        }
        let port = choice.id.clone();
        self.continue_with(i, Next::Named(port));
        Handled::Applied
    }

    fn ask_options(&mut self, i: usize, o: &OptionsNode, before: Option<&str>) {
        let question = self.render(&o.text);
        let text = match before {
            Some(b) => format!("{}\n{}", self.render(b), question),
            None => question,
        };
        self.out.push(Effect::Send(OutMessage {
            node: self.flow.node(i).id.clone(),
            text,
            buttons: o
                .options
                .iter()
                .map(|c| Button {
                    id: c.id.clone(),
                    label: c.label.clone(),
                })
                .collect(),
            image: None,
            links: Vec::new(),
            buttons_only: o.typed_text == TypedTextMode::Strict,
        }));
        self.state.wait = Wait::Customer;
    }

    fn ask_answer(&mut self, i: usize, a: &AiAnswerNode, question: String) {
        self.state.pending_text = false;
        self.ask_ai(
            i,
            AiQuery::Answer {
                question,
                collections: a.collections.clone(),
                threshold: a.threshold,
            },
        );
    }

    fn ask_ai(&mut self, i: usize, query: AiQuery) {
        let request = self.new_id();
        self.out.push(Effect::AskAi(AiRequest {
            request,
            node: self.flow.node(i).id.clone(),
            query,
        }));
        self.state.wait = Wait::Ai { request };
    }

    fn ai_action_result(&mut self, a: &AiActionNode, result: &AiOutcome) -> Next {
        let mut values = BTreeMap::new();
        let next = match (a.task, result) {
            (_, AiOutcome::Failed { .. }) => return Next::Port("error"),
            (AiTask::Classify, AiOutcome::Category { category, .. }) => {
                let known = category.as_ref().filter(|c| a.categories.iter().any(|x| &x.id == *c));
                if let (Some(v), Some(c)) = (&a.variable, known) {
                    values.insert(v.clone(), Value::String(c.clone()));
                }
                match known {
                    Some(c) => Next::Named(c.clone()),
                    None => Next::Port("unknown"),
                }
            }
            (AiTask::Extract, AiOutcome::Fields { values: found }) => {
                for f in &a.fields {
                    if let Some(v) = found.get(&f.variable) {
                        if !v.is_null() {
                            values.insert(f.variable.clone(), v.clone());
                        }
                    }
                }
                Next::Port("next")
            }
            (AiTask::Summarize | AiTask::Instruction, AiOutcome::Text { text }) => {
                if let Some(v) = &a.variable {
                    values.insert(v.clone(), Value::String(text.clone()));
                }
                Next::Port("next")
            }
            (AiTask::Sentiment, AiOutcome::Sentiment { sentiment, frustrated }) => {
                if let Some(v) = &a.variable {
                    values.insert(v.clone(), Value::String(sentiment.clone()));
                }
                if let Some(v) = &a.frustration_variable {
                    values.insert(v.clone(), Value::Bool(*frustrated));
                }
                Next::Port("next")
            }
            _ => Next::Port("error"),
        };
        self.store(values);
        next
    }

    fn ai_answer_result(&mut self, i: usize, a: &AiAnswerNode, result: &AiOutcome) -> Next {
        let AiOutcome::Answer { text, sources, intent } = result else {
            return Next::Port("unanswered");
        };
        match intent {
            AnswerIntent::Human => Next::Port("human"),
            AnswerIntent::Unanswered => Next::Port("unanswered"),
            AnswerIntent::Resolved => {
                if !text.trim().is_empty() {
                    self.send_plain(i, text.clone());
                }
                Next::Port("resolved")
            }
            AnswerIntent::Answered => {
                self.out.push(Effect::Send(OutMessage {
                    node: self.flow.node(i).id.clone(),
                    text: text.clone(),
                    buttons: Vec::new(),
                    image: None,
                    links: sources
                        .iter()
                        .filter_map(|s| {
                            s.url.as_ref().map(|u| Link {
                                label: s.title.clone(),
                                url: u.clone(),
                            })
                        })
                        .collect(),
                    buttons_only: false,
                }));
                self.state.turns += 1;
                if self.state.turns >= a.max_turns {
                    Next::Port("resolved")
                } else {
                    self.state.wait = Wait::Customer;
                    Next::Wait
                }
            }
        }
    }

    fn condition(&self, c: &Condition) -> bool {
        let value = c.variable.as_deref().and_then(|v| self.state.vars.get(v));
        let expected = || match &c.value {
            Some(Value::String(s)) => self.render(s),
            Some(v) => crate::template::display_value(v),
            None => String::new(),
        };
        crate::condition::holds(self.flow, c, value, &expected, &|team| self.world.is_open(team))
    }

    // --- helpers -------------------------------------------------------------------------

    /// Leaves the person wait: cancels its timers; returns whether it was a barge-in.
    fn leave_person(&mut self) -> bool {
        let barged = matches!(self.state.wait, Wait::Person { barged_in: true, .. });
        self.cancel_wait_timers();
        self.state.wait = Wait::Nothing;
        barged
    }

    fn cancel_wait_timers(&mut self) {
        if let Wait::Person {
            stalling_timer,
            max_wait_timer,
            ..
        } = &self.state.wait
        {
            for t in [*stalling_timer, *max_wait_timer].into_iter().flatten() {
                self.out.push(Effect::CancelTimer { timer: t });
            }
        }
    }

    fn end(&mut self, resolve: bool) {
        self.state.status = Status::Ended;
        self.state.wait = Wait::Nothing;
        self.state.resolved = resolve;
        self.out.push(Effect::End {
            resolve,
            abandoned: false,
        });
    }

    fn new_id(&mut self) -> u64 {
        self.state.next_id += 1;
        self.state.next_id
    }

    fn render(&self, source: &str) -> String {
        self.flow.render(source, &self.state.vars)
    }

    fn render_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.render(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.render_json(v)).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), self.render_json(v))).collect()),
            other => other.clone(),
        }
    }

    fn last_message(&self) -> String {
        self.state
            .vars
            .get("last_message")
            .map(crate::template::display_value)
            .unwrap_or_default()
    }

    fn send_plain(&mut self, i: usize, text: String) {
        if text.trim().is_empty() {
            return;
        }
        self.out.push(Effect::Send(OutMessage {
            node: self.flow.node(i).id.clone(),
            text,
            buttons: Vec::new(),
            image: None,
            links: Vec::new(),
            buttons_only: false,
        }));
    }

    /// Stores values a node produced and reports them.
    fn store(&mut self, values: BTreeMap<String, Value>) {
        if values.is_empty() {
            return;
        }
        for (k, v) in &values {
            self.set_var(k, v.clone());
        }
        self.out.push(Effect::SetVariables { values });
    }

    /// Sets a variable within the limits; names that are not variable paths are dropped.
    fn set_var(&mut self, name: &str, value: Value) {
        if !crate::template::is_valid_path(name) {
            return;
        }
        if !self.state.vars.contains_key(name) && self.state.vars.len() >= MAX_VARIABLES {
            return;
        }
        let value = match value {
            Value::String(s) if s.len() > MAX_VALUE_BYTES => {
                let mut at = MAX_VALUE_BYTES;
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                Value::String(s[..at].to_string())
            }
            v @ (Value::Array(_) | Value::Object(_)) if v.to_string().len() > MAX_VALUE_BYTES => Value::Null,
            v => v,
        };
        self.state.vars.insert(name.to_string(), value);
    }
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_INPUT_CHARS).collect()
}

/// Equal ignoring case and surrounding spaces; numbers compare by value ("3" = "3.0").
fn default_error_text(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Email => "That doesn't look like an email address. Could you check it and send it again?",
        InputKind::Phone => {
            "That doesn't look like a phone number. Please send it with digits only, e.g. +1 555 010 9999."
        }
        InputKind::Number => "Please answer with a number.",
        InputKind::Date => "Please give the date as YYYY-MM-DD or DD/MM/YYYY.",
        InputKind::Name => "Please tell me your name using letters only.",
        InputKind::Text | InputKind::Regex => "Sorry, that doesn't look right. Please try again.",
    }
}

/// Reads a dotted path (`order.items.0.sku`) in a JSON value.
pub fn lookup_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = value;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(map) => map.get(seg)?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

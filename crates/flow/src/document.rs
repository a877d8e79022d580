//! The flow document, format 1: the JSON shape that the builder, the API and the CLI all read and
//! write. These types are the single source of the JSON Schema (`baton schema`).
//!
//! Parsing is two-staged so that every problem can be reported at once: [`parse_document`] only
//! fails on what makes the document unreadable (bad JSON, another `format`, a wrong top-level
//! shape); problems inside nodes and edges become [`crate::Diagnostic`]s of [`crate::validate`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The only document format this version reads and writes.
pub const FORMAT: u32 = 1;

/// Largest flow document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;
/// Most nodes in one flow.
pub const MAX_NODES: usize = 2_000;
/// Most buttons on an Options node.
pub const MAX_OPTIONS: usize = 20;

/// A flow document as written by people and tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Baton flow document (format 1)")]
pub struct FlowDocument {
    /// Always `1`.
    pub format: u32,
    /// A name people recognise, e.g. "Refund request".
    pub name: String,
    /// What the flow is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Variables the flow declares up front (webhook mappings may only write declared
    /// variables). Variables stored by Collect Input, Options and AI Actions nodes are declared
    /// by those nodes and need not be listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<VariableDecl>,
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// Scripted tests saved with the flow (see `docs/scripted-tests.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<crate::test_case::TestCase>,
    /// Warnings the flow's authors looked at and marked as intended (see
    /// `docs/validation.md`): still reported, with `accepted: true`, but not counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<AcceptedWarning>,
}

/// A warning marked as intended: every warning with this code at this node (and port, when
/// given) is accepted. Errors cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedWarning {
    /// The finding's code, e.g. `port_unwired`.
    pub code: String,
    /// The node the finding is about; none for findings about the whole flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The port the finding is about, for findings about a port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Why it is intended, for whoever reads the flow next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A declared variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    pub name: String,
    #[serde(default, rename = "type")]
    pub var_type: VarType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The type of a variable's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VarType {
    #[default]
    Text,
    Name,
    Email,
    Phone,
    Number,
    Date,
    Boolean,
}

impl VarType {
    pub fn as_str(self) -> &'static str {
        match self {
            VarType::Text => "text",
            VarType::Name => "name",
            VarType::Email => "email",
            VarType::Phone => "phone",
            VarType::Number => "number",
            VarType::Date => "date",
            VarType::Boolean => "boolean",
        }
    }
}

/// Where a node sits on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// A node: an author-chosen unique `id`, a `type` and that type's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Node {
    /// Unique within the flow; letters, digits, `_` and `-`.
    pub id: String,
    #[serde(flatten)]
    pub kind: NodeKind,
    #[serde(default)]
    pub position: Position,
}

/// Every node type and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    Trigger(TriggerNode),
    Message(MessageNode),
    Options(OptionsNode),
    CollectInput(CollectInputNode),
    Branch(BranchNode),
    AiAction(AiActionNode),
    AiAnswer(AiAnswerNode),
    Webhook(WebhookNode),
    Handover(HandoverNode),
    End(EndNode),
}

/// The node type names, in the order of the product reference.
pub const NODE_TYPES: [&str; 10] = [
    "trigger",
    "message",
    "options",
    "collect_input",
    "branch",
    "ai_action",
    "ai_answer",
    "webhook",
    "handover",
    "end",
];

impl NodeKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Trigger(_) => "trigger",
            NodeKind::Message(_) => "message",
            NodeKind::Options(_) => "options",
            NodeKind::CollectInput(_) => "collect_input",
            NodeKind::Branch(_) => "branch",
            NodeKind::AiAction(_) => "ai_action",
            NodeKind::AiAnswer(_) => "ai_answer",
            NodeKind::Webhook(_) => "webhook",
            NodeKind::Handover(_) => "handover",
            NodeKind::End(_) => "end",
        }
    }

    /// The words the builder shows for a port, and findings use for the path through it: an
    /// option's or a branch's label, else words for the fixed ports (`invalid` is "no valid
    /// answer", `handed_back` "handed back"). `web/src/flow/ports.ts` (`portLabel`) mirrors it.
    pub fn port_label(&self, port: &str) -> String {
        let named = match self {
            NodeKind::Options(o) => o.options.iter().find(|c| c.id == port).map(|c| c.label.clone()),
            NodeKind::Branch(b) => b.branches.iter().find(|c| c.id == port).and_then(|c| c.label.clone()),
            _ => None,
        };
        if let Some(label) = named.filter(|l| !l.trim().is_empty()) {
            return label;
        }
        match port {
            "invalid" => "no valid answer",
            "no_match" => "no match",
            "else" => "otherwise",
            "human" | "escape_human" => "asks for a person",
            "escape_start_over" => "starts over",
            "escape_cancel" => "cancels",
            "no_reply" => "no reply",
            "handed_back" => "handed back",
            "off_hours" => "off hours",
            "no_agent" => "no agent online",
            "timeout" => "wait timed out",
            "cancelled" => "wait cancelled",
            other => other,
        }
        .to_string()
    }

    /// The ports an edge may leave this node through, in display order.
    pub fn ports(&self) -> Vec<String> {
        let fixed = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        match self {
            NodeKind::Trigger(_) | NodeKind::Message(_) => fixed(&["next"]),
            NodeKind::Options(o) => {
                let mut ports: Vec<String> = o.options.iter().map(|c| c.id.clone()).collect();
                ports.push("no_match".into());
                ports.extend(ESCAPE_PORTS.iter().map(|p| p.to_string()));
                ports.extend(o.no_reply.as_ref().map(|_| "no_reply".to_string()));
                ports
            }
            NodeKind::CollectInput(c) => {
                let mut ports: Vec<String> = fixed(&["next", "invalid"]);
                ports.extend(ESCAPE_PORTS.iter().map(|p| p.to_string()));
                ports.extend(c.no_reply.as_ref().map(|_| "no_reply".to_string()));
                ports
            }
            NodeKind::Branch(b) => {
                let mut ports: Vec<String> = b.branches.iter().map(|c| c.id.clone()).collect();
                ports.push("else".into());
                ports
            }
            NodeKind::AiAction(a) => match a.task {
                AiTask::Classify => {
                    let mut ports: Vec<String> = a.categories.iter().map(|c| c.id.clone()).collect();
                    ports.push("unknown".into());
                    ports.push("error".into());
                    ports
                }
                _ => fixed(&["next", "error"]),
            },
            NodeKind::AiAnswer(a) => {
                let mut ports = fixed(&["resolved", "unanswered", "human"]);
                ports.extend(a.no_reply.as_ref().map(|_| "no_reply".to_string()));
                ports
            }
            NodeKind::Webhook(_) => fixed(&["success", "failure"]),
            NodeKind::Handover(_) => fixed(&HANDOVER_PORTS),
            NodeKind::End(_) => Vec::new(),
        }
    }

    /// What the node does when the customer stops answering, for the questions that can say.
    pub fn no_reply(&self) -> Option<&NoReply> {
        match self {
            NodeKind::Options(o) => o.no_reply.as_ref(),
            NodeKind::CollectInput(c) => c.no_reply.as_ref(),
            NodeKind::AiAnswer(a) => a.no_reply.as_ref(),
            _ => None,
        }
    }

    /// Nodes that stop and wait for the customer (or a person) before going on.
    pub fn waits_for_customer(&self) -> bool {
        match self {
            NodeKind::Options(_) | NodeKind::CollectInput(_) | NodeKind::AiAnswer(_) | NodeKind::Handover(_) => true,
            NodeKind::End(e) => e.csat.is_some(),
            _ => false,
        }
    }
}

/// What a question does when the customer stops answering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoReply {
    /// Minutes without an answer before the node leaves through its `no_reply` port.
    pub after_minutes: u32,
    /// Minutes without an answer before the nudge is said (before `after_minutes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nudge_after_minutes: Option<u32>,
    /// The nudge (a template); default "Are you still there?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nudge: Option<String>,
}

/// Most minutes a question waits for `no_reply` (30 days).
pub const MAX_NO_REPLY_MINUTES: u32 = 30 * 24 * 60;

/// An escape a customer can take at a question (see [`crate::escape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscapeKind {
    /// Asks for a person.
    Human,
    /// Starts the flow over.
    StartOver,
    /// Cancels the flow.
    Cancel,
    /// Corrects an earlier answer ("actually my email is …").
    Correction,
}

impl EscapeKind {
    pub const ALL: [EscapeKind; 4] = [
        EscapeKind::Human,
        EscapeKind::StartOver,
        EscapeKind::Cancel,
        EscapeKind::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EscapeKind::Human => "human",
            EscapeKind::StartOver => "start_over",
            EscapeKind::Cancel => "cancel",
            EscapeKind::Correction => "correction",
        }
    }

    /// The escape named `name` (as in a flow document).
    pub fn from_name(name: &str) -> Option<EscapeKind> {
        EscapeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The port a question leaves through for this escape (a correction asks again instead).
    pub fn port(self) -> Option<&'static str> {
        match self {
            EscapeKind::Human => Some("escape_human"),
            EscapeKind::StartOver => Some("escape_start_over"),
            EscapeKind::Cancel => Some("escape_cancel"),
            EscapeKind::Correction => None,
        }
    }
}

/// The escape ports of a question: optional paths (unwired, the escape does its default).
pub const ESCAPE_PORTS: [&str; 3] = ["escape_human", "escape_start_over", "escape_cancel"];

pub const HANDOVER_PORTS: [&str; 6] = [
    "handed_back",
    "resolved",
    "off_hours",
    "no_agent",
    "timeout",
    "cancelled",
];

/// An edge leaves `from` through `port` and goes to `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub from: String,
    pub port: String,
    pub to: String,
}

// ---------------------------------------------------------------------------------------------
// Node settings
// ---------------------------------------------------------------------------------------------

/// Where the flow starts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerNode {
    /// What starts the flow: a new conversation (default), its first message (`keyword`: a
    /// keyword or an intent), or an API event. With several live flows, a new conversation
    /// starts on the first flow, in the workspace's order, whose entry rules all hold.
    #[serde(default)]
    pub on: TriggerOn,
    /// With `on: keyword`: the first customer message contains one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// With `on: keyword`: the first customer message means one of these (example phrases,
    /// judged by the workspace's intent classifier against the intents of every live flow).
    /// A keyword or an intent is enough.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<String>,
    /// Entry rule: the page the widget is on matches one of these URL patterns (`*` matches
    /// any run of characters), e.g. `https://shop.example/orders/*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<String>,
    /// Entry rule: the conversation comes through one of these channels (`widget`, `api`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// Entry rule: every condition holds on the contact (`contact.plan` equals `pro`, …) or the
    /// conversation (`conversation.channel`, `conversation.page_url`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<Condition>,
    /// With `on: api_event`: the event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

impl TriggerNode {
    /// The first message decides whether this flow starts (keywords or intents).
    pub fn needs_message(&self) -> bool {
        self.on == TriggerOn::Keyword
    }

    /// The rules about who the customer is and where they are (page, channel, contact).
    pub fn has_audience(&self) -> bool {
        !self.pages.is_empty() || !self.channels.is_empty() || !self.contact.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerOn {
    #[default]
    ConversationStart,
    Keyword,
    ApiEvent,
}

/// Sends text (a template), optionally an image and quick links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageNode {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub url: String,
    #[serde(default)]
    pub alt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// Asks a question with buttons and stores the pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionsNode {
    /// The question (a template).
    pub text: String,
    /// Up to 20 buttons. Each option's `id` is also the port its edge leaves through.
    pub options: Vec<Choice>,
    /// Where the pick is stored: the option's label (its id goes to `<variable>_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// How typed text (instead of a button press) is handled.
    #[serde(default)]
    pub typed_text: TypedTextMode,
    /// With `reprompt`: how many times the question is asked again before `no_match`.
    #[serde(default = "default_reprompts")]
    pub max_reprompts: u32,
    /// With `reprompt` and `strict`: what is said before asking again.
    #[serde(default = "default_reprompt_text")]
    pub reprompt_text: String,
    /// The escapes this question offers (default: every escape the workspace has on; `[]`:
    /// none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escapes: Option<Vec<EscapeKind>>,
    /// Leave through `no_reply` when the customer does not answer in time (a nudge first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_reply: Option<NoReply>,
}

fn default_reprompts() -> u32 {
    2
}
fn default_reprompt_text() -> String {
    "Sorry, I didn't catch that. Please choose one of the options.".into()
}

/// A button of an Options node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Port name; letters, digits, `_` and `-`.
    pub id: String,
    pub label: String,
    /// Other words a customer may type for this option.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

/// What an Options node does with typed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypedTextMode {
    /// Only a press counts; the widget disables typing.
    Strict,
    /// Fuzzy match on labels and synonyms; re-ask up to `max_reprompts` times, then `no_match`.
    #[default]
    Reprompt,
    /// The AI picks the closest option, else `no_match`.
    AiClassify,
    /// Typed text that is not exactly an option leaves through `no_match` at once.
    Bail,
}

/// Asks for a value, validates it and stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectInputNode {
    /// The question (a template).
    pub text: String,
    /// Where the answer is stored.
    pub variable: String,
    /// How the answer is checked.
    #[serde(default)]
    pub input: InputKind,
    /// With `input: regex`: the pattern the whole answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Said when the answer does not validate (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
    /// How many answers are tried before leaving through `invalid`.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// The escapes this question offers (default: every escape the workspace has on; `[]`:
    /// none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escapes: Option<Vec<EscapeKind>>,
    /// Leave through `no_reply` when the customer does not answer in time (a nudge first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_reply: Option<NoReply>,
}

fn default_attempts() -> u32 {
    3
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    #[default]
    Text,
    Name,
    Email,
    Phone,
    Number,
    Date,
    Regex,
}

impl InputKind {
    pub fn var_type(self) -> VarType {
        match self {
            InputKind::Text | InputKind::Regex => VarType::Text,
            InputKind::Name => VarType::Name,
            InputKind::Email => VarType::Email,
            InputKind::Phone => VarType::Phone,
            InputKind::Number => VarType::Number,
            InputKind::Date => VarType::Date,
        }
    }
}

/// Ordered conditions; the first branch whose conditions hold wins, else `else`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchNode {
    pub branches: Vec<BranchCase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchCase {
    /// Port name.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `all` (default) or `any` of the conditions.
    #[serde(default, rename = "match")]
    pub match_mode: MatchMode,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    #[default]
    All,
    Any,
}

/// One test on a variable (or `last_message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The variable tested, e.g. `order_total`, `contact.plan` or `last_message`. Not used by
    /// `business_hours_open`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    pub op: ConditionOp,
    /// The value compared with (a template for text). A list for `in_list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// With `business_hours_open`: the team whose hours count (default: the workspace's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    Equals,
    NotEquals,
    Contains,
    Matches,
    IsSet,
    IsNotSet,
    GreaterThan,
    LessThan,
    InList,
    BusinessHoursOpen,
}

impl ConditionOp {
    pub fn needs_variable(self) -> bool {
        !matches!(self, ConditionOp::BusinessHoursOpen)
    }
    pub fn needs_value(self) -> bool {
        !matches!(
            self,
            ConditionOp::IsSet | ConditionOp::IsNotSet | ConditionOp::BusinessHoursOpen
        )
    }
}

/// The AI does one task and writes variables. Which fields apply depends on `task`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiActionNode {
    pub task: AiTask,
    /// The text the task works on (a template); default: the customer's last message
    /// (`summarize`: the conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `classify`: the categories, a port each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// `classify`: confidence below which the result is `unknown` (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// `extract`: the fields to pull out, each into its variable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ExtractField>,
    /// `instruction`: what the AI should do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// Where the result goes: the category id, the summary, the sentiment
    /// (`positive`/`neutral`/`negative`) or the instruction's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// `sentiment`: also stores `true`/`false` for frustration here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frustration_variable: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AiTask {
    /// Picks one category (a port each); `unknown` below the threshold.
    Classify,
    /// Pulls typed fields out of the text into variables.
    Extract,
    /// Summarises the conversation so far.
    Summarize,
    /// Detects sentiment and frustration.
    Sentiment,
    /// A free instruction; the result is stored as text.
    Instruction,
}

impl AiTask {
    pub fn as_str(self) -> &'static str {
        match self {
            AiTask::Classify => "classify",
            AiTask::Extract => "extract",
            AiTask::Summarize => "summarize",
            AiTask::Sentiment => "sentiment",
            AiTask::Instruction => "instruction",
        }
    }
}

impl AiActionNode {
    /// The variables this node writes, with their types.
    pub fn outputs(&self) -> Vec<(String, VarType)> {
        let mut out: Vec<(String, VarType)> = Vec::new();
        match self.task {
            AiTask::Extract => {
                for f in &self.fields {
                    out.push((f.variable.clone(), f.kind.var_type()));
                }
            }
            _ => {
                if let Some(v) = &self.variable {
                    out.push((v.clone(), VarType::Text));
                }
                if self.task == AiTask::Sentiment {
                    if let Some(f) = &self.frustration_variable {
                        out.push((f.clone(), VarType::Boolean));
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Port name.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Example phrases for this category.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractField {
    pub variable: String,
    pub kind: ExtractKind,
    /// With `kind: regex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtractKind {
    Email,
    Phone,
    OrderId,
    Name,
    Number,
    Date,
    Text,
    Regex,
}

impl ExtractKind {
    pub fn var_type(self) -> VarType {
        match self {
            ExtractKind::Email => VarType::Email,
            ExtractKind::Phone => VarType::Phone,
            ExtractKind::Name => VarType::Name,
            ExtractKind::Number => VarType::Number,
            ExtractKind::Date => VarType::Date,
            ExtractKind::OrderId | ExtractKind::Text | ExtractKind::Regex => VarType::Text,
        }
    }
}

/// "Let AI Answer": answers from the knowledge base, turn after turn, until an outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiAnswerNode {
    /// Said when the node starts without a question to answer (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    /// Knowledge-base collections to answer from (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<String>,
    /// Answer the customer's last message at once when the node is entered (e.g. after an
    /// Options node in `bail` mode). Default true.
    #[serde(default = "yes")]
    pub answer_last_message: bool,
    /// Confidence below which the node leaves through `unanswered` (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Stops after this many answers and leaves through `resolved`. Default 10.
    #[serde(default = "default_max_turns")]
    pub max_turns: u32,
    /// Leave through `no_reply` when the customer does not write again in time (a nudge first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_reply: Option<NoReply>,
}

fn yes() -> bool {
    true
}
fn default_max_turns() -> u32 {
    10
}

/// "Send to Webhook": an HTTP request whose response fields are mapped into variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookNode {
    #[serde(default)]
    pub method: HttpMethod,
    /// A template, e.g. `https://shop.example/orders/{{ order_id }}`.
    pub url: String,
    /// Header values are templates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body whose string values are templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Response fields mapped into variables: variable name → dotted path in the JSON
    /// response, e.g. `{"order_status": "order.status"}`. `status` is the HTTP status.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_mapping: BTreeMap<String, String>,
    /// Per attempt, in milliseconds. Default 5000, at most 30000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u32,
    /// Retries on network errors and 5xx. Default 2, at most 5.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_timeout_ms() -> u32 {
    5000
}
fn default_retries() -> u32 {
    2
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    #[default]
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// "Human Handover": moves the conversation to the inbox with a context package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverNode {
    /// Team to route to (default: the workspace's default queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// A specific agent to route to: the member's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default)]
    pub priority: Priority,
    /// Why the hand-over happens, shown to the agent (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Variables that go with the conversation in the context package. Validation checks that
    /// every path to the hand-over collects them (`missing_information`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// Variables that also go in the context package, but only some paths collect them on
    /// purpose (the customer gives a name *or* an account id; a customer who cannot give an
    /// email is still handed over): the agent sees them when they were given, and validation
    /// only reports them when no path to the hand-over collects them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_context: Vec<String>,
    /// Told to the customer when queued (default: the workspace's confirmation message).
    /// An empty string says nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Told when handoff is off or the team is closed (default: workspace setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_hours_message: Option<String>,
    /// Told when no agent is online (default: workspace setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_agent_message: Option<String>,
    /// Told after `stalling_seconds` with nobody claiming (default: workspace setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stalling_message: Option<String>,
    /// Seconds before the stalling message (default: workspace setting; 0 = never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stalling_seconds: Option<u32>,
    /// Seconds of queueing with nobody claiming before leaving through `timeout`
    /// (default: workspace setting; 0 = wait forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait_seconds: Option<u32>,
    /// Words that cancel the wait while queued (default: "cancel").
    #[serde(default = "default_cancel_keywords")]
    pub cancel_keywords: Vec<String>,
}

impl HandoverNode {
    /// Every variable of the context package, in order: `context`, then the `optional_context`
    /// variables not already in it.
    pub fn context_variables(&self) -> impl Iterator<Item = &str> {
        let optional = self.optional_context.iter().filter(|name| !self.context.contains(name));
        self.context.iter().chain(optional).map(String::as_str)
    }
}

fn default_cancel_keywords() -> Vec<String> {
    vec!["cancel".into()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// Ends the flow.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndNode {
    /// Said before ending (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Mark the conversation resolved (default true).
    #[serde(default = "yes")]
    pub resolve: bool,
    /// Ask the customer for a rating (CSAT) before ending: the answer is the conversation's
    /// rating, reported per flow and per agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<Csat>,
}

/// The rating question of an End node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Csat {
    /// The question (a template); default "How would you rate this conversation?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// `5` (1 to 5, the default) or `2` (bad / good).
    #[serde(default = "default_csat_scale")]
    pub scale: u8,
    /// Said after a rating (a template); none: nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thanks: Option<String>,
}

fn default_csat_scale() -> u8 {
    5
}

impl Csat {
    /// The buttons of the rating: their ids are the scores.
    pub fn buttons(&self) -> Vec<(String, String)> {
        match self.scale {
            2 => vec![("1".into(), "👎 Bad".into()), ("2".into(), "👍 Good".into())],
            _ => (1..=5).map(|n| (n.to_string(), "★".repeat(n))).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// What makes a document unreadable as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    #[error("the document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")]
    TooLarge { size: usize },
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("`format` is {found}; this version of Baton reads format {FORMAT}")]
    UnsupportedFormat { found: String },
    #[error("{field}: {message}")]
    Shape { field: String, message: String },
}

impl DocumentError {
    pub fn code(&self) -> &'static str {
        match self {
            DocumentError::TooLarge { .. } => "document_too_large",
            DocumentError::Json(_) => "invalid_json",
            DocumentError::UnsupportedFormat { .. } => "unsupported_format",
            DocumentError::Shape { .. } => "invalid_document",
        }
    }
}

/// A document read loosely: the top level is checked, each node and edge is kept as raw JSON so
/// that [`crate::validate::check`] can report every bad node at once.
#[derive(Debug, Clone)]
pub struct RawDocument {
    pub name: String,
    pub description: Option<String>,
    pub variables: Vec<VariableDecl>,
    pub nodes: Vec<Value>,
    pub edges: Vec<Value>,
    pub tests: Vec<Value>,
    pub accepted: Vec<AcceptedWarning>,
}

/// Reads a flow document's top level. Fails only when the document as a whole is unusable.
pub fn parse_document(text: &str) -> Result<RawDocument, DocumentError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge { size: text.len() });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| DocumentError::Json(e.to_string()))?;
    raw_from_value(value)
}

/// Like [`parse_document`], from already-parsed JSON.
pub fn raw_from_value(value: Value) -> Result<RawDocument, DocumentError> {
    let shape = |field: &str, message: &str| DocumentError::Shape {
        field: field.into(),
        message: message.into(),
    };
    let Value::Object(mut top) = value else {
        return Err(shape("(document)", "a flow document is a JSON object"));
    };
    match top.get("format") {
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(FORMAT)) => {}
        Some(other) => {
            return Err(DocumentError::UnsupportedFormat {
                found: other.to_string(),
            })
        }
        None => return Err(shape("format", "missing; write \"format\": 1")),
    }
    let name = match top.remove("name") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(shape("name", "must be text")),
        None => return Err(shape("name", "missing; every flow has a name")),
    };
    let description = match top.remove("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(shape("description", "must be text")),
    };
    let variables = match top.remove("variables") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v).map_err(|e| shape("variables", &e.to_string()))?,
    };
    let accepted = match top.remove("accepted") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v).map_err(|e| shape("accepted", &e.to_string()))?,
    };
    let mut list = |key: &str, required: bool| -> Result<Vec<Value>, DocumentError> {
        match top.remove(key) {
            Some(Value::Array(items)) => Ok(items),
            None if !required => Ok(Vec::new()),
            None => Err(shape(key, "missing; it is a list")),
            Some(_) => Err(shape(key, "must be a list")),
        }
    };
    let nodes = list("nodes", true)?;
    let edges = list("edges", false)?;
    let tests = list("tests", false)?;
    if nodes.len() > MAX_NODES {
        return Err(shape(
            "nodes",
            &format!("{} nodes; the limit is {MAX_NODES}", nodes.len()),
        ));
    }
    top.remove("format");
    if let Some(key) = top.keys().next() {
        return Err(shape(
            key,
            "unknown field; a flow has format, name, description, variables, nodes, edges, tests and accepted",
        ));
    }
    Ok(RawDocument {
        name,
        description,
        variables,
        nodes,
        edges,
        tests,
        accepted,
    })
}

/// Parses one node's JSON. The error names the field when serde can.
pub fn parse_node(value: &Value) -> Result<Node, String> {
    let Value::Object(map) = value else {
        return Err("a node is a JSON object with id and type".into());
    };
    match map.get("id") {
        Some(Value::String(_)) => {}
        Some(_) => return Err("`id` must be text".into()),
        None => return Err("missing `id`".into()),
    }
    match map.get("type") {
        Some(Value::String(t)) if NODE_TYPES.contains(&t.as_str()) => {}
        Some(Value::String(t)) => {
            return Err(format!(
                "unknown node type `{t}`; the types are {}",
                NODE_TYPES.join(", ")
            ))
        }
        Some(_) => return Err("`type` must be text".into()),
        None => return Err("missing `type`".into()),
    }
    // Settings are checked without `id` and `position` so that unknown fields are reported.
    let mut settings = map.clone();
    let id = settings.remove("id").and_then(|v| v.as_str().map(str::to_owned));
    let position = match settings.remove("position") {
        None | Some(Value::Null) => Position::default(),
        Some(p) => serde_json::from_value(p).map_err(|e| format!("`position`: {e}"))?,
    };
    let kind: NodeKind = serde_json::from_value(Value::Object(settings)).map_err(|e| e.to_string())?;
    Ok(Node {
        id: id.unwrap_or_default(),
        kind,
        position,
    })
}

/// Parses one edge's JSON.
pub fn parse_edge(value: &Value) -> Result<Edge, String> {
    serde_json::from_value(value.clone()).map_err(|e| e.to_string())
}

//! The scripted-test format: conversations written down with what the flow must answer, kept
//! with the flow (its `tests`) or in a tests file. `script.rs` runs them; the format is
//! documented in `docs/scripted-tests.md`.

use crate::ai::AiOutcome;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One scripted conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    #[serde(default, skip_serializing_if = "Setup::is_default")]
    pub setup: Setup,
    #[serde(default, skip_serializing_if = "Fixtures::is_empty")]
    pub fixtures: Fixtures,
    pub steps: Vec<TestStep>,
}

/// How the world looks when the conversation starts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Contact and conversation facts, e.g. `{"contact.name": "Ana"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Value>,
    /// The customer's first message, sent with the start (keyword triggers read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_message: Option<String>,
    /// Team within business hours (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// An agent is online (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents_online: Option<bool>,
    /// Hand-off switched on for the workspace (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_enabled: Option<bool>,
    /// The agents' reply targets (every team); none: the workspace's when run by the server,
    /// no targets elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_targets: Option<crate::sla::ReplyTargets>,
}

impl Setup {
    fn is_default(&self) -> bool {
        *self == Setup::default()
    }
}

/// Answers for webhook calls and AI requests, by node id, used in order (the last repeats).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub webhooks: BTreeMap<String, Vec<WebhookFixture>>,
    /// Without a fixture, AI nodes get Baton's simple built-in offline answers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ai: BTreeMap<String, Vec<AiOutcome>>,
}

impl Fixtures {
    fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.ai.is_empty()
    }
}

/// A webhook's answer: a response, or a failure (`{"error": "timeout"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum WebhookFixture {
    Response {
        status: u16,
        #[serde(default)]
        body: Value,
    },
    Failure {
        error: String,
    },
}

/// One step of a scripted conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TestStep {
    /// The customer types this.
    Say(String),
    /// The customer presses the button with this option id.
    Press(String),
    /// The next bot message (not yet checked) must match.
    ExpectReply(TextExpect),
    /// No bot message is left unchecked.
    ExpectNoReply,
    /// Variables must have these values (`null`: not set).
    ExpectVariables(BTreeMap<String, Value>),
    /// A hand-over happened since the last one checked.
    ExpectHandover(HandoverExpect),
    /// `bot`, `queued`, `assigned` or `ended`.
    ExpectStatus(String),
    /// The flow is stopped at this node.
    ExpectAt(String),
    /// The flow ended (optionally: resolved or not).
    ExpectEnd(EndExpect),
    /// An agent takes the conversation (the agent's name).
    TakeOver(String),
    /// The agent replies (the bot stays silent).
    AgentReply(String),
    /// The agent hands back to the flow.
    HandBack(HandBack),
    /// The agent resolves the conversation.
    Resolve,
    /// The customer cancels the wait for a person.
    Cancel,
    /// The clock moves on: `30s`, `10m`, `2h`, `1h30m`.
    Advance(String),
    /// Changes the world from now on.
    Set(WorldChange),
}

/// An expected bot message: the exact text, or a detailed check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TextExpect {
    Exact(String),
    Detailed(TextCheck),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The button labels, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverExpect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Variables that must be in the context package with a value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// Exact values in the context package.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndExpect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandBack {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorldChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents_online: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_enabled: Option<bool>,
}

/// A file of tests kept beside a flow: `{"format": 1, "tests": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    pub format: u32,
    pub tests: Vec<TestCase>,
}

//! What the AI answers a flow: the outcome of an AI request (`ai_action`, `ai_answer`). Plain
//! data, so scripted tests can name it as a fixture.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AiOutcome {
    /// A classification: `category` is None when nothing is close enough.
    Category {
        category: Option<String>,
        #[serde(default)]
        confidence: f64,
    },
    Fields {
        values: BTreeMap<String, Value>,
    },
    Text {
        text: String,
    },
    Sentiment {
        sentiment: String,
        #[serde(default)]
        frustrated: bool,
    },
    Answer {
        #[serde(default)]
        text: String,
        #[serde(default)]
        sources: Vec<Source>,
        intent: AnswerIntent,
    },
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerIntent {
    /// An answer was found; the conversation goes on.
    Answered,
    /// Nothing confident enough was found.
    Unanswered,
    /// The customer asked for a person.
    Human,
    /// The customer said it is solved.
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

//! Baton's AI: the knowledge base, the offline provider (no network, deterministic) and a
//! provider for any OpenAI-compatible endpoint.
//!
//! The flow core asks for AI with an [`AiRequest`] (an `AskAi` effect) and takes an
//! [`AiOutcome`] back. A provider answers it with an [`AiContext`]: the conversation's transcript,
//! its variables and a handle to the workspace's [`Knowledge`] base.
//!
//! ```no_run
//! # async fn demo() {
//! use baton_ai::{AiContext, AiProvider, Article, Knowledge, KnowledgeBase, OfflineProvider};
//! let mut kb = KnowledgeBase::new();
//! kb.upsert(Article {
//!     id: "shipping".into(),
//!     collection: "help".into(),
//!     title: "Shipping".into(),
//!     url: None,
//!     markdown: "Standard shipping costs $8.".into(),
//! })
//! .ok();
//! let context = AiContext::default().with_knowledge(Knowledge::new(kb));
//! let provider = OfflineProvider::new();
//! # let request = baton_flow::runtime::AiRequest { request: 1, node: "faq".into(), query: baton_flow::runtime::AiQuery::Summarize };
//! let outcome = provider.run(&request, &context).await;
//! # }
//! ```

pub mod answer;
#[cfg(feature = "embeddings")]
pub mod bert;
pub mod classify;
pub mod embed;
mod error;
pub mod eval;
pub mod extract;
#[cfg(feature = "generation")]
pub mod generate;
pub mod import;
pub mod intent;
pub mod kb;
#[cfg(feature = "generation")]
pub mod local;
pub mod markdown;
pub mod offline;
pub mod openai;
pub mod prompt;
#[cfg(feature = "generation")]
mod qwen2;
pub mod sentiment;
pub mod summary;
pub mod text;

pub use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest, AnswerIntent, Source};
pub use embed::Embedder;
pub use error::AiError;
pub use kb::{Article, Knowledge, KnowledgeBase, Passage, Query};
pub use offline::{OfflineOptions, OfflineProvider};
pub use openai::{OpenAiCompatible, OpenAiConfig};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Who said a line of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    /// The flow or the AI.
    Bot,
    /// A person in the inbox.
    Agent,
}

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub text: String,
}

impl Turn {
    pub fn customer(text: impl Into<String>) -> Turn {
        Turn {
            role: Role::Customer,
            text: text.into(),
        }
    }

    pub fn bot(text: impl Into<String>) -> Turn {
        Turn {
            role: Role::Bot,
            text: text.into(),
        }
    }
}

/// What a provider may know about the conversation besides the request.
#[derive(Debug, Clone, Default)]
pub struct AiContext {
    /// The conversation so far, oldest first (the current message included or not: both work).
    pub transcript: Vec<Turn>,
    /// The flow's variables (collected facts, shown in summaries).
    pub variables: BTreeMap<String, Value>,
    /// The workspace's knowledge base, for Let AI Answer.
    pub knowledge: Option<Knowledge>,
    /// Today's date, `YYYY-MM-DD`, for "tomorrow" and dates without a year.
    pub today: Option<String>,
}

impl AiContext {
    pub fn with_transcript(mut self, transcript: Vec<Turn>) -> AiContext {
        self.transcript = transcript;
        self
    }

    pub fn with_knowledge(mut self, knowledge: Knowledge) -> AiContext {
        self.knowledge = Some(knowledge);
        self
    }

    pub fn with_variables(mut self, variables: BTreeMap<String, Value>) -> AiContext {
        self.variables = variables;
        self
    }

    pub fn with_today(mut self, today: impl Into<String>) -> AiContext {
        self.today = Some(today.into());
        self
    }

    /// The transcript of a simulated conversation (events are left out).
    pub fn from_sim_lines(lines: &[baton_flow::sim::Line]) -> AiContext {
        use baton_flow::sim::Speaker;
        let transcript = lines
            .iter()
            .filter_map(|l| {
                let role = match l.speaker {
                    Speaker::Customer => Role::Customer,
                    Speaker::Bot => Role::Bot,
                    Speaker::Agent => Role::Agent,
                    Speaker::Event => return None,
                };
                Some(Turn {
                    role,
                    text: l.text.clone(),
                })
            })
            .collect();
        AiContext {
            transcript,
            ..AiContext::default()
        }
    }
}

/// Answers the flow's AI requests. Never fails: problems come back as
/// `AiOutcome::Failed { reason }` (or, for Let AI Answer, an `unanswered` answer).
#[async_trait::async_trait]
pub trait AiProvider: Send + Sync {
    /// A short name for logs and the timeline ("offline", "openai:gpt-4o-mini").
    fn name(&self) -> String;

    async fn run(&self, request: &AiRequest, context: &AiContext) -> AiOutcome;

    /// Like [`AiProvider::run`], telling the text of an answer as it is produced (a provider
    /// that cannot stream tells it whole, once). `on_text` gets deltas to append.
    async fn run_streaming(
        &self,
        request: &AiRequest,
        context: &AiContext,
        on_text: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> AiOutcome {
        let outcome = self.run(request, context).await;
        tell_answer(&outcome, on_text);
        outcome
    }
}

/// Tells an answer's whole text at once (a provider that cannot stream it).
pub(crate) fn tell_answer(outcome: &AiOutcome, on_text: &mut (dyn for<'s> FnMut(&'s str) + Send)) {
    if let AiOutcome::Answer {
        text,
        intent: AnswerIntent::Answered,
        ..
    } = outcome
    {
        on_text(text);
    }
}

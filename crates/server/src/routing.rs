//! Entry routing on the server: the workspace's live flows in order, loaded, routed by
//! `baton_flow::entry`, with the workspace's classifier asked when an intent rule needs it.

use crate::engine::{Core, Routed, TurnError};
use baton_flow::entry::{self, Candidate, Decision, Facts, Intent, Matched, RoutingFinding};
use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest, State, Status};
use baton_flow::Flow;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How long the classifier may take to judge a first message before intent rules count as
/// not matching (the conversation still starts, on the next flow or the fallback).
const CLASSIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a new conversation goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Start(Routed),
    /// A flow that comes first decides on the first message: the conversation waits for it,
    /// on the fallback until then.
    AwaitMessage(Routed),
}

/// The workspace's live flows, in order, each with its published version loaded.
pub struct LiveFlows {
    flows: Vec<(String, i64, Arc<Flow>)>,
    fallback: Option<String>,
}

impl LiveFlows {
    pub async fn load(core: &Core, workspace_id: &str, fallback: Option<String>) -> Result<LiveFlows, TurnError> {
        let live = core
            .routing
            .live_versions(workspace_id)
            .await
            .map_err(|e| TurnError::Store(e.to_string()))?;
        let mut flows = Vec::with_capacity(live.len());
        for (id, version) in live.iter() {
            let flow = core.flows.get(id, *version).await?;
            flows.push((id.clone(), *version, flow));
        }
        Ok(LiveFlows { flows, fallback })
    }

    fn candidates(&self) -> Vec<Candidate<'_>> {
        self.flows.iter().map(|(id, _, flow)| Candidate { id, flow }).collect()
    }

    /// Rules that shadow each other, and a missing fallback.
    pub fn findings(&self) -> Vec<RoutingFinding> {
        entry::findings(&self.candidates(), self.fallback.as_deref())
    }

    /// Routes a new conversation (None: the workspace has no live flow). `vars` are the
    /// conversation's starting variables (`contact.*`, `conversation.*`).
    pub async fn route(
        &self,
        core: &Core,
        workspace_id: &str,
        vars: &BTreeMap<String, Value>,
        message: Option<&str>,
    ) -> Option<Entry> {
        let candidates = self.candidates();
        let fallback = self.fallback.as_deref();
        let mut facts = Facts {
            vars,
            message,
            intent: Intent::NotAsked,
        };
        let mut decision = entry::route(&candidates, fallback, &facts);
        let picked;
        if let (Decision::Classify { intents }, Some(text)) = (&decision, message) {
            picked = classify(core, workspace_id, text, intents.clone()).await;
            facts.intent = Intent::Picked(picked.as_deref());
            decision = entry::route(&candidates, fallback, &facts);
        }
        let routed = |i: usize, by: Matched| {
            let (id, version, _) = &self.flows[i];
            Routed {
                flow_id: id.clone(),
                version: *version,
                by,
            }
        };
        match decision {
            Decision::Start { flow, by } => Some(Entry::Start(routed(flow, by))),
            Decision::AwaitMessage { fallback } => Some(Entry::AwaitMessage(routed(fallback, Matched::Fallback))),
            // Not reached (with a verdict the classifier is not asked again); never silence.
            Decision::Classify { .. } => self.fallback_entry(),
            Decision::NoFlow => None,
        }
    }

    fn fallback_entry(&self) -> Option<Entry> {
        let (id, version, _) = self
            .fallback
            .as_ref()
            .and_then(|f| self.flows.iter().find(|(id, _, _)| id == f))
            .or(self.flows.first())?;
        Some(Entry::Start(Routed {
            flow_id: id.clone(),
            version: *version,
            by: Matched::Fallback,
        }))
    }
}

/// The flow whose intent the message means, by the workspace's classifier; None when none is
/// close enough, or the classifier failed or took too long (logged).
async fn classify(
    core: &Core,
    workspace_id: &str,
    text: &str,
    intents: Vec<baton_flow::document::Category>,
) -> Option<String> {
    let request = AiRequest {
        request: 0,
        node: "entry".into(),
        query: AiQuery::Classify {
            text: text.to_string(),
            categories: intents,
            threshold: None,
        },
    };
    let context = baton_ai::AiContext::default();
    let mut ignore_text = |_: &str| {};
    let asked = core.ai.run(workspace_id, &request, &context, &mut ignore_text);
    match tokio::time::timeout(CLASSIFY_TIMEOUT, asked).await {
        Ok((_, AiOutcome::Category { category, .. })) => category,
        Ok((provider, outcome)) => {
            tracing::warn!(
                workspace_id,
                provider,
                ?outcome,
                "entry routing: the classifier gave no category"
            );
            None
        }
        Err(_) => {
            tracing::warn!(workspace_id, "entry routing: the classifier took too long");
            None
        }
    }
}

/// The conversation waits for its first message to choose its flow: its flow has not started.
pub fn awaits_first_message(conv: &baton_store::Conversation) -> bool {
    conv.status == baton_store::ConversationStatus::Bot
        && serde_json::from_str::<State>(&conv.state).is_ok_and(|s| s.status == Status::NotStarted)
}

/// The flow the first message of a conversation that waited for it starts (None: it no longer
/// waits, or no live flow is left; the engine then starts the flow it waited on).
pub async fn first_message_entry(core: &Core, conversation_id: &str, text: &str) -> Result<Option<Routed>, TurnError> {
    let store_error = |e: baton_store::StoreError| TurnError::Store(e.to_string());
    let Some(conv) = core.store.conversation(conversation_id).await.map_err(store_error)? else {
        return Ok(None);
    };
    if !awaits_first_message(&conv) {
        return Ok(None);
    }
    let state: State = serde_json::from_str(&conv.state).unwrap_or_default();
    let fallback = core
        .store
        .workspace(&conv.workspace_id)
        .await
        .map_err(store_error)?
        .and_then(|w| w.fallback_flow_id);
    let live = LiveFlows::load(core, &conv.workspace_id, fallback).await?;
    Ok(
        match live.route(core, &conv.workspace_id, &state.vars, Some(text)).await {
            Some(Entry::Start(routed)) | Some(Entry::AwaitMessage(routed)) => Some(routed),
            None => None,
        },
    )
}

//! A turn's input dispatched: the conversation read (and locked), a customer's retry answered
//! with the replies of the first time, and everything else handed to a [`Turn`].

use super::caches::{Kept, Written};
use super::error::JobError;
use super::publish::Applied;
use super::turn::Turn;
use super::{AgentAction, Core, CustomerContent, Routed, StartConversation, TurnError, TurnInput, TurnOutcome};
use crate::metrics::METRICS;
use baton_flow::entry::{self, Matched};
use baton_flow::handover::Action;
use baton_flow::runtime::{AiOutcome, Event, Status};
use baton_store::{Contact, Conversation, ConversationStatus, Message, MessagePayload, Role, Tx};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Most messages a customer may read back in one retry answer.
const REPLAY_LIMIT: i64 = 50;

/// Conversations of a batch read (and locked) ahead, by id ([`super::writer`]).
pub(super) type LockedAhead = HashMap<String, baton_store::Locked>;

/// Applies one turn inside the batch's transaction (`locked`: its conversation may have been
/// read ahead).
pub(super) async fn apply(
    core: &Core,
    tx: &mut Tx,
    input: &TurnInput,
    locked: &mut LockedAhead,
) -> Result<Applied, JobError> {
    let now = core.clock.now_ms();
    match input {
        TurnInput::Start(start) => apply_start(core, tx, start, now).await,
        TurnInput::Customer {
            conversation_id,
            client_id,
            content,
            entry,
        } => {
            let (conv, kept, retry) = lock(core, tx, locked, conversation_id, client_id.as_deref()).await?;
            if let (true, Some(client_id)) = (retry, client_id) {
                if let Some(first) = tx.message_by_client_id(conversation_id, client_id).await? {
                    METRICS
                        .duplicate_messages
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // Exactly the replies of the first time: the messages its turn wrote.
                    let turn_end = first.payload.as_ref().and_then(|p| p.turn_end).unwrap_or(first.seq);
                    let replies = tx
                        .messages_after(conversation_id, first.seq, REPLAY_LIMIT)
                        .await?
                        .into_iter()
                        .take_while(|m| m.seq <= turn_end)
                        .filter(|m| m.role.says_to_customer())
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
                CustomerContent::Button(option) => Some(MessagePayload {
                    button: Some(option.clone()),
                    ..MessagePayload::default()
                }),
                CustomerContent::Text(_) => None,
            };
            turn.message(tx, Role::Customer, &text, payload, client_id.clone(), None)
                .await?;
            if turn.state.status == Status::NotStarted {
                // The first message of a conversation that waited for it: entry routing decided
                // (or the flow it waited on, its fallback, starts).
                let routed = entry.clone().unwrap_or_else(|| Routed {
                    flow_id: turn.conv.flow_id.clone(),
                    version: turn.conv.flow_version,
                    by: Matched::Fallback,
                });
                start_routed(core, tx, &mut turn, &routed, &text).await?;
            } else {
                turn.step(core, tx, &event).await?;
            }
            turn.finish(core, tx).await
        }
        TurnInput::EffectResult {
            conversation_id,
            outbox_id,
            event,
            attempts,
        } => {
            let (conv, kept, _) = lock(core, tx, locked, conversation_id, None).await?;
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
                turn.timeline("ai_failed", None, json!({ "reason": reason }));
            }
            turn.step(core, tx, event).await?;
            turn.finish(core, tx).await
        }
        TurnInput::Timer {
            conversation_id,
            timer_id,
        } => {
            let (conv, kept, _) = lock(core, tx, locked, conversation_id, None).await?;
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
            let (conv, kept, _) = lock(core, tx, locked, conversation_id, None).await?;
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
            let (conv, kept, _) = lock(core, tx, locked, conversation_id, None).await?;
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            turn.check(&Action::CustomerCancel)?;
            turn.step(core, tx, &Event::CustomerCancelled).await?;
            turn.finish(core, tx).await
        }
        TurnInput::Agent {
            conversation_id,
            member,
            action,
        } => {
            let (conv, kept, _) = lock(core, tx, locked, conversation_id, None).await?;
            if member.workspace_id != conv.workspace_id {
                return Err(TurnError::not_found("conversation").into());
            }
            let mut turn = Turn::begin(core, tx, conv, kept, now).await?;
            if let AgentAction::Claim = action {
                // Several agents claim at once and all but one are refused: a refusal changes
                // nothing, so what the writer kept stays good for the conversation's next turn.
                let claim = Action::Claim {
                    agent: member.id.clone(),
                };
                if let Err(refusal) = turn.check(&claim) {
                    turn.keep_unchanged(core);
                    return Err(refusal.into());
                }
            }
            turn.agent(core, tx, member, action).await?;
            let mut applied = turn.finish(core, tx).await?;
            let c = &applied.outcome.conversation;
            applied.outcome.inbox_row = Some(tx.inbox_row(&c.id, &c.contact_id, &member.id).await?);
            Ok(applied)
        }
    }
}

/// The conversation (locked on PostgreSQL), and its state and open hand-over when the writers
/// kept them from the turn before (taken: the turn keeps them again when it finishes); and
/// whether a message with `client_id` is stored already (a customer's retry).
async fn lock(
    core: &Core,
    tx: &mut Tx,
    locked: &mut LockedAhead,
    conversation_id: &str,
    client_id: Option<&str>,
) -> Result<(Conversation, Option<Kept>, bool), JobError> {
    if let Some(ahead) = locked.remove(conversation_id) {
        let kept = core.written.take_if_current(&ahead.conversation);
        return Ok((ahead.conversation, kept, ahead.retry_of.is_some()));
    }
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
        .ok_or_else(|| TurnError::not_found("conversation"))?;
    let kept = core.written.take_if_current(&locked.conversation);
    Ok((locked.conversation, kept, locked.retry_of.is_some()))
}

fn unchanged(conv: Conversation, messages: Vec<Message>, duplicate: bool) -> Applied {
    Applied {
        outcome: TurnOutcome {
            conversation: conv,
            messages,
            duplicate,
            inbox_row: None,
        },
        publish: Vec::new(),
        inbox: Vec::new(),
        outbox: false,
        timer_due: None,
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
        flow_id: start.routed.flow_id.clone(),
        flow_version: start.routed.version,
        token_hash: start.token_hash.clone(),
        channel: start.channel.clone(),
        status: ConversationStatus::Bot,
        state: "{}".into(),
        last_seq: 0,
        created_at: now,
        updated_at: now,
        team: None,
        assignee: None,
        priority: None,
        queued_at: None,
        reply_due_at: None,
    };
    tx.insert_conversation(&conv).await?;
    let mut variables = BTreeMap::new();
    let attrs: Map<String, Value> = serde_json::from_str(&contact.attributes).unwrap_or_default();
    for (k, v) in attrs {
        variables.insert(format!("contact.{k}"), v);
    }
    variables.insert("contact.id".into(), Value::String(contact.id.clone()));
    variables.insert("conversation.id".into(), Value::String(conv.id.clone()));
    variables.insert(entry::CHANNEL_VARIABLE.into(), Value::String(conv.channel.clone()));
    if let Some(page) = &start.page_url {
        variables.insert(entry::PAGE_URL_VARIABLE.into(), Value::String(page.clone()));
    }
    let mut turn = Turn::begin(core, tx, conv, None, now).await?;
    let mut started = json!({ "flow_id": start.routed.flow_id, "version": start.routed.version });
    if start.awaiting_message {
        started["awaiting_first_message"] = json!(true);
    } else {
        started["routed_by"] = json!(start.routed.by.as_str());
    }
    turn.timeline("started", None, started);
    if let Some(text) = &start.first_message {
        turn.message(tx, Role::Customer, text, None, None, None).await?;
    }
    if start.awaiting_message {
        // The flow starts with the first message; until then the conversation keeps what it
        // knows (contact, channel, page) for the start.
        turn.state.vars = variables;
    } else {
        let event = Event::Start {
            variables,
            message: start.first_message.clone(),
            event: None,
            routed: true,
        };
        turn.step(core, tx, &event).await?;
    }
    turn.finish(core, tx).await
}

/// Starts the flow entry routing chose for a conversation that waited for its first message.
async fn start_routed(core: &Core, tx: &mut Tx, turn: &mut Turn, routed: &Routed, text: &str) -> Result<(), JobError> {
    if routed.flow_id != turn.conv.flow_id || routed.version != turn.conv.flow_version {
        turn.flow = core.flows.get(&routed.flow_id, routed.version).await?;
        turn.conv.flow_id = routed.flow_id.clone();
        turn.conv.flow_version = routed.version;
        tx.set_conversation_flow(&turn.conv.id, &routed.flow_id, routed.version)
            .await?;
    }
    turn.timeline(
        "routed",
        None,
        json!({ "flow_id": routed.flow_id, "version": routed.version, "routed_by": routed.by.as_str() }),
    );
    let event = Event::Start {
        variables: std::mem::take(&mut turn.state.vars),
        message: Some(text.to_string()),
        event: None,
        routed: true,
    };
    turn.step(core, tx, &event).await
}

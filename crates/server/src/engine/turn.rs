//! One turn of one conversation inside the batch's transaction: the flow runtime stepped, and
//! everything it produced written (messages, outbox items, timers, contact attributes, the
//! timeline and outbound events); hand-over matters go to the lifecycle (`handover.rs`).

use super::caches::{Kept, Written};
use super::error::JobError;
use super::publish::{notifications_of, Applied, InboxItem};
use super::{Core, TurnError, TurnOutcome};
use crate::settings::ServerWorld;
use crate::views::MessageView;
use baton_flow::handover::{self, FlowAction, PhaseKind};
use baton_flow::runtime::{step_in_place, Effect, Event, Handled, State, Status, TimerPurpose};
use baton_flow::Flow;
use baton_store::{
    Conversation, ConversationStatus, Handover, Member, Message, MessagePayload, Role, TimelineNote, Tx,
};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// One turn of one conversation inside the batch's transaction.
pub(super) struct Turn {
    pub conv: Conversation,
    /// The conversation's status when the turn began (an unchanged one is not written again).
    status_before: ConversationStatus,
    pub flow: Arc<Flow>,
    pub state: State,
    pub settings: Arc<crate::settings::WorkspaceSettings>,
    /// The hand-over waiting or in progress, if any (its phase: `Turn::phase`).
    pub open: Option<Handover>,
    pub now: i64,
    outbound: Vec<Message>,
    publish: Vec<Message>,
    inbox: Vec<InboxItem>,
    pub outbox: bool,
    /// The earliest due time of the timers the turn set.
    timer_due: Option<i64>,
    /// The customer's message this turn answers (its payload records the turn's last seq).
    pub inbound: Option<Message>,
    /// The other messages of the turn, stored with the conversation when it finishes.
    to_store: Vec<Message>,
    /// What the turn adds to the timeline, stored with the conversation when it finishes.
    noted: Vec<TimelineNote>,
    /// The member acting in this turn (agent actions).
    pub acting: Option<Member>,
    /// The node an agent's hand-back resumes at, for the hand-over's closing event.
    pub resume_at: Option<String>,
}

impl Turn {
    pub(super) async fn begin(
        core: &Core,
        tx: &mut Tx,
        conv: Conversation,
        kept: Option<Kept>,
        now: i64,
    ) -> Result<Turn, JobError> {
        let flow = core.flows.get(&conv.flow_id, conv.flow_version).await?;
        let settings = core.settings.get(&conv.workspace_id).await?;
        let (state, open) = match kept {
            Some(kept) => kept,
            None => {
                let state: State = if conv.state == "{}" {
                    State::default()
                } else {
                    serde_json::from_str(&conv.state)
                        .map_err(|e| TurnError::Internal(format!("conversation state unreadable: {e}")))?
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
            status_before: conv.status,
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
            timer_due: None,
            inbound: None,
            to_store: Vec::new(),
            noted: Vec::new(),
            acting: None,
            resume_at: None,
        })
    }

    /// A turn that changed nothing (refused before it did anything): what it began with is kept
    /// for the conversation's next turn, as [`Turn::finish`] keeps what it wrote.
    pub(super) fn keep_unchanged(self, core: &Core) {
        core.written.remember(Written {
            conv: self.conv,
            kept: (self.state, self.open),
        });
    }

    pub(super) fn button_label(&self, option: &str) -> Option<String> {
        let node = self.flow.node(self.flow.index_of(self.state.at.as_deref()?)?);
        match &node.kind {
            baton_flow::document::NodeKind::Options(o) => {
                o.options.iter().find(|c| c.id == option).map(|c| c.label.clone())
            }
            _ => None,
        }
    }

    /// Writes a message of the conversation and tells whoever follows it.
    pub(super) async fn message(
        &mut self,
        tx: &mut Tx,
        role: Role,
        text: &str,
        payload: Option<MessagePayload>,
        client_id: Option<String>,
        author: Option<String>,
    ) -> Result<Message, JobError> {
        self.conv.last_seq += 1;
        let m = Message {
            conversation_id: self.conv.id.clone(),
            seq: self.conv.last_seq,
            role,
            text: text.to_string(),
            payload,
            client_id,
            author,
            created_at: self.now,
        };
        if role == Role::Customer {
            // Written when the turn finishes, with the seq of its last reply (for retries).
            self.inbound = Some(m.clone());
        } else {
            self.to_store.push(m.clone());
        }
        if role.says_to_customer() {
            self.outbound.push(m.clone());
        }
        if role != Role::Event {
            self.inbox.push(InboxItem::Message(Box::new(m.clone())));
        }
        if matches!(role, Role::Customer | Role::Bot | Role::Agent) {
            self.emit_with(
                tx,
                "message.created",
                || json!({ "message": MessageView::from_message(&m) }),
            )
            .await?;
        }
        self.publish.push(m.clone());
        Ok(m)
    }

    /// Adds to the conversation's timeline, written when the turn finishes.
    pub(super) fn timeline(&mut self, kind: &str, actor: Option<&str>, data: Value) {
        self.noted.push(TimelineNote {
            kind: kind.to_string(),
            actor: actor.map(str::to_string),
            data: Some(data.to_string()),
            at: self.now,
        });
    }

    /// Queues an outbound event and tells the inbox.
    pub(super) async fn emit(&mut self, tx: &mut Tx, event_type: &str, data: Value) -> Result<(), JobError> {
        self.emit_with(tx, event_type, move || data).await
    }

    /// [`Turn::emit`] with `data` built only when someone hears the event: most workspaces
    /// subscribe to no `message.created`.
    pub(super) async fn emit_with(
        &mut self,
        tx: &mut Tx,
        event_type: &str,
        data: impl FnOnce() -> Value,
    ) -> Result<(), JobError> {
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
    pub(super) async fn replace_summary(
        &mut self,
        tx: &mut Tx,
        handover_id: &str,
        summary: &str,
    ) -> Result<(), JobError> {
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
    pub(super) async fn step(&mut self, core: &Core, tx: &mut Tx, event: &Event) -> Result<(), JobError> {
        let availability = core.availability.get(&self.conv.workspace_id).await?;
        let world = ServerWorld::new(&self.settings, &availability, &core.intent, self.now);
        let mut effects = Vec::new();
        let handled = step_in_place(&self.flow, &mut self.state, event, &world, &mut effects);
        if let Handled::Ignored(why) = handled {
            tracing::debug!(conversation = %self.conv.id, why, "event ignored by the flow");
        }
        let mut auto_assign: Option<Member> = None;
        let mut contact_updates: Map<String, Value> = Map::new();
        for effect in &effects {
            if let Effect::Route { from, port, .. } = effect {
                // An escape taken at a question (the person's is also a hand-over).
                if port.starts_with("escape_") {
                    self.timeline(port, None, json!({ "node": from }));
                }
            }
            if let Effect::End { abandoned: true, .. } = effect {
                let data = json!({ "node": self.state.at });
                self.timeline("abandoned", None, data.clone());
                self.emit(tx, "conversation.abandoned", data).await?;
            }
            if let Some(matter) = handover::from_flow(&self.flow, event, effect) {
                match (matter, effect) {
                    (FlowAction::Open { .. }, Effect::HandOver(h)) => auto_assign = self.queue(core, tx, h).await?,
                    (FlowAction::Close(outcome), _) => self.close(core, tx, outcome).await?,
                    (FlowAction::Unreachable { node, outcome }, _) => self.unreachable(tx, &node, outcome).await?,
                    (FlowAction::ReplyMissed { agent, target, then }, _) => {
                        self.reply_missed(core, tx, &agent, target, then).await?
                    }
                    (FlowAction::Open { .. }, _) => {}
                }
                continue;
            }
            match effect {
                Effect::Send(m) => {
                    let payload = MessagePayload {
                        node: Some(m.node.clone()),
                        buttons: to_values(&m.buttons),
                        links: to_values(&m.links),
                        image: m.image.as_ref().and_then(|i| serde_json::to_value(i).ok()),
                        buttons_only: m.buttons_only,
                        ..MessagePayload::default()
                    };
                    self.message(tx, Role::Bot, &m.text, Some(payload), None, None).await?;
                }
                Effect::CallWebhook(call) => {
                    let payload = serde_json::to_string(call).map_err(|e| TurnError::Internal(e.to_string()))?;
                    tx.insert_outbox(&self.conv.workspace_id, &self.conv.id, "webhook", &payload, self.now)
                        .await?;
                    self.outbox = true;
                }
                Effect::AskAi(req) => {
                    let payload = serde_json::to_string(req).map_err(|e| TurnError::Internal(e.to_string()))?;
                    tx.insert_outbox(&self.conv.workspace_id, &self.conv.id, "ai", &payload, self.now)
                        .await?;
                    self.outbox = true;
                }
                Effect::SetTimer {
                    timer,
                    after_ms,
                    purpose,
                } => {
                    let due = self
                        .now
                        .saturating_add(i64::try_from(*after_ms).unwrap_or(i64::MAX / 2));
                    if *purpose == TimerPurpose::ReplyDue {
                        self.conv.reply_due_at = Some(due);
                    }
                    tx.insert_timer(&self.conv.id, i64::try_from(*timer).unwrap_or(0), due)
                        .await?;
                    self.timer_due = Some(self.timer_due.map_or(due, |d| d.min(due)));
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
                Effect::Error { node, code, message } => {
                    self.message(
                        tx,
                        Role::Event,
                        message,
                        Some(MessagePayload {
                            error: Some(code.clone()),
                            node: Some(node.clone()),
                            ..MessagePayload::default()
                        }),
                        None,
                        None,
                    )
                    .await?;
                }
                Effect::Rated { score, scale } => self.rated(tx, *score, *scale).await?,
                Effect::HandOver(_)
                | Effect::HandoverEnded { .. }
                | Effect::ReplyMissed { .. }
                | Effect::Route { .. }
                | Effect::End { .. } => {}
            }
        }
        if self.state.reply.as_ref().is_none_or(|r| r.running.is_none()) {
            self.conv.reply_due_at = None;
        }
        if !contact_updates.is_empty() {
            if let Some(contact) = tx.contact(&self.conv.contact_id).await? {
                let mut attrs: Map<String, Value> = serde_json::from_str(&contact.attributes).unwrap_or_default();
                attrs.extend(contact_updates);
                tx.update_contact_attributes(&contact.id, &Value::Object(attrs).to_string(), self.now)
                    .await?;
            }
        }
        if let Some(left) = handover::left_behind(&self.phase(), self.state.status) {
            Box::pin(self.lifecycle(core, tx, left, None, None)).await?;
        }
        if let Some(agent) = auto_assign {
            let assign = handover::Action::Assign {
                agent: agent.id.clone(),
            };
            Box::pin(self.lifecycle(core, tx, assign, Some(&agent), None)).await?;
        }
        Ok(())
    }

    /// The customer rated the conversation: stored with the agent who had it last, in the
    /// timeline, and as an event.
    async fn rated(&mut self, tx: &mut Tx, score: u8, scale: u8) -> Result<(), JobError> {
        let agent = tx.last_assignee(&self.conv.id).await?;
        tx.rate(&baton_store::Rating {
            conversation_id: &self.conv.id,
            workspace_id: &self.conv.workspace_id,
            flow_id: &self.conv.flow_id,
            contact_id: &self.conv.contact_id,
            agent_id: agent.as_deref(),
            score: i64::from(score),
            scale: i64::from(scale),
            rated_at: self.now,
        })
        .await?;
        let data = json!({ "score": score, "scale": scale, "agent_id": agent });
        self.timeline("rated", None, data.clone());
        self.emit(tx, "conversation.rated", data).await
    }

    pub(super) async fn finish(mut self, core: &Core, tx: &mut Tx) -> Result<Applied, JobError> {
        self.conv.status = match (self.phase().kind(), self.state.status) {
            (PhaseKind::Assigned, _) => ConversationStatus::Assigned,
            (PhaseKind::Queued, _) | (PhaseKind::Closed, Status::Queued | Status::Assigned) => {
                ConversationStatus::Queued
            }
            (PhaseKind::Closed, Status::Ended) if self.state.resolved => ConversationStatus::Resolved,
            (PhaseKind::Closed, Status::Ended) => ConversationStatus::FollowUp,
            (PhaseKind::Closed, Status::NotStarted | Status::Bot) => ConversationStatus::Bot,
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
            m.payload.get_or_insert_with(MessagePayload::default).turn_end = Some(self.conv.last_seq);
            self.to_store.push(m);
        }
        self.conv.state = serde_json::to_string(&self.state).map_err(|e| TurnError::Internal(e.to_string()))?;
        self.conv.updated_at = self.now;
        // Other instances hear of the turn from the statement that writes it (PostgreSQL).
        let notifications = match core.store.dialect() {
            baton_store::Dialect::Postgres => notifications_of(core, &self.conv, &self.publish, &self.inbox),
            baton_store::Dialect::Sqlite => Vec::new(),
        };
        tx.write_turn(
            &self.conv,
            Some(self.status_before),
            &self.to_store,
            &self.noted,
            &notifications,
        )
        .await?;
        core.written.remember(Written {
            conv: self.conv.clone(),
            kept: (self.state, self.open),
        });
        Ok(Applied {
            outcome: TurnOutcome {
                conversation: self.conv,
                messages: self.outbound,
                duplicate: false,
                inbox_row: None,
            },
            publish: self.publish,
            inbox: self.inbox,
            outbox: self.outbox,
            timer_due: self.timer_due,
        })
    }
}

/// Buttons or links as the JSON the widget reads.
fn to_values<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
    items.iter().filter_map(|i| serde_json::to_value(i).ok()).collect()
}

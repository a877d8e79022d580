//! The hand-over side of a turn: the lifecycle (`baton_flow::handover`) decides, this file
//! records. An agent's action, a customer's cancel or a flow's hand-over matter is stepped
//! through the pure machine first, so a refused action writes nothing; its changes are then
//! written to the hand-over row, the timeline and the outbound events, and fed to the flow
//! runtime as events (`AgentTookOver`, `Requeued`).

use super::error::JobError;
use super::turn::Turn;
use super::{AgentAction, Core, TurnError, SUMMARY_KIND};
use crate::settings::Assignment;
use baton_flow::handover::{self, Action, Change, Outcome, Phase, Refusal};
use baton_flow::runtime::{Event, ReplyTarget, Status, WhenMissed};
use baton_store::{Handover, HandoverStatus, Member, MessagePayload, Role, Tx};
use serde_json::{json, Value};

impl Turn {
    /// The hand-over's phase, as its open row holds it.
    pub(super) fn phase(&self) -> Phase {
        match &self.open {
            None => Phase::Closed,
            Some(h) => match (&h.assignee, h.status) {
                (Some(agent), HandoverStatus::Assigned) => Phase::Assigned {
                    team: h.team.clone(),
                    agent: agent.clone(),
                },
                _ => Phase::Queued { team: h.team.clone() },
            },
        }
    }

    /// Whether the lifecycle accepts `action` now (nothing is written).
    pub(super) fn check(&self, action: &Action) -> Result<(), Refusal> {
        handover::step(&self.phase(), action).map(|_| ())
    }

    /// Steps the lifecycle with `action` and writes its changes. `agent`: the member the action
    /// gives the conversation to (claim, assign, transfer, reply); `by`: who did it, when that
    /// is someone else.
    pub(super) async fn lifecycle(
        &mut self,
        core: &Core,
        tx: &mut Tx,
        action: Action,
        agent: Option<&Member>,
        by: Option<&Member>,
    ) -> Result<(), JobError> {
        let (next, changes) = handover::step(&self.phase(), &action)?;
        for change in changes {
            match change {
                // Opening is written by `queue`, which holds the context package.
                Change::Queued { .. } => {}
                Change::Assigned { agent: id } => {
                    let Some(agent) = agent.filter(|m| m.id == id) else {
                        return Err(TurnError::Internal(format!("no member {id} to assign")).into());
                    };
                    self.assigned(core, tx, agent, next.team(), by).await?;
                }
                Change::Transferred { team, agent: to } => {
                    let actor = self.acting.as_ref().map(|m| m.id.clone());
                    let data = match &to {
                        Some(member) => json!({ "to_member": member, "to_team": team }),
                        None => json!({ "to_team": team }),
                    };
                    self.timeline("transferred", actor.as_deref(), data.clone());
                    self.emit(tx, "conversation.transferred", data).await?;
                }
                Change::Requeued { team } => {
                    let text = match action {
                        Action::Unassign => "Sorry for the wait. I'm finding someone else from our team to help you.",
                        _ => "You're being transferred to another team. Someone will be with you shortly.",
                    };
                    self.requeued(core, tx, team, text).await?
                }
                Change::Closed { outcome } => self.closed(tx, outcome, by).await?,
            }
        }
        // The row follows the machine's team (a transfer to the agent who already owns it may
        // still move it to another team).
        let team = next.team().map(str::to_string);
        if let Some(h) = self.open.as_mut().filter(|h| next.is_open() && h.team != team) {
            h.team = team;
            let h = h.clone();
            tx.update_handover(&h).await?;
        }
        Ok(())
    }

    /// The flow left the open hand-over (a port of the Handover node, or the end).
    pub(super) async fn close(&mut self, core: &Core, tx: &mut Tx, outcome: Outcome) -> Result<(), JobError> {
        self.lifecycle(core, tx, Action::Close { outcome }, None, None).await
    }

    /// The flow reached a Handover node and the conversation is queued: the hand-over is
    /// recorded with its context package. Returns the agent round-robin picks, if any.
    pub(super) async fn queue(
        &mut self,
        core: &Core,
        tx: &mut Tx,
        h: &baton_flow::runtime::Handover,
    ) -> Result<Option<Member>, JobError> {
        if let Err(refusal) = handover::step(&self.phase(), &Action::Queue { team: h.team.clone() }) {
            // The runtime hands over only from the bot: a second hand-over is a bug, not a turn
            // to fail halfway.
            tracing::error!(conversation = %self.conv.id, %refusal, "the flow handed over again");
            return Ok(None);
        }
        let earlier = tx.customer_texts(&self.conv.id, 500).await?;
        // The message this turn answers is written when the turn finishes: count it too.
        let said: Vec<&str> = earlier
            .iter()
            .map(String::as_str)
            .chain(
                self.inbound
                    .iter()
                    .filter(|m| m.role == Role::Customer)
                    .map(|m| m.text.as_str()),
            )
            .collect();
        let summary = crate::context::summary(&said);
        let sentiment = crate::context::sentiment(&said);
        // How this customer rated their last conversation, if they did.
        let last_rating = tx
            .last_rating_of_contact(&self.conv.contact_id, &self.conv.id)
            .await?
            .map(|(score, scale, at)| json!({ "score": score, "scale": scale, "at": at }));
        let context = json!({
            "last_rating": last_rating,
            "reason": h.context.reason,
            "node": h.node,
            "path": h.context.path,
            "variables": h.context.variables,
            "last_message": h.context.last_message,
            "summary": summary,
            "sentiment": sentiment.0,
            "frustrated": sentiment.1,
        });
        let mut handover = self.new_handover(&h.node, h.team.clone(), h.priority.as_str(), HandoverStatus::Queued);
        handover.context = context.to_string();
        tx.insert_handover(&handover).await?;
        // A language model writes a better summary after the commit (workers.rs).
        if core.ai.writes_summaries(&self.conv.workspace_id).await {
            let payload = json!({ "handover": handover.id }).to_string();
            tx.insert_outbox(&self.conv.workspace_id, &self.conv.id, SUMMARY_KIND, &payload, self.now)
                .await?;
            self.outbox = true;
        }
        self.timeline(
            "queued",
            None,
            json!({ "handover": handover.id, "node": h.node, "team": h.team, "priority": handover.priority }),
        );
        self.message(
            tx,
            Role::Event,
            &format!("Queued for {}", h.team.as_deref().unwrap_or("the default queue")),
            Some(MessagePayload {
                handover: Some(handover.id.clone()),
                ..MessagePayload::default()
            }),
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
            return Ok(pick);
        }
        Ok(None)
    }

    /// A hand-over row of this conversation at `node`, starting now.
    fn new_handover(&self, node: &str, team: Option<String>, priority: &str, status: HandoverStatus) -> Handover {
        Handover {
            id: crate::ids::new_id("ho"),
            workspace_id: self.conv.workspace_id.clone(),
            conversation_id: self.conv.id.clone(),
            flow_id: self.conv.flow_id.clone(),
            flow_version: self.conv.flow_version,
            node: node.to_string(),
            team,
            assignee: None,
            priority: priority.to_string(),
            status,
            context: "{}".into(),
            queued_at: self.now,
            assigned_at: None,
            ended_at: None,
        }
    }

    /// A Handover node left through off_hours / no_agent: recorded for analytics.
    pub(super) async fn unreachable(&mut self, tx: &mut Tx, node: &str, outcome: Outcome) -> Result<(), JobError> {
        let (team, priority) = match self.flow.index_of(node).map(|i| &self.flow.node(i).kind) {
            Some(baton_flow::document::NodeKind::Handover(h)) => (h.team.clone(), h.priority.as_str()),
            _ => (None, "normal"),
        };
        let mut handover = self.new_handover(node, team, priority, stored(outcome));
        handover.ended_at = Some(self.now);
        tx.insert_handover(&handover).await?;
        self.timeline(outcome.as_str(), None, json!({ "node": node }));
        self.emit(
            tx,
            &format!("conversation.{}", outcome.as_str()),
            json!({ "node": node }),
        )
        .await
    }

    /// The open hand-over ends with `outcome`; without `actor`, the member acting in this turn
    /// (if any) ended it.
    async fn closed(&mut self, tx: &mut Tx, outcome: Outcome, actor: Option<&Member>) -> Result<(), JobError> {
        let Some(mut h) = self.open.take() else {
            return Ok(());
        };
        let acting = actor.cloned().or_else(|| self.acting.clone());
        let actor = acting.as_ref();
        h.status = stored(outcome);
        h.ended_at = Some(self.now);
        tx.update_handover(&h).await?;
        self.timeline(
            outcome.as_str(),
            actor.map(|m| m.id.as_str()),
            json!({ "handover": h.id }),
        );
        let mut data = json!({ "handover_id": h.id, "by": actor.map(member_ref) });
        if let (Outcome::HandedBack, Some(node)) = (outcome, self.resume_at.take()) {
            data["resume_at"] = json!(node);
        }
        self.emit(tx, &format!("conversation.{}", outcome.as_str()), data).await
    }

    /// `agent` owns the conversation now (claim, assignment, transfer or round-robin).
    async fn assigned(
        &mut self,
        core: &Core,
        tx: &mut Tx,
        agent: &Member,
        team: Option<&str>,
        by: Option<&Member>,
    ) -> Result<(), JobError> {
        let Some(h) = self.open.as_mut() else {
            return Ok(());
        };
        h.status = HandoverStatus::Assigned;
        h.assignee = Some(agent.id.clone());
        h.team = team.map(str::to_string);
        h.assigned_at.get_or_insert(self.now);
        let h = h.clone();
        tx.update_handover(&h).await?;
        tx.touch_assigned(&agent.id, self.now).await?;
        let event = Event::AgentTookOver {
            agent: agent.name.clone(),
            team: team.map(str::to_string),
        };
        Box::pin(self.step(core, tx, &event)).await?;
        let text = format!("{} joined the conversation.", agent.name);
        self.message(tx, Role::System, &text, None, None, Some(agent.name.clone()))
            .await?;
        let actor = by.unwrap_or(agent);
        self.timeline(
            "assigned",
            Some(&actor.id),
            json!({ "handover": h.id, "agent": agent.id, "agent_name": agent.name }),
        );
        self.emit(
            tx,
            "conversation.assigned",
            json!({ "handover_id": h.id, "agent": { "id": agent.id, "name": agent.name } }),
        )
        .await
    }

    /// Back in `team`'s queue, unassigned: it waits again (timers, cancel, the queued event).
    async fn requeued(&mut self, core: &Core, tx: &mut Tx, team: Option<String>, text: &str) -> Result<(), JobError> {
        let Some(h) = self.open.as_mut() else {
            return Ok(());
        };
        h.team = team;
        h.status = HandoverStatus::Queued;
        h.assignee = None;
        let h = h.clone();
        tx.update_handover(&h).await?;
        self.message(tx, Role::System, text, None, None, None).await?;
        Box::pin(self.step(core, tx, &Event::Requeued)).await?;
        let context: Value = serde_json::from_str(&h.context).unwrap_or(json!({}));
        self.emit(
            tx,
            "conversation.queued",
            json!({ "handover_id": h.id, "team": h.team, "priority": h.priority, "queued_at": self.now, "context": context }),
        )
        .await
    }

    /// The agent who owns the conversation missed a reply target (the flow's reply clock):
    /// recorded and told, then it goes back to the queue or to the next online agent of its
    /// team, as the team's targets say (with `flow` the flow has left the Handover node
    /// already, which closes the hand-over as `timeout`).
    pub(super) async fn reply_missed(
        &mut self,
        core: &Core,
        tx: &mut Tx,
        agent_name: &str,
        target: ReplyTarget,
        then: WhenMissed,
    ) -> Result<(), JobError> {
        let phase = self.phase();
        let Some(owner_id) = phase.owner().map(str::to_string) else {
            return Ok(());
        };
        let owner = tx.member(&owner_id).await?;
        let agent = match &owner {
            Some(m) => member_ref(m),
            None => json!({ "id": owner_id, "name": agent_name }),
        };
        let data = json!({ "agent": agent, "team": phase.team(), "target": target.as_str(), "then": then.as_str() });
        self.timeline("reply_missed", None, data.clone());
        let name = owner.as_ref().map_or(agent_name, |m| m.name.as_str());
        let what = target.as_str().replace('_', " ");
        let text = format!("{name} missed the {what} target.");
        self.message(tx, Role::Event, &text, None, None, None).await?;
        self.emit(tx, "conversation.reply_missed", data).await?;
        let next = match then {
            WhenMissed::Flow => return Ok(()),
            WhenMissed::Requeue => None,
            WhenMissed::NextAgent => tx
                .online_team_members(&self.conv.workspace_id, phase.team())
                .await?
                .into_iter()
                .find(|m| m.id != owner_id),
        };
        match next {
            Some(next) => {
                let assign = Action::Assign { agent: next.id.clone() };
                self.lifecycle(core, tx, assign, Some(&next), None).await
            }
            None => self.lifecycle(core, tx, Action::Unassign, None, None).await,
        }
    }

    /// A member of this conversation's workspace, named by the input's `field`.
    async fn member(&self, tx: &mut Tx, id: &str, field: &'static str) -> Result<Member, JobError> {
        let member = tx.member(id).await?;
        if member.as_ref().is_some_and(|m| m.deactivated_at.is_some()) {
            return Err(TurnError::invalid_field(field, "this member has been deactivated").into());
        }
        member
            .filter(|m| m.workspace_id == self.conv.workspace_id)
            .ok_or_else(|| {
                TurnError::NotFound {
                    what: "member",
                    field: Some(field),
                }
                .into()
            })
    }

    /// What a member does to the conversation from the inbox.
    pub(super) async fn agent(
        &mut self,
        core: &Core,
        tx: &mut Tx,
        member: &Member,
        action: &AgentAction,
    ) -> Result<(), JobError> {
        self.acting = Some(member.clone());
        match action {
            AgentAction::Claim => {
                let claim = Action::Claim {
                    agent: member.id.clone(),
                };
                self.lifecycle(core, tx, claim, Some(member), None).await
            }
            AgentAction::Assign { member_id } => {
                let target = self.member(tx, member_id, "member_id").await?;
                let assign = Action::Assign {
                    agent: target.id.clone(),
                };
                self.lifecycle(core, tx, assign, Some(&target), Some(member)).await
            }
            AgentAction::Transfer { team, member_id } => match (member_id, team) {
                (Some(target_id), team) => {
                    let target = self.member(tx, target_id, "member_id").await?;
                    let transfer = Action::TransferToAgent {
                        agent: target.id.clone(),
                        team: team.clone(),
                    };
                    self.lifecycle(core, tx, transfer, Some(&target), Some(member)).await
                }
                (None, Some(team)) => {
                    let transfer = Action::TransferToTeam { team: team.clone() };
                    self.lifecycle(core, tx, transfer, None, Some(member)).await
                }
                (None, None) => Err(TurnError::invalid_field("team", "name a team or a member to transfer to").into()),
            },
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
                let reply = Action::Reply {
                    agent: member.id.clone(),
                };
                self.lifecycle(core, tx, reply, Some(member), None).await?;
                let cid = client_id.as_ref().map(|c| format!("agent:{c}"));
                self.message(tx, Role::Agent, text, None, cid, Some(member.name.clone()))
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
            AgentAction::Release { member_id } => {
                // It may have moved on since the caller looked: only its owner's is released.
                if self.phase().owner() != Some(member_id.as_str()) {
                    return Ok(());
                }
                self.lifecycle(core, tx, Action::Unassign, None, Some(member)).await
            }
            AgentAction::Note { text } => {
                self.message(tx, Role::Note, text, None, None, Some(member.name.clone()))
                    .await?;
                Ok(())
            }
            AgentAction::HandBack { variables, resume_at } => {
                self.check(&Action::HandBack)?;
                if let Some(node) = resume_at {
                    if self.flow.index_of(node).is_none() {
                        return Err(
                            TurnError::invalid_field("resume_at", format!("the flow has no node `{node}`")).into(),
                        );
                    }
                }
                for k in variables.keys() {
                    if !baton_flow::template::is_valid_path(k) {
                        return Err(TurnError::invalid_field(
                            format!("variables.{k}"),
                            "variable names are letters, digits and _, joined by dots",
                        )
                        .into());
                    }
                }
                self.timeline(
                    "hand_back_requested",
                    Some(&member.id),
                    json!({ "variables": variables, "resume_at": resume_at }),
                );
                if resume_at.is_some() {
                    self.resume_at.clone_from(resume_at);
                    // No edge leaves the Handover node: record the outcome here.
                    let close = Action::Close {
                        outcome: Outcome::HandedBack,
                    };
                    self.lifecycle(core, tx, close, None, Some(member)).await?;
                }
                // Otherwise the close is recorded by the Route effect (or the end) of the step.
                let event = Event::HandedBack {
                    variables: variables.clone(),
                    resume_at: resume_at.clone(),
                };
                self.step(core, tx, &event).await
            }
            AgentAction::Resolve => {
                if self.state.status == Status::Ended && !self.state.resolved {
                    // Ended for someone to follow up: now it is resolved.
                    self.state.resolved = true;
                    self.timeline("resolved", Some(&member.id), json!({}));
                    return self
                        .emit(tx, "conversation.resolved", json!({ "by": member_ref(member) }))
                        .await;
                }
                if self.state.status == Status::Ended {
                    return Err(TurnError::AlreadyResolved.into());
                }
                self.step(core, tx, &Event::Resolved).await
            }
        }
    }
}

/// A member as events name them: `{"id", "name"}`.
fn member_ref(m: &Member) -> Value {
    json!({ "id": m.id, "name": m.name })
}

/// How the hand-over row records an outcome of the lifecycle.
fn stored(outcome: Outcome) -> HandoverStatus {
    match outcome {
        Outcome::HandedBack => HandoverStatus::HandedBack,
        Outcome::Resolved => HandoverStatus::Resolved,
        Outcome::Timeout => HandoverStatus::Timeout,
        Outcome::Cancelled => HandoverStatus::Cancelled,
        Outcome::Ended => HandoverStatus::Ended,
        Outcome::OffHours => HandoverStatus::OffHours,
        Outcome::NoAgent => HandoverStatus::NoAgent,
    }
}

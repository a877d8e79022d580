//! The hand-over lifecycle: who owns a conversation once the flow hands it to people.
//!
//! A pure, typed state machine beside the flow runtime: [`step`] takes the hand-over's
//! [`Phase`] and an [`Action`] (an agent's, the customer's, or the flow's) and returns the next
//! phase and the [`Change`]s to carry out, or a [`Refusal`] that leaves everything as it was.
//! Every move it can make is declared in [`TRANSITIONS`]; the tests replay recorded histories
//! against it and check with random sequences that it never leaves two owners.
//!
//! The flow runtime keeps its own view (`Status::Queued`/`Assigned`, the timers of the wait);
//! [`from_flow`] reads what a runtime step means for the hand-over, so the server drives both
//! machines with one function per turn.

use crate::document::NodeKind;
use crate::flow::Flow;
use crate::runtime::{Effect, Event, Status};
use crate::sla::{ReplyTarget, WhenMissed};
use serde::{Deserialize, Serialize};

/// Where an open hand-over is, or that there is none (the bot has the conversation).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// No hand-over is open: the flow (bot) has the conversation, or it has ended.
    #[default]
    Closed,
    /// Waiting in a team's queue (`None`: the default queue); nobody owns it yet.
    Queued { team: Option<String> },
    /// One agent owns it.
    Assigned { team: Option<String>, agent: String },
}

impl Phase {
    pub fn kind(&self) -> PhaseKind {
        match self {
            Phase::Closed => PhaseKind::Closed,
            Phase::Queued { .. } => PhaseKind::Queued,
            Phase::Assigned { .. } => PhaseKind::Assigned,
        }
    }

    /// The agent who owns the conversation, if any.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Phase::Assigned { agent, .. } => Some(agent),
            _ => None,
        }
    }

    pub fn team(&self) -> Option<&str> {
        match self {
            Phase::Queued { team } | Phase::Assigned { team, .. } => team.as_deref(),
            Phase::Closed => None,
        }
    }

    pub fn is_open(&self) -> bool {
        !matches!(self, Phase::Closed)
    }
}

/// A phase without its data, for the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhaseKind {
    Closed,
    Queued,
    Assigned,
}

/// How a hand-over ended (the hand-over row's final status), or why the flow could not open
/// one (`off_hours`, `no_agent`: recorded, never queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    HandedBack,
    Resolved,
    Timeout,
    Cancelled,
    /// The flow ended (or moved on) some other way while the hand-over was open.
    Ended,
    OffHours,
    NoAgent,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::HandedBack => "handed_back",
            Outcome::Resolved => "resolved",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
            Outcome::Ended => "ended",
            Outcome::OffHours => "off_hours",
            Outcome::NoAgent => "no_agent",
        }
    }

    /// The outcome a Handover node's port stands for.
    pub fn of_port(port: &str) -> Option<Outcome> {
        Some(match port {
            "handed_back" => Outcome::HandedBack,
            "resolved" => Outcome::Resolved,
            "timeout" => Outcome::Timeout,
            "cancelled" => Outcome::Cancelled,
            "off_hours" => Outcome::OffHours,
            "no_agent" => Outcome::NoAgent,
            _ => return None,
        })
    }

    /// The flow could not reach a person: nothing was queued.
    pub fn is_unreachable(self) -> bool {
        matches!(self, Outcome::OffHours | Outcome::NoAgent)
    }
}

/// What happens to a hand-over. Agents are named by member id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The flow reached a Handover node and the conversation waits for a person.
    Queue { team: Option<String> },
    /// An agent takes a queued conversation.
    Claim { agent: String },
    /// Someone gives the conversation to `agent` (round-robin, an admin, a colleague).
    Assign { agent: String },
    /// Back to a team's queue, unassigned.
    TransferToTeam { team: String },
    /// Back to its own team's queue, unassigned (the agent missed a reply target).
    Unassign,
    /// To one agent at once (and to their team, when named).
    TransferToAgent { agent: String, team: Option<String> },
    /// An agent writes to the customer (claiming a queued conversation first).
    Reply { agent: String },
    /// The customer stops waiting.
    CustomerCancel,
    /// An agent gives the conversation back to the flow.
    HandBack,
    /// The hand-over ends (the flow left the Handover node, or ended).
    Close { outcome: Outcome },
}

/// An action without its data, for the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    Queue,
    Claim,
    Assign,
    TransferToTeam,
    Unassign,
    TransferToAgent,
    Reply,
    CustomerCancel,
    HandBack,
    Close,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Queue { .. } => ActionKind::Queue,
            Action::Claim { .. } => ActionKind::Claim,
            Action::Assign { .. } => ActionKind::Assign,
            Action::TransferToTeam { .. } => ActionKind::TransferToTeam,
            Action::Unassign => ActionKind::Unassign,
            Action::TransferToAgent { .. } => ActionKind::TransferToAgent,
            Action::Reply { .. } => ActionKind::Reply,
            Action::CustomerCancel => ActionKind::CustomerCancel,
            Action::HandBack => ActionKind::HandBack,
            Action::Close { .. } => ActionKind::Close,
        }
    }
}

/// What a step asks the server to record and tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A hand-over opened in `team`'s queue.
    Queued { team: Option<String> },
    /// `agent` owns the conversation now (the flow hears `AgentTookOver`).
    Assigned { agent: String },
    /// It moved to another team or agent (recorded before the queueing or assignment it leads to).
    Transferred {
        team: Option<String>,
        agent: Option<String>,
    },
    /// Back in a queue, unassigned (the flow hears `Requeued`).
    Requeued { team: Option<String> },
    /// The hand-over ended.
    Closed { outcome: Outcome },
}

/// Why an action was refused; the hand-over is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the conversation is not waiting for a person")]
    NotQueued,
    #[error("another agent has this conversation")]
    AlreadyClaimed,
    #[error("another agent has this conversation; ask them or transfer it")]
    AssignedToOther,
    #[error("the bot has this conversation")]
    NotWithAPerson,
    #[error("the conversation is already with people")]
    AlreadyOpen,
    #[error("no agent has this conversation")]
    NotAssigned,
}

impl Refusal {
    /// The error code the API answers with.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotQueued => "not_queued",
            Refusal::AlreadyClaimed => "already_claimed",
            Refusal::AssignedToOther => "assigned_to_other",
            Refusal::NotWithAPerson => "not_with_a_person",
            Refusal::AlreadyOpen => "already_open",
            Refusal::NotAssigned => "not_assigned",
        }
    }
}

/// One declared move: in phase `from`, `on` leads to `to` (or is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: PhaseKind,
    pub on: ActionKind,
    pub to: Result<PhaseKind, Refusal>,
}

const fn t(from: PhaseKind, on: ActionKind, to: Result<PhaseKind, Refusal>) -> Transition {
    Transition { from, on, to }
}

use ActionKind as A;
use PhaseKind as P;

/// Every move of the lifecycle. [`step`] makes no other (the tests check it); where one phase
/// and action have two rows, the action's data decides (the owner claiming again changes
/// nothing; another agent is refused).
pub const TRANSITIONS: &[Transition] = &[
    t(P::Closed, A::Queue, Ok(P::Queued)),
    t(P::Queued, A::Queue, Err(Refusal::AlreadyOpen)),
    t(P::Assigned, A::Queue, Err(Refusal::AlreadyOpen)),
    t(P::Closed, A::Claim, Err(Refusal::NotQueued)),
    t(P::Queued, A::Claim, Ok(P::Assigned)),
    t(P::Assigned, A::Claim, Ok(P::Assigned)),
    t(P::Assigned, A::Claim, Err(Refusal::AlreadyClaimed)),
    t(P::Closed, A::Assign, Err(Refusal::NotQueued)),
    t(P::Queued, A::Assign, Ok(P::Assigned)),
    t(P::Assigned, A::Assign, Ok(P::Assigned)),
    t(P::Closed, A::TransferToTeam, Err(Refusal::NotQueued)),
    t(P::Queued, A::TransferToTeam, Ok(P::Queued)),
    t(P::Assigned, A::TransferToTeam, Ok(P::Queued)),
    t(P::Closed, A::Unassign, Err(Refusal::NotAssigned)),
    t(P::Queued, A::Unassign, Err(Refusal::NotAssigned)),
    t(P::Assigned, A::Unassign, Ok(P::Queued)),
    t(P::Closed, A::TransferToAgent, Err(Refusal::NotQueued)),
    t(P::Queued, A::TransferToAgent, Ok(P::Assigned)),
    t(P::Assigned, A::TransferToAgent, Ok(P::Assigned)),
    t(P::Closed, A::Reply, Err(Refusal::NotWithAPerson)),
    t(P::Queued, A::Reply, Ok(P::Assigned)),
    t(P::Assigned, A::Reply, Ok(P::Assigned)),
    t(P::Assigned, A::Reply, Err(Refusal::AssignedToOther)),
    t(P::Closed, A::CustomerCancel, Err(Refusal::NotQueued)),
    t(P::Queued, A::CustomerCancel, Ok(P::Queued)),
    t(P::Assigned, A::CustomerCancel, Err(Refusal::NotQueued)),
    t(P::Closed, A::HandBack, Err(Refusal::NotWithAPerson)),
    t(P::Queued, A::HandBack, Ok(P::Queued)),
    t(P::Assigned, A::HandBack, Ok(P::Assigned)),
    t(P::Closed, A::Close, Ok(P::Closed)),
    t(P::Queued, A::Close, Ok(P::Closed)),
    t(P::Assigned, A::Close, Ok(P::Closed)),
];

/// One step of the lifecycle: the next phase and what to record, or why not.
///
/// A customer's cancel and an agent's hand-back are only checked here: the hand-over closes
/// when the flow leaves the Handover node (an [`Action::Close`] read by [`from_flow`]), since
/// the flow decides which port that is.
pub fn step(phase: &Phase, action: &Action) -> Result<(Phase, Vec<Change>), Refusal> {
    let team = phase.team().map(str::to_string);
    match (phase, action) {
        (Phase::Closed, Action::Queue { team }) => Ok((
            Phase::Queued { team: team.clone() },
            vec![Change::Queued { team: team.clone() }],
        )),
        (_, Action::Queue { .. }) => Err(Refusal::AlreadyOpen),
        (Phase::Closed, Action::Claim { .. } | Action::Assign { .. }) => Err(Refusal::NotQueued),
        (Phase::Assigned { agent: owner, .. }, Action::Claim { agent }) if owner != agent => {
            Err(Refusal::AlreadyClaimed)
        }
        (_, Action::Claim { agent } | Action::Assign { agent }) => Ok(assign(phase, team, agent)),
        (Phase::Closed, Action::TransferToTeam { .. } | Action::TransferToAgent { .. }) => Err(Refusal::NotQueued),
        (_, Action::TransferToTeam { team }) => {
            let team = Some(team.clone());
            Ok((
                Phase::Queued { team: team.clone() },
                vec![
                    Change::Transferred {
                        team: team.clone(),
                        agent: None,
                    },
                    Change::Requeued { team },
                ],
            ))
        }
        (Phase::Assigned { .. }, Action::Unassign) => {
            Ok((Phase::Queued { team: team.clone() }, vec![Change::Requeued { team }]))
        }
        (_, Action::Unassign) => Err(Refusal::NotAssigned),
        (_, Action::TransferToAgent { agent, team: to_team }) => {
            let team = to_team.clone().or(team);
            let mut changes = vec![Change::Transferred {
                team: to_team.clone(),
                agent: Some(agent.clone()),
            }];
            let (next, assigned) = assign(phase, team, agent);
            changes.extend(assigned);
            Ok((next, changes))
        }
        (Phase::Closed, Action::Reply { .. }) => Err(Refusal::NotWithAPerson),
        (Phase::Assigned { agent: owner, .. }, Action::Reply { agent }) if owner != agent => {
            Err(Refusal::AssignedToOther)
        }
        (_, Action::Reply { agent }) => Ok(assign(phase, team, agent)),
        (Phase::Queued { .. }, Action::CustomerCancel) => Ok((phase.clone(), Vec::new())),
        (_, Action::CustomerCancel) => Err(Refusal::NotQueued),
        (Phase::Closed, Action::HandBack) => Err(Refusal::NotWithAPerson),
        (_, Action::HandBack) => Ok((phase.clone(), Vec::new())),
        (Phase::Closed, Action::Close { .. }) => Ok((Phase::Closed, Vec::new())),
        (_, Action::Close { outcome }) => Ok((Phase::Closed, vec![Change::Closed { outcome: *outcome }])),
    }
}

/// `agent` owns the conversation in `team` (no change to record when they already own it).
fn assign(phase: &Phase, team: Option<String>, agent: &str) -> (Phase, Vec<Change>) {
    if phase.owner() == Some(agent) {
        let same = Phase::Assigned {
            team,
            agent: agent.to_string(),
        };
        return (same, Vec::new());
    }
    (
        Phase::Assigned {
            team,
            agent: agent.to_string(),
        },
        vec![Change::Assigned {
            agent: agent.to_string(),
        }],
    )
}

/// What one effect of a flow step means for the hand-over, if anything. `event` is the event
/// that step handled (an agent's resolve ends the hand-over as `resolved`).
pub fn from_flow(flow: &Flow, event: &Event, effect: &Effect) -> Option<FlowAction> {
    match effect {
        Effect::HandOver(h) => Some(FlowAction::Open { team: h.team.clone() }),
        Effect::Route { from, port, .. } => {
            let at_handover = flow
                .index_of(from)
                .is_some_and(|i| matches!(flow.node(i).kind, NodeKind::Handover(_)));
            let outcome = Outcome::of_port(port).filter(|_| at_handover)?;
            Some(if outcome.is_unreachable() {
                FlowAction::Unreachable {
                    node: from.clone(),
                    outcome,
                }
            } else {
                FlowAction::Close(outcome)
            })
        }
        Effect::HandoverEnded { outcome } => Outcome::of_port(outcome).map(FlowAction::Close),
        Effect::ReplyMissed {
            agent, target, then, ..
        } => Some(FlowAction::ReplyMissed {
            agent: agent.clone(),
            target: *target,
            then: *then,
        }),
        Effect::End { .. } => Some(FlowAction::Close(if matches!(event, Event::Resolved) {
            Outcome::Resolved
        } else {
            Outcome::Ended
        })),
        _ => None,
    }
}

/// A hand-over matter a flow step raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowAction {
    /// The conversation waits for a person ([`Action::Queue`]).
    Open { team: Option<String> },
    /// The open hand-over ends ([`Action::Close`]).
    Close(Outcome),
    /// The Handover node could not reach a person (hand-off off, outside hours, nobody
    /// online): recorded, nothing opens.
    Unreachable { node: String, outcome: Outcome },
    /// The agent (by name) missed a reply target: `requeue` is [`Action::Unassign`],
    /// `next_agent` an [`Action::Assign`] to the next online agent of the team (or
    /// [`Action::Unassign`] when there is none); with `flow` the step already left the Handover
    /// node, which closes the hand-over as `timeout`.
    ReplyMissed {
        agent: String,
        target: ReplyTarget,
        then: WhenMissed,
    },
}

/// After a flow step: an open hand-over the flow no longer waits on ends as `ended` (the flow
/// moved on without leaving through one of the node's ports).
pub fn left_behind(phase: &Phase, flow_status: Status) -> Option<Action> {
    let flow_waits = matches!(flow_status, Status::Queued | Status::Assigned);
    (phase.is_open() && !flow_waits).then_some(Action::Close {
        outcome: Outcome::Ended,
    })
}

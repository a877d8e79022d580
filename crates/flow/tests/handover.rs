//! The hand-over lifecycle (`baton_flow::handover`): recorded histories replayed step by step,
//! the declared transition table, and random sequences of agent, customer and clock events
//! driven through both machines the way the server drives them.

use baton_flow::handover::{self, Action, ActionKind, Change, FlowAction, Phase, PhaseKind, TRANSITIONS};
use baton_flow::runtime::{step, Effect, Event, ReplyTargets, State, StaticWorld, Status, WhenMissed};
use baton_flow::Flow;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// One recorded step: the action, then either the changes it made and the phase after, or the
/// refusal's code.
#[derive(Deserialize)]
struct Recorded {
    action: Action,
    #[serde(default)]
    changes: Vec<Change>,
    #[serde(default)]
    refused: Option<String>,
    phase: Phase,
}

#[test]
fn recorded_histories_replay_exactly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/handover");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/handover exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "histories found: {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("history readable");
        let mut phase = Phase::Closed;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let at = format!("{}:{}", file.display(), n + 1);
            let recorded: Recorded = serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: {e}"));
            match handover::step(&phase, &recorded.action) {
                Ok((next, changes)) => {
                    assert_eq!(recorded.refused, None, "{at}: accepted, but the history refused it");
                    assert_eq!(changes, recorded.changes, "{at}: changes");
                    phase = next;
                }
                Err(refusal) => {
                    assert_eq!(recorded.refused.as_deref(), Some(refusal.code()), "{at}: refused");
                }
            }
            assert_eq!(phase, recorded.phase, "{at}: phase after");
        }
    }
}

#[test]
fn every_phase_has_a_declared_answer_to_every_action() {
    let phases = [PhaseKind::Closed, PhaseKind::Queued, PhaseKind::Assigned];
    let actions = [
        ActionKind::Queue,
        ActionKind::Claim,
        ActionKind::Assign,
        ActionKind::TransferToTeam,
        ActionKind::Unassign,
        ActionKind::TransferToAgent,
        ActionKind::Reply,
        ActionKind::CustomerCancel,
        ActionKind::HandBack,
        ActionKind::Close,
    ];
    for from in phases {
        for on in actions {
            assert!(
                TRANSITIONS.iter().any(|t| t.from == from && t.on == on),
                "no transition declared for {on:?} in {from:?}"
            );
        }
    }
}

fn agent() -> impl Strategy<Value = String> {
    prop_oneof![Just("ana".to_string()), Just("bo".to_string()), Just("cy".to_string())]
}

fn team() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("billing".to_string())),
        Just(Some("tech".to_string()))
    ]
}

fn outcome() -> impl Strategy<Value = handover::Outcome> {
    use handover::Outcome::*;
    prop_oneof![
        Just(HandedBack),
        Just(Resolved),
        Just(Timeout),
        Just(Cancelled),
        Just(Ended)
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        team().prop_map(|team| Action::Queue { team }),
        agent().prop_map(|agent| Action::Claim { agent }),
        agent().prop_map(|agent| Action::Assign { agent }),
        "[a-z]{1,6}".prop_map(|team| Action::TransferToTeam { team }),
        (agent(), team()).prop_map(|(agent, team)| Action::TransferToAgent { agent, team }),
        agent().prop_map(|agent| Action::Reply { agent }),
        Just(Action::CustomerCancel),
        Just(Action::Unassign),
        Just(Action::HandBack),
        outcome().prop_map(|outcome| Action::Close { outcome }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any sequence: only declared transitions; a refusal changes nothing; the owner changes
    /// only with an `Assigned` change naming them; a hand-over ends only with a `Closed` change.
    #[test]
    fn only_declared_transitions_and_one_owner(actions in prop::collection::vec(action(), 0..40)) {
        let mut phase = Phase::Closed;
        for action in &actions {
            let result = handover::step(&phase, action);
            let declared = TRANSITIONS.iter().any(|t| {
                t.from == phase.kind()
                    && t.on == action.kind()
                    && match (&result, t.to) {
                        (Ok((next, _)), Ok(to)) => next.kind() == to,
                        (Err(refusal), Err(declared)) => *refusal == declared,
                        _ => false,
                    }
            });
            prop_assert!(declared, "undeclared: {:?} on {:?} gave {:?}", phase, action, result);
            if let Ok((next, changes)) = result {
                if next.owner() != phase.owner() {
                    if let Some(owner) = next.owner() {
                        let assigned = Change::Assigned { agent: owner.to_string() };
                        prop_assert!(changes.contains(&assigned), "{:?} took over without a change", owner);
                    }
                }
                if phase.is_open() && !next.is_open() {
                    let closed = changes.iter().any(|c| matches!(c, Change::Closed { .. }));
                    prop_assert!(closed, "the hand-over ended without a Closed change");
                }
                phase = next;
            }
        }
    }
}

/// A support flow with every hand-over port wired, a stalling message and a maximum wait.
fn support_flow() -> Flow {
    let doc = json!({
        "format": 1, "name": "Support",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "collect_input", "text": "Your email?", "variable": "email", "input": "email"},
            {"id": "human", "type": "handover", "team": "billing", "context": ["email"],
             "stalling_seconds": 60, "max_wait_seconds": 600, "cancel_keywords": ["cancel"]},
            {"id": "back", "type": "message", "text": "Back with the bot."},
            {"id": "again", "type": "collect_input", "text": "Anything else?", "variable": "more"},
            {"id": "rate", "type": "options", "text": "How did we do?", "variable": "rating",
             "options": [{"id": "good", "label": "Good"}, {"id": "bad", "label": "Bad"}]},
            {"id": "bye", "type": "end", "message": "Bye!"},
            {"id": "late", "type": "end", "message": "We'll email you."}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask"},
            {"from": "ask", "port": "next", "to": "human"},
            {"from": "ask", "port": "invalid", "to": "human"},
            {"from": "human", "port": "handed_back", "to": "back"},
            {"from": "back", "port": "next", "to": "again"},
            {"from": "again", "port": "next", "to": "human"},
            {"from": "human", "port": "resolved", "to": "rate"},
            {"from": "rate", "port": "good", "to": "bye"},
            {"from": "rate", "port": "bad", "to": "bye"},
            {"from": "rate", "port": "no_match", "to": "bye"},
            {"from": "human", "port": "timeout", "to": "late"},
            {"from": "human", "port": "cancelled", "to": "late"},
            {"from": "human", "port": "off_hours", "to": "late"},
            {"from": "human", "port": "no_agent", "to": "late"}
        ]
    });
    match Flow::from_json(&doc.to_string()) {
        Ok(f) => f,
        Err(d) => panic!("flow does not load: {d:#?}"),
    }
}

/// What can happen to a conversation from outside.
#[derive(Debug, Clone)]
enum Happening {
    CustomerSays(String),
    Press(String),
    /// The oldest pending timer fires.
    Clock,
    Agent(String, AgentMove),
}

#[derive(Debug, Clone)]
enum AgentMove {
    Claim,
    Reply,
    TransferToTeam,
    TransferTo(String),
    HandBack,
    Resolve,
}

fn happening() -> impl Strategy<Value = Happening> {
    let agent_move = prop_oneof![
        Just(AgentMove::Claim),
        Just(AgentMove::Reply),
        Just(AgentMove::TransferToTeam),
        agent().prop_map(AgentMove::TransferTo),
        Just(AgentMove::HandBack),
        Just(AgentMove::Resolve),
    ];
    prop_oneof![
        prop_oneof![
            Just("me@example.com".to_string()),
            Just("cancel".to_string()),
            Just("hello?".to_string()),
            Just("no".to_string())
        ]
        .prop_map(Happening::CustomerSays),
        prop_oneof![Just("good".to_string()), Just("bad".to_string())].prop_map(Happening::Press),
        Just(Happening::Clock),
        (agent(), agent_move).prop_map(|(a, m)| Happening::Agent(a, m)),
    ]
}

/// The server's turn, without its IO: the hand-over machine decides agent actions and the
/// customer's cancel; the flow runtime steps; the flow's hand-over matters step the machine.
struct Conversation {
    flow: Flow,
    state: State,
    phase: Phase,
    timers: Vec<u64>,
    world: StaticWorld,
    /// What the agents' reply targets did, since the last happening.
    missed: Vec<WhenMissed>,
}

impl Conversation {
    /// A conversation whose agents have reply targets that do `when_missed`.
    fn start(when_missed: WhenMissed) -> Conversation {
        let world = StaticWorld {
            reply_targets: ReplyTargets {
                first_reply_seconds: 30,
                next_reply_seconds: 60,
                when_missed,
            },
            ..StaticWorld::default()
        };
        let mut c = Conversation {
            flow: support_flow(),
            state: State::default(),
            phase: Phase::Closed,
            timers: Vec::new(),
            world,
            missed: Vec::new(),
        };
        let start = Event::Start {
            variables: BTreeMap::new(),
            message: None,
            event: None,
            routed: false,
        };
        c.flow_step(&start);
        c
    }

    /// Steps the flow and the machine with what the flow did; returns the flow's effects.
    fn flow_step(&mut self, event: &Event) -> Vec<Effect> {
        let (state, effects) = step(&self.flow, std::mem::take(&mut self.state), event, &self.world);
        self.state = state;
        for effect in &effects {
            match effect {
                Effect::SetTimer { timer, .. } => self.timers.push(*timer),
                Effect::CancelTimer { timer } => self.timers.retain(|t| t != timer),
                _ => {}
            }
            let action = match handover::from_flow(&self.flow, event, effect) {
                Some(FlowAction::Open { team }) => Action::Queue { team },
                Some(FlowAction::Close(outcome)) => Action::Close { outcome },
                Some(FlowAction::ReplyMissed { then, .. }) => {
                    self.missed.push(then);
                    // As the server does: the next of the three agents, or back to the queue.
                    let owner = self.phase.owner().unwrap_or_default().to_string();
                    let next = ["ana", "bo", "cy"].into_iter().find(|a| *a != owner);
                    match (then, next) {
                        (WhenMissed::Flow, _) => continue,
                        (WhenMissed::NextAgent, Some(next)) => Action::Assign { agent: next.into() },
                        _ => Action::Unassign,
                    }
                }
                Some(FlowAction::Unreachable { .. }) | None => continue,
            };
            self.machine(&action);
        }
        if let Some(left) = handover::left_behind(&self.phase, self.state.status) {
            self.machine(&left);
        }
        effects
    }

    /// Steps the machine; its changes reach the flow as the server feeds them. Returns the
    /// effects of those flow steps, or None when refused.
    fn machine(&mut self, action: &Action) -> Option<Vec<Effect>> {
        let (next, changes) = handover::step(&self.phase, action).ok()?;
        self.phase = next;
        let mut effects = Vec::new();
        for change in changes {
            let event = match change {
                Change::Assigned { agent } => Event::AgentTookOver { agent, team: None },
                Change::Requeued { .. } => Event::Requeued,
                _ => continue,
            };
            effects.extend(self.flow_step(&event));
        }
        Some(effects)
    }

    /// One happening; returns what the flow said (Send effects) in response.
    fn happen(&mut self, h: &Happening) -> Vec<String> {
        let effects = match h {
            Happening::CustomerSays(text) => self.flow_step(&Event::CustomerText { text: text.clone() }),
            Happening::Press(option) => self.flow_step(&Event::ButtonPressed { option: option.clone() }),
            Happening::Clock => {
                if self.timers.is_empty() {
                    return Vec::new();
                }
                let timer = self.timers.remove(0);
                self.flow_step(&Event::TimerFired { timer })
            }
            Happening::Agent(agent, m) => {
                let action = match m {
                    AgentMove::Claim => Action::Claim { agent: agent.clone() },
                    AgentMove::Reply => Action::Reply { agent: agent.clone() },
                    AgentMove::TransferToTeam => Action::TransferToTeam { team: "tech".into() },
                    AgentMove::TransferTo(to) => Action::TransferToAgent {
                        agent: to.clone(),
                        team: None,
                    },
                    AgentMove::HandBack => Action::HandBack,
                    AgentMove::Resolve => {
                        if self.state.status == Status::Ended {
                            return Vec::new();
                        }
                        return sends(&self.flow_step(&Event::Resolved));
                    }
                };
                let Some(mut effects) = self.machine(&action) else {
                    return Vec::new();
                };
                match m {
                    AgentMove::Reply => effects.extend(self.flow_step(&Event::AgentReplied { agent: agent.clone() })),
                    AgentMove::HandBack => effects.extend(self.flow_step(&Event::HandedBack {
                        variables: BTreeMap::new(),
                        resume_at: None,
                    })),
                    _ => {}
                }
                effects
            }
        };
        sends(&effects)
    }
}

fn sends(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(m) => Some(m.text.clone()),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Agents, the customer and the clock in any order: the two machines always agree on who
    /// has the conversation, and the bot never speaks while a person owns it (only the agent's
    /// own hand-back or resolve gives it back the word).
    #[test]
    fn the_bot_is_silent_while_a_person_owns_the_conversation(
        happenings in prop::collection::vec(happening(), 0..40),
        when_missed in prop_oneof![Just(WhenMissed::Requeue), Just(WhenMissed::NextAgent), Just(WhenMissed::Flow)],
    ) {
        let mut c = Conversation::start(when_missed);
        for h in &happenings {
            let owned_before = c.phase.owner().map(str::to_string);
            c.missed.clear();
            let said = c.happen(h);
            // A missed reply target takes the conversation from its agent; with `flow` the flow
            // goes on from `timeout` (and speaks).
            if let Some(then) = c.missed.first() {
                prop_assert!(owned_before.is_some(), "a reply target missed by nobody, on {:?}", h);
                prop_assert!(c.phase.owner().map(str::to_string) != owned_before, "the agent who missed kept it, on {:?}", h);
                let expected = match then {
                    WhenMissed::Flow => PhaseKind::Closed,
                    WhenMissed::NextAgent => PhaseKind::Assigned,
                    WhenMissed::Requeue => PhaseKind::Queued,
                };
                prop_assert_eq!(c.phase.kind(), expected);
            }
            let gives_back = matches!(h, Happening::Agent(_, AgentMove::HandBack | AgentMove::Resolve))
                || c.missed.contains(&WhenMissed::Flow);
            if owned_before.is_some() && !gives_back {
                prop_assert!(said.is_empty(), "the bot said {:?} to a conversation {:?} owns, on {:?}", said, owned_before, h);
            }
            let agree = match c.phase.kind() {
                PhaseKind::Queued => c.state.status == Status::Queued,
                PhaseKind::Assigned => c.state.status == Status::Assigned,
                PhaseKind::Closed => !matches!(c.state.status, Status::Queued | Status::Assigned),
            };
            prop_assert!(agree, "after {:?}: hand-over {:?}, flow {:?}", h, c.phase, c.state.status);
        }
    }
}

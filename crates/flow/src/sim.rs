//! A conversation simulator around the pure runtime: it plays the world for a flow — a clock
//! and timers, a transcript, hand-overs, coverage — and asks an [`Executor`] to answer webhook
//! calls and AI requests. Scripted tests, `baton chat` and the builder's test conversation all
//! run on it.

use crate::document::ExtractKind;
use crate::flow::Flow;
use crate::runtime::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Most events one simulated action may cause (results feeding back), as a guard.
const MAX_EVENTS_PER_ACTION: usize = 200;

/// Answers the effects that need the outside world.
pub trait Executor {
    fn webhook(&mut self, call: &WebhookCall) -> WebhookOutcome;
    fn ai(&mut self, request: &AiRequest, transcript: &[Line]) -> AiOutcome;
}

/// Who said a line of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Customer,
    Bot,
    Agent,
    /// What happened, for the reader (hand-over, end, errors); never shown to the customer.
    Event,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub at_ms: u64,
    pub speaker: Speaker,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

/// Which nodes and ports the simulated conversations went through.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    pub nodes: BTreeSet<String>,
    pub ports: BTreeSet<(String, String)>,
}

impl Coverage {
    pub fn merge(&mut self, other: &Coverage) {
        self.nodes.extend(other.nodes.iter().cloned());
        self.ports.extend(other.ports.iter().cloned());
    }

    /// (covered, total) nodes, and (covered, total) wired ports of the flow.
    pub fn summary(&self, flow: &Flow) -> CoverageSummary {
        let nodes_total = flow.nodes().len();
        let nodes_covered = flow.nodes().iter().filter(|n| self.nodes.contains(&n.id)).count();
        let mut ports_total = 0;
        let mut ports_covered = 0;
        let mut uncovered_ports = Vec::new();
        for (i, node) in flow.nodes().iter().enumerate() {
            for (port, target) in flow.wires(i) {
                if target.is_none() {
                    continue;
                }
                ports_total += 1;
                if self.ports.contains(&(node.id.clone(), port.clone())) {
                    ports_covered += 1;
                } else {
                    uncovered_ports.push(format!("{}.{}", node.id, port));
                }
            }
        }
        let uncovered_nodes = flow
            .nodes()
            .iter()
            .filter(|n| !self.nodes.contains(&n.id))
            .map(|n| n.id.clone())
            .collect();
        CoverageSummary {
            nodes_covered,
            nodes_total,
            ports_covered,
            ports_total,
            uncovered_nodes,
            uncovered_ports,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageSummary {
    pub nodes_covered: usize,
    pub nodes_total: usize,
    pub ports_covered: usize,
    pub ports_total: usize,
    pub uncovered_nodes: Vec<String>,
    pub uncovered_ports: Vec<String>,
}

/// One simulated conversation.
pub struct Simulator<'f> {
    flow: &'f Flow,
    pub state: State,
    pub world: StaticWorld,
    /// Milliseconds since the conversation began.
    pub now_ms: u64,
    timers: Vec<(u64, u64)>,
    pub transcript: Vec<Line>,
    pub handovers: Vec<Handover>,
    pub coverage: Coverage,
    /// Every effect, in order.
    pub effects: Vec<Effect>,
    /// Effects of the last action only.
    pub last_effects: Vec<Effect>,
}

impl<'f> Simulator<'f> {
    pub fn new(flow: &'f Flow, world: StaticWorld) -> Simulator<'f> {
        Simulator {
            flow,
            state: State::default(),
            world,
            now_ms: 0,
            timers: Vec::new(),
            transcript: Vec::new(),
            handovers: Vec::new(),
            coverage: Coverage::default(),
            effects: Vec::new(),
            last_effects: Vec::new(),
        }
    }

    pub fn flow(&self) -> &'f Flow {
        self.flow
    }

    /// Starts the conversation.
    pub fn start(
        &mut self,
        variables: BTreeMap<String, Value>,
        message: Option<String>,
        ex: &mut dyn Executor,
    ) -> Handled {
        if let Some(m) = &message {
            self.line(Speaker::Customer, m.clone(), Vec::new());
        }
        if let Some(t) = self.flow.trigger() {
            self.coverage.nodes.insert(self.flow.node(t).id.clone());
        }
        self.apply(
            Event::Start {
                variables,
                message,
                event: None,
                routed: false,
            },
            ex,
        )
    }

    pub fn say(&mut self, text: &str, ex: &mut dyn Executor) -> Handled {
        self.line(Speaker::Customer, text.to_string(), Vec::new());
        self.apply(Event::CustomerText { text: text.to_string() }, ex)
    }

    pub fn press(&mut self, option: &str, ex: &mut dyn Executor) -> Handled {
        let label = self
            .current_buttons()
            .into_iter()
            .find(|b| b.id == option)
            .map_or_else(|| option.to_string(), |b| b.label);
        self.line(Speaker::Customer, format!("[{label}]"), Vec::new());
        self.apply(
            Event::ButtonPressed {
                option: option.to_string(),
            },
            ex,
        )
    }

    pub fn agent_takes_over(&mut self, agent: &str, ex: &mut dyn Executor) -> Handled {
        let event = Event::AgentTookOver {
            agent: agent.to_string(),
            team: None,
        };
        self.act(Speaker::Event, format!("{agent} took over"), event, ex)
    }

    pub fn agent_replies(&mut self, agent: &str, text: &str, ex: &mut dyn Executor) -> Handled {
        self.line(Speaker::Agent, text.to_string(), Vec::new());
        self.apply(
            Event::AgentReplied {
                agent: agent.to_string(),
            },
            ex,
        )
    }

    pub fn hand_back(
        &mut self,
        variables: BTreeMap<String, Value>,
        resume_at: Option<String>,
        ex: &mut dyn Executor,
    ) -> Handled {
        let event = Event::HandedBack { variables, resume_at };
        self.act(Speaker::Event, "handed back to the flow".into(), event, ex)
    }

    pub fn resolve(&mut self, ex: &mut dyn Executor) -> Handled {
        self.act(Speaker::Event, "resolved by the agent".into(), Event::Resolved, ex)
    }

    pub fn cancel(&mut self, ex: &mut dyn Executor) -> Handled {
        self.act(Speaker::Customer, "[cancel]".into(), Event::CustomerCancelled, ex)
    }

    /// Applies an agent's or the customer's action; the transcript shows it (before what it
    /// caused) only when the flow accepted it, so a refused action leaves no trace.
    fn act(&mut self, speaker: Speaker, text: String, event: Event, ex: &mut dyn Executor) -> Handled {
        let at = self.transcript.len();
        self.line(speaker, text, Vec::new());
        let handled = self.apply(event, ex);
        if handled != Handled::Applied && at < self.transcript.len() {
            self.transcript.remove(at);
        }
        handled
    }

    /// Moves the clock on, firing due timers in order.
    pub fn advance(&mut self, ms: u64, ex: &mut dyn Executor) {
        let until = self.now_ms.saturating_add(ms);
        self.last_effects.clear();
        loop {
            self.timers.sort();
            let Some(&(due, timer)) = self.timers.first() else {
                break;
            };
            if due > until {
                break;
            }
            self.timers.remove(0);
            self.now_ms = due;
            let before = std::mem::take(&mut self.last_effects);
            self.apply(Event::TimerFired { timer }, ex);
            let mut all = before;
            all.append(&mut self.last_effects);
            self.last_effects = all;
        }
        self.now_ms = until;
    }

    /// Applies an event and every event its effects cause (webhook and AI results).
    pub fn apply(&mut self, event: Event, ex: &mut dyn Executor) -> Handled {
        self.last_effects.clear();
        let mut queue = VecDeque::from([event]);
        let mut first = None;
        let mut count = 0;
        while let Some(event) = queue.pop_front() {
            count += 1;
            if count > MAX_EVENTS_PER_ACTION {
                self.line(
                    Speaker::Event,
                    "stopped: too many events for one action".into(),
                    Vec::new(),
                );
                break;
            }
            let mut out = Vec::new();
            let handled = step_in_place(self.flow, &mut self.state, &event, &self.world, &mut out);
            first.get_or_insert(handled);
            for effect in out {
                self.carry_out(&effect, &mut queue, ex);
                self.last_effects.push(effect.clone());
                self.effects.push(effect);
            }
        }
        first.unwrap_or(Handled::Ignored("nothing happened"))
    }

    fn carry_out(&mut self, effect: &Effect, queue: &mut VecDeque<Event>, ex: &mut dyn Executor) {
        match effect {
            Effect::Route { from, port, to } => {
                self.coverage.ports.insert((from.clone(), port.clone()));
                if let Some(to) = to {
                    self.coverage.nodes.insert(to.clone());
                }
            }
            Effect::Send(m) => {
                let mut text = m.text.clone();
                for l in &m.links {
                    text.push_str(&format!("\n  → {} ({})", l.label, l.url));
                }
                self.line(Speaker::Bot, text, m.buttons.clone());
            }
            Effect::CallWebhook(call) => {
                let result = ex.webhook(call);
                let summary = match &result {
                    WebhookOutcome::Response { status, .. } => format!("HTTP {status}"),
                    WebhookOutcome::Failed { reason } => format!("failed: {reason}"),
                };
                self.line(
                    Speaker::Event,
                    format!("webhook {} {} → {summary}", call.method.as_str(), call.url),
                    Vec::new(),
                );
                queue.push_back(Event::WebhookResult {
                    request: call.request,
                    result,
                });
            }
            Effect::AskAi(req) => {
                let result = ex.ai(req, &self.transcript);
                queue.push_back(Event::AiResult {
                    request: req.request,
                    result,
                });
            }
            Effect::HandOver(h) => {
                let team = h.team.as_deref().unwrap_or("default queue");
                self.line(
                    Speaker::Event,
                    format!("handed over to {team} ({} priority)", h.priority.as_str()),
                    Vec::new(),
                );
                self.handovers.push(h.clone());
            }
            Effect::SetTimer { timer, after_ms, .. } => {
                self.timers.push((self.now_ms.saturating_add(*after_ms), *timer));
            }
            Effect::CancelTimer { timer } => self.timers.retain(|(_, t)| t != timer),
            Effect::SetVariables { .. } => {}
            Effect::Rated { score, scale } => {
                self.line(Speaker::Event, format!("rated {score}/{scale}"), Vec::new());
            }
            Effect::ReplyMissed {
                agent, target, then, ..
            } => {
                let what = match then {
                    WhenMissed::Flow => "the flow goes on",
                    // The simulator has one agent: nobody else to pass it to.
                    WhenMissed::Requeue | WhenMissed::NextAgent => "back in the queue",
                };
                self.line(
                    Speaker::Event,
                    format!(
                        "{agent} missed the {} target: {what}",
                        target.as_str().replace('_', " ")
                    ),
                    Vec::new(),
                );
                if *then != WhenMissed::Flow {
                    queue.push_back(Event::Requeued);
                }
            }
            Effect::HandoverEnded { outcome } => {
                self.line(Speaker::Event, format!("hand-over ended ({outcome})"), Vec::new());
            }
            Effect::End { resolve, abandoned } => {
                let how = match (*abandoned, *resolve) {
                    (true, _) => "abandoned: the customer stopped answering",
                    (false, true) => "resolved",
                    (false, false) => "not resolved",
                };
                self.line(Speaker::Event, format!("conversation ended ({how})"), Vec::new());
            }
            Effect::Error { message, .. } => self.line(Speaker::Event, format!("error: {message}"), Vec::new()),
        }
    }

    fn line(&mut self, speaker: Speaker, text: String, buttons: Vec<Button>) {
        self.transcript.push(Line {
            at_ms: self.now_ms,
            speaker,
            text,
            buttons,
        });
    }

    /// The buttons of the last bot message, when the flow waits at an Options node.
    pub fn current_buttons(&self) -> Vec<Button> {
        if self.state.wait != Wait::Customer {
            return Vec::new();
        }
        self.transcript
            .iter()
            .rev()
            .find(|l| l.speaker == Speaker::Bot)
            .map(|l| l.buttons.clone())
            .unwrap_or_default()
    }

    /// Pending timers as (due at ms, id).
    pub fn timers(&self) -> &[(u64, u64)] {
        &self.timers
    }
}

/// A simple offline AI for simulations when no fixture and no AI provider is given: word-overlap
/// classification, pattern extraction, a first-sentence summary, keyword sentiment; it never
/// claims to know an answer (Let AI Answer leaves through `unanswered`, or `human`/`resolved`
/// when the customer says so).
pub fn baseline_ai(request: &AiRequest, transcript: &[Line]) -> AiOutcome {
    match &request.query {
        AiQuery::Classify {
            text,
            categories,
            threshold,
        } => {
            let words = word_set(text);
            let mut best: Option<(&str, f64)> = None;
            for c in categories {
                let phrases = c
                    .examples
                    .iter()
                    .chain(c.description.iter())
                    .chain(std::iter::once(&c.id));
                for p in phrases {
                    let pw = word_set(&p.replace('_', " "));
                    if pw.is_empty() {
                        continue;
                    }
                    let overlap = pw.intersection(&words).count() as f64;
                    let score = overlap / (pw.len().max(words.len()) as f64).max(1.0);
                    if best.is_none_or(|(_, s)| score > s) {
                        best = Some((&c.id, score));
                    }
                }
            }
            let min = threshold.unwrap_or(0.3);
            match best {
                Some((id, score)) if score >= min => AiOutcome::Category {
                    category: Some(id.to_string()),
                    confidence: score,
                },
                _ => AiOutcome::Category {
                    category: None,
                    confidence: best.map_or(0.0, |(_, s)| s),
                },
            }
        }
        AiQuery::Extract { text, fields } => {
            let mut values = BTreeMap::new();
            for f in fields {
                if let Some(v) = extract_field(f.kind, f.pattern.as_deref(), text) {
                    values.insert(f.variable.clone(), v);
                }
            }
            AiOutcome::Fields { values }
        }
        AiQuery::Summarize => {
            let said: Vec<&str> = transcript
                .iter()
                .filter(|l| l.speaker == Speaker::Customer)
                .map(|l| l.text.as_str())
                .collect();
            AiOutcome::Text {
                text: if said.is_empty() {
                    "The customer has not written anything yet.".into()
                } else {
                    format!("The customer wrote: {}", said.join(" / "))
                },
            }
        }
        AiQuery::Sentiment { text } => {
            let t = crate::matching::normalize(text);
            let negative = [
                "angry",
                "terrible",
                "awful",
                "worst",
                "ridiculous",
                "useless",
                "hate",
                "annoyed",
                "frustrated",
                "unacceptable",
            ];
            let positive = ["thanks", "thank", "great", "perfect", "love", "awesome", "happy"];
            let has = |list: &[&str]| list.iter().any(|w| t.split(' ').any(|x| x == *w));
            let frustrated = has(&negative)
                || text.contains("!!")
                || (text.len() > 12 && *text == text.to_uppercase() && text.chars().any(char::is_alphabetic));
            let sentiment = if frustrated {
                "negative"
            } else if has(&positive) {
                "positive"
            } else {
                "neutral"
            };
            AiOutcome::Sentiment {
                sentiment: sentiment.into(),
                frustrated,
            }
        }
        AiQuery::Instruction { text, .. } => AiOutcome::Text { text: text.clone() },
        AiQuery::Answer { question, .. } => AiOutcome::Answer {
            text: String::new(),
            sources: Vec::new(),
            intent: answer_intent(question).unwrap_or(AnswerIntent::Unanswered),
        },
    }
}

/// Recognises "I want a person" and "that solved it".
pub fn answer_intent(text: &str) -> Option<AnswerIntent> {
    let t = format!(" {} ", crate::matching::normalize(text));
    let human = [
        " human ",
        " person ",
        " agent ",
        " real person",
        " someone ",
        " representative ",
        " operator ",
        " talk to a ",
    ];
    let solved = [
        " that solved it",
        " that helped",
        " thanks that",
        " problem solved",
        " it worked",
        " that works",
        " all good",
        " resolved ",
    ];
    if human.iter().any(|h| t.contains(h)) {
        Some(AnswerIntent::Human)
    } else if solved.iter().any(|s| t.contains(s)) {
        Some(AnswerIntent::Resolved)
    } else {
        None
    }
}

fn word_set(text: &str) -> BTreeSet<String> {
    crate::matching::normalize(text)
        .split(' ')
        .filter(|w| w.len() > 2)
        .map(str::to_string)
        .collect()
}

/// Pulls one typed field out of free text.
pub fn extract_field(kind: ExtractKind, pattern: Option<&str>, text: &str) -> Option<Value> {
    let words: Vec<&str> = text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '\'')))
        .collect();
    match kind {
        ExtractKind::Email => words.iter().find_map(|w| {
            crate::matching::validate_input(crate::document::InputKind::Email, w.trim_end_matches('.'), None).ok()
        }),
        ExtractKind::Phone => {
            let re = regex::Regex::new(r"\+?[\d][\d ()\-.]{5,}\d").ok()?;
            let found = re.find_iter(text).find_map(|m| {
                crate::matching::validate_input(crate::document::InputKind::Phone, m.as_str(), None).ok()
            });
            found
        }
        ExtractKind::OrderId => {
            let re = regex::Regex::new(r"(?i)\b(?:#?[A-Z]{1,4}-?\d{3,}|#\d{3,}|\d{5,})\b").ok()?;
            re.find(text)
                .map(|m| Value::String(m.as_str().trim_start_matches('#').to_string()))
        }
        ExtractKind::Number => words
            .iter()
            .find_map(|w| crate::matching::parse_number(w.trim_end_matches('.')))
            .map(|n| serde_json::json!(n)),
        ExtractKind::Date => words
            .iter()
            .find_map(|w| crate::matching::parse_date(w.trim_end_matches('.')))
            .map(Value::String),
        ExtractKind::Name => {
            let lower = text.to_lowercase();
            for cue in ["my name is ", "i am ", "i'm ", "this is "] {
                if let Some(at) = lower.find(cue) {
                    let rest = &text[at + cue.len()..];
                    let name: Vec<&str> = rest
                        .split_whitespace()
                        .take_while(|w| w.chars().next().is_some_and(char::is_uppercase))
                        .take(3)
                        .collect();
                    if !name.is_empty() {
                        return Some(Value::String(name.join(" ").trim_end_matches(['.', ',']).to_string()));
                    }
                }
            }
            None
        }
        ExtractKind::Text => (!text.trim().is_empty()).then(|| Value::String(text.trim().to_string())),
        ExtractKind::Regex => {
            let re = crate::flow::compile_pattern(pattern?).ok()?;
            let caps = re.captures(text)?;
            let m = caps.get(1).or_else(|| caps.get(0))?;
            Some(Value::String(m.as_str().to_string()))
        }
    }
}

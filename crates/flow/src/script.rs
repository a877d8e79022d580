//! Scripted tests: conversations written down with what the flow must answer, run on the
//! [`Simulator`]. The format is documented in `docs/scripted-tests.md`.

use crate::flow::Flow;
use crate::runtime::*;
use crate::sim::{baseline_ai, Coverage, Executor, Line, Simulator, Speaker};
pub use crate::test_case::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

/// The outcome of one test.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    pub transcript: Vec<Line>,
    #[serde(skip)]
    pub coverage: Coverage,
}

/// Where and how a test failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// 0-based index of the failing step.
    pub step: usize,
    pub step_text: String,
    pub expected: String,
    pub actual: String,
}

/// Parses a duration: `45s`, `10m`, `2h`, `1d`, `1h30m`; a bare number is seconds.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(secs) = t.parse::<u64>() {
        return secs.checked_mul(1000);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            let n: u64 = num.parse().ok()?;
            num.clear();
            let unit = match c {
                's' => 1_000,
                'm' => 60_000,
                'h' => 3_600_000,
                'd' => 86_400_000,
                _ => return None,
            };
            total = total.checked_add(n.checked_mul(unit)?)?;
        }
    }
    num.is_empty().then_some(total)
}

/// Answers effects from a test's fixtures; AI without a fixture gets [`baseline_ai`].
pub struct FixtureExecutor {
    webhooks: BTreeMap<String, VecDeque<WebhookFixture>>,
    ai: BTreeMap<String, VecDeque<AiOutcome>>,
    /// Webhook nodes called without a fixture.
    pub missing: Vec<String>,
}

impl FixtureExecutor {
    pub fn new(fixtures: &Fixtures) -> FixtureExecutor {
        FixtureExecutor {
            webhooks: fixtures
                .webhooks
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
            ai: fixtures
                .ai
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
            missing: Vec::new(),
        }
    }
}

/// Takes the next fixture; the last one repeats.
fn next_fixture<T: Clone>(queue: &mut VecDeque<T>) -> Option<T> {
    if queue.len() > 1 {
        queue.pop_front()
    } else {
        queue.front().cloned()
    }
}

impl Executor for FixtureExecutor {
    fn webhook(&mut self, call: &WebhookCall) -> WebhookOutcome {
        match self.webhooks.get_mut(&call.node).and_then(next_fixture) {
            Some(WebhookFixture::Response { status, body }) => WebhookOutcome::Response { status, body },
            Some(WebhookFixture::Failure { error }) => WebhookOutcome::Failed { reason: error },
            None => {
                self.missing.push(call.node.clone());
                WebhookOutcome::Failed {
                    reason: format!("the test gives no fixture for webhook `{}`", call.node),
                }
            }
        }
    }

    fn ai(&mut self, request: &AiRequest, transcript: &[Line]) -> AiOutcome {
        match self.ai.get_mut(&request.node).and_then(next_fixture) {
            Some(outcome) => outcome,
            None => baseline_ai(request, transcript),
        }
    }
}

/// Runs one test against a flow.
pub fn run_test(flow: &Flow, test: &TestCase) -> TestResult {
    run_test_in(flow, test, StaticWorld::default())
}

/// [`run_test`] in `world` (with an intent classifier, in the CLI and the server).
pub fn run_test_in(flow: &Flow, test: &TestCase, world: StaticWorld) -> TestResult {
    let sim = simulate_in(flow, test, world);
    TestResult {
        name: test.name.clone(),
        passed: sim.failure.is_none(),
        failure: sim.failure,
        transcript: sim.transcript,
        coverage: sim.coverage,
    }
}

/// Everything a simulated conversation did: what the builder's test conversation shows.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub transcript: Vec<Line>,
    /// The flow's state at the end (status, node, variables).
    pub state: State,
    /// Every edge taken, in order: the path to light on the canvas.
    pub routes: Vec<Effect>,
    pub handovers: Vec<Handover>,
    /// Pending timers: (due at ms since the start, id).
    pub timers: Vec<(u64, u64)>,
    /// Milliseconds since the conversation began.
    pub clock_ms: u64,
    #[serde(skip)]
    pub coverage: Coverage,
    /// The first step whose expectation failed (the steps after it did not run).
    pub failure: Option<Failure>,
}

/// Runs a test's steps (any mix of actions and expectations) and returns what happened.
pub fn simulate(flow: &Flow, test: &TestCase) -> Simulation {
    simulate_in(flow, test, StaticWorld::default())
}

/// [`simulate`] in `world` (a workspace's settings, for the builder's test conversation); the
/// test's setup still decides what it names.
pub fn simulate_in(flow: &Flow, test: &TestCase, world: StaticWorld) -> Simulation {
    let setup = &test.setup;
    let world = StaticWorld {
        open: setup.open.unwrap_or(world.open),
        agents_online: setup.agents_online.unwrap_or(world.agents_online),
        handoff_enabled: setup.handoff_enabled.unwrap_or(world.handoff_enabled),
        reply_targets: setup.reply_targets.unwrap_or(world.reply_targets),
        ..world
    };
    let mut sim = Simulator::new(flow, world);
    let mut ex = FixtureExecutor::new(&test.fixtures);
    let mut runner = Runner {
        reply_cursor: 0,
        handover_cursor: 0,
        agent: "Agent".to_string(),
    };
    sim.start(test.setup.variables.clone(), test.setup.first_message.clone(), &mut ex);
    let mut failure = None;
    for (n, step) in test.steps.iter().enumerate() {
        let result = runner.run_step(&mut sim, &mut ex, step);
        let result = result.and_then(|()| match ex.missing.first() {
            Some(node) => Err((
                format!("a fixture for webhook `{node}`"),
                "none in the test's fixtures.webhooks".to_string(),
            )),
            None => Ok(()),
        });
        if let Err((expected, actual)) = result {
            failure = Some(Failure {
                step: n,
                step_text: serde_json::to_string(step).unwrap_or_default(),
                expected,
                actual,
            });
            break;
        }
    }
    Simulation {
        routes: sim
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::Route { .. }))
            .cloned()
            .collect(),
        timers: sim.timers().to_vec(),
        clock_ms: sim.now_ms,
        handovers: sim.handovers.clone(),
        transcript: sim.transcript,
        state: sim.state,
        coverage: sim.coverage,
        failure,
    }
}

struct Runner {
    reply_cursor: usize,
    handover_cursor: usize,
    agent: String,
}

type StepResult = Result<(), (String, String)>;

impl Runner {
    fn run_step(&mut self, sim: &mut Simulator, ex: &mut FixtureExecutor, step: &TestStep) -> StepResult {
        match step {
            TestStep::Say(text) => {
                sim.say(text, ex);
                Ok(())
            }
            TestStep::Press(option) => {
                let buttons = sim.current_buttons();
                if !buttons.iter().any(|b| &b.id == option) {
                    let shown: Vec<String> = buttons.iter().map(|b| b.id.clone()).collect();
                    return Err((
                        format!("a button `{option}` to press"),
                        if shown.is_empty() {
                            "no buttons are shown".into()
                        } else {
                            format!("the buttons are {}", shown.join(", "))
                        },
                    ));
                }
                sim.press(option, ex);
                Ok(())
            }
            TestStep::ExpectReply(expect) => {
                let Some((index, line)) = sim
                    .transcript
                    .iter()
                    .enumerate()
                    .skip(self.reply_cursor)
                    .find(|(_, l)| l.speaker == Speaker::Bot)
                else {
                    return Err((describe_expect(expect), "no further bot message".into()));
                };
                self.reply_cursor = index + 1;
                check_text(expect, line)
            }
            TestStep::ExpectNoReply => {
                let left: Vec<&Line> = sim
                    .transcript
                    .iter()
                    .skip(self.reply_cursor)
                    .filter(|l| l.speaker == Speaker::Bot)
                    .collect();
                self.reply_cursor = sim.transcript.len();
                match left.first() {
                    None => Ok(()),
                    Some(l) => Err(("no bot message".into(), format!("the bot said: {:?}", l.text))),
                }
            }
            TestStep::ExpectVariables(expected) => {
                for (name, want) in expected {
                    let got = sim.state.vars.get(name).cloned().unwrap_or(Value::Null);
                    if !values_match(want, &got) {
                        return Err((format!("{name} = {want}"), format!("{name} = {got}")));
                    }
                }
                Ok(())
            }
            TestStep::ExpectHandover(expect) => {
                let Some(h) = sim.handovers.get(self.handover_cursor) else {
                    return Err((
                        "a hand-over".into(),
                        format!("none (the conversation is {})", sim.state.status.as_str()),
                    ));
                };
                self.handover_cursor += 1;
                check_handover(expect, h)
            }
            TestStep::ExpectStatus(status) => {
                let got = sim.state.status.as_str();
                if got == status {
                    Ok(())
                } else {
                    Err((format!("status {status}"), format!("status {got}")))
                }
            }
            TestStep::ExpectAt(node) => {
                let got = sim.state.at.clone().unwrap_or_default();
                if &got == node {
                    Ok(())
                } else {
                    Err((format!("stopped at `{node}`"), format!("stopped at `{got}`")))
                }
            }
            TestStep::ExpectEnd(expect) => {
                if sim.state.status != Status::Ended {
                    return Err(("the flow ended".into(), format!("status {}", sim.state.status.as_str())));
                }
                match expect.resolved {
                    Some(r) if r != sim.state.resolved => {
                        Err((format!("resolved = {r}"), format!("resolved = {}", sim.state.resolved)))
                    }
                    _ => Ok(()),
                }
            }
            TestStep::TakeOver(agent) => {
                self.agent = agent.clone();
                expect_applied(sim.agent_takes_over(agent, ex), "take over")
            }
            TestStep::AgentReply(text) => {
                let agent = self.agent.clone();
                expect_applied(sim.agent_replies(&agent, text, ex), "agent reply")
            }
            TestStep::HandBack(h) => {
                if let Some(node) = &h.resume_at {
                    if sim.flow().index_of(node).is_none() {
                        return Err((format!("a node `{node}` to resume at"), "no such node".into()));
                    }
                }
                expect_applied(sim.hand_back(h.variables.clone(), h.resume_at.clone(), ex), "hand back")
            }
            TestStep::Resolve => expect_applied(sim.resolve(ex), "resolve"),
            TestStep::Cancel => expect_applied(sim.cancel(ex), "cancel"),
            TestStep::Advance(d) => {
                let ms = parse_duration_ms(d)
                    .ok_or_else(|| ("a duration like 30s, 10m or 1h30m".to_string(), format!("{d:?}")))?;
                sim.advance(ms, ex);
                Ok(())
            }
            TestStep::Set(change) => {
                if let Some(v) = change.open {
                    sim.world.open = v;
                }
                if let Some(v) = change.agents_online {
                    sim.world.agents_online = v;
                }
                if let Some(v) = change.handoff_enabled {
                    sim.world.handoff_enabled = v;
                }
                Ok(())
            }
        }
    }
}

fn expect_applied(handled: Handled, what: &str) -> StepResult {
    match handled {
        Handled::Applied => Ok(()),
        Handled::Ignored(why) => Err((format!("the {what} to apply"), format!("it was ignored: {why}"))),
    }
}

/// Numbers compare by value; everything else exactly.
fn values_match(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => want == got,
    }
}

fn describe_expect(expect: &TextExpect) -> String {
    match expect {
        TextExpect::Exact(t) => format!("{t:?}"),
        TextExpect::Detailed(c) => {
            let mut parts = Vec::new();
            if let Some(e) = &c.equals {
                parts.push(format!("{e:?}"));
            }
            if let Some(s) = &c.contains {
                parts.push(format!("a message containing {s:?}"));
            }
            if let Some(r) = &c.regex {
                parts.push(format!("a message matching /{r}/"));
            }
            if let Some(b) = &c.buttons {
                parts.push(format!("buttons [{}]", b.join(", ")));
            }
            parts.join(" with ")
        }
    }
}

fn check_text(expect: &TextExpect, line: &Line) -> StepResult {
    let actual = || {
        let labels: Vec<&str> = line.buttons.iter().map(|b| b.label.as_str()).collect();
        if labels.is_empty() {
            format!("{:?}", line.text)
        } else {
            format!("{:?} with buttons [{}]", line.text, labels.join(", "))
        }
    };
    let fail = || Err((describe_expect(expect), actual()));
    match expect {
        TextExpect::Exact(t) => {
            if line.text.trim() == t.trim() {
                Ok(())
            } else {
                fail()
            }
        }
        TextExpect::Detailed(c) => {
            if let Some(e) = &c.equals {
                if line.text.trim() != e.trim() {
                    return fail();
                }
            }
            if let Some(s) = &c.contains {
                if !line.text.to_lowercase().contains(&s.to_lowercase()) {
                    return fail();
                }
            }
            if let Some(r) = &c.regex {
                match crate::flow::compile_pattern(r) {
                    Ok(re) if re.is_match(&line.text) => {}
                    Ok(_) => return fail(),
                    Err(e) => return Err((format!("a valid regex /{r}/"), e)),
                }
            }
            if let Some(b) = &c.buttons {
                let labels: Vec<&str> = line.buttons.iter().map(|b| b.label.as_str()).collect();
                if labels != b.iter().map(String::as_str).collect::<Vec<_>>() {
                    return fail();
                }
            }
            Ok(())
        }
    }
}

fn check_handover(expect: &HandoverExpect, h: &Handover) -> StepResult {
    let got = format!(
        "hand-over at `{}` to {} ({}), context {}",
        h.node,
        h.team.as_deref().unwrap_or("the default queue"),
        h.priority.as_str(),
        h.context
            .variables
            .iter()
            .map(|v| match &v.value {
                Some(val) => format!("{}={}", v.name, val),
                None => format!("{}=(missing)", v.name),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let fail = |what: String| Err((what, got.clone()));
    if let Some(node) = &expect.node {
        if node != &h.node {
            return fail(format!("hand-over at `{node}`"));
        }
    }
    if let Some(team) = &expect.team {
        if Some(team) != h.team.as_ref() {
            return fail(format!("hand-over to team {team}"));
        }
    }
    if let Some(p) = &expect.priority {
        if p != h.priority.as_str() {
            return fail(format!("priority {p}"));
        }
    }
    for name in &expect.context {
        let present = h
            .context
            .variables
            .iter()
            .any(|v| &v.name == name && v.value.as_ref().is_some_and(|x| !x.is_null()));
        if !present {
            return fail(format!("context with {name}"));
        }
    }
    for (name, want) in &expect.values {
        let got_value = h
            .context
            .variables
            .iter()
            .find(|v| &v.name == name)
            .and_then(|v| v.value.clone())
            .unwrap_or(Value::Null);
        if !values_match(want, &got_value) {
            return fail(format!("context {name} = {want}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("45s"), Some(45_000));
        assert_eq!(parse_duration_ms("10m"), Some(600_000));
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("90"), Some(90_000));
        assert_eq!(parse_duration_ms("2x"), None);
        assert_eq!(parse_duration_ms("5m3"), None);
        assert_eq!(parse_duration_ms(""), None);
    }

    #[test]
    fn steps_read_as_written() {
        let steps: Vec<TestStep> = serde_json::from_str(
            r#"[{"say": "hi"}, {"expect_reply": "Hello"}, {"expect_reply": {"contains": "mail"}},
                "resolve", "expect_no_reply", {"advance": "10m"}, {"hand_back": {"resume_at": "x"}}]"#,
        )
        .unwrap();
        assert_eq!(steps[0], TestStep::Say("hi".into()));
        assert_eq!(steps[3], TestStep::Resolve);
        assert!(
            matches!(&steps[2], TestStep::ExpectReply(TextExpect::Detailed(c)) if c.contains.as_deref() == Some("mail"))
        );
        let bad: Result<Vec<TestStep>, _> = serde_json::from_str(r#"[{"sya": "hi"}]"#);
        assert!(bad.unwrap_err().to_string().contains("unknown variant `sya`"));
    }
}

//! `baton chat FLOW`: the customer in the terminal, with /commands for the agent and the clock.

use crate::report::{format_diagnostic, read_limited};
use anyhow::{bail, Result};
use baton_flow::runtime::{AiOutcome, AiRequest, Effect, Handled, StaticWorld, WebhookCall, WebhookOutcome};
use baton_flow::script::parse_duration_ms;
use baton_flow::sim::{Executor, Line, Simulator, Speaker};
use baton_flow::{check, Flow};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

const HELP: &str = "\
Type as the customer. Commands:
  /press ID                 press an option button (or type its label or number)
  /takeover [NAME]          an agent takes the conversation (default name: Agent)
  /reply TEXT               the agent replies
  /handback [k=v ...] [@node]  hand back to the flow, setting variables, optionally resuming at a node
  /resolve                  the agent resolves the conversation
  /cancel                   the customer cancels the wait for a person
  /wait DURATION            move the clock on (30s, 10m, 1h30m): stalling messages, timeouts
  /open on|off              business hours open or closed
  /agents on|off            agents online or not
  /handoff on|off           hand-off switched on or off
  /vars                     show the variables
  /state                    show the flow state as JSON
  /restart                  start the conversation again
  /quit                     leave";

struct ChatExecutor {
    mock_webhooks: bool,
    /// The server's webhook client (every address allowed: this is the operator's terminal).
    webhooks: baton_server::webhook::WebhookClient,
    runtime: tokio::runtime::Runtime,
    ai: baton_ai::OfflineProvider,
    knowledge: Option<baton_ai::Knowledge>,
}

impl Executor for ChatExecutor {
    fn webhook(&mut self, call: &WebhookCall) -> WebhookOutcome {
        if self.mock_webhooks {
            return WebhookOutcome::Failed {
                reason: "webhooks are mocked (--mock-webhooks)".into(),
            };
        }
        self.runtime.block_on(self.webhooks.call(call, None)).0
    }

    /// The offline AI, answering from `--kb` articles when given.
    fn ai(&mut self, request: &AiRequest, transcript: &[Line]) -> AiOutcome {
        let mut context = baton_ai::AiContext::from_sim_lines(transcript);
        if let Some(k) = &self.knowledge {
            context = context.with_knowledge(k.clone());
        }
        self.ai.run_blocking(request, &context)
    }
}

/// The world of the chat: a workspace's settings (as `PUT /api/v1/workspace/settings` takes
/// them, or the whole `GET /api/v1/workspace` answer) or the defaults, escapes the phrases miss
/// read by the offline classifier.
fn chat_world(settings: Option<&Path>, ai: &baton_ai::OfflineProvider) -> Result<StaticWorld> {
    let Some(path) = settings else {
        return Ok(ai.default_world());
    };
    let text = read_limited(path)?;
    let mut value: Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Some(inner) = value.get_mut("settings").filter(|v| v.is_object()) {
        value = inner.take();
    }
    let settings: baton_server::settings::WorkspaceSettings = serde_json::from_value(value)
        .map_err(|e| anyhow::anyhow!("{}: not workspace settings: {e}", path.display()))?;
    println!("Workspace settings from {}.", path.display());
    Ok(settings.simulated_world(ai))
}

pub fn run(
    path: &Path,
    mock_webhooks: bool,
    vars: &[String],
    kb: Option<&Path>,
    settings: Option<&Path>,
) -> Result<ExitCode> {
    let name = path.display().to_string();
    let text = read_limited(path)?;
    let checked = check(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    for d in &checked.diagnostics {
        eprintln!("{}", format_diagnostic(&name, d));
    }
    let Some(flow) = checked.flow else {
        bail!("{name} cannot run: fix the errors above");
    };
    let mut start_vars = BTreeMap::new();
    for v in vars {
        let Some((k, val)) = v.split_once('=') else {
            bail!("--var {v}: write NAME=VALUE, e.g. contact.name=Ana");
        };
        start_vars.insert(k.trim().to_string(), parse_value(val));
    }
    let knowledge = match kb {
        Some(dir) => {
            let mut base = baton_ai::KnowledgeBase::new();
            let articles = baton_ai::import::load_articles(dir, "default")
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?;
            let count = articles.len();
            for a in articles {
                base.upsert(a)
                    .map_err(|e| anyhow::anyhow!("indexing {}: {e}", dir.display()))?;
            }
            println!("Knowledge base: {count} articles from {}.", dir.display());
            Some(baton_ai::Knowledge::new(base))
        }
        None => None,
    };
    let mut ex = ChatExecutor {
        mock_webhooks,
        webhooks: baton_server::webhook::WebhookClient::new(
            baton_server::webhook::AddressPolicy::AllowAll,
            std::time::Duration::from_millis(200),
        ),
        runtime: tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        ai: baton_ai::OfflineProvider::new(),
        knowledge,
    };
    println!(
        "Chatting with \"{}\". Type /help for commands, /quit to leave.",
        flow.name()
    );
    let world = chat_world(settings, &ex.ai)?;
    let mut session = Session::new(&flow, world.clone());
    session.sim.start(start_vars.clone(), None, &mut ex);
    session.show();

    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("you> ");
        std::io::stdout().flush()?;
        let Some(line) = lines.next() else { break };
        let line = line?;
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        if input == "/quit" || input == "/exit" {
            break;
        }
        if input == "/restart" {
            session = Session::new(&flow, world.clone());
            session.sim.start(start_vars.clone(), None, &mut ex);
            session.show();
            continue;
        }
        if let Err(message) = session.command(input, &mut ex) {
            println!("  ! {message}");
        }
        session.show();
    }
    Ok(ExitCode::SUCCESS)
}

struct Session<'f> {
    sim: Simulator<'f>,
    shown: usize,
    shown_effects: usize,
    agent: String,
}

impl<'f> Session<'f> {
    fn new(flow: &'f Flow, world: StaticWorld) -> Session<'f> {
        Session {
            sim: Simulator::new(flow, world),
            shown: 0,
            shown_effects: 0,
            agent: "Agent".into(),
        }
    }

    fn command(&mut self, input: &str, ex: &mut ChatExecutor) -> Result<(), String> {
        let Some(command) = input.strip_prefix('/') else {
            return applied(self.sim.say(input, ex));
        };
        let (cmd, rest) = command.split_once(' ').unwrap_or((command, ""));
        let rest = rest.trim();
        match cmd {
            "help" => {
                println!("{HELP}");
                Ok(())
            }
            "press" => applied(self.sim.press(rest, ex)),
            "takeover" => {
                if !rest.is_empty() {
                    self.agent = rest.to_string();
                }
                let agent = self.agent.clone();
                applied(self.sim.agent_takes_over(&agent, ex))
            }
            "reply" => {
                let agent = self.agent.clone();
                applied(self.sim.agent_replies(&agent, rest, ex))
            }
            "handback" => {
                let mut variables = BTreeMap::new();
                let mut resume_at = None;
                for word in rest.split_whitespace() {
                    if let Some(node) = word.strip_prefix('@') {
                        resume_at = Some(node.to_string());
                    } else if let Some((k, v)) = word.split_once('=') {
                        variables.insert(k.to_string(), parse_value(v));
                    } else {
                        return Err(format!("`{word}`: write name=value or @node"));
                    }
                }
                applied(self.sim.hand_back(variables, resume_at, ex))
            }
            "resolve" => applied(self.sim.resolve(ex)),
            "cancel" => applied(self.sim.cancel(ex)),
            "wait" => {
                let ms = parse_duration_ms(rest).ok_or("write a duration like 30s, 10m or 1h30m")?;
                self.sim.advance(ms, ex);
                println!("  (clock: +{})", format_ms(self.sim.now_ms));
                Ok(())
            }
            "open" | "agents" | "handoff" => {
                let on = match rest {
                    "on" => true,
                    "off" => false,
                    _ => return Err(format!("/{cmd} on or /{cmd} off")),
                };
                match cmd {
                    "open" => self.sim.world.open = on,
                    "agents" => self.sim.world.agents_online = on,
                    _ => self.sim.world.handoff_enabled = on,
                }
                Ok(())
            }
            "vars" => {
                for (k, v) in &self.sim.state.vars {
                    println!("  {k} = {v}");
                }
                Ok(())
            }
            "state" => {
                println!("{}", serde_json::to_string_pretty(&self.sim.state).unwrap_or_default());
                Ok(())
            }
            other => Err(format!("unknown command /{other}; /help lists them")),
        }
    }

    /// Prints what happened since the last call: messages, the path taken, variables set.
    fn show(&mut self) {
        for l in &self.sim.transcript[self.shown..] {
            match l.speaker {
                Speaker::Customer => {}
                Speaker::Bot => {
                    println!("bot> {}", l.text.replace('\n', "\n     "));
                    for (i, b) in l.buttons.iter().enumerate() {
                        println!("     [{}] {} ({})", i + 1, b.label, b.id);
                    }
                }
                Speaker::Agent => println!("agent> {}", l.text),
                Speaker::Event => println!("  * {}", l.text),
            }
        }
        self.shown = self.sim.transcript.len();
        let mut path = Vec::new();
        for e in &self.sim.effects[self.shown_effects..] {
            match e {
                Effect::Route { from, port, to } => {
                    if path.is_empty() {
                        path.push(from.clone());
                    }
                    path.push(format!("-{port}-> {}", to.as_deref().unwrap_or("(not connected)")));
                }
                Effect::SetVariables { values } => {
                    for (k, v) in values {
                        println!("  * {k} = {v}");
                    }
                }
                _ => {}
            }
        }
        self.shown_effects = self.sim.effects.len();
        if !path.is_empty() {
            println!("  path: {}", path.join(" "));
        }
        println!(
            "  [{}{}]",
            self.sim.state.status.as_str(),
            self.sim
                .state
                .at
                .as_deref()
                .map(|a| format!(" at {a}"))
                .unwrap_or_default()
        );
    }
}

fn applied(h: Handled) -> Result<(), String> {
    match h {
        Handled::Applied => Ok(()),
        Handled::Ignored(why) => Err(format!("nothing happened: {why}")),
    }
}

/// `42` → number, `true` → bool, anything else → text.
fn parse_value(v: &str) -> Value {
    serde_json::from_str::<Value>(v)
        .ok()
        .filter(|x| x.is_number() || x.is_boolean())
        .unwrap_or_else(|| Value::String(v.to_string()))
}

fn format_ms(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60)
}

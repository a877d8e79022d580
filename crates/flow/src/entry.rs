//! Entry routing: which live flow a new conversation starts on.
//!
//! Each flow's trigger carries entry rules (the first message's keywords or intents, the page,
//! the channel, the contact); the workspace orders its live flows and names a fallback. The
//! first flow in order whose rules all hold takes the conversation; when none does, the fallback
//! does (or, with no fallback, the first flow): a customer is never met with silence. The
//! fallback is not offered conversations in its place in the order: it takes only the rest,
//! whatever its own rules say.
//!
//! Pure like the runtime: the server asks the classifier when [`route`] says so and routes
//! again with its verdict; a start without a message that a message rule could still claim waits
//! for the first message ([`Decision::AwaitMessage`]).

use crate::document::{Category, NodeKind, TriggerNode, TriggerOn};
use crate::flow::Flow;
use crate::matching::normalize;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The variable that holds the page the widget was on when the conversation started.
pub const PAGE_URL_VARIABLE: &str = "conversation.page_url";
/// The variable that holds the conversation's channel.
pub const CHANNEL_VARIABLE: &str = "conversation.channel";

/// A live flow that may take a new conversation, in the workspace's order.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub id: &'a str,
    pub flow: &'a Flow,
}

impl<'a> Candidate<'a> {
    fn trigger(&self) -> Option<&'a TriggerNode> {
        let flow: &'a Flow = self.flow;
        let i = flow.trigger()?;
        match &flow.node(i).kind {
            NodeKind::Trigger(t) => Some(t),
            _ => None,
        }
    }
}

/// What is known about a new conversation when it is routed.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The variables it starts with: `contact.*`, `conversation.channel`, `conversation.page_url`.
    pub vars: &'a BTreeMap<String, Value>,
    /// The customer's first message, once there is one.
    pub message: Option<&'a str>,
    pub intent: Intent<'a>,
}

/// The classifier's verdict on the first message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent<'a> {
    /// Not asked (yet).
    NotAsked,
    /// The flow whose intents the message means, if any.
    Picked(Option<&'a str>),
}

/// Why a flow took the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    /// Its entry rules hold.
    Rules,
    /// No flow's rules hold: the workspace's fallback flow.
    Fallback,
    /// No flow's rules hold and no fallback is set: the first flow in order.
    FirstFlow,
    /// The widget or the API named the flow.
    Named,
}

impl Matched {
    pub fn as_str(self) -> &'static str {
        match self {
            Matched::Rules => "rules",
            Matched::Fallback => "fallback",
            Matched::FirstFlow => "first_flow",
            Matched::Named => "named",
        }
    }
}

/// What to do with a new conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Start the candidate at this index.
    Start { flow: usize, by: Matched },
    /// A flow that comes first decides on the first message, and there is none yet: wait for
    /// it. `fallback` is where the conversation would start if nothing else matched.
    AwaitMessage { fallback: usize },
    /// Ask the classifier which of these intents (category id: the flow's id) the message
    /// means, then route again with [`Intent::Picked`].
    Classify { intents: Vec<Category> },
    /// No live flow.
    NoFlow,
}

/// Routes a new conversation across the candidates (live flows, in order).
pub fn route(candidates: &[Candidate<'_>], fallback: Option<&str>, facts: &Facts<'_>) -> Decision {
    let Some(default) = fallback_index(candidates, fallback) else {
        return Decision::NoFlow;
    };
    for (i, c) in candidates.iter().enumerate() {
        let Some(t) = c.trigger() else { continue };
        // The fallback only takes what no other flow takes.
        if Some(c.id) == fallback || t.on == TriggerOn::ApiEvent || !audience_holds(c.flow, t, facts.vars) {
            continue;
        }
        if !t.needs_message() {
            return Decision::Start {
                flow: i,
                by: Matched::Rules,
            };
        }
        let Some(message) = facts.message else {
            return Decision::AwaitMessage { fallback: default.0 };
        };
        if keyword_hit(t, message) {
            return Decision::Start {
                flow: i,
                by: Matched::Rules,
            };
        }
        if t.intents.is_empty() {
            continue;
        }
        match facts.intent {
            Intent::NotAsked => {
                return Decision::Classify {
                    intents: intents_from(&candidates[i..], fallback, facts.vars),
                }
            }
            Intent::Picked(Some(id)) if id == c.id => {
                return Decision::Start {
                    flow: i,
                    by: Matched::Rules,
                }
            }
            Intent::Picked(_) => {}
        }
    }
    Decision::Start {
        flow: default.0,
        by: default.1,
    }
}

/// The fallback when it is live and a conversation can start on it, else the first such flow
/// (None: no live flow can start a conversation; a flow that starts on an API event cannot).
fn fallback_index(candidates: &[Candidate<'_>], fallback: Option<&str>) -> Option<(usize, Matched)> {
    let startable = |c: &Candidate<'_>| c.trigger().is_some_and(|t| t.on != TriggerOn::ApiEvent);
    if let Some(i) = fallback.and_then(|id| candidates.iter().position(|c| c.id == id && startable(c))) {
        return Some((i, Matched::Fallback));
    }
    candidates.iter().position(startable).map(|i| (i, Matched::FirstFlow))
}

/// The intents the classifier chooses among: those of the flows from here on whose other rules
/// hold.
fn intents_from(candidates: &[Candidate<'_>], fallback: Option<&str>, vars: &BTreeMap<String, Value>) -> Vec<Category> {
    candidates
        .iter()
        .filter(|c| Some(c.id) != fallback)
        .filter_map(|c| {
            let t = c.trigger()?;
            let eligible = t.needs_message() && !t.intents.is_empty() && audience_holds(c.flow, t, vars);
            eligible.then(|| Category {
                id: c.id.to_string(),
                description: Some(c.flow.name().to_string()),
                examples: t.intents.clone(),
            })
        })
        .collect()
}

/// Whether a start may begin this one flow when nobody routed it (the simulator, scripted tests,
/// a flow named by the API): its page, channel and contact rules hold, and with `on: keyword` a
/// keyword is in the message. Intents are not judged here (there is no classifier); a flow with
/// intents starts on any first message.
pub fn admits(flow: &Flow, facts: &Facts<'_>) -> Result<(), &'static str> {
    let Some(t) = (Candidate { id: "", flow }).trigger() else {
        return Err("the flow has no trigger");
    };
    if !audience_holds(flow, t, facts.vars) {
        return Err("the trigger's page, channel or contact rules do not hold");
    }
    if t.needs_message() && t.intents.is_empty() && !keyword_hit(t, facts.message.unwrap_or("")) {
        return Err("the first message has none of the trigger's keywords");
    }
    Ok(())
}

/// The page, channel and contact rules hold.
pub fn audience_holds(flow: &Flow, t: &TriggerNode, vars: &BTreeMap<String, Value>) -> bool {
    let text = |name: &str| vars.get(name).and_then(Value::as_str).unwrap_or("");
    if !t.pages.is_empty() {
        let page = text(PAGE_URL_VARIABLE);
        if !t.pages.iter().any(|p| page_matches(p, page)) {
            return false;
        }
    }
    if !t.channels.is_empty() {
        let channel = text(CHANNEL_VARIABLE);
        if !t.channels.iter().any(|c| c.eq_ignore_ascii_case(channel)) {
            return false;
        }
    }
    t.contact.iter().all(|c| {
        let value = c.variable.as_deref().and_then(|v| vars.get(v));
        let expected = || c.value.as_ref().map(crate::template::display_value).unwrap_or_default();
        // Business hours are not an entry rule (validation refuses them).
        crate::condition::holds(flow, c, value, &expected, &|_| false)
    })
}

/// A keyword of the trigger is in the message, as whole words (case and punctuation ignored).
pub fn keyword_hit(t: &TriggerNode, message: &str) -> bool {
    let padded = format!(" {} ", normalize(message));
    t.keywords.iter().any(|k| {
        let k = normalize(k);
        !k.is_empty() && padded.contains(&format!(" {k} "))
    })
}

/// A URL pattern matches the whole URL, ignoring case; `*` matches any run of characters.
pub fn page_matches(pattern: &str, url: &str) -> bool {
    let pattern = pattern.trim().to_lowercase();
    let url = url.trim().to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(split) => split,
        None => return url.is_empty(),
    };
    let Some(mut left) = url.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return left.is_empty();
    };
    for part in middle {
        match left.find(part) {
            Some(at) => left = &left[at + part.len()..],
            None => return false,
        }
    }
    left.len() >= last.len() && left.ends_with(last)
}

// ---------------------------------------------------------------------------------------------
// Findings about the workspace's routing
// ---------------------------------------------------------------------------------------------

/// A problem with how the live flows share conversations, in words a support lead understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutingFinding {
    /// `entry_shadowed`, `entry_keyword_taken` or `no_fallback`.
    pub code: &'static str,
    /// The flow the finding is about.
    pub flow: String,
    /// The flow that takes its conversations first, for the two shadowing codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub message: String,
}

/// Rules that shadow each other (a later flow that can never start, or a keyword an earlier
/// flow takes), and a missing fallback.
pub fn findings(candidates: &[Candidate<'_>], fallback: Option<&str>) -> Vec<RoutingFinding> {
    let mut out = Vec::new();
    let startable: Vec<(&Candidate<'_>, &TriggerNode)> = candidates
        .iter()
        .filter(|c| Some(c.id) != fallback)
        .filter_map(|c| c.trigger().map(|t| (c, t)))
        .filter(|(_, t)| t.on != TriggerOn::ApiEvent)
        .collect();
    for (j, (later, lt)) in startable.iter().enumerate() {
        for (earlier, et) in &startable[..j] {
            if !audience_covers(et, lt) {
                continue;
            }
            let name = |c: &Candidate<'_>| c.flow.name().to_string();
            if !et.needs_message() || (lt.needs_message() && lt.intents.is_empty() && keywords_covered(et, lt)) {
                out.push(RoutingFinding {
                    code: "entry_shadowed",
                    flow: later.id.to_string(),
                    by: Some(earlier.id.to_string()),
                    message: format!(
                        "“{}” never starts: every conversation its entry rules take starts on “{}”, which comes first.",
                        name(later),
                        name(earlier)
                    ),
                });
                break;
            }
            if let Some(k) = lt
                .keywords
                .iter()
                .find(|k| et.keywords.iter().any(|e| contains_words(k, e)))
            {
                out.push(RoutingFinding {
                    code: "entry_keyword_taken",
                    flow: later.id.to_string(),
                    by: Some(earlier.id.to_string()),
                    message: format!(
                        "The keyword “{k}” of “{}” also starts “{}”, which comes first, so it never reaches “{}”.",
                        name(later),
                        name(earlier),
                        name(later)
                    ),
                });
            }
        }
    }
    let has_fallback = fallback_index(candidates, fallback).is_some_and(|(_, by)| by == Matched::Fallback);
    // A flow that takes every conversation leaves nothing for the fallback.
    if let (true, Some(fallback)) = (has_fallback, fallback) {
        let takes_all = startable.iter().find(|(_, t)| !t.needs_message() && !t.has_audience());
        let fallback_name = candidates.iter().find(|c| c.id == fallback).map(|c| c.flow.name());
        if let (Some((by, _)), Some(fallback_name)) = (takes_all, fallback_name) {
            out.push(RoutingFinding {
                code: "entry_shadowed",
                flow: fallback.to_string(),
                by: Some(by.id.to_string()),
                message: format!(
                    "“{fallback_name}”, the fallback, never starts: “{}” has no entry rules and takes every conversation first.",
                    by.flow.name()
                ),
            });
        }
    }
    if !has_fallback && candidates.len() > 1 {
        if let Some((i, _)) = fallback_index(candidates, None) {
            out.push(RoutingFinding {
                code: "no_fallback",
                flow: candidates[i].id.to_string(),
                by: None,
                message: format!(
                    "No fallback flow is set: a conversation no flow's rules take starts on “{}”, the first in order.",
                    candidates[i].flow.name()
                ),
            });
        }
    }
    out
}

/// Every customer the later trigger's page, channel and contact rules admit, the earlier's admit
/// too (as far as can be told from the rules as written).
fn audience_covers(earlier: &TriggerNode, later: &TriggerNode) -> bool {
    let list_covers = |e: &[String], l: &[String]| {
        e.is_empty() || (!l.is_empty() && l.iter().all(|x| e.iter().any(|y| y.eq_ignore_ascii_case(x))))
    };
    list_covers(&earlier.pages, &later.pages)
        && list_covers(&earlier.channels, &later.channels)
        && earlier.contact.iter().all(|c| later.contact.contains(c))
}

/// Every keyword of the later trigger contains a keyword of the earlier one.
fn keywords_covered(earlier: &TriggerNode, later: &TriggerNode) -> bool {
    !later.keywords.is_empty()
        && later
            .keywords
            .iter()
            .all(|k| earlier.keywords.iter().any(|e| contains_words(k, e)))
}

/// `text` contains `words` as whole words (normalised).
fn contains_words(text: &str, words: &str) -> bool {
    let words = normalize(words);
    !words.is_empty() && format!(" {} ", normalize(text)).contains(&format!(" {words} "))
}

/// The flow's entry rules in a few words, for lists ("first message: refund, money back ·
/// pages: */orders/*").
pub fn describe(flow: &Flow) -> String {
    let Some(t) = (Candidate { id: "", flow }).trigger() else {
        return "no trigger".into();
    };
    let mut parts = Vec::new();
    match t.on {
        TriggerOn::ApiEvent => {
            return format!("only the API event “{}”", t.event.as_deref().unwrap_or(""));
        }
        TriggerOn::Keyword => {
            let mut said: Vec<String> = t.keywords.iter().map(|k| format!("“{k}”")).collect();
            said.extend(t.intents.iter().map(|i| format!("means “{i}”")));
            parts.push(format!("first message: {}", said.join(", ")));
        }
        TriggerOn::ConversationStart => {}
    }
    if !t.pages.is_empty() {
        parts.push(format!("pages: {}", t.pages.join(", ")));
    }
    if !t.channels.is_empty() {
        parts.push(format!("channels: {}", t.channels.join(", ")));
    }
    if !t.contact.is_empty() {
        let tests: Vec<String> = t
            .contact
            .iter()
            .map(|c| {
                let op = serde_json::to_value(c.op)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                    .unwrap_or_default();
                let value = c.value.as_ref().map(crate::template::display_value).unwrap_or_default();
                format!("{} {op} {value}", c.variable.as_deref().unwrap_or(""))
                    .trim()
                    .to_string()
            })
            .collect();
        parts.push(format!("when {}", tests.join(" and ")));
    }
    if parts.is_empty() {
        "every conversation".into()
    } else {
        parts.join(" · ")
    }
}

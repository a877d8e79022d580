//! Loading a flow document into a [`Flow`] the runtime can run: every node parsed, ids unique,
//! edges resolved to node indexes, templates and patterns compiled once.
//!
//! Problems found while loading are [`Diagnostic`]s; a [`Flow`] is built whenever the document's
//! structure (nodes, ids, edges) holds, even when settings inside nodes are wrong, so that the
//! graph rules of [`crate::validate`] can still run and report everything at once.

use crate::diagnostic::{mark_accepted, Diagnostic};
use crate::document::*;
use crate::template::{is_valid_path, Template};
use crate::test_case::TestCase;
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A loaded flow, ready to run.
#[derive(Debug, Clone)]
pub struct Flow {
    document: FlowDocument,
    index: HashMap<String, usize>,
    /// Per node, in the order of [`NodeKind::ports`]: the port and its target node, if wired.
    wires: Vec<Vec<(String, Option<usize>)>>,
    templates: HashMap<String, Template>,
    regexes: HashMap<String, Regex>,
    /// Collect Input patterns, anchored to match the whole answer.
    whole_regexes: HashMap<String, Regex>,
}

/// The result of loading: the flow when its structure holds, and every finding so far.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub flow: Option<Flow>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Longest regex pattern accepted, in bytes.
const MAX_PATTERN_BYTES: usize = 1_000;

impl Flow {
    /// Loads a flow from JSON text. `Err` only when the document as a whole is unreadable.
    pub fn load(text: &str) -> Result<Loaded, DocumentError> {
        Ok(load_raw(parse_document(text)?))
    }

    /// Loads and insists on a runnable flow: any structural finding is returned as `Err`.
    pub fn from_json(text: &str) -> Result<Flow, Vec<Diagnostic>> {
        let loaded = Flow::load(text).map_err(|e| vec![Diagnostic::error(e.code(), e.to_string()).at("(document)")])?;
        match loaded.flow {
            Some(flow) => Ok(flow),
            None => Err(loaded.diagnostics),
        }
    }

    /// Builds a flow from a typed document (as the API and builder hold it).
    pub fn from_document(document: FlowDocument) -> Result<Flow, Vec<Diagnostic>> {
        let value = serde_json::to_value(&document)
            .map_err(|e| vec![Diagnostic::error("invalid_document", e.to_string()).at("(document)")])?;
        let raw =
            raw_from_value(value).map_err(|e| vec![Diagnostic::error(e.code(), e.to_string()).at("(document)")])?;
        let loaded = load_raw(raw);
        loaded.flow.ok_or(loaded.diagnostics)
    }

    pub fn document(&self) -> &FlowDocument {
        &self.document
    }

    pub fn name(&self) -> &str {
        &self.document.name
    }

    pub fn nodes(&self) -> &[Node] {
        &self.document.nodes
    }

    pub fn node(&self, index: usize) -> &Node {
        &self.document.nodes[index]
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The node's ports with their targets (None: not wired).
    pub fn wires(&self, index: usize) -> &[(String, Option<usize>)] {
        &self.wires[index]
    }

    /// Where `port` of node `index` leads, if wired.
    pub fn target(&self, index: usize, port: &str) -> Option<usize> {
        self.wires[index].iter().find(|(p, _)| p == port).and_then(|(_, t)| *t)
    }

    /// The trigger node, when there is exactly one or more (the first).
    pub fn trigger(&self) -> Option<usize> {
        self.document
            .nodes
            .iter()
            .position(|n| matches!(n.kind, NodeKind::Trigger(_)))
    }

    /// The compiled template for a text field's source.
    pub fn render(&self, source: &str, vars: &dyn crate::template::Lookup) -> String {
        match self.templates.get(source) {
            Some(t) => t.render(vars),
            // Only reached for a template that failed to parse (reported by validation).
            None => source.to_string(),
        }
    }

    pub fn template(&self, source: &str) -> Option<&Template> {
        self.templates.get(source)
    }

    /// The compiled pattern for a regex source; None when it failed to compile.
    pub fn regex(&self, source: &str) -> Option<&Regex> {
        self.regexes.get(source)
    }

    /// A Collect Input pattern compiled to match the whole answer (`^(?:pattern)$`).
    pub fn whole_regex(&self, source: &str) -> Option<&Regex> {
        self.whole_regexes.get(source)
    }

    /// Variables declared in the document or stored by a node, with their types.
    pub fn declared_variables(&self) -> BTreeMap<String, VarType> {
        let mut out = BTreeMap::new();
        for v in &self.document.variables {
            out.insert(v.name.clone(), v.var_type);
        }
        for node in &self.document.nodes {
            for (name, ty) in stored_variables(&node.kind) {
                out.entry(name).or_insert(ty);
            }
        }
        out
    }

    pub fn tests(&self) -> &[TestCase] {
        &self.document.tests
    }
}

/// The variables a node stores (on its success ports), with their types.
pub fn stored_variables(kind: &NodeKind) -> Vec<(String, VarType)> {
    match kind {
        NodeKind::Options(o) => match &o.variable {
            Some(v) => vec![(v.clone(), VarType::Text), (format!("{v}_id"), VarType::Text)],
            None => Vec::new(),
        },
        NodeKind::CollectInput(c) => vec![(c.variable.clone(), c.input.var_type())],
        NodeKind::AiAction(a) => a.outputs(),
        NodeKind::Webhook(w) => w.response_mapping.keys().map(|k| (k.clone(), VarType::Text)).collect(),
        _ => Vec::new(),
    }
}

/// Every template source in a node, with the field it sits in.
pub fn node_templates(kind: &NodeKind) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = Vec::new();
    match kind {
        NodeKind::Trigger(_) => {}
        NodeKind::Branch(b) => {
            for (i, case) in b.branches.iter().enumerate() {
                for (j, cond) in case.conditions.iter().enumerate() {
                    let textual = matches!(
                        cond.op,
                        ConditionOp::Equals | ConditionOp::NotEquals | ConditionOp::Contains
                    );
                    if let (true, Some(Value::String(v))) = (textual, &cond.value) {
                        out.push((format!("branches[{i}].conditions[{j}].value"), v));
                    }
                }
            }
        }
        NodeKind::Message(m) => {
            out.push(("text".into(), &m.text));
            if let Some(img) = &m.image {
                out.push(("image.url".into(), &img.url));
            }
            for (i, l) in m.links.iter().enumerate() {
                out.push((format!("links[{i}].url"), &l.url));
                out.push((format!("links[{i}].label"), &l.label));
            }
        }
        NodeKind::Options(o) => {
            out.push(("text".into(), &o.text));
            out.push(("reprompt_text".into(), &o.reprompt_text));
        }
        NodeKind::CollectInput(c) => {
            out.push(("text".into(), &c.text));
            if let Some(e) = &c.error_text {
                out.push(("error_text".into(), e));
            }
        }
        NodeKind::AiAction(a) => {
            if let Some(i) = &a.input {
                out.push(("input".into(), i));
            }
            if let Some(i) = &a.instruction {
                out.push(("instruction".into(), i));
            }
        }
        NodeKind::AiAnswer(a) => {
            if let Some(i) = &a.intro {
                out.push(("intro".into(), i));
            }
        }
        NodeKind::Webhook(w) => {
            out.push(("url".into(), &w.url));
            for (k, v) in &w.headers {
                out.push((format!("headers.{k}"), v));
            }
            if let Some(body) = &w.body {
                collect_json_strings(body, "body".into(), &mut out);
            }
        }
        NodeKind::Handover(h) => {
            for (field, v) in [
                ("reason", &h.reason),
                ("message", &h.message),
                ("off_hours_message", &h.off_hours_message),
                ("no_agent_message", &h.no_agent_message),
                ("stalling_message", &h.stalling_message),
            ] {
                if let Some(v) = v {
                    out.push((field.into(), v));
                }
            }
        }
        NodeKind::End(e) => {
            if let Some(m) = &e.message {
                out.push(("message".into(), m));
            }
            if let Some(c) = &e.csat {
                if let Some(q) = &c.question {
                    out.push(("csat.question".into(), q));
                }
                if let Some(t) = &c.thanks {
                    out.push(("csat.thanks".into(), t));
                }
            }
        }
    }
    if let Some(nudge) = kind.no_reply().and_then(|n| n.nudge.as_ref()) {
        out.push(("no_reply.nudge".into(), nudge));
    }
    out
}

fn collect_json_strings<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((at, s)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_json_strings(item, format!("{at}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_json_strings(v, format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Every regex source in a node, with the field it sits in.
fn node_patterns(kind: &NodeKind) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = Vec::new();
    match kind {
        NodeKind::CollectInput(c) => {
            if let Some(p) = &c.pattern {
                out.push(("pattern".into(), p));
            }
        }
        NodeKind::Branch(b) => {
            for (i, case) in b.branches.iter().enumerate() {
                for (j, cond) in case.conditions.iter().enumerate() {
                    if cond.op == ConditionOp::Matches {
                        if let Some(Value::String(p)) = &cond.value {
                            out.push((format!("branches[{i}].conditions[{j}].value"), p));
                        }
                    }
                }
            }
        }
        NodeKind::Trigger(t) => {
            for (j, cond) in t.contact.iter().enumerate() {
                if let (ConditionOp::Matches, Some(Value::String(p))) = (cond.op, &cond.value) {
                    out.push((format!("contact[{j}].value"), p));
                }
            }
        }
        NodeKind::AiAction(a) => {
            for (i, f) in a.fields.iter().enumerate() {
                if let Some(p) = &f.pattern {
                    out.push((format!("fields[{i}].pattern"), p));
                }
            }
        }
        _ => {}
    }
    out
}

/// A node id or port name: letters, digits, `_` and `-`, at most 64 characters.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn load_raw(raw: RawDocument) -> Loaded {
    let mut diags = Vec::new();
    let mut nodes = Vec::with_capacity(raw.nodes.len());
    let mut structure_ok = true;

    for (i, value) in raw.nodes.iter().enumerate() {
        let at = format!("nodes[{i}]");
        let id_hint = value.get("id").and_then(Value::as_str).map(str::to_owned);
        match parse_node(value) {
            Ok(node) => nodes.push(node),
            Err(message) => {
                structure_ok = false;
                let code = if message.starts_with("unknown node type") {
                    "unknown_node_type"
                } else {
                    "invalid_node"
                };
                let mut d = Diagnostic::error(code, format!("{at}: {message}")).at(at);
                if let Some(id) = id_hint {
                    d = d.at_node(id);
                }
                diags.push(d.hint("See docs/flow-format.md for the fields of each node type."));
            }
        }
    }

    let mut index = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        if !is_valid_id(&node.id) {
            diags.push(
                Diagnostic::error("invalid_node_id", format!("The node id `{}` is not usable.", node.id))
                    .at_node(node.id.clone())
                    .at(format!("nodes[{i}].id"))
                    .hint("Use 1 to 64 letters, digits, `_` or `-`, e.g. ask_email."),
            );
        }
        if index.insert(node.id.clone(), i).is_some() {
            structure_ok = false;
            diags.push(
                Diagnostic::error("duplicate_node_id", format!("Two nodes have the id `{}`.", node.id))
                    .at_node(node.id.clone())
                    .at(format!("nodes[{i}].id"))
                    .hint("Give each node its own id."),
            );
        }
        check_node_settings(node, i, &mut diags);
    }

    let mut wires: Vec<Vec<(String, Option<usize>)>> = nodes
        .iter()
        .map(|n| n.kind.ports().into_iter().map(|p| (p, None)).collect())
        .collect();
    let mut edges = Vec::with_capacity(raw.edges.len());
    for (e, value) in raw.edges.iter().enumerate() {
        let at = format!("edges[{e}]");
        let edge = match parse_edge(value) {
            Ok(edge) => edge,
            Err(message) => {
                structure_ok = false;
                diags.push(
                    Diagnostic::error("invalid_edge", format!("{at}: {message}"))
                        .at(at)
                        .hint("An edge is {\"from\": node id, \"port\": port name, \"to\": node id}."),
                );
                continue;
            }
        };
        let (Some(&from), Some(&to)) = (index.get(&edge.from), index.get(&edge.to)) else {
            structure_ok = false;
            let missing = if index.contains_key(&edge.from) {
                &edge.to
            } else {
                &edge.from
            };
            diags.push(
                Diagnostic::error(
                    "edge_unknown_node",
                    format!("{at} connects to a node `{missing}` that does not exist."),
                )
                .at(at)
                .hint("Fix the node id in the edge, or delete the edge."),
            );
            continue;
        };
        let Some(slot) = wires[from].iter_mut().find(|(p, _)| *p == edge.port) else {
            structure_ok = false;
            let ports = nodes[from].kind.ports();
            let list = if ports.is_empty() {
                "it has no ports".to_string()
            } else {
                format!("its ports are {}", ports.join(", "))
            };
            diags.push(
                Diagnostic::error(
                    "edge_unknown_port",
                    format!(
                        "{at} leaves `{}` through a port `{}` that this {} node does not have; {list}.",
                        edge.from,
                        edge.port,
                        nodes[from].kind.type_name()
                    ),
                )
                .at_node(edge.from.clone())
                .at_port(edge.port.clone())
                .at(at)
                .hint("Connect the edge to one of the node's ports, or delete it."),
            );
            continue;
        };
        if slot.1.is_some() {
            structure_ok = false;
            diags.push(
                Diagnostic::error(
                    "port_wired_twice",
                    format!(
                        "The port `{}` of `{}` is connected twice; a port leads to one node.",
                        edge.port, edge.from
                    ),
                )
                .at_node(edge.from.clone())
                .at_port(edge.port.clone())
                .at(at),
            );
            continue;
        }
        slot.1 = Some(to);
        edges.push(edge);
    }

    let mut tests = Vec::with_capacity(raw.tests.len());
    for (t, value) in raw.tests.iter().enumerate() {
        match serde_json::from_value::<TestCase>(value.clone()) {
            Ok(test) => tests.push(test),
            Err(e) => diags.push(
                Diagnostic::error("invalid_test", format!("tests[{t}]: {e}"))
                    .at(format!("tests[{t}]"))
                    .hint("See docs/scripted-tests.md."),
            ),
        }
    }

    if !structure_ok {
        mark_accepted(&mut diags, &raw.accepted);
        return Loaded {
            flow: None,
            diagnostics: diags,
        };
    }

    let mut templates = HashMap::new();
    let mut regexes = HashMap::new();
    let mut whole_regexes = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        for (field, source) in node_templates(&node.kind) {
            if templates.contains_key(source) {
                continue;
            }
            match Template::parse(source) {
                Ok(t) => {
                    templates.insert(source.to_string(), t);
                }
                Err(e) => diags.push(
                    Diagnostic::error(
                        "invalid_template",
                        format!("The {field} of `{}` has a broken template: {e}.", node.id),
                    )
                    .at_node(node.id.clone())
                    .at(format!("nodes[{i}].{field}"))
                    .hint("Variables are written {{ name }}; filters as {{ name | upper }}."),
                ),
            }
        }
        for (field, source) in node_patterns(&node.kind) {
            if regexes.contains_key(source) {
                continue;
            }
            match compile_pattern(source) {
                Ok(r) => {
                    if matches!(node.kind, NodeKind::CollectInput(_)) {
                        if let Ok(whole) = compile_pattern(&format!("^(?:{source})$")) {
                            whole_regexes.insert(source.to_string(), whole);
                        }
                    }
                    regexes.insert(source.to_string(), r);
                }
                Err(e) => diags.push(
                    Diagnostic::error(
                        "invalid_regex",
                        format!("The pattern in {field} of `{}` is not valid: {e}", node.id),
                    )
                    .at_node(node.id.clone())
                    .at(format!("nodes[{i}].{field}")),
                ),
            }
        }
    }

    let document = FlowDocument {
        format: FORMAT,
        name: raw.name,
        description: raw.description,
        variables: raw.variables,
        nodes,
        edges,
        tests,
        accepted: raw.accepted,
    };
    mark_accepted(&mut diags, &document.accepted);
    Loaded {
        flow: Some(Flow {
            document,
            index,
            wires,
            templates,
            regexes,
            whole_regexes,
        }),
        diagnostics: diags,
    }
}

/// Compiles a pattern that must match the whole text, with a size limit.
pub fn compile_pattern(source: &str) -> Result<Regex, String> {
    if source.len() > MAX_PATTERN_BYTES {
        return Err(format!("longer than {MAX_PATTERN_BYTES} characters"));
    }
    regex::RegexBuilder::new(source)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string().lines().last().unwrap_or("").trim().to_string())
}

/// Most entries in one entry-rule list of a trigger.
const MAX_ENTRY_RULES: usize = 50;

/// A trigger's entry rules: lists of a sensible size, channels that are channel names, and
/// contact conditions on `contact.*` or `conversation.*` that can be judged at the start.
fn check_entry_rules(t: &TriggerNode, report: &mut dyn FnMut(&str, String, &str)) {
    let lists: [(&str, &[String], usize); 4] = [
        ("keywords", &t.keywords, 200),
        ("intents", &t.intents, 200),
        ("pages", &t.pages, 500),
        ("channels", &t.channels, 40),
    ];
    for (field, items, max_chars) in lists {
        if items.len() > MAX_ENTRY_RULES {
            report(
                field,
                format!(
                    "The trigger lists {} {field}; at most {MAX_ENTRY_RULES} fit.",
                    items.len()
                ),
                "",
            );
        }
        for (k, item) in items.iter().enumerate() {
            if item.trim().is_empty() || item.chars().count() > max_chars {
                report(
                    &format!("{field}[{k}]"),
                    format!("An entry of the trigger's {field} is empty or longer than {max_chars} characters."),
                    "",
                );
            }
        }
    }
    if !t.intents.is_empty() && t.on != TriggerOn::Keyword {
        report(
            "intents",
            "The trigger lists intents but does not start on the first message, so they are never judged.".into(),
            "Set `on` to keyword (the first message), or remove the intents.",
        );
    }
    for (k, channel) in t.channels.iter().enumerate() {
        if !channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            report(
                &format!("channels[{k}]"),
                format!("`{channel}` is not a channel name (letters, digits, _ and -)."),
                "",
            );
        }
    }
    for (k, c) in t.contact.iter().enumerate() {
        let field = format!("contact[{k}]");
        let variable = c.variable.as_deref().unwrap_or("");
        if !(variable.starts_with("contact.") || variable.starts_with("conversation.")) || !is_valid_path(variable) {
            report(
                &format!("{field}.variable"),
                format!("An entry rule tests `{variable}`; at the start only contact.* and conversation.* are known."),
                "E.g. contact.plan, or conversation.page_url.",
            );
        }
        if c.op == ConditionOp::BusinessHoursOpen {
            report(
                &format!("{field}.op"),
                "Business hours are not an entry rule.".into(),
                "Route on hours inside the flow, with a Branch node.",
            );
        } else if c.op.needs_value() && c.value.is_none() {
            report(
                &format!("{field}.value"),
                format!("The entry rule on `{variable}` has no value to compare with."),
                "",
            );
        }
    }
}

/// Checks inside one node's settings that need no graph: names, limits, required fields.
fn check_node_settings(node: &Node, i: usize, diags: &mut Vec<Diagnostic>) {
    let id = node.id.as_str();
    let err = |code: &str, field: &str, message: String, hint: &str| {
        let mut d = Diagnostic::error(code, message)
            .at_node(id)
            .at(format!("nodes[{i}].{field}"));
        if !hint.is_empty() {
            d = d.hint(hint);
        }
        d
    };
    let check_var = |field: &str, name: &str, diags: &mut Vec<Diagnostic>| {
        if !is_valid_path(name) {
            diags.push(err(
                "invalid_variable_name",
                field,
                format!("`{name}` in `{id}` is not a usable variable name."),
                "Use letters, digits and _, e.g. order_id (dots for contact.name).",
            ));
        }
    };
    let check_ports = |field: &str, ids: Vec<&str>, reserved: &[&str], diags: &mut Vec<Diagnostic>| {
        let mut seen = std::collections::HashSet::new();
        for (k, port) in ids.iter().enumerate() {
            if !is_valid_id(port) {
                diags.push(err(
                    "invalid_port_name",
                    &format!("{field}[{k}].id"),
                    format!("`{port}` in `{id}` is not usable as a port name."),
                    "Use 1 to 64 letters, digits, `_` or `-`.",
                ));
            }
            if reserved.contains(port) {
                diags.push(err(
                    "reserved_port_name",
                    &format!("{field}[{k}].id"),
                    format!("`{port}` in `{id}` is a name this node already uses for its own port."),
                    "Choose another id.",
                ));
            }
            if !seen.insert(*port) {
                diags.push(err(
                    "duplicate_port",
                    &format!("{field}[{k}].id"),
                    format!("Two entries of `{id}` have the id `{port}`; each needs its own."),
                    "",
                ));
            }
        }
    };
    if let Some(no_reply) = node.kind.no_reply() {
        if no_reply.after_minutes == 0 || no_reply.after_minutes > MAX_NO_REPLY_MINUTES {
            diags.push(err(
                "invalid_no_reply",
                "no_reply.after_minutes",
                format!("`{id}` waits 1 to {MAX_NO_REPLY_MINUTES} minutes (30 days) for a reply before `no_reply`."),
                "",
            ));
        }
        if let Some(nudge) = no_reply.nudge_after_minutes {
            if nudge == 0 || nudge >= no_reply.after_minutes {
                diags.push(err(
                    "invalid_no_reply",
                    "no_reply.nudge_after_minutes",
                    format!("The nudge of `{id}` must come after at least a minute and before `no_reply`."),
                    "Make nudge_after_minutes smaller than after_minutes.",
                ));
            }
        }
    }
    if let NodeKind::End(EndNode { csat: Some(c), .. }) = &node.kind {
        if c.scale != 2 && c.scale != 5 {
            diags.push(err(
                "invalid_csat",
                "csat.scale",
                format!(
                    "The rating of `{id}` is on a scale of 2 (bad / good) or 5, not {}.",
                    c.scale
                ),
                "",
            ));
        }
    }
    match &node.kind {
        NodeKind::Trigger(t) => {
            if t.on == TriggerOn::Keyword && t.keywords.is_empty() && t.intents.is_empty() {
                diags.push(err(
                    "trigger_without_keywords",
                    "keywords",
                    format!("The trigger `{id}` starts on the first message but lists no keyword or intent."),
                    "Add a keyword or an example phrase of the intent, or start on conversation_start.",
                ));
            }
            check_entry_rules(t, &mut |field, message, hint| {
                diags.push(err("invalid_entry_rule", field, message, hint))
            });
            if t.on == TriggerOn::ApiEvent && t.event.as_deref().unwrap_or("").is_empty() {
                diags.push(err(
                    "trigger_without_event",
                    "event",
                    format!("The trigger `{id}` starts on an API event but names none."),
                    "Set `event` to the event's name.",
                ));
            }
        }
        NodeKind::Message(m) => {
            if m.text.trim().is_empty() && m.image.is_none() {
                diags.push(err(
                    "empty_message",
                    "text",
                    format!("The message `{id}` says nothing."),
                    "Write the text the customer should see.",
                ));
            }
        }
        NodeKind::Options(o) => {
            if o.options.is_empty() {
                diags.push(err(
                    "no_options",
                    "options",
                    format!("The question `{id}` has no options to choose from."),
                    "Add at least one option.",
                ));
            }
            if o.options.len() > MAX_OPTIONS {
                diags.push(err(
                    "too_many_options",
                    "options",
                    format!(
                        "The question `{id}` has {} options; at most {MAX_OPTIONS} fit.",
                        o.options.len()
                    ),
                    "Split the question in two, or use Collect Input.",
                ));
            }
            for (k, c) in o.options.iter().enumerate() {
                if c.label.trim().is_empty() {
                    diags.push(err(
                        "empty_option_label",
                        &format!("options[{k}].label"),
                        format!("Option `{}` of `{id}` has no label.", c.id),
                        "Write the text shown on the button.",
                    ));
                }
            }
            check_ports(
                "options",
                o.options.iter().map(|c| c.id.as_str()).collect(),
                &[
                    "no_match",
                    "no_reply",
                    ESCAPE_PORTS[0],
                    ESCAPE_PORTS[1],
                    ESCAPE_PORTS[2],
                ],
                diags,
            );
            if let Some(v) = &o.variable {
                check_var("variable", v, diags);
            }
        }
        NodeKind::CollectInput(c) => {
            check_var("variable", &c.variable, diags);
            if c.input == InputKind::Regex && c.pattern.is_none() {
                diags.push(err(
                    "missing_pattern",
                    "pattern",
                    format!("`{id}` checks answers with a pattern but has none."),
                    "Set `pattern`, e.g. ^[A-Z]{2}\\d{6}$.",
                ));
            }
            if c.max_attempts == 0 || c.max_attempts > 10 {
                diags.push(err(
                    "invalid_attempts",
                    "max_attempts",
                    format!("`{id}` allows {} attempts; use 1 to 10.", c.max_attempts),
                    "",
                ));
            }
        }
        NodeKind::Branch(b) => {
            if b.branches.is_empty() {
                diags.push(err(
                    "no_branches",
                    "branches",
                    format!("The branch `{id}` has no conditions, so everything goes to else."),
                    "Add a branch with a condition, or remove the node.",
                ));
            }
            check_ports(
                "branches",
                b.branches.iter().map(|c| c.id.as_str()).collect(),
                &["else"],
                diags,
            );
            for (k, case) in b.branches.iter().enumerate() {
                if case.conditions.is_empty() {
                    diags.push(err(
                        "invalid_condition",
                        &format!("branches[{k}].conditions"),
                        format!("Branch `{}` of `{id}` has no condition.", case.id),
                        "Add a condition.",
                    ));
                }
                for (j, cond) in case.conditions.iter().enumerate() {
                    let field = format!("branches[{k}].conditions[{j}]");
                    match (&cond.variable, cond.op.needs_variable()) {
                        (None, true) => diags.push(err(
                            "invalid_condition",
                            &field,
                            format!(
                                "A condition of `{}` in `{id}` does not say which variable it tests.",
                                case.id
                            ),
                            "Set `variable`, e.g. order_total or last_message.",
                        )),
                        (Some(v), _) => check_var(&format!("{field}.variable"), v, diags),
                        _ => {}
                    }
                    let value_ok = match (cond.op, &cond.value) {
                        (op, None) => !op.needs_value(),
                        (ConditionOp::GreaterThan | ConditionOp::LessThan, Some(v)) => {
                            v.is_number() || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok())
                        }
                        (ConditionOp::InList, Some(v)) => v.is_array(),
                        (ConditionOp::Matches, Some(v)) => v.is_string(),
                        _ => true,
                    };
                    if !value_ok {
                        diags.push(err(
                            "invalid_condition",
                            &format!("{field}.value"),
                            format!(
                                "A condition of `{}` in `{id}` needs a {} value.",
                                case.id,
                                match cond.op {
                                    ConditionOp::GreaterThan | ConditionOp::LessThan => "number",
                                    ConditionOp::InList => "list",
                                    _ => "text",
                                }
                            ),
                            "",
                        ));
                    }
                }
            }
        }
        NodeKind::AiAction(a) => {
            match a.task {
                AiTask::Classify => {
                    if a.categories.is_empty() {
                        diags.push(err(
                            "no_categories",
                            "categories",
                            format!("The classifier `{id}` has no categories."),
                            "Add categories with a few example phrases each.",
                        ));
                    }
                    check_ports(
                        "categories",
                        a.categories.iter().map(|c| c.id.as_str()).collect(),
                        &["unknown", "error"],
                        diags,
                    );
                }
                AiTask::Extract => {
                    if a.fields.is_empty() {
                        diags.push(err(
                            "no_fields",
                            "fields",
                            format!("`{id}` extracts nothing: it lists no fields."),
                            "Add the fields to extract, e.g. {\"variable\": \"email\", \"kind\": \"email\"}.",
                        ));
                    }
                    for (k, f) in a.fields.iter().enumerate() {
                        check_var(&format!("fields[{k}].variable"), &f.variable, diags);
                        if f.kind == ExtractKind::Regex && f.pattern.is_none() {
                            diags.push(err(
                                "missing_pattern",
                                &format!("fields[{k}].pattern"),
                                format!("Field `{}` of `{id}` is extracted by pattern but has none.", f.variable),
                                "",
                            ));
                        }
                    }
                }
                AiTask::Summarize | AiTask::Sentiment | AiTask::Instruction => {
                    if a.variable.is_none() {
                        diags.push(err(
                            "missing_variable",
                            "variable",
                            format!("`{id}` ({}) does not say where to store its result.", a.task.as_str()),
                            "Set `variable`.",
                        ));
                    }
                    if a.task == AiTask::Instruction && a.instruction.as_deref().unwrap_or("").trim().is_empty() {
                        diags.push(err(
                            "missing_instruction",
                            "instruction",
                            format!("`{id}` has no instruction for the AI."),
                            "Write what the AI should do, e.g. \"Translate the message to English\".",
                        ));
                    }
                }
            }
            if let Some(v) = &a.variable {
                check_var("variable", v, diags);
            }
            if let Some(v) = &a.frustration_variable {
                check_var("frustration_variable", v, diags);
            }
            if let Some(t) = a.threshold {
                if !(0.0..=1.0).contains(&t) {
                    diags.push(err(
                        "invalid_threshold",
                        "threshold",
                        format!("`{id}` has a threshold of {t}; use 0 to 1."),
                        "",
                    ));
                }
            }
        }
        NodeKind::AiAnswer(a) => {
            if let Some(t) = a.threshold {
                if !(0.0..=1.0).contains(&t) {
                    diags.push(err(
                        "invalid_threshold",
                        "threshold",
                        format!("`{id}` has a threshold of {t}; use 0 to 1."),
                        "",
                    ));
                }
            }
        }
        NodeKind::Webhook(w) => {
            let url = w.url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with("{{")) {
                diags.push(err(
                    "invalid_webhook_url",
                    "url",
                    format!("The webhook `{id}` has no usable address: `{}`.", w.url),
                    "Start the address with https:// (or http://).",
                ));
            }
            if w.timeout_ms == 0 || w.timeout_ms > 30_000 {
                diags.push(err(
                    "invalid_webhook_timeout",
                    "timeout_ms",
                    format!("`{id}` waits {} ms; use 1 to 30000.", w.timeout_ms),
                    "",
                ));
            }
            if w.retries > 5 {
                diags.push(err(
                    "invalid_webhook_retries",
                    "retries",
                    format!("`{id}` retries {} times; at most 5.", w.retries),
                    "",
                ));
            }
            for name in w.response_mapping.keys() {
                check_var(&format!("response_mapping.{name}"), name, diags);
            }
            for name in w.headers.keys() {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                    diags.push(err(
                        "invalid_header",
                        &format!("headers.{name}"),
                        format!("`{name}` is not a usable header name in `{id}`."),
                        "",
                    ));
                }
            }
        }
        NodeKind::Handover(h) => {
            for (k, v) in h.context.iter().enumerate() {
                check_var(&format!("context[{k}]"), v, diags);
            }
            for (k, v) in h.optional_context.iter().enumerate() {
                check_var(&format!("optional_context[{k}]"), v, diags);
            }
        }
        NodeKind::End(_) => {}
    }
}

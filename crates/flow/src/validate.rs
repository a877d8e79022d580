//! Validation: every finding about a flow at once. Structural findings come from loading
//! ([`crate::flow`]); the graph and data-flow rules live here. Every code is documented in
//! `docs/validation.md`.
//!
//! The rules never panic and run in time roughly linear in the size of the flow: the graph is
//! walked a bounded number of times, and the data-flow analysis works on bit sets.

use crate::diagnostic::{mark_accepted, Diagnostic, Severity};
use crate::document::{ConditionOp, DocumentError, Node, NodeKind, TypedTextMode, ESCAPE_PORTS, MAX_OPTIONS};
use crate::flow::{node_templates, stored_variables, Flow};
use crate::template::Template;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// The result of checking a flow document.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The loaded flow, when its structure holds.
    pub flow: Option<Flow>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads and validates a flow document's text.
pub fn check(text: &str) -> Result<Checked, DocumentError> {
    let loaded = Flow::load(text)?;
    let mut diagnostics = loaded.diagnostics;
    if let Some(flow) = &loaded.flow {
        diagnostics.extend(validate(flow));
    }
    Ok(Checked {
        flow: loaded.flow,
        diagnostics,
    })
}

/// The codes [`validate`] emits, with their severity. (`missing_information` is an error when
/// no path collects the variable and a warning when only some do.)
pub const CODES: [(&str, Severity); 17] = [
    ("no_trigger", Severity::Error),
    ("multiple_triggers", Severity::Error),
    ("unreachable_node", Severity::Warning),
    ("dead_end", Severity::Error),
    ("port_unwired", Severity::Warning),
    ("loop_without_wait", Severity::Error),
    ("variable_never_set", Severity::Warning),
    ("variable_maybe_unset", Severity::Warning),
    ("missing_information", Severity::Error),
    ("missing_information", Severity::Warning),
    ("webhook_undeclared_variable", Severity::Error),
    ("channel_limit", Severity::Warning),
    ("handover_before_context", Severity::Warning),
    ("handover_silent", Severity::Warning),
    ("excessive_routing", Severity::Warning),
    ("double_handover", Severity::Warning),
    ("trigger_has_incoming", Severity::Warning),
];

/// Button labels longer than this are cut by WhatsApp and Messenger.
pub const MAX_BUTTON_LABEL_CHARS: usize = 20;
/// Many channels show at most this many buttons.
pub const CHANNEL_MAX_BUTTONS: usize = 10;
/// Most channels cut longer texts.
pub const MAX_TEXT_CHARS: usize = 4096;
/// More routing nodes in a row than this is excessive routing.
pub const MAX_ROUTING_CHAIN: usize = 4;

/// How many node ids a message lists before eliding.
const LIST_LIMIT: usize = 8;
/// How many variables get an explaining path computed (each costs one walk of the graph).
const WITNESS_LIMIT: usize = 256;
/// How many findings get the path that explains them (each costs one walk of the graph).
const EXPLAIN_LIMIT: usize = 500;

/// The graph and data-flow rules on a loaded flow.
pub fn validate(flow: &Flow) -> Vec<Diagnostic> {
    let g = Graph::new(flow);
    let mut out = Vec::new();
    triggers(&g, &mut out);
    unreachable(&g, &mut out);
    unwired_ports(&g, &mut out);
    loops(&g, &mut out);
    data_flow(&g, &mut out);
    webhook_mappings(&g, &mut out);
    channel_limits(&g, &mut out);
    handover_before_context(&g, &mut out);
    handover_silent(&g, &mut out);
    excessive_routing(&g, &mut out);
    double_handover(&g, &mut out);
    finish(flow, out)
}

// ---------------------------------------------------------------------------------------------
// The graph
// ---------------------------------------------------------------------------------------------

struct Graph<'f> {
    flow: &'f Flow,
    n: usize,
    /// Per node: (port index in `Flow::wires`, target) of each wired port.
    succ: Vec<Vec<(usize, usize)>>,
    /// Per node: (source node, port index) of each edge into it.
    pred: Vec<Vec<(usize, usize)>>,
    /// The trigger conversations start at (the first, when there are several).
    trigger: Option<usize>,
    /// Reachable from the trigger over wired ports.
    reach: Vec<bool>,
}

impl<'f> Graph<'f> {
    fn new(flow: &'f Flow) -> Graph<'f> {
        let n = flow.nodes().len();
        let mut succ = vec![Vec::new(); n];
        let mut pred = vec![Vec::new(); n];
        for (i, out) in succ.iter_mut().enumerate() {
            for (k, (_, target)) in flow.wires(i).iter().enumerate() {
                if let Some(t) = *target {
                    if t < n {
                        out.push((k, t));
                        pred[t].push((i, k));
                    }
                }
            }
        }
        let trigger = flow.trigger().filter(|&t| t < n);
        let mut reach = vec![false; n];
        if let Some(t) = trigger {
            reach[t] = true;
            let mut queue = VecDeque::from([t]);
            while let Some(i) = queue.pop_front() {
                for &(_, j) in &succ[i] {
                    if !reach[j] {
                        reach[j] = true;
                        queue.push_back(j);
                    }
                }
            }
        }
        Graph {
            flow,
            n,
            succ,
            pred,
            trigger,
            reach,
        }
    }

    fn node(&self, i: usize) -> &'f Node {
        self.flow.node(i)
    }

    fn id(&self, i: usize) -> &'f str {
        &self.flow.node(i).id
    }

    fn port(&self, i: usize, k: usize) -> &'f str {
        self.flow.wires(i).get(k).map(|(p, _)| p.as_str()).unwrap_or("")
    }

    /// Whether rules about where conversations go look at this node: nodes a conversation can
    /// reach, or every node when the flow has no trigger (so that all is reported at once).
    fn considered(&self, i: usize) -> bool {
        self.trigger.is_none() || self.reach[i]
    }

    /// A diagnostic about node `i`, located at `nodes[i]` or a field in it.
    fn at(&self, d: Diagnostic, i: usize, field: &str) -> Diagnostic {
        let location = if field.is_empty() {
            format!("nodes[{i}]")
        } else {
            format!("nodes[{i}].{field}")
        };
        d.at_node(self.id(i)).at(location)
    }
}

fn is_trigger(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Trigger(_))
}

fn is_handover(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Handover(_))
}

fn tick(s: &str) -> String {
    format!("`{s}`")
}

/// A port's path in words, quoted: “no valid answer”, “Full name” (see `NodeKind::port_label`).
fn path_name(node: &Node, port: &str) -> String {
    format!("“{}”", node.kind.port_label(port))
}

/// `a`, `b` and `c` (elided after [`LIST_LIMIT`]).
fn and_list(ids: &[&str]) -> String {
    let shown: Vec<String> = ids.iter().take(LIST_LIMIT).map(|s| tick(s)).collect();
    let more = ids.len().saturating_sub(LIST_LIMIT);
    match (shown.len(), more) {
        (0, _) => String::new(),
        (1, 0) => shown[0].clone(),
        (_, 0) => format!("{} and {}", shown[..shown.len() - 1].join(", "), shown[shown.len() - 1]),
        (_, more) => format!("{} and {more} more", shown.join(", ")),
    }
}

/// `a` → `b` → `c` (elided in the middle when long).
fn arrow_path(ids: &[&str]) -> String {
    if ids.len() <= LIST_LIMIT {
        return ids.iter().map(|s| tick(s)).collect::<Vec<_>>().join(" → ");
    }
    let head: Vec<String> = ids[..3].iter().map(|s| tick(s)).collect();
    let tail: Vec<String> = ids[ids.len() - 4..].iter().map(|s| tick(s)).collect();
    format!("{} → … → {}", head.join(" → "), tail.join(" → "))
}

// ---------------------------------------------------------------------------------------------
// Triggers and reachability
// ---------------------------------------------------------------------------------------------

fn triggers(g: &Graph, out: &mut Vec<Diagnostic>) {
    let triggers: Vec<usize> = (0..g.n).filter(|&i| is_trigger(g.node(i))).collect();
    match triggers.split_first() {
        None => out.push(
            Diagnostic::error(
                "no_trigger",
                "The flow has no trigger, so no conversation can ever start it.",
            )
            .at("nodes")
            .hint("Add a Trigger node and connect its `next` port to the first step."),
        ),
        Some((&first, extra)) => {
            for &i in extra {
                out.push(
                    g.at(
                        Diagnostic::error(
                            "multiple_triggers",
                            format!(
                                "{} is a second trigger; a flow starts in one place only, at {}.",
                                tick(g.id(i)),
                                tick(g.id(first))
                            ),
                        ),
                        i,
                        "",
                    )
                    .hint(
                        "Delete the extra trigger and connect what follows it from the first \
                         one, or make a separate flow for the other way in.",
                    ),
                );
            }
        }
    }
    // Edges into any trigger.
    for (k, edge) in g.flow.document().edges.iter().enumerate() {
        let Some(to) = g.flow.index_of(&edge.to) else {
            continue;
        };
        if to >= g.n || !is_trigger(g.node(to)) {
            continue;
        }
        let after = g
            .flow
            .target(to, "next")
            .filter(|&t| t < g.n)
            .map(|t| format!("the step after the trigger ({})", tick(g.id(t))))
            .unwrap_or_else(|| "the first real step".to_string());
        out.push(
            Diagnostic::warning(
                "trigger_has_incoming",
                format!(
                    "The {} path of {} leads back into the trigger {}; a trigger only marks \
                     where conversations start, so going back to it restarts the flow from the \
                     top.",
                    g.flow
                        .index_of(&edge.from)
                        .filter(|&from| from < g.n)
                        .map_or_else(|| tick(&edge.port), |from| path_name(g.node(from), &edge.port)),
                    tick(&edge.from),
                    tick(&edge.to)
                ),
            )
            .at_node(edge.from.clone())
            .at_port(edge.port.clone())
            .at(format!("edges[{k}]"))
            .hint(format!("Connect it to {after} instead.")),
        );
    }
}

fn unreachable(g: &Graph, out: &mut Vec<Diagnostic>) {
    let Some(t) = g.trigger else {
        return;
    };
    for i in 0..g.n {
        if g.reach[i] || is_trigger(g.node(i)) {
            continue;
        }
        out.push(
            g.at(
                Diagnostic::warning(
                    "unreachable_node",
                    format!(
                        "No conversation can reach {}: nothing leads to it from the trigger {}.",
                        tick(g.id(i)),
                        tick(g.id(t))
                    ),
                ),
                i,
                "",
            )
            .hint("Connect a port of an earlier step to it, or delete it."),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Unwired ports: dead ends and open ports
// ---------------------------------------------------------------------------------------------

fn unwired_ports(g: &Graph, out: &mut Vec<Diagnostic>) {
    for i in 0..g.n {
        if !g.considered(i) {
            continue;
        }
        let node = g.node(i);
        for (port, target) in g.flow.wires(i) {
            if target.is_some() {
                continue;
            }
            if let Some(message) = dead_end_message(node, port) {
                out.push(
                    g.at(Diagnostic::error("dead_end", message), i, "")
                        .at_port(port.clone())
                        .hint(format!(
                            "Connect its {} path to the next step, or to an End node if the \
                             conversation should end there.",
                            path_name(node, port)
                        )),
                );
            } else if let Some((message, hint)) = open_port_message(node, port) {
                out.push(
                    g.at(Diagnostic::warning("port_unwired", message), i, "")
                        .at_port(port.clone())
                        .hint(hint),
                );
            }
        }
    }
}

/// The sentence for a node's only way on being unwired, if `port` is that way.
fn dead_end_message(node: &Node, port: &str) -> Option<String> {
    let id = tick(&node.id);
    let tail = format!(
        "(nothing is connected to its {} path), so the conversation silently stops there.",
        path_name(node, port)
    );
    match (&node.kind, port) {
        (NodeKind::Trigger(_), "next") => Some(format!(
            "The trigger {id} leads nowhere (nothing is connected to it), so every \
             conversation stops before it starts."
        )),
        (NodeKind::Message(_), "next") => Some(format!(
            "After {id} sends its message the flow has nowhere to go {tail}"
        )),
        (NodeKind::CollectInput(_), "next") => Some(format!(
            "After the customer answers {id} the flow has nowhere to go {tail}"
        )),
        (NodeKind::AiAction(_), "next") => {
            Some(format!("After the AI step {id} runs the flow has nowhere to go {tail}"))
        }
        (NodeKind::Webhook(_), "success") => Some(format!(
            "When the webhook {id} succeeds the flow has nowhere to go {tail}"
        )),
        _ => None,
    }
}

/// The sentence and hint for a port that may be left open deliberately; None when leaving it
/// open is fine (or the port cannot be taken).
fn open_port_message(node: &Node, port: &str) -> Option<(String, String)> {
    let id = tick(&node.id);
    let ends = "the flow has nowhere to go and the conversation ends there";
    let path = path_name(node, port);
    let generic_hint = format!(
        "Connect the {path} path to the step that should handle this, or to an End node if \
         ending there is intended."
    );
    // An escape port left open does the escape's default (docs/flow-format.md#escapes).
    if ESCAPE_PORTS.contains(&port) {
        return None;
    }
    if port == "no_reply" {
        return Some((
            format!("If the customer stops answering at {id}, {ends}."),
            generic_hint,
        ));
    }
    let message = match &node.kind {
        NodeKind::Options(o) => {
            if port == "no_match" {
                if o.typed_text == TypedTextMode::Strict {
                    return None;
                }
                format!("If the customer's answer to {id} matches none of the options, {ends}.")
            } else {
                format!("If the customer picks {path} at {id}, {ends}.")
            }
        }
        NodeKind::Branch(_) => {
            if port == "else" {
                format!("When none of the branches of {id} match, {ends}.")
            } else {
                format!("When the branch {path} of {id} matches, {ends}.")
            }
        }
        NodeKind::CollectInput(c) if port == "invalid" => format!(
            "If the customer gives no valid answer to {id} in {} attempts, {ends}.",
            c.max_attempts
        ),
        NodeKind::Handover(h) => match port {
            "resolved" => return None,
            "handed_back" => {
                return Some((
                    format!(
                        "When an agent hands the conversation at {id} back to the bot, the flow \
                         has nowhere to continue (nothing is connected to its {path} path) and \
                         the conversation ends."
                    ),
                    format!(
                        "Connect the {path} path to where the bot should pick up, e.g. a \
                         message asking whether there is anything else."
                    ),
                ))
            }
            "off_hours" => format!(
                "When {id} is reached outside business hours or with hand-off turned off, the \
                 customer gets the off-hours message and the conversation ends there \
                 (nothing is connected to its {path} path)."
            ),
            "no_agent" => format!(
                "When {id} is reached and no agent is online, the customer gets the no-agent \
                 message and the conversation ends there (nothing is connected to its {path} \
                 path)."
            ),
            "timeout" => {
                if h.max_wait_seconds == Some(0) {
                    return None;
                }
                format!(
                    "When nobody takes the conversation at {id} within the maximum wait, \
                     {ends}."
                )
            }
            "cancelled" => {
                format!("If the customer cancels the wait at {id}, {ends}.")
            }
            _ => format!("When {id} leaves through its {path} path, {ends}."),
        },
        NodeKind::AiAction(_) => match port {
            "error" => format!("If the AI step {id} fails or times out, {ends}."),
            "unknown" => {
                format!("When {id} cannot tell which category fits the message, {ends}.")
            }
            "next" => return None,
            _ => format!("When {id} classifies the message as {path}, {ends}."),
        },
        NodeKind::AiAnswer(_) => match port {
            "resolved" => format!(
                "When Let AI Answer at {id} finishes with the customer's question answered, \
                 {ends}."
            ),
            "unanswered" => format!("When the AI at {id} cannot answer from the knowledge base, {ends}."),
            "human" => format!("When the customer asks {id} for a person, {ends} instead of reaching one."),
            _ => return None,
        },
        NodeKind::Webhook(_) if port == "failure" => {
            format!("If the webhook {id} fails (an error status, a timeout or no connection), {ends}.")
        }
        _ => return None,
    };
    Some((message, generic_hint))
}

// ---------------------------------------------------------------------------------------------
// Loops that never wait
// ---------------------------------------------------------------------------------------------

/// Strongly connected components (Tarjan, iterative), each in discovery order.
fn strongly_connected(g: &Graph) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = g.n;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut comps = Vec::new();
    let mut next_index = 0;
    let mut call: Vec<(usize, usize)> = Vec::new();
    for s in 0..n {
        if index[s] != UNSEEN {
            continue;
        }
        index[s] = next_index;
        low[s] = next_index;
        next_index += 1;
        stack.push(s);
        on_stack[s] = true;
        call.push((s, 0));
        while let Some(frame) = call.last_mut() {
            let v = frame.0;
            if let Some(&(_, w)) = g.succ[v].get(frame.1) {
                frame.1 += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comps.push(comp);
                }
            }
        }
    }
    comps
}

fn loops(g: &Graph, out: &mut Vec<Diagnostic>) {
    for mut comp in strongly_connected(g) {
        let is_cycle = comp.len() > 1 || comp.first().is_some_and(|&v| g.succ[v].iter().any(|&(_, t)| t == v));
        if !is_cycle {
            continue;
        }
        comp.sort_unstable();
        let Some(&first) = comp.first() else {
            continue;
        };
        if !g.considered(first) || comp.iter().any(|&i| g.node(i).kind.waits_for_customer()) {
            continue;
        }
        let ids: Vec<&str> = comp.iter().map(|&i| g.id(i)).collect();
        let what = if ids.len() == 1 {
            format!("{} leads back to itself", tick(ids[0]))
        } else {
            format!("{} form a loop", and_list(&ids))
        };
        out.push(
            g.at(
                Diagnostic::error(
                    "loop_without_wait",
                    format!(
                        "{what} in which nothing waits for the customer, so a conversation that \
                         gets there goes round and round until Baton stops it."
                    ),
                ),
                first,
                "",
            )
            .hint(
                "Put a step that waits for the customer in the loop (Options, Collect Input, \
                 Let AI Answer or a hand-over), or break the loop.",
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Data flow: which variables are set where
// ---------------------------------------------------------------------------------------------

/// Variables that always have a value: the contact's and conversation's facts, the agent's, and
/// the customer's last message.
fn always_defined(var: &str) -> bool {
    var == "last_message"
        || var.starts_with("contact.")
        || var.starts_with("conversation.")
        || var.starts_with("agent.")
}

/// The variables a node sets when it leaves through `port`.
fn sets_on_port(kind: &NodeKind, port: &str) -> Vec<String> {
    match kind {
        NodeKind::CollectInput(c) if port == "next" => vec![c.variable.clone()],
        NodeKind::Options(o) if port != "no_match" => match &o.variable {
            Some(v) => vec![v.clone(), format!("{v}_id")],
            None => Vec::new(),
        },
        NodeKind::AiAction(a) if port != "error" && port != "unknown" => {
            a.outputs().into_iter().map(|(name, _)| name).collect()
        }
        NodeKind::Webhook(w) if port == "success" => w.response_mapping.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A variable a node reads.
struct Use {
    var: String,
    /// The field, relative to the node, e.g. `text` or `branches[0].conditions[1].variable`.
    field: String,
    /// True for a branch condition (false for a template).
    condition: bool,
}

/// Every variable a node reads without a `default` fallback.
fn node_uses(flow: &Flow, node: &Node) -> Vec<Use> {
    let mut uses = Vec::new();
    for (field, source) in node_templates(&node.kind) {
        if let Some(t) = flow.template(source) {
            for (var, guarded) in t.variables() {
                if !guarded {
                    uses.push(Use {
                        var: var.to_string(),
                        field: field.clone(),
                        condition: false,
                    });
                }
            }
        }
    }
    if let NodeKind::Branch(b) = &node.kind {
        for (k, case) in b.branches.iter().enumerate() {
            for (j, cond) in case.conditions.iter().enumerate() {
                let field = format!("branches[{k}].conditions[{j}]");
                let tests_value = !matches!(
                    cond.op,
                    ConditionOp::IsSet | ConditionOp::IsNotSet | ConditionOp::BusinessHoursOpen
                );
                if let (Some(v), true) = (&cond.variable, tests_value) {
                    uses.push(Use {
                        var: v.clone(),
                        field: format!("{field}.variable"),
                        condition: true,
                    });
                }
                // Text values of comparisons are templates.
                if matches!(
                    cond.op,
                    ConditionOp::Equals | ConditionOp::NotEquals | ConditionOp::Contains
                ) {
                    if let Some(Value::String(s)) = &cond.value {
                        if let Ok(t) = Template::parse(s) {
                            for (var, guarded) in t.variables() {
                                if !guarded {
                                    uses.push(Use {
                                        var: var.to_string(),
                                        field: format!("{field}.value"),
                                        condition: true,
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    uses
}

/// Describes where a use sits, e.g. "the text of `hello`".
fn use_place(g: &Graph, i: usize, u: &Use) -> String {
    let id = tick(g.id(i));
    if u.condition {
        return format!("a condition of {id}");
    }
    let field = u.field.replace('_', " ");
    format!("the {field} of {id}")
}

/// Forward analyses over the reachable graph, one bit per variable that some node sets.
struct DataFlow {
    ids: HashMap<String, usize>,
    words: usize,
    /// Per node, per port index: the variables set when leaving through it.
    gen: Vec<Vec<Vec<usize>>>,
    /// Set on every path from the trigger to the node (on entry).
    must: Vec<u64>,
    /// Set on some path from the trigger to the node (on entry).
    may: Vec<u64>,
    /// Per variable (lazily, bounded): the BFS parent of each node over paths that never set it.
    witness: HashMap<usize, Vec<Option<(usize, usize)>>>,
    /// How many findings were explained so far (each costs a walk of the graph).
    explained: usize,
}

impl DataFlow {
    /// Analyses the variables in `wanted` (the others are of no interest to any rule).
    fn new(g: &Graph, trigger: usize, wanted: &HashSet<&str>) -> DataFlow {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut gen = Vec::with_capacity(g.n);
        for i in 0..g.n {
            let node = g.node(i);
            let mut per_port = Vec::new();
            for (port, _) in g.flow.wires(i) {
                let mut vars = Vec::new();
                for name in sets_on_port(&node.kind, port) {
                    if !wanted.contains(name.as_str()) {
                        continue;
                    }
                    let next = ids.len();
                    vars.push(*ids.entry(name).or_insert(next));
                }
                per_port.push(vars);
            }
            gen.push(per_port);
        }
        let words = ids.len().div_ceil(64).max(1);
        let mut df = DataFlow {
            ids,
            words,
            gen,
            must: vec![!0u64; g.n * words],
            may: vec![0u64; g.n * words],
            witness: HashMap::new(),
            explained: 0,
        };
        df.solve(g, trigger);
        df
    }

    fn solve(&mut self, g: &Graph, trigger: usize) {
        let w = self.words;
        if let Some(row) = self.must.get_mut(trigger * w..(trigger + 1) * w) {
            row.fill(0);
        }
        // Start with every reachable node queued, in BFS order from the trigger.
        let order: Vec<usize> = {
            let mut seen = vec![false; g.n];
            let mut order = vec![trigger];
            seen[trigger] = true;
            let mut at = 0;
            while let Some(&i) = order.get(at) {
                at += 1;
                for &(_, t) in &g.succ[i] {
                    if !seen[t] {
                        seen[t] = true;
                        order.push(t);
                    }
                }
            }
            order
        };
        for is_must in [true, false] {
            let mut queue: VecDeque<usize> = order.iter().copied().collect();
            let mut queued = vec![false; g.n];
            for &i in &order {
                queued[i] = true;
            }
            let mut scratch = vec![0u64; w];
            while let Some(p) = queue.pop_front() {
                queued[p] = false;
                for &(k, t) in &g.succ[p] {
                    let src = if is_must { &self.must } else { &self.may };
                    scratch.copy_from_slice(&src[p * w..(p + 1) * w]);
                    if let Some(vars) = self.gen.get(p).and_then(|ports| ports.get(k)) {
                        for &v in vars {
                            scratch[v / 64] |= 1u64 << (v % 64);
                        }
                    }
                    // The trigger's entry is where conversations start: nothing is set yet.
                    if is_must && t == trigger {
                        continue;
                    }
                    let dst = if is_must { &mut self.must } else { &mut self.may };
                    let mut changed = false;
                    for (d, s) in dst[t * w..(t + 1) * w].iter_mut().zip(&scratch) {
                        let new = if is_must { *d & *s } else { *d | *s };
                        if new != *d {
                            *d = new;
                            changed = true;
                        }
                    }
                    if changed && !queued[t] {
                        queued[t] = true;
                        queue.push_back(t);
                    }
                }
            }
        }
    }

    fn has(bits: &[u64], words: usize, i: usize, v: usize) -> bool {
        bits.get(i * words + v / 64)
            .is_some_and(|word| word & (1u64 << (v % 64)) != 0)
    }

    fn must_have(&self, i: usize, v: usize) -> bool {
        Self::has(&self.must, self.words, i, v)
    }

    fn may_have(&self, i: usize, v: usize) -> bool {
        Self::has(&self.may, self.words, i, v)
    }

    /// A path from the trigger to `to` on which `v` is never set, as (node, port index) steps
    /// ending with `(to, usize::MAX)`. None when there is none or too many were asked for.
    fn path_without(&mut self, g: &Graph, trigger: usize, v: usize, to: usize) -> Option<Vec<(usize, usize)>> {
        if !self.witness.contains_key(&v) {
            if self.witness.len() >= WITNESS_LIMIT {
                return None;
            }
            let mut parent: Vec<Option<(usize, usize)>> = vec![None; g.n];
            let mut seen = vec![false; g.n];
            seen[trigger] = true;
            let mut queue = VecDeque::from([trigger]);
            while let Some(p) = queue.pop_front() {
                for &(k, t) in &g.succ[p] {
                    if self.sets(p, k, v) || seen[t] {
                        continue;
                    }
                    seen[t] = true;
                    parent[t] = Some((p, k));
                    queue.push_back(t);
                }
            }
            self.witness.insert(v, parent);
        }
        let parent = self.witness.get(&v)?;
        if to != trigger && parent.get(to).copied().flatten().is_none() {
            return None;
        }
        let mut steps = vec![(to, usize::MAX)];
        let mut cur = to;
        while let Some((p, k)) = parent.get(cur).copied().flatten() {
            steps.push((p, k));
            cur = p;
            if steps.len() > g.n + 1 {
                return None;
            }
        }
        steps.reverse();
        Some(steps)
    }
}

impl DataFlow {
    /// Words for how a customer reaches `to` without `v` being set: the last choice on such a
    /// path where another way would have set it ("through `topic` → no_match"), or the nodes
    /// passed when no choice was made. None past [`WITNESS_LIMIT`] variables.
    fn explain(&mut self, g: &Graph, trigger: usize, v: usize, to: usize) -> Option<String> {
        if self.explained >= EXPLAIN_LIMIT {
            return None;
        }
        self.explained += 1;
        let steps = self.path_without(g, trigger, v, to)?;
        let choices: Vec<(usize, usize)> = steps
            .iter()
            .copied()
            .filter(|&(i, k)| k != usize::MAX && !matches!(g.port(i, k), "next" | "success"))
            .collect();
        if choices.is_empty() {
            let ids: Vec<&str> = steps.iter().map(|&(i, _)| g.id(i)).collect();
            return Some(format!("along {}", arrow_path(&ids)));
        }
        // Nodes from which `v` can still be set before reaching `to`.
        let can_set = self.can_set_before(g, v, to);
        let relevant: Vec<(usize, usize)> = choices
            .iter()
            .copied()
            .filter(|&(i, k)| {
                g.flow.wires(i).iter().enumerate().any(|(k2, (_, target))| {
                    k2 != k && (self.sets(i, k2, v) || target.is_some_and(|t| t != to && can_set.get(t) == Some(&true)))
                })
            })
            .collect();
        // The last such choice before the hand-over is the one to act on.
        let (i, k) = relevant.last().or(choices.last()).copied()?;
        Some(format!(
            "through {} ({})",
            tick(g.id(i)),
            path_name(g.node(i), g.port(i, k))
        ))
    }

    fn sets(&self, i: usize, k: usize, v: usize) -> bool {
        self.gen
            .get(i)
            .and_then(|ports| ports.get(k))
            .is_some_and(|vars| vars.contains(&v))
    }

    /// Per node: whether a path from it sets `v` without passing through `to`.
    fn can_set_before(&self, g: &Graph, v: usize, to: usize) -> Vec<bool> {
        let mut mark = vec![false; g.n];
        let mut queue = VecDeque::new();
        for (i, ports) in self.gen.iter().enumerate() {
            if i != to && ports.iter().any(|vars| vars.contains(&v)) && i < g.n {
                mark[i] = true;
                queue.push_back(i);
            }
        }
        while let Some(q) = queue.pop_front() {
            for &(p, _) in &g.pred[q] {
                if p != to && !mark[p] {
                    mark[p] = true;
                    queue.push_back(p);
                }
            }
        }
        mark
    }
}

fn data_flow(g: &Graph, out: &mut Vec<Diagnostic>) {
    let flow = g.flow;
    let declared: HashSet<&str> = flow.document().variables.iter().map(|v| v.name.as_str()).collect();
    let mut stored: HashMap<String, Vec<usize>> = HashMap::new();
    for i in 0..g.n {
        for (name, _) in stored_variables(&g.node(i).kind) {
            let list = stored.entry(name).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let setter_names = |var: &str| -> String {
        let ids: Vec<&str> = stored
            .get(var)
            .map(|list| list.iter().map(|&i| g.id(i)).collect())
            .unwrap_or_default();
        and_list(&ids)
    };

    // Variables read that no node ever sets.
    let mut uses_by_node: Vec<Vec<Use>> = Vec::with_capacity(g.n);
    for i in 0..g.n {
        let mut seen = HashSet::new();
        let mut uses = node_uses(flow, g.node(i));
        uses.retain(|u| !always_defined(&u.var) && seen.insert(u.var.clone()));
        for u in &uses {
            if stored.contains_key(&u.var) || declared.contains(u.var.as_str()) {
                continue;
            }
            let message = if u.condition {
                format!(
                    "{} tests `{}`, which no step of the flow sets, so it is always empty.",
                    tick(g.id(i)),
                    u.var
                )
            } else {
                format!(
                    "{} uses `{}`, which no step of the flow sets, so it will render empty.",
                    capitalise(&use_place(g, i, u)),
                    u.var
                )
            };
            out.push(
                g.at(Diagnostic::warning("variable_never_set", message), i, &u.field)
                    .hint(if u.condition {
                        format!(
                            "Check the spelling, collect `{v}` first (Collect Input, Options, AI \
                         Action or a webhook mapping), or declare it in the flow's variables if \
                         it comes from outside.",
                            v = u.var
                        )
                    } else {
                        format!(
                            "Check the spelling, collect `{v}` first (Collect Input, Options, AI \
                         Action or a webhook mapping), declare it in the flow's variables if it \
                         comes from outside, or add a fallback: {{{{ {v} | default(\"…\") }}}}.",
                            v = u.var
                        )
                    }),
            );
        }
        uses.retain(|u| stored.contains_key(&u.var));
        uses_by_node.push(uses);
    }

    let Some(trigger) = g.trigger else {
        return;
    };
    let mut wanted: HashSet<&str> = HashSet::new();
    for (i, uses) in uses_by_node.iter().enumerate() {
        if g.reach[i] {
            wanted.extend(uses.iter().map(|u| u.var.as_str()));
        }
        if let NodeKind::Handover(h) = &g.node(i).kind {
            if g.reach[i] {
                wanted.extend(h.context_variables());
            }
        }
    }
    let mut df = DataFlow::new(g, trigger, &wanted);

    // Variables read where they may not be set yet.
    for (i, uses) in uses_by_node.iter().enumerate() {
        if !g.reach[i] {
            continue;
        }
        for u in uses {
            let Some(&v) = df.ids.get(&u.var) else {
                continue;
            };
            if df.must_have(i, v) {
                continue;
            }
            let id = tick(g.id(i));
            let place = use_place(g, i, u);
            let (message, hint) = if df.may_have(i, v) {
                let how = df
                    .explain(g, trigger, v, i)
                    .map(|path| format!("a customer coming {path}"))
                    .unwrap_or_else(|| "a customer on some paths".to_string());
                (
                    format!(
                        "`{}` in {place} may be empty: {how} gets there without it being set.",
                        u.var
                    ),
                    if u.condition {
                        format!("Set `{}` on every path to {id}, or test it with is_set first.", u.var)
                    } else {
                        format!(
                            "Set `{v}` on every path to {id}, or add a fallback: \
                             {{{{ {v} | default(\"…\") }}}}.",
                            v = u.var
                        )
                    },
                )
            } else if stored.get(&u.var).is_some_and(|list| list == &[i]) {
                (
                    format!(
                        "{} uses `{}`, which {id} itself only sets once it is done, so it will \
                         be empty there.",
                        capitalise(&place),
                        u.var
                    ),
                    format!("Use `{}` in a step after {id} instead.", u.var),
                )
            } else {
                (
                    format!(
                        "{} uses `{}` before any step sets it, so it will be empty there.",
                        capitalise(&place),
                        u.var
                    ),
                    format!(
                        "Move the step that sets `{}` ({}) before {id}, or stop using it here.",
                        u.var,
                        setter_names(&u.var)
                    ),
                )
            };
            out.push(
                g.at(Diagnostic::warning("variable_maybe_unset", message), i, &u.field)
                    .hint(hint),
            );
        }
    }

    // Hand-over context naming variables not collected on every path.
    for i in 0..g.n {
        if !g.reach[i] {
            continue;
        }
        let NodeKind::Handover(h) = &g.node(i).kind else {
            continue;
        };
        let id = tick(g.id(i));
        let mut seen = HashSet::new();
        // An optional variable is only reported when no path collects it, so it is looked at
        // before the same name in `context`.
        let optional = h
            .optional_context
            .iter()
            .enumerate()
            .map(|(k, var)| (format!("optional_context[{k}]"), var, true));
        let required = h
            .context
            .iter()
            .enumerate()
            .map(|(k, var)| (format!("context[{k}]"), var, false));
        for (field, var, optional) in optional.chain(required) {
            if always_defined(var) || !seen.insert(var.as_str()) {
                continue;
            }
            let v = match df.ids.get(var) {
                Some(&v) => Some(v),
                // Declared and set by no step: it comes from outside (the API).
                None if declared.contains(var.as_str()) => continue,
                None => None,
            };
            if v.is_some_and(|v| df.must_have(i, v)) {
                continue;
            }
            match v {
                Some(v) if df.may_have(i, v) && optional => {}
                Some(v) if df.may_have(i, v) => {
                    let how = df
                        .explain(g, trigger, v, i)
                        .map(|path| format!("a customer coming {path}"))
                        .unwrap_or_else(|| "a customer on some paths".to_string());
                    // The customer gives what a question asks; the rest (AI, webhooks) is
                    // worked out by the flow.
                    let asked = stored.get(var).is_some_and(|list| {
                        list.iter()
                            .all(|&n| matches!(g.node(n).kind, NodeKind::CollectInput(_) | NodeKind::Options(_)))
                    });
                    let (without, fix) = if asked {
                        ("without giving one", format!("Ask for `{var}`"))
                    } else {
                        ("without it being set", format!("Make sure `{var}` is set"))
                    };
                    out.push(
                        g.at(
                            Diagnostic::warning(
                                "missing_information",
                                format!(
                                    "The hand-over {id} promises the agent `{var}`, but {how} \
                                     reaches it {without}."
                                ),
                            ),
                            i,
                            &field,
                        )
                        .hint(format!(
                            "{fix} before the hand-over on that path, mark it optional if the \
                             agent can do without it, or remove it from the context."
                        )),
                    );
                }
                _ => {
                    let elsewhere = if stored.contains_key(var) {
                        format!(" ({} sets it, but not on the way here)", setter_names(var))
                    } else {
                        String::new()
                    };
                    out.push(
                        g.at(
                            Diagnostic::error(
                                "missing_information",
                                format!(
                                    "The hand-over {id} promises the agent `{var}`, but no path \
                                     to it asks for one{elsewhere}, so the agent will never get \
                                     it."
                                ),
                            ),
                            i,
                            &field,
                        )
                        .hint(format!(
                            "Collect `{var}` before the hand-over (e.g. with a Collect Input \
                             node), or remove it from the context."
                        )),
                    );
                }
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Webhook mappings
// ---------------------------------------------------------------------------------------------

fn webhook_mappings(g: &Graph, out: &mut Vec<Diagnostic>) {
    let mut known: BTreeSet<String> = g.flow.document().variables.iter().map(|v| v.name.clone()).collect();
    for i in 0..g.n {
        let kind = &g.node(i).kind;
        if matches!(
            kind,
            NodeKind::CollectInput(_) | NodeKind::Options(_) | NodeKind::AiAction(_)
        ) {
            known.extend(stored_variables(kind).into_iter().map(|(name, _)| name));
        }
    }
    for i in 0..g.n {
        let NodeKind::Webhook(w) = &g.node(i).kind else {
            continue;
        };
        for key in w.response_mapping.keys() {
            if known.contains(key) {
                continue;
            }
            out.push(
                g.at(
                    Diagnostic::error(
                        "webhook_undeclared_variable",
                        format!(
                            "The webhook {} stores `{key}` from its response, but the flow does \
                             not declare a variable `{key}`.",
                            tick(g.id(i))
                        ),
                    ),
                    i,
                    &format!("response_mapping.{key}"),
                )
                .hint(format!(
                    "Add `{key}` to the flow's variables (with its type), or map the response \
                     into a variable the flow declares."
                )),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Channel limits
// ---------------------------------------------------------------------------------------------

fn channel_limits(g: &Graph, out: &mut Vec<Diagnostic>) {
    for i in 0..g.n {
        let id = tick(g.id(i));
        let (text, what) = match &g.node(i).kind {
            NodeKind::Message(m) => (Some(&m.text), "message"),
            NodeKind::Options(o) => (Some(&o.text), "question"),
            NodeKind::CollectInput(c) => (Some(&c.text), "question"),
            _ => (None, ""),
        };
        if let Some(text) = text {
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                out.push(
                    g.at(
                        Diagnostic::warning(
                            "channel_limit",
                            format!(
                                "The {what} of {id} has {chars} characters; most channels cut \
                                 texts at {MAX_TEXT_CHARS}."
                            ),
                        ),
                        i,
                        "text",
                    )
                    .hint("Split it into several shorter messages."),
                );
            }
        }
        let NodeKind::Options(o) = &g.node(i).kind else {
            continue;
        };
        if o.options.len() > CHANNEL_MAX_BUTTONS && o.options.len() <= MAX_OPTIONS {
            out.push(
                g.at(
                    Diagnostic::warning(
                        "channel_limit",
                        format!(
                            "{id} offers {} options; many channels (WhatsApp, Messenger) show at \
                             most {CHANNEL_MAX_BUTTONS} buttons.",
                            o.options.len()
                        ),
                    ),
                    i,
                    "options",
                )
                .hint("Keep it to 10 options, or split the question in two."),
            );
        }
        for (k, c) in o.options.iter().enumerate() {
            let chars = c.label.chars().count();
            if chars > MAX_BUTTON_LABEL_CHARS {
                out.push(
                    g.at(
                        Diagnostic::warning(
                            "channel_limit",
                            format!(
                                "The button “{}” of {id} has {chars} characters; WhatsApp and \
                                 Messenger cut button labels at {MAX_BUTTON_LABEL_CHARS}.",
                                c.label
                            ),
                        ),
                        i,
                        &format!("options[{k}].label"),
                    )
                    .at_port(c.id.clone())
                    .hint(format!(
                        "Shorten the label to {MAX_BUTTON_LABEL_CHARS} characters or fewer."
                    )),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Habits of simple escalation flows
// ---------------------------------------------------------------------------------------------

/// Whether passing this node gives the agent something to go on.
fn collects_context(node: &Node) -> bool {
    match &node.kind {
        NodeKind::CollectInput(_) | NodeKind::AiAction(_) | NodeKind::Webhook(_) => true,
        NodeKind::Options(o) => o.variable.is_some(),
        _ => false,
    }
}

fn handover_before_context(g: &Graph, out: &mut Vec<Diagnostic>) {
    let Some(trigger) = g.trigger else {
        return;
    };
    let mut parent: Vec<Option<usize>> = vec![None; g.n];
    let mut seen = vec![false; g.n];
    seen[trigger] = true;
    let mut queue = VecDeque::from([trigger]);
    let mut found = Vec::new();
    while let Some(i) = queue.pop_front() {
        let node = g.node(i);
        if is_handover(node) {
            found.push(i);
            continue;
        }
        if collects_context(node) {
            continue;
        }
        for &(_, t) in &g.succ[i] {
            if !seen[t] {
                seen[t] = true;
                parent[t] = Some(i);
                queue.push_back(t);
            }
        }
    }
    for i in found {
        let mut ids = vec![g.id(i)];
        let mut cur = i;
        while let Some(p) = parent[cur] {
            ids.push(g.id(p));
            cur = p;
            if ids.len() > g.n {
                break;
            }
        }
        ids.reverse();
        out.push(
            g.at(
                Diagnostic::warning(
                    "handover_before_context",
                    format!(
                        "The hand-over {} can be reached before the flow collects anything \
                         ({}), so the agent starts with no context.",
                        tick(g.id(i)),
                        arrow_path(&ids)
                    ),
                ),
                i,
                "",
            )
            .hint(
                "Ask for what the agent needs first (e.g. Collect Input for the email, or \
                 Options for the topic) and name it in the hand-over's context.",
            ),
        );
    }
}

fn is_blank(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|m| m.trim().is_empty())
}

/// Whether a conversation going on from `start` (None: unwired, it ends) can wait or end
/// without the customer being told anything.
fn silent_from(g: &Graph, start: Option<usize>) -> bool {
    let Some(start) = start else {
        return true;
    };
    let mut seen = vec![false; g.n];
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        if i >= g.n || seen[i] {
            continue;
        }
        seen[i] = true;
        match &g.node(i).kind {
            NodeKind::Message(m) if !m.text.trim().is_empty() || m.image.is_some() => continue,
            NodeKind::Options(_) | NodeKind::CollectInput(_) | NodeKind::Handover(_) => continue,
            NodeKind::End(e) => {
                if e.message.as_deref().is_some_and(|m| !m.trim().is_empty()) {
                    continue;
                }
                return true;
            }
            NodeKind::AiAnswer(a) => {
                if a.intro.as_deref().is_some_and(|m| !m.trim().is_empty()) {
                    continue;
                }
                return true;
            }
            NodeKind::Trigger(_)
            | NodeKind::Message(_)
            | NodeKind::Branch(_)
            | NodeKind::Webhook(_)
            | NodeKind::AiAction(_) => {
                for (_, target) in g.flow.wires(i) {
                    match target {
                        Some(t) => stack.push(*t),
                        None => return true,
                    }
                }
            }
        }
    }
    false
}

fn handover_silent(g: &Graph, out: &mut Vec<Diagnostic>) {
    for i in 0..g.n {
        let NodeKind::Handover(h) = &g.node(i).kind else {
            continue;
        };
        let id = tick(g.id(i));
        if is_blank(&h.message) {
            out.push(
                g.at(
                    Diagnostic::warning(
                        "handover_silent",
                        format!(
                            "The hand-over {id} tells the customer nothing when they are queued \
                             (its message is empty), so they won't know a person is coming."
                        ),
                    ),
                    i,
                    "message",
                )
                .hint(
                    "Write a short confirmation, or leave the message out to use the workspace's \
                     confirmation message.",
                ),
            );
        }
        for (port, field, words, text, when) in [
            (
                "off_hours",
                "off_hours_message",
                "off-hours message",
                &h.off_hours_message,
                "outside business hours",
            ),
            (
                "no_agent",
                "no_agent_message",
                "no-agent message",
                &h.no_agent_message,
                "when no agent is online",
            ),
        ] {
            let path = path_name(g.node(i), port);
            if !g.considered(i) || !is_blank(text) || !silent_from(g, g.flow.target(i, port)) {
                continue;
            }
            out.push(
                g.at(
                    Diagnostic::warning(
                        "handover_silent",
                        format!(
                            "{} {when}, the customer is told nothing: its {words} is empty and \
                             the {path} path says nothing before it waits or ends.",
                            capitalise(&format!("at the hand-over {id}"))
                        ),
                    ),
                    i,
                    field,
                )
                .at_port(port)
                .hint(format!(
                    "Write the {words}, leave it out to use the workspace's message, or send a \
                     message first on the {path} path."
                )),
            );
        }
    }
}

fn is_routing(node: &Node) -> bool {
    matches!(
        node.kind,
        NodeKind::Branch(_) | NodeKind::Webhook(_) | NodeKind::AiAction(_)
    )
}

fn excessive_routing(g: &Graph, out: &mut Vec<Diagnostic>) {
    let routing: Vec<bool> = (0..g.n).map(|i| g.considered(i) && is_routing(g.node(i))).collect();
    // Longest chain of routing nodes from each routing node (back edges ignored).
    let mut longest = vec![0usize; g.n];
    let mut next: Vec<Option<usize>> = vec![None; g.n];
    let mut state = vec![0u8; g.n]; // 0 new, 1 on the path, 2 done
    for s in 0..g.n {
        if !routing[s] || state[s] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(s, 0)];
        state[s] = 1;
        while let Some(frame) = stack.last_mut() {
            let v = frame.0;
            if let Some(&(_, w)) = g.succ[v].get(frame.1) {
                frame.1 += 1;
                if routing[w] && state[w] == 0 {
                    state[w] = 1;
                    stack.push((w, 0));
                }
            } else {
                stack.pop();
                let mut best = 0;
                let mut best_next = None;
                for &(_, w) in &g.succ[v] {
                    if routing[w] && state[w] == 2 && longest[w] > best {
                        best = longest[w];
                        best_next = Some(w);
                    }
                }
                longest[v] = best + 1;
                next[v] = best_next;
                state[v] = 2;
            }
        }
    }
    for s in 0..g.n {
        if !routing[s] || longest[s] <= MAX_ROUTING_CHAIN {
            continue;
        }
        // A chain starts where the conversation arrives from something that is not routing.
        let entered = g.pred[s].iter().any(|&(p, _)| g.considered(p) && !routing[p]);
        if !entered {
            continue;
        }
        let mut ids = vec![g.id(s)];
        let mut cur = s;
        while let Some(w) = next[cur] {
            ids.push(g.id(w));
            cur = w;
            if ids.len() > g.n {
                break;
            }
        }
        out.push(
            g.at(
                Diagnostic::warning(
                    "excessive_routing",
                    format!(
                        "{} starts a chain of {} routing steps in a row ({}) with nothing said \
                         to the customer in between.",
                        tick(g.id(s)),
                        ids.len(),
                        arrow_path(&ids)
                    ),
                ),
                s,
                "",
            )
            .hint(
                "Combine the conditions into fewer nodes, or tell the customer what is going on \
                 along the way.",
            ),
        );
    }
}

fn double_handover(g: &Graph, out: &mut Vec<Diagnostic>) {
    // Multi-source search from the ports on which a person has (or may have) had the
    // conversation, remembering the first hand-over and port each node is reached from.
    let mut origin: Vec<Option<(usize, &str)>> = vec![None; g.n];
    let mut queue = VecDeque::new();
    for i in 0..g.n {
        if !g.considered(i) {
            continue;
        }
        let NodeKind::Handover(h) = &g.node(i).kind else {
            continue;
        };
        for port in ["handed_back", "resolved", "timeout"] {
            if port == "timeout" && h.max_wait_seconds == Some(0) {
                continue;
            }
            if let Some(t) = g.flow.target(i, port).filter(|&t| t < g.n) {
                if origin[t].is_none() {
                    origin[t] = Some((i, port));
                    queue.push_back(t);
                }
            }
        }
    }
    while let Some(x) = queue.pop_front() {
        let from = origin[x];
        for &(_, t) in &g.succ[x] {
            if origin[t].is_none() {
                origin[t] = from;
                queue.push_back(t);
            }
        }
    }
    for (i, from) in origin.iter().enumerate() {
        let Some((h1, port)) = *from else {
            continue;
        };
        if !is_handover(g.node(i)) {
            continue;
        }
        let after = match port {
            "handed_back" => "an agent hands it back",
            "resolved" => "an agent resolves it",
            _ => "nobody takes it in time",
        };
        let message = if h1 == i {
            format!(
                "A customer can be handed over twice at {}: after {after}, the flow can come \
                 back to the same hand-over.",
                tick(g.id(i))
            )
        } else {
            format!(
                "A customer can be handed over twice: after {after} at {}, the flow can go on \
                 to the hand-over {}.",
                tick(g.id(h1)),
                tick(g.id(i))
            )
        };
        out.push(g.at(Diagnostic::warning("double_handover", message), i, "").hint(
            "Make sure a customer who already had a person isn't queued again on the same \
                 path: end the flow there, or ask first whether they need more help.",
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Order
// ---------------------------------------------------------------------------------------------

/// Sorts by node order in the document (findings about the whole flow first), then code, and
/// drops duplicates.
fn finish(flow: &Flow, mut out: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let order = |d: &Diagnostic| -> usize { d.node.as_deref().and_then(|id| flow.index_of(id)).map_or(0, |i| i + 1) };
    out.sort_by(|a, b| {
        order(a)
            .cmp(&order(b))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.port.cmp(&b.port))
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.severity.cmp(&b.severity))
            .then_with(|| a.message.cmp(&b.message))
            .then_with(|| a.hint.cmp(&b.hint))
    });
    out.dedup();
    mark_accepted(&mut out, &flow.document().accepted);
    out
}

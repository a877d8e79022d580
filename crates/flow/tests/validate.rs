//! The graph and data-flow rules of validation, one or more tests per rule: each checks the
//! code, severity, node (and port) of the finding, and that the corrected flow is free of it.

use baton_flow::validate::{validate, CODES};
use baton_flow::{check, Diagnostic, Flow, Severity};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A small, correct flow: no validation finding at all.
fn base() -> Value {
    json!({
        "format": 1, "name": "Base",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "hello", "type": "message", "text": "Hi {{ contact.name | default(\"there\") }}!"},
            {"id": "topic", "type": "options", "text": "What is it about?", "variable": "topic",
             "typed_text": "strict",
             "options": [{"id": "refund", "label": "Refund"}, {"id": "other", "label": "Something else"}]},
            {"id": "ask_email", "type": "collect_input", "text": "Your email?", "variable": "email",
             "input": "email"},
            {"id": "human", "type": "handover", "context": ["email", "topic"]},
            {"id": "thanks", "type": "message", "text": "Thanks, {{ email }}."},
            {"id": "later", "type": "end", "message": "We'll write to {{ email }}.", "resolve": false},
            {"id": "sorry", "type": "end", "message": "Sorry, I couldn't read that."},
            {"id": "bye", "type": "end", "message": "Bye!"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "hello"},
            {"from": "hello", "port": "next", "to": "topic"},
            {"from": "topic", "port": "refund", "to": "ask_email"},
            {"from": "topic", "port": "other", "to": "ask_email"},
            {"from": "ask_email", "port": "next", "to": "human"},
            {"from": "ask_email", "port": "invalid", "to": "sorry"},
            {"from": "human", "port": "handed_back", "to": "thanks"},
            {"from": "human", "port": "off_hours", "to": "later"},
            {"from": "human", "port": "no_agent", "to": "later"},
            {"from": "human", "port": "timeout", "to": "later"},
            {"from": "human", "port": "cancelled", "to": "later"},
            {"from": "thanks", "port": "next", "to": "bye"}
        ]
    })
}

/// A flow document from nodes and `[from, port, to]` edges.
fn doc(nodes: Value, edges: &[[&str; 3]]) -> Value {
    let edges: Vec<Value> = edges
        .iter()
        .map(|[from, port, to]| json!({"from": from, "port": port, "to": to}))
        .collect();
    json!({"format": 1, "name": "Test", "nodes": nodes, "edges": edges})
}

fn load(doc: &Value) -> Flow {
    match Flow::from_json(&doc.to_string()) {
        Ok(flow) => flow,
        Err(d) => panic!("flow does not load: {d:#?}"),
    }
}

fn run(doc: &Value) -> Vec<Diagnostic> {
    validate(&load(doc))
}

fn node<'a>(doc: &'a mut Value, id: &str) -> &'a mut Value {
    doc["nodes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|n| n["id"] == id)
        .unwrap_or_else(|| panic!("no node {id}"))
}

fn add_node(doc: &mut Value, node: Value) {
    doc["nodes"].as_array_mut().unwrap().push(node);
}

fn unwire(doc: &mut Value, from: &str, port: &str) {
    doc["edges"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !(e["from"] == from && e["port"] == port));
}

fn wire(doc: &mut Value, from: &str, port: &str, to: &str) {
    unwire(doc, from, port);
    doc["edges"]
        .as_array_mut()
        .unwrap()
        .push(json!({"from": from, "port": port, "to": to}));
}

fn with_code<'a>(d: &'a [Diagnostic], code: &str) -> Vec<&'a Diagnostic> {
    d.iter().filter(|x| x.code == code).collect()
}

/// Exactly one finding with this code at this node and port; checks its severity and that it
/// reads like a finding (names the node, has a hint). Returns it for further checks.
#[track_caller]
fn expect(d: &[Diagnostic], code: &str, severity: Severity, node: &str, port: Option<&str>) -> Diagnostic {
    expect_where(d, code, severity, node, port, |_| true)
}

/// Like [`expect`], among the findings that also pass `filter` (e.g. about one variable).
#[track_caller]
fn expect_where(
    d: &[Diagnostic],
    code: &str,
    severity: Severity,
    node: &str,
    port: Option<&str>,
    filter: impl Fn(&Diagnostic) -> bool,
) -> Diagnostic {
    let hits: Vec<&Diagnostic> = d
        .iter()
        .filter(|x| x.code == code && x.node.as_deref() == Some(node) && x.port.as_deref() == port)
        .filter(|x| filter(x))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one `{code}` at {node} {port:?}, found {}: {d:#?}",
        hits.len()
    );
    let f = hits[0].clone();
    assert_eq!(f.severity, severity, "{f:#?}");
    assert!(
        f.message.contains(&format!("`{node}`")),
        "message names the node: {f:#?}"
    );
    assert!(f.message.ends_with('.'), "a sentence: {f:#?}");
    assert!(f.hint.as_deref().is_some_and(|h| !h.is_empty()), "has a hint: {f:#?}");
    assert!(
        f.location
            .as_deref()
            .is_some_and(|l| l.starts_with("nodes[") || l.starts_with("edges[")),
        "has a location: {f:#?}"
    );
    f
}

#[track_caller]
fn absent(d: &[Diagnostic], code: &str) {
    let hits = with_code(d, code);
    assert!(hits.is_empty(), "expected no `{code}`, found {hits:#?}");
}

// ---------------------------------------------------------------------------------------------
// The correct flow
// ---------------------------------------------------------------------------------------------

#[test]
fn correct_flow_has_no_findings() {
    let d = run(&base());
    assert!(d.is_empty(), "{d:#?}");
    let checked = check(&base().to_string()).unwrap();
    assert!(checked.flow.is_some());
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
}

// ---------------------------------------------------------------------------------------------
// 1. Triggers
// ---------------------------------------------------------------------------------------------

#[test]
fn no_trigger_is_an_error() {
    let bad = doc(
        json!([{"id": "hello", "type": "message", "text": "Hi"}, {"id": "bye", "type": "end"}]),
        &[["hello", "next", "bye"]],
    );
    let d = run(&bad);
    let f: Vec<_> = with_code(&d, "no_trigger");
    assert_eq!(f.len(), 1, "{d:#?}");
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].node, None);
    assert!(f[0].hint.is_some());
    // Sorted first: it is about the whole flow.
    assert_eq!(d[0].code, "no_trigger");
    // Without a trigger nothing is "unreachable"; the one error says what to do.
    absent(&d, "unreachable_node");
    absent(&run(&base()), "no_trigger");
}

#[test]
fn every_extra_trigger_is_reported() {
    let mut bad = base();
    add_node(&mut bad, json!({"id": "start2", "type": "trigger"}));
    add_node(&mut bad, json!({"id": "start3", "type": "trigger"}));
    wire(&mut bad, "start2", "next", "hello");
    wire(&mut bad, "start3", "next", "hello");
    let d = run(&bad);
    let f = expect(&d, "multiple_triggers", Severity::Error, "start2", None);
    assert!(f.message.contains("`start`"), "{f:#?}");
    expect(&d, "multiple_triggers", Severity::Error, "start3", None);
    assert_eq!(with_code(&d, "multiple_triggers").len(), 2);
    // The extra triggers are not also called unreachable.
    absent(&d, "unreachable_node");
    absent(&run(&base()), "multiple_triggers");
}

#[test]
fn edge_into_the_trigger_is_reported_at_the_edge() {
    let mut bad = base();
    wire(&mut bad, "thanks", "next", "start");
    let d = run(&bad);
    let f = expect(&d, "trigger_has_incoming", Severity::Warning, "thanks", Some("next"));
    assert!(f.message.contains("`start`"), "{f:#?}");
    assert!(f.location.as_deref().unwrap().starts_with("edges["), "{f:#?}");
    assert!(f.hint.as_deref().unwrap().contains("`hello`"), "{f:#?}");
    absent(&run(&base()), "trigger_has_incoming");
}

// ---------------------------------------------------------------------------------------------
// 2. Reachability
// ---------------------------------------------------------------------------------------------

#[test]
fn unreachable_node_is_a_warning() {
    let mut bad = base();
    add_node(
        &mut bad,
        json!({"id": "orphan", "type": "message", "text": "Nobody sees me"}),
    );
    wire(&mut bad, "orphan", "next", "bye");
    let d = run(&bad);
    let f = expect(&d, "unreachable_node", Severity::Warning, "orphan", None);
    assert_eq!(f.location.as_deref(), Some("nodes[9]"));
    // Nodes only the orphan leads to are reachable otherwise: only the orphan is reported.
    assert_eq!(with_code(&d, "unreachable_node").len(), 1);

    let mut good = bad.clone();
    wire(&mut good, "thanks", "next", "orphan");
    absent(&run(&good), "unreachable_node");
}

#[test]
fn unreachable_nodes_get_no_port_findings() {
    let mut bad = base();
    // An unconnected question with nothing wired: only "unreachable" is said about it.
    add_node(
        &mut bad,
        json!({"id": "draft", "type": "collect_input", "text": "?", "variable": "x"}),
    );
    let d = run(&bad);
    expect(&d, "unreachable_node", Severity::Warning, "draft", None);
    assert!(
        d.iter()
            .all(|x| x.node.as_deref() != Some("draft") || x.code == "unreachable_node"),
        "{d:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Dead ends
// ---------------------------------------------------------------------------------------------

#[test]
fn unwired_next_of_a_message_is_a_dead_end() {
    let mut bad = base();
    unwire(&mut bad, "thanks", "next");
    let d = run(&bad);
    let f = expect(&d, "dead_end", Severity::Error, "thanks", Some("next"));
    assert!(f.hint.as_deref().unwrap().contains("End node"), "{f:#?}");
    absent(&run(&base()), "dead_end");
}

#[test]
fn dead_ends_of_every_node_type_with_one_way_on() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"id": "x", "type": "trigger"}), "x", "next"),
        (json!({"id": "x", "type": "message", "text": "Hi"}), "x", "next"),
        (
            json!({"id": "x", "type": "collect_input", "text": "?", "variable": "v"}),
            "x",
            "next",
        ),
        (
            json!({"id": "x", "type": "ai_action", "task": "summarize", "variable": "s"}),
            "x",
            "next",
        ),
        (
            json!({"id": "x", "type": "webhook", "url": "https://example.com"}),
            "x",
            "success",
        ),
    ];
    for (node, id, port) in cases {
        let is_trigger = node["type"] == "trigger";
        let mut nodes = vec![node];
        let mut edges = vec![];
        if !is_trigger {
            nodes.insert(0, json!({"id": "start", "type": "trigger"}));
            edges.push(["start", "next", "x"]);
        }
        nodes.push(json!({"id": "end", "type": "end"}));
        let bad = doc(Value::Array(nodes.clone()), &edges);
        let d = run(&bad);
        expect(&d, "dead_end", Severity::Error, id, Some(port));

        edges.push(["x", port, "end"]);
        let good = doc(Value::Array(nodes), &edges);
        let d = run(&good);
        absent(&d, "dead_end");
    }
}

#[test]
fn ports_with_alternatives_are_not_dead_ends() {
    // A branch with nothing wired is a set of open ports (warnings), not a dead end (error).
    let bad = doc(
        json!([
            {"id": "start", "type": "trigger"},
            {"id": "route", "type": "branch", "branches": [
                {"id": "vip", "conditions": [{"variable": "contact.plan", "op": "equals", "value": "vip"}]}
            ]}
        ]),
        &[["start", "next", "route"]],
    );
    let d = run(&bad);
    absent(&d, "dead_end");
    expect(&d, "port_unwired", Severity::Warning, "route", Some("vip"));
    expect(&d, "port_unwired", Severity::Warning, "route", Some("else"));
}

// ---------------------------------------------------------------------------------------------
// 4. Open ports
// ---------------------------------------------------------------------------------------------

#[test]
fn open_ports_of_options_branch_and_collect() {
    let mut bad = base();
    node(&mut bad, "topic")["typed_text"] = json!("reprompt");
    unwire(&mut bad, "topic", "other");
    unwire(&mut bad, "ask_email", "invalid");
    let d = run(&bad);
    let f = expect(&d, "port_unwired", Severity::Warning, "topic", Some("other"));
    assert!(f.message.contains("Something else"), "{f:#?}");
    assert!(f.message.contains("ends there"), "{f:#?}");
    expect(&d, "port_unwired", Severity::Warning, "topic", Some("no_match"));
    expect(&d, "port_unwired", Severity::Warning, "ask_email", Some("invalid"));

    let mut good = bad.clone();
    wire(&mut good, "topic", "other", "ask_email");
    wire(&mut good, "topic", "no_match", "ask_email");
    wire(&mut good, "ask_email", "invalid", "sorry");
    absent(&run(&good), "port_unwired");
}

#[test]
fn strict_options_never_leave_through_no_match() {
    // The base flow's question is strict and its no_match is open: no warning.
    let d = run(&base());
    absent(&d, "port_unwired");
    let mut reprompt = base();
    node(&mut reprompt, "topic")["typed_text"] = json!("bail");
    expect(
        &run(&reprompt),
        "port_unwired",
        Severity::Warning,
        "topic",
        Some("no_match"),
    );
}

#[test]
fn open_branch_port() {
    let nodes = json!([
        {"id": "start", "type": "trigger"},
        {"id": "route", "type": "branch", "branches": [
            {"id": "vip", "conditions": [{"variable": "contact.plan", "op": "equals", "value": "vip"}]}
        ]},
        {"id": "a", "type": "end", "message": "VIP"},
        {"id": "b", "type": "end", "message": "Regular"}
    ]);
    let bad = doc(nodes.clone(), &[["start", "next", "route"], ["route", "vip", "a"]]);
    let f = expect(&run(&bad), "port_unwired", Severity::Warning, "route", Some("else"));
    assert!(f.message.contains("none of the branches"), "{f:#?}");
    let good = doc(
        nodes,
        &[
            ["start", "next", "route"],
            ["route", "vip", "a"],
            ["route", "else", "b"],
        ],
    );
    absent(&run(&good), "port_unwired");
}

#[test]
fn handover_ports_resolved_may_stay_open_handed_back_may_not() {
    let mut bad = base();
    for port in ["handed_back", "off_hours", "no_agent", "timeout", "cancelled"] {
        unwire(&mut bad, "human", port);
    }
    let d = run(&bad);
    let f = expect(&d, "port_unwired", Severity::Warning, "human", Some("handed_back"));
    assert!(f.message.contains("hands the conversation"), "{f:#?}");
    assert!(f.message.contains("nowhere to continue"), "{f:#?}");
    for port in ["off_hours", "no_agent", "timeout", "cancelled"] {
        expect(&d, "port_unwired", Severity::Warning, "human", Some(port));
    }
    // Resolving with `resolved` open closes the conversation: fine, never reported.
    assert!(
        !d.iter()
            .any(|x| x.code == "port_unwired" && x.port.as_deref() == Some("resolved")),
        "{d:#?}"
    );
    // A hand-over that waits forever never times out.
    let mut forever = bad.clone();
    node(&mut forever, "human")["max_wait_seconds"] = json!(0);
    let d = run(&forever);
    assert!(
        !d.iter()
            .any(|x| x.code == "port_unwired" && x.port.as_deref() == Some("timeout")),
        "{d:#?}"
    );
    absent(&run(&base()), "port_unwired");
}

#[test]
fn open_ports_of_ai_nodes_and_webhooks() {
    let nodes = json!([
        {"id": "start", "type": "trigger"},
        {"id": "classify", "type": "ai_action", "task": "classify",
         "categories": [{"id": "billing"}, {"id": "tech"}], "variable": "category"},
        {"id": "answer", "type": "ai_answer"},
        {"id": "hook", "type": "webhook", "url": "https://example.com/x"},
        {"id": "done", "type": "end", "message": "Done."}
    ]);
    let bad = doc(
        nodes.clone(),
        &[
            ["start", "next", "classify"],
            ["classify", "billing", "hook"],
            ["hook", "success", "answer"],
        ],
    );
    let d = run(&bad);
    for port in ["tech", "unknown", "error"] {
        expect(&d, "port_unwired", Severity::Warning, "classify", Some(port));
    }
    for port in ["resolved", "unanswered", "human"] {
        expect(&d, "port_unwired", Severity::Warning, "answer", Some(port));
    }
    let f = expect(&d, "port_unwired", Severity::Warning, "hook", Some("failure"));
    assert!(f.message.contains("fails"), "{f:#?}");
    absent(&d, "dead_end");

    let good = doc(
        nodes,
        &[
            ["start", "next", "classify"],
            ["classify", "billing", "hook"],
            ["classify", "tech", "done"],
            ["classify", "unknown", "done"],
            ["classify", "error", "done"],
            ["hook", "success", "answer"],
            ["hook", "failure", "done"],
            ["answer", "resolved", "done"],
            ["answer", "unanswered", "done"],
            ["answer", "human", "done"],
        ],
    );
    absent(&run(&good), "port_unwired");
}

// ---------------------------------------------------------------------------------------------
// 5. Loops that never wait
// ---------------------------------------------------------------------------------------------

#[test]
fn loop_without_a_waiting_node_is_an_error() {
    let nodes = json!([
        {"id": "start", "type": "trigger"},
        {"id": "say", "type": "message", "text": "Checking…"},
        {"id": "check", "type": "branch", "branches": [
            {"id": "ok", "conditions": [{"variable": "contact.plan", "op": "is_set"}]}
        ]},
        {"id": "done", "type": "end", "message": "Done."},
        {"id": "ask", "type": "collect_input", "text": "Plan?", "variable": "plan"}
    ]);
    let bad = doc(
        nodes.clone(),
        &[
            ["start", "next", "say"],
            ["say", "next", "check"],
            ["check", "ok", "done"],
            ["check", "else", "say"],
        ],
    );
    let d = run(&bad);
    let f = expect(&d, "loop_without_wait", Severity::Error, "say", None);
    assert!(f.message.contains("`check`"), "lists the loop's nodes: {f:#?}");
    assert_eq!(with_code(&d, "loop_without_wait").len(), 1, "once per loop");

    // The same loop through a question waits for the customer each time round.
    let good = doc(
        nodes,
        &[
            ["start", "next", "say"],
            ["say", "next", "check"],
            ["check", "ok", "done"],
            ["check", "else", "ask"],
            ["ask", "next", "say"],
            ["ask", "invalid", "done"],
        ],
    );
    absent(&run(&good), "loop_without_wait");
}

#[test]
fn self_loop_and_two_separate_loops() {
    let nodes = json!([
        {"id": "start", "type": "trigger"},
        {"id": "spin", "type": "branch", "branches": [
            {"id": "again", "conditions": [{"variable": "contact.plan", "op": "is_set"}]}
        ]},
        {"id": "a", "type": "message", "text": "a"},
        {"id": "b", "type": "message", "text": "b"}
    ]);
    let bad = doc(
        nodes,
        &[
            ["start", "next", "spin"],
            ["spin", "again", "spin"],
            ["spin", "else", "a"],
            ["a", "next", "b"],
            ["b", "next", "a"],
        ],
    );
    let d = run(&bad);
    let f = expect(&d, "loop_without_wait", Severity::Error, "spin", None);
    assert!(f.message.contains("back to itself"), "{f:#?}");
    expect(&d, "loop_without_wait", Severity::Error, "a", None);
    assert_eq!(with_code(&d, "loop_without_wait").len(), 2);
}

// ---------------------------------------------------------------------------------------------
// 6. Data flow
// ---------------------------------------------------------------------------------------------

#[test]
fn variable_never_set_in_a_template() {
    let mut bad = base();
    node(&mut bad, "thanks")["text"] = json!("Thanks, {{ emial }}.");
    let d = run(&bad);
    let f = expect(&d, "variable_never_set", Severity::Warning, "thanks", None);
    assert!(f.message.contains("`emial`") && f.message.contains("empty"), "{f:#?}");
    assert_eq!(f.location.as_deref(), Some("nodes[5].text"));

    // Fallbacks, declared variables and always-known values are fine.
    for text in [
        "Thanks, {{ emial | default(\"friend\") }}.",
        "Thanks, {{ contact.name }} on {{ conversation.channel }}: {{ last_message }} ({{ agent.name }}).",
    ] {
        let mut good = base();
        node(&mut good, "thanks")["text"] = json!(text);
        absent(&run(&good), "variable_never_set");
    }
    let mut declared = bad.clone();
    declared["variables"] = json!([{"name": "emial"}]);
    absent(&run(&declared), "variable_never_set");
}

#[test]
fn variable_never_set_in_a_branch_condition() {
    let nodes = |op: &str| {
        json!([
            {"id": "start", "type": "trigger"},
            {"id": "route", "type": "branch", "branches": [
                {"id": "vip", "conditions": [{"variable": "tier", "op": op, "value": "gold"}]}
            ]},
            {"id": "done", "type": "end"}
        ])
    };
    let edges = [
        ["start", "next", "route"],
        ["route", "vip", "done"],
        ["route", "else", "done"],
    ];
    let d = run(&doc(nodes("equals"), &edges));
    let f = expect(&d, "variable_never_set", Severity::Warning, "route", None);
    assert!(f.message.contains("`tier`"), "{f:#?}");
    assert_eq!(
        f.location.as_deref(),
        Some("nodes[1].branches[0].conditions[0].variable")
    );
    // Testing whether it is set is how one guards against that.
    let mut guarded = doc(nodes("is_set"), &edges);
    guarded["nodes"][1]["branches"][0]["conditions"][0]
        .as_object_mut()
        .unwrap()
        .remove("value");
    absent(&run(&guarded), "variable_never_set");
}

/// ask (options) → gold: ask_tier (collects `tier`) → show ; silver: show. `show` uses `tier`.
fn maybe_flow(show_text: &str) -> Value {
    doc(
        json!([
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "options", "text": "Member?", "typed_text": "strict",
             "options": [{"id": "gold", "label": "Gold"}, {"id": "silver", "label": "Silver"}]},
            {"id": "ask_tier", "type": "collect_input", "text": "Tier code?", "variable": "tier"},
            {"id": "show", "type": "message", "text": show_text},
            {"id": "done", "type": "end"}
        ]),
        &[
            ["start", "next", "ask"],
            ["ask", "gold", "ask_tier"],
            ["ask", "silver", "show"],
            ["ask_tier", "next", "show"],
            ["ask_tier", "invalid", "done"],
            ["show", "next", "done"],
        ],
    )
}

#[test]
fn variable_maybe_unset_on_some_paths() {
    let d = run(&maybe_flow("Your tier: {{ tier }}"));
    let f = expect(&d, "variable_maybe_unset", Severity::Warning, "show", None);
    assert!(f.message.contains("`tier`"), "{f:#?}");
    assert!(
        f.message.contains("`ask` (“Silver”)"),
        "names the path in words: {f:#?}"
    );
    absent(&d, "variable_never_set");
    // With a fallback it is fine.
    absent(
        &run(&maybe_flow("Your tier: {{ tier | default(\"none\") }}")),
        "variable_maybe_unset",
    );
    // Set on every path: fine.
    let mut good = maybe_flow("Your tier: {{ tier }}");
    good["edges"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !(e["from"] == "ask" && e["port"] == "silver"));
    good["edges"]
        .as_array_mut()
        .unwrap()
        .push(json!({"from": "ask", "port": "silver", "to": "ask_tier"}));
    absent(&run(&good), "variable_maybe_unset");
}

#[test]
fn variable_used_before_it_is_set() {
    let bad = doc(
        json!([
            {"id": "start", "type": "trigger"},
            {"id": "early", "type": "message", "text": "Hello {{ name }}"},
            {"id": "ask_name", "type": "collect_input", "text": "Name?", "variable": "name", "input": "name"},
            {"id": "done", "type": "end"}
        ]),
        &[
            ["start", "next", "early"],
            ["early", "next", "ask_name"],
            ["ask_name", "next", "done"],
            ["ask_name", "invalid", "done"],
        ],
    );
    let d = run(&bad);
    let f = expect(&d, "variable_maybe_unset", Severity::Warning, "early", None);
    assert!(f.message.contains("before any step sets it"), "{f:#?}");
    assert!(f.hint.as_deref().unwrap().contains("`ask_name`"), "{f:#?}");
    absent(&d, "variable_never_set");

    // Asked first, then greeted: fine.
    let mut good = bad.clone();
    good["edges"] = json!([
        {"from": "start", "port": "next", "to": "ask_name"},
        {"from": "ask_name", "port": "next", "to": "early"},
        {"from": "ask_name", "port": "invalid", "to": "done"},
        {"from": "early", "port": "next", "to": "done"}
    ]);
    absent(&run(&good), "variable_maybe_unset");

    // A question's own error text cannot use the answer it failed to get.
    let mut own = good.clone();
    node(&mut own, "ask_name")["error_text"] = json!("{{ name }} is not a name.");
    let d = run(&own);
    let f = expect(&d, "variable_maybe_unset", Severity::Warning, "ask_name", None);
    assert!(f.message.contains("itself"), "{f:#?}");
    assert_eq!(f.location.as_deref(), Some("nodes[2].error_text"));
}

#[test]
fn ports_set_only_what_they_set() {
    // Options set `<variable>_id` on option ports only (not no_match); a webhook maps on
    // success only; an AI action's outputs are not set on error.
    let bad = doc(
        json!([
            {"id": "start", "type": "trigger"},
            {"id": "pick", "type": "options", "text": "?", "variable": "plan", "typed_text": "bail",
             "options": [{"id": "a", "label": "A"}]},
            {"id": "hook", "type": "webhook", "url": "https://example.com", "response_mapping": {"status_code": "status"}},
            {"id": "ai", "type": "ai_action", "task": "sentiment", "variable": "mood", "frustration_variable": "angry"},
            {"id": "show", "type": "message", "text": "{{ plan_id }} {{ status_code }} {{ mood }} {{ angry }}"},
            {"id": "done", "type": "end"}
        ]),
        &[
            ["start", "next", "pick"],
            ["pick", "a", "hook"],
            ["pick", "no_match", "hook"],
            ["hook", "success", "ai"],
            ["hook", "failure", "ai"],
            ["ai", "next", "show"],
            ["ai", "error", "show"],
            ["show", "next", "done"],
        ],
    );
    let mut flow = bad.clone();
    flow["variables"] = json!([{"name": "status_code", "type": "number"}]);
    let d = run(&flow);
    // One finding per node and variable, each naming the port that leaves it unset.
    for (var, path) in [
        ("plan_id", "`pick` (“no match”)"),
        ("status_code", "`hook` (“failure”)"),
        ("mood", "`ai` (“error”)"),
        ("angry", "`ai` (“error”)"),
    ] {
        let f = expect_where(&d, "variable_maybe_unset", Severity::Warning, "show", None, |x| {
            x.message.starts_with(&format!("`{var}`"))
        });
        assert!(f.message.contains(path), "{f:#?}");
        assert_eq!(f.location.as_deref(), Some("nodes[4].text"));
    }
    assert_eq!(with_code(&d, "variable_maybe_unset").len(), 4, "{d:#?}");

    // When every port on the way sets them, nothing is reported.
    let mut good = flow.clone();
    good["edges"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !matches!(e["port"].as_str(), Some("no_match" | "failure" | "error")));
    node(&mut good, "pick")["typed_text"] = json!("strict");
    add_node(&mut good, json!({"id": "stop", "type": "end", "message": "Sorry."}));
    wire(&mut good, "hook", "failure", "stop");
    wire(&mut good, "ai", "error", "stop");
    absent(&run(&good), "variable_maybe_unset");
}

// ---------------------------------------------------------------------------------------------
// 6. Missing information
// ---------------------------------------------------------------------------------------------

#[test]
fn handover_missing_email_on_one_path_names_the_path() {
    // The headline rule: `topic`'s "no match" path reaches the hand-over without an email.
    let mut bad = base();
    node(&mut bad, "topic")["typed_text"] = json!("bail");
    wire(&mut bad, "topic", "no_match", "human");
    let d = run(&bad);
    let f = expect_where(&d, "missing_information", Severity::Warning, "human", None, |x| {
        x.location.as_deref() == Some("nodes[4].context[0]")
    });
    assert_eq!(
        f.message,
        "The hand-over `human` promises the agent `email`, but a customer coming through \
         `topic` (“no match”) reaches it without giving one."
    );
    assert_eq!(f.location.as_deref(), Some("nodes[4].context[0]"));
    assert!(f.hint.as_deref().unwrap().contains("before the hand-over"), "{f:#?}");
    // `topic` is not set on no_match either.
    assert_eq!(with_code(&d, "missing_information").len(), 2, "{d:#?}");
    absent(&run(&base()), "missing_information");
}

#[test]
fn handover_missing_information_on_every_path_is_an_error() {
    let mut bad = base();
    node(&mut bad, "human")["context"] = json!(["email", "order_id"]);
    let d = run(&bad);
    let f = expect(&d, "missing_information", Severity::Error, "human", None);
    assert!(
        f.message.contains("`order_id`") && f.message.contains("never"),
        "{f:#?}"
    );
    absent(&d, "variable_never_set");
    assert_eq!(f.location.as_deref(), Some("nodes[4].context[1]"));

    // Collected elsewhere, but not on the way here: still an error, and it says where.
    let mut elsewhere = bad.clone();
    add_node(
        &mut elsewhere,
        json!({"id": "ask_order", "type": "collect_input", "text": "Order?", "variable": "order_id"}),
    );
    wire(&mut elsewhere, "thanks", "next", "ask_order");
    wire(&mut elsewhere, "ask_order", "next", "bye");
    wire(&mut elsewhere, "ask_order", "invalid", "bye");
    let d = run(&elsewhere);
    let f = expect(&d, "missing_information", Severity::Error, "human", None);
    assert!(f.message.contains("`ask_order`"), "{f:#?}");

    // Always-known values, and declared variables no step sets (they come from the API), are
    // fine in the context.
    let mut good = base();
    node(&mut good, "human")["context"] = json!(["email", "contact.plan", "account"]);
    good["variables"] = json!([{"name": "account"}]);
    absent(&run(&good), "missing_information");
}

#[test]
fn optional_context_is_only_missing_when_no_path_collects_it() {
    // The customer gives a name *or* an account id: each is collected on some paths only, on
    // purpose. Marked optional, neither is missing information.
    let mut alternatives = base();
    node(&mut alternatives, "topic")["variable"] = json!("id_method");
    add_node(
        &mut alternatives,
        json!({"id": "ask_name", "type": "collect_input", "text": "Name?", "variable": "customer_name"}),
    );
    add_node(
        &mut alternatives,
        json!({"id": "ask_account", "type": "collect_input", "text": "Account?", "variable": "account_id"}),
    );
    unwire(&mut alternatives, "topic", "refund");
    unwire(&mut alternatives, "topic", "other");
    wire(&mut alternatives, "topic", "refund", "ask_name");
    wire(&mut alternatives, "topic", "other", "ask_account");
    for asked in ["ask_name", "ask_account"] {
        wire(&mut alternatives, asked, "next", "ask_email");
        wire(&mut alternatives, asked, "invalid", "ask_email");
    }
    node(&mut alternatives, "human")["context"] = json!(["email", "customer_name", "account_id"]);
    let d = run(&alternatives);
    assert_eq!(with_code(&d, "missing_information").len(), 2, "{d:#?}");
    let hint = with_code(&d, "missing_information")[0].hint.clone().unwrap_or_default();
    assert!(hint.contains("mark it optional"), "{hint}");

    let mut optional = alternatives.clone();
    node(&mut optional, "human")["context"] = json!(["email"]);
    node(&mut optional, "human")["optional_context"] = json!(["customer_name", "account_id"]);
    absent(&run(&optional), "missing_information");
    // Named in both lists, a variable counts as optional.
    node(&mut optional, "human")["context"] = json!(["email", "customer_name", "account_id"]);
    absent(&run(&optional), "missing_information");

    // Optional, but no path to the hand-over collects it: the agent never gets it.
    node(&mut optional, "human")["context"] = json!(["email"]);
    node(&mut optional, "human")["optional_context"] = json!(["customer_name", "order_id"]);
    let d = run(&optional);
    let f = expect(&d, "missing_information", Severity::Error, "human", None);
    assert!(f.message.contains("`order_id`"), "{f:#?}");
    assert_eq!(f.location.as_deref(), Some("nodes[4].optional_context[1]"));
}

#[test]
fn declared_variables_no_step_sets_come_from_outside() {
    // A second hand-over names `refund_amount`, which the flow declares and no step sets: it
    // is expected from outside (the API or an agent's hand-back), so it is not reported.
    let mut bad = base();
    add_node(
        &mut bad,
        json!({"id": "human2", "type": "handover", "context": ["refund_amount"]}),
    );
    node(&mut bad, "human2")["message"] = json!("One more moment.");
    bad["variables"] = json!([{"name": "refund_amount", "type": "number"}]);
    wire(&mut bad, "thanks", "next", "human2");
    let d = run(&bad);
    absent(&d, "missing_information");
    // Undeclared, it is an error: nothing in the flow collects it.
    bad["variables"] = json!([]);
    let d = run(&bad);
    let f = expect(&d, "missing_information", Severity::Error, "human2", None);
    assert!(f.message.contains("`refund_amount`"), "{f:#?}");
}

// ---------------------------------------------------------------------------------------------
// 7. Webhook mappings
// ---------------------------------------------------------------------------------------------

fn webhook_flow(variables: Value) -> Value {
    let mut d = doc(
        json!([
            {"id": "start", "type": "trigger"},
            {"id": "ask_order", "type": "collect_input", "text": "Order?", "variable": "order_id"},
            {"id": "lookup", "type": "webhook", "url": "https://shop.example/orders/{{ order_id }}",
             "response_mapping": {"order_status": "order.status", "order_id": "order.id"}},
            {"id": "show", "type": "end", "message": "Status: {{ order_status | default(\"unknown\") }}"}
        ]),
        &[
            ["start", "next", "ask_order"],
            ["ask_order", "next", "lookup"],
            ["ask_order", "invalid", "show"],
            ["lookup", "success", "show"],
            ["lookup", "failure", "show"],
        ],
    );
    d["variables"] = variables;
    d
}

#[test]
fn webhook_mapping_to_undeclared_variable_is_an_error() {
    let d = run(&webhook_flow(json!([])));
    let f = expect(&d, "webhook_undeclared_variable", Severity::Error, "lookup", None);
    assert!(f.message.contains("`order_status`"), "{f:#?}");
    assert_eq!(f.location.as_deref(), Some("nodes[2].response_mapping.order_status"));
    // `order_id` is stored by the Collect Input node, so it counts as declared.
    assert_eq!(with_code(&d, "webhook_undeclared_variable").len(), 1);
    let good = webhook_flow(json!([{"name": "order_status"}]));
    absent(&run(&good), "webhook_undeclared_variable");
}

// ---------------------------------------------------------------------------------------------
// 8. Channel limits
// ---------------------------------------------------------------------------------------------

#[test]
fn long_button_labels_many_options_and_long_texts() {
    let mut bad = base();
    node(&mut bad, "topic")["options"][1]["label"] = json!("Something else entirely"); // 23
    let d = run(&bad);
    let f = expect(&d, "channel_limit", Severity::Warning, "topic", Some("other"));
    assert!(f.message.contains("20"), "{f:#?}");
    assert_eq!(f.location.as_deref(), Some("nodes[2].options[1].label"));

    let mut many = base();
    let options: Vec<Value> = (0..11)
        .map(|k| json!({"id": format!("o{k}"), "label": format!("Option {k}")}))
        .collect();
    node(&mut many, "topic")["options"] = Value::Array(options);
    unwire(&mut many, "topic", "refund");
    unwire(&mut many, "topic", "other");
    for k in 0..11 {
        wire(&mut many, "topic", &format!("o{k}"), "ask_email");
    }
    let d = run(&many);
    let f = expect(&d, "channel_limit", Severity::Warning, "topic", None);
    assert!(f.message.contains("11 options"), "{f:#?}");

    let mut long = base();
    node(&mut long, "thanks")["text"] = json!("a".repeat(4097));
    expect(&run(&long), "channel_limit", Severity::Warning, "thanks", None);

    let mut good = base();
    node(&mut good, "topic")["options"][1]["label"] = json!("Exactly twenty chars"); // 20
    node(&mut good, "thanks")["text"] = json!("é".repeat(4096));
    absent(&run(&good), "channel_limit");
}

// ---------------------------------------------------------------------------------------------
// 9. Hand-over before any context
// ---------------------------------------------------------------------------------------------

#[test]
fn handover_straight_from_the_start() {
    let nodes = json!([
        {"id": "start", "type": "trigger"},
        {"id": "hello", "type": "message", "text": "Hi!"},
        {"id": "ask", "type": "collect_input", "text": "Email?", "variable": "email", "input": "email"},
        {"id": "human", "type": "handover", "max_wait_seconds": 0},
        {"id": "bye", "type": "end", "message": "Bye"}
    ]);
    let mut edges = vec![
        ["hello", "next", "human"],
        ["ask", "invalid", "bye"],
        ["human", "handed_back", "bye"],
        ["human", "off_hours", "bye"],
        ["human", "no_agent", "bye"],
        ["human", "cancelled", "bye"],
    ];
    let mut bad_edges = edges.clone();
    bad_edges.push(["start", "next", "hello"]);
    bad_edges.push(["ask", "next", "bye"]);
    let d = run(&doc(nodes.clone(), &bad_edges));
    let f = expect(&d, "handover_before_context", Severity::Warning, "human", None);
    assert!(f.message.contains("`start` → `hello` → `human`"), "{f:#?}");

    edges.push(["start", "next", "ask"]);
    edges.push(["ask", "next", "hello"]);
    absent(&run(&doc(nodes, &edges)), "handover_before_context");
}

#[test]
fn handover_before_context_does_not_look_past_another_handover() {
    // `second` is only reached through `first` (after a person had the conversation).
    let bad = doc(
        json!([
            {"id": "start", "type": "trigger"},
            {"id": "first", "type": "handover", "max_wait_seconds": 0},
            {"id": "second", "type": "handover", "max_wait_seconds": 0},
            {"id": "bye", "type": "end", "message": "Bye"}
        ]),
        &[["start", "next", "first"], ["first", "off_hours", "second"]],
    );
    let d = run(&bad);
    expect(&d, "handover_before_context", Severity::Warning, "first", None);
    assert_eq!(with_code(&d, "handover_before_context").len(), 1, "{d:#?}");
}

// ---------------------------------------------------------------------------------------------
// 10. Silent hand-over
// ---------------------------------------------------------------------------------------------

#[test]
fn handover_with_empty_message_is_silent() {
    let mut bad = base();
    node(&mut bad, "human")["message"] = json!("");
    let d = run(&bad);
    let f = expect(&d, "handover_silent", Severity::Warning, "human", None);
    assert_eq!(f.location.as_deref(), Some("nodes[4].message"));
    let mut good = base();
    node(&mut good, "human")["message"] = json!("A person will be with you shortly.");
    absent(&run(&good), "handover_silent");
    absent(&run(&base()), "handover_silent");
}

#[test]
fn off_hours_and_no_agent_paths_that_say_nothing() {
    let mut bad = base();
    add_node(&mut bad, json!({"id": "quiet_end", "type": "end", "resolve": false}));
    node(&mut bad, "human")["off_hours_message"] = json!("");
    node(&mut bad, "human")["no_agent_message"] = json!(" ");
    wire(&mut bad, "human", "off_hours", "quiet_end");
    wire(&mut bad, "human", "no_agent", "quiet_end");
    let d = run(&bad);
    let f = expect(&d, "handover_silent", Severity::Warning, "human", Some("off_hours"));
    assert_eq!(f.location.as_deref(), Some("nodes[4].off_hours_message"));
    expect(&d, "handover_silent", Severity::Warning, "human", Some("no_agent"));

    // The path says something (the base flow's `later` end has a message): fine.
    let mut good = bad.clone();
    wire(&mut good, "human", "off_hours", "later");
    wire(&mut good, "human", "no_agent", "later");
    absent(&run(&good), "handover_silent");
    // The messages are left to the workspace's defaults: fine too.
    let mut defaults = bad.clone();
    node(&mut defaults, "human")
        .as_object_mut()
        .unwrap()
        .remove("off_hours_message");
    node(&mut defaults, "human")
        .as_object_mut()
        .unwrap()
        .remove("no_agent_message");
    absent(&run(&defaults), "handover_silent");
}

// ---------------------------------------------------------------------------------------------
// 11. Excessive routing
// ---------------------------------------------------------------------------------------------

/// A message, then `n` branches in a row, then an end.
fn routing_chain(n: usize) -> Value {
    let mut nodes = vec![
        json!({"id": "start", "type": "trigger"}),
        json!({"id": "hello", "type": "message", "text": "Hi"}),
    ];
    let mut edges: Vec<[String; 3]> = vec![["start".into(), "next".into(), "hello".into()]];
    let mut prev = "hello".to_string();
    let mut prev_port = "next".to_string();
    for k in 0..n {
        let id = format!("r{k}");
        nodes.push(json!({"id": id, "type": "branch", "branches": [
            {"id": "yes", "conditions": [{"variable": "contact.plan", "op": "is_set"}]}
        ]}));
        edges.push([prev.clone(), prev_port.clone(), id.clone()]);
        edges.push([id.clone(), "else".into(), "done".into()]);
        prev = id;
        prev_port = "yes".into();
    }
    edges.push([prev, prev_port, "done".into()]);
    nodes.push(json!({"id": "done", "type": "end", "message": "Done"}));
    let refs: Vec<[&str; 3]> = edges
        .iter()
        .map(|[a, b, c]| [a.as_str(), b.as_str(), c.as_str()])
        .collect();
    doc(Value::Array(nodes), &refs)
}

#[test]
fn more_than_four_routing_steps_in_a_row() {
    let d = run(&routing_chain(5));
    let f = expect(&d, "excessive_routing", Severity::Warning, "r0", None);
    assert!(f.message.contains("5 routing steps"), "{f:#?}");
    assert_eq!(with_code(&d, "excessive_routing").len(), 1, "once per chain: {d:#?}");
    absent(&run(&routing_chain(4)), "excessive_routing");
}

#[test]
fn webhooks_and_ai_actions_count_as_routing() {
    let nodes = json!([
        {"id": "start", "type": "trigger"},
        {"id": "h1", "type": "webhook", "url": "https://example.com/1"},
        {"id": "a1", "type": "ai_action", "task": "summarize", "variable": "summary"},
        {"id": "h2", "type": "webhook", "url": "https://example.com/2"},
        {"id": "a2", "type": "ai_action", "task": "sentiment", "variable": "mood"},
        {"id": "h3", "type": "webhook", "url": "https://example.com/3"},
        {"id": "say", "type": "message", "text": "One moment…"},
        {"id": "done", "type": "end", "message": "Done"}
    ]);
    let mut edges = vec![
        ["start", "next", "h1"],
        ["h1", "success", "a1"],
        ["a1", "next", "h2"],
        ["h2", "success", "a2"],
        ["h3", "success", "done"],
    ];
    for id in ["h1", "h2", "h3"] {
        edges.push([id, "failure", "done"]);
    }
    for id in ["a1", "a2"] {
        edges.push([id, "error", "done"]);
    }
    let mut bad = edges.clone();
    bad.push(["a2", "next", "h3"]);
    expect(
        &run(&doc(nodes.clone(), &bad)),
        "excessive_routing",
        Severity::Warning,
        "h1",
        None,
    );
    // A message in between breaks the chain.
    edges.push(["a2", "next", "say"]);
    edges.push(["say", "next", "h3"]);
    absent(&run(&doc(nodes, &edges)), "excessive_routing");
}

// ---------------------------------------------------------------------------------------------
// 12. Double hand-over
// ---------------------------------------------------------------------------------------------

#[test]
fn handed_back_leading_to_the_same_handover() {
    let mut bad = base();
    add_node(
        &mut bad,
        json!({"id": "more", "type": "options", "text": "Anything else?", "typed_text": "strict",
               "options": [{"id": "person", "label": "Talk to a person"}, {"id": "no", "label": "No"}]}),
    );
    wire(&mut bad, "human", "handed_back", "more");
    wire(&mut bad, "more", "person", "human");
    wire(&mut bad, "more", "no", "bye");
    let d = run(&bad);
    let f = expect(&d, "double_handover", Severity::Warning, "human", None);
    assert!(
        f.message.contains("twice")
            && f.message.contains("an agent hands it back")
            && !f.message.contains("handed_back"),
        "{f:#?}"
    );
    absent(&run(&base()), "double_handover");
}

#[test]
fn resolved_leading_to_another_handover() {
    let mut bad = base();
    add_node(
        &mut bad,
        json!({"id": "human2", "type": "handover", "message": "Again!"}),
    );
    wire(&mut bad, "human", "resolved", "human2");
    let d = run(&bad);
    let f = expect(&d, "double_handover", Severity::Warning, "human2", None);
    assert!(
        f.message.contains("`human`") && f.message.contains("an agent resolves it"),
        "{f:#?}"
    );
}

#[test]
fn off_hours_to_another_handover_is_not_a_double() {
    // Nobody had the conversation when the first hand-over left through off_hours/no_agent.
    let mut good = base();
    add_node(
        &mut good,
        json!({"id": "backup", "type": "handover", "team": "night", "max_wait_seconds": 0}),
    );
    wire(&mut good, "human", "off_hours", "backup");
    wire(&mut good, "human", "no_agent", "backup");
    wire(&mut good, "human", "cancelled", "later");
    for port in ["handed_back", "off_hours", "no_agent", "cancelled"] {
        wire(&mut good, "backup", port, "later");
    }
    let d = run(&good);
    absent(&d, "double_handover");
}

// ---------------------------------------------------------------------------------------------
// Order, robustness and speed
// ---------------------------------------------------------------------------------------------

/// A flow with many findings of many kinds.
fn messy() -> Value {
    let mut d = base();
    node(&mut d, "topic")["typed_text"] = json!("reprompt");
    node(&mut d, "thanks")["text"] = json!("{{ emial }}{{ x }}{{ emial }}");
    node(&mut d, "human")["message"] = json!("");
    node(&mut d, "human")["context"] = json!(["email", "email", "order_id"]);
    unwire(&mut d, "human", "handed_back");
    unwire(&mut d, "thanks", "next");
    add_node(&mut d, json!({"id": "orphan", "type": "message", "text": "?"}));
    add_node(&mut d, json!({"id": "start2", "type": "trigger"}));
    d
}

#[test]
fn findings_are_sorted_by_node_order_without_duplicates() {
    let flow = load(&messy());
    let d = validate(&flow);
    assert_eq!(d, validate(&flow), "deterministic");
    let order: Vec<usize> = d
        .iter()
        .map(|x| x.node.as_deref().and_then(|id| flow.index_of(id)).map_or(0, |i| i + 1))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{d:#?}");
    for w in d.windows(2) {
        if w[0].node == w[1].node {
            assert!(w[0].code <= w[1].code, "{d:#?}");
        }
        assert_ne!(w[0], w[1], "duplicate");
    }
    // `emial` used twice in one text, `email` listed twice in the context: one finding each.
    let never: Vec<_> = with_code(&d, "variable_never_set");
    assert_eq!(
        never.iter().filter(|x| x.message.contains("`emial`")).count(),
        1,
        "{never:#?}"
    );
    assert_eq!(with_code(&d, "missing_information").len(), 1, "{d:#?}");
    // Every code emitted is documented in CODES with its severity.
    for x in &d {
        assert!(CODES.contains(&(x.code.as_str(), x.severity)), "{x:#?}");
    }
}

#[test]
fn validation_never_panics_on_odd_flows() {
    let odd = [
        doc(json!([]), &[]),
        doc(
            json!([{"id": "start", "type": "trigger"}]),
            &[["start", "next", "start"]],
        ),
        doc(
            json!([{"id": "h", "type": "handover"}]),
            &[["h", "handed_back", "h"], ["h", "resolved", "h"]],
        ),
        doc(
            json!([{"id": "start", "type": "trigger"}, {"id": "o", "type": "options", "text": "",
                    "options": [], "variable": "v"}]),
            &[["start", "next", "o"], ["o", "no_match", "o"]],
        ),
        doc(
            json!([{"id": "start", "type": "trigger"},
                   {"id": "b", "type": "branch", "branches": [
                       {"id": "x", "conditions": []},
                       {"id": "x", "conditions": [{"op": "equals", "value": "{{ broken"}]}]}]),
            &[["start", "next", "b"], ["b", "x", "b"]],
        ),
        messy(),
    ];
    for flow in &odd {
        let text = flow.to_string();
        let checked = check(&text).unwrap();
        if let Some(f) = &checked.flow {
            let _ = validate(f);
        }
    }
}

/// A large flow: `n` steps, each a question, branch or message, with loops back and many
/// variables, to keep validation's cost in check.
fn big_flow(n: usize) -> Value {
    let mut nodes = vec![json!({"id": "start", "type": "trigger"})];
    let mut edges: Vec<[String; 3]> = vec![["start".into(), "next".into(), "n0".into()]];
    for k in 0..n {
        let id = format!("n{k}");
        let next = if k + 1 < n {
            format!("n{}", k + 1)
        } else {
            "done".into()
        };
        let back = format!("n{}", k / 2);
        match k % 4 {
            0 => {
                nodes.push(
                    json!({"id": id, "type": "collect_input", "text": format!("Q{k} {{{{ v{} }}}}", k / 3),
                                  "variable": format!("v{k}")}),
                );
                edges.push([id.clone(), "next".into(), next]);
                edges.push([id, "invalid".into(), back]);
            }
            1 => {
                nodes.push(json!({"id": id, "type": "branch", "branches": [
                    {"id": "a", "conditions": [{"variable": format!("v{}", k - 1), "op": "equals", "value": "x"}]},
                    {"id": "b", "conditions": [{"variable": "contact.plan", "op": "is_set"}]}]}));
                edges.push([id.clone(), "a".into(), next.clone()]);
                edges.push([id.clone(), "b".into(), back]);
                edges.push([id, "else".into(), next]);
            }
            2 => {
                nodes.push(
                    json!({"id": id, "type": "handover", "context": [format!("v{}", k - 2), format!("v{}", k / 5)],
                                  "message": "ok"}),
                );
                edges.push([id.clone(), "handed_back".into(), next]);
                edges.push([id, "off_hours".into(), back]);
            }
            _ => {
                nodes.push(json!({"id": id, "type": "message", "text": format!("{{{{ v{} }}}}", k / 7)}));
                edges.push([id, "next".into(), next]);
            }
        }
    }
    nodes.push(json!({"id": "done", "type": "end"}));
    let edges: Vec<Value> = edges
        .into_iter()
        .map(|[f, p, t]| json!({"from": f, "port": p, "to": t}))
        .collect();
    json!({"format": 1, "name": "Big", "nodes": nodes, "edges": edges})
}

#[test]
fn validation_is_fast_on_the_largest_flows() {
    let flow = load(&big_flow(1_998));
    let started = Instant::now();
    let d = validate(&flow);
    let took = started.elapsed();
    assert!(!d.is_empty());
    // Generous: unoptimised build on a busy machine. Quadratic rules would take far longer.
    assert!(took < Duration::from_secs(10), "validation took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// Documentation
// ---------------------------------------------------------------------------------------------

#[test]
fn every_code_is_documented() {
    let docs = include_str!("../../../docs/validation.md");
    let mut codes: Vec<String> = CODES.iter().map(|(c, _)| c.to_string()).collect();
    // Structural codes from loading, found in the source so that new ones are not forgotten.
    let sources = [include_str!("../src/flow.rs"), include_str!("../src/document.rs")];
    let re = regex::Regex::new(r#"(?:err|Diagnostic::error|Diagnostic::warning)\(\s*"([a-z_]+)""#).unwrap();
    let returned = regex::Regex::new(r#"=> "([a-z_]+)",\s*$|\{\s*"([a-z_]+)"\s*\}"#).unwrap();
    for src in sources {
        codes.extend(re.captures_iter(src).map(|c| c[1].to_string()));
    }
    let code_fn = include_str!("../src/document.rs");
    if let Some(start) = code_fn.find("pub fn code(&self)") {
        let body = &code_fn[start..start + code_fn[start..].find("\n    }\n").unwrap_or(0)];
        for line in body.lines() {
            if let Some(c) = returned.captures(line) {
                codes.push(c.get(1).or(c.get(2)).unwrap().as_str().to_string());
            }
        }
    }
    codes.extend(["unknown_node_type".to_string(), "invalid_node".to_string()]);
    codes.sort();
    codes.dedup();
    assert!(codes.len() > 40, "found {codes:?}");
    let missing: Vec<&String> = codes.iter().filter(|c| !docs.contains(&format!("### `{c}`"))).collect();
    assert!(missing.is_empty(), "not documented in docs/validation.md: {missing:?}");
}

/// Many variables, each set on some paths only, read many times: the worst case for the
/// data-flow rules.
fn many_variables_flow(questions: usize, readers: usize, reads: usize) -> Value {
    let mut nodes = vec![json!({"id": "start", "type": "trigger"})];
    let mut edges: Vec<Value> = vec![json!({"from": "start", "port": "next", "to": "q0"})];
    for k in 0..questions {
        let next = if k + 1 < questions {
            format!("q{}", k + 1)
        } else {
            "m0".into()
        };
        nodes.push(
            json!({"id": format!("q{k}"), "type": "options", "text": "?", "variable": format!("v{k}"),
                          "typed_text": "bail", "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}),
        );
        for port in ["a", "b", "no_match"] {
            edges.push(json!({"from": format!("q{k}"), "port": port, "to": next}));
        }
    }
    for k in 0..readers {
        let next = if k + 1 < readers {
            format!("m{}", k + 1)
        } else {
            "done".into()
        };
        let text: String = (0..reads)
            .map(|j| format!("{{{{ v{} }}}} ", (k * 7 + j * 13) % questions))
            .collect();
        nodes.push(json!({"id": format!("m{k}"), "type": "message", "text": text}));
        edges.push(json!({"from": format!("m{k}"), "port": "next", "to": next}));
    }
    nodes.push(json!({"id": "done", "type": "end"}));
    json!({"format": 1, "name": "Many", "nodes": nodes, "edges": edges})
}

#[test]
fn validation_is_fast_with_many_variables() {
    let flow = load(&many_variables_flow(1_000, 998, 40));
    let started = Instant::now();
    let d = validate(&flow);
    let took = started.elapsed();
    assert!(with_code(&d, "variable_maybe_unset").len() > 10_000);
    assert!(took < Duration::from_secs(10), "validation took {took:?}");
    println!("took {took:?} for {} findings", d.len());
}

// ---------------------------------------------------------------------------------------------
// Accepted warnings
// ---------------------------------------------------------------------------------------------

#[test]
fn accepted_warnings_are_reported_as_accepted_and_not_counted() {
    use baton_flow::diagnostic::counts;
    let mut flow = base();
    unwire(&mut flow, "human", "cancelled");
    unwire(&mut flow, "human", "timeout");
    let d = check(&flow.to_string()).expect("loads").diagnostics;
    assert_eq!(counts(&d).warnings, 2, "{d:#?}");

    // One port accepted: that warning is marked, the other is not.
    flow["accepted"] = json!([{"code": "port_unwired", "node": "human", "port": "cancelled",
                               "note": "Cancelling ends the chat; nothing more to say."}]);
    let d = check(&flow.to_string()).expect("loads").diagnostics;
    let unwired = with_code(&d, "port_unwired");
    assert_eq!(unwired.len(), 2, "{d:#?}");
    for f in unwired {
        assert_eq!(f.accepted, f.port.as_deref() == Some("cancelled"), "{f:#?}");
        assert_eq!(f.severity, Severity::Warning);
    }
    let c = counts(&d);
    assert_eq!((c.errors, c.warnings, c.accepted), (0, 1, 1), "{d:#?}");
    // Shown to API clients only when true.
    let json = serde_json::to_value(&d).expect("serialises");
    assert_eq!(
        json.as_array()
            .map(|a| a.iter().filter(|f| f.get("accepted").is_some()).count()),
        Some(1)
    );

    // Without a port, the entry accepts the code at every port of the node.
    flow["accepted"] = json!([{"code": "port_unwired", "node": "human"}]);
    let d = check(&flow.to_string()).expect("loads").diagnostics;
    assert_eq!(counts(&d).accepted, 2, "{d:#?}");
}

#[test]
fn errors_cannot_be_accepted() {
    let mut flow = base();
    unwire(&mut flow, "thanks", "next");
    flow["accepted"] = json!([{"code": "dead_end", "node": "thanks", "port": "next"}]);
    let d = check(&flow.to_string()).expect("loads").diagnostics;
    let f = expect(&d, "dead_end", Severity::Error, "thanks", Some("next"));
    assert!(!f.accepted, "{f:#?}");
    assert_eq!(baton_flow::diagnostic::counts(&d).errors, 1);
}

#[test]
fn an_accepted_list_that_is_not_a_list_of_findings_is_reported() {
    let mut flow = base();
    flow["accepted"] = json!([{"node": "human"}]);
    let Err(e) = check(&flow.to_string()) else {
        panic!("an entry without a code is refused");
    };
    assert!(e.to_string().contains("accepted"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Words, not ids
// ---------------------------------------------------------------------------------------------

#[test]
fn messages_name_paths_in_words_not_port_ids() {
    // Every open port of a hand-over, a question that goes on without a match, a branch.
    let mut flow = base();
    for port in ["handed_back", "off_hours", "no_agent", "timeout", "cancelled"] {
        unwire(&mut flow, "human", port);
    }
    node(&mut flow, "topic")["typed_text"] = json!("bail");
    node(&mut flow, "human")["off_hours_message"] = json!("");
    node(&mut flow, "human")["no_agent_message"] = json!("");
    wire(&mut flow, "topic", "no_match", "human");
    unwire(&mut flow, "ask_email", "invalid");
    let d = run(&flow);
    assert!(with_code(&d, "port_unwired").len() >= 5, "{d:#?}");
    let ids = [
        "handed_back",
        "off_hours",
        "no_agent",
        "no_match",
        "`invalid`",
        "(invalid)",
        "(timeout)",
        "(cancelled)",
        " → ",
    ];
    for f in &d {
        for id in ids {
            assert!(!f.message.contains(id), "`{id}` in the message of {f:#?}");
            assert!(
                !f.hint.as_deref().unwrap_or("").contains(id),
                "`{id}` in the hint of {f:#?}"
            );
        }
    }
    let handed_back = expect(&d, "port_unwired", Severity::Warning, "human", Some("handed_back"));
    assert!(handed_back.message.contains("“handed back”"), "{handed_back:#?}");
    // The same words as the builder's port labels (web/src/flow/ports.test.ts checks them too).
    let loaded = load(&flow);
    let kind = &loaded.node(4).kind;
    let words: Vec<String> = baton_flow::document::HANDOVER_PORTS
        .iter()
        .map(|p| kind.port_label(p))
        .collect();
    assert_eq!(
        words,
        [
            "handed back",
            "resolved",
            "off hours",
            "no agent online",
            "wait timed out",
            "wait cancelled"
        ]
    );
    let silent = expect(&d, "handover_silent", Severity::Warning, "human", Some("off_hours"));
    assert!(
        silent.message.contains("off-hours message") && silent.message.contains("“off hours”"),
        "{silent:#?}"
    );
}

//! The checked-in JSON Schemas are what `baton schema` prints today.

use std::path::PathBuf;

fn docs(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs").join(name)
}

fn assert_fresh(name: &str, fresh: &str, command: &str) {
    let path = docs(name);
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == fresh,
        "{} is out of date: run `{command} > docs/{name}` and commit it",
        path.display()
    );
}

#[test]
fn flow_schema_is_fresh() {
    assert_fresh(
        "flow.schema.json",
        &baton_flow::schema::flow_schema_json(),
        "cargo run -p baton -- schema",
    );
}

#[test]
fn tests_schema_is_fresh() {
    assert_fresh(
        "tests.schema.json",
        &baton_flow::schema::tests_schema_json(),
        "cargo run -p baton -- schema --tests",
    );
}

#[test]
fn schema_names_every_node_type() {
    let schema = baton_flow::schema::flow_schema_json();
    for t in baton_flow::document::NODE_TYPES {
        assert!(schema.contains(&format!("\"{t}\"")), "schema lacks node type {t}");
    }
}

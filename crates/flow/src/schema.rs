//! The JSON Schema of the flow document, generated from the Rust types so it cannot drift.

/// The flow document's JSON Schema, pretty-printed.
pub fn flow_schema_json() -> String {
    let schema = schemars::schema_for!(crate::document::FlowDocument);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The scripted tests file's JSON Schema, pretty-printed.
pub fn tests_schema_json() -> String {
    let schema = schemars::schema_for!(crate::test_case::TestFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

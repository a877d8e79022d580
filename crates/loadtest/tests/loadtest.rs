//! `baton-loadtest` end to end on a small load: it starts its own server (the `baton` built
//! beside it), runs the reference flow and reports every conversation completed with no wrong
//! reply, for both ways customers send. Speed is not asserted here (figures and how to measure
//! them: docs/performance.md).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The `baton` binary in the same target directory (`cargo test --workspace` builds it with
/// the CLI's tests; alone: `cargo build -p baton` first).
fn server_bin() -> PathBuf {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_baton-loadtest"))
        .with_file_name(format!("baton{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "no server binary at {}: run `cargo build -p baton` first",
        bin.display()
    );
    bin
}

fn small_load(extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_baton-loadtest"))
        .args(["--server-bin".as_ref(), server_bin().as_os_str()])
        .args(["--customers", "4", "--agents", "1", "--duration", "3", "--json"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("baton-loadtest runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "loadtest failed: {printed}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}): {printed}"))
}

#[test]
fn a_small_load_completes_every_conversation_over_http_and_websocket() {
    for send_over in ["http", "ws"] {
        let r = small_load(&["--send-over", send_over]);
        assert_eq!(r["send_over"], send_over, "{r}");
        assert!(r["conversations"]["completed"].as_u64().unwrap_or(0) > 0, "{r}");
        assert_eq!(r["conversations"]["stuck"], 0, "{r}");
        assert_eq!(r["wrong_replies"], 0, "{r}");
        assert_eq!(r["errors"], 0, "{r}");
        assert!(r["handovers_claimed"].as_u64().unwrap_or(0) > 0, "{r}");
        assert!(r["webhook_calls"].as_u64().unwrap_or(0) > 0, "{r}");
        let customer_messages = r["customer_messages"].as_u64().unwrap_or(0);
        assert!(customer_messages > 0, "{r}");
        assert!(r["server_turns"].as_u64().unwrap_or(0) > customer_messages, "{r}");
        assert!(r["server_cpu_us_per_turn"].as_f64().unwrap_or(0.0) > 0.0, "{r}");
        assert!(r["load_tool_cpu_us_per_turn"].as_f64().unwrap_or(0.0) > 0.0, "{r}");
    }
}

#[test]
fn the_http_floor_gets_404_for_every_request_and_measures_both_sides() {
    let r = small_load(&["--http-floor"]);
    assert!(r["requests"].as_u64().unwrap_or(0) > 0, "{r}");
    assert_eq!(r["unexpected"], 0, "{r}");
    assert!(r["server_cpu_us_per_request"].as_f64().unwrap_or(0.0) > 0.0, "{r}");
    assert!(r["load_tool_cpu_us_per_request"].as_f64().unwrap_or(0.0) > 0.0, "{r}");
}

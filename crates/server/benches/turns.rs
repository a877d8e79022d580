//! `cargo bench -p baton-server --bench turns [-- --quick] [-- --postgres]`: durable turns per
//! second through the engine (no HTTP): many conversations sending at once, every turn
//! committed before it is answered. Figures go in docs/performance.md.

use baton_server::clock::Clock;
use baton_server::engine::{Core, CustomerContent, Engine, Routed, StartConversation, TurnInput};
use baton_store::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// A flow that loops: a question, a message, the question again.
fn looping_flow() -> String {
    json!({
        "format": 1, "name": "loop",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "menu", "type": "options", "text": "Pick one", "variable": "pick",
             "options": [{"id": "a", "label": "Alpha"}, {"id": "b", "label": "Beta"}]},
            {"id": "said", "type": "message", "text": "You picked {{ pick }}."}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "menu"},
            {"from": "menu", "port": "a", "to": "said"},
            {"from": "menu", "port": "b", "to": "said"},
            {"from": "menu", "port": "no_match", "to": "said"},
            {"from": "said", "port": "next", "to": "menu"}
        ]
    })
    .to_string()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let postgres = std::env::args().any(|a| a == "--postgres");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async move {
        let url = if postgres {
            match baton_testkit::fresh_postgres_database().await {
                Ok(Some(u)) => u,
                other => panic!("PostgreSQL needed for --postgres: {other:?}"),
            }
        } else {
            let dir = std::env::temp_dir().join(format!("baton-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
            format!("sqlite://{}", dir.join("bench.db").display())
        };
        let store = Store::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        store.migrate().await.unwrap_or_else(|e| panic!("{e}"));
        let clock = Clock::System;
        let ws = baton_server::bootstrap::create_workspace(&store, &clock, "Bench", "bench@example.com", Some("a long password"))
            .await
            .unwrap_or_else(|e| panic!("{}", e.message));
        let now = clock.now_ms();
        store.create_flow("flow_bench", &ws.workspace_id, "loop", &looping_flow(), now).await.unwrap_or_else(|e| panic!("{e}"));
        let version = store
            .publish_flow(&ws.workspace_id, "flow_bench", &looping_flow(), None, None, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let core = Arc::new(Core::new(
            store.clone(),
            clock,
            baton_ai::OfflineProvider::new(),
            baton_server::webhook::AddressPolicy::PublicOnly,
        ));
        let engine = Engine::start(core.clone());
        let conversations = 200;
        let turns_each = if quick { 10 } else { 100 };
        for i in 0..conversations {
            engine
                .submit(TurnInput::Start(StartConversation {
                    workspace_id: ws.workspace_id.clone(),
                    conversation_id: format!("conv_{i}"),
                    token_hash: format!("token_{i}"),
                    channel: "bench".into(),
                    routed: Routed {
                        flow_id: "flow_bench".into(),
                        version,
                        by: baton_flow::entry::Matched::Rules,
                    },
                    awaiting_message: false,
                    page_url: None,
                    external_id: None,
                    attributes: Default::default(),
                    first_message: None,
                }))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..conversations {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(turns_each);
                for t in 0..turns_each {
                    let sent = Instant::now();
                    let outcome = engine
                        .submit(TurnInput::Customer {
                            conversation_id: format!("conv_{i}"),
                            client_id: Some(format!("m{t}")),
                            content: CustomerContent::Button(if t % 2 == 0 { "a".into() } else { "b".into() }),
                            entry: None,
                        })
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(outcome.messages.len(), 2, "a reply and the question again");
                    latencies.push(sent.elapsed().as_micros() as u64);
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap_or_default());
        }
        let secs = started.elapsed().as_secs_f64();
        all.sort_unstable();
        let pct = |p: f64| all[((all.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
        println!(
            "{} durable turns: {:.0} turns/s with {conversations} conversations at once; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            if postgres { "PostgreSQL" } else { "SQLite" },
            all.len() as f64 / secs,
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
    });
}

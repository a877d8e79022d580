//! A SQLite database written before a migration that rebuilds a table keeps what it holds:
//! `0012_message_rows` moves every message into a table ordered by its primary key.

use baton_store::{Message, Role, Store};
use std::path::Path;

const T0: i64 = 1_700_000_000_000;

/// Applies the SQLite migrations named before `first_not_applied` as `Store::migrate` would
/// have, on a plain connection.
fn migrate_until(db: &Path, first_not_applied: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .expect("the migrations directory")
        .map(|entry| entry.expect("a migration file").path())
        .collect();
    scripts.sort();
    let conn = rusqlite::Connection::open(db).expect("open the database");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; CREATE TABLE baton_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL);",
    )
    .expect("the migrations table");
    for script in scripts {
        let name = script
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name")
            .to_string();
        if name.as_str() >= first_not_applied {
            break;
        }
        let sql = std::fs::read_to_string(&script).expect("read the migration");
        conn.execute_batch(&sql).expect("apply the migration");
        conn.execute(
            "INSERT INTO baton_migrations (name, applied_at) VALUES (?1, 0)",
            [&name],
        )
        .expect("record the migration");
    }
}

fn message(seq: i64, role: Role, text: &str, client_id: Option<&str>) -> Message {
    Message {
        conversation_id: "conv_old".into(),
        seq,
        role,
        text: text.into(),
        payload: (seq == 2).then(|| baton_store::MessagePayload {
            button: Some("billing".into()),
            ..Default::default()
        }),
        client_id: client_id.map(str::to_string),
        author: (role == Role::Agent).then(|| "mem_1".to_string()),
        created_at: T0 + seq,
    }
}

#[tokio::test]
async fn messages_written_before_0012_are_kept_and_client_ids_stay_unique() {
    let dir = std::env::temp_dir().join(format!("baton-upgrade-{}-{}", std::process::id(), T0));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let db = dir.join("baton.db");
    migrate_until(&db, "0012");

    let before = vec![
        message(1, Role::Customer, "hello", Some("c-1")),
        message(2, Role::Bot, "Billing or tech?", None),
        message(3, Role::Customer, "billing", Some("c-2")),
        message(4, Role::Agent, "I'm here", None),
        message(5, Role::Bot, "Anything else?", None),
    ];
    {
        let conn = rusqlite::Connection::open(&db).expect("open the database");
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON;
             INSERT INTO workspaces (id, name, widget_key, webhook_secret, created_at) VALUES ('ws', 'Old', 'wk', 'secret', {T0});
             INSERT INTO contacts (id, workspace_id, attributes, created_at, updated_at) VALUES ('ct', 'ws', '{{}}', {T0}, {T0});
             INSERT INTO conversations (id, workspace_id, contact_id, flow_id, flow_version, token_hash, channel, status, state, last_seq, created_at, updated_at)
               VALUES ('conv_old', 'ws', 'ct', 'flow', 1, 'hash', 'web', 'bot', '{{}}', 5, {T0}, {T0});"
        ))
        .expect("a conversation of the old schema");
        for m in &before {
            conn.execute(
                "INSERT INTO messages (conversation_id, seq, role, text, payload, client_id, author, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    m.conversation_id,
                    m.seq,
                    m.role.as_str(),
                    m.text,
                    m.payload.as_ref().map(baton_store::MessagePayload::to_json),
                    m.client_id,
                    m.author,
                    m.created_at
                ],
            )
            .expect("a message of the old schema");
        }
    }

    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate from 0011");
    assert_eq!(
        store.messages_after("conv_old", 0, 100).await.expect("messages"),
        before,
        "every message kept, in order, with every field"
    );
    let conv = store
        .conversation("conv_old")
        .await
        .expect("read")
        .expect("the conversation is there");

    // A customer's retry is still found by its client id, a second message with a used client id
    // is still refused, and any number of messages without one are taken.
    let mut tx = store.begin().await.expect("begin");
    let retry = tx
        .lock_conversation("conv_old", Some("c-2"))
        .await
        .expect("lock")
        .expect("the conversation");
    assert_eq!(retry.retry_of, Some(3));
    let reused = [message(6, Role::Customer, "again", Some("c-1"))];
    assert!(
        tx.write_turn(&conv, None, &reused, &[], &[]).await.is_err(),
        "a client id is used once per conversation"
    );
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    let more = [
        message(6, Role::Bot, "one", None),
        message(7, Role::Bot, "two", None),
        message(8, Role::Customer, "three", Some("c-3")),
    ];
    let after = baton_store::Conversation {
        last_seq: 8,
        ..conv.clone()
    };
    tx.write_turn(&after, Some(conv.status), &more, &[], &[])
        .await
        .expect("messages without client ids");
    tx.commit().await.expect("commit");
    let all = store.messages_after("conv_old", 0, 100).await.expect("messages");
    assert_eq!(all.len(), 8);
    assert_eq!(all[7].client_id.as_deref(), Some("c-3"));

    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

//! Conformance: the same cases run against both store backends, SQLite and PostgreSQL.
//!
//! Every `case_*` function takes a freshly migrated, empty [`Store`]; the `conformance!` macro
//! turns each into two tests, `sqlite_*` and `postgres_*`, so a failure names its backend.
//!
//! SQLite runs on a new file in a temporary directory. PostgreSQL runs on a new database
//! created on the server named by `BATON_TEST_POSTGRES_URL` (default: the local development
//! server) and dropped afterwards. When that server is unreachable the PostgreSQL tests fail in
//! CI (`CI` set) and are skipped, saying so on stderr, elsewhere.

use baton_store::{
    Contact, Conversation, ConversationStatus, Dialect, EventSubscription, FlowCounts, FlowRow, FlowVersion, Handover,
    HandoverStat, InboxFilter, Invite, KbArticle, LoggedEvent, Member, Message, MessagePayload, NewApiKey,
    NewEventDelivery, NewEventSubscription, NewMember, NewWorkspace, OutboxItem, QueueStanding, Session, Store,
    StoreError, Team, TeamMember, TimelineNote, Timer, Workspace,
};
use std::path::PathBuf;

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

/// Generates, for each `case => sqlite_test, postgres_test;`, one test per backend.
macro_rules! conformance {
    ($($case:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let db = SqliteDb::open().await;
            $case(&db.store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = PostgresDb::open().await else {
                return;
            };
            let store = db.store.clone();
            // Run in a task so the database is dropped even when the case panics.
            let outcome = tokio::spawn(async move { $case(&store).await }).await;
            db.remove().await;
            if let Err(e) = outcome {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
                panic!("case task failed: {e}");
            }
        }
    )*};
}

conformance! {
    case_workspaces_and_members => sqlite_workspaces_and_members, postgres_workspaces_and_members;
    case_teams_and_presence => sqlite_teams_and_presence, postgres_teams_and_presence;
    case_roles_deactivation_and_invites => sqlite_roles_deactivation_and_invites, postgres_roles_deactivation_and_invites;
    case_conversation_turn => sqlite_conversation_turn, postgres_conversation_turn;
    case_rolled_back_transaction => sqlite_rolled_back_transaction, postgres_rolled_back_transaction;
    case_turns_in_one_transaction => sqlite_turns_in_one_transaction, postgres_turns_in_one_transaction;
    case_handover => sqlite_handover, postgres_handover;
    case_queue_standing => sqlite_queue_standing, postgres_queue_standing;
    case_outbox_and_timers => sqlite_outbox_and_timers, postgres_outbox_and_timers;
    case_flows => sqlite_flows, postgres_flows;
    case_entry_routing => sqlite_entry_routing, postgres_entry_routing;
    case_knowledge_base => sqlite_knowledge_base, postgres_knowledge_base;
    case_events => sqlite_events, postgres_events;
    case_unicode_and_large_text => sqlite_unicode_and_large_text, postgres_unicode_and_large_text;
}

/// A name no other test (in this or another process) uses: hex of a randomly keyed hash of the
/// time, the process id and a counter.
fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// A migrated store on a new SQLite file; the file's directory goes when this is dropped.
struct SqliteDb {
    store: Store,
    dir: PathBuf,
}

impl SqliteDb {
    async fn open() -> SqliteDb {
        let dir = std::env::temp_dir().join(format!("baton-conformance-{}", unique()));
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        let url = format!("sqlite://{}", dir.join("baton.db").display());
        let store = Store::connect(&url).await.expect("connect to SQLite");
        assert_eq!(store.dialect(), Dialect::Sqlite);
        store.migrate().await.expect("migrate SQLite");
        SqliteDb { store, dir }
    }
}

impl Drop for SqliteDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A migrated store on a new PostgreSQL database (`baton_testkit`).
struct PostgresDb {
    store: Store,
    url: String,
}

impl PostgresDb {
    /// None when PostgreSQL is unreachable outside CI; in CI that fails the test.
    async fn open() -> Option<PostgresDb> {
        let url = baton_testkit::fresh_postgres_database()
            .await
            .unwrap_or_else(|e| panic!("{e}"))?;
        let store = Store::connect(&url)
            .await
            .expect("connect to the new PostgreSQL database");
        assert_eq!(store.dialect(), Dialect::Postgres);
        store.migrate().await.expect("migrate PostgreSQL");
        Some(PostgresDb { store, url })
    }

    /// Closes the store and drops its database.
    async fn remove(self) {
        self.store.close().await;
        drop(self.store);
        if let Err(e) = baton_testkit::drop_postgres_database(&self.url).await {
            eprintln!("{e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// A base time (ms since the epoch); every timestamp is an offset from it.
const T0: i64 = 1_700_000_000_000;

async fn seed_workspace(store: &Store, id: &str) {
    store
        .create_workspace(NewWorkspace {
            id,
            name: "Acme",
            widget_key: &format!("wk_{id}"),
            webhook_secret: "whsec",
            settings: "{}",
            now: T0,
        })
        .await
        .expect("create workspace");
}

async fn seed_member(store: &Store, workspace_id: &str, id: &str, now: i64) {
    store
        .create_member(NewMember {
            id,
            workspace_id,
            email: &format!("{id}@example.com"),
            name: id,
            role: "agent",
            password_hash: "hash",
            now,
        })
        .await
        .expect("create member");
}

fn contact(workspace_id: &str, id: &str) -> Contact {
    Contact {
        id: id.into(),
        workspace_id: workspace_id.into(),
        external_id: Some(format!("ext-{id}")),
        attributes: r#"{"plan":"pro","tier":2}"#.into(),
        created_at: T0,
        updated_at: T0,
    }
}

fn conversation(workspace_id: &str, id: &str, contact_id: &str) -> Conversation {
    Conversation {
        id: id.into(),
        workspace_id: workspace_id.into(),
        contact_id: contact_id.into(),
        flow_id: "flow_1".into(),
        flow_version: 1,
        token_hash: format!("tok_{id}"),
        channel: "web".into(),
        status: "bot".parse().expect("a known status"),
        state: "{}".into(),
        last_seq: 0,
        created_at: T0,
        updated_at: T0,
        team: None,
        assignee: None,
        priority: None,
        queued_at: None,
        reply_due_at: None,
    }
}

fn message(conversation_id: &str, seq: i64, role: &str, text: &str, client_id: Option<&str>) -> Message {
    Message {
        conversation_id: conversation_id.into(),
        seq,
        role: role.parse().expect("a known role"),
        text: text.into(),
        payload: None,
        client_id: client_id.map(str::to_string),
        author: None,
        created_at: T0 + seq,
    }
}

/// Inserts a contact and a conversation (status `bot`) in one committed transaction.
async fn seed_conversation(store: &Store, workspace_id: &str, id: &str) -> Conversation {
    let ct = contact(workspace_id, &format!("ct_{id}"));
    let conv = conversation(workspace_id, id, &ct.id);
    let mut tx = store.begin().await.expect("begin");
    tx.insert_contact(&ct).await.expect("insert contact");
    tx.insert_conversation(&conv).await.expect("insert conversation");
    tx.commit().await.expect("commit contact and conversation");
    conv
}

/// A timeline note a turn writes.
fn note(kind: &str, actor: Option<&str>, data: Option<&str>, at: i64) -> TimelineNote {
    TimelineNote {
        kind: kind.to_string(),
        actor: actor.map(str::to_string),
        data: data.map(str::to_string),
        at,
    }
}

/// Writes `conv` (and no messages) as a turn, committed.
async fn write_conversation(store: &Store, conv: &Conversation) {
    let mut tx = store.begin().await.expect("begin");
    tx.write_turn(conv, None, &[], &[], &[])
        .await
        .expect("write turn without messages");
    tx.commit().await.expect("commit turn");
}

fn ids(conversations: &[Conversation]) -> Vec<&str> {
    conversations.iter().map(|c| c.id.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// Workspaces, members, sessions and API keys.
async fn case_workspaces_and_members(store: &Store) {
    // Migrating again is a no-op.
    store.migrate().await.expect("second migrate");

    let settings = r#"{"handoff":{"enabled":true,"message":"Un instant…"}}"#;
    store
        .create_workspace(NewWorkspace {
            id: "ws_a",
            name: "Acme Support",
            widget_key: "wk_a",
            webhook_secret: "secret-a",
            settings,
            now: T0 + 1,
        })
        .await
        .expect("create ws_a");
    store
        .create_workspace(NewWorkspace {
            id: "ws_b",
            name: "Beta",
            widget_key: "wk_b",
            webhook_secret: "secret-b",
            settings: "{}",
            now: T0,
        })
        .await
        .expect("create ws_b");

    let expected_a = Workspace {
        id: "ws_a".into(),
        name: "Acme Support".into(),
        widget_key: "wk_a".into(),
        webhook_secret: "secret-a".into(),
        settings: settings.into(),
        created_at: T0 + 1,
        fallback_flow_id: None,
    };
    assert_eq!(
        store.workspace("ws_a").await.expect("read ws_a"),
        Some(expected_a.clone())
    );
    assert_eq!(store.workspace("ws_missing").await.expect("read missing"), None);
    assert_eq!(
        store.workspace_by_widget_key("wk_a").await.expect("by widget key"),
        Some(expected_a.clone())
    );
    assert_eq!(
        store
            .workspace_by_widget_key("WK_A")
            .await
            .expect("by widget key, other case"),
        None,
        "widget keys compare exactly"
    );
    let all: Vec<String> = store
        .workspaces()
        .await
        .expect("workspaces")
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(all, ["ws_b", "ws_a"], "workspaces are ordered by created_at");

    // Unique widget key and id.
    let dup = store
        .create_workspace(NewWorkspace {
            id: "ws_c",
            name: "Copy",
            widget_key: "wk_a",
            webhook_secret: "s",
            settings: "{}",
            now: T0,
        })
        .await
        .expect_err("a second workspace with the same widget key");
    assert!(dup.is_unique_violation(), "duplicate widget key: {dup:?}");
    let dup = store
        .create_workspace(NewWorkspace {
            id: "ws_a",
            name: "Copy",
            widget_key: "wk_other",
            webhook_secret: "s",
            settings: "{}",
            now: T0,
        })
        .await
        .expect_err("a second workspace with the same id");
    assert!(dup.is_unique_violation(), "duplicate workspace id: {dup:?}");

    // Settings and AI settings.
    store
        .update_workspace_settings("ws_a", r#"{"x":1}"#)
        .await
        .expect("update settings");
    assert_eq!(
        store.workspace("ws_a").await.expect("read").map(|w| w.settings),
        Some(r#"{"x":1}"#.to_string())
    );
    assert_eq!(store.workspace_ai_settings("ws_a").await.expect("ai settings"), None);
    store
        .update_workspace_ai_settings("ws_a", Some(r#"{"provider":"openai","key":"sk-…"}"#))
        .await
        .expect("set ai settings");
    assert_eq!(
        store.workspace_ai_settings("ws_a").await.expect("ai settings"),
        Some(r#"{"provider":"openai","key":"sk-…"}"#.to_string())
    );
    store
        .update_workspace_ai_settings("ws_a", None)
        .await
        .expect("clear ai settings");
    assert_eq!(store.workspace_ai_settings("ws_a").await.expect("ai settings"), None);
    assert_eq!(
        store.workspace_ai_settings("ws_missing").await.expect("ai settings"),
        None
    );

    // Members.
    store
        .create_member(NewMember {
            id: "mem_ana",
            workspace_id: "ws_a",
            email: "ana@example.com",
            name: "Ana Müller",
            role: "admin",
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            now: T0 + 10,
        })
        .await
        .expect("create member ana");
    seed_member(store, "ws_a", "mem_bob", T0 + 5).await;
    let ana = Member {
        id: "mem_ana".into(),
        workspace_id: "ws_a".into(),
        email: "ana@example.com".into(),
        name: "Ana Müller".into(),
        role: "admin".parse().expect("a known role"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: T0 + 10,
        presence: "offline".into(),
        last_assigned_at: 0,
        deactivated_at: None,
    };
    assert_eq!(store.member("mem_ana").await.expect("member"), Some(ana.clone()));
    assert_eq!(store.member("mem_missing").await.expect("member"), None);
    assert_eq!(
        store.member_by_email("ana@example.com").await.expect("by email"),
        Some(ana.clone())
    );
    // The store compares e-mail addresses exactly (the server lower-cases them first), on
    // both backends alike.
    assert_eq!(
        store
            .member_by_email("Ana@Example.com")
            .await
            .expect("by email, other case"),
        None,
        "member_by_email compares exactly"
    );
    assert_eq!(
        store.member_by_email("nobody@example.com").await.expect("by email"),
        None
    );
    let members: Vec<String> = store
        .members("ws_a")
        .await
        .expect("members")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(members, ["mem_bob", "mem_ana"], "members are ordered by created_at");
    assert!(store.members("ws_b").await.expect("members of ws_b").is_empty());
    let dup = store
        .create_member(NewMember {
            id: "mem_ana2",
            workspace_id: "ws_b",
            email: "ana@example.com",
            name: "Ana",
            role: "agent",
            password_hash: "h",
            now: T0,
        })
        .await
        .expect_err("a second member with the same e-mail");
    assert!(dup.is_unique_violation(), "duplicate e-mail: {dup:?}");
    store
        .create_member(NewMember {
            id: "mem_x",
            workspace_id: "ws_missing",
            email: "x@example.com",
            name: "X",
            role: "agent",
            password_hash: "h",
            now: T0,
        })
        .await
        .expect_err("a member of a workspace that does not exist (foreign key)");

    // Sessions.
    let session = Session {
        token_hash: "sess_hash_1".into(),
        member_id: "mem_ana".into(),
        csrf_token: "csrf-1".into(),
        expires_at: T0 + 86_400_000,
    };
    store.create_session(&session).await.expect("create session");
    assert_eq!(
        store.session("sess_hash_1").await.expect("session"),
        Some(session.clone())
    );
    assert_eq!(store.session("sess_other").await.expect("session"), None);
    store
        .create_session(&Session {
            token_hash: "sess_hash_2".into(),
            member_id: "mem_nobody".into(),
            csrf_token: "c".into(),
            expires_at: T0,
        })
        .await
        .expect_err("a session of a member that does not exist (foreign key)");
    // Who may sign in as what is counted as it changes, so callers remembered before are not
    // trusted after (a sign-out, a role, a deactivation, presence).
    let before = store.accounts_generation();
    store.delete_session("sess_hash_1").await.expect("delete session");
    assert!(store.accounts_generation() > before, "a sign-out is counted");
    assert_eq!(store.session("sess_hash_1").await.expect("session"), None);
    store
        .delete_session("sess_hash_1")
        .await
        .expect("delete a session again");

    // API keys.
    store
        .create_api_key(NewApiKey {
            id: "key_1",
            workspace_id: "ws_a",
            name: "CI",
            key_hash: "keyhash_1",
            prefix: "bk_live_ab",
            role: "admin",
            now: T0 + 20,
        })
        .await
        .expect("create api key");
    let key = store
        .api_key_by_hash("keyhash_1")
        .await
        .expect("key by hash")
        .expect("key exists");
    assert_eq!(
        (
            key.id.as_str(),
            key.prefix.as_str(),
            key.role.as_str(),
            key.created_at,
            key.revoked_at
        ),
        ("key_1", "bk_live_ab", "admin", T0 + 20, None)
    );
    assert_eq!(store.api_keys("ws_a").await.expect("api keys"), vec![key.clone()]);
    assert!(!store
        .revoke_api_key("ws_b", "key_1", T0 + 30)
        .await
        .expect("revoke, other workspace"));
    assert!(store.revoke_api_key("ws_a", "key_1", T0 + 30).await.expect("revoke"));
    assert!(!store
        .revoke_api_key("ws_a", "key_1", T0 + 40)
        .await
        .expect("revoke again"));
    assert_eq!(
        store
            .api_key_by_hash("keyhash_1")
            .await
            .expect("key by hash")
            .and_then(|k| k.revoked_at),
        Some(T0 + 30)
    );
}

/// Roles change, a deactivated member is signed out and never online for round-robin, and an
/// invitation is accepted at most once, creating its member in the same transaction.
async fn case_roles_deactivation_and_invites(store: &Store) {
    seed_workspace(store, "ws_a").await;
    seed_workspace(store, "ws_b").await;
    seed_member(store, "ws_a", "mem_a", T0).await;
    let before = store.accounts_generation();
    assert!(store.set_member_role("ws_a", "mem_a", "admin").await.expect("role"));
    assert!(store.accounts_generation() > before, "a role change is counted");
    assert!(!store
        .set_member_role("ws_b", "mem_a", "owner")
        .await
        .expect("role, other workspace"));
    assert_eq!(
        store.member("mem_a").await.expect("member").map(|m| m.role),
        Some("admin".to_string())
    );

    let before = store.accounts_generation();
    store.set_presence("mem_a", "online").await.expect("online");
    assert!(store.accounts_generation() > before, "presence is counted");
    store
        .create_session(&Session {
            token_hash: "sess_a".into(),
            member_id: "mem_a".into(),
            csrf_token: "c".into(),
            expires_at: T0 + 86_400_000,
        })
        .await
        .expect("session");
    assert!(!store
        .set_member_deactivated("ws_b", "mem_a", Some(T0 + 1))
        .await
        .expect("deactivate, other workspace"));
    assert!(
        store.session("sess_a").await.expect("session").is_some(),
        "nothing changed"
    );
    let before = store.accounts_generation();
    assert!(store
        .set_member_deactivated("ws_a", "mem_a", Some(T0 + 1))
        .await
        .expect("deactivate"));
    assert!(store.accounts_generation() > before, "a deactivation is counted");
    let a = store.member("mem_a").await.expect("member").expect("still there");
    assert_eq!((a.deactivated_at, a.presence.as_str()), (Some(T0 + 1), "offline"));
    assert_eq!(
        store.session("sess_a").await.expect("session"),
        None,
        "signed out everywhere"
    );
    store.set_presence("mem_a", "online").await.expect("online again");
    let mut tx = store.begin().await.expect("begin");
    let online = tx.online_team_members("ws_a", None).await.expect("online members");
    drop(tx);
    assert!(online.is_empty(), "a deactivated member is never picked: {online:?}");
    assert!(store
        .set_member_deactivated("ws_a", "mem_a", None)
        .await
        .expect("reactivate"));
    assert_eq!(
        store
            .member("mem_a")
            .await
            .expect("member")
            .and_then(|m| m.deactivated_at),
        None
    );

    let invite = Invite {
        id: "inv_1".into(),
        workspace_id: "ws_a".into(),
        token_hash: "invhash_1".into(),
        email: "new@example.com".into(),
        role: "agent".into(),
        invited_by: "mem_a".into(),
        created_at: T0,
        expires_at: T0 + 1000,
        accepted_at: None,
        revoked_at: None,
    };
    store.create_invite(&invite).await.expect("invite");
    let revoked = Invite {
        id: "inv_2".into(),
        token_hash: "invhash_2".into(),
        email: "other@example.com".into(),
        ..invite.clone()
    };
    store.create_invite(&revoked).await.expect("second invite");
    assert_eq!(
        store.invite_by_token("invhash_1").await.expect("by token"),
        Some(invite.clone())
    );
    assert_eq!(store.invite_by_token("nope").await.expect("by token"), None);
    assert!(!store
        .revoke_invite("ws_b", "inv_2", T0 + 1)
        .await
        .expect("revoke, other workspace"));
    assert!(store.revoke_invite("ws_a", "inv_2", T0 + 1).await.expect("revoke"));
    let pending: Vec<String> = store
        .pending_invites("ws_a", T0 + 1)
        .await
        .expect("pending")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(pending, ["inv_1"]);
    assert!(
        store
            .pending_invites("ws_a", T0 + 1000)
            .await
            .expect("pending")
            .is_empty(),
        "expired"
    );

    let new_member = |id: &'static str, now: i64| NewMember {
        id,
        workspace_id: "ws_a",
        email: "new@example.com",
        name: "New",
        role: "agent",
        password_hash: "h",
        now,
    };
    assert!(!store
        .accept_invite("inv_1", new_member("mem_late", T0 + 1000))
        .await
        .expect("expired"));
    assert!(!store
        .accept_invite("inv_2", new_member("mem_rev", T0 + 2))
        .await
        .expect("revoked"));
    assert_eq!(store.member("mem_late").await.expect("member"), None, "nothing written");
    assert!(store
        .accept_invite("inv_1", new_member("mem_new", T0 + 2))
        .await
        .expect("accept"));
    assert_eq!(
        store.member("mem_new").await.expect("member").map(|m| m.email),
        Some("new@example.com".to_string())
    );
    assert!(!store
        .accept_invite("inv_1", new_member("mem_twice", T0 + 3))
        .await
        .expect("twice"));
    assert_eq!(store.member("mem_twice").await.expect("member"), None);
    assert_eq!(
        store
            .invite_by_token("invhash_1")
            .await
            .expect("by token")
            .and_then(|i| i.accepted_at),
        Some(T0 + 2)
    );
}

/// Teams, team membership, presence and round-robin order.
async fn case_teams_and_presence(store: &Store) {
    seed_workspace(store, "ws").await;
    seed_workspace(store, "ws_other").await;
    seed_member(store, "ws", "mem_a", T0 + 1).await;
    seed_member(store, "ws", "mem_b", T0 + 2).await;
    seed_member(store, "ws", "mem_c", T0 + 3).await;

    let billing = Team {
        id: "team_billing".into(),
        workspace_id: "ws".into(),
        name: "Billing".into(),
        slug: "billing".into(),
        business_hours: Some(r#"{"tz":"Europe/Paris","mon":[["09:00","17:00"]]}"#.into()),
        created_at: T0,
        reply_targets: Some(r#"{"first_reply_seconds":300}"#.into()),
    };
    let sales = Team {
        id: "team_sales".into(),
        workspace_id: "ws".into(),
        name: "Accounts".into(),
        slug: "sales".into(),
        business_hours: None,
        created_at: T0 + 1,
        reply_targets: None,
    };
    store.create_team(&billing).await.expect("create billing");
    store.create_team(&sales).await.expect("create sales");
    assert_eq!(
        store.teams("ws").await.expect("teams"),
        vec![sales.clone(), billing.clone()],
        "teams are ordered by name"
    );
    let dup = store
        .create_team(&Team {
            id: "team_dup".into(),
            ..billing.clone()
        })
        .await
        .expect_err("a second team with the same slug");
    assert!(dup.is_unique_violation(), "duplicate slug: {dup:?}");
    // The same slug in another workspace is fine.
    store
        .create_team(&Team {
            id: "team_other".into(),
            workspace_id: "ws_other".into(),
            ..billing.clone()
        })
        .await
        .expect("same slug in another workspace");

    let renamed = Team {
        name: "Sales".into(),
        business_hours: Some("{}".into()),
        reply_targets: Some(r#"{"next_reply_seconds":60}"#.into()),
        ..sales.clone()
    };
    assert!(store.update_team(&renamed).await.expect("update team"));
    assert!(!store
        .update_team(&Team {
            workspace_id: "ws_other".into(),
            ..renamed.clone()
        })
        .await
        .expect("update another workspace's team"));
    assert_eq!(
        store.teams("ws").await.expect("teams"),
        vec![billing.clone(), renamed.clone()]
    );

    // Membership.
    store
        .set_team_members("team_billing", &["mem_b".into(), "mem_a".into()])
        .await
        .expect("set billing members");
    let tm = |team: &str, member: &str, presence: &str, last: i64| TeamMember {
        team_id: team.into(),
        member_id: member.into(),
        presence: presence.into(),
        last_assigned_at: last,
    };
    assert_eq!(
        store.team_members("ws").await.expect("team members"),
        vec![
            tm("team_billing", "mem_a", "offline", 0),
            tm("team_billing", "mem_b", "offline", 0)
        ]
    );
    store
        .set_team_members("team_billing", &["mem_c".into()])
        .await
        .expect("replace billing members");
    assert_eq!(
        store.team_members("ws").await.expect("team members"),
        vec![tm("team_billing", "mem_c", "offline", 0)]
    );
    store
        .set_team_members("team_billing", &["mem_a".into(), "mem_b".into()])
        .await
        .expect("set billing members again");

    // Presence and round-robin.
    store.set_presence("mem_a", "online").await.expect("a online");
    store.set_presence("mem_b", "online").await.expect("b online");
    store.set_presence("mem_c", "away").await.expect("c away");
    let online_ids = |members: Vec<Member>| members.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(
        online_ids(tx.online_team_members("ws", None).await.expect("online")),
        ["mem_a", "mem_b"]
    );
    assert_eq!(
        online_ids(
            tx.online_team_members("ws", Some("billing"))
                .await
                .expect("online billing")
        ),
        ["mem_a", "mem_b"]
    );
    assert!(tx
        .online_team_members("ws", Some("sales"))
        .await
        .expect("online sales")
        .is_empty());
    assert!(tx
        .online_team_members("ws", Some("nope"))
        .await
        .expect("online, no such team")
        .is_empty());
    assert!(tx
        .online_team_members("ws_other", Some("billing"))
        .await
        .expect("online, other workspace")
        .is_empty());
    tx.touch_assigned("mem_a", T0 + 100).await.expect("touch a");
    assert_eq!(
        tx.member("mem_a")
            .await
            .expect("member in tx")
            .map(|m| m.last_assigned_at),
        Some(T0 + 100)
    );
    assert_eq!(
        online_ids(
            tx.online_team_members("ws", Some("billing"))
                .await
                .expect("online billing")
        ),
        ["mem_b", "mem_a"],
        "the member assigned most recently goes last"
    );
    tx.commit().await.expect("commit");
    assert_eq!(
        store
            .member("mem_a")
            .await
            .expect("member")
            .map(|m| (m.presence, m.last_assigned_at)),
        Some(("online".to_string(), T0 + 100))
    );
    assert_eq!(
        store.team_members("ws").await.expect("team members"),
        vec![
            tm("team_billing", "mem_b", "online", 0),
            tm("team_billing", "mem_a", "online", T0 + 100)
        ],
        "team members are ordered by last assignment"
    );

    // PostgreSQL: assigning never waits for another transaction assigning the same member; the
    // one holding the row writes the time.
    if store.dialect() == Dialect::Postgres {
        let mut first = store.begin().await.expect("begin first");
        first.touch_assigned("mem_b", T0 + 200).await.expect("first touches b");
        let mut second = store.begin().await.expect("begin second");
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            second.touch_assigned("mem_b", T0 + 201),
        )
        .await
        .expect("the second does not wait for the first")
        .expect("second touches b");
        second
            .touch_assigned("mem_a", T0 + 202)
            .await
            .expect("second touches a");
        second.commit().await.expect("commit second");
        first.commit().await.expect("commit first");
        let last = |m: Option<Member>| m.map(|m| m.last_assigned_at);
        assert_eq!(last(store.member("mem_b").await.expect("b")), Some(T0 + 200));
        assert_eq!(last(store.member("mem_a").await.expect("a")), Some(T0 + 202));
    }
}

/// The error of a turn the store refuses (the transaction is then dropped: nothing is kept).
async fn refused_turn(store: &Store, c: &Conversation, messages: &[Message]) -> StoreError {
    let mut tx = store.begin().await.expect("begin");
    tx.write_turn(c, None, messages, &[], &[])
        .await
        .expect_err("the store refuses the turn")
}

/// A conversation's turns: lock, retry detection, messages and the conversation row.
async fn case_conversation_turn(store: &Store) {
    seed_workspace(store, "ws").await;
    let ct = contact("ws", "ct_1");
    let conv = conversation("ws", "conv_1", "ct_1");
    let mut tx = store.begin().await.expect("begin");
    tx.insert_contact(&ct).await.expect("insert contact");
    tx.insert_conversation(&conv).await.expect("insert conversation");
    assert_eq!(tx.contact("ct_1").await.expect("contact in tx"), Some(ct.clone()));
    tx.commit().await.expect("commit");

    assert_eq!(store.contact("ct_1").await.expect("contact"), Some(ct.clone()));
    assert_eq!(
        store
            .contact_by_external_id("ws", "ext-ct_1")
            .await
            .expect("by external id"),
        Some(ct.clone())
    );
    assert_eq!(
        store
            .contact_by_external_id("ws", "ext-other")
            .await
            .expect("by external id"),
        None
    );
    assert_eq!(
        store.conversation("conv_1").await.expect("conversation"),
        Some(conv.clone())
    );
    assert_eq!(store.conversation("conv_missing").await.expect("conversation"), None);

    // First turn: the customer's message and two bot replies.
    let mut tx = store.begin().await.expect("begin");
    let locked = tx
        .lock_conversation("conv_1", None)
        .await
        .expect("lock without client id")
        .expect("conversation exists");
    assert_eq!(locked.conversation, conv);
    assert_eq!(locked.retry_of, None);
    assert!(tx
        .lock_conversation("conv_missing", Some("c-1"))
        .await
        .expect("lock missing")
        .is_none());
    let locked = tx
        .lock_conversation("conv_1", Some("c-1"))
        .await
        .expect("lock with client id")
        .expect("conversation exists");
    assert_eq!(locked.retry_of, None, "no message has client id c-1 yet");

    let customer = Message {
        author: Some("ct_1".into()),
        ..message("conv_1", 1, "customer", "I want a refund", Some("c-1"))
    };
    let reply = Message {
        payload: Some(MessagePayload {
            node: Some("ask_amount".into()),
            buttons: vec![
                serde_json::json!({"id": "yes", "label": "Yes"}),
                serde_json::json!({"id": "no", "label": "No"}),
            ],
            buttons_only: true,
            ..MessagePayload::default()
        }),
        ..message("conv_1", 2, "bot", "Sure. Was the order above 50 €?", None)
    };
    let reply2 = message("conv_1", 3, "bot", "", None);
    let after_first = Conversation {
        status: "queued".parse().expect("a known status"),
        state: r#"{"node":"ask_amount","vars":{"order":"A-17"}}"#.into(),
        last_seq: 3,
        updated_at: T0 + 3,
        team: Some("billing".into()),
        assignee: None,
        priority: Some("high".into()),
        queued_at: Some(T0 + 3),
        reply_due_at: Some(T0 + 60_003),
        ..conv.clone()
    };
    tx.write_turn(
        &after_first,
        None,
        &[customer.clone(), reply.clone(), reply2.clone()],
        &[],
        &[],
    )
    .await
    .expect("write first turn");
    tx.commit().await.expect("commit first turn");

    assert_eq!(
        store.conversation("conv_1").await.expect("conversation"),
        Some(after_first.clone()),
        "every column written by write_turn round-trips"
    );
    let all = vec![customer.clone(), reply.clone(), reply2.clone()];
    assert_eq!(store.messages_after("conv_1", 0, 100).await.expect("messages"), all);
    assert_eq!(
        store.messages_after("conv_1", 1, 100).await.expect("messages after 1"),
        vec![reply.clone(), reply2.clone()]
    );
    assert_eq!(
        store.messages_after("conv_1", 0, 2).await.expect("messages, limit 2"),
        vec![customer.clone(), reply.clone()]
    );
    assert_eq!(
        store
            .messages_after("conv_1", 1, 1)
            .await
            .expect("messages after 1, limit 1"),
        vec![reply.clone()]
    );
    assert!(store
        .messages_after("conv_1", 3, 100)
        .await
        .expect("messages after 3")
        .is_empty());
    assert!(store
        .messages_after("conv_other", 0, 100)
        .await
        .expect("other")
        .is_empty());

    // The customer sends c-1 again: a retry of message 1.
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(
        tx.message_by_client_id("conv_1", "c-1").await.expect("by client id"),
        Some(customer.clone())
    );
    assert_eq!(
        tx.message_by_client_id("conv_1", "c-2").await.expect("by client id"),
        None
    );
    assert_eq!(tx.messages_after("conv_1", 0, 100).await.expect("messages in tx"), all);
    assert_eq!(
        tx.customer_texts("conv_1", 100).await.expect("customer texts"),
        vec![customer.text.clone()]
    );
    let locked = tx
        .lock_conversation("conv_1", Some("c-1"))
        .await
        .expect("lock, retry")
        .expect("conversation exists");
    assert_eq!(locked.retry_of, Some(1), "c-1 is a retry of message 1");
    assert_eq!(locked.conversation, after_first);
    let locked = tx
        .lock_conversation("conv_1", Some("c-2"))
        .await
        .expect("lock, new client id")
        .expect("conversation exists");
    assert_eq!(locked.retry_of, None);

    // Second turn, messages given out of order; the agent takes it.
    let m5 = Message {
        author: Some("mem_1".into()),
        ..message("conv_1", 5, "agent", "Hi, I'm Ana.", None)
    };
    let m4 = message("conv_1", 4, "customer", "yes", Some("c-2"));
    let after_second = Conversation {
        status: "assigned".parse().expect("a known status"),
        state: r#"{"node":"handover"}"#.into(),
        last_seq: 5,
        updated_at: T0 + 5,
        assignee: Some("mem_1".into()),
        priority: Some("urgent".into()),
        ..after_first.clone()
    };
    tx.write_turn(&after_second, None, &[m5.clone(), m4.clone()], &[], &[])
        .await
        .expect("write second turn");
    tx.update_contact_attributes("ct_1", r#"{"plan":"enterprise"}"#, T0 + 5)
        .await
        .expect("update contact attributes");
    assert_eq!(
        tx.contact("ct_1")
            .await
            .expect("contact in tx")
            .map(|c| (c.attributes, c.updated_at)),
        Some((r#"{"plan":"enterprise"}"#.to_string(), T0 + 5))
    );
    tx.commit().await.expect("commit second turn");
    assert_eq!(
        store.conversation("conv_1").await.expect("conversation"),
        Some(after_second.clone())
    );
    let seqs: Vec<i64> = store
        .messages_after("conv_1", 0, 100)
        .await
        .expect("messages")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "messages are ordered by seq");
    assert_eq!(
        store.messages_after("conv_1", 3, 100).await.expect("messages after 3"),
        vec![m4.clone(), m5.clone()]
    );

    // Back to the bot: the routing columns go back to NULL; a turn without messages.
    let after_third = Conversation {
        status: "bot".parse().expect("a known status"),
        updated_at: T0 + 6,
        team: None,
        assignee: None,
        priority: None,
        queued_at: None,
        reply_due_at: None,
        ..after_second.clone()
    };
    write_conversation(store, &after_third).await;
    assert_eq!(
        store.conversation("conv_1").await.expect("conversation"),
        Some(after_third.clone())
    );

    // Storing client id c-1 a second time is refused, and the whole turn rolls back.
    let refused = Conversation {
        last_seq: 7,
        status: "resolved".parse().expect("a known status"),
        ..after_third.clone()
    };
    let err = refused_turn(
        store,
        &refused,
        &[
            message("conv_1", 6, "customer", "again", Some("c-9")),
            message("conv_1", 7, "customer", "again", Some("c-1")),
        ],
    )
    .await;
    assert!(err.is_unique_violation(), "duplicate client id: {err:?}");
    // The same seq twice is refused too.
    let err = refused_turn(store, &refused, &[message("conv_1", 5, "bot", "dup", None)]).await;
    assert!(err.is_unique_violation(), "duplicate seq: {err:?}");
    assert_eq!(
        store.conversation("conv_1").await.expect("conversation"),
        Some(after_third.clone())
    );
    assert_eq!(store.messages_after("conv_1", 5, 100).await.expect("messages").len(), 0);

    // Client ids are per conversation: c-1 in another conversation is not a retry.
    let other = seed_conversation(store, "ws", "conv_2").await;
    let mut tx = store.begin().await.expect("begin");
    let locked = tx
        .lock_conversation("conv_2", Some("c-1"))
        .await
        .expect("lock conv_2")
        .expect("conv_2 exists");
    assert_eq!(locked.retry_of, None);
    let other_turn = Conversation {
        last_seq: 1,
        ..other.clone()
    };
    tx.write_turn(
        &other_turn,
        None,
        &[message("conv_2", 1, "customer", "hello", Some("c-1"))],
        &[],
        &[],
    )
    .await
    .expect("c-1 in another conversation");
    tx.commit().await.expect("commit");
    assert_eq!(store.messages_after("conv_2", 0, 10).await.expect("messages").len(), 1);
    assert_eq!(store.messages_after("conv_1", 0, 10).await.expect("messages").len(), 5);

    // Several conversations locked at once (a batch of turns): in id order, each with its
    // own client id's retry, a missing one left out.
    let mut tx = store.begin().await.expect("begin");
    let locked = tx
        .lock_conversations(&[("conv_2", Some("c-1")), ("conv_missing", None), ("conv_1", Some("c-2"))])
        .await
        .expect("lock several");
    let read: Vec<(&str, Option<i64>)> = locked
        .iter()
        .map(|l| (l.conversation.id.as_str(), l.retry_of))
        .collect();
    assert_eq!(read, [("conv_1", Some(4)), ("conv_2", Some(1))]);
    assert_eq!(
        Some(locked[0].conversation.clone()),
        store.conversation("conv_1").await.expect("conv_1")
    );
    assert_eq!(
        Some(locked[1].conversation.clone()),
        store.conversation("conv_2").await.expect("conv_2")
    );
    let locked = tx
        .lock_conversations(&[("conv_1", None), ("conv_2", Some("c-9"))])
        .await
        .expect("lock several, no retries");
    assert!(
        locked.iter().all(|l| l.retry_of.is_none()),
        "new client ids are not retries"
    );
    assert!(tx.lock_conversations(&[]).await.expect("lock none").is_empty());
    drop(tx);
}

/// Where a queued conversation stands: the queued conversations of its workspace and team
/// before it in the inbox's order (priority, then queued time, then id), and the average
/// pickup of the queue's last 20 hand-overs taken.
async fn case_queue_standing(store: &Store) {
    seed_workspace(store, "ws").await;
    let queued = |id: &str, team: Option<&str>, priority: Option<&str>, queued_at: i64| Conversation {
        status: "queued".parse().expect("a known status"),
        team: team.map(str::to_string),
        priority: priority.map(str::to_string),
        queued_at: Some(queued_at),
        ..conversation("ws", id, &format!("ct_{id}"))
    };
    let me = queued("conv_me", Some("billing"), Some("normal"), T0 + 50);
    let others = [
        queued("conv_urgent_later", Some("billing"), Some("urgent"), T0 + 90), // ahead: priority
        queued("conv_normal_earlier", Some("billing"), None, T0 + 10),         // ahead: earlier
        queued("conv_a_same_time", Some("billing"), Some("normal"), T0 + 50),  // ahead: same time, smaller id
        queued("conv_z_same_time", Some("billing"), Some("normal"), T0 + 50),  // behind: larger id
        queued("conv_low_earlier", Some("billing"), Some("low"), T0 + 1),      // behind: priority
        queued("conv_other_team", Some("sales"), Some("urgent"), T0 + 1),      // another queue
        queued("conv_no_team", None, Some("urgent"), T0 + 1),                  // another queue
    ];
    let mut tx = store.begin().await.expect("begin");
    for c in others.iter().chain([&me]) {
        tx.insert_contact(&contact("ws", &c.contact_id))
            .await
            .expect("insert contact");
        tx.insert_conversation(c).await.expect("insert conversation");
    }
    tx.commit().await.expect("commit the queue");

    assert_eq!(
        store.queue_standing(&me).await.expect("standing"),
        QueueStanding {
            ahead: 3,
            typical_pickup_ms: None
        }
    );

    // Pickups: the billing queue's last 20 taken count, not older ones nor another team's.
    let mut tx = store.begin().await.expect("begin");
    for i in 0..23i64 {
        let (team, waited) = match i {
            0 | 1 => ("billing", 1_000_000), // the two oldest: past the last 20
            22 => ("sales", 5_000_000),
            _ => ("billing", 1_000 * i),
        };
        // Taken in the order of `i`.
        let assigned_at = T0 + 10_000_000 * (i + 1);
        tx.insert_handover(&Handover {
            id: format!("ho_{i:02}"),
            workspace_id: "ws".into(),
            conversation_id: "conv_z_same_time".into(),
            flow_id: "flow_1".into(),
            flow_version: 1,
            node: "agent".into(),
            team: Some(team.into()),
            assignee: Some("mem_1".into()),
            priority: "normal".into(),
            status: "resolved".parse().expect("a known status"),
            context: "{}".into(),
            queued_at: assigned_at - waited,
            assigned_at: Some(assigned_at),
            ended_at: Some(assigned_at),
        })
        .await
        .expect("insert handover");
    }
    tx.commit().await.expect("commit the pickups");
    // The last 20 billing pickups waited 2,000..21,000 ms: 11,500 on average.
    let standing = store.queue_standing(&me).await.expect("standing");
    assert_eq!(
        standing,
        QueueStanding {
            ahead: 3,
            typical_pickup_ms: Some(11_500)
        }
    );
    let other_team = store.queue_standing(&others[5]).await.expect("standing in sales");
    assert_eq!(
        other_team,
        QueueStanding {
            ahead: 0,
            typical_pickup_ms: Some(5_000_000)
        }
    );
}

/// A batch's turns in one transaction, as the writer applies them: two conversations, each
/// written twice, with a read between. Every statement sees the writes before it, and the
/// commit keeps every turn's messages, last state and timeline notes in order.
async fn case_turns_in_one_transaction(store: &Store) {
    seed_workspace(store, "ws").await;
    let a = seed_conversation(store, "ws", "conv_a").await;
    let b = seed_conversation(store, "ws", "conv_b").await;
    let turn = |c: &Conversation, seq: i64, status: &str| Conversation {
        last_seq: seq,
        updated_at: T0 + seq,
        status: status.parse().expect("a known status"),
        state: format!("{{\"step\":{seq}}}"),
        ..c.clone()
    };

    let mut tx = store.begin().await.expect("begin");
    // Turns that keep the status (`status_before`: SQLite does not write it) and one that
    // changes it: every other column is written either way.
    assert_eq!(a.status, ConversationStatus::Bot, "seeded as bot");
    tx.write_turn(
        &turn(&a, 1, "bot"),
        Some(ConversationStatus::Bot),
        &[message("conv_a", 1, "customer", "a one", Some("a-1"))],
        &[note("a.first", None, None, T0 + 1)],
        &[],
    )
    .await
    .expect("turn a1");
    tx.write_turn(
        &turn(&b, 2, "bot"),
        Some(ConversationStatus::Bot),
        &[
            message("conv_b", 1, "customer", "b one", Some("b-1")),
            message("conv_b", 2, "bot", "b two", None),
        ],
        &[note("b.first", None, None, T0 + 2)],
        &[],
    )
    .await
    .expect("turn b1");
    // A read in the transaction sees both turns.
    let seen = tx.messages_after("conv_a", 0, 10).await.expect("messages of a");
    assert_eq!(seen, vec![message("conv_a", 1, "customer", "a one", Some("a-1"))]);
    let retry = tx
        .lock_conversation("conv_b", Some("b-1"))
        .await
        .expect("lock b")
        .expect("conv_b exists");
    assert_eq!(retry.retry_of, Some(1), "b-1 is stored: a retry of it is seen");
    assert_eq!(retry.conversation, turn(&b, 2, "bot"));
    // The same conversation twice in a row.
    tx.write_turn(
        &turn(&a, 2, "queued"),
        Some(ConversationStatus::Bot),
        &[message("conv_a", 2, "bot", "a two", None)],
        &[note("a.second", Some("mem_1"), Some("{}"), T0 + 3)],
        &[],
    )
    .await
    .expect("turn a2");
    tx.write_turn(
        &turn(&a, 3, "assigned"),
        None,
        &[message("conv_a", 3, "agent", "a three", None)],
        &[
            note("a.third", None, None, T0 + 4),
            note("a.fourth", None, None, T0 + 5),
        ],
        &[],
    )
    .await
    .expect("turn a3");
    tx.write_turn(
        &turn(&b, 3, "resolved"),
        None,
        &[message("conv_b", 3, "bot", "b three", None)],
        &[],
        &[],
    )
    .await
    .expect("turn b2");
    tx.commit().await.expect("commit the batch");

    assert_eq!(
        store.conversation("conv_a").await.expect("a"),
        Some(turn(&a, 3, "assigned"))
    );
    assert_eq!(
        store.conversation("conv_b").await.expect("b"),
        Some(turn(&b, 3, "resolved"))
    );
    // The status index agrees (reads by status go through `conversations_workspace`).
    assert_eq!(
        store.inbox_counts("ws").await.expect("counts"),
        [(a.team.clone(), "assigned".to_string(), 1)]
    );
    let texts = |messages: Vec<Message>| messages.into_iter().map(|m| (m.seq, m.text)).collect::<Vec<_>>();
    assert_eq!(
        texts(store.messages_after("conv_a", 0, 10).await.expect("messages of a")),
        [
            (1, "a one".to_string()),
            (2, "a two".to_string()),
            (3, "a three".to_string())
        ]
    );
    assert_eq!(
        texts(store.messages_after("conv_b", 0, 10).await.expect("messages of b")),
        [
            (1, "b one".to_string()),
            (2, "b two".to_string()),
            (3, "b three".to_string())
        ]
    );
    let kinds = |entries: &[baton_store::TimelineEntry]| entries.iter().map(|e| e.kind.clone()).collect::<Vec<_>>();
    let timeline_a = store.timeline("conv_a").await.expect("timeline of a");
    assert_eq!(kinds(&timeline_a), ["a.first", "a.second", "a.third", "a.fourth"]);
    assert_eq!(
        kinds(&store.timeline("conv_b").await.expect("timeline of b")),
        ["b.first"]
    );
    let a_second = &timeline_a[1];
    assert_eq!(
        (
            a_second.workspace_id.as_str(),
            a_second.actor.as_deref(),
            a_second.data.as_deref(),
            a_second.at
        ),
        ("ws", Some("mem_1"), Some("{}"), T0 + 3)
    );
}

/// A transaction dropped without commit leaves nothing behind.
async fn case_rolled_back_transaction(store: &Store) {
    seed_workspace(store, "ws").await;
    let ct = contact("ws", "ct_rb");
    let conv = conversation("ws", "conv_rb", "ct_rb");
    let written = Conversation {
        status: "queued".parse().expect("a known status"),
        last_seq: 2,
        team: Some("billing".into()),
        queued_at: Some(T0 + 2),
        ..conv.clone()
    };
    let messages = [
        message("conv_rb", 1, "customer", "hello", Some("c-1")),
        message("conv_rb", 2, "bot", "hi", None),
    ];
    let handover = Handover {
        id: "ho_rb".into(),
        workspace_id: "ws".into(),
        conversation_id: "conv_rb".into(),
        flow_id: "flow_1".into(),
        flow_version: 1,
        node: "agent".into(),
        team: Some("billing".into()),
        assignee: None,
        priority: "normal".into(),
        status: "queued".parse().expect("a known status"),
        context: "{}".into(),
        queued_at: T0 + 2,
        assigned_at: None,
        ended_at: None,
    };

    async fn write_everything(
        store: &Store,
        ct: &Contact,
        conv: &Conversation,
        written: &Conversation,
        messages: &[Message],
        handover: &Handover,
    ) -> baton_store::Tx {
        let mut tx = store.begin().await.expect("begin");
        tx.insert_contact(ct).await.expect("insert contact");
        tx.insert_conversation(conv).await.expect("insert conversation");
        // The notification is sent on PostgreSQL only.
        tx.write_turn(
            written,
            None,
            messages,
            &[note("handover.queued", None, Some("{}"), T0 + 2)],
            &["{\"event\":\"x\"}".to_string()],
        )
        .await
        .expect("write turn");
        tx.insert_outbox("ws", &conv.id, "webhook", r#"{"url":"https://example.com"}"#, T0)
            .await
            .expect("insert outbox");
        tx.insert_timer(&conv.id, 1, T0 + 1000).await.expect("insert timer");
        tx.insert_handover(handover).await.expect("insert handover");
        // Visible inside the transaction.
        assert_eq!(
            tx.messages_after(&conv.id, 0, 10).await.expect("messages in tx").len(),
            2
        );
        assert!(tx.open_handover(&conv.id).await.expect("open handover in tx").is_some());
        tx
    }

    let tx = write_everything(store, &ct, &conv, &written, &messages, &handover).await;
    drop(tx);

    assert_eq!(store.contact("ct_rb").await.expect("contact"), None);
    assert_eq!(
        store.contact_by_external_id("ws", "ext-ct_rb").await.expect("contact"),
        None
    );
    assert_eq!(store.conversation("conv_rb").await.expect("conversation"), None);
    assert!(store
        .messages_after("conv_rb", 0, 10)
        .await
        .expect("messages")
        .is_empty());
    assert!(store.due_outbox(i64::MAX, 10).await.expect("due outbox").is_empty());
    assert_eq!(store.pending_outbox_count().await.expect("pending outbox"), 0);
    assert!(store.due_timers(i64::MAX, 10).await.expect("due timers").is_empty());
    assert_eq!(store.next_timer_due().await.expect("next timer"), None);
    assert!(store.handovers_of("conv_rb").await.expect("handovers").is_empty());
    assert!(store.timeline("conv_rb").await.expect("timeline").is_empty());
    assert!(store
        .inbox(
            "ws",
            &InboxFilter {
                limit: 10,
                ..Default::default()
            }
        )
        .await
        .expect("inbox")
        .is_empty());

    // The same writes again (same keys) succeed: nothing of the first attempt is in the way.
    let tx = write_everything(store, &ct, &conv, &written, &messages, &handover).await;
    tx.commit().await.expect("commit");
    assert_eq!(
        store.conversation("conv_rb").await.expect("conversation"),
        Some(written.clone())
    );
    assert_eq!(
        store.messages_after("conv_rb", 0, 10).await.expect("messages"),
        messages.to_vec()
    );
    assert_eq!(store.pending_outbox_count().await.expect("pending outbox"), 1);
    assert_eq!(store.next_timer_due().await.expect("next timer"), Some(T0 + 1000));
    assert_eq!(store.handovers_of("conv_rb").await.expect("handovers"), vec![handover]);
    assert_eq!(store.timeline("conv_rb").await.expect("timeline").len(), 1);

    // A transaction that only read, dropped: the data is still there and the store is usable.
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.lock_conversation("conv_rb", None).await.expect("lock").is_some());
    drop(tx);
    let mut tx = store.begin().await.expect("begin after a dropped transaction");
    tx.insert_timer("conv_rb", 2, T0 + 500).await.expect("insert timer");
    tx.commit().await.expect("commit");
    assert_eq!(store.next_timer_due().await.expect("next timer"), Some(T0 + 500));
}

/// Hand-over rows, the timeline and the inbox's queries.
async fn case_handover(store: &Store) {
    seed_workspace(store, "ws").await;
    seed_workspace(store, "ws_other").await;
    let conv = seed_conversation(store, "ws", "conv_1").await;
    let queued = Handover {
        id: "ho_1".into(),
        workspace_id: "ws".into(),
        conversation_id: "conv_1".into(),
        flow_id: "flow_1".into(),
        flow_version: 1,
        node: "to_billing".into(),
        team: Some("billing".into()),
        assignee: None,
        priority: "high".into(),
        status: "queued".parse().expect("a known status"),
        context: r#"{"summary":"Wants a refund","vars":{"order":"A-17"}}"#.into(),
        queued_at: T0 + 10,
        assigned_at: None,
        ended_at: None,
    };
    let conv_queued = Conversation {
        status: "queued".parse().expect("a known status"),
        team: Some("billing".into()),
        priority: Some("high".into()),
        queued_at: Some(T0 + 10),
        updated_at: T0 + 10,
        ..conv.clone()
    };

    // Queued.
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.open_handover("conv_1").await.expect("open handover"), None);
    tx.insert_handover(&queued).await.expect("insert handover");
    assert_eq!(
        tx.open_handover("conv_1").await.expect("open handover"),
        Some(queued.clone())
    );
    tx.write_turn(
        &conv_queued,
        None,
        &[],
        &[note("handover.queued", None, Some(r#"{"team":"billing"}"#), T0 + 10)],
        &[],
    )
    .await
    .expect("queue the conversation");
    tx.commit().await.expect("commit");
    assert_eq!(
        store.handovers_of("conv_1").await.expect("handovers"),
        vec![queued.clone()]
    );
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(
        tx.open_handover("conv_1").await.expect("open handover"),
        Some(queued.clone())
    );
    // The inbox row, read after the commit and inside a transaction alike: the open
    // hand-over's context and the contact's attributes, no message yet, never read.
    let row = tx
        .inbox_row("conv_1", &conv.contact_id, "member_1")
        .await
        .expect("inbox row in tx");
    drop(tx);
    assert_eq!(
        store
            .inbox_row("conv_1", &conv.contact_id, "member_1")
            .await
            .expect("inbox row"),
        row
    );
    assert_eq!(row.open_context.as_deref(), Some(queued.context.as_str()));
    assert_eq!(row.attributes.as_deref(), Some(r#"{"plan":"pro","tier":2}"#));
    assert_eq!((row.last_role, row.last_at, row.read_seq), (None, None, None));

    // Two more queued conversations, to check the inbox's order and filters.
    let conv2 = seed_conversation(store, "ws", "conv_2").await;
    let conv2_queued = Conversation {
        status: "queued".parse().expect("a known status"),
        team: None,
        priority: Some("urgent".into()),
        queued_at: Some(T0 + 20),
        updated_at: T0 + 20,
        ..conv2
    };
    write_conversation(store, &conv2_queued).await;
    let conv3 = seed_conversation(store, "ws", "conv_3").await;
    let conv3_queued = Conversation {
        status: "queued".parse().expect("a known status"),
        team: Some("billing".into()),
        priority: Some("normal".into()),
        queued_at: Some(T0 + 5),
        updated_at: T0 + 5,
        ..conv3
    };
    write_conversation(store, &conv3_queued).await;
    // Not in the inbox: bot conversations, and other workspaces'.
    seed_conversation(store, "ws", "conv_bot").await;
    let other = seed_conversation(store, "ws_other", "conv_other").await;
    write_conversation(
        store,
        &Conversation {
            status: "queued".parse().expect("a known status"),
            queued_at: Some(T0),
            ..other
        },
    )
    .await;

    let all = InboxFilter {
        limit: 50,
        ..Default::default()
    };
    let inbox = store.inbox("ws", &all).await.expect("inbox");
    assert_eq!(
        ids(&inbox),
        ["conv_2", "conv_1", "conv_3"],
        "urgent, then high, then normal priority"
    );
    assert_eq!(inbox[1], conv_queued, "inbox rows are whole conversations");
    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    limit: 2,
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, limit 2")),
        ["conv_2", "conv_1"]
    );
    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    team: Some("billing".into()),
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, team")),
        ["conv_1", "conv_3"]
    );
    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    priority: Some("normal".into()),
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, priority")),
        ["conv_3"]
    );
    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    statuses: vec!["bot".into()],
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, bot")),
        ["conv_bot"]
    );
    let mut counts = store.inbox_counts("ws").await.expect("inbox counts");
    // The order of a NULL team differs between backends (SQLite sorts NULL first, PostgreSQL
    // last); callers fold the rows into a map.
    counts.sort();
    assert_eq!(
        counts,
        [
            (None, "queued".to_string(), 1),
            (Some("billing".to_string()), "queued".to_string(), 2)
        ]
    );

    // Assigned.
    let assigned = Handover {
        assignee: Some("mem_1".into()),
        status: "assigned".parse().expect("a known status"),
        assigned_at: Some(T0 + 5010),
        ..queued.clone()
    };
    let conv_assigned = Conversation {
        status: "assigned".parse().expect("a known status"),
        assignee: Some("mem_1".into()),
        updated_at: T0 + 5010,
        ..conv_queued.clone()
    };
    let mut tx = store.begin().await.expect("begin");
    tx.update_handover(&assigned).await.expect("assign handover");
    assert_eq!(
        tx.open_handover("conv_1").await.expect("open handover"),
        Some(assigned.clone())
    );
    tx.write_turn(
        &conv_assigned,
        None,
        &[],
        &[note(
            "handover.assigned",
            Some("mem_1"),
            Some(r#"{"by":"round_robin"}"#),
            T0 + 5010,
        )],
        &[],
    )
    .await
    .expect("assign the conversation");
    tx.commit().await.expect("commit");

    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    assignee: Some(None),
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, unassigned")),
        ["conv_2", "conv_3"]
    );
    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    assignee: Some(Some("mem_1".into())),
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, mine")),
        ["conv_1"]
    );
    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    statuses: vec!["assigned".into()],
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, assigned")),
        ["conv_1"]
    );
    assert_eq!(
        ids(&store
            .inbox(
                "ws",
                &InboxFilter {
                    statuses: vec!["queued".into()],
                    ..all.clone()
                }
            )
            .await
            .expect("inbox, queued")),
        ["conv_2", "conv_3"]
    );
    let mut counts = store.inbox_counts("ws").await.expect("inbox counts");
    counts.sort();
    assert_eq!(
        counts,
        [
            (None, "queued".to_string(), 1),
            (Some("billing".to_string()), "assigned".to_string(), 1),
            (Some("billing".to_string()), "queued".to_string(), 1)
        ]
    );

    // Handed back to the bot: no open hand-over any more.
    let handed_back = Handover {
        status: "handed_back".parse().expect("a known status"),
        ended_at: Some(T0 + 9000),
        ..assigned.clone()
    };
    let conv_back = Conversation {
        status: "bot".parse().expect("a known status"),
        team: None,
        assignee: None,
        priority: None,
        queued_at: None,
        updated_at: T0 + 9000,
        ..conv_assigned.clone()
    };
    let mut tx = store.begin().await.expect("begin");
    tx.update_handover(&handed_back).await.expect("hand back");
    assert_eq!(tx.open_handover("conv_1").await.expect("open handover"), None);
    tx.set_handover_context("ho_1", r#"{"summary":"Refund approved"}"#)
        .await
        .expect("set context");
    // Several notes of one turn keep their order.
    tx.write_turn(
        &conv_back,
        None,
        &[],
        &[
            note("handover.ended", Some("mem_1"), None, T0 + 9000),
            note("handed_back", None, Some(r#"{"node":"ask"}"#), T0 + 9000),
        ],
        &[],
    )
    .await
    .expect("back to the bot");
    tx.commit().await.expect("commit");

    let final_handover = Handover {
        context: r#"{"summary":"Refund approved"}"#.into(),
        ..handed_back.clone()
    };
    assert_eq!(
        store.handovers_of("conv_1").await.expect("handovers"),
        vec![final_handover]
    );
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.open_handover("conv_1").await.expect("open handover"), None);
    drop(tx);

    let timeline = store.timeline("conv_1").await.expect("timeline");
    let entries: Vec<(&str, Option<&str>, Option<&str>, i64)> = timeline
        .iter()
        .map(|e| (e.kind.as_str(), e.actor.as_deref(), e.data.as_deref(), e.at))
        .collect();
    assert_eq!(
        entries,
        [
            ("handover.queued", None, Some(r#"{"team":"billing"}"#), T0 + 10),
            (
                "handover.assigned",
                Some("mem_1"),
                Some(r#"{"by":"round_robin"}"#),
                T0 + 5010
            ),
            ("handover.ended", Some("mem_1"), None, T0 + 9000),
            ("handed_back", None, Some(r#"{"node":"ask"}"#), T0 + 9000),
        ]
    );
    assert!(timeline.windows(2).all(|w| w[0].id < w[1].id), "timeline ids increase");
    assert!(timeline
        .iter()
        .all(|e| e.workspace_id == "ws" && e.conversation_id == "conv_1"));
    assert!(store.timeline("conv_2").await.expect("timeline").is_empty());

    assert_eq!(
        ids(&store.inbox("ws", &all).await.expect("inbox")),
        ["conv_2", "conv_3"]
    );
    let mut counts = store.inbox_counts("ws").await.expect("inbox counts");
    counts.sort();
    assert_eq!(
        counts,
        [
            (None, "queued".to_string(), 1),
            (Some("billing".to_string()), "queued".to_string(), 1)
        ]
    );

    // Statistics.
    assert_eq!(
        store.handover_stats("flow_1").await.expect("handover stats"),
        vec![HandoverStat {
            node: "to_billing".into(),
            status: "handed_back".parse().expect("a known status"),
            count: 1,
            picked_up: 1,
            pickup_ms_total: 5000,
            pickup_ms_max: 5000,
        }]
    );
    assert!(store
        .handover_stats("flow_none")
        .await
        .expect("handover stats")
        .is_empty());
    // conv_1 (bot), conv_2, conv_3 (queued), conv_bot (bot) on flow_1 in ws, conv_other too;
    // conv_silent, in which nothing was said yet (waiting for its first message), is not one.
    let counts = |conversations, contained, abandoned, cancelled| FlowCounts {
        conversations,
        contained,
        abandoned,
        cancelled,
    };
    let mut conv_back = conv_back;
    for id in ["conv_1", "conv_2", "conv_3", "conv_bot", "conv_other"] {
        let c = store.conversation(id).await.expect("conversation").expect("exists");
        if c.last_seq == 0 {
            write_conversation(store, &Conversation { last_seq: 1, ..c }).await;
        }
    }
    conv_back.last_seq = conv_back.last_seq.max(1);
    seed_conversation(store, "ws", "conv_silent").await;
    assert_eq!(
        store.flow_conversation_counts("flow_1").await.expect("flow counts"),
        counts(5, 0, 0, 0)
    );
    // Resolved by the bot alone counts; resolved after a hand-over does not.
    write_conversation(
        store,
        &Conversation {
            status: "resolved".parse().expect("a known status"),
            ..conv_back.clone()
        },
    )
    .await;
    let bot_conv = store
        .conversation("conv_bot")
        .await
        .expect("conversation")
        .expect("conv_bot exists");
    let bot_resolved = Conversation {
        status: "resolved".parse().expect("a known status"),
        updated_at: T0 + 1,
        ..bot_conv
    };
    write_conversation(store, &bot_resolved).await;
    assert_eq!(
        store.flow_conversation_counts("flow_1").await.expect("flow counts"),
        counts(5, 1, 0, 0)
    );
    // Closed because the customer stopped answering: abandoned, not contained.
    let mut tx = store.begin().await.expect("begin");
    tx.write_turn(
        &bot_resolved,
        None,
        &[],
        &[note("abandoned", None, Some("{}"), T0 + 2)],
        &[],
    )
    .await
    .expect("timeline");
    tx.commit().await.expect("commit");
    assert_eq!(
        store.flow_conversation_counts("flow_1").await.expect("flow counts"),
        counts(5, 0, 1, 0)
    );
    // Cancelled by the customer at a question: not contained either.
    let mut tx = store.begin().await.expect("begin");
    tx.write_turn(
        &bot_resolved,
        None,
        &[],
        &[note("escape_cancel", None, Some("{}"), T0 + 3)],
        &[],
    )
    .await
    .expect("timeline");
    tx.commit().await.expect("commit");
    assert_eq!(
        store.flow_conversation_counts("flow_1").await.expect("flow counts"),
        counts(5, 0, 1, 1)
    );
    assert_eq!(
        store.flow_conversation_counts("flow_none").await.expect("flow counts"),
        counts(0, 0, 0, 0)
    );
}

/// The outbox of effects and persisted timers (and the webhook delivery log).
async fn case_outbox_and_timers(store: &Store) {
    seed_workspace(store, "ws").await;
    seed_conversation(store, "ws", "conv_1").await;
    seed_conversation(store, "ws", "conv_2").await;

    let mut tx = store.begin().await.expect("begin");
    let id1 = tx
        .insert_outbox("ws", "conv_1", "webhook", r#"{"url":"https://example.com/a"}"#, T0)
        .await
        .expect("insert outbox 1");
    let id2 = tx
        .insert_outbox("ws", "conv_2", "ai", r#"{"prompt":"…"}"#, T0 + 10)
        .await
        .expect("insert outbox 2");
    tx.commit().await.expect("commit");
    assert!(id2 > id1, "outbox ids increase ({id1}, {id2})");

    let item1 = OutboxItem {
        id: id1,
        workspace_id: "ws".into(),
        conversation_id: "conv_1".into(),
        kind: "webhook".into(),
        payload: r#"{"url":"https://example.com/a"}"#.into(),
        attempts: 0,
        next_attempt_at: T0,
        done_at: None,
        last_error: None,
        created_at: T0,
    };
    let due_ids = |items: Vec<OutboxItem>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert!(store.due_outbox(T0 - 1, 10).await.expect("due outbox").is_empty());
    assert_eq!(store.due_outbox(T0, 10).await.expect("due outbox"), vec![item1.clone()]);
    assert_eq!(due_ids(store.due_outbox(T0 + 10, 10).await.expect("due")), [id1, id2]);
    assert_eq!(
        due_ids(store.due_outbox(T0 + 10, 1).await.expect("due, limit 1")),
        [id1]
    );
    assert_eq!(store.outbox_item(id1).await.expect("outbox item"), Some(item1.clone()));
    assert_eq!(store.outbox_item(id2 + 1000).await.expect("outbox item"), None);
    assert_eq!(store.pending_outbox_count().await.expect("pending"), 2);

    // A failed attempt: later, and after item 2.
    store
        .reschedule_outbox(id1, 1, T0 + 100, "HTTP 503: Service Unavailable")
        .await
        .expect("reschedule");
    assert_eq!(due_ids(store.due_outbox(T0 + 10, 10).await.expect("due")), [id2]);
    assert_eq!(due_ids(store.due_outbox(T0 + 100, 10).await.expect("due")), [id2, id1]);
    let rescheduled = OutboxItem {
        attempts: 1,
        next_attempt_at: T0 + 100,
        last_error: Some("HTTP 503: Service Unavailable".into()),
        ..item1.clone()
    };
    assert_eq!(
        store.outbox_item(id1).await.expect("outbox item"),
        Some(rescheduled.clone())
    );

    // Completed once only.
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.complete_outbox(id1, T0 + 200).await.expect("complete"));
    tx.commit().await.expect("commit");
    let mut tx = store.begin().await.expect("begin");
    assert!(!tx.complete_outbox(id1, T0 + 300).await.expect("complete again"));
    assert!(!tx
        .complete_outbox(id2 + 1000, T0 + 300)
        .await
        .expect("complete missing"));
    tx.commit().await.expect("commit");
    assert_eq!(
        store.outbox_item(id1).await.expect("outbox item"),
        Some(OutboxItem {
            done_at: Some(T0 + 200),
            ..rescheduled
        })
    );
    assert_eq!(due_ids(store.due_outbox(i64::MAX, 10).await.expect("due")), [id2]);
    assert_eq!(store.pending_outbox_count().await.expect("pending"), 1);

    // Giving up: done, with the attempts and error kept.
    store
        .give_up_outbox_item(id2, 8, T0 + 400, "timeout")
        .await
        .expect("give up");
    let given_up = store.outbox_item(id2).await.expect("outbox item").expect("item 2");
    assert_eq!(
        (given_up.done_at, given_up.attempts, given_up.last_error.as_deref()),
        (Some(T0 + 400), 8, Some("timeout"))
    );
    assert!(store.due_outbox(i64::MAX, 10).await.expect("due").is_empty());
    assert_eq!(store.pending_outbox_count().await.expect("pending"), 0);
    let id3 = store
        .queue_outbox("ws", "conv_1", "event", "{}", T0 + 500)
        .await
        .expect("queue outbox");
    assert!(id3 > id2);
    store.complete_outbox_item(id3, T0 + 600).await.expect("complete item");
    store
        .complete_outbox_item(id3, T0 + 700)
        .await
        .expect("complete item again");
    assert_eq!(
        store
            .outbox_item(id3)
            .await
            .expect("outbox item")
            .and_then(|i| i.done_at),
        Some(T0 + 600),
        "a second completion keeps the first time"
    );

    // Timers.
    assert_eq!(store.next_timer_due().await.expect("next timer"), None);
    let mut tx = store.begin().await.expect("begin");
    tx.insert_timer("conv_1", 1, T0 + 300).await.expect("timer 1/1");
    tx.insert_timer("conv_1", 2, T0 + 100).await.expect("timer 1/2");
    tx.insert_timer("conv_2", 1, T0 + 200).await.expect("timer 2/1");
    tx.commit().await.expect("commit");
    let timer = |conv: &str, id: i64, due: i64| Timer {
        conversation_id: conv.into(),
        timer_id: id,
        due_at: due,
    };
    assert_eq!(store.next_timer_due().await.expect("next timer"), Some(T0 + 100));
    assert!(store.due_timers(T0 + 99, 10).await.expect("due timers").is_empty());
    assert_eq!(
        store.due_timers(T0 + 200, 10).await.expect("due timers"),
        vec![timer("conv_1", 2, T0 + 100), timer("conv_2", 1, T0 + 200)]
    );
    assert_eq!(
        store.due_timers(i64::MAX, 10).await.expect("due timers"),
        vec![
            timer("conv_1", 2, T0 + 100),
            timer("conv_2", 1, T0 + 200),
            timer("conv_1", 1, T0 + 300)
        ]
    );
    assert_eq!(
        store.due_timers(i64::MAX, 1).await.expect("due timers, limit 1"),
        vec![timer("conv_1", 2, T0 + 100)]
    );
    let mut tx = store.begin().await.expect("begin");
    let err = tx
        .insert_timer("conv_1", 1, T0 + 999)
        .await
        .expect_err("the same timer twice");
    assert!(err.is_unique_violation(), "duplicate timer: {err:?}");
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.delete_timer("conv_1", 2).await.expect("delete timer"));
    assert!(!tx.delete_timer("conv_1", 2).await.expect("delete timer again"));
    assert!(!tx.delete_timer("conv_9", 1).await.expect("delete missing timer"));
    tx.commit().await.expect("commit");
    assert_eq!(store.next_timer_due().await.expect("next timer"), Some(T0 + 200));
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.delete_timer("conv_2", 1).await.expect("delete timer"));
    assert!(tx.delete_timer("conv_1", 1).await.expect("delete timer"));
    tx.commit().await.expect("commit");
    assert_eq!(store.next_timer_due().await.expect("next timer"), None);
    assert!(store.due_timers(i64::MAX, 10).await.expect("due timers").is_empty());

    // Webhook delivery log.
    let mut tx = store.begin().await.expect("begin");
    for (attempt, status, error) in [(1, None, Some("connection refused")), (2, Some(200), None)] {
        tx.insert_delivery(
            "ws",
            "conv_1",
            &baton_store::DeliveryAttempt {
                node: "call_crm".into(),
                url: "https://crm.example.com/hook?a=1&b=é".into(),
                attempt,
                status_code: status,
                error: error.map(str::to_string),
                duration_ms: 10 * attempt,
                at: T0 + attempt,
            },
        )
        .await
        .expect("insert delivery");
    }
    tx.commit().await.expect("commit");
    let deliveries = store.deliveries("conv_1").await.expect("deliveries");
    let summary: Vec<_> = deliveries
        .iter()
        .map(|d| {
            (
                d.attempt,
                d.status_code,
                d.error.as_deref(),
                d.duration_ms,
                d.created_at,
                d.url.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                1,
                None,
                Some("connection refused"),
                10,
                T0 + 1,
                "https://crm.example.com/hook?a=1&b=é"
            ),
            (2, Some(200), None, 20, T0 + 2, "https://crm.example.com/hook?a=1&b=é"),
        ]
    );
    assert!(store.deliveries("conv_2").await.expect("deliveries").is_empty());
}

/// Flows: draft, numbered versions, live flag.
async fn case_flows(store: &Store) {
    seed_workspace(store, "ws").await;
    seed_workspace(store, "ws_other").await;
    let draft1 = r#"{"start":"greet","nodes":{"greet":{"type":"message","text":"Bonjour 👋"}}}"#;
    let draft2 = r#"{"start":"greet","nodes":{"greet":{"type":"message","text":"Hello"}}}"#;
    store
        .create_flow("flow_1", "ws", "Support", draft1, T0)
        .await
        .expect("create flow");
    let row = FlowRow {
        id: "flow_1".into(),
        workspace_id: "ws".into(),
        name: "Support".into(),
        draft: draft1.into(),
        live: false,
        live_version: None,
        require_tests: false,
        created_at: T0,
        updated_at: T0,
        entry_order: 0,
    };
    assert_eq!(store.flow("ws", "flow_1").await.expect("flow"), Some(row.clone()));
    assert_eq!(
        store.flow("ws_other", "flow_1").await.expect("flow, other workspace"),
        None
    );
    assert_eq!(store.flows("ws").await.expect("flows"), vec![row.clone()]);
    assert!(store.flows("ws_other").await.expect("flows").is_empty());
    let dup = store
        .create_flow("flow_1", "ws", "Again", "{}", T0)
        .await
        .expect_err("the same flow id twice");
    assert!(dup.is_unique_violation(), "duplicate flow: {dup:?}");

    // Draft.
    assert!(store
        .update_draft("ws", "flow_1", "Support v2", draft2, T0 + 1)
        .await
        .expect("update draft"));
    assert!(!store
        .update_draft("ws_other", "flow_1", "Hijack", "{}", T0 + 1)
        .await
        .expect("update draft, other workspace"));
    assert!(!store
        .update_draft("ws", "flow_missing", "X", "{}", T0 + 1)
        .await
        .expect("update draft, missing"));
    let row = FlowRow {
        name: "Support v2".into(),
        draft: draft2.into(),
        updated_at: T0 + 1,
        ..row
    };
    assert_eq!(store.flow("ws", "flow_1").await.expect("flow"), Some(row.clone()));
    assert!(store.live_versions("ws").await.expect("live flows").is_empty());

    // Publish: versions 1 and 2. What entry routing reads is counted as it changes.
    let before = store.routing_generation();
    let v1 = store
        .publish_flow("ws", "flow_1", draft1, Some("first version"), Some("mem_ana"), T0 + 2)
        .await
        .expect("publish 1");
    assert_eq!(v1, 1);
    assert!(store.routing_generation() > before, "a publish is counted");
    let row = FlowRow {
        live_version: Some(1),
        updated_at: T0 + 2,
        ..row
    };
    assert_eq!(store.flow("ws", "flow_1").await.expect("flow"), Some(row.clone()));
    let version1 = FlowVersion {
        flow_id: "flow_1".into(),
        version: 1,
        document: draft1.into(),
        note: Some("first version".into()),
        published_by: Some("mem_ana".into()),
        published_at: T0 + 2,
    };
    assert_eq!(
        store.flow_version("flow_1", 1).await.expect("version 1"),
        Some(version1.clone())
    );
    assert!(
        store.live_versions("ws").await.expect("live flows").is_empty(),
        "published but not live"
    );
    let before = store.routing_generation();
    assert!(store
        .set_flow_live("ws", "flow_1", true, T0 + 3)
        .await
        .expect("set live"));
    assert!(store.routing_generation() > before, "a live switch is counted");
    assert!(!store
        .set_flow_live("ws_other", "flow_1", true, T0 + 3)
        .await
        .expect("set live, other workspace"));
    let row = FlowRow {
        live: true,
        updated_at: T0 + 3,
        ..row
    };
    assert_eq!(
        store.live_versions("ws").await.expect("live flows"),
        [("flow_1".to_string(), row.live_version.expect("published"))]
    );
    assert!(store.live_versions("ws_other").await.expect("live flows").is_empty());

    let v2 = store
        .publish_flow("ws", "flow_1", draft2, None, None, T0 + 4)
        .await
        .expect("publish 2");
    assert_eq!(v2, 2);
    let version2 = FlowVersion {
        flow_id: "flow_1".into(),
        version: 2,
        document: draft2.into(),
        note: None,
        published_by: None,
        published_at: T0 + 4,
    };
    assert_eq!(
        store.flow_version("flow_1", 2).await.expect("version 2"),
        Some(version2.clone())
    );
    assert_eq!(
        store.flow_version("flow_1", 1).await.expect("version 1"),
        Some(version1.clone()),
        "published versions do not change"
    );
    assert_eq!(store.flow_version("flow_1", 3).await.expect("version 3"), None);
    assert_eq!(
        store.flow_versions("flow_1").await.expect("versions"),
        vec![version2, version1],
        "newest first"
    );
    let row = FlowRow {
        live_version: Some(2),
        updated_at: T0 + 4,
        ..row
    };
    assert_eq!(store.flow("ws", "flow_1").await.expect("flow"), Some(row.clone()));

    // Publishing another workspace's flow is refused and changes nothing.
    store
        .publish_flow("ws_other", "flow_1", "{}", None, None, T0 + 5)
        .await
        .expect_err("publish another workspace's flow");
    assert_eq!(store.flow_versions("flow_1").await.expect("versions").len(), 2);
    assert_eq!(store.flow("ws", "flow_1").await.expect("flow"), Some(row.clone()));

    // Flags.
    assert!(store
        .set_require_tests("ws", "flow_1", true, T0 + 6)
        .await
        .expect("require tests"));
    assert_eq!(
        store.flow("ws", "flow_1").await.expect("flow").map(|f| f.require_tests),
        Some(true)
    );
    assert!(store
        .set_flow_live("ws", "flow_1", false, T0 + 7)
        .await
        .expect("set not live"));
    assert!(store.live_versions("ws").await.expect("live flows").is_empty());

    // A second flow: order by created_at.
    store
        .create_flow("flow_0", "ws", "Sales", "{}", T0 + 10)
        .await
        .expect("create flow 0");
    let order: Vec<String> = store
        .flows("ws")
        .await
        .expect("flows")
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(order, ["flow_1", "flow_0"]);
    assert_eq!(
        store
            .publish_flow("ws", "flow_0", "{}", None, None, T0 + 11)
            .await
            .expect("publish flow 0"),
        1,
        "versions are numbered per flow"
    );
}

/// Knowledge-base articles and the revision counter.
async fn case_knowledge_base(store: &Store) {
    seed_workspace(store, "ws").await;
    seed_workspace(store, "ws_other").await;
    assert_eq!(store.kb_revision("ws").await.expect("revision"), 0);
    assert_eq!(store.kb_revision("ws_missing").await.expect("revision"), 0);

    let refunds = KbArticle {
        workspace_id: "ws".into(),
        id: "refunds".into(),
        collection: "billing".into(),
        title: "Refunds".into(),
        url: Some("https://help.example.com/refunds".into()),
        markdown: "# Refunds\n\nWithin **30 days**.\n".into(),
        updated_at: T0,
    };
    store.upsert_article(&refunds).await.expect("insert article");
    assert_eq!(store.kb_revision("ws").await.expect("revision"), 1);
    assert_eq!(
        store.article("ws", "refunds").await.expect("article"),
        Some(refunds.clone())
    );
    assert_eq!(store.article("ws_other", "refunds").await.expect("article"), None);

    let refunds2 = KbArticle {
        collection: "payments".into(),
        title: "Refunds and returns".into(),
        url: None,
        markdown: "# Refunds\n\nWithin **14 days**.\n".into(),
        updated_at: T0 + 1,
        ..refunds.clone()
    };
    store.upsert_article(&refunds2).await.expect("replace article");
    assert_eq!(store.kb_revision("ws").await.expect("revision"), 2);
    assert_eq!(
        store.article("ws", "refunds").await.expect("article"),
        Some(refunds2.clone())
    );
    assert_eq!(store.articles("ws").await.expect("articles"), vec![refunds2.clone()]);

    let login = KbArticle {
        workspace_id: "ws".into(),
        id: "login".into(),
        collection: "account".into(),
        title: "Cannot log in".into(),
        url: None,
        markdown: "Reset your password.".into(),
        updated_at: T0 + 2,
    };
    store.upsert_article(&login).await.expect("insert login");
    let billing_b = KbArticle {
        workspace_id: "ws".into(),
        id: "a_invoices".into(),
        collection: "payments".into(),
        title: "Invoices".into(),
        url: None,
        markdown: "PDF".into(),
        updated_at: T0 + 3,
    };
    store.upsert_article(&billing_b).await.expect("insert invoices");
    assert_eq!(store.kb_revision("ws").await.expect("revision"), 4);
    assert_eq!(
        store.articles("ws").await.expect("articles"),
        vec![login.clone(), billing_b.clone(), refunds2.clone()],
        "ordered by collection, then title"
    );

    // Another workspace: same id, its own revision.
    let other = KbArticle {
        workspace_id: "ws_other".into(),
        ..refunds.clone()
    };
    store.upsert_article(&other).await.expect("insert other");
    assert_eq!(store.kb_revision("ws_other").await.expect("revision"), 1);
    assert_eq!(store.kb_revision("ws").await.expect("revision"), 4);
    assert_eq!(
        store.article("ws", "refunds").await.expect("article"),
        Some(refunds2.clone())
    );

    // Delete.
    assert!(store.delete_article("ws", "refunds").await.expect("delete"));
    assert_eq!(store.kb_revision("ws").await.expect("revision"), 5);
    assert!(!store.delete_article("ws", "refunds").await.expect("delete again"));
    assert_eq!(
        store.kb_revision("ws").await.expect("revision"),
        5,
        "deleting nothing is not an edit"
    );
    assert_eq!(store.article("ws", "refunds").await.expect("article"), None);
    assert_eq!(
        store.articles("ws").await.expect("articles"),
        vec![login.clone(), billing_b.clone()]
    );
    assert_eq!(store.articles("ws_other").await.expect("articles"), vec![other]);
}

/// Event subscriptions and their delivery log.
async fn case_events(store: &Store) {
    seed_workspace(store, "ws").await;
    seed_workspace(store, "ws_other").await;
    seed_conversation(store, "ws", "conv_1").await;

    let s1 = store
        .create_event_subscription(NewEventSubscription {
            id: "sub_1",
            workspace_id: "ws",
            url: "https://example.com/events",
            event_types: r#"["conversation.created","handover.queued"]"#,
            active: true,
            now: T0,
        })
        .await
        .expect("create subscription 1");
    assert_eq!(
        s1,
        EventSubscription {
            id: "sub_1".into(),
            workspace_id: "ws".into(),
            url: "https://example.com/events".into(),
            event_types: r#"["conversation.created","handover.queued"]"#.into(),
            active: true,
            created_at: T0,
        }
    );
    let s2 = store
        .create_event_subscription(NewEventSubscription {
            id: "sub_2",
            workspace_id: "ws",
            url: "https://example.com/all",
            event_types: r#"["*"]"#,
            active: false,
            now: T0 + 1,
        })
        .await
        .expect("create subscription 2");
    assert!(!s2.active);
    let s3 = store
        .create_event_subscription(NewEventSubscription {
            id: "sub_3",
            workspace_id: "ws",
            url: "https://example.com/star",
            event_types: r#"["*"]"#,
            active: true,
            now: T0 + 2,
        })
        .await
        .expect("create subscription 3");
    assert_eq!(
        store.event_subscriptions("ws").await.expect("subscriptions"),
        vec![s1.clone(), s2.clone(), s3.clone()]
    );
    assert_eq!(
        store.event_subscription("sub_2").await.expect("subscription"),
        Some(s2.clone())
    );
    assert_eq!(
        store
            .workspace_event_subscription("ws", "sub_1")
            .await
            .expect("subscription"),
        Some(s1.clone())
    );
    assert_eq!(
        store
            .workspace_event_subscription("ws_other", "sub_1")
            .await
            .expect("subscription, other workspace"),
        None
    );

    let mut tx = store.begin().await.expect("begin");
    assert_eq!(
        tx.active_subscriptions("ws").await.expect("active"),
        vec![s1.clone(), s3.clone()]
    );
    assert_eq!(
        tx.subscriptions_for("ws", "handover.queued").await.expect("for type"),
        vec![s1.clone(), s3.clone()]
    );
    assert_eq!(
        tx.subscriptions_for("ws", "message.created").await.expect("for type"),
        vec![s3.clone()]
    );
    assert!(tx
        .active_subscriptions("ws_other")
        .await
        .expect("active, other workspace")
        .is_empty());
    drop(tx);

    let payload = r#"{"subscription":"sub_1","event":{"id":"evt_1","type":"conversation.created"}}"#;
    let outbox_id = store
        .queue_outbox("ws", "conv_1", "event", payload, T0 + 10)
        .await
        .expect("queue event");
    for (attempt, status, error) in [(1, Some(500), Some("HTTP 500")), (2, Some(204), None)] {
        store
            .insert_event_delivery(NewEventDelivery {
                workspace_id: "ws",
                subscription_id: "sub_1",
                outbox_id,
                event_id: "evt_1",
                event_type: "conversation.created",
                url: "https://example.com/events",
                attempt,
                status_code: status,
                error,
                duration_ms: 7 * attempt,
                now: T0 + 10 + attempt,
            })
            .await
            .expect("insert event delivery");
    }
    let deliveries = store.event_deliveries("sub_1", None, 10).await.expect("deliveries");
    let summary: Vec<_> = deliveries
        .iter()
        .map(|d| {
            (
                d.attempt,
                d.status_code,
                d.error.as_deref(),
                d.duration_ms,
                d.created_at,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (2, Some(204), None, 14, T0 + 12),
            (1, Some(500), Some("HTTP 500"), 7, T0 + 11)
        ],
        "newest first"
    );
    assert!(deliveries.iter().all(|d| d.outbox_id == outbox_id
        && d.event_id == "evt_1"
        && d.subscription_id == "sub_1"
        && d.workspace_id == "ws"));
    assert_eq!(
        store
            .event_deliveries("sub_1", None, 1)
            .await
            .expect("deliveries")
            .len(),
        1
    );
    let older = store
        .event_deliveries("sub_1", Some(deliveries[0].id), 10)
        .await
        .expect("the page after the newest");
    assert_eq!(
        older.iter().map(|d| d.attempt).collect::<Vec<_>>(),
        [1],
        "older than the cursor"
    );
    assert_eq!(store.event_delivery_count("sub_1").await.expect("count"), 2);
    assert_eq!(
        store.logged_event("sub_1", "evt_1").await.expect("logged event"),
        Some(LoggedEvent {
            conversation_id: "conv_1".into(),
            payload: payload.into(),
        })
    );
    assert_eq!(store.logged_event("sub_1", "evt_2").await.expect("logged event"), None);

    assert!(!store
        .delete_event_subscription("ws_other", "sub_1")
        .await
        .expect("delete, other workspace"));
    assert!(store.delete_event_subscription("ws", "sub_1").await.expect("delete"));
    assert!(!store
        .delete_event_subscription("ws", "sub_1")
        .await
        .expect("delete again"));
    assert_eq!(store.event_subscription("sub_1").await.expect("subscription"), None);
    assert!(store
        .event_deliveries("sub_1", None, 10)
        .await
        .expect("deliveries")
        .is_empty());
    assert_eq!(
        store.event_subscriptions("ws").await.expect("subscriptions"),
        vec![s2, s3]
    );
}

/// About 60 KB of emoji, CJK, right-to-left text, quotes, backslashes, SQL-looking text and
/// control characters (no NUL: PostgreSQL text cannot hold it), ending in whitespace.
fn tricky_text() -> String {
    let piece = concat!(
        "Hello 👋🏽 👨‍👩‍👧‍👦 🇫🇷 — 你好，世界 こんにちは 안녕하세요 مرحبا بالعالم שלום Ελληνικά Ωμέγα ",
        "e\u{301} n\u{303} \u{200b}\u{200c}\u{200d}\u{feff}\u{2028}\u{2029} ",
        "\"double\" 'single' `back` «guillemets» „low“ \\ back\\slash \\n \\u0000 ",
        "'); DROP TABLE messages; -- $1 $$ %s %_ ? :name ",
        "\t tab \r\n crlf \r cr \u{1}\u{2}\u{7}\u{8}\u{b}\u{c}\u{1b}[31mred\u{1b}[0m\u{7f}\u{80}\u{9f} ",
        "\u{fffd} \u{fffe}\u{ffff} \u{10000} \u{10ffff} 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ",
    );
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 60 * 1024 {
        text.push_str(piece);
        text.push_str(&n.to_string());
        text.push('\n');
        n += 1;
    }
    text.push_str("  \t\n");
    text
}

/// Unicode and large text round-trip byte for byte.
async fn case_unicode_and_large_text(store: &Store) {
    let text = tricky_text();
    assert!(text.len() >= 60 * 1024);
    assert!(!text.contains('\0'));

    seed_workspace(store, "ws").await;
    let conv = seed_conversation(store, "ws", "conv_u").await;
    let client_id = "clé-🔑-客户端";
    let state = serde_json::json!({ "node": "collect", "vars": { "note": text } }).to_string();
    let customer = Message {
        author: Some("Zoë «ä» 顧客".into()),
        payload: Some(MessagePayload {
            error: Some(text.clone()),
            node: Some("🎉".into()),
            turn_end: Some(2),
            ..MessagePayload::default()
        }),
        ..message("conv_u", 1, "customer", &text, Some(client_id))
    };
    let short = message("conv_u", 2, "bot", "🙂", None);
    let written = Conversation {
        state: state.clone(),
        last_seq: 2,
        team: Some("équipe-支援".into()),
        assignee: Some("mem_ünï".into()),
        priority: Some("high".into()),
        queued_at: Some(T0 + 2),
        status: "queued".parse().expect("a known status"),
        ..conv
    };
    let mut tx = store.begin().await.expect("begin");
    tx.write_turn(&written, None, &[customer.clone(), short.clone()], &[], &[])
        .await
        .expect("write unicode turn");
    tx.update_contact_attributes("ct_conv_u", &state, T0 + 2)
        .await
        .expect("unicode attributes");
    tx.commit().await.expect("commit");

    let read = store.messages_after("conv_u", 0, 10).await.expect("messages");
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].text.len(), text.len(), "message text length");
    assert!(read[0].text.as_bytes() == text.as_bytes(), "message text is byte-exact");
    assert_eq!(read[0], customer);
    assert_eq!(read[1], short);
    let conv_read = store
        .conversation("conv_u")
        .await
        .expect("conversation")
        .expect("conv_u exists");
    assert!(conv_read.state.as_bytes() == state.as_bytes(), "state is byte-exact");
    assert_eq!(conv_read, written);
    assert_eq!(
        store.contact("ct_conv_u").await.expect("contact").map(|c| c.attributes),
        Some(state.clone())
    );

    let mut tx = store.begin().await.expect("begin");
    assert_eq!(
        tx.message_by_client_id("conv_u", client_id)
            .await
            .expect("by client id"),
        Some(customer.clone())
    );
    let locked = tx
        .lock_conversation("conv_u", Some(client_id))
        .await
        .expect("lock")
        .expect("conv_u exists");
    assert_eq!(locked.retry_of, Some(1), "a unicode client id is found again");
    assert!(tx
        .lock_conversation("conv_u", Some("clé-🔑-客户端 "))
        .await
        .expect("lock")
        .expect("conv_u exists")
        .retry_of
        .is_none());
    drop(tx);

    // Knowledge base, flows and the outbox carry the same text.
    let article = KbArticle {
        workspace_id: "ws".into(),
        id: "文章-1".into(),
        collection: "général".into(),
        title: "Ünïcödé 🧪".into(),
        url: Some("https://example.com/ü?q=日本".into()),
        markdown: text.clone(),
        updated_at: T0,
    };
    store.upsert_article(&article).await.expect("unicode article");
    assert_eq!(
        store.article("ws", "文章-1").await.expect("article"),
        Some(article.clone())
    );
    store
        .create_flow("flow_u", "ws", "Flux 🌊", &state, T0)
        .await
        .expect("unicode flow");
    store
        .publish_flow("ws", "flow_u", &state, Some(&text), Some("Zoë"), T0 + 1)
        .await
        .expect("publish unicode flow");
    let version = store
        .flow_version("flow_u", 1)
        .await
        .expect("flow version")
        .expect("version 1");
    assert!(version.document == state && version.note.as_deref() == Some(text.as_str()));
    assert_eq!(
        store
            .flow("ws", "flow_u")
            .await
            .expect("flow")
            .map(|f| (f.name, f.draft == state)),
        Some(("Flux 🌊".to_string(), true))
    );
    let outbox_id = store
        .queue_outbox("ws", "conv_u", "webhook", &state, T0)
        .await
        .expect("unicode outbox");
    store
        .reschedule_outbox(outbox_id, 1, T0 + 1, &text)
        .await
        .expect("unicode error");
    let item = store
        .outbox_item(outbox_id)
        .await
        .expect("outbox item")
        .expect("item exists");
    assert!(item.payload == state && item.last_error.as_deref() == Some(text.as_str()));

    // Many messages in one turn, each different (also: PostgreSQL writes them in one statement).
    let many: Vec<Message> = (3..=202)
        .map(|seq| message("conv_u", seq, "bot", &format!("{seq}: {}", &piece_of(&text, seq)), None))
        .collect();
    let mut tx = store.begin().await.expect("begin");
    tx.write_turn(
        &Conversation {
            last_seq: 202,
            ..written.clone()
        },
        Some(written.status),
        &many,
        &[],
        &[],
    )
    .await
    .expect("write 200 messages");
    tx.commit().await.expect("commit");
    assert_eq!(store.messages_after("conv_u", 2, 1000).await.expect("messages"), many);
}

/// A slice of `text` that starts and ends on character boundaries, chosen by `n`.
fn piece_of(text: &str, n: i64) -> String {
    text.chars().skip((n as usize * 37) % 500).take(40).collect()
}

/// Entry routing: new flows come last; an order puts the flows named first and keeps the rest
/// after them; the fallback is kept on the workspace; a flow of another workspace is refused.
async fn case_entry_routing(store: &Store) {
    seed_workspace(store, "ws").await;
    seed_workspace(store, "ws_other").await;
    for (i, id) in ["flow_a", "flow_b", "flow_c"].into_iter().enumerate() {
        store
            .create_flow(id, "ws", id, "{}", T0 + i64::try_from(i).expect("small"))
            .await
            .expect("create flow");
        store
            .publish_flow("ws", id, "{}", None, None, T0 + 10)
            .await
            .expect("publish");
        store.set_flow_live("ws", id, true, T0 + 11).await.expect("live");
    }
    store
        .create_flow("flow_x", "ws_other", "x", "{}", T0)
        .await
        .expect("create other flow");
    let live_ids = |rows: Vec<(String, i64)>| rows.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    let orders = |rows: Vec<FlowRow>| rows.into_iter().map(|f| f.entry_order).collect::<Vec<_>>();
    assert_eq!(
        live_ids(store.live_versions("ws").await.expect("live")),
        ["flow_a", "flow_b", "flow_c"]
    );
    assert_eq!(
        orders(store.flows("ws").await.expect("flows")),
        [0, 1, 2],
        "new flows come last"
    );

    let before = store.routing_generation();
    assert!(store
        .set_routing("ws", &["flow_c".to_string(), "flow_a".to_string()], Some("flow_b"))
        .await
        .expect("set routing"));
    assert!(
        store.routing_generation() > before,
        "the order and the fallback are counted"
    );
    assert_eq!(
        live_ids(store.live_versions("ws").await.expect("live")),
        ["flow_c", "flow_a", "flow_b"]
    );
    let ws = store.workspace("ws").await.expect("workspace").expect("exists");
    assert_eq!(ws.fallback_flow_id.as_deref(), Some("flow_b"));

    // The next flow comes after all of them.
    store
        .create_flow("flow_d", "ws", "d", "{}", T0 + 20)
        .await
        .expect("create flow d");
    let all = store.flows("ws").await.expect("flows");
    let d = all.iter().find(|f| f.id == "flow_d").expect("flow d");
    assert!(
        all.iter().all(|f| f.id == "flow_d" || f.entry_order < d.entry_order),
        "{all:?}"
    );

    // Another workspace's flow is refused, and nothing changes.
    assert!(!store
        .set_routing("ws", &["flow_x".to_string()], None)
        .await
        .expect("refused"));
    assert!(!store.set_routing("ws", &[], Some("flow_x")).await.expect("refused"));
    assert_eq!(
        live_ids(store.live_versions("ws").await.expect("live")),
        ["flow_c", "flow_a", "flow_b"]
    );
    let ws = store.workspace("ws").await.expect("workspace").expect("exists");
    assert_eq!(ws.fallback_flow_id.as_deref(), Some("flow_b"));

    // No fallback.
    assert!(store.set_routing("ws", &[], None).await.expect("clear"));
    let ws = store.workspace("ws").await.expect("workspace").expect("exists");
    assert_eq!(ws.fallback_flow_id, None);
}

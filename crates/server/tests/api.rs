//! The server over real HTTP and WebSocket on loopback, on SQLite and on PostgreSQL: every
//! scenario runs against both (PostgreSQL at BATON_TEST_POSTGRES_URL; required in CI).

mod common;

use baton_server::bootstrap::create_workspace;
use baton_server::webhook::verify;
use common::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    a_retried_start_starts_nothing,
    demo_flow_conversation_to_hand_over,
    retries_with_the_same_client_id_make_one_turn,
    webhook_reaches_a_real_receiver_signed,
    bad_input_gets_a_clear_4xx,
    workspaces_cannot_see_each_other,
    sessions_need_csrf_and_roles_count,
    publishing_versions_rollback_and_live_switch,
    websocket_follows_the_conversation,
    stalling_timer_fires_when_the_clock_moves,
    contact_attributes_are_kept_across_conversations,
    every_list_comes_in_pages_with_a_total,
);

/// Every list answers `{"items", "total", "next_cursor"}`; pages cover the list once; bad
/// `limit` and `cursor` are `422` naming them.
async fn every_list_comes_in_pages_with_a_total(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    for name in ["One", "Two", "Three"] {
        let (status, body) = s
            .api(
                Method::POST,
                "/api/v1/flows",
                Some(json!({"document": greeting_flow(name)})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, whole) = s.api(Method::GET, "/api/v1/flows", None).await;
    assert_eq!(
        (whole["total"].as_i64(), whole["next_cursor"].clone()),
        (Some(4), Value::Null),
        "{whole}"
    );
    let mut seen = Vec::new();
    let mut path = "/api/v1/flows?limit=3".to_string();
    loop {
        let (status, page) = s.api(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], 4);
        seen.extend(page["items"].as_array().unwrap().iter().map(|f| f["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/flows?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        Value::Array(seen),
        Value::Array(
            whole["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].clone())
                .collect()
        )
    );
    for path in [
        "/api/v1/flows",
        "/api/v1/teams",
        "/api/v1/members",
        "/api/v1/members/invites",
        "/api/v1/api-keys",
        "/api/v1/kb/articles",
        "/api/v1/event-subscriptions",
    ] {
        let (status, page) = s.api(Method::GET, &format!("{path}?limit=1"), None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert!(
            page["items"].as_array().unwrap().len() <= 1 && page["total"].is_i64(),
            "{path}: {page}"
        );
        let (status, body) = s.api(Method::GET, &format!("{path}?limit=0"), None).await;
        assert_eq!(
            (status, body["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("limit")),
            "{path}"
        );
        let (status, body) = s.api(Method::GET, &format!("{path}?cursor=nonsense"), None).await;
        assert_eq!(
            (status, body["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("cursor")),
            "{path}"
        );
    }
}

async fn demo_flow_conversation_to_hand_over(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let c = s.customer().await;
    assert_eq!(
        texts(&Value::Array(c.first.clone()))[0].split('!').next(),
        Some("Hi Ana")
    );
    assert_eq!(c.first[1]["buttons"][0]["id"], "name");
    let replies = c.press("m1", "name").await;
    assert_eq!(replies, vec!["What's your full name, as it appears on your account?"]);
    c.say("m2", "Ana López").await;
    let replies = c.say("m3", "not an email").await;
    assert!(replies[0].contains("email"), "{replies:?}");
    c.say("m4", "ana@example.com").await;
    c.say("m5", "3348917502").await;
    let replies = c.press("m6", "credit_card").await;
    assert!(
        replies
            .iter()
            .any(|r| r.contains("passing your refund request to our billing team")),
        "{replies:?}"
    );
    assert_eq!(c.status().await, "queued");
    // The bot is silent while a person is expected.
    assert!(c.say("m7", "hello?").await.is_empty());
    let all = c.messages(0).await;
    let seqs: Vec<i64> = all.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(
        all.iter().all(|m| m["role"] != "event"),
        "internal events are not shown to customers"
    );
    let pressed: Vec<&Value> = all.iter().filter(|m| m["role"] == "customer").collect();
    assert_eq!(pressed[0]["text"], "Full name", "a press reads as the button's label");
}

async fn retries_with_the_same_client_id_make_one_turn(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let c = Arc::new(s.customer().await);
    let first = c.press("press-1", "name").await;
    let (status, again) = c.send(json!({"client_id": "press-1", "button": "name"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["duplicate"], true);
    assert_eq!(texts(&again["messages"]), first);
    // Ten copies of one message at once: exactly one turn.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.send(json!({"client_id": "name-1", "text": "Ana López"})).await
        }));
    }
    let mut originals = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["duplicate"] == false {
            originals += 1;
        }
        assert_eq!(
            texts(&body["messages"]),
            vec!["Thanks! What's the email address you used for the order?"]
        );
    }
    assert_eq!(originals, 1);
    let all = c.messages(0).await;
    let named = all.iter().filter(|m| m["client_id"] == "name-1").count();
    assert_eq!(named, 1, "{all:#?}");
    assert_eq!(
        all.iter()
            .filter(|m| m["text"] == "Thanks! What's the email address you used for the order?")
            .count(),
        1
    );
}

fn webhook_flow(url: &str) -> Value {
    json!({
        "format": 1, "name": "Order lookup",
        "variables": [{"name": "order_status"}],
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "collect_input", "text": "Order number?", "variable": "order_id", "input": "regex", "pattern": "[0-9]{5}"},
            {"id": "lookup", "type": "webhook", "url": format!("{url}/orders/{{{{ order_id }}}}"), "method": "POST",
             "headers": {"x-shop": "demo"}, "body": {"order": "{{ order_id }}", "who": "{{ contact.name }}"},
             "response_mapping": {"order_status": "order.status"}, "retries": 2, "timeout_ms": 2000},
            {"id": "tell", "type": "message", "text": "Order {{ order_id }} is {{ order_status }}."},
            {"id": "sorry", "type": "message", "text": "The order system is down."},
            {"id": "bye", "type": "end"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask"},
            {"from": "ask", "port": "next", "to": "lookup"},
            {"from": "ask", "port": "invalid", "to": "sorry"},
            {"from": "lookup", "port": "success", "to": "tell"},
            {"from": "lookup", "port": "failure", "to": "sorry"},
            {"from": "tell", "port": "next", "to": "bye"},
            {"from": "sorry", "port": "next", "to": "bye"}
        ]
    })
}

async fn webhook_reaches_a_real_receiver_signed(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    // The first attempt fails with 503; the retry succeeds.
    let (url, seen) = receiver(|n| {
        if n == 1 {
            (503, "{}".into())
        } else {
            (200, r#"{"order": {"status": "shipped"}}"#.into())
        }
    })
    .await;
    let flow_id = s.publish_flow(webhook_flow(&url)).await;
    let (status, body) = s
        .start_conversation(json!({"widget_key": s.owner.widget_key, "flow_id": flow_id, "contact": {"name": "Ana"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let c = Customer::from_start(&s, &body);
    let replies = c.say("o1", "12345").await;
    assert!(replies.is_empty(), "the answer comes after the webhook: {replies:?}");
    c.wait_for("Order 12345 is shipped.").await;

    let (_, secret) = s.api(Method::GET, "/api/v1/workspace/signing-secret", None).await;
    let secret = secret["secret"].as_str().unwrap().to_string();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one retry after the 503");
    for (headers, body) in &seen {
        let h = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(h("request-line"), "POST /orders/12345 HTTP/1.1");
        assert_eq!(h("x-shop"), "demo");
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap(),
            json!({"order": "12345", "who": "Ana"})
        );
        let now = CLOCK_START / 1000;
        assert!(
            verify(
                &secret,
                (&h("webhook-id"), &h("webhook-timestamp"), &h("webhook-signature")),
                body,
                now,
                300
            ),
            "signature verifies"
        );
        assert!(!verify(
            &secret,
            (&h("webhook-id"), &h("webhook-timestamp"), &h("webhook-signature")),
            "tampered",
            now,
            300
        ));
    }
    assert_eq!(
        seen[0].0.iter().find(|(k, _)| k == "webhook-id"),
        seen[1].0.iter().find(|(k, _)| k == "webhook-id"),
        "a retry keeps its webhook-id"
    );
    let (status, log) = s
        .api(Method::GET, &format!("/api/v1/conversations/{}/deliveries", c.id), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log["total"], 2, "{log}");
    let codes: Vec<i64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status_code"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(codes, vec![503, 200]);
}

async fn bad_input_gets_a_clear_4xx(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let c = s.customer().await;
    let post = |body: String, content_type: &'static str| {
        let req = s
            .http
            .post(format!("{}/api/v1/conversations/{}/messages", s.base, c.id))
            .bearer_auth(&c.token)
            .header("content-type", content_type)
            .body(body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = post("{not json".into(), "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_body");
    let (status, body) = post(r#"{"text": 42}"#.into(), "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "text", "{body}");
    let (status, body) = post(r#"{"txt": "hi"}"#.into(), "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `txt`"),
        "{body}"
    );
    let (status, body) = post(json!({"text": "x".repeat(4001)}).to_string(), "application/json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "text");
    let (status, body) = post(json!({"text": "x".repeat(70_000)}).to_string(), "application/json").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "body_too_large");
    let (status, body) = post("hi".into(), "text/plain").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) = c.send(json!({"client_id": "", "text": "hi"})).await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("client_id"))
    );
    let (status, body) = c.send(json!({"text": "a", "button": "b"})).await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("button"))
    );
    // Nothing of the refused requests was written.
    assert_eq!(c.messages(0).await.len(), 2);
    // Wrong token and unknown widget key.
    let res = s
        .http
        .get(format!("{}/api/v1/conversations/{}/messages", s.base, c.id))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (status, body) = s.start_conversation(json!({"widget_key": "wk_nope"})).await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::NOT_FOUND, json!("widget_key"))
    );
    let (status, body) = s
        .start_conversation(json!({"widget_key": s.owner.widget_key, "contact": {"attributes": {"bad name": 1}}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A flow document of another format names the field.
    let (status, body) = s
        .api(
            Method::POST,
            "/api/v1/flows",
            Some(json!({"document": {"format": 2, "name": "x", "nodes": []}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "document.format", "{body}");
    let (status, body) = s.api(Method::GET, "/api/v1/nope", None).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
}

async fn workspaces_cannot_see_each_other(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let store = &s.running.state.core.store;
    let clock = &s.running.state.core.clock;
    let other = create_workspace(store, clock, "Other", "other@example.com", Some("a long password"))
        .await
        .unwrap();
    let (_, flows) = s.api(Method::GET, "/api/v1/flows", None).await;
    let flows = flows["items"].clone();
    let demo_flow = flows[0]["id"].as_str().unwrap().to_string();
    let c = s.customer().await;
    let (_, teams) = s.api(Method::GET, "/api/v1/teams", None).await;
    let teams = teams["items"].clone();
    let demo_team = teams[0]["id"].as_str().unwrap().to_string();
    let k = &other.api_key;
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/flows/{demo_flow}"), None),
        (
            Method::PUT,
            format!("/api/v1/flows/{demo_flow}/draft"),
            Some(json!({"document": {"format": 1, "name": "x", "nodes": []}})),
        ),
        (
            Method::POST,
            format!("/api/v1/flows/{demo_flow}/publish"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/flows/{demo_flow}/versions"), None),
        (Method::GET, format!("/api/v1/flows/{demo_flow}/versions/1"), None),
        (
            Method::POST,
            format!("/api/v1/flows/{demo_flow}/rollback"),
            Some(json!({"version": 1})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flows/{demo_flow}/live"),
            Some(json!({"live": false})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flows/{demo_flow}/settings"),
            Some(json!({"require_tests": true})),
        ),
        (Method::GET, format!("/api/v1/flows/{demo_flow}/export"), None),
        (Method::GET, format!("/api/v1/conversations/{}/deliveries", c.id), None),
        (Method::GET, format!("/api/v1/flows/{demo_flow}/analytics"), None),
        (
            Method::POST,
            format!("/api/v1/flows/{demo_flow}/simulate"),
            Some(json!({"conversation": {"steps": []}})),
        ),
        (Method::POST, format!("/api/v1/flows/{demo_flow}/tests/run"), None),
        (Method::GET, format!("/api/v1/inbox/conversations/{}", c.id), None),
        (
            Method::PUT,
            format!("/api/v1/teams/{demo_team}"),
            Some(json!({"name": "Mine", "slug": "mine"})),
        ),
    ] {
        let (status, body) = s.api_as(k, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    let (_, mine) = s.api_as(k, Method::GET, "/api/v1/flows", None).await;
    let mine = mine["items"].clone();
    assert_eq!(mine, json!([]));
    let (_, theirs) = s
        .api_as(
            k,
            Method::GET,
            "/api/v1/inbox/conversations?status=bot,queued,assigned,resolved",
            None,
        )
        .await;
    assert_eq!(
        theirs,
        json!({"items": [], "total": 0, "next_cursor": null}),
        "the other workspace's inbox is empty"
    );
    // The other workspace's owner, signed in, cannot act on this workspace's conversation.
    let Session { cookie, csrf, .. } = sign_in_session(&s, "other@example.com", "a long password").await;
    for action in ["claim", "resolve", "note"] {
        let res = s
            .http
            .post(format!("{}/api/v1/inbox/conversations/{}/{action}", s.base, c.id))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let (_, members) = s.api_as(k, Method::GET, "/api/v1/members", None).await;
    let members = members["items"].clone();
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert_eq!(members[0]["email"], "other@example.com");
    assert_eq!(members[0]["presence"], "offline", "presence is shown: {members}");
    // The other workspace's API key cannot be revoked from here.
    let (_, keys) = s.api(Method::GET, "/api/v1/api-keys", None).await;
    let keys = keys["items"].clone();
    let my_key = keys[0]["id"].as_str().unwrap().to_string();
    let (status, _) = s
        .api_as(k, Method::DELETE, &format!("/api/v1/api-keys/{my_key}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A conversation token opens only its own conversation.
    let c2 = s.customer().await;
    let res = s
        .http
        .get(format!("{}/api/v1/conversations/{}", s.base, c2.id))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn sessions_need_csrf_and_roles_count(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let login = |email: &'static str, password: String| {
        let http = s.http.clone();
        let url = format!("{}/api/v1/auth/login", s.base);
        async move {
            http.post(url)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let res = login("owner@example.com", "wrong password".into()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login("owner@example.com", s.owner.owner_password.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let with_cookie = |method: Method, path: &str, csrf: Option<&str>| {
        let mut req = s
            .http
            .request(method, format!("{}{path}", s.base))
            .header("cookie", &session);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req
    };
    let res = with_cookie(Method::GET, "/api/v1/me", None).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A new tab (the cookie, no token yet) reads the session's token.
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["csrf_token"], csrf.as_str(), "{me}");
    let (_, me) = s.api(Method::GET, "/api/v1/me", None).await;
    assert!(me["csrf_token"].is_null(), "an API key has none: {me}");
    let session_of = |cookie: Option<String>| {
        let mut req = s.http.get(format!("{}/api/v1/auth/session", s.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    let live = session_of(Some(session.clone())).await;
    assert_eq!(live, json!({"signed_in": true, "csrf_token": csrf}));
    assert_eq!(session_of(None).await, json!({"signed_in": false}));
    assert_eq!(
        session_of(Some("baton_session=nope".into())).await,
        json!({"signed_in": false})
    );
    let new_agent = json!({"email": "sam@example.com", "name": "Sam", "role": "agent", "password": "agent password"});
    let res = with_cookie(Method::POST, "/api/v1/members", None)
        .json(&new_agent)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a change without the CSRF token is refused"
    );
    let res = with_cookie(Method::POST, "/api/v1/members", Some(&csrf))
        .json(&new_agent)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = with_cookie(Method::POST, "/api/v1/members", Some(&csrf))
        .json(&new_agent)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT, "the email is taken");
    // An agent may read flows but not change them.
    let res = login("sam@example.com", "agent password".into()).await;
    let agent_session = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let agent_csrf = res.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = s
        .http
        .get(format!("{}/api/v1/flows", s.base))
        .header("cookie", &agent_session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .http
        .post(format!("{}/api/v1/flows", s.base))
        .header("cookie", &agent_session)
        .header("x-csrf-token", &agent_csrf)
        .json(&json!({"document": {"format": 1, "name": "x", "nodes": []}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Logging out ends the session; a revoked key stops working.
    let res = with_cookie(Method::POST, "/api/v1/auth/logout", Some(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = with_cookie(Method::GET, "/api/v1/me", None).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, key) = s
        .api(Method::POST, "/api/v1/api-keys", Some(json!({"name": "ci"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = key["secret"].as_str().unwrap().to_string();
    assert_eq!(
        s.api_as(&secret, Method::GET, "/api/v1/flows", None).await.0,
        StatusCode::OK
    );
    let id = key["key"]["id"].as_str().unwrap();
    assert_eq!(
        s.api(Method::DELETE, &format!("/api/v1/api-keys/{id}"), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.api_as(&secret, Method::GET, "/api/v1/flows", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

fn greeting_flow(greeting: &str) -> Value {
    json!({
        "format": 1, "name": "Greeter",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "ask", "type": "collect_input", "text": "Your name?", "variable": "name", "input": "name"},
            {"id": "hello", "type": "message", "text": format!("{greeting}, {{{{ name }}}}!")},
            {"id": "bye", "type": "end"}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "ask"},
            {"from": "ask", "port": "next", "to": "hello"},
            {"from": "ask", "port": "invalid", "to": "bye"},
            {"from": "hello", "port": "next", "to": "bye"}
        ],
        "tests": [{"name": "greets", "steps": [{"say": "Ana"}, {"expect_reply": "Your name?"}, {"expect_reply": format!("{greeting}, Ana!")}]}]
    })
}

async fn publishing_versions_rollback_and_live_switch(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    // A broken draft is kept, with its findings; publishing it is refused.
    let mut broken = greeting_flow("Hello");
    broken["edges"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["from"] != "ask" || e["port"] != "next");
    let (status, flow) = s
        .api(Method::POST, "/api/v1/flows", Some(json!({"document": broken})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = flow["id"].as_str().unwrap().to_string();
    assert!(flow["errors"].as_u64().unwrap() >= 1, "{flow}");
    assert!(flow["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "dead_end" && d["node"] == "ask"));
    let (status, body) = s
        .api(Method::POST, &format!("/api/v1/flows/{id}/publish"), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "flow_invalid");
    assert!(body["error"]["details"][0]["code"].is_string());
    let (status, _) = s
        .api(
            Method::PUT,
            &format!("/api/v1/flows/{id}/live"),
            Some(json!({"live": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing published yet");
    // Fixed: version 1, live.
    let (status, _) = s
        .api(
            Method::PUT,
            &format!("/api/v1/flows/{id}/draft"),
            Some(json!({"document": greeting_flow("Hello")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v1) = s
        .api(
            Method::POST,
            &format!("/api/v1/flows/{id}/publish"),
            Some(json!({"note": "first"})),
        )
        .await;
    assert_eq!((status, v1["version"].clone()), (StatusCode::CREATED, json!(1)));
    s.api(
        Method::PUT,
        &format!("/api/v1/flows/{id}/live"),
        Some(json!({"live": true})),
    )
    .await;
    let start_body = json!({"widget_key": s.owner.widget_key, "flow_id": id});
    let start = |s: &TestServer| {
        let body = start_body.clone();
        let http = s.http.clone();
        let url = format!("{}/api/v1/widget/conversations", s.base);
        async move {
            let res = http.post(url).json(&body).send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (_, body) = start(&s).await;
    let on_v1 = Customer::from_start(&s, &body);
    assert_eq!(body["conversation"]["flow_version"], 1);
    // Version 2 changes the greeting; the running conversation stays on version 1.
    s.api(
        Method::PUT,
        &format!("/api/v1/flows/{id}/draft"),
        Some(json!({"document": greeting_flow("Welcome")})),
    )
    .await;
    let (_, v2) = s
        .api(Method::POST, &format!("/api/v1/flows/{id}/publish"), Some(json!({})))
        .await;
    assert_eq!(v2["version"], 2);
    assert_eq!(on_v1.say("n1", "Ana").await, vec!["Hello, Ana!"]);
    let (_, body) = start(&s).await;
    let on_v2 = Customer::from_start(&s, &body);
    assert_eq!(on_v2.say("n1", "Ana").await, vec!["Welcome, Ana!"]);
    // Rollback publishes version 1's document as version 3 and makes it the draft.
    let (status, v3) = s
        .api(
            Method::POST,
            &format!("/api/v1/flows/{id}/rollback"),
            Some(json!({"version": 1})),
        )
        .await;
    assert_eq!((status, v3["version"].clone()), (StatusCode::CREATED, json!(3)));
    let (_, versions) = s.api(Method::GET, &format!("/api/v1/flows/{id}/versions"), None).await;
    let versions = versions["items"].clone();
    let numbers: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![3, 2, 1]);
    assert_eq!(versions[0]["note"], "rollback to version 1");
    let (_, body) = start(&s).await;
    assert_eq!(
        Customer::from_start(&s, &body).say("n1", "Ana").await,
        vec!["Hello, Ana!"]
    );
    let (status, exported) = s
        .api(Method::GET, &format!("/api/v1/flows/{id}/export?version=2"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(exported["nodes"][2]["text"], "Welcome, {{ name }}!");
    // Required tests: a failing test blocks publishing.
    s.api(
        Method::PUT,
        &format!("/api/v1/flows/{id}/settings"),
        Some(json!({"require_tests": true})),
    )
    .await;
    let mut failing = greeting_flow("Hi");
    failing["tests"][0]["steps"][2]["expect_reply"] = json!("Hello, Ana!");
    s.api(
        Method::PUT,
        &format!("/api/v1/flows/{id}/draft"),
        Some(json!({"document": failing})),
    )
    .await;
    let (status, body) = s
        .api(Method::POST, &format!("/api/v1/flows/{id}/publish"), Some(json!({})))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("tests_failed")),
        "{body}"
    );
    s.api(
        Method::PUT,
        &format!("/api/v1/flows/{id}/draft"),
        Some(json!({"document": greeting_flow("Hi")})),
    )
    .await;
    let (status, body) = s
        .api(Method::POST, &format!("/api/v1/flows/{id}/publish"), Some(json!({})))
        .await;
    assert_eq!((status, body["tests_passed"].clone()), (StatusCode::CREATED, json!(1)));
    // Switched off: no new conversations on it.
    s.api(
        Method::PUT,
        &format!("/api/v1/flows/{id}/live"),
        Some(json!({"live": false})),
    )
    .await;
    let (status, _) = start(&s).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_frame(ws: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame in time")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            let v = serde_json::from_str::<Value>(&t).unwrap();
            // Status frames (on open and when the conversation changes hands) are tested in
            // widget_frames.rs.
            if v["type"] != "status" {
                return v;
            }
        }
    }
}

async fn websocket_follows_the_conversation(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let c = s.customer().await;
    let ws_url = format!(
        "{}/api/v1/conversations/{}/ws?token={}",
        s.base.replace("http", "ws"),
        c.id,
        c.token
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("websocket opens");
    // The backlog first.
    assert_eq!(next_frame(&mut ws).await["message"]["seq"], 1);
    assert_eq!(next_frame(&mut ws).await["message"]["seq"], 2);
    // A message sent over HTTP shows up on the socket: the customer's own, then the reply.
    c.press("w1", "name").await;
    let own = next_frame(&mut ws).await;
    assert_eq!(
        (own["message"]["role"].clone(), own["message"]["client_id"].clone()),
        (json!("customer"), json!("w1"))
    );
    assert_eq!(
        next_frame(&mut ws).await["message"]["text"],
        "What's your full name, as it appears on your account?"
    );
    // And messages can be sent over the socket.
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "message", "client_id": "w2", "text": "Ana López"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let f = next_frame(&mut ws).await;
        kinds.push(f["type"].as_str().unwrap().to_string());
    }
    assert!(kinds.contains(&"ack".to_string()), "{kinds:?}");
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        r#"{"type": "message", "text": 5}"#.into(),
    ))
    .await
    .unwrap();
    let err = next_frame(&mut ws).await;
    assert_eq!(
        (err["type"].clone(), err["field"].clone()),
        (json!("error"), json!("text")),
        "{err}"
    );
    // A binary frame and a 70 KiB frame get error frames; the socket stays open.
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(next_frame(&mut ws).await["code"], "invalid_body");
    let long = json!({"type": "message", "client_id": "w3", "text": "x".repeat(70 * 1024)}).to_string();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(long.into()))
        .await
        .unwrap();
    assert_eq!(next_frame(&mut ws).await["code"], "frame_too_large");
    // Over 256 KiB the socket closes with 1009 (message too big).
    let huge = "x".repeat(300 * 1024);
    let _ = ws
        .send(tokio_tungstenite::tungstenite::Message::Text(huge.into()))
        .await;
    let closed = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(
        closed.map(|f| u16::from(f.code)),
        Some(1009),
        "closed as message too big"
    );
    let bad = tokio_tungstenite::connect_async(format!(
        "{}/api/v1/conversations/{}/ws?token=nope",
        s.base.replace("http", "ws"),
        c.id
    ))
    .await;
    assert!(bad.is_err(), "a wrong token gets no socket");
    // The right token was checked before (and is remembered): a wrong one is still refused.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/conversations/{}/messages", s.base, c.id))
        .bearer_auth("nope")
        .json(&json!({"client_id": "w3", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn stalling_timer_fires_when_the_clock_moves(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let flow = json!({
        "format": 1, "name": "Queue",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "human", "type": "handover", "stalling_seconds": 60, "max_wait_seconds": 600, "stalling_message": "Still looking for someone."},
            {"id": "late", "type": "end", "message": "Nobody came; we'll email you.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "human"},
            {"from": "human", "port": "timeout", "to": "late"}
        ]
    });
    let flow_id = s.publish_flow(flow).await;
    let (_, body) = s
        .start_conversation(json!({"widget_key": s.owner.widget_key, "flow_id": flow_id}))
        .await;
    let c = Customer::from_start(&s, &body);
    assert_eq!(c.status().await, "queued");
    s.advance_clock(59_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!texts(&Value::Array(c.messages(0).await))
        .iter()
        .any(|t| t.contains("Still looking")));
    s.advance_clock(1_000).await;
    c.wait_for("Still looking for someone.").await;
    s.advance_clock(540_000).await;
    c.wait_for("Nobody came").await;
    // `resolve: false`: ended, for someone to follow up, not resolved.
    assert_eq!(c.status().await, "follow_up");
}

/// A start retried with the same `client_id` finds the same conversation and token; another
/// `client_id` starts another.
async fn a_retried_start_starts_nothing(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let start = |client_id: &str| {
        s.http
            .post(format!("{}/api/v1/widget/conversations", s.base))
            .json(&json!({"widget_key": s.owner.widget_key, "client_id": format!("{client_id}-5f0c2a9e7b1d4c36")}))
            .send()
    };
    let first = start("start-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = start("start-1").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["conversation"]["id"], first["conversation"]["id"]);
    assert_eq!(again["token"], first["token"]);
    assert_eq!(again["messages"], first["messages"], "the first answer again");
    let other: Value = start("start-2").await.unwrap().json().await.unwrap();
    assert_ne!(other["conversation"]["id"], first["conversation"]["id"]);
    // The token works.
    let res = s
        .http
        .get(format!(
            "{}/api/v1/conversations/{}",
            s.base,
            first["conversation"]["id"].as_str().unwrap()
        ))
        .bearer_auth(first["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Five at once with one id: one conversation, every answer names it.
    let racing = futures_util::future::join_all((0..5).map(|_| start("start-3"))).await;
    let mut ids = std::collections::BTreeSet::new();
    for res in racing {
        let res = res.unwrap();
        assert!(matches!(res.status().as_u16(), 200 | 201), "{}", res.status());
        let body: Value = res.json().await.unwrap();
        ids.insert(body["conversation"]["id"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let short = s
        .http
        .post(format!("{}/api/v1/widget/conversations", s.base))
        .json(&json!({"widget_key": s.owner.widget_key, "client_id": "start-42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        short.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a guessable id is refused"
    );
}

async fn contact_attributes_are_kept_across_conversations(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let flow = json!({
        "format": 1, "name": "Remember",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "known", "type": "branch", "branches": [{"id": "yes", "conditions": [{"variable": "contact.email", "op": "is_set"}]}]},
            {"id": "ask", "type": "collect_input", "text": "Email?", "variable": "contact.email", "input": "email"},
            {"id": "hi", "type": "end", "message": "Welcome back, {{ contact.email }}."}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "known"},
            {"from": "known", "port": "yes", "to": "hi"},
            {"from": "known", "port": "else", "to": "ask"},
            {"from": "ask", "port": "next", "to": "hi"},
            {"from": "ask", "port": "invalid", "to": "hi"}
        ]
    });
    let flow_id = s.publish_flow(flow).await;
    let start = json!({"widget_key": s.owner.widget_key, "flow_id": flow_id, "contact": {"external_id": "u-42"}});
    let (_, body) = s.start_conversation(start.clone()).await;
    let first = Customer::from_start(&s, &body);
    assert_eq!(texts(&body["messages"]), vec!["Email?"]);
    assert_eq!(
        first.say("e1", "ana@example.com").await,
        vec!["Welcome back, ana@example.com."]
    );
    let (_, body) = s.start_conversation(start).await;
    assert_eq!(
        texts(&body["messages"]),
        vec!["Welcome back, ana@example.com."],
        "the contact kept its email"
    );
}

#[tokio::test]
async fn rate_limits_refuse_floods_with_429() {
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| c.start_limit = (2, 1)).await else {
        return;
    };
    let body = json!({"widget_key": s.owner.widget_key});
    assert_eq!(s.start_conversation(body.clone()).await.0, StatusCode::CREATED);
    assert_eq!(s.start_conversation(body.clone()).await.0, StatusCode::CREATED);
    let (status, err) = s.start_conversation(body).await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("rate_limited"))
    );
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let health: Value = s
        .http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    s.customer().await;
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("# TYPE baton_turns_total counter"), "{metrics}");
    let turns: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("baton_turns_total "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(turns >= 1);
    let served = s
        .http
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stored =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json")).unwrap_or_default();
    assert!(
        served == stored,
        "docs/openapi.json is out of date: run `cargo run -p baton -- openapi > docs/openapi.json`"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();
    for path in [
        "/api/v1/widget/conversations",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/flows/{id}/publish",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    openapi_is_as_strict_as_the_server(&doc);
    let docs_page = s
        .http
        .get(format!("{}/docs", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs_page.contains("/api/openapi.json"));
}

#[tokio::test]
async fn builder_test_conversation_and_scripted_tests_run_on_the_draft() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let (_, flows) = s.api(Method::GET, "/api/v1/flows", None).await;
    let flows = flows["items"].clone();
    let id = flows[0]["id"].as_str().unwrap().to_string();
    let conversation = json!({"steps": [{"press": "name"}, {"say": "Ana López"}, {"take_over": "Sam"}]});
    let (status, sim) = s
        .api(
            Method::POST,
            &format!("/api/v1/flows/{id}/simulate"),
            Some(json!({"conversation": conversation})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sim}");
    let lines: Vec<&str> = sim["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"What's your full name, as it appears on your account?"),
        "{lines:?}"
    );
    assert_eq!(sim["state"]["vars"]["customer_name"], "Ana López");
    assert_eq!(sim["routes"][0]["from"], "start");
    assert!(sim["failure"].is_null());
    let (status, body) = s
        .api(
            Method::POST,
            &format!("/api/v1/flows/{id}/simulate"),
            Some(json!({"conversation": {"steps": [{"sya": "x"}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["field"]
            .as_str()
            .unwrap()
            .starts_with("conversation.steps"),
        "{body}"
    );
    let (status, run) = s
        .api(Method::POST, &format!("/api/v1/flows/{id}/tests/run"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert!(run["passed"].as_u64().unwrap() >= 5, "{run}");
    assert_eq!(run["failed"], 0);
    assert_eq!(run["coverage"]["nodes_covered"], run["coverage"]["nodes_total"]);
}

#[tokio::test]
async fn the_test_conversation_plays_in_the_workspace_settings() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let (_, flows) = s.api(Method::GET, "/api/v1/flows", None).await;
    let flows = flows["items"].clone();
    let id = flows[0]["id"].as_str().unwrap().to_string();
    let (_, ws) = s.api(Method::GET, "/api/v1/workspace", None).await;
    let mut settings = ws["settings"].clone();
    settings["escapes"]["human"] = json!(["operator please"]);
    settings["reply_targets"] = json!({"first_reply_seconds": 60, "when_missed": "requeue"});
    let (status, body) = s.api(Method::PUT, "/api/v1/workspace/settings", Some(settings)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The workspace's own escape phrase hands over at the name question; its reply target
    // takes the conversation back from an agent who does not answer.
    let conversation = json!({"steps": [
        {"press": "name"}, {"say": "operator please"}, {"expect_status": "queued"},
        {"take_over": "Sam"}, {"advance": "59s"}, {"expect_status": "assigned"},
        {"advance": "1s"}, {"expect_status": "queued"}
    ]});
    let (status, sim) = s
        .api(
            Method::POST,
            &format!("/api/v1/flows/{id}/simulate"),
            Some(json!({"conversation": conversation})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sim}");
    assert!(sim["failure"].is_null(), "{sim}");
    // Saved tests keep the defaults: they pass whatever the workspace's settings.
    let (_, run) = s
        .api(Method::POST, &format!("/api/v1/flows/{id}/tests/run"), None)
        .await;
    assert_eq!(run["failed"], 0, "{run}");
}

#[tokio::test]
async fn let_ai_answer_answers_from_the_knowledge_base_and_hands_over() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let articles = json!({"articles": [
        {"id": "shipping", "collection": "help", "title": "Shipping costs", "url": "https://help.example/shipping",
         "markdown": "# Shipping costs\n\nStandard shipping costs $8 and takes 3 to 5 business days.\n\nExpress shipping costs $20 and arrives the next business day."},
        {"id": "returns", "collection": "help", "title": "Returns",
         "markdown": "# Returns\n\nYou can return any item within 30 days of delivery for a full refund."}
    ]});
    let (status, body) = s.api(Method::POST, "/api/v1/kb/import", Some(articles)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s
        .api(
            Method::PUT,
            "/api/v1/kb/articles/bad",
            Some(json!({"collection": "", "title": "x", "markdown": "y"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("collection"))
    );
    let flow = json!({
        "format": 1, "name": "FAQ",
        "nodes": [
            {"id": "start", "type": "trigger"},
            {"id": "faq", "type": "ai_answer", "intro": "Ask me anything about shipping or returns.", "answer_last_message": false},
            {"id": "human", "type": "handover", "team": "billing"},
            {"id": "bye", "type": "end", "message": "Glad I could help!"},
            {"id": "unknown", "type": "end", "message": "I don't know that one.", "resolve": false}
        ],
        "edges": [
            {"from": "start", "port": "next", "to": "faq"},
            {"from": "faq", "port": "resolved", "to": "bye"},
            {"from": "faq", "port": "unanswered", "to": "unknown"},
            {"from": "faq", "port": "human", "to": "human"}
        ]
    });
    let flow_id = s.publish_flow(flow).await;
    let (_, body) = s
        .start_conversation(json!({"widget_key": s.owner.widget_key, "flow_id": flow_id}))
        .await;
    let c = Customer::from_start(&s, &body);
    c.say("q1", "How much does express shipping cost?").await;
    let all = c.wait_for("$20").await;
    let answer = all
        .iter()
        .find(|m| m["text"].as_str().unwrap_or("").contains("$20"))
        .unwrap();
    assert_eq!(
        answer["links"][0]["url"], "https://help.example/shipping",
        "the source comes with the answer: {answer}"
    );
    c.say("q2", "I want to talk to a person").await;
    c.wait_for("connecting you").await;
    assert_eq!(c.status().await, "queued");
    // A question the knowledge base cannot answer is refused, not invented.
    let (_, body) = s
        .start_conversation(json!({"widget_key": s.owner.widget_key, "flow_id": flow_id}))
        .await;
    let c = Customer::from_start(&s, &body);
    c.say("q1", "What is the capital of Australia?").await;
    c.wait_for("I don't know that one.").await;
}

/// Properties of the OpenAPI document that keep it as strict as the server: an id in the path
/// can name nothing (404); a customer's token never meets a role (no 403); no request schema
/// nests a closed object in `allOf` (nothing would validate); enums list what the types define.
fn openapi_is_as_strict_as_the_server(doc: &Value) {
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses = op["responses"].as_object().cloned().unwrap_or_default();
            if path.contains('{') && !statuses.contains_key("404") {
                problems.push(format!("{method} {path}: no 404"));
            }
            let schemes: Vec<String> = op["security"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .flat_map(|r| r.as_object().unwrap().keys().cloned())
                        .collect()
                })
                .unwrap_or_default();
            if !schemes.is_empty() && schemes.iter().all(|s| s == "conversation_token") && statuses.contains_key("403")
            {
                problems.push(format!("{method} {path}: a customer is never 403"));
            }
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        for member in schema["allOf"].as_array().into_iter().flatten() {
            let target = member["$ref"]
                .as_str()
                .and_then(|r| r.rsplit('/').next())
                .and_then(|n| schemas.get(n))
                .unwrap_or(member);
            if target["additionalProperties"] == json!(false) {
                problems.push(format!("{name}: allOf with a closed object"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        schemas["ConversationStatus"]["enum"],
        json!(baton_store::ConversationStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>())
    );
    assert_eq!(
        schemas["ConversationView"]["properties"]["status"]["$ref"],
        "#/components/schemas/ConversationStatus"
    );
    assert_eq!(
        schemas["MessageRole"]["enum"].as_array().map(Vec::len),
        Some(baton_store::Role::ALL.len())
    );
    assert_eq!(schemas["AiSettingsUpdate"]["properties"]["timeout_ms"]["minimum"], 1000);
}

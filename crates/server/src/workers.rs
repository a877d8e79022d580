//! Background work: carrying out outbox effects (webhook calls, AI requests) and firing due
//! timers. Both feed their results back through the engine as turns; both resume after a
//! restart from what the store holds.

use crate::engine::{Core, Engine, TurnInput};
use crate::metrics::METRICS;
use crate::webhook::{Signing, WebhookClient};
use baton_flow::runtime::{AiOutcome, AiQuery, AiRequest, Event, WebhookCall};
use baton_store::{DeliveryAttempt, OutboxItem};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Effects carried out at once.
const OUTBOX_CONCURRENCY: usize = 64;
/// How often the store is polled when nothing wakes the workers.
const POLL: Duration = Duration::from_millis(500);

pub fn start(core: Arc<Core>, engine: Engine, webhooks: Arc<WebhookClient>) {
    tokio::spawn(outbox_loop(core.clone(), engine.clone(), webhooks));
    tokio::spawn(timer_loop(core, engine));
}

async fn outbox_loop(core: Arc<Core>, engine: Engine, webhooks: Arc<WebhookClient>) {
    let in_flight: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(OUTBOX_CONCURRENCY));
    loop {
        let now = core.clock.now_ms();
        match core.store.due_outbox(now, OUTBOX_CONCURRENCY as i64).await {
            Ok(items) => {
                for item in items {
                    if !in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(item.id) {
                        continue;
                    }
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        return;
                    };
                    let (core, engine, webhooks, in_flight) =
                        (core.clone(), engine.clone(), webhooks.clone(), in_flight.clone());
                    tokio::spawn(async move {
                        let id = item.id;
                        // Several instances: only the one holding the item's lock carries it
                        // out, and only while it is still pending (another may just have).
                        if let Ok(true) = core.store.try_lock_outbox(id).await {
                            let pending =
                                matches!(core.store.outbox_item(id).await, Ok(Some(i)) if i.done_at.is_none());
                            if pending {
                                carry_out(&core, &engine, &webhooks, item).await;
                            }
                            if let Err(e) = core.store.unlock_outbox(id).await {
                                tracing::warn!(id, error = %e, "releasing an outbox lock failed");
                            }
                        }
                        in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                        drop(permit);
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the outbox failed"),
        }
        tokio::select! {
            _ = core.outbox_wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Carries out one effect and feeds its result back. When the result cannot be stored, the
/// item stays pending and is tried again later (a webhook may then be called twice: receivers
/// deduplicate by the `webhook-id` header).
async fn carry_out(core: &Core, engine: &Engine, webhooks: &WebhookClient, item: OutboxItem) {
    if item.kind == crate::engine::SUMMARY_KIND {
        let input = write_summary(core, &item).await;
        submit_result(core, engine, &item, input).await;
        return;
    }
    let mut attempts = Vec::new();
    let event = match item.kind.as_str() {
        "webhook" => match serde_json::from_str::<WebhookCall>(&item.payload) {
            Ok(call) => {
                let (event, made) = call_webhook(core, webhooks, &item, &call).await;
                attempts = made;
                Some(event)
            }
            Err(e) => {
                tracing::error!(id = item.id, error = %e, "unreadable webhook effect");
                None
            }
        },
        "ai" => match serde_json::from_str::<AiRequest>(&item.payload) {
            Ok(request) => Some(ask_ai(core, &item, &request).await),
            Err(e) => {
                tracing::error!(id = item.id, error = %e, "unreadable AI effect");
                None
            }
        },
        crate::events::OUTBOX_KIND => {
            // Outbound events are delivered and logged here; they never go through a turn.
            deliver_event(core, webhooks, &item).await;
            return;
        }
        other => {
            tracing::error!(id = item.id, kind = other, "unknown outbox kind");
            None
        }
    };
    let Some(event) = event else {
        let _ = core
            .store
            .reschedule_outbox(item.id, item.attempts + 1, i64::MAX / 2, "unreadable effect")
            .await;
        return;
    };
    let input = TurnInput::EffectResult {
        conversation_id: item.conversation_id.clone(),
        outbox_id: item.id,
        event,
        attempts,
    };
    submit_result(core, engine, &item, input).await;
}

/// Feeds an effect's result back as a turn; when it cannot be stored, the item is tried again
/// later.
async fn submit_result(core: &Core, engine: &Engine, item: &OutboxItem, input: TurnInput) {
    if let Err(e) = engine.submit(input).await {
        tracing::warn!(id = item.id, error = %e, "storing an effect result failed; will retry");
        let backoff = 1000 * (1i64 << item.attempts.clamp(0, 6));
        let _ = core
            .store
            .reschedule_outbox(
                item.id,
                item.attempts + 1,
                core.clock.now_ms() + backoff,
                &e.to_string(),
            )
            .await;
    }
}

/// The workspace's webhook signing secret (empty when the workspace cannot be read).
async fn signing_secret(core: &Core, workspace_id: &str) -> String {
    core.settings
        .webhook_secret(workspace_id)
        .await
        .map(|secret| secret.to_string())
        .unwrap_or_default()
}

/// Calls the webhook; returns the result for the flow and the attempts made, which are logged
/// in the turn that takes the result.
async fn call_webhook(
    core: &Core,
    webhooks: &WebhookClient,
    item: &OutboxItem,
    call: &WebhookCall,
) -> (Event, Vec<DeliveryAttempt>) {
    let signing = Signing {
        secret: signing_secret(core, &item.workspace_id).await,
        message_id: format!("msg_{}_{}", item.conversation_id, item.id),
        timestamp: core.clock.now_ms() / 1000,
    };
    let (outcome, attempts) = webhooks.call(call, Some(&signing)).await;
    METRICS
        .webhook_attempts
        .fetch_add(attempts.len() as u64, Ordering::Relaxed);
    let succeeded =
        matches!(&outcome, baton_flow::runtime::WebhookOutcome::Response { status, .. } if (200..300).contains(status));
    if !succeeded {
        METRICS.webhook_failures.fetch_add(1, Ordering::Relaxed);
    }
    let now = core.clock.now_ms();
    let attempts = attempts
        .into_iter()
        .map(|a| DeliveryAttempt {
            node: call.node.clone(),
            url: call.url.clone(),
            attempt: i64::from(a.attempt),
            status_code: a.status.map(i64::from),
            error: a.error,
            duration_ms: i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            at: now,
        })
        .collect();
    let event = Event::WebhookResult {
        request: call.request,
        result: outcome,
    };
    (event, attempts)
}

/// The hand-over's summary by the embedded model, from the transcript and the variables the
/// hand-over carries.
async fn write_summary(core: &Core, item: &OutboxItem) -> TurnInput {
    let handover_id = serde_json::from_str::<serde_json::Value>(&item.payload)
        .ok()
        .and_then(|p| p["handover"].as_str().map(str::to_string))
        .unwrap_or_default();
    let variables = core
        .store
        .handovers_of(&item.conversation_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|h| h.id == handover_id)
        .and_then(|h| serde_json::from_str::<serde_json::Value>(&h.context).ok())
        .and_then(|c| c["variables"].as_array().cloned())
        .map(|vars| {
            // The context package lists them as {"name", "type", "value"}.
            vars.into_iter()
                .filter_map(|v| Some((v["name"].as_str()?.to_string(), v["value"].clone())))
                .collect()
        })
        .unwrap_or_default();
    let context = baton_ai::AiContext::default()
        .with_transcript(transcript(core, &item.conversation_id).await)
        .with_variables(variables);
    let request = AiRequest {
        request: 0,
        node: String::new(),
        query: baton_flow::runtime::AiQuery::Summarize,
    };
    let (provider, result) = core
        .ai
        .run(&item.workspace_id, &request, &context, &mut |_: &str| {})
        .await;
    let summary = match result {
        AiOutcome::Text { text } if !text.trim().is_empty() => Some(text),
        other => {
            tracing::warn!(conversation = %item.conversation_id, provider, ?other, "the hand-over summary was not written");
            None
        }
    };
    TurnInput::HandoverSummary {
        conversation_id: item.conversation_id.clone(),
        outbox_id: item.id,
        handover_id,
        summary,
    }
}

/// The conversation's transcript for the AI (customer, bot and agent lines).
async fn transcript(core: &Core, conversation_id: &str) -> Vec<baton_ai::Turn> {
    core.store
        .messages_after(conversation_id, 0, 500)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| {
            let role = match m.role {
                baton_store::Role::Customer => baton_ai::Role::Customer,
                baton_store::Role::Bot => baton_ai::Role::Bot,
                baton_store::Role::Agent => baton_ai::Role::Agent,
                _ => return None,
            };
            Some(baton_ai::Turn { role, text: m.text })
        })
        .collect()
}

/// The workspace's AI (the offline provider or its model endpoint) with the conversation's
/// transcript and the workspace's knowledge base.
async fn ask_ai(core: &Core, item: &OutboxItem, request: &AiRequest) -> Event {
    let mut context = baton_ai::AiContext::default();
    // A classification (AI Actions, Options in `ai_classify`) reads its text alone.
    if !matches!(request.query, AiQuery::Classify { .. }) {
        context = context.with_transcript(transcript(core, &item.conversation_id).await);
        match core.knowledge.get(&item.workspace_id).await {
            Ok(k) => context = context.with_knowledge(k),
            Err(e) => tracing::warn!(error = %e, "the knowledge base could not be read"),
        }
    }
    // The customer's WebSocket shows an answer as the model writes it.
    let hub = core.hub.clone();
    let mut so_far = String::new();
    let mut on_text = |delta: &str| {
        so_far.push_str(delta);
        hub.publish_draft(&item.conversation_id, so_far.clone());
    };
    let (provider, result) = core.ai.run(&item.workspace_id, request, &context, &mut on_text).await;
    if let AiOutcome::Failed { reason } = &result {
        tracing::warn!(conversation = %item.conversation_id, provider, reason, "an AI request failed");
    }
    Event::AiResult {
        request: request.request,
        result,
    }
}

async fn timer_loop(core: Arc<Core>, engine: Engine) {
    loop {
        // A test clock moved from here on wakes the loop, even while it reads the store (the
        // clock tells only those already waiting).
        let moved = match &core.clock {
            crate::clock::Clock::Manual(m) => Some(m.moved.notified()),
            crate::clock::Clock::System => None,
        };
        tokio::pin!(moved);
        if let Some(moved) = moved.as_mut().as_pin_mut() {
            moved.enable();
        }
        let now = core.clock.now_ms();
        match core.store.due_timers(now, 256).await {
            Ok(timers) => {
                for t in timers {
                    let input = TurnInput::Timer {
                        conversation_id: t.conversation_id.clone(),
                        timer_id: t.timer_id,
                    };
                    if let Err(e) = engine.submit(input).await {
                        tracing::warn!(conversation = %t.conversation_id, error = %e, "firing a timer failed; will retry");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "reading timers failed"),
        }
        // Awake again at the next timer due, and at least once a second (timers set by other
        // instances, a clock that jumped).
        let now = core.clock.now_ms();
        let wake_at = match core.store.next_timer_due().await {
            Ok(Some(due)) => due.min(now + 1000),
            _ => now + 1000,
        };
        let sleep = tokio::time::sleep(Duration::from_millis(u64::try_from(wake_at - now).unwrap_or(0).max(5)));
        tokio::pin!(sleep);
        loop {
            let clock_moved = async {
                match moved.as_mut().as_pin_mut() {
                    Some(moved) => moved.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // A timer set meanwhile matters only if it is due before the planned wake-up.
                due = core.timer_wake.wait() => if due < wake_at { break },
                _ = clock_moved => break,
                _ = &mut sleep => break,
            }
        }
    }
}

/// Event deliveries given up after this many attempts.
const EVENT_MAX_ATTEMPTS: i64 = 12;
/// Wait before the second event delivery attempt; doubles each time up to [`EVENT_MAX_BACKOFF_MS`].
const EVENT_FIRST_BACKOFF_MS: i64 = 5_000;
const EVENT_MAX_BACKOFF_MS: i64 = 3_600_000;

/// How long to wait after `attempts` failed deliveries: 5 s, 10 s, 20 s, … capped at 1 h.
fn event_backoff_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    EVENT_FIRST_BACKOFF_MS
        .saturating_mul(1i64 << doublings)
        .min(EVENT_MAX_BACKOFF_MS)
}

/// Delivers one outbound event (one attempt), logs it, then marks the outbox item done or
/// schedules the next attempt on the server's clock.
async fn deliver_event(core: &Core, webhooks: &WebhookClient, item: &OutboxItem) {
    let store = &core.store;
    let payload = match serde_json::from_str::<crate::events::EventPayload>(&item.payload) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::error!(id = item.id, error = %e, "unreadable event");
            let _ = store
                .give_up_outbox_item(item.id, item.attempts, core.clock.now_ms(), "unreadable event")
                .await;
            return;
        }
    };
    let subscription = match store.event_subscription(&payload.subscription_id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(id = item.id, error = %e, "reading an event subscription failed; will retry");
            let next = core.clock.now_ms() + event_backoff_ms(1);
            let _ = store
                .reschedule_outbox(item.id, item.attempts, next, &e.to_string())
                .await;
            return;
        }
    };
    if !subscription.is_some_and(|s| s.active && s.workspace_id == item.workspace_id) {
        let _ = store
            .give_up_outbox_item(
                item.id,
                item.attempts,
                core.clock.now_ms(),
                "the subscription was deleted or switched off",
            )
            .await;
        return;
    }
    let signing = Signing {
        secret: signing_secret(core, &item.workspace_id).await,
        message_id: payload.event_id.clone(),
        timestamp: core.clock.now_ms() / 1000,
    };
    let (status, attempts) = webhooks
        .post_signed(&payload.url, &payload.body(), &signing, Duration::from_secs(10), 0)
        .await;
    let attempt = item.attempts + 1;
    let mut last_error = None;
    for a in &attempts {
        let error = a.error.clone().or_else(|| {
            a.status
                .filter(|s| !(200..300).contains(s))
                .map(|s| format!("status {s}"))
        });
        let delivery = baton_store::NewEventDelivery {
            workspace_id: &item.workspace_id,
            subscription_id: &payload.subscription_id,
            outbox_id: item.id,
            event_id: &payload.event_id,
            event_type: &payload.event_type,
            url: &payload.url,
            attempt,
            status_code: a.status.map(i64::from),
            error: a.error.as_deref(),
            duration_ms: i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            now: core.clock.now_ms(),
        };
        if let Err(e) = store.insert_event_delivery(delivery).await {
            tracing::warn!(error = %e, "recording an event delivery failed");
        }
        last_error = error;
    }
    let now = core.clock.now_ms();
    let result = if status.is_some_and(|s| (200..300).contains(&s)) {
        store.complete_outbox_item(item.id, now).await
    } else {
        let error = last_error.unwrap_or_else(|| "no response".to_owned());
        if attempt >= EVENT_MAX_ATTEMPTS {
            tracing::warn!(id = item.id, event = %payload.event_id, error = %error, "giving up on an event");
            store.give_up_outbox_item(item.id, attempt, now, &error).await
        } else {
            store
                .reschedule_outbox(item.id, attempt, now + event_backoff_ms(attempt), &error)
                .await
        }
    };
    if let Err(e) = result {
        tracing::warn!(id = item.id, error = %e, "updating an event delivery failed; it may be sent again");
    }
}

#[cfg(test)]
mod tests {
    use super::event_backoff_ms;

    #[test]
    fn event_backoff_doubles_up_to_an_hour() {
        let waits: Vec<i64> = (1..=12).map(event_backoff_ms).collect();
        assert_eq!(
            waits,
            vec![
                5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000, 3_600_000,
                3_600_000
            ]
        );
        assert_eq!(event_backoff_ms(0), 5_000);
        assert_eq!(event_backoff_ms(i64::MAX), 3_600_000);
    }
}

-- Outbound event subscriptions and their delivery log. Events themselves wait in the outbox
-- (kind `event`, payload: subscription, URL, event id, type, time and data) until delivered.
CREATE TABLE event_subscriptions (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  url TEXT NOT NULL,
  event_types TEXT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at BIGINT NOT NULL
);
CREATE INDEX event_subscriptions_workspace ON event_subscriptions(workspace_id);
CREATE TABLE event_deliveries (
  id BIGSERIAL PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  outbox_id BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  url TEXT NOT NULL,
  attempt BIGINT NOT NULL,
  status_code BIGINT,
  error TEXT,
  duration_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX event_deliveries_subscription ON event_deliveries(subscription_id, id);
CREATE INDEX event_deliveries_event ON event_deliveries(subscription_id, event_id);

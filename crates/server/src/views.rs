//! How conversations and messages look in API answers, WebSocket frames and events: one shape
//! for the customer channel, the inbox and the turn engine.

use baton_store::{Conversation, Message, Role};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ConversationView {
    pub id: String,
    #[schema(value_type = crate::api_enums::ConversationStatusName)]
    pub status: String,
    pub flow_id: String,
    pub flow_version: i64,
    pub channel: String,
    /// The sequence number of the newest message.
    pub last_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Conversation> for ConversationView {
    fn from(c: &Conversation) -> Self {
        ConversationView {
            id: c.id.clone(),
            status: c.status.as_str().to_string(),
            flow_id: c.flow_id.clone(),
            flow_version: c.flow_version,
            channel: c.channel.clone(),
            last_seq: c.last_seq,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema, Clone)]
pub struct MessageView {
    /// Order within the conversation, from 1.
    pub seq: i64,
    #[schema(value_type = crate::api_enums::MessageRoleName)]
    pub role: String,
    /// Plain text: show it as text, never as HTML.
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<ButtonShape>)]
    pub buttons: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<LinkShape>)]
    pub links: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ImageShape>)]
    pub image: Option<Value>,
    /// Only a button press is accepted: disable typing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub buttons_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub created_at: i64,
}

impl MessageView {
    pub fn from_message(m: &Message) -> MessageView {
        let payload = m.payload.clone().unwrap_or_default();
        MessageView {
            seq: m.seq,
            role: m.role.as_str().to_string(),
            text: m.text.clone(),
            buttons: payload.buttons,
            links: payload.links,
            image: payload.image.filter(|v| !v.is_null()),
            buttons_only: payload.buttons_only,
            author: m.author.clone(),
            // Agents' idempotency ids are internal; a customer's own id helps the widget.
            client_id: m.client_id.clone().filter(|_| m.role == Role::Customer),
            created_at: m.created_at,
        }
    }
}

/// A button of a bot message: press it by sending its `id` as `button`.
#[derive(Serialize, ToSchema)]
#[schema(as = Button)]
pub struct ButtonShape {
    pub id: String,
    pub label: String,
}

/// A quick link under a bot message.
#[derive(Serialize, ToSchema)]
#[schema(as = Link)]
pub struct LinkShape {
    pub label: String,
    pub url: String,
}

/// An image of a bot message; `alt` describes it for screen readers.
#[derive(Serialize, ToSchema)]
#[schema(as = Image)]
pub struct ImageShape {
    pub url: String,
    pub alt: String,
}

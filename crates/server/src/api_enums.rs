//! Value sets the OpenAPI document shows as enums, each built from the type (or list) that
//! defines it, so the document cannot drift from what the server accepts and answers.
//! Request fields keep their `String` type (`value_type = …` points here): an unknown value is
//! answered `422 invalid_field` naming the field, as documented, not `400 invalid_body`.

use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

/// A string enum schema named `$name` with the values of `$values` (an iterator of `&str`).
macro_rules! names_schema {
    ($ty:ident, $name:literal, $description:literal, $values:expr) => {
        #[doc = $description]
        pub struct $ty;

        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some($values))
                    .description(Some($description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

names_schema!(
    ConversationStatusName,
    "ConversationStatus",
    "Who has the conversation: `bot`, `queued`, `assigned`, `resolved`, or `follow_up` (ended, not resolved).",
    baton_store::ConversationStatus::ALL.iter().map(|s| s.as_str())
);
names_schema!(
    MessageRoleName,
    "MessageRole",
    "Who wrote the message. Customers see `customer`, `bot`, `agent` and `system`; members also `note` and `event`.",
    baton_store::Role::ALL.iter().map(|r| r.as_str())
);
names_schema!(
    HandoverStatusName,
    "HandoverStatus",
    "Where a hand-over is (`queued`, `assigned`), or how it ended.",
    baton_store::HandoverStatus::ALL.iter().map(|s| s.as_str())
);
names_schema!(
    PriorityName,
    "Priority",
    "A hand-over's priority.",
    baton_flow::document::Priority::ALL.iter().map(|p| p.as_str())
);
names_schema!(
    MemberRoleName,
    "MemberRole",
    "A member's or API key's role.",
    crate::auth::Role::ALL.iter().map(|r| r.as_str())
);
names_schema!(
    PresenceName,
    "Presence",
    "A member's presence.",
    crate::routes::inbox::PRESENCE.iter().copied()
);
names_schema!(
    EventTypeName,
    "EventType",
    "An outbound event type, or `*` for every type.",
    crate::events::EVENT_TYPES.iter().copied().chain(["*"])
);

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    fn values(schema: RefOr<Schema>) -> Vec<String> {
        let json = serde_json::to_value(schema).unwrap_or_default();
        json["enum"]
            .as_array()
            .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_enums_list_what_the_types_define() {
        assert_eq!(
            values(ConversationStatusName::schema()),
            ["bot", "queued", "assigned", "resolved", "follow_up"]
        );
        assert_eq!(values(MemberRoleName::schema()), ["owner", "admin", "agent"]);
        assert_eq!(values(PriorityName::schema()), ["low", "normal", "high", "urgent"]);
        assert!(values(EventTypeName::schema()).contains(&"conversation.abandoned".to_string()));
        assert_eq!(values(MessageRoleName::schema()).len(), baton_store::Role::ALL.len());
    }
}

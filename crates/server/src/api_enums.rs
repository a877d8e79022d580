//! Value sets the OpenAPI document shows as enums, each built from the type (or list) that
//! defines it, and the shapes of values whose types live in other crates (business hours,
//! variable maps, origins), so the document cannot drift from what the server accepts and
//! answers (tests check each against its type).
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
    InboxSortName,
    "InboxSort",
    "An order of the inbox list.",
    baton_store::InboxSort::ALL.iter().map(|s| s.as_str())
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

names_schema!(
    WhenMissedShape,
    "WhenMissed",
    "What happens when an agent misses a reply target: back to the queue, to the next online agent of the team, or on from the Handover node's `timeout` port.",
    baton_flow::sla::WhenMissed::ALL.iter().map(|w| w.as_str())
);
names_schema!(
    StructuredOutputName,
    "StructuredOutput",
    "How an endpoint is asked for JSON: `json_schema`, `json_object`, or `prompt` (instructions only).",
    STRUCTURED_OUTPUT.iter().copied()
);

/// The values of `baton_ai::openai::StructuredOutput` (a test checks each reads as one).
pub const STRUCTURED_OUTPUT: [&str; 3] = ["json_schema", "json_object", "prompt"];

names_schema!(
    WeekdayName,
    "Weekday",
    "A day of the week.",
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday"
    ]
    .into_iter()
);

/// The schema of business hours (`baton_flow::hours::BusinessHours`; a test checks the fields).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BusinessHours)]
pub struct BusinessHoursShape {
    /// An IANA time zone, e.g. `Europe/Lisbon` (default `UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Open intervals per day; a day may have several, a day without one is closed.
    pub weekly: Vec<DayHoursShape>,
    /// Closed all day.
    #[serde(default)]
    pub holidays: Vec<HolidayShape>,
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DayHours)]
pub struct DayHoursShape {
    #[schema(value_type = WeekdayName)]
    pub day: String,
    /// `HH:MM`, 24-hour.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub open: String,
    /// `HH:MM`, after `open` (`24:00` for midnight).
    #[schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
    pub close: String,
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Holiday)]
pub struct HolidayShape {
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Variables sent as an object: at most 50 names of letters, digits and `_` (joined by dots),
/// and 16 KiB as JSON.
pub fn variables_schema() -> utoipa::openapi::schema::Object {
    names_map(
        "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$",
        "At most 50 names and 16 KiB as JSON.",
    )
}

/// Contact attributes: at most 50 names of letters, digits and `_` (no dots), 16 KiB as JSON.
pub fn attributes_schema() -> utoipa::openapi::schema::Object {
    names_map(
        "^[A-Za-z_][A-Za-z0-9_]*$",
        "At most 50 attributes and 16 KiB as JSON; flows read them as `contact.<name>`.",
    )
}

/// An object of at most 50 properties whose names match `pattern`.
fn names_map(pattern: &str, description: &str) -> utoipa::openapi::schema::Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(50))
        .property_names(Some(
            ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)),
        ))
        .description(Some(description))
        .build()
}

/// Allowed origins: scheme and host, no path, no trailing `/`, at most 200 characters each.
pub fn origins_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^https?://[^/]+$"))
                .max_length(Some(200)),
        )
        .max_items(Some(50))
        .build()
}

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
        for name in STRUCTURED_OUTPUT {
            let read: Result<baton_ai::openai::StructuredOutput, _> = serde_json::from_value(serde_json::json!(name));
            assert!(read.is_ok(), "{name}");
        }
        for name in values(WhenMissedShape::schema()) {
            let read: Result<baton_flow::sla::WhenMissed, _> = serde_json::from_value(serde_json::json!(name));
            assert!(read.is_ok(), "{name}");
        }
        for day in values(WeekdayName::schema()) {
            let read: Result<baton_flow::hours::Weekday, _> = serde_json::from_value(serde_json::json!(day));
            assert!(read.is_ok(), "{day}");
        }
    }

    /// The property names of a schema, sorted.
    fn properties_of(schema: RefOr<Schema>) -> Vec<String> {
        let json = serde_json::to_value(schema).unwrap_or_default();
        let mut names: Vec<String> = json["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    fn fields_of<T: serde::Serialize>(value: &T) -> Vec<String> {
        let mut names: Vec<String> = serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn the_documented_settings_shapes_have_the_settings_fields() {
        use crate::settings::{EscapesShape, HandoffShape, ReplyTargetsShape};
        use baton_flow::runtime::{EscapeSettings, HandoffSettings, ReplyTargets};
        use utoipa::PartialSchema;
        assert_eq!(
            properties_of(HandoffShape::schema()),
            fields_of(&HandoffSettings::default())
        );
        assert_eq!(
            properties_of(EscapesShape::schema()),
            fields_of(&EscapeSettings::default())
        );
        assert_eq!(
            properties_of(ReplyTargetsShape::schema()),
            fields_of(&ReplyTargets::default())
        );
    }

    #[test]
    fn store_rows_shown_as_they_are_documented() {
        let key = baton_store::ApiKey {
            id: "key_1".into(),
            workspace_id: "ws".into(),
            name: "ci".into(),
            key_hash: "h".into(),
            prefix: "bk_1".into(),
            role: "admin".into(),
            created_at: 1,
            revoked_at: None,
        };
        assert_eq!(
            properties_of(crate::routes::accounts::ApiKeyShape::schema()),
            fields_of(&key)
        );
        let delivery = baton_store::WebhookDelivery {
            id: 1,
            workspace_id: "ws".into(),
            conversation_id: "conv".into(),
            node: "lookup".into(),
            url: "https://shop.example".into(),
            attempt: 1,
            status_code: Some(200),
            error: None,
            duration_ms: 5,
            created_at: 1,
        };
        assert_eq!(
            properties_of(crate::routes::conversations::WebhookDeliveryShape::schema()),
            fields_of(&delivery)
        );
    }

    #[test]
    fn a_diagnostic_has_the_documented_fields() {
        // A warning accepted as intended shows every field (`accepted` is left out otherwise).
        let mut finding = baton_flow::Diagnostic::warning("port_unwired", "nothing after this")
            .at_node("hi")
            .at_port("next")
            .at("nodes[1]")
            .hint("connect it");
        finding.accepted = true;
        assert_eq!(
            properties_of(crate::routes::flows::DiagnosticShape::schema()),
            fields_of(&finding)
        );
    }

    #[test]
    fn business_hours_have_the_documented_fields() {
        let hours: baton_flow::hours::BusinessHours = serde_json::from_value(serde_json::json!({
            "timezone": "Europe/Lisbon",
            "weekly": [{"day": "monday", "open": "09:00", "close": "17:00"}],
            "holidays": [{"date": "2027-01-01", "name": "New year"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let value = serde_json::to_value(&hours).unwrap_or_default();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            k.sort();
            k
        };
        let props = |s: RefOr<Schema>| keys(&serde_json::to_value(s).unwrap_or_default()["properties"]);
        assert_eq!(props(BusinessHoursShape::schema()), keys(&value));
        assert_eq!(props(DayHoursShape::schema()), keys(&value["weekly"][0]));
        assert_eq!(props(HolidayShape::schema()), keys(&value["holidays"][0]));
    }
}

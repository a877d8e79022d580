//! The enumerated columns, typed: each is stored as its name (TEXT) on both databases and read
//! back into its enum; a name the enum does not know is an error, never a silent default.

use crate::sql::Arg;

/// A stored value that names no variant of its column's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a {what}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// A type whose column is TEXT in both databases (sqlx reads it where it reads a string).
macro_rules! stored_as_text {
    ($name:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }
    };
}

/// An enum stored as TEXT: its names, `FromStr`, serde as the same names, and the conversions
/// both drivers need (sqlx for PostgreSQL, rusqlite for SQLite, [`Arg`] for statement
/// parameters).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<$name, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(UnknownValue { what: stringify!($name), value: s.to_string() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        stored_as_text!($name);

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<$name, sqlx::error::BoxDynError> {
                Ok(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?.parse()?)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut DB::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<$name> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }

        impl From<$name> for Arg<'_> {
            fn from(v: $name) -> Self {
                Arg::Text(v.as_str())
            }
        }

        impl From<&$name> for Arg<'_> {
            fn from(v: &$name) -> Self {
                Arg::Text(v.as_str())
            }
        }
    };
}

text_enum! {
    /// Who wrote a message of a conversation.
    Role {
        Customer = "customer",
        Bot = "bot",
        /// A member, to the customer.
        Agent = "agent",
        /// Baton, to the customer (an agent joined, a transfer).
        System = "system",
        /// A member, to the other members only.
        Note = "note",
        /// A record in the transcript that nobody is told (queued, an error).
        Event = "event",
    }
}

impl Role {
    /// Roles whose messages the customer sees.
    pub fn customer_sees(self) -> bool {
        matches!(self, Role::Customer | Role::Bot | Role::Agent | Role::System)
    }

    /// Roles of what is said to the customer (a turn's replies).
    pub fn says_to_customer(self) -> bool {
        matches!(self, Role::Bot | Role::Agent | Role::System)
    }
}

text_enum! {
    /// Who has a conversation.
    ConversationStatus {
        /// The flow (bot).
        Bot = "bot",
        /// Waiting for a person.
        Queued = "queued",
        /// A person.
        Assigned = "assigned",
        /// Ended, resolved.
        Resolved = "resolved",
        /// Ended without being resolved (an End node with `resolve: false`): someone still
        /// has to follow up, e.g. after a message was taken.
        FollowUp = "follow_up",
    }
}

text_enum! {
    /// Where a hand-over is, or how it ended.
    HandoverStatus {
        Queued = "queued",
        Assigned = "assigned",
        HandedBack = "handed_back",
        Resolved = "resolved",
        Timeout = "timeout",
        Cancelled = "cancelled",
        /// The flow ended or moved on while the hand-over was open.
        Ended = "ended",
        /// Nobody could be asked: outside business hours or hand-off off.
        OffHours = "off_hours",
        /// Nobody could be asked: no agent online.
        NoAgent = "no_agent",
    }
}

impl HandoverStatus {
    /// Waiting for, or with, a person.
    pub fn is_open(self) -> bool {
        matches!(self, HandoverStatus::Queued | HandoverStatus::Assigned)
    }
}

/// What a message carries besides its text, stored as JSON in `messages.payload`: for a bot's
/// message what the widget shows with it, for a customer's the button pressed and where the
/// turn's replies end, for a record its error or hand-over.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessagePayload {
    /// The flow node that sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Buttons to press (`{"id", "label"}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<serde_json::Value>,
    /// Links to follow (`{"label", "url"}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<serde_json::Value>,
    /// Only a press is accepted: the widget disables typing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub buttons_only: bool,
    /// The option a customer pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<String>,
    /// On a customer's message: the seq of the last message its turn wrote (a retry is answered
    /// with the messages up to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_end: Option<i64>,
    /// On an error record: its code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// On a queued record: the hand-over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<String>,
}

impl MessagePayload {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

stored_as_text!(MessagePayload);

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for MessagePayload
where
    &'r str: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<MessagePayload, sqlx::error::BoxDynError> {
        Ok(serde_json::from_str(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?)?)
    }
}

impl rusqlite::types::FromSql for MessagePayload {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<MessagePayload> {
        serde_json::from_str(value.as_str()?).map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
            assert_eq!(serde_json::to_value(r).ok(), Some(serde_json::json!(r.as_str())));
        }
        for s in HandoverStatus::ALL {
            assert_eq!(s.as_str().parse::<HandoverStatus>(), Ok(*s));
        }
        assert_eq!(
            "Customer".parse::<Role>(),
            Err(UnknownValue {
                what: "Role",
                value: "Customer".into()
            })
        );
    }
}

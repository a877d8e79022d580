//! Contacts, conversations and messages; the writes of a turn happen inside a [`Tx`].

use crate::sql::{args, stored_row};
use crate::{ConversationStatus, Dialect, MessagePayload, Result, Role, Store, TimelineNote, Tx, TxInner};
use serde::Serialize;

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Contact, columns contact_columns {
        pub id: String,
        pub workspace_id: String,
        pub external_id: Option<String>,
        /// JSON object of attributes.
        pub attributes: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Conversation, columns conversation_columns {
        pub id: String,
        pub workspace_id: String,
        pub contact_id: String,
        pub flow_id: String,
        pub flow_version: i64,
        #[serde(skip)]
        pub token_hash: String,
        pub channel: String,
        pub status: ConversationStatus,
        /// The flow runtime's state (JSON text).
        #[serde(skip)]
        pub state: String,
        pub last_seq: i64,
        pub created_at: i64,
        pub updated_at: i64,
        /// The team it is queued for or assigned in (slug).
        pub team: Option<String>,
        /// The member in charge.
        pub assignee: Option<String>,
        pub priority: Option<String>,
        /// When it was last queued for a person.
        pub queued_at: Option<i64>,
        /// When the agent who owns it must reply by (their team's reply target), if a target runs.
        pub reply_due_at: Option<i64>,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
    pub struct Message, columns message_columns {
        pub conversation_id: String,
        pub seq: i64,
        pub role: Role,
        pub text: String,
        pub payload: Option<MessagePayload>,
        pub client_id: Option<String>,
        pub author: Option<String>,
        pub created_at: i64,
    }
}

/// A turn's update of its conversation; on PostgreSQL the turn's messages, timeline notes and
/// notifications go in the same statement, `$11` on.
macro_rules! update_conversation {
    () => {
        "UPDATE conversations SET status = $1, state = $2, last_seq = $3, updated_at = $4, team = $5, assignee = $6, priority = $7, queued_at = $8, reply_due_at = $9 WHERE id = $10"
    };
}

/// [`update_conversation`] for a turn that left the status as it was (SQLite), with the same
/// arguments but the first: SQLite moves the entry of every index that has a column the
/// statement sets, whether its value changed or not, so setting `status` would move the
/// conversation in `conversations_workspace` at every turn.
const UPDATE_CONVERSATION_KEEPING_STATUS: &str = "UPDATE conversations SET state = $1, last_seq = $2, updated_at = $3, team = $4, assignee = $5, priority = $6, queued_at = $7, reply_due_at = $8 WHERE id = $9";

/// The conversation, and the seq of its message with client id `$2` (a customer's retry).
macro_rules! lock_conversation {
    ($lock:literal) => {
        concat!(
            "SELECT ",
            conversation_columns!(),
            ", (SELECT seq FROM messages WHERE conversation_id = $1 AND client_id = $2) AS retry_of FROM conversations WHERE id = $1",
            $lock
        )
    };
}

const CONVERSATION_BY_ID: &str = concat!("SELECT ", conversation_columns!(), " FROM conversations WHERE id = $1");
const INSERT_MESSAGE: &str = concat!(
    "INSERT INTO messages (",
    message_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
);
const INSERT_TIMELINE: &str =
    "INSERT INTO timeline (workspace_id, conversation_id, kind, actor, data, at) VALUES ($1, $2, $3, $4, $5, $6)";

/// A conversation read for writing.
pub struct Locked {
    pub conversation: Conversation,
    /// The seq of the message already stored with the client id asked about: the customer's
    /// message is a retry.
    pub retry_of: Option<i64>,
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for Locked {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        use sqlx::Row as _;
        Ok(Locked {
            conversation: Conversation::from_row(row)?,
            retry_of: row.try_get("retry_of")?,
        })
    }
}

impl crate::sql::Row for Locked {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Locked {
            conversation: Conversation::from_sqlite(row)?,
            retry_of: row.get("retry_of")?,
        })
    }
}

impl Store {
    pub async fn contact(&self, id: &str) -> Result<Option<Contact>> {
        self.read_optional(
            concat!("SELECT ", contact_columns!(), " FROM contacts WHERE id = $1"),
            args![id],
        )
        .await
    }

    pub async fn contact_by_external_id(&self, workspace_id: &str, external_id: &str) -> Result<Option<Contact>> {
        self.read_optional(
            concat!(
                "SELECT ",
                contact_columns!(),
                " FROM contacts WHERE workspace_id = $1 AND external_id = $2"
            ),
            args![workspace_id, external_id],
        )
        .await
    }

    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>> {
        self.read_optional(CONVERSATION_BY_ID, args![id]).await
    }

    /// Messages with `seq` greater than `after`, oldest first.
    pub async fn messages_after(&self, conversation_id: &str, after: i64, limit: i64) -> Result<Vec<Message>> {
        self.read_all(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            args![conversation_id, after, limit],
        )
        .await
    }
}

impl Tx {
    pub async fn insert_contact(&mut self, c: &Contact) -> Result<()> {
        self.execute(
            concat!(
                "INSERT INTO contacts (",
                contact_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            args![
                &c.id,
                &c.workspace_id,
                &c.external_id,
                &c.attributes,
                c.created_at,
                c.updated_at
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn contact(&mut self, id: &str) -> Result<Option<Contact>> {
        self.optional(
            concat!("SELECT ", contact_columns!(), " FROM contacts WHERE id = $1"),
            args![id],
        )
        .await
    }

    pub async fn update_contact_attributes(&mut self, id: &str, attributes: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE contacts SET attributes = $1, updated_at = $2 WHERE id = $3",
            args![attributes, now, id],
        )
        .await?;
        Ok(())
    }

    pub async fn insert_conversation(&mut self, c: &Conversation) -> Result<()> {
        self.execute(
            concat!(
                "INSERT INTO conversations (",
                conversation_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
            ),
            args![
                &c.id,
                &c.workspace_id,
                &c.contact_id,
                &c.flow_id,
                c.flow_version,
                &c.token_hash,
                &c.channel,
                &c.status,
                &c.state,
                c.last_seq,
                c.created_at,
                c.updated_at,
                &c.team,
                &c.assignee,
                &c.priority,
                c.queued_at,
                c.reply_due_at
            ],
        )
        .await?;
        Ok(())
    }

    /// Reads a conversation for writing: on PostgreSQL the row stays locked until commit, so
    /// turns of one conversation are applied one after the other across instances. In the same
    /// statement, whether a message with `client_id` is stored already (a retry).
    ///
    /// On PostgreSQL the check reads the statement's snapshot, which may predate the commit of
    /// a turn this one waited for (another instance taking the same retry): the unique index on
    /// the client id then refuses the second insert, and the turn, tried again on its own, sees
    /// the first.
    pub async fn lock_conversation(&mut self, id: &str, client_id: Option<&str>) -> Result<Option<Locked>> {
        let sql = match self.dialect() {
            Dialect::Sqlite => lock_conversation!(""),
            Dialect::Postgres => lock_conversation!(" FOR UPDATE"),
        };
        self.optional(sql, args![id, client_id]).await
    }

    /// Reads the conversations of several turns for writing at once, as
    /// [`Tx::lock_conversation`] reads one: `turns` are (conversation id, client id), one per
    /// conversation. Rows come in id order, and on PostgreSQL they are locked in that order, so
    /// writers and instances locking several never wait on each other in a circle. Missing
    /// conversations are left out.
    pub async fn lock_conversations(&mut self, turns: &[(&str, Option<&str>)]) -> Result<Vec<Locked>> {
        if let TxInner::Postgres(t) = &mut self.inner {
            const LOCK_CONVERSATIONS: &str = concat!(
                "SELECT ",
                conversation_columns!(),
                ", (SELECT seq FROM messages m WHERE m.conversation_id = conversations.id AND m.client_id = ",
                "(SELECT t.client_id FROM unnest($1::text[], $2::text[]) AS t(conversation_id, client_id) ",
                "WHERE t.conversation_id = conversations.id LIMIT 1)) AS retry_of ",
                "FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE"
            );
            let ids: Vec<&str> = turns.iter().map(|(id, _)| *id).collect();
            let client_ids: Vec<Option<&str>> = turns.iter().map(|(_, c)| *c).collect();
            return Ok(sqlx::query_as::<_, Locked>(LOCK_CONVERSATIONS)
                .bind(ids)
                .bind(client_ids)
                .fetch_all(&mut **t)
                .await?);
        }
        let mut sorted = turns.to_vec();
        sorted.sort_unstable();
        let mut locked = Vec::with_capacity(sorted.len());
        for (id, client_id) in sorted {
            locked.extend(self.lock_conversation(id, client_id).await?);
        }
        Ok(locked)
    }

    /// Puts a conversation that waited for its first message on the flow entry routing chose
    /// for it.
    pub async fn set_conversation_flow(&mut self, id: &str, flow_id: &str, flow_version: i64) -> Result<()> {
        self.execute(
            "UPDATE conversations SET flow_id = $1, flow_version = $2 WHERE id = $3",
            args![flow_id, flow_version, id],
        )
        .await?;
        Ok(())
    }

    /// Writes what a turn changed (status, state, routing columns, last message number), the
    /// messages it wrote and what it added to the conversation's timeline: on PostgreSQL in one
    /// statement (one round trip), which also queues `notifications` to every instance, in
    /// order, sent when the transaction commits (nothing with SQLite: one instance).
    /// `status_before` is the status the turn read (`None`: not known); when it equals
    /// `c.status`, SQLite leaves the status column and its index alone.
    pub async fn write_turn(
        &mut self,
        c: &Conversation,
        status_before: Option<ConversationStatus>,
        messages: &[Message],
        timeline: &[TimelineNote],
        notifications: &[String],
    ) -> Result<()> {
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                for note in timeline {
                    t.execute(
                        INSERT_TIMELINE,
                        args![&c.workspace_id, &c.id, &note.kind, &note.actor, &note.data, note.at],
                    )?;
                }
                for m in messages {
                    let payload = m.payload.as_ref().map(MessagePayload::to_json);
                    t.execute(
                        INSERT_MESSAGE,
                        args![
                            &m.conversation_id,
                            m.seq,
                            &m.role,
                            &m.text,
                            &payload,
                            &m.client_id,
                            &m.author,
                            m.created_at
                        ],
                    )?;
                }
                let columns = args![
                    &c.status,
                    &c.state,
                    c.last_seq,
                    c.updated_at,
                    &c.team,
                    &c.assignee,
                    &c.priority,
                    c.queued_at,
                    c.reply_due_at,
                    &c.id
                ];
                match status_before == Some(c.status) {
                    true => t.execute(UPDATE_CONVERSATION_KEEPING_STATUS, &columns[1..])?,
                    false => t.execute(update_conversation!(), columns)?,
                };
            }
            TxInner::Postgres(t) => {
                // A data-modifying WITH runs to completion whether or not the UPDATE reads it.
                const WRITE_TURN: &str = concat!(
                    concat!("WITH written AS (INSERT INTO messages (", message_columns!(), ") SELECT * FROM unnest($11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[])), "),
                    "noted AS (INSERT INTO timeline (workspace_id, conversation_id, kind, actor, data, at) SELECT $19, $10, kind, actor, data, at FROM unnest($20::text[], $21::text[], $22::text[], $23::bigint[]) WITH ORDINALITY AS n(kind, actor, data, at, i) ORDER BY i), ",
                    // A plain WITH runs only when read: the UPDATE's condition reads it (always true).
                    "told AS (SELECT pg_notify($24, p) FROM unnest($25::text[]) WITH ORDINALITY AS n(p, i) ORDER BY i) ",
                    update_conversation!(),
                    " AND (SELECT count(*) FROM told) >= 0"
                );
                sqlx::query(WRITE_TURN)
                    .bind(c.status)
                    .bind(&c.state)
                    .bind(c.last_seq)
                    .bind(c.updated_at)
                    .bind(&c.team)
                    .bind(&c.assignee)
                    .bind(&c.priority)
                    .bind(c.queued_at)
                    .bind(c.reply_due_at)
                    .bind(&c.id)
                    .bind(column(messages, |m| m.conversation_id.clone()))
                    .bind(column(messages, |m| m.seq))
                    .bind(column(messages, |m| m.role.as_str()))
                    .bind(column(messages, |m| m.text.clone()))
                    .bind(column(messages, |m| m.payload.as_ref().map(MessagePayload::to_json)))
                    .bind(column(messages, |m| m.client_id.clone()))
                    .bind(column(messages, |m| m.author.clone()))
                    .bind(column(messages, |m| m.created_at))
                    .bind(&c.workspace_id)
                    .bind(column(timeline, |n| n.kind.clone()))
                    .bind(column(timeline, |n| n.actor.clone()))
                    .bind(column(timeline, |n| n.data.clone()))
                    .bind(column(timeline, |n| n.at))
                    .bind(crate::NOTIFY_CHANNEL)
                    .bind(notifications)
                    .execute(&mut **t)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn message_by_client_id(&mut self, conversation_id: &str, client_id: &str) -> Result<Option<Message>> {
        self.optional(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE conversation_id = $1 AND client_id = $2"
            ),
            args![conversation_id, client_id],
        )
        .await
    }

    pub async fn messages_after(&mut self, conversation_id: &str, after: i64, limit: i64) -> Result<Vec<Message>> {
        self.all(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            args![conversation_id, after, limit],
        )
        .await
    }

    /// What the customer wrote, oldest first, without the rest of the messages.
    pub async fn customer_texts(&mut self, conversation_id: &str, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = self
            .all(
                "SELECT text FROM messages WHERE conversation_id = $1 AND role = 'customer' ORDER BY seq LIMIT $2",
                args![conversation_id, limit],
            )
            .await?;
        Ok(rows.into_iter().map(|(text,)| text).collect())
    }
}

/// One field of every row, as an array parameter (`unnest`).
fn column<R, T>(rows: &[R], field: impl Fn(&R) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}

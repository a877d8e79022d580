//! Teams, agent presence, hand-overs, the timeline and the inbox's queries.

use crate::sql::{args, sqlite_row, stored_row, Arg};
use crate::{Conversation, HandoverStatus, Member, Result, Store, Tx};
use serde::Serialize;

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Team, columns team_columns {
        pub id: String,
        pub workspace_id: String,
        pub name: String,
        /// What Handover nodes name in `team`.
        pub slug: String,
        /// JSON business hours; None: always open.
        pub business_hours: Option<String>,
        pub created_at: i64,
        /// JSON reply targets of its agents; None: the workspace's.
        pub reply_targets: Option<String>,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Handover, columns handover_columns {
        pub id: String,
        pub workspace_id: String,
        pub conversation_id: String,
        pub flow_id: String,
        pub flow_version: i64,
        pub node: String,
        pub team: Option<String>,
        pub assignee: Option<String>,
        pub priority: String,
        pub status: HandoverStatus,
        /// The context package (JSON).
        pub context: String,
        pub queued_at: i64,
        pub assigned_at: Option<i64>,
        pub ended_at: Option<i64>,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct TimelineEntry, columns timeline_columns {
        pub id: i64,
        pub workspace_id: String,
        pub conversation_id: String,
        pub kind: String,
        pub actor: Option<String>,
        pub data: Option<String>,
        pub at: i64,
    }
}

/// What a turn adds to its conversation's timeline, written with the turn
/// ([`Tx::write_turn`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineNote {
    pub kind: String,
    /// The member who acted, if one did.
    pub actor: Option<String>,
    /// JSON object.
    pub data: Option<String>,
    pub at: i64,
}

/// Where a queued conversation stands in its queue ([`Store::queue_standing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStanding {
    /// Queued conversations taken before it.
    pub ahead: i64,
    /// The average time from queued to taken of the queue's last 20 pickups (ms), if any.
    pub typical_pickup_ms: Option<i64>,
}

/// One row of a team's membership with the member's presence.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TeamMember {
    pub team_id: String,
    pub member_id: String,
    pub presence: String,
    pub last_assigned_at: i64,
}

/// Filters of the inbox list.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub statuses: Vec<String>,
    pub team: Option<String>,
    /// Some(None): unassigned only.
    pub assignee: Option<Option<String>>,
    pub priority: Option<String>,
    /// Words every listed conversation contains somewhere: in a message or note, or in the
    /// contact's attributes (case-insensitive substring).
    pub search: Option<String>,
    pub sort: InboxSort,
    /// Only rows after this one in the sort order (the cursor of the page before).
    pub after: Option<InboxKey>,
    pub limit: i64,
}

/// The orders of the inbox list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InboxSort {
    /// Urgent first, then high, normal, low; longest waiting first within a priority.
    #[default]
    Priority,
    /// Longest waiting first (queued or last active).
    Waiting,
    /// Most recently active first.
    Newest,
}

impl InboxSort {
    pub const ALL: [InboxSort; 3] = [InboxSort::Priority, InboxSort::Waiting, InboxSort::Newest];

    pub fn as_str(self) -> &'static str {
        match self {
            InboxSort::Priority => "priority",
            InboxSort::Waiting => "waiting",
            InboxSort::Newest => "newest",
        }
    }

    /// Where a conversation stands in this order.
    pub fn key(self, c: &Conversation) -> InboxKey {
        let rank = match (self, c.priority.as_deref()) {
            (InboxSort::Priority, Some("urgent")) => 0,
            (InboxSort::Priority, Some("high")) => 1,
            (InboxSort::Priority, Some("normal")) => 2,
            (InboxSort::Priority, _) => 3,
            _ => 0,
        };
        let time = match self {
            InboxSort::Newest => -c.updated_at,
            _ => c.queued_at.unwrap_or(c.updated_at),
        };
        InboxKey {
            rank,
            time,
            id: c.id.clone(),
        }
    }
}

/// A row's place in an inbox order: rows are listed by rank, then time, then id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxKey {
    pub rank: i64,
    pub time: i64,
    pub id: String,
}

/// What an inbox row shows besides the conversation ([`Store::inbox_row`]): the contact's
/// attributes, the newest message of the customer, the bot or an agent (role, text, time), the
/// open hand-over's context package.
#[derive(Debug, Clone, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct InboxRow {
    pub last_role: Option<String>,
    pub last_text: Option<String>,
    pub last_at: Option<i64>,
    pub open_context: Option<String>,
    pub attributes: Option<String>,
    /// The newest customer message's sequence number.
    pub last_customer_seq: Option<i64>,
    /// How far the member asked about has read (None: never opened it).
    pub read_seq: Option<i64>,
}

/// A flow's conversations and how they ended without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowCounts {
    pub conversations: i64,
    pub contained: i64,
    pub abandoned: i64,
    pub cancelled: i64,
}

/// Per node and outcome: how many hand-overs, and pickup times.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HandoverStat {
    pub node: String,
    pub status: HandoverStatus,
    pub count: i64,
    pub picked_up: i64,
    pub pickup_ms_total: i64,
    pub pickup_ms_max: i64,
}

/// The inbox list's filters over `conversations c`: `$1` workspace, `$2` statuses (comma
/// separated), `$3` team, `$4`–`$6` assignee, `$7` priority, `$8` search pattern (LIKE, with
/// `\` escaping), `$9` sort (for the rank and time below). An unused filter always holds.
macro_rules! inbox_filters {
    () => {
        "c.workspace_id = $1
           AND (',' || $2 || ',') LIKE ('%,' || c.status || ',%')
           AND ($3 = '' OR c.team = $3)
           AND ($4 OR ($5 AND c.assignee IS NULL) OR c.assignee = $6)
           AND ($7 = '' OR c.priority = $7)
           AND ($8 = '' OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND LOWER(m.text) LIKE $8 ESCAPE '\\')
                OR EXISTS (SELECT 1 FROM contacts k WHERE k.id = c.contact_id AND LOWER(k.attributes) LIKE $8 ESCAPE '\\'))"
    };
}
/// A conversation's rank in the sort `$9` (priority: urgent 0 … low 3; other sorts: 0).
macro_rules! inbox_rank {
    () => {
        "CASE WHEN $9 <> 'priority' THEN 0 WHEN c.priority = 'urgent' THEN 0 WHEN c.priority = 'high' THEN 1 WHEN c.priority = 'normal' THEN 2 ELSE 3 END"
    };
}
/// A conversation's time in the sort `$9` (newest: minus the last activity; else when it was
/// queued, or its last activity).
macro_rules! inbox_time {
    () => {
        "CASE WHEN $9 = 'newest' THEN -c.updated_at ELSE COALESCE(c.queued_at, c.updated_at) END"
    };
}

/// The inbox filters as bound parameters.
struct InboxParams<'a> {
    workspace_id: &'a str,
    statuses: String,
    team: String,
    assignee_any: bool,
    assignee_none: bool,
    assignee: String,
    priority: String,
    pattern: String,
}

impl<'a> InboxParams<'a> {
    fn of(workspace_id: &'a str, f: &InboxFilter) -> InboxParams<'a> {
        let statuses = if f.statuses.is_empty() {
            "queued,assigned".to_string()
        } else {
            f.statuses.join(",")
        };
        let (assignee_any, assignee_none, assignee) = match &f.assignee {
            None => (true, false, String::new()),
            Some(None) => (false, true, String::new()),
            Some(Some(a)) => (false, false, a.clone()),
        };
        let pattern = match f.search.as_deref().map(str::trim) {
            Some(q) if !q.is_empty() => format!("%{}%", like_escaped(&q.to_lowercase())),
            _ => String::new(),
        };
        InboxParams {
            workspace_id,
            statuses,
            team: f.team.clone().unwrap_or_default(),
            assignee_any,
            assignee_none,
            assignee,
            priority: f.priority.clone().unwrap_or_default(),
            pattern,
        }
    }

    /// `$1`–`$8` of [`inbox_filters!`].
    fn filter_args(&self) -> [Arg<'_>; 8] {
        [
            Arg::from(self.workspace_id),
            Arg::from(&self.statuses),
            Arg::from(&self.team),
            Arg::from(self.assignee_any),
            Arg::from(self.assignee_none),
            Arg::from(&self.assignee),
            Arg::from(&self.priority),
            Arg::from(&self.pattern),
        ]
    }
}

/// `text` matched literally by LIKE … ESCAPE '\'.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The newest message of the customer, the bot or an agent, after the column asked.
macro_rules! last_said {
    ($column:literal) => {
        concat!("(SELECT ", $column, " FROM messages WHERE conversation_id = $1 AND (role = 'customer' OR role = 'bot' OR role = 'agent') ORDER BY seq DESC LIMIT 1)")
    };
}

/// An inbox row's reads in one statement (`$1` the conversation, `$2` its contact, `$3` the
/// reader). `$1` before `$2`: SQLite numbers parameters in the order they first appear. Roles
/// are compared one by one: SQLite builds a temporary table for an `IN (…)` list at every call.
const INBOX_ROW: &str = concat!(
    "SELECT ",
    last_said!("role"), " AS last_role, ", last_said!("text"), " AS last_text, ",
    last_said!("created_at"), " AS last_at, ",
    "(SELECT context FROM handovers WHERE conversation_id = $1 AND (status = 'queued' OR status = 'assigned') ORDER BY queued_at DESC, id DESC LIMIT 1) AS open_context, ",
    "(SELECT attributes FROM contacts WHERE id = $2) AS attributes, ",
    "(SELECT MAX(seq) FROM messages WHERE conversation_id = $1 AND role = 'customer') AS last_customer_seq, ",
    "(SELECT seq FROM conversation_reads WHERE conversation_id = $1 AND member_id = $3) AS read_seq"
);

impl Store {
    pub async fn create_team(&self, t: &Team) -> Result<()> {
        self.write(
            concat!(
                "INSERT INTO teams (",
                team_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            args![
                &t.id,
                &t.workspace_id,
                &t.name,
                &t.slug,
                &t.business_hours,
                t.created_at,
                &t.reply_targets
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn update_team(&self, t: &Team) -> Result<bool> {
        let n = self.write("UPDATE teams SET name = $1, slug = $2, business_hours = $3, reply_targets = $4 WHERE id = $5 AND workspace_id = $6", args![&t.name, &t.slug, &t.business_hours, &t.reply_targets, &t.id, &t.workspace_id]).await?;
        Ok(n > 0)
    }

    pub async fn teams(&self, workspace_id: &str) -> Result<Vec<Team>> {
        self.read_all(
            concat!(
                "SELECT ",
                team_columns!(),
                " FROM teams WHERE workspace_id = $1 ORDER BY name, id"
            ),
            args![workspace_id],
        )
        .await
    }

    /// Replaces a team's members (all must be of the workspace; checked by the caller).
    pub async fn set_team_members(&self, team_id: &str, member_ids: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM team_members WHERE team_id = $1", args![team_id])
            .await?;
        for m in member_ids {
            tx.execute(
                "INSERT INTO team_members (team_id, member_id) VALUES ($1, $2)",
                args![team_id, m],
            )
            .await?;
        }
        tx.commit().await
    }

    /// Every team membership of the workspace, with presence.
    pub async fn team_members(&self, workspace_id: &str) -> Result<Vec<TeamMember>> {
        self.read_all("SELECT tm.team_id, tm.member_id, m.presence, m.last_assigned_at FROM team_members tm JOIN members m ON m.id = tm.member_id WHERE m.workspace_id = $1 ORDER BY tm.team_id, m.last_assigned_at, m.id", args![workspace_id]).await
    }

    pub async fn set_presence(&self, member_id: &str, presence: &str) -> Result<()> {
        self.write(
            "UPDATE members SET presence = $1 WHERE id = $2",
            args![presence, member_id],
        )
        .await?;
        self.accounts_changed();
        Ok(())
    }

    /// What an inbox row shows besides the conversation, in one read: the contact's attributes
    /// (JSON), the newest message of the customer, the bot or an agent, the open hand-over's
    /// context package (JSON), and how far `reader` (a member id, or "") has read.
    pub async fn inbox_row(&self, conversation_id: &str, contact_id: &str, reader: &str) -> Result<InboxRow> {
        // On the hot read path (SQLite: a reader connection used in place).
        let row: Option<InboxRow> = self
            .read_optional(INBOX_ROW, args![conversation_id, contact_id, reader])
            .await?;
        Ok(row.unwrap_or_default())
    }

    pub async fn handovers_of(&self, conversation_id: &str) -> Result<Vec<Handover>> {
        self.read_all(
            concat!(
                "SELECT ",
                handover_columns!(),
                " FROM handovers WHERE conversation_id = $1 ORDER BY queued_at, id"
            ),
            args![conversation_id],
        )
        .await
    }

    pub async fn timeline(&self, conversation_id: &str) -> Result<Vec<TimelineEntry>> {
        self.read_all(
            concat!(
                "SELECT ",
                timeline_columns!(),
                " FROM timeline WHERE conversation_id = $1 ORDER BY id"
            ),
            args![conversation_id],
        )
        .await
    }

    /// Conversations of the workspace for the inbox, in the filter's order, after its cursor.
    pub async fn inbox(&self, workspace_id: &str, f: &InboxFilter) -> Result<Vec<Conversation>> {
        let after = f.after.clone().unwrap_or(InboxKey {
            rank: i64::MIN,
            time: i64::MIN,
            id: String::new(),
        });
        // The filters, then each row's place in the sort `$9` (computed as `InboxSort::key`
        // computes the cursor's), then the rows after the cursor (`$10`–`$12`). Written in
        // this order because SQLite numbers `$n` parameters as they first appear.
        const SQL: &str = concat!(
            "WITH listed AS (SELECT * FROM conversations c WHERE ", inbox_filters!(), "), ",
            "sorted AS (SELECT c.*, ", inbox_rank!(), " AS sort_rank, ", inbox_time!(), " AS sort_time FROM listed c) ",
            "SELECT ", conversation_columns!(), " FROM sorted ",
            "WHERE sort_rank > $10 OR (sort_rank = $10 AND sort_time > $11) OR (sort_rank = $10 AND sort_time = $11 AND id > $12) ",
            "ORDER BY sort_rank, sort_time, id LIMIT $13"
        );
        let p = InboxParams::of(workspace_id, f);
        let page = args![f.sort.as_str(), after.rank, after.time, &after.id, f.limit];
        self.read_all(SQL, &[p.filter_args().as_slice(), page].concat()).await
    }

    /// How many conversations the filter lists on all its pages.
    pub async fn inbox_total(&self, workspace_id: &str, f: &InboxFilter) -> Result<i64> {
        const SQL: &str = concat!("SELECT COUNT(*) FROM conversations c WHERE ", inbox_filters!());
        let p = InboxParams::of(workspace_id, f);
        let (n,): (i64,) = self.read_one(SQL, &p.filter_args()).await?;
        Ok(n)
    }

    /// Remembers that `member_id` has read the conversation up to `seq` (never backwards).
    pub async fn mark_read(&self, member_id: &str, conversation_id: &str, seq: i64) -> Result<()> {
        self.write("INSERT INTO conversation_reads (member_id, conversation_id, seq) VALUES ($1, $2, $3)
             ON CONFLICT (member_id, conversation_id) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > conversation_reads.seq", args![member_id, conversation_id, seq]).await?;
        Ok(())
    }

    /// Open conversations per team and status: (team, status, count).
    pub async fn inbox_counts(&self, workspace_id: &str) -> Result<Vec<(Option<String>, String, i64)>> {
        self.read_all("SELECT team, status, COUNT(*) FROM conversations WHERE workspace_id = $1 AND status IN ('queued', 'assigned') GROUP BY team, status ORDER BY team, status", args![workspace_id]).await
    }

    pub async fn handover_stats(&self, flow_id: &str) -> Result<Vec<HandoverStat>> {
        self.read_all(
            "SELECT node, status, COUNT(*) AS count,
                    COUNT(assigned_at) AS picked_up,
                    CAST(COALESCE(SUM(assigned_at - queued_at), 0) AS BIGINT) AS pickup_ms_total,
                    CAST(COALESCE(MAX(assigned_at - queued_at), 0) AS BIGINT) AS pickup_ms_max
             FROM handovers WHERE flow_id = $1 GROUP BY node, status ORDER BY node, status",
            args![flow_id],
        )
        .await
    }

    /// Conversations started on a flow: (total, resolved by the bot alone).
    /// Conversations of a flow that the bot still has (state JSON, last activity), the most
    /// recently active first, at most `limit`: where customers wait or dropped off.
    pub async fn flow_bot_conversations(&self, flow_id: &str, limit: i64) -> Result<Vec<(String, i64)>> {
        self.read_all("SELECT state, updated_at FROM conversations WHERE flow_id = $1 AND status = 'bot' ORDER BY updated_at DESC LIMIT $2", args![flow_id, limit]).await
    }

    /// Where `c` stands in its queue (workspace and team), in one read: how many queued
    /// conversations come before it (higher priority, or the same priority queued earlier: the
    /// inbox's order), and the average time from queued to taken of the queue's last 20
    /// hand-overs an agent took, if any.
    pub async fn queue_standing(&self, c: &Conversation) -> Result<QueueStanding> {
        let rank = |p: Option<&str>| match p {
            Some("urgent") => 0i64,
            Some("high") => 1,
            Some("normal") | None => 2,
            Some(_) => 3,
        };
        // On the hot read path: a customer's socket asks each time its conversation is queued.
        // The pickups are read newest first, by `handovers_pickups`.
        let (ahead, typical_pickup_ms): (i64, Option<i64>) = self
            .read_one(
                "SELECT (SELECT COUNT(*) FROM conversations \
                 WHERE workspace_id = $1 AND status = 'queued' AND COALESCE(team, '') = $2 AND id <> $3 \
                   AND ((CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'low' THEN 3 ELSE 2 END) < $4 \
                     OR ((CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'low' THEN 3 ELSE 2 END) = $4 \
                         AND (queued_at < $5 OR (queued_at = $5 AND id < $3))))), \
                 (SELECT CAST(AVG(x.waited) AS BIGINT) FROM (SELECT assigned_at - queued_at AS waited FROM handovers \
                   WHERE workspace_id = $1 AND assigned_at IS NOT NULL AND COALESCE(team, '') = $2 \
                   ORDER BY assigned_at DESC LIMIT 20) x)",
                args![
                    c.workspace_id.as_str(),
                    c.team.as_deref().unwrap_or(""),
                    c.id.as_str(),
                    rank(c.priority.as_deref()),
                    c.queued_at.unwrap_or(0)
                ],
            )
            .await?;
        Ok(QueueStanding {
            ahead,
            typical_pickup_ms,
        })
    }

    /// What each `reply_missed` timeline entry of the flow's conversations holds (JSON), oldest
    /// first.
    pub async fn reply_misses(&self, flow_id: &str) -> Result<Vec<Option<String>>> {
        let rows: Vec<(Option<String>,)> = self
            .read_all(
                "SELECT t.data FROM timeline t JOIN conversations c ON c.id = t.conversation_id \
             WHERE c.flow_id = $1 AND t.kind = 'reply_missed' ORDER BY t.at, t.id",
                args![flow_id],
            )
            .await?;
        Ok(rows.into_iter().map(|(data,)| data).collect())
    }

    /// Conversations on the flow in which something was said (one still waiting for its first
    /// message to choose its flow is not one yet), those the bot resolved without a person
    /// (contained), those closed because the customer stopped answering (abandoned) and those
    /// the customer cancelled at a question (an escape); neither of the last two is contained.
    pub async fn flow_conversation_counts(&self, flow_id: &str) -> Result<FlowCounts> {
        let (conversations, contained, abandoned, cancelled): (i64, i64, i64, i64) = self.read_one("SELECT COUNT(*), \
               COALESCE(SUM(CASE WHEN x.status = 'resolved' AND x.abandoned = 0 AND x.cancelled = 0 AND NOT EXISTS (SELECT 1 FROM handovers h WHERE h.conversation_id = x.id AND h.status NOT IN ('off_hours', 'no_agent')) THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(x.abandoned), 0), \
               COALESCE(SUM(x.cancelled), 0) \
             FROM (SELECT c.id, c.status, \
                     CASE WHEN EXISTS (SELECT 1 FROM timeline t WHERE t.conversation_id = c.id AND t.kind = 'abandoned') THEN 1 ELSE 0 END AS abandoned, \
                     CASE WHEN EXISTS (SELECT 1 FROM timeline t WHERE t.conversation_id = c.id AND t.kind = 'escape_cancel') THEN 1 ELSE 0 END AS cancelled \
                   FROM conversations c WHERE c.flow_id = $1 AND c.last_seq > 0) x", args![flow_id]).await?;
        Ok(FlowCounts {
            conversations,
            contained,
            abandoned,
            cancelled,
        })
    }
}

impl Tx {
    /// The inbox row as this transaction sees it (an agent's action answers with the row it
    /// leaves; on SQLite the writer's warm page cache reads it for a fraction of what a reader
    /// connection, whose cache every commit empties, would).
    pub async fn inbox_row(&mut self, conversation_id: &str, contact_id: &str, reader: &str) -> Result<InboxRow> {
        let row: Option<InboxRow> = self
            .optional(INBOX_ROW, args![conversation_id, contact_id, reader])
            .await?;
        Ok(row.unwrap_or_default())
    }

    pub async fn insert_handover(&mut self, h: &Handover) -> Result<()> {
        self.execute(
            "INSERT INTO handovers (id, workspace_id, conversation_id, flow_id, flow_version, node, team, assignee, priority, status, context, queued_at, assigned_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            args![
                &h.id, &h.workspace_id, &h.conversation_id, &h.flow_id, h.flow_version, &h.node, &h.team, &h.assignee,
                &h.priority, &h.status, &h.context, h.queued_at, h.assigned_at, h.ended_at
            ],
        )
        .await?;
        Ok(())
    }

    /// The conversation's hand-over still waiting or in progress.
    pub async fn open_handover(&mut self, conversation_id: &str) -> Result<Option<Handover>> {
        self.optional(
            concat!("SELECT ", handover_columns!(), " FROM handovers WHERE conversation_id = $1 AND (status = 'queued' OR status = 'assigned') ORDER BY queued_at DESC, id DESC LIMIT 1"),
            args![conversation_id],
        )
        .await
    }

    /// Replaces a hand-over's context package (the summary written after the hand-over).
    pub async fn set_handover_context(&mut self, id: &str, context: &str) -> Result<()> {
        self.execute("UPDATE handovers SET context = $1 WHERE id = $2", args![context, id])
            .await?;
        Ok(())
    }

    pub async fn update_handover(&mut self, h: &Handover) -> Result<()> {
        self.execute(
            "UPDATE handovers SET team = $1, assignee = $2, status = $3, assigned_at = $4, ended_at = $5 WHERE id = $6",
            args![&h.team, &h.assignee, &h.status, h.assigned_at, h.ended_at, &h.id],
        )
        .await?;
        Ok(())
    }

    pub async fn member(&mut self, id: &str) -> Result<Option<Member>> {
        self.optional(
            concat!("SELECT ", member_columns!(), " FROM members WHERE id = $1"),
            args![id],
        )
        .await
    }

    /// Online members of a team, longest without a conversation first (round-robin order).
    pub async fn online_team_members(&mut self, workspace_id: &str, team_slug: Option<&str>) -> Result<Vec<Member>> {
        self.all(
            concat!(
                "SELECT ",
                member_columns!(),
                " FROM members m
             WHERE m.workspace_id = $1 AND m.presence = 'online' AND m.deactivated_at IS NULL
               AND ($2 = '' OR EXISTS (SELECT 1 FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE tm.member_id = m.id AND t.slug = $2 AND t.workspace_id = $1))
             ORDER BY m.last_assigned_at, m.id"
            ),
            args![workspace_id, team_slug.unwrap_or("")],
        )
        .await
    }

    /// Records that `member_id` was given a conversation at `now` (the round-robin order).
    pub async fn touch_assigned(&mut self, member_id: &str, now: i64) -> Result<()> {
        let sql = match self.dialect() {
            crate::Dialect::Sqlite => "UPDATE members SET last_assigned_at = $1 WHERE id = $2",
            // A member row another transaction holds is left as that one writes it: it is
            // almost always the same agent given a conversation at the same moment, and the
            // time only orders the round-robin. Waiting instead queued every assigning
            // transaction of the workspace behind the others' commits (and two that touch the
            // same agents in opposite orders would deadlock).
            crate::Dialect::Postgres => {
                "UPDATE members SET last_assigned_at = $1 WHERE id = (SELECT id FROM members WHERE id = $2 FOR UPDATE SKIP LOCKED)"
            }
        };
        self.execute(sql, args![now, member_id]).await?;
        Ok(())
    }
}

sqlite_row!(InboxRow {
    last_role,
    last_text,
    last_at,
    open_context,
    attributes,
    last_customer_seq,
    read_seq,
});
sqlite_row!(TeamMember {
    team_id,
    member_id,
    presence,
    last_assigned_at
});
sqlite_row!(HandoverStat {
    node,
    status,
    count,
    picked_up,
    pickup_ms_total,
    pickup_ms_max
});

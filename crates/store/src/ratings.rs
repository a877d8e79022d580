//! CSAT ratings: one per conversation, with the agent who had it last.

use crate::sql::{args, sqlite_row};
use crate::{Result, Store, Tx};
use serde::Serialize;

/// A customer's rating of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating<'a> {
    pub conversation_id: &'a str,
    pub workspace_id: &'a str,
    pub flow_id: &'a str,
    pub contact_id: &'a str,
    pub agent_id: Option<&'a str>,
    pub score: i64,
    pub scale: i64,
    pub rated_at: i64,
}

/// Ratings counted: all of a flow's, or one agent's there (`agent_id: null`: no agent had the
/// conversation). `score_sum / count` is the average; scores are on `scale`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RatingStat {
    pub agent_id: Option<String>,
    pub scale: i64,
    pub count: i64,
    pub score_sum: i64,
    /// Satisfied ratings: 4 or 5 of 5, or good of 2.
    pub satisfied: i64,
}

impl Tx {
    /// Records a rating (a second one for the conversation replaces the first).
    pub async fn rate(&mut self, r: &Rating<'_>) -> Result<()> {
        self.execute(
            "DELETE FROM ratings WHERE conversation_id = $1",
            args![r.conversation_id],
        )
        .await?;
        self.execute(
            "INSERT INTO ratings (conversation_id, workspace_id, flow_id, contact_id, agent_id, score, scale, rated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![r.conversation_id, r.workspace_id, r.flow_id, r.contact_id, r.agent_id, r.score, r.scale, r.rated_at],
        )
        .await?;
        Ok(())
    }

    /// The member who had the conversation last, if any.
    pub async fn last_assignee(&mut self, conversation_id: &str) -> Result<Option<String>> {
        Ok(self
            .optional::<(String,)>(
                "SELECT assignee FROM handovers WHERE conversation_id = $1 AND assignee IS NOT NULL ORDER BY queued_at DESC, id DESC LIMIT 1",
                args![conversation_id],
            )
            .await?
            .map(|(a,)| a))
    }

    /// The contact's latest rating of another conversation: (score, scale, when).
    pub async fn last_rating_of_contact(&mut self, contact_id: &str, except: &str) -> Result<Option<(i64, i64, i64)>> {
        self.optional::<(i64, i64, i64)>(
            "SELECT score, scale, rated_at FROM ratings WHERE contact_id = $1 AND conversation_id <> $2 ORDER BY rated_at DESC LIMIT 1",
            args![contact_id, except],
        )
        .await
    }
}

impl Store {
    /// A flow's ratings per agent and scale.
    pub async fn rating_stats(&self, flow_id: &str) -> Result<Vec<RatingStat>> {
        self.read_all("SELECT agent_id, CAST(scale AS BIGINT) AS scale, COUNT(*) AS count, \
                    CAST(COALESCE(SUM(score), 0) AS BIGINT) AS score_sum, \
                    CAST(COALESCE(SUM(CASE WHEN score = scale OR (scale = 5 AND score = 4) THEN 1 ELSE 0 END), 0) AS BIGINT) AS satisfied \
             FROM ratings WHERE flow_id = $1 GROUP BY agent_id, scale ORDER BY agent_id, scale", args![flow_id]).await
    }
}

sqlite_row!(RatingStat {
    agent_id,
    scale,
    count,
    score_sum,
    satisfied
});

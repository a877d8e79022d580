//! Flows: an editable draft and immutable, numbered published versions.

use crate::sql::{args, stored_row};
use crate::{Result, Store, StoreError};
use serde::Serialize;

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct FlowRow, columns flow_columns {
        pub id: String,
        pub workspace_id: String,
        pub name: String,
        /// The draft flow document (JSON text).
        #[serde(skip)]
        pub draft: String,
        pub live: bool,
        pub live_version: Option<i64>,
        pub require_tests: bool,
        pub created_at: i64,
        pub updated_at: i64,
        /// Where the flow comes in the workspace's entry routing (lower first).
        pub entry_order: i64,
    }
}

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct FlowVersion, columns version_columns {
        pub flow_id: String,
        pub version: i64,
        /// The published flow document (JSON text).
        #[serde(skip)]
        pub document: String,
        pub note: Option<String>,
        pub published_by: Option<String>,
        pub published_at: i64,
    }
}

impl Store {
    pub async fn create_flow(&self, id: &str, workspace_id: &str, name: &str, draft: &str, now: i64) -> Result<()> {
        self.write("INSERT INTO flows (id, workspace_id, name, draft, live, require_tests, created_at, updated_at, entry_order) VALUES ($1, $2, $3, $4, FALSE, FALSE, $5, $5, (SELECT COALESCE(MAX(entry_order), -1) + 1 FROM flows WHERE workspace_id = $2))", args![id, workspace_id, name, draft, now]).await?;
        Ok(())
    }

    /// A flow of the workspace (None for another workspace's flow).
    pub async fn flow(&self, workspace_id: &str, id: &str) -> Result<Option<FlowRow>> {
        self.read_optional(
            concat!(
                "SELECT ",
                flow_columns!(),
                " FROM flows WHERE id = $1 AND workspace_id = $2"
            ),
            args![id, workspace_id],
        )
        .await
    }

    pub async fn flows(&self, workspace_id: &str) -> Result<Vec<FlowRow>> {
        self.read_all(
            concat!(
                "SELECT ",
                flow_columns!(),
                " FROM flows WHERE workspace_id = $1 ORDER BY created_at, id"
            ),
            args![workspace_id],
        )
        .await
    }

    /// Replaces the draft; false when the flow is not the workspace's.
    pub async fn update_draft(&self, workspace_id: &str, id: &str, name: &str, draft: &str, now: i64) -> Result<bool> {
        let n = self
            .write(
                "UPDATE flows SET name = $1, draft = $2, updated_at = $3 WHERE id = $4 AND workspace_id = $5",
                args![name, draft, now, id, workspace_id],
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn set_flow_live(&self, workspace_id: &str, id: &str, live: bool, now: i64) -> Result<bool> {
        let n = self
            .write(
                "UPDATE flows SET live = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4",
                args![live, now, id, workspace_id],
            )
            .await?;
        self.routing_changed();
        Ok(n > 0)
    }

    pub async fn set_require_tests(&self, workspace_id: &str, id: &str, require: bool, now: i64) -> Result<bool> {
        let n = self
            .write(
                "UPDATE flows SET require_tests = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4",
                args![require, now, id, workspace_id],
            )
            .await?;
        Ok(n > 0)
    }

    /// Publishes `document` as the flow's next version and makes it the live version.
    /// Returns the new version number.
    pub async fn publish_flow(
        &self,
        workspace_id: &str,
        id: &str,
        document: &str,
        note: Option<&str>,
        published_by: Option<&str>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        // Locks the flow row (PostgreSQL) so two publishes cannot take the same number.
        let owned = tx
            .execute(
                "UPDATE flows SET updated_at = $1 WHERE id = $2 AND workspace_id = $3",
                args![now, id, workspace_id],
            )
            .await?;
        if owned == 0 {
            return Err(StoreError::Conflict("no such flow".into()));
        }
        let (max,): (Option<i64>,) = tx
            .one("SELECT MAX(version) FROM flow_versions WHERE flow_id = $1", args![id])
            .await?;
        let version = max.unwrap_or(0) + 1;
        tx.execute(
            concat!(
                "INSERT INTO flow_versions (",
                version_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            args![id, version, document, note, published_by, now],
        )
        .await?;
        tx.execute("UPDATE flows SET live_version = $1 WHERE id = $2", args![version, id])
            .await?;
        tx.commit().await?;
        self.routing_changed();
        Ok(version)
    }

    pub async fn flow_versions(&self, flow_id: &str) -> Result<Vec<FlowVersion>> {
        self.read_all(
            concat!(
                "SELECT ",
                version_columns!(),
                " FROM flow_versions WHERE flow_id = $1 ORDER BY version DESC"
            ),
            args![flow_id],
        )
        .await
    }

    pub async fn flow_version(&self, flow_id: &str, version: i64) -> Result<Option<FlowVersion>> {
        self.read_optional(
            concat!(
                "SELECT ",
                version_columns!(),
                " FROM flow_versions WHERE flow_id = $1 AND version = $2"
            ),
            args![flow_id, version],
        )
        .await
    }

    /// Sets the entry routing: the flows in `order` come first, in that order (the others keep
    /// theirs, after them), and `fallback` takes what no flow's rules take. False when a flow
    /// named is not the workspace's.
    pub async fn set_routing(&self, workspace_id: &str, order: &[String], fallback: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let listed = i64::try_from(order.len()).unwrap_or(i64::MAX);
        tx.execute(
            "UPDATE flows SET entry_order = entry_order + $1 WHERE workspace_id = $2",
            args![listed, workspace_id],
        )
        .await?;
        for (position, id) in order.iter().enumerate() {
            let position = i64::try_from(position).unwrap_or(i64::MAX);
            let n = tx
                .execute(
                    "UPDATE flows SET entry_order = $1 WHERE id = $2 AND workspace_id = $3",
                    args![position, id.as_str(), workspace_id],
                )
                .await?;
            if n == 0 {
                return Ok(false);
            }
        }
        if let Some(id) = fallback {
            let owned = tx
                .optional::<(String,)>(
                    "SELECT id FROM flows WHERE id = $1 AND workspace_id = $2",
                    args![id, workspace_id],
                )
                .await?;
            if owned.is_none() {
                return Ok(false);
            }
        }
        tx.execute(
            "UPDATE workspaces SET fallback_flow_id = $1 WHERE id = $2",
            args![fallback, workspace_id],
        )
        .await?;
        tx.commit().await?;
        self.routing_changed();
        Ok(true)
    }

    /// The live flows of a workspace that have a published version, in entry-routing order:
    /// each flow's id and live version (no documents read).
    pub async fn live_versions(&self, workspace_id: &str) -> Result<Vec<(String, i64)>> {
        self.read_all("SELECT id, live_version FROM flows WHERE workspace_id = $1 AND live = TRUE AND live_version IS NOT NULL ORDER BY entry_order, created_at, id", args![workspace_id]).await
    }
}

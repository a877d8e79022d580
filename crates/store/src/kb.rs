//! Knowledge-base articles (Markdown) in collections, per workspace.

use crate::sql::{args, stored_row};
use crate::{Result, Store};
use serde::Serialize;

stored_row! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct KbArticle, columns article_columns {
        pub workspace_id: String,
        pub id: String,
        pub collection: String,
        pub title: String,
        pub url: Option<String>,
        pub markdown: String,
        pub updated_at: i64,
    }
}

impl Store {
    /// Creates or replaces an article.
    pub async fn upsert_article(&self, a: &KbArticle) -> Result<()> {
        self.write(concat!("INSERT INTO kb_articles (", article_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (workspace_id, id) DO UPDATE SET collection = excluded.collection, title = excluded.title, url = excluded.url, markdown = excluded.markdown, updated_at = excluded.updated_at"), args![&a.workspace_id, &a.id, &a.collection, &a.title, &a.url, &a.markdown, a.updated_at]).await?;
        self.bump_kb_revision(&a.workspace_id).await
    }

    /// Counts an edit of the workspace's knowledge base (after the edit is written, so whoever
    /// sees the new revision also sees the edit).
    async fn bump_kb_revision(&self, workspace_id: &str) -> Result<()> {
        self.write(
            "UPDATE workspaces SET kb_revision = kb_revision + 1 WHERE id = $1",
            args![workspace_id],
        )
        .await?;
        Ok(())
    }

    /// How many edits the workspace's knowledge base has had.
    pub async fn kb_revision(&self, workspace_id: &str) -> Result<i64> {
        let row: Option<(i64,)> = self
            .read_optional("SELECT kb_revision FROM workspaces WHERE id = $1", args![workspace_id])
            .await?;
        Ok(row.map_or(0, |(r,)| r))
    }

    pub async fn articles(&self, workspace_id: &str) -> Result<Vec<KbArticle>> {
        self.read_all(
            concat!(
                "SELECT ",
                article_columns!(),
                " FROM kb_articles WHERE workspace_id = $1 ORDER BY collection, title, id"
            ),
            args![workspace_id],
        )
        .await
    }

    pub async fn article(&self, workspace_id: &str, id: &str) -> Result<Option<KbArticle>> {
        self.read_optional(
            concat!(
                "SELECT ",
                article_columns!(),
                " FROM kb_articles WHERE workspace_id = $1 AND id = $2"
            ),
            args![workspace_id, id],
        )
        .await
    }

    /// Deletes an article; false when there was none.
    pub async fn delete_article(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let n = self
            .write(
                "DELETE FROM kb_articles WHERE workspace_id = $1 AND id = $2",
                args![workspace_id, id],
            )
            .await?;
        if n > 0 {
            self.bump_kb_revision(workspace_id).await?;
        }
        Ok(n > 0)
    }
}

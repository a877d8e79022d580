//! Knowledge-base articles (Markdown) in collections, per workspace.

use crate::{on_pool, on_read, Result, Store};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct KbArticle {
    pub workspace_id: String,
    pub id: String,
    pub collection: String,
    pub title: String,
    pub url: Option<String>,
    pub markdown: String,
    pub updated_at: i64,
}

impl Store {
    /// Creates or replaces an article.
    pub async fn upsert_article(&self, a: &KbArticle) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO kb_articles (workspace_id, id, collection, title, url, markdown, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (workspace_id, id) DO UPDATE SET collection = excluded.collection, title = excluded.title, url = excluded.url, markdown = excluded.markdown, updated_at = excluded.updated_at")
            .bind(&a.workspace_id).bind(&a.id).bind(&a.collection).bind(&a.title).bind(&a.url).bind(&a.markdown).bind(a.updated_at)
            .execute(pool).await?.rows_affected());
        self.bump_kb_revision(&a.workspace_id).await
    }

    /// Counts an edit of the workspace's knowledge base (after the edit is written, so whoever
    /// sees the new revision also sees the edit).
    async fn bump_kb_revision(&self, workspace_id: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE workspaces SET kb_revision = kb_revision + 1 WHERE id = $1")
            .bind(workspace_id).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// How many edits the workspace's knowledge base has had.
    pub async fn kb_revision(&self, workspace_id: &str) -> Result<i64> {
        let row: Option<(i64,)> = on_read!(self, pool => sqlx::query_as(
            "SELECT kb_revision FROM workspaces WHERE id = $1")
            .bind(workspace_id).fetch_optional(pool).await?);
        Ok(row.map_or(0, |(r,)| r))
    }

    pub async fn articles(&self, workspace_id: &str) -> Result<Vec<KbArticle>> {
        Ok(on_read!(self, pool => sqlx::query_as(
            "SELECT workspace_id, id, collection, title, url, markdown, updated_at FROM kb_articles WHERE workspace_id = $1 ORDER BY collection, title, id")
            .bind(workspace_id).fetch_all(pool).await?))
    }

    pub async fn article(&self, workspace_id: &str, id: &str) -> Result<Option<KbArticle>> {
        Ok(on_read!(self, pool => sqlx::query_as(
            "SELECT workspace_id, id, collection, title, url, markdown, updated_at FROM kb_articles WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id).bind(id).fetch_optional(pool).await?))
    }

    /// Deletes an article; false when there was none.
    pub async fn delete_article(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("DELETE FROM kb_articles WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id).bind(id).execute(pool).await?.rows_affected());
        if n > 0 {
            self.bump_kb_revision(workspace_id).await?;
        }
        Ok(n > 0)
    }
}

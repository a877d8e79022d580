//! Knowledge bases by workspace, indexed for retrieval on first use and updated on edits made
//! here; an index notices edits made by other instances within [`KNOWLEDGE_CHECK`].

use super::TurnError;
use baton_ai::Embedder;
use baton_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// How often a loaded knowledge base checks that no other instance edited it.
const KNOWLEDGE_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// A workspace's index and the knowledge-base revision it reflects.
struct CachedKnowledge {
    index: baton_ai::Knowledge,
    revision: i64,
    checked: Instant,
}

/// An edit of a knowledge base, for [`KnowledgeCache::changed`].
pub enum KnowledgeChange {
    Written(baton_store::KbArticle),
    Removed(String),
}

fn knowledge_article(a: baton_store::KbArticle) -> baton_ai::Article {
    baton_ai::Article {
        id: a.id,
        collection: a.collection,
        title: a.title,
        url: a.url,
        markdown: a.markdown,
    }
}

/// The indexes, by workspace.
pub struct KnowledgeCache {
    store: Store,
    /// The sentence embedder loaded at start, if any: indexes embed with it.
    embedder: Option<Arc<dyn Embedder>>,
    indexes: tokio::sync::Mutex<HashMap<String, CachedKnowledge>>,
}

fn store_error(e: baton_store::StoreError) -> TurnError {
    TurnError::Store(e.to_string())
}

impl KnowledgeCache {
    pub fn new(store: Store, embedder: Option<Arc<dyn Embedder>>) -> KnowledgeCache {
        KnowledgeCache {
            store,
            embedder,
            indexes: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The workspace's knowledge base (articles indexed for retrieval). The index is kept while
    /// the workspace's knowledge-base revision is unchanged (read at most every knowledge-base revision is unchanged (read at most every
    /// [`KNOWLEDGE_CHECK`]), so an edit made on another instance is seen within that time.
    pub async fn get(&self, workspace_id: &str) -> Result<baton_ai::Knowledge, TurnError> {
        let mut cache = self.indexes.lock().await;
        if let Some(cached) = cache.get(workspace_id) {
            if cached.checked.elapsed() < KNOWLEDGE_CHECK {
                return Ok(cached.index.clone());
            }
        }
        let revision = self.store.kb_revision(workspace_id).await.map_err(store_error)?;
        if let Some(cached) = cache.get_mut(workspace_id).filter(|c| c.revision == revision) {
            cached.checked = Instant::now();
            return Ok(cached.index.clone());
        }
        let mut base = match &self.embedder {
            Some(e) => baton_ai::KnowledgeBase::with_embedder(e.clone()),
            None => baton_ai::KnowledgeBase::new(),
        };
        let articles = self.store.articles(workspace_id).await.map_err(store_error)?;
        // Chunking (and embedding) is CPU work: off the async threads.
        let base = tokio::task::spawn_blocking(move || {
            for a in articles {
                if let Err(e) = base.upsert(knowledge_article(a)) {
                    tracing::warn!(error = %e, "an article could not be indexed");
                }
            }
            base
        })
        .await
        .map_err(|e| TurnError::Internal(format!("indexing the knowledge base failed: {e}")))?;
        let index = baton_ai::Knowledge::new(base);
        cache.insert(
            workspace_id.to_string(),
            CachedKnowledge {
                index: index.clone(),
                revision,
                checked: Instant::now(),
            },
        );
        Ok(index)
    }

    /// Updates a loaded index after this instance wrote `changed` (written or removed articles)
    /// and counted them in the revision; an index that missed other edits is dropped instead.
    pub async fn changed(&self, workspace_id: &str, changed: Vec<KnowledgeChange>) -> Result<(), TurnError> {
        let mut cache = self.indexes.lock().await;
        let Some(cached) = cache.get_mut(workspace_id) else {
            return Ok(());
        };
        let revision = self.store.kb_revision(workspace_id).await.map_err(store_error)?;
        if revision != cached.revision + changed.len() as i64 {
            cache.remove(workspace_id);
            return Ok(());
        }
        let index = cached.index.clone();
        tokio::task::spawn_blocking(move || {
            for change in changed {
                match change {
                    KnowledgeChange::Written(a) => {
                        if let Err(e) = index.upsert(knowledge_article(a)) {
                            tracing::warn!(error = %e, "an article could not be indexed");
                        }
                    }
                    KnowledgeChange::Removed(id) => {
                        index.remove(&id);
                    }
                }
            }
        })
        .await
        .map_err(|e| TurnError::Internal(format!("indexing the knowledge base failed: {e}")))?;
        cached.revision = revision;
        cached.checked = Instant::now();
        Ok(())
    }
}

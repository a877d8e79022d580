//! The knowledge base: Markdown articles in collections, the source of Let AI Answer. Edits
//! update this instance's index in place at once; other instances notice the new revision
//! within two seconds and read the articles again.

use crate::auth::{Caller, Role};
use crate::engine::KnowledgeChange;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::pages::{page_of, Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use baton_store::KbArticle;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Largest article, in bytes.
const MAX_ARTICLE_CHARS: usize = 200 * 1024;
/// Most articles in one import.
const MAX_IMPORT: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/kb/articles", get(list))
        .route("/api/v1/kb/articles/{id}", get(article).put(upsert).delete(remove))
        .route("/api/v1/kb/import", post(import))
}

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct ArticleRequest {
    /// e.g. `help`; Let AI Answer nodes may name the collections they answer from.
    #[schema(min_length = 1, max_length = 100)]
    pub collection: String,
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    /// Shown with answers as the source.
    #[serde(default)]
    #[schema(pattern = "^https?://")]
    pub url: Option<String>,
    /// At most 200 KiB.
    #[schema(min_length = 1, max_length = 204800)]
    pub markdown: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// Articles with their ids; an existing id is replaced. At most 500.
    #[schema(max_items = 500)]
    pub articles: Vec<ImportArticle>,
}

/// An article with its id: the fields of an article and `id` side by side (not nested), so the
/// schema is one closed object.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportArticle {
    #[schema(min_length = 1, max_length = 200)]
    pub id: String,
    #[schema(min_length = 1, max_length = 100)]
    pub collection: String,
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[serde(default)]
    #[schema(pattern = "^https?://")]
    pub url: Option<String>,
    #[schema(min_length = 1, max_length = 204800)]
    pub markdown: String,
}

impl ImportArticle {
    fn into_parts(self) -> (String, ArticleRequest) {
        let article = ArticleRequest {
            collection: self.collection,
            title: self.title,
            url: self.url,
            markdown: self.markdown,
        };
        (self.id, article)
    }
}

fn check(field: &str, id: &str, a: &ArticleRequest) -> ApiResult<()> {
    if id.is_empty() || id.chars().count() > 200 {
        return Err(ApiError::invalid_field(&format!("{field}id"), "1 to 200 characters"));
    }
    if a.collection.trim().is_empty() || a.collection.chars().count() > 100 {
        return Err(ApiError::invalid_field(
            &format!("{field}collection"),
            "1 to 100 characters",
        ));
    }
    if a.title.trim().is_empty() || a.title.chars().count() > 300 {
        return Err(ApiError::invalid_field(&format!("{field}title"), "1 to 300 characters"));
    }
    if a.markdown.trim().is_empty() || a.markdown.chars().count() > MAX_ARTICLE_CHARS {
        return Err(ApiError::invalid_field(
            &format!("{field}markdown"),
            format!("1 to {MAX_ARTICLE_CHARS} characters"),
        ));
    }
    if let Some(u) = &a.url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(ApiError::invalid_field(&format!("{field}url"), "an http(s) address"));
        }
    }
    Ok(())
}

async fn save(state: &AppState, caller: &Caller, id: &str, a: ArticleRequest) -> ApiResult<KnowledgeChange> {
    let row = KbArticle {
        workspace_id: caller.workspace_id.clone(),
        id: id.to_string(),
        collection: a.collection.trim().to_string(),
        title: a.title.trim().to_string(),
        url: a.url,
        markdown: a.markdown,
        updated_at: state.core.clock.now_ms(),
    };
    state.core.store.upsert_article(&row).await?;
    Ok(KnowledgeChange::Written(row))
}

/// An article in the list (without its text).
#[derive(Serialize, ToSchema)]
pub struct ArticleSummary {
    pub id: String,
    pub collection: String,
    pub title: String,
    #[schema(required = true)]
    pub url: Option<String>,
    /// The Markdown's size in bytes.
    pub bytes: usize,
    pub updated_at: i64,
}

/// An article with its Markdown.
#[derive(Serialize, ToSchema)]
pub struct ArticleView {
    pub id: String,
    pub collection: String,
    pub title: String,
    #[schema(required = true)]
    pub url: Option<String>,
    pub markdown: String,
    pub updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Saved {
    pub id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    /// How many articles were written.
    pub imported: usize,
}

/// The articles (without their text).
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "knowledge", security(("session" = []), ("api_key" = [])),
    params(crate::pages::PageParams),
    responses((status = 200, body = Page<ArticleSummary>), (status = 422, body = crate::error::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ArticleSummary>>> {
    caller.require(Role::Agent)?;
    let articles = state
        .core
        .store
        .articles(&caller.workspace_id)
        .await?
        .into_iter()
        .map(|a| ArticleSummary {
            bytes: a.markdown.len(),
            id: a.id,
            collection: a.collection,
            title: a.title,
            url: a.url,
            updated_at: a.updated_at,
        })
        .collect();
    Ok(Json(page_of(articles, |a: &ArticleSummary| a.id.clone(), &page)?))
}

/// One article with its Markdown.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), responses((status = 200, body = ArticleView), (status = 404, body = crate::error::ErrorBody)))]
async fn article(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ArticleView>> {
    caller.require(Role::Agent)?;
    let a = state
        .core
        .store
        .article(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("article"))?;
    Ok(Json(ArticleView {
        id: a.id,
        collection: a.collection,
        title: a.title,
        url: a.url,
        markdown: a.markdown,
        updated_at: a.updated_at,
    }))
}

/// Creates or replaces an article; the index is updated at once.
#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), request_body = ArticleRequest,
    responses((status = 200, body = Saved), (status = 422, body = crate::error::ErrorBody)))]
async fn upsert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ArticleRequest>,
) -> ApiResult<Json<Saved>> {
    caller.require(Role::Admin)?;
    check("", &id, &req)?;
    let change = save(&state, &caller, &id, req).await?;
    state.core.knowledge.changed(&caller.workspace_id, vec![change]).await?;
    Ok(Json(Saved { id }))
}

/// Deletes an article.
#[utoipa::path(delete, path = "/api/v1/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path)),
    security(("session" = []), ("api_key" = [])), responses((status = 204, description = "deleted"), (status = 404, body = crate::error::ErrorBody)))]
async fn remove(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    if !state.core.store.delete_article(&caller.workspace_id, &id).await? {
        return Err(ApiError::not_found("article"));
    }
    state
        .core
        .knowledge
        .changed(&caller.workspace_id, vec![KnowledgeChange::Removed(id)])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports many articles at once (what `baton kb import` reads from a folder).
#[utoipa::path(post, path = "/api/v1/kb/import", tag = "knowledge", security(("session" = []), ("api_key" = [])),
    request_body = ImportRequest, responses((status = 200, body = Imported), (status = 422, body = crate::error::ErrorBody)))]
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ImportRequest>,
) -> ApiResult<Json<Imported>> {
    caller.require(Role::Admin)?;
    if req.articles.len() > MAX_IMPORT {
        return Err(ApiError::invalid_field(
            "articles",
            format!("at most {MAX_IMPORT} articles per import"),
        ));
    }
    let articles: Vec<(String, ArticleRequest)> = req.articles.into_iter().map(ImportArticle::into_parts).collect();
    for (i, (id, article)) in articles.iter().enumerate() {
        check(&format!("articles[{i}]."), id, article)?;
    }
    let count = articles.len();
    let mut changes = Vec::with_capacity(count);
    for (id, article) in articles {
        changes.push(save(&state, &caller, &id, article).await?);
    }
    state.core.knowledge.changed(&caller.workspace_id, changes).await?;
    Ok(Json(Imported { imported: count }))
}

//! Pages of a list: `?limit=&cursor=` in, `{"items", "total", "next_cursor"}` out — the shape
//! of every list the API answers (docs/api.md#lists).

use crate::error::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Items on a page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;
/// Most items on one page.
pub const MAX_LIMIT: usize = 500;

/// The query parameters of every list, as the OpenAPI document shows them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items on the page: 1 to 500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items the list has, on all pages.
    pub total: i64,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The page a request asks for. Both are text, so a bad value is a `422` naming it.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub limit: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// `limit`, checked: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
    pub fn limit(&self) -> ApiResult<usize> {
        match self.limit.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_LIMIT),
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| ApiError::invalid_field("limit", format!("1 to {MAX_LIMIT}"))),
        }
    }

    fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty())
    }
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_field("cursor", "not a cursor of this list: pass `next_cursor` as it came")
}

/// A page of a list the store gave whole, in its order. The cursor names the last item given
/// (`<position>.<id>`): the next page starts after that item, wherever it is now, so items
/// added or removed meanwhile do not repeat what was given.
pub fn page_of<T>(all: Vec<T>, id: impl Fn(&T) -> String, q: &PageQuery) -> ApiResult<Page<T>> {
    let limit = q.limit()?;
    let start = match q.cursor() {
        None => 0,
        Some(cursor) => {
            let (position, last_id) = cursor.split_once('.').ok_or_else(bad_cursor)?;
            let position: usize = position.parse().map_err(|_| bad_cursor())?;
            match all.iter().position(|item| id(item) == last_id) {
                Some(at) => at + 1,
                // The last item given is gone: go on from where it was.
                None => position.min(all.len()),
            }
        }
    };
    let total = all.len() as i64;
    let end = (start + limit).min(all.len());
    let next_cursor = (end < all.len() && end > 0).then(|| format!("{}.{}", end, id(&all[end - 1])));
    let items = all.into_iter().skip(start).take(end.saturating_sub(start)).collect();
    Ok(Page {
        items,
        total,
        next_cursor,
    })
}

/// `cursor` of a list paged by a number that falls from page to page (newest first by id).
pub fn before_id(q: &PageQuery) -> ApiResult<Option<i64>> {
    q.cursor()
        .map(|c| c.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(bad_cursor))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: &str, cursor: &str) -> PageQuery {
        PageQuery {
            limit: Some(limit.into()),
            cursor: Some(cursor.into()),
        }
    }

    fn ids(page: &Page<String>) -> Vec<&str> {
        page.items.iter().map(String::as_str).collect()
    }

    #[test]
    fn pages_cover_the_list_once_and_end_with_no_cursor() {
        let all: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let first = page_of(all.clone(), |s| s.clone(), &query("2", "")).expect("first page");
        assert_eq!((ids(&first), first.total), (vec!["a", "b"], 5));
        let cursor = first.next_cursor.expect("a second page");
        let second = page_of(all.clone(), |s| s.clone(), &query("2", &cursor)).expect("second page");
        assert_eq!(ids(&second), ["c", "d"]);
        let third = page_of(
            all.clone(),
            |s| s.clone(),
            &query("2", &second.next_cursor.expect("third")),
        )
        .expect("third");
        assert_eq!(ids(&third), ["e"]);
        assert_eq!(third.next_cursor, None);
        let whole = page_of(all, |s| s.clone(), &PageQuery::default()).expect("one page");
        assert_eq!((whole.items.len(), whole.next_cursor), (5, None));
    }

    #[test]
    fn a_removed_or_added_item_does_not_repeat_what_was_given() {
        let all: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let first = page_of(all, |s| s.clone(), &query("2", "")).expect("first page");
        let cursor = first.next_cursor.expect("more");
        let added: Vec<String> = ["0", "a", "b", "c", "d"].map(String::from).to_vec();
        assert_eq!(
            ids(&page_of(added, |s| s.clone(), &query("2", &cursor)).expect("after an add")),
            ["c", "d"]
        );
        let removed: Vec<String> = ["a", "c", "d"].map(String::from).to_vec();
        assert_eq!(
            ids(&page_of(removed, |s| s.clone(), &query("2", &cursor)).expect("after a removal")),
            ["d"]
        );
    }

    #[test]
    fn bad_limits_and_cursors_name_their_field() {
        let all: Vec<String> = vec!["a".into()];
        for (limit, cursor, field) in [
            ("0", "", "limit"),
            ("501", "", "limit"),
            ("x", "", "limit"),
            ("1", "nope", "cursor"),
            ("1", "x.a", "cursor"),
        ] {
            let err = page_of(all.clone(), |s| s.clone(), &query(limit, cursor)).expect_err("refused");
            assert_eq!(err.field.as_deref(), Some(field), "{limit} {cursor}");
        }
        assert!(before_id(&query("1", "-3")).is_err());
        assert_eq!(before_id(&query("1", "42")).expect("a number"), Some(42));
    }
}

//! Cursor pagination: `?limit=&after=` (and a time range, `since` and `until`) in,
//! `{data, next_cursor}` out.
//!
//! Ids sort by creation time, so the last id of a page is the cursor of the next one; a
//! cursor stays valid however many items are added meanwhile.

use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::json::QueryPairs;
use crate::domain::{FieldError, PrefixedId};
use crate::store::Page;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 250;

/// One page of a list, newest first.
#[derive(Serialize, ToSchema)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    /// Pass as `after` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Reads `limit` and `after` (an id of the listed kind `I`); asks the store for one extra item
/// to know if a next page exists.
pub fn page_from<I: PrefixedId>(q: &QueryPairs) -> Result<Page, ApiError> {
    let limit = match q.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as u32,
            _ => {
                return Err(ApiError::field(
                    "limit",
                    format!("must be an integer from 1 to {MAX_LIMIT}"),
                ))
            }
        },
    };
    let before = match q.get("after").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match I::parse_id(raw) {
            Ok(id) => Some(id.as_id_str().to_owned()),
            Err(e) => {
                return Err(ApiError::BadParameter(FieldError::new(
                    "after",
                    format!("{e}; pass the next_cursor of the previous page"),
                )))
            }
        },
    };
    Ok(Page {
        limit: limit + 1,
        before,
        since: moment(q, "since")?,
        until: moment(q, "until")?,
    })
}

/// A time bound (`since`, `until`: RFC 3339).
fn moment(q: &QueryPairs, field: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    let Some(raw) = q.get(field).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let at = chrono::DateTime::parse_from_rfc3339(raw).map_err(|_| {
        ApiError::field(field, "must be an RFC 3339 time, e.g. 2026-12-01T09:30:00Z")
    })?;
    if at.timestamp_millis() < 0 {
        return Err(ApiError::field(field, "must not be before 1970"));
    }
    Ok(Some(at.to_utc()))
}

/// Cuts the extra item off and makes the cursor from the last one kept.
pub fn respond<T>(mut items: Vec<T>, page: &Page, id: impl Fn(&T) -> String) -> ListResponse<T> {
    let wanted = page.limit.saturating_sub(1) as usize;
    let next_cursor = if items.len() > wanted {
        items.truncate(wanted);
        items.last().map(id)
    } else {
        None
    };
    ListResponse {
        data: items,
        next_cursor,
    }
}

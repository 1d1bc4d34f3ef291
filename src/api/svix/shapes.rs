//! What Svix's lists and maps look like, and their translation from Herald's.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::api::pagination::ListResponse;
use crate::domain::FieldError;

/// A page of a Svix list: `iterator` continues it, `done` says there is nothing after.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    pub iterator: Option<String>,
    pub prev_iterator: Option<String>,
    pub done: bool,
}

impl<T> Page<T> {
    /// Herald's page of `H`, each item turned into Svix's shape.
    pub fn from_herald<H>(page: ListResponse<H>, shape: impl Fn(H) -> T) -> Self {
        Page {
            done: page.next_cursor.is_none(),
            iterator: page.next_cursor,
            prev_iterator: None,
            data: page.data.into_iter().map(shape).collect(),
        }
    }
}

/// Herald's free-form metadata as Svix's map of strings: strings as they are, any other
/// value as its JSON text.
pub fn string_map(metadata: &Value) -> BTreeMap<String, String> {
    match metadata {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Svix's map of strings as Herald's metadata object.
pub fn metadata(map: Option<BTreeMap<String, String>>) -> Option<Value> {
    map.map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
}

/// A 422 for a Svix field Herald has no equivalent of, when the request sets it.
pub fn unsupported<T>(field: &str, value: &Option<T>, why: &str) -> Result<(), ApiError> {
    match value {
        None => Ok(()),
        Some(_) => Err(ApiError::Invalid(vec![FieldError::new(
            field,
            format!("is not supported by Herald: {why}"),
        )])),
    }
}

/// Like [`unsupported`], for lists: an empty list asks for nothing.
pub fn unsupported_list<T>(field: &str, value: &Option<Vec<T>>, why: &str) -> Result<(), ApiError> {
    match value {
        Some(v) if !v.is_empty() => unsupported(field, &Some(()), why),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_becomes_strings_and_back() {
        let shown = string_map(&json!({"plan": "pro", "seats": 5, "tags": ["a"]}));
        assert_eq!(shown["plan"], "pro");
        assert_eq!(shown["seats"], "5");
        assert_eq!(shown["tags"], "[\"a\"]");
        let back = metadata(Some(BTreeMap::from([("k".to_owned(), "v".to_owned())])));
        assert_eq!(back, Some(json!({"k": "v"})));
        assert!(string_map(&json!(null)).is_empty());
    }

    #[test]
    fn a_page_is_done_without_a_cursor() {
        let last = ListResponse {
            data: vec![1, 2],
            next_cursor: None,
        };
        let page = Page::from_herald(last, |n| n * 10);
        assert!(page.done);
        assert_eq!(page.data, vec![10, 20]);
        let more = ListResponse {
            data: vec![1],
            next_cursor: Some("x".to_owned()),
        };
        let page = Page::from_herald(more, |n| n);
        assert!(!page.done);
        assert_eq!(page.iterator.as_deref(), Some("x"));
    }

    #[test]
    fn unsupported_fields_are_named_only_when_set() {
        assert!(unsupported::<u32>("throttleRate", &None, "x").is_ok());
        assert!(unsupported("throttleRate", &Some(5), "x").is_err());
        assert!(unsupported_list::<String>("channels", &Some(vec![]), "x").is_ok());
        assert!(unsupported_list("channels", &Some(vec!["a"]), "x").is_err());
    }
}

//! Herald's errors in Svix's shape.
//!
//! Svix's clients read `{"code", "detail"}` from an error, and from a 422
//! `{"detail": [{"loc", "msg", "type"}]}`. Herald's handlers, extractors and limits all answer
//! problem+json; rather than teach each of them a second shape, one layer rewrites the body
//! of every problem leaving these routes, keeping its status and headers (`Retry-After`),
//! and names fields as the Svix request named them (body fields, or a GET's parameters).

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{json, Value};

/// A problem body is small; anything larger is passed on as it is.
const MAX_PROBLEM: usize = 64 * 1024;

/// Herald's names of body fields, as the Svix request spelled them.
const BODY: [(&str, &str); 7] = [
    ("events", "filterTypes"),
    ("rate_limit_per_s", "rateLimit"),
    ("enabled", "disabled"),
    ("type", "eventType"),
    ("data", "payload"),
    ("idempotency_key", "eventId"),
    ("grace_period_s", "gracePeriodSeconds"),
];

/// Herald's names of query parameters, as Svix's.
const QUERY: [(&str, &str); 3] = [
    ("after", "iterator"),
    ("since", "after"),
    ("until", "before"),
];

pub async fn reshape(req: Request, next: Next) -> Response {
    let names = match *req.method() {
        Method::GET => &QUERY[..],
        _ => &BODY[..],
    };
    let resp = next.run(req).await;
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let small = resp
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_PROBLEM as u64);
    if !is_problem || !small {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PROBLEM).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(problem) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let shaped = svix_body(parts.status, &problem, names);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(shaped.to_string()))
}

/// Svix's error body for Herald's problem.
fn svix_body(status: StatusCode, problem: &Value, names: &[(&str, &str)]) -> Value {
    let code = problem["type"]
        .as_str()
        .and_then(|t| t.rsplit('/').next())
        .unwrap_or("error")
        .replace('-', "_");
    let detail = problem["detail"].as_str().unwrap_or_default();
    let fields = problem["errors"].as_array().filter(|e| !e.is_empty());
    match (status, fields) {
        (StatusCode::UNPROCESSABLE_ENTITY, Some(fields)) => {
            let detail: Vec<Value> = fields
                .iter()
                .map(|f| {
                    let field = svix_field(f["field"].as_str().unwrap_or_default(), names);
                    json!({
                        "loc": [if names == QUERY { "query" } else { "body" }, field],
                        "msg": format!("{field}: {}", f["message"].as_str().unwrap_or_default()),
                        "type": "value_error",
                    })
                })
                .collect();
            json!({"code": code, "detail": detail})
        }
        (_, Some(fields)) => {
            let field = svix_field(fields[0]["field"].as_str().unwrap_or_default(), names);
            let message = fields[0]["message"].as_str().unwrap_or_default();
            json!({"code": code, "detail": format!("{field}: {message}")})
        }
        _ => json!({"code": code, "detail": detail}),
    }
}

/// `events[2]` -> `filterTypes[2]`, `data.room` -> `payload.room`; other names as they are.
fn svix_field(field: &str, names: &[(&str, &str)]) -> String {
    let end = field.find(['.', '[']).unwrap_or(field.len());
    let (head, rest) = field.split_at(end);
    match names.iter().find(|(herald, _)| *herald == head) {
        Some((_, svix)) => format!("{svix}{rest}"),
        None => field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_take_their_svix_names() {
        assert_eq!(svix_field("events[2]", &BODY), "filterTypes[2]");
        assert_eq!(svix_field("data.room.id", &BODY), "payload.room.id");
        assert_eq!(svix_field("url", &BODY), "url");
        assert_eq!(svix_field("eventsx", &BODY), "eventsx");
        assert_eq!(svix_field("since", &BODY), "since");
        assert_eq!(svix_field("since", &QUERY), "after");
    }

    #[test]
    fn a_validation_problem_lists_each_field() {
        let problem = json!({"type": "/problems/validation", "status": 422, "detail": "x",
            "errors": [{"field": "events[0]", "message": "unknown event type 'a'"}]});
        let body = svix_body(StatusCode::UNPROCESSABLE_ENTITY, &problem, &BODY);
        assert_eq!(body["code"], "validation");
        assert_eq!(body["detail"][0]["loc"], json!(["body", "filterTypes[0]"]));
        assert_eq!(body["detail"][0]["type"], "value_error");
    }

    #[test]
    fn other_problems_keep_code_and_detail() {
        let problem = json!({"type": "/problems/not-found", "status": 404,
            "detail": "app 'x' not found"});
        let body = svix_body(StatusCode::NOT_FOUND, &problem, &BODY);
        assert_eq!(
            body,
            json!({"code": "not_found", "detail": "app 'x' not found"})
        );
        let bad = json!({"type": "/problems/bad-request", "detail": "d",
            "errors": [{"field": "after", "message": "not an id"}]});
        let body = svix_body(StatusCode::BAD_REQUEST, &bad, &QUERY);
        assert_eq!(body["detail"], "iterator: not an id");
    }
}

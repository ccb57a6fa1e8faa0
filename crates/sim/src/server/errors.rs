//! Error responses in the documented shapes: Graph's `{"error":{code,message,
//! innerError}}` and the identity platform's `{error, error_description, ...}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::SimClock;

/// A Graph error response.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<String>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("Resource not found: {what}"),
        )
    }
    pub fn throttled(message: impl Into<String>, retry_after: String) -> Self {
        GraphError {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message)
        }
    }

    /// Renders the error; `request_id` makes each response traceable like Graph's.
    pub fn render(&self, clock: &SimClock, request_id: u64) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": clock.now_rfc3339(),
                    "request-id": format!("{request_id:08x}-0000-4000-8000-000000000000"),
                    "client-request-id": format!("{request_id:08x}-0000-4000-8000-000000000000"),
                }
            }
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(ra) = &self.retry_after
            && let Ok(v) = HeaderValue::from_str(ra)
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// An identity-platform (OAuth 2.0) error response.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl OAuthError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        OAuthError {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    pub fn render(&self, clock: &SimClock, request_id: u64) -> Response {
        let trace = format!("{request_id:08x}-1111-4000-8000-000000000000");
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {trace}\r\nTimestamp: {}",
                self.code, self.description, clock.now_rfc3339()
            ),
            "error_codes": [self.code],
            "timestamp": clock.now_rfc3339(),
            "trace_id": trace,
            "correlation_id": trace,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

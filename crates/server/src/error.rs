//! The API's error: a status and a message (for input errors, the CLI's message), rendered
//! as JSON; the conversions from the store's and axum's errors.

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::EngineError;
use serde_json::{json, Value};

#[allow(clippy::wildcard_imports)]
use crate::*;

/// An API error: a status and a message (for input errors, the CLI's message), as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    diagnostics: Vec<Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn body_too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} MiB\n  fix: send a smaller scenario or spec",
                BODY_LIMIT_BYTES / (1024 * 1024)
            ),
        )
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub(crate) fn from_engine(error: EngineError) -> ApiError {
        let EngineError::Invalid(diagnostics) = error;
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: diagnostics.to_string(),
            diagnostics: diagnostics
                .0
                .iter()
                .map(|d| {
                    json!({
                        "file": d.file, "line": d.line, "column": d.column,
                        "field": d.field, "message": d.message, "hint": d.hint,
                    })
                })
                .collect(),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::internal(e.to_string())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::body_too_large();
        }
        ApiError::new(status, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if !self.diagnostics.is_empty() {
            body["diagnostics"] = Value::Array(self.diagnostics);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// What a handler returns.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

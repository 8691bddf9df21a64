//! The error envelope `{code, message, issues?}` and its closed set of codes.
//!
//! Every error the server answers with (other than the action route's own
//! `{status: "error", ...}` body) uses [`ErrorEnvelope`]. Each [`ErrorCode`]
//! has exactly one HTTP status, given by [`ErrorCode::http_status`]; the
//! server maps errors to statuses through this table and nowhere else.

use serde::{Deserialize, Serialize};

/// The machine-readable error code of an [`ErrorEnvelope`].
///
/// Serialised as its upper snake case name (`"INVALID_REQUEST"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The request is malformed or fails validation (400).
    InvalidRequest,
    /// No usable authentication token was presented (401).
    Unauthorized,
    /// The token is unknown or lacks a required role (403).
    Forbidden,
    /// The route or the addressed resource does not exist (404).
    NotFound,
    /// The route exists but not for this HTTP method (405).
    MethodNotAllowed,
    /// The request did not arrive in time (its body was too slow); the
    /// connection is closed (408).
    RequestTimeout,
    /// The request conflicts with the current state (409).
    Conflict,
    /// The request body exceeds the size limit (413).
    PayloadTooLarge,
    /// The request body has a media type the route does not accept (415).
    UnsupportedMediaType,
    /// The caller holds too many of a limited resource (open event
    /// streams) (429).
    TooManyRequests,
    /// The server cannot serve the request right now (503).
    ServiceUnavailable,
    /// The server cannot save changes right now: its database cannot be
    /// written (a full or read-only disk, a database server down). Reads go
    /// on; retry the write after `Retry-After` (503).
    StorageUnavailable,
    /// An unexpected server-side failure (500); details are never sent.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 13] = [
        Self::InvalidRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::RequestTimeout,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::TooManyRequests,
        Self::ServiceUnavailable,
        Self::StorageUnavailable,
        Self::Internal,
    ];

    /// The HTTP status code this error code is sent with.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::RequestTimeout => 408,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::TooManyRequests => 429,
            Self::ServiceUnavailable | Self::StorageUnavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The code for an HTTP status, if the status belongs to one (the
    /// general one where several share it: 503 is `SERVICE_UNAVAILABLE`).
    pub fn from_http_status(status: u16) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|code| code.http_status() == status)
    }

    /// The wire spelling of the code, as it appears in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
            Self::Conflict => "CONFLICT",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::TooManyRequests => "TOO_MANY_REQUESTS",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::StorageUnavailable => "STORAGE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response: `{code, message, issues?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// What kind of error this is; decides the HTTP status.
    pub code: ErrorCode,
    /// A human-readable message; for known cases a fixed wire literal.
    pub message: String,
    /// Details of a validation failure; absent for other errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues: Option<Vec<Issue>>,
}

impl ErrorEnvelope {
    /// An envelope without issues.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            issues: None,
        }
    }
}

/// One validation problem inside [`ErrorEnvelope::issues`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// What is wrong, for a human.
    pub message: String,
    /// Where in the request body the problem is (object keys and array
    /// indexes from the root); empty or absent when it concerns the whole
    /// body or the position is unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathSegment>,
}

impl Issue {
    /// An issue about the request as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            path: Vec::new(),
        }
    }
}

/// One step of an [`Issue::path`]: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// An array index.
    Index(u64),
    /// An object key.
    Key(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_have_the_documented_statuses() {
        let table: Vec<(&str, u16)> = ErrorCode::ALL
            .iter()
            .map(|code| (code.as_str(), code.http_status()))
            .collect();
        assert_eq!(
            table,
            vec![
                ("INVALID_REQUEST", 400),
                ("UNAUTHORIZED", 401),
                ("FORBIDDEN", 403),
                ("NOT_FOUND", 404),
                ("METHOD_NOT_ALLOWED", 405),
                ("REQUEST_TIMEOUT", 408),
                ("CONFLICT", 409),
                ("PAYLOAD_TOO_LARGE", 413),
                ("UNSUPPORTED_MEDIA_TYPE", 415),
                ("TOO_MANY_REQUESTS", 429),
                ("SERVICE_UNAVAILABLE", 503),
                ("STORAGE_UNAVAILABLE", 503),
                ("INTERNAL", 500),
            ]
        );
    }

    #[test]
    fn serde_spelling_matches_as_str() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            let back: ErrorCode = serde_json::from_value(json!(code.as_str())).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn status_lookup_round_trips_and_rejects_unknown_statuses() {
        for code in ErrorCode::ALL {
            let general = ErrorCode::from_http_status(code.http_status()).unwrap();
            assert_eq!(general.http_status(), code.http_status());
        }
        assert_eq!(
            ErrorCode::from_http_status(503),
            Some(ErrorCode::ServiceUnavailable)
        );
        assert_eq!(ErrorCode::from_http_status(418), None);
        assert_eq!(ErrorCode::from_http_status(200), None);
    }

    #[test]
    fn envelope_omits_absent_issues() {
        let envelope = ErrorEnvelope::new(ErrorCode::NotFound, "gone");
        assert_eq!(
            serde_json::to_value(&envelope).unwrap(),
            json!({"code": "NOT_FOUND", "message": "gone"})
        );
    }

    #[test]
    fn envelope_with_issues_round_trips() {
        let envelope = ErrorEnvelope {
            code: ErrorCode::InvalidRequest,
            message: "Invalid session create request.".to_owned(),
            issues: Some(vec![
                Issue::new("expected value at line 1 column 1"),
                Issue {
                    message: "invalid type".to_owned(),
                    path: vec![
                        PathSegment::Key("playerNames".to_owned()),
                        PathSegment::Index(0),
                    ],
                },
            ]),
        };
        let value = serde_json::to_value(&envelope).unwrap();
        assert_eq!(
            value,
            json!({
                "code": "INVALID_REQUEST",
                "message": "Invalid session create request.",
                "issues": [
                    {"message": "expected value at line 1 column 1"},
                    {"message": "invalid type", "path": ["playerNames", 0]}
                ]
            })
        );
        let back: ErrorEnvelope = serde_json::from_value(value).unwrap();
        assert_eq!(back, envelope);
    }
}

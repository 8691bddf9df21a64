//! [`ApiJson`]: the JSON body extractor whose failures are envelopes.
//!
//! Rules, checked in this order:
//! 1. No body at all (whatever the `Content-Type`): [`BodyRejection::Missing`]
//!    (400), or `None` when extracting `Option<ApiJson<T>>`.
//! 2. `Content-Type` is not `application/json` (parameters allowed; a
//!    `charset` must be UTF-8): 415.
//! 3. Body larger than [`BODY_LIMIT_BYTES`]: 413.
//! 4. Not JSON, not a JSON object, or JSON of the wrong shape: 400 with
//!    serde's message (and the path to the offending field) in `issues`.
//!
//! Handlers that need their route's literal message take
//! `Result<ApiJson<T>, BodyRejection>` and call
//! [`BodyRejection::with_message`]; this also lets a route decide whether the
//! body or the caller is checked first.

use std::borrow::Cow;

use axum::body::{Bytes, HttpBody};
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kb_protocol::{ErrorCode, Issue, PathSegment};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest request body the server reads: 1 MiB.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// A JSON request body of type `T` (as an extractor) or a JSON response
/// body (as a response).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiJson<T>(pub T);

/// Why a request body could not be turned into an [`ApiJson`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRejection {
    /// The request has no body (400).
    Missing,
    /// The body is not declared as `application/json` (415).
    UnsupportedMediaType,
    /// The body is larger than [`BODY_LIMIT_BYTES`] (413).
    TooLarge,
    /// The body could not be read, for example because the client hung up
    /// (400).
    Unreadable,
    /// The body did not arrive within the body timeout
    /// ([`crate::limits`]): 408, and the connection is closed.
    TimedOut,
    /// The body is not JSON, or not JSON of the expected shape (400).
    Invalid {
        /// serde's description of the problem, with its location.
        issue: Issue,
    },
}

impl BodyRejection {
    /// Whether this is a validation failure (400) rather than a transport
    /// problem (413/415). Routes with their own error body (the action
    /// route) answer validation failures in that body.
    pub fn is_invalid_body(&self) -> bool {
        matches!(
            self,
            Self::Missing | Self::Unreadable | Self::Invalid { .. }
        )
    }

    /// The details of a validation failure, for `issues`.
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            Self::Missing => vec![Issue::new("Request body is required.")],
            Self::Unreadable => vec![Issue::new("Request body could not be read.")],
            Self::Invalid { issue } => vec![issue.clone()],
            Self::UnsupportedMediaType | Self::TooLarge | Self::TimedOut => Vec::new(),
        }
    }

    /// The error for this rejection, using the route's literal `message`
    /// for validation failures (details go to `issues`). 413 and 415 keep
    /// their own messages.
    pub fn with_message(self, message: impl Into<Cow<'static, str>>) -> ApiError {
        if self.is_invalid_body() {
            ApiError::invalid_request(message).with_issues(self.issues())
        } else {
            self.into()
        }
    }
}

impl From<BodyRejection> for ApiError {
    fn from(rejection: BodyRejection) -> Self {
        match rejection {
            BodyRejection::UnsupportedMediaType => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Content-Type must be application/json.",
            ),
            BodyRejection::TooLarge => ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("Request body must not exceed {BODY_LIMIT_BYTES} bytes."),
            ),
            BodyRejection::TimedOut => ApiError::new(
                ErrorCode::RequestTimeout,
                "The request body did not arrive in time.",
            )
            .closing_connection(),
            invalid => invalid.with_message("Invalid request body."),
        }
    }
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = BodyRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match read_json(request, state).await? {
            Some(value) => Ok(Self(value)),
            None => Err(BodyRejection::Missing),
        }
    }
}

impl<T, S> OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = BodyRejection;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(read_json(request, state).await?.map(Self))
    }
}

/// `None` when there is no body; otherwise the parsed body or why not.
async fn read_json<T, S>(request: Request, state: &S) -> Result<Option<T>, BodyRejection>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    let declared_json = is_json_content_type(request.headers());
    if !declared_json {
        if request.body().size_hint().exact() == Some(0) {
            return Ok(None);
        }
        return Err(BodyRejection::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                BodyRejection::TooLarge
            } else if crate::limits::is_body_timeout(&rejection) {
                BodyRejection::TimedOut
            } else {
                BodyRejection::Unreadable
            }
        })?;
    if bytes.is_empty() {
        return Ok(None);
    }
    parse_json(&bytes).map(Some)
}

/// Parses a JSON document, reporting where a shape mismatch happened.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyRejection> {
    // Every request body of the API is an object. serde's derived structs
    // also read arrays, positionally (`[true]` as `{"devMode": true}`), so
    // anything else is refused before it reaches them.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        let issue = match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(error) => json_issue(&error, Vec::new()),
            Ok(_) => Issue::new("Request body must be a JSON object."),
        };
        return Err(BodyRejection::Invalid { issue });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    Some(PathSegment::Index(*index as u64))
                }
                serde_path_to_error::Segment::Map { key } => Some(PathSegment::Key(key.clone())),
                serde_path_to_error::Segment::Enum { variant } => {
                    Some(PathSegment::Key(variant.clone()))
                }
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        BodyRejection::Invalid {
            issue: json_issue(error.inner(), path),
        }
    })?;
    deserializer.end().map_err(|error| BodyRejection::Invalid {
        issue: json_issue(&error, Vec::new()),
    })?;
    Ok(value)
}

fn json_issue(error: &serde_json::Error, path: Vec<PathSegment>) -> Issue {
    let message = if error.is_data() {
        error.to_string()
    } else {
        format!("Request body is not valid JSON: {error}")
    };
    Issue { message, path }
}

/// Whether the `Content-Type` is `application/json`, with any parameters,
/// and a UTF-8 charset if one is named.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|parameter| {
        let Some((name, value)) = parameter.split_once('=') else {
            return parameter.trim().is_empty();
        };
        if !name.trim().eq_ignore_ascii_case("charset") {
            return true;
        }
        let charset = value.trim().trim_matches('"');
        charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
    })
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                [(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(error) => ApiError::internal(error).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers_with(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        headers
    }

    #[test]
    fn json_content_types() {
        for accepted in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            "application/json; charset=\"utf-8\"",
            "application/json; foo=bar",
        ] {
            assert!(is_json_content_type(&headers_with(accepted)), "{accepted}");
        }
        for refused in [
            "text/plain",
            "application/jsonx",
            "application/json; charset=latin1",
            "text/json",
            "",
        ] {
            assert!(!is_json_content_type(&headers_with(refused)), "{refused}");
        }
        assert!(!is_json_content_type(&HeaderMap::new()));
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "only deserialised to test error paths")]
    struct Shape {
        names: Vec<String>,
    }

    #[test]
    fn shape_errors_carry_the_path() {
        let rejection = parse_json::<Shape>(br#"{"names": ["a", 3]}"#).unwrap_err();
        let BodyRejection::Invalid { issue } = rejection else {
            panic!("expected an invalid body");
        };
        assert_eq!(
            issue.path,
            vec![PathSegment::Key("names".to_owned()), PathSegment::Index(1)]
        );
        assert!(issue.message.contains("invalid type"), "{}", issue.message);
    }

    #[test]
    fn syntax_errors_and_trailing_data_are_invalid_json() {
        for body in [&br#"{"names": "#[..], &br#"{"names": []} x"#[..]] {
            let BodyRejection::Invalid { issue } = parse_json::<Shape>(body).unwrap_err() else {
                panic!("expected an invalid body");
            };
            assert!(issue.message.starts_with("Request body is not valid JSON"));
        }
    }

    #[test]
    fn only_objects_are_bodies() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code, reason = "only deserialised to test error paths")]
        struct Flags {
            #[serde(default)]
            on: bool,
        }
        assert!(parse_json::<Flags>(b" {\"on\": true}").is_ok());
        for body in [&b"[true]"[..], b"[]", b" null", b"3", b"\"on\""] {
            let BodyRejection::Invalid { issue } = parse_json::<Flags>(body).unwrap_err() else {
                panic!("expected an invalid body");
            };
            assert_eq!(issue.message, "Request body must be a JSON object.");
        }
        let BodyRejection::Invalid { issue } = parse_json::<Flags>(b"[true").unwrap_err() else {
            panic!("expected an invalid body");
        };
        assert!(issue.message.starts_with("Request body is not valid JSON"));
    }

    #[test]
    fn with_message_replaces_only_validation_messages() {
        let error = BodyRejection::Missing.with_message("Invalid session create request.");
        assert_eq!(error.code(), ErrorCode::InvalidRequest);
        assert_eq!(error.message(), "Invalid session create request.");
        let error = BodyRejection::TooLarge.with_message("Invalid session create request.");
        assert_eq!(error.code(), ErrorCode::PayloadTooLarge);
        let error = BodyRejection::UnsupportedMediaType.with_message("x");
        assert_eq!(error.code(), ErrorCode::UnsupportedMediaType);
    }
}

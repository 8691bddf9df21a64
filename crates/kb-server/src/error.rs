//! [`ApiError`]: the one error type handlers return, and the single place
//! where errors become HTTP statuses and `{code, message, issues?}` bodies.
//!
//! The status comes from [`ErrorCode::http_status`] and nowhere else.
//! Internal errors never reach the wire: the client sees a fixed message,
//! and the cause chain travels to the request logger as an [`ErrorReport`]
//! response extension, so turning an error into a response has no side
//! effects.
//!
//! This module also owns the two safety nets that keep every error response
//! an envelope: [`panic_response`] for handlers that panic, and
//! [`envelope_non_json_errors`] for error responses produced by the framework
//! itself (for example a `Path` or `Query` rejection).

use std::any::Any;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, Request};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kb_protocol::{ErrorCode, ErrorEnvelope, Issue};

/// A boxed error that can cross threads; the cause of an internal error.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The message clients see for every internal error.
pub const INTERNAL_MESSAGE: &str = "Internal server error.";

/// The message of a write refused because the store cannot save changes.
/// It claims nothing about the write itself: when the database's answer
/// was lost, the write may have been saved; the session's version tells.
pub const STORAGE_UNAVAILABLE_MESSAGE: &str =
    "The session store cannot save changes right now; retry later.";

/// The `Retry-After` of a 503, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// An error answered with the `{code, message, issues?}` envelope.
///
/// Build one with a constructor per code ([`ApiError::invalid_request`],
/// [`ApiError::not_found`], ...) or with [`ApiError::internal`] for failures
/// that are not the client's fault. Domain error types convert into it with a
/// `From` impl, which is where a domain error picks its code.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    issues: Option<Vec<Issue>>,
    /// Seconds a client should wait before trying again (`Retry-After`).
    retry_after: Option<u32>,
    /// Close the connection after answering (`Connection: close`).
    close: bool,
    /// Why the error happened, for the logs only; never serialised.
    source: Option<BoxError>,
}

impl ApiError {
    /// An error with the given code and wire message.
    ///
    /// For [`ErrorCode::Internal`] the message is logged but the wire carries
    /// [`INTERNAL_MESSAGE`]; prefer [`ApiError::internal`].
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            issues: None,
            retry_after: None,
            close: false,
            source: None,
        }
    }

    /// 400 `INVALID_REQUEST` with a route's literal message.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// 401 `UNAUTHORIZED`.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 403 `FORBIDDEN`.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 409 `CONFLICT`.
    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 503 `SERVICE_UNAVAILABLE` with a `Retry-After`; attach the cause
    /// with [`ApiError::with_source`] so it is logged.
    pub fn service_unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        let mut error = Self::new(ErrorCode::ServiceUnavailable, message);
        error.retry_after = Some(RETRY_AFTER_SECONDS);
        error
    }

    /// 503 `STORAGE_UNAVAILABLE` with a `Retry-After`: the store cannot
    /// save changes (`source`, logged, says why). Reads go on.
    pub fn storage_unavailable(source: impl Into<BoxError>) -> Self {
        let mut error = Self::new(ErrorCode::StorageUnavailable, STORAGE_UNAVAILABLE_MESSAGE)
            .with_source(source);
        error.retry_after = Some(RETRY_AFTER_SECONDS);
        error
    }

    /// 500 `INTERNAL`: the client sees [`INTERNAL_MESSAGE`], the logs see the
    /// whole cause chain of `source`.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorCode::Internal, INTERNAL_MESSAGE).with_source(source)
    }

    /// 404 for a path no route matches.
    pub fn route_not_found(method: &Method, path: &str) -> Self {
        Self::not_found(format!("Route {method}:{path} not found"))
    }

    /// 405 for a route that exists but not with this method.
    pub fn method_not_allowed(method: &Method, path: &str) -> Self {
        Self::new(
            ErrorCode::MethodNotAllowed,
            format!("Method {method} is not allowed for {path}"),
        )
    }

    /// Closes the connection after this answer (`Connection: close`): the
    /// client is still sending a request the server stopped reading.
    #[must_use]
    pub fn closing_connection(mut self) -> Self {
        self.close = true;
        self
    }

    /// Attaches validation details, sent as `issues`.
    #[must_use]
    pub fn with_issues(mut self, issues: Vec<Issue>) -> Self {
        self.issues = Some(issues);
        self
    }

    /// Attaches a cause. It is logged (with its `source()` chain) and never
    /// sent to the client.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The error code, which decides the HTTP status.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }

    /// The message as it goes on the wire.
    pub fn message(&self) -> &str {
        match self.code {
            ErrorCode::Internal => INTERNAL_MESSAGE,
            _ => &self.message,
        }
    }

    /// The validation details, if any.
    pub fn issues(&self) -> Option<&[Issue]> {
        self.issues.as_deref()
    }

    /// The wire body of this error.
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            code: self.code,
            message: self.message().to_owned(),
            issues: self.issues.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(self.envelope())).into_response();
        if self.close {
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        if self.code == ErrorCode::Internal || self.source.is_some() {
            let chain = match &self.source {
                Some(source) => cause_chain(source.as_ref()),
                None => self.message.clone().into_owned(),
            };
            response.extensions_mut().insert(ErrorReport {
                code: self.code,
                chain,
            });
        }
        response
    }
}

/// The logged side of an error response: its code and the rendered cause
/// chain. Attached to the response as an extension by
/// [`ApiError::into_response`] and written to the log by the request logger.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    /// The code the client received.
    pub code: ErrorCode,
    /// `error: cause: root cause`, as one line.
    pub chain: String,
}

/// Renders an error and all its `source()`s as `outer: inner: root`.
pub fn cause_chain(error: &(dyn StdError + 'static)) -> String {
    let mut chain = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        current = cause.source();
    }
    chain
}

fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A handler panicked; carries the panic message for the logs.
#[derive(Debug, thiserror::Error)]
#[error("handler panicked: {message}")]
struct HandlerPanicked {
    message: String,
}

/// Turns a caught handler panic into a 500 envelope (for tower-http's
/// `CatchPanicLayer::custom`). The panic message is logged, not sent.
pub fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_owned()
    };
    ApiError::internal(HandlerPanicked { message }).into_response()
}

/// Fallback handler for paths no route matches: 404 envelope.
pub async fn route_not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::route_not_found(&method, uri.path())
}

/// Fallback handler for a known path with an unsupported method: 405
/// envelope (axum keeps the `Allow` header).
pub async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::method_not_allowed(&method, uri.path())
}

/// Largest framework error body that is copied into an envelope message.
const MAX_FRAMEWORK_MESSAGE: usize = 1024;

/// Middleware: rewrites any error response (4xx/5xx) whose body is not JSON
/// into the envelope.
///
/// Our own errors are already envelopes; this catches the framework's
/// plain-text rejections (`Path`, `Query`, body limits, ...) so a client
/// never has to parse two error formats. JSON error bodies are left alone
/// (the action route has its own JSON error body). A status without an
/// [`ErrorCode`] becomes 400 `INVALID_REQUEST` for 4xx and 500 `INTERNAL`
/// for 5xx; for 4xx the framework's short text is kept as the message.
pub async fn envelope_non_json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json_response(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let code =
        ErrorCode::from_http_status(status.as_u16()).unwrap_or(if status.is_client_error() {
            ErrorCode::InvalidRequest
        } else {
            ErrorCode::Internal
        });
    let text = match axum::body::to_bytes(body, MAX_FRAMEWORK_MESSAGE).await {
        Ok(bytes) => String::from_utf8(bytes.to_vec()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let message = if text.trim().is_empty() || code == ErrorCode::Internal {
        status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_owned()
    } else {
        text.trim().to_owned()
    };
    let mut error = ApiError::new(code, message);
    if code == ErrorCode::Internal {
        error = error.with_source(FrameworkError { status, text });
    }
    let mut rewritten = error.into_response();
    // Keep headers such as `Allow` and `Retry-After`, but not the old
    // content type or length.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name, value.clone());
        }
    }
    rewritten
}

/// A non-JSON 5xx produced below our handlers, for the logs.
#[derive(Debug, thiserror::Error)]
#[error("framework produced a {status} response: {text}")]
struct FrameworkError {
    status: StatusCode,
    text: String,
}

fn is_json_response(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
                || essence.to_ascii_lowercase().ends_with("+json")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    #[test]
    fn cause_chain_walks_every_source() {
        assert_eq!(cause_chain(&Outer(Inner)), "outer: inner");
    }

    #[test]
    fn internal_errors_hide_their_cause_on_the_wire() {
        let error = ApiError::internal(Outer(Inner));
        assert_eq!(error.message(), INTERNAL_MESSAGE);
        assert_eq!(error.envelope().message, INTERNAL_MESSAGE);
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = error.into_response();
        let report = response.extensions().get::<ErrorReport>().unwrap();
        assert_eq!(report.chain, "outer: inner");
    }

    #[test]
    fn every_code_maps_to_its_protocol_status() {
        for code in ErrorCode::ALL {
            let error = ApiError::new(code, "x");
            assert_eq!(error.status().as_u16(), code.http_status());
        }
    }

    #[test]
    fn client_errors_carry_no_report() {
        let response = ApiError::not_found("nope").into_response();
        assert!(response.extensions().get::<ErrorReport>().is_none());
    }
}

//! Cross-origin requests: which other origins (web pages served from
//! elsewhere, such as a game portal or a client's dev server) may call the
//! API from a browser.
//!
//! No origin is allowed unless the operator lists it (`kingdom serve
//! --cors-origin https://play.example`, repeatable, or
//! `KB_SERVER_CORS_ORIGINS` as a comma-separated list). The layer is always
//! installed: a preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) is answered by it, with the
//! `Access-Control-Allow-*` headers only for a listed origin, so a browser
//! on any other origin refuses to send the request. Requests authenticate
//! with a header (`Authorization` or `X-KB-Dev-Token`), never a cookie, so
//! credentials are not allowed; `ETag` is exposed for `If-Match`.
//!
//! [`tower_http::cors`] does the protocol; this module holds the policy.

use std::fmt;
use std::time::Duration;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The origins allowed to make cross-origin requests (none by default).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins {
    origins: Vec<HeaderValue>,
}

/// Why a configured origin is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CORS origin {value:?}: {reason}")]
pub struct InvalidOrigin {
    /// The rejected text.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl CorsOrigins {
    /// No origin allowed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses origins as browsers send them: `scheme://host[:port]`, with no
    /// path, query or trailing slash (`https://play.example`,
    /// `http://localhost:5173`). Duplicates are dropped; `*` is refused
    /// (list the origins instead).
    pub fn parse<I, S>(values: I) -> Result<Self, InvalidOrigin>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut origins: Vec<HeaderValue> = Vec::new();
        for value in values {
            let origin = parse_origin(value.as_ref())?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self { origins })
    }

    /// Parses a comma-separated list (the environment variable's form);
    /// blank items are skipped.
    pub fn parse_list(text: &str) -> Result<Self, InvalidOrigin> {
        Self::parse(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty()),
        )
    }

    /// Whether no origin is allowed.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    /// The allowed origins, as given.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.origins.iter().filter_map(|o| o.to_str().ok())
    }

    /// The layer that applies this policy.
    pub fn layer(&self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.origins.clone()))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                IF_MATCH,
                IF_NONE_MATCH,
                HeaderName::from_static("x-kb-dev-token"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([ETAG])
            .max_age(PREFLIGHT_MAX_AGE)
    }
}

impl fmt::Debug for CorsOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

fn parse_origin(text: &str) -> Result<HeaderValue, InvalidOrigin> {
    let invalid = |reason| InvalidOrigin {
        value: text.to_owned(),
        reason,
    };
    // Browsers send scheme and host in lower case.
    let lower = text.trim().to_ascii_lowercase();
    let text = lower.as_str();
    if text == "*" {
        return Err(invalid(
            "a wildcard is not allowed; list each origin (scheme://host[:port])",
        ));
    }
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| invalid("expected scheme://host[:port], like https://play.example"))?;
    if !matches!(scheme, "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if rest.is_empty() {
        return Err(invalid("the host is missing"));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(invalid(
            "an origin has no path, query or trailing slash (scheme://host[:port])",
        ));
    }
    let host_ok = rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok || rest.contains('@') {
        return Err(invalid("the host has characters an origin cannot have"));
    }
    if let Some((_, port)) = rest.rsplit_once(':').filter(|_| !rest.ends_with(']'))
        && port.parse::<u16>().is_err()
    {
        return Err(invalid("the port must be a number from 0 to 65535"));
    }
    HeaderValue::from_str(text).map_err(|_| invalid("not a valid header value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_as_browsers_send_them() {
        let origins = CorsOrigins::parse([
            "https://play.example",
            "http://localhost:5173",
            "HTTPS://Play.Example",
            "http://[::1]:8080",
        ])
        .unwrap();
        assert_eq!(
            origins.iter().collect::<Vec<_>>(),
            [
                "https://play.example",
                "http://localhost:5173",
                "http://[::1]:8080"
            ]
        );
        let listed = CorsOrigins::parse_list(" https://a.example, ,http://b.example:81 ").unwrap();
        assert_eq!(
            listed.iter().collect::<Vec<_>>(),
            ["https://a.example", "http://b.example:81"]
        );
        assert!(CorsOrigins::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn what_is_not_an_origin_is_refused_with_a_reason() {
        for (text, reason) in [
            ("*", "wildcard"),
            ("play.example", "scheme://host"),
            ("ftp://play.example", "http or https"),
            ("https://", "host is missing"),
            ("https://play.example/", "trailing slash"),
            ("https://play.example/game", "no path"),
            ("https://user@play.example", "characters"),
            ("https://play example", "characters"),
            ("https://play.example:99999", "port"),
            ("https://play.example:x", "port"),
        ] {
            let error = CorsOrigins::parse([text]).unwrap_err();
            assert!(error.reason.contains(reason), "{text}: {error}");
            assert!(error.to_string().contains(text.trim()), "{error}");
        }
    }
}

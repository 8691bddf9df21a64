//! Bearer-token authentication and role checks (reference protocol §2, with
//! PRODUCT §4's additions).
//!
//! - [`TokenTable`]: the validated token → `{userId, roles}` table, parsed from
//!   the JSON the operator gives (`KB_SERVER_AUTH_TOKENS` or `--tokens FILE`).
//!   Tokens are kept only as SHA-256 digests and never printed.
//! - [`Authenticator`]: what the server checks requests against. Built from a
//!   table, or, when no table is configured, from the built-in `local-dev`
//!   token, which [`Authenticator::for_listener`] allows only on a loopback
//!   address.
//! - [`Caller`]: the extractor handlers use; [`AuthContext::require`] checks a
//!   [`Role`].
//!
//! Token lookup compares the presented token's digest with every entry's
//! digest in constant time and without stopping at a match, so response
//! timing says nothing about how much of a token was right (or its length).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::{IntoResponse, Response};
use kb_protocol::messages;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::error::ApiError;
use crate::state::AppState;

/// The development token accepted when no token table is configured.
pub const DEV_TOKEN: &str = "local-dev";

/// The user id of [`DEV_TOKEN`].
pub const DEV_USER_ID: &str = "local-dev";

/// The fallback header for the token, read only when `Authorization` is
/// absent or empty.
pub static DEV_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-kb-dev-token");

/// A role a route can require. Tokens may carry other role strings; they are
/// kept but grant nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Satisfies every role check; sees every session.
    Admin,
    /// May create sessions (`POST /sessions`).
    SessionCreate,
    /// May read and play sessions (every other protected route).
    SessionAdvance,
}

impl Role {
    /// The role's spelling in token tables and error messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::SessionCreate => "session:create",
            Self::SessionAdvance => "session:advance",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is calling: the token's user and roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    /// The user the token belongs to; sessions are owned by it.
    pub user_id: String,
    /// The token's roles, as written in the table (unknown strings kept).
    pub roles: Vec<String>,
    /// A seat credential's scope (the token was a credential, not one of
    /// the table's); the session manager checks it on every route.
    pub grant: Option<kb_session::SeatGrant>,
}

impl AuthContext {
    /// Whether the caller holds `role`, directly or through `admin`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles
            .iter()
            .any(|held| held == role.as_str() || held == Role::Admin.as_str())
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// `Ok` when the caller holds `role` (or `admin`), else 403
    /// `Missing required role "<role>".`
    pub fn require(&self, role: Role) -> Result<(), AuthError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(AuthError::MissingRole(role))
        }
    }
}

/// Why a request is not authenticated or not authorised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token in `Authorization` or `X-KB-Dev-Token` (401).
    #[error("{}", messages::MISSING_TOKEN)]
    MissingToken,
    /// The token is not in the table (403).
    #[error("{}", messages::UNKNOWN_TOKEN)]
    UnknownToken,
    /// The token lacks the role (403).
    #[error("{}", messages::missing_role(.0.as_str()))]
    MissingRole(Role),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::MissingToken => ApiError::unauthorized(messages::MISSING_TOKEN),
            AuthError::UnknownToken => ApiError::forbidden(messages::UNKNOWN_TOKEN),
            AuthError::MissingRole(role) => {
                ApiError::forbidden(messages::missing_role(role.as_str()))
            }
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

/// A problem with the operator's token table, found at startup.
///
/// Messages never contain a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenTableError {
    /// The text is not JSON of the shape `{"<token>": {"userId": "...",
    /// "roles": ["..."]}}`.
    #[error(
        "expected a JSON object mapping each token to {{\"userId\": \"...\", \"roles\": [...]}}: {0}"
    )]
    Json(#[source] serde_json::Error),
    /// A key is empty or only whitespace.
    #[error(
        "a token is empty or only whitespace (user {user_id:?}); every token must be a non-blank string"
    )]
    BlankToken {
        /// The user id of the offending entry, to help find it.
        user_id: String,
    },
    /// A key starts or ends with whitespace; presented tokens are trimmed,
    /// so it could never match.
    #[error(
        "the token of user {user_id:?} starts or ends with whitespace, so it could never match"
    )]
    PaddedToken {
        /// The user id of the offending entry, to help find it.
        user_id: String,
    },
}

/// The raw value of one token table entry.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a token entry {\"userId\": \"...\", \"roles\": [...]}")]
struct RawEntry {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
}

struct TokenEntry {
    digest: [u8; 32],
    context: AuthContext,
}

/// The operator's tokens: each token's SHA-256 digest with its user and
/// roles. Its `Debug` shows only the number of entries.
#[derive(Clone)]
pub struct TokenTable {
    entries: Arc<[TokenEntry]>,
}

impl TokenTable {
    /// Parses the JSON token table.
    ///
    /// Entries with an empty or missing `userId` are dropped (with a
    /// warning); missing `roles` means no roles; a blank or padded token is
    /// an error.
    pub fn from_json(text: &str) -> Result<Self, TokenTableError> {
        let raw: BTreeMap<String, RawEntry> =
            serde_json::from_str(text).map_err(TokenTableError::Json)?;
        let mut entries = Vec::with_capacity(raw.len());
        let mut dropped = 0_usize;
        for (token, entry) in raw {
            let user_id = entry.user_id.unwrap_or_default();
            if token.trim().is_empty() {
                return Err(TokenTableError::BlankToken { user_id });
            }
            if token.trim() != token {
                return Err(TokenTableError::PaddedToken { user_id });
            }
            if user_id.is_empty() {
                dropped += 1;
                continue;
            }
            entries.push(TokenEntry {
                digest: digest(token.as_bytes()),
                context: AuthContext {
                    user_id,
                    roles: entry.roles.unwrap_or_default(),
                    grant: None,
                },
            });
        }
        if dropped > 0 {
            tracing::warn!(dropped, "token table entries without a userId were ignored");
        }
        Ok(Self {
            entries: entries.into(),
        })
    }

    /// The built-in table holding only [`DEV_TOKEN`] with every role.
    fn dev() -> Self {
        let context = AuthContext {
            user_id: DEV_USER_ID.to_owned(),
            roles: [Role::Admin, Role::SessionCreate, Role::SessionAdvance]
                .iter()
                .map(|role| role.as_str().to_owned())
                .collect(),
            grant: None,
        };
        Self {
            entries: vec![TokenEntry {
                digest: digest(DEV_TOKEN.as_bytes()),
                context,
            }]
            .into(),
        }
    }

    /// How many usable tokens the table has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no usable token (every protected call fails).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller a token belongs to. Compares against every entry in
    /// constant time, without an early exit.
    pub fn lookup(&self, token: &[u8]) -> Option<&AuthContext> {
        let presented = digest(token);
        let mut found = Choice::from(0);
        let mut index = 0_u64;
        for (position, entry) in self.entries.iter().enumerate() {
            let matches = entry.digest.ct_eq(&presented);
            index.conditional_assign(&(position as u64), matches);
            found |= matches;
        }
        if bool::from(found) {
            usize::try_from(index)
                .ok()
                .and_then(|index| self.entries.get(index))
                .map(|entry| &entry.context)
        } else {
            None
        }
    }
}

impl fmt::Debug for TokenTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenTable")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// Why the server may not start with the given auth setup.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// No token table, and the listener is not on a loopback address.
    #[error(
        "refusing to serve on {address} without a token table: the built-in \
         \"local-dev\" token is only allowed on a loopback address. Configure tokens \
         with --tokens FILE or the KB_SERVER_AUTH_TOKENS environment variable (JSON like \
         {{\"<secret token>\": {{\"userId\": \"alice\", \"roles\": [\"session:create\", \
         \"session:advance\"]}}}}), allow anonymous players with --guests, or bind to \
         127.0.0.1"
    )]
    PublicBindWithoutTokens {
        /// The address the server is bound to.
        address: SocketAddr,
    },
}

/// Checks request tokens against the configured table. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Authenticator {
    table: TokenTable,
    dev_token: bool,
}

impl Authenticator {
    /// An authenticator over the operator's table.
    pub fn new(table: TokenTable) -> Self {
        if table.is_empty() {
            tracing::warn!(
                "the token table has no usable token: every protected route will answer 401/403"
            );
        }
        Self {
            table,
            dev_token: false,
        }
    }

    /// An authenticator accepting only the built-in [`DEV_TOKEN`], for a
    /// server bound to `address`. Refused unless `address` is loopback.
    pub fn local_dev(address: SocketAddr) -> Result<Self, AuthSetupError> {
        if !is_loopback(address.ip()) {
            return Err(AuthSetupError::PublicBindWithoutTokens { address });
        }
        tracing::warn!(
            %address,
            "no token table configured: accepting the built-in \"local-dev\" admin token \
             (loopback only); configure --tokens FILE or KB_SERVER_AUTH_TOKENS for real use"
        );
        Ok(Self {
            table: TokenTable::dev(),
            dev_token: true,
        })
    }

    /// The startup rule: the operator's table when there is one, else the
    /// dev token if the listener's address is loopback, else an error
    /// telling the operator how to configure tokens.
    pub fn for_listener(
        tokens: Option<TokenTable>,
        address: SocketAddr,
    ) -> Result<Self, AuthSetupError> {
        match tokens {
            Some(table) => Ok(Self::new(table)),
            None => Self::local_dev(address),
        }
    }

    /// [`Authenticator::for_listener`] for a server that may allow guests:
    /// with guests and no token table, a public address is allowed and
    /// accepts no token at all (guests and the seat credentials they get
    /// are the only callers); on loopback the dev token still works.
    pub fn for_listener_with_guests(
        tokens: Option<TokenTable>,
        address: SocketAddr,
        guests: bool,
    ) -> Result<Self, AuthSetupError> {
        match tokens {
            None if guests && !is_loopback(address.ip()) => {
                tracing::warn!(
                    %address,
                    "no token table configured: serving guests only (no admin token)"
                );
                Ok(Self {
                    table: TokenTable {
                        entries: Vec::new().into(),
                    },
                    dev_token: false,
                })
            }
            tokens => Self::for_listener(tokens, address),
        }
    }

    /// Whether this authenticator accepts the built-in dev token.
    pub fn uses_dev_token(&self) -> bool {
        self.dev_token
    }

    /// The caller of a request, from its headers (§2.2).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<AuthContext, AuthError> {
        let token = presented_token(headers).ok_or(AuthError::MissingToken)?;
        self.table
            .lookup(token)
            .cloned()
            .ok_or(AuthError::UnknownToken)
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// The token a request presents (§2.2): `Authorization` (trimmed, optional
/// case-insensitive `Bearer ` prefix) when it is present and not blank,
/// otherwise `X-KB-Dev-Token` (trimmed). When a header appears several
/// times its last value counts, as in the reference.
pub fn presented_token(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(authorization) = last_non_blank(headers, &header::AUTHORIZATION) {
        let token = strip_bearer(authorization);
        return (!token.is_empty()).then_some(token);
    }
    last_non_blank(headers, &DEV_TOKEN_HEADER)
}

fn last_non_blank<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a [u8]> {
    headers
        .get_all(name)
        .iter()
        .next_back()
        .map(|value| value.as_bytes().trim_ascii())
        .filter(|value| !value.is_empty())
}

fn strip_bearer(value: &[u8]) -> &[u8] {
    const PREFIX: &[u8] = b"bearer ";
    match value.split_at_checked(PREFIX.len()) {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case(PREFIX) => rest.trim_ascii(),
        _ => value,
    }
}

/// The authenticated caller of a request; extract it in a handler.
///
/// Rejects with 401/403 envelopes. Take `Result<Caller, AuthError>` instead
/// when the route must check something else first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub AuthContext);

impl Deref for Caller {
    type Target = AuthContext;

    fn deref(&self) -> &AuthContext {
        &self.0
    }
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A second extraction in the same request reuses the first result.
        if let Some(context) = parts.extensions.get::<AuthContext>() {
            return Ok(Self(context.clone()));
        }
        let state = AppState::from_ref(state);
        let context = match state.auth().authenticate(&parts.headers) {
            Err(AuthError::UnknownToken) => credential_caller(&state, &parts.headers)
                .await
                .ok_or(AuthError::UnknownToken)?,
            other => other?,
        };
        parts.extensions.insert(context.clone());
        Ok(Self(context))
    }
}

/// The caller a seat credential stands for (a token that is not in the
/// table), if it is a live credential: it may read and play
/// (`session:advance`) within its grant, which the session manager
/// enforces. Credentials are looked up by their SHA-256 digest.
async fn credential_caller(state: &AppState, headers: &HeaderMap) -> Option<AuthContext> {
    let token = std::str::from_utf8(presented_token(headers)?).ok()?;
    match state.manager().resolve_credential_async(token).await {
        Ok(grant) => grant.map(|grant| AuthContext {
            user_id: format!("grant:{}", grant.grant_id),
            roles: vec![Role::SessionAdvance.as_str().to_owned()],
            grant: Some(grant),
        }),
        Err(error) => {
            tracing::warn!(%error, "could not look up a seat credential");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn header_parsing_rules() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: &[Case<'_>] = &[
            (&[("Authorization", "Bearer alpha ")], Some("alpha")),
            (&[("authorization", "bEaReR   alpha")], Some("alpha")),
            (&[("Authorization", "alpha")], Some("alpha")),
            (&[("Authorization", "  alpha  ")], Some("alpha")),
            (&[("Authorization", "Bearer")], Some("Bearer")),
            (&[("Authorization", "Bearer ")], Some("Bearer")),
            (&[("Authorization", "Bearer  \t")], Some("Bearer")),
            (&[("X-KB-Dev-Token", " dev ")], Some("dev")),
            (
                &[("Authorization", ""), ("X-KB-Dev-Token", "dev")],
                Some("dev"),
            ),
            (
                &[("Authorization", "   "), ("X-KB-Dev-Token", "dev")],
                Some("dev"),
            ),
            (
                &[("Authorization", "wrong"), ("X-KB-Dev-Token", "dev")],
                Some("wrong"),
            ),
            (
                &[("Authorization", "first"), ("Authorization", "last")],
                Some("last"),
            ),
            (&[("X-KB-Dev-Token", "  ")], None),
            (&[], None),
        ];
        for (pairs, expected) in cases {
            let map = headers(pairs);
            assert_eq!(
                presented_token(&map),
                expected.map(str::as_bytes),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn only_a_space_separates_the_bearer_scheme() {
        // The reference matches the prefix "bearer " (with a space); any other
        // separator makes the whole value a raw token.
        let map = headers(&[("Authorization", "Bearer\tabc")]);
        assert_eq!(presented_token(&map), Some(&b"Bearer\tabc"[..]));
    }

    #[test]
    fn lookup_finds_each_entry_and_nothing_else() {
        let table = TokenTable::from_json(
            r#"{"alpha": {"userId": "a", "roles": ["admin"]},
                "beta": {"userId": "b"},
                "gamma": {"userId": ""},
                "delta": {"roles": ["admin"]}}"#,
        )
        .unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(table.lookup(b"alpha").unwrap().user_id, "a");
        let beta = table.lookup(b"beta").unwrap();
        assert_eq!(beta.user_id, "b");
        assert!(beta.roles.is_empty());
        for absent in [&b"gamma"[..], b"delta", b"alph", b"alphaa", b"", b"ALPHA"] {
            assert!(table.lookup(absent).is_none());
        }
    }

    #[test]
    fn table_errors_never_show_tokens() {
        let error = TokenTable::from_json(r#"{"  ": {"userId": "u"}}"#).unwrap_err();
        assert!(matches!(error, TokenTableError::BlankToken { .. }));
        let error = TokenTable::from_json(r#"{" s3cret": {"userId": "u"}}"#).unwrap_err();
        assert!(matches!(error, TokenTableError::PaddedToken { .. }));
        assert!(!error.to_string().contains("s3cret"));
        let error = TokenTable::from_json(r#"{"s3cret": true}"#).unwrap_err();
        assert!(matches!(error, TokenTableError::Json(_)));
        assert!(!error.to_string().contains("s3cret"), "{error}");
        let error = TokenTable::from_json("[1]").unwrap_err();
        assert!(matches!(error, TokenTableError::Json(_)));
    }

    #[test]
    fn debug_never_prints_tokens() {
        let table = TokenTable::from_json(r#"{"s3cret": {"userId": "u"}}"#).unwrap();
        let auth = Authenticator::new(table.clone());
        for text in [format!("{table:?}"), format!("{auth:?}")] {
            assert!(!text.contains("s3cret"), "{text}");
        }
    }

    #[test]
    fn admin_satisfies_every_role() {
        let admin = AuthContext {
            user_id: "root".to_owned(),
            roles: vec!["admin".to_owned()],
            grant: None,
        };
        for role in [Role::Admin, Role::SessionCreate, Role::SessionAdvance] {
            assert_eq!(admin.require(role), Ok(()));
        }
        let creator = AuthContext {
            user_id: "c".to_owned(),
            roles: vec!["session:create".to_owned(), "other".to_owned()],
            grant: None,
        };
        assert_eq!(creator.require(Role::SessionCreate), Ok(()));
        assert_eq!(
            creator.require(Role::SessionAdvance),
            Err(AuthError::MissingRole(Role::SessionAdvance))
        );
        assert!(!creator.is_admin());
    }

    #[test]
    fn dev_token_only_on_loopback() {
        for address in [
            "127.0.0.1:3001",
            "127.8.9.10:0",
            "[::1]:3001",
            "[::ffff:127.0.0.1]:1",
        ] {
            let auth = Authenticator::local_dev(address.parse().unwrap()).unwrap();
            assert!(auth.uses_dev_token());
        }
        for address in ["0.0.0.0:3001", "[::]:3001", "192.0.2.1:80"] {
            let error = Authenticator::local_dev(address.parse().unwrap()).unwrap_err();
            assert!(error.to_string().contains("KB_SERVER_AUTH_TOKENS"));
        }
    }
}

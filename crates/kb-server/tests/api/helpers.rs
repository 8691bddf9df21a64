//! Test harness: apps built from the public API, test-only routes that
//! exercise the extractors, and request helpers (in-process and raw TCP).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::routing::{get, post};
use kb_protocol::ErrorEnvelope;
use kb_server::app::router_with;
use kb_server::{
    ApiError, ApiJson, AppState, AuthError, Authenticator, BodyRejection, Caller, Metrics, Role,
    TokenTable,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

/// The token table most tests use.
pub const TOKENS: &str = r#"{
    "admin-token": {"userId": "root", "roles": ["admin"]},
    "creator-token": {"userId": "carol", "roles": ["session:create"]},
    "player-token": {"userId": "paul", "roles": ["session:advance", "custom"]},
    "nobody-token": {"userId": "nina"}
}"#;

/// The literal the test echo route answers bad bodies with.
pub const ECHO_INVALID: &str = "Invalid echo request.";

/// A body shape for the echo routes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Echo {
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Routes that exist only in tests, built with the product's extractors.
pub fn test_routes() -> Router<AppState> {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/create", post(create))
        .route("/advance", post(advance))
        .route("/echo", post(echo))
        .route("/echo-optional", post(echo_optional))
        .route("/ignores-body", post(|| async { "ok" }))
        .route("/body-first", post(body_first))
        .route("/items/{id}", get(item))
        .route("/panic", get(panics))
        .route("/fail", get(fails))
        .route("/plain/{status}", get(plain_error))
}

async fn whoami(caller: Caller) -> ApiJson<Value> {
    ApiJson(json!({"userId": caller.user_id, "roles": caller.roles}))
}

async fn create(caller: Caller) -> Result<ApiJson<Value>, ApiError> {
    caller.require(Role::SessionCreate)?;
    Ok(ApiJson(json!({"created": true, "by": caller.user_id})))
}

async fn advance(caller: Caller) -> Result<ApiJson<Value>, ApiError> {
    caller.require(Role::SessionAdvance)?;
    Ok(ApiJson(json!({"advanced": true})))
}

async fn echo(
    caller: Caller,
    body: Result<ApiJson<Echo>, BodyRejection>,
) -> Result<ApiJson<Echo>, ApiError> {
    caller.require(Role::SessionAdvance)?;
    let ApiJson(echo) = body.map_err(|rejection| rejection.with_message(ECHO_INVALID))?;
    Ok(ApiJson(echo))
}

async fn echo_optional(body: Option<ApiJson<Echo>>) -> ApiJson<Value> {
    ApiJson(json!({"present": body.is_some()}))
}

/// Checks the body before the caller, like the reference's action route.
async fn body_first(
    caller: Result<Caller, AuthError>,
    body: Result<ApiJson<Echo>, BodyRejection>,
) -> Result<ApiJson<Echo>, ApiError> {
    let ApiJson(echo) = body.map_err(|rejection| rejection.with_message(ECHO_INVALID))?;
    caller?.require(Role::SessionAdvance)?;
    Ok(ApiJson(echo))
}

async fn item(Path(id): Path<u32>) -> String {
    id.to_string()
}

async fn panics() -> &'static str {
    panic!("secret detail: the vault code is 1234");
}

async fn fails() -> Result<(), ApiError> {
    Err(ApiError::internal(std::io::Error::other(
        "secret detail: disk /srv/db on fire",
    )))
}

/// A plain-text response with the given status, as framework layers
/// produce them.
async fn plain_error(
    Path(status): Path<u16>,
) -> (StatusCode, [(&'static str, &'static str); 1], &'static str) {
    (
        StatusCode::from_u16(status).unwrap(),
        [("retry-after", "5")],
        "plain detail",
    )
}

/// An app in memory, over a token table or (with `None`) the dev token.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
}

impl TestApp {
    /// The app over [`TOKENS`], with the test routes.
    pub fn new() -> Self {
        Self::with_tokens(TOKENS)
    }

    /// The app over a given token table JSON.
    pub fn with_tokens(json: &str) -> Self {
        let table = TokenTable::from_json(json).expect("valid token table");
        Self::with_auth(Authenticator::new(table))
    }

    /// The app with no token table, as if bound to 127.0.0.1.
    pub fn dev() -> Self {
        let address: SocketAddr = "127.0.0.1:3001".parse().unwrap();
        Self::with_auth(Authenticator::for_listener(None, address).expect("loopback is allowed"))
    }

    /// The app over a given authenticator.
    pub fn with_auth(auth: Authenticator) -> Self {
        let state = AppState::new(auth, Metrics::new(), memory_manager());
        let router = router_with(state.clone(), test_routes());
        Self { state, router }
    }

    /// Sends one request in-process.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body is readable")
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// `GET path` with the given headers.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        self.send(request(Method::GET, path, headers, Body::empty()))
            .await
    }

    /// `POST path` with the given headers and no body.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        self.send(request(Method::POST, path, headers, Body::empty()))
            .await
    }

    /// `POST path` with a JSON content type and the given body text.
    pub async fn post_json(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> TestResponse {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(request(
            Method::POST,
            path,
            &all,
            Body::from(body.to_owned()),
        ))
        .await
    }
}

/// Builds a request.
pub fn request(method: Method, path: &str, headers: &[(&str, &str)], body: Body) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).expect("valid request")
}

/// A collected response.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// The body as an error envelope, after checking the status and the
    /// JSON content type.
    pub fn envelope(&self, status: u16) -> ErrorEnvelope {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|value| value.to_str().ok()),
            Some("application/json"),
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not an envelope ({error}): {}", self.text()))
    }
}

/// Sends `GET path` over a real connection and returns the status code and
/// body (HTTP/1.1, `Connection: close`).
pub async fn raw_get(address: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// A session manager over a fresh in-memory store.
pub fn memory_manager() -> std::sync::Arc<kb_session::SessionManager> {
    let store = std::sync::Arc::new(kb_store::MemoryStore::new());
    std::sync::Arc::new(
        kb_session::SessionManager::new(kb_session::ManagerOptions::new(store))
            .expect("a fresh store hydrates"),
    )
}

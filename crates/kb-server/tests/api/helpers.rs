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

/// Test-only routes that answer 5xx on purpose.
pub const FAILING_TEST_ROUTES: [&str; 3] = ["/panic", "/fail", "/plain/"];

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

    /// Sends one request in-process. A 5xx answer fails the test, except
    /// from the test-only routes built to fail ([`FAILING_TEST_ROUTES`]):
    /// no client request may produce a server error. Tests that expect one
    /// (503 while the store is down) use [`TestApp::send_allowing_5xx`].
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let response = self.send_allowing_5xx(request).await;
        let unprefixed = path.strip_prefix("/api").unwrap_or(&path);
        let built_to_fail = FAILING_TEST_ROUTES
            .iter()
            .any(|route| unprefixed.starts_with(route));
        assert!(
            response.status.as_u16() < 500 || built_to_fail,
            "{method} {path} answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
        response
    }

    /// Sends one request in-process, whatever its status.
    pub async fn send_allowing_5xx(&self, request: Request<Body>) -> TestResponse {
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
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            truncate(&self.text())
        );
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

// ----- games over HTTP ---------------------------------------------------------

/// The token table of the session tests: two players who may create and
/// play, an admin, and tokens with one role or none.
pub const GAME_TOKENS: &str = r#"{
    "alice-token": {"userId": "alice", "roles": ["session:create", "session:advance"]},
    "bob-token": {"userId": "bob", "roles": ["session:create", "session:advance"]},
    "admin-token": {"userId": "root", "roles": ["admin"]},
    "creator-token": {"userId": "carol", "roles": ["session:create"]},
    "player-token": {"userId": "paul", "roles": ["session:advance"]},
    "nobody-token": {"userId": "nina"}
}"#;

/// Alice: creates and plays her own sessions.
pub const ALICE: &str = "alice-token";
/// Bob: another player, who must not see Alice's sessions.
pub const BOB: &str = "bob-token";
/// An admin: sees and plays every session.
pub const ADMIN: &str = "admin-token";
/// Holds only `session:create`.
pub const CREATOR: &str = "creator-token";
/// Holds only `session:advance`.
pub const PLAYER: &str = "player-token";
/// Holds no role.
pub const NOBODY: &str = "nobody-token";

/// One session route: how to call it with a valid request, what it
/// requires, and how its body is validated.
#[derive(Clone, Debug)]
pub struct SessionRoute {
    /// Method.
    pub method: Method,
    /// Path with `{id}` for the session id.
    pub path: &'static str,
    /// A valid JSON body, if the route reads one.
    pub body: Option<&'static str>,
    /// A body that fails the route's validation and the reference literal
    /// it answers (the action route answers it in its own envelope).
    pub invalid: Option<(&'static str, &'static str)>,
    /// The role the route requires.
    pub role: &'static str,
}

impl SessionRoute {
    /// The path for a session id.
    pub fn path_for(&self, id: &str) -> String {
        self.path.replace("{id}", id)
    }

    /// Whether this is `POST /sessions/:id/actions`, with its own error
    /// envelope.
    pub fn is_action_route(&self) -> bool {
        self.path == "/sessions/{id}/actions"
    }
}

/// Every route that addresses one session. Each is valid on a fresh
/// default session (turn 1, A's growth): the action performs `tax` (which
/// the engine refuses outside the main phase, but only after finding the
/// session), the AI turn asks for B (not B's turn yet).
pub const SESSION_ROUTES: [SessionRoute; 14] = [
    SessionRoute {
        method: Method::GET,
        path: "/sessions/{id}/snapshot",
        body: None,
        invalid: None,
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/advance",
        body: None,
        invalid: None,
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/actions",
        body: Some(r#"{"actionId": "tax"}"#),
        invalid: Some(("{}", "Invalid action request.")),
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/actions/tax/costs",
        body: Some("{}"),
        invalid: Some((r#"{"params": 5}"#, "Invalid action cost request.")),
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/actions/tax/requirements",
        body: Some("{}"),
        invalid: Some((r#"{"params": []}"#, "Invalid action requirement request.")),
        role: "session:advance",
    },
    SessionRoute {
        method: Method::GET,
        path: "/sessions/{id}/actions/royal_decree/options",
        body: None,
        invalid: None,
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/ai-turn",
        body: Some(r#"{"playerId": "B"}"#),
        invalid: Some((r#"{"playerId": 42}"#, "Invalid AI turn request.")),
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/simulate",
        body: Some(r#"{"playerId": "A"}"#),
        invalid: Some((r#"{"playerId": "Z"}"#, "Invalid simulation request.")),
        role: "session:advance",
    },
    SessionRoute {
        method: Method::GET,
        path: "/sessions/{id}/forecast",
        body: None,
        invalid: None,
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/proceed",
        body: None,
        invalid: None,
        role: "session:advance",
    },
    SessionRoute {
        method: Method::POST,
        path: "/sessions/{id}/dev-mode",
        body: Some(r#"{"enabled": true}"#),
        invalid: Some((r#"{"enabled": "yes"}"#, "Invalid session dev mode request.")),
        role: "session:advance",
    },
    SessionRoute {
        method: Method::PATCH,
        path: "/sessions/{id}/player",
        body: Some(r#"{"playerId": "A", "playerName": "Ann"}"#),
        invalid: Some((
            r#"{"playerId": "A"}"#,
            "Invalid player name update request.",
        )),
        role: "session:advance",
    },
    SessionRoute {
        method: Method::GET,
        path: "/metadata?sessionId={id}",
        body: None,
        invalid: None,
        role: "session:advance",
    },
    SessionRoute {
        method: Method::DELETE,
        path: "/sessions/{id}",
        body: None,
        invalid: None,
        role: "session:advance",
    },
];

/// `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

impl TestApp {
    /// The app over [`GAME_TOKENS`] and a fresh in-memory store.
    pub fn game() -> Self {
        Self::game_over(memory_manager())
    }

    /// The app over [`GAME_TOKENS`] and the given manager.
    pub fn game_over(manager: std::sync::Arc<kb_session::SessionManager>) -> Self {
        let table = TokenTable::from_json(GAME_TOKENS).expect("valid token table");
        let state = AppState::new(Authenticator::new(table), Metrics::new(), manager);
        let router = router_with(state.clone(), Router::new());
        Self { state, router }
    }

    /// The app over [`GAME_TOKENS`], a fresh in-memory store, and event
    /// streams that send a heartbeat every `interval`.
    pub fn game_with_heartbeat(interval: std::time::Duration) -> Self {
        let table = TokenTable::from_json(GAME_TOKENS).expect("valid token table");
        let state = AppState::new(Authenticator::new(table), Metrics::new(), memory_manager())
            .with_event_heartbeat(interval);
        let router = router_with(state.clone(), Router::new());
        Self { state, router }
    }

    /// Sends `method path` as `token` (none when `None`) with a JSON body
    /// (and its content type) when `body` is given, plus `extra` headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> TestResponse {
        let authorization = token.map(bearer);
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        headers.extend_from_slice(extra);
        let body = body.map_or_else(Body::empty, |text| Body::from(text.to_owned()));
        self.send(request(method, path, &headers, body)).await
    }

    /// [`TestApp::call_with`] without extra headers.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> TestResponse {
        self.call_with(method, path, token, body, &[]).await
    }

    /// Calls a session route with its valid body.
    pub async fn call_route(&self, route: &SessionRoute, id: &str, token: &str) -> TestResponse {
        self.call(
            route.method.clone(),
            &route.path_for(id),
            Some(token),
            route.body,
        )
        .await
    }

    /// How many sessions the server holds, as an admin lists them.
    pub async fn session_count(&self) -> usize {
        let listing = self
            .call(Method::GET, "/sessions", Some(ADMIN), None)
            .await
            .json();
        listing["sessions"]
            .as_array()
            .expect("a session list")
            .len()
    }

    /// `POST /sessions` with `body`; asserts 201 and returns the state.
    pub async fn create_session(&self, token: &str, body: &str) -> Value {
        let response = self
            .call(Method::POST, "/sessions", Some(token), Some(body))
            .await;
        assert_eq!(response.status, 201, "{}", response.text());
        response.json()
    }

    /// A default session of `token`'s user; returns its id.
    pub async fn new_session(&self, token: &str) -> String {
        session_id(&self.create_session(token, "{}").await)
    }

    /// `GET /sessions/:id/snapshot`; asserts 200 and returns the state.
    pub async fn snapshot(&self, token: &str, id: &str) -> Value {
        let response = self
            .call(
                Method::GET,
                &format!("/sessions/{id}/snapshot"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }

    /// `POST /sessions/:id/advance`; asserts 200 and returns the state.
    pub async fn advance(&self, token: &str, id: &str) -> Value {
        let response = self
            .call(
                Method::POST,
                &format!("/sessions/{id}/advance"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }

    /// Advances `times` times; returns the last state.
    pub async fn advance_times(&self, token: &str, id: &str, times: usize) -> Value {
        let mut last = Value::Null;
        for _ in 0..times {
            last = self.advance(token, id).await;
        }
        last
    }

    /// Advances a fresh session through A's growth and upkeep (7 steps) to
    /// A's main phase of turn 1; returns that state.
    pub async fn to_main(&self, token: &str, id: &str) -> Value {
        let state = self.advance_times(token, id, STEPS_TO_MAIN).await;
        assert_eq!(state["snapshot"]["game"]["currentPhase"], "main");
        state
    }

    /// `POST /sessions/:id/actions` with `actionId` and `params`.
    pub async fn act(&self, token: &str, id: &str, action_id: &str, params: Value) -> TestResponse {
        let body = json!({"actionId": action_id, "params": params}).to_string();
        self.call(
            Method::POST,
            &format!("/sessions/{id}/actions"),
            Some(token),
            Some(&body),
        )
        .await
    }

    /// `POST /sessions/:id/ai-turn` for `player`: one step of the reference
    /// protocol; asserts 200.
    pub async fn ai_turn(&self, token: &str, id: &str, player: &str) -> Value {
        self.ai_request(token, id, json!({"playerId": player}))
            .await
    }

    /// `POST /sessions/:id/ai-turn` for `player` with `mode: "turn"`: the
    /// seat's whole turn; asserts 200.
    pub async fn ai_whole_turn(&self, token: &str, id: &str, player: &str) -> Value {
        self.ai_request(token, id, json!({"playerId": player, "mode": "turn"}))
            .await
    }

    async fn ai_request(&self, token: &str, id: &str, body: Value) -> Value {
        let body = body.to_string();
        let response = self
            .call(
                Method::POST,
                &format!("/sessions/{id}/ai-turn"),
                Some(token),
                Some(&body),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }
}

/// Advances from the start of a turn to the player's main phase: growth
/// has 4 steps, upkeep 3.
pub const STEPS_TO_MAIN: usize = 7;

/// `sessionId` of a state.
pub fn session_id(state: &Value) -> String {
    state["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no sessionId in {state}"))
        .to_owned()
}

/// `version` of a state.
pub fn version(state: &Value) -> u64 {
    state["version"]
        .as_u64()
        .unwrap_or_else(|| panic!("no version in {state}"))
}

/// A player of a state's snapshot (`A` or `B`).
pub fn player<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["snapshot"]["game"]["players"]
        .as_array()
        .expect("players")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no player {id}"))
}

/// A player's resource in a state's snapshot.
pub fn resource(state: &Value, id: &str, key: &str) -> f64 {
    player(state, id)["resources"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("no resource {key} for {id}"))
}

/// The keys of a JSON object, sorted.
pub fn sorted_keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {}", truncate(&value.to_string())))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// The first place where two JSON values differ, as a path, or `None`.
pub fn first_difference(left: &Value, right: &Value) -> Option<String> {
    match (left, right) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .find_map(|key| match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => {
                        first_difference(x, y).map(|rest| format!("/{key}{rest}"))
                    }
                    _ => Some(format!("/{key} (present on one side only)")),
                })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y).map(|rest| format!("/{i}{rest}"))),
        _ if left == right => None,
        _ => Some(format!(
            ": {} != {}",
            truncate(&left.to_string()),
            truncate(&right.to_string())
        )),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Asserts two JSON documents are equal, naming the first difference
/// instead of printing both.
#[track_caller]
pub fn assert_same_json(left: &Value, right: &Value, context: &str) {
    if let Some(difference) = first_difference(left, right) {
        panic!("{context}: documents differ at {difference}");
    }
}

//! The session routes: create, read, play, query, delete, list (the AI's
//! route is [`super::ai`]).
//!
//! Every handler authenticates first (401/403), then validates its body with
//! the reference's literal messages (400), then asks the session manager on a
//! blocking thread (the manager is synchronous because its store is). The
//! response body is rendered by the manager's callback, under the session's
//! lock, after the change is durable.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kb_engine::{Command, EngineError, Outcome, PlayerId, validate_player_name};
use kb_protocol::answers::{RequirementFailureAnswer, Wire};
use kb_protocol::requests::{
    ActionQueryRequest, ActionRequest, CreateSessionRequest, DevModeRequest, PlayerNameRequest,
    SimulateRequest,
};
use kb_protocol::schema::{EffectGroup, GameConfig};
use kb_protocol::{Issue, messages};
use kb_session::{CreateSession, SessionError, SessionSummary, SessionView};
use serde::{Deserialize, Serialize};

use super::render::{self, AdvanceExtra, AiTurnExtra, Nothing};
use crate::auth::{AuthContext, AuthError, Caller, Role};
use crate::error::ApiError;
use crate::extract::{ApiJson, BodyRejection};
use crate::state::AppState;

pub(super) type JsonBody<T> = Result<ApiJson<T>, BodyRejection>;
type OptionalBody<T> = Result<Option<ApiJson<T>>, BodyRejection>;

// ----- plumbing ---------------------------------------------------------------

/// The manager's view of the caller.
fn session_caller(context: &AuthContext) -> kb_session::Caller {
    kb_session::Caller {
        user_id: context.user_id.clone(),
        admin: context.is_admin(),
        grant: context.grant.clone(),
    }
}

/// Reads a session: on this thread when that cannot wait (the session is
/// live and its lock free), else on a blocking thread.
pub(crate) async fn read<R: Send + 'static>(
    state: &AppState,
    caller: kb_session::Caller,
    id: String,
    f: impl FnOnce(&SessionView<'_>) -> R + Send + 'static,
) -> Result<R, ApiError> {
    state
        .manager()
        .read_async(&caller, &id, f)
        .await
        .map_err(session_error)
}

/// A JSON response from rendered bytes, with the session version as ETag.
pub(crate) fn json(status: StatusCode, body: Vec<u8>, version: Option<u64>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(version) = version
        && let Ok(value) = HeaderValue::from_str(&format!("\"{version}\""))
    {
        headers.insert(ETAG, value);
    }
    response
}

/// The version a write must find (`If-Match: "7"`); `*` or no header means
/// any.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<u64>().map(Some).map_err(|_| {
        ApiError::invalid_request("If-Match must be a session version, as sent in ETag.")
    })
}

/// Maps a manager error to the transport envelope.
pub(crate) fn session_error(error: SessionError) -> ApiError {
    match error {
        SessionError::NotFound { session_id } => {
            ApiError::not_found(messages::session_not_found(&session_id))
        }
        SessionError::Stale { .. }
        | SessionError::Concurrent { .. }
        | SessionError::CapacityReached { .. } => ApiError::conflict(error.to_string()),
        SessionError::IdsExhausted => ApiError::conflict(messages::SESSION_ID_EXHAUSTED),
        SessionError::InvalidConfig(message) => {
            ApiError::invalid_request(messages::INVALID_SESSION_CREATE_REQUEST)
                .with_issues(vec![Issue::new(message)])
        }
        SessionError::InvalidRequest(message) => ApiError::invalid_request(message),
        SessionError::Engine(error) => engine_error(&error),
        SessionError::Unavailable(source) => ApiError::storage_unavailable(source),
        SessionError::Closed => ApiError::service_unavailable("The server is shutting down."),
        SessionError::Forbidden(message) => ApiError::forbidden(message),
        SessionError::GrantNotFound(message) => ApiError::not_found(message),
        SessionError::GrantConflict(message) => ApiError::conflict(message),
        other => ApiError::internal(other),
    }
}

/// Engine refusals: a bad parameter is the request's fault (400); a rule
/// that does not allow it now is a conflict with the game's state (409).
pub(super) fn engine_error(error: &EngineError) -> ApiError {
    let message = error.to_string();
    match error {
        EngineError::UnknownBuilding(_)
        | EngineError::UnknownDevelopment(_)
        | EngineError::UnknownRole(_)
        | EngineError::UnknownOption { .. }
        | EngineError::MissingSelection { .. }
        | EngineError::LandNotFound(_)
        | EngineError::InvalidEffect { .. }
        | EngineError::MissingParameter { .. }
        | EngineError::InvalidPlayerName(_)
        | EngineError::UnknownPhase(_) => ApiError::invalid_request(message),
        EngineError::NoAiController(player) => {
            ApiError::conflict(messages::no_ai_controller(player.as_str()))
        }
        _ => ApiError::conflict(message),
    }
}

pub(crate) fn require(caller: &Caller, role: Role) -> Result<kb_session::Caller, ApiError> {
    caller.require(role)?;
    Ok(session_caller(caller))
}

fn state_response(view: &SessionView<'_>, status: StatusCode) -> Response {
    let body = render::session_state(view, Vec::new(), Nothing {});
    json(status, body, Some(view.version))
}

// ----- create -------------------------------------------------------------------

fn trimmed_name(name: &str) -> Result<Option<String>, ApiError> {
    if name.trim().is_empty() {
        return Ok(None);
    }
    validate_player_name(name)
        .map(Some)
        .map_err(|_| ApiError::invalid_request(messages::PLAYER_NAME_TOO_LONG))
}

/// `POST /sessions`.
///
/// With `--guests`, a request without a token creates the session as a
/// guest (within the per-address limit, else 429): the answer adds the
/// `credential` that plays the guest's `seat` (see [`crate::guests`]).
pub async fn create(
    State(state): State<AppState>,
    caller: Result<Caller, AuthError>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    body: JsonBody<CreateSessionRequest>,
) -> Result<Response, ApiError> {
    let caller = match caller {
        Err(AuthError::MissingToken) if state.guests().is_some() => None,
        caller => Some(require(&caller?, Role::SessionCreate)?),
    };
    let ApiJson(request) =
        body.map_err(|r| r.with_message(messages::INVALID_SESSION_CREATE_REQUEST))?;
    let mut player_names = Vec::new();
    for (key, name) in request.player_names.iter().flatten() {
        let name = trimmed_name(&name.0)?;
        if let (Some(player), Some(name)) = (PlayerId::parse(key), name) {
            player_names.push((player, name));
        }
    }
    let config = match request.config {
        None | Some(serde_json::Value::Null) => None,
        // serde would read a list as a struct's fields in order.
        Some(json) if !json.is_object() => {
            return Err(
                ApiError::invalid_request(messages::INVALID_SESSION_CREATE_REQUEST).with_issues(
                    vec![Issue::new(
                        "config: expected an object (a GameConfig)".to_owned(),
                    )],
                ),
            );
        }
        Some(json) => {
            let parsed: GameConfig = serde_path_to_error::deserialize(&json).map_err(|e| {
                // Name the field: `config.start.player.resources.gold: …`.
                let path = match e.path().to_string() {
                    root if root == "." => "config".to_owned(),
                    path => format!("config.{path}"),
                };
                ApiError::invalid_request(messages::INVALID_SESSION_CREATE_REQUEST)
                    .with_issues(vec![Issue::new(format!("{path}: {}", e.inner()))])
            })?;
            Some((json, parsed))
        }
    };
    let ai_level = match request.ai_level.as_deref() {
        None => None,
        Some(name) => {
            let level: kb_ai::Level = name.parse().map_err(|e: kb_ai::UnknownLevel| {
                ApiError::invalid_request(messages::INVALID_SESSION_CREATE_REQUEST)
                    .with_issues(vec![Issue::new(format!("aiLevel: {e}"))])
            })?;
            Some(level.as_str().to_owned())
        }
    };
    let create = CreateSession {
        dev_mode: request.dev_mode.unwrap_or(false),
        config,
        player_names,
        ai_players: request.ai_players,
        ai_level,
        seat: request.seat,
        credential: None,
    };
    let Some(caller) = caller else {
        return create_as_guest(&state, peer.map(|p| p.0.0.ip()), create).await;
    };
    state
        .manager()
        .create_async(&caller, create, |view| {
            state_response(view, StatusCode::CREATED)
        })
        .await
        .map_err(session_error)
}

/// A guest's creation: counted against its address, answered with the
/// session state plus the guest's `seat` and `credential`.
async fn create_as_guest(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    mut create: CreateSession,
) -> Result<Response, ApiError> {
    let gate = state.guests().expect("guests are allowed");
    if !gate.admit(address) {
        return Err(ApiError::new(
            kb_protocol::ErrorCode::TooManyRequests,
            format!(
                "Too many sessions created from this address: at most {} an hour as a guest.",
                gate.per_hour()
            ),
        ));
    }
    let (grant_id, credential, digest) =
        kb_session::new_guest_credential().map_err(session_error)?;
    let caller = create.guest(&grant_id, digest);
    let asked = create.seat;
    state
        .manager()
        .create_async(&caller, create, move |view| {
            let seat = asked.or_else(|| {
                PlayerId::ALL
                    .into_iter()
                    .find(|seat| !*view.game.state().ai.get(*seat))
            });
            let rendered = render::session_state(view, Vec::new(), Nothing {});
            let mut body: serde_json::Value = serde_json::from_slice(&rendered).unwrap_or_default();
            if let Some(object) = body.as_object_mut() {
                object.insert("seat".to_owned(), seat.map(PlayerId::as_str).into());
                object.insert("grantId".to_owned(), grant_id.into());
                object.insert("credential".to_owned(), credential.into());
            }
            let bytes = serde_json::to_vec(&body).unwrap_or(rendered);
            json(StatusCode::CREATED, bytes, Some(view.version))
        })
        .await
        .map_err(session_error)
}

// ----- reads -----------------------------------------------------------------------

/// Query of `GET /sessions/:id/snapshot` (the version as text, so that a
/// bad one is this route's 400).
#[derive(Deserialize)]
pub struct SnapshotQuery {
    at: Option<String>,
}

/// `GET /sessions/:id/snapshot`, or with `?at=V` the state as it was at
/// version V (rebuilt from the log). 304 when `If-None-Match` names the
/// version answered.
pub async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<SnapshotQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let Query(query) =
        query.map_err(|_| ApiError::invalid_request("The query may only be at=VERSION."))?;
    let response = match query.at {
        None => {
            read(&state, caller, id, |view| {
                state_response(view, StatusCode::OK)
            })
            .await?
        }
        Some(text) => {
            let at = text.trim().parse::<u64>().map_err(|_| {
                ApiError::invalid_request("at must be a session version (a number).")
            })?;
            state
                .manager()
                .read_at_async(&caller, &id, at, |view| {
                    state_response(view, StatusCode::OK)
                })
                .await
                .map_err(session_error)?
        }
    };
    Ok(not_modified(&headers, response))
}

/// 304 (no body) when the request's `If-None-Match` names the answer's
/// ETag (or is `*`).
fn not_modified(headers: &HeaderMap, response: Response) -> Response {
    let Some(etag) = response.headers().get(ETAG).cloned() else {
        return response;
    };
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|list| {
            list.split(',').map(str::trim).any(|tag| {
                tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag.to_str().unwrap_or("")
            })
        });
    if !matches {
        return response;
    }
    let mut answer = Response::new(Body::empty());
    *answer.status_mut() = StatusCode::NOT_MODIFIED;
    answer.headers_mut().insert(ETAG, etag);
    answer
}

/// Body of `POST /sessions/:id/fork`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForkRequest {
    /// The version to start from (default: the current one).
    at: Option<u64>,
}

/// `POST /sessions/:id/fork {"at": V}`: a new session, owned by the
/// caller, that starts from the session as it was at version V.
pub async fn fork(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: OptionalBody<ForkRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionCreate)?;
    let request = body.map_err(|r| r.with_message("The body must be {\"at\": VERSION}."))?;
    let at = request.and_then(|ApiJson(r)| r.at);
    state
        .manager()
        .fork_async(&caller, &id, at, |view| {
            state_response(view, StatusCode::CREATED)
        })
        .await
        .map_err(session_error)
}

/// Path of the action query routes (field names are the route's
/// parameter names, `{id}` and `{action_id}`).
#[derive(Deserialize)]
pub struct ActionPath {
    id: String,
    action_id: String,
}

fn action_not_found(error: SessionError, action_id: &str, session_id: &str) -> ApiError {
    match error {
        SessionError::Engine(EngineError::UnknownAction(_)) => {
            ApiError::not_found(messages::action_not_found(action_id, session_id))
        }
        other => session_error(other),
    }
}

/// The action query routes: runs `query` for `action_id` on the session's
/// game, which renders `{sessionId, <key>: result}`; an action the session's
/// content lacks is 404.
async fn action_query(
    state: &AppState,
    caller: kb_session::Caller,
    path: ActionPath,
    query: impl FnOnce(&SessionView<'_>, &str) -> Result<Vec<u8>, EngineError> + Send + 'static,
) -> Result<Response, ApiError> {
    let ActionPath { id, action_id } = path;
    let (session_id, action) = (id.clone(), action_id.clone());
    read(state, caller, id, move |view| {
        query(view, &action_id).map(|body| json(StatusCode::OK, body, None))
    })
    .await?
    .map_err(|e| action_not_found(SessionError::Engine(e), &action, &session_id))
}

/// `POST /sessions/:id/actions/:actionId/costs`.
pub async fn costs(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ActionPath>,
    body: OptionalBody<ActionQueryRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let request = body.map_err(|r| r.with_message(messages::INVALID_ACTION_COST_REQUEST))?;
    let params = request.and_then(|ApiJson(r)| r.params).unwrap_or_default();
    action_query(&state, caller, path, move |view, action_id| {
        let costs = view.game.action_costs(action_id, &params)?;
        Ok(render::keyed(view.session_id, "costs", &costs))
    })
    .await
}

/// `POST /sessions/:id/actions/:actionId/requirements` (the engine ignores
/// `params`, as the reference's did).
pub async fn requirements(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ActionPath>,
    body: OptionalBody<ActionQueryRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    body.map_err(|r| r.with_message(messages::INVALID_ACTION_REQUIREMENT_REQUEST))?;
    action_query(&state, caller, path, |view, action_id| {
        let failures = view.game.action_requirements(action_id)?;
        Ok(render::keyed(
            view.session_id,
            "requirements",
            &Wire(&failures),
        ))
    })
    .await
}

/// `GET /sessions/:id/actions/:actionId/options`.
pub async fn options(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ActionPath>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    action_query(&state, caller, path, |view, action_id| {
        let groups: Vec<EffectGroup> = view
            .game
            .action_options(action_id)?
            .into_iter()
            .map(EffectGroup::from)
            .collect();
        Ok(render::keyed(view.session_id, "groups", &groups))
    })
    .await
}

/// `POST /sessions/:id/simulate`.
pub async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<SimulateRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let ApiJson(request) =
        body.map_err(|r| r.with_message(messages::INVALID_SIMULATION_REQUEST))?;
    let options: kb_engine::SimulateOptions = request.options.unwrap_or_default().into();
    read(&state, caller, id, move |view| {
        view.game
            .simulate_upcoming_phases(request.player_id, &options)
            .map(|result| {
                json(
                    StatusCode::OK,
                    render::keyed(view.session_id, "result", &Wire(&result)),
                    None,
                )
            })
    })
    .await?
    .map_err(|e| engine_error(&e))
}

// ----- mutations -----------------------------------------------------------------

/// Runs a command and renders the state response with `extra` fields.
pub(super) async fn mutate(
    state: AppState,
    caller: kb_session::Caller,
    id: String,
    command: Command,
    expected: Option<u64>,
) -> Result<Response, ApiError> {
    state
        .manager()
        .execute_async(&caller, &id, command, expected, outcome_response)
        .await
        .map_err(session_error)
}

/// The answer to a committed command: the session state with the command's
/// own fields.
pub(super) fn outcome_response(view: &SessionView<'_>, outcome: &Outcome) -> Response {
    let body = match outcome {
        Outcome::Advance(advance) => {
            render::session_state(view, Vec::new(), AdvanceExtra { advance })
        }
        Outcome::AiTurn(turn) => {
            let attacks = turn
                .actions
                .iter()
                .flat_map(|a| a.attack_logs.iter().cloned())
                .collect();
            render::session_state(view, attacks, AiTurnExtra::of(turn))
        }
        Outcome::Action(done) => render::session_state(view, done.attack_logs.clone(), Nothing {}),
        Outcome::DevMode | Outcome::PlayerName => {
            render::session_state(view, Vec::new(), Nothing {})
        }
    };
    json(StatusCode::OK, body, Some(view.version))
}

/// `POST /sessions/:id/advance` (the body is ignored).
pub async fn advance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let expected = if_match(&headers)?;
    mutate(state, caller, id, Command::Advance, expected).await
}

/// `POST /sessions/:id/dev-mode`.
pub async fn dev_mode(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<DevModeRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let ApiJson(request) =
        body.map_err(|r| r.with_message(messages::INVALID_SESSION_DEV_MODE_REQUEST))?;
    let expected = if_match(&headers)?;
    let command = Command::SetDevMode {
        enabled: request.enabled,
    };
    mutate(state, caller, id, command, expected).await
}

/// `PATCH /sessions/:id/player`.
pub async fn player_name(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<PlayerNameRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let ApiJson(request) =
        body.map_err(|r| r.with_message(messages::INVALID_PLAYER_NAME_UPDATE_REQUEST))?;
    let name = request.player_name.0;
    if name.trim().is_empty() {
        return Err(ApiError::invalid_request(messages::PLAYER_NAME_BLANK));
    }
    let name = validate_player_name(&name)
        .map_err(|_| ApiError::invalid_request(messages::PLAYER_NAME_TOO_LONG))?;
    let expected = if_match(&headers)?;
    let command = Command::SetPlayerName {
        player_id: request.player_id,
        player_name: name,
    };
    mutate(state, caller, id, command, expected).await
}

/// The action route's own error body.
fn action_error(
    status: StatusCode,
    message: &str,
    code: &str,
    error: Option<&EngineError>,
) -> Response {
    let failure = error
        .and_then(EngineError::requirement_failure)
        .map(RequirementFailureAnswer::from);
    let body = render::to_bytes(&render::ActionError {
        status: "error",
        error: message,
        code,
        requirement_failures: failure.clone().map(|f| [f]),
        requirement_failure: failure,
    });
    json(status, body, None)
}

/// `POST /sessions/:id/actions`: keeps the reference's `{status, error,
/// requirementFailure(s)}` body for its own errors and adds `code`.
pub async fn perform_action(
    State(state): State<AppState>,
    caller: Result<Caller, AuthError>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ActionRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller?, Role::SessionAdvance)?;
    let request = match body {
        Ok(ApiJson(request)) => request,
        Err(rejection) if rejection.is_invalid_body() => {
            return Ok(action_error(
                StatusCode::BAD_REQUEST,
                messages::INVALID_ACTION_REQUEST,
                "INVALID_REQUEST",
                None,
            ));
        }
        Err(rejection) => return Err(rejection.into()),
    };
    let expected = match if_match(&headers) {
        Ok(expected) => expected,
        Err(error) => {
            return Ok(action_error(
                StatusCode::BAD_REQUEST,
                error.message(),
                "INVALID_REQUEST",
                None,
            ));
        }
    };
    let command = Command::Action {
        action_id: request.action_id.0.as_str().into(),
        params: request.params.unwrap_or_default(),
        player_id: None,
    };
    let result = state
        .manager()
        .execute_async(&caller, &id, command, expected, |view, outcome| {
            let Outcome::Action(done) = outcome else {
                unreachable!("an action command has an action outcome")
            };
            let body =
                render::action_success(view, &done.costs, &done.traces, done.attack_logs.clone());
            json(StatusCode::OK, body, Some(view.version))
        })
        .await;
    Ok(match result {
        Ok(response) => response,
        Err(SessionError::Engine(error)) => action_error(
            StatusCode::CONFLICT,
            &error.to_string(),
            error.code(),
            Some(&error),
        ),
        Err(error @ SessionError::NotFound { .. }) => {
            action_error(StatusCode::NOT_FOUND, &error.to_string(), "NOT_FOUND", None)
        }
        Err(error @ (SessionError::Stale { .. } | SessionError::Concurrent { .. })) => {
            action_error(StatusCode::CONFLICT, &error.to_string(), "CONFLICT", None)
        }
        Err(other) => return Err(session_error(other)),
    })
}

/// `DELETE /sessions/:id` (`If-Match` as for the other writes).
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let expected = if_match(&headers)?;
    state
        .manager()
        .delete_async(&caller, &id, expected)
        .await
        .map_err(session_error)?;
    let deleted = id;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Deleted {
        session_id: String,
        deleted: bool,
    }
    Ok(Json(Deleted {
        session_id: deleted,
        deleted: true,
    })
    .into_response())
}

/// `GET /sessions`: every session (admins only).
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Role::Admin)?;
    let caller = session_caller(&caller);
    let sessions = state
        .manager()
        .list_async(&caller)
        .await
        .map_err(session_error)?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Entry {
        session_id: String,
        owner: Option<String>,
        created_at: i64,
        last_accessed_at: i64,
        dev_mode: bool,
        version: u64,
    }
    #[derive(Serialize)]
    struct Listing {
        sessions: Vec<Entry>,
    }
    let sessions = sessions
        .into_iter()
        .map(|s: SessionSummary| Entry {
            session_id: s.session_id,
            owner: s.owner,
            created_at: s.created_at,
            last_accessed_at: s.last_accessed_at,
            dev_mode: s.dev_mode,
            version: s.version,
        })
        .collect();
    Ok(Json(Listing { sessions }).into_response())
}

// ----- content ---------------------------------------------------------------------

/// `GET /runtime-config` (no auth).
pub async fn runtime_config(State(state): State<AppState>) -> Response {
    let _ = state;
    let text = kb_content::ContentPack::default_pack()
        .runtime_config()
        .as_str()
        .to_owned();
    json(StatusCode::OK, text.into_bytes(), None)
}

/// Query of `GET /metadata`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataQuery {
    session_id: Option<String>,
}

/// `GET /metadata`: the default content's registries and metadata, or a
/// session's (then the caller must be allowed to read that session).
pub async fn metadata(
    State(state): State<AppState>,
    caller: Result<Caller, AuthError>,
    query: Result<Query<MetadataQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::invalid_request(
            messages::INVALID_SESSION_IDENTIFIER,
        ));
    };
    #[derive(Serialize)]
    struct MetadataBody<'a> {
        registries: &'a kb_content::RenderedJson,
        metadata: &'a kb_content::RenderedJson,
    }
    match query.session_id {
        None => {
            let content = state.manager().default_content();
            let body = render::to_bytes(&MetadataBody {
                registries: content.registries(),
                metadata: content.metadata(),
            });
            Ok(json(StatusCode::OK, body, None))
        }
        Some(id) if id.is_empty() => Err(ApiError::invalid_request(
            messages::INVALID_SESSION_IDENTIFIER,
        )),
        Some(id) => {
            let caller = require(&caller?, Role::SessionAdvance)?;
            read(&state, caller, id, |view| {
                render::to_bytes(&MetadataBody {
                    registries: view.content.registries(),
                    metadata: view.content.metadata(),
                })
            })
            .await
            .map(|body| json(StatusCode::OK, body, None))
        }
    }
}

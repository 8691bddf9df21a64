//! Seats and invitations (issue 11 §1): `GET /sessions/:id/seats`,
//! `POST /sessions/:id/invitations`, `DELETE /sessions/:id/invitations/:grantId`,
//! `DELETE /sessions/:id/credentials/:grantId` and `POST /invitations/accept`.
//!
//! Only the wire format lives here: who may invite, revoke or see is the
//! session manager's decision (`kb_session` `access`), as it is for every
//! other route. Accepting needs no token: the invitation code is the
//! capability, and the answer's `credential` is then presented as a Bearer
//! token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kb_session::{SeatHolder, SeatView};
use kb_store::{GrantKind, SPECTATOR};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::sessions::{JsonBody, require, session_error};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The default life of an invitation: a day.
const DEFAULT_EXPIRY_SECONDS: u64 = 24 * 3600;
/// The longest life of an invitation: thirty days.
const MAX_EXPIRY_SECONDS: u64 = 30 * 24 * 3600;

/// `POST /sessions/:id/invitations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteRequest {
    /// `"A"`, `"B"` or `"spectator"`.
    seat: String,
    /// Seconds until the invitation expires (1 to 30 days' worth; default
    /// a day).
    #[serde(default)]
    expires_in_seconds: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvitationBody {
    session_id: String,
    grant_id: String,
    seat: String,
    code: String,
    expires_at: i64,
}

/// `POST /sessions/:id/invitations`: the owner invites someone to a seat or
/// to watch. 201 with the code (shown once).
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<InviteRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let ApiJson(request) = body.map_err(|r| r.with_message("Invalid invitation request."))?;
    let seconds = request.expires_in_seconds.unwrap_or(DEFAULT_EXPIRY_SECONDS);
    if !(1..=MAX_EXPIRY_SECONDS).contains(&seconds) {
        return Err(ApiError::invalid_request(format!(
            "expiresInSeconds must be from 1 to {MAX_EXPIRY_SECONDS}."
        )));
    }
    let invitation = state
        .manager()
        .invite_async(&caller, &id, &request.seat, Duration::from_secs(seconds))
        .await
        .map_err(session_error)?;
    let body = InvitationBody {
        session_id: id,
        grant_id: invitation.grant_id,
        seat: invitation.role,
        code: invitation.code,
        expires_at: invitation.expires_at,
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `POST /invitations/accept`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The invitation code.
    code: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AcceptedBody {
    session_id: String,
    seat: String,
    grant_id: String,
    credential: String,
}

/// `POST /invitations/accept`: an invitation code for a seat credential.
/// 404 for an unknown, expired or revoked code, 409 for a used seat
/// invitation or a taken seat, 400 for a malformed code.
pub async fn accept(
    State(state): State<AppState>,
    body: JsonBody<AcceptRequest>,
) -> Result<Response, ApiError> {
    let ApiJson(request) = body.map_err(|r| r.with_message("Invalid invitation code."))?;
    let accepted = state
        .manager()
        .accept_async(&request.code)
        .await
        .map_err(session_error)?;
    let body = AcceptedBody {
        session_id: accepted.session_id,
        seat: accepted.role,
        grant_id: accepted.grant_id,
        credential: accepted.credential,
    };
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// `DELETE /sessions/:id/invitations/:grantId`.
pub async fn revoke_invitation(
    state: State<AppState>,
    caller: Caller,
    path: Path<(String, String)>,
) -> Result<Response, ApiError> {
    revoke(state, caller, path, GrantKind::Invitation).await
}

/// `DELETE /sessions/:id/credentials/:grantId`.
pub async fn revoke_credential(
    state: State<AppState>,
    caller: Caller,
    path: Path<(String, String)>,
) -> Result<Response, ApiError> {
    revoke(state, caller, path, GrantKind::Credential).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Revoked {
    session_id: String,
    grant_id: String,
    revoked: bool,
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, grant_id)): Path<(String, String)>,
    kind: GrantKind,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    state
        .manager()
        .revoke_async(&caller, &id, &grant_id, kind)
        .await
        .map_err(session_error)?;
    let body = Revoked {
        session_id: id,
        grant_id,
        revoked: true,
    };
    Ok(axum::Json(body).into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeatBody {
    seat: String,
    /// `ai`, `owner`, `credential` or `open`.
    holder: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant_id: Option<String>,
    last_seen_at: Option<i64>,
    connected: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeatsBody {
    session_id: String,
    seats: Vec<SeatBody>,
    spectators: Vec<SeatBody>,
}

/// A seat as sent; a credential holding an event stream open here counts
/// as connected, and so does the owner's seat while a token (the owner's,
/// or an admin's) streams the session here.
fn seat_body(view: SeatView, session_id: &str) -> SeatBody {
    let streaming = match &view.holder {
        SeatHolder::Credential { grant_id } => {
            super::events::open_streams(&format!("grant:{grant_id}")) > 0
        }
        SeatHolder::Owner => super::events::token_streams(session_id) > 0,
        _ => false,
    };
    let (holder, grant_id) = match view.holder {
        SeatHolder::Ai => ("ai", None),
        SeatHolder::Owner => ("owner", None),
        SeatHolder::Credential { grant_id } => ("credential", Some(grant_id)),
        SeatHolder::Open => ("open", None),
    };
    SeatBody {
        seat: view.role,
        holder,
        grant_id,
        last_seen_at: view.last_seen_at,
        connected: view.connected || streaming,
    }
}

/// `GET /sessions/:id/seats`: who holds each seat (the AI, the owner, a
/// credential, nobody), with presence; then the spectators.
pub async fn seats(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let views = state
        .manager()
        .seats_async(&caller, &id)
        .await
        .map_err(session_error)?;
    let (spectators, seats): (Vec<SeatView>, Vec<SeatView>) =
        views.into_iter().partition(|view| view.role == SPECTATOR);
    let body = SeatsBody {
        seats: seats.into_iter().map(|v| seat_body(v, &id)).collect(),
        spectators: spectators.into_iter().map(|v| seat_body(v, &id)).collect(),
        session_id: id,
    };
    Ok(axum::Json(body).into_response())
}

//! `GET /healthz`: the health check a load balancer polls.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kb_protocol::{Health, HealthStatus};
use kb_session::StoreHealth;

use crate::extract::ApiJson;
use crate::state::AppState;

/// 200 `{"status": "ok"}` while the server serves and its store can save
/// changes; 503 `{"status": "unavailable", "reason": …}` while the store
/// cannot write (a full or read-only disk, a database server down): reads
/// are still served, writes are refused. When nothing was written for a
/// few seconds, or the last write failed, the check writes the heartbeat
/// to find out (at most once a second).
pub async fn get_healthz(State(state): State<AppState>) -> Response {
    let manager = state.manager().clone();
    let health = tokio::task::spawn_blocking(move || manager.store_health())
        .await
        .unwrap_or_else(|error| StoreHealth::Failing {
            since: 0,
            error: error.to_string(),
        });
    match health {
        StoreHealth::Writable => ApiJson(Health {
            status: HealthStatus::Ok,
            reason: None,
        })
        .into_response(),
        StoreHealth::Failing { error, .. } => {
            let health = Health {
                status: HealthStatus::Unavailable,
                reason: Some(format!("the session store cannot write: {error}")),
            };
            (StatusCode::SERVICE_UNAVAILABLE, ApiJson(health)).into_response()
        }
    }
}

/// The OpenAPI 3.1 description of this API, written by hand beside the route
/// table (a test keeps the two in step).
pub const OPENAPI_JSON: &str = include_str!("../../api/openapi.json");

/// `GET /openapi.json`.
pub async fn get_openapi() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON,
    )
        .into_response()
}

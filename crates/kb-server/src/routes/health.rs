//! `GET /healthz`: liveness probe.

use kb_protocol::{Health, HealthStatus};

use crate::extract::ApiJson;

/// Answers 200 `{"status": "ok"}` while the server is serving.
pub async fn get_healthz() -> ApiJson<Health> {
    ApiJson(Health {
        status: HealthStatus::Ok,
    })
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

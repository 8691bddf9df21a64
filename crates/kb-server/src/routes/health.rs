//! `GET /healthz`: liveness probe.

use kb_protocol::{Health, HealthStatus};

use crate::extract::ApiJson;

/// Answers 200 `{"status": "ok"}` while the server is serving.
pub async fn get_healthz() -> ApiJson<Health> {
    ApiJson(Health {
        status: HealthStatus::Ok,
    })
}

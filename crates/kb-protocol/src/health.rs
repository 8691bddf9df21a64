//! Body of `GET /healthz`.

use serde::{Deserialize, Serialize};

/// `{"status": "ok"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Whether the server is serving.
    pub status: HealthStatus,
}

/// The value of [`Health::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The process is up and answering requests.
    Ok,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape() {
        let health = Health {
            status: HealthStatus::Ok,
        };
        assert_eq!(
            serde_json::to_value(health).unwrap(),
            serde_json::json!({"status": "ok"})
        );
    }
}

//! Body of `GET /healthz`.

use serde::{Deserialize, Serialize};

/// `{"status": "ok"}`, or `{"status": "unavailable", "reason": "..."}`
/// (with status 503) while the server cannot save changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Whether the server is fully serving.
    pub status: HealthStatus,
    /// Why it is not, for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The value of [`Health::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The process is up, answers requests and can save changes.
    Ok,
    /// The process answers reads but cannot save changes: its store cannot
    /// write (a full or read-only disk, a database server down). A load
    /// balancer should send writes elsewhere.
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape() {
        let health = Health {
            status: HealthStatus::Ok,
            reason: None,
        };
        assert_eq!(
            serde_json::to_value(health).unwrap(),
            serde_json::json!({"status": "ok"})
        );
        let down = Health {
            status: HealthStatus::Unavailable,
            reason: Some("disk full".to_owned()),
        };
        assert_eq!(
            serde_json::to_value(down).unwrap(),
            serde_json::json!({"status": "unavailable", "reason": "disk full"})
        );
    }
}

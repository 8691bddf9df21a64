//! `GET /metrics`: the Prometheus scrape endpoint.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

/// The metrics registry in the OpenMetrics text format.
pub async fn get_metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state.metrics().encode().map_err(ApiError::internal)?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response())
}

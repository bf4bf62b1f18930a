//! The release gate as the handlers see it: refuse (and record) requests
//! before the release instant, and writes while closed or paused.

use maeum_contract::gate::Phase;
use maeum_contract::Timestamp;

use crate::db::Settings;
use crate::problem::{closed, not_open, paused, ApiError};
use crate::state::AppState;

/// The campaign row to decide by. A recent copy may admit a request (the
/// claim's transaction checks the row again), but a refusal is only ever made
/// on the row as read now.
pub(crate) async fn load_settings(state: &AppState) -> Result<Settings, ApiError> {
    let recent = state.store.settings().await?;
    if recent.phase(state.clock.now()) == Phase::Open {
        return Ok(recent);
    }
    Ok(state.store.current_settings().await?)
}

/// Refuses, and records, a request for a gated endpoint before the release instant.
pub(crate) async fn refuse_if_early(
    state: &AppState,
    settings: &Settings,
    user: &str,
    endpoint: &'static str,
) -> Result<Timestamp, ApiError> {
    let now = state.clock.now();
    if let Phase::BeforeOpen { .. } = settings.phase(now) {
        state
            .store
            .record_early_attempt(now, Some(user.to_string()), endpoint)
            .await?;
        state.metrics.early_attempt();
        return Err(not_open(settings.release_at, now));
    }
    Ok(now)
}

/// The gate for writes: refuses (and records) early requests, and refuses when
/// closed or paused. The write transaction checks it again, atomically.
pub(crate) async fn write_gate(
    state: &AppState,
    user: &str,
    endpoint: &'static str,
) -> Result<(), ApiError> {
    let settings = load_settings(state).await?;
    refuse_if_early(state, &settings, user, endpoint).await?;
    match settings.phase(state.clock.now()) {
        Phase::Closed => Err(closed()),
        Phase::Paused => Err(paused(state.pause_retry_after_seconds)),
        Phase::BeforeOpen { .. } | Phase::Open => Ok(()),
    }
}

//! The release gate as the handlers see it: refuse (and record) requests
//! before the release instant, and writes while closed or paused.

use maeum_contract::gate::Phase;
use maeum_contract::Timestamp;

use crate::db::Settings;
use crate::problem::{closed, not_open, paused, ApiError};
use crate::state::AppState;

/// The campaign row, read for this request.
pub(crate) async fn load_settings(state: &AppState) -> Result<Settings, ApiError> {
    Ok(state.store.settings().await?)
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
    gate_by(state, &settings, user, endpoint).await
}

/// [`write_gate`] for a claim, which is most of the wave: a copy of the row
/// read at most a second ago may admit it (the claim's statement or
/// transaction checks the row itself), but a refusal is only made on the row
/// read for this request.
pub(crate) async fn claim_gate(
    state: &AppState,
    user: &str,
    endpoint: &'static str,
) -> Result<(), ApiError> {
    let recent = state.store.recent_settings().await?;
    if recent.phase(state.clock.now()) == Phase::Open {
        return Ok(());
    }
    write_gate(state, user, endpoint).await
}

async fn gate_by(
    state: &AppState,
    settings: &Settings,
    user: &str,
    endpoint: &'static str,
) -> Result<(), ApiError> {
    refuse_if_early(state, settings, user, endpoint).await?;
    match settings.phase(state.clock.now()) {
        Phase::Closed => Err(closed()),
        Phase::Paused => Err(paused(state.pause_retry_after_seconds)),
        Phase::BeforeOpen { .. } | Phase::Open => Ok(()),
    }
}

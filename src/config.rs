//! Every build-time choice of the app, in one place.
//!
//! `MAEUM_RELEASE_AT` (RFC 3339 with offset) is read at compile time. `build.rs`
//! rejects an unparsable value, and a release build of the wasm without one
//! does not compile. Debug builds without it open as soon as the server's
//! `release_at` passes ("open now" for a dev server).

use maeum_contract::Timestamp;

/// The raw baked release instant, if this build has one.
pub const RELEASE_AT_RAW: Option<&str> = option_env!("MAEUM_RELEASE_AT");

/// Base of the API paths (same origin; the trunk dev server proxies it).
pub const API_BASE: &str = match option_env!("MAEUM_API_BASE") {
    Some(base) => base,
    None => "/api",
};

/// Runtime configuration of a deployed bundle (may postpone the release).
pub const RUNTIME_CONFIG_URL: &str = "/config.json";

/// How long the paused notice waits before asking again (plus up to 5 s of
/// jitter), when the server gave no `Retry-After`.
pub const DEFAULT_PAUSE_RETRY_S: u32 = 15;

/// The release instant baked into this build.
pub fn baked_release_at() -> Option<Timestamp> {
    RELEASE_AT_RAW.and_then(|raw| Timestamp::parse_rfc3339(raw.trim()).ok())
}

/// The baked instant, postponed (never advanced) by the runtime config.
pub fn effective_release_at(runtime: Option<Timestamp>) -> Option<Timestamp> {
    match (baked_release_at(), runtime) {
        (Some(b), Some(r)) => Some(b.max(r)),
        (None, Some(r)) => Some(r),
        (b, None) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_config_postpones_but_never_advances() {
        let early = Timestamp::parse_rfc3339("2000-01-01T00:00:00Z").ok();
        let late = Timestamp::parse_rfc3339("2999-01-01T00:00:00Z").ok();
        assert_eq!(
            effective_release_at(late),
            late,
            "a later runtime instant always wins"
        );
        match baked_release_at() {
            Some(baked) => assert_eq!(
                effective_release_at(early),
                Some(baked),
                "an earlier one never advances"
            ),
            None => assert_eq!(effective_release_at(early), early),
        }
        assert_eq!(effective_release_at(None), baked_release_at());
    }
}

//! The release gate: whether the campaign is open, decided from the server's
//! clock only. The device clock is never trusted.

use crate::{Status, Timestamp};

/// Herd spread at the opening when the status does not give one.
pub const DEFAULT_SPREAD_SECONDS: u32 = 10;
/// A status may not ask clients to wait longer than this.
pub const MAX_SPREAD_SECONDS: u32 = 600;

/// The spread a client applies at the opening, bounded whatever the server says.
pub fn spread_seconds(status: &Status) -> u32 {
    status
        .spread_seconds
        .unwrap_or(DEFAULT_SPREAD_SECONDS)
        .min(MAX_SPREAD_SECONDS)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not yet: show the teaser and send no package or claim request.
    BeforeOpen {
        opens_at: Timestamp,
    },
    Open,
    Paused,
    Closed,
}

/// The instant the app may open: the later of the instant baked into the build
/// and the server's `release_at` (a server can postpone, never advance, a build).
pub fn opens_at(baked: Option<Timestamp>, server_release_at: Timestamp) -> Timestamp {
    baked.map_or(server_release_at, |b| b.max(server_release_at))
}

/// The phase at `server_now` (an estimate of the server's clock, see [`ServerClock`]).
pub fn phase(baked: Option<Timestamp>, status: &Status, server_now: Timestamp) -> Phase {
    let opens_at = opens_at(baked, status.release_at);
    if status.closes_at.is_some_and(|c| server_now >= c) {
        Phase::Closed
    } else if server_now < opens_at {
        Phase::BeforeOpen { opens_at }
    } else if status.paused {
        Phase::Paused
    } else {
        Phase::Open
    }
}

/// The server's clock, carried forward on a monotonic clock (`performance.now()`
/// in the browser), so changing the device's time changes nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServerClock {
    /// server time (ms since epoch) minus the monotonic reading, at the sample.
    offset_ms: f64,
}

impl ServerClock {
    /// `server_time` as received; `mono_sent`/`mono_received` bracket the request,
    /// and the server is assumed to have read its clock half-way.
    pub fn from_sample(server_time: Timestamp, mono_sent_ms: f64, mono_received_ms: f64) -> Self {
        let midpoint = mono_sent_ms + (mono_received_ms - mono_sent_ms).max(0.0) / 2.0;
        ServerClock {
            offset_ms: server_time.0 as f64 - midpoint,
        }
    }

    pub fn now(self, mono_ms: f64) -> Timestamp {
        Timestamp((self.offset_ms + mono_ms).round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn status(release: &str, paused: bool, closes: Option<&str>) -> Status {
        Status {
            server_time: t(release),
            release_at: t(release),
            open: false,
            paused,
            closes_at: closes.map(t),
            spread_seconds: None,
        }
    }

    #[test]
    fn opens_at_the_later_of_baked_and_server_release() {
        let (early, late) = (
            t("2023-01-05T09:00:00+09:00"),
            t("2023-01-05T10:00:00+09:00"),
        );
        assert_eq!(opens_at(Some(early), late), late);
        assert_eq!(opens_at(Some(late), early), late);
        assert_eq!(opens_at(None, early), early);
    }

    #[test]
    fn phase_moves_from_teaser_to_open_to_closed() {
        let s = status(
            "2023-01-05T09:00:00+09:00",
            false,
            Some("2023-01-20T23:59:59+09:00"),
        );
        let before = phase(None, &s, t("2023-01-05T08:59:59.999+09:00"));
        assert_eq!(
            before,
            Phase::BeforeOpen {
                opens_at: t("2023-01-05T09:00:00+09:00")
            }
        );
        assert_eq!(phase(None, &s, t("2023-01-05T09:00:00+09:00")), Phase::Open);
        assert_eq!(
            phase(None, &s, t("2023-01-20T23:59:59+09:00")),
            Phase::Closed
        );
    }

    #[test]
    fn a_baked_instant_holds_the_teaser_even_if_the_server_opened_earlier() {
        let s = status("2023-01-04T16:00:00+09:00", false, None);
        let baked = Some(t("2023-01-05T09:00:00+09:00"));
        assert!(matches!(
            phase(baked, &s, t("2023-01-04T16:15:00+09:00")),
            Phase::BeforeOpen { .. }
        ));
    }

    #[test]
    fn paused_only_applies_once_open() {
        let s = status("2023-01-05T09:00:00+09:00", true, None);
        assert!(matches!(
            phase(None, &s, t("2023-01-05T08:00:00+09:00")),
            Phase::BeforeOpen { .. }
        ));
        assert_eq!(
            phase(None, &s, t("2023-01-05T09:30:00+09:00")),
            Phase::Paused
        );
    }

    #[test]
    fn spread_defaults_to_ten_seconds_and_is_bounded() {
        let mut s = status("2023-01-05T09:00:00+09:00", false, None);
        assert_eq!(spread_seconds(&s), 10);
        s.spread_seconds = Some(3);
        assert_eq!(spread_seconds(&s), 3);
        s.spread_seconds = Some(86_400);
        assert_eq!(spread_seconds(&s), MAX_SPREAD_SECONDS);
    }

    #[test]
    fn server_clock_ignores_device_skew_both_ways() {
        // The monotonic clock starts at an arbitrary origin; only differences matter.
        let server = t("2023-01-05T08:59:00+09:00");
        for origin in [-86_400_000.0, 0.0, 86_400_000.0] {
            let clock = ServerClock::from_sample(server, origin + 1000.0, origin + 1200.0);
            assert_eq!(clock.now(origin + 1100.0), server);
            assert_eq!(clock.now(origin + 61_100.0), t("2023-01-05T09:00:00+09:00"));
        }
    }
}

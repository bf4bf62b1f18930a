//! The server's clock. It decides the release gate, so tests and `--fake-now`
//! can move it; it always advances in real time from wherever it was set.

use maeum_contract::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch on the machine's clock.
pub fn system_now() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp(d.as_millis() as i64),
        Err(e) => Timestamp(-(e.duration().as_millis() as i64)),
    }
}

/// The machine's clock shifted by an offset that can be changed at any time.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// The machine's clock, unshifted.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that reads `now` at this instant and runs on from there.
    pub fn starting_at(now: Timestamp) -> Clock {
        let clock = Clock::default();
        clock.set_now(now);
        clock
    }

    pub fn now(&self) -> Timestamp {
        Timestamp(system_now().0 + self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock so that it reads `now` at this instant.
    pub fn set_now(&self, now: Timestamp) {
        self.offset_ms
            .store(now.0 - system_now().0, Ordering::Relaxed);
    }

    /// Moves the clock forwards (or backwards, with a negative amount).
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_reads_the_set_time_and_runs_on() {
        let t = Timestamp::parse_rfc3339("2023-01-05T08:59:00+09:00").unwrap();
        let clock = Clock::starting_at(t);
        let read = clock.now();
        assert!(read >= t && read.0 - t.0 < 1000, "{read:?}");
        clock.advance_ms(60_000);
        assert!(clock.now().0 - t.0 >= 60_000);
        assert!((Clock::system().now().0 - system_now().0).abs() < 1000);
    }
}

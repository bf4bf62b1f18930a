//! When to send a request again: exponential backoff with full jitter, never
//! sooner than the server's `Retry-After` (delay-seconds or an HTTP date).
//! Pure functions, unit-tested natively and in the browser.

use maeum_contract::time::{Civil, Timestamp};

/// First backoff ceiling, doubled at every attempt up to [`CAP_MS`].
pub const BASE_MS: u32 = 500;
pub const CAP_MS: u32 = 8_000;
/// Longest `Retry-After` taken at its word.
pub const MAX_RETRY_AFTER_S: u32 = 3600;

/// Wait before retry number `attempt` (1 for the first retry): uniform in
/// `0..min(CAP_MS, BASE_MS·2^(attempt-1))` ("full jitter", `unit` is a random
/// number in `0..1`), added to the server's `Retry-After` so the herd that got
/// the same answer does not come back in the same millisecond.
pub fn backoff_ms(attempt: u32, retry_after_s: Option<u32>, unit: f64) -> u32 {
    let ceiling = BASE_MS
        .saturating_mul(1 << attempt.saturating_sub(1).min(8))
        .min(CAP_MS);
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let after = retry_after_s.unwrap_or(0).min(MAX_RETRY_AFTER_S) * 1000;
    after + (unit * f64::from(ceiling)) as u32
}

/// `Retry-After` in seconds from now: delay-seconds, or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`) measured against `now_ms` (epoch ms).
/// A date in the past means 0; anything unreadable, `None`. Capped at an hour.
pub fn retry_after_at(raw: &str, now_ms: f64) -> Option<u32> {
    let raw = raw.trim();
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return Some(raw.parse::<u64>().map_or(MAX_RETRY_AFTER_S, |s| {
            s.min(u64::from(MAX_RETRY_AFTER_S)) as u32
        }));
    }
    let at = http_date(raw)?;
    let s = ((at.0 as f64 - now_ms) / 1000.0).ceil();
    Some(s.clamp(0.0, f64::from(MAX_RETRY_AFTER_S)) as u32)
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only HTTP date form a
/// server may send (RFC 9110 §5.6.7): fixed width, read by position.
fn http_date(s: &str) -> Option<Timestamp> {
    const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
    let b = s.as_bytes();
    if b.len() != 29 || b[3..5] != *b", " || b[25..] != *b" GMT" {
        return None;
    }
    let num = |from: usize, len: usize| {
        b[from..from + len].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let month = (0..12).find(|m| MONTHS[m * 3..m * 3 + 3] == b[8..11])? as u32 + 1;
    let (day, year) = (num(5, 2)?, num(12, 4)?);
    let (hour, minute, second) = (num(17, 2)?, num(20, 2)?, num(23, 2)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(Timestamp::from_civil_utc(Civil {
        year: i64::from(year),
        month,
        day,
        hour,
        minute,
        second,
        milli: 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_respects_retry_after() {
        assert_eq!(backoff_ms(1, None, 0.0), 0);
        assert_eq!(backoff_ms(1, None, 1.0), 500);
        assert_eq!(backoff_ms(3, None, 1.0), 2000);
        assert_eq!(backoff_ms(40, None, 1.0), CAP_MS);
        assert_eq!(backoff_ms(2, Some(3), 0.0), 3000);
        assert_eq!(backoff_ms(2, Some(3), 1.0), 4000);
        assert_eq!(backoff_ms(1, Some(99_999), f64::NAN), 3_600_250);
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = Timestamp::parse_rfc3339("2015-10-21T07:27:50Z").unwrap().0 as f64;
        assert_eq!(retry_after_at(" 12 ", now), Some(12));
        assert_eq!(retry_after_at("99999999999999999999", now), Some(3600));
        assert_eq!(
            retry_after_at("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(10)
        );
        assert_eq!(
            retry_after_at("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_at("Wed, 21 Oct 2015 07:28:00 PST", now), None);
        assert_eq!(retry_after_at("-1", now), None);
        assert_eq!(retry_after_at("", now), None);
    }
}

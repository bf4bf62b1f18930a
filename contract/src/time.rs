//! Instants on the wire (RFC 3339) and their display in Korea time.
//!
//! Hand-written instead of `chrono`/`time` so the wasm bundle stays small; the
//! civil-date arithmetic is Howard Hinnant's `days_from_civil` algorithm.

use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Korea Standard Time is UTC+9 all year (no daylight saving since 1988).
pub const KST_OFFSET_MS: i64 = 9 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// An instant, as milliseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A calendar date and wall-clock time (no zone attached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTimeError(pub String);

impl fmt::Display for ParseTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid RFC 3339 time: {}", self.0)
    }
}

impl std::error::Error for ParseTimeError {}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Timestamp {
    pub fn from_civil_utc(c: Civil) -> Self {
        let days = days_from_civil(c.year, c.month, c.day);
        Timestamp(
            days * DAY_MS
                + (c.hour as i64 * 3600 + c.minute as i64 * 60 + c.second as i64) * 1000
                + c.milli as i64,
        )
    }

    /// The wall clock at this instant at a fixed offset from UTC.
    pub fn civil_at(self, offset_ms: i64) -> Civil {
        let local = self.0 + offset_ms;
        let (year, month, day) = civil_from_days(local.div_euclid(DAY_MS));
        let ms = local.rem_euclid(DAY_MS);
        Civil {
            year,
            month,
            day,
            hour: (ms / 3_600_000) as u32,
            minute: (ms / 60_000 % 60) as u32,
            second: (ms / 1000 % 60) as u32,
            milli: (ms % 1000) as u32,
        }
    }

    pub fn kst(self) -> Civil {
        self.civil_at(KST_OFFSET_MS)
    }

    pub fn add_days(self, days: i64) -> Self {
        Timestamp(self.0 + days * DAY_MS)
    }

    /// Calendar months in Korea time; a day past the month's end clamps to its
    /// last day (1월 31일 + 1개월 = 2월 28일).
    pub fn add_months_kst(self, months: u32) -> Self {
        let c = self.kst();
        let total = c.year * 12 + (c.month as i64 - 1) + months as i64;
        let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let day = c.day.min(days_in_month(year, month));
        Timestamp(
            Timestamp::from_civil_utc(Civil {
                year,
                month,
                day,
                ..c
            })
            .0 - KST_OFFSET_MS,
        )
    }

    /// Parses RFC 3339 (`2023-01-05T09:00:00+09:00`, `...Z`, optional fraction).
    pub fn parse_rfc3339(s: &str) -> Result<Self, ParseTimeError> {
        let err = || ParseTimeError(s.to_string());
        let b = s.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(err());
        }
        let num = |r: core::ops::Range<usize>| -> Result<u32, ParseTimeError> {
            let part = s.get(r).ok_or_else(err)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        let (year, month, day) = (num(0..4)? as i64, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(err());
        }
        let mut i = 19;
        let mut milli = 0u32;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(err());
            }
            let frac = &s[start..i.min(start + 3)];
            milli = frac.parse::<u32>().map_err(|_| err())? * 10u32.pow(3 - frac.len() as u32);
        }
        let offset_ms = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return Err(err());
                }
                let off = (oh as i64 * 60 + om as i64) * 60_000;
                if *sign == b'-' {
                    -off
                } else {
                    off
                }
            }
            _ => return Err(err()),
        };
        let second = second.min(59); // a leap second reads as :59
        let utc = Timestamp::from_civil_utc(Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            milli,
        });
        Ok(Timestamp(utc.0 - offset_ms))
    }

    /// RFC 3339 in UTC, with milliseconds only when there are any.
    pub fn to_rfc3339(self) -> String {
        let c = self.civil_at(0);
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        );
        if c.milli != 0 {
            s.push_str(&format!(".{:03}", c.milli));
        }
        s.push('Z');
        s
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl core::str::FromStr for Timestamp {
    type Err = ParseTimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse_rfc3339(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

const WEEKDAYS: [&str; 7] = ["일", "월", "화", "수", "목", "금", "토"];

/// `2023년 4월 5일` in Korea time.
pub fn kst_date(t: Timestamp) -> String {
    let c = t.kst();
    format!("{}년 {}월 {}일", c.year, c.month, c.day)
}

/// `09:41` in Korea time (24-hour, as used next to counters).
pub fn kst_hm(t: Timestamp) -> String {
    let c = t.kst();
    format!("{:02}:{:02}", c.hour, c.minute)
}

/// `1월 5일 (목) 오전 9:00` in Korea time.
pub fn kst_day_time(t: Timestamp) -> String {
    let c = t.kst();
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[((t.0 + KST_OFFSET_MS).div_euclid(DAY_MS) + 4).rem_euclid(7) as usize];
    let (half, h12) = match c.hour {
        0 => ("오전", 12),
        h @ 1..=11 => ("오전", h),
        12 => ("오후", 12),
        h => ("오후", h - 12),
    };
    format!(
        "{}월 {}일 ({}) {} {}:{:02}",
        c.month, c.day, weekday, half, h12, c.minute
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn parses_offsets_to_the_same_instant() {
        assert_eq!(t("2023-01-05T09:00:00+09:00"), t("2023-01-05T00:00:00Z"));
        assert_eq!(t("2023-01-04T19:00:00-05:00"), t("2023-01-05T00:00:00Z"));
        assert_eq!(t("1970-01-01T00:00:00Z"), Timestamp(0));
        assert_eq!(
            t("2023-01-05T00:00:00.5Z").0 - t("2023-01-05T00:00:00Z").0,
            500
        );
        assert_eq!(t("2023-01-05T00:00:00.123456Z").0 % 1000, 123);
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "2023-01-05",
            "2023-01-05T09:00:00",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-05T24:00:00Z",
            "2023-01-05T09:00:00+0900",
            "2023-01-05T09:00:00.Z",
            "2023-01-05T09:00:00Zjunk",
            "２023-01-05T09:00:00Z",
            "2023-01-05T09:0a:00Z",
        ] {
            assert!(
                Timestamp::parse_rfc3339(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn round_trips_through_rfc3339() {
        for s in [
            "2023-01-05T00:00:00Z",
            "2024-02-29T23:59:59.999Z",
            "1969-12-31T23:59:59Z",
            "2100-03-01T12:00:00.001Z",
        ] {
            assert_eq!(t(s).to_rfc3339(), s);
        }
    }

    #[test]
    fn korea_time_labels_ignore_the_utc_date() {
        // 2023-01-04T15:30Z is already 1월 5일 00:30 in Korea.
        let x = t("2023-01-04T15:30:00Z");
        assert_eq!(kst_date(x), "2023년 1월 5일");
        assert_eq!(kst_hm(x), "00:30");
        assert_eq!(
            kst_day_time(t("2023-01-05T09:00:00+09:00")),
            "1월 5일 (목) 오전 9:00"
        );
        assert_eq!(
            kst_day_time(t("2023-01-05T00:05:00+09:00")),
            "1월 5일 (목) 오전 12:05"
        );
        assert_eq!(
            kst_day_time(t("2023-01-20T23:59:00+09:00")),
            "1월 20일 (금) 오후 11:59"
        );
        assert_eq!(
            kst_day_time(t("2023-01-08T12:00:00+09:00")),
            "1월 8일 (일) 오후 12:00"
        );
    }

    #[test]
    fn ninety_days_from_the_fifth_of_january_is_the_fifth_of_april() {
        assert_eq!(
            kst_date(t("2023-01-05T09:00:00+09:00").add_days(90)),
            "2023년 4월 5일"
        );
    }

    #[test]
    fn months_clamp_to_the_end_of_shorter_months() {
        assert_eq!(
            kst_date(t("2023-01-31T10:00:00+09:00").add_months_kst(1)),
            "2023년 2월 28일"
        );
        assert_eq!(
            kst_date(t("2024-01-31T10:00:00+09:00").add_months_kst(1)),
            "2024년 2월 29일"
        );
        assert_eq!(
            kst_date(t("2023-12-15T10:00:00+09:00").add_months_kst(1)),
            "2024년 1월 15일"
        );
        // keeps the Korean wall-clock time
        assert_eq!(
            kst_hm(t("2023-01-05T09:41:00+09:00").add_months_kst(1)),
            "09:41"
        );
    }
}

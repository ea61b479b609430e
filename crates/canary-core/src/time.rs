//! Timestamps in the one accepted form `YYYY-MM-DDTHH:MM:SSZ`, and durations
//! written as `90d`, `36h`, `2w`, `1d12h`.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike as _, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone as _, Utc,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC instant with whole seconds, written exactly as `YYYY-MM-DDTHH:MM:SSZ`.
///
/// Parsing accepts that form only: no fractions, offsets, lowercase letters,
/// spaces or leap seconds. Nothing is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

/// Why a string is not a [`Timestamp`] or a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not of the form `YYYY-MM-DDTHH:MM:SSZ`.
    #[error("timestamp {0:?} is not of the form YYYY-MM-DDTHH:MM:SSZ (UTC, whole seconds)")]
    TimestampFormat(String),
    /// The form is right but the date or time does not exist.
    #[error("timestamp {0:?} names a date or time that does not exist")]
    TimestampRange(String),
    /// Not a duration such as `90d`, `36h`, `2w` or `1d12h`.
    #[error(
        "duration {0:?} is not of the form <number><unit>... with units s, m, h, d, w (e.g. 90d, 1d12h)"
    )]
    DurationFormat(String),
}

impl Timestamp {
    /// Wraps a chrono instant, dropping any sub-second part; `None` outside
    /// the years 0000-9999.
    pub fn from_datetime(t: DateTime<Utc>) -> Option<Self> {
        Self::in_range(t - TimeDelta::nanoseconds(i64::from(t.timestamp_subsec_nanos())))
    }

    /// Seconds since the Unix epoch.
    /// `None` outside the years 0000-9999.
    pub fn from_unix(secs: i64) -> Option<Self> {
        DateTime::from_timestamp(secs, 0).and_then(Self::in_range)
    }

    /// Keeps only instants the one accepted form can write.
    fn in_range(t: DateTime<Utc>) -> Option<Self> {
        (0..=9999).contains(&t.year()).then_some(Timestamp(t))
    }

    /// The chrono instant.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0.timestamp()
    }

    /// `self + d`, or `None` outside the years 0000-9999.
    pub fn checked_add(&self, d: TimeDelta) -> Option<Self> {
        self.0.checked_add_signed(d).and_then(Self::in_range)
    }

    /// `self + d`, held at the first or last second the format can write
    /// (0000-01-01T00:00:00Z, 9999-12-31T23:59:59Z) instead of failing: a
    /// bound near the end of time stays a bound.
    #[must_use]
    pub fn saturating_add(&self, d: TimeDelta) -> Self {
        self.checked_add(d).unwrap_or_else(|| {
            let edge = if d > TimeDelta::zero() {
                (9999, 12, 31, 23, 59, 59)
            } else {
                (0, 1, 1, 0, 0, 0)
            };
            Utc.with_ymd_and_hms(edge.0, edge.1, edge.2, edge.3, edge.4, edge.5)
                .single()
                .map_or(*self, Timestamp)
        })
    }

    /// `self - d`, or `None` outside the years 0000-9999.
    pub fn checked_sub(&self, d: TimeDelta) -> Option<Self> {
        self.0.checked_sub_signed(d).and_then(Self::in_range)
    }

    /// `self - earlier` (negative when `earlier` is later).
    pub fn since(&self, earlier: Timestamp) -> TimeDelta {
        self.0 - earlier.0
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<Self, TimeError> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let shape_ok = b.len() == 20
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19)
            && b[19] == b'Z';
        if !shape_ok {
            return Err(TimeError::TimestampFormat(s.to_owned()));
        }
        // All ASCII digits: these parses cannot fail.
        let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(u32::MAX);
        let date = NaiveDate::from_ymd_opt(num(0..4) as i32, num(5..7), num(8..10));
        // from_hms_opt refuses second 60, so leap seconds are rejected here.
        let time = NaiveTime::from_hms_opt(num(11..13), num(14..16), num(17..19));
        match (date, time) {
            (Some(d), Some(t)) => Ok(Timestamp(NaiveDateTime::new(d, t).and_utc())),
            _ => Err(TimeError::TimestampRange(s.to_owned())),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Outside years 0000-9999 Display writes `+10000-...` or `-0001-...`,
        // which FromStr refuses: never write a document nobody can read.
        if !(0..=9999).contains(&self.0.year()) {
            return Err(serde::ser::Error::custom(format_args!(
                "timestamp {self} is outside the years 0000-9999 that YYYY-MM-DDTHH:MM:SSZ can express"
            )));
        }
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The maximum age in force when a trust policy and the reader may each
/// set one: the shorter wins, so neither can lift the other's (DESIGN §3.5:
/// the pin's `max_age` always applies).
#[must_use]
pub fn shorter_max_age(policy: Option<TimeDelta>, reader: Option<TimeDelta>) -> Option<TimeDelta> {
    match (policy, reader) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Parses a duration such as `90d`, `36h`, `2w`, `30m`, `45s` or `1d12h`.
pub fn parse_duration(s: &str) -> Result<TimeDelta, TimeError> {
    let err = || TimeError::DurationFormat(s.to_owned());
    let mut total = TimeDelta::zero();
    let mut rest = s;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return Err(err());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| err())?;
        let unit = rest[digits..].chars().next().ok_or_else(err)?;
        let secs = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(err()),
        };
        total = n
            .checked_mul(secs)
            .and_then(TimeDelta::try_seconds)
            .and_then(|part| total.checked_add(&part))
            .ok_or_else(err)?;
        rest = &rest[digits + 1..];
    }
    Ok(total)
}

/// Writes a duration in the largest exact units, e.g. `90d`, `1d12h`, `0s`.
pub fn format_duration(d: TimeDelta) -> String {
    let mut secs = d.num_seconds();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if secs < 0 {
        out.push('-');
        secs = -secs;
    }
    for (unit, size) in [('d', 86_400), ('h', 3600), ('m', 60), ('s', 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exactly_one_form() {
        let t: Timestamp = "2026-09-30T12:00:00Z".parse().expect("valid");
        assert_eq!(t.to_string(), "2026-09-30T12:00:00Z");
        for bad in [
            "2026-09-30T12:00:00z",
            "2026-09-30t12:00:00Z",
            "2026-09-30 12:00:00Z",
            "2026-09-30T12:00:00.000Z",
            "2026-09-30T12:00:00+00:00",
            "2026-09-30T12:00Z",
            "2026-9-30T12:00:00Z",
            " 2026-09-30T12:00:00Z",
            "2026-09-30T12:00:00Z ",
            "+2026-09-30T12:00:00Z",
            "２026-09-30T12:00:00Z",
        ] {
            assert!(
                matches!(bad.parse::<Timestamp>(), Err(TimeError::TimestampFormat(_))),
                "{bad}"
            );
        }
        for bad in [
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-12-31T23:59:60Z",
            "2026-12-31T24:00:00Z",
        ] {
            assert!(
                matches!(bad.parse::<Timestamp>(), Err(TimeError::TimestampRange(_))),
                "{bad}"
            );
        }
        assert!("2024-02-29T00:00:00Z".parse::<Timestamp>().is_ok());
    }

    #[test]
    fn arithmetic_stays_within_the_writable_years() {
        let last: Timestamp = "9999-12-31T23:59:59Z".parse().expect("valid");
        assert_eq!(last.checked_add(TimeDelta::seconds(1)), None);
        let first: Timestamp = "0000-01-01T00:00:00Z".parse().expect("valid");
        assert_eq!(first.checked_sub(TimeDelta::seconds(1)), None);
        assert_eq!(Timestamp::from_unix(i64::MAX), None);
        assert_eq!(
            Timestamp::from_unix(0).map(|t| t.to_string()).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(TimeDelta::days(90)));
        assert_eq!(parse_duration("1d12h"), Ok(TimeDelta::hours(36)));
        assert_eq!(parse_duration("2w"), Ok(TimeDelta::days(14)));
        assert_eq!(parse_duration("5m"), Ok(TimeDelta::minutes(5)));
        assert_eq!(parse_duration("45s"), Ok(TimeDelta::seconds(45)));
        for bad in [
            "",
            "d",
            "90",
            "90x",
            "-1d",
            "1.5d",
            "90 d",
            "9999999999d",
            "90D",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(TimeDelta::hours(36)), "1d12h");
        assert_eq!(format_duration(TimeDelta::days(90)), "90d");
    }
}

#[cfg(test)]
mod saturating_tests {
    use super::*;

    #[test]
    fn adding_near_the_end_of_time_saturates() {
        let t: Timestamp = "9999-12-31T23:58:00Z".parse().expect("timestamp");
        assert_eq!(
            t.saturating_add(TimeDelta::minutes(5)).to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            t.saturating_add(TimeDelta::minutes(1)).to_string(),
            "9999-12-31T23:59:00Z"
        );
        let early: Timestamp = "0000-01-01T00:01:00Z".parse().expect("timestamp");
        assert_eq!(
            early.saturating_add(TimeDelta::minutes(-5)).to_string(),
            "0000-01-01T00:00:00Z"
        );
    }
}

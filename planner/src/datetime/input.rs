//! Reading `date`, `timestamp` and `timestamptz` text as PostgreSQL does, for the forms clients
//! and people write: ISO 8601 dates (`2024-01-31`, `20240131`) with an optional time
//! (`10:00`, `10:00:00.123456`, after a space or `T`) and zone (`Z`, `UTC`, `+02`, `-03:30`,
//! `+0530`, `Europe/Berlin`), and the special values `epoch`, `infinity`, `-infinity`, `now`,
//! `today`, `tomorrow`, `yesterday`. A `timestamp` ignores a zone in its input, as PostgreSQL's
//! does; a `timestamptz` without one is read in the session zone.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::{DAY_US, INFINITY, NEG_INFINITY, local_to_utc, utc_to_local};

/// A date/time input error, with PostgreSQL's message; the wire layer gives each its SQLSTATE.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DateTimeError {
    /// 22007
    #[error("invalid input syntax for type {ty}: \"{text}\"")]
    Syntax { ty: &'static str, text: String },
    /// 22008
    #[error("date/time field value out of range: \"{0}\"")]
    FieldOutOfRange(String),
    /// 22015
    #[error("interval field value out of range: \"{0}\"")]
    IntervalOutOfRange(String),
    /// 22023
    #[error("time zone \"{0}\" not recognized")]
    UnknownZone(String),
    /// 0A000
    #[error("{0} is not supported")]
    Unsupported(&'static str),
}

impl From<DateTimeError> for datafusion::error::DataFusionError {
    fn from(e: DateTimeError) -> Self {
        datafusion::error::DataFusionError::External(Box::new(crate::Error::DateTime(e)))
    }
}

/// The type a text is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Date,
    Timestamp,
    Timestamptz,
}

impl Target {
    pub fn pg_name(self) -> &'static str {
        match self {
            Target::Date => "date",
            Target::Timestamp => "timestamp",
            Target::Timestamptz => "timestamp with time zone",
        }
    }
}

/// Reads `text` as `target`: microseconds since 1970 (UTC for `timestamptz`, wall clock for
/// `timestamp`), or days for `date`. `zone` is the session's; `now_us` is the statement's
/// start, for `now`, `today` and the like.
pub fn parse(text: &str, target: Target, zone: Tz, now_us: i64) -> Result<i64, DateTimeError> {
    let t = text.trim();
    let syntax = || DateTimeError::Syntax { ty: target.pg_name(), text: text.to_string() };
    let local_today = utc_to_local(now_us, zone).div_euclid(DAY_US);
    let day = |d: i64| match target {
        Target::Date => d,
        Target::Timestamp => d * DAY_US,
        Target::Timestamptz => local_to_utc(d * DAY_US, zone),
    };
    match t.to_ascii_lowercase().as_str() {
        "epoch" => return Ok(0),
        "infinity" | "+infinity" | "-infinity" if target == Target::Date => return Err(DateTimeError::Unsupported("date infinity")),
        "infinity" | "+infinity" => return Ok(INFINITY),
        "-infinity" => return Ok(NEG_INFINITY),
        "now" => {
            return Ok(match target {
                Target::Date => local_today,
                Target::Timestamp => utc_to_local(now_us, zone),
                Target::Timestamptz => now_us,
            });
        }
        "today" => return Ok(day(local_today)),
        "tomorrow" => return Ok(day(local_today + 1)),
        "yesterday" => return Ok(day(local_today - 1)),
        _ => {}
    }
    let mut s = Scanner { b: t.as_bytes(), i: 0 };
    let (date, time_us) = s.date_time().map_err(|e| match e {
        Bad::Syntax => syntax(),
        Bad::Range => DateTimeError::FieldOutOfRange(text.to_string()),
    })?;
    s.skip_spaces();
    let zone_text = &t[s.i..];
    let explicit = if zone_text.is_empty() { None } else { Some(parse_zone(zone_text).ok_or_else(syntax)??) };
    let days = (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days();
    let local = days * DAY_US + time_us;
    Ok(match target {
        Target::Date => local.div_euclid(DAY_US),
        Target::Timestamp => local,
        Target::Timestamptz => match explicit {
            Some(Zone::Fixed(seconds)) => local - seconds * 1_000_000,
            Some(Zone::Named(z)) => local_to_utc(local, z),
            None => local_to_utc(local, zone),
        },
    })
}

pub(super) enum Zone {
    /// Seconds east of UTC.
    Fixed(i64),
    Named(Tz),
}

/// A zone after the date and time: `None` when it is not one at all (a syntax error), an
/// error when it looks like a zone name but names none.
pub(super) fn parse_zone(text: &str) -> Option<Result<Zone, DateTimeError>> {
    let lower = text.to_ascii_lowercase();
    if matches!(lower.as_str(), "z" | "utc" | "gmt" | "zulu" | "ut") {
        return Some(Ok(Zone::Fixed(0)));
    }
    if let Some(sign) = text.strip_prefix(['+', '-']).map(|_| if text.starts_with('-') { -1 } else { 1 }) {
        let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) || text[1..].starts_with(':') {
            return None;
        }
        // `+5`, `+05`, `+0530`, `+05:30`, `+053000`: hours take one or two digits.
        let (h, rest) = if digits.len() % 2 == 1 { digits.split_at(1) } else { digits.split_at(2) };
        let h: i64 = h.parse().ok()?;
        let m: i64 = rest.get(0..2).map_or(Some(0), |m| m.parse().ok())?;
        let sec: i64 = rest.get(2..4).map_or(Some(0), |s| s.parse().ok())?;
        if h > 15 || m > 59 || sec > 59 {
            return Some(Err(DateTimeError::FieldOutOfRange(text.to_string())));
        }
        return Some(Ok(Zone::Fixed(sign * (h * 3600 + m * 60 + sec))));
    }
    if !text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+')) || !text.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    Some(
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(text))
            .map(|z| Zone::Named(*z))
            .ok_or(DateTimeError::UnknownZone(lower)),
    )
}

enum Bad {
    Syntax,
    Range,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    /// A run of digits: its value and length.
    fn number(&mut self) -> Result<(i64, usize), Bad> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.b[start..self.i];
        if digits.is_empty() {
            return Err(Bad::Syntax);
        }
        if digits.len() > 12 {
            return Err(Bad::Range);
        }
        Ok((std::str::from_utf8(digits).expect("digits").parse().expect("digits"), digits.len()))
    }

    fn expect(&mut self, c: u8) -> Result<(), Bad> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Bad::Syntax)
        }
    }

    /// The date, and the time of day in microseconds (0 when there is none).
    fn date_time(&mut self) -> Result<(NaiveDate, i64), Bad> {
        let (first, len) = self.number()?;
        let (y, m, d) = if len == 8 && self.peek() != Some(b'-') {
            (first / 10_000, first / 100 % 100, first % 100)
        } else {
            self.expect(b'-')?;
            let (m, _) = self.number()?;
            self.expect(b'-')?;
            let (d, _) = self.number()?;
            (first, m, d)
        };
        let date = i32::try_from(y).ok().and_then(|y| NaiveDate::from_ymd_opt(y, m as u32, d as u32)).ok_or(Bad::Range)?;
        let save = self.i;
        if matches!(self.peek(), Some(b'T' | b't' | b' ' | b'\t')) {
            self.i += 1;
            self.skip_spaces();
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Ok((date, self.time()?));
            }
        }
        self.i = save;
        Ok((date, 0))
    }

    /// `H:MM[:SS[.fraction]]`, rounded to microseconds; `24:00:00` and a 60th second roll over,
    /// as in PostgreSQL.
    fn time(&mut self) -> Result<i64, Bad> {
        let (h, _) = self.number()?;
        self.expect(b':')?;
        let (m, _) = self.number()?;
        let (mut s, mut frac) = (0, 0);
        if self.peek() == Some(b':') {
            self.i += 1;
            s = self.number()?.0;
            if self.peek() == Some(b'.') {
                self.i += 1;
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                let digits = &self.b[start..self.i];
                for k in 0..6 {
                    frac = frac * 10 + digits.get(k).map_or(0, |d| (d - b'0') as i64);
                }
                if digits.get(6).is_some_and(|d| *d >= b'5') {
                    frac += 1;
                }
            }
        }
        if h > 24 || m > 59 || s > 60 || (h == 24 && (m, s, frac) != (0, 0, 0)) {
            return Err(Bad::Range);
        }
        Ok(((h * 60 + m) * 60 + s) * 1_000_000 + frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::output;

    const NOW: i64 = 1_700_000_000_000_000; // 2023-11-14 22:13:20 UTC

    fn tz(text: &str, zone: Tz) -> String {
        output::timestamptz(parse(text, Target::Timestamptz, zone, NOW).unwrap(), zone)
    }

    fn ts(text: &str) -> String {
        output::timestamp(parse(text, Target::Timestamp, chrono_tz::UTC, NOW).unwrap())
    }

    // Expected values are PostgreSQL 15's output for the same input (TimeZone Europe/Berlin).
    #[test]
    fn reads_what_postgresql_reads() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(tz("2024-01-01 10:00", berlin), "2024-01-01 10:00:00+01");
        assert_eq!(tz("2024-01-01T10:00:00Z", berlin), "2024-01-01 11:00:00+01");
        assert_eq!(tz("2024-01-01 10:00 America/New_York", berlin), "2024-01-01 16:00:00+01");
        assert_eq!(tz("2024-01-01 10:00 UTC", berlin), "2024-01-01 11:00:00+01");
        assert_eq!(tz("2024-01-01 10:00+0530", berlin), "2024-01-01 05:30:00+01");
        assert_eq!(tz("2024-01-01 10:00:00-03:30", berlin), "2024-01-01 14:30:00+01");
        assert_eq!(tz("epoch", berlin), "1970-01-01 01:00:00+01");
        assert_eq!(tz("today", berlin), "2023-11-14 00:00:00+01");
        assert_eq!(tz(" 2024-06-01 ", berlin), "2024-06-01 00:00:00+02");
        assert_eq!(tz("infinity", berlin), "infinity");
        assert_eq!(ts("2024-01-01 10:00+05"), "2024-01-01 10:00:00");
        assert_eq!(ts("2024-01-01 10:00:00.1234567"), "2024-01-01 10:00:00.123457");
        assert_eq!(ts("2024-01-01 1:2:3"), "2024-01-01 01:02:03");
        assert_eq!(ts("10000-01-01"), "10000-01-01 00:00:00");
        assert_eq!(ts("2024-1-1"), "2024-01-01 00:00:00");
        assert_eq!(ts("20240101"), "2024-01-01 00:00:00");
        assert_eq!(ts("2024-01-01 24:00"), "2024-01-02 00:00:00");
        assert_eq!(ts("2024-01-01 10:00:60"), "2024-01-01 10:01:00");
        assert_eq!(ts("-infinity"), "-infinity");
        assert_eq!(parse("2024-01-01 10:00", Target::Date, berlin, NOW).unwrap(), 19723);
        assert_eq!(parse("tomorrow", Target::Date, berlin, NOW).unwrap(), 19676);
    }

    #[test]
    fn bad_input_has_postgresql_errors() {
        let utc = chrono_tz::UTC;
        let err = |text: &str| parse(text, Target::Timestamptz, utc, NOW).unwrap_err();
        assert_eq!(err("2024-13-01"), DateTimeError::FieldOutOfRange("2024-13-01".into()));
        assert_eq!(err("2024-02-30"), DateTimeError::FieldOutOfRange("2024-02-30".into()));
        assert_eq!(err("2024-01-01 25:00"), DateTimeError::FieldOutOfRange("2024-01-01 25:00".into()));
        assert_eq!(err("abc"), DateTimeError::Syntax { ty: "timestamp with time zone", text: "abc".into() });
        assert_eq!(err("2024-01-01 10:00 nonsense!"), DateTimeError::Syntax { ty: "timestamp with time zone", text: "2024-01-01 10:00 nonsense!".into() });
        assert_eq!(err("2024-01-01 10:00 Mars/Base"), DateTimeError::UnknownZone("mars/base".into()));
        assert_eq!(err("2024-01-01 10"), DateTimeError::Syntax { ty: "timestamp with time zone", text: "2024-01-01 10".into() });
        assert_eq!(err("99999999999999-01-01"), DateTimeError::FieldOutOfRange("99999999999999-01-01".into()));
    }
}

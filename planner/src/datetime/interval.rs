//! Reading `interval` text as PostgreSQL does: unit phrases (`1 year 2 mons -3 days`,
//! `1.5 hours`, `2 weeks ago`, abbreviations such as `h`, `min`, `ms`), time fields
//! (`04:05:06.5`, `-01:30:00`), a bare number as seconds, and ISO 8601 (`P1Y2M3DT4H5M6S`).
//! Arrow reads none of PostgreSQL's own output (`1 day 02:00:00`), so casts and parameters use
//! this instead. Fractions spill down as PostgreSQL's do: a month is 30 days, a day 24 hours.

use super::DateTimeError;

const DAY_US: f64 = 86_400_000_000.0;

/// An interval's months, days and microseconds.
pub fn parse_interval(text: &str) -> Result<(i32, i32, i64), DateTimeError> {
    let syntax = || DateTimeError::Syntax { ty: "interval", text: text.to_string() };
    let lower = text.trim().to_ascii_lowercase();
    let s = lower.strip_prefix('@').unwrap_or(&lower).trim_start();
    let mut acc = Parts::default();
    if let Some(iso) = s.strip_prefix('p') {
        iso8601(iso, &mut acc).ok_or_else(syntax)?;
    } else {
        phrases(s, &mut acc).ok_or_else(syntax)?;
    }
    let out_of_range = || DateTimeError::IntervalOutOfRange(text.to_string());
    let micros = acc.micros.round();
    if !(i64::MIN as f64..=i64::MAX as f64).contains(&micros) {
        return Err(out_of_range());
    }
    Ok((i32::try_from(acc.months).map_err(|_| out_of_range())?, i32::try_from(acc.days).map_err(|_| out_of_range())?, micros as i64))
}

#[derive(Default)]
struct Parts {
    months: i64,
    days: i64,
    micros: f64,
}

impl Parts {
    /// Adds `value` of `unit`, spilling fractions into the smaller parts.
    fn add(&mut self, value: f64, unit: &str) -> Option<()> {
        let month_units = |u: &str| -> Option<f64> {
            Some(match u {
                "y" | "yr" | "yrs" | "year" | "years" => 12.0,
                "decade" | "decades" => 120.0,
                "century" | "centuries" => 1200.0,
                "millennium" | "millennia" | "millenniums" => 12000.0,
                _ => return None,
            })
        };
        if let Some(m) = month_units(unit) {
            // PostgreSQL keeps whole months of a fractional year and drops the rest.
            self.months += (value * m).trunc() as i64;
            return Some(());
        }
        match unit {
            "mon" | "mons" | "month" | "months" => {
                self.months += value.trunc() as i64;
                self.add_days(value.fract() * 30.0);
            }
            "w" | "week" | "weeks" => self.add_days(value * 7.0),
            "d" | "day" | "days" => self.add_days(value),
            "h" | "hr" | "hrs" | "hour" | "hours" => self.micros += value * 3_600_000_000.0,
            "m" | "min" | "mins" | "minute" | "minutes" => self.micros += value * 60_000_000.0,
            "" | "s" | "sec" | "secs" | "second" | "seconds" => self.micros += value * 1_000_000.0,
            "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => self.micros += value * 1000.0,
            "us" | "usec" | "usecs" | "microsecond" | "microseconds" => self.micros += value,
            _ => return None,
        }
        Some(())
    }

    fn add_days(&mut self, days: f64) {
        self.days += days.trunc() as i64;
        self.micros += days.fract() * DAY_US;
    }
}

/// A signed decimal number at the start of `s`: its value and the rest.
fn number(s: &str) -> Option<(f64, &str)> {
    let end = s.char_indices().find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+')))).map_or(s.len(), |(i, _)| i);
    let digits = &s[..end];
    if !digits.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, &s[end..]))
}

fn phrases(mut s: &str, acc: &mut Parts) -> Option<()> {
    let mut any = false;
    let mut ago = false;
    loop {
        s = s.trim_start();
        if s.is_empty() {
            break;
        }
        if let Some(rest) = s.strip_prefix("ago") {
            ago = true;
            s = rest;
            continue;
        }
        let (value, rest) = number(s)?;
        if let Some(time) = rest.strip_prefix(':') {
            // `[-]H:MM[:SS[.f]]`: the sign belongs to the whole field.
            let negative = s.starts_with('-');
            let (minutes, rest) = number(time)?;
            let (seconds, rest) = match rest.strip_prefix(':') {
                Some(r) => number(r)?,
                None => (0.0, rest),
            };
            let magnitude = value.abs() * 3_600_000_000.0 + minutes * 60_000_000.0 + seconds * 1_000_000.0;
            acc.micros += if negative { -magnitude } else { magnitude };
            s = rest;
        } else {
            let rest = rest.trim_start();
            let end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
            acc.add(value, &rest[..end])?;
            s = &rest[end..];
        }
        any = true;
    }
    if ago {
        acc.months = -acc.months;
        acc.days = -acc.days;
        acc.micros = -acc.micros;
    }
    any.then_some(())
}

/// `1Y2M3DT4H5M6S` (after the `P`); `M` is months before the `T`, minutes after it.
fn iso8601(s: &str, acc: &mut Parts) -> Option<()> {
    let (date, time) = match s.split_once('t') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    for (part, in_time) in [(date, false), (time.unwrap_or(""), true)] {
        let mut rest = part;
        while !rest.is_empty() {
            let (value, r) = number(rest)?;
            let designator = r.chars().next()?;
            let unit = match (designator, in_time) {
                ('y', false) => "years",
                ('m', false) => "months",
                ('w', false) => "weeks",
                ('d', false) => "days",
                ('h', true) => "hours",
                ('m', true) => "minutes",
                ('s', true) => "seconds",
                _ => return None,
            };
            acc.add(value, unit)?;
            rest = &r[1..];
        }
    }
    (!s.is_empty()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::output::interval;

    fn show(text: &str) -> String {
        let (m, d, us) = parse_interval(text).unwrap();
        interval(m, d, us)
    }

    // Expected values are PostgreSQL 15's output for the same input.
    #[test]
    fn reads_what_postgresql_reads() {
        assert_eq!(show("1 day 02:00:00"), "1 day 02:00:00");
        assert_eq!(show("1 year 2 mons 3 days 04:05:06.5"), "1 year 2 mons 3 days 04:05:06.5");
        assert_eq!(show("-01:30:00"), "-01:30:00");
        assert_eq!(show("-3 days +01:00:00"), "-3 days +01:00:00");
        assert_eq!(show("1.5 days"), "1 day 12:00:00");
        assert_eq!(show("1.5 months"), "1 mon 15 days");
        assert_eq!(show("1.5 years"), "1 year 6 mons");
        assert_eq!(show("2 weeks ago"), "-14 days");
        assert_eq!(show("90"), "00:01:30");
        assert_eq!(show("1h 30m"), "01:30:00");
        assert_eq!(show("250 ms"), "00:00:00.25");
        assert_eq!(show("@ 1 hour"), "01:00:00");
        assert_eq!(show("P1Y2M3DT4H5M6S"), "1 year 2 mons 3 days 04:05:06");
        assert_eq!(show("PT1.5S"), "00:00:01.5");
        assert_eq!(show("3 mons"), "3 mons");
    }

    #[test]
    fn bad_input_is_22007() {
        for text in ["", "soon", "1 fortnight", "1:xx", "P1X"] {
            assert!(matches!(parse_interval(text), Err(DateTimeError::Syntax { .. })), "{text}");
        }
        assert!(matches!(parse_interval("99999999999 years"), Err(DateTimeError::IntervalOutOfRange(_))));
    }
}

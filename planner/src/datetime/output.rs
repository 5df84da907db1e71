//! Timestamps and times as PostgreSQL prints them (DateStyle ISO): fractional seconds only when
//! non-zero and without trailing zeros, `timestamptz` in the session zone with its offset.

use chrono_tz::Tz;

use super::{INFINITY, NEG_INFINITY, offset_at};

fn fraction(micros: i64) -> String {
    if micros == 0 {
        return String::new();
    }
    let digits = format!(".{micros:06}");
    digits.trim_end_matches('0').to_string()
}

fn special(us: i64) -> Option<&'static str> {
    match us {
        INFINITY => Some("infinity"),
        NEG_INFINITY => Some("-infinity"),
        _ => None,
    }
}

/// A `timestamp`: `2024-01-01 10:00:00.5`.
pub fn timestamp(us: i64) -> String {
    if let Some(s) = special(us) {
        return s.to_string();
    }
    use chrono::{Datelike, Timelike};
    match chrono::DateTime::from_timestamp(us.div_euclid(1_000_000), 0) {
        // Years past 9999 print without chrono's `+`.
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            fraction(us.rem_euclid(1_000_000))
        ),
        None => format!("{us}"),
    }
}

/// A `timestamptz` in `zone` with its UTC offset (`+02`, `-03:30`).
pub fn timestamptz(us: i64, zone: Tz) -> String {
    if let Some(s) = special(us) {
        return s.to_string();
    }
    let offset = offset_at(us, zone);
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 3600, offset.abs() / 60 % 60);
    let suffix = if m == 0 { format!("{sign}{h:02}") } else { format!("{sign}{h:02}:{m:02}") };
    format!("{}{suffix}", timestamp(us.saturating_add(offset * 1_000_000)))
}

/// An `interval` as PostgreSQL prints it (IntervalStyle `postgres`): `1 year 2 mons -3 days
/// +04:05:06.5`, `-01:30:00`, `00:00:00`. Hours are not folded into days, as in PostgreSQL.
pub fn interval(months: i32, days: i32, micros: i64) -> String {
    let mut out = String::new();
    let (mut zero, mut before) = (true, false);
    for (value, unit) in [(months / 12, "year"), (months % 12, "mon"), (days, "day")] {
        if value == 0 {
            continue;
        }
        let space = if zero { "" } else { " " };
        let plus = if before && value > 0 { "+" } else { "" };
        let s = if value != 1 { "s" } else { "" };
        out.push_str(&format!("{space}{plus}{value} {unit}{s}"));
        before = value < 0;
        zero = false;
    }
    if zero || micros != 0 {
        let sign = if micros < 0 { "-" } else if before { "+" } else { "" };
        let t = micros.unsigned_abs();
        let secs = t / 1_000_000;
        let space = if zero { "" } else { " " };
        out.push_str(&format!("{space}{sign}{:02}:{:02}:{:02}{}", secs / 3600, secs / 60 % 60, secs % 60, fraction((t % 1_000_000) as i64)));
    }
    out
}

/// A `time`: `10:00:00.25`.
pub fn time(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    format!("{:02}:{:02}:{:02}{}", secs / 3600, secs / 60 % 60, secs % 60, fraction(us.rem_euclid(1_000_000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_postgresql() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_500_000), "1970-01-01 00:00:01.5");
        assert_eq!(timestamptz(0, chrono_tz::UTC), "1970-01-01 00:00:00+00");
        assert_eq!(timestamptz(0, chrono_tz::Asia::Kolkata), "1970-01-01 05:30:00+05:30");
        assert_eq!(timestamptz(1_700_000_000_000_000, chrono_tz::America::New_York), "2023-11-14 17:13:20-05");
        assert_eq!(timestamptz(INFINITY, chrono_tz::UTC), "infinity");
        assert_eq!(time(36_000_250_000), "10:00:00.25");
        // PostgreSQL 15's output for the same values.
        assert_eq!(interval(14, 3, 14_706_500_000), "1 year 2 mons 3 days 04:05:06.5");
        assert_eq!(interval(0, -1, 0), "-1 days");
        assert_eq!(interval(0, 0, -5_400_000_000), "-01:30:00");
        assert_eq!(interval(0, 0, 0), "00:00:00");
        assert_eq!(interval(3, 0, 0), "3 mons");
        assert_eq!(interval(0, -3, 3_600_000_000), "-3 days +01:00:00");
        assert_eq!(interval(0, 1, 90_000_000_000), "1 day 25:00:00");
        assert_eq!(interval(-14, 0, 0), "-1 years -2 mons");
        assert_eq!(interval(-1, 2, 0), "-1 mons +2 days");
    }
}

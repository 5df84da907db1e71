//! PostgreSQL's date/time semantics on Arrow's timestamps.
//!
//! Arrow cannot read `'2024-01-01 10:00'` (it wants seconds) and reads a `timestamptz` text
//! without an offset as UTC; PostgreSQL reads many forms, and reads such a text in the
//! session's `TimeZone`, which it also uses to convert between `timestamp` and `timestamptz`
//! and to print a `timestamptz`. [`input`] and [`interval`] parse, [`output`] prints, [`casts`]
//! puts them, with the session zone, in place of Arrow's casts.
//!
//! Values are microseconds, as PostgreSQL's are; ±infinity are the extreme values, as in
//! PostgreSQL (`DT_NOBEGIN` / `DT_NOEND`).

pub mod at_time_zone;
pub mod casts;
pub mod input;
pub mod interval;
pub mod output;

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

pub use input::{DateTimeError, Target, parse};

pub const INFINITY: i64 = i64::MAX;
pub const NEG_INFINITY: i64 = i64::MIN;
pub const DAY_US: i64 = 86_400_000_000;

fn is_infinite(us: i64) -> bool {
    us == INFINITY || us == NEG_INFINITY
}

fn naive(us: i64) -> Option<chrono::NaiveDateTime> {
    chrono::DateTime::from_timestamp(us.div_euclid(1_000_000), 0).map(|t| t.naive_utc())
}

/// The UTC offset of `zone` at the instant `utc_us`, in seconds.
pub fn offset_at(utc_us: i64, zone: Tz) -> i64 {
    naive(utc_us).map_or(0, |t| zone.offset_from_utc_datetime(&t).fix().local_minus_utc() as i64)
}

/// The instant a wall-clock time in `zone` names. As in PostgreSQL, a time that occurs twice
/// (clocks going back) is the later instant, and one that never occurs (clocks going forward)
/// is read with the offset in force before the change.
pub fn local_to_utc(local_us: i64, zone: Tz) -> i64 {
    if is_infinite(local_us) {
        return local_us;
    }
    let Some(t) = naive(local_us) else { return local_us };
    let offset = match zone.offset_from_local_datetime(&t) {
        chrono::LocalResult::Single(o) => o.fix().local_minus_utc(),
        chrono::LocalResult::Ambiguous(a, b) => a.fix().local_minus_utc().min(b.fix().local_minus_utc()),
        chrono::LocalResult::None => zone.offset_from_utc_datetime(&(t - chrono::Duration::days(1))).fix().local_minus_utc(),
    };
    local_us.saturating_sub(offset as i64 * 1_000_000)
}

/// The wall-clock time in `zone` at the instant `utc_us`.
pub fn utc_to_local(utc_us: i64, zone: Tz) -> i64 {
    if is_infinite(utc_us) {
        return utc_us;
    }
    utc_us.saturating_add(offset_at(utc_us, zone) * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;

    #[test]
    fn daylight_saving_changes_read_as_postgresql_reads_them() {
        let berlin = chrono_tz::Europe::Berlin;
        // 2024-03-31 02:30 never happens in Berlin: read with +01, it is 03:30+02.
        let gap = input::parse("2024-03-31 02:30", Target::Timestamp, berlin, 0).unwrap();
        assert_eq!(output::timestamptz(local_to_utc(gap, berlin), berlin), "2024-03-31 03:30:00+02");
        // 2024-10-27 02:30 happens twice: the later one (+01).
        let twice = input::parse("2024-10-27 02:30", Target::Timestamp, berlin, 0).unwrap();
        assert_eq!(output::timestamptz(local_to_utc(twice, berlin), berlin), "2024-10-27 02:30:00+01");
        assert_eq!(utc_to_local(local_to_utc(5 * H, berlin), berlin), 5 * H);
        assert_eq!(local_to_utc(INFINITY, berlin), INFINITY);
    }
}

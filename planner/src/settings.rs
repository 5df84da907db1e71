//! Session settings (`SET`, `SHOW`, `RESET`) with PostgreSQL's names and defaults.
//!
//! Only settings QuartzDB knows are accepted, as in PostgreSQL (42704 otherwise). Names are
//! case-insensitive; the first spelling below is the one `SHOW ALL` and ParameterStatus use.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};

/// Known settings and their defaults. `true` marks those reported to the client by
/// ParameterStatus when they change.
const DEFAULTS: &[(&str, &str, bool)] = &[
    ("application_name", "", true),
    ("client_encoding", "UTF8", true),
    ("block_size", "8192", false),
    ("DateStyle", "ISO, MDY", true),
    // What a table is stored as (SQLAlchemy reports a table's access method when it differs).
    ("default_table_access_method", "lance", false),
    ("default_transaction_isolation", "read committed", false),
    ("default_transaction_read_only", "off", false),
    ("enable_indexscan", "on", false),
    ("extra_float_digits", "1", false),
    ("integer_datetimes", "on", true),
    ("IntervalStyle", "postgres", true),
    ("is_superuser", "on", true),
    ("lc_messages", "C", false),
    ("lock_timeout", "0", false),
    ("max_function_args", "100", false),
    ("max_identifier_length", "63", false),
    // JDBC's key metadata reads it before listing foreign keys.
    ("max_index_keys", "32", false),
    ("search_path", "\"$user\", public", false),
    ("server_encoding", "UTF8", true),
    ("server_version", crate::PG_VERSION, true),
    ("server_version_num", "150000", false),
    ("standard_conforming_strings", "on", true),
    ("statement_timeout", "0", false),
    ("idle_in_transaction_session_timeout", "0", false),
    ("TimeZone", "UTC", true),
    ("transaction_isolation", "read committed", false),
    ("transaction_read_only", "off", false),
    // pgvector's search settings. The defaults shown are pgvector's; until a session sets one,
    // QuartzDB chooses per index (see `Settings::search`).
    ("hnsw.ef_search", "40", false),
    ("hnsw.iterative_scan", "off", false),
    ("hnsw.max_scan_tuples", "20000", false),
    ("hnsw.scan_mem_multiplier", "1", false),
    ("ivfflat.probes", "1", false),
    ("ivfflat.iterative_scan", "off", false),
    ("ivfflat.max_probes", "32768", false),
    // QuartzDB's own: 0 leaves the choice to the index.
    ("quartz.nprobes", "0", false),
    ("quartz.refine_factor", "0", false),
    ("quartz.exact_search_below", "10000", false),
    // Decoded COPY FROM data gathered before it is inserted: what bounds a COPY's memory.
    ("quartz.copy_batch_size", "32MB", false),
];

/// Settings that cannot be changed with SET.
const READ_ONLY: &[&str] = &[
    "block_size",
    "integer_datetimes",
    "is_superuser",
    "max_function_args",
    "max_identifier_length",
    "max_index_keys",
    "server_encoding",
    "server_version",
    "server_version_num",
    "lc_messages",
];

/// One row of `pg_settings`.
#[derive(Debug, Clone)]
pub struct SettingRow {
    pub name: &'static str,
    pub value: String,
    pub default: &'static str,
    pub set: bool,
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
    /// Settings given a value by SET or the startup packet (not just defaulted).
    explicit: BTreeSet<&'static str>,
    /// Counts changes, so copies of the settings are made again only after one.
    generation: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { values: DEFAULTS.iter().map(|(k, v, _)| (k.to_ascii_lowercase(), v.to_string())).collect(), explicit: BTreeSet::new(), generation: 0 }
    }
}

/// The canonical spelling of a setting name, if QuartzDB knows it.
pub fn canonical(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let lower = match lower.as_str() {
        "time zone" | "time_zone" => "timezone",
        "transaction isolation level" => "transaction_isolation",
        other => other,
    };
    DEFAULTS.iter().map(|(k, _, _)| *k).find(|k| k.eq_ignore_ascii_case(lower))
}

/// Whether a setting cannot be changed (and so is left alone by `RESET ALL`).
pub fn is_read_only(name: &str) -> bool {
    canonical(name).is_some_and(|c| READ_ONLY.contains(&c))
}

/// Whether QuartzDB has a setting of that name.
pub fn is_known(name: &str) -> bool {
    canonical(name).is_some()
}

impl Settings {
    pub fn get(&self, name: &str) -> Result<&str> {
        let c = canonical(name).ok_or_else(|| Error::UnknownSetting(name.to_string()))?;
        Ok(self.values[&c.to_ascii_lowercase()].as_str())
    }

    /// Sets a value; returns the canonical name when the change must be reported by ParameterStatus.
    pub fn set(&mut self, name: &str, value: &str) -> Result<Option<&'static str>> {
        let c = canonical(name).ok_or_else(|| Error::UnknownSetting(name.to_string()))?;
        if READ_ONLY.contains(&c) {
            return Err(Error::CantChangeSetting(c.to_string()));
        }
        let value = normalize(c, value)?;
        self.values.insert(c.to_ascii_lowercase(), value);
        self.explicit.insert(c);
        self.generation += 1;
        Ok(DEFAULTS.iter().find(|(k, _, _)| *k == c).filter(|(_, _, report)| *report).map(|(k, _, _)| *k))
    }

    pub fn reset(&mut self, name: &str) -> Result<Option<&'static str>> {
        let c = canonical(name).ok_or_else(|| Error::UnknownSetting(name.to_string()))?;
        let default = DEFAULTS.iter().find(|(k, _, _)| *k == c).map(|(_, v, _)| *v).unwrap_or_default();
        let reported = self.set(c, default)?;
        self.explicit.remove(c);
        Ok(reported)
    }

    /// Puts `name` back as it is in `saved` (the end of a `SET LOCAL`).
    pub fn restore_from(&mut self, saved: &Settings, name: &str) -> Option<&'static str> {
        let c = canonical(name)?;
        let key = c.to_ascii_lowercase();
        self.values.insert(key.clone(), saved.values[&key].clone());
        self.generation += 1;
        if saved.explicit.contains(c) {
            self.explicit.insert(c);
        } else {
            self.explicit.remove(c);
        }
        DEFAULTS.iter().find(|(k, _, report)| *k == c && *report).map(|(k, _, _)| *k)
    }

    /// Every setting with its current value, for `SHOW ALL`.
    pub fn all(&self) -> Vec<(&'static str, String)> {
        DEFAULTS.iter().map(|(k, _, _)| (*k, self.values[&k.to_ascii_lowercase()].clone())).collect()
    }

    /// Changes so far (any SET, RESET or restore counts one).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every setting for `pg_settings`: name, value, default, whether the session set it, and
    /// whether it can be changed.
    pub fn rows(&self) -> Vec<SettingRow> {
        DEFAULTS
            .iter()
            .map(|(k, default, _)| SettingRow {
                name: k,
                value: self.values[&k.to_ascii_lowercase()].clone(),
                default,
                set: self.explicit.contains(k),
                read_only: READ_ONLY.contains(k),
            })
            .collect()
    }

    /// The settings PostgreSQL reports in ParameterStatus at startup.
    pub fn reported(&self) -> Vec<(&'static str, String)> {
        DEFAULTS
            .iter()
            .filter(|(_, _, report)| *report)
            .map(|(k, _, _)| (*k, self.values[&k.to_ascii_lowercase()].clone()))
            .collect()
    }

    /// `statement_timeout` in milliseconds (0 = none).
    /// The session time zone `timestamptz` values are shown in.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.values["timezone"].parse().unwrap_or(chrono_tz::UTC)
    }

    /// The vector search settings: pgvector's count only once set (their defaults are tuned
    /// for pgvector's indexes; Lance's get QuartzDB's per-index choice), QuartzDB's when non-zero.
    pub fn search(&self) -> quartzdb_storage::ann::SearchSettings {
        let number = |name: &str| self.values[name].parse::<usize>().ok();
        let set = |name: &'static str| if self.explicit.contains(name) { number(&name.to_ascii_lowercase()) } else { None };
        quartzdb_storage::ann::SearchSettings {
            ef_search: set("hnsw.ef_search"),
            probes: set("ivfflat.probes"),
            nprobes: number("quartz.nprobes").filter(|n| *n > 0),
            refine_factor: number("quartz.refine_factor").filter(|n| *n > 0).map(|n| n as u32),
            exact_below: number("quartz.exact_search_below").unwrap_or(quartzdb_storage::ann::DEFAULT_EXACT_BELOW),
            // pgvector's advice for checking recall: compare with `SET enable_indexscan = off`.
            use_indexes: self.values["enable_indexscan"] == "on",
        }
    }

    /// `quartz.copy_batch_size` in bytes.
    pub fn copy_batch_bytes(&self) -> usize {
        parse_memory_kb(&self.values["quartz.copy_batch_size"]).map_or(32 << 20, |kb| (kb as usize).saturating_mul(1024))
    }

    pub fn statement_timeout_ms(&self) -> u64 {
        parse_duration_ms(&self.values["statement_timeout"]).unwrap_or(0)
    }

    pub fn lock_timeout_ms(&self) -> u64 {
        parse_duration_ms(&self.values["lock_timeout"]).unwrap_or(0)
    }

    /// What a new transaction block starts with.
    pub fn transaction_defaults(&self) -> crate::transaction::Defaults {
        crate::transaction::Defaults {
            isolation: crate::transaction::Isolation::parse(&self.values["default_transaction_isolation"]).unwrap_or_default(),
            read_only: self.values["default_transaction_read_only"] == "on",
        }
    }
}

fn normalize(name: &str, value: &str) -> Result<String> {
    let invalid = || Error::InvalidSettingValue { name: name.to_string(), value: value.to_string() };
    match name {
        "client_encoding" | "server_encoding" => {
            // asyncpg sends the value quoted (`'utf-8'`), which PostgreSQL accepts.
            let v = value.trim().trim_matches('\'').to_ascii_uppercase().replace('-', "");
            if v == "UTF8" || v == "UNICODE" { Ok("UTF8".into()) } else { Err(Error::Unsupported(format!("client_encoding \"{value}\""))) }
        }
        "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
            parse_duration_ms(value).map(|ms| ms.to_string()).ok_or_else(invalid)
        }
        "extra_float_digits" => match value.trim().parse::<i32>() {
            Ok(n) if (-15..=3).contains(&n) => Ok(n.to_string()),
            _ => Err(invalid()),
        },
        "TimeZone" => {
            let v = value.trim();
            if v.eq_ignore_ascii_case("utc") || v.eq_ignore_ascii_case("etc/utc") || v == "GMT" || v == "Z" || v == "+00:00" || v == "0" {
                Ok("UTC".into())
            } else {
                // Zone names are case-insensitive in PostgreSQL.
                chrono_tz::TZ_VARIANTS.iter().find(|tz| tz.name().eq_ignore_ascii_case(v)).map(|tz| tz.name().to_string()).ok_or_else(invalid)
            }
        }
        "standard_conforming_strings" => match value.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Ok("on".into()),
            _ => Err(Error::Unsupported("standard_conforming_strings = off".into())),
        },
        "hnsw.ef_search" => bounded(name, value, 1, 1000),
        "hnsw.max_scan_tuples" => bounded(name, value, 1, i32::MAX as i64),
        "hnsw.scan_mem_multiplier" => bounded(name, value, 1, 1000),
        "ivfflat.probes" | "ivfflat.max_probes" => bounded(name, value, 1, 32768),
        "quartz.nprobes" => bounded(name, value, 0, 32768),
        "quartz.refine_factor" => bounded(name, value, 0, 1000),
        "quartz.exact_search_below" => bounded(name, value, 0, i32::MAX as i64),
        // PostgreSQL's memory units (a bare number is kB, as for work_mem), shown as it shows them.
        "quartz.copy_batch_size" => match parse_memory_kb(value) {
            Some(kb) if (64..=64 << 20).contains(&kb) => Ok(show_memory_kb(kb)),
            Some(kb) => Err(Error::InvalidParameter(format!("{kb} kB is outside the valid range for parameter \"{name}\" (64 .. {})", 64 << 20))),
            None => Err(Error::InvalidParameter(format!("invalid value for parameter \"{name}\": \"{}\"", value.trim().trim_matches('\'')))),
        },
        "enable_indexscan" => match value.trim().trim_matches('\'').to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok("on".into()),
            "off" | "false" | "0" | "no" => Ok("off".into()),
            _ => Err(invalid()),
        },
        "default_transaction_isolation" | "transaction_isolation" => {
            let v = value.trim().trim_matches('\'').to_ascii_lowercase();
            crate::transaction::Isolation::parse(&v).map(|_| v).ok_or_else(invalid)
        }
        "default_transaction_read_only" | "transaction_read_only" => match value.trim().trim_matches('\'').to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok("on".into()),
            "off" | "false" | "0" | "no" => Ok("off".into()),
            _ => Err(invalid()),
        },
        "hnsw.iterative_scan" => one_of(value, &["off", "relaxed_order", "strict_order"], invalid),
        "ivfflat.iterative_scan" => one_of(value, &["off", "relaxed_order"], invalid),
        // pg_dump's output sets `heap`; tables are Lance datasets either way.
        "default_table_access_method" => one_of(value, &["lance", "heap"], invalid),
        _ => Ok(value.to_string()),
    }
}

/// An integer setting within PostgreSQL's bounds, with its messages for both failures.
fn bounded(name: &str, value: &str, lo: i64, hi: i64) -> Result<String> {
    let v = value.trim().trim_matches('\'');
    match v.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n.to_string()),
        Ok(n) => Err(Error::InvalidParameter(format!("{n} is outside the valid range for parameter \"{name}\" ({lo} .. {hi})"))),
        Err(_) => Err(Error::InvalidParameter(format!("invalid value for parameter \"{name}\": \"{v}\""))),
    }
}

fn one_of(value: &str, allowed: &[&str], invalid: impl Fn() -> Error) -> Result<String> {
    let v = value.trim().trim_matches('\'').to_ascii_lowercase();
    if allowed.contains(&v.as_str()) { Ok(v) } else { Err(invalid()) }
}

/// Parses a PostgreSQL memory setting into kB (`64kB`, `32MB`, `1GB`, `1TB`; bare numbers are kB).
fn parse_memory_kb(value: &str) -> Option<u64> {
    let v = value.trim().trim_matches('\'');
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "kB" => 1,
        "MB" => 1 << 10,
        "GB" => 1 << 20,
        "TB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// A kB count in the largest unit that divides it, as `SHOW work_mem` prints one.
fn show_memory_kb(kb: u64) -> String {
    for (unit, size) in [("TB", 1u64 << 30), ("GB", 1 << 20), ("MB", 1 << 10)] {
        if kb % size == 0 {
            return format!("{}{unit}", kb / size);
        }
    }
    format!("{kb}kB")
}

/// Parses a PostgreSQL duration setting (`0`, `500`, `5s`, `2min`, `1h`; bare numbers are ms).
fn parse_duration_ms(value: &str) -> Option<u64> {
    let v = value.trim().trim_matches('\'');
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_reported_when_needed() {
        let mut s = Settings::default();
        assert_eq!(s.get("datestyle").unwrap(), "ISO, MDY");
        assert_eq!(s.set("application_name", "psql").unwrap(), Some("application_name"));
        assert_eq!(s.get("APPLICATION_NAME").unwrap(), "psql");
        assert_eq!(s.set("search_path", "public").unwrap(), None);
        assert!(matches!(s.set("no_such_thing", "1"), Err(Error::UnknownSetting(_))));
        assert!(matches!(s.set("server_version", "1"), Err(Error::CantChangeSetting(_))));
    }

    #[test]
    fn durations_parse_like_postgres() {
        let mut s = Settings::default();
        s.set("statement_timeout", "2s").unwrap();
        assert_eq!(s.statement_timeout_ms(), 2000);
        s.set("statement_timeout", "150").unwrap();
        assert_eq!(s.statement_timeout_ms(), 150);
        assert!(s.set("statement_timeout", "soon").is_err());
        s.reset("statement_timeout").unwrap();
        assert_eq!(s.statement_timeout_ms(), 0);
    }

    #[test]
    fn memory_sizes_parse_and_show_like_work_mem() {
        let mut s = Settings::default();
        assert_eq!(s.copy_batch_bytes(), 32 << 20);
        for (given, shown) in [("2048 kB", "2MB"), ("1025kB", "1025kB"), ("100", "100kB"), ("'1GB'", "1GB")] {
            s.set("quartz.copy_batch_size", given).unwrap();
            assert_eq!(s.get("quartz.copy_batch_size").unwrap(), shown);
        }
        assert_eq!(s.copy_batch_bytes(), 1 << 30);
        assert!(matches!(s.set("quartz.copy_batch_size", "10"), Err(Error::InvalidParameter(m)) if m.contains("outside the valid range")));
        assert!(s.set("quartz.copy_batch_size", "1mb").is_err(), "units are case-sensitive, as in PostgreSQL");
    }
}

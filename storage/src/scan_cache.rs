//! Decoded columns of recently scanned tables, kept in memory within a byte budget.
//!
//! A scan of a table at a committed version always reads the same data, so its decoded Arrow
//! batches can be reused until that version is replaced: the key is (table, version, columns),
//! and a commit simply makes new keys. Exact vector search scans whole columns for every query;
//! from memory that runs at the speed of the distance kernels instead of Lance's decoding.
//! Entries are evicted least recently used first; a scan larger than half the budget is never
//! cached (it would only push everything else out).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScanKey {
    pub table: u32,
    pub version: u64,
    pub columns: Vec<usize>,
}

#[derive(Debug)]
struct Entry {
    batches: Arc<Vec<RecordBatch>>,
    bytes: usize,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<ScanKey, Entry>,
    used: usize,
    clock: u64,
}

#[derive(Debug)]
pub struct ScanCache {
    budget: std::sync::atomic::AtomicUsize,
    inner: Mutex<Inner>,
}

impl ScanCache {
    pub fn new(budget: usize) -> Self {
        Self { budget: budget.into(), inner: Mutex::new(Inner::default()) }
    }

    /// A cache that keeps nothing, for scans of versions that are not committed: their version
    /// numbers may be reused by a later commit if their transaction rolls back.
    pub fn disabled() -> Arc<Self> {
        static DISABLED: std::sync::OnceLock<Arc<ScanCache>> = std::sync::OnceLock::new();
        DISABLED.get_or_init(|| Arc::new(ScanCache::new(0))).clone()
    }

    /// A default budget: a quarter of the machine's memory (1 GiB if that cannot be read).
    pub fn default_budget() -> usize {
        let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse::<usize>().ok()
        });
        total_kib.map_or(1 << 30, |kib| kib * 1024 / 4)
    }

    pub fn budget(&self) -> usize {
        self.budget.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_budget(&self, bytes: usize) {
        self.budget.store(bytes, std::sync::atomic::Ordering::Relaxed);
        let mut inner = self.inner.lock().expect("scan cache");
        evict(&mut inner, bytes, 0);
    }

    /// Whether a scan of about `bytes` may be cached.
    pub fn admits(&self, bytes: usize) -> bool {
        let budget = self.budget();
        budget > 0 && bytes <= budget / 2
    }

    pub fn get(&self, key: &ScanKey) -> Option<Arc<Vec<RecordBatch>>> {
        let mut inner = self.inner.lock().expect("scan cache");
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        entry.last_used = clock;
        Some(entry.batches.clone())
    }

    pub fn insert(&self, key: ScanKey, batches: Arc<Vec<RecordBatch>>) {
        let bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
        if !self.admits(bytes) {
            return;
        }
        let budget = self.budget();
        let mut inner = self.inner.lock().expect("scan cache");
        // Older versions of the same table are never read again by new statements.
        let stale: Vec<ScanKey> = inner.entries.keys().filter(|k| k.table == key.table && k.version < key.version).cloned().collect();
        for k in stale {
            if let Some(e) = inner.entries.remove(&k) {
                inner.used -= e.bytes;
            }
        }
        evict(&mut inner, budget, bytes);
        inner.clock += 1;
        let last_used = inner.clock;
        if let Some(old) = inner.entries.insert(key, Entry { batches, bytes, last_used }) {
            inner.used -= old.bytes;
        }
        inner.used += bytes;
    }

    /// Forgets every entry of a table (it was dropped or truncated).
    pub fn forget_table(&self, table: u32) {
        let mut inner = self.inner.lock().expect("scan cache");
        let keys: Vec<ScanKey> = inner.entries.keys().filter(|k| k.table == table).cloned().collect();
        for k in keys {
            if let Some(e) = inner.entries.remove(&k) {
                inner.used -= e.bytes;
            }
        }
    }
}

/// Evicts least recently used entries until `incoming` more bytes fit in `budget`.
fn evict(inner: &mut Inner, budget: usize, incoming: usize) {
    while inner.used + incoming > budget {
        let Some(oldest) = inner.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone()) else { break };
        if let Some(e) = inner.entries.remove(&oldest) {
            inner.used -= e.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;

    fn batch(n: usize) -> Arc<Vec<RecordBatch>> {
        let a = Int32Array::from(vec![1; n]);
        Arc::new(vec![RecordBatch::try_from_iter([("a", Arc::new(a) as _)]).unwrap()])
    }

    fn key(table: u32, version: u64) -> ScanKey {
        ScanKey { table, version, columns: vec![0] }
    }

    #[test]
    fn keeps_within_budget_and_drops_old_versions() {
        let cache = ScanCache::new(64 * 1024);
        cache.insert(key(1, 1), batch(1000));
        assert!(cache.get(&key(1, 1)).is_some());
        cache.insert(key(1, 2), batch(1000));
        assert!(cache.get(&key(1, 1)).is_none(), "a newer version replaces the old one");
        cache.insert(key(2, 1), batch(1000));
        cache.insert(key(3, 1), batch(1000));
        cache.insert(key(4, 1), batch(1000));
        let inner = cache.inner.lock().unwrap();
        assert!(inner.used <= 64 * 1024, "{}", inner.used);
    }

    #[test]
    fn refuses_scans_larger_than_half_the_budget() {
        let cache = ScanCache::new(1024);
        cache.insert(key(1, 1), batch(10_000));
        assert!(cache.get(&key(1, 1)).is_none());
    }
}

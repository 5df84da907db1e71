//! Transactions: one writer at a time, its changes private until one catalog write publishes
//! them all.
//!
//! A [`Txn`] holds the storage's write lock from its first write until it ends, so writers never
//! interleave and an `UPDATE … SET n = n + 1` always reads the latest committed row. What it
//! writes is real, fsynced Lance versions and an edited copy of the catalog, both visible only to
//! its own statements through its [`TxnView`]; other sessions read the published catalog. COMMIT
//! ([`Storage::commit`]) publishes every table's new version and every catalog edit in one atomic
//! catalog write, so a transaction over several tables is all or nothing, across a crash too: a
//! Lance version the catalog never named is removed at startup, or by the next write to that
//! table. ROLLBACK (dropping the `Txn`) publishes nothing and removes what it created.
//!
//! Sequences behave as PostgreSQL's: `nextval` of a published sequence advances it at once, for
//! everyone, whatever becomes of the transaction; a sequence the transaction created (or
//! restarted with TRUNCATE … RESTART IDENTITY) is its own until it commits.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use lance::dataset::Dataset;
use tokio::sync::OwnedMutexGuard;

use crate::catalog::{Catalog, QualifiedName, TableMeta};
use crate::error::{Error, Result};
use crate::store::Storage;

/// A writing transaction. Dropping it without [`Storage::commit`] rolls it back.
pub struct Txn {
    storage: Arc<Storage>,
    _guard: OwnedMutexGuard<()>,
    view: Arc<TxnView>,
    /// Whether the catalog (or a table version) changed, so COMMIT has something to publish.
    changed: bool,
    /// Tables this transaction gave a new Lance version.
    written: BTreeSet<u32>,
    /// Tables whose shared key sets took this transaction's rows (possibly of a statement that
    /// was cancelled before its version was recorded): dropped unless it commits.
    keys_touched: BTreeSet<u32>,
    /// Tables VACUUM asked to clean up once the transaction is published.
    pub(crate) vacuumed: BTreeSet<u32>,
    /// Datasets created here: removed unless the transaction commits.
    created: Vec<TableMeta>,
    /// Datasets of tables dropped here: removed once it commits.
    dropped: Vec<TableMeta>,
    savepoints: Vec<(String, Savepoint)>,
    /// `SET CONSTRAINTS` choices, and the foreign key checks left for COMMIT.
    pub modes: crate::ConstraintModes,
    pub(crate) deferred: Vec<crate::deferred::DeferredCheck>,
    /// For ON DELETE | UPDATE SET DEFAULT: the referencing columns' defaults, one row per
    /// (referencing table OID, key name), evaluated by the SQL layer for the running statement.
    pub fk_defaults: HashMap<(u32, String), arrow::array::RecordBatch>,
    /// Set once published; a finished transaction's drop undoes nothing.
    done: bool,
}

struct Savepoint {
    state: ViewState,
    modes: crate::ConstraintModes,
    /// The checks pending then (SET CONSTRAINTS … IMMEDIATE may run and drop some since).
    deferred: Vec<crate::deferred::DeferredCheck>,
    changed: bool,
    created: usize,
    dropped: usize,
}

/// What a transaction's own statements see: the published catalog with its changes, and the
/// datasets of the versions it wrote.
#[derive(Debug)]
pub struct TxnView {
    state: Mutex<ViewState>,
}

#[derive(Debug, Clone)]
struct ViewState {
    catalog: Arc<Catalog>,
    datasets: HashMap<u32, Arc<Dataset>>,
    /// Sequences whose values belong to the transaction (see the module comment).
    own_sequences: HashSet<u32>,
}

impl TxnView {
    /// The catalog as the transaction sees it.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.state.lock().expect("txn view").catalog.clone()
    }

    /// The transaction's own dataset of a table, if it wrote one.
    pub fn dataset(&self, oid: u32) -> Option<Arc<Dataset>> {
        self.state.lock().expect("txn view").datasets.get(&oid).cloned()
    }

    /// Applies `change` to a sequence the transaction owns; `None` when the sequence is a
    /// published one.
    pub(crate) fn change_own_sequence<R>(&self, db: &str, name: &QualifiedName, change: impl Fn(&mut crate::catalog::SequenceMeta) -> Result<R>) -> Result<Option<R>> {
        let mut state = self.state.lock().expect("txn view");
        let seq = state.catalog.schema(db, &name.schema)?.sequences.get(&name.name).ok_or_else(|| Error::UnknownSequence(name.name.clone()))?;
        if !state.own_sequences.contains(&seq.oid) {
            return Ok(None);
        }
        let mut next = (*state.catalog).clone();
        let out = change(next.schema_mut(db, &name.schema)?.sequences.get_mut(&name.name).expect("found above"))?;
        state.catalog = Arc::new(next);
        Ok(Some(out))
    }
}

impl Txn {
    pub(crate) fn new(storage: Arc<Storage>, guard: OwnedMutexGuard<()>) -> Self {
        let catalog = storage.catalog();
        Self {
            storage,
            _guard: guard,
            view: Arc::new(TxnView { state: Mutex::new(ViewState { catalog, datasets: HashMap::new(), own_sequences: HashSet::new() }) }),
            changed: false,
            written: BTreeSet::new(),
            keys_touched: BTreeSet::new(),
            vacuumed: BTreeSet::new(),
            created: Vec::new(),
            dropped: Vec::new(),
            savepoints: Vec::new(),
            modes: Default::default(),
            deferred: Vec::new(),
            fk_defaults: HashMap::new(),
            done: false,
        }
    }

    /// What the transaction's statements read through.
    pub fn view(&self) -> &Arc<TxnView> {
        &self.view
    }

    /// The catalog as the transaction sees it.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.view.catalog()
    }

    /// Whether the transaction has changed anything.
    pub fn is_empty(&self) -> bool {
        !self.changed
    }

    /// Applies `change` to the transaction's catalog: all of it, or (on error) none of it.
    pub(crate) fn update<R>(&mut self, change: impl FnOnce(&mut Catalog) -> Result<R>) -> Result<R> {
        let mut state = self.view.state.lock().expect("txn view");
        let mut next = (*state.catalog).clone();
        let out = change(&mut next)?;
        next.assign_missing_oids();
        state.catalog = Arc::new(next);
        self.changed = true;
        Ok(out)
    }

    /// Makes `ds` the table's version in this transaction.
    pub(crate) fn set_dataset(&mut self, db: &str, name: &QualifiedName, ds: Arc<Dataset>) -> Result<()> {
        let version = ds.version().version;
        let oid = self.update(|c| {
            let t = c.table_mut(db, name)?;
            t.version = version;
            Ok(t.oid)
        })?;
        self.written.insert(oid);
        self.view.state.lock().expect("txn view").datasets.insert(oid, ds);
        Ok(())
    }

    /// Records that the shared key sets of a table are about to take this transaction's rows.
    pub(crate) fn touch_keys(&mut self, oid: u32) {
        self.keys_touched.insert(oid);
    }

    /// Records a dataset this transaction created for a new table.
    pub(crate) fn created(&mut self, meta: TableMeta, ds: Arc<Dataset>, sequences: impl IntoIterator<Item = u32>) {
        let mut state = self.view.state.lock().expect("txn view");
        state.datasets.insert(meta.oid, ds);
        state.own_sequences.extend(sequences);
        self.created.push(meta);
    }

    /// Records tables dropped here; their files go once the drop is published.
    pub(crate) fn dropped(&mut self, tables: impl IntoIterator<Item = TableMeta>) {
        self.dropped.extend(tables);
    }

    /// Makes sequences the transaction's own (TRUNCATE … RESTART IDENTITY restarted them).
    pub(crate) fn own_sequences(&mut self, oids: impl IntoIterator<Item = u32>) {
        self.view.state.lock().expect("txn view").own_sequences.extend(oids);
    }

    /// `SAVEPOINT name`.
    pub fn savepoint(&mut self, name: &str) {
        let state = self.view.state.lock().expect("txn view").clone();
        let (modes, deferred) = (self.modes.clone(), self.deferred.clone());
        self.savepoints.push((name.to_string(), Savepoint { state, modes, deferred, changed: self.changed, created: self.created.len(), dropped: self.dropped.len() }));
    }

    /// `ROLLBACK TO SAVEPOINT name`: undoes what was done since, keeping the savepoint. The
    /// caller has checked the name (PostgreSQL's 3B001 otherwise).
    pub fn rollback_to(&mut self, name: &str) -> Result<()> {
        let at = self.position(name)?;
        self.savepoints.truncate(at + 1);
        let sp = &self.savepoints[at].1;
        {
            let mut state = self.view.state.lock().expect("txn view");
            // Sequences never go back, not even the transaction's own.
            let mut restored = sp.state.clone();
            let mut catalog = (*restored.catalog).clone();
            keep_sequence_values(&mut catalog, &state.catalog, &HashSet::new());
            restored.catalog = Arc::new(catalog);
            *state = restored;
        }
        self.changed = sp.changed;
        self.modes = sp.modes.clone();
        self.deferred = sp.deferred.clone();
        self.dropped.truncate(sp.dropped);
        let undone: Vec<TableMeta> = self.created.drain(sp.created..).collect();
        remove_datasets(&self.storage, &undone);
        // Key sets include the undone rows; they are rebuilt from the restored versions.
        self.storage.forget_keys(self.written.iter().chain(&self.keys_touched).copied());
        Ok(())
    }

    /// `RELEASE SAVEPOINT name`: forgets it and every later one.
    pub fn release(&mut self, name: &str) -> Result<()> {
        let at = self.position(name)?;
        self.savepoints.truncate(at);
        Ok(())
    }

    fn position(&self, name: &str) -> Result<usize> {
        self.savepoints.iter().rposition(|(n, _)| n == name).ok_or_else(|| Error::Internal(format!("savepoint \"{name}\" is not known to the transaction")))
    }

    /// Starts over on the published catalog, keeping the lock (for maintenance after a commit).
    fn restart(&mut self) {
        let catalog = self.storage.catalog();
        *self.view.state.lock().expect("txn view") = ViewState { catalog, datasets: HashMap::new(), own_sequences: HashSet::new() };
        self.changed = false;
        self.written.clear();
        self.keys_touched.clear();
        self.vacuumed.clear();
        self.created.clear();
        self.dropped.clear();
        self.savepoints.clear();
        self.modes = Default::default();
        self.deferred.clear();
        self.done = false;
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        if self.done || (!self.changed && self.created.is_empty() && self.keys_touched.is_empty()) {
            return;
        }
        // Nothing was published. Remove the versions and datasets no one will ever read, and the
        // key sets that counted the transaction's rows.
        self.storage.forget_keys(self.written.iter().chain(&self.keys_touched).chain(self.created.iter().map(|t| &t.oid)).copied());
        remove_datasets(&self.storage, &self.created);
        let published = self.storage.catalog();
        for meta in published.table_dirs().filter(|t| self.written.contains(&t.oid)) {
            self.storage.remove_unpublished(meta);
        }
    }
}

fn remove_datasets(storage: &Storage, tables: &[TableMeta]) {
    for meta in tables {
        storage.remove_dataset_files(meta);
    }
}

impl Storage {
    /// Starts a writing transaction, waiting for the write lock.
    pub async fn begin(self: &Arc<Self>) -> Txn {
        let guard = self.writer().clone().lock_owned().await;
        Txn::new(self.clone(), guard)
    }

    /// Publishes everything `txn` did in one catalog write. Keeping the written tables compact
    /// (and their indexes fed) then runs in the background, still holding the write lock so the
    /// next writer waits for it; a cancelled statement can thus never report a commit as failed.
    /// VACUUM's cleanup is done before this returns. Maintenance failures are logged.
    pub async fn commit(self: &Arc<Self>, mut txn: Txn) -> Result<()> {
        self.check_deferred(&mut txn, None).await?;
        self.publish_txn(&mut txn)?;
        let written = std::mem::take(&mut txn.written);
        let vacuumed = std::mem::take(&mut txn.vacuumed);
        if written.is_empty() && vacuumed.is_empty() {
            return Ok(());
        }
        txn.restart();
        if !vacuumed.is_empty() {
            self.maintain(&mut txn, &written, &vacuumed).await;
            return Ok(());
        }
        let storage = self.clone();
        tokio::spawn(async move { storage.maintain(&mut txn, &written, &BTreeSet::new()).await });
        Ok(())
    }

    /// Waits until no transaction or background maintenance holds the write lock.
    pub async fn idle(&self) {
        drop(self.writer().lock().await);
    }

    /// The published catalog becomes the transaction's, keeping the values that sequences it does
    /// not own reached meanwhile.
    pub(crate) fn publish_txn(&self, txn: &mut Txn) -> Result<()> {
        if txn.changed {
            let state = txn.view.state.lock().expect("txn view").clone();
            self.update_catalog(|live| {
                let mut next = (*state.catalog).clone();
                keep_sequence_values(&mut next, live, &state.own_sequences);
                *live = next;
                Ok(())
            })?;
            for (oid, ds) in state.datasets {
                self.cache_dataset(oid, ds);
            }
        }
        txn.done = true;
        for meta in std::mem::take(&mut txn.dropped) {
            self.forget(meta.oid);
            // The catalog no longer names it; a failure here leaves an orphan swept at startup.
            self.remove_dataset_files(&meta);
        }
        for oid in &txn.written {
            self.maintenance.wrote(*oid);
        }
        Ok(())
    }
}

/// Copies into `next` the values the published catalog's sequences have reached, except for the
/// sequences the transaction owns.
fn keep_sequence_values(next: &mut Catalog, live: &Catalog, own: &HashSet<u32>) {
    let values: HashMap<u32, Option<i64>> = live
        .databases
        .values()
        .flat_map(|d| d.schemas.values())
        .flat_map(|s| s.sequences.values())
        .map(|s| (s.oid, s.last_value))
        .collect();
    for seq in next.databases.values_mut().flat_map(|d| d.schemas.values_mut()).flat_map(|s| s.sequences.values_mut()) {
        if !own.contains(&seq.oid)
            && let Some(v) = values.get(&seq.oid)
        {
            seq.last_value = *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

    use super::*;
    use crate::catalog::ColumnMeta;
    use crate::store::{NewTable, RowChange};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]))
    }

    fn rows(ids: &[i64]) -> RowChange {
        let batch = RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(ids.to_vec()))]).unwrap();
        RowChange { inserted: vec![batch], ..Default::default() }
    }

    fn table() -> NewTable {
        let column = ColumnMeta { name: "id".into(), type_name: "bigint".into(), not_null: false, default: None, generated_always: false, comment: None };
        NewTable { columns: vec![column], constraints: vec![], schema: schema(), sequences: vec![], foreign_keys: vec![], checks: vec![] }
    }

    /// Copies a data directory as a crash would leave it (without its lock file).
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
                copy_dir(&entry.path(), &target);
            } else if entry.file_name() != "LOCK" {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    async fn count(storage: &Storage, name: &QualifiedName) -> usize {
        let meta = storage.catalog().table("quartz", name).unwrap().clone();
        storage.dataset(&meta).await.unwrap().count_rows(None).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_are_private_until_commit_and_gone_after_rollback() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        let (a, b) = (QualifiedName::new("public", "a"), QualifiedName::new("public", "b"));
        let mut txn = storage.begin().await;
        storage.create_table(&mut txn, "quartz", &a, table(), false).await.unwrap();
        storage.create_table(&mut txn, "quartz", &b, table(), false).await.unwrap();
        storage.commit(txn).await.unwrap();

        let mut txn = storage.begin().await;
        storage.commit_rows(&mut txn, "quartz", &a, rows(&[1, 2])).await.unwrap();
        storage.commit_rows(&mut txn, "quartz", &b, rows(&[3])).await.unwrap();
        assert_eq!(count(&storage, &a).await, 0, "others do not see uncommitted rows");
        let own = txn.catalog().table("quartz", &a).unwrap().clone();
        assert_eq!(storage.dataset_in(Some(txn.view()), &own).await.unwrap().0.count_rows(None).await.unwrap(), 2);
        drop(txn);
        assert_eq!(count(&storage, &a).await, 0);
        assert_eq!(count(&storage, &b).await, 0);

        let mut txn = storage.begin().await;
        storage.commit_rows(&mut txn, "quartz", &a, rows(&[4])).await.unwrap();
        storage.commit_rows(&mut txn, "quartz", &b, rows(&[5, 6])).await.unwrap();
        storage.commit(txn).await.unwrap();
        assert_eq!((count(&storage, &a).await, count(&storage, &b).await), (1, 2));

        // A crash before the commit (the directory as it is then, opened by a new process):
        // neither table shows the transaction's rows.
        let mut txn = storage.begin().await;
        storage.commit_rows(&mut txn, "quartz", &a, rows(&[7])).await.unwrap();
        storage.commit_rows(&mut txn, "quartz", &b, rows(&[8])).await.unwrap();
        let crashed = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), crashed.path());
        drop(txn);
        drop(storage);
        let storage = Storage::open(crashed.path()).await.unwrap();
        assert_eq!((count(&storage, &a).await, count(&storage, &b).await), (1, 2));
        let mut txn = storage.begin().await;
        storage.commit_rows(&mut txn, "quartz", &a, rows(&[9])).await.unwrap();
        storage.commit(txn).await.unwrap();
        assert_eq!(count(&storage, &a).await, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rolled_back_tables_vanish_and_savepoints_undo_part() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        let t = QualifiedName::new("public", "t");
        let mut txn = storage.begin().await;
        storage.create_table(&mut txn, "quartz", &t, table(), false).await.unwrap();
        let created = txn.catalog().table("quartz", &t).unwrap().dir.clone();
        drop(txn);
        assert!(storage.catalog().table("quartz", &t).is_err());
        assert!(!dir.path().join("tables").join(created).exists(), "a rolled-back table leaves no files");

        let mut txn = storage.begin().await;
        storage.create_table(&mut txn, "quartz", &t, table(), false).await.unwrap();
        storage.commit_rows(&mut txn, "quartz", &t, rows(&[1])).await.unwrap();
        txn.savepoint("s");
        storage.commit_rows(&mut txn, "quartz", &t, rows(&[2, 3])).await.unwrap();
        txn.rollback_to("s").unwrap();
        storage.commit_rows(&mut txn, "quartz", &t, rows(&[4])).await.unwrap();
        storage.commit(txn).await.unwrap();
        assert_eq!(count(&storage, &t).await, 2);
    }
}

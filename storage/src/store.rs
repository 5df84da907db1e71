//! [`Storage`]: the data directory, its catalog, and the Lance datasets of its tables.
//!
//! Layout of a data directory:
//!
//! ```text
//! LOCK            flock held while a server uses the directory
//! catalog.json    the catalog, replaced atomically (write, fsync, rename, fsync dir)
//! tables/<id>/    one Lance dataset per table; <id> is a UUID, never the table's name
//! ```
//!
//! Writers work in a [`Txn`] (one at a time); readers never wait. A write commits a new Lance
//! version through an fsyncing object store; the transaction's commit publishes it in the catalog.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use arrow::array::{RecordBatch, RecordBatchIterator};
use arrow::datatypes::{Schema, SchemaRef};
use futures::TryStreamExt;
use lance::dataset::builder::DatasetBuilder;
use lance::dataset::transaction::{Operation, Transaction, UpdateMode};
use lance::dataset::{ColumnAlteration, CommitBuilder, Dataset, InsertBuilder, NewColumnTransform, ReadParams, WriteMode, WriteParams};
use lance_table::io::commit::ManifestNamingScheme;

use crate::catalog::{Catalog, ColumnMeta, ConstraintMeta, ForeignKeyMeta, QualifiedName, SequenceMeta, TableMeta, ViewMeta};
use crate::txn::{Txn, TxnView};
use crate::durable;
use crate::error::{Error, Result};
use crate::fsync_store::store_params;
use crate::lock::DataDirLock;
use crate::unique::UniqueIndex;

const CATALOG_FILE: &str = "catalog.json";
const TABLES_DIR: &str = "tables";

/// The storage of one data directory. Shared by every session of the server.
pub struct Storage {
    root: PathBuf,
    _lock: DataDirLock,
    catalog: RwLock<Arc<Catalog>>,
    /// Serializes catalog changes and their writes to disk.
    persist: Mutex<()>,
    /// Set by `nextval`; the next [`Storage::flush_sequences`] writes the catalog.
    sequences_dirty: AtomicBool,
    /// The write lock, held by the one open [`Txn`].
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The dataset of each table at its published version, by table OID.
    datasets: Mutex<HashMap<u32, Arc<Dataset>>>,
    /// Lance's caches (opened indexes, their partitions, file metadata), shared by every version
    /// of every table so a commit does not leave the next query with cold indexes.
    lance_session: Arc<lance::session::Session>,
    /// Opened vector indexes for direct searches (see [`crate::ann_direct`]).
    direct_cache: Arc<crate::ann_direct::DirectCache>,
    /// Decoded columns of recent scans (see [`crate::scan_cache`]).
    scan_cache: Arc<crate::scan_cache::ScanCache>,
    /// Key sets of constrained tables, built on first write; dropped when a commit fails.
    pub(crate) uniques: Mutex<HashMap<u32, UniqueIndex>>,
    pub(crate) maintenance: crate::maintenance::Maintenance,
    /// Index builds running now (see [`crate::progress`]).
    pub(crate) builds: Arc<crate::progress::BuildBoard>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").field("root", &self.root).finish_non_exhaustive()
    }
}

/// A table to create.
#[derive(Debug)]
pub struct NewTable {
    pub columns: Vec<ColumnMeta>,
    pub constraints: Vec<ConstraintMeta>,
    /// The Arrow schema of the dataset, one field per column, in order.
    pub schema: SchemaRef,
    /// Sequences the table owns (serial and identity columns), created with it.
    pub sequences: Vec<(String, SequenceMeta)>,
    pub foreign_keys: Vec<crate::foreign_keys::NewForeignKey>,
    /// CHECK constraints, named, their expressions already checked by the planner.
    pub checks: Vec<crate::checks::CheckMeta>,
}

/// Rows one statement removes and adds, committed as one Lance version.
#[derive(Debug, Default)]
pub struct RowChange {
    /// Row addresses (`_rowaddr`) of the rows removed.
    pub deleted_addrs: Vec<u64>,
    /// The removed rows themselves (table schema), for maintaining unique keys.
    pub deleted_rows: Vec<RecordBatch>,
    /// Rows added, in the table's schema.
    pub inserted: Vec<RecordBatch>,
    /// For an update: row j of `deleted_rows` (counted across its batches) became row j of the
    /// `inserted` batches from this one on (UPDATE: 0; ON CONFLICT DO UPDATE: 1, after the rows
    /// it inserts). ON UPDATE CASCADE follows keys through it.
    pub updated_from: Option<usize>,
}

/// What a referential action does to the rows referencing keys a change removed.
enum Referencing {
    /// ON DELETE CASCADE.
    Delete,
    /// ON DELETE | UPDATE SET NULL.
    SetNull,
    /// ON UPDATE CASCADE: the keys' new values.
    Update(NewKeys),
    /// ON DELETE | UPDATE SET DEFAULT: the referencing columns' defaults (one row).
    SetDefault(RecordBatch),
}

/// `values` as column `column` of `rows` holds them: a value that does not fit is an error
/// (22003), not NULL.
fn fitted(values: &arrow::array::ArrayRef, rows: &RecordBatch, column: &str) -> Result<arrow::array::ArrayRef> {
    let options = arrow::compute::CastOptions { safe: false, ..Default::default() };
    Ok(arrow::compute::cast_with_options(values, rows.schema().field_with_name(column)?.data_type(), &options)?)
}

/// The new values of updated keys: `values` (the referenced columns) at `rows[old key]`.
struct NewKeys {
    rows: std::collections::HashMap<Box<[u8]>, u32>,
    values: Vec<arrow::array::ArrayRef>,
}

impl NewKeys {
    /// The keys of `fk`'s referenced columns that the updated rows of `change` changed (as
    /// [`crate::foreign_keys::encode`] encodes them), each with its new value (NULL too).
    fn changed(change: &RowChange, fk: &ForeignKeyMeta) -> Result<Self> {
        let missing = || Error::Internal("an ON UPDATE action of a change that is not an update".into());
        let from = change.updated_from.ok_or_else(missing)?;
        let concat = |batches: &[RecordBatch]| -> Result<Option<RecordBatch>> {
            let Some(first) = batches.first() else { return Ok(None) };
            Ok(Some(arrow::compute::concat_batches(&first.schema(), batches)?))
        };
        let (Some(old), Some(new)) = (concat(&change.deleted_rows)?, concat(change.inserted.get(from..).unwrap_or_default())?) else {
            return Ok(Self { rows: Default::default(), values: Vec::new() });
        };
        if old.num_rows() != new.num_rows() {
            return Err(missing());
        }
        let new_columns = crate::foreign_keys::key_columns(&new, &fk.ref_columns)?;
        let new_keys: std::collections::HashMap<usize, Box<[u8]>> = crate::foreign_keys::encode(&new_columns)?.into_iter().collect();
        let mut rows = std::collections::HashMap::new();
        let mut picked = Vec::new();
        for (row, key) in crate::foreign_keys::encode(&crate::foreign_keys::key_columns(&old, &fk.ref_columns)?)? {
            if new_keys.get(&row) != Some(&key) && !rows.contains_key(&key) {
                rows.insert(key, picked.len() as u32);
                picked.push(row as u32);
            }
        }
        let picked = arrow::array::UInt32Array::from(picked);
        let values = new_columns.iter().map(|a| arrow::compute::take(a, &picked, None)).collect::<std::result::Result<_, _>>()?;
        Ok(Self { rows, values })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropKind {
    /// With CASCADE, the FOREIGN KEYs of other tables that reference it are dropped too.
    Table { cascade: bool },
    View,
    Schema { cascade: bool },
    Sequence,
}

#[derive(Debug, Clone)]
pub enum AlterOp {
    RenameTable(String),
    RenameColumn { from: String, to: String },
    DropColumns { columns: Vec<String>, if_exists: bool },
    AddColumn { column: ColumnMeta, arrow_type: arrow::datatypes::DataType, if_not_exists: bool },
    SetNotNull(String),
    DropNotNull(String),
    /// A default's SQL text (checked by the planner), or `None` to drop it.
    SetDefault { column: String, default: Option<String> },
    /// A new declared type stored as the same Arrow type (`varchar(n)` / `text`); `max_chars`
    /// for a `varchar(n)`, whose existing values must fit.
    SetType { column: String, type_name: String, arrow_type: arrow::datatypes::DataType, max_chars: Option<usize> },
    AddConstraint(ConstraintMeta),
    AddForeignKey(crate::foreign_keys::NewForeignKey),
    /// A CHECK constraint the table's rows were found to satisfy (by the planner, in this
    /// transaction).
    AddCheck(crate::checks::CheckMeta),
    /// With `cascade`, FOREIGN KEYs that reference a dropped key go too.
    DropConstraint { name: String, if_exists: bool, cascade: bool },
}

/// Field-metadata keys QuartzDB sets on columns (see the planner's `types`); Lance's own are dropped.
const KEPT_METADATA: &[&str] = &[crate::encoding::PG_TYPE];

/// The Arrow schema of a dataset as SQL sees it (with intervals decoded; see [`crate::encoding`]).
pub fn table_schema(dataset: &Dataset) -> Schema {
    let schema = Schema::from(dataset.schema());
    Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                let kept = f.metadata().iter().filter(|(k, _)| KEPT_METADATA.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
                crate::encoding::sql_field(&f.as_ref().clone().with_metadata(kept))
            })
            .collect::<Vec<_>>(),
    )
}

fn write_params(mode: WriteMode) -> WriteParams {
    WriteParams { mode, store_params: Some(store_params()), skip_auto_cleanup: true, ..Default::default() }
}

impl Storage {
    /// Opens (creating if needed) a data directory: takes its lock, loads or bootstraps the
    /// catalog, and rolls every table back to its published version.
    pub async fn open(root: impl AsRef<Path>) -> Result<Arc<Self>> {
        let root = root.as_ref();
        durable::create_dir_durable(root).map_err(Error::io(root))?;
        let root = root.canonicalize().map_err(Error::io(root))?;
        let lock = DataDirLock::acquire(&root)?;
        let tables = root.join(TABLES_DIR);
        durable::create_dir_durable(&tables).map_err(Error::io(&tables))?;

        let path = root.join(CATALOG_FILE);
        let catalog = match std::fs::read(&path) {
            Ok(bytes) => Catalog::from_json(&bytes).map_err(|reason| Error::CorruptCatalog { path: path.clone(), reason })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let c = Catalog::bootstrap();
                durable::write_atomic(&path, &c.to_json()).map_err(Error::io(&path))?;
                tracing::info!(data_dir = %root.display(), "initialized a new data directory");
                c
            }
            Err(e) => return Err(Error::io(&path)(e)),
        };

        let storage = Arc::new(Self {
            root,
            _lock: lock,
            catalog: RwLock::new(Arc::new(catalog)),
            persist: Mutex::new(()),
            sequences_dirty: AtomicBool::new(false),
            writer: Default::default(),
            datasets: Mutex::new(HashMap::new()),
            lance_session: Arc::new(lance::session::Session::default()),
            direct_cache: Default::default(),
            scan_cache: Arc::new(crate::scan_cache::ScanCache::new(crate::scan_cache::ScanCache::default_budget())),
            uniques: Mutex::new(HashMap::new()),
            maintenance: Default::default(),
            builds: Default::default(),
        });
        storage.recover()?;
        Ok(storage)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A consistent snapshot of the catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().expect("catalog lock").clone()
    }

    pub(crate) fn writer(&self) -> &Arc<tokio::sync::Mutex<()>> {
        &self.writer
    }

    /// The directory of a table's Lance dataset.
    pub fn table_path(&self, meta: &TableMeta) -> PathBuf {
        self.root.join(TABLES_DIR).join(&meta.dir)
    }

    fn table_uri(&self, meta: &TableMeta) -> String {
        self.table_path(meta).to_string_lossy().into_owned()
    }

    /// The table's dataset at its published version.
    /// The cache of decoded scans that table providers read through.
    /// Index builds running now, for `pg_stat_progress_create_index`.
    pub fn index_builds(&self) -> Vec<crate::progress::BuildProgress> {
        self.builds.snapshot()
    }

    pub fn scan_cache(&self) -> &Arc<crate::scan_cache::ScanCache> {
        &self.scan_cache
    }

    /// Opened vector indexes, handed to table providers.
    pub fn direct_cache(&self) -> &Arc<crate::ann_direct::DirectCache> {
        &self.direct_cache
    }

    pub async fn dataset(&self, meta: &TableMeta) -> Result<Arc<Dataset>> {
        if let Some(ds) = self.datasets.lock().expect("dataset cache").get(&meta.oid)
            && ds.version().version == meta.version
        {
            return Ok(ds.clone());
        }
        let ds = match self.load(meta, meta.version).await {
            Ok(ds) => ds,
            Err(e) => {
                // A reader whose catalog snapshot is older than a cleanup reads the version
                // published since (statements see the latest committed data anyway).
                let current = self.catalog().table_dirs().find(|t| t.oid == meta.oid).map(|t| t.version);
                match current {
                    Some(v) if v != meta.version => self.load(meta, v).await?,
                    _ => return Err(e),
                }
            }
        };
        let ds = Arc::new(ds);
        // Only a published version is shared: a transaction's own version number may be reused
        // by another commit if it rolls back.
        let published = self.catalog().table_dirs().any(|t| t.oid == meta.oid && t.version == ds.version().version);
        if published {
            self.cache_dataset(meta.oid, ds.clone());
        }
        Ok(ds)
    }

    /// The dataset of `meta` as a transaction's `view` sees it, and whether it is the
    /// transaction's own, unpublished version (which must not enter shared caches).
    pub async fn dataset_in(&self, view: Option<&TxnView>, meta: &TableMeta) -> Result<(Arc<Dataset>, bool)> {
        if let Some(ds) = view.and_then(|v| v.dataset(meta.oid))
            && ds.version().version == meta.version
        {
            return Ok((ds, true));
        }
        Ok((self.dataset(meta).await?, false))
    }

    /// [`Self::dataset_in`] for a transaction's own writes.
    pub async fn txn_dataset(&self, txn: &Txn, meta: &TableMeta) -> Result<Arc<Dataset>> {
        Ok(self.dataset_in(Some(txn.view()), meta).await?.0)
    }

    async fn load(&self, meta: &TableMeta, version: u64) -> Result<Dataset> {
        Ok(DatasetBuilder::from_uri(self.table_uri(meta))
            .with_read_params(ReadParams { store_options: Some(store_params()), ..Default::default() })
            .with_version(version)
            .with_session(self.lance_session.clone())
            .load()
            .await?)
    }

    /// Applies `change` to the catalog and writes it durably; readers see it only afterwards.
    pub(crate) fn update_catalog<R>(&self, change: impl FnOnce(&mut Catalog) -> Result<R>) -> Result<R> {
        let _persist = self.persist.lock().expect("persist lock");
        let mut next = (*self.catalog()).clone();
        let out = change(&mut next)?;
        next.assign_missing_oids();
        let path = self.root.join(CATALOG_FILE);
        durable::write_atomic(&path, &next.to_json()).map_err(Error::io(&path))?;
        *self.catalog.write().expect("catalog lock") = Arc::new(next);
        self.sequences_dirty.store(false, Ordering::Release);
        Ok(out)
    }

    // ---- sequences ----

    /// Hands out `n` values of a sequence. They are durable once [`Self::flush_sequences`] (run
    /// at the end of every statement, before it is acknowledged) or any later catalog write ran.
    /// A sequence the transaction of `view` owns advances there instead (see [`crate::txn`]).
    pub fn nextval(&self, db: &str, name: &QualifiedName, n: usize, view: Option<&TxnView>) -> Result<Vec<i64>> {
        self.change_sequence(db, name, view, |seq| seq.next_values(&name.name, n))
    }

    /// `setval`: like `nextval`, not undone by a rollback (except of a sequence the transaction
    /// of `view` owns), durable like it.
    pub fn setval(&self, db: &str, name: &QualifiedName, value: i64, is_called: bool, view: Option<&TxnView>) -> Result<()> {
        self.change_sequence(db, name, view, |seq| seq.set_value(&name.name, value, is_called))
    }

    /// Applies `change` to a sequence: in the transaction of `view` when it owns the sequence,
    /// else to the published catalog (outside any transaction, as PostgreSQL's sequences are).
    fn change_sequence<R>(&self, db: &str, name: &QualifiedName, view: Option<&TxnView>, change: impl Fn(&mut crate::catalog::SequenceMeta) -> Result<R>) -> Result<R> {
        if let Some(out) = view.map(|v| v.change_own_sequence(db, name, &change)).transpose()?.flatten() {
            return Ok(out);
        }
        let _persist = self.persist.lock().expect("persist lock");
        let mut next = (*self.catalog()).clone();
        let seq = next
            .schema_mut(db, &name.schema)?
            .sequences
            .get_mut(&name.name)
            .ok_or_else(|| Error::UnknownSequence(name.name.clone()))?;
        let out = change(seq)?;
        *self.catalog.write().expect("catalog lock") = Arc::new(next);
        self.sequences_dirty.store(true, Ordering::Release);
        Ok(out)
    }

    /// Writes sequence advances made by `nextval` since the last catalog write.
    pub fn flush_sequences(&self) -> Result<()> {
        if self.sequences_dirty.load(Ordering::Acquire) {
            self.update_catalog(|_| Ok(()))?;
        }
        Ok(())
    }

    // ---- DDL ----

    pub async fn create_schema(&self, txn: &mut Txn, db: &str, name: &str, if_not_exists: bool) -> Result<bool> {
        txn.update(|c| {
            let oid = c.allocate_oid();
            let schemas = &mut c.databases.get_mut(db).ok_or_else(|| Error::UnknownDatabase(db.into()))?.schemas;
            if schemas.contains_key(name) {
                return if if_not_exists { Ok(false) } else { Err(Error::DuplicateSchema(name.into())) };
            }
            schemas.insert(name.into(), crate::catalog::SchemaMeta { oid, ..Default::default() });
            Ok(true)
        })
    }

    /// Creates the table's (empty) dataset, then publishes it. Returns false when it existed and
    /// `if_not_exists` was given.
    pub async fn create_table(&self, txn: &mut Txn, db: &str, name: &QualifiedName, table: NewTable, if_not_exists: bool) -> Result<bool> {
        let catalog = txn.catalog();
        if catalog.relation_exists(db, name)? {
            return if if_not_exists { Ok(false) } else { Err(Error::DuplicateTable(name.name.clone())) };
        }
        for (seq, _) in &table.sequences {
            if catalog.relation_exists(db, &QualifiedName::new(&name.schema, seq))? {
                return Err(Error::DuplicateTable(seq.clone()));
            }
        }
        let stored = Arc::new(crate::encoding::stored_schema(&table.schema));
        // Keys are compared on the stored values; an encoded column's differ from SQL's.
        if let Some(c) = table.constraints.iter().flat_map(|c| &c.columns).find(|c| stored.field_with_name(c).is_ok_and(|f| crate::encoding::is_encoded(f))) {
            return Err(Error::Unsupported(format!("PRIMARY KEY or UNIQUE on interval column \"{c}\"")));
        }
        // Referenced tables' column types, to check each foreign key's before anything is made.
        for fk in table.foreign_keys.iter().filter(|fk| fk.ref_table != *name) {
            let parent = catalog.table(db, &fk.ref_table)?.clone();
            let parent_schema = table_schema(&*self.txn_dataset(txn, &parent).await?);
            let resolved = crate::foreign_keys::resolve(&catalog, db, name, &table.schema, (&table.constraints, 0), fk.clone())?;
            crate::foreign_keys::check_types(&resolved, &table.schema, &parent_schema)?;
        }
        let mut meta = TableMeta {
            oid: 0,
            dir: uuid::Uuid::new_v4().simple().to_string(),
            columns: table.columns,
            constraints: table.constraints,
            version: 0,
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: table.checks,
            comment: None,
        };
        let empty = RecordBatchIterator::new(Vec::<std::result::Result<RecordBatch, arrow::error::ArrowError>>::new(), stored);
        let ds = InsertBuilder::new(self.table_uri(&meta).as_str())
            .with_params(&WriteParams { session: Some(self.lance_session.clone()), ..write_params(WriteMode::Create) })
            .execute_stream(empty)
            .await?;
        meta.version = ds.version().version;
        durable::sync_dir(&self.root.join(TABLES_DIR)).map_err(Error::io(self.root.join(TABLES_DIR)))?;
        let result = txn.update(|c| {
            meta.oid = c.allocate_oid();
            for fk in table.foreign_keys {
                let resolved = crate::foreign_keys::resolve(c, db, name, &table.schema, (&meta.constraints, meta.oid), fk)?;
                if resolved.ref_table == meta.oid {
                    crate::foreign_keys::check_types(&resolved, &table.schema, &table.schema)?;
                }
                meta.foreign_keys.push(resolved);
            }
            let mut sequences = Vec::new();
            for (seq_name, mut seq) in table.sequences {
                seq.oid = c.allocate_oid();
                sequences.push((seq_name, seq));
            }
            let oids: Vec<u32> = sequences.iter().map(|(_, s)| s.oid).collect();
            let schema = c.schema_mut(db, &name.schema)?;
            schema.sequences.extend(sequences);
            schema.tables.insert(name.name.clone(), meta.clone());
            Ok(oids)
        });
        match result {
            Ok(sequences) => {
                txn.created(meta, Arc::new(ds), sequences);
                Ok(true)
            }
            Err(e) => {
                self.remove_dataset_files(&meta);
                Err(e)
            }
        }
    }

    pub async fn create_view(&self, txn: &mut Txn, db: &str, name: &QualifiedName, mut view: ViewMeta, or_replace: bool, if_not_exists: bool) -> Result<bool> {
        txn.update(|c| {
            let oid = c.allocate_oid();
            let schema = c.schema_mut(db, &name.schema)?;
            let exists_as_other = schema.tables.contains_key(&name.name) || schema.sequences.contains_key(&name.name);
            if let Some(old) = schema.views.get(&name.name) {
                if if_not_exists {
                    return Ok(false);
                }
                if !or_replace {
                    return Err(Error::DuplicateTable(name.name.clone()));
                }
                // As in PostgreSQL, the replaced view keeps its OID and its comments.
                view.oid = old.oid;
                view.comment = old.comment.clone();
                view.column_comments = old.column_comments.clone();
            } else if exists_as_other {
                return if if_not_exists { Ok(false) } else { Err(Error::DuplicateTable(name.name.clone())) };
            } else {
                view.oid = oid;
            }
            schema.views.insert(name.name.clone(), view);
            Ok(true)
        })
    }

    /// `COMMENT ON`: a catalog change only, published with the transaction.
    pub async fn comment(&self, txn: &mut Txn, db: &str, target: &crate::CommentTarget, comment: Option<String>) -> Result<()> {
        txn.update(|c| c.set_comment(db, target, comment))
    }

    /// Drops objects, all or none: every name is checked before anything changes.
    /// A dropped table's files are removed once the drop is committed.
    pub async fn drop_objects(&self, txn: &mut Txn, db: &str, kind: DropKind, names: &[QualifiedName], if_exists: bool) -> Result<()> {
        let mut removed_dirs: Vec<TableMeta> = Vec::new();
        let mut dropped_names: Vec<(u32, String)> = Vec::new();
        txn.update(|c| {
            for name in names {
                match kind {
                    DropKind::Schema { cascade } => {
                        let schemas = &mut c.databases.get_mut(db).ok_or_else(|| Error::UnknownDatabase(db.into()))?.schemas;
                        let Some(schema) = schemas.get(&name.schema) else {
                            if if_exists {
                                continue;
                            }
                            return Err(Error::UnknownSchema(name.schema.clone()));
                        };
                        let empty = schema.tables.is_empty() && schema.views.is_empty() && schema.sequences.is_empty();
                        if !empty && !cascade {
                            return Err(Error::SchemaNotEmpty(name.schema.clone()));
                        }
                        let schema = schemas.remove(&name.schema).expect("checked above");
                        removed_dirs.extend(schema.tables.into_values());
                    }
                    DropKind::Table { .. } => {
                        let schema = match c.schema_mut(db, &name.schema) {
                            Ok(s) => s,
                            Err(_) if if_exists => continue,
                            Err(e) => return Err(e),
                        };
                        if schema.views.contains_key(&name.name) {
                            return Err(Error::WrongObjectType { name: name.name.clone(), expected: "a table" });
                        }
                        let Some(table) = schema.tables.remove(&name.name) else {
                            if if_exists {
                                continue;
                            }
                            return Err(Error::UnknownTable(name.name.clone()));
                        };
                        let owned = meta_owner(&name.name);
                        schema.sequences.retain(|_, s| !owned(s));
                        dropped_names.push((table.oid, name.name.clone()));
                        removed_dirs.push(table);
                    }
                    DropKind::View => {
                        let schema = match c.schema_mut(db, &name.schema) {
                            Ok(s) => s,
                            Err(_) if if_exists => continue,
                            Err(e) => return Err(e),
                        };
                        if schema.tables.contains_key(&name.name) {
                            return Err(Error::WrongObjectType { name: name.name.clone(), expected: "a view" });
                        }
                        if schema.views.remove(&name.name).is_none() && !if_exists {
                            return Err(Error::UnknownView(name.name.clone()));
                        }
                    }
                    DropKind::Sequence => {
                        let schema = match c.schema_mut(db, &name.schema) {
                            Ok(s) => s,
                            Err(_) if if_exists => continue,
                            Err(e) => return Err(e),
                        };
                        if schema.sequences.remove(&name.name).is_none() && !if_exists {
                            return Err(Error::UnknownSequence(name.name.clone()));
                        }
                    }
                }
            }
            // FOREIGN KEYs of the tables left that reference a dropped one: dropped with CASCADE,
            // else the drop fails, as in PostgreSQL.
            let cascade = matches!(kind, DropKind::Table { cascade: true } | DropKind::Schema { cascade: true });
            let dropped: std::collections::HashMap<u32, String> = removed_dirs.iter().map(|t| (t.oid, dropped_names.iter().find(|(o, _)| *o == t.oid).map_or_else(String::new, |(_, n)| n.clone()))).collect();
            if let Ok(d) = c.databases.get_mut(db).ok_or(()) {
                for (tname, t) in d.schemas.values_mut().flat_map(|s| s.tables.iter_mut()) {
                    if let Some(fk) = t.foreign_keys.iter().find(|f| dropped.contains_key(&f.ref_table)) {
                        if !cascade {
                            let parent = &dropped[&fk.ref_table];
                            return Err(Error::DependentObjects {
                                message: format!("cannot drop table {parent} because other objects depend on it"),
                                detail: format!("constraint {} on table {tname} depends on table {parent}", fk.name),
                            });
                        }
                        t.foreign_keys.retain(|f| !dropped.contains_key(&f.ref_table));
                    }
                }
            }
            Ok(())
        })?;
        txn.dropped(removed_dirs);
        Ok(())
    }

    pub(crate) fn forget(&self, oid: u32) {
        self.datasets.lock().expect("dataset cache").remove(&oid);
        self.maintenance.forget(oid);
        self.uniques.lock().expect("unique keys").remove(&oid);
    }

    /// Drops the key sets of these tables; the next write rebuilds them from its version.
    pub(crate) fn forget_keys(&self, oids: impl IntoIterator<Item = u32>) {
        let mut uniques = self.uniques.lock().expect("unique keys");
        for oid in oids {
            uniques.remove(&oid);
        }
    }

    /// Removes a table's dataset directory (a dropped table, or one created by a transaction
    /// that did not commit). A failure leaves an orphan, swept at startup.
    pub(crate) fn remove_dataset_files(&self, meta: &TableMeta) {
        match std::fs::remove_dir_all(self.table_path(meta)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, dir = %meta.dir, "could not remove a table's files"),
        }
    }

    /// Removes the Lance versions after the published one (a transaction that did not commit).
    pub(crate) fn remove_unpublished(&self, meta: &TableMeta) {
        if let Err(e) = remove_unpublished_versions(&self.table_path(meta), meta.version) {
            tracing::warn!(error = %e, dir = %meta.dir, "could not remove unpublished versions; the next write will");
        }
    }

    /// Empties tables (one new Lance version each, published together); `restart_identity`
    /// resets the sequences they own.
    pub async fn truncate(&self, txn: &mut Txn, db: &str, names: &[QualifiedName], restart_identity: bool) -> Result<()> {
        let catalog = txn.catalog();
        let metas = names.iter().map(|n| catalog.table(db, n).cloned()).collect::<Result<Vec<_>>>()?;
        // PostgreSQL refuses to empty a referenced table unless its referencing tables go too.
        for (name, meta) in names.iter().zip(&metas) {
            if let Some((child, _, _)) = catalog.referencing(db, meta.oid).into_iter().find(|(child, _, _)| !names.contains(child)) {
                return Err(Error::TruncateReferenced { detail: format!("Table \"{}\" references \"{}\".", child.name, name.name) });
            }
        }
        for (name, meta) in names.iter().zip(&metas) {
            let dataset = self.txn_dataset(txn, meta).await?;
            let ids: Vec<u64> = dataset.get_fragments().iter().map(|f| f.id() as u64).collect();
            if !ids.is_empty() {
                let op = Operation::Delete { updated_fragments: vec![], deleted_fragment_ids: ids, predicate: "true".into() };
                let ds = self.commit_operation(meta, dataset, op).await?;
                txn.set_dataset(db, name, Arc::new(ds))?;
            }
        }
        if restart_identity {
            let restarted = txn.update(|c| {
                let mut restarted = Vec::new();
                for name in names {
                    let owned = meta_owner(&name.name);
                    for seq in c.schema_mut(db, &name.schema)?.sequences.values_mut() {
                        if owned(seq) {
                            seq.last_value = None;
                            restarted.push(seq.oid);
                        }
                    }
                }
                Ok(restarted)
            })?;
            txn.own_sequences(restarted);
        }
        self.forget_keys(metas.iter().map(|m| m.oid));
        Ok(())
    }

    pub async fn alter_table(&self, txn: &mut Txn, db: &str, name: &QualifiedName, ops: Vec<AlterOp>, if_exists: bool) -> Result<()> {
        let catalog = txn.catalog();
        let mut meta = match catalog.table(db, name) {
            Ok(m) => m.clone(),
            Err(Error::UnknownTable(_)) if if_exists => return Ok(()),
            Err(e) => return Err(e),
        };
        let oid = meta.oid;
        let mut new_name = name.name.clone();
        let mut renamed_columns: Vec<(String, String)> = Vec::new();
        // Referenced keys dropped with CASCADE: other tables' foreign keys on them go too.
        let mut dropped_references: Vec<Vec<String>> = Vec::new();
        let dataset = self.txn_dataset(txn, &meta).await?;
        self.prepare_commit(&meta, &dataset).await?;
        let mut dataset = (*dataset).clone();
        let missing = |column: &str| Error::UnknownColumn { table: name.name.clone(), column: column.into() };
        for op in ops {
            match op {
                AlterOp::RenameTable(to) => {
                    if to != name.name && catalog.relation_exists(db, &QualifiedName::new(&name.schema, &to))? {
                        return Err(Error::DuplicateTable(to));
                    }
                    new_name = to;
                }
                AlterOp::RenameColumn { from, to } => {
                    let Some(col) = meta.columns.iter().position(|c| c.name == from) else { return Err(missing(&from)) };
                    if meta.columns.iter().any(|c| c.name == to) {
                        return Err(Error::DuplicateColumn { table: name.name.clone(), column: to });
                    }
                    dataset.alter_columns(&[ColumnAlteration::new(from.clone()).rename(to.clone())]).await?;
                    meta.columns[col].name = to.clone();
                    for c in &mut meta.constraints {
                        for cc in &mut c.columns {
                            if *cc == from {
                                *cc = to.clone();
                            }
                        }
                    }
                    for i in &mut meta.indexes {
                        for c in std::iter::once(&mut i.column).chain(i.more_columns.iter_mut()) {
                            if *c == from {
                                *c = to.clone();
                            }
                        }
                    }
                    let own_oid = meta.oid;
                    for f in &mut meta.foreign_keys {
                        let self_reference = f.ref_table == own_oid;
                        for c in f.columns.iter_mut().chain(f.ref_columns.iter_mut().filter(|_| self_reference)) {
                            if *c == from {
                                *c = to.clone();
                            }
                        }
                    }
                    for c in &mut meta.checks {
                        c.rename_column(&from, &to);
                    }
                    renamed_columns.push((from, to));
                }
                AlterOp::DropColumns { columns, if_exists } => {
                    let mut drop = Vec::new();
                    for column in columns {
                        if meta.columns.iter().any(|c| c.name == column) {
                            drop.push(column);
                        } else if !if_exists {
                            return Err(missing(&column));
                        }
                    }
                    if drop.is_empty() {
                        continue;
                    }
                    if drop.len() >= meta.columns.len() {
                        return Err(Error::Unsupported("dropping every column of a table".into()));
                    }
                    if let Some((child, _, fk)) = catalog.referencing(db, oid).into_iter().find(|(_, _, f)| f.ref_columns.iter().any(|c| drop.contains(c))) {
                        return Err(Error::DependentObjects {
                            message: format!("cannot drop column of table {} because other objects depend on it", name.name),
                            detail: format!("constraint {} on table {} depends on it", fk.name, child.name),
                        });
                    }
                    // A foreign key over a dropped column goes with it, as in PostgreSQL.
                    meta.foreign_keys.retain(|f| !f.columns.iter().any(|c| drop.contains(c)));
                    // PostgreSQL drops the indexes of dropped columns with them.
                    for i in meta.indexes.iter().filter(|i| i.columns().any(|c| drop.contains(c))) {
                        lance::index::DatasetIndexExt::drop_index(&mut dataset, &i.lance_name).await?;
                    }
                    meta.indexes.retain(|i| !i.columns().any(|c| drop.contains(c)));
                    let refs: Vec<&str> = drop.iter().map(String::as_str).collect();
                    dataset.drop_columns(&refs).await?;
                    meta.columns.retain(|c| !drop.contains(&c.name));
                    // PostgreSQL drops constraints (and indexes) that use a dropped column.
                    meta.constraints.retain(|c| !c.columns.iter().any(|cc| drop.contains(cc)));
                    meta.checks.retain(|c| !c.columns.iter().any(|cc| drop.contains(cc)));
                }
                AlterOp::AddColumn { column, arrow_type, if_not_exists } => {
                    if meta.columns.iter().any(|c| c.name == column.name) {
                        if if_not_exists {
                            continue;
                        }
                        return Err(Error::DuplicateColumn { table: name.name.clone(), column: column.name });
                    }
                    let mut field = arrow::datatypes::Field::new(&column.name, arrow_type, true);
                    if matches!(column.type_name.as_str(), "uuid" | "json" | "jsonb") {
                        field = field.with_metadata([(KEPT_METADATA[0].to_string(), column.type_name.clone())].into());
                    }
                    let field = crate::encoding::stored_field(&field);
                    dataset.add_columns(NewColumnTransform::AllNulls(Arc::new(Schema::new(vec![field]))), None, None).await?;
                    meta.columns.push(column);
                }
                AlterOp::SetNotNull(column) => {
                    let col = meta.columns.iter().position(|c| c.name == column).ok_or_else(|| missing(&column))?;
                    if !meta.columns[col].not_null {
                        crate::alter_checks::no_nulls(&dataset, &name.name, std::slice::from_ref(&column)).await?;
                        meta.columns[col].not_null = true;
                    }
                }
                AlterOp::DropNotNull(column) => {
                    let col = meta.columns.iter().position(|c| c.name == column).ok_or_else(|| missing(&column))?;
                    let in_key = meta.constraints.iter().any(|c| c.kind == crate::catalog::ConstraintKind::PrimaryKey && c.columns.contains(&column));
                    if in_key {
                        return Err(Error::InvalidTableDefinition(format!("column \"{column}\" is in a primary key")));
                    }
                    if meta.columns[col].generated_always {
                        return Err(Error::InvalidTableDefinition(format!("column \"{column}\" of relation \"{}\" is an identity column", name.name)));
                    }
                    meta.columns[col].not_null = false;
                }
                AlterOp::SetDefault { column, default } => {
                    let col = meta.columns.iter_mut().find(|c| c.name == column).ok_or_else(|| missing(&column))?;
                    if col.generated_always {
                        return Err(Error::InvalidTableDefinition(format!("column \"{column}\" of relation \"{}\" is an identity column", name.name)));
                    }
                    col.default = default;
                }
                AlterOp::SetType { column, type_name, arrow_type, max_chars } => {
                    let col = meta.columns.iter().position(|c| c.name == column).ok_or_else(|| missing(&column))?;
                    let stored = table_schema(&dataset).field_with_name(&column).map(|f| f.data_type().clone()).map_err(|_| missing(&column))?;
                    // Only between forms stored alike whose values need no conversion: text and
                    // varchar(n) (a shorter length is checked below), or one type's modifiers.
                    let base = |t: &str| t.split('(').next().unwrap_or(t).trim().to_string();
                    let text_like = |t: &str| !t.trim_end().ends_with("[]") && matches!(base(t).as_str(), "text" | "character varying" | "varchar");
                    let old = meta.columns[col].type_name.clone();
                    let alike = (text_like(&old) && text_like(&type_name)) || old == type_name;
                    if stored != arrow_type || !alike {
                        if !crate::alter_checks::convertible(&stored, &arrow_type) {
                            return Err(Error::Unsupported(format!(
                                "ALTER COLUMN TYPE from {old} to {type_name} (converted are: text and varchar(n), integers of any width, real to double precision, numeric to a wider numeric)"
                            )));
                        }
                        // Foreign keys compare integers of any width alike, not other types.
                        let in_key = meta.foreign_keys.iter().any(|f| f.columns.contains(&column) || (f.ref_table == oid && f.ref_columns.contains(&column)))
                            || catalog.referencing(db, oid).iter().any(|(_, _, f)| f.ref_columns.contains(&column));
                        if in_key && !(stored.is_signed_integer() && arrow_type.is_signed_integer()) {
                            return Err(Error::Unsupported(format!("ALTER COLUMN TYPE from {old} to {type_name} of a foreign key's column \"{column}\"")));
                        }
                        // Pending deferred checks hold keys encoded in the old type.
                        let referencing: Vec<(u32, String)> = catalog.referencing(db, oid).iter().map(|(_, child, f)| (child.oid, f.name.clone())).collect();
                        if txn.deferred.iter().any(|d| d.child == oid || referencing.contains(&(d.child, d.fk.clone()))) {
                            return Err(Error::ObjectInUse(format!("cannot ALTER TABLE \"{}\" because it has pending trigger events", name.name)));
                        }
                        // Lance's cast would leave an index on the column unreadable.
                        if let Some(index) = meta.indexes.iter().find(|i| i.column == column || i.more_columns.contains(&column)) {
                            return Err(Error::Unsupported(format!("ALTER COLUMN TYPE of column \"{column}\", which index \"{}\" covers (drop the index first)", index.name)));
                        }
                        crate::alter_checks::fits_integer(&dataset, &column, &arrow_type, &type_name).await?;
                        dataset.alter_columns(&[ColumnAlteration::new(column.clone()).cast_to(arrow_type.clone())]).await?;
                        // Key sets hold values as they were stored.
                        self.forget_keys([meta.oid]);
                        meta.columns[col].type_name = type_name;
                        continue;
                    }
                    if let Some(max) = max_chars {
                        crate::alter_checks::fits(&dataset, &column, max, &type_name).await?;
                    }
                    meta.columns[col].type_name = type_name;
                }
                AlterOp::AddConstraint(constraint) => {
                    let stored = Schema::from(dataset.schema());
                    for c in &constraint.columns {
                        if !meta.columns.iter().any(|m| &m.name == c) {
                            return Err(missing(c));
                        }
                        // Keys are compared on the stored values; an encoded column's differ from SQL's.
                        if stored.field_with_name(c).is_ok_and(|f| crate::encoding::is_encoded(f)) {
                            return Err(Error::Unsupported(format!("PRIMARY KEY or UNIQUE on interval column \"{c}\"")));
                        }
                    }
                    let taken = catalog.relation_exists(db, &QualifiedName::new(&name.schema, &constraint.name))?
                        || catalog.schema(db, &name.schema)?.tables.values().chain([&meta]).any(|t| t.constraints.iter().any(|c| c.name == constraint.name));
                    if taken {
                        return Err(Error::DuplicateTable(constraint.name.clone()));
                    }
                    if crate::checks::name_taken(&meta, &constraint.name) {
                        return Err(Error::DuplicateObject(format!("constraint \"{}\" for relation \"{}\" already exists", constraint.name, name.name)));
                    }
                    let primary = constraint.kind == crate::catalog::ConstraintKind::PrimaryKey;
                    if primary && meta.constraints.iter().any(|c| c.kind == crate::catalog::ConstraintKind::PrimaryKey) {
                        return Err(Error::InvalidTableDefinition(format!("multiple primary keys for table \"{}\" are not allowed", name.name)));
                    }
                    if primary {
                        // PRIMARY KEY implies NOT NULL, checked on the rows there are.
                        crate::alter_checks::no_nulls(&dataset, &name.name, &constraint.columns).await?;
                        for c in meta.columns.iter_mut().filter(|c| constraint.columns.contains(&c.name)) {
                            c.not_null = true;
                        }
                    }
                    crate::alter_checks::unique(&dataset, &constraint).await?;
                    meta.constraints.push(constraint);
                }
                AlterOp::AddForeignKey(fk) => {
                    let taken = crate::checks::name_taken(&meta, &fk.name);
                    if taken {
                        return Err(Error::DuplicateObject(format!("constraint \"{}\" for relation \"{}\" already exists", fk.name, name.name)));
                    }
                    let schema = table_schema(&dataset);
                    let resolved = crate::foreign_keys::resolve(&catalog, db, name, &schema, (&meta.constraints, meta.oid), fk)?;
                    let (parent, parent_ds) = if resolved.ref_table == meta.oid {
                        (meta.clone(), Arc::new(dataset.clone()))
                    } else {
                        let (_, parent_name) = catalog.table_name(resolved.ref_table).ok_or_else(|| Error::Internal("referenced table".into()))?;
                        let parent = catalog.table(db, &parent_name)?.clone();
                        let ds = self.txn_dataset(txn, &parent).await?;
                        (parent, ds)
                    };
                    crate::foreign_keys::check_types(&resolved, &schema, &table_schema(&parent_ds))?;
                    // The rows there are must already satisfy it: checked against a key set built
                    // here, so that the shared ones never see this statement's unfinished state.
                    let index = crate::foreign_keys::key_set(&parent, &parent_ds, &resolved.ref_columns).await?;
                    let parent_types = crate::foreign_keys::types_of(&table_schema(&parent_ds), &resolved.ref_columns)?;
                    let names: Vec<&str> = resolved.columns.iter().map(String::as_str).collect();
                    let mut scanner = dataset.scan();
                    scanner.project(&names)?;
                    let mut stream = scanner.try_into_stream().await?;
                    let parent_name = catalog.table_name(parent.oid).map_or_else(|| name.name.clone(), |(_, n)| n.name);
                    while let Some(batch) = stream.try_next().await? {
                        crate::foreign_keys::check_present(&index, &resolved, &parent_types, &batch, &name.name, &parent_name)?;
                    }
                    meta.foreign_keys.push(resolved);
                }
                AlterOp::AddCheck(check) => {
                    if crate::checks::name_taken(&meta, &check.name) {
                        return Err(Error::DuplicateObject(format!("constraint \"{}\" for relation \"{}\" already exists", check.name, name.name)));
                    }
                    // Made against the table before this statement: a column it reads may be gone.
                    if let Some(c) = check.columns.iter().find(|c| !meta.columns.iter().any(|m| &m.name == *c)) {
                        return Err(missing(c));
                    }
                    meta.checks.push(check);
                }
                AlterOp::DropConstraint { name: constraint, if_exists, cascade } => {
                    // A key that FOREIGN KEYs reference: 2BP01, or with CASCADE they go too.
                    if let Some(key) = meta.constraints.iter().find(|c| c.name == constraint) {
                        // Other tables' foreign keys from the catalog; this table's own from `meta`,
                        // which this statement may already have changed.
                        let dependents: Vec<(QualifiedName, String)> = catalog
                            .referencing(db, oid)
                            .into_iter()
                            .filter(|(_, child, f)| child.oid != oid && f.ref_columns == key.columns)
                            .map(|(child, _, f)| (child, f.name.clone()))
                            .chain(meta.foreign_keys.iter().filter(|f| f.ref_table == oid && f.ref_columns == key.columns).map(|f| (name.clone(), f.name.clone())))
                            .collect();
                        if let Some((child, fk)) = dependents.first() {
                            if !cascade {
                                return Err(Error::DependentObjects {
                                    message: format!("cannot drop constraint {constraint} on table {} because other objects depend on it", name.name),
                                    detail: format!("constraint {fk} on table {} depends on index {constraint}", child.name),
                                });
                            }
                            let columns = key.columns.clone();
                            meta.foreign_keys.retain(|f| !(f.ref_table == oid && f.ref_columns == columns));
                            dropped_references.push(columns);
                        }
                    }
                    let before = meta.constraints.len() + meta.foreign_keys.len() + meta.checks.len();
                    meta.constraints.retain(|c| c.name != constraint);
                    meta.foreign_keys.retain(|f| f.name != constraint);
                    meta.checks.retain(|c| c.name != constraint);
                    if meta.constraints.len() + meta.foreign_keys.len() + meta.checks.len() == before && !if_exists {
                        return Err(Error::UnknownConstraint { table: name.name.clone(), name: constraint });
                    }
                }
            }
        }
        meta.version = dataset.version().version;
        txn.update(|c| {
            for t in c.databases.get_mut(db).into_iter().flat_map(|d| d.schemas.values_mut()).flat_map(|s| s.tables.values_mut()) {
                t.foreign_keys.retain(|f| !(f.ref_table == oid && dropped_references.contains(&f.ref_columns)));
            }
            // Other tables' foreign keys name this table's columns.
            if !renamed_columns.is_empty() {
                for t in c.databases.get_mut(db).into_iter().flat_map(|d| d.schemas.values_mut()).flat_map(|s| s.tables.values_mut()) {
                    for f in t.foreign_keys.iter_mut().filter(|f| f.ref_table == oid && t.oid != oid) {
                        for col in &mut f.ref_columns {
                            if let Some((_, to)) = renamed_columns.iter().find(|(from, _)| from == col) {
                                *col = to.clone();
                            }
                        }
                    }
                }
            }
            let schema = c.schema_mut(db, &name.schema)?;
            schema.tables.remove(&name.name);
            for seq in schema.sequences.values_mut() {
                if let Some((t, col)) = &mut seq.owned_by
                    && *t == name.name
                {
                    *t = new_name.clone();
                    if let Some((_, to)) = renamed_columns.iter().find(|(from, _)| from == col) {
                        *col = to.clone();
                    }
                }
            }
            schema.tables.insert(new_name.clone(), meta);
            Ok(())
        })?;
        txn.set_dataset(db, &QualifiedName::new(&name.schema, &new_name), Arc::new(dataset))?;
        self.forget_keys([oid]);
        Ok(())
    }

    // ---- DML ----

    /// Commits one statement's row changes as one Lance version of the transaction. Unique keys
    /// are checked first, so a violating statement changes nothing.
    pub async fn commit_rows(&self, txn: &mut Txn, db: &str, name: &QualifiedName, change: RowChange) -> Result<()> {
        self.commit_rows_checked(txn, db, name, change, true).await
    }

    /// [`Self::commit_rows`]; without `check_keys` the rows' own foreign keys are not checked,
    /// for a SET NULL action's rewrite, which changes no key but the one it nulls (PostgreSQL
    /// checks only keys a row changed).
    async fn commit_rows_checked(&self, txn: &mut Txn, db: &str, name: &QualifiedName, change: RowChange, check_keys: bool) -> Result<()> {
        if change.deleted_addrs.is_empty() && change.inserted.iter().all(|b| b.num_rows() == 0) {
            return Ok(());
        }
        let meta = txn.catalog().table(db, name)?.clone();
        let dataset = self.txn_dataset(txn, &meta).await?;
        txn.touch_keys(meta.oid);
        self.check_unique(&meta, &dataset, &change).await?;
        let recorded = async {
            let mut deferred = if check_keys { self.check_references(txn, db, &meta, &change).await? } else { Vec::new() };
            let mut removed = self.removed_keys(txn, db, &meta, &change)?;
            // Referential actions, once this change is recorded: ON DELETE CASCADE (a DELETE is
            // a change that inserts nothing) takes the referencing rows with it, ON UPDATE
            // CASCADE gives them the new key, SET NULL | DEFAULT clears it. A DELETE acts on the
            // keys no longer there; an UPDATE on every key a row changed, also one another row
            // took over (`SET id = id - 1`). None waits for COMMIT, even when DEFERRABLE.
            let deleting = change.inserted.iter().all(|b| b.num_rows() == 0);
            let acts = |fk: &ForeignKeyMeta| matches!(if deleting { fk.on_delete } else { fk.on_update }, 'c' | 'n' | 'd');
            let acting: Vec<(QualifiedName, ForeignKeyMeta, std::collections::HashSet<Box<[u8]>>, Option<NewKeys>)> = if deleting {
                removed.iter().filter(|(_, fk, _)| acts(fk)).map(|(child, fk, keys)| (child.clone(), fk.clone(), keys.clone(), None)).collect()
            } else if change.updated_from.is_some() {
                let mut out = Vec::new();
                for (child, _, fk) in txn.catalog().referencing(db, meta.oid).into_iter().filter(|(_, _, fk)| acts(fk)) {
                    let new = NewKeys::changed(&change, fk)?;
                    if !new.rows.is_empty() {
                        out.push((child, fk.clone(), new.rows.keys().cloned().collect(), Some(new)));
                    }
                }
                out
            } else {
                Vec::new()
            };
            let mut cascades = Vec::with_capacity(acting.len());
            for (child, fk, keys, new) in acting {
                let action = match if deleting { fk.on_delete } else { fk.on_update } {
                    'n' => Referencing::SetNull,
                    'd' => {
                        let child_oid = txn.catalog().table(db, &child)?.oid;
                        let values = txn.fk_defaults.get(&(child_oid, fk.name.clone())).cloned();
                        Referencing::SetDefault(values.ok_or_else(|| Error::Internal(format!("no default values for foreign key {}", fk.name)))?)
                    }
                    _ => match new {
                        Some(new) => Referencing::Update(new),
                        None => Referencing::Delete,
                    },
                };
                cascades.push((child, fk, keys, action));
            }
            removed.retain(|(_, fk, _)| !acts(fk));
            removed.retain(|(child, fk, keys)| {
                let Some(child) = txn.catalog().table(db, child).ok().map(|t| t.oid) else { return true };
                // RESTRICT is checked at once even when DEFERRABLE, as in PostgreSQL.
                if !txn.modes.is_deferred(fk) || fk.on_delete == 'r' || fk.on_update == 'r' {
                    return true;
                }
                deferred.push(crate::deferred::DeferredCheck { fk: fk.name.clone(), child, keys: keys.clone(), inserted: false });
                false
            });
            let committed = Arc::new(self.commit_change(&meta, dataset, change).await?);
            self.check_referenced(txn, db, name, &meta, &committed, &removed).await?;
            txn.set_dataset(db, name, committed.clone())?;
            txn.deferred.extend(deferred);
            for (child, fk, keys, action) in cascades {
                let parent_types = crate::foreign_keys::types_of(&table_schema(&committed), &fk.ref_columns)?;
                Box::pin(self.change_referencing(txn, db, &child, &fk, &keys, &parent_types, action)).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = recorded {
            // The key sets already include this change; rebuild them on the next write.
            self.forget_keys([meta.oid]);
            return Err(e);
        }
        Ok(())
    }

    pub(crate) fn cache_dataset(&self, oid: u32, ds: Arc<Dataset>) {
        let mut cache = self.datasets.lock().expect("dataset cache");
        match cache.get(&oid) {
            Some(cached) if cached.version().version >= ds.version().version => {}
            _ => {
                if let Some(old) = cache.insert(oid, ds) {
                    self.maintenance.retire(oid, &old);
                }
            }
        }
    }

    /// FOREIGN KEYs of the written table: every inserted row's key must be in the referenced
    /// table's key set (which includes this statement's change when it references itself). For
    /// a deferred key, the missing ones are returned for COMMIT to check.
    async fn check_references(&self, txn: &Txn, db: &str, meta: &TableMeta, change: &RowChange) -> Result<Vec<crate::deferred::DeferredCheck>> {
        let mut deferred = Vec::new();
        if meta.foreign_keys.is_empty() || change.inserted.iter().all(|b| b.num_rows() == 0) {
            return Ok(deferred);
        }
        let catalog = txn.catalog();
        for fk in &meta.foreign_keys {
            let (_, parent_name) = catalog.table_name(fk.ref_table).ok_or_else(|| Error::Internal(format!("foreign key {} names a missing table", fk.name)))?;
            let parent = catalog.table(db, &parent_name)?.clone();
            let parent_ds = self.txn_dataset(txn, &parent).await?;
            self.load_keys(&parent, &parent_ds).await?;
            let parent_types = crate::foreign_keys::types_of(&table_schema(&parent_ds), &fk.ref_columns)?;
            let keys = self.uniques.lock().expect("unique keys");
            let index = keys.get(&parent.oid).ok_or_else(|| Error::Internal("referenced keys not loaded".into()))?;
            let child_table = catalog.table_name(meta.oid).map_or_else(String::new, |(_, n)| n.name);
            let mut missing = std::collections::HashSet::new();
            for batch in &change.inserted {
                if !txn.modes.is_deferred(fk) {
                    crate::foreign_keys::check_present(index, fk, &parent_types, batch, &child_table, &parent_name.name)?;
                    continue;
                }
                let (arrays, lost) = crate::foreign_keys::as_types(crate::foreign_keys::key_columns(batch, &fk.columns)?, &parent_types)?;
                if lost.is_some() {
                    // A value the referenced type cannot hold will never be present.
                    crate::foreign_keys::check_present(index, fk, &parent_types, batch, &child_table, &parent_name.name)?;
                }
                missing.extend(crate::foreign_keys::encode(&arrays)?.into_iter().map(|(_, key)| key).filter(|key| !index.contains_encoded(&fk.ref_columns, key)));
            }
            if !missing.is_empty() {
                deferred.push(crate::deferred::DeferredCheck { fk: fk.name.clone(), child: meta.oid, keys: missing, inserted: true });
            }
        }
        Ok(deferred)
    }

    /// Keys of the written table that FOREIGN KEYs reference and that the change removes (in
    /// its deleted rows and no longer in the key set, which already includes the change).
    fn removed_keys(&self, txn: &Txn, db: &str, meta: &TableMeta, change: &RowChange) -> Result<Vec<(QualifiedName, ForeignKeyMeta, std::collections::HashSet<Box<[u8]>>)>> {
        if change.deleted_rows.iter().all(|b| b.num_rows() == 0) {
            return Ok(Vec::new());
        }
        let catalog = txn.catalog();
        let referencing = catalog.referencing(db, meta.oid);
        if referencing.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.uniques.lock().expect("unique keys");
        let index = keys.get(&meta.oid);
        let mut out = Vec::new();
        for (child, _, fk) in referencing {
            let mut removed = std::collections::HashSet::new();
            for batch in &change.deleted_rows {
                let arrays = crate::foreign_keys::key_columns(batch, &fk.ref_columns)?;
                for (row, key) in crate::foreign_keys::encode(&arrays)? {
                    let kept = match index {
                        Some(index) => index.contains(&fk.ref_columns, &arrays, row)?,
                        None => false,
                    };
                    if !kept {
                        removed.insert(key);
                    }
                }
            }
            if !removed.is_empty() {
                out.push((child, fk.clone(), removed));
            }
        }
        Ok(out)
    }

    /// Applies `action` to the rows of `child` whose key of `fk` is one of `keys`: deletes them
    /// (ON DELETE CASCADE), or writes them again with the key NULL (SET NULL; 23502 for a NOT
    /// NULL key column), the key's new value (ON UPDATE CASCADE) or the columns' defaults (SET
    /// DEFAULT; 23503 unless the referenced table has that key), as a change of its own: its own
    /// referencing tables, keys and checks follow.
    #[allow(clippy::too_many_arguments)]
    async fn change_referencing(
        &self,
        txn: &mut Txn,
        db: &str,
        child: &QualifiedName,
        fk: &ForeignKeyMeta,
        keys: &std::collections::HashSet<Box<[u8]>>,
        parent_types: &[arrow::datatypes::DataType],
        action: Referencing,
    ) -> Result<()> {
        let meta = txn.catalog().table(db, child)?.clone();
        let dataset = self.txn_dataset(txn, &meta).await?;
        let sql = Arc::new(table_schema(&dataset));
        let mut scanner = dataset.scan();
        scanner.with_row_address();
        let mut stream = scanner.try_into_stream().await?;
        let rewrites = !matches!(action, Referencing::Delete);
        let mut change = RowChange { updated_from: rewrites.then_some(0), ..Default::default() };
        while let Some(batch) = stream.try_next().await? {
            let (arrays, _) = crate::foreign_keys::as_types(crate::foreign_keys::key_columns(&batch, &fk.columns)?, parent_types)?;
            let (rows, matched): (Vec<u32>, Vec<Box<[u8]>>) = crate::foreign_keys::encode(&arrays)?.into_iter().filter(|(_, key)| keys.contains(key)).map(|(row, key)| (row as u32, key)).unzip();
            if rows.is_empty() {
                continue;
            }
            let rows = arrow::array::UInt32Array::from(rows);
            let addrs = arrow::compute::take(batch.column(batch.schema().index_of(crate::ROW_ADDR)?), &rows, None)?;
            change.deleted_addrs.extend(addrs.as_any().downcast_ref::<arrow::array::UInt64Array>().ok_or_else(|| Error::Internal("row addresses".into()))?.values().iter().copied());
            let without_addr = batch.project(&(0..batch.num_columns()).filter(|&i| batch.schema().field(i).name() != crate::ROW_ADDR).collect::<Vec<_>>())?;
            let taken = crate::encoding::to_sql(arrow::compute::take_record_batch(&without_addr, &rows)?, &sql)?;
            // The referencing columns' new values, by name.
            let replaced: Vec<(String, arrow::array::ArrayRef)> = match &action {
                Referencing::Delete => Vec::new(),
                Referencing::SetNull => fk.columns.iter().map(|c| Ok((c.clone(), arrow::array::new_null_array(taken.schema().field_with_name(c)?.data_type(), taken.num_rows())))).collect::<Result<_>>()?,
                Referencing::Update(new) => {
                    let at = arrow::array::UInt32Array::from(matched.iter().map(|key| new.rows.get(key).copied().ok_or_else(|| Error::Internal("a cascaded key has no new value".into()))).collect::<Result<Vec<u32>>>()?);
                    fk.columns.iter().zip(&new.values).map(|(c, values)| Ok((c.clone(), fitted(&arrow::compute::take(values, &at, None)?, &taken, c)?))).collect::<Result<_>>()?
                }
                Referencing::SetDefault(defaults) => {
                    let first = arrow::array::UInt32Array::from(vec![0u32; taken.num_rows()]);
                    fk.columns.iter().zip(defaults.columns()).map(|(c, value)| Ok((c.clone(), fitted(&arrow::compute::take(value, &first, None)?, &taken, c)?))).collect::<Result<_>>()?
                }
            };
            if let Some(column) = meta.columns.iter().find(|c| c.not_null && replaced.iter().any(|(name, values)| *name == c.name && values.null_count() > 0)) {
                return Err(Error::NotNullViolation { table: child.name.clone(), column: column.name.clone() });
            }
            if rewrites {
                let columns = taken
                    .schema()
                    .fields()
                    .iter()
                    .zip(taken.columns())
                    .map(|(f, c)| replaced.iter().find(|(name, _)| name == f.name()).map_or_else(|| c.clone(), |(_, v)| v.clone()))
                    .collect();
                change.inserted.push(RecordBatch::try_new(taken.schema(), columns)?);
            }
            change.deleted_rows.push(taken);
        }
        if change.deleted_addrs.is_empty() {
            return Ok(());
        }
        // A rewrite changes no key but the one it sets, which is valid by construction
        // (PostgreSQL checks only keys a row changed), except a default, which must exist.
        let check_keys = !rewrites || matches!(action, Referencing::SetDefault(_));
        Box::pin(self.commit_rows_checked(txn, db, child, change, check_keys)).await
    }

    /// Fails when a referencing table still uses a removed key (NO ACTION / RESTRICT).
    async fn check_referenced(&self, txn: &Txn, db: &str, name: &QualifiedName, meta: &TableMeta, written: &Arc<Dataset>, removed: &[(QualifiedName, ForeignKeyMeta, std::collections::HashSet<Box<[u8]>>)]) -> Result<()> {
        let catalog = txn.catalog();
        for (child, fk, keys) in removed {
            let child_meta = catalog.table(db, child)?.clone();
            // A table referencing itself is read as this statement leaves it.
            let dataset = if child_meta.oid == meta.oid { written.clone() } else { self.txn_dataset(txn, &child_meta).await? };
            let parent_types = crate::foreign_keys::types_of(&table_schema(written), &fk.ref_columns)?;
            crate::foreign_keys::check_still_referenced(&dataset, child, fk, &name.name, keys, &parent_types, false).await?;
        }
        Ok(())
    }

    /// Makes sure the table's key sets are loaded (built by one scan when they are not).
    pub(crate) async fn load_keys(&self, meta: &TableMeta, dataset: &Dataset) -> Result<()> {
        if meta.constraints.is_empty() || self.uniques.lock().expect("unique keys").contains_key(&meta.oid) {
            return Ok(());
        }
        let schema = table_schema(dataset);
        let mut index = UniqueIndex::new(&meta.constraints, &schema)?;
        let mut stream = dataset.scan().try_into_stream().await?;
        while let Some(batch) = stream.try_next().await? {
            index.load(&batch)?;
        }
        self.uniques.lock().expect("unique keys").insert(meta.oid, index);
        Ok(())
    }

    async fn check_unique(&self, meta: &TableMeta, dataset: &Dataset, change: &RowChange) -> Result<()> {
        if meta.constraints.is_empty() {
            return Ok(());
        }
        self.load_keys(meta, dataset).await?;
        let Some(mut index) = self.uniques.lock().expect("unique keys").remove(&meta.oid) else {
            return Err(Error::Internal("key sets not loaded".into()));
        };
        let result = index.apply(&change.deleted_rows, &change.inserted);
        self.uniques.lock().expect("unique keys").insert(meta.oid, index);
        result
    }

    async fn commit_change(&self, meta: &TableMeta, dataset: Arc<Dataset>, change: RowChange) -> Result<Dataset> {
        // Deletions: extend each touched fragment's deletion vector.
        let mut by_fragment: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for addr in change.deleted_addrs {
            by_fragment.entry(addr >> 32).or_default().push(addr as u32);
        }
        let mut removed_fragment_ids = Vec::new();
        let mut updated_fragments = Vec::new();
        for (id, offsets) in by_fragment {
            let fragment = dataset
                .get_fragment(id as usize)
                .ok_or_else(|| Error::Internal(format!("row address names unknown fragment {id}")))?;
            match fragment.extend_deletions(offsets).await? {
                None => removed_fragment_ids.push(id),
                Some(f) => updated_fragments.push(f.metadata().clone()),
            }
        }
        let stored = Schema::from(dataset.schema());
        let inserted: Vec<RecordBatch> =
            change.inserted.iter().filter(|b| b.num_rows() > 0).map(|b| crate::encoding::to_stored(b, &stored)).collect::<std::result::Result<_, _>>()?;
        let new_fragments = if inserted.is_empty() {
            Vec::new()
        } else {
            let txn = InsertBuilder::new(dataset.clone()).with_params(&write_params(WriteMode::Append)).execute_uncommitted(inserted).await?;
            match txn.operation {
                Operation::Append { fragments } => fragments,
                other => return Err(Error::Internal(format!("insert produced {other:?}"))),
            }
        };
        let op = if removed_fragment_ids.is_empty() && updated_fragments.is_empty() {
            Operation::Append { fragments: new_fragments }
        } else if new_fragments.is_empty() {
            Operation::Delete { updated_fragments, deleted_fragment_ids: removed_fragment_ids, predicate: "quartzdb".into() }
        } else {
            Operation::Update {
                removed_fragment_ids,
                updated_fragments,
                new_fragments,
                fields_modified: vec![],
                compacted_sstables: vec![],
                fields_for_preserving_frag_bitmap: vec![],
                update_mode: Some(UpdateMode::RewriteRows),
                inserted_rows_filter: None,
                updated_fragment_offsets: None,
            }
        };
        self.commit_operation(meta, dataset, op).await
    }

    /// Commits `op` on top of the published version. Versions left by a failed statement (a
    /// commit whose publication failed) are removed first so they can never be built upon.
    pub(crate) async fn commit_operation(&self, meta: &TableMeta, dataset: Arc<Dataset>, op: Operation) -> Result<Dataset> {
        self.prepare_commit(meta, &dataset).await?;
        let txn = Transaction::new(meta.version, op, None);
        let ds = CommitBuilder::new(dataset).with_store_params(store_params()).with_skip_auto_cleanup(true).execute(txn).await?;
        Ok(ds)
    }

    pub(crate) async fn prepare_commit(&self, meta: &TableMeta, dataset: &Dataset) -> Result<()> {
        if dataset.latest_version_id().await? != meta.version {
            remove_unpublished_versions(&self.table_path(meta), meta.version)?;
        }
        Ok(())
    }

    /// Every table opens at its published version: later (unpublished) manifests are removed,
    /// and dataset directories the catalog does not name (a crash during CREATE or DROP) too.
    fn recover(&self) -> Result<()> {
        let catalog = self.catalog();
        let mut known = std::collections::HashSet::new();
        for meta in catalog.table_dirs() {
            known.insert(meta.dir.clone());
            remove_unpublished_versions(&self.table_path(meta), meta.version)?;
        }
        let tables = self.root.join(TABLES_DIR);
        for entry in std::fs::read_dir(&tables).map_err(Error::io(&tables))? {
            let entry = entry.map_err(Error::io(&tables))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                tracing::info!(dir = %name, "removing a table directory the catalog does not name");
                std::fs::remove_dir_all(entry.path()).map_err(Error::io(entry.path()))?;
            }
        }
        Ok(())
    }
}

fn meta_owner(table: &str) -> impl Fn(&SequenceMeta) -> bool + '_ {
    move |s| s.owned_by.as_ref().map(|(t, _)| t == table).unwrap_or(false)
}

/// Deletes manifests of versions after `published` from a dataset directory.
fn remove_unpublished_versions(dir: &Path, published: u64) -> Result<()> {
    let versions = dir.join("_versions");
    let entries = match std::fs::read_dir(&versions) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&versions)(e)),
    };
    let mut removed = false;
    for entry in entries {
        let entry = entry.map_err(Error::io(&versions))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(scheme) = ManifestNamingScheme::detect_scheme(&file) else { continue };
        if let Some(v) = scheme.parse_version(&file)
            && v > published
        {
            tracing::info!(dir = %dir.display(), version = v, published, "removing an unpublished table version");
            std::fs::remove_file(entry.path()).map_err(Error::io(entry.path()))?;
            removed = true;
        }
    }
    if removed {
        durable::sync_dir(&versions).map_err(Error::io(&versions))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field};

    use super::*;

    fn batch(schema: &SchemaRef, ids: &[i64]) -> RecordBatch {
        RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(ids.to_vec()))]).unwrap()
    }

    /// A crash after Lance committed a version but before the catalog published it: the
    /// version is ignored at startup, and the next write builds on the published one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unpublished_versions_are_rolled_back_at_startup() {
        let dir = tempfile::tempdir().unwrap();
        let name = QualifiedName::new("public", "t");
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        let meta = {
            let storage = Storage::open(dir.path()).await.unwrap();
            let mut txn = storage.begin().await;
            let column = ColumnMeta { name: "id".into(), type_name: "bigint".into(), not_null: false, default: None, generated_always: false, comment: None };
            let table = NewTable { columns: vec![column], constraints: vec![], schema: schema.clone(), sequences: vec![], foreign_keys: vec![], checks: vec![] };
            storage.create_table(&mut txn, "quartz", &name, table, false).await.unwrap();
            storage.commit_rows(&mut txn, "quartz", &name, RowChange { inserted: vec![batch(&schema, &[1])], ..Default::default() }).await.unwrap();
            storage.commit(txn).await.unwrap();
            storage.idle().await;
            let meta = storage.catalog().table("quartz", &name).unwrap().clone();
            // Lance commits, QuartzDB "crashes" before publishing.
            let ds = storage.dataset(&meta).await.unwrap();
            InsertBuilder::new(ds).with_params(&write_params(WriteMode::Append)).execute(vec![batch(&schema, &[666])]).await.unwrap();
            meta
        };
        let storage = Storage::open(dir.path()).await.unwrap();
        let ds = storage.dataset(&meta).await.unwrap();
        assert_eq!(ds.latest_version_id().await.unwrap(), meta.version, "the unpublished manifest is gone");
        assert_eq!(ds.count_rows(None).await.unwrap(), 1);
        let mut txn = storage.begin().await;
        storage.commit_rows(&mut txn, "quartz", &name, RowChange { inserted: vec![batch(&schema, &[2])], ..Default::default() }).await.unwrap();
        storage.commit(txn).await.unwrap();
        let meta = storage.catalog().table("quartz", &name).unwrap().clone();
        let ds = storage.dataset(&meta).await.unwrap();
        assert_eq!(ds.count_rows(None).await.unwrap(), 2);
        assert_eq!(ds.count_rows(Some("id = 666".into())).await.unwrap(), 0, "the lost write never resurfaces");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn table_directories_are_opaque_and_orphans_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tables").join("orphan")).unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        assert!(!dir.path().join("tables").join("orphan").exists());
        let name = QualifiedName::new("public", "../../evil");
        let mut txn = storage.begin().await;
        let column = ColumnMeta { name: "id".into(), type_name: "bigint".into(), not_null: false, default: None, generated_always: false, comment: None };
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        let table = NewTable { columns: vec![column], constraints: vec![], schema, sequences: vec![], foreign_keys: vec![], checks: vec![] };
        storage.create_table(&mut txn, "quartz", &name, table, false).await.unwrap();
        storage.commit(txn).await.unwrap();
        let meta = storage.catalog().table("quartz", &name).unwrap().clone();
        assert!(meta.dir.chars().all(|c| c.is_ascii_hexdigit()), "{}", meta.dir);
        assert!(dir.path().join("tables").join(&meta.dir).is_dir());
    }
}

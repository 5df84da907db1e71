//! Foreign keys checked at COMMIT: a `DEFERRABLE INITIALLY DEFERRED` constraint (Django
//! declares every foreign key so, and its fixtures insert children before their parents), or
//! one a `SET CONSTRAINTS … DEFERRED` deferred. A statement that writes such a key records the
//! keys that may be dangling instead of failing: a child's key its parent does not have yet, a
//! parent's key it removed. At COMMIT (or `SET CONSTRAINTS … IMMEDIATE`) each recorded key still
//! missing from the parent fails the transaction if a child row still uses it, with the 23503
//! PostgreSQL reports; keys that became valid meanwhile (the parent was inserted, the child
//! deleted) pass. Only one transaction writes at a time, so the parent's key set and the child's
//! rows read at COMMIT are the final ones.

use std::collections::{HashMap, HashSet};

use crate::catalog::ForeignKeyMeta;
use crate::error::{Error, Result};
use crate::store::table_schema;
use crate::{Storage, Txn};

/// A transaction's `SET CONSTRAINTS` choices: for all constraints, then by name.
#[derive(Debug, Clone, Default)]
pub struct ConstraintModes {
    all: Option<bool>,
    named: HashMap<String, bool>,
}

impl ConstraintModes {
    /// `SET CONSTRAINTS ALL | names DEFERRED | IMMEDIATE` (`names` `None` for ALL).
    pub fn set(&mut self, names: Option<&[String]>, deferred: bool) {
        match names {
            None => {
                self.all = Some(deferred);
                self.named.clear();
            }
            Some(names) => self.named.extend(names.iter().map(|n| (n.clone(), deferred))),
        }
    }

    /// Whether `fk` is checked at COMMIT rather than at the end of each statement.
    pub fn is_deferred(&self, fk: &ForeignKeyMeta) -> bool {
        fk.deferrable && self.named.get(&fk.name).copied().or(self.all).unwrap_or(fk.initially_deferred)
    }
}

/// Keys a statement left for COMMIT to check, encoded in the referenced columns' types.
#[derive(Debug, Clone)]
pub(crate) struct DeferredCheck {
    pub fk: String,
    /// The referencing table.
    pub child: u32,
    pub keys: HashSet<Box<[u8]>>,
    /// Keys of inserted or updated referencing rows (else keys the referenced table lost), which
    /// decides the message, as PostgreSQL's differs.
    pub inserted: bool,
}

impl Storage {
    /// Runs the checks `txn` deferred, of the foreign keys `names` lists (all for `None`).
    pub async fn check_deferred(&self, txn: &mut Txn, names: Option<&[String]>) -> Result<()> {
        let (checks, kept): (Vec<DeferredCheck>, Vec<DeferredCheck>) = std::mem::take(&mut txn.deferred).into_iter().partition(|c| names.is_none_or(|n| n.contains(&c.fk)));
        txn.deferred = kept;
        for check in checks {
            let catalog = txn.catalog();
            // The table or the constraint may have been dropped since.
            let Some((db, child_name)) = catalog.table_name(check.child) else { continue };
            let child = catalog.table(&db, &child_name)?.clone();
            let Some(fk) = child.foreign_keys.iter().find(|f| f.name == check.fk) else { continue };
            let Some((_, parent_name)) = catalog.table_name(fk.ref_table) else { continue };
            let parent = catalog.table(&db, &parent_name)?.clone();
            let parent_ds = self.txn_dataset(txn, &parent).await?;
            txn.touch_keys(parent.oid);
            self.load_keys(&parent, &parent_ds).await?;
            let missing: HashSet<Box<[u8]>> = {
                let keys = self.uniques.lock().expect("unique keys");
                let index = keys.get(&parent.oid).ok_or_else(|| Error::Internal("referenced keys not loaded".into()))?;
                check.keys.into_iter().filter(|k| !index.contains_encoded(&fk.ref_columns, k)).collect()
            };
            if missing.is_empty() {
                continue;
            }
            let child_ds = self.txn_dataset(txn, &child).await?;
            let parent_types = crate::foreign_keys::types_of(&table_schema(&parent_ds), &fk.ref_columns)?;
            crate::foreign_keys::check_still_referenced(&child_ds, &child_name, fk, &parent_name.name, &missing, &parent_types, check.inserted).await?;
        }
        Ok(())
    }
}

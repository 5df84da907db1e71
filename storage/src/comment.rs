//! `COMMENT ON`: a comment lives on the object it describes, so renames carry it and drops
//! remove it with the object, as PostgreSQL's `pg_description` rows follow their objects.

use crate::catalog::{Catalog, QualifiedName};
use crate::error::{Error, Result};

/// The object a comment is attached to, named as the statement names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentTarget {
    Table(QualifiedName),
    View(QualifiedName),
    Sequence(QualifiedName),
    Index(QualifiedName),
    /// A column of a table.
    Column(QualifiedName, String),
    /// A column of a view, by number from 1 (the SQL layer resolves it by planning the view).
    ViewColumn(QualifiedName, i16),
    /// A table's constraint (PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK), by name.
    Constraint(QualifiedName, String),
    Schema(String),
    Database(String),
    Role(String),
}

impl Catalog {
    /// Sets (or with `None` or an empty text, removes) the comment on `target` in database `db`.
    /// A relation of another kind than named is 42809, as in PostgreSQL (`"v" is not a table`).
    pub fn set_comment(&mut self, db: &str, target: &CommentTarget, comment: Option<String>) -> Result<()> {
        let comment = comment.filter(|c| !c.is_empty());
        let wrong = |name: &str, expected: &'static str| Error::WrongObjectType { name: name.into(), expected };
        match target {
            CommentTarget::Table(name) | CommentTarget::View(name) | CommentTarget::Sequence(name) | CommentTarget::Index(name) => {
                let exists = self.relation_exists(db, name)?;
                let schema = self.schema_mut(db, &name.schema)?;
                let slot = match target {
                    CommentTarget::Table(_) => schema.tables.get_mut(&name.name).map(|t| &mut t.comment),
                    CommentTarget::View(_) => schema.views.get_mut(&name.name).map(|v| &mut v.comment),
                    CommentTarget::Sequence(_) => schema.sequences.get_mut(&name.name).map(|s| &mut s.comment),
                    _ => schema.tables.values_mut().find_map(|t| {
                        if let Some(i) = t.indexes.iter_mut().find(|i| i.name == name.name) {
                            return Some(&mut i.comment);
                        }
                        t.constraints.iter_mut().find(|c| c.name == name.name).map(|c| &mut c.index_comment)
                    }),
                };
                let expected = match target {
                    CommentTarget::Table(_) => "a table",
                    CommentTarget::View(_) => "a view",
                    CommentTarget::Sequence(_) => "a sequence",
                    _ => "an index",
                };
                match slot {
                    Some(slot) => *slot = comment,
                    None if exists => return Err(wrong(&name.name, expected)),
                    None => return Err(Error::UnknownTable(name.name.clone())),
                }
            }
            CommentTarget::Column(name, column) => {
                let schema = self.schema_mut(db, &name.schema)?;
                let missing = || Error::UnknownColumn { table: name.name.clone(), column: column.clone() };
                if let Some(t) = schema.tables.get_mut(&name.name) {
                    t.columns.iter_mut().find(|c| c.name == *column).ok_or_else(missing)?.comment = comment;
                } else if schema.sequences.contains_key(&name.name) || schema.views.contains_key(&name.name) {
                    return Err(missing());
                } else {
                    return Err(Error::UnknownTable(name.name.clone()));
                }
            }
            CommentTarget::Constraint(name, constraint) => {
                let table = self.schema_mut(db, &name.schema)?.tables.get_mut(&name.name).ok_or_else(|| Error::UnknownTable(name.name.clone()))?;
                let slot = if let Some(c) = table.constraints.iter_mut().find(|c| c.name == *constraint) {
                    &mut c.comment
                } else if let Some(f) = table.foreign_keys.iter_mut().find(|f| f.name == *constraint) {
                    &mut f.comment
                } else if let Some(c) = table.checks.iter_mut().find(|c| c.name == *constraint) {
                    &mut c.comment
                } else {
                    return Err(Error::NoConstraintFor { table: name.name.clone(), name: constraint.clone() });
                };
                *slot = comment;
            }
            CommentTarget::ViewColumn(name, number) => {
                let view = self.schema_mut(db, &name.schema)?.views.get_mut(&name.name).ok_or_else(|| Error::UnknownView(name.name.clone()))?;
                match comment {
                    Some(c) => view.column_comments.insert(*number, c),
                    None => view.column_comments.remove(number),
                };
            }
            CommentTarget::Schema(name) => self.schema_mut(db, name)?.comment = comment,
            CommentTarget::Database(name) => {
                self.databases.get_mut(name).ok_or_else(|| Error::UnknownDatabase(name.clone()))?.comment = comment;
            }
            CommentTarget::Role(name) => {
                let role = self.roles.get_mut(name).ok_or_else(|| Error::UnknownRole(name.clone()))?;
                role.comment = comment;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ColumnMeta, TableMeta, ViewMeta};

    fn catalog() -> Catalog {
        let mut c = Catalog::bootstrap();
        let column = ColumnMeta { name: "id".into(), type_name: "bigint".into(), not_null: false, default: None, generated_always: false, comment: None };
        let table = TableMeta { oid: 1, dir: "d".into(), columns: vec![column], constraints: vec![], version: 1, indexes: vec![], foreign_keys: vec![], checks: vec![], comment: None };
        let schema = c.schema_mut("quartz", "public").unwrap();
        schema.tables.insert("t".into(), table);
        schema.views.insert("v".into(), ViewMeta { oid: 2, query: "SELECT 1".into(), columns: vec![], column_types: vec![], comment: None, column_comments: Default::default() });
        c
    }

    #[test]
    fn comments_are_set_replaced_and_removed() {
        let mut c = catalog();
        let t = QualifiedName::new("public", "t");
        c.set_comment("quartz", &CommentTarget::Table(t.clone()), Some("rows".into())).unwrap();
        c.set_comment("quartz", &CommentTarget::Column(t.clone(), "id".into()), Some("key".into())).unwrap();
        assert_eq!(c.table("quartz", &t).unwrap().comment.as_deref(), Some("rows"));
        assert_eq!(c.table("quartz", &t).unwrap().columns[0].comment.as_deref(), Some("key"));
        // An empty comment removes it, as NULL does.
        c.set_comment("quartz", &CommentTarget::Table(t.clone()), Some(String::new())).unwrap();
        c.set_comment("quartz", &CommentTarget::Column(t.clone(), "id".into()), None).unwrap();
        assert_eq!(c.table("quartz", &t).unwrap().comment, None);
        assert_eq!(c.table("quartz", &t).unwrap().columns[0].comment, None);
        // The comment survives the catalog's round trip through JSON.
        c.set_comment("quartz", &CommentTarget::Schema("public".into()), Some("main".into())).unwrap();
        let back = Catalog::from_json(&c.to_json()).unwrap();
        assert_eq!(back.schema("quartz", "public").unwrap().comment.as_deref(), Some("main"));
    }

    #[test]
    fn the_wrong_kind_of_object_is_refused() {
        let mut c = catalog();
        let v = QualifiedName::new("public", "v");
        let err = c.set_comment("quartz", &CommentTarget::Table(v.clone()), Some("x".into())).unwrap_err();
        assert!(matches!(err, Error::WrongObjectType { expected: "a table", .. }), "{err}");
        let err = c.set_comment("quartz", &CommentTarget::Index(QualifiedName::new("public", "t")), Some("x".into())).unwrap_err();
        assert!(matches!(err, Error::WrongObjectType { expected: "an index", .. }), "{err}");
        let err = c.set_comment("quartz", &CommentTarget::Table(QualifiedName::new("public", "nope")), Some("x".into())).unwrap_err();
        assert!(matches!(err, Error::UnknownTable(_)), "{err}");
        let err = c.set_comment("quartz", &CommentTarget::Column(QualifiedName::new("public", "t"), "nope".into()), Some("x".into())).unwrap_err();
        assert!(matches!(err, Error::UnknownColumn { .. }), "{err}");
        c.set_comment("quartz", &CommentTarget::ViewColumn(v.clone(), 1), Some("view column".into())).unwrap();
        assert_eq!(c.schema("quartz", "public").unwrap().views["v"].column_comments[&1], "view column");
    }
}

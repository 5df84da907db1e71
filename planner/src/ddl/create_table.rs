//! `CREATE TABLE [IF NOT EXISTS]`: column types, NOT NULL, DEFAULT, PRIMARY KEY, UNIQUE,
//! FOREIGN KEY / REFERENCES, serial and identity columns (each backed by an owned sequence).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema};
use datafusion::sql::sqlparser::ast::{ColumnOption, CreateTable, Expr as SqlExpr, GeneratedAs, IndexColumn, TableConstraint};
use quartzdb_storage::{ColumnMeta, ConstraintKind, ConstraintMeta, NewTable, QualifiedName, SequenceMeta};

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;
use crate::types::column_type;

pub async fn execute(session: &mut Session, txn: &mut Txn, create: CreateTable) -> Result<Output> {
    if create.query.is_some() {
        return Err(Error::Unsupported("CREATE TABLE … AS".into()));
    }
    if create.temporary || create.external || create.like.is_some() || create.inherits.is_some() || create.partition_of.is_some() {
        return Err(Error::Unsupported("this form of CREATE TABLE".into()));
    }
    let qname = session.qualify(&create.name)?;
    let mut def = table_definition(&qname, &create)?;
    def.foreign_keys = foreign_keys(session, &qname.name, &create)?;
    def.checks = checks(session, &qname.name, &def, &create)?;
    for column in &def.columns {
        if let Some(default) = &column.default {
            validate_default(session, &column.name, default).await?;
        }
    }
    let storage = session.storage().clone();
    let created = storage.create_table(txn, session.database(), &qname, def, create.if_not_exists || create.or_replace).await?;
    if !created {
        tracing::info!(table = %qname, "relation already exists, skipping");
    }
    Ok(Output::Command(CommandTag::new("CREATE TABLE")))
}

/// Builds the catalog entry and Arrow schema for a table from its SQL definition.
pub(crate) fn table_definition(qname: &QualifiedName, create: &CreateTable) -> Result<NewTable> {
    let mut columns = Vec::new();
    let mut fields = Vec::new();
    let mut constraints: Vec<ConstraintMeta> = Vec::new();
    let mut sequences = Vec::new();
    let mut seen = HashSet::new();
    let table = &qname.name;

    for col in &create.columns {
        let name = names::ident(&col.name);
        check_column_name(&name)?;
        if !seen.insert(name.clone()) {
            return Err(Error::DuplicateColumn(name));
        }
        let ty = column_type(&col.data_type)?;
        crate::types::check_storable(&ty)?;
        let mut meta = ColumnMeta {
            name: name.clone(),
            type_name: ty.pg_name.clone(),
            not_null: false,
            default: None,
            generated_always: false,
            comment: None,
        };
        let mut identity = None;
        for opt in &col.options {
            match &opt.option {
                ColumnOption::Null => {}
                ColumnOption::NotNull => meta.not_null = true,
                ColumnOption::Default(expr) => meta.default = Some(expr.to_string()),
                ColumnOption::PrimaryKey(_) => {
                    let cname = opt.name.as_ref().map(names::ident).unwrap_or_else(|| format!("{table}_pkey"));
                    constraints.push(ConstraintMeta::new(cname, ConstraintKind::PrimaryKey, vec![name.clone()]));
                }
                ColumnOption::Unique(_) => {
                    let cname = opt.name.as_ref().map(names::ident).unwrap_or_else(|| format!("{table}_{name}_key"));
                    constraints.push(ConstraintMeta::new(cname, ConstraintKind::Unique, vec![name.clone()]));
                }
                ColumnOption::Generated { generated_as: GeneratedAs::Always, generation_expr: None, .. } => {
                    identity = Some(true)
                }
                ColumnOption::Generated { generated_as: GeneratedAs::ByDefault, generation_expr: None, .. } => {
                    identity = Some(false)
                }
                // Read by `foreign_keys` and `checks`.
                ColumnOption::ForeignKey(_) | ColumnOption::Check(_) => {}
                other => return Err(Error::Unsupported(format!("column option {other}"))),
            }
        }
        if ty.serial || identity.is_some() {
            if identity.is_some() && !is_integer(&ty.arrow) {
                return Err(Error::Unsupported(format!("identity column of type {}", ty.pg_name)));
            }
            let seq = format!("{table}_{name}_seq");
            meta.default = Some(format!("nextval('{}.{}')", names::quote_ident(&qname.schema), names::quote_ident(&seq)));
            meta.not_null = true;
            meta.generated_always = identity == Some(true);
            sequences.push((seq, SequenceMeta::new(0, Some((table.clone(), name.clone())))));
        }
        columns.push(meta);
        fields.push((name, ty.arrow, ty.pg_name));
    }

    for constraint in &create.constraints {
        let (kind, cname, cols) = match constraint {
            TableConstraint::PrimaryKey(pk) => (ConstraintKind::PrimaryKey, pk.name.as_ref().map(names::ident), &pk.columns),
            TableConstraint::Unique(u) => (ConstraintKind::Unique, u.name.as_ref().map(names::ident), &u.columns),
            TableConstraint::ForeignKey(_) | TableConstraint::Check(_) => continue,
            other => return Err(Error::Unsupported(format!("table constraint {other}"))),
        };
        let cols = index_columns(cols)?;
        for c in &cols {
            if !seen.contains(c) {
                return Err(Error::UnknownColumn { table: table.clone(), column: c.clone() });
            }
        }
        let cname = cname.unwrap_or_else(|| match kind {
            ConstraintKind::PrimaryKey => format!("{table}_pkey"),
            ConstraintKind::Unique => format!("{table}_{}_key", cols.join("_")),
        });
        constraints.push(ConstraintMeta::new(cname, kind, cols));
    }
    if constraints.iter().filter(|c| c.kind == ConstraintKind::PrimaryKey).count() > 1 {
        return Err(Error::MultiplePrimaryKeys(table.clone()));
    }
    // PRIMARY KEY implies NOT NULL.
    let pk_columns: HashSet<&String> =
        constraints.iter().filter(|c| c.kind == ConstraintKind::PrimaryKey).flat_map(|c| c.columns.iter()).collect();
    for c in &mut columns {
        if pk_columns.contains(&c.name) {
            c.not_null = true;
        }
    }
    // Stored nullable: NOT NULL is checked (with PostgreSQL's error) before rows reach Lance.
    let schema = Schema::new(
        fields
            .into_iter()
            .map(|(name, ty, pg_name)| Field::new(&name, ty, true).with_metadata(crate::types::field_metadata(&pg_name)))
            .collect::<Vec<_>>(),
    );
    Ok(NewTable { columns, constraints, schema: Arc::new(schema), sequences, foreign_keys: Vec::new(), checks: Vec::new() })
}

/// The table's FOREIGN KEYs, from its columns' `REFERENCES` and its `FOREIGN KEY` constraints.
fn foreign_keys(session: &Session, table: &str, create: &CreateTable) -> Result<Vec<quartzdb_storage::foreign_keys::NewForeignKey>> {
    let qualify = |n: &datafusion::sql::sqlparser::ast::ObjectName| session.qualify(n);
    let mut out = Vec::new();
    for col in &create.columns {
        for opt in &col.options {
            if let ColumnOption::ForeignKey(fk) = &opt.option {
                let mut fk = fk.clone();
                if fk.name.is_none() {
                    fk.name = opt.name.clone();
                }
                out.push(crate::ddl::foreign_key::declared(qualify, table, &fk, Some(&names::ident(&col.name)))?);
            }
        }
    }
    for constraint in &create.constraints {
        if let TableConstraint::ForeignKey(fk) = constraint {
            out.push(crate::ddl::foreign_key::declared(qualify, table, fk, None)?);
        }
    }
    // Names are unique per table: a generated one takes a number, as PostgreSQL's do
    // (`t_a_fkey1`); two given alike are 42710.
    for i in 1..out.len() {
        if out[..i].iter().any(|f| f.name == out[i].name) {
            let named = create.constraints.iter().any(|c| matches!(c, TableConstraint::ForeignKey(f) if f.name.as_ref().is_some_and(|n| names::ident(n) == out[i].name)));
            if named {
                return Err(Error::DuplicateObject(format!("constraint \"{}\" for relation \"{table}\" already exists", out[i].name)));
            }
            let base = out[i].name.clone();
            out[i].name = (1..).map(|n| format!("{base}{n}")).find(|c| !out.iter().any(|f| &f.name == c)).expect("a free name");
        }
    }
    Ok(out)
}

/// The table's CHECK constraints, from its columns' and its own, in the order written.
fn checks(session: &Session, table: &str, def: &NewTable, create: &CreateTable) -> Result<Vec<quartzdb_storage::checks::CheckMeta>> {
    let declared = create
        .columns
        .iter()
        .flat_map(|col| col.options.iter().filter_map(|opt| match &opt.option {
            ColumnOption::Check(c) => Some((c.name.as_ref().or(opt.name.as_ref()), &c.expr)),
            _ => None,
        }))
        .chain(create.constraints.iter().filter_map(|c| match c {
            TableConstraint::Check(c) => Some((c.name.as_ref(), &c.expr)),
            _ => None,
        }));
    let mut out: Vec<quartzdb_storage::checks::CheckMeta> = Vec::new();
    for (name, expr) in declared {
        let taken = |n: &str| out.iter().any(|c| c.name == n) || def.constraints.iter().any(|c| c.name == n) || def.foreign_keys.iter().any(|f| f.name == n);
        let check = crate::check_constraint::declared(session, table, def.schema.clone(), name, expr, &taken)?;
        if name.is_some() && out.iter().any(|c| c.name == check.name) {
            return Err(Error::DuplicateObject(format!("check constraint \"{}\" already exists", check.name)));
        }
        if name.is_some() && taken(&check.name) {
            return Err(Error::DuplicateObject(format!("constraint \"{}\" for relation \"{table}\" already exists", check.name)));
        }
        out.push(check);
    }
    Ok(out)
}

pub(crate) fn index_columns(cols: &[IndexColumn]) -> Result<Vec<String>> {
    cols.iter()
        .map(|ic| match &ic.column.expr {
            SqlExpr::Identifier(i) => Ok(names::ident(i)),
            other => Err(Error::Unsupported(format!("constraint on expression {other}"))),
        })
        .collect()
}

fn is_integer(t: &arrow::datatypes::DataType) -> bool {
    matches!(t, arrow::datatypes::DataType::Int16 | arrow::datatypes::DataType::Int32 | arrow::datatypes::DataType::Int64)
}

/// A default must be a valid expression without column references; it is planned (not run) now
/// so a mistake fails CREATE TABLE rather than every later INSERT.
pub(crate) async fn validate_default(session: &Session, column: &str, default: &str) -> Result<()> {
    let stmt = quartzdb_sql::parse(&format!("SELECT {default}"))?;
    let [stmt] = <[_; 1]>::try_from(stmt).map_err(|_| Error::Syntax(format!("invalid default for column \"{column}\"")))?;
    session.plan_query(stmt).await?;
    Ok(())
}

/// Lance reads `.` in a top-level column name as a path into a struct.
pub(crate) fn check_column_name(name: &str) -> Result<()> {
    if name.contains('.') {
        return Err(Error::Unsupported(format!("column names containing \".\" (\"{name}\")")));
    }
    Ok(())
}

//! `ALTER TABLE`: RENAME TO, RENAME COLUMN, ADD COLUMN, DROP COLUMN, ALTER COLUMN (SET / DROP
//! NOT NULL, SET / DROP DEFAULT, TYPE between forms stored alike), ADD CONSTRAINT PRIMARY KEY |
//! UNIQUE | FOREIGN KEY | CHECK, DROP CONSTRAINT, as migration tools (Alembic, Django) emit them.

use datafusion::sql::sqlparser::ast::{AlterColumnOperation, AlterTable, AlterTableOperation, Expr as SqlExpr, RenameTableNameKind, TableConstraint};
use quartzdb_storage::{ConstraintKind, ConstraintMeta};
use quartzdb_storage::AlterOp;

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn execute(session: &mut Session, txn: &mut Txn, alter: AlterTable) -> Result<Output> {
    let qname = session.qualify(&alter.name)?;
    let mut ops = Vec::new();
    for op in alter.operations {
        ops.push(match op {
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(n) | RenameTableNameKind::As(n)) = table_name;
                AlterOp::RenameTable(names::qualified(&n, session.database(), &qname.schema)?.name)
            }
            AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
                crate::ddl::create_table::check_column_name(&names::ident(&new_column_name))?;
                AlterOp::RenameColumn { from: names::ident(&old_column_name), to: names::ident(&new_column_name) }
            }
            AlterTableOperation::DropColumn { column_names, if_exists, .. } => {
                AlterOp::DropColumns { columns: column_names.iter().map(names::ident).collect(), if_exists }
            }
            AlterTableOperation::AddColumn { column_def, if_not_exists, .. } => {
                let has_default = column_def.options.iter().any(|o| {
                    !matches!(o.option, datafusion::sql::sqlparser::ast::ColumnOption::Null)
                });
                if has_default {
                    return Err(Error::Unsupported("ADD COLUMN with DEFAULT or constraints".into()));
                }
                let ty = crate::types::column_type(&column_def.data_type)?;
                crate::types::check_storable(&ty)?;
                crate::ddl::create_table::check_column_name(&names::ident(&column_def.name))?;
                if ty.serial {
                    return Err(Error::Unsupported("ADD COLUMN of a serial type".into()));
                }
                AlterOp::AddColumn {
                    column: quartzdb_storage::ColumnMeta {
                        name: names::ident(&column_def.name),
                        type_name: ty.pg_name,
                        not_null: false,
                        default: None,
                        generated_always: false,
                        comment: None,
                    },
                    arrow_type: ty.arrow,
                    if_not_exists,
                }
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let column = names::ident(&column_name);
                match op {
                    AlterColumnOperation::SetNotNull => AlterOp::SetNotNull(column),
                    AlterColumnOperation::DropNotNull => AlterOp::DropNotNull(column),
                    AlterColumnOperation::DropDefault => AlterOp::SetDefault { column, default: None },
                    AlterColumnOperation::SetDefault { value } => {
                        let default = value.to_string();
                        crate::ddl::create_table::validate_default(session, &column, &default).await?;
                        AlterOp::SetDefault { column, default: Some(default) }
                    }
                    AlterColumnOperation::SetDataType { data_type, using, .. } => {
                        // `USING col` or `USING col::type` (Django writes it for every type
                        // change) is the plain conversion; other expressions are not done yet.
                        if let Some(using) = &using {
                            let plain = match using {
                                SqlExpr::Identifier(i) => names::ident(i) == column,
                                SqlExpr::Cast { expr, data_type: to, .. } => matches!(expr.as_ref(), SqlExpr::Identifier(i) if names::ident(i) == column) && crate::types::column_type(to).ok().map(|t| t.pg_name) == crate::types::column_type(&data_type).ok().map(|t| t.pg_name),
                                _ => false,
                            };
                            if !plain {
                                return Err(Error::Unsupported(format!("ALTER COLUMN TYPE … USING {using}")));
                            }
                        }
                        let ty = crate::types::column_type(&data_type)?;
                        if ty.serial {
                            return Err(Error::Unsupported("ALTER COLUMN TYPE to a serial type".into()));
                        }
                        let max_chars = ty.pg_name.strip_prefix("character varying(").and_then(|n| n.trim_end_matches(')').parse().ok());
                        AlterOp::SetType { column, type_name: ty.pg_name, arrow_type: ty.arrow, max_chars }
                    }
                    other => return Err(Error::Unsupported(format!("ALTER COLUMN {other}"))),
                }
            }
            AlterTableOperation::AddConstraint { constraint, .. } => {
                let (kind, cname, cols) = match &constraint {
                    TableConstraint::PrimaryKey(pk) => (ConstraintKind::PrimaryKey, pk.name.as_ref().map(names::ident), &pk.columns),
                    TableConstraint::Unique(u) => (ConstraintKind::Unique, u.name.as_ref().map(names::ident), &u.columns),
                    TableConstraint::ForeignKey(fk) => {
                        let fk = crate::ddl::foreign_key::declared(|n| session.qualify(n), &qname.name, fk, None)?;
                        ops.push(AlterOp::AddForeignKey(fk));
                        continue;
                    }
                    TableConstraint::Check(c) => {
                        // Made and checked against the table as it is before this statement.
                        let meta = txn.catalog().table(session.database(), &qname)?.clone();
                        let dataset = session.storage().txn_dataset(txn, &meta).await?;
                        let schema = std::sync::Arc::new(quartzdb_storage::table_schema(&dataset));
                        let pending = |n: &str| ops.iter().any(|op| matches!(op, AlterOp::AddCheck(c) if c.name == n));
                        let taken = |n: &str| quartzdb_storage::checks::name_taken(&meta, n) || pending(n);
                        let check = crate::check_constraint::declared(session, &qname.name, schema, c.name.as_ref(), &c.expr, &taken)?;
                        crate::check_constraint::validate_existing(session, &qname, &check).await?;
                        ops.push(AlterOp::AddCheck(check));
                        continue;
                    }
                    other => return Err(Error::Unsupported(format!("ADD {other}"))),
                };
                let cols = crate::ddl::create_table::index_columns(cols)?;
                let cname = cname.unwrap_or_else(|| match kind {
                    ConstraintKind::PrimaryKey => format!("{}_pkey", qname.name),
                    ConstraintKind::Unique => format!("{}_{}_key", qname.name, cols.join("_")),
                });
                AlterOp::AddConstraint(ConstraintMeta::new(cname, kind, cols))
            }
            AlterTableOperation::DropConstraint { if_exists, name, drop_behavior } => AlterOp::DropConstraint {
                name: names::ident(&name),
                if_exists,
                cascade: matches!(drop_behavior, Some(datafusion::sql::sqlparser::ast::DropBehavior::Cascade)),
            },
            other => return Err(Error::Unsupported(format!("ALTER TABLE {other}"))),
        });
    }
    let storage = session.storage().clone();
    storage.alter_table(txn, session.database(), &qname, ops, alter.if_exists).await?;
    Ok(Output::Command(CommandTag::new("ALTER TABLE")))
}

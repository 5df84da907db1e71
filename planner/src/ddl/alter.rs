//! `ALTER TABLE`: RENAME TO, RENAME COLUMN, ADD COLUMN, DROP COLUMN.

use datafusion::sql::sqlparser::ast::{AlterTable, AlterTableOperation, RenameTableNameKind};
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
            other => return Err(Error::Unsupported(format!("ALTER TABLE {other}"))),
        });
    }
    let storage = session.storage().clone();
    storage.alter_table(txn, session.database(), &qname, ops, alter.if_exists).await?;
    Ok(Output::Command(CommandTag::new("ALTER TABLE")))
}

//! `pg_get_keywords()`: PostgreSQL 15's SQL keywords and their categories, which JDBC's
//! `DatabaseMetaData.getSQLKeywords()` reads (DBeaver asks on connect to highlight and quote
//! names). The list is PostgreSQL's (`keywords.txt`): QuartzDB accepts PostgreSQL's SQL, so the
//! words a client must quote are the same.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result;

/// Each keyword with its category code and whether it can be a bare column label.
fn keywords() -> &'static [(&'static str, &'static str, bool)] {
    static KEYWORDS: std::sync::OnceLock<Vec<(&str, &str, bool)>> = std::sync::OnceLock::new();
    KEYWORDS.get_or_init(|| {
        include_str!("keywords.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.split(' ');
                Some((f.next()?, f.next()?, f.next()? == "t"))
            })
            .collect()
    })
}

/// Whether `word` is a keyword an identifier must be quoted to be (any but the unreserved
/// ones), as PostgreSQL's `quote_ident` decides.
pub fn needs_quotes(word: &str) -> bool {
    keywords().binary_search_by(|k| k.0.cmp(word)).is_ok_and(|i| keywords()[i].1 != "U")
}

#[derive(Debug, Default)]
pub struct Keywords;

impl TableFunctionImpl for Keywords {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return Err(crate::Error::UndefinedFunction("function pg_get_keywords() takes no arguments".into()).into());
        }
        let rows = keywords();
        let category = |code: &str| match code {
            "U" => "unreserved",
            "C" => "unreserved (cannot be function or type name)",
            "T" => "reserved (can be function or type name)",
            _ => "reserved",
        };
        let char_field = |name: &str| Field::new(name, DataType::Utf8, true).with_metadata(crate::types::field_metadata("\"char\""));
        let schema = Arc::new(Schema::new(vec![
            Field::new("word", DataType::Utf8, true),
            char_field("catcode"),
            Field::new("barelabel", DataType::Boolean, true),
            Field::new("catdesc", DataType::Utf8, true),
            Field::new("baredesc", DataType::Utf8, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| Some(r.1)).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| Some(r.2)).collect::<BooleanArray>()),
            Arc::new(rows.iter().map(|r| Some(category(r.1))).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| Some(if r.2 { "can be bare label" } else { "requires AS" })).collect::<StringArray>()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_column_name_keywords_need_quotes() {
        assert!(keywords().windows(2).all(|w| w[0].0 < w[1].0), "keywords.txt is sorted");
        for word in ["time", "user", "select", "int", "between"] {
            assert!(needs_quotes(word), "{word}");
        }
        for word in ["name", "items", "action", "abort"] {
            assert!(!needs_quotes(word), "{word}");
        }
    }
}

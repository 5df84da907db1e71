//! pgvector's SQL surface: the `vector` type, its operators, functions, casts and aggregates.
//!
//! `vector(n)` is stored as Arrow's `FixedSizeList<Float32>(n)` (what Lance indexes); `vector`
//! without a dimension, and values whose dimension is only known at run time, as
//! `LargeList<Float32>`; `halfvec` the same with `Float16`. Both are told apart from `real[]` (`List<Float32>`) by type alone:
//! DataFusion does not carry field metadata through casts, so a marker there would be lost.
//!
//! - [`text`]: text input/output with pgvector's rules and errors ([`error`]).
//! - [`functions`], [`operators`]: distance and element-wise functions; operators planned as calls.
//! - [`cast`]: casts to and from vectors (an analyzer rule, since Arrow has no such casts).
//! - [`aggregate`]: `avg` and `sum` over vectors.
//! - [`distance`]: the kernels; [`array`]: zero-copy row access and builders.
//! - [`ann_rule`]: `ORDER BY distance LIMIT k` → a vector index scan.

pub mod aggregate;
pub mod ann_rule;
pub mod array;
pub mod binary;
pub mod bit;
pub mod cast;
pub mod distance;
pub mod error;
pub mod functions;
pub mod operators;
pub mod sparse;
pub mod sparse_functions;
pub mod text;
pub mod top_k;

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::execution::SessionStateBuilder;

pub use error::VectorError;

/// The SQL names of the types.
pub const VECTOR: &str = "vector";
pub const HALFVEC: &str = "halfvec";
/// pgvector's `VECTOR_MAX_DIM` (and `HALFVEC_MAX_DIM`).
pub const VECTOR_MAX_DIM: usize = 16000;
/// The version `pg_extension` reports: the pgvector release whose behaviour QuartzDB follows.
pub const EXTENSION_VERSION: &str = "0.8.7";

/// Type OIDs. pgvector's are assigned at CREATE EXTENSION (so clients look them up by name);
/// QuartzDB's are fixed, above PostgreSQL's built-in range.
pub const VECTOR_OID: u32 = 16385;
pub const VECTOR_ARRAY_OID: u32 = 16386;
pub const HALFVEC_OID: u32 = 16387;
pub const HALFVEC_ARRAY_OID: u32 = 16388;
pub const SPARSEVEC_OID: u32 = 16389;
pub const SPARSEVEC_ARRAY_OID: u32 = 16390;

/// The dense vector types: `vector` (float32 elements) and `halfvec` (float16). Values of both
/// are computed on as float32, as pgvector does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Vector,
    Halfvec,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Vector => VECTOR,
            Kind::Halfvec => HALFVEC,
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        match name {
            VECTOR => Some(Kind::Vector),
            HALFVEC => Some(Kind::Halfvec),
            _ => None,
        }
    }

    pub fn oid(self) -> u32 {
        match self {
            Kind::Vector => VECTOR_OID,
            Kind::Halfvec => HALFVEC_OID,
        }
    }

    pub fn from_oid(oid: u32) -> Option<Kind> {
        [Kind::Vector, Kind::Halfvec].into_iter().find(|k| k.oid() == oid)
    }

    fn element(self) -> DataType {
        match self {
            Kind::Vector => DataType::Float32,
            Kind::Halfvec => DataType::Float16,
        }
    }

    /// The element field of this kind's lists.
    pub fn item(self) -> FieldRef {
        Arc::new(Field::new("item", self.element(), true))
    }

    /// The Arrow type of `vector(dims)`, or of `vector` when `dims` is `None`.
    pub fn data_type(self, dims: Option<usize>) -> DataType {
        match dims {
            Some(n) => DataType::FixedSizeList(self.item(), n as i32),
            None => DataType::LargeList(self.item()),
        }
    }

    /// The kind of a vector type: fixed-size or large lists of float32 / float16.
    pub fn of(t: &DataType) -> Option<Kind> {
        let (DataType::FixedSizeList(f, _) | DataType::LargeList(f)) = t else { return None };
        match f.data_type() {
            DataType::Float32 => Some(Kind::Vector),
            DataType::Float16 => Some(Kind::Halfvec),
            _ => None,
        }
    }
}

/// The element field of `vector` lists.
pub fn vector_item() -> FieldRef {
    Kind::Vector.item()
}

/// The Arrow type of `vector(dims)`, or of `vector` when `dims` is `None`.
pub fn vector_type(dims: Option<usize>) -> DataType {
    Kind::Vector.data_type(dims)
}

/// A nullable field of a vector type.
pub fn vector_field(name: &str, t: DataType) -> Field {
    Field::new(name, t, true)
}

/// Whether a type is `vector`, `vector(n)`, `halfvec` or `halfvec(n)`.
pub fn is_vector_type(t: &DataType) -> bool {
    Kind::of(t).is_some()
}

/// The fixed dimension of a vector type, if it has one.
pub fn fixed_dims(t: &DataType) -> Option<usize> {
    match t {
        DataType::FixedSizeList(_, n) => Some(*n as usize),
        _ => None,
    }
}

/// Whether a field holds vectors.
pub fn is_vector_field(f: &Field) -> bool {
    is_vector_type(f.data_type())
}

/// Argument types a vector function accepts: vectors, `real[]`, and text it parses.
pub fn is_vector_like(t: &DataType) -> bool {
    match t {
        DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f) => {
            matches!(f.data_type(), DataType::Float32 | DataType::Float16)
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        _ => false,
    }
}

/// A PostgreSQL-style name of an Arrow type, for "function … does not exist" messages.
pub fn sql_type_name(t: &DataType) -> String {
    match t {
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(..) | DataType::Decimal256(..) => "numeric".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Null => "unknown".into(),
        t if is_vector_type(t) => Kind::of(t).expect("vector type").name().into(),
        DataType::List(f) | DataType::LargeList(f) => format!("{}[]", sql_type_name(f.data_type())),
        other => other.to_string(),
    }
}

/// Adds the vector operators, functions and aggregates to a session being built (the cast
/// rule, [`cast::VectorCasts`], is placed among the analyzer rules by the session).
pub fn register(mut builder: SessionStateBuilder) -> SessionStateBuilder {
    let mut scalars = functions::all();
    scalars.extend(bit::all());
    scalars.extend(sparse_functions::all());
    builder
        .expr_planners()
        .get_or_insert_with(Vec::new)
        .insert(0, Arc::new(operators::VectorOperators::new(&scalars)));
    let udfs = builder.scalar_functions().get_or_insert_with(Vec::new);
    udfs.extend(scalars.into_iter().map(Arc::new));
    udfs.push(Arc::new(cast::VectorCast::udf()));
    udfs.push(Arc::new(cast::VectorText::udf()));
    let udafs = builder.aggregate_functions().get_or_insert_with(Vec::new);
    // Replaces the built-in `avg` and `sum` (same names) with their vector-aware wrappers.
    let wrapped = aggregate::all();
    udafs.retain(|f| !wrapped.iter().any(|w| w.name() == f.name()));
    udafs.extend(wrapped.into_iter().map(Arc::new));
    builder
}

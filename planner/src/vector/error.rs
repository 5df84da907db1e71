//! pgvector's errors, with its messages; the wire layer maps each to pgvector's SQLSTATE.

/// An error in a vector value or operation. `ty` is the SQL type name (`vector`, `halfvec`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VectorError {
    /// 22P02
    #[error("invalid input syntax for type {ty}: \"{text}\"")]
    InvalidInput { ty: &'static str, text: String },
    /// 22003
    #[error("\"{text}\" is out of range for type {ty}")]
    OutOfRange { ty: &'static str, text: String },
    /// 22000
    #[error("{ty} must have at least 1 dimension")]
    Empty { ty: &'static str },
    /// 54000
    #[error("{ty} cannot have more than {max} dimensions")]
    TooManyDims { ty: &'static str, max: usize },
    /// 22000
    #[error("NaN not allowed in {ty}")]
    NaN { ty: &'static str },
    /// 22000
    #[error("infinite value not allowed in {ty}")]
    Infinite { ty: &'static str },
    /// 22000
    #[error("different {ty} dimensions {a} and {b}")]
    DifferentDims { ty: &'static str, a: usize, b: usize },
    /// 22000
    #[error("expected {expected} dimensions, not {actual}")]
    ExpectedDims { expected: usize, actual: usize },
    /// 22023
    #[error("dimensions for type {ty} must be at least 1")]
    TypmodTooSmall { ty: &'static str },
    /// 22023
    #[error("dimensions for type {ty} cannot exceed {max}")]
    TypmodTooLarge { ty: &'static str, max: usize },
    /// 22003
    #[error("value out of range: overflow")]
    Overflow,
    /// 22003
    #[error("value out of range: underflow")]
    Underflow,
    /// 22004
    #[error("array must not contain nulls")]
    ArrayNulls,
    /// 22000
    #[error("array must be 1-D")]
    ArrayNot1D,
    /// 22P02
    #[error("\"{digit}\" is not a valid {kind} digit")]
    InvalidDigit { digit: String, kind: &'static str },
    /// 22000
    #[error("different bit lengths {a} and {b}")]
    DifferentBitLengths { a: usize, b: usize },
    /// 22000
    #[error("sparsevec indices must not contain duplicates")]
    SparseDuplicate,
    /// 22000
    #[error("sparsevec index out of bounds")]
    SparseOutOfBounds,
    /// 54000
    #[error("sparsevec cannot have more than {max} non-zero elements")]
    TooManyNonZero { max: usize },
    /// 22026
    #[error("bit string length {len} does not match type bit({expected})")]
    BitLengthMismatch { len: usize, expected: usize },
    /// 22001
    #[error("bit string too long for type bit varying({expected})")]
    BitTooLong { expected: usize },
}

impl From<VectorError> for datafusion::error::DataFusionError {
    fn from(e: VectorError) -> Self {
        datafusion::error::DataFusionError::External(Box::new(crate::Error::Vector(e)))
    }
}

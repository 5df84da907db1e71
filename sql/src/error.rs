//! Errors from parsing SQL text.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not valid SQL (SQLSTATE 42601).
    #[error("{0}")]
    Syntax(String),

    /// A call no signature takes (42883).
    #[error("{0}")]
    UndefinedFunction(String),

    /// An argument of the right type but an unusable value (22023).
    #[error("{0}")]
    InvalidArgument(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

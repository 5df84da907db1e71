//! Errors from parsing SQL text.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not valid SQL (SQLSTATE 42601).
    #[error("{0}")]
    Syntax(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! What went wrong on a libpq connection.

/// An error of one exchange or of connecting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// PostgreSQL answered with an error (the transaction, if any, is aborted).
    #[error("SQLSTATE {state}: {message}")]
    Server { state: String, message: String },
    /// The connection is lost or could not be made; it is not used again.
    #[error("{0}")]
    Connection(String),
    /// The connection string could not be read.
    #[error("{0}")]
    Url(String),
    /// A parameter's value could not be encoded as the statement's parameter type.
    #[error("parameter {index}: {source}")]
    Encode {
        index: usize,
        source: Box<dyn std::error::Error + Sync + Send>,
    },
    /// The statement takes a different number of parameters.
    #[error("the statement takes {expected} parameters, {given} given")]
    ParameterCount { expected: usize, given: usize },
    /// A column's value could not be decoded as the type asked for.
    #[error("column {index}: {source}")]
    Decode {
        index: usize,
        source: Box<dyn std::error::Error + Sync + Send>,
    },
    /// The query returned no row where one was required, or more than one.
    #[error("the query returned {0} rows where one was expected")]
    RowCount(usize),
    /// libpq answered in a way this module does not expect (a bug here, not in the server).
    #[error("unexpected libpq state: {0}")]
    Protocol(String),
}

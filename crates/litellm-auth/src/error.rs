//! The crate's error type. Messages never carry credentials: database errors pass through
//! [`crate::store::Store`]'s redaction before they become an [`AuthError`].

/// An auth or storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The database URL names a scheme we do not support (only the scheme is kept).
    #[error("unsupported database URL scheme `{scheme}`: use sqlite://... or postgres://...")]
    UnsupportedDatabase {
        /// The URL's scheme, e.g. `mysql`.
        scheme: String,
    },
    /// The database refused a connection or a statement.
    #[error("database error: {0}")]
    Database(String),
    /// Applying the embedded migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A row with the same primary key or unique value (e.g. a key alias) already exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A stored value could not be decoded (e.g. a malformed timestamp).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

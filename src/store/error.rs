//! What a store call can fail with, in terms the API turns into answers: a clash with
//! existing data (409), a database that cannot be reached or is busy (503), a stored value
//! that does not parse (500, naming its table and column), or anything else (500).
//!
//! A driver's error is kept whole, as the source of [`StoreError::Database`], so that a log
//! line shows its chain (the driver's message, the I/O error under it, ...) and not only a
//! flattened string; its [`DbKind`] says which of the answers above it leads to.

use std::error::Error;
use std::sync::Arc;

use super::cells::Corrupt;

/// What a driver's error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// A unique constraint held: the data exists.
    Conflict,
    /// The database cannot be reached, or is busy.
    Unavailable,
    /// Anything else.
    Other,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Internal(String),
    /// A stored value that does not parse as what its column holds.
    #[error("store failure: {0}")]
    Corrupt(#[from] Corrupt),
    /// The database driver's own error.
    #[error("database error: {source}")]
    Database {
        kind: DbKind,
        #[source]
        source: Arc<dyn Error + Send + Sync>,
    },
}

impl StoreError {
    fn database(kind: DbKind, source: impl Error + Send + Sync + 'static) -> Self {
        StoreError::Database {
            kind,
            source: Arc::new(source),
        }
    }

    /// Whether the error is a clash with existing data.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict(_)
                | StoreError::Database {
                    kind: DbKind::Conflict,
                    ..
                }
        )
    }

    /// Whether the same write may go through when tried again later: the database was
    /// away, busy, full or read-only, rather than refusing the data itself (a clash, a
    /// value that does not parse).
    pub fn may_pass_later(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database { kind, .. } => *kind != DbKind::Conflict,
            _ => false,
        }
    }

    /// Replaces a driver's constraint error by one that names what clashed.
    pub fn conflict_as(self, message: impl FnOnce() -> String) -> Self {
        match self.is_conflict() {
            true => StoreError::Conflict(message()),
            false => self,
        }
    }

    /// The message with every source under it, for logs and for the 500's log line (the
    /// message already holds the driver's own).
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut next = self.source().and_then(|s| s.source());
        while let Some(e) = next {
            out.push_str(": ");
            out.push_str(&e.to_string());
            next = e.source();
        }
        out
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let kind = match &e {
            rusqlite::Error::FromSqlConversionFailure(_, _, source) => {
                if let Some(corrupt) = source.downcast_ref::<Corrupt>() {
                    return StoreError::Corrupt(corrupt.clone());
                }
                DbKind::Other
            }
            rusqlite::Error::SqliteFailure(code, _)
                if code.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                DbKind::Conflict
            }
            rusqlite::Error::SqliteFailure(code, _)
                if matches!(
                    code.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                DbKind::Unavailable
            }
            _ => DbKind::Other,
        };
        StoreError::database(kind, e)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let kind = match &e {
            sqlx::Error::ColumnDecode { source, .. } => {
                if let Some(corrupt) = source.downcast_ref::<Corrupt>() {
                    return StoreError::Corrupt(corrupt.clone());
                }
                DbKind::Other
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => DbKind::Conflict,
            // SQLSTATE classes 08 (connection exception) and 57 (operator intervention: the
            // server shutting down or restarting) mean the database is away, not wrong.
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57")) =>
            {
                DbKind::Unavailable
            }
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_) => DbKind::Unavailable,
            _ => DbKind::Other,
        };
        StoreError::database(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_driver_error_keeps_its_chain_and_its_kind() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let e = StoreError::from(sqlx::Error::Io(io));
        assert!(matches!(
            e,
            StoreError::Database {
                kind: DbKind::Unavailable,
                ..
            }
        ));
        assert!(e.chain().contains("reset by peer"), "{}", e.chain());
        assert!(e.source().is_some());
    }
}

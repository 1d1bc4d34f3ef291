//! What a store call can fail with, in terms the API turns into answers: a clash with
//! existing data (409), a database that cannot be reached or is busy (503), a stored value
//! that does not parse (500, naming its table and column), or anything else (500). Each
//! driver's errors map onto these.

use super::rows::Corrupt;

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
}

impl StoreError {
    /// Replaces a driver's constraint message by one that names what clashed.
    pub fn conflict_as(self, message: impl FnOnce() -> String) -> Self {
        match self {
            StoreError::Conflict(_) => StoreError::Conflict(message()),
            other => other,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::FromSqlConversionFailure(_, _, source) => {
                match source.downcast_ref::<Corrupt>() {
                    Some(corrupt) => StoreError::Corrupt(corrupt.clone()),
                    None => StoreError::Internal(e.to_string()),
                }
            }
            rusqlite::Error::SqliteFailure(code, _)
                if code.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict(e.to_string())
            }
            rusqlite::Error::SqliteFailure(code, _)
                if matches!(
                    code.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::ColumnDecode { source, .. } => match source.downcast_ref::<Corrupt>() {
                Some(corrupt) => StoreError::Corrupt(corrupt.clone()),
                None => StoreError::Internal(e.to_string()),
            },
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(e.to_string())
            }
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

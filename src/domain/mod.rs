//! The vocabulary of Herald, free of I/O.
//!
//! Values here can only be built by parsing (`EndpointUrl::parse`, `EventTypeName::parse`, ...),
//! so code past the API edge never re-checks them, and the store and dispatcher can trust what
//! they hold.

pub mod app;
pub mod delivery;
pub mod ed25519;
pub mod endpoint;
pub mod event;
pub mod health;
pub mod ids;
pub mod job;
pub mod json;
pub mod retry;
pub mod secret;
pub mod ssrf;
pub mod verification;

pub use app::{App, Ingest, LivekitIngest, Preset};
pub use delivery::{Attempt, Delivery, DeliveryStatus, ErrorKind, Trigger};
pub use endpoint::{Endpoint, EndpointUrl, FormatKind, LabelFilter};
pub use event::{Event, EventData, EventTypeName, IdempotencyKey, Labels};
pub use health::{Attempted, BreakerPolicy, BreakerState, Gate, Health};
pub use ids::{AppId, AttemptId, DeliveryId, EndpointId, EventId, IdError, KeyId, PrefixedId};
pub use job::{fan_out, Job, OrderingKey};
pub use retry::RetrySchedule;
pub use secret::{EndpointSecret, Signing};

/// A field-level validation failure: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

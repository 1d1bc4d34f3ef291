//! Typed, prefixed, time-sortable identifiers.
//!
//! Every resource id carries its kind in a prefix (`app_`, `ep_`, `dlv_`, ...) so that an id
//! pasted into the wrong place is caught at the edge instead of matching nothing, and a ULID
//! behind the prefix so ids sort by creation time and serve directly as pagination cursors.

use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::{Generator, Ulid};

/// Why a string is not an id of the expected kind.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{value}' is not a valid {kind} id (expected '{prefix}_' followed by a ULID)")]
pub struct IdError {
    pub kind: &'static str,
    pub prefix: &'static str,
    pub value: String,
}

/// A process-wide monotonic generator: ids minted in the same millisecond still sort in the
/// order they were made, which is what keeps publish order visible in event and delivery ids.
fn next_ulid() -> Ulid {
    static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);
    let mut guard = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let generator = guard.get_or_insert_with(Generator::new);
    // The monotonic generator only fails when 2^80 ids are made in one millisecond.
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

/// What every kind of id can do, for code that takes ids of any one kind (cursors, paths).
pub trait PrefixedId: Sized {
    /// The kind's name in messages, e.g. `delivery`.
    const KIND: &'static str;
    fn parse_id(value: &str) -> Result<Self, IdError>;
    fn as_id_str(&self) -> &str;
}

macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, utoipa::ToSchema)]
        #[schema(value_type = String, example = json!(concat!($prefix, "_01JDX5Y8Z9A0B1C2D3E4F5G6H7")))]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Mints a fresh id.
            #[expect(clippy::new_without_default, reason = "an id is minted, never defaulted")]
            pub fn new() -> Self {
                Self(format!("{}_{}", $prefix, next_ulid()))
            }

            /// Parses an id of this kind, rejecting other prefixes and malformed ULIDs.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                let err = || IdError { kind: $kind, prefix: $prefix, value: value.chars().take(80).collect() };
                let rest = value.strip_prefix(concat!($prefix, "_")).ok_or_else(err)?;
                let ulid = Ulid::from_string(rest).map_err(|_| err())?;
                Ok(Self(format!("{}_{}", $prefix, ulid)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The smallest id minted at `at`: every id minted before it sorts below this
            /// one, every id minted from it on sorts at or above.
            pub fn floor(at: chrono::DateTime<chrono::Utc>) -> Self {
                let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
                Self(format!("{}_{}", $prefix, Ulid::from_parts(ms, 0)))
            }

            /// Rebuilds an id read back from the store, where it was written by `new`.
            pub fn from_trusted(value: String) -> Self {
                Self(value)
            }
        }

        impl PrefixedId for $name {
            const KIND: &'static str = $kind;
            fn parse_id(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
            fn as_id_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(
    /// An app: one tenant, one customer of the platform.
    AppId, "app", "app"
);
prefixed_id!(
    /// The public id of an API key (the token itself is `hk_...` and never stored).
    KeyId, "key", "key"
);
prefixed_id!(
    /// A webhook endpoint.
    EndpointId, "ep", "endpoint"
);
prefixed_id!(
    /// A published event.
    EventId, "evt", "event"
);
prefixed_id!(
    /// One event on its way to one endpoint; the id receivers de-duplicate on.
    DeliveryId, "dlv", "delivery"
);
prefixed_id!(
    /// One HTTP request made for a delivery.
    AttemptId, "att", "attempt"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_other_kinds() {
        let id = EventId::new();
        assert!(id.as_str().starts_with("evt_"));
        assert_eq!(EventId::parse(id.as_str()), Ok(id.clone()));
        assert!(AppId::parse(id.as_str()).is_err());
        assert!(EventId::parse("evt_not-a-ulid").is_err());
        assert!(EventId::parse("").is_err());
    }

    #[test]
    fn a_floor_sorts_between_earlier_and_later_ids() {
        let before = EventId::new();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let floor = EventId::floor(chrono::Utc::now());
        std::thread::sleep(std::time::Duration::from_millis(3));
        let after = EventId::new();
        assert!(before < floor && floor < after, "{before} {floor} {after}");
        assert!(EventId::parse(floor.as_str()).is_ok());
    }

    #[test]
    fn ids_sort_in_creation_order() {
        let ids: Vec<DeliveryId> = (0..1000).map(|_| DeliveryId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}

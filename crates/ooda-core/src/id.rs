//! Identifiers. UUID v7 (time-ordered) where the system mints them; deterministic constructors
//! for the lab and tests, where ids must not depend on the wall clock or a random source.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// A deterministic id (lab, tests, replay).
            pub fn from_u128(value: u128) -> Self {
                Self(Uuid::from_u128(value))
            }

            /// The short human prefix used in logs and the CLI.
            pub const PREFIX: &'static str = $prefix;
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|e| format!("expected a UUID, found {s:?}: {e}"))
            }
        }
    };
}

id_type!(
    /// Identifies one event on the bus; consumers use it to stay idempotent.
    EventId,
    "evt"
);
id_type!(
    /// Identifies one alert (a fused, deduplicated group of anomalies).
    AlertId,
    "alr"
);
id_type!(
    /// Identifies one incident.
    IncidentId,
    "inc"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_ordered_in_time() {
        let a = EventId::new();
        let b = EventId::new();
        assert!(a <= b, "v7 ids are time ordered");
        let parsed: EventId = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
        assert!("nope".parse::<EventId>().is_err());
        assert_eq!(EventId::from_u128(7), EventId::from_u128(7));
    }
}

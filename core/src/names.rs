//! Stable names of the SDK's option and result enums, as the bindings, settings and JSON
//! documents spell them: one `as_str` / `FromStr` / `Display` / serde mapping per enum, so
//! that C, Python and Node read and write the same words (snake_case), and an unknown name is
//! one typed error that lists the accepted ones.

use crate::{Error, ErrorKind};

/// The error for a name that is not one of `accepted`: [`ErrorKind::InvalidInput`], naming
/// what was expected and every accepted name.
pub(crate) fn unknown(what: &str, got: &str, accepted: &[&str]) -> Error {
    let list = match accepted {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    Error::new(
        ErrorKind::InvalidInput,
        format!("'{got}' is not a {what}: use {list}"),
    )
}

impl Error {
    /// The error for an option name that is not one of `accepted` (for crates that name
    /// their own options the SDK's way): [`ErrorKind::InvalidInput`], e.g. `'xml' is not a
    /// payload format: use auto, encounter or bundle`.
    pub fn unknown_name(what: &str, got: &str, accepted: &[&str]) -> Self {
        unknown(what, got, accepted)
    }
}

/// Gives a fieldless enum its stable names: `as_str`, `NAMES`, `FromStr` (aliases accepted,
/// unknown names refused with [`unknown`]), `Display`, and serde as a string.
///
/// ```text
/// names!(StartFrom, "start position" { Earliest => "earliest", Latest => "latest" });
/// ```
macro_rules! names {
    ($ty:ty, $what:literal { $($variant:ident => $name:literal $(| $alias:literal)*),+ $(,)? }) => {
        impl $ty {
            /// Every accepted name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];
            /// The stable name (the one `FromStr`, `Display` and serde use).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $($name $(| $alias)* => Ok(Self::$variant),)+
                    _ => Err($crate::names::unknown($what, s, Self::NAMES)),
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::names::string_serde!($ty);
    };
}

/// Serde for a type with `Display` and `FromStr<Err = crate::Error>`: a JSON string.
macro_rules! string_serde {
    ($ty:ty) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                s: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse::<$ty>()
                    .map_err(|e| <D::Error as ::serde::de::Error>::custom(e.message()))
            }
        }
    };
}

pub(crate) use names;
pub(crate) use string_serde;

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use crate::fhir::{ReadMode, WarningKind};
    use crate::hie::{Prefer, WriteKind};
    use crate::jitsi::{EndOutcome, Role};
    use crate::listener::{Filter, PayloadFormat, StartFrom};
    use crate::mycore::{QuotaWire, Severity};
    use crate::vc::Step;
    use crate::ErrorKind;

    /// Every name parses back to the value that gives it, through `FromStr` and serde.
    fn round_trip<T>(all: &[T])
    where
        T: FromStr<Err = crate::Error>
            + std::fmt::Display
            + std::fmt::Debug
            + PartialEq
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        for v in all {
            let name = v.to_string();
            assert_eq!(&name.parse::<T>().unwrap(), v, "{name}");
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
        }
    }

    #[test]
    fn every_option_name_round_trips() {
        round_trip(&[ReadMode::Strict, ReadMode::Lenient]);
        round_trip(&[Filter::VcOnly, Filter::AllEncounters]);
        round_trip(&[StartFrom::Earliest, StartFrom::Latest]);
        round_trip(&[
            Prefer::Minimal,
            Prefer::Representation,
            Prefer::OperationOutcome,
        ]);
        round_trip(&[WriteKind::Created, WriteKind::Updated, WriteKind::Existing]);
        round_trip(&[Role::Practitioner, Role::Patient]);
        round_trip(&[
            EndOutcome::Ended,
            EndOutcome::NotRunning,
            EndOutcome::Unsupported,
        ]);
        round_trip(&[QuotaWire::Integer, QuotaWire::String]);
        round_trip(&[Severity::Error, Severity::Warning, Severity::Information]);
        round_trip(&[WarningKind::UnknownElement, WarningKind::Misaligned]);
        round_trip(&[
            ErrorKind::NotFound,
            ErrorKind::InvalidInput,
            ErrorKind::Handler,
            ErrorKind::Tls,
        ]);
        round_trip(&[
            Step::CreateSession,
            Step::Schedule,
            Step::Book,
            Step::PractitionerJoin,
            Step::Activate,
            Step::FindPatients,
            Step::Notify,
            Step::FinishEncounter,
            Step::EndSession,
        ]);
        round_trip(&[
            PayloadFormat::Auto,
            PayloadFormat::Encounter,
            PayloadFormat::Bundle,
            PayloadFormat::envelope("/data/resource").unwrap(),
        ]);
    }

    #[test]
    fn names_are_snake_case() {
        for n in Step::NAMES
            .iter()
            .chain(ErrorKind::NAMES)
            .chain(Filter::NAMES)
            .chain(Prefer::NAMES)
            .chain(EndOutcome::NAMES)
        {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
        assert_eq!(Step::PractitionerJoin.as_str(), "practitioner_join");
        assert_eq!(Filter::AllEncounters.as_str(), "all");
    }

    #[test]
    fn unknown_names_are_typed_errors_listing_the_accepted_ones() {
        let e = "sometimes".parse::<StartFrom>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            e.message(),
            "'sometimes' is not a start position: use earliest or latest"
        );
        let e = "everything".parse::<Prefer>().unwrap_err();
        assert!(
            e.message()
                .ends_with("use minimal, representation or operation_outcome"),
            "{e}"
        );
        let e = "nurse".parse::<Role>().unwrap_err();
        assert!(e.message().contains("practitioner or patient"), "{e}");
        let e = "envelope:payload".parse::<PayloadFormat>().unwrap_err();
        assert!(e.message().contains("JSON pointer"), "{e}");
        // serde carries the same message.
        let e = serde_json::from_str::<Filter>("\"some\"").unwrap_err();
        assert!(e.to_string().contains("use vc_only or all"), "{e}");
    }

    #[test]
    fn aliases_parse_but_the_canonical_name_is_written() {
        assert_eq!(
            "OperationOutcome".parse::<Prefer>().unwrap(),
            Prefer::OperationOutcome
        );
        assert_eq!(Prefer::OperationOutcome.to_string(), "operation_outcome");
    }
}

//! FHIR values inside serde documents (the SDK's result types, the bindings' JSON): serde
//! `serialize_with` helpers that write each value with the model's own FHIR writer, straight
//! into the document's serializer.
//!
//! With `serde_json` the embedded text is byte for byte what [`super::to_json`] writes (the
//! same writer: decimals keep their digits, unknown elements their text, elements their
//! order), and nothing is written to an intermediate string or parsed again — cheaper than
//! embedding `to_json`'s text as a `RawValue`, which `serde_json` would check by parsing it.
//!
//! ```
//! use hie_vc::fhir::{self, ReadOptions, Resource};
//! #[derive(serde::Serialize)]
//! struct Doc {
//!     #[serde(serialize_with = "fhir::embed::one")]
//!     resource: Resource,
//! }
//! let r = fhir::read_str::<Resource>(r#"{"resourceType":"Basic","x":1.50}"#, ReadOptions::strict())?.value;
//! let doc = serde_json::to_string(&Doc { resource: r.clone() })?;
//! assert_eq!(doc, format!(r#"{{"resource":{}}}"#, fhir::to_json(&r)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::ser::{Serialize, Serializer};

use super::value::FhirType;

/// A borrowed FHIR value that serializes as the FHIR writer writes it (for hand-written
/// `Serialize` impls).
#[derive(Debug, Clone, Copy)]
pub struct Fhir<'a, T>(pub &'a T);

impl<T: FhirType> Serialize for Fhir<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.write(s)
    }
}

/// One FHIR value.
pub fn one<T: FhirType, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.write(s)
}

/// An optional FHIR value (`null` when absent).
pub fn option<T: FhirType, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(Fhir).serialize(s)
}

/// A list of FHIR values.
pub fn seq<T: FhirType, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(Fhir))
}

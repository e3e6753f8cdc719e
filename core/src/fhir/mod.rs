//! FHIR R4 (4.0.1) model: the datatypes and resources of the VC workflow, read from and written
//! to FHIR JSON without loss.
//!
//! * **Lossless**: unknown elements (kept as their exact JSON text), extensions, `_name`
//!   companions of primitives and `contained` resources survive read → write.
//! * **Two reading modes** ([`ReadMode`]): strict rejects what R4 forbids with a located
//!   [`ReadError`]; lenient accepts the known quirks of published MY Core material and reports
//!   each as a [`ReadWarning`]. Unknown elements are reported in both modes (or refused with
//!   [`ReadOptions::deny_unknown`]).
//! * **Writing** is R4 in form: arrays stay arrays, nulls and empty elements are left out,
//!   numbers are numbers. What a lenient read kept as sent (a missing required element, a
//!   malformed date) is written as it was: such a resource reads back strictly once fixed.
//!
//! ```
//! use hie_vc::fhir::{self, ReadOptions, Resource};
//! let json = br#"{"resourceType":"Slot","schedule":{"reference":"Schedule/s1"},"status":"free",
//!   "start":"2023-07-10T21:00:00+08:00","end":"2023-07-10T22:00:00+08:00","x-local":1.50}"#;
//! let read = fhir::read::<Resource>(json, ReadOptions::strict()).unwrap();
//! assert_eq!(read.warnings.len(), 1); // x-local is unknown: kept and reported
//! let back = fhir::to_json(&read.value);
//! assert!(back.contains(r#""x-local":1.50"#));
//! ```

#[macro_use]
mod macros;
pub mod context;
pub mod datatypes;
pub mod element;
pub mod embed;
pub mod extension;
mod intern;
pub mod node;
pub mod primitives;
pub mod resource;
pub mod resources;
pub mod schema;
pub mod value;

pub use context::{ReadError, ReadErrorKind, ReadMode, ReadOptions, ReadWarning, WarningKind};
pub use datatypes::*;
pub use element::{Element, PrimitiveExt, PrimitiveExtensions};
pub use extension::{Extension, ExtensionValue};
pub use primitives::{
    Base64Binary, Canonical, Code, Date, DateTime, Decimal, Id, Instant, Integer, Markdown,
    PositiveInt, Time, UnsignedInt, Uri, Url, ValueError,
};
pub use resource::{RawResource, Resource};
pub use resources::administration::*;
pub use resources::appointment::*;
pub use resources::bundle::*;
pub use resources::codes::*;
pub use resources::encounter::*;
pub use resources::outcome::*;
pub use resources::scheduling::*;
pub use value::{Extras, FhirType};

/// A value that can be read at the top of a JSON document: [`Resource`] and every resource,
/// datatype and backbone element of the model.
pub trait FhirRoot: FhirType {
    /// The name locations start with (`Appointment`), or `None` when it comes from the data.
    const ROOT: Option<&'static str>;
}

impl FhirRoot for Resource {
    const ROOT: Option<&'static str> = None;
}

/// The result of a successful read: the value and what was accepted but is not clean R4.
#[derive(Debug, Clone, PartialEq)]
pub struct Read<T> {
    /// The value read.
    pub value: T,
    /// Departures from R4 that were accepted (and unknown elements that were kept).
    pub warnings: Vec<ReadWarning>,
}

/// JSON (camelCase), what the bindings' read returns: `{"resource", "resourceType",
/// "warnings"}`, the resource as FHIR JSON.
impl serde::Serialize for Read<Resource> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Read", 3)?;
        m.serialize_field("resource", &self.value)?;
        m.serialize_field("resourceType", self.value.resource_type())?;
        m.serialize_field("warnings", &self.warnings)?;
        m.end()
    }
}

/// Reads a FHIR JSON document.
///
/// Bytes that are not UTF-8 or not JSON give [`ReadErrorKind::Syntax`]; everything R4 forbids
/// gives an error located like `Appointment.participant[1].actor` when strict, or a warning when
/// lenient.
pub fn read<T: FhirRoot>(bytes: &[u8], opts: ReadOptions) -> Result<Read<T>, ReadError> {
    fn whole<'de, T: FhirType, R: serde_json::de::Read<'de>>(
        mut de: serde_json::Deserializer<R>,
    ) -> serde_json::Result<T> {
        let v = T::read(&mut de)?;
        de.end()?;
        Ok(v)
    }
    let (r, ctx) = context::with_ctx(opts, T::ROOT, || match std::str::from_utf8(bytes) {
        // One UTF-8 check of the whole document (vectorised) spares serde_json checking each
        // string again; invalid UTF-8 takes the byte reader, which locates the bad byte.
        Ok(text) => whole::<T, _>(serde_json::Deserializer::from_str(text)),
        Err(_) => whole::<T, _>(serde_json::Deserializer::from_slice(bytes)),
    });
    match r {
        Ok(value) => Ok(Read {
            value,
            warnings: ctx.warnings,
        }),
        Err(e) => {
            let (kind, location) = match ctx.error {
                Some(found) => found,
                None => {
                    let kind = match e.classify() {
                        serde_json::error::Category::Data => ReadErrorKind::InvalidType,
                        _ => ReadErrorKind::Syntax,
                    };
                    (kind, T::ROOT.unwrap_or("$").to_owned())
                }
            };
            let kind = if matches!(
                e.classify(),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof
            ) && kind == ReadErrorKind::InvalidType
            {
                ReadErrorKind::Syntax
            } else {
                kind
            };
            let location = if location.is_empty() {
                T::ROOT.unwrap_or("$").to_owned()
            } else {
                location
            };
            let mut message = withhold_values(e.to_string());
            if message.contains("recursion limit exceeded") {
                return Err(ReadError {
                    kind: ReadErrorKind::TooDeep,
                    location,
                    message,
                });
            }
            if message.is_empty() {
                message = "invalid FHIR JSON".to_owned();
            }
            Err(ReadError {
                kind,
                location,
                message,
            })
        }
    }
}

/// serde's type errors quote the value they met (`invalid type: string "Siti binti Ahmad",
/// expected ...`); read errors end up in logs and dead-letter headers, so the value is replaced
/// by its kind. The location still says where it was.
fn withhold_values(message: String) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let kind = match rest.split([' ', ',']).next().unwrap_or("") {
            "string" => "a string",
            "integer" => "an integer",
            "floating" => "a number",
            "boolean" => "a boolean",
            "character" => "a character",
            "byte" => "bytes",
            // map, sequence, null, unit, ...: no value to withhold.
            _ => return message,
        };
        if let Some(at) = rest.rfind(", expected ") {
            return format!("{prefix}{kind}{}", &rest[at..]);
        }
        return format!("{prefix}{kind}");
    }
    message
}

/// Reads a FHIR JSON document from text.
pub fn read_str<T: FhirRoot>(json: &str, opts: ReadOptions) -> Result<Read<T>, ReadError> {
    read(json.as_bytes(), opts)
}

/// Writes compact FHIR JSON.
pub fn to_json<T: FhirType>(v: &T) -> String {
    // Writing to a String cannot fail for the model's types (keys are strings, decimals valid).
    let mut out = Vec::with_capacity(512);
    let _ = v.write(&mut serde_json::Serializer::new(&mut out));
    String::from_utf8(out).unwrap_or_default()
}

/// Writes compact FHIR JSON bytes.
pub fn to_vec<T: FhirType>(v: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let _ = v.write(&mut serde_json::Serializer::new(&mut out));
    out
}

/// Writes indented FHIR JSON.
pub fn to_json_pretty<T: FhirType>(v: &T) -> String {
    let mut out = Vec::with_capacity(1024);
    let _ = v.write(&mut serde_json::Serializer::pretty(&mut out));
    String::from_utf8(out).unwrap_or_default()
}

impl Resource {
    /// Reads any resource strictly.
    pub fn from_json(bytes: &[u8]) -> Result<Resource, ReadError> {
        read::<Resource>(bytes, ReadOptions::strict()).map(|r| r.value)
    }
    /// Writes compact FHIR JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

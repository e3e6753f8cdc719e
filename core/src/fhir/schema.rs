//! The model's definitions as data: every type the FHIR model declares (resources, datatypes,
//! backbone elements, primitives, code enums, choice types), with its elements, their types,
//! cardinality, redaction and documentation — what the bindings generate their classes from.
//!
//! The definitions are `static` data written by the same macro calls that write the model
//! (`fhir_struct!`, `fhir_code!`, `fhir_choice!`), so they cannot disagree with the reader and
//! the writer, and cost nothing to a program that does not look at them. They serialize to
//! camelCase JSON (`cargo run -p hie-vc --example fhir_schema` prints them).
//!
//! ```
//! use hie_vc::fhir::schema::{self, Kind};
//! let enc = schema::get("Encounter").unwrap();
//! assert_eq!(enc.kind, Kind::Resource);
//! let class = enc.element("class").unwrap();
//! assert_eq!((class.type_name, class.required, class.array), ("Coding", true, false));
//! ```

use std::fmt;

use serde::ser::{Serialize, Serializer};

use super::datatypes::*;
use super::element::Element;
use super::extension::{Extension, ExtensionValue};
use super::primitives::{
    Base64Binary, Code, Date, DateTime, Decimal, Id, Instant, Integer, PositiveInt, Time,
    UnsignedInt, Uri,
};
use super::resource::Resource;
use super::resources::administration::*;
use super::resources::appointment::*;
use super::resources::bundle::*;
use super::resources::codes::*;
use super::resources::encounter::*;
use super::resources::outcome::*;
use super::resources::scheduling::*;
use super::{FhirRoot, ReadError, ReadOptions};

/// What a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// A resource (`resourceType` names it on the wire).
    Resource,
    /// Any resource (`contained`, `Bundle.entry.resource`): the one named by `resourceType`,
    /// typed when the model knows it, kept as raw JSON otherwise.
    AnyResource,
    /// A general-purpose datatype (`Coding`, `Reference`, ...).
    Datatype,
    /// An element defined inside a resource (`Encounter.participant`).
    Backbone,
    /// A FHIR primitive (`string`, `dateTime`, ...).
    Primitive,
    /// A `code` with a known value set (see [`TypeDef::codes`]); codes outside it are kept.
    Code,
    /// The types a choice element (`value[x]`) may hold (see [`TypeDef::choices`]).
    Choice,
}

/// How a value of a primitive or code type is written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum JsonType {
    /// A JSON string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A JSON number without fraction or exponent.
    Integer,
    /// A JSON number whose exact text is the value (`1.50` is not `1.5`).
    Decimal,
    /// A JSON object.
    Object,
}

/// Documentation text: the lines of the `///` comments of the declaration.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Doc(pub &'static [&'static str]);

impl Doc {
    /// No documentation.
    pub const EMPTY: Doc = Doc(&[]);
}

impl fmt::Display for Doc {
    /// The lines without the one space `///` leaves before the text, joined by newlines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(line.strip_prefix(' ').unwrap_or(line).trim_end())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One type of the model.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeDef {
    /// The name elements refer to it by ([`ElementDef::type_name`]): the Rust type's name for
    /// structures, codes and choices (`EncounterParticipant`), the FHIR name for primitives
    /// (`dateTime`).
    pub name: &'static str,
    /// The FHIR name: `Encounter`, `Encounter.participant` for a backbone element (what `Debug`
    /// prints), the primitive's name, or the name of a code or choice type.
    pub fhir_name: &'static str,
    /// What it is.
    pub kind: Kind,
    /// How a primitive or code is written in JSON (`Object` for the others; a choice has none).
    pub json_type: Option<JsonType>,
    /// Its documentation.
    pub doc: Doc,
    /// The elements of a resource, datatype or backbone element, in the order they are written
    /// (inherited ones first: `id`, `meta`, ... / `id`, `extension`, ...).
    pub elements: &'static [ElementDef],
    /// The codes of a code type.
    pub codes: &'static [CodeDef],
    /// The types of a choice type.
    pub choices: &'static [ChoiceDef],
    /// A choice type that also keeps values of any other type (as raw JSON).
    pub open: bool,
}

impl TypeDef {
    /// The element with JSON name `json_name` (a choice element by its prefix, `value`).
    pub fn element(&self, json_name: &str) -> Option<&'static ElementDef> {
        self.elements.iter().find(|e| e.json_name == json_name)
    }

    /// A type without elements, codes or choices (primitives).
    pub(crate) const fn primitive(
        name: &'static str,
        json_type: JsonType,
        doc: &'static [&'static str],
    ) -> TypeDef {
        TypeDef {
            name,
            fhir_name: name,
            kind: Kind::Primitive,
            json_type: Some(json_type),
            doc: Doc(doc),
            elements: &[],
            codes: &[],
            choices: &[],
            open: false,
        }
    }
}

/// One element of a resource, datatype or backbone element.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementDef {
    /// The JSON member name (`serviceType`); for a choice element the prefix (`value` of
    /// `value[x]`, written as `valueString`, `valueQuantity`, ...).
    pub json_name: &'static str,
    /// The [`TypeDef::name`] of its type; for a choice element, the choice type.
    pub type_name: &'static str,
    /// For a choice element, the types it may hold (the same as its choice type's); empty
    /// otherwise.
    pub choices: &'static [ChoiceDef],
    /// A choice element that also keeps any other type (as raw JSON).
    pub open: bool,
    /// 0..* (a JSON array).
    pub array: bool,
    /// 1.. (a strict read refuses a resource without it).
    pub required: bool,
    /// Never shown by `Debug` (patient data).
    pub redact: bool,
    /// Its documentation.
    pub doc: Doc,
}

/// One code of a code type.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeDef {
    /// The code on the wire (`in-progress`).
    pub code: &'static str,
    /// The Rust enum variant (`InProgress`, what `Debug` prints).
    pub variant: &'static str,
    /// Its documentation.
    pub doc: Doc,
}

/// One type a choice element may hold.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChoiceDef {
    /// The type suffix of the JSON name (`String` in `valueString`).
    pub suffix: &'static str,
    /// The [`TypeDef::name`] of the type (`string`).
    pub type_name: &'static str,
    /// Never shown by `Debug`.
    pub redact: bool,
    /// Its documentation.
    pub doc: Doc,
}

/// A type of the model that has a definition.
pub trait SchemaType {
    /// Its [`TypeDef::name`] (kept apart from [`SchemaType::DEF`] so that types referring to
    /// each other, such as Identifier and Reference, do not make the definitions recursive).
    const SCHEMA_NAME: &'static str;
    /// Its definition.
    const DEF: TypeDef;
}

impl SchemaType for Resource {
    const SCHEMA_NAME: &'static str = "Resource";
    const DEF: TypeDef = TypeDef {
        name: "Resource",
        fhir_name: "Resource",
        kind: Kind::AnyResource,
        json_type: Some(JsonType::Object),
        doc: Doc(&[
            " Any resource: the one its `resourceType` names, typed when the model knows the type,",
            " kept as raw JSON otherwise.",
        ]),
        elements: &[],
        codes: &[],
        choices: &[],
        open: false,
    };
}

impl<T: SchemaType> SchemaType for Box<T> {
    const SCHEMA_NAME: &'static str = T::SCHEMA_NAME;
    const DEF: TypeDef = T::DEF;
}

/// Lists the model's types once: the definitions ([`types`]) and the readers by name
/// ([`debug`]) come from the same list.
macro_rules! model_types {
    (structures: [$($s:ident,)*] others: [$($o:ty,)*]) => {
        /// Every type of the model, resources first (in the order of [`Resource`]'s variants),
        /// then [`Resource`], backbone elements, datatypes, codes, choices and primitives.
        static TYPES: &[TypeDef] = &[$($s::DEF,)* $(<$o as SchemaType>::DEF,)*];

        /// Reads `json` leniently as the structure type `type_name` ([`TypeDef::name`] of a
        /// resource, datatype or backbone element, or `Resource` for any resource) and returns
        /// its `Debug` text, patient data redacted: what the bindings show as the text of a
        /// FHIR value. `None` when the model has no such structure type.
        pub fn debug(type_name: &str, json: &[u8]) -> Option<Result<String, ReadError>> {
            fn text<T: FhirRoot>(json: &[u8]) -> Result<String, ReadError> {
                super::read::<T>(json, ReadOptions::lenient()).map(|r| format!("{:?}", r.value))
            }
            match type_name {
                $( stringify!($s) => Some(text::<$s>(json)), )*
                _ => None,
            }
        }
    };
}

model_types! {
    structures: [
        Appointment,
        Encounter,
        Schedule,
        Slot,
        Patient,
        Practitioner,
        PractitionerRole,
        Organization,
        HealthcareService,
        Bundle,
        OperationOutcome,
        Resource,
        AppointmentParticipant,
        EncounterStatusHistory,
        EncounterClassHistory,
        EncounterParticipant,
        EncounterDiagnosis,
        EncounterHospitalization,
        EncounterLocation,
        PatientContact,
        PatientCommunication,
        PatientLink,
        PractitionerQualification,
        AvailableTime,
        NotAvailable,
        OrganizationContact,
        HealthcareServiceEligibility,
        BundleLink,
        BundleEntry,
        BundleEntrySearch,
        BundleEntryRequest,
        BundleEntryResponse,
        OperationOutcomeIssue,
        Element,
        Extension,
        Identifier,
        Coding,
        CodeableConcept,
        Reference,
        Period,
        HumanName,
        ContactPoint,
        ContactDetail,
        Address,
        Meta,
        Narrative,
        Annotation,
        Quantity,
        Money,
        Attachment,
    ]
    others: [
        IdentifierUse,
        NameUse,
        ContactPointSystem,
        ContactPointUse,
        AppointmentStatus,
        ParticipationStatus,
        ParticipantRequired,
        EncounterStatus,
        SlotStatus,
        BundleType,
        HttpVerb,
        SearchEntryMode,
        IssueSeverity,
        AdministrativeGender,
        ExtensionValue,
        AnnotationAuthor,
        Deceased,
        MultipleBirth,
        String,
        bool,
        Decimal,
        Integer,
        UnsignedInt,
        PositiveInt,
        Id,
        Code,
        Uri,
        Date,
        DateTime,
        Instant,
        Time,
        Base64Binary,
    ]
}

/// Every type the model declares (each once; element types all resolve with [`get`]).
pub fn types() -> &'static [TypeDef] {
    TYPES
}

/// The type named `name` ([`TypeDef::name`]: `Encounter`, `EncounterParticipant`, `dateTime`).
pub fn get(name: &str) -> Option<&'static TypeDef> {
    TYPES.iter().find(|t| t.name == name)
}

/// The resource types the model reads into typed values (the others are kept raw).
pub fn resources() -> impl Iterator<Item = &'static TypeDef> {
    TYPES.iter().filter(|t| t.kind == Kind::Resource)
}

//! FHIR R4 general-purpose datatypes used by the VC resources.

use super::primitives::{
    Base64Binary, Canonical, Code, DateTime, Decimal, Instant, Markdown, PositiveInt, UnsignedInt,
    Uri,
};
use super::Id;

fhir_code! {
    /// `IdentifierUse`.
    IdentifierUse { Usual = "usual", Official = "official", Temp = "temp", Secondary = "secondary", Old = "old" }
}

fhir_struct! {
    /// An identifier for a thing (MyKad number, MRN, vc-token, ...). `Debug` never shows the value.
    datatype Identifier "Identifier" {
        /// usual | official | temp | secondary | old.
        use_: Option<IdentifierUse> = "use";
        /// Description of identifier.
        type_: Option<CodeableConcept> = "type";
        /// The namespace for the identifier value.
        system: Option<Uri> = "system";
        /// The value that is unique.
        value: Option<String> = "value" [redact];
        /// Time period when id is/was valid for use.
        period: Option<Period> = "period";
        /// Organization that issued id.
        assigner: Option<Box<Reference>> = "assigner";
    }
}

impl Identifier {
    /// An identifier with a system and a value.
    pub fn new(system: &str, value: impl Into<String>) -> Self {
        Self {
            system: Uri::new(system).ok(),
            value: Some(value.into()),
            ..Self::default()
        }
    }
    /// Whether the system is `system`.
    pub fn has_system(&self, system: &str) -> bool {
        self.system.as_ref().is_some_and(|s| s.as_str() == system)
    }
}

fhir_struct! {
    /// A reference to a code defined by a terminology system.
    datatype Coding "Coding" {
        /// Identity of the terminology system.
        system: Option<Uri> = "system";
        /// Version of the system.
        version: Option<String> = "version";
        /// Symbol in syntax defined by the system.
        code: Option<Code> = "code";
        /// Representation defined by the system.
        display: Option<String> = "display";
        /// If this coding was chosen directly by the user.
        user_selected: Option<bool> = "userSelected";
    }
}

impl Coding {
    /// A coding with system, code and display.
    pub fn new(system: &str, code: &str, display: Option<&str>) -> Self {
        Self {
            system: Uri::new(system).ok(),
            code: Code::new(code).ok(),
            display: display.map(str::to_owned),
            ..Self::default()
        }
    }
    /// Whether this is `code` in `system`.
    pub fn is(&self, system: &str, code: &str) -> bool {
        self.system.as_ref().is_some_and(|s| s.as_str() == system)
            && self.code.as_ref().is_some_and(|c| c.as_str() == code)
    }
}

fhir_struct! {
    /// A concept: codings and/or text.
    datatype CodeableConcept "CodeableConcept" {
        /// Code defined by a terminology system.
        coding: Vec<Coding> = "coding";
        /// Plain text representation of the concept.
        text: Option<String> = "text";
    }
}

impl CodeableConcept {
    /// A concept with a single coding.
    pub fn from_coding(coding: Coding) -> Self {
        Self {
            coding: vec![coding],
            ..Self::default()
        }
    }
    /// A concept with one coding of `system`/`code`/`display`.
    pub fn code(system: &str, code: &str, display: Option<&str>) -> Self {
        Self::from_coding(Coding::new(system, code, display))
    }
    /// The first coding of `system`.
    pub fn coding_of(&self, system: &str) -> Option<&Coding> {
        self.coding
            .iter()
            .find(|c| c.system.as_ref().is_some_and(|s| s.as_str() == system))
    }
    /// The code of the first coding of `system`.
    pub fn code_of(&self, system: &str) -> Option<&str> {
        self.coding_of(system)
            .and_then(|c| c.code.as_ref())
            .map(Code::as_str)
    }
    /// Whether a coding is `code` in `system`.
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.coding.iter().any(|c| c.is(system, code))
    }
}

fhir_struct! {
    /// A reference from one resource to another. `Debug` never shows the display (often a name).
    datatype Reference "Reference" {
        /// Literal reference, relative, internal or absolute URL.
        reference: Option<String> = "reference";
        /// Type the reference refers to (e.g. "Patient").
        type_: Option<Uri> = "type";
        /// Logical reference, when literal reference is not known.
        /// (Boxed: an inline Identifier would make every Reference, and every type holding
        /// one, several times larger, and the reader moves them by value.)
        identifier: Option<Box<Identifier>> = "identifier";
        /// Text alternative for the resource.
        display: Option<String> = "display" [redact];
    }
}

impl Reference {
    /// A literal reference `Type/id` with its `type`.
    pub fn to(resource_type: &str, id: &str) -> Self {
        Self {
            reference: Some(format!("{resource_type}/{id}")),
            type_: Uri::new(resource_type).ok(),
            ..Self::default()
        }
    }
    /// Sets the display.
    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(display.into());
        self
    }
    /// The resource type named by `type` or by the literal reference.
    pub fn target_type(&self) -> Option<&str> {
        if let Some(t) = &self.type_ {
            return Some(t.as_str());
        }
        let r = self.reference.as_deref()?;
        let mut parts = r.rsplit('/');
        let _id = parts.next()?;
        let t = parts.next()?;
        if t == "_history" {
            let mut all: Vec<&str> = r.split('/').collect();
            all.truncate(all.len().saturating_sub(2));
            return all.len().checked_sub(2).map(|i| all[i]);
        }
        Some(t)
    }
    /// The logical id of a relative literal reference (`Patient/123` → `123`).
    pub fn target_id(&self) -> Option<&str> {
        let r = self.reference.as_deref()?;
        let r = r.split("/_history/").next().unwrap_or(r);
        r.rsplit('/').next().filter(|s| !s.is_empty())
    }
}

fhir_struct! {
    /// A time period defined by a start and end date/time.
    datatype Period "Period" {
        /// Starting time with inclusive boundary.
        start: Option<DateTime> = "start";
        /// End time with inclusive boundary, if not ongoing.
        end: Option<DateTime> = "end";
    }
}

fhir_code! {
    /// `NameUse`.
    NameUse { Usual = "usual", Official = "official", Temp = "temp", Nickname = "nickname", Anonymous = "anonymous", Old = "old", Maiden = "maiden" }
}

fhir_struct! {
    /// A person's name. `Debug` never shows its parts.
    datatype HumanName "HumanName" {
        /// usual | official | temp | nickname | anonymous | old | maiden.
        use_: Option<NameUse> = "use";
        /// Text representation of the full name.
        text: Option<String> = "text" [redact];
        /// Family name.
        family: Option<String> = "family" [redact];
        /// Given names.
        given: Vec<String> = "given" [redact];
        /// Parts that come before the name.
        prefix: Vec<String> = "prefix" [redact];
        /// Parts that come after the name.
        suffix: Vec<String> = "suffix" [redact];
        /// Time period when name was/is in use.
        period: Option<Period> = "period";
    }
}

fhir_code! {
    /// `ContactPointSystem`.
    ContactPointSystem { Phone = "phone", Fax = "fax", Email = "email", Pager = "pager", Url = "url", Sms = "sms", Other_ = "other" }
}

fhir_code! {
    /// `ContactPointUse`.
    ContactPointUse { Home = "home", Work = "work", Temp = "temp", Old = "old", Mobile = "mobile" }
}

fhir_struct! {
    /// Details of a technology-mediated contact point. `Debug` never shows the value.
    datatype ContactPoint "ContactPoint" {
        /// phone | fax | email | pager | url | sms | other.
        system: Option<ContactPointSystem> = "system";
        /// The actual contact point details.
        value: Option<String> = "value" [redact];
        /// home | work | temp | old | mobile.
        use_: Option<ContactPointUse> = "use";
        /// Specify preferred order of use (1 = highest).
        rank: Option<PositiveInt> = "rank";
        /// Time period when the contact point was/is in use.
        period: Option<Period> = "period";
    }
}

fhir_struct! {
    /// Contact information (name and telecoms).
    datatype ContactDetail "ContactDetail" {
        /// Name of an individual to contact.
        name: Option<String> = "name" [redact];
        /// Contact details for individual or organization.
        telecom: Vec<ContactPoint> = "telecom";
    }
}

fhir_struct! {
    /// An address. `Debug` never shows its parts.
    datatype Address "Address" {
        /// home | work | temp | old | billing.
        use_: Option<Code> = "use";
        /// postal | physical | both.
        type_: Option<Code> = "type";
        /// Text representation of the address.
        text: Option<String> = "text" [redact];
        /// Street name, number, direction & P.O. Box etc.
        line: Vec<String> = "line" [redact];
        /// Name of city, town etc.
        city: Option<String> = "city" [redact];
        /// District name (aka county).
        district: Option<String> = "district" [redact];
        /// Sub-unit of country.
        state: Option<String> = "state";
        /// Postal code for area.
        postal_code: Option<String> = "postalCode" [redact];
        /// Country.
        country: Option<String> = "country";
        /// Time period when address was/is in use.
        period: Option<Period> = "period";
    }
}

fhir_struct! {
    /// Metadata about a resource.
    datatype Meta "Meta" {
        /// Version specific identifier.
        version_id: Option<Id> = "versionId";
        /// When the resource version last changed.
        last_updated: Option<Instant> = "lastUpdated";
        /// Identifies where the resource comes from.
        source: Option<Uri> = "source";
        /// Profiles this resource claims to conform to.
        profile: Vec<Canonical> = "profile";
        /// Security labels applied to this resource.
        security: Vec<Coding> = "security";
        /// Tags applied to this resource.
        tag: Vec<Coding> = "tag";
    }
}

fhir_struct! {
    /// Human-readable summary of the resource.
    datatype Narrative "Narrative" {
        /// generated | extensions | additional | empty.
        status: Option<Code> = "status" [required];
        /// Limited xhtml content.
        div: Option<String> = "div" [required, redact];
    }
}

fhir_choice! {
    /// `Annotation.author[x]`.
    closed AnnotationAuthor {
        /// A reference to the author.
        Reference(Reference) = "Reference",
        /// The author's name.
        String(String) = "String" [redact],
    }
}

fhir_struct! {
    /// A text note with attribution.
    datatype Annotation "Annotation" {
        /// When the annotation was made.
        time: Option<DateTime> = "time";
        /// The annotation - text content (as markdown).
        text: Option<Markdown> = "text" [required, redact];
    }
    choice {
        /// Individual responsible for the annotation.
        author: AnnotationAuthor = "author";
    }
}

fhir_struct! {
    /// A measured amount (also the shape of Age, Count, Distance and Duration).
    datatype Quantity "Quantity" {
        /// Numerical value (with implicit precision).
        value: Option<Decimal> = "value";
        /// < | <= | >= | > - how to understand the value.
        comparator: Option<Code> = "comparator";
        /// Unit representation.
        unit: Option<String> = "unit";
        /// System that defines coded unit form.
        system: Option<Uri> = "system";
        /// Coded form of the unit.
        code: Option<Code> = "code";
    }
}

/// `Duration` (a Quantity of time).
pub type Duration = Quantity;
/// `Age` (a Quantity of years, months, ...).
pub type Age = Quantity;

fhir_struct! {
    /// An amount of money.
    datatype Money "Money" {
        /// Numerical value (with implicit precision).
        value: Option<Decimal> = "value";
        /// ISO 4217 currency code.
        currency: Option<Code> = "currency";
    }
}

fhir_struct! {
    /// Content in a format defined elsewhere.
    datatype Attachment "Attachment" {
        /// Mime type of the content.
        content_type: Option<Code> = "contentType";
        /// Human language of the content.
        language: Option<Code> = "language";
        /// Data inline, base64ed.
        data: Option<Base64Binary> = "data" [redact];
        /// Uri where the data can be found.
        url: Option<Uri> = "url";
        /// Number of bytes of content.
        size: Option<UnsignedInt> = "size";
        /// Hash of the data (sha-1, base64ed).
        hash: Option<Base64Binary> = "hash";
        /// Label to display in place of the data.
        title: Option<String> = "title";
        /// Date attachment was first created.
        creation: Option<DateTime> = "creation";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_targets() {
        let r = Reference {
            reference: Some("Patient/123".into()),
            ..Reference::default()
        };
        assert_eq!(
            (r.target_type(), r.target_id()),
            (Some("Patient"), Some("123"))
        );
        let r = Reference {
            reference: Some("PractitionerRole/7514/_history/7".into()),
            ..Reference::default()
        };
        assert_eq!(
            (r.target_type(), r.target_id()),
            (Some("PractitionerRole"), Some("7514"))
        );
        let r = Reference::to("HealthcareService", "hs").with_display("Clinic");
        assert_eq!(r.target_type(), Some("HealthcareService"));
        assert_eq!(Reference::default().target_id(), None);
    }

    #[test]
    fn concepts_and_identifiers() {
        let cc = CodeableConcept::code("http://s", "c", Some("d"));
        assert!(cc.has("http://s", "c") && !cc.has("http://s", "x"));
        assert_eq!(cc.code_of("http://s"), Some("c"));
        assert!(Identifier::new("http://sys", "v").has_system("http://sys"));
    }
}

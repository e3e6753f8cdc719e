//! `Extension` and its `value[x]`.

use super::datatypes::{
    Address, Age, Annotation, Attachment, CodeableConcept, Coding, ContactDetail, ContactPoint,
    HumanName, Identifier, Meta, Money, Period, Quantity, Reference,
};
use super::primitives::{
    Base64Binary, Code, Date, DateTime, Decimal, Id, Instant, Integer, PositiveInt, Time,
    UnsignedInt, Uri,
};

fhir_choice! {
    /// `Extension.value[x]`: the types MY Core's extensions use are typed; any other is kept raw.
    open ExtensionValue {
        /// valueBase64Binary.
        Base64Binary(Base64Binary) = "Base64Binary" [redact],
        /// valueBoolean.
        Boolean(bool) = "Boolean",
        /// valueCanonical.
        Canonical(Uri) = "Canonical",
        /// valueCode.
        Code(Code) = "Code",
        /// valueDate.
        Date(Date) = "Date" [redact],
        /// valueDateTime.
        DateTime(DateTime) = "DateTime",
        /// valueDecimal.
        Decimal(Decimal) = "Decimal",
        /// valueId.
        Id(Id) = "Id",
        /// valueInstant.
        Instant(Instant) = "Instant",
        /// valueInteger.
        Integer(Integer) = "Integer",
        /// valueMarkdown.
        Markdown(String) = "Markdown" [redact],
        /// valueOid.
        Oid(Uri) = "Oid",
        /// valuePositiveInt.
        PositiveInt(PositiveInt) = "PositiveInt",
        /// valueString (may be a name or an identifier: never shown by `Debug`).
        String(String) = "String" [redact],
        /// valueTime.
        Time(Time) = "Time",
        /// valueUnsignedInt.
        UnsignedInt(UnsignedInt) = "UnsignedInt",
        /// valueUri.
        Uri(Uri) = "Uri",
        /// valueUrl.
        Url(Uri) = "Url",
        /// valueUuid.
        Uuid(Uri) = "Uuid",
        /// valueAddress.
        Address(Address) = "Address",
        /// valueAge.
        Age(Age) = "Age",
        /// valueAnnotation.
        Annotation(Annotation) = "Annotation",
        /// valueAttachment.
        Attachment(Attachment) = "Attachment",
        /// valueCodeableConcept.
        CodeableConcept(CodeableConcept) = "CodeableConcept",
        /// valueCoding.
        Coding(Coding) = "Coding",
        /// valueContactDetail.
        ContactDetail(ContactDetail) = "ContactDetail",
        /// valueContactPoint.
        ContactPoint(ContactPoint) = "ContactPoint",
        /// valueCount.
        Count(Quantity) = "Count",
        /// valueDistance.
        Distance(Quantity) = "Distance",
        /// valueDuration.
        Duration(Quantity) = "Duration",
        /// valueHumanName.
        HumanName(HumanName) = "HumanName",
        /// valueIdentifier.
        Identifier(Identifier) = "Identifier",
        /// valueMeta.
        Meta(Meta) = "Meta",
        /// valueMoney.
        Money(Money) = "Money",
        /// valuePeriod.
        Period(Period) = "Period",
        /// valueQuantity.
        Quantity(Quantity) = "Quantity",
        /// valueReference.
        Reference(Reference) = "Reference",
    }
}

fhir_struct! {
    /// Additional content defined by implementations; nested for complex extensions.
    datatype Extension "Extension" {
        /// Identifies the meaning of the extension.
        url: Option<Uri> = "url" [required];
    }
    choice {
        /// Value of extension.
        value: ExtensionValue = "value";
    }
}

impl Extension {
    /// An extension with a value.
    pub fn new(url: &str, value: ExtensionValue) -> Self {
        Self {
            url: Uri::new(url).ok(),
            value: Some(value),
            ..Self::default()
        }
    }
    /// A complex extension made of sub-extensions.
    pub fn complex(url: &str, parts: Vec<Extension>) -> Self {
        Self {
            url: Uri::new(url).ok(),
            extension: parts,
            ..Self::default()
        }
    }
    /// Whether the url is `url`.
    pub fn is(&self, url: &str) -> bool {
        self.url.as_ref().is_some_and(|u| u.as_str() == url)
    }
    /// The first sub-extension with `url`.
    pub fn part(&self, url: &str) -> Option<&Extension> {
        self.extension.iter().find(|e| e.is(url))
    }
    /// The first sub-extension with `url`, mutably.
    pub fn part_mut(&mut self, url: &str) -> Option<&mut Extension> {
        self.extension.iter_mut().find(|e| e.is(url))
    }
}

/// Finds the first extension with `url` in a list.
pub fn find<'a>(list: &'a [Extension], url: &str) -> Option<&'a Extension> {
    list.iter().find(|e| e.is(url))
}

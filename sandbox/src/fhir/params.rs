//! The search parameters the sandbox supports, per resource type: a name, a type and the
//! element paths it looks at (dotted, arrays flattened). The CapabilityStatement lists the
//! same table, so what is advertised is what is implemented.

/// How a parameter's values are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `[system]|[code]` against codes, Codings, CodeableConcepts, Identifiers and booleans.
    Token,
    /// `Type/id`, `id` or an absolute URL against References; the targets restrict the type.
    Reference(&'static [&'static str]),
    /// A prefixed date against dates, instants and Periods.
    Date,
    /// Case-insensitive starts-with (`:exact`, `:contains`) against strings and HumanNames.
    String,
    /// The VC session token: the value of the identifier with the vc-token system.
    VcToken,
    /// The logical id.
    Id,
}

impl Kind {
    /// The FHIR SearchParamType code.
    pub(crate) fn fhir_type(self) -> &'static str {
        match self {
            Self::Token | Self::VcToken | Self::Id => "token",
            Self::Reference(_) => "reference",
            Self::Date => "date",
            Self::String => "string",
        }
    }
}

/// One search parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub paths: &'static [&'static str],
    pub doc: &'static str,
}

const fn p(
    name: &'static str,
    kind: Kind,
    paths: &'static [&'static str],
    doc: &'static str,
) -> Param {
    Param {
        name,
        kind,
        paths,
        doc,
    }
}

const ANY: &[&str] = &[];
const PATIENT: &[&str] = &["Patient"];
const PRACTITIONER: &[&str] = &["Practitioner"];
const ORGANIZATION: &[&str] = &["Organization"];

/// Parameters every type has.
const COMMON: &[Param] = &[
    p("_id", Kind::Id, &["id"], "The logical id"),
    p(
        "_lastUpdated",
        Kind::Date,
        &["meta.lastUpdated"],
        "When the resource version last changed",
    ),
];

const IDENTIFIER: Param = p(
    "identifier",
    Kind::Token,
    &["identifier"],
    "A business identifier (system|value)",
);
const VC_TOKEN: Param = p(
    "vc-token",
    Kind::VcToken,
    &["identifier"],
    "The VC session token (identifier with system http://fhir.hie.moh.gov.my/sid/vc-token)",
);
const STATUS: Param = p("status", Kind::Token, &["status"], "The status");
const ACTIVE: Param = p(
    "active",
    Kind::Token,
    &["active"],
    "Whether the record is active",
);
const SERVICE_TYPE: Param = p(
    "service-type",
    Kind::Token,
    &["serviceType"],
    "The serviceType (VCI, VCE, ...)",
);
const SERVICE_CATEGORY: Param = p(
    "service-category",
    Kind::Token,
    &["serviceCategory"],
    "The serviceCategory (VR)",
);
const SPECIALTY: Param = p("specialty", Kind::Token, &["specialty"], "The specialty");
const NAME: Param = p("name", Kind::String, &["name"], "Any part of a name");
const FAMILY: Param = p("family", Kind::String, &["name.family"], "The family name");
const GIVEN: Param = p("given", Kind::String, &["name.given"], "A given name");

const APPOINTMENT: &[Param] = &[
    IDENTIFIER,
    VC_TOKEN,
    STATUS,
    SERVICE_TYPE,
    SERVICE_CATEGORY,
    SPECIALTY,
    p("date", Kind::Date, &["start"], "Appointment.start"),
    p(
        "patient",
        Kind::Reference(PATIENT),
        &["participant.actor"],
        "A Patient participant",
    ),
    p(
        "practitioner",
        Kind::Reference(PRACTITIONER),
        &["participant.actor"],
        "A Practitioner participant",
    ),
    p(
        "actor",
        Kind::Reference(ANY),
        &["participant.actor"],
        "Any participant",
    ),
    p(
        "slot",
        Kind::Reference(&["Slot"]),
        &["slot"],
        "The Slot booked",
    ),
    p(
        "appointment-type",
        Kind::Token,
        &["appointmentType"],
        "The appointmentType",
    ),
    p(
        "part-status",
        Kind::Token,
        &["participant.status"],
        "A participant's status",
    ),
];

const ENCOUNTER: &[Param] = &[
    IDENTIFIER,
    VC_TOKEN,
    STATUS,
    p("date", Kind::Date, &["period"], "Encounter.period"),
    p(
        "patient",
        Kind::Reference(PATIENT),
        &["subject"],
        "The subject, a Patient",
    ),
    p("subject", Kind::Reference(ANY), &["subject"], "The subject"),
    p(
        "appointment",
        Kind::Reference(&["Appointment"]),
        &["appointment"],
        "The Appointment the Encounter came from",
    ),
    p("class", Kind::Token, &["class"], "The class (VR)"),
    p(
        "type",
        Kind::Token,
        &["type"],
        "The type (the specialty for VC)",
    ),
    SERVICE_TYPE,
    p(
        "service-provider",
        Kind::Reference(ORGANIZATION),
        &["serviceProvider"],
        "The organisation responsible",
    ),
    p(
        "practitioner",
        Kind::Reference(PRACTITIONER),
        &["participant.individual"],
        "A Practitioner participant",
    ),
    p(
        "participant",
        Kind::Reference(ANY),
        &["participant.individual"],
        "Any participant",
    ),
];

const SCHEDULE: &[Param] = &[
    IDENTIFIER,
    VC_TOKEN,
    ACTIVE,
    SERVICE_TYPE,
    SERVICE_CATEGORY,
    SPECIALTY,
    p(
        "actor",
        Kind::Reference(ANY),
        &["actor"],
        "An actor of the Schedule",
    ),
    p(
        "date",
        Kind::Date,
        &["planningHorizon"],
        "Schedule.planningHorizon",
    ),
];

const SLOT: &[Param] = &[
    IDENTIFIER,
    VC_TOKEN,
    STATUS,
    SERVICE_TYPE,
    SERVICE_CATEGORY,
    SPECIALTY,
    p(
        "schedule",
        Kind::Reference(&["Schedule"]),
        &["schedule"],
        "The Schedule",
    ),
    p("start", Kind::Date, &["start"], "Slot.start"),
    p(
        "date",
        Kind::Date,
        &["start"],
        "Slot.start (alias of start)",
    ),
    p(
        "appointment-type",
        Kind::Token,
        &["appointmentType"],
        "The appointmentType",
    ),
];

const PATIENT_PARAMS: &[Param] = &[
    IDENTIFIER,
    ACTIVE,
    NAME,
    FAMILY,
    GIVEN,
    p("birthdate", Kind::Date, &["birthDate"], "The date of birth"),
    p(
        "gender",
        Kind::Token,
        &["gender"],
        "The administrative gender",
    ),
    p(
        "organization",
        Kind::Reference(ORGANIZATION),
        &["managingOrganization"],
        "The managing organisation",
    ),
    p(
        "general-practitioner",
        Kind::Reference(ANY),
        &["generalPractitioner"],
        "A nominated primary care provider",
    ),
];

const PRACTITIONER_PARAMS: &[Param] = &[IDENTIFIER, ACTIVE, NAME, FAMILY, GIVEN];

const PRACTITIONER_ROLE: &[Param] = &[
    IDENTIFIER,
    ACTIVE,
    SPECIALTY,
    p(
        "practitioner",
        Kind::Reference(PRACTITIONER),
        &["practitioner"],
        "The Practitioner",
    ),
    p(
        "organization",
        Kind::Reference(ORGANIZATION),
        &["organization"],
        "The Organization",
    ),
    p("role", Kind::Token, &["code"], "A role"),
    p(
        "service",
        Kind::Reference(&["HealthcareService"]),
        &["healthcareService"],
        "A HealthcareService provided",
    ),
];

const ORGANIZATION_PARAMS: &[Param] = &[
    IDENTIFIER,
    ACTIVE,
    p(
        "name",
        Kind::String,
        &["name", "alias"],
        "The name or an alias",
    ),
    p("type", Kind::Token, &["type"], "The kind of organisation"),
    p(
        "partof",
        Kind::Reference(ORGANIZATION),
        &["partOf"],
        "The parent organisation",
    ),
];

const HEALTHCARE_SERVICE: &[Param] = &[
    IDENTIFIER,
    ACTIVE,
    SPECIALTY,
    p("name", Kind::String, &["name"], "The name"),
    p(
        "organization",
        Kind::Reference(ORGANIZATION),
        &["providedBy"],
        "The providing organisation",
    ),
    p(
        "service-type",
        Kind::Token,
        &["type"],
        "The type of service",
    ),
    p(
        "service-category",
        Kind::Token,
        &["category"],
        "The category of service",
    ),
];

/// The type-specific parameters of `rt`.
pub(crate) fn of_type(rt: &str) -> &'static [Param] {
    match rt {
        "Appointment" => APPOINTMENT,
        "Encounter" => ENCOUNTER,
        "Schedule" => SCHEDULE,
        "Slot" => SLOT,
        "Patient" => PATIENT_PARAMS,
        "Practitioner" => PRACTITIONER_PARAMS,
        "PractitionerRole" => PRACTITIONER_ROLE,
        "Organization" => ORGANIZATION_PARAMS,
        "HealthcareService" => HEALTHCARE_SERVICE,
        _ => &[],
    }
}

/// The parameter `name` of `rt` (type-specific or common).
pub(crate) fn find(rt: &str, name: &str) -> Option<&'static Param> {
    COMMON
        .iter()
        .chain(of_type(rt).iter())
        .find(|p| p.name == name)
}

/// The common parameters (`_id`, `_lastUpdated`).
pub(crate) fn common() -> &'static [Param] {
    COMMON
}

/// Result parameters the sandbox understands (everything else starting with `_` is unknown).
pub(crate) const CONTROL: [&str; 7] = [
    "_count", "_offset", "_sort", "_include", "_total", "_summary", "_format",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::store::RESOURCE_TYPES;

    #[test]
    fn every_type_has_identifier_and_no_duplicates() {
        for rt in RESOURCE_TYPES {
            assert!(find(rt, "identifier").is_some(), "{rt}");
            assert!(find(rt, "_id").is_some(), "{rt}");
            let mut names: Vec<&str> = of_type(rt).iter().map(|p| p.name).collect();
            names.sort_unstable();
            let n = names.len();
            names.dedup();
            assert_eq!(n, names.len(), "duplicate parameter on {rt}");
        }
        assert!(find("Encounter", "vc-token").is_some());
        assert!(find("Encounter", "appointment").is_some());
        assert!(find("Patient", "vc-token").is_none());
    }
}

//! Patient, Practitioner, PractitionerRole, Organization and HealthcareService (R4).

use super::codes::AdministrativeGender;
use crate::fhir::{
    Address, Attachment, Code, CodeableConcept, ContactPoint, Date, DateTime, HumanName,
    Identifier, Integer, Markdown, Period, Reference, Time,
};

fhir_choice! {
    /// `Patient.deceased[x]`.
    closed Deceased {
        /// deceasedBoolean.
        Boolean(bool) = "Boolean",
        /// deceasedDateTime.
        DateTime(DateTime) = "DateTime",
    }
}

fhir_choice! {
    /// `Patient.multipleBirth[x]`.
    closed MultipleBirth {
        /// multipleBirthBoolean.
        Boolean(bool) = "Boolean",
        /// multipleBirthInteger.
        Integer(Integer) = "Integer",
    }
}

fhir_struct! {
    /// Demographics about a patient. `Debug` never shows names, identifiers' values, contacts or birth date.
    resource Patient "Patient" {
        /// An identifier for this patient (MyKad, MRN, passport, ...).
        identifier: Vec<Identifier> = "identifier";
        /// Whether this patient's record is in active use.
        active: Option<bool> = "active";
        /// A name associated with the patient.
        name: Vec<HumanName> = "name";
        /// A contact detail for the individual.
        telecom: Vec<ContactPoint> = "telecom";
        /// male | female | other | unknown.
        gender: Option<AdministrativeGender> = "gender";
        /// The date of birth for the individual.
        birth_date: Option<Date> = "birthDate" [redact];
        /// An address for the individual.
        address: Vec<Address> = "address";
        /// Marital (civil) status of a patient.
        marital_status: Option<CodeableConcept> = "maritalStatus";
        /// Image of the patient.
        photo: Vec<Attachment> = "photo" [redact];
        /// A contact party (e.g. guardian, partner, friend) for the patient.
        contact: Vec<PatientContact> = "contact";
        /// A language which may be used to communicate with the patient.
        communication: Vec<PatientCommunication> = "communication";
        /// Patient's nominated primary care provider.
        general_practitioner: Vec<Reference> = "generalPractitioner";
        /// Organization that is the custodian of the patient record.
        managing_organization: Option<Reference> = "managingOrganization";
        /// Link to another patient resource that concerns the same actual person.
        link: Vec<PatientLink> = "link";
    }
    choice {
        /// Indicates if the individual is deceased or not.
        deceased: Deceased = "deceased";
        /// Whether patient is part of a multiple birth.
        multiple_birth: MultipleBirth = "multipleBirth";
    }
}

fhir_struct! {
    /// A contact party of a Patient.
    backbone PatientContact "Patient.contact" {
        /// The kind of relationship.
        relationship: Vec<CodeableConcept> = "relationship";
        /// A name associated with the contact person.
        name: Option<HumanName> = "name";
        /// A contact detail for the person.
        telecom: Vec<ContactPoint> = "telecom";
        /// Address for the contact person.
        address: Option<Address> = "address";
        /// male | female | other | unknown.
        gender: Option<AdministrativeGender> = "gender";
        /// Organization that is associated with the contact.
        organization: Option<Reference> = "organization";
        /// The period during which this contact person or organization is valid.
        period: Option<Period> = "period";
    }
}

fhir_struct! {
    /// A language of a Patient.
    backbone PatientCommunication "Patient.communication" {
        /// The language.
        language: Option<CodeableConcept> = "language" [required];
        /// Language preference indicator.
        preferred: Option<bool> = "preferred";
    }
}

fhir_struct! {
    /// A link from a Patient to another.
    backbone PatientLink "Patient.link" {
        /// The other patient or related person resource.
        other: Option<Reference> = "other" [required];
        /// replaced-by | replaces | refer | seealso.
        type_: Option<Code> = "type" [required];
    }
}

fhir_struct! {
    /// A person directly or indirectly involved in the provisioning of healthcare.
    resource Practitioner "Practitioner" {
        /// An identifier for the person as this agent (e.g. MMC number).
        identifier: Vec<Identifier> = "identifier";
        /// Whether this practitioner's record is in active use.
        active: Option<bool> = "active";
        /// The name(s) associated with the practitioner.
        name: Vec<HumanName> = "name";
        /// A contact detail for the practitioner.
        telecom: Vec<ContactPoint> = "telecom";
        /// Address(es) of the practitioner.
        address: Vec<Address> = "address";
        /// male | female | other | unknown.
        gender: Option<AdministrativeGender> = "gender";
        /// The date on which the practitioner was born.
        birth_date: Option<Date> = "birthDate" [redact];
        /// Image of the person.
        photo: Vec<Attachment> = "photo" [redact];
        /// Certification, licenses, or training pertaining to the provision of care.
        qualification: Vec<PractitionerQualification> = "qualification";
        /// A language the practitioner can use in patient communication.
        communication: Vec<CodeableConcept> = "communication";
    }
}

fhir_struct! {
    /// A qualification of a Practitioner.
    backbone PractitionerQualification "Practitioner.qualification" {
        /// An identifier for this qualification.
        identifier: Vec<Identifier> = "identifier";
        /// Coded representation of the qualification.
        code: Option<CodeableConcept> = "code" [required];
        /// Period during which the qualification is valid.
        period: Option<Period> = "period";
        /// Organization that regulates and issues the qualification.
        issuer: Option<Reference> = "issuer";
    }
}

fhir_struct! {
    /// Times a service or role is available.
    backbone AvailableTime "availableTime" {
        /// mon | tue | wed | thu | fri | sat | sun.
        days_of_week: Vec<Code> = "daysOfWeek";
        /// Always available? e.g. 24 hour service.
        all_day: Option<bool> = "allDay";
        /// Opening time of day (ignored if allDay = true).
        available_start_time: Option<Time> = "availableStartTime";
        /// Closing time of day (ignored if allDay = true).
        available_end_time: Option<Time> = "availableEndTime";
    }
}

fhir_struct! {
    /// Times a service or role is not available.
    backbone NotAvailable "notAvailable" {
        /// Reason presented to the user explaining why time not available.
        description: Option<String> = "description" [required];
        /// Service not available from this date.
        during: Option<Period> = "during";
    }
}

fhir_struct! {
    /// Roles/organizations the practitioner is associated with.
    resource PractitionerRole "PractitionerRole" {
        /// Business identifiers that are specific to a role/location.
        identifier: Vec<Identifier> = "identifier";
        /// Whether this practitioner role record is in active use.
        active: Option<bool> = "active";
        /// The period during which the practitioner is authorized to perform in these roles.
        period: Option<Period> = "period";
        /// Practitioner that is able to provide the defined services.
        practitioner: Option<Reference> = "practitioner";
        /// Organization where the roles are available.
        organization: Option<Reference> = "organization";
        /// Roles which this practitioner may perform.
        code: Vec<CodeableConcept> = "code";
        /// Specific specialty of the practitioner.
        specialty: Vec<CodeableConcept> = "specialty";
        /// The location(s) at which this practitioner provides care.
        location: Vec<Reference> = "location";
        /// The list of healthcare services that this worker provides for this role's organization/location(s).
        healthcare_service: Vec<Reference> = "healthcareService";
        /// Contact details that are specific to the role/location/service.
        telecom: Vec<ContactPoint> = "telecom";
        /// Times the service site is available.
        available_time: Vec<AvailableTime> = "availableTime";
        /// Not available during this time due to provided reason.
        not_available: Vec<NotAvailable> = "notAvailable";
        /// Description of availability exceptions.
        availability_exceptions: Option<String> = "availabilityExceptions";
        /// Technical endpoints providing access to services operated for the practitioner with this role.
        endpoint: Vec<Reference> = "endpoint";
    }
}

fhir_struct! {
    /// A grouping of people or organizations with a common purpose.
    resource Organization "Organization" {
        /// Identifies this organization across multiple systems.
        identifier: Vec<Identifier> = "identifier";
        /// Whether the organization's record is still in active use.
        active: Option<bool> = "active";
        /// Kind of organization.
        type_: Vec<CodeableConcept> = "type";
        /// Name used for the organization.
        name: Option<String> = "name";
        /// A list of alternate names that the organization is known as.
        alias: Vec<String> = "alias";
        /// A contact detail for the organization.
        telecom: Vec<ContactPoint> = "telecom";
        /// An address for the organization.
        address: Vec<Address> = "address";
        /// The organization of which this organization forms a part.
        part_of: Option<Reference> = "partOf";
        /// Contact for the organization for a certain purpose.
        contact: Vec<OrganizationContact> = "contact";
        /// Technical endpoints providing access to services operated for the organization.
        endpoint: Vec<Reference> = "endpoint";
    }
}

fhir_struct! {
    /// A contact of an Organization.
    backbone OrganizationContact "Organization.contact" {
        /// The type of contact.
        purpose: Option<CodeableConcept> = "purpose";
        /// A name associated with the contact.
        name: Option<HumanName> = "name";
        /// Contact details (telephone, email, etc.) for a contact.
        telecom: Vec<ContactPoint> = "telecom";
        /// Visiting or postal addresses for the contact.
        address: Option<Address> = "address";
    }
}

fhir_struct! {
    /// The details of a healthcare service available at a location (must exist in HIE before VC resources reference it).
    resource HealthcareService "HealthcareService" {
        /// External identifiers for this item.
        identifier: Vec<Identifier> = "identifier";
        /// Whether this HealthcareService record is in active use.
        active: Option<bool> = "active";
        /// Organization that provides this service.
        provided_by: Option<Reference> = "providedBy";
        /// Broad category of service being performed or delivered.
        category: Vec<CodeableConcept> = "category";
        /// Type of service that may be delivered or performed.
        type_: Vec<CodeableConcept> = "type";
        /// Specialties handled by the HealthcareService.
        specialty: Vec<CodeableConcept> = "specialty";
        /// Location(s) where service may be provided.
        location: Vec<Reference> = "location";
        /// Description of service as presented to a consumer while searching.
        name: Option<String> = "name";
        /// Additional description and/or any specific issues not covered elsewhere.
        comment: Option<String> = "comment";
        /// Extra details about the service that can't be placed in the other fields.
        extra_details: Option<Markdown> = "extraDetails";
        /// Facilitates quick identification of the service.
        photo: Option<Attachment> = "photo";
        /// Contacts related to the healthcare service.
        telecom: Vec<ContactPoint> = "telecom";
        /// Location(s) service is intended for/available to.
        coverage_area: Vec<Reference> = "coverageArea";
        /// Conditions under which service is available/offered.
        service_provision_code: Vec<CodeableConcept> = "serviceProvisionCode";
        /// Specific eligibility requirements required to use the service.
        eligibility: Vec<HealthcareServiceEligibility> = "eligibility";
        /// Programs that this service is applicable to.
        program: Vec<CodeableConcept> = "program";
        /// Collection of characteristics (attributes).
        characteristic: Vec<CodeableConcept> = "characteristic";
        /// The language that this service is offered in.
        communication: Vec<CodeableConcept> = "communication";
        /// Ways that the service accepts referrals.
        referral_method: Vec<CodeableConcept> = "referralMethod";
        /// If an appointment is required for access to this service.
        appointment_required: Option<bool> = "appointmentRequired";
        /// Times the Service Site is available.
        available_time: Vec<AvailableTime> = "availableTime";
        /// Not available during this time due to provided reason.
        not_available: Vec<NotAvailable> = "notAvailable";
        /// Description of availability exceptions.
        availability_exceptions: Option<String> = "availabilityExceptions";
        /// Technical endpoints providing access to electronic services operated for the healthcare service.
        endpoint: Vec<Reference> = "endpoint";
    }
}

fhir_struct! {
    /// An eligibility requirement of a HealthcareService.
    backbone HealthcareServiceEligibility "HealthcareService.eligibility" {
        /// Coded value for the eligibility.
        code: Option<CodeableConcept> = "code";
        /// Describes the eligibility conditions for the service.
        comment: Option<Markdown> = "comment";
    }
}

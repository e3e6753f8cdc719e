//! Encounter (R4).

use super::codes::EncounterStatus;
use crate::fhir::{
    Code, CodeableConcept, Coding, Duration, Identifier, Period, PositiveInt, Reference,
};

fhir_struct! {
    /// An interaction between a patient and healthcare provider(s); HIE creates one per VC check-in.
    resource Encounter "Encounter" {
        /// Identifier(s) by which this encounter is known (vc-token, encounter-id).
        identifier: Vec<Identifier> = "identifier";
        /// planned | arrived | triaged | in-progress | onleave | finished | cancelled | ...
        status: Option<EncounterStatus> = "status" [required];
        /// List of past encounter statuses.
        status_history: Vec<EncounterStatusHistory> = "statusHistory";
        /// Classification of patient encounter (MY Core: VR for VC).
        class: Option<Coding> = "class" [required];
        /// List of past encounter classes.
        class_history: Vec<EncounterClassHistory> = "classHistory";
        /// Specific type of encounter (MY Core: the specialty).
        type_: Vec<CodeableConcept> = "type";
        /// Specific type of service (MY Core: VCI | VCE).
        service_type: Option<CodeableConcept> = "serviceType";
        /// Indicates the urgency of the encounter.
        priority: Option<CodeableConcept> = "priority";
        /// The patient or group present at the encounter.
        subject: Option<Reference> = "subject";
        /// Episode(s) of care that this encounter should be recorded against.
        episode_of_care: Vec<Reference> = "episodeOfCare";
        /// The ServiceRequest that initiated this encounter.
        based_on: Vec<Reference> = "basedOn";
        /// List of participants involved in the encounter.
        participant: Vec<EncounterParticipant> = "participant";
        /// The appointment that scheduled this encounter.
        appointment: Vec<Reference> = "appointment";
        /// The start and end time of the encounter.
        period: Option<Period> = "period";
        /// Quantity of time the encounter lasted.
        length: Option<Duration> = "length";
        /// Coded reason the encounter takes place.
        reason_code: Vec<CodeableConcept> = "reasonCode";
        /// Reason the encounter takes place (reference).
        reason_reference: Vec<Reference> = "reasonReference";
        /// The list of diagnosis relevant to this encounter.
        diagnosis: Vec<EncounterDiagnosis> = "diagnosis";
        /// The set of accounts that may be used for billing.
        account: Vec<Reference> = "account";
        /// Details about the admission to a healthcare service.
        hospitalization: Option<Box<EncounterHospitalization>> = "hospitalization";
        /// List of locations where the patient has been.
        location: Vec<EncounterLocation> = "location";
        /// The organization (facility) responsible for this encounter.
        service_provider: Option<Reference> = "serviceProvider";
        /// Another Encounter this encounter is part of.
        part_of: Option<Reference> = "partOf";
    }
}

fhir_struct! {
    /// A past status of an Encounter.
    backbone EncounterStatusHistory "Encounter.statusHistory" {
        /// The status.
        status: Option<EncounterStatus> = "status" [required];
        /// The time that the episode was in the specified status.
        period: Option<Period> = "period" [required];
    }
}

fhir_struct! {
    /// A past class of an Encounter.
    backbone EncounterClassHistory "Encounter.classHistory" {
        /// The class.
        class: Option<Coding> = "class" [required];
        /// The time that the episode was in the specified class.
        period: Option<Period> = "period" [required];
    }
}

fhir_struct! {
    /// A participant of an Encounter.
    backbone EncounterParticipant "Encounter.participant" {
        /// Role of participant in encounter.
        type_: Vec<CodeableConcept> = "type";
        /// Period of time during the encounter that the participant participated.
        period: Option<Period> = "period";
        /// Persons involved in the encounter other than the patient.
        individual: Option<Reference> = "individual";
    }
}

fhir_struct! {
    /// A diagnosis of an Encounter.
    backbone EncounterDiagnosis "Encounter.diagnosis" {
        /// The diagnosis or procedure relevant to the encounter.
        condition: Option<Reference> = "condition" [required];
        /// Role that this diagnosis has within the encounter.
        use_: Option<CodeableConcept> = "use";
        /// Ranking of the diagnosis (for each role type).
        rank: Option<PositiveInt> = "rank";
    }
}

fhir_struct! {
    /// Admission details of an Encounter.
    backbone EncounterHospitalization "Encounter.hospitalization" {
        /// Pre-admission identifier.
        pre_admission_identifier: Option<Identifier> = "preAdmissionIdentifier";
        /// The location/organization from which the patient came before admission.
        origin: Option<Reference> = "origin";
        /// From where patient was admitted.
        admit_source: Option<CodeableConcept> = "admitSource";
        /// The type of hospital re-admission that has occurred (if any).
        re_admission: Option<CodeableConcept> = "reAdmission";
        /// Diet preferences reported by the patient.
        diet_preference: Vec<CodeableConcept> = "dietPreference";
        /// Special courtesies (VIP, board member).
        special_courtesy: Vec<CodeableConcept> = "specialCourtesy";
        /// Wheelchair, translator, stretcher, etc.
        special_arrangement: Vec<CodeableConcept> = "specialArrangement";
        /// Location/organization to which the patient is discharged.
        destination: Option<Reference> = "destination";
        /// Category or kind of location after discharge.
        discharge_disposition: Option<CodeableConcept> = "dischargeDisposition";
    }
}

fhir_struct! {
    /// A location of an Encounter.
    backbone EncounterLocation "Encounter.location" {
        /// Location the encounter takes place.
        location: Option<Reference> = "location" [required];
        /// planned | active | reserved | completed.
        status: Option<Code> = "status";
        /// The physical type of the location.
        physical_type: Option<CodeableConcept> = "physicalType";
        /// Time period during which the patient was present at the location.
        period: Option<Period> = "period";
    }
}

//! Appointment (R4).

use super::codes::{AppointmentStatus, ParticipantRequired, ParticipationStatus};
use crate::fhir::{
    CodeableConcept, DateTime, Identifier, Instant, Period, PositiveInt, Reference, UnsignedInt,
};

fhir_struct! {
    /// A booking of a healthcare event among patient(s), practitioner(s) and/or services.
    resource Appointment "Appointment" {
        /// External ids for this item (for VCE: the vc-token).
        identifier: Vec<Identifier> = "identifier";
        /// proposed | pending | booked | arrived | fulfilled | cancelled | noshow | ...
        status: Option<AppointmentStatus> = "status" [required];
        /// The coded reason for the appointment being cancelled.
        cancelation_reason: Option<CodeableConcept> = "cancelationReason";
        /// A broad categorization of the service (MY Core: VR).
        service_category: Vec<CodeableConcept> = "serviceCategory";
        /// The specific service (MY Core: VCI | VCE).
        service_type: Vec<CodeableConcept> = "serviceType";
        /// The specialty of a practitioner that would be required.
        specialty: Vec<CodeableConcept> = "specialty";
        /// The style of appointment (MY Core schedule-type codes).
        appointment_type: Option<CodeableConcept> = "appointmentType";
        /// Coded reason this appointment is scheduled.
        reason_code: Vec<CodeableConcept> = "reasonCode";
        /// Reason the appointment is to take place (resource).
        reason_reference: Vec<Reference> = "reasonReference";
        /// Used to make informed decisions if needing to re-prioritize.
        priority: Option<UnsignedInt> = "priority";
        /// Shown on a subject line in a meeting request, or appointment list.
        description: Option<String> = "description";
        /// Additional information to support the appointment.
        supporting_information: Vec<Reference> = "supportingInformation";
        /// When appointment is to take place.
        start: Option<Instant> = "start";
        /// When appointment is to conclude.
        end: Option<Instant> = "end";
        /// Can be less than start/end (e.g. estimate).
        minutes_duration: Option<PositiveInt> = "minutesDuration";
        /// The slots that this appointment is filling.
        slot: Vec<Reference> = "slot";
        /// The date that this appointment was initially created.
        created: Option<DateTime> = "created";
        /// Additional comments.
        comment: Option<String> = "comment";
        /// Detailed information and instructions for the patient.
        patient_instruction: Option<String> = "patientInstruction";
        /// The service request this appointment is allocated to assess.
        based_on: Vec<Reference> = "basedOn";
        /// Participants involved in appointment.
        participant: Vec<AppointmentParticipant> = "participant" [required];
        /// Potential date/time interval(s) requested to allocate the appointment within.
        requested_period: Vec<Period> = "requestedPeriod";
    }
}

fhir_struct! {
    /// A participant of an Appointment.
    backbone AppointmentParticipant "Appointment.participant" {
        /// Role of participant in the appointment.
        type_: Vec<CodeableConcept> = "type";
        /// Person, Location/HealthcareService or Device.
        actor: Option<Reference> = "actor";
        /// required | optional | information-only.
        required: Option<ParticipantRequired> = "required";
        /// accepted | declined | tentative | needs-action.
        status: Option<ParticipationStatus> = "status" [required];
        /// Participation period of the actor.
        period: Option<Period> = "period";
    }
}

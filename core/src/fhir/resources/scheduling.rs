//! Schedule and Slot (R4).

use super::codes::SlotStatus;
use crate::fhir::{CodeableConcept, Identifier, Instant, Period, Reference};

fhir_struct! {
    /// A container for slots of time that may be available for booking appointments.
    resource Schedule "Schedule" {
        /// External ids for this item (for VCE: the vc-token).
        identifier: Vec<Identifier> = "identifier";
        /// Whether this schedule is in active use.
        active: Option<bool> = "active";
        /// High-level category (MY Core: VR).
        service_category: Vec<CodeableConcept> = "serviceCategory";
        /// Specific service (MY Core: VCI | VCE).
        service_type: Vec<CodeableConcept> = "serviceType";
        /// The specialty of a practitioner that would be required.
        specialty: Vec<CodeableConcept> = "specialty";
        /// Resource(s) that availability information is being provided for.
        actor: Vec<Reference> = "actor" [required];
        /// Period of time covered by schedule.
        planning_horizon: Option<Period> = "planningHorizon";
        /// Comments on availability.
        comment: Option<String> = "comment";
    }
}

fhir_struct! {
    /// A slot of time on a schedule that may be available for booking appointments.
    resource Slot "Slot" {
        /// External ids for this item (for VCE: the vc-token).
        identifier: Vec<Identifier> = "identifier";
        /// A broad categorization of the service (MY Core: VR).
        service_category: Vec<CodeableConcept> = "serviceCategory";
        /// The type of appointments that can be booked into this slot (MY Core: VCI | VCE).
        service_type: Vec<CodeableConcept> = "serviceType";
        /// The specialty of a practitioner that would be required.
        specialty: Vec<CodeableConcept> = "specialty";
        /// The style of appointment (MY Core schedule-type codes).
        appointment_type: Option<CodeableConcept> = "appointmentType";
        /// The schedule resource that this slot defines an interval of status information.
        schedule: Option<Reference> = "schedule" [required];
        /// busy | free | busy-unavailable | busy-tentative | entered-in-error.
        status: Option<SlotStatus> = "status" [required];
        /// Date/Time that the slot is to begin.
        start: Option<Instant> = "start" [required];
        /// Date/Time that the slot is to conclude.
        end: Option<Instant> = "end" [required];
        /// This slot has already been overbooked.
        overbooked: Option<bool> = "overbooked";
        /// Comments on the slot.
        comment: Option<String> = "comment";
    }
}

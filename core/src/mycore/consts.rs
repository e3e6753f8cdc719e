//! Every MY Core system, code and extension URL the VC workflow uses (`docs/guide-gaps.md` §2), in
//! one place. No other module spells one of these URLs.

/// Base of MY Core canonical URLs.
pub const MYCORE_BASE: &str = "http://fhir.hie.moh.gov.my";
/// Default base of profile canonicals: `{base}/<Type>-my-core` (configurable; older builds used another).
pub const PROFILE_BASE: &str = "http://fhir.hie.moh.gov.my/StructureDefinition";

/// Code system of `Encounter.class` and `serviceCategory` (VR = Virtual).
pub const ENCOUNTER_CLASS_SYSTEM: &str =
    "http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core";
/// Code system of `serviceType` (VCI, VCE, VCMDT, VCD, ...).
pub const SERVICE_TYPE_SYSTEM: &str = "http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core";
/// Code system of `specialty` (and `Encounter.type`).
pub const SPECIALTY_SYSTEM: &str = "http://fhir.hie.moh.gov.my/CodeSystem/specialty-my-core";
/// Code system of the schedule-type extension and of `appointmentType`.
pub const SCHEDULE_TYPE_SYSTEM: &str =
    "http://fhir.hie.moh.gov.my/CodeSystem/schedule-type-my-core";
/// R4 Encounter status code system.
pub const ENCOUNTER_STATUS_SYSTEM: &str = "http://hl7.org/fhir/encounter-status";
/// HL7 v3 ParticipationType (Encounter.participant.type).
pub const PARTICIPATION_TYPE_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

/// Identifier system of the VC (Jitsi session) token.
pub const VC_TOKEN_SYSTEM: &str = "http://fhir.hie.moh.gov.my/sid/vc-token";
/// Identifier system of the Encounter business id.
pub const ENCOUNTER_ID_SYSTEM: &str = "http://fhir.hie.moh.gov.my/sid/encounter-id";
/// Patient MyKad number (the default; one profile spells it `mykad-no`, see [`MYKAD_SYSTEM_ALT`]).
pub const MYKAD_SYSTEM: &str = "http://fhir.hie.moh.gov.my/sid/my-kad-no";
/// The alternative MyKad system one profile uses.
pub const MYKAD_SYSTEM_ALT: &str = "http://fhir.hie.moh.gov.my/sid/mykad-no";
/// Patient medical record number.
pub const MRN_SYSTEM: &str = "http://fhir.hie.moh.gov.my/sid/patient-mrn";
/// Patient passport number.
pub const PASSPORT_SYSTEM: &str = "http://fhir.hie.moh.gov.my/sid/passport-no";
/// Practitioner MMC (Malaysian Medical Council) number.
pub const MMC_SYSTEM: &str = "http://fhir.hie.moh.gov.my/sid/mmc-no";

/// serviceType codes the IG's published examples use that its service-type code system does
/// not define (`example-schedule.json`): errors, warnings with `accept_published_quirks`.
pub const PUBLISHED_SERVICE_TYPE_QUIRKS: &[&str] = &["VCG"];
/// Schedule type extension (valueCodeableConcept; 1..1 on Schedule).
pub const EXT_SCHEDULE_TYPE: &str =
    "http://fhir.hie.moh.gov.my/StructureDefinition/schedule-type-my-core";
/// Slot quota extension (sub-extensions `quota` and `available`; 1..1 on Slot).
pub const EXT_SLOT_QUOTA: &str =
    "http://fhir.hie.moh.gov.my/StructureDefinition/slot-quota-my-core";
/// Encounter VC session status extension (valueCodeableConcept; no code list published).
pub const EXT_VR_STATUS: &str = "http://fhir.hie.moh.gov.my/StructureDefinition/vr-status-my-core";
/// Audit extension (recorder, recordedDate, lastUpdater).
pub const EXT_AUDIT: &str = "http://fhir.hie.moh.gov.my/StructureDefinition/audit-my-core";
/// Simple patient registration extension on Appointment.
pub const EXT_SIMPLE_REGISTER: &str =
    "http://fhir.hie.moh.gov.my/StructureDefinition/simple-register-my-core";
/// NCD VC diagnosis extension.
pub const EXT_NCD_VC_DX: &str = "http://fhir.hie.moh.gov.my/StructureDefinition/ncd-vc-dx-my-core";
/// `quota` sub-extension of the slot quota.
pub const SLOT_QUOTA_QUOTA: &str = "quota";
/// `available` sub-extension of the slot quota.
pub const SLOT_QUOTA_AVAILABLE: &str = "available";

/// Class / serviceCategory code for a virtual consultation.
pub const CLASS_VR: &str = "VR";
/// Display of [`CLASS_VR`].
pub const CLASS_VR_DISPLAY: &str = "Virtual";
/// Individual (one-to-one) VC.
pub const SERVICE_VCI: &str = "VCI";
/// Education (group) VC.
pub const SERVICE_VCE: &str = "VCE";
/// MDT VC.
pub const SERVICE_VCMDT: &str = "VCMDT";
/// On-demand VC.
pub const SERVICE_VCD: &str = "VCD";

/// Encounter statuses MY Core allows.
pub const ENCOUNTER_STATUSES: [&str; 4] = ["arrived", "in-progress", "finished", "unknown"];
/// Schedule type codes.
pub const SCHEDULE_TYPES: [(&str, &str); 5] = [
    ("internal", "Internal"),
    ("public", "Public"),
    ("affiliate", "Affiliate"),
    ("outsource", "Outsource"),
    ("walk-in", "Walk In"),
];
/// Service type codes of the VC family, with displays.
pub const VC_SERVICE_TYPES: [(&str, &str); 4] = [
    ("VCI", "Individual Virtual Consultation"),
    ("VCMDT", "MDT Virtual Consultation"),
    ("VCE", "Education Virtual Consultation"),
    ("VCD", "On-Demand Virtual Consultation"),
];
/// Encounter class codes, with displays.
pub const ENCOUNTER_CLASSES: [(&str, &str); 9] = [
    ("AMB", "Outpatient"),
    ("IMP", "Inpatient"),
    ("EMER", "Emergency"),
    ("VR", "Virtual"),
    ("CS", "Clinical Support"),
    ("SS", "Day Care"),
    ("PAC", "Patient Admission Center (PAC)"),
    ("FLD", "Field"),
    ("ADM", "Administrative"),
];

/// The canonical of the MY Core profile of `resource_type` under `base`.
pub fn profile_url(base: &str, resource_type: &str) -> String {
    format!("{}/{resource_type}-my-core", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn profile_urls() {
        assert_eq!(
            super::profile_url(super::PROFILE_BASE, "Slot"),
            "http://fhir.hie.moh.gov.my/StructureDefinition/Slot-my-core"
        );
        assert_eq!(
            super::profile_url("http://old/sd/", "Slot"),
            "http://old/sd/Slot-my-core"
        );
    }
}

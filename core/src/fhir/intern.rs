//! Well-known text: the code systems, identifier systems, extension and profile URLs, reference
//! types and codes that recur in every VC message. A `uri` or `code` read from JSON that equals
//! one of them keeps the static text instead of a fresh allocation, which matters when a
//! listener reads hundreds of thousands of Encounters (a dozen such values in each).

use crate::mycore::consts as my;

macro_rules! well_known {
    (consts: [$($c:path),* $(,)?], literals: [$($l:literal),* $(,)?] $(,)?) => {
        /// The static copy of `text` when it is well known.
        pub(crate) fn well_known(text: &str) -> Option<&'static str> {
            // A `match` on string patterns compiles to a length switch and a few comparisons.
            match text {
                $( $c => Some($c), )*
                $( $l => Some($l), )*
                _ => None,
            }
        }

        #[cfg(test)]
        const ALL: &[&str] = &[$($c,)* $($l,)*];
    };
}

well_known!(
    consts: [
        // MY Core systems, extensions and VC codes.
        my::ENCOUNTER_CLASS_SYSTEM,
        my::SERVICE_TYPE_SYSTEM,
        my::SPECIALTY_SYSTEM,
        my::SCHEDULE_TYPE_SYSTEM,
        my::ENCOUNTER_STATUS_SYSTEM,
        my::PARTICIPATION_TYPE_SYSTEM,
        my::VC_TOKEN_SYSTEM,
        my::ENCOUNTER_ID_SYSTEM,
        my::MYKAD_SYSTEM,
        my::MYKAD_SYSTEM_ALT,
        my::MRN_SYSTEM,
        my::PASSPORT_SYSTEM,
        my::MMC_SYSTEM,
        my::EXT_SCHEDULE_TYPE,
        my::EXT_SLOT_QUOTA,
        my::EXT_VR_STATUS,
        my::EXT_AUDIT,
        my::EXT_SIMPLE_REGISTER,
        my::EXT_NCD_VC_DX,
        my::CLASS_VR,
        my::SERVICE_VCI,
        my::SERVICE_VCE,
        my::SERVICE_VCMDT,
        my::SERVICE_VCD,
    ],
    literals: [
        // MY Core profiles of the VC resources, under the default base.
        "http://fhir.hie.moh.gov.my/StructureDefinition/Encounter-my-core",
        "http://fhir.hie.moh.gov.my/StructureDefinition/Appointment-my-core",
        "http://fhir.hie.moh.gov.my/StructureDefinition/Schedule-my-core",
        "http://fhir.hie.moh.gov.my/StructureDefinition/Slot-my-core",
        "http://fhir.hie.moh.gov.my/StructureDefinition/Patient-my-core",
        "http://fhir.hie.moh.gov.my/StructureDefinition/Practitioner-my-core",
        // Reference types.
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "HealthcareService",
        "Appointment",
        "Schedule",
        "Slot",
        "Encounter",
        // Participation types of the VC participants.
        "PPRF",
        "ATND",
        "PART",
        "SPRF",
    ],
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mycore::consts::{profile_url, PROFILE_BASE};

    #[test]
    fn every_entry_is_found_as_itself() {
        for text in ALL {
            assert_eq!(well_known(text), Some(*text));
            // Found by content, not by address.
            let copy = String::from(*text);
            assert_eq!(well_known(&copy), Some(*text));
        }
        assert_eq!(well_known("Patient "), None);
        assert_eq!(well_known(""), None);
        for rt in [
            "Encounter",
            "Appointment",
            "Schedule",
            "Slot",
            "Patient",
            "Practitioner",
        ] {
            assert!(well_known(&profile_url(PROFILE_BASE, rt)).is_some(), "{rt}");
        }
    }
}

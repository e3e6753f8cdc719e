//! The VC view of an Encounter: what a source system needs when HIE publishes one.

use std::fmt;

use super::consts::{ENCOUNTER_ID_SYSTEM, SERVICE_TYPE_SYSTEM};
use super::vc::{is_vc, vc_token, vc_type_of, VcType};
use crate::fhir::{Encounter, EncounterStatus, Period, Reference};
use crate::{Error, ErrorKind};

/// Whether an Encounter is a VC one: class VR, a VC-family serviceType (VCI/VCE/VCMDT/VCD), or a
/// vc-token identifier.
pub fn is_vc_encounter(e: &Encounter) -> bool {
    is_vc(e.class.iter(), e.service_type.iter(), &e.identifier)
}

/// A VC Encounter, flattened. `Debug` hides the token and names.
///
/// JSON (camelCase): `{"id", "versionId", "type", "token", "encounterNumber", "status",
/// "patient", "practitioners", "organisation", "appointments", "period"}` — references and the
/// period as FHIR JSON. The JSON holds the vc-token: it is what a caller asks the view for,
/// so it goes only where the caller sends it.
#[derive(Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VcEncounter {
    /// Logical id.
    pub id: Option<String>,
    /// `meta.versionId` (with `id`, the dedupe key).
    pub version_id: Option<String>,
    #[serde(rename = "type")]
    /// VCI, VCE, ... ; `Other` when the serviceType is not a VC one (a VR class or a token made it VC).
    pub vc_type: VcType,
    /// The vc-token (the Jitsi session token HIE created, or the VCE session's).
    pub token: Option<String>,
    /// The encounter business id (encounter-id identifier).
    pub encounter_number: Option<String>,
    /// Encounter status.
    pub status: Option<EncounterStatus>,
    /// The patient (subject).
    pub patient: Option<Reference>,
    /// Practitioners taking part (participant.individual).
    pub practitioners: Vec<Reference>,
    /// The organisation responsible (serviceProvider).
    pub organisation: Option<Reference>,
    /// The Appointment(s) the Encounter came from.
    pub appointments: Vec<Reference>,
    /// Start and end.
    pub period: Option<Period>,
}

impl fmt::Debug for VcEncounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VcEncounter")
            .field("id", &self.id)
            .field("version_id", &self.version_id)
            .field("vc_type", &self.vc_type)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("status", &self.status)
            .field(
                "patient",
                &self.patient.as_ref().and_then(|r| r.reference.as_deref()),
            )
            .field("practitioners", &self.practitioners.len())
            .field(
                "organisation",
                &self
                    .organisation
                    .as_ref()
                    .and_then(|r| r.reference.as_deref()),
            )
            .field("period", &self.period)
            .finish()
    }
}

impl VcEncounter {
    /// The VC view of `e`, or an [`ErrorKind::InvalidInput`] error saying why it is not a VC Encounter.
    pub fn from_encounter(e: &Encounter) -> Result<Self, Error> {
        if !is_vc_encounter(e) {
            let class = e
                .class
                .as_ref()
                .and_then(|c| c.code.as_ref())
                .map_or("none", |c| c.as_str());
            let service = e
                .service_type
                .as_ref()
                .and_then(|s| s.code_of(SERVICE_TYPE_SYSTEM))
                .unwrap_or("none");
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "Encounter {} is not a virtual consultation: class {class}, serviceType {service}, no vc-token identifier \
                     (a VC Encounter has class VR, a VCI/VCE/VCMDT/VCD serviceType or a vc-token)",
                    e.id.as_ref().map_or("(no id)", |i| i.as_str())
                ),
            ));
        }
        let vc_type = vc_type_of(e.service_type.iter()).unwrap_or_else(|| {
            VcType::Other(
                e.service_type
                    .as_ref()
                    .and_then(|s| s.coding.first())
                    .and_then(|c| c.code.as_ref())
                    .map_or(String::new(), |c| c.as_str().to_owned()),
            )
        });
        Ok(Self {
            id: e.id.as_ref().map(|i| i.as_str().to_owned()),
            version_id: e
                .meta
                .as_ref()
                .and_then(|m| m.version_id.as_ref())
                .map(|v| v.as_str().to_owned()),
            vc_type,
            token: vc_token(&e.identifier).map(str::to_owned),
            encounter_number: e
                .identifier
                .iter()
                .find(|i| i.has_system(ENCOUNTER_ID_SYSTEM))
                .and_then(|i| i.value.clone()),
            status: e.status.clone(),
            patient: e.subject.clone(),
            practitioners: e
                .participant
                .iter()
                .filter_map(|p| p.individual.clone())
                .collect(),
            organisation: e.service_provider.clone(),
            appointments: e.appointment.clone(),
            period: e.period.clone(),
        })
    }

    /// The patient's logical id (`Patient/<id>`).
    pub fn patient_id(&self) -> Option<&str> {
        self.patient.as_ref().and_then(Reference::target_id)
    }
}

impl TryFrom<&Encounter> for VcEncounter {
    type Error = Error;
    fn try_from(e: &Encounter) -> Result<Self, Error> {
        Self::from_encounter(e)
    }
}

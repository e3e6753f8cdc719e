//! Who to notify: the patients' ids (MyKad-style numbers) for the Notification API.

use std::collections::BTreeSet;

use crate::fhir::{Appointment, Patient, Reference, Resource};
use crate::hie::HieClient;
use crate::mycore::consts::VC_TOKEN_SYSTEM;
use crate::{Error, ErrorKind, Result};

/// The first identifier of `patient` in `systems` (in order of preference).
pub(crate) fn patient_number(patient: &Patient, systems: &[String]) -> Option<String> {
    systems.iter().find_map(|sys| {
        patient
            .identifier
            .iter()
            .find(|i| i.has_system(sys))
            .and_then(|i| i.value.clone())
    })
}

/// The Patient a reference points to: from the included resources when there, else read from HIE.
pub(crate) async fn resolve_patient(
    hie: &HieClient,
    reference: &Reference,
    included: &[Resource],
) -> Result<Patient> {
    let id = reference.target_id().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            "the patient reference has no literal id (Patient/<id>)",
        )
    })?;
    for r in included {
        if let Resource::Patient(p) = r {
            if p.id.as_ref().is_some_and(|i| i.as_str() == id) {
                return Ok((**p).clone());
            }
        }
    }
    Ok(hie.read::<Patient>(id).send().await?.into_resource())
}

/// The Patient references of every Appointment of a VCE session (the same vc-token).
pub(crate) async fn session_patients(hie: &HieClient, token: &str) -> Result<Vec<Reference>> {
    let appts: Vec<Appointment> = hie
        .search::<Appointment>()
        .identifier(VC_TOKEN_SYSTEM, token)
        .all()
        .await?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for a in appts {
        if a.status
            .as_ref()
            .is_some_and(|s| matches!(s.as_str(), "cancelled" | "entered-in-error" | "noshow"))
        {
            continue;
        }
        for p in a.participant.iter().filter_map(|p| p.actor.as_ref()) {
            if p.target_type() == Some("Patient") {
                if let Some(id) = p.target_id() {
                    if seen.insert(id.to_owned()) {
                        out.push(p.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

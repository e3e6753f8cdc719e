//! The steps of the VCI and VCE flows.

use std::fmt;

use super::patients::{patient_number, resolve_patient, session_patients};
use super::step::{Progress, Step};
use super::VirtualConsultation;
use crate::fhir::{Appointment, DateTime, Encounter, Id, Resource, Schedule, Slot};
use crate::hie::{BundleOutcome, Written};
use crate::jitsi::{EndOutcome, JitsiSession, Join, Participant};
use crate::mycore::{
    booking_bundle, finish_encounter, scheduling_bundle, SlotQuota, VcEncounter, VcType,
};
use crate::notify::{Notification, Sent};
use crate::{Error, ErrorKind, Result};

/// What [`VirtualConsultation::schedule`] stored. JSON: `{"outcome"}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scheduled {
    /// The transaction's outcome (one entry per resource, in order).
    pub outcome: BundleOutcome,
}

/// What [`VirtualConsultation::book`] stored. JSON (camelCase): `{"appointmentId", "slot":
/// {"id", "quota", "available"} | null, "outcome": <BundleOutcome> | null}`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Booked {
    /// The Appointment's id.
    pub appointment_id: String,
    /// The Slot booked and its remaining availability, when booked against a slot.
    #[serde(serialize_with = "booked_slot")]
    pub slot: Option<(String, SlotQuota)>,
    /// The transaction's outcome (booking with a slot) or `None` (a slot-less PUT).
    pub outcome: Option<BundleOutcome>,
}

fn booked_slot<S: serde::Serializer>(
    slot: &Option<(String, SlotQuota)>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(serde::Serialize)]
    struct Slot<'a> {
        id: &'a str,
        #[serde(flatten)]
        quota: &'a SlotQuota,
    }
    serde::Serialize::serialize(&slot.as_ref().map(|(id, quota)| Slot { id, quota }), s)
}

/// What [`VirtualConsultation::start`] did.
///
/// JSON (camelCase): `{"encounter": <VcEncounter>, "practitionerJoin": <Join>,
/// "activatedNow", "notified", "alreadyNotified", "sent": <Sent> | null}`. Unlike `Debug`, it
/// holds the practitioner's join URL and token: serialize it only to hand it to them.
#[derive(Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    /// The VC view of the Encounter.
    pub encounter: VcEncounter,
    /// The practitioner's join (URL and token: credentials, never printed by `Debug`).
    pub practitioner_join: Join,
    /// Whether this call activated the session (false when it already was).
    pub activated_now: bool,
    /// Patient ids notified by this call.
    pub notified: Vec<String>,
    /// Patient ids that had already been notified (not notified again).
    pub already_notified: Vec<String>,
    /// The Notification API's answer, when a notification was sent.
    pub sent: Option<Sent>,
}

impl fmt::Debug for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Started")
            .field("encounter", &self.encounter)
            .field("practitioner_join", &self.practitioner_join)
            .field("activated_now", &self.activated_now)
            .field("notified", &self.notified.len())
            .field("already_notified", &self.already_notified.len())
            .finish()
    }
}

/// What [`VirtualConsultation::finish`] did. JSON (camelCase): `{"encounterId", "written":
/// <Written> | null (already finished), "ended": "ended" | "not_running" | "unsupported" |
/// null (already ended)}`.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finished {
    /// The Encounter's id.
    pub encounter_id: String,
    /// The write of the finished Encounter, or `None` when it was already finished.
    pub written: Option<Written<Encounter>>,
    /// What ending the Jitsi session achieved (`None` when it had already been ended).
    pub ended: Option<EndOutcome>,
}

fn id_of(id: Option<&Id>, what: &str) -> Result<String> {
    id.map(|i| i.as_str().to_owned()).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("the {what} needs a client-chosen id"),
        )
    })
}

impl VirtualConsultation {
    /// VCE step 1: creates the Jitsi session whose token ties the Schedule, Slot and every
    /// Appointment of the session together.
    pub async fn create_session(&self) -> Result<JitsiSession> {
        self.inner
            .jitsi
            .create_session()
            .await
            .map_err(|e| Progress::default().fail(Step::CreateSession, e))
    }

    /// VCI step 1 / VCE step 2: PUTs the Schedule and its Slots in one transaction.
    pub async fn schedule(&self, schedule: Schedule, slots: Vec<Slot>) -> Result<Scheduled> {
        let progress = Progress::default();
        let bundle = scheduling_bundle(&schedule, &slots, None)
            .map_err(|e| progress.fail(Step::Schedule, e))?;
        let outcome = self
            .inner
            .hie
            .send_bundle(bundle)
            .send()
            .await
            .map_err(|e| progress.fail(Step::Schedule, e))?;
        Ok(Scheduled { outcome })
    }

    /// VCI step 2 / VCE step 3: stores the Appointment. With `slot_id`, the current Slot is
    /// read from HIE and the Appointment and the Slot (with `available` decremented, `If-Match`
    /// on its version) go in one transaction, so two bookings cannot take the same last place;
    /// without, the Appointment is PUT alone (it must then not be `booked`).
    pub async fn book(&self, appointment: Appointment, slot_id: Option<&str>) -> Result<Booked> {
        let progress = Progress::default();
        let fail = |e| progress.fail(Step::Book, e);
        let appointment_id = id_of(appointment.id.as_ref(), "Appointment").map_err(fail)?;
        let Some(slot_id) = slot_id else {
            self.inner
                .hie
                .update(appointment)
                .send()
                .await
                .map_err(fail)?;
            return Ok(Booked {
                appointment_id,
                slot: None,
                outcome: None,
            });
        };
        let fetched = self
            .inner
            .hie
            .read::<Slot>(slot_id)
            .send()
            .await
            .map_err(fail)?;
        let mut slot = *fetched.resource;
        if let (Some(v), Some(meta)) = (fetched.version_id.as_deref(), slot.meta.as_mut()) {
            if meta.version_id.is_none() {
                meta.version_id = Id::new(v).ok();
            }
        }
        let bundle =
            booking_bundle(&appointment, &slot, self.inner.quota_wire, None).map_err(fail)?;
        let remaining = match bundle.entry.get(1).and_then(|e| e.resource.as_ref()) {
            Some(Resource::Slot(s)) => SlotQuota::read(s).ok().map(|(q, _)| q),
            _ => None,
        };
        let outcome = self
            .inner
            .hie
            .send_bundle(bundle)
            .send()
            .await
            .map_err(fail)?;
        Ok(Booked {
            appointment_id,
            slot: remaining.map(|q| (slot_id.to_owned(), q)),
            outcome: Some(outcome),
        })
    }

    /// Steps 6–7 when an Encounter arrives: the practitioner's join, the session activated,
    /// and every patient of the session notified (the Encounter's patient for VCI; every
    /// Appointment's patient with the same token for VCE). Patients come from `included`
    /// (resources that arrived with the Encounter) or are read from HIE.
    ///
    /// Running it again returns a fresh join but notifies nobody twice.
    pub async fn start(
        &self,
        encounter: &Encounter,
        practitioner: &Participant,
        included: &[Resource],
    ) -> Result<Started> {
        let mut progress = Progress::default();
        let vc = VcEncounter::from_encounter(encounter)
            .map_err(|e| progress.fail(Step::PractitionerJoin, e))?;
        let token = vc.token.clone().ok_or_else(|| {
            progress.fail(Step::PractitionerJoin, Error::new(ErrorKind::InvalidInput, "the VC Encounter has no vc-token identifier: HIE had not created the Jitsi session"))
        })?;
        let jitsi = &self.inner.jitsi;
        let journal = &self.inner.journal;

        let practitioner_join = jitsi
            .join(&token, practitioner)
            .await
            .map_err(|e| progress.fail(Step::PractitionerJoin, e))?;
        progress.did(Step::PractitionerJoin);

        let activated_now = if journal.get(&token).activated {
            false
        } else {
            jitsi
                .activate(&token)
                .await
                .map_err(|e| progress.fail(Step::Activate, e))?;
            journal.update(&token, &mut |r| r.activated = true);
            true
        };
        progress.did(Step::Activate);

        let patient_refs = if vc.vc_type.is_group() {
            session_patients(&self.inner.hie, &token)
                .await
                .map_err(|e| progress.fail(Step::FindPatients, e))?
        } else {
            vc.patient.iter().cloned().collect()
        };
        let mut numbers = Vec::new();
        for r in &patient_refs {
            let patient = resolve_patient(&self.inner.hie, r, included)
                .await
                .map_err(|e| progress.fail(Step::FindPatients, e))?;
            match patient_number(&patient, &self.inner.patient_id_systems) {
                Some(n) => numbers.push(n),
                None => {
                    return Err(progress.fail(
                        Step::FindPatients,
                        Error::new(
                            ErrorKind::InvalidInput,
                            format!(
                                "Patient {} has no identifier in {}: the Notification API needs the patient's MyKad-style id",
                                patient.id.as_ref().map_or("?", |i| i.as_str()),
                                self.inner.patient_id_systems.join(" or ")
                            ),
                        ),
                    ))
                }
            }
        }
        if numbers.is_empty() {
            return Err(progress.fail(
                Step::FindPatients,
                Error::new(
                    ErrorKind::InvalidInput,
                    "no patient to notify for this session",
                ),
            ));
        }
        progress.did(Step::FindPatients);

        let record = journal.get(&token);
        let (already, todo): (Vec<String>, Vec<String>) = numbers
            .into_iter()
            .partition(|n| record.notified.contains(n));
        let sent = if todo.is_empty() {
            None
        } else {
            let start = vc
                .period
                .as_ref()
                .and_then(|p| p.start.as_ref())
                .map_or_else(String::new, |s| s.as_str().to_owned());
            let body = self.inner.notify_body.replace("{start}", &start);
            let n = Notification::new(self.inner.notify_title.clone(), body, todo.clone());
            let sent = self
                .inner
                .notifier
                .notify(&n)
                .await
                .map_err(|e| progress.fail(Step::Notify, e))?;
            journal.update(&token, &mut |r| r.notified.extend(todo.iter().cloned()));
            Some(sent)
        };
        Ok(Started {
            encounter: vc,
            practitioner_join,
            activated_now,
            notified: todo,
            already_notified: already,
            sent,
        })
    }

    /// Steps 9–10: PUTs the Encounter `finished` with `period.end` (reading the current version
    /// from HIE first, `If-Match` on it; nothing is written when it is already finished) and
    /// ends the Jitsi session.
    pub async fn finish(&self, encounter_id: &str) -> Result<Finished> {
        let mut progress = Progress::default();
        let current = self
            .inner
            .hie
            .read::<Encounter>(encounter_id)
            .send()
            .await
            .map_err(|e| progress.fail(Step::FinishEncounter, e))?;
        let mut enc = *current.resource;
        if let (Some(v), Some(meta)) = (current.version_id.as_deref(), enc.meta.as_mut()) {
            if meta.version_id.is_none() {
                meta.version_id = Id::new(v).ok();
            }
        }
        let vc = VcEncounter::from_encounter(&enc)
            .map_err(|e| progress.fail(Step::FinishEncounter, e))?;
        let written = if enc
            .status
            .as_ref()
            .is_some_and(|s| s.as_str() == "finished")
        {
            None
        } else {
            let finished = finish_encounter(&enc, DateTime::now());
            let mut req = self.inner.hie.update(finished);
            if enc
                .meta
                .as_ref()
                .and_then(|m| m.version_id.as_ref())
                .is_some()
            {
                req = req.if_match_current();
            }
            Some(
                req.send()
                    .await
                    .map_err(|e| progress.fail(Step::FinishEncounter, e))?,
            )
        };
        progress.did(Step::FinishEncounter);
        let ended = match &vc.token {
            Some(token) if !self.inner.journal.get(token).ended => {
                let outcome = self
                    .inner
                    .jitsi
                    .end(token)
                    .await
                    .map_err(|e| progress.fail(Step::EndSession, e))?;
                self.inner.journal.update(token, &mut |r| {
                    r.ended = true;
                    r.finished.insert(encounter_id.to_owned());
                });
                Some(outcome)
            }
            _ => None,
        };
        Ok(Finished {
            encounter_id: encounter_id.to_owned(),
            written,
            ended,
        })
    }

    /// The VC type of an Appointment's serviceType (for callers choosing a flow).
    pub fn vc_type_of(appointment: &Appointment) -> Option<VcType> {
        crate::mycore::vc::vc_type_of(appointment.service_type.iter())
    }
}

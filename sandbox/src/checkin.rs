//! Check-in: what HIE does when a patient checks in on RekodSaya (`docs/guide-gaps.md` §3). It
//! creates the VC Encounter from the Appointment — class VR, the Appointment's serviceType, its
//! specialty as type, its Patient as subject, its practitioners as typed participants, the
//! configured Organization as serviceProvider, status `arrived`, `period.start` now, a vc-token (a
//! new Jitsi session for VCI, the Appointment's token for VCE) and an encounter-id — validates it
//! against MY Core, stores it and publishes it on the event source.

use std::fmt;

use hie_vc::fhir::{
    Appointment, AppointmentStatus, Bundle, BundleType, CodeableConcept, Coding, DateTime,
    Encounter, EncounterParticipant, EncounterStatus, Identifier, Meta, Period, Reference,
    Resource, Uri,
};
use hie_vc::mycore::consts::{
    profile_url, CLASS_VR, CLASS_VR_DISPLAY, ENCOUNTER_CLASS_SYSTEM, ENCOUNTER_ID_SYSTEM,
    PARTICIPATION_TYPE_SYSTEM, SERVICE_TYPE_SYSTEM,
};
use hie_vc::mycore::vc::is_vc_service_code;
use hie_vc::mycore::{vc_token, Validator, VcType};
use time::OffsetDateTime;

use crate::app::App;
use crate::config::EventPayload;
use crate::error::{Error, FhirError};
use crate::fhir::store::{Lookup, Store, Verb, Version};
use crate::publish::Delivery;
use crate::records::{PublishedEvent, SessionOrigin};

/// The result of a check-in.
///
/// JSON (camelCase): `{"encounter", "encounterId", "created", "vcType", "token", "delivery":
/// {"topic", "partition", "offset"} | null}`, the Encounter as FHIR JSON. It holds the
/// vc-token (as the Encounter does).
#[derive(Clone)]
pub struct CheckIn {
    /// The Encounter as stored.
    pub encounter: Encounter,
    /// `false` when the patient had already checked in to this Appointment (the existing
    /// Encounter is returned and not published again).
    pub created: bool,
    /// VCI, VCE, ...
    pub vc_type: VcType,
    /// Where the Encounter was published (`None` when it had been published before).
    pub delivery: Option<Delivery>,
}

impl CheckIn {
    /// The Encounter's id.
    pub fn encounter_id(&self) -> &str {
        self.encounter.id.as_ref().map_or("", |i| i.as_str())
    }
    /// The session token in the Encounter's vc-token identifier.
    pub fn token(&self) -> Option<&str> {
        vc_token(&self.encounter.identifier)
    }
}

impl serde::Serialize for CheckIn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("CheckIn", 6)?;
        m.serialize_field("encounter", &self.encounter)?;
        m.serialize_field("encounterId", self.encounter_id())?;
        m.serialize_field("created", &self.created)?;
        m.serialize_field("vcType", &self.vc_type)?;
        m.serialize_field("token", &self.token())?;
        m.serialize_field("delivery", &self.delivery)?;
        m.end()
    }
}

impl fmt::Debug for CheckIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckIn")
            .field("encounter_id", &self.encounter_id())
            .field("created", &self.created)
            .field("vc_type", &self.vc_type)
            .field("delivery", &self.delivery)
            .finish()
    }
}

fn fail(status: u16, code: &str, msg: impl Into<String>) -> Error {
    Error::Fhir(FhirError::new(status, code, msg))
}

/// The VC type of the Appointment's first VC-family serviceType coding, and that concept.
fn vc_service(a: &Appointment) -> Option<(VcType, CodeableConcept)> {
    a.service_type.iter().find_map(|cc| {
        cc.coding
            .iter()
            .filter(|c| {
                c.system
                    .as_ref()
                    .is_none_or(|s| s.as_str() == SERVICE_TYPE_SYSTEM)
            })
            .filter_map(|c| c.code.as_ref())
            .find(|c| is_vc_service_code(c.as_str()))
            .map(|c| (VcType::from_code(c.as_str()), cc.clone()))
    })
}

fn actors_of<'a>(a: &'a Appointment, types: &'a [&str]) -> impl Iterator<Item = &'a Reference> {
    a.participant
        .iter()
        .filter_map(|p| p.actor.as_ref())
        .filter(move |r| r.target_type().is_some_and(|t| types.contains(&t)))
}

fn existing_encounter(store: &Store, appointment_id: &str, patient_id: &str) -> Option<Version> {
    store
        .live_of_type("Encounter")
        .into_iter()
        .find(|v| {
            let Some(Resource::Encounter(e)) = v.body.as_ref().map(|b| &b.resource) else {
                return false;
            };
            e.appointment.iter().any(|r| {
                r.target_type() == Some("Appointment") && r.target_id() == Some(appointment_id)
            }) && e.subject.as_ref().and_then(Reference::target_id) == Some(patient_id)
        })
        .cloned()
}

fn participant(individual: &Reference, primary: bool) -> EncounterParticipant {
    let (code, display) = if primary {
        ("PPRF", "primary performer")
    } else {
        ("SPRF", "secondary performer")
    };
    EncounterParticipant {
        type_: vec![CodeableConcept::code(
            PARTICIPATION_TYPE_SYSTEM,
            code,
            Some(display),
        )],
        individual: Some(individual.clone()),
        ..EncounterParticipant::default()
    }
}

fn encounter_number() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("ENC-{}", &u[..12])
}

/// What the locked part of a check-in decided.
struct Prepared {
    version: Version,
    appointment: Version,
    created: bool,
    vc_type: VcType,
}

fn prepare(app: &App, appointment_id: &str, patient: Option<&str>) -> Result<Prepared, Error> {
    let cfg = &app.config;
    let mut store = app.engine.store();
    let appt_v = match store.lookup("Appointment", appointment_id) {
        Lookup::Missing => {
            return Err(fail(
                404,
                "not-found",
                format!("Appointment/{appointment_id} is not known"),
            ))
        }
        Lookup::Deleted => {
            return Err(fail(
                410,
                "deleted",
                format!("Appointment/{appointment_id} has been deleted"),
            ))
        }
        Lookup::Live(v) => v.clone(),
    };
    let Some(Resource::Appointment(appt)) = appt_v.body.as_ref().map(|b| &b.resource) else {
        return Err(fail(
            500,
            "exception",
            "the stored Appointment is not an Appointment",
        ));
    };
    let appt: Appointment = (**appt).clone();
    if let Some(s) = appt.status.as_ref().filter(|s| {
        matches!(
            s,
            AppointmentStatus::Cancelled
                | AppointmentStatus::Noshow
                | AppointmentStatus::EnteredInError
                | AppointmentStatus::Fulfilled
        )
    }) {
        return Err(fail(
            409,
            "business-rule",
            format!("Appointment/{appointment_id} is {s}: there is nothing to check in to"),
        ));
    }
    let (vc_type, service_type) = vc_service(&appt).ok_or_else(|| {
        fail(
            422,
            "business-rule",
            format!("Appointment/{appointment_id} is not a virtual consultation (no VCI/VCE/VCMDT/VCD serviceType)"),
        )
    })?;
    let patients: Vec<&Reference> = actors_of(&appt, &["Patient"]).collect();
    let subject = match (patient, patients.as_slice()) {
        (_, []) => {
            return Err(fail(
                422,
                "business-rule",
                format!("Appointment/{appointment_id} has no Patient participant"),
            ))
        }
        (None, [one]) => (*one).clone(),
        (None, _) => {
            return Err(fail(
                409,
                "multiple-matches",
                format!("Appointment/{appointment_id} has several Patient participants: name the one checking in"),
            ))
        }
        (Some(want), all) => {
            let want = want.strip_prefix("Patient/").unwrap_or(want);
            all.iter()
                .find(|r| r.target_id() == Some(want))
                .map(|r| (*r).clone())
                .ok_or_else(|| {
                    fail(
                        422,
                        "business-rule",
                        format!("Patient/{want} is not a participant of Appointment/{appointment_id}"),
                    )
                })?
        }
    };
    let patient_id = subject.target_id().unwrap_or_default().to_owned();
    if let Some(v) = existing_encounter(&store, appointment_id, &patient_id) {
        return Ok(Prepared {
            version: v,
            appointment: appt_v,
            created: false,
            vc_type,
        });
    }
    let appointment_token = vc_token(&appt.identifier).map(str::to_owned);
    if vc_type.is_group() && appointment_token.is_none() {
        return Err(fail(
            422,
            "business-rule",
            format!("Appointment/{appointment_id} is a {vc_type} session but carries no vc-token identifier"),
        ));
    }
    let practitioners: Vec<&Reference> =
        actors_of(&appt, &["Practitioner", "PractitionerRole"]).collect();
    let mut enc = Encounter {
        meta: Some(Meta {
            profile: Uri::new(profile_url(&cfg.profile_base, "Encounter"))
                .into_iter()
                .collect(),
            ..Meta::default()
        }),
        identifier: vec![
            // Replaced by the real token once every check passed (a VCI check-in creates a
            // Jitsi session, which must not happen for a check-in that fails).
            Identifier::new(hie_vc::mycore::consts::VC_TOKEN_SYSTEM, "pending"),
            Identifier::new(ENCOUNTER_ID_SYSTEM, encounter_number()),
        ],
        status: Some(EncounterStatus::Arrived),
        class: Some(Coding::new(
            ENCOUNTER_CLASS_SYSTEM,
            CLASS_VR,
            Some(CLASS_VR_DISPLAY),
        )),
        type_: appt.specialty.clone(),
        service_type: Some(service_type),
        subject: Some(subject),
        participant: practitioners
            .iter()
            .enumerate()
            .map(|(i, r)| participant(r, i == 0))
            .collect(),
        appointment: vec![Reference::to("Appointment", appointment_id)],
        period: Some(Period {
            start: Some(DateTime::now()),
            ..Period::default()
        }),
        service_provider: Some(
            Reference::to("Organization", &cfg.organization_id)
                .with_display(cfg.organization_name.clone()),
        ),
        ..Encounter::default()
    };
    let report = Validator::new()
        .profile_base(cfg.profile_base.clone())
        .validate(&Resource::from(enc.clone()));
    if report.has_errors() {
        return Err(Error::Fhir(
            FhirError::with_outcome(422, report.to_operation_outcome()).context(&format!(
                "Appointment/{appointment_id} lacks what its VC Encounter needs"
            )),
        ));
    }
    let token = match appointment_token {
        Some(t) if vc_type.is_group() => t,
        _ => app.jitsi.create_session(SessionOrigin::CheckIn).0,
    };
    enc.identifier[0].value = Some(token);
    let id = uuid::Uuid::new_v4().to_string();
    let version = store.write("Encounter", &id, Some(Resource::from(enc)), Verb::Create);
    let appointment = if cfg.mark_appointment_arrived {
        let mut arrived = appt;
        arrived.status = Some(AppointmentStatus::Arrived);
        store.write(
            "Appointment",
            appointment_id,
            Some(Resource::from(arrived)),
            Verb::Update,
        )
    } else {
        appt_v
    };
    Ok(Prepared {
        version,
        appointment,
        created: true,
        vc_type,
    })
}

/// The record payload of `encounter` per the configured format.
fn payload(app: &App, store: &Store, encounter: &Version, appointment: &Version) -> Vec<u8> {
    let Some(body) = &encounter.body else {
        return Vec::new();
    };
    match app.config.payload {
        EventPayload::Encounter => body.text.clone().into_bytes(),
        EventPayload::Bundle => {
            let base = app.fhir_base(None);
            let mut b = Bundle::new(BundleType::Collection);
            b.id = hie_vc::fhir::Id::new(uuid::Uuid::new_v4().to_string()).ok();
            b.entry
                .push(crate::fhir::search::entry(&base, encounter, None));
            let patient = match &body.resource {
                Resource::Encounter(e) => e
                    .subject
                    .as_ref()
                    .and_then(Reference::target_id)
                    .and_then(|id| store.live("Patient", id)),
                _ => None,
            };
            if let Some(p) = patient {
                b.entry.push(crate::fhir::search::entry(&base, p, None));
            }
            b.entry
                .push(crate::fhir::search::entry(&base, appointment, None));
            hie_vc::fhir::to_vec(&b)
        }
    }
}

/// Checks the patient of `appointment_id` in (the only Patient participant, or `patient`).
pub(crate) async fn check_in(
    app: &App,
    appointment_id: &str,
    patient: Option<&str>,
) -> Result<CheckIn, Error> {
    // One check-in at a time: a second one for the same Appointment must find the first's
    // Encounter already published, never publish it again.
    let mut published = app.published.lock().await;
    let p = prepare(app, appointment_id, patient)?;
    let encounter_id = p.version.id.to_string();
    let encounter = match p.version.body.as_ref().map(|b| &b.resource) {
        Some(Resource::Encounter(e)) => (**e).clone(),
        _ => {
            return Err(fail(
                500,
                "exception",
                "the stored Encounter is not an Encounter",
            ))
        }
    };
    let delivery = if published.contains(&encounter_id) {
        None
    } else {
        let bytes = {
            let store = app.engine.store();
            payload(app, &store, &p.version, &p.appointment)
        };
        let d = app
            .publisher
            .publish(&app.config.topic, &encounter_id, &bytes)
            .await?;
        published.insert(encounter_id.clone());
        app.record_event(PublishedEvent {
            encounter_id: encounter_id.clone(),
            version_id: p.version.vid.to_string(),
            appointment_id: appointment_id.to_owned(),
            delivery: d.clone(),
            at: OffsetDateTime::now_utc(),
        });
        Some(d)
    };
    tracing::info!(
        encounter = %encounter_id,
        appointment = %appointment_id,
        vc_type = %p.vc_type,
        created = p.created,
        published = delivery.is_some(),
        "sandbox: check-in"
    );
    Ok(CheckIn {
        encounter,
        created: p.created,
        vc_type: p.vc_type,
        delivery,
    })
}

/// Publishes the current version of an Encounter again (e.g. after an update, or to test a
/// listener's deduplication).
pub(crate) async fn republish(app: &App, encounter_id: &str) -> Result<Delivery, Error> {
    let _guard = app.published.lock().await;
    let (version, appointment) = {
        let store = app.engine.store();
        let v = store
            .live("Encounter", encounter_id)
            .cloned()
            .ok_or_else(|| {
                fail(
                    404,
                    "not-found",
                    format!("Encounter/{encounter_id} is not known (or deleted)"),
                )
            })?;
        let appt = match v.body.as_ref().map(|b| &b.resource) {
            Some(Resource::Encounter(e)) => e
                .appointment
                .iter()
                .find_map(|r| r.target_id())
                .and_then(|id| store.live("Appointment", id).cloned()),
            _ => None,
        };
        (v, appt)
    };
    let bytes = {
        let store = app.engine.store();
        match &appointment {
            Some(a) => payload(app, &store, &version, a),
            None => version
                .body
                .as_ref()
                .map(|b| b.text.clone().into_bytes())
                .unwrap_or_default(),
        }
    };
    let d = app
        .publisher
        .publish(&app.config.topic, encounter_id, &bytes)
        .await?;
    app.record_event(PublishedEvent {
        encounter_id: encounter_id.to_owned(),
        version_id: version.vid.to_string(),
        appointment_id: appointment.map(|a| a.id.to_string()).unwrap_or_default(),
        delivery: d.clone(),
        at: OffsetDateTime::now_utc(),
    });
    Ok(d)
}

//! Fixtures shared by the sandbox tests: a started sandbox with its HIE client, and the MY Core
//! resources of the VC flows built with the core's builders.

#![allow(dead_code)]

use hie_vc::fhir::{
    HumanName, Id, Identifier, Organization, Patient, Practitioner, Reference, Resource,
};
use hie_vc::hie::{HieClient, RetryPolicy};
use hie_vc::listener::{EncounterEvent, ListenerBuilder};
use hie_vc::mycore::consts::MYKAD_SYSTEM;
use hie_vc::mycore::{AppointmentBuilder, ScheduleBuilder, SlotBuilder, VcType};
use hie_vc_sandbox::{Sandbox, SandboxConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SPECIALTY: &str = "86";
pub const HS: &str = "hs-1";
pub const DOCTOR: &str = "prac-1";

/// A sandbox with the default configuration, and a client of it without retries.
pub async fn start() -> (Sandbox, HieClient) {
    start_with(SandboxConfig::default()).await
}

pub async fn start_with(config: SandboxConfig) -> (Sandbox, HieClient) {
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let client = HieClient::new(
        sandbox
            .hie_config()
            .retry(RetryPolicy::none())
            .build()
            .expect("config"),
    )
    .expect("client");
    (sandbox, client)
}

pub fn patient(id: &str, mykad: &str, name: &str) -> Patient {
    Patient {
        id: Id::new(id).ok(),
        identifier: vec![Identifier::new(MYKAD_SYSTEM, mykad)],
        name: vec![HumanName {
            text: Some(name.to_owned()),
            family: Some(name.split(' ').next_back().unwrap_or(name).to_owned()),
            given: vec![name.split(' ').next().unwrap_or(name).to_owned()],
            ..HumanName::default()
        }],
        ..Patient::default()
    }
}

pub fn practitioner(id: &str) -> Practitioner {
    Practitioner {
        id: Id::new(id).ok(),
        name: vec![HumanName {
            text: Some("Dr Aminah".to_owned()),
            ..HumanName::default()
        }],
        ..Practitioner::default()
    }
}

pub fn healthcare_service(id: &str) -> hie_vc::fhir::HealthcareService {
    hie_vc::fhir::HealthcareService {
        id: Id::new(id).ok(),
        name: Some("Klinik Pakar VC".to_owned()),
        provided_by: Some(Reference::to("Organization", "org-1")),
        ..Default::default()
    }
}

pub fn organization(id: &str) -> Organization {
    Organization {
        id: Id::new(id).ok(),
        name: Some("Hospital Kuala Lumpur".to_owned()),
        ..Organization::default()
    }
}

/// What every VC resource references: an Organization, a HealthcareService, a Practitioner
/// and two patients (p1, p2).
pub fn base_resources() -> Vec<Resource> {
    vec![
        organization("org-1").into(),
        healthcare_service(HS).into(),
        practitioner(DOCTOR).into(),
        patient("p1", "950728106051", "Siti Aminah").into(),
        patient("p2", "880101015555", "Ahmad Faiz").into(),
    ]
}

/// A sandbox seeded with [`base_resources`].
pub async fn start_seeded() -> (Sandbox, HieClient) {
    start_with(SandboxConfig::default().seed(base_resources())).await
}

/// A slotless VCI Appointment (pending) of `patient` with the doctor.
pub fn vci_appointment(id: &str, patient: &str) -> hie_vc::fhir::Appointment {
    AppointmentBuilder::vci(id)
        .specialty(SPECIALTY)
        .healthcare_service(HS, "Klinik Pakar VC")
        .patient(patient, "Patient")
        .practitioner("Practitioner", DOCTOR, "Dr Aminah")
        .period("2024-05-01T10:00:00+08:00", "2024-05-01T10:30:00+08:00")
        .build()
        .expect("valid VCI appointment")
}

/// A VCE Appointment carrying `token`.
pub fn vce_appointment(id: &str, patient: &str, token: &str) -> hie_vc::fhir::Appointment {
    AppointmentBuilder::vce(id, token)
        .specialty(SPECIALTY)
        .healthcare_service(HS, "Klinik Pakar VC")
        .patient(patient, "Patient")
        .practitioner("Practitioner", DOCTOR, "Dr Aminah")
        .period("2024-05-02T14:00:00+08:00", "2024-05-02T15:00:00+08:00")
        .build()
        .expect("valid VCE appointment")
}

pub fn schedule(id: &str, vc: VcType, token: Option<&str>) -> hie_vc::fhir::Schedule {
    let mut b = ScheduleBuilder::new(id, vc)
        .specialty(SPECIALTY)
        .healthcare_service(HS, "Klinik Pakar VC");
    if let Some(t) = token {
        b = b.token(t);
    }
    b.build().expect("valid schedule")
}

pub fn slot(
    id: &str,
    schedule: &str,
    vc: VcType,
    token: Option<&str>,
    start: &str,
    end: &str,
) -> hie_vc::fhir::Slot {
    let mut b = SlotBuilder::new(id, vc)
        .schedule(schedule)
        .specialty(SPECIALTY)
        .quota(5)
        .available(5)
        .period(start, end);
    if let Some(t) = token {
        b = b.token(t);
    }
    b.build().expect("valid slot")
}

/// Runs the core listener of `builder` (its source set) until `expected` events arrived or
/// `within` passed, then `settle` more to catch any extra delivery; returns what arrived.
pub async fn collect_events(
    builder: ListenerBuilder,
    expected: usize,
    within: Duration,
    settle: Duration,
) -> Vec<EncounterEvent> {
    let seen: Arc<Mutex<Vec<EncounterEvent>>> = Arc::default();
    let sink = seen.clone();
    let listener = builder
        .handler(move |e: EncounterEvent| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(e);
                Ok::<(), std::convert::Infallible>(())
            }
        })
        .build()
        .unwrap();
    let counter = seen.clone();
    listener
        .run_until(async move {
            let deadline = tokio::time::Instant::now() + within;
            while counter.lock().unwrap().len() < expected && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(settle).await;
        })
        .await
        .unwrap();
    listener.close().await.unwrap();
    let out = seen.lock().unwrap().clone();
    out
}

//! Check-in: the Encounter HIE would create, the token rules of VCI and VCE, and delivery of
//! exactly one event to the core's in-memory event source, read by the core's listener.

mod support;

use std::time::Duration;

use hie_vc::fhir::{AppointmentStatus, Encounter, EncounterStatus, Resource};
use hie_vc::listener::{EncounterEvent, Listener};
use hie_vc::mycore::consts::{ENCOUNTER_ID_SYSTEM, PARTICIPATION_TYPE_SYSTEM, SERVICE_TYPE_SYSTEM};
use hie_vc::mycore::{validate, VcEncounter, VcType};
use hie_vc_sandbox::{Error, EventPayload, SandboxConfig, SessionOrigin};
use support::*;

/// Reads the sandbox's in-memory broker with the core's listener until `expected` events
/// arrived (or 5 s passed), then 300 ms more to catch any extra delivery.
async fn listen(sandbox: &hie_vc_sandbox::Sandbox, expected: usize) -> Vec<EncounterEvent> {
    let builder = Listener::builder().memory(
        &sandbox.broker().expect("in-memory"),
        "clinic-a",
        [sandbox.topic()],
    );
    collect_events(
        builder,
        expected,
        Duration::from_secs(5),
        Duration::from_millis(300),
    )
    .await
}

#[tokio::test]
async fn vci_check_in_creates_the_encounter_hie_would_with_a_new_token() {
    let (sandbox, client) = start_seeded().await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    let c = sandbox.check_in("a1").await.unwrap();
    assert!(c.created);
    assert_eq!(c.vc_type, VcType::Vci);
    let e: &Encounter = &c.encounter;

    // What HIE puts in it.
    assert_eq!(e.status, Some(EncounterStatus::Arrived));
    assert_eq!(
        e.class.as_ref().unwrap().code.as_ref().unwrap().as_str(),
        "VR"
    );
    assert_eq!(
        e.service_type
            .as_ref()
            .unwrap()
            .code_of(SERVICE_TYPE_SYSTEM),
        Some("VCI")
    );
    assert_eq!(
        e.type_[0].code_of(hie_vc::mycore::consts::SPECIALTY_SYSTEM),
        Some(SPECIALTY)
    );
    assert_eq!(
        e.subject.as_ref().unwrap().reference.as_deref(),
        Some("Patient/p1")
    );
    assert_eq!(
        e.service_provider.as_ref().unwrap().reference.as_deref(),
        Some("Organization/hie-sandbox-facility")
    );
    assert_eq!(
        e.appointment[0].reference.as_deref(),
        Some("Appointment/a1")
    );
    assert!(e.period.as_ref().unwrap().start.is_some());
    assert_eq!(e.participant.len(), 1);
    assert_eq!(
        e.participant[0]
            .individual
            .as_ref()
            .unwrap()
            .reference
            .as_deref(),
        Some(format!("Practitioner/{DOCTOR}").as_str())
    );
    assert_eq!(
        e.participant[0].type_[0].code_of(PARTICIPATION_TYPE_SYSTEM),
        Some("PPRF")
    );
    assert!(e
        .identifier
        .iter()
        .any(|i| i.has_system(ENCOUNTER_ID_SYSTEM)));
    assert!(e.meta.as_ref().unwrap().profile[0]
        .as_str()
        .ends_with("Encounter-my-core"));
    assert!(validate(&Resource::from(e.clone())).is_valid());

    // A new token: a Jitsi session HIE created at check-in.
    let token = c.token().unwrap().to_owned();
    let session = sandbox.jitsi_session(&token).expect("session created");
    assert_eq!(session.origin, SessionOrigin::CheckIn);
    let vc = VcEncounter::from_encounter(e).unwrap();
    assert_eq!(vc.token.as_deref(), Some(token.as_str()));

    // Stored: readable through the FHIR API.
    let read = client
        .read::<Encounter>(c.encounter_id())
        .send()
        .await
        .unwrap();
    assert_eq!(read.version_id.as_deref(), Some("1"));

    // Exactly one event, the stored Encounter.
    let events = listen(&sandbox, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].encounter_id(), Some(c.encounter_id()));
    let vc = events[0].vc().expect("a VC Encounter");
    assert_eq!(vc.token.as_deref(), Some(token.as_str()));
    assert_eq!(vc.vc_type, VcType::Vci);
    assert_eq!(sandbox.events().len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn vce_check_in_uses_the_appointments_token_for_every_patient() {
    let (sandbox, client) = start_seeded().await;
    let token = "vce-session-token-1";
    client
        .update(vce_appointment("v1", "p1", token))
        .send()
        .await
        .unwrap();
    client
        .update(vce_appointment("v2", "p2", token))
        .send()
        .await
        .unwrap();
    let c1 = sandbox.check_in("v1").await.unwrap();
    let c2 = sandbox.check_in("v2").await.unwrap();
    assert_eq!(c1.vc_type, VcType::Vce);
    assert_eq!(c1.token(), Some(token));
    assert_eq!(c2.token(), Some(token));
    assert_ne!(c1.encounter_id(), c2.encounter_id());
    // No session was made by HIE for a VCE check-in.
    assert!(sandbox.jitsi_sessions().is_empty());
    let found = client.find_encounters_by_vc_token(token).await.unwrap();
    assert_eq!(found.len(), 2);

    let events = listen(&sandbox, 2).await;
    let mut got: Vec<&str> = events.iter().filter_map(|e| e.encounter_id()).collect();
    got.sort_unstable();
    let mut want = vec![c1.encounter_id(), c2.encounter_id()];
    want.sort_unstable();
    assert_eq!(got, want);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn checking_in_twice_publishes_once() {
    let (sandbox, client) = start_seeded().await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    let first = sandbox.check_in("a1").await.unwrap();
    let again = sandbox.check_in("a1").await.unwrap();
    assert!(!again.created);
    assert!(again.delivery.is_none());
    assert_eq!(first.encounter_id(), again.encounter_id());
    assert_eq!(first.token(), again.token());
    assert_eq!(sandbox.resources("Encounter").len(), 1);
    assert_eq!(sandbox.jitsi_sessions().len(), 1);
    assert_eq!(listen(&sandbox, 1).await.len(), 1);
    assert_eq!(sandbox.broker().unwrap().records(sandbox.topic()).len(), 1);

    // Republishing is explicit.
    sandbox.republish(first.encounter_id()).await.unwrap();
    assert_eq!(sandbox.broker().unwrap().records(sandbox.topic()).len(), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn check_in_refusals() {
    let (sandbox, client) = start_seeded().await;
    let status = |e: Error| match e {
        Error::Fhir(f) => f.status(),
        other => panic!("a FHIR error expected, got {other}"),
    };
    assert_eq!(status(sandbox.check_in("nope").await.unwrap_err()), 404);

    let mut cancelled = vci_appointment("a-x", "p1");
    cancelled.status = Some(AppointmentStatus::Cancelled);
    client.update(cancelled).send().await.unwrap();
    assert_eq!(status(sandbox.check_in("a-x").await.unwrap_err()), 409);

    // Two patients: the one checking in must be named.
    let mut group = vce_appointment("g1", "p1", "tok-g");
    group
        .participant
        .push(hie_vc::fhir::AppointmentParticipant {
            actor: Some(hie_vc::fhir::Reference::to("Patient", "p2").with_display("Ahmad")),
            status: Some(hie_vc::fhir::ParticipationStatus::Accepted),
            ..Default::default()
        });
    client.update(group).send().await.unwrap();
    assert_eq!(status(sandbox.check_in("g1").await.unwrap_err()), 409);
    let c = sandbox.check_in_patient("g1", "Patient/p2").await.unwrap();
    assert_eq!(
        c.encounter.subject.unwrap().reference.as_deref(),
        Some("Patient/p2")
    );
    assert_eq!(
        status(sandbox.check_in_patient("g1", "p9").await.unwrap_err()),
        422
    );

    client
        .delete::<hie_vc::fhir::Appointment>("a-x")
        .send()
        .await
        .unwrap();
    assert_eq!(status(sandbox.check_in("a-x").await.unwrap_err()), 410);
    // Nothing was published for the refusals.
    assert_eq!(sandbox.events().len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bundle_payload_and_the_admin_endpoint() {
    let (sandbox, client) = start_with(
        SandboxConfig::default()
            .seed(base_resources())
            .payload(EventPayload::Bundle)
            .mark_appointment_arrived(true),
    )
    .await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/check-in/a1", sandbox.admin_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let enc = Resource::from_json(&r.bytes().await.unwrap()).unwrap();
    assert!(location.ends_with(&format!("/fhir/Encounter/{}", enc.id().unwrap())));
    let r = http
        .post(format!("{}/check-in/a1", sandbox.admin_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "already checked in");
    let r = http
        .post(format!("{}/check-in/none", sandbox.admin_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The Appointment was set to arrived (a new version).
    assert_eq!(sandbox.version_count("Appointment", "a1"), 2);
    // The event is a Bundle with the Encounter, its Patient and its Appointment.
    let events = listen(&sandbox, 1).await;
    assert_eq!(events.len(), 1);
    let mut included: Vec<&str> = events[0]
        .included()
        .iter()
        .map(|i| i.resource.resource_type())
        .collect();
    included.sort_unstable();
    assert_eq!(included, ["Appointment", "Patient"]);
    let r = http
        .get(format!("{}/events", sandbox.admin_base()))
        .send()
        .await
        .unwrap();
    let events: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(events[0]["appointmentId"], "a1");
    sandbox.shutdown().await;
}

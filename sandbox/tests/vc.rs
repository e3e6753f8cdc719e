//! The VC workflow (`hie_vc::vc`) on the embedded sandbox, for the steps before an Encounter
//! arrives (create the session, schedule, book against a slot's quota) and a VCE session with
//! two patients started and finished once for both. Failures of single requests are in
//! core/tests/vc.rs (scripted servers); the CLI demo's flows are in cli/tests/vc.rs.

mod support;

use std::sync::Arc;

use hie_vc::jitsi::{Participant, RestJitsi};
use hie_vc::mycore::{SlotBuilder, SlotQuota, VcType};
use hie_vc::notify::NotificationClient;
use hie_vc::vc::VirtualConsultation;
use hie_vc::Error;
use hie_vc_sandbox::{Faults, Sandbox, Service};
use support::{schedule, start_seeded, vce_appointment, SPECIALTY};

/// A seeded sandbox and the workflow over its three services; the HIE client does not retry,
/// so an injected outage surfaces at once.
async fn workflow() -> (Sandbox, VirtualConsultation) {
    let (sandbox, hie) = start_seeded().await;
    let jitsi = RestJitsi::new(sandbox.jitsi_config().build().unwrap()).unwrap();
    let notifier = NotificationClient::new(sandbox.notification_config().build().unwrap()).unwrap();
    let vc = VirtualConsultation::builder(hie)
        .jitsi(Arc::new(jitsi))
        .notifier(Arc::new(notifier))
        .build()
        .unwrap();
    (sandbox, vc)
}

/// The failing step and the completed ones, as names (the step's type may change; its name
/// is the contract).
fn step_of(e: &Error) -> (Option<String>, Vec<String>) {
    (
        e.step().map(|s| s.to_string()),
        e.completed_steps().iter().map(|s| s.to_string()).collect(),
    )
}

fn slot(id: &str, token: &str, quota: i64) -> hie_vc::fhir::Slot {
    SlotBuilder::new(id, VcType::Vce)
        .schedule("vce-sch")
        .specialty(SPECIALTY)
        .quota(quota)
        .available(quota)
        .token(token)
        .period("2024-05-02T14:00:00+08:00", "2024-05-02T15:00:00+08:00")
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vce_session_books_its_slot_full_then_starts_and_finishes_once_for_all() {
    let (sandbox, vc) = workflow().await;
    let token = vc.create_session().await.unwrap().token;
    let scheduled = vc
        .schedule(
            schedule("vce-sch", VcType::Vce, Some(&token)),
            vec![slot("vce-slt", &token, 2)],
        )
        .await
        .unwrap();
    assert_eq!(scheduled.outcome.entries.len(), 2);

    let mut left = Vec::new();
    for (appointment, patient) in [("vce-a1", "p1"), ("vce-a2", "p2")] {
        let booked = vc
            .book(
                vce_appointment(appointment, patient, &token),
                Some("vce-slt"),
            )
            .await
            .unwrap();
        assert_eq!(booked.appointment_id, appointment);
        let (slot, quota) = booked.slot.unwrap();
        assert_eq!(slot, "vce-slt");
        left.push(quota);
    }
    let quota = |available| SlotQuota {
        quota: 2,
        available,
    };
    assert_eq!(left, [quota(1), quota(0)]);
    let e = vc
        .book(vce_appointment("vce-a3", "p1", &token), Some("vce-slt"))
        .await
        .unwrap_err();
    assert_eq!(step_of(&e), (Some("book".to_owned()), vec![]), "{e}");
    assert!(
        sandbox.resource("Appointment", "vce-a3").is_none(),
        "not stored"
    );

    // Both patients check in; the first arrival notifies the whole session, the second no one.
    let doctor = Participant::practitioner("prac-1", "DR AMINAH");
    let first = sandbox.check_in("vce-a1").await.unwrap();
    let started = vc.start(&first.encounter, &doctor, &[]).await.unwrap();
    assert_eq!(started.encounter.token.as_deref(), Some(token.as_str()));
    let mut notified = started.notified.clone();
    notified.sort();
    assert_eq!(notified, ["880101015555", "950728106051"]);
    let second = sandbox.check_in("vce-a2").await.unwrap();
    let again = vc.start(&second.encounter, &doctor, &[]).await.unwrap();
    assert!(!again.activated_now && again.notified.is_empty());
    assert_eq!(again.already_notified.len(), 2);
    assert_eq!(sandbox.notifications().len(), 1);
    assert_eq!(sandbox.jitsi_session(&token).unwrap().activations, 1);

    // Each Encounter is finished; the shared session is ended once.
    let a = vc.finish(first.encounter_id()).await.unwrap();
    let b = vc.finish(second.encounter_id()).await.unwrap();
    assert!(a.written.is_some() && b.written.is_some());
    assert!(a.ended.is_some() && b.ended.is_none(), "{a:?} {b:?}");
    assert!(sandbox.jitsi_session(&token).unwrap().is_ended());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_before_arrival_name_themselves_when_their_service_is_down() {
    let (sandbox, vc) = workflow().await;
    sandbox.set_faults(Service::Jitsi, Faults::down()).unwrap();
    let e = vc.create_session().await.unwrap_err();
    assert_eq!(
        step_of(&e),
        (Some("create_session".to_owned()), vec![]),
        "{e}"
    );
    sandbox.clear_faults();
    let token = vc.create_session().await.unwrap().token;

    sandbox.set_faults(Service::Fhir, Faults::down()).unwrap();
    let sched = schedule("vce-sch", VcType::Vce, Some(&token));
    let e = vc
        .schedule(sched.clone(), vec![slot("vce-slt", &token, 1)])
        .await
        .unwrap_err();
    assert_eq!(step_of(&e), (Some("schedule".to_owned()), vec![]), "{e}");
    let e = vc
        .book(vce_appointment("vce-a1", "p1", &token), Some("vce-slt"))
        .await
        .unwrap_err();
    assert_eq!(step_of(&e), (Some("book".to_owned()), vec![]), "{e}");
    assert!(sandbox.resource("Schedule", "vce-sch").is_none());

    sandbox.clear_faults();
    vc.schedule(sched, vec![slot("vce-slt", &token, 1)])
        .await
        .unwrap();
    vc.book(vce_appointment("vce-a1", "p1", &token), Some("vce-slt"))
        .await
        .unwrap();
    assert!(sandbox.resource("Appointment", "vce-a1").is_some());
    sandbox.shutdown().await;
}

//! Batch and transaction on the sandbox: the core's scheduling and booking bundles, all-or-
//! nothing failure, `urn:uuid:` references, If-Match in entries, and independent batch entries.

mod support;

use hie_vc::fhir::{
    Bundle, BundleEntry, BundleEntryRequest, BundleType, HttpVerb, Patient, Reference, Resource,
    Slot, Uri,
};
use hie_vc::hie::Method;
use hie_vc::mycore::{booking_bundle, scheduling_bundle, QuotaWire, SlotQuota, VcType};
use hie_vc::ErrorKind;
use support::*;

#[tokio::test]
async fn scheduling_and_booking_transactions() {
    let (sandbox, client) = start_seeded().await;
    let sched = schedule("sch-1", VcType::Vci, None);
    let slots = [
        slot(
            "sl-1",
            "sch-1",
            VcType::Vci,
            None,
            "2024-05-01T09:00:00+08:00",
            "2024-05-01T09:30:00+08:00",
        ),
        slot(
            "sl-2",
            "sch-1",
            VcType::Vci,
            None,
            "2024-05-01T10:00:00+08:00",
            "2024-05-01T10:30:00+08:00",
        ),
    ];
    let b = scheduling_bundle(&sched, &slots, Some(&sandbox.fhir_base())).unwrap();
    let out = client.send_scheduling_bundle(b).send().await.unwrap();
    assert!(out.is_success());
    assert_eq!(out.entries.len(), 3);
    assert!(out.entries.iter().all(|e| e.status == 201));
    assert_eq!(
        out.entries[1].location.as_deref(),
        Some("Slot/sl-1/_history/1")
    );

    // Booking: the Appointment and the Slot with one place less, If-Match on the Slot.
    let slot_now = client
        .read::<Slot>("sl-1")
        .send()
        .await
        .unwrap()
        .into_resource();
    let appt = vci_appointment("a-book", "p1");
    let b = booking_bundle(&appt, &slot_now, QuotaWire::Integer, None).unwrap();
    let out = client.send_booking_bundle(b).send().await.unwrap();
    assert!(out.is_success(), "{:?}", out.failures().collect::<Vec<_>>());
    let Some(Resource::Slot(stored)) = sandbox.resource("Slot", "sl-1") else {
        panic!("slot stored")
    };
    assert_eq!(SlotQuota::read(&stored).unwrap().0.available, 4);
    let Some(Resource::Appointment(a)) = sandbox.resource("Appointment", "a-book") else {
        panic!("appointment stored")
    };
    assert_eq!(a.slot[0].reference.as_deref(), Some("Slot/sl-1"));

    // The same booking again carries the stale Slot version: the whole transaction fails,
    // and the Appointment it also carries is not written a second time.
    let again = booking_bundle(
        &vci_appointment("a-book-2", "p2"),
        &slot_now,
        QuotaWire::Integer,
        None,
    )
    .unwrap();
    let e = client.send_booking_bundle(again).send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PreconditionFailed);
    assert!(e
        .outcome()
        .unwrap()
        .summary()
        .contains("nothing was applied"));
    assert!(sandbox.resource("Appointment", "a-book-2").is_none());
    assert_eq!(sandbox.version_count("Slot", "sl-1"), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_transaction_is_all_or_nothing() {
    let (sandbox, client) = start_seeded().await;
    // The second Appointment violates MY Core (no specialty): nothing is stored.
    let good = vci_appointment("t-good", "p1");
    let mut bad = vci_appointment("t-bad", "p2");
    bad.specialty.clear();
    let e = client
        .transaction()
        .update(good.clone())
        .update(bad)
        .update(patient("p-new", "900101015555", "New Patient"))
        .validate(false)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
    let text = e.outcome().unwrap().summary();
    assert!(
        text.contains("entry 1") && text.contains("specialty"),
        "{text}"
    );
    assert!(sandbox.resource("Appointment", "t-good").is_none());
    assert!(sandbox.resource("Patient", "p-new").is_none());

    // A dangling reference fails it too (checked after every entry ran).
    let mut dangling = vci_appointment("t-dangling", "p1");
    dangling.participant[1].actor = Some(Reference::to("Patient", "p-missing").with_display("X"));
    let e = client
        .transaction()
        .update(good.clone())
        .update(dangling)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
    assert!(e.outcome().unwrap().summary().contains("Patient/p-missing"));
    assert!(sandbox.resource("Appointment", "t-good").is_none());

    // ... unless the referenced Patient comes in the same transaction.
    let mut with_patient = vci_appointment("t-dangling", "p-missing");
    with_patient.id = hie_vc::fhir::Id::new("t-ok").ok();
    let out = client
        .transaction()
        .update(with_patient)
        .update(patient("p-missing", "900101015555", "Late Patient"))
        .send()
        .await
        .unwrap();
    assert!(out.is_success());
    assert!(sandbox.resource("Appointment", "t-ok").is_some());

    // Naming one resource twice is refused.
    let e = client
        .transaction()
        .update(good.clone())
        .update(good)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn urn_uuid_references_resolve_to_assigned_ids() {
    let (sandbox, client) = start_seeded().await;
    let mut p = patient("x", "910503145678", "Nurul Huda");
    p.id = None;
    let mut appt = vci_appointment("a-urn", "p1");
    appt.participant[1].actor = Some(Reference {
        reference: Some("urn:uuid:7f1c7b2e-0000-4000-8000-000000000001".into()),
        type_: Uri::new("Patient").ok(),
        display: Some("Nurul Huda".into()),
        ..Reference::default()
    });
    let out = client
        .transaction()
        .update(appt)
        .create_with_full_url(p, "urn:uuid:7f1c7b2e-0000-4000-8000-000000000001")
        .validate(false)
        .send()
        .await
        .unwrap();
    assert!(out.is_success());
    let new_id = out.entries[1].id.clone().unwrap();
    let Some(Resource::Appointment(a)) = sandbox.resource("Appointment", "a-urn") else {
        panic!("stored")
    };
    assert_eq!(
        a.participant[1]
            .actor
            .as_ref()
            .unwrap()
            .reference
            .as_deref(),
        Some(format!("Patient/{new_id}").as_str())
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn batch_entries_succeed_or_fail_alone() {
    let (sandbox, client) = start_seeded().await;
    let mut bad = vci_appointment("b-bad", "p1");
    bad.specialty.clear();
    let out = client
        .batch()
        .update(vci_appointment("b-good", "p1"))
        .update(bad)
        .read("Patient", "p1")
        .read("Patient", "nope")
        .search(
            "Patient",
            hie_vc::hie::SearchParams::new().param("_id", "p2"),
        )
        .delete("Patient", "p2")
        .validate(false)
        .send()
        .await
        .unwrap();
    let statuses: Vec<u16> = out.entries.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [201, 422, 200, 404, 200, 200]);
    assert!(out.entries[1]
        .outcome
        .as_ref()
        .unwrap()
        .summary()
        .contains("specialty"));
    match &out.entries[4].resource {
        Some(Resource::Bundle(b)) => assert_eq!(b.resources().count(), 1),
        other => panic!("search result Bundle expected, got {other:?}"),
    }
    assert!(sandbox.resource("Appointment", "b-good").is_some());
    assert!(sandbox.resource("Patient", "p2").is_none());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_guides_put_base_variant_and_bad_bundles() {
    let (sandbox, client) = start_seeded().await;
    let out = client
        .transaction()
        .update(patient("p-put", "910503145678", "Nurul"))
        .method(Method::PUT)
        .send()
        .await
        .unwrap();
    assert!(out.is_success());
    assert!(sandbox.resource("Patient", "p-put").is_some());

    // A Bundle of another type, and an entry without request, are refused.
    let http = reqwest::Client::new();
    let mut b = Bundle::new(BundleType::Collection);
    b.entry.push(BundleEntry {
        resource: Some(Patient::default().into()),
        ..BundleEntry::default()
    });
    let r = http
        .post(sandbox.fhir_base())
        .header("content-type", "application/fhir+json")
        .body(hie_vc::fhir::to_json(&b))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut b = Bundle::new(BundleType::Transaction);
    b.entry.push(BundleEntry {
        request: Some(BundleEntryRequest {
            method: Some(HttpVerb::Post),
            url: Uri::new("Observation").ok(),
            ..BundleEntryRequest::default()
        }),
        resource: Some(Patient::default().into()),
        ..BundleEntry::default()
    });
    let r = http
        .post(format!("{}/", sandbox.fhir_base()))
        .header("content-type", "application/fhir+json")
        .body(hie_vc::fhir::to_json(&b))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "unsupported type in an entry");
    sandbox.shutdown().await;
}

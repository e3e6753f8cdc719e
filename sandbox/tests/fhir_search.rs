//! Search on the sandbox through the core's `HieClient`: every supported parameter kind,
//! paging through `next` links, `_include`, `_sort`, and the refusal of what is not supported.

mod support;

use futures::TryStreamExt;
use hie_vc::fhir::{Appointment, Encounter, EncounterStatus, Patient, Slot};
use hie_vc::hie::Prefix;
use hie_vc::mycore::consts::{MYKAD_SYSTEM, VC_TOKEN_SYSTEM};
use hie_vc::mycore::VcType;
use hie_vc::ErrorKind;
use support::*;

fn ids<T>(items: &[T], id: impl Fn(&T) -> String) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(id).collect();
    v.sort();
    v
}

fn appt_id(a: &Appointment) -> String {
    a.id.as_ref().unwrap().as_str().to_owned()
}

#[tokio::test]
async fn search_by_id_identifier_patient_status_date_and_token() {
    let (sandbox, client) = start_seeded().await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    client
        .update(vci_appointment("a2", "p2"))
        .send()
        .await
        .unwrap();
    client
        .update(vce_appointment("a3", "p1", "tok-vce-1"))
        .send()
        .await
        .unwrap();
    let mut cancelled = vci_appointment("a4", "p2");
    cancelled.status = Some(hie_vc::fhir::AppointmentStatus::Cancelled);
    client.update(cancelled).send().await.unwrap();

    let by = |name: &'static str, value: &'static str| {
        let c = client.clone();
        async move {
            c.search::<Appointment>()
                .param(name, value)
                .all()
                .await
                .unwrap()
        }
    };
    assert_eq!(ids(&by("_id", "a2").await, appt_id), ["a2"]);
    assert_eq!(ids(&by("_id", "a2,a3").await, appt_id), ["a2", "a3"]);
    assert_eq!(ids(&by("patient", "p1").await, appt_id), ["a1", "a3"]);
    assert_eq!(
        ids(&by("patient", "Patient/p2").await, appt_id),
        ["a2", "a4"]
    );
    // `patient` only follows Patient references.
    assert!(by("patient", DOCTOR).await.is_empty());
    assert_eq!(ids(&by("practitioner", DOCTOR).await, appt_id).len(), 4);
    assert_eq!(ids(&by("status", "cancelled").await, appt_id), ["a4"]);
    assert_eq!(
        ids(&by("status:not", "cancelled").await, appt_id),
        ["a1", "a2", "a3"]
    );
    assert_eq!(ids(&by("vc-token", "tok-vce-1").await, appt_id), ["a3"]);
    assert_eq!(ids(&by("service-type", "VCE").await, appt_id), ["a3"]);
    // date: VCI appointments are on 1 May, the VCE one on 2 May (Malaysian time).
    assert_eq!(
        ids(&by("date", "2024-05-01").await, appt_id),
        ["a1", "a2", "a4"]
    );
    assert_eq!(ids(&by("date", "ge2024-05-02").await, appt_id), ["a3"]);
    assert_eq!(ids(&by("date", "lt2024-05-02").await, appt_id).len(), 3);
    assert_eq!(ids(&by("date", "gt2024-05-01").await, appt_id), ["a3"]);
    assert_eq!(
        ids(&by("date", "le2024-05-01T10:00:00+08:00").await, appt_id).len(),
        3
    );
    assert_eq!(ids(&by("date", "eq2024-05").await, appt_id).len(), 4);
    assert!(by("date", "2023").await.is_empty());

    // The typed client helpers.
    let r = client
        .search::<Appointment>()
        .identifier(VC_TOKEN_SYSTEM, "tok-vce-1")
        .all()
        .await
        .unwrap();
    assert_eq!(ids(&r, appt_id), ["a3"]);
    let r = client
        .search::<Appointment>()
        .reference("patient", "Patient", "p1")
        .date("date", Prefix::Ge, "2024-05-01T00:00:00+08:00")
        .all()
        .await
        .unwrap();
    assert_eq!(ids(&r, appt_id), ["a1", "a3"]);

    // Patients: identifier system|value, |value, system| and names.
    let found = client
        .search::<Patient>()
        .identifier(MYKAD_SYSTEM, "880101015555")
        .all()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let found = client
        .search::<Patient>()
        .param("identifier", format!("{MYKAD_SYSTEM}|"))
        .all()
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let found = client
        .search::<Patient>()
        .param("name", "siti")
        .all()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let found = client
        .search::<Patient>()
        .param("identifier", "http://other/system|880101015555")
        .all()
        .await
        .unwrap();
    assert!(found.is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn encounters_by_appointment_subject_and_vc_token() {
    let (sandbox, client) = start_seeded().await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    client
        .update(vci_appointment("a2", "p2"))
        .send()
        .await
        .unwrap();
    let c1 = sandbox.check_in("a1").await.unwrap();
    let c2 = sandbox.check_in("a2").await.unwrap();

    let found = client
        .find_encounter_for_appointment("a1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.as_ref().unwrap().as_str(), c1.encounter_id());
    let by_token = client
        .find_encounters_by_vc_token(c2.token().unwrap())
        .await
        .unwrap();
    assert_eq!(by_token.len(), 1);
    assert_eq!(by_token[0].id.as_ref().unwrap().as_str(), c2.encounter_id());
    let by_subject = client
        .search::<Encounter>()
        .param("subject", "Patient/p2")
        .all()
        .await
        .unwrap();
    assert_eq!(by_subject.len(), 1);
    let arrived = client
        .search::<Encounter>()
        .param("status", "arrived")
        .param("class", "VR")
        .all()
        .await
        .unwrap();
    assert_eq!(arrived.len(), 2);
    // Encounter.period is open-ended: it matches every day from its start on.
    let future = client
        .search::<Encounter>()
        .param("date", "ge2999-01-01")
        .all()
        .await
        .unwrap();
    assert_eq!(future.len(), 2);
    let mut fin = found.clone();
    fin.status = Some(EncounterStatus::Finished);
    client.update(fin).send().await.unwrap();
    let arrived = client
        .search::<Encounter>()
        .param("status", "arrived")
        .all()
        .await
        .unwrap();
    assert_eq!(arrived.len(), 1);

    // _include brings the Patient and the Appointment.
    let page = client
        .search::<Encounter>()
        .param("_id", c1.encounter_id())
        .include("Encounter:patient")
        .include("Encounter:appointment")
        .send()
        .await
        .unwrap();
    assert_eq!(page.matches.len(), 1);
    let mut inc: Vec<&str> = page.included.iter().map(|r| r.resource_type()).collect();
    inc.sort_unstable();
    assert_eq!(inc, ["Appointment", "Patient"]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn paging_follows_next_links_to_the_end() {
    let (sandbox, client) = start_seeded().await;
    client
        .update(schedule("sch-1", VcType::Vci, None))
        .send()
        .await
        .unwrap();
    for i in 0..23 {
        let start = format!("2024-06-{:02}T09:00:00+08:00", i + 1);
        let end = format!("2024-06-{:02}T09:30:00+08:00", i + 1);
        client
            .update(slot(
                &format!("s{i:02}"),
                "sch-1",
                VcType::Vci,
                None,
                &start,
                &end,
            ))
            .send()
            .await
            .unwrap();
    }
    let first = client
        .search::<Slot>()
        .param("schedule", "Schedule/sch-1")
        .count(10)
        .send()
        .await
        .unwrap();
    assert_eq!(first.matches.len(), 10);
    assert_eq!(first.total, Some(23));
    assert!(first.has_next());
    let second = client.next_page(&first).await.unwrap().unwrap();
    assert_eq!(second.matches.len(), 10);
    let third = client.next_page(&second).await.unwrap().unwrap();
    assert_eq!(third.matches.len(), 3);
    assert!(!third.has_next());

    let all: Vec<Slot> = client
        .search::<Slot>()
        .count(4)
        .sort("-start")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 23);
    let starts: Vec<String> = all
        .iter()
        .map(|s| s.start.as_ref().unwrap().to_string())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(starts, sorted, "sorted by start, descending, across pages");
    let mut unique = ids(&all, |s| s.id.as_ref().unwrap().as_str().to_owned());
    unique.dedup();
    assert_eq!(unique.len(), 23);

    // _summary=count: the total only.
    let count = client
        .search::<Slot>()
        .param("_summary", "count")
        .send()
        .await
        .unwrap();
    assert_eq!((count.total, count.matches.len()), (Some(23), 0));
    // POST _search gives the same.
    let posted = client
        .search::<Slot>()
        .param("start", "ge2024-06-20")
        .via_post()
        .all()
        .await
        .unwrap();
    assert_eq!(posted.len(), 4);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn unsupported_search_is_refused_unless_lenient() {
    let (sandbox, client) = start().await;
    let e = client
        .search::<Patient>()
        .param("shoe-size", "42")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    assert!(e.outcome().unwrap().summary().contains("shoe-size"));
    let e = client
        .search::<Encounter>()
        .param("date", "2024-13-01")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    let e = client
        .search::<Encounter>()
        .param("subject.name", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::BadRequest,
        "chained parameters are not emulated"
    );

    let page = client
        .search::<Patient>()
        .param("shoe-size", "42")
        .header(
            hie_vc::hie::HeaderName::from_static("prefer"),
            hie_vc::hie::HeaderValue::from_static("handling=lenient"),
        )
        .send()
        .await
        .unwrap();
    assert!(page.outcome.unwrap().summary().contains("shoe-size"));
    sandbox.shutdown().await;
}

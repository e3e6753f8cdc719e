//! The FHIR instance interactions of the sandbox, driven by the core's `HieClient`, plus the
//! header-level contract (ETag, Location, Prefer, content types) checked with raw HTTP.

mod support;

use hie_vc::fhir::{Encounter, Id, Patient, Resource};
use hie_vc::hie::Prefer;
use hie_vc::ErrorKind;
use hie_vc_sandbox::{FhirAuth, SandboxConfig};
use support::*;

#[tokio::test]
async fn create_read_vread_update_delete_history() {
    let (sandbox, client) = start().await;

    // create: the server ignores the body's id and assigns one.
    let mut p = patient("ignored", "950728106051", "Siti Aminah");
    p.id = Id::new("ignored").ok();
    let created = client.create(p).send().await.unwrap();
    assert_eq!(created.status, 201);
    let id = created.id.clone().unwrap();
    assert_ne!(id, "ignored");
    assert_eq!(created.version_id.as_deref(), Some("1"));
    assert!(created
        .location
        .as_deref()
        .unwrap()
        .ends_with(&format!("/fhir/Patient/{id}/_history/1")));
    assert!(created.resource().is_some());

    // read.
    let read = client.read::<Patient>(&id).send().await.unwrap();
    assert_eq!(read.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(
        read.resource().identifier[0].value.as_deref(),
        Some("950728106051")
    );
    assert!(read.last_modified.is_some());

    // update: 200 and version 2.
    let mut changed = read.resource().clone();
    changed.active = Some(true);
    let updated = client.update(changed).send().await.unwrap();
    assert_eq!(
        (updated.status, updated.version_id.as_deref()),
        (200, Some("2"))
    );

    // vread both versions.
    let v1 = client.vread::<Patient>(&id, "1").send().await.unwrap();
    assert_eq!(v1.resource().active, None);
    let v2 = client.vread::<Patient>(&id, "2").send().await.unwrap();
    assert_eq!(v2.resource().active, Some(true));
    let e = client.vread::<Patient>(&id, "9").send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    // delete, then 410 on read and on vread of the deletion, 200 on vread of an older version.
    let deleted = client.delete::<Patient>(&id).send().await.unwrap();
    assert_eq!(deleted.status, 200);
    assert_eq!(
        client.read::<Patient>(&id).send().await.unwrap_err().kind(),
        ErrorKind::Gone
    );
    assert_eq!(
        client
            .vread::<Patient>(&id, "3")
            .send()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Gone
    );
    assert!(client.vread::<Patient>(&id, "2").send().await.is_ok());
    // Deleting again: nothing to delete.
    assert_eq!(
        client.delete::<Patient>(&id).send().await.unwrap().status,
        204
    );

    // instance history, newest first, the delete included.
    let h = client.history::<Patient>(&id).send().await.unwrap();
    assert_eq!(h.total, Some(3));
    let methods: Vec<_> = h.entries.iter().map(|e| e.is_delete()).collect();
    assert_eq!(methods, [true, false, false]);
    assert_eq!(h.entries[2].status, Some(201));
    assert_eq!(h.entries[1].version_id.as_deref(), Some("2"));

    // unknown resource: 404; unsupported type: 404.
    assert_eq!(
        client
            .read::<Patient>("nope")
            .send()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        client
            .read_type("Observation", "x")
            .send()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn update_as_create_if_match_and_type_history() {
    let (sandbox, client) = start().await;
    let w = client
        .update(patient("p-own", "950728106051", "Siti"))
        .send()
        .await
        .unwrap();
    assert_eq!(w.status, 201, "PUT to a new id creates");
    assert!(w.created());
    assert!(w.location.unwrap().ends_with("/Patient/p-own/_history/1"));

    let w = client
        .update(patient("p-own", "950728106051", "Siti"))
        .if_match("1")
        .send()
        .await
        .unwrap();
    assert_eq!((w.status, w.version_id.as_deref()), (200, Some("2")));

    // A stale If-Match: 412 with an OperationOutcome naming the conflict.
    let e = client
        .update(patient("p-own", "950728106051", "Siti"))
        .if_match("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PreconditionFailed);
    assert!(e
        .outcome()
        .unwrap()
        .summary()
        .contains("current version is 2"));
    assert_eq!(sandbox.version_count("Patient", "p-own"), 2);

    client
        .update(patient("p-two", "880101015555", "Ahmad"))
        .send()
        .await
        .unwrap();
    let h = client.type_history::<Patient>().send().await.unwrap();
    assert_eq!(h.total, Some(3));
    assert_eq!(
        h.entries[0]
            .resource
            .as_ref()
            .unwrap()
            .id
            .as_ref()
            .unwrap()
            .as_str(),
        "p-two"
    );
    let sys = client.system_history().send().await.unwrap();
    // The seeded service-provider Organization is a version too.
    assert_eq!(sys.total, Some(4));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn mycore_violations_are_422_with_an_operation_outcome() {
    let (sandbox, client) = start_seeded().await;
    // An Encounter without the VC essentials: the client's own validation is turned off so
    // that the server's is what answers.
    let enc = Encounter {
        id: Id::new("e-bad").ok(),
        status: Some(hie_vc::fhir::EncounterStatus::Planned),
        class: Some(hie_vc::fhir::Coding::new(
            hie_vc::mycore::consts::ENCOUNTER_CLASS_SYSTEM,
            "VR",
            None,
        )),
        ..Encounter::default()
    };
    let e = client.update(enc).validate(false).send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
    let oo = e.outcome().expect("OperationOutcome");
    let text = oo.summary();
    assert!(text.contains("encounter-status"), "{text}");
    assert!(text.contains("vc-token-required"), "{text}");
    assert!(text.contains("Encounter.subject"), "{text}");
    assert!(sandbox.resource("Encounter", "e-bad").is_none());

    // A valid Appointment naming a HealthcareService HIE does not know: 422 business rule.
    let mut appt = vci_appointment("a-ref", "p1");
    for p in &mut appt.participant {
        if let Some(a) = p
            .actor
            .as_mut()
            .filter(|a| a.reference.as_deref() == Some("HealthcareService/hs-1"))
        {
            a.reference = Some("HealthcareService/hs-unknown".into());
        }
    }
    let e = client.update(appt).send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
    assert!(e
        .outcome()
        .unwrap()
        .summary()
        .contains("HealthcareService/hs-unknown"));
    // And a valid one is stored.
    let ok = client
        .update(vci_appointment("a-ok", "p1"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status, 201);
    assert!(matches!(
        sandbox.resource("Appointment", "a-ok"),
        Some(Resource::Appointment(_))
    ));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn body_id_must_match_url_id() {
    let (sandbox, _client) = start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/Patient/p-url", sandbox.fhir_base());
    let r = http
        .put(&url)
        .header("content-type", "application/fhir+json")
        .body(r#"{"resourceType":"Patient","id":"p-body"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let oo: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(oo["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("p-body"));
    let r = http
        .put(&url)
        .header("content-type", "application/fhir+json")
        .body(r#"{"resourceType":"Patient"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "an update needs the id in the body");
    let r = http
        .put(&url)
        .header("content-type", "application/fhir+json")
        .body(r#"{"resourceType":"Organization","id":"p-url"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "type mismatch");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn headers_prefer_and_content_types() {
    let (sandbox, client) = start().await;
    let http = reqwest::Client::new();
    let base = sandbox.fhir_base();
    let body = hie_vc::fhir::to_json(&patient("p-h", "950728106051", "Siti"));

    // Prefer: return=minimal: no body, the headers still say what happened.
    let r = http
        .put(format!("{base}/Patient/p-h"))
        .header("content-type", "application/fhir+json")
        .header("prefer", "return=minimal")
        .header("x-request-id", "req-42")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["etag"], "W/\"1\"");
    assert_eq!(r.headers()["x-request-id"], "req-42");
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/fhir/Patient/p-h/_history/1"));
    assert!(r.headers().get("last-modified").is_some());
    assert!(r.bytes().await.unwrap().is_empty());

    // Prefer: return=OperationOutcome.
    let r = http
        .put(format!("{base}/Patient/p-h"))
        .header("content-type", "application/fhir+json")
        .header("prefer", "return=OperationOutcome")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/fhir+json"));
    assert!(r.headers()["content-location"]
        .to_str()
        .unwrap()
        .ends_with("/_history/2"));
    let oo: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");

    // The client's Prefer setting round-trips too.
    let w = client
        .update(patient("p-h", "950728106051", "Siti"))
        .prefer(Prefer::Minimal)
        .send()
        .await
        .unwrap();
    assert!(w.resource().is_none());
    assert_eq!(w.version_id.as_deref(), Some("3"));

    // Wrong content type: 415; XML only: 406; not FHIR JSON: 400 with a location.
    let r = http
        .post(format!("{base}/Patient"))
        .header("content-type", "application/xml")
        .body("<Patient/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = http
        .get(format!("{base}/Patient/p-h"))
        .header("accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    let r = http
        .post(format!("{base}/Patient"))
        .header("content-type", "application/fhir+json")
        .body(r#"{"resourceType":"Patient","gender":7}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let oo: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(oo["issue"][0]["expression"][0], "Patient.gender");
    // A verb a route does not take: 405.
    let r = http.delete(format!("{base}/Patient")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn capability_statement_lists_types_and_search_parameters() {
    let (sandbox, client) = start().await;
    let caps = client.capabilities().send().await.unwrap();
    assert_eq!(caps.fhir_version(), Some("4.0.1"));
    for rt in hie_vc_sandbox::RESOURCE_TYPES {
        assert!(caps.supports(rt, "update"), "{rt}");
        assert!(caps.supports(rt, "delete"), "{rt}");
    }
    let params = caps.search_params("Encounter");
    for p in [
        "vc-token",
        "appointment",
        "patient",
        "date",
        "status",
        "identifier",
        "_id",
    ] {
        assert!(params.contains(&p), "{p} in {params:?}");
    }
    assert!(caps.software().unwrap().contains("emulator"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn delete_can_be_disabled_and_auth_demanded() {
    let (sandbox, client) = start_with(
        SandboxConfig::default()
            .allow_delete(false)
            .fhir_auth(FhirAuth::Bearer("s3cret".into())),
    )
    .await;
    // hie_config() carries the credentials.
    client
        .update(patient("p-d", "950728106051", "Siti"))
        .send()
        .await
        .unwrap();
    let e = client.delete::<Patient>("p-d").send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    let caps = client.capabilities().send().await.unwrap();
    assert!(!caps.supports("Patient", "delete"));

    let r = reqwest::get(format!("{}/Patient/p-d", sandbox.fhir_base()))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    assert!(!format!(
        "{:?}",
        SandboxConfig::default().fhir_auth(FhirAuth::Bearer("s3cret".into()))
    )
    .contains("s3cret"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let (sandbox, _client) = start_with(SandboxConfig::default().max_body_bytes(1024)).await;
    let big = format!(
        r#"{{"resourceType":"Patient","id":"p-big","name":[{{"text":"{}"}}]}}"#,
        "x".repeat(4096)
    );
    let r = reqwest::Client::new()
        .put(format!("{}/Patient/p-big", sandbox.fhir_base()))
        .header("content-type", "application/fhir+json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    sandbox.shutdown().await;
}

//! The HIE client against a real FHIR R4 server nobody here wrote: the Helios FHIR Server
//! (`helios-hfs`, started by `tests/services/helios.sh`). Every interaction of the client is
//! exercised. The server URL comes from `HIEVC_FHIR_URL` (the test command, `tests/run.sh`, starts
//! the server and sets it); the tests are `#[ignore]`d by default and fail without it.
//!
//! Resources get ids unique to the run, so the suite also passes against a server that kept
//! data from an earlier run.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use hie_vc::fhir::{self, Encounter, EncounterStatus, Patient, ReadOptions, Resource, Slot};
use hie_vc::hie::{HieClient, HieConfig, Prefer, SearchParams, WriteKind};
use hie_vc::mycore::consts::VC_TOKEN_SYSTEM;
use hie_vc::mycore::{
    booking_bundle, finish_encounter, scheduling_bundle, AppointmentBuilder, QuotaWire,
    ScheduleBuilder, ScheduleType, SlotBuilder, SlotQuota, VcType,
};
use hie_vc::ErrorKind;
use hie_vc_test_support::service::require;
use serde_json::json;

/// Helios 0.2.7 on in-memory SQLite answers concurrent writes from parallel tests with
/// `500 database table is locked` (a departure: a FHIR server serialises writes itself), so the
/// tests of this file take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static SEARCH_PARAMS: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// The client for the server in `HIEVC_FHIR_URL`, holding this file's turn; panics when the
/// variable is unset.
async fn helios() -> (tokio::sync::MutexGuard<'static, ()>, HieClient) {
    let url = require(
        "HIEVC_FHIR_URL",
        "the Helios FHIR server: tests/services/helios.sh start, then HIEVC_FHIR_URL=http://127.0.0.1:8090",
    );
    let turn = SERIAL.lock().await;
    let c = HieClient::new(HieConfig::builder(url).build().unwrap()).unwrap();
    SEARCH_PARAMS
        .get_or_init(|| register_search_params(&c))
        .await;
    (turn, c)
}

/// Helios installed from crates.io lacks its R4 search-parameter bundle (it reads
/// `./data/search-parameters-r4.json` from a repository checkout and logs that it found none),
/// so it knows only `_id`, `_lastUpdated` and a few more: a departure from R4, where every
/// server supports the standard parameters. The standard definitions these tests search by are
/// registered as SearchParameter resources (PUT, so idempotent), which Helios applies at once.
async fn register_search_params(c: &HieClient) {
    let defs = [
        (
            "individual-family",
            "family",
            "Patient",
            "string",
            "Patient.name.family",
        ),
        (
            "Patient-identifier",
            "identifier",
            "Patient",
            "token",
            "Patient.identifier",
        ),
        (
            "Encounter-appointment",
            "appointment",
            "Encounter",
            "reference",
            "Encounter.appointment",
        ),
        (
            "Encounter-identifier",
            "identifier",
            "Encounter",
            "token",
            "Encounter.identifier",
        ),
    ];
    for (id, code, base, kind, expression) in defs {
        let sp = json!({
            "resourceType": "SearchParameter", "id": id,
            "url": format!("http://hl7.org/fhir/SearchParameter/{id}"),
            "name": code, "status": "active", "description": format!("R4 {base}.{code}"),
            "code": code, "base": [base], "type": kind, "expression": expression
        });
        let r = fhir::read_str::<Resource>(&sp.to_string(), ReadOptions::strict())
            .unwrap()
            .value;
        c.update(r).send().await.unwrap();
    }
}

/// A suffix unique to this test run.
fn run_id() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{:x}{:x}", t.as_secs(), t.subsec_nanos())
}

fn patient(id: Option<&str>, family: &str) -> Patient {
    let mut v = json!({
        "resourceType": "Patient",
        "active": true,
        "name": [{"family": family, "given": ["Test"]}],
        "identifier": [{"system": "urn:hievc:test:mrn", "value": format!("mrn-{family}")}],
        "x-unknown-element": {"kept": true}
    });
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    fhir::read_str::<Patient>(&v.to_string(), ReadOptions::lenient())
        .unwrap()
        .value
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn capabilities() {
    let (_turn, c) = helios().await;
    let caps = c.capabilities().send().await.unwrap();
    assert!(
        caps.fhir_version().unwrap().starts_with("4.0"),
        "{:?}",
        caps.fhir_version()
    );
    assert!(caps.supports("Patient", "read"));
    assert!(caps.supports("Encounter", "update"));
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn create_read_vread() {
    let (_turn, c) = helios().await;
    let family = format!("Create{}", run_id());
    let w = c
        .create(patient(Some("ignored-by-server"), &family))
        .prefer(Prefer::Representation)
        .send()
        .await
        .unwrap();
    assert_eq!((w.status, w.kind), (201, WriteKind::Created));
    let id = w.id.clone().expect("the server assigned an id");
    assert_ne!(id, "ignored-by-server", "create ignores the client's id");
    assert_eq!(w.version_id.as_deref(), Some("1"));
    assert!(w
        .location
        .as_deref()
        .unwrap()
        .contains(&format!("Patient/{id}")));
    let stored = w.into_resource().expect("return=representation");
    assert_eq!(stored.id.as_ref().unwrap().as_str(), id);

    let read = c.read::<Patient>(&id).send().await.unwrap();
    assert_eq!(
        read.resource().name[0].family.as_deref(),
        Some(family.as_str())
    );
    assert_eq!(read.version_id.as_deref(), Some("1"));
    // An element the model does not know survived the server round trip (Helios keeps them).
    assert!(fhir::to_json(read.resource()).contains("x-unknown-element"));

    let v1 = c.vread::<Patient>(&id, "1").send().await.unwrap();
    assert_eq!(v1.into_resource().id.unwrap().as_str(), id);
    let err = c.vread::<Patient>(&id, "99").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = c
        .read::<Patient>(&format!("nope-{}", run_id()))
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::NotFound, Some(404)));
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn update_as_create_then_update_with_if_match() {
    let (_turn, c) = helios().await;
    let id = format!("pt-{}", run_id());
    let w = c.update(patient(Some(&id), "Upd")).send().await.unwrap();
    assert_eq!(
        (w.status, w.kind),
        (201, WriteKind::Created),
        "a new id: update-as-create"
    );
    assert_eq!(w.version_id.as_deref(), Some("1"));

    let mut p = c.read::<Patient>(&id).send().await.unwrap().into_resource();
    p.active = Some(false);
    let w = c.update(p.clone()).if_match_current().send().await.unwrap();
    assert_eq!((w.status, w.kind), (200, WriteKind::Updated));
    assert_eq!(w.version_id.as_deref(), Some("2"));

    // p still says version 1: a stale If-Match is refused, with the server's OperationOutcome.
    let err = c.update(p).if_match_current().send().await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::PreconditionFailed, Some(412)),
        "{err}"
    );
    assert!(
        err.outcome().is_some(),
        "Helios explains the conflict in an OperationOutcome"
    );

    let w = c
        .update(patient(Some(&id), "Upd3"))
        .if_match("2")
        .prefer(Prefer::Minimal)
        .send()
        .await
        .unwrap();
    assert_eq!(w.version_id.as_deref(), Some("3"));
    assert!(w.resource().is_none(), "return=minimal: no body");
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn conditional_create() {
    let (_turn, c) = helios().await;
    let family = format!("Cond{}", run_id());
    let criteria = SearchParams::new().identifier("urn:hievc:test:mrn", &format!("mrn-{family}"));
    let first = c
        .create(patient(None, &family))
        .if_none_exist(criteria.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(first.kind, WriteKind::Created);
    let second = c
        .create(patient(None, &family))
        .if_none_exist(criteria)
        .send()
        .await
        .unwrap();
    assert_eq!((second.status, second.kind), (200, WriteKind::Existing));
    assert_eq!(second.id, first.id, "the match is the first one");
    let all = c
        .search::<Patient>()
        .param("family", &family)
        .all()
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "nothing was created the second time");
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn delete_then_gone() {
    let (_turn, c) = helios().await;
    let id = format!("del-{}", run_id());
    c.update(patient(Some(&id), "Del")).send().await.unwrap();
    let d = c.delete::<Patient>(&id).send().await.unwrap();
    assert!(matches!(d.status, 200 | 204), "{}", d.status);
    let err = c.read::<Patient>(&id).send().await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Gone, Some(410)),
        "{err}"
    );
    // The deleted resource no longer matches a search.
    let hits = c
        .search::<Patient>()
        .param("_id", &id)
        .send()
        .await
        .unwrap();
    assert!(hits.matches.is_empty());
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn instance_and_type_history() {
    let (_turn, c) = helios().await;
    let id = format!("hist-{}", run_id());
    for family in ["H1", "H2", "H3"] {
        c.update(patient(Some(&id), family)).send().await.unwrap();
    }
    let page = c.history::<Patient>(&id).send().await.unwrap();
    let versions: Vec<_> = page
        .entries
        .iter()
        .map(|e| e.version_id.clone().unwrap())
        .collect();
    assert_eq!(versions, ["3", "2", "1"], "newest first");
    let families: Vec<_> = page
        .entries
        .iter()
        .map(|e| e.resource.as_ref().unwrap().name[0].family.clone().unwrap())
        .collect();
    assert_eq!(families, ["H3", "H2", "H1"]);

    // Type history, paged 2 at a time, at least our three versions.
    let entries: Vec<_> = c
        .type_history::<Patient>()
        .count(2)
        .max_entries(6)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(entries.len(), 6, "followed next links across pages of 2");
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn search_paging_over_260_resources() {
    let (_turn, c) = helios().await;
    let family = format!("Page{}", run_id());
    // 260 PUTs in one batch (also a batch of many entries).
    let mut batch = c.batch();
    for i in 0..260 {
        batch = batch.update(patient(Some(&format!("pg{i}-{}", run_id())), &family));
    }
    let out = batch.send().await.unwrap();
    assert!(out.is_success(), "{:?}", out.failures().next());
    assert_eq!(out.entries.len(), 260);

    let first = c
        .search::<Patient>()
        .param("family", &family)
        .count(20)
        .send()
        .await
        .unwrap();
    assert_eq!(first.matches.len(), 20);
    assert!(first.has_next());

    let pages: Vec<_> = c
        .search::<Patient>()
        .param("family", &family)
        .count(20)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 13, "260 / 20");
    assert!(pages.iter().all(|p| p.matches.len() == 20));
    let ids: HashSet<String> = pages
        .iter()
        .flat_map(|p| {
            p.matches
                .iter()
                .map(|m| m.id.as_ref().unwrap().as_str().to_owned())
        })
        .collect();
    assert_eq!(ids.len(), 260, "every resource exactly once");

    // The stream with a cap stops early; POST _search gives the same first page.
    let capped: Vec<Patient> = c
        .search::<Patient>()
        .param("family", &family)
        .count(20)
        .max_results(45)
        .all()
        .await
        .unwrap();
    assert_eq!(capped.len(), 45);
    let posted = c
        .search::<Patient>()
        .param("family", &family)
        .count(20)
        .via_post()
        .send()
        .await
        .unwrap();
    assert_eq!(posted.matches.len(), 20);
    // Paging by hand.
    let second = c.next_page(&first).await.unwrap().unwrap();
    assert_eq!(second.matches.len(), 20);
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn transaction_of_puts_schedule_and_slot() {
    let (_turn, c) = helios().await;
    let r = run_id();
    let (sch_id, slt_id) = (format!("sch-{r}"), format!("slt-{r}"));
    let schedule = ScheduleBuilder::new(&sch_id, VcType::Vci)
        .specialty("149")
        .schedule_type(ScheduleType::Internal)
        .healthcare_service("hs-1", "Klinik Pakar")
        .build()
        .unwrap();
    let slot = SlotBuilder::new(&slt_id, VcType::Vci)
        .schedule(&sch_id)
        .quota(3)
        .specialty("149")
        .period("2024-07-10T09:00:00+08:00", "2024-07-10T09:30:00+08:00")
        .build()
        .unwrap();
    let bundle = scheduling_bundle(&schedule, &[slot], None).unwrap();
    let out = c.send_scheduling_bundle(bundle).send().await.unwrap();
    assert_eq!(
        out.kind,
        Some(hie_vc::fhir::BundleType::TransactionResponse)
    );
    assert_eq!(out.entries.len(), 2);
    for e in &out.entries {
        assert!(e.is_success(), "{e:?}");
        assert_eq!(e.status, 201, "new ids: created");
        assert_eq!(e.version_id.as_deref(), Some("1"));
    }
    assert_eq!(out.entries[1].id.as_deref(), Some(slt_id.as_str()));
    let stored = c
        .read::<Slot>(&slt_id)
        .send()
        .await
        .unwrap()
        .into_resource();
    let (q, _) = SlotQuota::read(&stored).unwrap();
    assert_eq!(
        (q.quota, q.available),
        (3, 3),
        "the quota extension survived the server"
    );
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn batch_with_one_failing_entry() {
    let (_turn, c) = helios().await;
    let r = run_id();
    let out = c
        .batch()
        .update(patient(Some(&format!("b1-{r}")), "Batch"))
        .read("Patient", &format!("missing-{r}"))
        .update(patient(Some(&format!("b2-{r}")), "Batch"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.kind, Some(hie_vc::fhir::BundleType::BatchResponse));
    let statuses: Vec<u16> = out.entries.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [201, 404, 201]);
    let failed: Vec<usize> = out.failures().map(|e| e.index).collect();
    assert_eq!(failed, [1]);
    let e = out.entries[1].error().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        out.entries[2].id.as_deref(),
        Some(format!("b2-{r}").as_str())
    );
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn transaction_is_all_or_nothing() {
    let (_turn, c) = helios().await;
    let r = run_id();
    let ok = format!("tx-ok-{r}");
    let stale = format!("tx-stale-{r}");
    c.update(patient(Some(&stale), "Tx")).send().await.unwrap();
    // The second entry's If-Match is stale: the whole transaction fails.
    let err = c
        .transaction()
        .update(patient(Some(&ok), "Tx"))
        .update_if_match(patient(Some(&stale), "Tx2"), "7")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::PreconditionFailed | ErrorKind::Conflict | ErrorKind::BadRequest
        ),
        "{err}"
    );
    let err = c.read::<Patient>(&ok).send().await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "the first entry was rolled back"
    );
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn vc_flow_conveniences() {
    let (_turn, c) = helios().await;
    let r = run_id();
    let token = format!("tok-{r}");
    let (sch, slt, app) = (
        format!("vsch-{r}"),
        format!("vslt-{r}"),
        format!("vapp-{r}"),
    );
    let schedule = ScheduleBuilder::new(&sch, VcType::Vce)
        .token(&token)
        .specialty("149")
        .schedule_type(ScheduleType::Affiliate)
        .healthcare_service("hs-1", "Communicable Disease")
        .build()
        .unwrap();
    let slot = SlotBuilder::new(&slt, VcType::Vce)
        .schedule(&sch)
        .token(&token)
        .quota(2)
        .specialty("149")
        .period("2024-07-10T21:00:00+08:00", "2024-07-10T22:00:00+08:00")
        .build()
        .unwrap();
    assert!(c.put_schedule(schedule).send().await.unwrap().created());
    let slot_w = c.put_slot(slot).send().await.unwrap();
    assert!(slot_w.created());
    let appt = AppointmentBuilder::vce(&app, &token)
        .specialty("149")
        .healthcare_service("hs-1", "Communicable Disease")
        .patient("pt-1", "SIVAKUMAR")
        .period("2024-07-10T21:00:00+08:00", "2024-07-10T22:00:00+08:00")
        .build()
        .unwrap();
    // Booking: the Appointment and the Slot (available 2 → 1, If-Match on its version).
    let stored_slot = c.read::<Slot>(&slt).send().await.unwrap().into_resource();
    let booking = booking_bundle(&appt, &stored_slot, QuotaWire::Integer, None).unwrap();
    let out = c.send_booking_bundle(booking).send().await.unwrap();
    assert!(out.is_success(), "{:?}", out.failures().next());
    let after = c.read::<Slot>(&slt).send().await.unwrap().into_resource();
    assert_eq!(SlotQuota::read(&after).unwrap().0.available, 1);
    // The same booking again carries a stale If-Match on the Slot: refused as a whole.
    let again = booking_bundle(&appt, &stored_slot, QuotaWire::Integer, None).unwrap();
    assert!(c.send_booking_bundle(again).send().await.is_err());

    assert!(
        c.find_encounter_for_appointment(&app)
            .await
            .unwrap()
            .is_none(),
        "not checked in yet"
    );

    // HIE creates the Encounter at check-in; this test plays HIE, so its seed is not a
    // source-system write and skips client-side validation.
    let enc_id = format!("venc-{r}");
    let enc = json!({
        "resourceType": "Encounter", "id": enc_id, "status": "arrived",
        "identifier": [{"system": VC_TOKEN_SYSTEM, "value": token}],
        "class": {"system": "http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core", "code": "VR", "display": "Virtual"},
        "serviceType": {"coding": [{"system": "http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core", "code": "VCE"}]},
        "subject": {"reference": "Patient/pt-1"},
        "appointment": [{"reference": format!("Appointment/{app}")}],
        "period": {"start": "2024-07-10T21:00:00+08:00"}
    });
    let enc = fhir::read_str::<Encounter>(&enc.to_string(), ReadOptions::strict())
        .unwrap()
        .value;
    c.update(enc).validate(false).send().await.unwrap();

    let found = c
        .find_encounter_for_appointment(&app)
        .await
        .unwrap()
        .expect("found by appointment");
    assert_eq!(found.id.as_ref().unwrap().as_str(), enc_id);
    let by_token = c.find_encounters_by_vc_token(&token).await.unwrap();
    assert_eq!(by_token.len(), 1);
    assert!(c
        .find_encounter_by_vc_token("no-such-token")
        .await
        .unwrap()
        .is_none());

    // Step 9: the source system finishes the Encounter, version-aware.
    let end = fhir::DateTime::new("2024-07-10T21:45:00+08:00").unwrap();
    let finished = finish_encounter(&found, end);
    let w = c
        .put_encounter(finished)
        .if_match_current()
        .validate(false)
        .send()
        .await
        .unwrap();
    assert_eq!(w.kind, WriteKind::Updated);
    let now = c
        .read::<Encounter>(&enc_id)
        .send()
        .await
        .unwrap()
        .into_resource();
    assert_eq!(now.status, Some(EncounterStatus::Finished));
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn dynamic_resources_and_typed_errors() {
    let (_turn, c) = helios().await;
    let id = format!("dyn-{}", run_id());
    let r = Resource::from(patient(Some(&id), "Dyn"));
    let w = c.update(r).send().await.unwrap();
    assert!(w.created());
    let back = c.read_type("Patient", &id).send().await.unwrap();
    assert_eq!(back.resource().resource_type(), "Patient");
    let page = c
        .search_type("Patient")
        .param("_id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(page.matches.len(), 1);
    // A resource type the server does not know.
    let err = c.read_type("NoSuchType", "x").send().await.unwrap_err();
    assert!(
        err.status().is_some_and(|s| (400..500).contains(&s)),
        "{err}"
    );
}

/// A TCP proxy on another port: Helios behind it still names its own base in `Location` and in
/// Bundle links (as HIE behind its gateway may). Counts the requests that went through it.
async fn proxy_to(target: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = tokio::net::TcpStream::connect(&target).await.unwrap();
            let seen = std::sync::Arc::clone(&seen);
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.into_split();
                let (mut ur, mut uw) = upstream.into_split();
                let up = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let text = String::from_utf8_lossy(&buf[..n]);
                        let starts = ["GET /", "PUT /", "POST /", "DELETE /"];
                        let count = text
                            .lines()
                            .filter(|l| starts.iter().any(|s| l.starts_with(s)))
                            .count();
                        seen.fetch_add(count, Ordering::SeqCst);
                        if uw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut ur, &mut cw).await;
                };
                tokio::join!(up, down);
            });
        }
    });
    (format!("http://{addr}/"), requests)
}

#[tokio::test]
#[ignore = "needs the Helios FHIR server: tests/services/helios.sh start; HIEVC_FHIR_URL"]
async fn behind_a_proxy_links_and_locations_from_the_servers_own_base_are_handled() {
    let (_turn, direct) = helios().await;
    let target = direct.config().base_url().socket_addrs(|| None).unwrap()[0].to_string();
    let (base, through_proxy) = proxy_to(target).await;
    let c = HieClient::new(HieConfig::builder(base).build().unwrap()).unwrap();
    let family = format!("Proxy{}", run_id());
    let mut batch = c.batch();
    for i in 0..25 {
        batch = batch.update(patient(Some(&format!("px{i}-{}", run_id())), &family));
    }
    assert!(batch.send().await.unwrap().is_success());

    let w = c.create(patient(None, &family)).send().await.unwrap();
    let location = w.location.clone().unwrap();
    assert!(
        !location.starts_with(c.config().base_url().as_str()),
        "Helios names its own base in Location: {location}"
    );
    let id =
        w.id.expect("the id is read from the end of the Location whatever its base");
    c.read::<Patient>(&id).send().await.unwrap();

    let before = through_proxy.load(std::sync::atomic::Ordering::SeqCst);
    let first = c
        .search::<Patient>()
        .param("family", &family)
        .count(10)
        .send()
        .await
        .unwrap();
    assert!(first
        .next
        .as_deref()
        .unwrap()
        .starts_with(direct.config().base_url().as_str()));
    let all = c
        .search::<Patient>()
        .param("family", &family)
        .count(10)
        .all()
        .await
        .unwrap();
    assert_eq!(all.len(), 26);
    let pages_via_proxy = through_proxy.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(
        pages_via_proxy,
        1 + 3,
        "every next link was followed through the configured base"
    );
}

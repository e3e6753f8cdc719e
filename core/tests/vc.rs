//! The VC workflow (`hie_vc::vc`) against scripted HIE, Jitsi token service and Notification API
//! servers: every step's failure names the step and what was done before it, a second call
//! resumes without repeating what was done, and a redelivered Encounter notifies nobody twice.
//! The servers keep state (the stored Encounter, activations, notifications, ended sessions)
//! and count only what they carried out, so "not repeated" is what the services saw.

mod listener_support;
#[path = "support/server.rs"]
mod server;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hie_vc::fhir::{self, Encounter, ReadOptions, Resource};
use hie_vc::hie::{Auth, HieClient, HieConfig};
use hie_vc::jitsi::{EndOutcome, Participant, RestJitsi, RestJitsiConfig};
use hie_vc::listener::{EncounterEvent, Handler, Listener, MemoryBroker, MemoryRecord, Permanent};
use hie_vc::mycore::consts::{MYKAD_SYSTEM, VC_TOKEN_SYSTEM};
use hie_vc::mycore::VcType;
use hie_vc::notify::{NotificationClient, NotificationConfig};
use hie_vc::vc::VirtualConsultation;
use hie_vc::{Error, ErrorKind};
use listener_support::encounters::vc_encounter;
use listener_support::{recorder, spawn, wait_until};
use serde_json::{json, Value};
use server::{Recorded, Reply, Server};

/// The operations the services carry out; each can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Join,
    Activate,
    SearchAppointments,
    ReadPatient,
    Notify,
    ReadEncounter,
    PutEncounter,
    End,
}

/// What the three services hold and have done.
#[derive(Debug, Default)]
struct World {
    /// Operations answered with this status (without effect) until cleared.
    failing: HashMap<Op, u16>,
    /// Requests carried out, per operation.
    done: BTreeMap<Op, usize>,
    /// Encounters by id: (versionId, JSON).
    encounters: BTreeMap<String, (u32, Value)>,
    /// Appointments of each VCE session, by vc-token.
    appointments: BTreeMap<String, Vec<Value>>,
    /// Patients by id: their MyKad number.
    patients: BTreeMap<String, String>,
    /// The patient ids of every notification sent, in order.
    notifications: Vec<Vec<String>>,
}

type Shared = Arc<Mutex<World>>;

fn failed(status: u16, op: Op) -> Reply {
    Reply::json(
        status,
        json!({ "message": format!("{op:?} failed (injected)") }).to_string(),
    )
}

fn body(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

impl World {
    /// Runs `op` unless it is set to fail; counts it when carried out.
    fn attempt(&mut self, op: Op, act: impl FnOnce(&mut Self) -> Reply) -> Reply {
        if let Some(&status) = self.failing.get(&op) {
            return failed(status, op);
        }
        let reply = act(self);
        *self.done.entry(op).or_default() += 1;
        reply
    }

    fn hie(&mut self, r: &Recorded) -> Reply {
        let path = r.path().trim_start_matches('/').to_owned();
        let parts: Vec<&str> = path.split('/').collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["Encounter", id]) => {
                let id = (*id).to_owned();
                self.attempt(Op::ReadEncounter, |w| match w.encounters.get(&id) {
                    Some((v, enc)) => {
                        Reply::json(200, enc.to_string()).header("ETag", &format!("W/\"{v}\""))
                    }
                    None => Reply::json(404, r#"{"resourceType":"OperationOutcome"}"#),
                })
            }
            ("PUT", ["Encounter", id]) => {
                let id = (*id).to_owned();
                let mut sent = body(r);
                let if_match = r.header("If-Match").map(str::to_owned);
                self.attempt(Op::PutEncounter, |w| {
                    let (v, _) = w.encounters.get(&id).expect("PUT of a known Encounter");
                    let expected = v.to_string();
                    let sent_version = if_match
                        .as_deref()
                        .map(|m| m.trim_start_matches("W/").trim_matches('"'));
                    if sent_version != Some(expected.as_str()) {
                        return Reply::json(412, r#"{"resourceType":"OperationOutcome"}"#);
                    }
                    let v = v + 1;
                    sent["meta"]["versionId"] = json!(v.to_string());
                    w.encounters.insert(id, (v, sent.clone()));
                    Reply::json(200, sent.to_string()).header("ETag", &format!("W/\"{v}\""))
                })
            }
            ("GET", ["Appointment"]) => {
                let wanted = r
                    .target
                    .split_once("identifier=")
                    .map(|(_, q)| q.split('&').next().unwrap_or(""))
                    .map(url_decode)
                    .unwrap_or_default();
                self.attempt(Op::SearchAppointments, |w| {
                    let token = wanted
                        .strip_prefix(&format!("{VC_TOKEN_SYSTEM}|"))
                        .unwrap_or("");
                    let entry: Vec<Value> = w
                        .appointments
                        .get(token)
                        .into_iter()
                        .flatten()
                        .map(|a| json!({ "resource": a, "search": { "mode": "match" } }))
                        .collect();
                    let bundle = json!({
                        "resourceType": "Bundle", "type": "searchset",
                        "total": entry.len(), "entry": entry
                    });
                    Reply::json(200, bundle.to_string())
                })
            }
            ("GET", ["Patient", id]) => {
                let id = (*id).to_owned();
                self.attempt(Op::ReadPatient, |w| match w.patients.get(&id) {
                    Some(n) => Reply::json(200, patient(&id, n).to_string()),
                    None => Reply::json(404, r#"{"resourceType":"OperationOutcome"}"#),
                })
            }
            _ => Reply::json(404, r#"{"resourceType":"OperationOutcome"}"#),
        }
    }

    fn jitsi(&mut self, r: &Recorded) -> Reply {
        let path = r.path().to_owned();
        let action = path.rsplit('/').next().unwrap_or("");
        match action {
            "join" => self.attempt(Op::Join, |_| {
                Reply::json(
                    200,
                    r#"{"token":"join-jwt","url":"https://meet.hie.example/vc?jwt=join-jwt"}"#,
                )
            }),
            "activate" => self.attempt(Op::Activate, |_| Reply::json(200, "{}")),
            "end" => self.attempt(Op::End, |_| Reply::status(204)),
            _ => Reply::json(404, r#"{"message":"unknown"}"#),
        }
    }

    fn notify(&mut self, r: &Recorded) -> Reply {
        match r.path() {
            "/api/v2/user/session" => Reply::json(200, r#"{"token":"notify-token"}"#),
            "/api/v2/notification-script" => {
                let ids: Vec<String> = body(r)["patientIds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                self.attempt(Op::Notify, |w| {
                    w.notifications.push(ids);
                    Reply::json(200, r#"{"status":"sent"}"#)
                })
            }
            _ => Reply::status(404),
        }
    }
}

fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("q={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn patient(id: &str, number: &str) -> Value {
    json!({
        "resourceType": "Patient", "id": id,
        "identifier": [{ "system": MYKAD_SYSTEM, "value": number }],
        "name": [{ "text": format!("Patient {id}") }]
    })
}

fn appointment(id: &str, status: &str, patient_id: &str) -> Value {
    json!({
        "resourceType": "Appointment", "id": id, "status": status,
        "participant": [{ "actor": { "reference": format!("Patient/{patient_id}") }, "status": "accepted" }]
    })
}

/// The token `vc_encounter(n, _)` carries.
fn token(n: u64) -> String {
    format!("{n:08x}-6c4d-485a-9514-cbf6ccfeed6b")
}

/// The three services, their shared world, and a workflow over them.
struct Services {
    world: Shared,
    vc: VirtualConsultation,
    _servers: [Server; 3],
}

impl Services {
    async fn start() -> Self {
        let world: Shared = Arc::default();
        let serve = |f: fn(&mut World, &Recorded) -> Reply| {
            let w = world.clone();
            Server::start(move |r| f(&mut w.lock().unwrap(), r))
        };
        let hie = serve(World::hie).await;
        let jitsi = serve(World::jitsi).await;
        let notify = serve(World::notify).await;
        let client = HieClient::new(HieConfig::builder(hie.url()).build().unwrap()).unwrap();
        let jitsi_provider = RestJitsi::new(
            RestJitsiConfig::builder(jitsi.url())
                .auth(Auth::bearer("svc-token"))
                .build()
                .unwrap(),
        )
        .unwrap();
        let notifier = NotificationClient::new(
            NotificationConfig::builder(notify.url())
                .credentials("clinic@example.org", "notify-secret")
                .build()
                .unwrap(),
        )
        .unwrap();
        let vc = VirtualConsultation::builder(client)
            .jitsi(Arc::new(jitsi_provider))
            .notifier(Arc::new(notifier))
            .build()
            .unwrap();
        Self {
            world,
            vc,
            _servers: [hie, jitsi, notify],
        }
    }

    /// Stores the VC Encounter number `n` (VCI for even `n`, VCE for odd) and its patient
    /// `pt-{n}`; returns it as the listener would hand it over.
    fn encounter(&self, n: u64) -> Encounter {
        let raw = vc_encounter(n, 1);
        let mut w = self.world.lock().unwrap();
        w.encounters
            .insert(format!("enc-{n}"), (1, serde_json::from_str(&raw).unwrap()));
        w.patients
            .insert(format!("pt-{n}"), format!("9001010{n:05}"));
        fhir::read_str::<Encounter>(&raw, ReadOptions::lenient())
            .unwrap()
            .value
    }

    /// Makes `op` fail with a 500, which no client retries by itself.
    fn fail(&self, op: Op) {
        self.fail_with(op, 500);
    }

    fn fail_with(&self, op: Op, status: u16) {
        self.world.lock().unwrap().failing.insert(op, status);
    }

    fn heal(&self) {
        self.world.lock().unwrap().failing.clear();
    }

    fn done(&self, op: Op) -> usize {
        self.world
            .lock()
            .unwrap()
            .done
            .get(&op)
            .copied()
            .unwrap_or(0)
    }

    fn notifications(&self) -> Vec<Vec<String>> {
        self.world.lock().unwrap().notifications.clone()
    }

    fn encounter_status(&self, n: u64) -> (u32, String) {
        let w = self.world.lock().unwrap();
        let (v, enc) = &w.encounters[&format!("enc-{n}")];
        (*v, enc["status"].as_str().unwrap_or("").to_owned())
    }

    /// Starts `enc` while `op` fails: the error names `step` after `done`. The fault is
    /// cleared again before returning.
    async fn start_failing(&self, enc: &Encounter, op: Op, step: &str, done: &[&str]) -> Error {
        self.fail(op);
        let e = self.vc.start(enc, &doctor(), &[]).await.unwrap_err();
        self.heal();
        assert_eq!(step_of(&e), steps(step, done), "{e}");
        e
    }

    /// The same for finishing Encounter `id`.
    async fn finish_failing(&self, id: &str, op: Op, step: &str, done: &[&str]) -> Error {
        self.fail(op);
        let e = self.vc.finish(id).await.unwrap_err();
        self.heal();
        assert_eq!(step_of(&e), steps(step, done), "{e}");
        e
    }
}

fn doctor() -> Participant {
    Participant::practitioner("prac-7", "DR AMINAH")
}

/// The failing step and the completed ones, as names (the error's step type may change; its
/// display name is the stable contract).
fn step_of(e: &Error) -> (Option<String>, Vec<String>) {
    (
        e.step().map(|s| s.to_string()),
        e.completed_steps().iter().map(|s| s.to_string()).collect(),
    )
}

fn steps(failed: &str, done: &[&str]) -> (Option<String>, Vec<String>) {
    (
        Some(failed.to_owned()),
        done.iter().map(|s| (*s).to_owned()).collect(),
    )
}

/// Sends `records` through an in-memory topic to `handler` and waits until the listener has
/// processed them all; returns the closed listener (for its metrics).
async fn deliver(records: Vec<String>, handler: impl Handler + 'static) -> Arc<Listener> {
    let broker = MemoryBroker::new();
    broker.create_topic("vc", 1).unwrap();
    let count = records.len() as u64;
    for raw in records {
        broker.send("vc", MemoryRecord::new(raw)).unwrap();
    }
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "clinic", ["vc"])
            .handler(handler)
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    let all = wait_until(Duration::from_secs(20), || {
        listener.metrics().processed() == count
    })
    .await;
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    assert!(all, "{:?}", listener.metrics());
    listener
}

#[tokio::test]
async fn vci_start_then_finish_runs_every_step_once() {
    let s = Services::start().await;
    let enc = s.encounter(2);
    let started = s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    assert_eq!(started.encounter.token.as_deref(), Some(token(2).as_str()));
    assert_eq!(
        started.practitioner_join.token().expose_secret(),
        "join-jwt"
    );
    assert!(started.activated_now);
    assert_eq!(started.notified, ["900101000002"]);
    assert!(started.already_notified.is_empty());
    assert_eq!(started.sent.as_ref().map(|s| s.status), Some(200));
    assert_eq!(s.notifications(), [["900101000002"]]);
    assert_eq!(s.done(Op::ReadPatient), 1, "the patient is read from HIE");

    let finished = s.vc.finish("enc-2").await.unwrap();
    assert_eq!(finished.encounter_id, "enc-2");
    assert!(finished.written.is_some());
    assert!(matches!(finished.ended, Some(EndOutcome::Ended)));
    assert_eq!(s.encounter_status(2), (2, "finished".to_owned()));
    let record = s.vc.journal().get(&token(2));
    assert!(record.activated && record.ended && record.finished.contains("enc-2"));
    assert!(record.notified.contains("900101000002"));
}

#[tokio::test]
async fn a_failed_join_fails_first_and_a_retry_does_everything() {
    let s = Services::start().await;
    let enc = s.encounter(4);
    let e = s
        .start_failing(&enc, Op::Join, "practitioner_join", &[])
        .await;
    assert_eq!(e.kind(), ErrorKind::ServerError);
    assert!(e.to_string().contains("practitioner_join"), "{e}");
    assert_eq!((s.done(Op::Activate), s.done(Op::Notify)), (0, 0));

    let started = s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    assert!(started.activated_now);
    assert_eq!(started.notified.len(), 1);
    assert_eq!((s.done(Op::Activate), s.notifications().len()), (1, 1));
}

#[tokio::test]
async fn a_failed_activation_keeps_the_join_and_resumes_at_activation() {
    let s = Services::start().await;
    let enc = s.encounter(6);
    s.start_failing(&enc, Op::Activate, "activate", &["practitioner_join"])
        .await;
    assert!(!s.vc.journal().get(&token(6)).activated);
    assert!(
        s.notifications().is_empty(),
        "nobody notified of an inactive session"
    );

    let started = s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    assert!(started.activated_now);
    assert_eq!((s.done(Op::Activate), s.notifications().len()), (1, 1));
}

#[tokio::test]
async fn a_failed_notification_resumes_without_activating_again() {
    let s = Services::start().await;
    let enc = s.encounter(8);
    let done = ["practitioner_join", "activate", "find_patients"];
    let e = s.start_failing(&enc, Op::Notify, "notify", &done).await;
    assert!(
        !e.is_retryable(),
        "a 500 after sending may have notified: {e:?}"
    );
    assert_eq!(s.done(Op::Activate), 1);
    assert!(s.vc.journal().get(&token(8)).notified.is_empty());

    let started = s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    assert!(!started.activated_now, "activated by the failed attempt");
    assert_eq!(s.done(Op::Activate), 1, "not activated twice");
    assert_eq!(started.notified, ["900101000008"]);
    assert_eq!(s.done(Op::Join), 2, "a fresh join for each start");

    let again = s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    assert!(again.notified.is_empty() && again.sent.is_none());
    assert_eq!(again.already_notified, ["900101000008"]);
    assert_eq!(s.notifications().len(), 1);
}

#[tokio::test]
async fn a_patient_that_cannot_be_read_fails_find_patients() {
    let s = Services::start().await;
    let enc = s.encounter(10);
    let done = ["practitioner_join", "activate"];
    s.start_failing(&enc, Op::ReadPatient, "find_patients", &done)
        .await;
    // A patient that arrived with the Encounter is not read from HIE.
    let included: Resource = fhir::read_str(
        &patient("pt-10", "900101000010").to_string(),
        ReadOptions::strict(),
    )
    .unwrap()
    .value;
    let started = s.vc.start(&enc, &doctor(), &[included]).await.unwrap();
    assert_eq!(started.notified, ["900101000010"]);
    assert_eq!(s.done(Op::ReadPatient), 0);
}

#[tokio::test]
async fn a_failed_finish_put_ends_nothing_and_resumes() {
    let s = Services::start().await;
    let enc = s.encounter(12);
    s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    s.finish_failing("enc-12", Op::PutEncounter, "finish_encounter", &[])
        .await;
    assert_eq!(s.encounter_status(12), (1, "arrived".to_owned()));
    assert_eq!(
        s.done(Op::End),
        0,
        "the session runs on while the Encounter is open"
    );

    let finished = s.vc.finish("enc-12").await.unwrap();
    assert!(finished.written.is_some() && finished.ended.is_some());
    assert_eq!(s.encounter_status(12), (2, "finished".to_owned()));
    assert_eq!((s.done(Op::PutEncounter), s.done(Op::End)), (1, 1));
}

#[tokio::test]
async fn a_failed_end_session_resumes_without_writing_the_encounter_again() {
    let s = Services::start().await;
    let enc = s.encounter(14);
    s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    s.finish_failing("enc-14", Op::End, "end_session", &["finish_encounter"])
        .await;
    assert_eq!(s.encounter_status(14), (2, "finished".to_owned()));
    assert!(!s.vc.journal().get(&token(14)).ended);

    let finished = s.vc.finish("enc-14").await.unwrap();
    assert!(
        finished.written.is_none(),
        "already finished: not PUT again"
    );
    assert!(matches!(finished.ended, Some(EndOutcome::Ended)));
    let again = s.vc.finish("enc-14").await.unwrap();
    assert!(again.written.is_none() && again.ended.is_none());
    assert_eq!((s.done(Op::PutEncounter), s.done(Op::End)), (1, 1));
    assert_eq!(s.encounter_status(14), (2, "finished".to_owned()));
}

#[tokio::test]
async fn a_missing_encounter_fails_finish_with_not_found() {
    let s = Services::start().await;
    let e = s.vc.finish("enc-404").await.unwrap_err();
    assert_eq!(step_of(&e), steps("finish_encounter", &[]), "{e}");
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn vce_notifies_every_booked_patient_of_the_session_once() {
    let s = Services::start().await;
    let enc = s.encounter(1);
    let book = |appointment_id: &str, status: &str, patient_id: &str, number: &str| {
        let mut w = s.world.lock().unwrap();
        let a = appointment(appointment_id, status, patient_id);
        w.appointments.entry(token(1)).or_default().push(a);
        w.patients.insert(patient_id.into(), number.into());
    };
    book("ap-a", "booked", "pa", "800101010001");
    book("ap-b", "booked", "pb", "800101010002");
    book("ap-b2", "arrived", "pb", "800101010002");
    book("ap-c", "cancelled", "pc", "800101010003");
    let done = ["practitioner_join", "activate"];
    s.start_failing(&enc, Op::SearchAppointments, "find_patients", &done)
        .await;

    let started = s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    assert_eq!(
        started.encounter.vc_type,
        VcType::Vce,
        "odd numbers are VCE"
    );
    assert_eq!(
        started.notified,
        ["800101010001", "800101010002"],
        "each booked patient once; the cancelled one not"
    );
    assert_eq!(s.notifications(), [["800101010001", "800101010002"]]);

    // A patient booked after the first start is notified alone on the next start.
    book("ap-d", "booked", "pd", "800101010004");
    let again = s.vc.start(&enc, &doctor(), &[]).await.unwrap();
    assert_eq!(again.notified, ["800101010004"]);
    assert_eq!(again.already_notified.len(), 2);
    assert_eq!((s.notifications().len(), s.done(Op::Activate)), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_encounters_through_the_arrival_handler_notify_nobody_twice() {
    let s = Services::start().await;
    s.encounter(16);
    s.encounter(18);
    let started: Arc<Mutex<Vec<usize>>> = Arc::default();
    let log = started.clone();
    let handler =
        s.vc.arrival_handler(|_| Some(doctor()))
            .on_started(move |st| {
                log.lock().unwrap().push(st.notified.len());
            });
    // enc-16 three times (the same version redelivered, then a new version), enc-18 once.
    let records = vec![
        vc_encounter(16, 1),
        vc_encounter(16, 1),
        vc_encounter(18, 1),
        vc_encounter(16, 2),
    ];
    let listener = deliver(records, handler).await;
    assert_eq!(
        listener.metrics().handled,
        4,
        "no dedupe: every delivery reaches the handler"
    );
    let started = started.lock().unwrap().clone();
    assert_eq!(started.len(), 4, "every delivery started: {started:?}");
    assert_eq!(started.iter().sum::<usize>(), 2, "{started:?}");
    let mut sent = s.notifications();
    sent.sort();
    assert_eq!(sent, [["900101000016"], ["900101000018"]]);
    assert_eq!(s.done(Op::Activate), 2, "each session activated once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arrival_handler_makes_bad_input_permanent_and_outages_retryable() {
    let s = Services::start().await;
    s.encounter(20);
    let (seen, probe) = recorder();
    deliver(vec![vc_encounter(20, 1)], probe).await;
    let event: EncounterEvent = seen.lock().unwrap()[0].clone();

    let nobody = s.vc.arrival_handler(|_| None);
    let e = nobody.handle_event(event.clone()).await.unwrap_err();
    assert!(e.to_string().contains("no practitioner"), "{e}");
    assert!(e.downcast_ref::<Permanent>().is_some(), "{e}");

    let handler = s.vc.arrival_handler(|_| Some(doctor()));
    s.fail_with(Op::Notify, 503);
    let e = handler.handle_event(event.clone()).await.unwrap_err();
    s.heal();
    assert!(
        e.downcast_ref::<Permanent>().is_none(),
        "an outage is retried: {e}"
    );
    let e = e.downcast_ref::<Error>().expect("the workflow's error");
    assert_eq!(step_of(e).0.as_deref(), Some("notify"));

    handler.handle_event(event).await.unwrap();
    assert_eq!((s.notifications().len(), s.done(Op::Activate)), (1, 1));
}

//! The listener's processing semantics on the in-memory source (no broker needed): decoding,
//! filtering, record metadata, bad input, dedupe, handler objects, configuration errors.
//! Failure handling (retries, dead letters, shutdown) is in listener_memory_failures.rs.

mod listener_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hie_vc::listener::{
    dlq, DecodeErrorKind, DedupeWindow, EncounterEvent, FailureReason, Filter, Layout, Listener,
    MemoryBroker, MemoryRecord,
};
use hie_vc::mycore::VcType;
use hie_vc::ErrorKind;
use listener_support::encounters::{outpatient_encounter, vc_bundle, vc_encounter};
use listener_support::{failure_log, recorder, spawn, wait_until};

const T: &str = "vc-encounters";
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_vc_encounters_with_their_record_and_commits() {
    let broker = MemoryBroker::new();
    broker.create_topic(T, 2).unwrap();
    let rec = |p: &str| {
        MemoryRecord::new(p.to_owned())
            .key("k1")
            .header("source", "hie")
    };
    broker.send(T, rec(&vc_encounter(1, 1))).unwrap();
    broker.send(T, rec(&outpatient_encounter(2))).unwrap();
    broker.send(T, rec(&vc_bundle(3))).unwrap();
    let envelope = format!(r#"{{"event":"created","payload":{}}}"#, vc_encounter(4, 2));
    broker.send(T, rec(&envelope)).unwrap();

    let (seen, handler) = recorder();
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g1", [T])
            .handler(handler)
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || listener.metrics().processed() == 4).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();

    let seen = seen.lock().unwrap();
    let ids: Vec<_> = seen
        .iter()
        .map(|e| e.encounter_id().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        ["enc-1", "enc-3", "enc-4"],
        "the outpatient Encounter is filtered out"
    );
    let first = &seen[0];
    let vc = first.vc().unwrap();
    assert_eq!(vc.vc_type, VcType::Vce, "odd numbers are VCE");
    assert_eq!(
        vc.token.as_deref(),
        Some("00000001-6c4d-485a-9514-cbf6ccfeed6b")
    );
    assert_eq!(vc.patient_id(), Some("pt-1"));
    assert_eq!(first.key(), Some(&b"k1"[..]));
    assert_eq!(first.headers()[0].key, "source");
    assert_eq!(first.headers()[0].value_str(), Some("hie"));
    assert_eq!(first.raw(), vc_encounter(1, 1).as_bytes());
    assert!(first.timestamp().is_some());
    assert_eq!(first.layout(), &Layout::Encounter);
    assert!(
        !format!("{first:?}").contains("6c4d-485a"),
        "Debug must not show the token"
    );
    let bundle = &seen[1];
    assert_eq!(bundle.layout(), &Layout::Bundle);
    let patient = bundle
        .resolve(bundle.vc().unwrap().patient.as_ref().unwrap())
        .unwrap();
    assert_eq!(patient.resource_type(), "Patient");
    let shown = format!("{:?} {bundle:?}", bundle.included());
    assert!(
        shown.contains("Patient/pt-3") && !shown.contains("1990-01-01"),
        "{shown}"
    );
    assert_eq!(seen[2].vc().unwrap().version_id.as_deref(), Some("2"));

    let m = listener.metrics();
    assert_eq!((m.received, m.handled, m.filtered), (4, 3, 1));
    assert_eq!(m.handler_latency.count, 3);
    let p = seen[0].partition();
    assert_eq!(broker.committed("g1", T, p), broker.end_offset(T, p));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_encounters_filter_delivers_non_vc_without_vc_view() {
    let broker = MemoryBroker::new();
    broker
        .send(T, MemoryRecord::new(outpatient_encounter(7)))
        .unwrap();
    let (seen, handler) = recorder();
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .filter(Filter::AllEncounters)
            .handler(handler)
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || seen.lock().unwrap().len() == 1).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    let e = &seen.lock().unwrap()[0];
    assert!(!e.is_vc() && e.vc().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_reaches_the_error_callback_typed_with_coordinates() {
    let broker = MemoryBroker::new();
    let strict_fail = r#"{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},"period":{"start":"not a date"}}"#;
    let deep = format!(
        r#"{{"resourceType":"Encounter","status":"arrived","class":{{"code":"VR"}},"x":{}{}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let mut huge = String::from(
        r#"{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">"#,
    );
    huge.push_str(&"x".repeat(5 * 1024 * 1024));
    huge.push_str(r#"</div>"}}"#);
    let inputs: Vec<(Option<Vec<u8>>, DecodeErrorKind)> = vec![
        (Some(b"this is not json".to_vec()), DecodeErrorKind::NotJson),
        (
            Some(b"{\"resourceType\":\"Encounter\",\"id\":\"\xff\xfe\"}".to_vec()),
            DecodeErrorKind::InvalidUtf8,
        ),
        (
            Some(br#"{"resourceType":"Patient","id":"p"}"#.to_vec()),
            DecodeErrorKind::WrongResourceType,
        ),
        (
            Some(strict_fail.as_bytes().to_vec()),
            DecodeErrorKind::Invalid,
        ),
        (Some(huge.into_bytes()), DecodeErrorKind::TooLarge),
        (Some(deep.into_bytes()), DecodeErrorKind::TooDeep),
        (None, DecodeErrorKind::Empty),
        (
            Some(br#"{"no":"resource"}"#.to_vec()),
            DecodeErrorKind::MissingResourceType,
        ),
    ];
    let n = inputs.len();
    for (payload, _) in &inputs {
        let r = MemoryRecord {
            payload: payload.clone().map(Into::into),
            ..MemoryRecord::default()
        };
        broker.send(T, r).unwrap();
    }
    broker
        .send(T, MemoryRecord::new(vc_encounter(99, 1)))
        .unwrap();
    let (seen, handler) = recorder();
    let (failures, on_error) = failure_log();
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .dead_letter_topic("dlq")
            .on_error(on_error)
            .handler(handler)
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || seen.lock().unwrap().len() == 1).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len(), n);
    for (i, (f, (_, kind))) in failures.iter().zip(&inputs).enumerate() {
        assert_eq!(
            f.reason,
            FailureReason::Decode(*kind),
            "input {i}: {}",
            f.message
        );
        let expected_kind = if *kind == DecodeErrorKind::TooLarge {
            ErrorKind::PayloadTooLarge
        } else {
            ErrorKind::Decode
        };
        assert_eq!(f.kind, expected_kind);
        let c = f.coordinates.as_ref().unwrap();
        assert_eq!((&*c.topic, c.partition, c.offset), (T, 0, i as i64));
        assert_eq!(f.attempts, 0);
        assert!(f.had_record);
    }
    assert!(
        failures[3].message.contains("Encounter.period"),
        "{}",
        failures[3].message
    );
    let dead = broker.records("dlq");
    assert_eq!(dead.len(), n);
    assert_eq!(
        dead[0]
            .header(dlq::HEADER_REASON)
            .and_then(|h| h.value_str()),
        Some("decode/not_json")
    );
    assert_eq!(seen.lock().unwrap()[0].encounter_id(), Some("enc-99"));
    assert_eq!(listener.metrics().decode_errors, n as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedupe_suppresses_repeated_versions_only() {
    let broker = MemoryBroker::new();
    broker.create_topic(T, 3).unwrap();
    // The same version three times on different partitions, then a new version.
    for p in 0..3 {
        broker
            .send(T, MemoryRecord::new(vc_encounter(5, 1)).partition(p))
            .unwrap();
    }
    broker
        .send(T, MemoryRecord::new(vc_encounter(5, 2)).partition(0))
        .unwrap();
    let (seen, handler) = recorder();
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .dedupe(DedupeWindow::default())
            .handler(handler)
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || listener.metrics().processed() == 4).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    let versions: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.version_id().unwrap().to_owned())
        .collect();
    let mut sorted = versions.clone();
    sorted.sort();
    assert_eq!(sorted, ["1", "2"], "{versions:?}");
    assert_eq!(listener.metrics().deduplicated, 2);
    for p in 0..3 {
        assert_eq!(
            broker.committed("g", T, p),
            broker.end_offset(T, p),
            "duplicates are committed too"
        );
    }
}

/// A handler object (rather than a closure), shared by two listeners as a trait object.
struct Booker {
    booked: Mutex<Vec<String>>,
}

impl hie_vc::listener::Handler for Booker {
    fn handle(
        &self,
        event: EncounterEvent,
    ) -> futures::future::BoxFuture<'_, hie_vc::listener::HandlerResult> {
        Box::pin(async move {
            let token = event.vc().and_then(|v| v.token.clone()).ok_or("no token")?;
            self.booked.lock().unwrap().push(token);
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trait_object_handlers_can_be_shared() {
    let broker = MemoryBroker::new();
    broker
        .send("a", MemoryRecord::new(vc_encounter(1, 1)))
        .unwrap();
    broker
        .send("b", MemoryRecord::new(vc_encounter(2, 1)))
        .unwrap();
    let booker = Arc::new(Booker {
        booked: Mutex::new(Vec::new()),
    });
    let shared: Arc<dyn hie_vc::listener::Handler> = booker.clone();
    let la = Arc::new(
        Listener::builder()
            .memory(&broker, "g", ["a"])
            .shared_handler(shared.clone())
            .build()
            .unwrap(),
    );
    let lb = Arc::new(
        Listener::builder()
            .memory(&broker, "g2", ["b"])
            .shared_handler(shared)
            .build()
            .unwrap(),
    );
    let (ra, rb) = (spawn(&la), spawn(&lb));
    assert!(wait_until(WAIT, || booker.booked.lock().unwrap().len() == 2).await);
    la.close().await.unwrap();
    lb.close().await.unwrap();
    ra.await.unwrap().unwrap();
    rb.await.unwrap().unwrap();
    let mut tokens = booker.booked.lock().unwrap().clone();
    tokens.sort();
    assert_eq!(
        tokens,
        [
            "00000001-6c4d-485a-9514-cbf6ccfeed6b",
            "00000002-6c4d-485a-9514-cbf6ccfeed6b"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_per_in_memory_group_and_config_errors() {
    let broker = MemoryBroker::new();
    let (seen, h1) = recorder();
    let (_, h2) = recorder();
    let a = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .handler(h1)
            .build()
            .unwrap(),
    );
    let b = Listener::builder()
        .memory(&broker, "g", [T])
        .handler(h2)
        .build()
        .unwrap();
    let run = spawn(&a);
    broker
        .send(T, MemoryRecord::new(vc_encounter(1, 1)))
        .unwrap();
    assert!(wait_until(WAIT, || seen.lock().unwrap().len() == 1).await);
    let e = b.run().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    a.close().await.unwrap();
    run.await.unwrap().unwrap();
    b.close().await.unwrap();

    let (_, h) = recorder();
    let e = Listener::builder().handler(h).build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = Listener::builder()
        .memory(&broker, "g", [T])
        .build()
        .unwrap_err();
    assert!(e.message().contains("handler"));
}

//! The listener's processing semantics on the in-memory source (no broker needed): decoding,
//! filtering, at-least-once offsets, retries, dead letters, dedupe, bad input, shutdown.

mod listener_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::listener::{
    dlq, DecodeErrorKind, DedupeWindow, Disposition, EncounterEvent, FailureReason, Filter, Layout,
    Listener, MemoryBroker, MemoryRecord, Permanent, RetryPolicy,
};
use hie_vc::mycore::VcType;
use hie_vc::ErrorKind;
use listener_support::encounters::{outpatient_encounter, vc_bundle, vc_encounter};
use listener_support::{failure_log, wait_until};

const T: &str = "vc-encounters";
const WAIT: Duration = Duration::from_secs(10);

type Seen = Arc<Mutex<Vec<EncounterEvent>>>;

/// A handler that records every event.
fn recorder() -> (
    Seen,
    impl Fn(EncounterEvent) -> futures::future::Ready<Result<(), std::io::Error>>
        + Send
        + Sync
        + 'static,
) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (seen, move |e: EncounterEvent| {
        s.lock().unwrap().push(e);
        futures::future::ready(Ok(()))
    })
}

/// Runs `listener` in the background; returns a join handle for `run`'s result.
fn spawn(listener: &Arc<Listener>) -> tokio::task::JoinHandle<Result<(), hie_vc::Error>> {
    let l = listener.clone();
    tokio::spawn(async move { l.run().await })
}

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
async fn failing_handler_is_retried_then_dead_lettered_and_the_partition_flows_on() {
    let broker = MemoryBroker::new();
    for n in 0..5 {
        broker
            .send(
                T,
                MemoryRecord::new(vc_encounter(n, 1))
                    .key("same-partition")
                    .header("trace", "t1"),
            )
            .unwrap();
    }
    let calls: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let c = calls.clone();
    let (failures, on_error) = failure_log();
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .retry(
                RetryPolicy::default()
                    .max_retries(2)
                    .initial_backoff(Duration::from_millis(5)),
            )
            .dead_letter_topic("dlq")
            .on_error(on_error)
            .handler(move |e: EncounterEvent| {
                let id = e.encounter_id().unwrap().to_owned();
                *c.lock().unwrap().entry(id.clone()).or_default() += 1;
                async move {
                    if id == "enc-2" {
                        Err(std::io::Error::other("downstream said no"))
                    } else {
                        Ok(())
                    }
                }
            })
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || listener.metrics().processed() == 5).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();

    let calls = calls.lock().unwrap();
    assert_eq!(calls["enc-2"], 3, "1 attempt + 2 retries");
    assert_eq!(calls["enc-3"], 1);
    assert_eq!(
        calls["enc-4"], 1,
        "records after the poison one are handled"
    );
    let dead = broker.records("dlq");
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(d.payload.as_deref(), Some(vc_encounter(2, 1).as_bytes()));
    assert_eq!(d.key.as_deref(), Some(&b"same-partition"[..]));
    let h = |k: &str| d.header(k).and_then(|h| h.value_str()).map(str::to_owned);
    assert_eq!(h("trace").as_deref(), Some("t1"), "original headers kept");
    assert_eq!(h(dlq::HEADER_TOPIC).as_deref(), Some(T));
    assert_eq!(h(dlq::HEADER_PARTITION).as_deref(), Some("0"));
    assert_eq!(h(dlq::HEADER_OFFSET).as_deref(), Some("2"));
    assert_eq!(h(dlq::HEADER_ATTEMPTS).as_deref(), Some("3"));
    assert_eq!(h(dlq::HEADER_REASON).as_deref(), Some("handler"));
    assert!(h(dlq::HEADER_ERROR).unwrap().contains("downstream said no"));
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!(f.reason, FailureReason::Handler);
    assert_eq!(f.kind, ErrorKind::Handler);
    assert_eq!(f.attempts, 3);
    assert_eq!(f.coordinates.as_ref().unwrap().offset, 2);
    assert_eq!(
        f.disposition,
        Disposition::DeadLettered {
            topic: "dlq".into()
        }
    );
    assert_eq!(broker.committed("g", T, 0), Some(5));
    let m = listener.metrics();
    assert_eq!(
        (m.handled, m.handler_failures, m.retries, m.dead_lettered),
        (4, 1, 2, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_panics_and_timeouts_are_not_retried_forever() {
    let broker = MemoryBroker::new();
    for n in 0..4 {
        broker
            .send(T, MemoryRecord::new(vc_encounter(n, 1)))
            .unwrap();
    }
    let attempts: Arc<Mutex<HashMap<u64, u32>>> = Arc::default();
    let a = attempts.clone();
    let (failures, on_error) = failure_log();
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .retry(
                RetryPolicy::default()
                    .max_retries(1)
                    .initial_backoff(Duration::from_millis(1)),
            )
            .handler_timeout(Duration::from_millis(100))
            .on_error(on_error)
            .handler(move |e: EncounterEvent| {
                let n = listener_support::encounters::number_of(e.encounter_id().unwrap()).unwrap();
                *a.lock().unwrap().entry(n).or_default() += 1;
                async move {
                    match n {
                        0 => Err(Permanent::new("bad data").into()),
                        1 => panic!("handler bug"),
                        2 => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            Ok(())
                        }
                        _ => Ok::<(), hie_vc::listener::HandlerError>(()),
                    }
                }
            })
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || listener.metrics().processed() == 4).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    let attempts = attempts.lock().unwrap();
    assert_eq!(attempts[&0], 1, "a Permanent error is not retried");
    assert_eq!(attempts[&1], 2);
    assert_eq!(attempts[&2], 2);
    assert_eq!(attempts[&3], 1);
    let reasons: Vec<_> = failures.lock().unwrap().iter().map(|f| f.reason).collect();
    assert_eq!(
        reasons,
        [
            FailureReason::Handler,
            FailureReason::HandlerPanic,
            FailureReason::HandlerTimeout
        ]
    );
    assert_eq!(
        broker.committed("g", T, 0),
        Some(4),
        "no DLQ: reported and skipped"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_retries_leaves_the_record_for_redelivery() {
    let broker = MemoryBroker::new();
    broker
        .send(T, MemoryRecord::new(vc_encounter(1, 1)))
        .unwrap();
    broker
        .send(T, MemoryRecord::new(vc_encounter(2, 1)))
        .unwrap();
    let fail = Arc::new(AtomicU32::new(1));
    let f = fail.clone();
    let handled = Arc::new(AtomicUsize::new(0));
    let h = handled.clone();
    let build = |fail: Arc<AtomicU32>, handled: Arc<AtomicUsize>| {
        Arc::new(
            Listener::builder()
                .memory(&broker, "g", [T])
                .dedupe(DedupeWindow::default())
                .retry(
                    RetryPolicy::default()
                        .max_retries(100)
                        .initial_backoff(Duration::from_secs(30)),
                )
                .handler(move |e: EncounterEvent| {
                    let fail = fail.clone();
                    let handled = handled.clone();
                    async move {
                        if e.encounter_id() == Some("enc-2") && fail.load(Ordering::SeqCst) == 1 {
                            return Err(std::io::Error::other("not yet"));
                        }
                        handled.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                })
                .build()
                .unwrap(),
        )
    };
    let listener = build(f, h);
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || listener.metrics().retries >= 1).await);
    let started = Instant::now();
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the 30 s backoff is interrupted"
    );
    assert_eq!(broker.committed("g", T, 0), Some(1), "enc-2 was not stored");
    assert!(listener
        .run()
        .await
        .is_err_and(|e| e.kind() == ErrorKind::Closed));
    assert!(listener.close().await.is_ok(), "close is idempotent");

    fail.store(0, Ordering::SeqCst);
    let again = build(fail.clone(), handled.clone());
    let run = spawn(&again);
    assert!(wait_until(WAIT, || handled.load(Ordering::SeqCst) == 2).await);
    again.close().await.unwrap();
    run.await.unwrap().unwrap();
    assert_eq!(broker.committed("g", T, 0), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_call_abandoned_at_the_drain_timeout_is_redelivered_despite_dedupe() {
    let broker = MemoryBroker::new();
    broker
        .send(T, MemoryRecord::new(vc_encounter(1, 1)))
        .unwrap();
    let dedupe = hie_vc::listener::Dedupe::new(DedupeWindow::default());
    let calls = Arc::new(AtomicUsize::new(0));
    let build = |hang: bool| {
        let calls = calls.clone();
        Arc::new(
            Listener::builder()
                .memory(&broker, "g", [T])
                .dedupe_store(dedupe.clone())
                .drain_timeout(Duration::from_millis(200))
                .handler(move |_e: EncounterEvent| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if hang {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                        Ok::<(), std::io::Error>(())
                    }
                })
                .build()
                .unwrap(),
        )
    };
    let first = build(true);
    let run = spawn(&first);
    assert!(wait_until(WAIT, || calls.load(Ordering::SeqCst) == 1).await);
    let started = Instant::now();
    first.close().await.unwrap();
    run.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the hung call is abandoned"
    );
    assert_eq!(broker.committed("g", T, 0), None, "not stored");
    assert!(dedupe.is_empty(), "the abandoned claim was released");

    let second = build(false);
    let run = spawn(&second);
    assert!(wait_until(WAIT, || second.metrics().handled == 1).await);
    second.close().await.unwrap();
    run.await.unwrap().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(second.metrics().deduplicated, 0);
    assert_eq!(broker.committed("g", T, 0), Some(1));
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

//! Failure handling on the in-memory source (no broker needed): handler retries, dead letters
//! with their headers, permanent errors, panics, timeouts, and what happens to a record when
//! the listener stops in the middle of it.

mod listener_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::listener::{
    dlq, DedupeWindow, Disposition, EncounterEvent, FailureReason, Listener, MemoryBroker,
    MemoryRecord, Permanent, RetryPolicy,
};
use hie_vc::ErrorKind;
use listener_support::encounters::vc_encounter;
use listener_support::{failure_log, spawn, wait_until};

const T: &str = "vc-encounters";
const WAIT: Duration = Duration::from_secs(10);

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
    // The abandoned task releases its claim as it is dropped, which may finish just after close.
    assert!(
        wait_until(WAIT, || dedupe.is_empty()).await,
        "the abandoned claim was released"
    );

    let second = build(false);
    let run = spawn(&second);
    assert!(wait_until(WAIT, || second.metrics().handled == 1).await);
    second.close().await.unwrap();
    run.await.unwrap().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(second.metrics().deduplicated, 0);
    assert_eq!(broker.committed("g", T, 0), Some(1));
}

//! The broker goes away under a running listener: a restart mid-stream loses nothing, and
//! `close` with the broker stopped returns within its bound. These tests stop the shared
//! broker (tests/services/kafka.sh), so they live alone in this test binary (cargo runs test
//! binaries one after another) and take turns through a lock; the broker is always started
//! again, even when an assertion fails.

mod listener_support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::listener::{EncounterEvent, KafkaConfig, Listener};
use listener_support::encounters::{number_of, vc_encounter};
use listener_support::kafka::{self as k, Rec};
use listener_support::wait_until;

const RECORDS: u64 = 20_000;

static BROKER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn kafka_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/services/kafka.sh")
}

fn kafka(action: &str) -> bool {
    Command::new(kafka_sh())
        .arg(action)
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts the broker again when dropped (also on a failed assertion).
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        assert!(
            kafka("start") || std::thread::panicking(),
            "broker restarted"
        );
    }
}

/// The bootstrap of the broker kafka.sh manages; panics when there is none or another broker
/// is configured (these tests stop the broker, which they must not do to one they do not own).
fn managed_bootstrap() -> String {
    let b = k::bootstrap();
    assert!(
        kafka("status"),
        "the broker at {b} is not managed by tests/services/kafka.sh: start it with \
         tests/services/kafka.sh start (these tests stop and restart it)"
    );
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka managed by tests/services/kafka.sh (stops and restarts it); HIEVC_KAFKA_BOOTSTRAP"]
async fn broker_restart_mid_stream_loses_nothing() {
    let b = managed_bootstrap();
    let _turn = BROKER.lock().await;
    let topic = k::unique("restart");
    let group = k::unique("g");
    k::create_topic(&b, &topic, 3).await;
    let producer = k::producer(&b);
    let t = topic.clone();
    let produce = tokio::spawn(async move {
        for chunk in 0..(RECORDS / 1000) {
            let recs = (chunk * 1000..(chunk + 1) * 1000)
                .map(|n| Rec::new(vc_encounter(n, 1)).key(format!("k{n}")))
                .collect();
            k::produce(&producer, &t, recs).await;
        }
    });

    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let s = seen.clone();
    let problems: Arc<Mutex<Vec<String>>> = Arc::default();
    let p = problems.clone();
    let listener = Arc::new(
        Listener::builder()
            .kafka(KafkaConfig::new(&b, &group).topic(&topic))
            .on_error(move |f| {
                p.lock()
                    .unwrap()
                    .push(format!("{:?}: {}", f.reason, f.error))
            })
            .handler(move |e: EncounterEvent| {
                s.lock()
                    .unwrap()
                    .push(number_of(e.encounter_id().unwrap()).unwrap());
                async { Ok::<(), std::io::Error>(()) }
            })
            .build()
            .unwrap(),
    );
    let run = {
        let l = listener.clone();
        tokio::spawn(async move { l.run().await })
    };
    let count = |s: &Arc<Mutex<Vec<u64>>>| s.lock().unwrap().len();
    assert!(
        wait_until(Duration::from_secs(120), || count(&seen)
            >= (RECORDS / 3) as usize)
        .await
    );
    {
        let _restart = Restart;
        let stopped = tokio::task::spawn_blocking(|| kafka("stop")).await.unwrap();
        assert!(stopped, "broker stopped");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    produce.await.unwrap();
    let all = || {
        seen.lock()
            .unwrap()
            .iter()
            .copied()
            .collect::<HashSet<u64>>()
    };
    if !wait_until(Duration::from_secs(180), || all().len() == RECORDS as usize).await {
        // Say what state the listener is in, so a failure here can be told apart: stopped
        // (run returned), records arriving but failing, or nothing arriving.
        let m = listener.metrics();
        let stopped = run.is_finished();
        let outcome = if stopped {
            format!("{:?}", run.await)
        } else {
            "still running".to_owned()
        };
        panic!(
            "{} of {RECORDS} handled after the restart; listener {outcome}; received {}, \
             handled {}, decode errors {}, handler failures {}, source errors {}; \
             last problems: {:?}",
            all().len(),
            m.received,
            m.handled,
            m.decode_errors,
            m.handler_failures,
            m.source_errors,
            problems
                .lock()
                .unwrap()
                .iter()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
        );
    }
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    let m = listener.metrics();
    eprintln!(
        "broker restart: {} deliveries for {RECORDS} records, {} source problems reported",
        count(&seen),
        m.source_errors
    );
    assert_eq!(all(), (0..RECORDS).collect::<HashSet<_>>(), "0 lost");
    assert!(
        m.source_errors > 0,
        "the outage was reported to the error callback"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka managed by tests/services/kafka.sh (stops and restarts it); HIEVC_KAFKA_BOOTSTRAP"]
async fn close_returns_within_its_bound_while_the_broker_is_stopped() {
    let b = managed_bootstrap();
    let _turn = BROKER.lock().await;
    let topic = k::unique("down");
    let group = k::unique("g");
    k::create_topic(&b, &topic, 2).await;
    let recs = (0..100).map(|n| Rec::new(vc_encounter(n, 1))).collect();
    k::produce(&k::producer(&b), &topic, recs).await;
    let handled = Arc::new(Mutex::new(0usize));
    let h = handled.clone();
    let listener = Arc::new(
        Listener::builder()
            .kafka(KafkaConfig::new(&b, &group).topic(&topic))
            .drain_timeout(Duration::from_secs(2))
            .close_timeout(Duration::from_secs(3))
            .handler(move |_e: EncounterEvent| {
                *h.lock().unwrap() += 1;
                async { Ok::<(), std::io::Error>(()) }
            })
            .build()
            .unwrap(),
    );
    let run = {
        let l = listener.clone();
        tokio::spawn(async move { l.run().await })
    };
    assert!(wait_until(Duration::from_secs(60), || *handled.lock().unwrap() == 100).await);
    let _restart = Restart;
    assert!(tokio::task::spawn_blocking(|| kafka("stop")).await.unwrap());
    let started = Instant::now();
    let closed = listener.close().await;
    let took = started.elapsed();
    eprintln!("close with the broker stopped: {took:?}, {closed:?}");
    assert!(
        took < Duration::from_secs(6),
        "close took {took:?} (bound: 2 s drain + 3 s close)"
    );
    run.await.unwrap().unwrap();
}

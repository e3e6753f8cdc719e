//! A consumer group of two listeners on a real broker, with partitions moving mid-stream
//! (a member joins, later leaves): every record is handled; a record is handled twice only
//! across the move (by the old and the new owner), and never when the two listeners share a
//! dedupe store.

mod listener_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::listener::{Dedupe, DedupeWindow, EncounterEvent, KafkaConfig, Listener};
use listener_support::encounters::{number_of, vc_encounter};
use listener_support::kafka::{self as k, Rec};
use listener_support::wait_until;

const PARTITIONS: i32 = 6;
const PER_BATCH: u64 = 1500;

/// (listener name, when) of each delivery, per Encounter number.
type Deliveries = Arc<Mutex<HashMap<u64, Vec<(&'static str, Instant)>>>>;

fn member(
    b: &str,
    group: &str,
    topic: &str,
    name: &'static str,
    log: &Deliveries,
    dedupe: Option<&Dedupe>,
) -> Arc<Listener> {
    let log = log.clone();
    let mut builder = Listener::builder()
        .kafka(
            KafkaConfig::new(b, group)
                .topic(topic)
                .property("session.timeout.ms", "10000")
                .property("heartbeat.interval.ms", "500"),
        )
        .handler(move |e: EncounterEvent| {
            let n = number_of(e.encounter_id().unwrap()).unwrap();
            log.lock()
                .unwrap()
                .entry(n)
                .or_default()
                .push((name, Instant::now()));
            async {
                // Slow enough that the group changes while records are in flight.
                tokio::time::sleep(Duration::from_millis(3)).await;
                Ok::<(), std::io::Error>(())
            }
        });
    if let Some(d) = dedupe {
        builder = builder.dedupe_store(d.clone());
    }
    Arc::new(builder.build().unwrap())
}

async fn scenario(dedupe: Option<Dedupe>) -> (Deliveries, Instant, usize) {
    let b = k::bootstrap();
    let topic = k::unique("rebalance");
    let group = k::unique("g");
    k::create_topic(&b, &topic, PARTITIONS).await;
    let producer = k::producer(&b);
    let batch = |from: u64| -> Vec<Rec> {
        (from..from + PER_BATCH)
            .map(|n| Rec::new(vc_encounter(n, 1)).key(format!("k{n}")))
            .collect()
    };
    k::produce(&producer, &topic, batch(0)).await;

    let log: Deliveries = Arc::default();
    let a = member(&b, &group, &topic, "a", &log, dedupe.as_ref());
    let run_a = {
        let a = a.clone();
        tokio::spawn(async move { a.run().await })
    };
    let handled = |log: &Deliveries| log.lock().unwrap().len();
    assert!(wait_until(Duration::from_secs(60), || handled(&log) >= 500).await);

    // B joins: the partitions are split between A and B while A is busy.
    let b_joined = Instant::now();
    let member_b = member(&b, &group, &topic, "b", &log, dedupe.as_ref());
    let run_b = {
        let m = member_b.clone();
        tokio::spawn(async move { m.run().await })
    };
    k::produce(&producer, &topic, batch(PER_BATCH)).await;
    let by_b = |log: &Deliveries| {
        log.lock()
            .unwrap()
            .values()
            .filter(|d| d.iter().any(|(who, _)| *who == "b"))
            .count()
    };
    assert!(
        wait_until(Duration::from_secs(60), || by_b(&log) >= 300).await,
        "B got partitions"
    );
    // B leaves while records are still flowing: its partitions go back to A.
    k::produce(&producer, &topic, batch(2 * PER_BATCH)).await;
    member_b.close().await.unwrap();
    run_b.await.unwrap().unwrap();
    let total = 3 * PER_BATCH as usize;
    assert!(
        wait_until(Duration::from_secs(90), || handled(&log) == total).await,
        "handled {} of {total}",
        handled(&log)
    );
    a.close().await.unwrap();
    run_a.await.unwrap().unwrap();
    let deduplicated = a.metrics().deduplicated + member_b.metrics().deduplicated;
    (log, b_joined, deduplicated as usize)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn group_rebalance_mid_stream_handles_every_record_with_duplicates_only_across_owners() {
    let (log, b_joined, _) = scenario(None).await;
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3 * PER_BATCH as usize, "every record handled");
    let mut duplicates = 0;
    for (n, deliveries) in log.iter() {
        if deliveries.len() > 1 {
            duplicates += deliveries.len() - 1;
            // A repeat is a partition changing hands: a different listener, after B joined.
            let who: Vec<_> = deliveries.iter().map(|(w, _)| *w).collect();
            assert!(
                who.windows(2).all(|w| w[0] != w[1]),
                "enc-{n} handled twice by the same listener: {who:?}"
            );
            assert!(
                deliveries[1..].iter().all(|(_, t)| *t >= b_joined),
                "enc-{n}"
            );
        }
    }
    let both = log
        .values()
        .filter(|d| d.iter().any(|(w, _)| *w == "b"))
        .count();
    eprintln!("rebalance without dedupe: {duplicates} duplicate deliveries; B handled {both}");
    assert!(both > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn group_rebalance_with_shared_dedupe_delivers_each_record_once() {
    let dedupe = Dedupe::new(DedupeWindow::default());
    let (log, _, suppressed) = scenario(Some(dedupe.clone())).await;
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3 * PER_BATCH as usize);
    let repeated: Vec<_> = log
        .iter()
        .filter(|(_, d)| d.len() > 1)
        .map(|(n, _)| *n)
        .collect();
    assert!(
        repeated.is_empty(),
        "delivered more than once: {repeated:?}"
    );
    eprintln!("rebalance with dedupe: {suppressed} redeliveries suppressed");
    assert_eq!(dedupe.len(), 3 * PER_BATCH as usize);
}

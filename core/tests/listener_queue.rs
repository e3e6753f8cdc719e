//! The listener in pull form ([`Queue`]): acknowledgements store offsets in partition order,
//! failures go through the retry policy and the dead-letter topic, dropped deliveries, time
//! outs, the stop and the run's error; batches from one partition with out-of-order answers;
//! and per-partition pipelining for push handlers. In-memory broker, plus one real-Kafka test
//! (`#[ignore]`d: it needs `HIEVC_KAFKA_BOOTSTRAP`).

mod listener_support;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use hie_vc::listener::{
    dlq, Delivery, EncounterEvent, EventSource, FailureReason, KafkaConfig, Listener, MemoryBroker,
    MemoryRecord, PartitionLag, Queue, RetryPolicy, SourceEvent, SourceHandle, SourceStart,
};
use hie_vc::{Error, ErrorKind};
use listener_support::encounters::{number_of, vc_encounter};
use listener_support::{failure_log, wait_until};

const T: &str = "vc-encounters";
const WAIT: Duration = Duration::from_secs(10);
const TICK: Option<Duration> = Some(Duration::from_millis(300));

fn send(broker: &MemoryBroker, numbers: std::ops::Range<u64>) {
    for n in numbers {
        broker
            .send(
                T,
                MemoryRecord::new(vc_encounter(n, 1)).header("trace", "t1"),
            )
            .unwrap();
    }
}

fn number(d: &Delivery) -> u64 {
    number_of(d.event().encounter_id().unwrap()).unwrap()
}

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(n)
        .initial_backoff(Duration::from_millis(5))
        .jitter(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_are_stored_in_order_and_pullers_share_the_queue() {
    let broker = MemoryBroker::new();
    broker.create_topic(T, 2).unwrap();
    for n in 0..40u64 {
        broker
            .send(
                T,
                MemoryRecord::new(vc_encounter(n, 1)).partition((n % 2) as i32),
            )
            .unwrap();
    }
    let queue = Listener::builder()
        .memory(&broker, "g", [T])
        .build_queue()
        .unwrap();
    // Two pullers on the same queue; each records (partition, offset) in the order it got them.
    let seen: Arc<Mutex<Vec<(i32, i64)>>> = Arc::default();
    let pullers: Vec<_> = (0..2)
        .map(|_| {
            let (q, seen) = (queue.clone(), seen.clone());
            tokio::spawn(async move {
                while let Some(d) = q.next(TICK).await.unwrap() {
                    seen.lock()
                        .unwrap()
                        .push((d.event().partition(), d.event().offset()));
                    d.ack().unwrap();
                }
            })
        })
        .collect();
    for p in pullers {
        p.await.unwrap();
    }
    queue.close().await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 40, "each event once");
    for p in 0..2 {
        let offsets: Vec<i64> = seen.iter().filter(|s| s.0 == p).map(|s| s.1).collect();
        assert_eq!(
            offsets,
            (0..20).collect::<Vec<_>>(),
            "partition {p} in order"
        );
        assert_eq!(broker.committed("g", T, p), Some(20));
    }
    assert_eq!(queue.listener().metrics().handled, 40);
    assert!(!queue.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_event_per_partition_is_out_until_it_is_answered_by_default() {
    let broker = MemoryBroker::new();
    send(&broker, 0..3);
    let queue = Listener::builder()
        .memory(&broker, "g", [T])
        .build_queue()
        .unwrap();
    let first = queue.next(Some(WAIT)).await.unwrap().unwrap();
    assert_eq!(number(&first), 0);
    assert!(
        queue.next(TICK).await.unwrap().is_none(),
        "the partition's next event waits for the answer"
    );
    first.ack().unwrap();
    let second = queue.next(Some(WAIT)).await.unwrap().unwrap();
    assert_eq!(number(&second), 1);
    second.ack().unwrap();
    queue.close().await.unwrap();
    assert_eq!(
        broker.committed("g", T, 0),
        Some(2),
        "the third was never answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_retried_per_policy_then_dead_lettered_with_its_headers() {
    let broker = MemoryBroker::new();
    send(&broker, 0..4);
    let (failures, on_error) = failure_log();
    let queue = Listener::builder()
        .memory(&broker, "g", [T])
        .retry(fast_retries(2))
        .dead_letter_topic("dlq")
        .on_error(on_error)
        .build_queue()
        .unwrap();
    let mut attempts: HashMap<u64, u32> = HashMap::new();
    while let Some(d) = queue.next(TICK).await.unwrap() {
        let n = number(&d);
        *attempts.entry(n).or_default() += 1;
        match n {
            1 => d.fail(std::io::Error::other("downstream said no")).unwrap(),
            2 => d.fail_permanent("bad data").unwrap(),
            _ => d.ack().unwrap(),
        }
    }
    queue.close().await.unwrap();
    assert_eq!(attempts[&0], 1);
    assert_eq!(attempts[&1], 3, "1 attempt + 2 retries");
    assert_eq!(attempts[&2], 1, "a permanent failure is not retried");
    assert_eq!(attempts[&3], 1, "the partition moved on");
    let dead = broker.records("dlq");
    assert_eq!(dead.len(), 2);
    let h = |i: usize, k: &str| {
        dead[i]
            .header(k)
            .and_then(|h| h.value_str())
            .map(str::to_owned)
    };
    assert_eq!(
        h(0, "trace").as_deref(),
        Some("t1"),
        "original headers kept"
    );
    assert_eq!(h(0, dlq::HEADER_OFFSET).as_deref(), Some("1"));
    assert_eq!(h(0, dlq::HEADER_ATTEMPTS).as_deref(), Some("3"));
    assert_eq!(h(0, dlq::HEADER_REASON).as_deref(), Some("handler"));
    assert!(h(0, dlq::HEADER_ERROR)
        .unwrap()
        .contains("downstream said no"));
    assert_eq!(h(1, dlq::HEADER_OFFSET).as_deref(), Some("2"));
    assert_eq!(h(1, dlq::HEADER_ATTEMPTS).as_deref(), Some("1"));
    assert!(h(1, dlq::HEADER_ERROR).unwrap().contains("bad data"));
    let reasons: Vec<_> = failures.lock().unwrap().iter().map(|f| f.reason).collect();
    assert_eq!(reasons, [FailureReason::Handler, FailureReason::Handler]);
    assert_eq!(broker.committed("g", T, 0), Some(4));
    let m = queue.listener().metrics();
    assert_eq!(
        (m.handled, m.handler_failures, m.retries, m.dead_lettered),
        (2, 2, 2, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_delivery_is_a_failed_attempt_while_running() {
    let broker = MemoryBroker::new();
    send(&broker, 0..3);
    let queue = Listener::builder()
        .memory(&broker, "g", [T])
        .retry(fast_retries(1))
        .dead_letter_topic("dlq")
        .build_queue()
        .unwrap();
    let mut attempts: HashMap<u64, u32> = HashMap::new();
    while let Some(d) = queue.next(TICK).await.unwrap() {
        let n = number(&d);
        let a = attempts.entry(n).or_default();
        *a += 1;
        match (n, *a) {
            // Dropped once, then acknowledged: the retry brings it back.
            (0, 1) => drop(d),
            // Dropped on every attempt: dead-lettered like any failure.
            (1, _) => drop(d),
            _ => d.ack().unwrap(),
        }
    }
    queue.close().await.unwrap();
    assert_eq!(attempts, HashMap::from([(0, 2), (1, 2), (2, 1)]));
    let dead = broker.records("dlq");
    assert_eq!(dead.len(), 1);
    let error = dead[0]
        .header(dlq::HEADER_ERROR)
        .unwrap()
        .value_str()
        .unwrap();
    assert!(error.contains("dropped without an answer"), "{error}");
    assert_eq!(broker.committed("g", T, 0), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_out_or_queued_at_the_stop_are_redelivered_after_the_restart() {
    let broker = MemoryBroker::new();
    broker.create_topic(T, 2).unwrap();
    for n in 0..4u64 {
        broker
            .send(
                T,
                MemoryRecord::new(vc_encounter(n, 1)).partition((n % 2) as i32),
            )
            .unwrap();
    }
    let build = || {
        Listener::builder()
            .memory(&broker, "g", [T])
            .retry(fast_retries(0))
            .dead_letter_topic("dlq")
            .drain_timeout(Duration::from_secs(5))
            .build_queue()
            .unwrap()
    };
    let queue = build();
    // Take the head of one partition and drop it during the stop; the other partition's
    // head stays queued, never pulled.
    let taken = queue.next(Some(WAIT)).await.unwrap().unwrap();
    let started = Instant::now();
    let stop = {
        let q = queue.clone();
        tokio::spawn(async move { q.stop().await })
    };
    assert!(wait_until(WAIT, || !queue.is_running()).await);
    assert_eq!(
        queue.next(TICK).await.unwrap_err().kind(),
        ErrorKind::Closed,
        "no events once stopping"
    );
    assert_eq!(
        taken.event().offset(),
        0,
        "the first event of its partition"
    );
    drop(taken);
    stop.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "neither the queued event nor the dropped one is waited for until the drain timeout"
    );
    queue.close().await.unwrap();
    assert_eq!(
        broker.records("dlq").len(),
        0,
        "abandoned, not dead-lettered"
    );
    assert_eq!(broker.committed("g", T, 0), None);
    assert_eq!(broker.committed("g", T, 1), None);
    assert_eq!(
        queue.next(TICK).await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        queue
            .next_batch(5, Duration::ZERO)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Closed
    );

    let again = build();
    let mut got = BTreeSet::new();
    while let Some(d) = again.next(TICK).await.unwrap() {
        got.insert(number(&d));
        d.ack().unwrap();
    }
    again.close().await.unwrap();
    assert_eq!(got, (0..4).collect(), "everything redelivered");
    assert_eq!(broker.committed("g", T, 0), Some(2));
    assert_eq!(broker.committed("g", T, 1), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_none_and_misuse_is_a_typed_error() {
    let broker = MemoryBroker::new();
    broker.create_topic(T, 1).unwrap();
    let queue = Listener::builder()
        .memory(&broker, "g", [T])
        .build_queue()
        .unwrap();
    let t = Instant::now();
    assert!(queue
        .next(Some(Duration::from_millis(100)))
        .await
        .unwrap()
        .is_none());
    assert!(t.elapsed() >= Duration::from_millis(100));
    assert!(queue
        .next_batch(10, Duration::from_millis(50))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        queue.next_batch(0, TICK.unwrap()).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(queue.is_running());
    queue.close().await.unwrap();
    assert!(queue.close().await.is_ok(), "close is idempotent");

    let both = Listener::builder()
        .memory(&broker, "g2", [T])
        .handler(|_e: EncounterEvent| async { Ok::<(), std::io::Error>(()) })
        .build_queue()
        .unwrap_err();
    assert_eq!(both.kind(), ErrorKind::Config);
    let zero = Listener::builder()
        .memory(&broker, "g3", [T])
        .max_in_flight_per_partition(0)
        .build_queue()
        .unwrap_err();
    assert_eq!(zero.kind(), ErrorKind::Config);
}

/// A source whose brokers refuse the credentials once it starts.
struct Refusing;

struct NoStore;

impl SourceHandle for NoStore {
    fn store(&self, _at: &hie_vc::listener::Coordinates) -> Result<(), Error> {
        Ok(())
    }
    fn dead_letter(
        &self,
        _topic: &str,
        _record: hie_vc::listener::DeadLetter,
    ) -> BoxFuture<'static, Result<(), Error>> {
        async { Ok(()) }.boxed()
    }
    fn lag(&self) -> Vec<PartitionLag> {
        Vec::new()
    }
}

impl EventSource for Refusing {
    fn describe(&self) -> String {
        "refusing".to_owned()
    }
    fn start(&mut self, _start: &SourceStart) -> Result<(), Error> {
        Ok(())
    }
    fn next(&mut self) -> BoxFuture<'_, Option<SourceEvent>> {
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Some(SourceEvent::Fatal(Error::new(
                ErrorKind::Unauthorized,
                "SASL authentication failed",
            )))
        }
        .boxed()
    }
    fn handle(&self) -> Arc<dyn SourceHandle> {
        Arc::new(NoStore)
    }
    fn close(&mut self, _timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        async { Ok(()) }.boxed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runs_own_error_reaches_every_puller_and_stop() {
    let queue = Listener::builder().source(Refusing).build_queue().unwrap();
    let pullers: Vec<_> = (0..2)
        .map(|_| {
            let q = queue.clone();
            tokio::spawn(async move { q.next(None).await })
        })
        .collect();
    for p in pullers {
        let e = p.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unauthorized);
        assert!(e.message().contains("SASL authentication failed"));
    }
    assert!(!queue.is_running());
    assert_eq!(
        queue.stop().await.unwrap_err().kind(),
        ErrorKind::Unauthorized
    );
    assert_eq!(
        queue.close().await.unwrap_err().kind(),
        ErrorKind::Unauthorized
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_from_one_partition_stores_only_the_acknowledged_prefix() {
    let broker = MemoryBroker::new();
    send(&broker, 0..10);
    let build = || {
        Listener::builder()
            .memory(&broker, "g", [T])
            .drain_timeout(Duration::from_millis(300))
            .build_queue()
            .unwrap()
    };
    let queue = build();
    let mut batch = Vec::new();
    let deadline = Instant::now() + WAIT;
    while batch.len() < 10 && Instant::now() < deadline {
        batch.extend(queue.next_batch(10 - batch.len(), WAIT).await.unwrap());
    }
    let offsets: Vec<i64> = batch.iter().map(|d| d.event().offset()).collect();
    assert_eq!(
        offsets,
        (0..10).collect::<Vec<_>>(),
        "the whole partition in flight, in order"
    );
    assert!(
        queue
            .next_batch(10, Duration::from_millis(100))
            .await
            .unwrap()
            .is_empty(),
        "nothing more"
    );
    // Answer out of order: 5, 7, 2, 0, 1, then 3; 4, 6, 8, 9 stay unanswered.
    let mut slots: Vec<Option<Delivery>> = batch.into_iter().map(Some).collect();
    let mut ack = |i: usize| slots[i].take().unwrap().ack().unwrap();
    ack(5);
    ack(7);
    ack(2);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        broker.committed("g", T, 0),
        None,
        "offset 0 not answered yet"
    );
    ack(0);
    ack(1);
    assert!(
        wait_until(WAIT, || broker.committed("g", T, 0) == Some(3)).await,
        "0..=2 stored, not 5 and 7: {:?}",
        broker.committed("g", T, 0)
    );
    ack(3);
    assert!(wait_until(WAIT, || broker.committed("g", T, 0) == Some(4)).await);
    // Kill-style stop: the unanswered events are held past the drain timeout.
    let held: Vec<Delivery> = slots.into_iter().flatten().collect();
    assert_eq!(
        held.iter().map(|d| d.event().offset()).collect::<Vec<_>>(),
        [4, 6, 8, 9]
    );
    queue.close().await.unwrap();
    // The lane is aborted at the drain timeout; its task is dropped just after.
    assert!(wait_until(WAIT, || held.iter().all(Delivery::is_abandoned)).await);
    let late = held.into_iter().next().unwrap().ack().unwrap_err();
    assert_eq!(late.kind(), ErrorKind::Closed);
    assert_eq!(broker.committed("g", T, 0), Some(4));

    // After the restart: from the first unanswered record on (5 and 7 too: offsets are
    // stored in order), and nothing before it.
    let again = build();
    let mut got = Vec::new();
    while let Ok(b) = again.next_batch(10, Duration::from_millis(300)).await {
        if b.is_empty() {
            break;
        }
        for d in b {
            got.push(number(&d));
            d.ack().unwrap();
        }
    }
    again.close().await.unwrap();
    assert_eq!(got, (4..10).collect::<Vec<_>>());
    assert_eq!(broker.committed("g", T, 0), Some(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_handler_overlaps_within_a_partition_and_stores_in_order() {
    let broker = MemoryBroker::new();
    send(&broker, 0..20);
    let (failures, on_error) = failure_log();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, pk) = (running.clone(), peak.clone());
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .max_in_flight_per_partition(4)
            .retry(fast_retries(1))
            .dead_letter_topic("dlq")
            .on_error(on_error)
            .handler(move |e: EncounterEvent| {
                let n = number_of(e.encounter_id().unwrap()).unwrap();
                let (r, pk) = (r.clone(), pk.clone());
                async move {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    pk.fetch_max(now, Ordering::SeqCst);
                    // Later records finish first.
                    tokio::time::sleep(Duration::from_millis(40 - 2 * (n % 4))).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    if n == 6 {
                        return Err(std::io::Error::other("no"));
                    }
                    Ok(())
                }
            })
            .build()
            .unwrap(),
    );
    let run = listener_support::spawn(&listener);
    assert!(wait_until(WAIT, || listener.metrics().processed() == 20).await);
    assert!(wait_until(WAIT, || broker.committed("g", T, 0) == Some(20)).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&peak),
        "overlapping calls, at most 4: {peak}"
    );
    let dead = broker.records("dlq");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].header(dlq::HEADER_ATTEMPTS).unwrap().value_str(),
        Some("2")
    );
    assert_eq!(failures.lock().unwrap().len(), 1);
    assert_eq!(listener.metrics().handled, 19);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: HIEVC_KAFKA_BOOTSTRAP"]
async fn kafka_batches_store_the_acknowledged_prefix_and_redeliver_the_rest() {
    use listener_support::kafka::{self as k, Rec};
    let b = k::bootstrap();
    let topic = k::unique("queue");
    let dlq_topic = format!("{topic}.dlq");
    let group = k::unique("g");
    k::create_topic(&b, &topic, 1).await;
    k::create_topic(&b, &dlq_topic, 1).await;
    let recs = (0..50u64)
        .map(|n| Rec::new(vc_encounter(n, 1)).header("origin", "hie"))
        .collect();
    k::produce(&k::producer(&b), &topic, recs).await;
    let build = || -> Queue {
        Listener::builder()
            .kafka(KafkaConfig::new(&b, &group).topic(&topic))
            .retry(fast_retries(0))
            .dead_letter_topic(&dlq_topic)
            .drain_timeout(Duration::from_millis(500))
            .build_queue()
            .unwrap()
    };

    // First member: acknowledge 0..30 except 10 (failed: dead-lettered) in reverse order;
    // hold 30..50 unanswered and stop.
    let queue = build();
    let mut batch = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while batch.len() < 50 && Instant::now() < deadline {
        batch.extend(
            queue
                .next_batch(50 - batch.len(), Duration::from_secs(5))
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        batch.iter().map(|d| d.event().offset()).collect::<Vec<_>>(),
        (0..50).collect::<Vec<_>>()
    );
    let held = batch.split_off(30);
    for d in batch.into_iter().rev() {
        if number(&d) == 10 {
            d.fail("no").unwrap();
        } else {
            d.ack().unwrap();
        }
    }
    assert!(
        wait_until(Duration::from_secs(30), || {
            let m = queue.listener().metrics();
            m.handled == 29 && m.dead_lettered == 1
        })
        .await
    );
    queue.close().await.unwrap();
    drop(held);
    assert_eq!(k::committed(&b, &group, &topic, 1), [Some(30)]);
    let dead = k::read_all(&b, &dlq_topic, 1, 1, Duration::from_secs(20));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].headers["origin"], "hie");
    assert_eq!(dead[0].headers[dlq::HEADER_OFFSET], "10");

    // Second member of the group: exactly the unanswered 30..50.
    let again = build();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < 20 && Instant::now() < deadline {
        for d in again.next_batch(20, Duration::from_secs(5)).await.unwrap() {
            got.push(number(&d));
            d.ack().unwrap();
        }
    }
    // Nothing more comes.
    assert!(again
        .next_batch(20, Duration::from_secs(2))
        .await
        .unwrap()
        .is_empty());
    again.close().await.unwrap();
    assert_eq!(got, (30..50).collect::<Vec<_>>());
    assert_eq!(k::committed(&b, &group, &topic, 1), [Some(50)]);
}

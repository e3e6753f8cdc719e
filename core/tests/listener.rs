//! The Kafka listener against a real Apache Kafka broker (tests/services/kafka.sh): round
//! trips with rdkafka and with kcat as independent clients, dead letters, SASL, bounded close.
//! Each test uses its own topics and group. They need `HIEVC_KAFKA_BOOTSTRAP`, so they are
//! `#[ignore]`d by default (`--include-ignored` runs them; without the variable they fail).
//!
//! Rebalances, kill -9 and broker restarts are in listener_rebalance.rs, listener_crash.rs and
//! listener_broker_restart.rs.

mod listener_support;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::listener::{
    dlq, DecodeErrorKind, Disposition, EncounterEvent, FailureReason, KafkaConfig, Listener,
    RetryPolicy, Sasl, SaslMechanism, Security,
};
use hie_vc::ErrorKind;
use listener_support::encounters::{number_of, outpatient_encounter, vc_bundle, vc_encounter};
use listener_support::kafka::{self as k, Rec};
use listener_support::{failure_log, recording, wait_until, Seen};

const WAIT: Duration = Duration::from_secs(60);

fn recording_listener(cfg: KafkaConfig) -> (Arc<Listener>, Seen) {
    recording(Listener::builder().kafka(cfg))
}

fn spawn(l: &Arc<Listener>) -> tokio::task::JoinHandle<Result<(), hie_vc::Error>> {
    let l = l.clone();
    tokio::spawn(async move { l.run().await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn round_trip_with_an_rdkafka_producer() {
    let b = k::bootstrap();
    let topic = k::unique("rt");
    let group = k::unique("g");
    k::create_topic(&b, &topic, 3).await;
    let mut recs = Vec::new();
    for n in 0..300u64 {
        let payload = match n % 10 {
            3 => outpatient_encounter(n),
            7 => vc_bundle(n),
            _ => vc_encounter(n, 1),
        };
        recs.push(
            Rec::new(payload)
                .key(format!("patient-{}", n % 17))
                .header("origin", "hie"),
        );
    }
    let producer = k::producer(&b);
    let placed = k::produce(&producer, &topic, recs).await;

    let cfg = KafkaConfig::new(&b, &group)
        .topic(&topic)
        .statistics_interval(Some(Duration::from_millis(300)));
    let (listener, seen) = recording_listener(cfg);
    let run = spawn(&listener);
    assert!(
        wait_until(WAIT, || listener.metrics().processed() == 300).await,
        "{:?}",
        listener.metrics()
    );
    // Lag comes from librdkafka statistics: wait for a report after the last commit.
    assert!(
        wait_until(WAIT, || {
            let m = listener.metrics();
            m.partitions.len() == 3 && m.partitions.iter().all(|p| p.lag_stored == Some(0))
        })
        .await,
        "{:?}",
        listener.metrics().partitions
    );
    let started = Instant::now();
    listener.close().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "close took {:?}",
        started.elapsed()
    );
    run.await.unwrap().unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 270, "the 30 outpatient Encounters are filtered");
    // Partition order is kept: offsets rise within each partition.
    for p in 0..3 {
        let offsets: Vec<i64> = seen
            .iter()
            .filter(|e| e.partition() == p)
            .map(|e| e.offset())
            .collect();
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "partition {p}: {offsets:?}"
        );
    }
    for e in seen.iter() {
        let n = number_of(e.encounter_id().unwrap()).unwrap();
        assert_eq!(
            (e.partition(), e.offset()),
            placed[n as usize],
            "enc-{n} coordinates"
        );
        assert_eq!(e.key().unwrap(), format!("patient-{}", n % 17).as_bytes());
        assert_eq!(e.headers()[0].value_str(), Some("hie"));
        assert!(e.timestamp().is_some());
        assert!(e.vc().unwrap().token.is_some());
        if n % 10 == 7 {
            assert_eq!(e.included().len(), 1, "the bundle's Patient");
        }
    }
    let m = listener.metrics();
    assert_eq!(
        (m.received, m.handled, m.filtered, m.decode_errors),
        (300, 270, 30, 0)
    );
    assert!(m.average_messages_per_second > 0.0);
    // Every offset was committed on close.
    let committed = k::committed(&b, &group, &topic, 3);
    let ends = k::end_offsets(&b, &topic, 3);
    assert_eq!(committed, ends.iter().map(|e| Some(*e)).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn round_trip_with_kcat() {
    let b = k::bootstrap();
    let topic = k::unique("kcat");
    let dead = format!("{topic}.dlq");
    let group = k::unique("g");
    k::create_topic(&b, &topic, 1).await;
    k::create_topic(&b, &dead, 1).await;
    // kcat produces: one record per line, key|value, a header on every record.
    let mut input = String::new();
    for n in 0..50u64 {
        input.push_str(&format!("key-{n}|{}\n", vc_encounter(n, 1)));
    }
    input.push_str("key-poison|{\"resourceType\":\"Encounter\",\"status\":\"arrived\"\n");
    input.push_str(&format!("key-50|{}\n", vc_encounter(50, 1)));
    let mut kcat = Command::new("kcat")
        .args(["-P", "-b", &b, "-t", &topic, "-K", "|", "-H", "via=kcat"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("kcat is installed (apt-get install kcat)");
    kcat.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(kcat.wait().unwrap().success());

    let seen: Seen = Arc::default();
    let s = seen.clone();
    let listener = Arc::new(
        Listener::builder()
            .kafka(KafkaConfig::new(&b, &group).topic(&topic))
            .dead_letter_topic(&dead)
            .handler(move |e: EncounterEvent| {
                s.lock().unwrap().push(e);
                async { Ok::<(), std::io::Error>(()) }
            })
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(wait_until(WAIT, || listener.metrics().processed() == 52).await);
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    let ids: BTreeSet<u64> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(
                e.key().unwrap(),
                format!("key-{}", number_of(e.encounter_id().unwrap()).unwrap()).as_bytes()
            );
            assert_eq!(e.headers()[0].value_str(), Some("kcat"));
            number_of(e.encounter_id().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(ids, (0..=50).collect());

    // kcat reads the dead letter back, headers and all.
    let out = Command::new("kcat")
        .args([
            "-C",
            "-b",
            &b,
            "-t",
            &dead,
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k\t%h\t%s\n",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().next().expect("one dead letter");
    let mut cols = line.splitn(3, '\t');
    assert_eq!(cols.next(), Some("key-poison"));
    let headers = cols.next().unwrap();
    for expected in [
        "via=kcat".to_owned(),
        format!("{}={topic}", dlq::HEADER_TOPIC),
        format!("{}=0", dlq::HEADER_PARTITION),
        format!("{}=50", dlq::HEADER_OFFSET),
        format!("{}=decode/not_json", dlq::HEADER_REASON),
        format!("{}=0", dlq::HEADER_ATTEMPTS),
    ] {
        assert!(headers.contains(&expected), "{expected} in {headers}");
    }
    assert!(cols
        .next()
        .unwrap()
        .starts_with("{\"resourceType\":\"Encounter\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn poison_records_go_to_the_dead_letter_topic_and_the_partition_flows() {
    let b = k::bootstrap();
    let topic = k::unique("poison");
    let dead = format!("{topic}.dlq");
    let group = k::unique("g");
    k::create_topic(&b, &topic, 1).await;
    k::create_topic(&b, &dead, 1).await;
    let mut recs = Vec::new();
    for n in 0..40u64 {
        recs.push(
            Rec::new(vc_encounter(n, 1))
                .key(format!("k{n}"))
                .header("trace", &format!("t{n}")),
        );
        if n % 10 == 5 {
            recs.push(Rec::new(&b"\xff\xfe not utf-8"[..]).key("bad-bytes"));
        }
    }
    // A 5 MB record (over the 1 MiB default limit) and a deeply nested one.
    let mut huge = String::from(
        r#"{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">"#,
    );
    huge.push_str(&"x".repeat(5 * 1024 * 1024));
    huge.push_str(r#"</div>"}}"#);
    let huge_len = huge.len();
    recs.push(Rec::new(huge).key("huge"));
    let deep = format!(
        r#"{{"resourceType":"Encounter","x":{}{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    recs.push(Rec::new(deep).key("deep"));
    recs.push(Rec::new(vc_encounter(99, 1)).key("k99"));
    let placed = k::produce(&k::producer(&b), &topic, recs).await;
    assert_eq!(placed.len(), 47);

    let handled: Arc<Mutex<Vec<u64>>> = Arc::default();
    let h = handled.clone();
    let (failures, on_error) = failure_log();
    let listener = Arc::new(
        Listener::builder()
            .kafka(KafkaConfig::new(&b, &group).topic(&topic))
            .dead_letter_topic(&dead)
            .retry(
                RetryPolicy::default()
                    .max_retries(2)
                    .initial_backoff(Duration::from_millis(10)),
            )
            .on_error(on_error)
            .handler(move |e: EncounterEvent| {
                let n = number_of(e.encounter_id().unwrap()).unwrap();
                h.lock().unwrap().push(n);
                async move {
                    if n % 13 == 12 {
                        Err(std::io::Error::other(format!("cannot book enc-{n}")))
                    } else {
                        Ok(())
                    }
                }
            })
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(
        wait_until(WAIT, || listener.metrics().processed() == 47).await,
        "{:?}",
        listener.metrics()
    );
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();

    // 4 + 2 undecodable + 3 handler failures (enc-12, 25, 38), each tried 3 times.
    let handled = handled.lock().unwrap();
    for n in [12u64, 25, 38] {
        assert_eq!(handled.iter().filter(|&&x| x == n).count(), 3, "enc-{n}");
    }
    let ok: BTreeSet<u64> = handled.iter().copied().collect();
    assert_eq!(
        ok,
        (0..40).chain([99]).collect(),
        "everything after a poison record was handled"
    );
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len(), 9);
    assert!(failures.iter().all(|f| f.disposition
        == Disposition::DeadLettered {
            topic: dead.clone()
        }));
    assert_eq!(
        failures
            .iter()
            .filter(|f| f.reason == FailureReason::Decode(DecodeErrorKind::InvalidUtf8))
            .count(),
        4
    );
    let reasons: Vec<_> = failures.iter().map(|f| f.reason).collect();
    assert!(reasons.contains(&FailureReason::Decode(DecodeErrorKind::TooLarge)));
    assert!(reasons.contains(&FailureReason::Decode(DecodeErrorKind::TooDeep)));
    let letters = k::read_all(&b, &dead, 1, 9, Duration::from_secs(30));
    assert_eq!(letters.len(), 9);
    for l in &letters {
        let offset: i64 = l.headers[dlq::HEADER_OFFSET].parse().unwrap();
        assert_eq!(l.headers[dlq::HEADER_TOPIC], topic);
        assert_eq!(l.headers[dlq::HEADER_PARTITION], "0");
        let original = placed.iter().position(|&(_, o)| o == offset).unwrap();
        if l.key.as_deref() == Some(&b"bad-bytes"[..]) {
            assert_eq!(l.headers[dlq::HEADER_REASON], "decode/invalid_utf8");
            assert_eq!(l.headers[dlq::HEADER_ATTEMPTS], "0");
            assert_eq!(l.payload.as_deref(), Some(&b"\xff\xfe not utf-8"[..]));
        } else if l.key.as_deref() == Some(&b"huge"[..]) {
            assert_eq!(l.headers[dlq::HEADER_REASON], "decode/too_large");
            assert_eq!(
                l.payload.as_ref().map(Vec::len),
                Some(huge_len),
                "kept whole"
            );
        } else if l.key.as_deref() == Some(&b"deep"[..]) {
            assert_eq!(l.headers[dlq::HEADER_REASON], "decode/too_deep");
        } else {
            assert_eq!(l.headers[dlq::HEADER_REASON], "handler");
            assert_eq!(l.headers[dlq::HEADER_ATTEMPTS], "3");
            assert!(
                l.headers[dlq::HEADER_ERROR].contains("cannot book"),
                "{:?}",
                l.headers
            );
            assert!(l.headers.contains_key("trace"), "original headers kept");
            assert!(original > 0);
        }
    }
    let committed = k::committed(&b, &group, &topic, 1);
    assert_eq!(committed, vec![Some(47)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn sasl_works_with_right_credentials_and_fails_clearly_with_wrong_ones() {
    let b = k::bootstrap();
    let sasl = k::sasl_bootstrap(&b);
    let user = std::env::var("HIEVC_KAFKA_SASL_USER").unwrap_or_else(|_| "hievc".into());
    let password =
        std::env::var("HIEVC_KAFKA_SASL_PASSWORD").unwrap_or_else(|_| "hievc-secret".into());
    let topic = k::unique("sasl");
    k::create_topic(&b, &topic, 1).await;
    k::produce(&k::producer(&b), &topic, vec![Rec::new(vc_encounter(1, 1))]).await;

    for mechanism in [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ] {
        let cfg = KafkaConfig::new(&sasl, k::unique("g"))
            .topic(&topic)
            .security(Security::SaslPlaintext(Sasl::new(
                mechanism, &user, &password,
            )));
        let (listener, seen) = recording_listener(cfg);
        let run = spawn(&listener);
        assert!(
            wait_until(WAIT, || seen.lock().unwrap().len() == 1).await,
            "{mechanism}"
        );
        listener.close().await.unwrap();
        run.await.unwrap().unwrap();

        let wrong = "not-the-password-42";
        let cfg = KafkaConfig::new(&sasl, k::unique("g"))
            .topic(&topic)
            .security(Security::SaslPlaintext(Sasl::new(mechanism, &user, wrong)));
        assert!(!format!("{cfg:?}").contains(wrong));
        let (listener, seen) = recording_listener(cfg);
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(30), listener.run()).await;
        let err = result
            .expect("run stops by itself on refused credentials")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized, "{mechanism}: {err}");
        let text = err.to_string();
        eprintln!("wrong {mechanism} credentials: {text}");
        assert!(
            text.contains("authentication failed") && text.contains(mechanism.as_str()),
            "{text}"
        );
        assert!(!text.contains(wrong) && !format!("{err:?}").contains(wrong));
        assert!(started.elapsed() < Duration::from_secs(20));
        assert!(seen.lock().unwrap().is_empty());
        let _ = listener.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_returns_within_seconds_when_brokers_are_unreachable() {
    // No broker needed: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (failures, on_error) = failure_log();
    let listener = Arc::new(
        Listener::builder()
            .kafka(KafkaConfig::new(format!("127.0.0.1:{port}"), "g").topic("t"))
            .close_timeout(Duration::from_secs(3))
            .on_error(on_error)
            .handler(|_e: EncounterEvent| async { Ok::<(), std::io::Error>(()) })
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(
        wait_until(Duration::from_secs(20), || !failures
            .lock()
            .unwrap()
            .is_empty())
        .await
    );
    let started = Instant::now();
    let closed = listener.close().await;
    let took = started.elapsed();
    eprintln!("close with brokers unreachable: {took:?}, {closed:?}");
    assert!(took < Duration::from_secs(5), "close took {took:?}");
    // Nothing was stored, so there is nothing lost; leaving a group never joined is quick or
    // reported as a timeout — either way it returned.
    if let Err(e) = closed {
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    }
    run.await.unwrap().unwrap();
    let f = failures.lock().unwrap()[0].clone();
    assert_eq!(f.reason, FailureReason::Source);
    assert_eq!(f.kind, ErrorKind::Transport, "{}", f.message);
    assert!(f.coordinates.is_none());
}

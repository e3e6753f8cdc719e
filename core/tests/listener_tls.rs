//! The Kafka listener over TLS against the real TLS listeners of tests/services/kafka.sh: SSL
//! and SASL_SSL round trips, a CA that did not sign the broker, a certificate for another
//! host, mutual TLS with an encrypted client key, the `[kafka]` settings keys, and secrets kept
//! out of logs, `Debug`, errors and dead letters.
//!
//! Records are produced and checked over PLAINTEXT with rdkafka directly (an independent
//! client); only the listener under test speaks TLS. Every test needs the TLS variables
//! (`HIEVC_KAFKA_SSL_BOOTSTRAP`, ...), so they are `#[ignore]`d by default and fail without them.

mod listener_support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hie_vc::listener::{
    dlq, EncounterEvent, KafkaConfig, Listener, ListenerBuilder, RetryPolicy, Sasl, SaslMechanism,
    Security, Tls,
};
use hie_vc::settings::SettingsLoader;
use hie_vc::ErrorKind;
use listener_support::encounters::vc_encounter;
use listener_support::kafka::{self as k, Rec, TlsBroker};
use listener_support::{failure_log, wait_until, Seen};

const WAIT: Duration = Duration::from_secs(60);
/// A certificate failure must end `run` about as fast as a refused password does: the first
/// handshake fails within milliseconds; anything near a metadata or session timeout is a hang.
const FAST: Duration = Duration::from_secs(15);

/// Everything any `tracing` event of this test binary wrote (the listener's own lines and
/// librdkafka's, which the listener forwards), for the secrets test.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: Arc<Mutex<Vec<u8>>> = Arc::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A recording listener, with every log line of the binary captured from its start.
fn recording(builder: ListenerBuilder) -> (Arc<Listener>, Seen) {
    captured_logs();
    listener_support::recording(builder)
}

fn recording_listener(cfg: KafkaConfig) -> (Arc<Listener>, Seen) {
    recording(Listener::builder().kafka(cfg))
}

/// A fresh topic holding `n` VC Encounters, produced over PLAINTEXT.
async fn topic_with(n: u64) -> String {
    let b = k::bootstrap();
    let topic = k::unique("tls");
    k::create_topic(&b, &topic, 1).await;
    let recs = (0..n).map(|i| Rec::new(vc_encounter(i, 1))).collect();
    k::produce(&k::producer(&b), &topic, recs).await;
    topic
}

fn trusting(ca: std::path::PathBuf) -> Tls {
    Tls {
        ca_location: Some(ca),
        ..Tls::default()
    }
}

fn mtls_client(t: &TlsBroker) -> Tls {
    Tls {
        certificate_location: Some(t.client_cert()),
        key_location: Some(t.client_key()),
        key_password: Some(t.key_password()),
        ..trusting(t.ca())
    }
}

/// Runs the listener until it has seen `n` records, closes it, and checks the group's
/// committed offset (read over PLAINTEXT) is past them: a full at-least-once round trip.
async fn round_trip(listener: Arc<Listener>, seen: &Seen, n: usize, group: &str, topic: &str) {
    let l = listener.clone();
    let run = tokio::spawn(async move { l.run().await });
    assert!(
        wait_until(WAIT, || seen.lock().unwrap().len() == n).await,
        "{} of {n} records; metrics {:?}",
        seen.lock().unwrap().len(),
        listener.metrics()
    );
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();
    assert_eq!(
        k::committed(&k::bootstrap(), group, topic, 1),
        vec![Some(n as i64)]
    );
}

/// Runs a listener that must fail: the error `run` ends with, and how long it took.
async fn refused(cfg: KafkaConfig) -> (hie_vc::Error, Duration) {
    let (listener, seen) = recording_listener(cfg);
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(60), listener.run())
        .await
        .expect("run stops by itself on a TLS failure, it does not hang");
    let elapsed = started.elapsed();
    let err = result.expect_err("the listener must not run");
    assert!(seen.lock().unwrap().is_empty());
    let _ = listener.close().await;
    (err, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_SSL_BOOTSTRAP"]
async fn round_trip_over_ssl() {
    let t = TlsBroker::from_env();
    let topic = topic_with(25).await;
    let group = k::unique("g");
    let cfg = KafkaConfig::new(&t.ssl, &group)
        .topic(&topic)
        .security(Security::Ssl(trusting(t.ca())));
    let (listener, seen) = recording_listener(cfg);
    round_trip(listener, &seen, 25, &group, &topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_SASL_SSL_BOOTSTRAP"]
async fn round_trip_over_sasl_ssl_and_a_wrong_password_is_refused_clearly() {
    let t = TlsBroker::from_env();
    let topic = topic_with(5).await;
    for mechanism in [SaslMechanism::Plain, SaslMechanism::ScramSha512] {
        let group = k::unique("g");
        let cfg = KafkaConfig::new(&t.sasl_ssl, &group)
            .topic(&topic)
            .security(Security::SaslSsl(
                Sasl::new(mechanism, k::sasl_user(), k::sasl_password()),
                trusting(t.ca()),
            ));
        let (listener, seen) = recording_listener(cfg);
        round_trip(listener, &seen, 5, &group, &topic).await;

        let wrong = "not-the-password-over-tls-77";
        let cfg = KafkaConfig::new(&t.sasl_ssl, k::unique("g"))
            .topic(&topic)
            .security(Security::SaslSsl(
                Sasl::new(mechanism, k::sasl_user(), wrong),
                trusting(t.ca()),
            ));
        let (err, elapsed) = refused(cfg).await;
        assert_eq!(err.kind(), ErrorKind::Unauthorized, "{mechanism}: {err}");
        assert!(elapsed < FAST, "{elapsed:?}");
        assert!(err.to_string().contains(mechanism.as_str()), "{err}");
        assert!(!err.to_string().contains(wrong) && !format!("{err:?}").contains(wrong));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_SSL_BOOTSTRAP"]
async fn a_ca_that_did_not_sign_the_broker_fails_fast_with_a_tls_error() {
    let t = TlsBroker::from_env();
    let topic = topic_with(1).await;
    // A CA of our own that signed nothing here, and no CA at all (the system store, which
    // does not know the test CA either).
    for (what, tls) in [
        ("other CA", trusting(t.other_ca())),
        ("system CAs", Tls::default()),
    ] {
        let cfg = KafkaConfig::new(&t.ssl, k::unique("g"))
            .topic(&topic)
            .security(Security::Ssl(tls));
        let (err, elapsed) = refused(cfg).await;
        eprintln!("{what}: {err} after {elapsed:?}");
        assert_eq!(err.kind(), ErrorKind::Tls, "{what}: {err}");
        assert!(!err.is_retryable());
        let text = err.to_string();
        assert!(
            text.contains("certificate was refused") && text.contains("certificate verify failed"),
            "{what}: {text}"
        );
        assert!(elapsed < FAST, "{what}: {elapsed:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_OTHER_HOST_BOOTSTRAP"]
async fn a_certificate_for_another_host_is_refused_unless_verification_is_turned_off() {
    let t = TlsBroker::from_env();
    let topic = topic_with(3).await;
    // Signed by the trusted CA, but for not-this-broker.invalid: refused by default.
    let cfg = KafkaConfig::new(&t.other_host, k::unique("g"))
        .topic(&topic)
        .security(Security::Ssl(trusting(t.ca())));
    let (err, elapsed) = refused(cfg).await;
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(err.to_string().contains("host name"), "{err}");
    assert!(elapsed < FAST, "{elapsed:?}");

    // The same broker once the check is turned off explicitly.
    let group = k::unique("g");
    let cfg = KafkaConfig::new(&t.other_host, &group)
        .topic(&topic)
        .security(Security::Ssl(Tls {
            danger_skip_hostname_verification: true,
            ..trusting(t.ca())
        }));
    let (listener, seen) = recording_listener(cfg);
    round_trip(listener, &seen, 3, &group, &topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_MTLS_BOOTSTRAP"]
async fn mutual_tls_needs_the_client_certificate_and_its_key_password() {
    let t = TlsBroker::from_env();
    let topic = topic_with(4).await;

    // No client certificate: the broker refuses the handshake.
    let cfg = KafkaConfig::new(&t.mtls, k::unique("g"))
        .topic(&topic)
        .security(Security::Ssl(trusting(t.ca())));
    let (err, elapsed) = refused(cfg).await;
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(
        err.to_string()
            .contains("refused this client's TLS certificate"),
        "{err}"
    );
    assert!(elapsed < FAST, "{elapsed:?}");

    // The encrypted key with a wrong password: refused when the listener is built, naming
    // the key, never the password.
    let wrong = "wrong-key-password-31";
    let cfg = KafkaConfig::new(&t.mtls, k::unique("g"))
        .topic(&topic)
        .security(Security::Ssl(Tls {
            key_password: Some(wrong.into()),
            ..mtls_client(&t)
        }));
    let err = Listener::builder()
        .kafka(cfg)
        .handler(|_e: EncounterEvent| async { Ok::<(), std::io::Error>(()) })
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("ssl.key"), "{err}");
    assert!(!err.to_string().contains(wrong) && !format!("{err:?}").contains(wrong));

    // Certificate, key and password: a full round trip.
    let group = k::unique("g");
    let cfg = KafkaConfig::new(&t.mtls, &group)
        .topic(&topic)
        .security(Security::Ssl(mtls_client(&t)));
    let (listener, seen) = recording_listener(cfg);
    round_trip(listener, &seen, 4, &group, &topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_MTLS_BOOTSTRAP"]
async fn the_kafka_settings_keys_configure_tls() {
    let t = TlsBroker::from_env();
    let topic = topic_with(2).await;
    let path = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    let base = |bootstrap: &str, group: &str| {
        SettingsLoader::new()
            .set("kafka", "bootstrap", bootstrap)
            .set("kafka", "topics", &topic)
            .set("kafka", "group", group)
            .set("kafka", "ssl_ca_location", &path(t.ca()))
    };

    // Mutual TLS from the settings (as HIE_VC_KAFKA_* / --kafka-* / the C ABI give them).
    let group = k::unique("g");
    let settings = base(&t.mtls, &group)
        .set("kafka", "security_protocol", "SSL")
        .set("kafka", "ssl_certificate_location", &path(t.client_cert()))
        .set("kafka", "ssl_key_location", &path(t.client_key()))
        .set("kafka", "ssl_key_password", &t.key_password())
        .load()
        .unwrap();
    assert!(!format!("{settings:?}").contains(&t.key_password()));
    let (listener, seen) = recording(ListenerBuilder::from_settings(&settings).unwrap());
    round_trip(listener, &seen, 2, &group, &topic).await;

    // Host names are checked unless ssl_verify_hostname = false.
    let settings = base(&t.other_host, &k::unique("g"))
        .set("kafka", "security_protocol", "SSL")
        .load()
        .unwrap();
    let (err, _) = refused(settings.kafka.to_config().unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    let group = k::unique("g");
    let settings = base(&t.other_host, &group)
        .set("kafka", "security_protocol", "SSL")
        .set("kafka", "ssl_verify_hostname", "false")
        .load()
        .unwrap();
    let (listener, seen) = recording(ListenerBuilder::from_settings(&settings).unwrap());
    round_trip(listener, &seen, 2, &group, &topic).await;

    // TLS settings without a TLS protocol are refused, not ignored.
    let err = base(&t.ssl, "g")
        .set("kafka", "security_protocol", "SASL_PLAINTEXT")
        .set("kafka", "sasl_username", "u")
        .set("kafka", "sasl_password", "p")
        .load()
        .unwrap()
        .kafka
        .to_config()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("ssl_ca_location"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_SASL_SSL_BOOTSTRAP"]
async fn secrets_appear_in_no_log_debug_error_or_dead_letter() {
    let logs = captured_logs();
    let t = TlsBroker::from_env();
    let b = k::bootstrap();
    let topic = topic_with(3).await;
    let dead = format!("{topic}.dlq");
    k::create_topic(&b, &dead, 1).await;
    let (sasl_password, key_password) = (k::sasl_password(), t.key_password());
    // SASL_SSL with SCRAM and an encrypted client key, librdkafka's own debug output on (its
    // configuration dump included), and a handler that always fails: every record is
    // dead-lettered over SASL_SSL too.
    let cfg = KafkaConfig::new(&t.sasl_ssl, k::unique("g"))
        .topic(&topic)
        .security(Security::SaslSsl(
            Sasl::new(SaslMechanism::ScramSha512, k::sasl_user(), &sasl_password),
            mtls_client(&t),
        ))
        .property("debug", "security,broker,conf,generic");
    let (failures, on_error) = failure_log();
    let listener = Arc::new(
        Listener::builder()
            .kafka(cfg.clone())
            .dead_letter_topic(&dead)
            .retry(RetryPolicy::default().max_retries(0))
            .on_error(on_error)
            .close_timeout(Duration::from_secs(10))
            .handler(|_e: EncounterEvent| async {
                Err::<(), _>(std::io::Error::other("the booking system said no"))
            })
            .build()
            .unwrap(),
    );
    let l = listener.clone();
    let run = tokio::spawn(async move { l.run().await });
    assert!(
        wait_until(WAIT, || failures.lock().unwrap().len() == 3).await,
        "{:?}",
        failures.lock().unwrap()
    );
    let debug = format!("{cfg:?} {listener:?}");
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();

    let letters = k::read_all(&b, &dead, 1, 3, Duration::from_secs(30));
    assert_eq!(letters.len(), 3);
    let mut exposed = vec![debug];
    for l in &letters {
        assert_eq!(l.headers[dlq::HEADER_REASON], "handler");
        exposed.extend(l.headers.iter().map(|(k, v)| format!("{k}={v}")));
    }
    exposed.extend(failures.lock().unwrap().iter().map(|f| f.message.clone()));
    // A refused password's error too.
    let (err, _) = refused(
        KafkaConfig::new(&t.sasl_ssl, k::unique("g"))
            .topic(&topic)
            .security(Security::SaslSsl(
                Sasl::new(SaslMechanism::Plain, k::sasl_user(), "wrong-but-secret-55"),
                mtls_client(&t),
            )),
    )
    .await;
    exposed.push(format!("{err} {err:?}"));
    let log = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        log.contains("librdkafka") && log.to_ascii_lowercase().contains("sasl"),
        "librdkafka's debug lines were captured: {} bytes",
        log.len()
    );
    exposed.push(log);
    for text in &exposed {
        for secret in [sasl_password.as_str(), &key_password, "wrong-but-secret-55"] {
            assert!(!text.contains(secret), "'{secret}' exposed in: {text}");
        }
    }
}

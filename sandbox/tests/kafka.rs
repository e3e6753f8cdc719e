//! Check-in publishing to a real Kafka broker, read back with the core's Kafka listener.
//! The broker tests need `HIEVC_KAFKA_BOOTSTRAP` (tests/services/kafka.sh starts a broker; the
//! test command sets it): they are `#[ignore]`d by default and fail without it.

mod support;

use std::time::Duration;

use hie_vc::listener::{EncounterEvent, KafkaConfig, Listener, Sasl, SaslMechanism, Security};
use hie_vc_sandbox::{Error, KafkaTarget, SandboxConfig};
use hie_vc_test_support::kafka::{self as k, unique};
use support::*;

/// Reads the topic with the core's Kafka listener until `expected` events arrived (bounded),
/// then a little longer to catch duplicates.
async fn consume(config: KafkaConfig, expected: usize) -> Vec<EncounterEvent> {
    let builder = Listener::builder().kafka(config);
    collect_events(
        builder,
        expected,
        Duration::from_secs(60),
        Duration::from_millis(500),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn check_in_publishes_to_kafka() {
    let bootstrap = k::bootstrap();
    let topic = unique("sandbox-enc");
    k::create_topic(&bootstrap, &topic, 3).await;
    let (sandbox, client) = start_with(
        SandboxConfig::default()
            .seed(base_resources())
            .kafka(KafkaTarget::new(bootstrap.clone()))
            .topic(topic.clone()),
    )
    .await;
    assert!(sandbox.broker().is_none());
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    client
        .update(vce_appointment("v1", "p2", "vce-kafka-token"))
        .send()
        .await
        .unwrap();
    let c1 = sandbox.check_in("a1").await.unwrap();
    let c2 = sandbox.check_in("v1").await.unwrap();
    let d = c1.delivery.clone().expect("published");
    assert_eq!(d.topic, topic);
    assert!(d.offset >= 0);
    // A second check-in is not published again.
    assert!(sandbox.check_in("a1").await.unwrap().delivery.is_none());

    let events = consume(
        KafkaConfig::new(bootstrap, unique("sandbox-group"))
            .topic(topic)
            .statistics_interval(None),
        2,
    )
    .await;
    assert_eq!(events.len(), 2, "each Encounter exactly once");
    let by_id = |id: &str| {
        events
            .iter()
            .find(|e| e.encounter_id() == Some(id))
            .unwrap_or_else(|| panic!("event for {id}"))
    };
    assert_eq!(
        by_id(c1.encounter_id()).vc().unwrap().token.as_deref(),
        c1.token()
    );
    assert_eq!(
        by_id(c2.encounter_id()).vc().unwrap().token.as_deref(),
        Some("vce-kafka-token")
    );
    assert_eq!(
        by_id(c1.encounter_id())
            .message()
            .header("content-type")
            .and_then(|h| h.value.as_deref()),
        Some(&b"application/fhir+json"[..])
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn sasl_properties_pass_through() {
    let bootstrap = k::bootstrap();
    let sasl = k::sasl_bootstrap(&bootstrap);
    let topic = unique("sandbox-sasl");
    k::create_topic(&bootstrap, &topic, 3).await;
    let target = KafkaTarget::new(sasl.clone())
        .property("security.protocol", "SASL_PLAINTEXT")
        .property("sasl.mechanisms", "SCRAM-SHA-512")
        .property("sasl.username", "hievc")
        .property("sasl.password", "hievc-secret");
    assert!(!format!("{target:?}").contains("hievc-secret"));
    let (sandbox, client) = start_with(
        SandboxConfig::default()
            .seed(base_resources())
            .kafka(target)
            .topic(topic.clone()),
    )
    .await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    let c = sandbox.check_in("a1").await.unwrap();
    let events = consume(
        KafkaConfig::new(sasl, unique("sandbox-sasl-group"))
            .topic(topic)
            .statistics_interval(None)
            .security(Security::SaslPlaintext(Sasl::new(
                SaslMechanism::ScramSha512,
                "hievc",
                "hievc-secret",
            ))),
        1,
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].encounter_id(), Some(c.encounter_id()));
    sandbox.shutdown().await;
}

/// Needs no broker: an unreachable one makes the check-in fail with a publish error, the
/// Encounter stays stored, and checking in again retries the delivery (and fails again here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_is_a_publish_error() {
    let mut target = KafkaTarget::new("127.0.0.1:1");
    target.timeout = Duration::from_millis(1500);
    let (sandbox, client) = start_with(
        SandboxConfig::default()
            .seed(base_resources())
            .kafka(target),
    )
    .await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    let e = sandbox.check_in("a1").await.unwrap_err();
    assert!(matches!(e, Error::Publish { .. }), "{e}");
    assert_eq!(e.status(), 502);
    assert_eq!(sandbox.resources("Encounter").len(), 1);
    let e = sandbox.check_in("a1").await.unwrap_err();
    assert!(matches!(e, Error::Publish { .. }), "delivery retried: {e}");
    assert_eq!(sandbox.resources("Encounter").len(), 1, "not created twice");
    assert!(sandbox.events().is_empty());
    sandbox.shutdown().await;
}

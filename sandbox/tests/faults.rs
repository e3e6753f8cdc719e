//! Fault switches: latency, 429/503 shares, the next N requests failed, and a service that is
//! down — from Rust and through the admin endpoint — as the core clients experience them.

mod support;

use std::time::{Duration, Instant};

use hie_vc::fhir::Patient;
use hie_vc::hie::{HieClient, RetryPolicy};
use hie_vc::jitsi::{JitsiProvider, RestJitsi, RestJitsiConfig};
use hie_vc::notify::{NotificationClient, NotificationConfig};
use hie_vc::ErrorKind;
use hie_vc_sandbox::{Faults, Service};
use support::*;

fn retrying_client(sandbox: &hie_vc_sandbox::Sandbox) -> HieClient {
    HieClient::new(
        sandbox
            .hie_config()
            .retry(
                RetryPolicy::default()
                    .max_retries(3)
                    .initial_backoff(Duration::from_millis(10))
                    .max_backoff(Duration::from_millis(20)),
            )
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn latency_is_added() {
    let (sandbox, client) = start().await;
    client
        .update(patient("p1", "950728106051", "Siti"))
        .send()
        .await
        .unwrap();
    sandbox
        .set_faults(Service::Fhir, Faults::latency(Duration::from_millis(300)))
        .unwrap();
    let t = Instant::now();
    client.read::<Patient>("p1").send().await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    sandbox.clear_faults();
    let t = Instant::now();
    client.read::<Patient>("p1").send().await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(300));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn failures_are_typed_and_retried() {
    let (sandbox, client) = start().await;
    client
        .update(patient("p1", "950728106051", "Siti"))
        .send()
        .await
        .unwrap();

    // Every request 503 with Retry-After: the client's error says so.
    sandbox
        .set_faults(
            Service::Fhir,
            Faults {
                unavailable: 1.0,
                retry_after_secs: Some(7),
                ..Faults::default()
            },
        )
        .unwrap();
    let e = client.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(
        e.outcome().is_some(),
        "FHIR faults carry an OperationOutcome"
    );

    // Every request 429.
    sandbox
        .set_faults(
            Service::Fhir,
            Faults {
                rate_limited: 1.0,
                ..Faults::default()
            },
        )
        .unwrap();
    let e = client.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);

    // The next two fail: a retrying client gets through on the third attempt.
    sandbox
        .set_faults(Service::Fhir, Faults::fail_next(2, 503))
        .unwrap();
    let before = sandbox.stats(Service::Fhir);
    let retrying = retrying_client(&sandbox);
    retrying.read::<Patient>("p1").send().await.unwrap();
    let after = sandbox.stats(Service::Fhir);
    assert_eq!(after.requests - before.requests, 3);
    assert_eq!(after.failed - before.failed, 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_down_service_closes_connections() {
    let (sandbox, client) = start().await;
    sandbox.set_faults(Service::Fhir, Faults::down()).unwrap();
    let e = client.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(sandbox.stats(Service::Fhir).dropped >= 1);

    // Jitsi down, FHIR back up: the services are independent.
    sandbox.clear_faults();
    sandbox.set_faults(Service::Jitsi, Faults::down()).unwrap();
    let jitsi = RestJitsi::new(
        RestJitsiConfig::builder(sandbox.jitsi_base())
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = jitsi.create_session().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(sandbox.jitsi_sessions().is_empty());
    assert!(client.capabilities().send().await.is_ok());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_admin_endpoint_sets_faults() {
    let (sandbox, _client) = start().await;
    let http = reqwest::Client::new();
    let admin = sandbox.admin_base();
    let r = http
        .put(format!("{admin}/faults/notify"))
        .body(r#"{"fail_next": 1, "fail_status": 503}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sandbox.faults(Service::Notify).fail_next, 1);
    let r = http
        .put(format!("{admin}/faults/notify"))
        .body(r#"{"unavailable": 2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .put(format!("{admin}/faults/mail"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The Notification API answers 503 once; without retries the client reports it.
    let (email, password) = sandbox.notify_login();
    let n = NotificationClient::new(
        NotificationConfig::builder(sandbox.notify_base())
            .credentials(email, password)
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = n.send("T", "B", ["950728106051"]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    n.send("T", "B", ["950728106051"]).await.unwrap();
    assert_eq!(sandbox.notifications().len(), 1);

    let r = http.get(format!("{admin}/faults")).send().await.unwrap();
    let all: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(all["notify"]["fail_next"], 0);
    let r = http.delete(format!("{admin}/faults")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = http.get(format!("{admin}/stats")).send().await.unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(stats["services"]["notify"]["failed"], 1);
    assert_eq!(stats["resources"]["Organization"], 1);
    sandbox.shutdown().await;
}

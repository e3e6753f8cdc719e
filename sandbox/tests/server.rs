//! Running the sandbox: `serve` until a signal, shutdown, concurrent writers, configuration.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hie_vc::fhir::Patient;
use hie_vc::ErrorKind;
use hie_vc_sandbox::{serve, Error, Sandbox, SandboxConfig};
use support::*;

#[tokio::test]
async fn serve_runs_until_the_signal_and_then_stops() {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<(String, SocketAddr)>();
    let server = tokio::spawn(serve(
        SandboxConfig::default(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        move |s: &Sandbox| {
            let _ = ready_tx.send((s.fhir_base(), s.addr()));
        },
        async move {
            let _ = stop_rx.await;
        },
    ));
    let (base, addr) = ready_rx.await.unwrap();
    let r = reqwest::get(format!("{base}/metadata")).await.unwrap();
    assert_eq!(r.status(), 200);
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
    // Stopped: nothing listens there any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn binding_a_taken_port_is_a_typed_error() {
    let (sandbox, _client) = start().await;
    let e = Sandbox::bind(SandboxConfig::default(), sandbox.addr())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Bind { .. }), "{e}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn invalid_configuration_and_seeds_are_refused() {
    let e = Sandbox::start(SandboxConfig::default().fhir_path("/"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
    // A seed Appointment naming resources that do not exist.
    let e = Sandbox::start(SandboxConfig::default().seed([vci_appointment("a1", "p1").into()]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Config(ref m) if m.contains("HealthcareService/hs-1")),
        "{e}"
    );
}

#[tokio::test]
async fn concurrent_version_aware_updates_let_one_win() {
    let (sandbox, client) = start().await;
    client
        .update(patient("p1", "950728106051", "Siti"))
        .send()
        .await
        .unwrap();
    let results: Arc<Mutex<Vec<u16>>> = Arc::default();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let c = client.clone();
        let results = results.clone();
        tasks.push(tokio::spawn(async move {
            let mut p = patient("p1", "950728106051", "Siti");
            p.active = Some(i % 2 == 0);
            let status = match c.update(p).if_match("1").send().await {
                Ok(w) => w.status,
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::PreconditionFailed);
                    412
                }
            };
            results.lock().unwrap().push(status);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut got = results.lock().unwrap().clone();
    got.sort_unstable();
    assert_eq!(got, [200, 412, 412, 412, 412, 412, 412, 412]);
    assert_eq!(sandbox.version_count("Patient", "p1"), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_public_url_and_path_are_used_in_locations() {
    let (sandbox, client) = start_with(
        SandboxConfig::default()
            .fhir_path("baseR4")
            .public_url("http://127.0.0.1:1/"),
    )
    .await;
    assert_eq!(sandbox.fhir_base(), "http://127.0.0.1:1/baseR4");
    // The client must reach the real port; the server still names its public URL.
    let real = hie_vc::hie::HieClient::new(
        hie_vc::hie::HieConfig::builder(format!("http://{}/baseR4", sandbox.addr()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let w = real
        .update(patient("p1", "950728106051", "Siti"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        w.location.as_deref(),
        Some("http://127.0.0.1:1/baseR4/Patient/p1/_history/1")
    );
    assert!(real.read::<Patient>("p1").send().await.is_ok());
    drop(client);
    sandbox.shutdown().await;
}

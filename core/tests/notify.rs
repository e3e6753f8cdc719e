//! The Notification API client against scripted local servers: login and token reuse, one
//! re-login after a 401 (single flight under concurrency), token pointers, retries only where a
//! repeat cannot notify twice, typed errors, redaction.

#[path = "support/server.rs"]
mod server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::hie::RetryPolicy;
use hie_vc::notify::{
    Notification, NotificationClient, NotificationConfig, NotificationConfigBuilder,
    NotificationContract, Notifier,
};
use hie_vc::ErrorKind;
use server::{Recorded, Reply, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "n0tify-Pa55word!";
const LOGIN: &str = "/api/v2/user/session";
const SEND: &str = "/api/v2/notification-script";

fn client_at(
    url: &str,
    tune: impl FnOnce(NotificationConfigBuilder) -> NotificationConfigBuilder,
) -> NotificationClient {
    let b = NotificationConfig::builder(url)
        .credentials("clinic@example.org", PASSWORD)
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(50))
                .jitter(0.0),
        );
    NotificationClient::new(tune(b).build().unwrap()).unwrap()
}

fn client(s: &Server) -> NotificationClient {
    client_at(&s.url(), |b| b)
}

fn body(r: &Recorded) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// A Notification API whose n-th login issues token `tok-n`; only the latest token is accepted.
fn api(
    send: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let logins = AtomicUsize::new(0);
    let latest = Mutex::new(String::new());
    move |r| match r.path() {
        LOGIN => {
            let b = body(r);
            if b["email"] != "clinic@example.org" || b["password"] != PASSWORD {
                return Reply::json(401, r#"{"message":"bad credentials"}"#);
            }
            let n = logins.fetch_add(1, Ordering::SeqCst) + 1;
            *latest.lock().unwrap() = format!("tok-{n}");
            Reply::json(
                200,
                format!(r#"{{"user":{{"id":7}},"accessToken":"tok-{n}"}}"#),
            )
        }
        SEND => {
            let want = format!("Bearer {}", latest.lock().unwrap());
            if r.header("authorization") != Some(want.as_str()) {
                return Reply::json(401, r#"{"message":"token expired"}"#);
            }
            send(r)
        }
        _ => Reply::status(404),
    }
}

fn ok(_: &Recorded) -> Reply {
    Reply::json(201, r#"{"id":"n-1","status":"queued"}"#)
}

#[tokio::test]
async fn sends_with_the_login_token_and_reuses_it() {
    let s = Server::start(api(ok)).await;
    let c = client(&s);
    let sent = c
        .send(
            "Virtual consultation",
            "Your doctor is ready",
            ["950728106051", "880101015555"],
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 201);
    assert_eq!(sent.response.unwrap()["id"], "n-1");
    let n: Arc<dyn Notifier> = Arc::new(c.clone());
    n.notify(&Notification::new("t", "b", ["950728106051"]))
        .await
        .unwrap();
    let reqs = s.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path()).collect();
    assert_eq!(paths, [LOGIN, SEND, SEND], "one login, token reused");
    assert_eq!(
        body(&reqs[0]),
        serde_json::json!({"email": "clinic@example.org", "password": PASSWORD})
    );
    assert_eq!(
        body(&reqs[1]),
        serde_json::json!({"title": "Virtual consultation", "body": "Your doctor is ready", "patientIds": ["950728106051", "880101015555"]})
    );
    assert_eq!(reqs[1].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(
        reqs[1].header("x-request-id"),
        Some(sent.request_id.as_str())
    );
}

#[tokio::test]
async fn a_401_triggers_exactly_one_relogin() {
    let s = Server::start(api(ok)).await;
    let c = client(&s);
    c.login().await.unwrap();
    // The server forgets the token (expiry): a login elsewhere makes tok-1 stale.
    client(&s).login().await.unwrap();
    c.send("t", "b", ["1"]).await.unwrap();
    let paths: Vec<String> = s.requests().iter().map(|r| r.path().to_owned()).collect();
    assert_eq!(paths, [LOGIN, LOGIN, SEND, LOGIN, SEND]);
    let sends: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| r.path() == SEND)
        .collect();
    assert_eq!(sends[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(sends[1].header("authorization"), Some("Bearer tok-3"));
}

#[tokio::test]
async fn a_second_401_after_relogin_is_an_unauthorized_error() {
    let s = Server::start(|r: &Recorded| match r.path() {
        LOGIN => Reply::json(200, r#"{"token":"t"}"#),
        _ => Reply::json(401, r#"{"message":"no permission"}"#),
    })
    .await;
    let e = client(&s).send("t", "b", ["1"]).await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Unauthorized, Some(401)));
    assert!(e.message().contains("fresh login"), "{e}");
    assert_eq!(s.count(LOGIN), 2);
    assert_eq!(s.count(SEND), 2);
}

#[tokio::test]
async fn concurrent_sends_share_one_login_and_one_relogin() {
    let s = Server::start(api(|_| {
        Reply::Delay(Duration::from_millis(20), Box::new(Reply::status(204)))
    }))
    .await;
    let c = client(&s);
    let burst = |c: &NotificationClient| {
        (0..12)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(async move { c.send("t", "b", [format!("{i}")]).await })
            })
            .collect::<Vec<_>>()
    };
    for h in burst(&c) {
        assert_eq!(h.await.unwrap().unwrap().response, None);
    }
    assert_eq!(s.count(LOGIN), 1, "first use: one login for twelve senders");
    client(&s).login().await.unwrap(); // invalidates tok-1 on the server
    for h in burst(&c) {
        h.await.unwrap().unwrap();
    }
    assert_eq!(
        s.count(LOGIN),
        3,
        "the other client's login + exactly one re-login"
    );
    assert_eq!(
        s.count(SEND),
        24 + 12,
        "each stale send refused once, then resent"
    );
}

#[tokio::test]
async fn the_token_pointer_is_configurable_and_a_miss_is_a_decode_error() {
    let s = Server::start(|r: &Recorded| match r.path() {
        LOGIN => Reply::json(
            200,
            r#"{"result":{"jwt":"deep-token"},"sessionSecret":"must-not-leak"}"#,
        ),
        _ if r.header("authorization") == Some("Bearer deep-token") => Reply::status(200),
        _ => Reply::status(401),
    })
    .await;
    let e = client(&s).send("t", "b", ["1"]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(
        e.location(),
        Some("/token | /accessToken | /access_token | /data/token")
    );
    assert!(e.message().contains("[result, sessionSecret]"), "{e}");
    assert!(!format!("{e} {e:?}").contains("must-not-leak"));
    assert_eq!(s.count(SEND), 0);
    let c = client_at(&s.url(), |b| b.token_pointer("/result/jwt"));
    c.send("t", "b", ["1"]).await.unwrap();
}

#[tokio::test]
async fn login_failures_are_typed_and_never_show_the_password() {
    let s = Server::start(api(ok)).await;
    let wrong = NotificationClient::new(
        NotificationConfig::builder(s.url())
            .credentials("clinic@example.org", "wrong-password")
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = wrong.send("t", "b", ["1"]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert!(e.message().contains("e-mail and password"), "{e}");
    let s = Server::start(|_: &Recorded| Reply::json(200, "not json")).await;
    let e = client(&s).login().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    let c = client(&s);
    for text in [
        format!("{c:?}"),
        format!("{:?}", c.config()),
        format!("{e} {e:?}"),
    ] {
        assert!(!text.contains(PASSWORD), "{text}");
    }
    let s = Server::start(api(ok)).await;
    let c = client(&s);
    c.login().await.unwrap();
    assert!(!format!("{c:?}").contains("tok-1"));
}

#[tokio::test]
async fn a_503_is_resent_only_with_retry_after() {
    let s = Server::start(api(|_| Reply::json(503, r#"{"message":"maintenance"}"#))).await;
    let e = client(&s).send("t", "b", ["1"]).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.status()),
        (ErrorKind::ServiceUnavailable, Some(503))
    );
    assert!(e.message().contains("maintenance"), "{e}");
    assert_eq!(
        s.count(SEND),
        1,
        "no Retry-After: maybe processed, not repeated"
    );

    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    let s = Server::start(api(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(503).header("Retry-After", "1")
        } else {
            Reply::status(202)
        }
    }))
    .await;
    let started = Instant::now();
    assert_eq!(client(&s).send("t", "b", ["1"]).await.unwrap().status, 202);
    assert!(started.elapsed() >= Duration::from_millis(990));
    assert_eq!(s.count(SEND), 2);

    let s = Server::start(api(|_| Reply::status(429).header("Retry-After", "120"))).await;
    let e = client(&s).send("t", "b", ["1"]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(
        s.count(SEND),
        1,
        "a wait beyond max_retry_after ends the call"
    );
}

#[tokio::test]
async fn ambiguous_failures_are_not_repeated() {
    for reply in [Reply::status(500), Reply::status(502), Reply::Reset] {
        let s = Server::start(api(move |_| reply.clone())).await;
        let e = client(&s).send("t", "b", ["1"]).await.unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::ServerError | ErrorKind::Http | ErrorKind::Transport
            ),
            "{e:?}"
        );
        assert_eq!(s.count(SEND), 1, "{e}");
    }
    let s = Server::start(api(|_| {
        Reply::Delay(Duration::from_millis(400), Box::new(Reply::status(200)))
    }))
    .await;
    let e = client_at(&s.url(), |b| b.request_timeout(Duration::from_millis(100)))
        .send("t", "b", ["1"])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    // The server records a request once its delayed answer is due.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.count(SEND), 1);
}

/// Answers each connection's single request with `status` and closes it.
async fn serve_once(listener: tokio::net::TcpListener, status: u16, seen: Arc<Mutex<Vec<String>>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut buf = vec![0u8; 16384];
        let mut got = Vec::new();
        loop {
            let n = sock.read(&mut buf).await.unwrap_or(0);
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some(i) = text.find("\r\n\r\n") {
                let len: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= i + 4 + len || n == 0 {
                    seen.lock()
                        .unwrap()
                        .push(text.lines().next().unwrap_or("").to_owned());
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let body = r#"{"token":"tok"}"#;
        let resp = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_because_nothing_was_sent() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let first = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = first.local_addr().unwrap();
    let task = tokio::spawn(serve_once(first, 200, seen.clone()));
    let c = client_at(&format!("http://{addr}/"), |b| b);
    c.login().await.unwrap();
    task.abort();
    let _ = task.await;
    // The port is closed now; it opens again while the client backs off.
    let reopen = seen.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        let l = tokio::net::TcpListener::bind(addr).await.unwrap();
        serve_once(l, 200, reopen).await;
    });
    let sent = c.send("t", "b", ["1"]).await.unwrap();
    assert_eq!(sent.status, 200);
    let lines = seen.lock().unwrap().clone();
    assert_eq!(
        lines,
        [
            format!("POST {LOGIN} HTTP/1.1"),
            format!("POST {SEND} HTTP/1.1")
        ]
    );
}

#[tokio::test]
async fn invalid_input_and_contract_are_refused_before_sending() {
    let s = Server::start(api(ok)).await;
    let c = client(&s);
    for (t, b, ids) in [
        ("", "b", vec!["1"]),
        ("t", " ", vec!["1"]),
        ("t", "b", vec![]),
        ("t", "b", vec![""]),
    ] {
        let e = c.send(t, b, ids).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    assert!(s.requests().is_empty());
    let contract = NotificationContract {
        patient_ids_field: "recipients".into(),
        send_path: "/v3/push".into(),
        ..NotificationContract::default()
    };
    let s = Server::start(|r: &Recorded| match r.path() {
        LOGIN => Reply::json(200, r#"{"data":{"token":"d"}}"#),
        "/v3/push" => Reply::status(200),
        _ => Reply::status(404),
    })
    .await;
    client_at(&s.url(), |b| b.contract(contract))
        .send("t", "b", ["1", "1"])
        .await
        .unwrap();
    let last = s.requests().pop().unwrap();
    assert_eq!(body(&last)["recipients"], serde_json::json!(["1"]));
    assert_eq!(last.header("authorization"), Some("Bearer d"));
}

/// Collects everything logged (at TRACE).
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, captured by one process-wide subscriber at TRACE.
///
/// Global rather than per test (`set_default`): tracing caches per call site whether anyone is
/// interested, and a call site first hit by a concurrent test without a subscriber could stay
/// silent for this one. With one global subscriber every test's lines land here, which only
/// widens what the redaction checks cover.
fn global_logs() -> Capture {
    static LOGS: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Capture::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

#[tokio::test]
async fn password_tokens_and_patient_ids_never_reach_the_logs() {
    let logs = global_logs();
    let s = Server::start(api(ok)).await;
    let c = client(&s);
    c.login().await.unwrap();
    client(&s).login().await.unwrap(); // makes tok-1 stale: a 401 and a re-login follow
    c.send("t", "b", ["950728106051"]).await.unwrap();
    let bad = client(&Server::start(|_: &Recorded| Reply::json(401, "{}")).await)
        .send("t", "b", ["950728106051"])
        .await
        .unwrap_err();
    let all = format!(
        "{}\n{bad}\n{bad:?}\n{c:?}",
        String::from_utf8_lossy(&logs.0.lock().unwrap())
    );
    assert!(
        all.contains("service.request"),
        "the spans were logged: {all}"
    );
    assert!(all.contains("logging in again once"), "{all}");
    for secret in [
        PASSWORD,
        "tok-1",
        "tok-2",
        "tok-3",
        "950728106051",
        "Bearer",
    ] {
        assert!(!all.contains(secret), "'{secret}' leaked:\n{all}");
    }
}

//! Jitsi providers that call out: HIE's REST token service (default and custom contracts, bad
//! answers, retries) and Prosody's end-meeting endpoint (minted and static system tokens),
//! against scripted local servers.

#[path = "support/server.rs"]
mod server;

use std::sync::Arc;
use std::time::Duration;

use hie_vc::hie::{Auth, RetryPolicy};
use hie_vc::jitsi::{
    EndMeeting, EndOutcome, JitsiProvider, JitsiRestContract, Participant, RestJitsi,
    RestJitsiConfig, RestJitsiConfigBuilder, SelfHostedConfig, SelfHostedJitsi, TokenVerifier,
};
use hie_vc::ErrorKind;
use server::{Recorded, Reply, Server};

const KEY_A: &str = include_str!("data/jitsi/rsa_a.key.pem");
const PUB_A: &str = include_str!("data/jitsi/rsa_a.pub.pem");
const SECRET: &str = "prosody-app-secret-0123456789";

fn doctor() -> Participant {
    Participant::practitioner("prac-7", "Dr Aminah").email("aminah@example.org")
}

fn patient() -> Participant {
    Participant::patient("950728106051", "Siti").avatar("https://img.example/siti.png")
}

// ---- HIE's REST token service ----

fn rest(
    server: &Server,
    tune: impl FnOnce(RestJitsiConfigBuilder) -> RestJitsiConfigBuilder,
) -> RestJitsi {
    let b = RestJitsiConfig::builder(server.url())
        .auth(Auth::bearer("svc-token"))
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(20))
                .jitter(0.0),
        );
    RestJitsi::new(tune(b).build().unwrap()).unwrap()
}

fn json(r: &Recorded) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// The default contract, as the embedded sandbox will implement it.
fn token_service(r: &Recorded) -> Reply {
    match (r.method.as_str(), r.path()) {
        ("POST", "/api/v1/sessions") => Reply::json(201, r#"{"token":"S-1","room":"vc-s-1"}"#),
        ("POST", "/api/v1/sessions/S-1/join") => {
            let role = json(r)["role"].as_str().unwrap().to_owned();
            Reply::json(
                200,
                format!(
                    r#"{{"token":"J-{role}","url":"https://meet.hie.example/vc-s-1?jwt=J-{role}"}}"#
                ),
            )
        }
        ("POST", "/api/v1/sessions/S-1/activate") => Reply::json(200, "{}"),
        ("POST", "/api/v1/sessions/S-1/end") => Reply::status(204),
        ("POST", "/api/v1/sessions/S-2/end") => {
            Reply::json(409, r#"{"message":"session already ended"}"#)
        }
        _ => Reply::json(404, r#"{"message":"unknown session"}"#),
    }
}

#[tokio::test]
async fn rest_provider_speaks_the_default_contract() {
    let s = Server::start(token_service).await;
    let j: Arc<dyn JitsiProvider> = Arc::new(rest(&s, |b| b));
    let session = j.create_session().await.unwrap();
    assert_eq!(
        (session.token.as_str(), session.room.as_deref()),
        ("S-1", Some("vc-s-1"))
    );
    let join = j.join("S-1", &doctor()).await.unwrap();
    assert_eq!(join.token().expose_secret(), "J-practitioner");
    assert_eq!(
        join.url(),
        "https://meet.hie.example/vc-s-1?jwt=J-practitioner"
    );
    let pj = j.join("S-1", &patient()).await.unwrap();
    assert_eq!(pj.token().expose_secret(), "J-patient");
    j.activate("S-1").await.unwrap();
    assert_eq!(j.end("S-1").await.unwrap(), EndOutcome::Ended);
    assert_eq!(j.end("S-2").await.unwrap(), EndOutcome::NotRunning);
    let e = j.join("nope", &doctor()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.message().contains("unknown session"), "{e}");

    let reqs = s.requests();
    assert!(reqs
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer svc-token")));
    assert!(reqs
        .iter()
        .all(|r| r.header("content-type") == Some("application/json")));
    assert_eq!(json(&reqs[0]), serde_json::json!({}));
    assert_eq!(
        json(&reqs[1]),
        serde_json::json!({"role": "practitioner", "name": "Dr Aminah", "email": "aminah@example.org", "userId": "prac-7"})
    );
    assert_eq!(
        json(&reqs[2]),
        serde_json::json!({"role": "patient", "name": "Siti", "userId": "950728106051", "avatar": "https://img.example/siti.png"})
    );
}

#[tokio::test]
async fn rest_provider_follows_a_custom_contract() {
    let s = Server::start(|r: &Recorded| match r.path() {
        "/gw/v2/vc" => Reply::json(200, r#"{"data":{"sessionToken":"T 1"}}"#),
        "/gw/v2/vc/T%201/participants" => {
            let b = json(r);
            assert_eq!(b["kind"], "DOCTOR");
            assert_eq!(b["displayName"], "Dr Aminah");
            Reply::json(
                200,
                r#"{"data":{"link":"https://m.example/r?jwt=abc.def.ghi"}}"#,
            )
        }
        _ => Reply::status(404),
    })
    .await;
    let contract = JitsiRestContract {
        create_path: "/v2/vc".into(),
        join_path: "v2/vc/{token}/participants".into(),
        session_token_field: "/data/sessionToken".into(),
        role_field: "kind".into(),
        practitioner_role: "DOCTOR".into(),
        name_field: "displayName".into(),
        join_url_field: "/data/link".into(),
        join_token_field: "/data/jwt".into(),
        ..JitsiRestContract::default()
    };
    let base = format!("{}gw", s.url());
    let j = RestJitsi::new(
        RestJitsiConfig::builder(base)
            .contract(contract)
            .build()
            .unwrap(),
    )
    .unwrap();
    let session = j.create_session().await.unwrap();
    assert_eq!((session.token.as_str(), session.room), ("T 1", None));
    // No token field: the token is taken from the URL's jwt parameter.
    let join = j.join(&session.token, &doctor()).await.unwrap();
    assert_eq!(join.token().expose_secret(), "abc.def.ghi");
    assert!(s
        .requests()
        .iter()
        .all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn rest_provider_reports_bad_answers_as_decode_errors() {
    let s = Server::start(|r: &Recorded| match r.path() {
        "/api/v1/sessions" => Reply::json(200, "<html>oops</html>"),
        "/api/v1/sessions/A/join" => Reply::json(200, r#"{"token":"t"}"#),
        "/api/v1/sessions/B/join" => Reply::json(200, r#"{"token":"t","url":"not a url"}"#),
        _ => Reply::status(500),
    })
    .await;
    let j = rest(&s, |b| b.retry(RetryPolicy::none()));
    let e = j.create_session().await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Decode, Some(200)));
    let e = j.join("A", &doctor()).await.unwrap_err();
    assert_eq!((e.kind(), e.location()), (ErrorKind::Decode, Some("url")));
    let e = j.join("B", &doctor()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    let e = j
        .join("A", &Participant::patient("", "x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.request_id().is_none(), "refused before sending");
}

#[tokio::test]
async fn create_is_retried_only_when_provably_unprocessed() {
    // 503 without Retry-After: the session may exist; create is not repeated.
    let s = Server::start(|_: &Recorded| Reply::status(503)).await;
    let e = rest(&s, |b| b).create_session().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(s.requests().len(), 1);
    // 503 with Retry-After: not processed, come back later.
    let n = std::sync::atomic::AtomicUsize::new(0);
    let s = Server::start(move |_: &Recorded| {
        if n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::status(503).header("Retry-After", "0")
        } else {
            Reply::json(201, r#"{"token":"S-9"}"#)
        }
    })
    .await;
    assert_eq!(rest(&s, |b| b).create_session().await.unwrap().token, "S-9");
    assert_eq!(s.requests().len(), 2);
    // Join is safe to repeat: a plain 503 is retried.
    let n = std::sync::atomic::AtomicUsize::new(0);
    let s = Server::start(move |r: &Recorded| {
        if n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            Reply::status(503)
        } else {
            token_service(r)
        }
    })
    .await;
    rest(&s, |b| b).join("S-1", &doctor()).await.unwrap();
    assert_eq!(s.requests().len(), 3);
}

// ---- Prosody end-meeting ----

fn with_end(end: EndMeeting) -> SelfHostedJitsi {
    SelfHostedJitsi::new(
        SelfHostedConfig::builder("meet.example.org")
            .app_id("hie-vc")
            .app_secret(SECRET)
            .end_meeting(end)
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn end_meeting_calls_prosody_with_a_minted_system_token() {
    let s = Server::start(|r: &Recorded| match r.target.as_str() {
        "/end-meeting?conference=vc-t1%40conference.meet.example.org" => Reply::status(200),
        _ => Reply::status(404),
    })
    .await;
    let j = with_end(EndMeeting::new(s.url()).system_key(KEY_A, "system/key-1"));
    assert_eq!(j.end("t1").await.unwrap(), EndOutcome::Ended);
    assert_eq!(j.end("t2").await.unwrap(), EndOutcome::NotRunning);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method, "POST");
    let bearer = reqs[0].header("authorization").unwrap();
    let token = bearer.strip_prefix("Bearer ").unwrap();
    let v = TokenVerifier::rs256_pem(PUB_A)
        .kid("system/key-1")
        .issuer("hie-vc")
        .audience("jitsi")
        .verify(token)
        .unwrap();
    assert_eq!(v.claims.room, "*");
    assert!(v.claims.context.user.is_none());
    assert!(v.claims.exp - v.claims.iat <= 60);
    // The user-token secret must not be what signs system tokens.
    assert!(TokenVerifier::hs256(SECRET).verify(token).is_err());
}

#[tokio::test]
async fn end_meeting_with_a_static_token_tenant_and_refusal() {
    let s = Server::start(|r: &Recorded| {
        if r.header("authorization") != Some("Bearer static-system-token") {
            return Reply::status(401);
        }
        match r.target.as_str() {
            "/p/end-meeting?conference=vc-t1%40conference.klinik-a.meet.example.org" => {
                Reply::status(200)
            }
            _ => Reply::status(404),
        }
    })
    .await;
    let j = SelfHostedJitsi::new(
        SelfHostedConfig::builder("meet.example.org")
            .app_id("hie-vc")
            .app_secret(SECRET)
            .tenant("klinik-a")
            .end_meeting(
                EndMeeting::new(format!("{}p", s.url())).system_token("static-system-token"),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(j.end("t1").await.unwrap(), EndOutcome::Ended);
    let refused = with_end(
        EndMeeting::new(s.url())
            .system_token("wrong")
            .retry(RetryPolicy::none()),
    );
    let e = refused.end("t1").await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Unauthorized, Some(401)));
    assert!(e.message().contains("system token"), "{e}");
    assert!(!format!("{e:?}").contains("wrong"));
}

/// Collects everything logged (at TRACE).
#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

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
async fn credentials_session_tokens_and_rooms_never_reach_the_logs() {
    let logs = global_logs();
    let s = Server::start(token_service).await;
    let j = rest(&s, |b| b.secret_header("X-Api-Key", "api-key-42"));
    j.create_session().await.unwrap();
    let join = j.join("S-1", &doctor()).await.unwrap();
    j.end("S-1").await.unwrap();
    let prosody = Server::start(|_: &Recorded| Reply::status(200)).await;
    let p = with_end(EndMeeting::new(prosody.url()).system_key(KEY_A, "system/key-1"));
    p.end("secret-session-77").await.unwrap();
    let system = prosody.requests()[0]
        .header("authorization")
        .unwrap()
        .to_owned();
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    let debug = format!("{join:?}\n{j:?}\n{p:?}");
    assert!(
        logs.contains("service.request"),
        "the spans were logged: {logs}"
    );
    assert!(logs.contains("end meeting"), "{logs}");
    // Credentials appear nowhere; session tokens and rooms not in the logs (a join's Debug
    // shows its URL, room included, with the token masked).
    let credentials = [
        "svc-token",
        "api-key-42",
        "J-practitioner",
        &system["Bearer ".len()..],
        SECRET,
    ];
    for secret in credentials {
        assert!(
            !logs.contains(secret) && !debug.contains(secret),
            "'{secret}' leaked:\n{logs}\n{debug}"
        );
    }
    for id in ["S-1", "vc-s-1", "secret-session-77"] {
        assert!(!logs.contains(id), "'{id}' logged:\n{logs}");
    }
}

//! Fault injection: the HIE client against a scripted local HTTP server. Exact retry counts,
//! delays within tolerance, typed errors, and nothing retried that must not be.

#[path = "support/server.rs"]
mod server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hie_vc::fhir::{Patient, Resource};
use hie_vc::hie::{HieClient, HieConfig, HieConfigBuilder, RetryPolicy, SearchParams};
use hie_vc::ErrorKind;
use server::{Recorded, Reply, Server};

const PATIENT: &str =
    r#"{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"active":true}"#;
const OUTCOME_422: &str = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"business-rule","diagnostics":"Slot is fully booked","expression":["Appointment.slot[0]"]}]}"#;

/// Fast, exact retries: 50 ms × 2ⁿ, no jitter.
fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(50))
        .jitter(0.0)
        .max_retries(3)
}

fn client(server: &Server, tune: impl FnOnce(HieConfigBuilder) -> HieConfigBuilder) -> HieClient {
    let b = HieConfig::builder(server.url()).retry(fast_retry());
    HieClient::new(tune(b).build().unwrap()).unwrap()
}

/// A handler answering the n-th request (0-based) with `script[n]`, and the last entry after.
fn script(replies: Vec<Reply>) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let n = AtomicUsize::new(0);
    move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        replies[i.min(replies.len() - 1)].clone()
    }
}

fn gaps(reqs: &[Recorded]) -> Vec<Duration> {
    reqs.windows(2).map(|w| w[1].at - w[0].at).collect()
}

fn patient() -> Patient {
    hie_vc::fhir::read_str::<Patient>(PATIENT, hie_vc::fhir::ReadOptions::strict())
        .unwrap()
        .value
}

#[tokio::test]
async fn rate_limited_read_waits_for_retry_after_seconds() {
    let s = Server::start(script(vec![
        Reply::json(429, "").header("Retry-After", "1"),
        Reply::json(200, PATIENT),
    ]))
    .await;
    let got = client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap();
    assert_eq!(got.into_resource().id.unwrap().as_str(), "p1");
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2, "one retry");
    let gap = gaps(&reqs)[0];
    assert!(
        gap >= Duration::from_millis(990) && gap < Duration::from_millis(1400),
        "{gap:?}"
    );
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let s = Server::start(script(vec![
        Reply::status(503).header("Retry-After", &at),
        Reply::json(200, PATIENT),
    ]))
    .await;
    client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap();
    let gap = gaps(&s.requests())[0];
    // The date has one-second resolution: the wait is between 1 and 2 s.
    assert!(
        gap >= Duration::from_millis(950) && gap < Duration::from_millis(2400),
        "{gap:?}"
    );
}

#[tokio::test]
async fn unavailable_is_retried_with_exponential_backoff_then_reported() {
    let s = Server::start(|_: &Recorded| Reply::status(503)).await;
    let err = client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(err.status(), Some(503));
    let reqs = s.requests();
    assert_eq!(reqs.len(), 4, "first attempt + 3 retries");
    for (gap, want) in gaps(&reqs).iter().zip([50u64, 100, 200]) {
        let want = Duration::from_millis(want);
        assert!(
            *gap >= want && *gap < want + Duration::from_millis(250),
            "{gap:?} vs {want:?}"
        );
    }
    // One logical request: the same X-Request-Id on every attempt, and on the error.
    let id = reqs[0].header("x-request-id").unwrap().to_owned();
    assert!(reqs
        .iter()
        .all(|r| r.header("x-request-id") == Some(id.as_str())));
    assert_eq!(err.request_id(), Some(id.as_str()));
}

#[tokio::test]
async fn bad_gateway_and_gateway_timeout_are_retried_too() {
    let s = Server::start(script(vec![
        Reply::status(502),
        Reply::status(504),
        Reply::json(200, PATIENT),
    ]))
    .await;
    client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap();
    assert_eq!(s.requests().len(), 3);
}

#[tokio::test]
async fn plain_post_is_never_retried() {
    for reply in [
        Reply::status(503),
        Reply::status(429).header("Retry-After", "1"),
        Reply::Reset,
    ] {
        let s = Server::start(script(vec![reply, Reply::json(201, PATIENT)])).await;
        let err = client(&s, |b| b)
            .create(patient())
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::ServiceUnavailable | ErrorKind::RateLimited | ErrorKind::Transport
            ),
            "{err}"
        );
        assert_eq!(
            s.requests().len(),
            1,
            "a POST without If-None-Exist is sent once: {err}"
        );
        if err.kind() == ErrorKind::RateLimited {
            assert_eq!(
                err.retry_after(),
                Some(Duration::from_secs(1)),
                "the caller learns when to retry"
            );
        }
    }
}

#[tokio::test]
async fn conditional_create_is_retried() {
    let s = Server::start(script(vec![
        Reply::status(503),
        Reply::json(200, PATIENT).header("Location", "http://elsewhere:8080/Patient/p1/_history/1"),
    ]))
    .await;
    let w = client(&s, |b| b)
        .create(patient())
        .if_none_exist(SearchParams::new().identifier("urn:sys", "42"))
        .send()
        .await
        .unwrap();
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("if-none-exist"),
        Some("identifier=urn%3Asys%7C42")
    );
    assert_eq!(
        w.kind,
        hie_vc::hie::WriteKind::Existing,
        "200 to a conditional create: a match"
    );
    assert_eq!(
        (w.id.as_deref(), w.version_id.as_deref()),
        (Some("p1"), Some("1"))
    );
}

#[tokio::test]
async fn reset_connection_is_retried_for_idempotent_requests() {
    let s = Server::start(script(vec![Reply::Reset, Reply::json(200, PATIENT)])).await;
    client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap();
    assert_eq!(s.requests().len(), 2);

    let s = Server::start(script(vec![Reply::Reset, Reply::json(201, PATIENT)])).await;
    let w = client(&s, |b| b).update(patient()).send().await.unwrap();
    assert!(w.created());
    assert_eq!(s.requests().len(), 2, "PUT is idempotent");
}

#[tokio::test]
async fn connect_errors_are_typed_and_retried() {
    // A port nothing listens on.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let c = HieClient::new(
        HieConfig::builder(format!("http://{addr}/"))
            .retry(fast_retry().max_retries(2))
            .build()
            .unwrap(),
    )
    .unwrap();
    let t0 = Instant::now();
    let err = c.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.message().contains("could not connect"), "{err}");
    // Two backoffs (50 + 100 ms) were waited.
    assert!(
        t0.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn slow_body_times_out_and_is_not_retried_by_default() {
    let slow = Reply::SlowBody {
        status: 200,
        body: PATIENT.as_bytes().to_vec(),
        stall: Duration::from_secs(3),
    };
    let s = Server::start(script(vec![slow.clone()])).await;
    let c = client(&s, |b| b.request_timeout(Duration::from_millis(300)));
    let t0 = Instant::now();
    let err = c.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        t0.elapsed() < Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(s.requests().len(), 1);

    let s = Server::start(script(vec![slow, Reply::json(200, PATIENT)])).await;
    let c = client(&s, |b| {
        b.request_timeout(Duration::from_millis(300))
            .retry(fast_retry().retry_timeouts(true))
    });
    c.read::<Patient>("p1").send().await.unwrap();
    assert_eq!(s.requests().len(), 2, "retried when asked to");
}

#[tokio::test]
async fn total_time_is_bounded() {
    let s = Server::start(|_: &Recorded| Reply::status(503).header("Retry-After", "1")).await;
    let c = client(&s, |b| {
        b.retry(
            fast_retry()
                .max_retries(10)
                .max_elapsed(Duration::from_millis(1500)),
        )
    });
    let t0 = Instant::now();
    let err = c.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(
        s.requests().len(),
        2,
        "a second 1 s wait would end after 1.5 s"
    );
    assert!(
        t0.elapsed() < Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );

    // A Retry-After beyond what the policy waits for ends the call at once, with the delay.
    let s = Server::start(|_: &Recorded| Reply::status(429).header("Retry-After", "120")).await;
    let err = client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(s.requests().len(), 1);
}

#[tokio::test]
async fn unprocessable_keeps_the_operation_outcome_and_is_not_retried() {
    let s = Server::start(|_: &Recorded| Reply::json(422, OUTCOME_422)).await;
    let err = client(&s, |b| b)
        .update(patient())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unprocessable);
    assert_eq!(err.status(), Some(422));
    let oo = err.outcome().expect("the OperationOutcome is kept");
    assert!(oo.summary().contains("fully booked"));
    assert!(err.to_string().contains("Appointment.slot[0]"), "{err}");
    assert_eq!(s.requests().len(), 1);
}

#[tokio::test]
async fn a_5xx_carrying_a_client_error_outcome_is_typed_by_the_outcome() {
    let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"required","diagnostics":"status is required"}]}"#;
    let s = Server::start(move |_: &Recorded| Reply::json(503, oo)).await;
    let err = client(&s, |b| b)
        .update(patient())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    assert_eq!(err.status(), Some(503));
    assert!(err.outcome().is_some());
    assert_eq!(
        s.requests().len(),
        1,
        "the same request would fail the same way"
    );
}

#[tokio::test]
async fn invalid_json_is_a_located_decode_error() {
    let s =
        Server::start(|_: &Recorded| Reply::json(200, r#"{"resourceType":"Patient","active":tru"#))
            .await;
    let err = client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.status(), Some(200));
    assert!(err.location().is_some());
    assert!(err.request_id().is_some());

    // A wrong value: located, and the value (patient data, here a MyKad number) not repeated.
    let s = Server::start(|_: &Recorded| {
        Reply::json(200, r#"{"resourceType":"Patient","active":"900101015555"}"#)
    })
    .await;
    let err = client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.location(), Some("Patient.active"));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("900101015555"), "{shown}");

    // The right JSON for the wrong type.
    let s = Server::start(|_: &Recorded| Reply::json(200, OUTCOME_422)).await;
    let err = client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.location(), Some("Patient.resourceType"));

    // After a successful write, an unreadable body does not turn into an error (the caller
    // would retry a write that happened).
    let s = Server::start(|_: &Recorded| {
        Reply::json(201, "not json").header("Location", "Patient/p1/_history/1")
    })
    .await;
    let w = client(&s, |b| b).create(patient()).send().await.unwrap();
    assert!(w.created());
    assert_eq!(w.id.as_deref(), Some("p1"));
    assert_eq!(w.body_error.unwrap().kind(), ErrorKind::Decode);
}

fn big_bundle(target_bytes: usize) -> Vec<u8> {
    let entry =
        format!(r#"{{"fullUrl":"urn:x","resource":{PATIENT},"search":{{"mode":"match"}}}}"#);
    let n = target_bytes / (entry.len() + 1) + 1;
    let mut s = String::from(r#"{"resourceType":"Bundle","type":"searchset","entry":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&entry);
    }
    s.push_str("]}");
    s.into_bytes()
}

#[tokio::test]
async fn a_ten_megabyte_body_is_read_or_refused_by_the_limit() {
    let body = big_bundle(10 * 1024 * 1024);
    assert!(body.len() >= 10 * 1024 * 1024);
    let expected = body.len() / 100;
    let b2 = body.clone();
    let s = Server::start(move |_: &Recorded| Reply::json(200, b2.clone())).await;
    let t0 = Instant::now();
    let page = client(&s, |b| b).search::<Patient>().send().await.unwrap();
    assert!(page.matches.len() > expected / 2, "{}", page.matches.len());
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());

    // Over the limit with a Content-Length: refused before reading.
    let c = |s: &Server| client(s, |b| b.max_response_bytes(1024 * 1024));
    let err = c(&s).search::<Patient>().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("exceeds the limit"), "{err}");

    // Over the limit without a length (chunked): refused while reading.
    let s = Server::start(move |_: &Recorded| Reply::Chunked {
        status: 200,
        headers: vec![],
        body: body.clone(),
    })
    .await;
    let err = c(&s).search::<Patient>().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(s.requests().len(), 1, "a refused body is not fetched again");
}

#[tokio::test]
async fn validation_fails_before_anything_is_sent() {
    let s = Server::start(|_: &Recorded| Reply::json(201, "")).await;
    let c = client(&s, |b| b);
    let empty = hie_vc::fhir::Appointment {
        id: hie_vc::fhir::Id::new("a1").ok(),
        ..Default::default()
    };
    let err = c.update(empty.clone()).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(err.report().unwrap().has_errors());
    assert_eq!(s.requests().len(), 0);
    // Off per request: sent as is.
    c.update(empty).validate(false).send().await.unwrap();
    assert_eq!(s.requests().len(), 1);
}

#[tokio::test]
async fn update_sends_if_match_prefer_and_fhir_headers() {
    let s = Server::start(|r: &Recorded| {
        let status = if r.header("if-match").is_some() {
            200
        } else {
            201
        };
        Reply::json(status, "")
            .header("ETag", "W/\"2\"")
            .header("Location", "http://localhost:8080/Patient/p1/_history/2")
    })
    .await;
    let c = client(&s, |b| b);
    let w = c
        .update(patient())
        .if_match_current()
        .prefer(hie_vc::hie::Prefer::Minimal)
        .send()
        .await
        .unwrap();
    assert_eq!(w.kind, hie_vc::hie::WriteKind::Updated);
    assert_eq!(w.version_id.as_deref(), Some("2"));
    assert!(w.resource().is_none());
    let r = &s.requests()[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.target, "/Patient/p1");
    assert_eq!(r.header("if-match"), Some("W/\"1\""));
    assert_eq!(r.header("prefer"), Some("return=minimal"));
    assert_eq!(r.header("content-type"), Some("application/fhir+json"));
    assert_eq!(r.header("accept"), Some("application/fhir+json"));
    assert!(r.header("user-agent").unwrap().starts_with("hie-vc/"));
    assert_eq!(r.header("x-request-id").map(str::len), Some(36));
}

#[tokio::test]
async fn batch_retries_only_when_every_entry_is_idempotent() {
    let resp = r#"{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"}}]}"#;
    let s = Server::start(script(vec![Reply::status(503), Reply::json(200, resp)])).await;
    let c = client(&s, |b| b);
    let out = c.batch().update(patient()).send().await.unwrap();
    assert_eq!(out.entries.len(), 1);
    assert_eq!(s.requests().len(), 2, "a batch of PUTs is retried");

    let s = Server::start(script(vec![Reply::status(503), Reply::json(200, resp)])).await;
    let err = client(&s, |b| b)
        .batch()
        .create(patient())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(
        s.requests().len(),
        1,
        "a batch with a plain POST entry is not"
    );
}

#[tokio::test]
async fn bundle_entries_are_matched_to_their_requests() {
    let resp = r#"{"resourceType":"Bundle","type":"batch-response","entry":[
        {"response":{"status":"201 Created","location":"Patient/p1/_history/1","etag":"W/\"1\""}},
        {"response":{"status":"404 Not Found","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"no Patient/zz"}]}}}]}"#;
    let s = Server::start(move |_: &Recorded| Reply::json(200, resp)).await;
    let c = client(&s, |b| b);
    let out = c
        .batch()
        .update(patient())
        .read("Patient", "zz")
        .send()
        .await
        .unwrap();
    assert!(!out.is_success());
    let (a, b) = (&out.entries[0], &out.entries[1]);
    assert_eq!(
        (a.status, a.id.as_deref(), a.version_id.as_deref()),
        (201, Some("p1"), Some("1"))
    );
    assert_eq!(b.url.as_deref(), Some("Patient/zz"));
    let e = b.error().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.outcome().unwrap().summary().contains("no Patient/zz"));
    let sent: serde_json::Value = serde_json::from_slice(&s.requests()[0].body).unwrap();
    assert_eq!(sent["type"], "batch");
    assert_eq!(sent["entry"][0]["request"]["url"], "Patient/p1");

    // A response that cannot be matched is refused.
    let short = r#"{"resourceType":"Bundle","type":"batch-response","entry":[]}"#;
    let s = Server::start(move |_: &Recorded| Reply::json(200, short)).await;
    let err = client(&s, |b| b)
        .batch()
        .update(patient())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn paging_follows_next_links_on_the_configured_origin_only() {
    let s = Server::start(|r: &Recorded| {
        let page = |next: Option<&str>, id: &str| {
            let link = next.map_or(String::new(), |n| format!(r#""link":[{{"relation":"next","url":"{n}"}}],"#));
            format!(r#"{{"resourceType":"Bundle","type":"searchset",{link}"entry":[{{"resource":{{"resourceType":"Patient","id":"{id}"}}}}]}}"#)
        };
        // The server reports another base (like Helios' default http://localhost:8080).
        match r.target.as_str() {
            "/Patient?_count=1" => Reply::json(200, page(Some("http://localhost:8080/Patient?page=2"), "a")),
            "/Patient?page=2" => Reply::json(200, page(Some("http://localhost:8080/Patient?page=3"), "b")),
            _ => Reply::json(200, page(None, "c")),
        }
    })
    .await;
    let c = client(&s, |b| b);
    let all = c.search::<Patient>().count(1).all().await.unwrap();
    let ids: Vec<_> = all
        .iter()
        .map(|p| p.id.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(s.requests().len(), 3);
    let capped = c
        .search::<Patient>()
        .count(1)
        .max_results(2)
        .all()
        .await
        .unwrap();
    assert_eq!(capped.len(), 2);
    assert_eq!(s.requests().len(), 5, "the cap stops paging");
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
async fn secrets_and_search_values_never_reach_debug_display_or_logs() {
    const CLIENT_SECRET: &str = "cs-7d1f-SECRET";
    const TOKEN: &str = "tok-93ab-ACCESS";
    const MYKAD: &str = "900101015555";
    let s = Server::start(|r: &Recorded| {
        if r.path() == "/token" {
            return Reply::json(200, format!(r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":3600}}"#));
        }
        assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        Reply::json(403, r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden"}]}"#)
    })
    .await;
    let logs = global_logs();
    let auth = hie_vc::hie::Auth::oauth2(hie_vc::hie::OAuth2::client_credentials(
        format!("{}token", s.url()),
        "client-1",
        CLIENT_SECRET,
    ));
    let c = client(&s, |b| {
        b.auth(auth).secret_header("X-Api-Key", "key-SECRET-42")
    });
    let err = c
        .search::<Patient>()
        .identifier(hie_vc::mycore::consts::MYKAD_SYSTEM, MYKAD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let err2 = c.read_type("Patient", "p1").send().await.unwrap_err();
    let all = format!(
        "{}\n{err}\n{err:?}\n{err2}\n{err2:?}\n{c:?}\n{:?}",
        String::from_utf8_lossy(&logs.0.lock().unwrap()),
        c.config()
    );
    assert!(all.contains("hie.request"), "the span was logged: {all}");
    assert!(all.contains("identifier=***"), "{all}");
    for secret in [
        CLIENT_SECRET,
        TOKEN,
        MYKAD,
        "key-SECRET-42",
        "Y2xpZW50LTE6Y3MtN2QxZi1TRUNSRVQ",
    ] {
        assert!(!all.contains(secret), "'{secret}' leaked:\n{all}");
    }
    assert_eq!(s.requests()[1].header("x-api-key"), Some("key-SECRET-42"));
}

fn token_server(
    fhir: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    token_delay: Duration,
) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let issued = AtomicUsize::new(0);
    move |r: &Recorded| {
        if r.path() == "/token" {
            assert_eq!(r.method, "POST");
            assert!(String::from_utf8_lossy(&r.body).contains("grant_type=client_credentials"));
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            let token = Reply::json(
                200,
                format!(r#"{{"access_token":"t{n}","token_type":"bearer","expires_in":3600}}"#),
            );
            return Reply::Delay(token_delay, Box::new(token));
        }
        fhir(r)
    }
}

fn oauth(s: &Server) -> hie_vc::hie::Auth {
    hie_vc::hie::Auth::oauth2(hie_vc::hie::OAuth2::client_credentials(
        format!("{}token", s.url()),
        "c",
        "s",
    ))
}

#[tokio::test]
async fn oauth2_refreshes_once_after_a_401() {
    let s = Server::start(token_server(
        |r| match (r.header("authorization"), r.method.as_str()) {
            (Some("Bearer t2"), "POST") => {
                Reply::json(201, PATIENT).header("Location", "Patient/p1/_history/1")
            }
            (Some("Bearer t2"), _) => Reply::json(200, PATIENT),
            _ => Reply::status(401).header("WWW-Authenticate", "Bearer error=\"invalid_token\""),
        },
        Duration::ZERO,
    ))
    .await;
    let c = client(&s, |b| b.auth(oauth(&s)));
    // Even a POST is resent after a 401: the server did not process it.
    let w = c.create(patient()).send().await.unwrap();
    assert!(w.created());
    assert_eq!(s.count("/Patient"), 2);
    assert_eq!(s.count("/token"), 2, "one token, one refresh");
    // The refreshed token is cached.
    let got = c.read::<Patient>("p1").send().await.unwrap();
    assert_eq!(got.into_resource().id.unwrap().as_str(), "p1");
    assert_eq!(s.count("/token"), 2);

    // A 401 that persists after the refresh is reported, after exactly one refresh.
    let s = Server::start(token_server(
        |_| Reply::status(401).header("WWW-Authenticate", "Bearer"),
        Duration::ZERO,
    ))
    .await;
    let c = client(&s, |b| b.auth(oauth(&s)));
    let err = c.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.message().contains("WWW-Authenticate"), "{err}");
    assert_eq!((s.count("/token"), s.count("/Patient")), (2, 2));
}

#[tokio::test]
async fn oauth2_token_is_cached_and_refreshed_before_expiry() {
    let issued = Arc::new(AtomicUsize::new(0));
    let n = Arc::clone(&issued);
    let s = Server::start(move |r: &Recorded| {
        if r.path() == "/token" {
            let i = n.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(
                200,
                format!(r#"{{"access_token":"t{i}","expires_in":"2"}}"#),
            );
        }
        Reply::json(200, PATIENT)
    })
    .await;
    let c = client(&s, |b| b.auth(oauth(&s)));
    for _ in 0..3 {
        c.read::<Patient>("p1").send().await.unwrap();
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1, "cached");
    // A 2 s token is replaced after half its life, before it can expire on the way.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.read::<Patient>("p1").send().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let last = s.requests().into_iter().last().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer t2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_share_one_token_fetch_and_one_refresh() {
    let s = Server::start(token_server(
        |r| match r.header("authorization") {
            Some("Bearer t1") => Reply::status(401),
            _ => Reply::json(200, PATIENT),
        },
        Duration::from_millis(200),
    ))
    .await;
    let c = client(&s, |b| b.auth(oauth(&s)));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.read::<Patient>("p1").send().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // 16 callers: one fetch of t1, then every 401 on t1 leads to the same single refresh.
    assert_eq!(s.count("/token"), 2);
}

#[tokio::test]
async fn token_endpoint_refusal_is_an_unauthorized_error() {
    let s = Server::start(|r: &Recorded| {
        if r.path() == "/token" {
            return Reply::json(
                401,
                r#"{"error":"invalid_client","error_description":"bad secret"}"#,
            );
        }
        Reply::json(200, PATIENT)
    })
    .await;
    let c = client(&s, |b| b.auth(oauth(&s)));
    let err = c.read::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.message().contains("invalid_client"), "{err}");
    assert_eq!(s.count("/Patient"), 0, "nothing sent without a token");
}

#[tokio::test]
async fn static_bearer_and_basic_auth_headers() {
    let s = Server::start(|_: &Recorded| Reply::json(200, PATIENT)).await;
    client(&s, |b| b.auth(hie_vc::hie::Auth::bearer("abc")))
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap();
    client(&s, |b| {
        b.auth(hie_vc::hie::Auth::basic("Aladdin", "open sesame"))
    })
    .read_type("Patient", "p1")
    .send()
    .await
    .unwrap();
    let r = s.requests();
    assert_eq!(r[0].header("authorization"), Some("Bearer abc"));
    assert_eq!(
        r[1].header("authorization"),
        Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let s = Server::start(|_: &Recorded| {
        Reply::status(302).header("Location", "http://other.example/Patient/p1?x=secret")
    })
    .await;
    let err = client(&s, |b| b)
        .read::<Patient>("p1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Http);
    assert_eq!(err.status(), Some(302));
    assert!(
        err.message().contains("redirect") && !err.message().contains("secret"),
        "{err}"
    );
    assert_eq!(s.requests().len(), 1);
}

#[tokio::test]
async fn invalid_ids_are_refused_before_sending() {
    let s = Server::start(|_: &Recorded| Reply::json(200, PATIENT)).await;
    let c = client(&s, |b| b);
    let err = c.read::<Patient>("../metadata").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = c.read_type("patient", "p1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = c
        .update(Resource::from(Patient::default()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "an update needs an id");
    assert_eq!(s.requests().len(), 0);
}

#[tokio::test]
async fn paging_stops_at_an_empty_page_and_refuses_a_loop() {
    use futures::TryStreamExt;
    let page = |next: &str, ids: &[&str]| {
        let entries: Vec<String> = ids
            .iter()
            .map(|id| format!(r#"{{"resource":{{"resourceType":"Patient","id":"{id}"}}}}"#))
            .collect();
        format!(
            r#"{{"resourceType":"Bundle","type":"searchset","link":[{{"relation":"next","url":"{next}"}}],"entry":[{}]}}"#,
            entries.join(",")
        )
        .replace(r#","entry":[]"#, "")
    };
    let (p1, p2) = (page("Patient?p=2", &["a", "b"]), page("Patient?p=3", &[]));
    let s = Server::start(move |r: &Recorded| {
        Reply::json(
            200,
            if r.target.ends_with("p=2") {
                p2.clone()
            } else {
                p1.clone()
            },
        )
    })
    .await;
    let c = client(&s, |b| b);
    let pages: Vec<_> = c.search::<Patient>().pages().try_collect().await.unwrap();
    assert_eq!(
        pages.len(),
        1,
        "the empty second page is not a page of results"
    );
    assert_eq!(s.requests().len(), 2);

    // A server whose next link points back to a page already read.
    let looped = page("Patient?p=2", &["a"]);
    let s = Server::start(move |_: &Recorded| Reply::json(200, looped.clone())).await;
    let err = client(&s, |b| b)
        .search::<Patient>()
        .all()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("already read"), "{err}");
    assert_eq!(s.requests().len(), 2);
}

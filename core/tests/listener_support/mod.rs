//! Shared helpers of the listener tests.
#![allow(dead_code)]

pub mod encounters;
// Not every test binary that shares this module talks to a broker.
#[allow(unused_imports)]
pub use hie_vc_test_support::kafka;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::listener::{
    Coordinates, Disposition, EncounterEvent, Failure, FailureReason, Listener, ListenerBuilder,
};

/// What the error callback saw, kept for assertions.
#[derive(Debug, Clone)]
pub struct SeenFailure {
    pub reason: FailureReason,
    pub kind: hie_vc::ErrorKind,
    pub coordinates: Option<Coordinates>,
    pub attempts: u32,
    pub disposition: Disposition,
    pub message: String,
    pub had_record: bool,
}

/// An error callback that records failures.
pub fn failure_log() -> (
    Arc<Mutex<Vec<SeenFailure>>>,
    impl Fn(&Failure) + Send + Sync + 'static,
) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    (log, move |f: &Failure| {
        l.lock().unwrap().push(SeenFailure {
            reason: f.reason,
            kind: f.error.kind(),
            coordinates: f.coordinates.clone(),
            attempts: f.attempts,
            disposition: f.disposition.clone(),
            message: f.error.to_string(),
            had_record: f.message().is_some(),
        })
    })
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub type Seen = Arc<Mutex<Vec<EncounterEvent>>>;

/// A handler that records every event.
pub fn recorder() -> (
    Seen,
    impl Fn(EncounterEvent) -> futures::future::Ready<Result<(), std::io::Error>>
        + Send
        + Sync
        + 'static,
) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (seen, move |e: EncounterEvent| {
        s.lock().unwrap().push(e);
        futures::future::ready(Ok(()))
    })
}

/// Runs `listener` in the background; returns a join handle for `run`'s result.
pub fn spawn(listener: &Arc<Listener>) -> tokio::task::JoinHandle<Result<(), hie_vc::Error>> {
    let l = listener.clone();
    tokio::spawn(async move { l.run().await })
}

/// A listener from `builder` with the [`recorder`] handler (close bounded to 10 s).
pub fn recording(builder: ListenerBuilder) -> (Arc<Listener>, Seen) {
    let (seen, handler) = recorder();
    let listener = builder
        .close_timeout(Duration::from_secs(10))
        .handler(handler)
        .build()
        .unwrap();
    (Arc::new(listener), seen)
}

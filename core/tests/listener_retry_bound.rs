//! The listener's handler retries follow the SDK's one retry policy, its total time bound
//! included (the HTTP services were the only ones to honour it before the policies merged).

mod listener_support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hie_vc::listener::{EncounterEvent, Listener, MemoryBroker, MemoryRecord, RetryPolicy};
use listener_support::encounters::vc_encounter;
use listener_support::{failure_log, spawn, wait_until};

const T: &str = "vc-encounters";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_retries_stop_at_the_policys_total_bound() {
    let broker = MemoryBroker::new();
    broker
        .send(T, MemoryRecord::new(vc_encounter(1, 1)))
        .unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let (failures, on_error) = failure_log();
    let listener = Arc::new(
        Listener::builder()
            .memory(&broker, "g", [T])
            .retry(
                RetryPolicy::default()
                    .max_retries(1000)
                    .jitter(0.0)
                    .initial_backoff(Duration::from_millis(20))
                    .max_backoff(Duration::from_millis(20))
                    .max_elapsed(Duration::from_millis(200)),
            )
            .on_error(on_error)
            .handler(move |_e: EncounterEvent| {
                c.fetch_add(1, Ordering::SeqCst);
                async move { Err::<(), _>(std::io::Error::other("downstream is down")) }
            })
            .build()
            .unwrap(),
    );
    let run = spawn(&listener);
    assert!(
        wait_until(Duration::from_secs(10), || listener.metrics().processed()
            == 1)
        .await
    );
    listener.close().await.unwrap();
    run.await.unwrap().unwrap();

    // 20 ms apart within 200 ms: at most about ten retries of the thousand allowed (fewer when
    // a loaded machine oversleeps), and at least one.
    let n = calls.load(Ordering::SeqCst);
    assert!((2..=12).contains(&n), "{n} attempts");
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].attempts, n);
}

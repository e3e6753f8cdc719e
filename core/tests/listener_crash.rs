//! kill -9 of a listener process in the middle of 20 000 records, then a restart in the same
//! group: nothing is lost. The listener process is the `listen_count` example, which writes
//! each Encounter id to a file before acknowledging it.

mod listener_support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use listener_support::encounters::{number_of, vc_encounter};
use listener_support::kafka::{self as k, Rec};

const RECORDS: u64 = 20_000;

/// Builds the `listen_count` example in this test's profile and returns its path.
fn listen_count() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/listener_crash-<hash> → target/<profile>
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "-q", "-p", "hie-vc", "--example", "listen_count"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cargo build --example listen_count");
    assert!(status.success());
    profile_dir.join("examples").join("listen_count")
}

fn start(bin: &Path, b: &str, topic: &str, group: &str, out: &Path) -> Child {
    Command::new(bin)
        .args([b, topic, group, out.to_str().unwrap()])
        // The killed member stays in the group until its session times out; keep that short so
        // the restart does not wait for librdkafka's 45 s default.
        .args(["session.timeout.ms=6000", "heartbeat.interval.ms=1000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start listen_count")
}

fn handled(out: &Path) -> Vec<u64> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(number_of)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn kill_9_mid_stream_then_restart_loses_nothing() {
    let b = k::bootstrap();
    let t0 = Instant::now();
    let bin = listen_count();
    eprintln!("listen_count built in {:?}", t0.elapsed());
    let topic = k::unique("crash");
    let group = k::unique("g");
    k::create_topic(&b, &topic, 4).await;
    let out = std::env::temp_dir().join(format!("{topic}.ids"));
    let _ = std::fs::remove_file(&out);

    // Produce in the background while the first process consumes.
    let producer = k::producer(&b);
    let t = topic.clone();
    let produce = tokio::spawn(async move {
        for chunk in 0..(RECORDS / 1000) {
            let recs = (chunk * 1000..(chunk + 1) * 1000)
                .map(|n| Rec::new(vc_encounter(n, 1)).key(format!("k{n}")))
                .collect();
            k::produce(&producer, &t, recs).await;
        }
    });

    let mut first = start(&bin, &b, &topic, &group, &out);
    let deadline = Instant::now() + Duration::from_secs(120);
    while handled(&out).len() < (RECORDS / 3) as usize {
        assert!(Instant::now() < deadline, "first process too slow");
        assert!(
            first.try_wait().unwrap().is_none(),
            "listen_count exited early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("{:?}: killing the first process", t0.elapsed());
    // SIGKILL: no close, no final commit.
    first.kill().unwrap();
    first.wait().unwrap();
    let before_restart = handled(&out).len();
    produce.await.unwrap();
    eprintln!("{:?}: all produced", t0.elapsed());

    let mut second = start(&bin, &b, &topic, &group, &out);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let ids: HashSet<u64> = handled(&out).into_iter().collect();
        if ids.len() == RECORDS as usize {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {RECORDS} handled after the restart",
            ids.len()
        );
        assert!(
            second.try_wait().unwrap().is_none(),
            "listen_count exited early"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("{:?}: all handled after the restart", t0.elapsed());
    // Closing stdin is the graceful stop: commit and leave.
    drop(second.stdin.take());
    let status = second.wait().unwrap();
    assert!(status.success(), "graceful stop: {status}");

    let all = handled(&out);
    let unique: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(unique, (0..RECORDS).collect::<HashSet<_>>(), "0 lost");
    eprintln!(
        "kill -9 after {before_restart} handled; {} deliveries for {RECORDS} records ({} redelivered after the crash)",
        all.len(),
        all.len() - RECORDS as usize
    );
    let committed = k::committed(&b, &group, &topic, 4);
    let ends = k::end_offsets(&b, &topic, 4);
    assert_eq!(committed, ends.into_iter().map(Some).collect::<Vec<_>>());
    let _ = std::fs::remove_file(&out);
}

//! Listener throughput benchmark (driven by bench/listener/run.sh).
//!
//! ```text
//! listener_bench produce  <bootstrap> <topic> <count> <partitions>
//! listener_bench raw      <bootstrap> <topic> <count>   # (a) raw rdkafka consumer, no work
//! listener_bench listener <bootstrap> <topic> <count>   # (b) listener: decode, classify, no-op handler, store
//! listener_bench decode   -           -       <count>   # (c) the FHIR decode + classify alone, one thread
//! listener_bench syntax   <bootstrap> <topic> <count>   # (d) raw consumer + a JSON syntax-only pass
//! listener_bench delete   <bootstrap> <topic> -         # removes the topic afterwards
//! ```
//! (d) is the floor of any decoder on this machine: the raw consumer of (a) plus serde_json's
//! syntax check of each payload (`IgnoredAny`: no values built, nothing allocated).
//! (c) bounds (b): it is the per-record CPU cost the listener cannot avoid (typed Encounter +
//! VC view), measured without Kafka on one thread.
//! `raw` and `listener` each read the topic from the start in a fresh consumer group and print
//! one line: `mode=<m> count=<n> seconds=<s> msgs_per_sec=<r> peak_rss_kb=<VmHWM>`, timed from
//! the first record to the last (the group join is not measured).

#[path = "../tests/listener_support/encounters.rs"]
#[allow(dead_code)] // shared with the tests, which use more of it
mod encounters;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hie_vc::listener::{EncounterEvent, KafkaConfig, Listener};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn group() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bench-{}-{nanos}", std::process::id())
}

/// CPU seconds (user + system) this process has used so far, from /proc/self/stat.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

fn report(mode: &str, count: u64, first: Instant, last: Instant, cpu_at_first: f64) {
    let secs = last.duration_since(first).as_secs_f64();
    println!(
        "mode={mode} count={count} seconds={secs:.3} msgs_per_sec={:.0} peak_rss_kb={} cpu_secs={:.2}",
        (count.saturating_sub(1)) as f64 / secs,
        peak_rss_kb(),
        cpu_secs() - cpu_at_first
    );
}

async fn produce(bootstrap: &str, topic: &str, count: u64, partitions: i32) -> Res<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for r in admin
        .create_topics(
            [&new],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await?
    {
        r.map_err(|(t, e)| format!("create {t}: {e}"))?;
    }
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "200000")
        .create()?;
    let mut bytes = 0usize;
    for n in 0..count {
        let payload = encounters::vc_encounter(n, 1);
        bytes += payload.len();
        let key = format!("k{n}");
        let mut rec = BaseRecord::to(topic).key(&key).payload(&payload);
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, back)) => {
                    rec = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(120))?;
    println!(
        "produced {count} records of {} bytes on average to {topic} ({partitions} partitions)",
        bytes as u64 / count.max(1)
    );
    Ok(())
}

/// (a) with `syntax == false`, (d) with `syntax == true`.
/// Deletes the bench topic: each run writes ~300 MB that a shared test broker would otherwise
/// keep (and recover on every restart).
async fn delete(bootstrap: &str, topic: &str) -> Res<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    for r in admin
        .delete_topics(
            &[topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await?
    {
        r.map_err(|(t, e)| format!("delete {t}: {e}"))?;
    }
    println!("deleted {topic}");
    Ok(())
}

fn raw(bootstrap: &str, topic: &str, count: u64, syntax: bool) -> Res<()> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group())
        .set("auto.offset.reset", "earliest")
        // As the listener does: when the local queue is full, resume fetching after 10 ms
        // rather than librdkafka's default 1 s (a consumer slower than the network, like (d),
        // would otherwise sit idle for whole seconds).
        .set("fetch.queue.backoff.ms", "10")
        .create()?;
    c.subscribe(&[topic])?;
    let mut n = 0u64;
    let mut first = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    while n < count && Instant::now() < deadline {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                first.get_or_insert_with(|| (Instant::now(), cpu_secs()));
                if syntax {
                    use rdkafka::Message as _;
                    serde_json::from_slice::<serde::de::IgnoredAny>(
                        m.payload().unwrap_or_default(),
                    )?;
                }
                n += 1;
            }
            Some(Err(e)) => eprintln!("raw consumer: {e}"),
            None => {}
        }
    }
    let last = Instant::now();
    let (t0, c0) = first.unwrap_or((last, cpu_secs()));
    report(if syntax { "syntax" } else { "raw" }, n, t0, last, c0);
    Ok(())
}

/// Extra librdkafka properties for experiments: `BENCH_PROPS="k=v,k=v"` (the recorded runs
/// use the defaults).
fn props(mut c: KafkaConfig) -> KafkaConfig {
    for kv in std::env::var("BENCH_PROPS").unwrap_or_default().split(',') {
        if let Some((k, v)) = kv.split_once('=') {
            c = c.property(k, v);
        }
    }
    c
}

async fn listener(bootstrap: &str, topic: &str, count: u64) -> Res<()> {
    let handled = Arc::new(AtomicU64::new(0));
    let first: Arc<OnceLock<(Instant, f64)>> = Arc::default();
    let (h, f) = (handled.clone(), first.clone());
    let listener = Arc::new(
        Listener::builder()
            .kafka(props(KafkaConfig::new(bootstrap, group()).topic(topic)))
            .metrics_interval(None)
            .handler(move |_e: EncounterEvent| {
                f.get_or_init(|| (Instant::now(), cpu_secs()));
                h.fetch_add(1, Ordering::Relaxed);
                std::future::ready(Ok::<(), std::convert::Infallible>(()))
            })
            .build()?,
    );
    let run = {
        let l = listener.clone();
        tokio::spawn(async move { l.run().await })
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while handled.load(Ordering::Relaxed) < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let last = Instant::now();
    let n = handled.load(Ordering::Relaxed);
    let (t0, c0) = first.get().copied().unwrap_or((last, cpu_secs()));
    report("listener", n, t0, last, c0);
    let m = listener.metrics();
    eprintln!(
        "listener: handled={} decode_errors={} p50={:?} p99={:?}",
        m.handled, m.decode_errors, m.handler_latency.p50, m.handler_latency.p99
    );
    listener.close().await?;
    run.await??;
    Ok(())
}

fn decode(count: u64) -> Res<()> {
    let records: Vec<String> = (0..count.min(20_000))
        .map(|n| encounters::vc_encounter(n, 1))
        .collect();
    let started = Instant::now();
    let mut done = 0u64;
    while done < count {
        for r in &records {
            let e = hie_vc::fhir::read::<hie_vc::fhir::Encounter>(
                r.as_bytes(),
                hie_vc::fhir::ReadOptions::strict(),
            )?
            .value;
            if hie_vc::mycore::is_vc_encounter(&e) {
                std::hint::black_box(hie_vc::mycore::VcEncounter::from_encounter(&e)?);
            }
            done += 1;
            if done == count {
                break;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "mode=decode count={done} seconds={secs:.3} msgs_per_sec={:.0} us_per_record={:.2}",
        done as f64 / secs,
        secs * 1e6 / done as f64
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or("missing argument (see the file header)")
    };
    if arg(0)? == "delete" {
        return delete(&arg(1)?, &arg(2)?).await;
    }
    let count: u64 = arg(3)?.parse()?;
    match arg(0)?.as_str() {
        "produce" => produce(&arg(1)?, &arg(2)?, count, arg(4)?.parse()?).await,
        "raw" => raw(&arg(1)?, &arg(2)?, count, false),
        "syntax" => raw(&arg(1)?, &arg(2)?, count, true),
        "listener" => listener(&arg(1)?, &arg(2)?, count).await,
        "decode" => decode(count),
        other => Err(format!("unknown mode {other}").into()),
    }
}

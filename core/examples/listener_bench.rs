//! Listener throughput benchmark (driven by bench/listener/run.sh).
//!
//! ```text
//! listener_bench produce  <bootstrap> <topic> <count> <partitions> [hie|sorted]
//! listener_bench raw      <bootstrap> <topic> <count>   # (a) raw rdkafka consumer, no work
//! listener_bench listener <bootstrap> <topic> <count>   # (b) listener: decode, classify, no-op handler, store
//! listener_bench decode   -           -       <count> [hie|sorted]  # (c) the FHIR decode + classify alone, one thread
//! listener_bench syntax   <bootstrap> <topic> <count>   # (d) raw consumer + a JSON syntax-only pass
//! listener_bench value    <bootstrap> <topic> <count>   # (e) raw consumer + serde_json::Value + class.code
//! listener_bench delete   <bootstrap> <topic> -         # removes the topic afterwards
//! ```
//! (e) is what a Rust team writes without this SDK: one loop over the raw consumer of (a) that
//! parses each payload into an untyped `serde_json::Value` and looks up `class.code` (no
//! validation, no offsets stored by hand: librdkafka's auto-commit).
//! Record layouts: `hie` (the default) as HIE's FHIR server writes a resource, `resourceType`
//! first; `sorted`, the same records with every object's keys in alphabetical order, which puts
//! `resourceType` late (the typed reader's slow path: it must buffer what comes before it).
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

/// The records of a layout (see the file header).
fn record(n: u64, layout: &str) -> Res<String> {
    let hie = encounters::vc_encounter(n, 1);
    match layout {
        "hie" => Ok(hie),
        "sorted" => Ok(sort_keys(serde_json::from_str(&hie)?).to_string()),
        other => Err(format!("unknown record layout '{other}' (hie or sorted)").into()),
    }
}

/// Every object's keys in alphabetical order, whatever order `serde_json::Map` keeps.
fn sort_keys(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

async fn produce(
    bootstrap: &str,
    topic: &str,
    count: u64,
    partitions: i32,
    layout: &str,
) -> Res<()> {
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
        let payload = record(n, layout)?;
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
        "produced {count} '{layout}' records of {} bytes on average to {topic} ({partitions} partitions)",
        bytes as u64 / count.max(1)
    );
    Ok(())
}

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

/// What the raw consumer does with each payload.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    /// (a): nothing.
    Nothing,
    /// (d): serde_json's syntax check alone.
    Syntax,
    /// (e): an untyped `serde_json::Value` and its `class.code`.
    Value,
}

fn raw(bootstrap: &str, topic: &str, count: u64, work: Work) -> Res<()> {
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
    let mut vr = 0u64;
    let mut first = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    while n < count && Instant::now() < deadline {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                first.get_or_insert_with(|| (Instant::now(), cpu_secs()));
                use rdkafka::Message as _;
                let payload = m.payload().unwrap_or_default();
                match work {
                    Work::Nothing => {}
                    Work::Syntax => {
                        serde_json::from_slice::<serde::de::IgnoredAny>(payload)?;
                    }
                    Work::Value => {
                        let v: serde_json::Value = serde_json::from_slice(payload)?;
                        let code = v
                            .get("class")
                            .and_then(|c| c.get("code"))
                            .and_then(serde_json::Value::as_str);
                        vr += u64::from(code == Some("VR"));
                    }
                }
                n += 1;
            }
            Some(Err(e)) => eprintln!("raw consumer: {e}"),
            None => {}
        }
    }
    let last = Instant::now();
    let (t0, c0) = first.unwrap_or((last, cpu_secs()));
    let mode = match work {
        Work::Nothing => "raw",
        Work::Syntax => "syntax",
        Work::Value => "value",
    };
    report(mode, n, t0, last, c0);
    if work == Work::Value && vr != n {
        return Err(format!("{vr} of {n} records had class.code VR").into());
    }
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

fn decode(count: u64, layout: &str) -> Res<()> {
    let records: Vec<String> = (0..count.min(20_000))
        .map(|n| record(n, layout))
        .collect::<Res<_>>()?;
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
        "produce" => {
            let layout = arg(5).unwrap_or_else(|_| "hie".into());
            produce(&arg(1)?, &arg(2)?, count, arg(4)?.parse()?, &layout).await
        }
        "raw" => raw(&arg(1)?, &arg(2)?, count, Work::Nothing),
        "syntax" => raw(&arg(1)?, &arg(2)?, count, Work::Syntax),
        "value" => raw(&arg(1)?, &arg(2)?, count, Work::Value),
        "listener" => listener(&arg(1)?, &arg(2)?, count).await,
        "decode" => decode(count, &arg(4).unwrap_or_else(|_| "hie".into())),
        other => Err(format!("unknown mode {other}").into()),
    }
}

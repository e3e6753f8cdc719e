//! `listen` (listener.json): records produced on an in-memory broker, read by the core's
//! listener; the result is what the handler and the error callback saw, what went to the
//! dead-letter topic, and the listener's counters.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::listener::{
    DedupeWindow, EncounterEvent, Filter, Listener, ListenerBuilder, MemoryBroker, MemoryRecord,
    PayloadFormat, RetryPolicy,
};
use serde_json::{json, Map, Value};

use crate::json::Json;
use crate::ops_fhir::to_json;
use crate::spec::{array, check_keys, document, opt_bool, opt_str, opt_u64, pairs, DOCUMENT_KEYS};

/// The topic records are produced on (one partition, so records keep their order).
pub const TOPIC: &str = "vc-encounters";
/// How long the listener gets to finish every record.
const WAIT: Duration = Duration::from_secs(10);

const OPTION_KEYS: [&str; 8] = [
    "format",
    "filter",
    "read_mode",
    "max_message_bytes",
    "max_retries",
    "initial_backoff_ms",
    "dead_letter_topic",
    "dedupe",
];

fn record(r: &Json, i: usize) -> Result<MemoryRecord, String> {
    let what = format!("records[{i}]");
    let mut allowed = vec!["key", "headers", "tombstone"];
    allowed.extend(DOCUMENT_KEYS);
    check_keys(r, &what, &allowed)?;
    let mut rec = if opt_bool(r, "tombstone")?.unwrap_or(false) {
        if DOCUMENT_KEYS.iter().any(|k| r.get(k).is_some()) {
            return Err(format!("{what}: a tombstone has no document"));
        }
        MemoryRecord::default()
    } else {
        MemoryRecord::new(document(r).map_err(|e| format!("{what}: {e}"))?)
    };
    if let Some(k) = opt_str(r, "key")? {
        rec = rec.key(k.into_bytes());
    }
    for (k, v) in pairs(r, "headers").map_err(|e| format!("{what}: {e}"))? {
        rec = rec.header(k, v.into_bytes());
    }
    Ok(rec)
}

/// Applies the case's listener options; also returns the dead-letter topic, to read it after.
fn options(o: &Json, mut b: ListenerBuilder) -> Result<(ListenerBuilder, Option<String>), String> {
    check_keys(o, "options", &OPTION_KEYS)?;
    let parse_err = |e: hie_vc::Error| e.to_string();
    if let Some(f) = opt_str(o, "format")? {
        b = b.format(f.parse::<PayloadFormat>().map_err(parse_err)?);
    }
    if let Some(f) = opt_str(o, "filter")? {
        b = b.filter(f.parse::<Filter>().map_err(parse_err)?);
    }
    if let Some(m) = opt_str(o, "read_mode")? {
        b = b.read_mode(m.parse().map_err(parse_err)?);
    }
    if let Some(n) = opt_u64(o, "max_message_bytes")? {
        b = b.max_message_bytes(usize::try_from(n).map_err(|e| e.to_string())?);
    }
    let mut retry = RetryPolicy::default();
    if let Some(n) = opt_u64(o, "max_retries")? {
        retry = retry.max_retries(u32::try_from(n).map_err(|e| e.to_string())?);
    }
    if let Some(ms) = opt_u64(o, "initial_backoff_ms")? {
        retry = retry.initial_backoff(Duration::from_millis(ms));
    }
    b = b.retry(retry);
    let dead_letter_topic = opt_str(o, "dead_letter_topic")?;
    if let Some(t) = &dead_letter_topic {
        b = b.dead_letter_topic(t.clone());
    }
    if opt_bool(o, "dedupe")?.unwrap_or(false) {
        b = b.dedupe(DedupeWindow::default());
    }
    Ok((b, dead_letter_topic))
}

/// A dead-letter record: key and payload as text, headers as an object (first value of each).
fn dead_letter(m: &hie_vc::listener::SourceMessage) -> Value {
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    let mut headers = Map::new();
    for h in &m.headers {
        if !headers.contains_key(&h.key) {
            headers.insert(
                h.key.clone(),
                json!(h
                    .value
                    .as_deref()
                    .map(|v| String::from_utf8_lossy(v).into_owned())),
            );
        }
    }
    json!({
        "key": text(m.key.as_deref()),
        "payload": text(m.payload.as_deref()),
        "headers": headers,
    })
}

/// `listen`: `{"events": [EncounterEvent], "failures": [Failure], "deadLetters": [{"key",
/// "payload", "headers"}], "metrics": MetricsSnapshot}`.
pub async fn listen(input: &Json) -> Result<Value, String> {
    check_keys(input, "input", &["options", "handler", "records"])?;
    let handler_fails = match opt_str(input, "handler")?.as_deref() {
        None | Some("ok") => false,
        Some("fail") => true,
        Some(other) => return Err(format!("handler is \"ok\" or \"fail\", not '{other}'")),
    };
    let records = array(input, "records")?;
    let broker = MemoryBroker::new();
    for (i, r) in records.iter().enumerate() {
        broker
            .send(TOPIC, record(r, i)?)
            .map_err(|e| format!("records[{i}]: {e}"))?;
    }

    let events: Arc<Mutex<Vec<Value>>> = Arc::default();
    let failures: Arc<Mutex<Vec<Value>>> = Arc::default();
    let (seen, failed) = (events.clone(), failures.clone());
    let builder = Listener::builder()
        .memory(&broker, "behaviour", [TOPIC])
        .metrics_interval(None)
        .on_error(move |f| failed.lock().unwrap().push(to_json(f)))
        .handler(move |e: EncounterEvent| {
            seen.lock().unwrap().push(to_json(&e));
            async move {
                if handler_fails {
                    Err(std::io::Error::other("the case's handler fails"))
                } else {
                    Ok(())
                }
            }
        });
    let empty = Json::Object(Vec::new());
    let (builder, dead_letter_topic) = options(input.get("options").unwrap_or(&empty), builder)?;
    let listener = Arc::new(builder.build().map_err(|e| format!("listener: {e}"))?);
    let run = {
        let l = listener.clone();
        tokio::spawn(async move { l.run().await })
    };

    // Done when every record finished and every failure reached the callback.
    let n = records.len() as u64;
    let deadline = Instant::now() + WAIT;
    let finished = loop {
        let m = listener.metrics();
        let reported = failures.lock().unwrap().len() as u64;
        if m.processed() >= n && reported >= m.decode_errors + m.handler_failures {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    listener.close().await.map_err(|e| format!("close: {e}"))?;
    run.await
        .map_err(|e| format!("run task: {e}"))?
        .map_err(|e| format!("run: {e}"))?;
    let metrics = listener.metrics();
    if !finished {
        return Err(format!(
            "the listener did not finish {n} records within {WAIT:?}: {}",
            to_json(&metrics)
        ));
    }
    let dead: Vec<Value> = dead_letter_topic
        .map(|t| broker.records(t.as_str()).iter().map(dead_letter).collect())
        .unwrap_or_default();
    let events = std::mem::take(&mut *events.lock().unwrap());
    let failures = std::mem::take(&mut *failures.lock().unwrap());
    Ok(json!({
        "events": events,
        "failures": failures,
        "deadLetters": dead,
        "metrics": to_json(&metrics),
    }))
}

//! `Listener` (native): the Kafka Encounter listener in pull form (the core's `Queue`), which
//! the JavaScript layer turns into `run({ eachEncounter })`, `for await` and the `'error'`
//! event.
//!
//! Events cross in batches: the runtime's workers decode the records and write the batch's
//! JSON and one buffer of its bytes (payloads, keys, header values) off the event loop's
//! thread; JavaScript parses the JSON once and slices the buffer (no copies). Each event is
//! answered by its index (`ack` / `fail`), so an offset is stored only after the JavaScript
//! handler's promise resolved.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hie_vc::listener::{Delivery, ListenerBuilder, ListenerSpec, Queue};
use hie_vc::settings::Settings;
use napi::bindgen_prelude::{Buffer, Function, PromiseRaw};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

use crate::call::spawn;
use crate::errors::{invalid, json, IntoNapi};
use crate::sandbox::MemoryBroker;

/// The error callback, weak: it never keeps the process alive by itself.
type OnError = ThreadsafeFunction<String, (), String, Status, false, true>;

fn spec(spec_json: Option<&str>) -> napi::Result<ListenerSpec> {
    match spec_json {
        Some(t) => serde_json::from_str(t).map_err(|e| invalid(format!("listener options: {e}"))),
        None => Ok(ListenerSpec::default()),
    }
}

/// Calls `on_error` (on the event loop, never blocking the worker) with the core's
/// `Failure` JSON for each record that failed for good.
fn with_on_error(
    b: ListenerBuilder,
    on_error: Option<Function<String, ()>>,
) -> napi::Result<ListenerBuilder> {
    let Some(f) = on_error else { return Ok(b) };
    let tsfn: OnError = f
        .build_threadsafe_function()
        .weak::<true>()
        .callee_handled::<false>()
        .build()?;
    Ok(b.on_error(move |failure| {
        if let Ok(text) = serde_json::to_string(failure) {
            tsfn.call(text, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }))
}

/// A listener in pull form.
#[napi(js_name = "NativeListener")]
#[derive(Debug)]
pub struct Listener {
    queue: Arc<Queue>,
}

impl Listener {
    fn build(b: ListenerBuilder) -> napi::Result<Self> {
        // librdkafka and the in-memory source register with the runtime when built.
        let queue = napi::bindgen_prelude::within_runtime_if_available(|| {
            let q = b.build_queue()?;
            q.start()?;
            Ok::<_, hie_vc::Error>(q)
        })
        .napi()?;
        Ok(Self {
            queue: Arc::new(queue),
        })
    }
}

#[napi]
impl Listener {
    /// A Kafka listener from settings (`{"kafka": {...}}` JSON, the CLI's keys) and
    /// `ListenerSpec` options JSON; `onError` gets the `Failure` JSON of each record that
    /// failed for good.
    #[napi(constructor)]
    pub fn new(
        settings_json: Option<String>,
        spec_json: Option<String>,
        on_error: Option<Function<String, ()>>,
    ) -> napi::Result<Self> {
        let settings = crate::client::settings(settings_json.as_deref(), None, false)?;
        Self::kafka(&settings, spec_json.as_deref(), on_error)
    }

    /// As the constructor, with settings from a TOML `path` and / or the `HIE_VC_*`
    /// environment (then `settingsJson` on top).
    #[napi(factory)]
    pub fn from_settings(
        settings_json: Option<String>,
        path: Option<String>,
        env: Option<bool>,
        spec_json: Option<String>,
        on_error: Option<Function<String, ()>>,
    ) -> napi::Result<Self> {
        let settings = crate::client::settings(
            settings_json.as_deref(),
            path.as_deref(),
            env.unwrap_or(false),
        )?;
        Self::kafka(&settings, spec_json.as_deref(), on_error)
    }

    /// A listener on an in-process broker (a sandbox's event source, or a test's).
    #[napi(factory)]
    pub fn for_broker(
        broker: &MemoryBroker,
        group: String,
        topics: Vec<String>,
        spec_json: Option<String>,
        on_error: Option<Function<String, ()>>,
    ) -> napi::Result<Self> {
        let spec = spec(spec_json.as_deref())?;
        let b = hie_vc::listener::Listener::builder()
            .memory(&broker.inner, &group, topics)
            .options(spec.listener_options(&Settings::default()));
        Self::build(with_on_error(b, on_error)?)
    }

    /// Up to `max` events: waits up to `timeoutMs` for the first, then takes what is ready
    /// (an empty batch when the time passed). Rejects with `closed` once stopped.
    #[napi(ts_return_type = "Promise<NativeBatch>")]
    pub fn next_batch<'env>(
        &self,
        env: &'env Env,
        max: u32,
        timeout_ms: u32,
    ) -> napi::Result<PromiseRaw<'env, Batch>> {
        let q = self.queue.clone();
        spawn(env, None, async move {
            let got = q
                .next_batch(
                    max.max(1) as usize,
                    Duration::from_millis(u64::from(timeout_ms)),
                )
                .await?;
            Batch::new(got)
        })
    }

    /// Requests the stop without waiting.
    #[napi]
    pub fn shutdown(&self) {
        self.queue.shutdown();
    }

    /// Stops, commits the stored offsets and leaves the group. Idempotent. Rejects with the
    /// run's error if it ended with one.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let q = self.queue.clone();
        spawn(env, None, async move { q.close().await })
    }

    /// Whether it is running (started, no stop requested, not ended).
    #[napi(getter)]
    pub fn is_running(&self) -> bool {
        self.queue.is_running()
    }

    /// The listener's counters as the core's `MetricsSnapshot` JSON.
    #[napi]
    pub fn metrics(&self) -> napi::Result<String> {
        json(&self.queue.listener().metrics()).napi()
    }
}

impl Listener {
    fn kafka(
        settings: &Settings,
        spec_json: Option<&str>,
        on_error: Option<Function<String, ()>>,
    ) -> napi::Result<Self> {
        let spec = spec(spec_json)?;
        let b = ListenerBuilder::from_settings(settings)
            .napi()?
            .kafka(spec.kafka_config(settings).napi()?)
            .options(spec.listener_options(settings));
        Self::build(with_on_error(b, on_error)?)
    }
}

/// Events taken together, each answered once by its index.
#[napi(js_name = "NativeBatch")]
#[derive(Debug)]
pub struct Batch {
    deliveries: Mutex<Vec<Option<Delivery>>>,
    json: Mutex<Option<String>>,
    resources: Mutex<Option<String>>,
    bytes: Mutex<Option<Vec<u8>>>,
}

/// Text that JavaScript slices: its length kept in UTF-16 code units (JavaScript's string
/// indices), so each piece's range is known without counting the whole text again.
struct Pieces {
    text: String,
    units: usize,
}

impl Pieces {
    /// Appends `piece`; its `[start, end)` range.
    fn push(&mut self, piece: &str) -> [usize; 2] {
        let start = self.units;
        self.text.push_str(piece);
        self.units += if piece.is_ascii() {
            piece.len()
        } else {
            piece.encode_utf16().count()
        };
        [start, self.units]
    }
}

/// A `[start, end)` range of the batch's bytes.
fn span(bytes: &mut Vec<u8>, b: &[u8]) -> [usize; 2] {
    let start = bytes.len();
    bytes.extend_from_slice(b);
    [start, bytes.len()]
}

impl Batch {
    /// Writes the batch's JSON, resources text and bytes. The JSON is `{"events": [{"meta":
    /// {...}, "encounter": span, "included": span, "raw": span, "key": span | null,
    /// "headers": [[name, span | null]]}]}` where `meta` holds the event's small members (ids,
    /// VC view, warnings, layout, coordinates, timestamp), the `encounter` and `included`
    /// spans point into the resources text (their JSON, a string of its own so that nothing
    /// escapes it, parsed by JavaScript only when a handler reads them) and the other spans
    /// into the bytes.
    fn new(got: Vec<Delivery>) -> hie_vc::Result<Self> {
        let mut bytes = Vec::new();
        let mut resources = Pieces {
            text: String::with_capacity(got.len() * 1536),
            units: 0,
        };
        let mut text = String::with_capacity(got.len() * 512 + 64);
        text.push_str("{\"events\":[");
        for (i, d) in got.iter().enumerate() {
            let e = d.event();
            if i > 0 {
                text.push(',');
            }
            let meta = serde_json::json!({
                "encounterId": e.encounter_id(),
                "versionId": e.version_id(),
                "vc": e.vc(),
                "warnings": e.warnings(),
                "layout": e.layout(),
                "topic": e.topic(),
                "partition": e.partition(),
                "offset": e.offset(),
                "timestampMs": e.timestamp().map(|t| t.millis()),
            });
            let encounter = resources.push(&json(e.encounter())?);
            let included = resources.push(&json(e.included())?);
            let raw = span(&mut bytes, e.raw());
            let key = e.key().map(|k| span(&mut bytes, k));
            let headers: Vec<(&str, Option<[usize; 2]>)> = e
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.key.as_str(),
                        h.value.as_deref().map(|v| span(&mut bytes, v)),
                    )
                })
                .collect();
            text.push_str("{\"meta\":");
            text.push_str(&json(&meta)?);
            text.push_str(",\"encounter\":");
            text.push_str(&json(&encounter)?);
            text.push_str(",\"included\":");
            text.push_str(&json(&included)?);
            text.push_str(",\"raw\":");
            text.push_str(&json(&raw)?);
            text.push_str(",\"key\":");
            text.push_str(&json(&key)?);
            text.push_str(",\"headers\":");
            text.push_str(&json(&headers)?);
            text.push('}');
        }
        text.push_str("]}");
        Ok(Self {
            deliveries: Mutex::new(got.into_iter().map(Some).collect()),
            json: Mutex::new(Some(text)),
            resources: Mutex::new(Some(resources.text)),
            bytes: Mutex::new(Some(bytes)),
        })
    }

    /// The delivery at `index`, to be answered by the caller (answered from now on).
    pub(crate) fn take(&self, index: u32) -> napi::Result<Delivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(index as usize)
            .and_then(Option::take)
            .ok_or_else(|| invalid("this event was already answered"))
    }
}

#[napi]
impl Batch {
    /// How many events it holds.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len() as u32
    }

    /// The batch's JSON (once; an empty string after).
    #[napi]
    pub fn take_json(&self) -> String {
        self.json
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default()
    }

    /// The JSON of the batch's Encounters and included resources (once; an empty string
    /// after): the `encounter` and `included` spans point into it.
    #[napi]
    pub fn take_resources(&self) -> String {
        self.resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default()
    }

    /// The batch's bytes (once; empty after): the spans of the JSON point into it.
    #[napi]
    pub fn take_bytes(&self) -> Buffer {
        self.bytes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default()
            .into()
    }

    /// Event `index`'s effects are durable: its offset may be stored.
    #[napi]
    pub fn ack(&self, index: u32) -> napi::Result<()> {
        self.take(index)?.ack().napi()
    }

    /// Acknowledges the events at `indices` in one call (what the JavaScript layer gathered
    /// since its last turn: one crossing instead of one per event). Every one is tried; the
    /// first error is returned.
    #[napi]
    pub fn ack_many(&self, indices: Vec<u32>) -> napi::Result<()> {
        let mut first = None;
        for i in indices {
            if let Err(e) = self.take(i).and_then(|d| d.ack().napi()) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Handling event `index` failed: retried per the listener's policy, then
    /// dead-lettered or reported (`permanent`: no retries).
    #[napi]
    pub fn fail(&self, index: u32, message: String, permanent: Option<bool>) -> napi::Result<()> {
        let d = self.take(index)?;
        if permanent.unwrap_or(false) {
            d.fail_permanent(message).napi()
        } else {
            d.fail(message).napi()
        }
    }

    /// Whether event `index` was answered already.
    #[napi]
    pub fn answered(&self, index: u32) -> bool {
        self.deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(index as usize)
            .is_none_or(Option::is_none)
    }
}

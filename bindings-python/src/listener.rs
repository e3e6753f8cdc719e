//! `hie_vc.Listener`: the Kafka Encounter listener in pull form (the core's `Queue`), which
//! the Python layer turns into `run(handler)`, `run_async`, `async for` and `batches`. Every
//! wait releases the GIL; a blocking wait wakes every 100 ms to let Ctrl-C through.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hie_vc::fhir;
use hie_vc::listener::{Delivery, EncounterEvent, ListenerBuilder, ListenerSpec, Queue};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::aio;
use crate::errors::{invalid, IntoPyResult};
use crate::fhir::json;
use crate::runtime::{block_on, handle};

/// How often a blocking wait looks at pending signals (Ctrl-C ends it within this).
const SIGNAL_SLICE: Duration = Duration::from_millis(100);

fn spec(spec_json: Option<&str>) -> PyResult<ListenerSpec> {
    match spec_json {
        Some(t) => serde_json::from_str(t).map_err(|e| invalid(format!("listener options: {e}"))),
        None => Ok(ListenerSpec::default()),
    }
}

/// The error callback: called (with the GIL) for each record that failed for good, with the
/// core's `Failure` JSON. An exception it raises is printed, never propagated into the
/// listener.
fn with_on_error(b: ListenerBuilder, on_error: Option<Py<PyAny>>) -> ListenerBuilder {
    let Some(cb) = on_error else { return b };
    b.on_error(move |failure| {
        let text = serde_json::to_string(failure).unwrap_or_default();
        Python::attach(|py| {
            if let Err(e) = cb.call1(py, (text,)) {
                e.print(py);
            }
        });
    })
}

/// A listener in pull form.
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Listener {
    queue: Arc<Queue>,
}

impl Listener {
    fn build(b: ListenerBuilder) -> PyResult<Self> {
        // librdkafka and the in-memory source register with the runtime when built.
        let rt = handle()?;
        let _enter = rt.enter();
        let queue = b.build_queue().py()?;
        queue.start().py()?;
        Ok(Self {
            queue: Arc::new(queue),
        })
    }
}

#[pymethods]
impl Listener {
    /// A Kafka listener from settings (`{"kafka": {...}}` JSON, a TOML `path`, the `HIE_VC_*`
    /// environment when `env`) and `ListenerSpec` options JSON.
    #[new]
    #[pyo3(signature = (settings_json = None, path = None, env = false, spec_json = None, on_error = None))]
    fn new(
        settings_json: Option<&str>,
        path: Option<&str>,
        env: bool,
        spec_json: Option<&str>,
        on_error: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let settings = crate::client::settings(settings_json, path, env)?;
        let spec = spec(spec_json)?;
        let b = ListenerBuilder::from_settings(&settings)
            .py()?
            .kafka(spec.kafka_config(&settings).py()?)
            .options(spec.listener_options(&settings));
        Self::build(with_on_error(b, on_error))
    }

    /// A listener on a sandbox's in-process broker (its check-in topic).
    #[staticmethod]
    #[pyo3(signature = (sandbox, group = "hie-vc", spec_json = None, on_error = None))]
    fn for_sandbox(
        sandbox: &crate::sandbox::Sandbox,
        group: &str,
        spec_json: Option<&str>,
        on_error: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let (broker, topic) = sandbox.broker()?;
        let settings = hie_vc::settings::Settings::default();
        let spec = spec(spec_json)?;
        let b = hie_vc::listener::Listener::builder()
            .memory(&broker, group, [topic])
            .options(spec.listener_options(&settings));
        Self::build(with_on_error(b, on_error))
    }

    /// The next event, waiting up to `timeout` seconds (None: until one comes or the listener
    /// stops). None when the time passed; `Closed` (or the run's own error) once stopped.
    #[pyo3(signature = (timeout = None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Event>> {
        let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t.max(0.0)));
        loop {
            let slice = match deadline {
                Some(d) => d
                    .saturating_duration_since(Instant::now())
                    .min(SIGNAL_SLICE),
                None => SIGNAL_SLICE,
            };
            let q = self.queue.clone();
            if let Some(d) = block_on(py, async move { q.next(Some(slice)).await })? {
                return Ok(Some(Event::new(d)));
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// As `next`, awaitable (no time limit: cancel the awaiting task to stop waiting).
    fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        aio::spawn(py, async move { q.next(None).await }, |py, d| {
            Ok(match d {
                Some(d) => Py::new(py, Event::new(d))?.into_any(),
                None => py.None(),
            })
        })
    }

    /// Up to `max_records` events: waits up to `timeout` seconds for the first, then takes
    /// what is ready.
    fn next_batch(&self, py: Python<'_>, max_records: usize, timeout: f64) -> PyResult<Vec<Event>> {
        let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
        loop {
            let slice = deadline
                .saturating_duration_since(Instant::now())
                .min(SIGNAL_SLICE);
            let q = self.queue.clone();
            let got = block_on(py, async move { q.next_batch(max_records, slice).await })?;
            if !got.is_empty() {
                return Ok(got.into_iter().map(Event::new).collect());
            }
            py.check_signals()?;
            if Instant::now() >= deadline {
                return Ok(Vec::new());
            }
        }
    }

    /// As `next_batch`, awaitable.
    fn next_batch_async<'py>(
        &self,
        py: Python<'py>,
        max_records: usize,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        let t = Duration::from_secs_f64(timeout.max(0.0));
        aio::spawn(
            py,
            async move { q.next_batch(max_records, t).await },
            |py, v| {
                let events = v
                    .into_iter()
                    .map(|d| Py::new(py, Event::new(d)))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, events)?.into_any().unbind())
            },
        )
    }

    /// Requests the stop without waiting (safe from any thread or a signal handler).
    fn shutdown(&self) {
        self.queue.shutdown();
    }

    /// Stops: no new events; answers to events already handed out are awaited up to the drain
    /// timeout. Returns the run's error if it ended with one.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.stop().await })
    }

    /// Stops, commits the stored offsets and leaves the group. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.close().await })
    }

    /// As `close`, awaitable.
    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        aio::spawn(py, async move { q.close().await }, |py, ()| Ok(py.None()))
    }

    /// Whether it is running (started, no stop requested, not ended).
    #[getter]
    fn is_running(&self) -> bool {
        self.queue.is_running()
    }

    /// The listener's counters as the core's `MetricsSnapshot` JSON.
    fn metrics(&self) -> PyResult<String> {
        json(&self.queue.listener().metrics())
    }
}

/// One Encounter taken from the listener, to be answered once (`ack` / `fail`).
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Event {
    event: EncounterEvent,
    delivery: Mutex<Option<Delivery>>,
}

impl Event {
    fn new(d: Delivery) -> Self {
        Self {
            event: d.event().clone(),
            delivery: Mutex::new(Some(d)),
        }
    }
    /// The delivery, to be answered by the caller (the event counts as answered from now on).
    pub(crate) fn take_delivery(&self) -> PyResult<Delivery> {
        self.take()
    }
    fn take(&self) -> PyResult<Delivery> {
        self.delivery
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| invalid("this event was already answered"))
    }
}

#[pymethods]
impl Event {
    /// Its effects are durable: the offset may be stored.
    fn ack(&self) -> PyResult<()> {
        self.take()?.ack().py()
    }
    /// Handling failed: retried per the listener's policy, then dead-lettered or reported
    /// (`permanent`: no retries).
    #[pyo3(signature = (message, permanent = false))]
    fn fail(&self, message: String, permanent: bool) -> PyResult<()> {
        let d = self.take()?;
        if permanent {
            d.fail_permanent(message).py()
        } else {
            d.fail(message).py()
        }
    }
    /// Whether it was answered already.
    #[getter]
    fn answered(&self) -> bool {
        self.delivery
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }
    #[getter]
    fn topic(&self) -> &str {
        self.event.topic()
    }
    #[getter]
    fn partition(&self) -> i32 {
        self.event.partition()
    }
    #[getter]
    fn offset(&self) -> i64 {
        self.event.offset()
    }
    #[getter]
    fn key<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.event.key().map(|k| PyBytes::new(py, k))
    }
    /// Milliseconds since the epoch, as Kafka recorded them.
    #[getter]
    fn timestamp(&self) -> Option<i64> {
        self.event.timestamp().map(|t| t.millis())
    }
    /// `[(name, value bytes or None)]`.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .event
            .headers()
            .iter()
            .map(|h| {
                let value = match h.value.as_deref() {
                    Some(v) => PyBytes::new(py, v).into_any(),
                    None => py.None().into_bound(py),
                };
                PyTuple::new(py, [h.key.clone().into_pyobject(py)?.into_any(), value])
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }
    /// The record's bytes as received.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.event.raw())
    }
    #[getter]
    fn encounter_id(&self) -> Option<&str> {
        self.event.encounter_id()
    }
    #[getter]
    fn version_id(&self) -> Option<&str> {
        self.event.version_id()
    }
    #[getter]
    fn is_vc(&self) -> bool {
        self.event.is_vc()
    }
    /// The Encounter as FHIR JSON (the model's writer).
    fn encounter_json(&self) -> String {
        fhir::to_json(self.event.encounter())
    }
    /// The VC view as the core's JSON (None for a non-VC Encounter).
    fn vc_json(&self) -> PyResult<Option<String>> {
        self.event.vc().map(json).transpose()
    }
    /// The resources that came with it, as FHIR JSON.
    fn included_json(&self) -> Vec<String> {
        self.event
            .included()
            .iter()
            .map(|i| fhir::to_json(&i.resource))
            .collect()
    }
    /// The read warnings as JSON.
    fn warnings_json(&self) -> PyResult<String> {
        json(self.event.warnings())
    }
    /// The whole event as the core's JSON (what every binding gives: encounter, vc,
    /// included, warnings, layout, coordinates, key, timestamp, headers).
    fn to_json(&self) -> PyResult<String> {
        json(&self.event)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Listener>()?;
    m.add_class::<Event>()?;
    Ok(())
}

//! `hie_vc.sandbox.Sandbox`: the embedded HIE emulator (FHIR API, Jitsi token service,
//! Notification API, Encounter publishing), running in this process on the package runtime.

use hie_vc::listener::MemoryRecord;
use hie_vc_sandbox::{Faults, Sandbox as Inner, SandboxOptions, Service};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::Mutex;

use crate::client::Client;
use crate::errors::{invalid, IntoPyResult};
use crate::fhir::json;
use crate::runtime::block_on;

/// A broker record as Python receives it.
type TopicRecord<'py> = (
    i32,
    i64,
    Option<Bound<'py, PyBytes>>,
    Option<Bound<'py, PyBytes>>,
    Vec<(String, Option<Bound<'py, PyBytes>>)>,
    Option<i64>,
);

fn sb_err(e: hie_vc_sandbox::Error) -> hie_vc::Error {
    e.into()
}

/// A running sandbox (see `hie_vc.sandbox.Sandbox`).
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Sandbox {
    inner: Mutex<Option<Inner>>,
    fhir_base: String,
    url: String,
}

impl Sandbox {
    fn with<T>(&self, f: impl FnOnce(&Inner) -> PyResult<T>) -> PyResult<T> {
        let guard = self.inner.blocking_lock();
        match guard.as_ref() {
            Some(s) => f(s),
            None => Err(crate::errors::to_py(hie_vc::Error::new(
                hie_vc::ErrorKind::Closed,
                "the sandbox was closed",
            ))),
        }
    }
}

#[pymethods]
impl Sandbox {
    /// Starts a sandbox; `options_json` holds `SandboxOptions` (every key optional).
    #[new]
    #[pyo3(signature = (options_json = None))]
    fn new(py: Python<'_>, options_json: Option<&str>) -> PyResult<Self> {
        let opts: SandboxOptions = match options_json {
            Some(t) => {
                serde_json::from_str(t).map_err(|e| invalid(format!("sandbox options: {e}")))?
            }
            None => SandboxOptions::default(),
        };
        let config = opts.config().map_err(|e| crate::errors::to_py(sb_err(e)))?;
        let inner = block_on(
            py,
            async move { Inner::start(config).await.map_err(sb_err) },
        )?;
        Ok(Self {
            fhir_base: inner.fhir_base(),
            url: inner.url(),
            inner: Mutex::new(Some(inner)),
        })
    }

    /// The sandbox's base URL.
    #[getter]
    fn url(&self) -> String {
        self.url.clone()
    }

    /// Its FHIR API's base URL.
    #[getter]
    fn fhir_base(&self) -> String {
        self.fhir_base.clone()
    }

    /// A native VC workflow on this sandbox's services; `settings_json` (sections as the
    /// TOML has them) goes on top of the sandbox's own settings.
    #[pyo3(signature = (settings_json = None))]
    fn vc(&self, settings_json: Option<&str>) -> PyResult<crate::vc::Vc> {
        crate::vc::Vc::from_settings(&self.settings_with(settings_json)?, None)
    }

    /// A native HIE client of this sandbox, `settings_json` on top of its settings.
    #[pyo3(signature = (settings_json = None))]
    fn client(&self, settings_json: Option<&str>) -> PyResult<Client> {
        Client::from_settings(&self.settings_with(settings_json)?)
    }

    /// Checks a patient in for an Appointment, as RekodSaya does: HIE creates the Encounter
    /// and publishes it. Returns the `CheckIn` JSON.
    #[pyo3(signature = (appointment_id, patient_id = None))]
    fn check_in(
        &self,
        py: Python<'_>,
        appointment_id: String,
        patient_id: Option<String>,
    ) -> PyResult<String> {
        let guard = self.inner.blocking_lock();
        let s = guard.as_ref().ok_or_else(closed)?;
        let c = block_on(py, async {
            match &patient_id {
                Some(p) => s.check_in_patient(&appointment_id, p).await,
                None => s.check_in(&appointment_id).await,
            }
            .map_err(sb_err)
        })?;
        json(&c)
    }

    /// Sets one service's fault switches (`service`: fhir, jitsi or notify; `faults_json` as
    /// `Faults`, `{}` clears).
    fn set_faults(&self, service: &str, faults_json: &str) -> PyResult<()> {
        let service: Service = service.parse().map_err(|_| {
            invalid(format!(
                "'{service}' is not a sandbox service: fhir, jitsi or notify"
            ))
        })?;
        let faults: Faults =
            serde_json::from_str(faults_json).map_err(|e| invalid(format!("faults: {e}")))?;
        self.with(|s| {
            s.set_faults(service, faults)
                .map_err(|e| crate::errors::to_py(sb_err(e)))
        })
    }

    /// Clears every fault switch.
    fn clear_faults(&self) -> PyResult<()> {
        self.with(|s| {
            s.clear_faults();
            Ok(())
        })
    }

    /// A stored resource as FHIR JSON, or None.
    fn resource(&self, resource_type: &str, id: &str) -> PyResult<Option<String>> {
        self.with(|s| {
            Ok(s.resource(resource_type, id)
                .map(|r| hie_vc::fhir::to_json(&r)))
        })
    }

    /// The notifications the Notification API received, as JSON.
    fn notifications(&self) -> PyResult<String> {
        self.with(|s| json(&s.notifications()))
    }

    /// The Jitsi sessions the token service holds, as JSON.
    fn jitsi_sessions(&self) -> PyResult<String> {
        self.with(|s| json(&s.jitsi_sessions()))
    }

    /// Request counters of each service since the sandbox started, as JSON
    /// `{"fhir" | "jitsi" | "notify": {"requests", "failed", "dropped"}}`.
    fn stats(&self) -> PyResult<String> {
        self.with(|s| json(&s.all_stats()))
    }

    /// Appends a raw record to a topic of the in-process broker (its check-in topic by
    /// default) and returns `(topic, partition, offset)`: how a user tries a handler on a
    /// record HIE would not send (a poison payload, a tombstone, other headers).
    #[pyo3(signature = (value, key = None, headers = Vec::new(), topic = None, partition = None))]
    fn publish(
        &self,
        value: Option<Vec<u8>>,
        key: Option<Vec<u8>>,
        headers: Vec<(String, Vec<u8>)>,
        topic: Option<String>,
        partition: Option<i32>,
    ) -> PyResult<(String, i32, i64)> {
        let (broker, default_topic) = self.broker()?;
        let mut rec = match value {
            Some(v) => MemoryRecord::new(v),
            None => MemoryRecord::default(),
        };
        if let Some(k) = key {
            rec = rec.key(k);
        }
        for (k, v) in headers {
            rec = rec.header(k, v);
        }
        if let Some(p) = partition {
            rec = rec.partition(p);
        }
        let at = broker
            .send(topic.as_deref().unwrap_or(&default_topic), rec)
            .py()?;
        Ok((at.topic.to_string(), at.partition, at.offset))
    }

    /// Every record of a topic of the in-process broker (e.g. a dead-letter topic), in
    /// partition then offset order: `(partition, offset, key, value, headers, timestamp_ms)`.
    fn topic_records<'py>(&self, py: Python<'py>, topic: &str) -> PyResult<Vec<TopicRecord<'py>>> {
        let (broker, _) = self.broker()?;
        let bytes = |b: Option<&[u8]>| b.map(|b| PyBytes::new(py, b));
        Ok(broker
            .records(topic)
            .iter()
            .map(|m| {
                (
                    m.coordinates.partition,
                    m.coordinates.offset,
                    bytes(m.key.as_deref()),
                    bytes(m.payload.as_deref()),
                    m.headers
                        .iter()
                        .map(|h| (h.key.clone(), bytes(h.value.as_deref())))
                        .collect(),
                    m.timestamp.map(|t| t.millis()),
                )
            })
            .collect())
    }

    /// Stops the sandbox (idempotent).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.inner.blocking_lock().take();
        if let Some(s) = taken {
            block_on(py, async move {
                s.shutdown().await;
                Ok(())
            })?;
        }
        Ok(())
    }
}

impl Sandbox {
    /// The settings that point every client at this sandbox.
    pub(crate) fn settings(&self) -> PyResult<hie_vc::settings::Settings> {
        self.settings_with(None)
    }

    /// The sandbox's settings with `json` (`{"section": {"key": value}}`) on top.
    fn settings_with(&self, json: Option<&str>) -> PyResult<hie_vc::settings::Settings> {
        self.with(|s| {
            let mut loader = s.settings();
            if let Some(t) = json {
                loader = loader.json_str(t).py()?;
            }
            loader.load().py()
        })
    }

    /// Its in-process broker and check-in topic (for a listener).
    pub(crate) fn broker(&self) -> PyResult<(hie_vc::listener::MemoryBroker, String)> {
        self.with(|s| {
            let b = s.broker().ok_or_else(|| {
                invalid("this sandbox publishes to Kafka: listen there (Listener(bootstrap=...))")
            })?;
            Ok((b, s.topic().to_owned()))
        })
    }
}

fn closed() -> PyErr {
    crate::errors::to_py(hie_vc::Error::new(
        hie_vc::ErrorKind::Closed,
        "the sandbox was closed",
    ))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Sandbox>()?;
    Ok(())
}

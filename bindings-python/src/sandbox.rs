//! `hie_vc.sandbox.Sandbox`: the embedded HIE emulator (FHIR API, Jitsi token service,
//! Notification API, Encounter publishing), running in this process on the package runtime.

use hie_vc_sandbox::{Faults, Sandbox as Inner, SandboxOptions, Service};
use pyo3::prelude::*;
use tokio::sync::Mutex;

use crate::client::Client;
use crate::errors::{invalid, IntoPyResult};
use crate::fhir::json;
use crate::runtime::block_on;

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

    /// A native VC workflow on this sandbox's services.
    fn vc(&self) -> PyResult<crate::vc::Vc> {
        crate::vc::Vc::from_settings(&self.settings()?, None)
    }

    /// A native HIE client of this sandbox.
    fn client(&self) -> PyResult<Client> {
        self.with(|s| Client::from_settings(&s.settings().load().py()?))
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
        self.with(|s| s.settings().load().py())
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

//! `hie_vc.jitsi.Jitsi` and `hie_vc.notify.Notifier`: the Jitsi provider (HIE's token service,
//! self-hosted Jitsi Meet or 8x8 JaaS, as the `[jitsi]` settings say) and the Notification API
//! client, each call a `Call` (blocking `wait()` or awaitable `start()`).

use std::sync::Arc;

use hie_vc::jitsi::{JitsiProvider, Participant};
use hie_vc::notify::NotificationClient;
use pyo3::prelude::*;

use crate::client::{settings, Call};
use crate::errors::{invalid, IntoPyResult};
use crate::runtime::handle;

fn json<T: serde::Serialize>(v: &T) -> hie_vc::Result<Option<String>> {
    serde_json::to_string(v)
        .map(Some)
        .map_err(|e| hie_vc::Error::new(hie_vc::ErrorKind::Decode, e.to_string()))
}

/// A Jitsi provider from the `[jitsi]` settings.
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Jitsi {
    inner: Arc<dyn JitsiProvider>,
}

impl Jitsi {
    fn of(s: &hie_vc::settings::Settings) -> PyResult<Self> {
        let rt = handle()?;
        let _enter = rt.enter();
        Ok(Self {
            inner: s.jitsi.provider().py()?,
        })
    }
}

impl Notifier {
    fn of(s: &hie_vc::settings::Settings) -> PyResult<Self> {
        let rt = handle()?;
        let _enter = rt.enter();
        Ok(Self {
            inner: Arc::new(NotificationClient::new(s.notify.to_config().py()?).py()?),
        })
    }
}

#[pymethods]
impl Jitsi {
    #[new]
    #[pyo3(signature = (settings_json = None, path = None, env = false))]
    fn new(settings_json: Option<&str>, path: Option<&str>, env: bool) -> PyResult<Self> {
        Self::of(&settings(settings_json, path, env)?)
    }
    /// The provider of a sandbox's Jitsi token service.
    #[staticmethod]
    fn for_sandbox(sandbox: &crate::sandbox::Sandbox) -> PyResult<Self> {
        Self::of(&sandbox.settings()?)
    }
    /// `hie-rest`, `self-hosted` or `jaas`.
    #[getter]
    fn kind(&self) -> String {
        self.inner.kind().to_owned()
    }
    /// A new session: `{token, room}` JSON.
    fn create_session(&self) -> Call {
        let j = self.inner.clone();
        Call::new(async move { json(&j.create_session().await?) })
    }
    /// A participant's join (`participant_json`: `{role, id, name, ...}`): `Join` JSON (a
    /// credential).
    fn join(&self, session_token: String, participant_json: &str) -> PyResult<Call> {
        let p: Participant = serde_json::from_str(participant_json)
            .map_err(|e| invalid(format!("participant: {e}")))?;
        let j = self.inner.clone();
        Ok(Call::new(async move {
            json(&j.join(&session_token, &p).await?)
        }))
    }
    /// Marks the session active (patients may join).
    fn activate(&self, session_token: String) -> Call {
        let j = self.inner.clone();
        Call::new(async move {
            j.activate(&session_token).await?;
            Ok(None)
        })
    }
    /// Ends the session: `"ended"`, `"not_running"` or `"unsupported"` (as JSON text).
    fn end(&self, session_token: String) -> Call {
        let j = self.inner.clone();
        Call::new(async move { json(&j.end(&session_token).await?.as_str()) })
    }
}

/// The Notification API client from the `[notify]` settings.
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Notifier {
    inner: Arc<NotificationClient>,
}

#[pymethods]
impl Notifier {
    #[new]
    #[pyo3(signature = (settings_json = None, path = None, env = false))]
    fn new(settings_json: Option<&str>, path: Option<&str>, env: bool) -> PyResult<Self> {
        Self::of(&settings(settings_json, path, env)?)
    }
    /// The client of a sandbox's Notification API.
    #[staticmethod]
    fn for_sandbox(sandbox: &crate::sandbox::Sandbox) -> PyResult<Self> {
        Self::of(&sandbox.settings()?)
    }
    /// Logs in (done on first send otherwise).
    fn login(&self) -> Call {
        let n = self.inner.clone();
        Call::new(async move {
            n.login().await?;
            Ok(None)
        })
    }
    /// Sends `title`/`body` to the patients (MyKad or other ids): `Sent` JSON.
    fn send(&self, title: String, body: String, patient_ids: Vec<String>) -> Call {
        let n = self.inner.clone();
        Call::new(async move { json(&n.send(&title, &body, patient_ids).await?) })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Jitsi>()?;
    m.add_class::<Notifier>()?;
    Ok(())
}

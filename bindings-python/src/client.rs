//! `HieClient` / `AsyncHieClient` (and their pages): one native client, each interaction with
//! a blocking form (GIL released while it waits) and an `_async` form (an awaitable on the
//! caller's loop). Results cross as the core's JSON; `hie_vc/client.py` wraps them.

use hie_vc::fhir::{self, Bundle, BundleType, Resource};
use hie_vc::hie::{
    HieClient, HistoryQuery, JsonPages, Prefer, RequestOptions, SearchParams, SearchQuery,
};
use hie_vc::settings::{Settings, SettingsLoader};
use pyo3::prelude::*;

use crate::aio;
use crate::errors::{invalid, IntoPyResult};
use crate::fhir::resource_arg;
use crate::runtime::{block_on, handle};

/// Settings from a JSON document of sections (`{"hie": {...}}`), the same keys as the CLI's
/// TOML; or, with `path`/`env`, the TOML file and the `HIE_VC_*` variables.
pub(crate) fn settings(
    json_text: Option<&str>,
    path: Option<&str>,
    env: bool,
) -> PyResult<Settings> {
    let mut loader = SettingsLoader::for_front_end(path.map(std::path::Path::new), env).py()?;
    if let Some(t) = json_text {
        loader = loader.json_str(t).py()?;
    }
    loader.load().py()
}

fn to_py_opt(py: Python<'_>, s: Option<String>) -> PyResult<Py<PyAny>> {
    Ok(s.into_pyobject(py)?.into_any().unbind())
}

fn request_options(
    timeout_ms: Option<u64>,
    request_id: Option<String>,
    headers: Option<Vec<(String, String)>>,
    max_retries: Option<u32>,
) -> RequestOptions {
    let mut o = RequestOptions::new();
    o.timeout_ms = timeout_ms;
    o.request_id = request_id;
    o.headers = headers.unwrap_or_default().into_iter().collect();
    o.max_retries = max_retries;
    o
}

fn parse_prefer(p: Option<&str>) -> PyResult<Option<Prefer>> {
    p.map(|s| s.parse::<Prefer>().py()).transpose()
}

fn bundle_arg(json_text: &str, kind: BundleType) -> PyResult<Bundle> {
    match resource_arg(json_text)? {
        Resource::Bundle(mut b) => {
            b.type_ = Some(kind);
            Ok(*b)
        }
        other => Err(invalid(format!(
            "expected a Bundle, got a {}",
            other.resource_type()
        ))),
    }
}

/// A request made but not sent: `wait()` sends it and blocks (without the GIL) until done;
/// `start()` sends it from the runtime and returns an awaitable of the caller's loop. One
/// native method per interaction serves both `HieClient` and `AsyncHieClient`.
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Call {
    fut: std::sync::Mutex<Option<CallFuture>>,
}

type CallFuture = futures::future::BoxFuture<'static, hie_vc::Result<Option<String>>>;

impl Call {
    pub(crate) fn new(
        f: impl std::future::Future<Output = hie_vc::Result<Option<String>>> + Send + 'static,
    ) -> Self {
        Self {
            fut: std::sync::Mutex::new(Some(Box::pin(f))),
        }
    }
    fn take(&self) -> PyResult<CallFuture> {
        self.fut
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| invalid("this request was already sent"))
    }
}

#[pymethods]
impl Call {
    /// Sends the request and waits for the result (JSON text, or None).
    fn wait(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let fut = self.take()?;
        block_on(py, fut)
    }
    /// Sends the request; an awaitable of its result.
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.take()?;
        aio::spawn(py, fut, to_py_opt)
    }
}

/// The native HIE client (see `hie_vc.HieClient`).
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Client {
    pub(crate) inner: HieClient,
}

impl Client {
    pub(crate) fn from_settings(s: &Settings) -> PyResult<Self> {
        let config = s.hie.to_config().py()?;
        // The HTTP client registers with the runtime's reactor when it is built.
        let rt = handle()?;
        let _enter = rt.enter();
        Ok(Self {
            inner: HieClient::new(config).py()?,
        })
    }
}

#[pymethods]
impl Client {
    /// A client from settings: `settings_json` (`{"hie": {...}}`), a TOML `path`, and the
    /// `HIE_VC_*` environment when `env`.
    #[new]
    #[pyo3(signature = (settings_json = None, path = None, env = false))]
    fn new(settings_json: Option<&str>, path: Option<&str>, env: bool) -> PyResult<Self> {
        Self::from_settings(&settings(settings_json, path, env)?)
    }

    /// The server's base URL.
    #[getter]
    fn base_url(&self) -> String {
        self.inner.config().base_url().to_string()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }

    /// `read` (or `vread` with `version_id`): `Fetched` JSON.
    #[pyo3(signature = (resource_type, id, version_id = None, timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        resource_type: String,
        id: String,
        version_id: Option<String>,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Call> {
        let mut req = self.inner.read_type(resource_type, id);
        if let Some(v) = version_id {
            req = req.version(v);
        }
        let req = req
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Call::new(async move { json_result(req.send().await) }))
    }

    /// `create` (POST): `Written` JSON.
    #[pyo3(signature = (resource, prefer = None, validate = None, if_none_exist = None, timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        resource: &str,
        prefer: Option<&str>,
        validate: Option<bool>,
        if_none_exist: Option<&str>,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Call> {
        let mut req = self.inner.create(resource_arg(resource)?);
        if let Some(p) = parse_prefer(prefer)? {
            req = req.prefer(p);
        }
        if let Some(v) = validate {
            req = req.validate(v);
        }
        if let Some(q) = if_none_exist {
            req = req.if_none_exist(SearchParams::raw(q));
        }
        let req = req
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Call::new(async move { json_result(req.send().await) }))
    }

    /// `update` (PUT, update-as-create): `Written` JSON.
    #[pyo3(signature = (resource, if_match = None, if_match_current = false, prefer = None, validate = None, timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        resource: &str,
        if_match: Option<String>,
        if_match_current: bool,
        prefer: Option<&str>,
        validate: Option<bool>,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Call> {
        let mut req = self.inner.update(resource_arg(resource)?);
        if let Some(v) = if_match {
            req = req.if_match(v);
        } else if if_match_current {
            req = req.if_match_current();
        }
        if let Some(p) = parse_prefer(prefer)? {
            req = req.prefer(p);
        }
        if let Some(v) = validate {
            req = req.validate(v);
        }
        let req = req
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Call::new(async move { json_result(req.send().await) }))
    }

    /// `delete`: `Deleted` JSON.
    #[pyo3(signature = (resource_type, id, timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    fn delete(
        &self,
        resource_type: String,
        id: String,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Call> {
        let req = self
            .inner
            .delete_type(resource_type, id)
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Call::new(async move { json_result(req.send().await) }))
    }

    /// A batch or transaction Bundle: `BundleOutcome` JSON.
    #[pyo3(signature = (bundle, transaction = false, prefer = None, validate = None, timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn bundle(
        &self,
        bundle: &str,
        transaction: bool,
        prefer: Option<&str>,
        validate: Option<bool>,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Call> {
        let kind = if transaction {
            BundleType::Transaction
        } else {
            BundleType::Batch
        };
        let mut req = self.inner.send_bundle(bundle_arg(bundle, kind)?);
        if let Some(p) = parse_prefer(prefer)? {
            req = req.prefer(p);
        }
        if let Some(v) = validate {
            req = req.validate(v);
        }
        let req = req
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Call::new(async move { json_result(req.send().await) }))
    }

    /// `capabilities`: `Capabilities` JSON.
    #[pyo3(signature = (timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    fn capabilities(
        &self,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Call> {
        let req = self
            .inner
            .capabilities()
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Call::new(async move { json_result(req.send().await) }))
    }

    /// The Encounter HIE created for an Appointment, as FHIR JSON (None when none yet).
    fn find_encounter_for_appointment(&self, appointment_id: String) -> Call {
        let c = self.inner.clone();
        Call::new(async move {
            let e = c.find_encounter_for_appointment(&appointment_id).await?;
            Ok(e.map(|e| fhir::to_json(&e)))
        })
    }

    /// Every Encounter of a VC session token, as a JSON array of FHIR Encounters.
    fn find_encounters_by_vc_token(&self, token: String) -> Call {
        let c = self.inner.clone();
        Call::new(async move {
            let list = c.find_encounters_by_vc_token(&token).await?;
            Ok(Some(format!(
                "[{}]",
                list.iter().map(fhir::to_json).collect::<Vec<_>>().join(",")
            )))
        })
    }

    /// Pages of a search (`resource_type` with `params` pairs), fetched one by one as asked.
    #[pyo3(signature = (resource_type, params = None, via_post = false, max_results = None, max_pages = None, timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        resource_type: String,
        params: Option<Vec<(String, String)>>,
        via_post: bool,
        max_results: Option<usize>,
        max_pages: Option<usize>,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Pages> {
        let req = self.inner.search_query(
            resource_type,
            SearchQuery {
                params: params.unwrap_or_default(),
                via_post,
                max_results,
                max_pages,
            },
        );
        let req = req
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Pages(JsonPages::new(req.pages())))
    }

    /// Pages of a history: of an instance (type and id), a type (type only) or the server.
    #[pyo3(signature = (resource_type = None, id = None, count = None, since = None, at = None, max_entries = None, timeout_ms = None, request_id = None, headers = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn history(
        &self,
        resource_type: Option<String>,
        id: Option<String>,
        count: Option<u32>,
        since: Option<String>,
        at: Option<String>,
        max_entries: Option<usize>,
        timeout_ms: Option<u64>,
        request_id: Option<String>,
        headers: Option<Vec<(String, String)>>,
        max_retries: Option<u32>,
    ) -> PyResult<Pages> {
        let req = self
            .inner
            .history_query(HistoryQuery {
                resource_type,
                id,
                count,
                since,
                at,
                max_entries,
            })
            .py()?;
        let req = req
            .options(&request_options(
                timeout_ms,
                request_id,
                headers,
                max_retries,
            ))
            .py()?;
        Ok(Pages(JsonPages::new(req.pages())))
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> hie_vc::Result<String> {
    serde_json::to_string(v)
        .map_err(|e| hie_vc::Error::new(hie_vc::ErrorKind::Decode, e.to_string()))
}

fn json_result<T: serde::Serialize>(r: hie_vc::Result<T>) -> hie_vc::Result<Option<String>> {
    r.and_then(|v| json_text(&v)).map(Some)
}

/// The pages of a search or history, each fetched when asked for (`next` / `next_async`).
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Pages(JsonPages);

#[pymethods]
impl Pages {
    /// The next page's JSON, or None after the last.
    fn next(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let p = self.0.clone();
        block_on(py, async move { p.next().await })
    }
    /// As `next`, awaitable.
    fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.0.clone();
        aio::spawn(py, async move { p.next().await }, to_py_opt)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Client>()?;
    m.add_class::<Pages>()?;
    m.add_class::<Call>()?;
    Ok(())
}

//! `HieClient` (native): one core client, each interaction a Promise of the core's JSON, and
//! the pages of a search or history fetched one by one as the JavaScript async iterator asks.

use hie_vc::fhir::{self, Bundle, BundleType, Resource};
use hie_vc::hie::{
    HieClient, HistoryQuery, JsonPages, Prefer, RequestOptions, SearchParams, SearchQuery,
};
use hie_vc::settings::{Settings, SettingsLoader};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::call::spawn;
use crate::errors::{invalid, json, IntoNapi};
use crate::fhir::resource_arg;

/// Settings from a JSON document of sections (`{"hie": {...}}`, the CLI's TOML keys); or,
/// with `path` / `env`, that TOML file and the `HIE_VC_*` variables under it.
pub(crate) fn settings(
    json_text: Option<&str>,
    path: Option<&str>,
    env: bool,
) -> napi::Result<Settings> {
    let mut loader = SettingsLoader::for_front_end(path.map(std::path::Path::new), env).napi()?;
    if let Some(t) = json_text {
        loader = loader.json_str(t).napi()?;
    }
    loader.load().napi()
}

/// Per-request options from the JavaScript layer's JSON (`timeoutMs`, `requestId`,
/// `headers`, `maxRetries`).
fn request_options(j: Option<&str>) -> napi::Result<RequestOptions> {
    match j {
        Some(t) => serde_json::from_str(t).map_err(|e| invalid(format!("request options: {e}"))),
        None => Ok(RequestOptions::new()),
    }
}

fn parse_prefer(p: Option<&str>) -> napi::Result<Option<Prefer>> {
    p.map(|s| s.parse::<Prefer>().napi()).transpose()
}

fn bundle_arg(json_text: &str, kind: BundleType) -> napi::Result<Bundle> {
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

fn json_some<T: serde::Serialize>(r: hie_vc::Result<T>) -> hie_vc::Result<Option<String>> {
    r.and_then(|v| json(&v)).map(Some)
}

/// The native HIE client (see `HieClient` in `lib/client.js`).
#[napi(js_name = "NativeClient")]
#[derive(Debug)]
pub struct Client {
    pub(crate) inner: HieClient,
}

impl Client {
    pub(crate) fn from_settings(s: &Settings) -> napi::Result<Self> {
        let config = s.hie.to_config().napi()?;
        // The HTTP client registers with the runtime's reactor when it is built.
        let inner =
            napi::bindgen_prelude::within_runtime_if_available(|| HieClient::new(config)).napi()?;
        Ok(Self { inner })
    }
}

#[napi]
impl Client {
    /// A client from settings: `settingsJson` (`{"hie": {...}}`), a TOML `path`, and the
    /// `HIE_VC_*` environment when `env`.
    #[napi(constructor)]
    pub fn new(
        settings_json: Option<String>,
        path: Option<String>,
        env: Option<bool>,
    ) -> napi::Result<Self> {
        Self::from_settings(&settings(
            settings_json.as_deref(),
            path.as_deref(),
            env.unwrap_or(false),
        )?)
    }

    /// The server's base URL.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.inner.config().base_url().to_string()
    }

    /// `read` (or `vread` with `versionId`): `Fetched` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn read<'env>(
        &self,
        env: &'env Env,
        resource_type: String,
        id: String,
        version_id: Option<String>,
        request: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let mut req = self.inner.read_type(resource_type, id);
        if let Some(v) = version_id {
            req = req.version(v);
        }
        let req = req.options(&request_options(request.as_deref())?).napi()?;
        spawn(env, call, async move { json_some(req.send().await) })
    }

    /// `create` (POST): `Written` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    #[allow(clippy::too_many_arguments)]
    pub fn create<'env>(
        &self,
        env: &'env Env,
        resource: String,
        prefer: Option<String>,
        validate: Option<bool>,
        if_none_exist: Option<String>,
        request: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let mut req = self.inner.create(resource_arg(&resource)?);
        if let Some(p) = parse_prefer(prefer.as_deref())? {
            req = req.prefer(p);
        }
        if let Some(v) = validate {
            req = req.validate(v);
        }
        if let Some(q) = if_none_exist {
            req = req.if_none_exist(SearchParams::raw(&q));
        }
        let req = req.options(&request_options(request.as_deref())?).napi()?;
        spawn(env, call, async move { json_some(req.send().await) })
    }

    /// `update` (PUT, update-as-create): `Written` JSON. `ifMatch`: that version id;
    /// `ifMatchCurrent`: the resource's own `meta.versionId`.
    #[napi(ts_return_type = "Promise<string>")]
    #[allow(clippy::too_many_arguments)]
    pub fn update<'env>(
        &self,
        env: &'env Env,
        resource: String,
        if_match: Option<String>,
        if_match_current: Option<bool>,
        prefer: Option<String>,
        validate: Option<bool>,
        request: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let mut req = self.inner.update(resource_arg(&resource)?);
        if let Some(v) = if_match {
            req = req.if_match(v);
        } else if if_match_current.unwrap_or(false) {
            req = req.if_match_current();
        }
        if let Some(p) = parse_prefer(prefer.as_deref())? {
            req = req.prefer(p);
        }
        if let Some(v) = validate {
            req = req.validate(v);
        }
        let req = req.options(&request_options(request.as_deref())?).napi()?;
        spawn(env, call, async move { json_some(req.send().await) })
    }

    /// `delete`: `Deleted` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn delete<'env>(
        &self,
        env: &'env Env,
        resource_type: String,
        id: String,
        request: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let req = self
            .inner
            .delete_type(resource_type, id)
            .options(&request_options(request.as_deref())?)
            .napi()?;
        spawn(env, call, async move { json_some(req.send().await) })
    }

    /// A batch (or, with `transaction`, a transaction) Bundle: `BundleOutcome` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    #[allow(clippy::too_many_arguments)]
    pub fn bundle<'env>(
        &self,
        env: &'env Env,
        bundle: String,
        transaction: bool,
        prefer: Option<String>,
        validate: Option<bool>,
        request: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let kind = if transaction {
            BundleType::Transaction
        } else {
            BundleType::Batch
        };
        let mut req = self.inner.send_bundle(bundle_arg(&bundle, kind)?);
        if let Some(p) = parse_prefer(prefer.as_deref())? {
            req = req.prefer(p);
        }
        if let Some(v) = validate {
            req = req.validate(v);
        }
        let req = req.options(&request_options(request.as_deref())?).napi()?;
        spawn(env, call, async move { json_some(req.send().await) })
    }

    /// `capabilities`: `Capabilities` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn capabilities<'env>(
        &self,
        env: &'env Env,
        request: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let req = self
            .inner
            .capabilities()
            .options(&request_options(request.as_deref())?)
            .napi()?;
        spawn(env, call, async move { json_some(req.send().await) })
    }

    /// The Encounter HIE created for an Appointment, as FHIR JSON (null when none yet).
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn find_encounter_for_appointment<'env>(
        &self,
        env: &'env Env,
        appointment_id: String,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let c = self.inner.clone();
        spawn(env, call, async move {
            let e = c.find_encounter_for_appointment(&appointment_id).await?;
            Ok(e.map(|e| fhir::to_json(&e)))
        })
    }

    /// Every Encounter of a VC session token, as a JSON array of FHIR Encounters.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn find_encounters_by_vc_token<'env>(
        &self,
        env: &'env Env,
        token: String,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let c = self.inner.clone();
        spawn(env, call, async move {
            let list = c.find_encounters_by_vc_token(&token).await?;
            Ok(Some(format!(
                "[{}]",
                list.iter().map(fhir::to_json).collect::<Vec<_>>().join(",")
            )))
        })
    }

    /// The pages of a search (`params` as `[name, value]` pairs), each fetched when asked.
    #[napi]
    pub fn search(
        &self,
        resource_type: String,
        params: Option<Vec<Vec<String>>>,
        via_post: Option<bool>,
        max_results: Option<u32>,
        max_pages: Option<u32>,
        request: Option<String>,
    ) -> napi::Result<Pages> {
        let params = params
            .unwrap_or_default()
            .into_iter()
            .map(|pair| {
                <[String; 2]>::try_from(pair)
                    .map(|[k, v]| (k, v))
                    .map_err(|_| invalid("a search parameter is a [name, value] pair"))
            })
            .collect::<napi::Result<Vec<_>>>()?;
        let req = self.inner.search_query(
            resource_type,
            SearchQuery {
                params,
                via_post: via_post.unwrap_or(false),
                max_results: max_results.map(|n| n as usize),
                max_pages: max_pages.map(|n| n as usize),
            },
        );
        let req = req.options(&request_options(request.as_deref())?).napi()?;
        Ok(Pages(JsonPages::new(req.pages())))
    }

    /// The pages of a history: of an instance (type and id), a type (type only) or the
    /// server (neither).
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn history(
        &self,
        resource_type: Option<String>,
        id: Option<String>,
        count: Option<u32>,
        since: Option<String>,
        at: Option<String>,
        max_entries: Option<u32>,
        request: Option<String>,
    ) -> napi::Result<Pages> {
        let req = self
            .inner
            .history_query(HistoryQuery {
                resource_type,
                id,
                count,
                since,
                at,
                max_entries: max_entries.map(|n| n as usize),
            })
            .napi()?;
        let req = req.options(&request_options(request.as_deref())?).napi()?;
        Ok(Pages(JsonPages::new(req.pages())))
    }
}

/// The pages of a search or history, each fetched when asked for.
#[napi(js_name = "NativePages")]
#[derive(Debug)]
pub struct Pages(JsonPages);

#[napi]
impl Pages {
    /// The next page's JSON, or null after the last.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn next<'env>(
        &self,
        env: &'env Env,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let p = self.0.clone();
        spawn(env, call, async move { p.next().await })
    }
}

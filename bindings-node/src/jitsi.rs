//! `Jitsi` and `Notifier` (native): the Jitsi provider (HIE's token service, self-hosted Jitsi
//! Meet or 8x8 JaaS, as the `[jitsi]` settings say) and the Notification API client.

use std::sync::Arc;

use hie_vc::jitsi::{JitsiProvider, Participant};
use hie_vc::notify::NotificationClient;
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::call::spawn;
use crate::client::settings;
use crate::errors::{invalid, json, IntoNapi};

/// A Jitsi provider from the `[jitsi]` settings.
#[napi(js_name = "NativeJitsi")]
#[derive(Debug)]
pub struct Jitsi {
    inner: Arc<dyn JitsiProvider>,
}

impl Jitsi {
    pub(crate) fn of(s: &hie_vc::settings::Settings) -> napi::Result<Self> {
        let inner =
            napi::bindgen_prelude::within_runtime_if_available(|| s.jitsi.provider()).napi()?;
        Ok(Self { inner })
    }
}

/// A participant from its JSON (`{role, id, name, ...}`).
pub(crate) fn participant(json_text: &str) -> napi::Result<Participant> {
    serde_json::from_str(json_text).map_err(|e| invalid(format!("participant: {e}")))
}

#[napi]
impl Jitsi {
    /// From settings (`{"jitsi": {...}}` JSON, a TOML `path`, the environment when `env`).
    #[napi(constructor)]
    pub fn new(
        settings_json: Option<String>,
        path: Option<String>,
        env: Option<bool>,
    ) -> napi::Result<Self> {
        Self::of(&settings(
            settings_json.as_deref(),
            path.as_deref(),
            env.unwrap_or(false),
        )?)
    }

    /// The provider of a sandbox's Jitsi token service.
    #[napi(factory)]
    pub fn for_sandbox(
        sandbox: &crate::sandbox::Sandbox,
        overrides_json: Option<String>,
    ) -> napi::Result<Self> {
        Self::of(&sandbox.settings(overrides_json.as_deref())?)
    }

    /// `hie-rest`, `self-hosted` or `jaas`.
    #[napi(getter)]
    pub fn kind(&self) -> String {
        self.inner.kind().to_owned()
    }

    /// A new session: `{token, room}` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn create_session<'env>(
        &self,
        env: &'env Env,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let j = self.inner.clone();
        spawn(env, call, async move { json(&j.create_session().await?) })
    }

    /// A participant's join: `Join` JSON (holds a credential).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn join<'env>(
        &self,
        env: &'env Env,
        session_token: String,
        participant_json: String,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let p = participant(&participant_json)?;
        let j = self.inner.clone();
        spawn(env, call, async move {
            json(&j.join(&session_token, &p).await?)
        })
    }

    /// Marks the session active (patients may join).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn activate<'env>(
        &self,
        env: &'env Env,
        session_token: String,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let j = self.inner.clone();
        spawn(env, call, async move { j.activate(&session_token).await })
    }

    /// Ends the session: `ended`, `not_running` or `unsupported`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn end<'env>(
        &self,
        env: &'env Env,
        session_token: String,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let j = self.inner.clone();
        spawn(env, call, async move {
            Ok(j.end(&session_token).await?.as_str().to_owned())
        })
    }
}

/// The Notification API client from the `[notify]` settings.
#[napi(js_name = "NativeNotifier")]
#[derive(Debug)]
pub struct Notifier {
    inner: Arc<NotificationClient>,
}

impl Notifier {
    fn of(s: &hie_vc::settings::Settings) -> napi::Result<Self> {
        let config = s.notify.to_config().napi()?;
        let inner =
            napi::bindgen_prelude::within_runtime_if_available(|| NotificationClient::new(config))
                .napi()?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }
}

#[napi]
impl Notifier {
    /// From settings (`{"notify": {...}}` JSON, a TOML `path`, the environment when `env`).
    #[napi(constructor)]
    pub fn new(
        settings_json: Option<String>,
        path: Option<String>,
        env: Option<bool>,
    ) -> napi::Result<Self> {
        Self::of(&settings(
            settings_json.as_deref(),
            path.as_deref(),
            env.unwrap_or(false),
        )?)
    }

    /// The client of a sandbox's Notification API.
    #[napi(factory)]
    pub fn for_sandbox(
        sandbox: &crate::sandbox::Sandbox,
        overrides_json: Option<String>,
    ) -> napi::Result<Self> {
        Self::of(&sandbox.settings(overrides_json.as_deref())?)
    }

    /// Logs in (done on first send otherwise).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn login<'env>(
        &self,
        env: &'env Env,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let n = self.inner.clone();
        spawn(env, call, async move { n.login().await })
    }

    /// Sends `title` / `body` to the patients (MyKad or other ids): `Sent` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        title: String,
        body: String,
        patient_ids: Vec<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let n = self.inner.clone();
        spawn(env, call, async move {
            json(&n.send(&title, &body, patient_ids).await?)
        })
    }
}

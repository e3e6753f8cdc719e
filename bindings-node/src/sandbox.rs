//! `Sandbox` (native): the embedded HIE emulator (FHIR API, Jitsi token service, Notification
//! API, Encounter publishing), running in this process on the package runtime; and
//! `MemoryBroker`, the in-process broker its check-ins publish to (the event source of a
//! listener on the sandbox, and a broker for tests).

use std::sync::Arc;

use hie_vc::listener::{MemoryBroker as Broker, MemoryRecord};
use hie_vc_sandbox::{Faults, Sandbox as Inner, SandboxOptions, Service};
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use serde_json::{json as value, Map, Value};
use tokio::sync::RwLock;

use crate::call::spawn;
use crate::client::Client;
use crate::errors::{invalid, json, to_napi, IntoNapi};

fn sb_err(e: hie_vc_sandbox::Error) -> hie_vc::Error {
    e.into()
}

fn closed() -> hie_vc::Error {
    hie_vc::Error::new(hie_vc::ErrorKind::Closed, "the sandbox was closed")
}

/// A running sandbox. Check-ins share it (a read lock held across their awaits); `close`
/// takes it (the write lock, once the check-ins in flight are done).
#[napi(js_name = "NativeSandbox")]
#[derive(Debug)]
pub struct Sandbox {
    inner: Arc<RwLock<Option<Inner>>>,
    fhir_base: String,
    url: String,
}

impl Sandbox {
    /// Runs `f` on the running sandbox. Never waits: while a close is under way (it holds or
    /// waits for the write lock) the sandbox counts as closed.
    fn with<T>(&self, f: impl FnOnce(&Inner) -> napi::Result<T>) -> napi::Result<T> {
        let guard = self.inner.try_read().map_err(|_| to_napi(closed()))?;
        match guard.as_ref() {
            Some(s) => f(s),
            None => Err(to_napi(closed())),
        }
    }

    /// The settings that point every client at this sandbox, with `overrides_json`
    /// (`{"section": {"key": value}}`, the CLI's names) on top.
    pub(crate) fn settings(
        &self,
        overrides_json: Option<&str>,
    ) -> napi::Result<hie_vc::settings::Settings> {
        let mut loader = self.with(|s| Ok(s.settings()))?;
        if let Some(t) = overrides_json {
            loader = loader.json_str(t).napi()?;
        }
        loader.load().napi()
    }
}

#[napi]
impl Sandbox {
    /// Starts a sandbox; `optionsJson` holds `SandboxOptions` (every key optional).
    #[napi(ts_return_type = "Promise<NativeSandbox>")]
    pub fn start(
        env: &Env,
        options_json: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'_, Sandbox>> {
        let opts: SandboxOptions = match options_json {
            Some(t) => {
                serde_json::from_str(&t).map_err(|e| invalid(format!("sandbox options: {e}")))?
            }
            None => SandboxOptions::default(),
        };
        let config = opts.config().map_err(|e| to_napi(sb_err(e)))?;
        spawn(env, call, async move {
            let inner = Inner::start(config).await.map_err(sb_err)?;
            Ok(Sandbox {
                fhir_base: inner.fhir_base(),
                url: inner.url(),
                inner: Arc::new(RwLock::new(Some(inner))),
            })
        })
    }

    /// The sandbox's base URL.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Its FHIR API's base URL.
    #[napi(getter)]
    pub fn fhir_base(&self) -> String {
        self.fhir_base.clone()
    }

    /// A native HIE client of this sandbox (`overridesJson`: settings on top of the
    /// sandbox's, e.g. `{"hie": {"max_retries": 0}}`).
    #[napi]
    pub fn client(&self, overrides_json: Option<String>) -> napi::Result<Client> {
        Client::from_settings(&self.settings(overrides_json.as_deref())?)
    }

    /// Its in-process broker (null when it publishes to Kafka).
    #[napi]
    pub fn broker(&self) -> napi::Result<Option<MemoryBroker>> {
        self.with(|s| Ok(s.broker().map(|inner| MemoryBroker { inner })))
    }

    /// The topic check-ins publish to.
    #[napi(getter)]
    pub fn topic(&self) -> napi::Result<String> {
        self.with(|s| Ok(s.topic().to_owned()))
    }

    /// Checks a patient in for an Appointment, as RekodSaya does: HIE creates the Encounter
    /// and publishes it. `CheckIn` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn check_in<'env>(
        &self,
        env: &'env Env,
        appointment_id: String,
        patient_id: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let inner = self.inner.clone();
        spawn(env, call, async move {
            let guard = inner.read().await;
            let s = guard.as_ref().ok_or_else(closed)?;
            let c = match &patient_id {
                Some(p) => s.check_in_patient(&appointment_id, p).await,
                None => s.check_in(&appointment_id).await,
            }
            .map_err(sb_err)?;
            json(&c)
        })
    }

    /// Sets one service's fault switches (`service`: fhir, jitsi or notify; `faultsJson` as
    /// the sandbox's `Faults`, `{}` clears).
    #[napi]
    pub fn set_faults(&self, service: String, faults_json: String) -> napi::Result<()> {
        let service: Service = service.parse().map_err(|_| {
            invalid(format!(
                "'{service}' is not a sandbox service: fhir, jitsi or notify"
            ))
        })?;
        let faults: Faults =
            serde_json::from_str(&faults_json).map_err(|e| invalid(format!("faults: {e}")))?;
        self.with(|s| {
            s.set_faults(service, faults)
                .map_err(|e| to_napi(sb_err(e)))
        })
    }

    /// Clears every fault switch.
    #[napi]
    pub fn clear_faults(&self) -> napi::Result<()> {
        self.with(|s| {
            s.clear_faults();
            Ok(())
        })
    }

    /// Each service's counters (`{"fhir": {"requests", "failed", "dropped"}, ...}`) as JSON.
    #[napi]
    pub fn stats(&self) -> napi::Result<String> {
        self.with(|s| {
            let mut out = Map::new();
            for service in Service::ALL {
                out.insert(service.as_str().to_owned(), value!(s.stats(service)));
            }
            json(&Value::Object(out)).napi()
        })
    }

    /// A stored resource as FHIR JSON, or null.
    #[napi]
    pub fn resource(&self, resource_type: String, id: String) -> napi::Result<Option<String>> {
        self.with(|s| {
            Ok(s.resource(&resource_type, &id)
                .map(|r| hie_vc::fhir::to_json(&r)))
        })
    }

    /// The notifications the Notification API received, as JSON.
    #[napi]
    pub fn notifications(&self) -> napi::Result<String> {
        self.with(|s| json(&s.notifications()).napi())
    }

    /// The Jitsi sessions the token service holds, as JSON.
    #[napi]
    pub fn jitsi_sessions(&self) -> napi::Result<String> {
        self.with(|s| json(&s.jitsi_sessions()).napi())
    }

    /// Stops the sandbox (idempotent): its servers close, its port is free again.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(env, None, async move {
            let taken = inner.write().await.take();
            if let Some(s) = taken {
                s.shutdown().await;
            }
            Ok(())
        })
    }
}

/// An in-process Kafka stand-in: topics of records with keys and headers, consumer groups.
#[napi(js_name = "NativeMemoryBroker")]
#[derive(Debug)]
pub struct MemoryBroker {
    pub(crate) inner: Broker,
}

#[napi]
impl MemoryBroker {
    /// An empty broker.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            inner: Broker::new(),
        }
    }

    /// Appends a record (`value` null: a tombstone); `headers` as `[name, value]` pairs.
    /// Returns its coordinates as JSON (`{"topic", "partition", "offset"}`).
    #[napi]
    pub fn send(
        &self,
        topic: String,
        value: Option<Buffer>,
        key: Option<Buffer>,
        headers: Option<Vec<(String, Buffer)>>,
    ) -> napi::Result<String> {
        let mut rec = match value {
            Some(v) => MemoryRecord::new(v.to_vec()),
            None => MemoryRecord::default(),
        };
        if let Some(k) = key {
            rec = rec.key(k.to_vec());
        }
        for (k, v) in headers.unwrap_or_default() {
            rec = rec.header(k, v.to_vec());
        }
        let c = self.inner.send(&topic, rec).napi()?;
        json(&value!({"topic": &*c.topic, "partition": c.partition, "offset": c.offset})).napi()
    }

    /// The records of a topic, as JSON: `[{"key", "value", "headers": [[name, value]]}]`,
    /// bytes as UTF-8 text (invalid UTF-8 replaced).
    #[napi]
    pub fn records(&self, topic: String) -> napi::Result<String> {
        let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        let list: Vec<Value> = self
            .inner
            .records(&topic)
            .iter()
            .map(|m| {
                value!({
                    "key": text(m.key.as_deref()),
                    "value": text(m.payload.as_deref()),
                    "headers": m.headers.iter().map(|h| value!([h.key, text(h.value.as_deref())])).collect::<Vec<_>>(),
                    "partition": m.coordinates.partition,
                    "offset": m.coordinates.offset,
                })
            })
            .collect();
        json(&list).napi()
    }
}

//! `VirtualConsultation` (native): the VC workflow (schedule, book, start, finish) and the
//! core's arrival handler on one listener event.

use std::sync::{Arc, Mutex};

use hie_vc::fhir::{Appointment, Encounter, Resource, Schedule, Slot};
use hie_vc::settings::Settings;
use hie_vc::vc::VirtualConsultation;
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::call::spawn;
use crate::errors::{json, IntoNapi};
use crate::fhir::{read_with, typed};
use crate::jitsi::participant;
use crate::listener::Batch;

/// The VC workflow on an HIE client, a Jitsi provider and the Notification API client.
#[napi(js_name = "NativeVc")]
#[derive(Debug)]
pub struct Vc {
    inner: VirtualConsultation,
}

impl Vc {
    fn of(s: &Settings, patient_id_systems: Option<Vec<String>>) -> napi::Result<Self> {
        let built = napi::bindgen_prelude::within_runtime_if_available(|| {
            let mut b = VirtualConsultation::from_settings(s)?;
            if let Some(systems) = patient_id_systems {
                b = b.patient_id_systems(systems);
            }
            b.build()
        });
        Ok(Self {
            inner: built.napi()?,
        })
    }
}

#[napi]
impl Vc {
    /// From settings (`{"hie", "jitsi", "notify", "vc"}` JSON, a TOML `path`, the `HIE_VC_*`
    /// environment when `env`).
    #[napi(constructor)]
    pub fn new(
        settings_json: Option<String>,
        path: Option<String>,
        env: Option<bool>,
        patient_id_systems: Option<Vec<String>>,
    ) -> napi::Result<Self> {
        Self::of(
            &crate::client::settings(
                settings_json.as_deref(),
                path.as_deref(),
                env.unwrap_or(false),
            )?,
            patient_id_systems,
        )
    }

    /// The workflow on a sandbox's HIE, Jitsi and Notification services.
    #[napi(factory)]
    pub fn for_sandbox(
        sandbox: &crate::sandbox::Sandbox,
        overrides_json: Option<String>,
    ) -> napi::Result<Self> {
        Self::of(&sandbox.settings(overrides_json.as_deref())?, None)
    }

    /// VCE step 1: the Jitsi session whose token ties the group together (`{token, room}`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn create_session<'env>(
        &self,
        env: &'env Env,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let vc = self.inner.clone();
        spawn(env, call, async move { json(&vc.create_session().await?) })
    }

    /// PUTs the Schedule and its Slots in one transaction: `Scheduled` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn schedule<'env>(
        &self,
        env: &'env Env,
        schedule: String,
        slots: Vec<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let s: Schedule = typed(&schedule, "schedule")?;
        let slots = slots
            .iter()
            .enumerate()
            .map(|(i, j)| typed::<Slot>(j, &format!("slots[{i}]")))
            .collect::<napi::Result<Vec<_>>>()?;
        let vc = self.inner.clone();
        spawn(
            env,
            call,
            async move { json(&vc.schedule(s, slots).await?) },
        )
    }

    /// Books an Appointment (into `slotId`, its availability decremented, when given):
    /// `Booked` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn book<'env>(
        &self,
        env: &'env Env,
        appointment: String,
        slot_id: Option<String>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let a: Appointment = typed(&appointment, "appointment")?;
        let vc = self.inner.clone();
        spawn(env, call, async move {
            json(&vc.book(a, slot_id.as_deref()).await?)
        })
    }

    /// Starts an arrived session: the practitioner's join, the session activated, the
    /// patient(s) notified. Idempotent. `Started` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn start<'env>(
        &self,
        env: &'env Env,
        encounter: String,
        practitioner_json: String,
        included: Option<Vec<String>>,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let e: Encounter = typed(&encounter, "encounter")?;
        let p = participant(&practitioner_json)?;
        let included = included
            .unwrap_or_default()
            .iter()
            .map(|t| read_with(t.as_bytes(), true, false).map(|r| r.value).napi())
            .collect::<napi::Result<Vec<Resource>>>()?;
        let vc = self.inner.clone();
        spawn(env, call, async move {
            json(&vc.start(&e, &p, &included).await?)
        })
    }

    /// Finishes: the Encounter `finished`, the Jitsi session ended. Idempotent. `Finished`
    /// JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn finish<'env>(
        &self,
        env: &'env Env,
        encounter_id: String,
        call: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let vc = self.inner.clone();
        spawn(
            env,
            call,
            async move { json(&vc.finish(&encounter_id).await?) },
        )
    }

    /// The core's arrival handler on event `index` of `batch`: starts the session (with
    /// `practitionerJson`, or fails the event permanently without one) and answers the event
    /// itself — a failure that may pass is retried by the listener, others dead-lettered.
    /// Resolves with the `Started` JSON, or null when it failed.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn handle_arrival<'env>(
        &self,
        env: &'env Env,
        batch: &Batch,
        index: u32,
        practitioner_json: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Option<String>>> {
        let p = practitioner_json.as_deref().map(participant).transpose()?;
        let started = Arc::new(Mutex::new(None));
        let keep = started.clone();
        let handler = self
            .inner
            .arrival_handler(move |_| p.clone())
            .on_started(move |s| {
                *keep.lock().unwrap_or_else(|e| e.into_inner()) = serde_json::to_string(s).ok();
            });
        let delivery = batch.take(index)?;
        spawn(env, None, async move {
            let result = handler.handle_event(delivery.event().clone()).await;
            delivery.answer(result)?;
            let out = started.lock().unwrap_or_else(|e| e.into_inner()).take();
            Ok(out)
        })
    }
}

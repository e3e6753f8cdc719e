//! `hie_vc.VirtualConsultation`: the VC workflow (schedule, book, start, finish) and its
//! listener arrival handler, on the core's `vc` module.

use std::sync::{Arc, Mutex};

use hie_vc::fhir::{Appointment, Encounter, Resource, Schedule, Slot};
use hie_vc::jitsi::Participant;
use hie_vc::settings::Settings;
use hie_vc::vc::VirtualConsultation;
use pyo3::prelude::*;

use crate::client::Call;
use crate::errors::{invalid, IntoPyResult};
use crate::fhir::read_resource;
use crate::listener::Event;
use crate::mycore::typed;
use crate::runtime::{block_on, handle};

fn json<T: serde::Serialize>(v: &T) -> hie_vc::Result<Option<String>> {
    serde_json::to_string(v)
        .map(Some)
        .map_err(|e| hie_vc::Error::new(hie_vc::ErrorKind::Decode, e.to_string()))
}

fn participant(json_text: &str) -> PyResult<Participant> {
    serde_json::from_str(json_text).map_err(|e| invalid(format!("practitioner: {e}")))
}

/// The VC workflow (see `hie_vc.VirtualConsultation`).
#[pyclass(module = "hie_vc._native", frozen)]
pub(crate) struct Vc {
    inner: VirtualConsultation,
}

impl Vc {
    pub(crate) fn from_settings(
        s: &Settings,
        patient_id_systems: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let rt = handle()?;
        let _enter = rt.enter();
        let mut b = VirtualConsultation::from_settings(s).py()?;
        if let Some(systems) = patient_id_systems {
            b = b.patient_id_systems(systems);
        }
        Ok(Self {
            inner: b.build().py()?,
        })
    }
}

#[pymethods]
impl Vc {
    /// From settings (`{"hie":..., "jitsi":..., "notify":..., "vc":...}` JSON, a TOML
    /// `path`, the `HIE_VC_*` environment when `env`).
    #[new]
    #[pyo3(signature = (settings_json = None, path = None, env = false, patient_id_systems = None))]
    fn new(
        settings_json: Option<&str>,
        path: Option<&str>,
        env: bool,
        patient_id_systems: Option<Vec<String>>,
    ) -> PyResult<Self> {
        Self::from_settings(
            &crate::client::settings(settings_json, path, env)?,
            patient_id_systems,
        )
    }

    /// The workflow on a sandbox's HIE, Jitsi and Notification services.
    #[staticmethod]
    fn for_sandbox(sandbox: &crate::sandbox::Sandbox) -> PyResult<Self> {
        Self::from_settings(&sandbox.settings()?, None)
    }

    /// VCE step 1: the Jitsi session whose token ties the group together.
    fn create_session(&self) -> Call {
        let vc = self.inner.clone();
        Call::new(async move { json(&vc.create_session().await?) })
    }

    /// PUTs the Schedule and its Slots in one transaction.
    fn schedule(&self, schedule: &str, slots: Vec<String>) -> PyResult<Call> {
        let s: Schedule = typed(schedule, "schedule")?;
        let slots = slots
            .iter()
            .enumerate()
            .map(|(i, j)| typed::<Slot>(j, &format!("slots[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        let vc = self.inner.clone();
        Ok(Call::new(
            async move { json(&vc.schedule(s, slots).await?) },
        ))
    }

    /// Books an Appointment (into `slot_id`, its availability decremented, when given).
    #[pyo3(signature = (appointment, slot_id = None))]
    fn book(&self, appointment: &str, slot_id: Option<String>) -> PyResult<Call> {
        let a: Appointment = typed(appointment, "appointment")?;
        let vc = self.inner.clone();
        Ok(Call::new(async move {
            json(&vc.book(a, slot_id.as_deref()).await?)
        }))
    }

    /// Starts an arrived session: the practitioner's join, the session activated, the
    /// patient(s) notified. Idempotent.
    #[pyo3(signature = (encounter, practitioner_json, included = Vec::new()))]
    fn start(
        &self,
        encounter: &str,
        practitioner_json: &str,
        included: Vec<String>,
    ) -> PyResult<Call> {
        let e: Encounter = typed(encounter, "encounter")?;
        let p = participant(practitioner_json)?;
        let included = included
            .iter()
            .map(|t| read_resource(t.as_bytes(), true).map(|r| r.value).py())
            .collect::<PyResult<Vec<Resource>>>()?;
        let vc = self.inner.clone();
        Ok(Call::new(async move {
            json(&vc.start(&e, &p, &included).await?)
        }))
    }

    /// Finishes: the Encounter `finished`, the Jitsi session ended. Idempotent.
    fn finish(&self, encounter_id: String) -> Call {
        let vc = self.inner.clone();
        Call::new(async move { json(&vc.finish(&encounter_id).await?) })
    }

    /// The core's arrival handler on one listener event: starts the session and answers the
    /// event itself (a failure that may pass is retried by the listener; others are
    /// dead-lettered). Returns the `Started` JSON, or None when it failed.
    fn handle_arrival(
        &self,
        py: Python<'_>,
        event: &Event,
        practitioner_json: &str,
    ) -> PyResult<Option<String>> {
        let p = participant(practitioner_json)?;
        let started = Arc::new(Mutex::new(None));
        let keep = started.clone();
        let handler = self
            .inner
            .arrival_handler(move |_| Some(p.clone()))
            .on_started(move |s| {
                *keep.lock().unwrap_or_else(|e| e.into_inner()) = serde_json::to_string(s).ok();
            });
        let delivery = event.take_delivery()?;
        block_on(py, async move {
            let result = handler.handle_event(delivery.event().clone()).await;
            delivery.answer(result)
        })?;
        let out = started.lock().unwrap_or_else(|e| e.into_inner()).take();
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Vc>()?;
    Ok(())
}

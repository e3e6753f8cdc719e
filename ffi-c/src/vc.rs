//! `hievc_vc`: the VC workflow (`docs/guide-gaps.md` §3) — schedule, book, start, finish for VCI
//! and VCE — over a client, a Jitsi provider and a notifier.

use std::ffi::c_char;

use hie_vc::fhir::Resource;
use hie_vc::vc::VirtualConsultation;
use serde::Deserialize;

use crate::client::input_resource;
use crate::error::Failure;
use crate::fhir::{parse_json, parse_opts, read_resource};
use crate::guard::{
    arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, opt_str, write_handle,
};
use crate::jitsi::participant;
use crate::json::write_json;
use crate::runtime::block_on;
use crate::status::hievc_status;
use crate::{hievc_client, hievc_config, hievc_error, hievc_jitsi, hievc_notifier};

/// The VC workflow. Thread-safe. `start` and `finish` are idempotent (a session journal in
/// memory remembers who was notified and what was finished); a failure names the step that
/// failed and the steps already done (`hievc_error_step`, `completedSteps` in
/// `hievc_error_json`), so the caller can resume.
pub struct hievc_vc {
    pub(crate) vc: VirtualConsultation,
}

impl std::fmt::Debug for hievc_vc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.vc.fmt(f)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct VcOpts {
    /// Identifier systems of the patient id the Notification API wants, in order.
    patient_id_systems: Option<Vec<String>>,
}

/// The workflow over `client`, `jitsi` and `notifier` (each stays usable on its own; the
/// workflow shares them). `cfg` (NULL: defaults) gives the `[vc]` settings: `quota_as_string`,
/// `notify_title`, `notify_body`. `options_json` (NULL: defaults): `{"patient_id_systems":
/// ["http://fhir.hie.moh.gov.my/sid/my-kad-no", ...]}`.
///
/// # Safety
/// `client`, `jitsi` and `notifier` are live; `cfg` NULL or live; `options_json` NULL or a
/// NUL-terminated string; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_vc_new(
    client: *const hievc_client,
    jitsi: *const hievc_jitsi,
    notifier: *const hievc_notifier,
    cfg: *const hievc_config,
    options_json: *const c_char,
    out: *mut *mut hievc_vc,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (client, jitsi, notifier) = unsafe {
            (
                arg_ref(client, "client")?,
                arg_ref(jitsi, "jitsi")?,
                arg_ref(notifier, "notifier")?,
            )
        };
        // SAFETY: caller contract.
        let opts: VcOpts = parse_opts(
            unsafe { opt_str(options_json, "options_json") }?,
            "options_json",
        )?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let settings = unsafe { crate::config::settings_of(cfg) }.vc;
        let mut b = VirtualConsultation::builder(client.client.clone())
            .jitsi(jitsi.provider.clone())
            .notifier(notifier.client.clone())
            .settings(&settings);
        if let Some(systems) = opts.patient_id_systems {
            b = b.patient_id_systems(systems);
        }
        write_handle(out, hievc_vc { vc: b.build()? });
        Ok(())
    })
}

/// Frees a workflow. NULL is a no-op.
///
/// # Safety
/// `vc` is NULL or a workflow not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_vc_free(vc: *mut hievc_vc) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(vc) })
}

/// The workflow behind a handle argument.
///
/// # Safety
/// `vc` is NULL or a live workflow.
unsafe fn the_vc<'a>(vc: *const hievc_vc) -> Result<&'a VirtualConsultation, Failure> {
    // SAFETY: forwarded contract.
    Ok(&unsafe { arg_ref(vc, "vc") }?.vc)
}

fn typed<T>(
    r: Resource,
    what: &str,
    want: &str,
    f: impl FnOnce(Resource) -> Option<T>,
) -> Result<T, Failure> {
    let got = r.resource_type().to_owned();
    f(r).ok_or_else(|| {
        Failure::from(hie_vc::Error::new(
            hie_vc::ErrorKind::InvalidInput,
            format!("{what} is a {got}, not a {want}"),
        ))
    })
}

/// VCE step 1: creates the Jitsi session whose token ties the Schedule, Slot and Appointments
/// together. `*out`: `{"token", "room"}`.
///
/// # Safety
/// `vc` is live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_vc_create_session(
    vc: *const hievc_vc,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let vc = unsafe { the_vc(vc) }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let s = block_on(vc.create_session())??;
        write_json(out, &s)
    })
}

/// VCI step 1 / VCE step 2: PUTs the Schedule (`schedule_json`) and its Slots
/// (`slots_json`: a JSON array of Slot resources) in one transaction. `*out`: `{"outcome":
/// <as hievc_client_bundle>}`.
///
/// # Safety
/// `vc` is live; strings NUL-terminated; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_vc_schedule(
    vc: *const hievc_vc,
    schedule_json: *const c_char,
    slots_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let vc = unsafe { the_vc(vc) }?;
        let schedule = typed(
            unsafe { input_resource(schedule_json, "schedule_json") }?,
            "schedule_json",
            "Schedule",
            |r| match r {
                Resource::Schedule(s) => Some(*s),
                _ => None,
            },
        )?;
        // SAFETY: caller contract.
        let slots_text = unsafe { arg_str(slots_json, "slots_json") }?;
        let items: Vec<Box<serde_json::value::RawValue>> = parse_json(slots_text, "slots_json")?;
        let mut slots = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let what = format!("slots_json[{i}]");
            let r = read_resource(item.get(), &what, hie_vc::fhir::ReadOptions::strict())?.value;
            slots.push(typed(r, &what, "Slot", |r| match r {
                Resource::Slot(s) => Some(*s),
                _ => None,
            })?);
        }
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let s = block_on(vc.schedule(schedule, slots))??;
        write_json(out, &s)
    })
}

/// VCI step 2 / VCE step 3: books an Appointment (`appointment_json`, with its client-chosen
/// id; for VCE with the session token). With `slot_id` (NULL for none), the Appointment and the
/// Slot with its `available` decremented go in one transaction (`HIEVC_CONFLICT`-like errors
/// when the slot is full); without, the Appointment is PUT. `*out`: `{"appointmentId",
/// "slot": {"id", "quota", "available"} | null, "outcome": <bundle> | null}`.
///
/// # Safety
/// `vc` is live; strings NUL-terminated (`slot_id` may be NULL); `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_vc_book(
    vc: *const hievc_vc,
    appointment_json: *const c_char,
    slot_id: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let vc = unsafe { the_vc(vc) }?;
        let appt = typed(
            unsafe { input_resource(appointment_json, "appointment_json") }?,
            "appointment_json",
            "Appointment",
            |r| match r {
                Resource::Appointment(a) => Some(*a),
                _ => None,
            },
        )?;
        // SAFETY: caller contract.
        let slot = unsafe { opt_str(slot_id, "slot_id") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let b = block_on(vc.book(appt, slot))??;
        write_json(out, &b)
    })
}

/// Steps 6–7 when an Encounter arrived (`encounter_json`, e.g. `hievc_event_encounter_json`):
/// the practitioner's join (`practitioner_json` as for `hievc_jitsi_join`), the session
/// activated, and every patient of the session notified (VCI: the Encounter's patient; VCE:
/// every Appointment's patient with the same token). `included_json` (NULL for none): a JSON
/// array of resources that came with the Encounter (Patients, Appointments), saving reads.
/// Idempotent: running it again returns a fresh join but notifies nobody twice.
///
/// `*out`: `{"encounter": <VC view>, "practitionerJoin": {"role", "room", "url", "token",
/// "expiresAtMs"}, "activatedNow", "notified": [ids], "alreadyNotified": [ids], "sent":
/// {"status", "requestId", "response"} | null}` — the join URL and token are credentials.
///
/// # Safety
/// `vc` is live; strings NUL-terminated (`included_json` may be NULL); `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_vc_start(
    vc: *const hievc_vc,
    encounter_json: *const c_char,
    practitioner_json: *const c_char,
    included_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let vc = unsafe { the_vc(vc) }?;
        let encounter = typed(
            unsafe { input_resource(encounter_json, "encounter_json") }?,
            "encounter_json",
            "Encounter",
            |r| match r {
                Resource::Encounter(e) => Some(*e),
                _ => None,
            },
        )?;
        // SAFETY: caller contract.
        let practitioner = unsafe { participant(practitioner_json, "practitioner_json") }?;
        // SAFETY: caller contract.
        let included = match unsafe { opt_str(included_json, "included_json") }? {
            None => Vec::new(),
            Some(text) => {
                let items: Vec<Box<serde_json::value::RawValue>> =
                    parse_json(text, "included_json")?;
                let mut v = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    v.push(
                        read_resource(
                            item.get(),
                            &format!("included_json[{i}]"),
                            hie_vc::fhir::ReadOptions::lenient(),
                        )?
                        .value,
                    );
                }
                v
            }
        };
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let s = block_on(vc.start(&encounter, &practitioner, &included))??;
        write_json(out, &s)
    })
}

/// Steps 9–10: PUTs the Encounter `finished` with `period.end` (unless it already is) and ends
/// the Jitsi session (unless it already was). Idempotent. `*out`: `{"encounterId",
/// "written": <as hievc_client_update> | null (already finished), "ended": "ended" |
/// "not_running" | "unsupported" | null (already ended)}`.
///
/// # Safety
/// `vc` is live; `encounter_id` NUL-terminated; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_vc_finish(
    vc: *const hievc_vc,
    encounter_id: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let vc = unsafe { the_vc(vc) }?;
        // SAFETY: caller contract.
        let id = unsafe { arg_str(encounter_id, "encounter_id") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let f = block_on(vc.finish(id))??;
        write_json(out, &f)
    })
}

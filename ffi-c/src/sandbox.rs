//! `hievc_sandbox`: the embedded HIE emulator (crate `hie-vc-sandbox`) in-process — FHIR API,
//! check-in publishing Encounters, Jitsi token service, Notification API — for tests, demos
//! and integration work without HIE credentials. An emulator, not HIE: see the sandbox crate's
//! documentation for what it does not emulate.

use std::ffi::{c_char, CString};
use std::sync::Mutex;
use std::time::Duration;

use hie_vc_sandbox::{Faults, Sandbox, Service};

use crate::broker::hievc_memory_broker;
use crate::config::hievc_config;
use crate::error::Failure;
use crate::fhir::parse_opts;
use crate::guard::{
    arg_out, arg_ref, arg_str, guard, guard_value, lock, opt_out, opt_str, to_cstring, write_handle,
};
use crate::hievc_error;
use crate::json::write_json;
use crate::runtime::block_on;
use crate::status::hievc_status;

impl From<hie_vc_sandbox::Error> for Failure {
    fn from(e: hie_vc_sandbox::Error) -> Self {
        Failure::from(hie_vc::Error::from(e))
    }
}

/// A running sandbox. Thread-safe.
pub struct hievc_sandbox {
    inner: Mutex<Option<Sandbox>>,
    url: CString,
    fhir_base: CString,
}

impl std::fmt::Debug for hievc_sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("hievc_sandbox")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Starts a sandbox on `127.0.0.1` and a free port, in this process (its server runs on the
/// library's runtime). `options_json` (NULL: defaults): `kafka_bootstrap` (publish check-ins to
/// real Kafka instead of the in-process broker) with `kafka_properties`, `topic`, `payload`
/// (`encounter` | `bundle`), `validate`, `check_references`, `allow_delete`,
/// `require_profile_claim`, `notify_email` + `notify_password`, `jitsi_domain`.
///
/// # Safety
/// `options_json` NULL or NUL-terminated; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_start(
    options_json: *const c_char,
    out: *mut *mut hievc_sandbox,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let opts: hie_vc_sandbox::SandboxOptions = parse_opts(
            unsafe { opt_str(options_json, "options_json") }?,
            "options_json",
        )?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let config = opts.config()?;
        let sandbox = block_on(Sandbox::start(config))??;
        let url = to_cstring(sandbox.url());
        let fhir_base = to_cstring(sandbox.fhir_base());
        write_handle(
            out,
            hievc_sandbox {
                inner: Mutex::new(Some(sandbox)),
                url,
                fhir_base,
            },
        );
        Ok(())
    })
}

/// Runs `f` on the running sandbox (`HIEVC_CLOSED` once it is stopped).
fn with<R>(
    sb: &hievc_sandbox,
    f: impl FnOnce(&Sandbox) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let guard = lock(&sb.inner);
    match guard.as_ref() {
        Some(s) => f(s),
        None => Err(Failure::from(hie_vc::Error::new(
            hie_vc::ErrorKind::Closed,
            "the sandbox is stopped",
        ))),
    }
}

/// Hands what `read` gives of the running sandbox to the caller as JSON (the record
/// accessors).
///
/// # Safety
/// `sb` is NULL or a live sandbox; `out` NULL or writable for the call.
unsafe fn write_from<T: serde::Serialize>(
    sb: *const hievc_sandbox,
    out: *mut *mut c_char,
    read: impl FnOnce(&Sandbox) -> T,
) -> Result<(), Failure> {
    // SAFETY: forwarded contract.
    let out = unsafe { arg_out(out, "out") }?;
    // SAFETY: forwarded contract.
    let sb = unsafe { arg_ref(sb, "sandbox") }?;
    let value = with(sb, |s| Ok(read(s)))?;
    write_json(out, &value)
}

/// The sandbox's origin, `http://127.0.0.1:<port>`. Borrowed from `sb`; NULL for NULL.
///
/// # Safety
/// `sb` is NULL or a live sandbox.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_url(sb: *const hievc_sandbox) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        unsafe { sb.as_ref() }.map_or(std::ptr::null(), |s| s.url.as_ptr())
    })
}

/// The sandbox's FHIR base URL, `http://127.0.0.1:<port>/fhir`. Borrowed from `sb`.
///
/// # Safety
/// `sb` is NULL or a live sandbox.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_fhir_base(sb: *const hievc_sandbox) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        unsafe { sb.as_ref() }.map_or(std::ptr::null(), |s| s.fhir_base.as_ptr())
    })
}

/// A new configuration pointing at this sandbox: `hie.url` (its FHIR API), `jitsi.provider` =
/// `hie` with `jitsi.url` (its token service), `notify.url`, `notify.email`,
/// `notify.password`, and `kafka.topics` (the topic check-ins publish to). Build a client,
/// Jitsi provider, notifier and listener from it; free it with `hievc_config_free`.
///
/// # Safety
/// `sb` is live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_config(
    sb: *const hievc_sandbox,
    out: *mut *mut hievc_config,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let sb = unsafe { arg_ref(sb, "sandbox") }?;
        let loader = with(sb, |s| Ok(s.settings()))?;
        write_handle(out, hievc_config::from_loader(loader)?);
        Ok(())
    })
}

/// The in-process broker check-ins publish to, as a `hievc_memory_broker` (shared, not a copy):
/// give it to `hievc_listener_new_memory`. `HIEVC_INVALID_STATE` when the sandbox publishes to
/// Kafka (`kafka_bootstrap`): use `hievc_listener_new` then.
///
/// # Safety
/// `sb` is live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_broker(
    sb: *const hievc_sandbox,
    out: *mut *mut hievc_memory_broker,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let sb = unsafe { arg_ref(sb, "sandbox") }?;
        let broker = with(sb, |s| {
            s.broker().ok_or_else(|| {
                Failure::state("the sandbox publishes to Kafka: listen with hievc_listener_new")
            })
        })?;
        write_handle(out, hievc_memory_broker { broker });
        Ok(())
    })
}

/// Checks a patient in for an Appointment, as HIE does when the patient checks in on
/// RekodSaya: creates the VC Encounter (a new Jitsi session token for VCI, the Appointment's
/// for VCE), stores it and publishes it. `patient_id` (NULL: the Appointment's only patient)
/// picks one patient of a VCE Appointment with several. Checking in again returns the same
/// Encounter without publishing it again. `*out`: `{"encounter": {...}, "encounterId",
/// "created", "vcType", "token", "delivery": {"topic", "partition", "offset"} | null}`.
///
/// # Safety
/// `sb` is live; strings NUL-terminated (`patient_id` may be NULL); `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_check_in(
    sb: *const hievc_sandbox,
    appointment_id: *const c_char,
    patient_id: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (appt, patient) = unsafe {
            (
                arg_str(appointment_id, "appointment_id")?,
                opt_str(patient_id, "patient_id")?,
            )
        };
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let sb = unsafe { arg_ref(sb, "sandbox") }?;
        let c = with(sb, |s| {
            let r = match patient {
                Some(p) => block_on(s.check_in_patient(appt, p))?,
                None => block_on(s.check_in(appt))?,
            };
            Ok(r?)
        })?;
        write_json(out, &c)
    })
}

/// Every notification the emulated Notification API accepted, in order: a JSON array of
/// `{"title", "body", "patientIds", "sender", "at"}`.
///
/// # Safety
/// `sb` is live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_notifications(
    sb: *const hievc_sandbox,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        unsafe { write_from(sb, out, Sandbox::notifications) }
    })
}

/// Every Jitsi session of the emulated token service, in creation order: a JSON array of
/// `{"token", "room", "origin", "createdAt", "joins": [...], "activatedAt", "activations",
/// "endedAt", "endCalls"}`.
///
/// # Safety
/// `sb` is live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_jitsi_sessions(
    sb: *const hievc_sandbox,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        unsafe { write_from(sb, out, Sandbox::jitsi_sessions) }
    })
}

/// The current version of a stored resource as FHIR JSON, in `*out`; `HIEVC_NOT_FOUND` when
/// unknown or deleted. (Reads the store directly, bypassing HTTP: for assertions.)
///
/// # Safety
/// `sb` is live; strings NUL-terminated; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_resource(
    sb: *const hievc_sandbox,
    resource_type: *const c_char,
    id: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (rt, id) = unsafe { (arg_str(resource_type, "resource_type")?, arg_str(id, "id")?) };
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let sb = unsafe { arg_ref(sb, "sandbox") }?;
        let r = with(sb, |s| {
            s.resource(rt, id).ok_or_else(|| {
                Failure::from(hie_vc::Error::new(
                    hie_vc::ErrorKind::NotFound,
                    format!("the sandbox stores no {rt}/{id}"),
                ))
            })
        })?;
        write_json(out, &r)
    })
}

/// Sets the fault switches of one service (`service`: `fhir`, `jitsi` or `notify`), replacing
/// the previous ones: `faults_json` is `{"latency_ms", "rate_limited", "unavailable",
/// "fail_next", "fail_status", "retry_after_secs", "down"}` (every key optional; `{}` clears).
///
/// # Safety
/// `sb` is live; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_set_faults(
    sb: *const hievc_sandbox,
    service: *const c_char,
    faults_json: *const c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (name, text) = unsafe {
            (
                arg_str(service, "service")?,
                arg_str(faults_json, "faults_json")?,
            )
        };
        let service: Service = name.parse().map_err(crate::fhir::invalid_name)?;
        let faults: Faults = crate::fhir::parse_json(text, "faults_json")?;
        // SAFETY: caller contract.
        let sb = unsafe { arg_ref(sb, "sandbox") }?;
        with(sb, |s| Ok(s.set_faults(service, faults)?))
    })
}

/// Removes every fault switch of every service (as `hievc_sandbox_set_faults` with `{}` for
/// each).
///
/// # Safety
/// `sb` is live.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_clear_faults(
    sb: *const hievc_sandbox,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let sb = unsafe { arg_ref(sb, "sandbox") }?;
        with(sb, |s| {
            s.clear_faults();
            Ok(())
        })
    })
}

/// The request counters of each emulated service since the sandbox started, in `*out`:
/// `{"fhir" | "jitsi" | "notify": {"requests", "failed" (answered with an injected error
/// status), "dropped" (connections closed while `down`)}}` — what `GET /sandbox/stats` gives
/// as `services`. Subtract two snapshots to count what one call caused (e.g. its retries).
///
/// # Safety
/// `sb` is live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_stats(
    sb: *const hievc_sandbox,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        unsafe { write_from(sb, out, Sandbox::all_stats) }
    })
}

/// Stops the sandbox: stops accepting, lets open requests finish briefly, flushes what it
/// publishes. Later calls on it return `HIEVC_CLOSED` (the URLs stay readable). Idempotent.
///
/// # Safety
/// `sb` is live.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_stop(
    sb: *const hievc_sandbox,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let sb = unsafe { arg_ref(sb, "sandbox") }?;
        let taken = lock(&sb.inner).take();
        if let Some(s) = taken {
            block_on(async move {
                // Bounded: a stuck connection must not hang the host.
                let _ = tokio::time::timeout(Duration::from_secs(10), s.shutdown()).await;
            })?;
        }
        Ok(())
    })
}

/// Stops (if running) and frees a sandbox. NULL is a no-op.
///
/// # Safety
/// `sb` is NULL or a sandbox not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_sandbox_free(sb: *mut hievc_sandbox) {
    guard_value((), || {
        if sb.is_null() {
            return;
        }
        // SAFETY: caller contract.
        let _ = unsafe { hievc_sandbox_stop(sb, std::ptr::null_mut()) };
        // SAFETY: caller contract: created by hievc_sandbox_start, freed once.
        drop(unsafe { Box::from_raw(sb) });
    })
}

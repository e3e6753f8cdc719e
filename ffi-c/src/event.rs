//! `hievc_encounter_event`: one Encounter as the listener delivers it — borrowed by a callback
//! or owned after `hievc_listener_poll` / `hievc_event_clone` — with its accessors and JSON.

use std::ffi::{c_char, c_int, CString};
use std::fmt;
use std::sync::{Mutex, OnceLock};

use hie_vc::listener::{Delivery, EncounterEvent};

use crate::error::Failure;
use crate::guard::{
    arg_out, arg_ref, free_handle, guard, guard_value, lock, opt_out, opt_ptr, to_cstring,
    write_handle, write_out,
};
use crate::hievc_error;
use crate::status::hievc_status;

/// One Encounter, as delivered to a callback (borrowed, valid during the call) or by
/// `hievc_listener_poll` / `hievc_event_clone` (owned, freed with `hievc_event_free`).
///
/// The strings its accessors return are borrowed from it: valid as long as the event. Safe to
/// read from several threads.
pub struct hievc_encounter_event {
    event: EncounterEvent,
    /// A polled event's answer channel; `None` for a callback's event or a clone (the
    /// callback's return value answers those).
    delivery: Mutex<Option<Delivery>>,
    encounter_json: OnceLock<CString>,
    json: OnceLock<CString>,
    strings: OnceLock<EventStrings>,
}

struct EventStrings {
    id: Option<CString>,
    version_id: Option<CString>,
    vc_type: Option<CString>,
    vc_token: Option<CString>,
    status: Option<CString>,
    topic: CString,
}

impl fmt::Debug for hievc_encounter_event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.event.fmt(f)
    }
}

impl hievc_encounter_event {
    /// An event that cannot be answered (a callback's, or a clone).
    pub(crate) fn new(event: EncounterEvent) -> Self {
        Self::with(event, None)
    }

    /// A polled event, answered with `hievc_event_ack`.
    pub(crate) fn polled(delivery: Delivery) -> Self {
        Self::with(delivery.event().clone(), Some(delivery))
    }

    fn with(event: EncounterEvent, delivery: Option<Delivery>) -> Self {
        Self {
            event,
            delivery: Mutex::new(delivery),
            encounter_json: OnceLock::new(),
            json: OnceLock::new(),
            strings: OnceLock::new(),
        }
    }

    fn strings(&self) -> &EventStrings {
        self.strings.get_or_init(|| {
            let e = &self.event;
            let vc = e.vc();
            EventStrings {
                id: e.encounter_id().map(to_cstring),
                version_id: e.version_id().map(to_cstring),
                vc_type: vc.map(|v| to_cstring(v.vc_type.code())),
                vc_token: vc.and_then(|v| v.token.clone()).map(to_cstring),
                status: e
                    .encounter()
                    .status
                    .as_ref()
                    .map(|s| to_cstring(s.as_str())),
                topic: to_cstring(e.topic()),
            }
        })
    }
}

/// Runs `f` on the event (`None` for NULL), or gives `default` for NULL (or a panic).
fn with_event<R: Copy>(
    ev: Option<&hievc_encounter_event>,
    default: R,
    f: impl FnOnce(&hievc_encounter_event) -> R,
) -> R {
    guard_value(default, || ev.map_or(default, f))
}

/// The Encounter as FHIR JSON. Borrowed from `ev`; NULL for a NULL `ev`.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_encounter_json(
    ev: *const hievc_encounter_event,
) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        e.encounter_json
            .get_or_init(|| to_cstring(hie_vc::fhir::to_json(e.event.encounter())))
            .as_ptr()
    })
}

/// Everything about the event as one JSON object: `encounter`, `encounterId`, `versionId`,
/// `vc` (`type`, `token`, `encounterNumber`, `status`, `patient`, `practitioners`,
/// `organisation`, `appointments`, `period`; null for a non-VC Encounter), `included`
/// (`[{"fullUrl", "resource"}]`), `warnings`, `layout`, `topic`, `partition`, `offset`,
/// `key`, `timestampMs`, `headers`. Borrowed from `ev`.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_json(ev: *const hievc_encounter_event) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        e.json
            .get_or_init(|| crate::json::to_cstring(&e.event).unwrap_or_default())
            .as_ptr()
    })
}

/// The Encounter's logical id, or NULL. Borrowed from `ev`.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_encounter_id(
    ev: *const hievc_encounter_event,
) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        opt_ptr(&e.strings().id)
    })
}

/// The Encounter's `meta.versionId` (with the id, the dedupe key), or NULL. Borrowed.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_version_id(ev: *const hievc_encounter_event) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        opt_ptr(&e.strings().version_id)
    })
}

/// The VC type code (`VCI`, `VCE`, `VCMDT`, `VCD`, or another serviceType code), or NULL for a
/// non-VC Encounter (only delivered with `listener.filter = "all"`). Borrowed.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_vc_type(ev: *const hievc_encounter_event) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        opt_ptr(&e.strings().vc_type)
    })
}

/// The vc-token (the Jitsi session token), or NULL. A secret: do not log it. Borrowed.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_vc_token(ev: *const hievc_encounter_event) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        opt_ptr(&e.strings().vc_token)
    })
}

/// `Encounter.status` (`arrived`, `in-progress`, `finished`, ...), or NULL. Borrowed.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_status(ev: *const hievc_encounter_event) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        opt_ptr(&e.strings().status)
    })
}

/// The topic the record came from. Borrowed.
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_topic(ev: *const hievc_encounter_event) -> *const c_char {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        e.strings().topic.as_ptr()
    })
}

/// The record's partition (-1 for a NULL `ev`).
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_partition(ev: *const hievc_encounter_event) -> i32 {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, -1, |e| e.event.partition())
}

/// The record's offset (-1 for a NULL `ev`).
///
/// # Safety
/// `ev` is NULL or a live event from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_offset(ev: *const hievc_encounter_event) -> i64 {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, -1, |e| e.event.offset())
}

/// The raw record payload, exactly as received (`*len` receives its length when `len` is not
/// NULL). Borrowed; not NUL-terminated.
///
/// # Safety
/// `ev` is NULL or a live event from this library; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_payload(
    ev: *const hievc_encounter_event,
    len: *mut usize,
) -> *const u8 {
    // SAFETY: caller contract.
    with_event(unsafe { ev.as_ref() }, std::ptr::null(), |e| {
        let raw = e.event.raw();
        // SAFETY: caller contract.
        if let Some(len) = unsafe { opt_out(len) } {
            write_out(len, raw.len());
        }
        raw.as_ptr()
    })
}

/// An owned copy of an event (e.g. to keep a callback's event after the call). Cheap (shared
/// data). The copy cannot be acknowledged: the callback's return value answers for it.
///
/// # Safety
/// `ev` is a live event; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_clone(
    ev: *const hievc_encounter_event,
    out: *mut *mut hievc_encounter_event,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let e = unsafe { arg_ref(ev, "ev") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        write_handle(out, hievc_encounter_event::new(e.event.clone()));
        Ok(())
    })
}

/// Answers a polled event: 0 acknowledges it (its offset is stored), a positive value fails
/// the attempt (retried, then dead-lettered or reported), a negative one fails it for good.
/// Once per event: `HIEVC_INVALID_STATE` for a second answer, for a callback's event (the
/// callback's return value answers) or a clone; `HIEVC_CLOSED` when the listener gave up on
/// it meanwhile (stopped, or `listener.handler_timeout_ms` passed).
///
/// # Safety
/// `ev` is a live event.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_ack(
    ev: *const hievc_encounter_event,
    result: c_int,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let e = unsafe { arg_ref(ev, "ev") }?;
        let delivery = lock(&e.delivery).take().ok_or_else(|| {
            Failure::state("this event cannot be answered: it was answered already, or it is a callback's event or a clone")
        })?;
        Ok(answer(delivery, result)?)
    })
}

/// A host callback's return value that failed the event.
#[derive(Debug)]
struct CallbackFailed(c_int);

impl fmt::Display for CallbackFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the host callback returned {}", self.0)
    }
}

impl std::error::Error for CallbackFailed {}

/// Answers `delivery` with a host's result code: 0 acknowledges, a positive value fails the
/// attempt (retried), a negative one fails it for good. `ErrorKind::Closed` when the listener
/// gave up on the event meanwhile.
pub(crate) fn answer(delivery: Delivery, code: c_int) -> Result<(), hie_vc::Error> {
    match code {
        0 => delivery.ack(),
        c if c < 0 => delivery.fail_permanent(CallbackFailed(c)),
        c => delivery.fail(CallbackFailed(c)),
    }
}

/// Frees an owned event (from `hievc_listener_poll` or `hievc_event_clone`). NULL is a no-op.
/// A polled event freed without `hievc_event_ack` counts as failed (it will be retried). Never
/// free the event a callback receives.
///
/// # Safety
/// `ev` is NULL or an owned event not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_event_free(ev: *mut hievc_encounter_event) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(ev) })
}

//! Rich error detail: `hievc_error`, handed out through the optional `hievc_error **err`
//! out-parameter of every fallible function and freed with `hievc_error_free`.

use std::ffi::{c_char, CString};
use std::ptr;

use hie_vc::fhir;
use serde_json::json;

use crate::guard::{guard_value, opt_ptr, to_cstring, write_handle, ErrOut};
use crate::json::report_doc;
use crate::status::hievc_status::{self, *};

/// What went wrong in a call, before it becomes a `hievc_error` (boxed: one pointer on the
/// `Result` of every internal function).
#[derive(Debug, Clone)]
pub(crate) struct Failure(Box<Detail>);

impl std::ops::Deref for Failure {
    type Target = Detail;
    fn deref(&self) -> &Detail {
        &self.0
    }
}

impl std::ops::DerefMut for Failure {
    fn deref_mut(&mut self) -> &mut Detail {
        &mut self.0
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Detail {
    pub status: hievc_status,
    pub kind: String,
    pub message: String,
    pub http_status: u16,
    pub outcome_json: Option<String>,
    pub report_json: Option<String>,
    pub location: Option<String>,
    pub request_id: Option<String>,
    pub retry_after_ms: Option<u64>,
    pub retryable: bool,
    /// The VC workflow step that failed, and the steps done before it.
    pub step: Option<&'static str>,
    pub completed_steps: Vec<&'static str>,
}

impl Failure {
    /// A failure that is not an SDK error (NULL argument, invalid UTF-8, ...).
    pub fn new(status: hievc_status, message: impl Into<String>) -> Self {
        Self(Box::new(Detail {
            status,
            kind: status.name().to_string_lossy().into_owned(),
            message: message.into(),
            http_status: 0,
            outcome_json: None,
            report_json: None,
            location: None,
            request_id: None,
            retry_after_ms: None,
            retryable: false,
            step: None,
            completed_steps: Vec::new(),
        }))
    }
    pub fn null(what: &str) -> Self {
        Self::new(
            HIEVC_NULL_ARGUMENT,
            format!("argument '{what}' is NULL; pass a valid pointer"),
        )
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(HIEVC_INVALID_ARGUMENT, message)
    }
    pub fn json(what: &str, e: &serde_json::Error) -> Self {
        Self::new(
            HIEVC_INVALID_JSON,
            format!("argument '{what}' is not the JSON expected: {e}"),
        )
    }
    pub fn state(message: impl Into<String>) -> Self {
        Self::new(HIEVC_INVALID_STATE, message)
    }
}

impl From<hie_vc::Error> for Failure {
    fn from(e: hie_vc::Error) -> Self {
        let mut message = e.to_string();
        // The chain often says what the top message only summarises (e.g. an I/O cause).
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        Self(Box::new(Detail {
            status: hievc_status::of_kind(e.kind()),
            kind: e.kind().as_str().to_owned(),
            message,
            http_status: e.status().unwrap_or(0),
            outcome_json: e.outcome().map(fhir::to_json),
            report_json: e
                .report()
                .and_then(|r| crate::json::to_string(&report_doc(r)).ok()),
            location: e.location().map(str::to_owned),
            request_id: e.request_id().map(str::to_owned),
            retry_after_ms: e
                .retry_after()
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            retryable: e.is_retryable(),
            step: e.step().map(hie_vc::vc::Step::as_str),
            completed_steps: e.completed_steps().iter().map(|s| s.as_str()).collect(),
        }))
    }
}

impl From<fhir::ReadError> for Failure {
    fn from(e: fhir::ReadError) -> Self {
        Failure::from(hie_vc::Error::from(e))
    }
}

/// Detail of a failed call: status, error kind, message, HTTP status, OperationOutcome, ...
///
/// Created by the library, owned by the caller, freed with `hievc_error_free`. The strings its
/// accessors return are borrowed: valid until the error is freed. Immutable, so it may be read
/// from any thread.
pub struct hievc_error {
    status: hievc_status,
    kind: CString,
    message: CString,
    http_status: u16,
    outcome_json: Option<CString>,
    report_json: Option<CString>,
    location: Option<CString>,
    request_id: Option<CString>,
    retry_after_ms: i64,
    retryable: bool,
    step: Option<CString>,
    json: CString,
}

impl std::fmt::Debug for hievc_error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("hievc_error")
            .field("status", &self.status)
            .field("kind", &self.kind)
            .field("http_status", &self.http_status)
            .finish_non_exhaustive()
    }
}

impl From<Failure> for hievc_error {
    fn from(f: Failure) -> Self {
        let f = *f.0;
        let json = json!({
            "status": f.status as i32,
            "status_name": f.status.name().to_string_lossy(),
            "kind": f.kind,
            "message": f.message,
            "http_status": (f.http_status != 0).then_some(f.http_status),
            "operation_outcome": f.outcome_json.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()),
            "report": f.report_json.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()),
            "location": f.location,
            "request_id": f.request_id,
            "retry_after_ms": f.retry_after_ms,
            "retryable": f.retryable,
            "step": f.step,
            "completed_steps": f.completed_steps,
        });
        Self {
            status: f.status,
            kind: to_cstring(f.kind),
            message: to_cstring(f.message),
            http_status: f.http_status,
            outcome_json: f.outcome_json.map(to_cstring),
            report_json: f.report_json.map(to_cstring),
            location: f.location.map(to_cstring),
            request_id: f.request_id.map(to_cstring),
            retry_after_ms: f
                .retry_after_ms
                .map_or(-1, |ms| i64::try_from(ms).unwrap_or(i64::MAX)),
            retryable: f.retryable,
            step: f.step.map(to_cstring),
            json: to_cstring(json.to_string()),
        }
    }
}

/// Writes `f` to `*err` when the caller asked for it (overwriting, not freeing, what was
/// there).
pub(crate) fn store(err: ErrOut<'_>, f: Failure) {
    if let Some(err) = err {
        write_handle(err, hievc_error::from(f));
    }
}

/// Runs `f` on the error (`None` for NULL), or gives `default` for NULL (or a panic).
fn with_error<R: Copy>(
    err: Option<&hievc_error>,
    default: R,
    f: impl FnOnce(&hievc_error) -> R,
) -> R {
    guard_value(default, || err.map_or(default, f))
}

/// The status of the failed call (`HIEVC_NULL_ARGUMENT` for a NULL `err`).
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_code(err: *const hievc_error) -> hievc_status {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, HIEVC_NULL_ARGUMENT, |e| e.status)
}

/// The error kind's stable snake_case name (`"not_found"`, `"validation"`, `"null_argument"`,
/// ...). Borrowed from `err`; NULL for a NULL `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_kind(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| e.kind.as_ptr())
}

/// A message that says what happened and what to do. Borrowed from `err`; NULL for a NULL
/// `err`. Never contains secrets; may quote resource content (ids, codes).
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_message(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| e.message.as_ptr())
}

/// The HTTP status of an HTTP error, else 0.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_http_status(err: *const hievc_error) -> u16 {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, 0, |e| e.http_status)
}

/// The server's OperationOutcome as FHIR JSON, when it sent one; else NULL. Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_operation_outcome(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| {
        opt_ptr(&e.outcome_json)
    })
}

/// For `HIEVC_VALIDATION`: the MY Core report as JSON (same shape as `hievc_validate`'s); else
/// NULL. Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_report(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| {
        opt_ptr(&e.report_json)
    })
}

/// Where in the input the problem is (a FHIRPath such as `Appointment.participant[0].actor`,
/// or a Kafka coordinate), when known; else NULL. Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_location(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| {
        opt_ptr(&e.location)
    })
}

/// The `X-Request-Id` of the failed HTTP request (quote it when reporting to HIE); else NULL.
/// Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_request_id(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| {
        opt_ptr(&e.request_id)
    })
}

/// How long the server asked to wait before retrying (429/503), in milliseconds; -1 when it
/// did not say.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_retry_after_ms(err: *const hievc_error) -> i64 {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, -1, |e| e.retry_after_ms)
}

/// Whether retrying the same call later may succeed (transport errors, timeouts, 429, 502,
/// 503, 504).
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_is_retryable(err: *const hievc_error) -> bool {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, false, |e| e.retryable)
}

/// For VC workflow errors: the step that failed (`create_session`, `schedule`, `book`,
/// `practitioner_join`, `activate`, `find_patients`, `notify`, `finish_encounter`,
/// `end_session`); the steps done before it are `completed_steps` in `hievc_error_json`. NULL
/// for other errors. Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_step(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| opt_ptr(&e.step))
}

/// Everything above as one JSON object (`status`, `status_name`, `kind`, `message`,
/// `http_status`, `operation_outcome`, `report`, `location`, `request_id`, `retry_after_ms`,
/// `retryable`, `step`, `completed_steps`; absent values are `null`). Borrowed from `err`; NULL for a NULL `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_json(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| e.json.as_ptr())
}

/// Frees an error. NULL is a no-op. Freeing twice is undefined behaviour.
///
/// # Safety
/// `err` is NULL or an error from this library not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_free(err: *mut hievc_error) {
    guard_value((), || {
        if !err.is_null() {
            // SAFETY: a non-NULL `err` came from this library and is freed once (contract).
            drop(unsafe { Box::from_raw(err) });
        }
    })
}

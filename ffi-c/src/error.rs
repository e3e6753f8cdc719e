//! Rich error detail: `hievc_error`, handed out through the optional `hievc_error **err`
//! out-parameter of every fallible function and freed with `hievc_error_free`.

use std::ffi::{c_char, CString};
use std::ptr;

use hie_vc::error::ErrorInfo;
use hie_vc::fhir;
use serde::Serialize;

use crate::guard::{guard_value, opt_ptr, to_cstring, write_handle, ErrOut};
use crate::status::hievc_status::{self, *};

/// What went wrong in a call, before it becomes a `hievc_error` (boxed: one pointer on the
/// `Result` of every internal function): the C status, and the error as every binding shows it
/// (`hie_vc::error::ErrorInfo`).
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Detail {
    #[serde(serialize_with = "status_code")]
    pub status: hievc_status,
    #[serde(serialize_with = "status_name")]
    #[serde(rename = "statusName")]
    pub status_name: hievc_status,
    #[serde(flatten)]
    pub info: ErrorInfo,
}

fn status_code<S: serde::Serializer>(s: &hievc_status, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_i32(*s as i32)
}

fn status_name<S: serde::Serializer>(s: &hievc_status, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&s.name().to_string_lossy())
}

impl Failure {
    fn of(status: hievc_status, info: ErrorInfo) -> Self {
        Self(Box::new(Detail {
            status,
            status_name: status,
            info,
        }))
    }
    /// A failure that is not an SDK error (NULL argument, invalid UTF-8, ...): its kind is the
    /// status's name.
    pub fn new(status: hievc_status, message: impl Into<String>) -> Self {
        Self::of(
            status,
            ErrorInfo::new(status.name().to_string_lossy(), message),
        )
    }
    /// Changes the status (and with it the kind).
    pub fn with_status(mut self, status: hievc_status) -> Self {
        self.0.status = status;
        self.0.status_name = status;
        self.0.info.kind = status.name().to_string_lossy().into_owned();
        self
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
        Self::of(hievc_status::of_kind(e.kind()), e.info())
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
        let json = crate::json::to_cstring(&*f).unwrap_or_default();
        let Detail { status, info, .. } = *f.0;
        let report_json = info
            .report
            .as_ref()
            .and_then(|r| crate::json::to_cstring(r).ok());
        Self {
            status,
            kind: to_cstring(info.kind),
            message: to_cstring(info.message),
            http_status: info.http_status.unwrap_or(0),
            outcome_json: info
                .operation_outcome
                .as_ref()
                .map(|o| to_cstring(fhir::to_json(o))),
            report_json,
            location: info.location.map(to_cstring),
            request_id: info.request_id.map(to_cstring),
            retry_after_ms: info
                .retry_after_ms
                .map_or(-1, |ms| i64::try_from(ms).unwrap_or(i64::MAX)),
            retryable: info.retryable,
            step: info.step.map(|s| to_cstring(s.as_str())),
            json,
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
/// `end_session`); the steps done before it are `completedSteps` in `hievc_error_json`. NULL
/// for other errors. Borrowed from `err`.
///
/// # Safety
/// `err` is NULL or a live error from this library.
#[no_mangle]
pub unsafe extern "C" fn hievc_error_step(err: *const hievc_error) -> *const c_char {
    // SAFETY: caller contract.
    with_error(unsafe { err.as_ref() }, ptr::null(), |e| opt_ptr(&e.step))
}

/// Everything above as one JSON object (`status`, `statusName`, `kind`, `message`,
/// `httpStatus`, `operationOutcome`, `report`, `location`, `requestId`, `retryAfterMs`,
/// `retryable`, `step`, `completedSteps`; absent values are `null`). Borrowed from `err`; NULL for a NULL `err`.
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

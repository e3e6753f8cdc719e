//! The C ABI's contract checked from Rust, through the exported `extern "C"` functions exactly as
//! a C host calls them (tests/c/test_basic.c checks the same from C): the version, status names,
//! NULL arguments (`HIEVC_NULL_ARGUMENT`, out-parameters untouched), invalid UTF-8
//! (`HIEVC_INVALID_UTF8`), invalid JSON, NULL-safe frees, the error's accessors and JSON, and
//! blocking calls made from inside a host's own tokio runtime of either flavor.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use hievc::*;
use serde_json::Value;

/// A C string argument.
fn c(s: &str) -> CString {
    CString::new(s).expect("test strings have no NUL")
}

/// The text behind a borrowed C string, `None` for NULL.
fn text(p: *const c_char) -> Option<String> {
    // SAFETY: the library returns NULL or a NUL-terminated string valid while its owner lives.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// A string handed out through `char **` (freed here with `hievc_string_free`).
fn take_string(p: *mut c_char) -> String {
    let s = text(p).expect("an output string");
    // SAFETY: `p` came from the library and is freed once.
    unsafe { hievc_string_free(p) };
    s
}

/// The error a failed call wrote to `err`, freed on drop.
struct Error(*mut hievc_error);

impl Error {
    fn new() -> Self {
        Self(ptr::null_mut())
    }
    fn slot(&mut self) -> *mut *mut hievc_error {
        // A call that fails writes a new error, overwriting (not freeing) the old one.
        self.free();
        &mut self.0
    }
    fn free(&mut self) {
        // SAFETY: NULL or an error from the library, freed once.
        unsafe { hievc_error_free(self.0) };
        self.0 = ptr::null_mut();
    }
    fn code(&self) -> hievc_status {
        // SAFETY: NULL or a live error.
        unsafe { hievc_error_code(self.0) }
    }
    fn kind(&self) -> String {
        // SAFETY: NULL or a live error.
        text(unsafe { hievc_error_kind(self.0) }).expect("a kind")
    }
    fn message(&self) -> String {
        // SAFETY: NULL or a live error.
        text(unsafe { hievc_error_message(self.0) }).expect("a message")
    }
    fn json(&self) -> Value {
        // SAFETY: NULL or a live error.
        let t = text(unsafe { hievc_error_json(self.0) }).expect("the error's JSON");
        serde_json::from_str(&t).expect("hievc_error_json is JSON")
    }
}

impl Drop for Error {
    fn drop(&mut self) {
        self.free();
    }
}

/// A pointer value no call may write over on failure (never dereferenced).
fn sentinel<T>() -> *mut T {
    ptr::dangling_mut()
}

fn config_new() -> *mut hievc_config {
    let mut cfg = ptr::null_mut();
    // SAFETY: writable out-parameter.
    assert_eq!(
        unsafe { hievc_config_new(&mut cfg, ptr::null_mut()) },
        hievc_status::HIEVC_OK
    );
    cfg
}

fn data_file(name: &str) -> CString {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/c/data/");
    let text = std::fs::read_to_string(format!("{path}{name}")).expect("tests/c/data file");
    c(&text)
}

#[test]
fn version_is_the_crate_version_and_the_header_macros() {
    let v = text(hievc_version()).unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        v,
        format!("{HIEVC_VERSION_MAJOR}.{HIEVC_VERSION_MINOR}.{HIEVC_VERSION_PATCH}")
    );
    assert_eq!(
        HIEVC_VERSION_NUMBER,
        HIEVC_VERSION_MAJOR * 10000 + HIEVC_VERSION_MINOR * 100 + HIEVC_VERSION_PATCH
    );
    // Static: the same pointer every time.
    assert_eq!(hievc_version(), hievc_version());
}

#[test]
fn status_names_are_stable_and_unknown_values_are_safe() {
    use hievc_status::*;
    let name = |s: i32| text(hievc_status_name(s)).unwrap();
    assert_eq!(name(HIEVC_OK as i32), "ok");
    assert_eq!(name(HIEVC_NULL_ARGUMENT as i32), "null_argument");
    assert_eq!(name(HIEVC_INVALID_UTF8 as i32), "invalid_utf8");
    assert_eq!(name(HIEVC_NOT_FOUND as i32), "not_found");
    assert_eq!(name(HIEVC_PANIC as i32), "panic");
    assert_eq!(name(HIEVC_OTHER as i32), "other");
    assert_eq!(name(-7), "unknown");
    assert_eq!(name(99999), "unknown");
    // Explicit values are part of the ABI.
    assert_eq!(
        [
            HIEVC_OK,
            HIEVC_NULL_ARGUMENT,
            HIEVC_INVALID_UTF8,
            HIEVC_INVALID_JSON,
            HIEVC_PANIC,
            HIEVC_NO_EVENT,
            HIEVC_BAD_REQUEST,
            HIEVC_HANDLER,
            HIEVC_TLS
        ]
        .map(|s| s as i32),
        [0, 1, 2, 3, 4, 6, 100, 124, 125]
    );
    assert_eq!(name(HIEVC_TLS as i32), "tls");
}

#[test]
fn every_free_accepts_null() {
    // SAFETY: NULL is documented as a no-op for each.
    unsafe {
        hievc_string_free(ptr::null_mut());
        hievc_error_free(ptr::null_mut());
        hievc_config_free(ptr::null_mut());
        hievc_client_free(ptr::null_mut());
        hievc_validator_free(ptr::null_mut());
        hievc_listener_free(ptr::null_mut());
        hievc_event_free(ptr::null_mut());
        hievc_memory_broker_free(ptr::null_mut());
        hievc_jitsi_free(ptr::null_mut());
        hievc_notifier_free(ptr::null_mut());
        hievc_vc_free(ptr::null_mut());
        hievc_sandbox_free(ptr::null_mut());
    }
}

#[test]
fn accessors_on_null_give_their_neutral_values() {
    let e: *const hievc_error = ptr::null();
    let ev: *const hievc_encounter_event = ptr::null();
    // SAFETY: NULL is documented for every accessor.
    unsafe {
        assert_eq!(hievc_error_code(e), hievc_status::HIEVC_NULL_ARGUMENT);
        assert!(hievc_error_kind(e).is_null());
        assert!(hievc_error_message(e).is_null());
        assert_eq!(hievc_error_http_status(e), 0);
        assert!(hievc_error_operation_outcome(e).is_null());
        assert!(hievc_error_report(e).is_null());
        assert!(hievc_error_location(e).is_null());
        assert!(hievc_error_request_id(e).is_null());
        assert_eq!(hievc_error_retry_after_ms(e), -1);
        assert!(!hievc_error_is_retryable(e));
        assert!(hievc_error_step(e).is_null());
        assert!(hievc_error_json(e).is_null());

        assert!(hievc_event_encounter_json(ev).is_null());
        assert!(hievc_event_json(ev).is_null());
        assert_eq!(hievc_event_partition(ev), -1);
        assert_eq!(hievc_event_offset(ev), -1);
        let mut len = 7usize;
        assert!(hievc_event_payload(ev, &mut len).is_null());
        assert_eq!(len, 7, "nothing written for a NULL event");
        assert!(hievc_sandbox_url(ptr::null()).is_null());
    }
}

#[test]
fn null_arguments_are_refused_and_outputs_left_untouched() {
    let mut err = Error::new();
    let mut cfg: *mut hievc_config = sentinel();
    let json = c("{}");
    // SAFETY: every pointer is NULL or valid.
    unsafe {
        assert_eq!(
            hievc_config_from_json(ptr::null(), &mut cfg, err.slot()),
            hievc_status::HIEVC_NULL_ARGUMENT
        );
        assert_eq!(
            cfg,
            sentinel(),
            "out-parameters are written only on success"
        );
        assert_eq!(err.code(), hievc_status::HIEVC_NULL_ARGUMENT);
        assert_eq!(err.kind(), "null_argument");
        assert!(err.message().contains("'json'"), "{}", err.message());

        // A NULL out-parameter is refused before any work is done.
        assert_eq!(
            hievc_config_from_json(json.as_ptr(), ptr::null_mut(), err.slot()),
            hievc_status::HIEVC_NULL_ARGUMENT
        );
        assert!(err.message().contains("'out'"), "{}", err.message());

        // The error out-parameter itself is optional.
        assert_eq!(
            hievc_config_from_json(ptr::null(), &mut cfg, ptr::null_mut()),
            hievc_status::HIEVC_NULL_ARGUMENT
        );
        assert_eq!(cfg, sentinel());

        // Handles, strings and out-parameters of other exports.
        let mut out: *mut c_char = sentinel();
        let mut client: *mut hievc_client = sentinel();
        assert_eq!(
            hievc_client_new(ptr::null(), &mut client, err.slot()),
            hievc_status::HIEVC_NULL_ARGUMENT
        );
        assert!(err.message().contains("'cfg'"));
        assert_eq!(
            hievc_client_read(
                ptr::null(),
                c("Patient").as_ptr(),
                c("p1").as_ptr(),
                ptr::null(),
                &mut out,
                err.slot()
            ),
            hievc_status::HIEVC_NULL_ARGUMENT
        );
        assert_eq!(
            hievc_validate(ptr::null(), &mut out, err.slot()),
            hievc_status::HIEVC_NULL_ARGUMENT
        );
        assert_eq!(
            hievc_fhir_read(json.as_ptr(), ptr::null(), ptr::null_mut(), err.slot()),
            hievc_status::HIEVC_NULL_ARGUMENT
        );
        assert_eq!((out, client), (sentinel(), sentinel()));
    }
}

#[test]
fn a_successful_call_leaves_err_untouched() {
    let mut err: *mut hievc_error = sentinel();
    let mut cfg = ptr::null_mut();
    // SAFETY: valid pointers; `err` is never dereferenced on success.
    unsafe {
        assert_eq!(
            hievc_config_from_json(c("{}").as_ptr(), &mut cfg, &mut err),
            hievc_status::HIEVC_OK
        );
        assert!(!cfg.is_null());
        assert_eq!(err, sentinel());
        hievc_config_free(cfg);
    }
}

#[test]
fn invalid_utf8_is_refused_with_where_it_starts() {
    let mut err = Error::new();
    let cfg = config_new();
    let bad = CString::new(b"http://\xff\xfe".to_vec()).unwrap();
    let mut out: *mut c_char = sentinel();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(
            hievc_config_set(cfg, c("hie.url").as_ptr(), bad.as_ptr(), err.slot()),
            hievc_status::HIEVC_INVALID_UTF8
        );
        assert_eq!(err.kind(), "invalid_utf8");
        assert!(
            err.message().contains("'value'") && err.message().contains("byte 7"),
            "{}",
            err.message()
        );
        let resource =
            CString::new(&b"{\"resourceType\":\"Patient\",\"id\":\"\xc3\x28\"}"[..]).unwrap();
        assert_eq!(
            hievc_fhir_read(resource.as_ptr(), ptr::null(), &mut out, err.slot()),
            hievc_status::HIEVC_INVALID_UTF8
        );
        assert_eq!(out, sentinel());
        hievc_config_free(cfg);
    }
}

#[test]
fn invalid_json_and_wrong_options_have_their_own_statuses() {
    let mut err = Error::new();
    let mut cfg: *mut hievc_config = sentinel();
    let mut out: *mut c_char = sentinel();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(
            hievc_config_from_json(c("{\"hie\":").as_ptr(), &mut cfg, err.slot()),
            hievc_status::HIEVC_INVALID_JSON
        );
        assert_eq!(err.kind(), "invalid_json");
        assert_eq!(
            hievc_fhir_read(
                c("{}").as_ptr(),
                c("{\"mode\":\"sloppy\"}").as_ptr(),
                &mut out,
                err.slot()
            ),
            hievc_status::HIEVC_INVALID_ARGUMENT
        );
        assert_eq!((cfg, out), (sentinel(), sentinel()));
    }
}

#[test]
fn the_error_says_what_went_wrong_in_text_and_json() {
    let mut err = Error::new();
    let cfg = config_new();
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(
            hievc_config_set(cfg, c("hie.ulr").as_ptr(), c("x").as_ptr(), err.slot()),
            hievc_status::HIEVC_CONFIG
        );
        assert_eq!(err.code(), hievc_status::HIEVC_CONFIG);
        assert_eq!(err.kind(), "config");
        assert!(err.message().contains("ulr"), "{}", err.message());
        assert_eq!(hievc_error_http_status(err.0), 0);
        assert_eq!(hievc_error_retry_after_ms(err.0), -1);
        assert!(!hievc_error_is_retryable(err.0));
        let j = err.json();
        assert_eq!(j["status"], hievc_status::HIEVC_CONFIG as i32);
        assert_eq!(j["statusName"], "config");
        assert_eq!(j["kind"], "config");
        assert_eq!(j["message"], err.message().as_str());
        assert_eq!(j["httpStatus"], Value::Null);
        assert_eq!(j["retryable"], false);
        assert_eq!(j["completedSteps"], serde_json::json!([]));

        // A decode error points at the element.
        let quirky = c(
            r#"{"resourceType":"Appointment","status":"booked","slot":{"reference":"Slot/s1"},"participant":[{"status":"accepted"}]}"#,
        );
        let mut out: *mut c_char = sentinel();
        assert_eq!(
            hievc_fhir_read(quirky.as_ptr(), ptr::null(), &mut out, err.slot()),
            hievc_status::HIEVC_DECODE
        );
        assert_eq!(
            text(hievc_error_location(err.0)).as_deref(),
            Some("Appointment.slot")
        );
        assert_eq!(err.json()["location"], "Appointment.slot");

        // A MY Core refusal before sending carries the report (no server is contacted).
        assert_eq!(
            hievc_config_set(
                cfg,
                c("hie.url").as_ptr(),
                c("http://127.0.0.1:9/fhir").as_ptr(),
                err.slot()
            ),
            hievc_status::HIEVC_OK
        );
        let mut client = ptr::null_mut();
        assert_eq!(
            hievc_client_new(cfg, &mut client, err.slot()),
            hievc_status::HIEVC_OK
        );
        let bad = data_file("vc_encounter_invalid.json");
        assert_eq!(
            hievc_client_create(
                client,
                bad.as_ptr(),
                c("{\"validate\":true}").as_ptr(),
                &mut out,
                err.slot()
            ),
            hievc_status::HIEVC_VALIDATION
        );
        let report = text(hievc_error_report(err.0)).expect("a report");
        assert!(
            report.contains("\"rule\":\"vc-token-required\""),
            "{report}"
        );
        assert_eq!(err.json()["report"]["valid"], false);
        assert_eq!(out, sentinel());
        hievc_client_free(client);
        hievc_config_free(cfg);
    }
}

#[test]
fn validation_reports_come_back_as_json() {
    let mut err = Error::new();
    let mut out = ptr::null_mut();
    // SAFETY: valid pointers.
    unsafe {
        let enc = data_file("vc_encounter.json");
        assert_eq!(
            hievc_validate(enc.as_ptr(), &mut out, err.slot()),
            hievc_status::HIEVC_OK
        );
        let report: Value = serde_json::from_str(&take_string(out)).unwrap();
        assert_eq!(
            (report["valid"].clone(), report["errors"].clone()),
            (Value::Bool(true), 0.into())
        );
    }
}

/// The in-process sandbox and a client of it, for calls that block on the library's runtime.
struct Sandbox {
    sandbox: *mut hievc_sandbox,
    client: *mut hievc_client,
}

impl Sandbox {
    fn start() -> Self {
        let mut err = Error::new();
        let (mut sandbox, mut cfg, mut client) =
            (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                hievc_sandbox_start(ptr::null(), &mut sandbox, err.slot()),
                hievc_status::HIEVC_OK
            );
            assert_eq!(
                hievc_sandbox_config(sandbox, &mut cfg, err.slot()),
                hievc_status::HIEVC_OK
            );
            assert_eq!(
                hievc_client_new(cfg, &mut client, err.slot()),
                hievc_status::HIEVC_OK
            );
            hievc_config_free(cfg);
        }
        Self { sandbox, client }
    }

    /// Reads a Patient that does not exist: a real HTTP round trip ending in a 404.
    fn read_missing(&self) -> (hievc_status, Error) {
        let mut err = Error::new();
        let mut out: *mut c_char = sentinel();
        // SAFETY: valid pointers.
        let status = unsafe {
            hievc_client_read(
                self.client,
                c("Patient").as_ptr(),
                c("nobody").as_ptr(),
                ptr::null(),
                &mut out,
                err.slot(),
            )
        };
        assert_eq!(out, sentinel());
        (status, err)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // SAFETY: handles from the library, freed once.
        unsafe {
            hievc_client_free(self.client);
            hievc_sandbox_free(self.sandbox);
        }
    }
}

fn assert_not_found(sb: &Sandbox) {
    let (status, err) = sb.read_missing();
    assert_eq!(status, hievc_status::HIEVC_NOT_FOUND, "{}", err.message());
    // SAFETY: a live error.
    assert_eq!(unsafe { hievc_error_http_status(err.0) }, 404);
}

#[test]
fn blocking_calls_work_from_a_plain_thread() {
    assert_not_found(&Sandbox::start());
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_calls_work_inside_a_current_thread_runtime() {
    // `block_in_place` alone would panic here (HIEVC_PANIC); the call must simply work.
    assert_not_found(&Sandbox::start());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn blocking_calls_work_on_a_multi_thread_runtime_worker() {
    let sb = Sandbox::start();
    assert_not_found(&sb);
    // And from a task, while the host's one worker is handed over.
    let client = sb.client as usize;
    let sandbox = sb.sandbox as usize;
    tokio::spawn(async move {
        let inner = Sandbox {
            sandbox: sandbox as *mut hievc_sandbox,
            client: client as *mut hievc_client,
        };
        assert_not_found(&inner);
        std::mem::forget(inner); // `sb` frees them
    })
    .await
    .unwrap();
}

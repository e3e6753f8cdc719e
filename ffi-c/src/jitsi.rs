//! `hievc_jitsi` (Jitsi sessions and join tokens) and `hievc_notifier` (the HIE Notification
//! API).

use std::ffi::{c_char, CString};
use std::sync::Arc;

use hie_vc::jitsi::{JitsiProvider, Participant};
use hie_vc::notify::NotificationClient;

use crate::error::Failure;
use crate::guard::{
    arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, to_cstring, write_handle,
};
use crate::json::write_json;
use crate::runtime::{self, block_on};
use crate::status::hievc_status;
use crate::{hievc_config, hievc_error};

/// A Jitsi provider (`jitsi.provider` of the config: `hie` — HIE's token service —,
/// `self-hosted` or `jaas`). Thread-safe.
pub struct hievc_jitsi {
    pub(crate) provider: Arc<dyn JitsiProvider>,
    kind: CString,
}

impl std::fmt::Debug for hievc_jitsi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.provider.fmt(f)
    }
}

/// A participant argument, as JSON (`hie_vc::jitsi::Participant`'s own shape: `{"role":
/// "practitioner" | "patient", "id", "name", "email"?, "avatar"?, "moderator"?}`).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn participant(p: *const c_char, what: &str) -> Result<Participant, Failure> {
    // SAFETY: forwarded contract.
    let text = unsafe { arg_str(p, what) }?;
    crate::fhir::parse_json(text, what)
}

/// The Jitsi provider `[jitsi]` of `cfg` describes (`jitsi.provider` = `hie` with `jitsi.url`;
/// `self-hosted` with `jitsi.domain` and `jitsi.app_secret` or `jitsi.private_key_path` +
/// `jitsi.key_id`; `jaas` with `jitsi.app_id`, `jitsi.private_key_path` and `jitsi.key_id`).
/// `HIEVC_CONFIG` when a setting is missing or wrong.
///
/// # Safety
/// `cfg` is a live config; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_jitsi_new(
    cfg: *const hievc_config,
    out: *mut *mut hievc_jitsi,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let cfg = unsafe { arg_ref(cfg, "cfg") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let settings = cfg.snapshot();
        let handle = runtime::handle()?;
        let _enter = handle.enter();
        let provider = settings.jitsi.provider()?;
        let kind = to_cstring(provider.kind());
        write_handle(out, hievc_jitsi { provider, kind });
        Ok(())
    })
}

/// The provider's kind: `hie-rest`, `self-hosted` or `jaas`. Borrowed from `j`; NULL for NULL.
///
/// # Safety
/// `j` is NULL or a live provider.
#[no_mangle]
pub unsafe extern "C" fn hievc_jitsi_kind(j: *const hievc_jitsi) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        unsafe { j.as_ref() }.map_or(std::ptr::null(), |j| j.kind.as_ptr())
    })
}

/// Creates a session (VCE step 1; for VCI, HIE creates it at check-in). `*out`:
/// `{"token": "<session token: the vc-token identifier value>", "room": "..." | null}`.
///
/// # Safety
/// `j` is live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_jitsi_create_session(
    j: *const hievc_jitsi,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let j = unsafe { arg_ref(j, "jitsi") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let s = block_on(j.provider.create_session())??;
        write_json(out, &s)
    })
}

/// Mints what a participant needs to join the session of `session_token`:
/// `participant_json` is `{"role": "practitioner" | "patient", "id", "name", "email"?,
/// "avatar"?, "moderator"?}` (practitioners moderate by default). `*out`: `{"role", "room",
/// "url", "token", "expiresAtMs"}` — the URL and token are credentials: hand them to their
/// participant only, never log them.
///
/// # Safety
/// `j` is live; strings NUL-terminated; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_jitsi_join(
    j: *const hievc_jitsi,
    session_token: *const c_char,
    participant_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (j, token) = unsafe {
            (
                arg_ref(j, "jitsi")?,
                arg_str(session_token, "session_token")?,
            )
        };
        // SAFETY: caller contract.
        let participant = unsafe { participant(participant_json, "participant_json") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let join = block_on(j.provider.join(token, &participant))??;
        write_json(out, &join)
    })
}

/// Marks the session started (step 6). Idempotent.
///
/// # Safety
/// `j` is live; `session_token` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn hievc_jitsi_activate(
    j: *const hievc_jitsi,
    session_token: *const c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (j, token) = unsafe {
            (
                arg_ref(j, "jitsi")?,
                arg_str(session_token, "session_token")?,
            )
        };
        Ok(block_on(j.provider.activate(token))??)
    })
}

/// Ends the session (step 10). Idempotent. `*out`: `{"outcome": "ended" | "not_running" |
/// "unsupported"}` (`unsupported`: the provider cannot end meetings remotely, e.g. JaaS).
///
/// # Safety
/// `j` is live; `session_token` NUL-terminated; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_jitsi_end(
    j: *const hievc_jitsi,
    session_token: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (j, token) = unsafe {
            (
                arg_ref(j, "jitsi")?,
                arg_str(session_token, "session_token")?,
            )
        };
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let e = block_on(j.provider.end(token))??;
        write_json(out, &serde_json::json!({ "outcome": e }))
    })
}

/// Frees a provider. NULL is a no-op.
///
/// # Safety
/// `j` is NULL or a provider not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_jitsi_free(j: *mut hievc_jitsi) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(j) })
}

/// A client of the HIE Notification API (`[notify]` of the config: `notify.url`,
/// `notify.email`, `notify.password`, `notify.token_pointer`). Logs in on first use, caches the
/// token and logs in again once after a 401. Thread-safe. The password and token are never
/// logged.
pub struct hievc_notifier {
    pub(crate) client: Arc<NotificationClient>,
}

impl std::fmt::Debug for hievc_notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.client.fmt(f)
    }
}

/// A Notification API client from the `[notify]` settings of `cfg`. `HIEVC_CONFIG` when one is
/// missing.
///
/// # Safety
/// `cfg` is a live config; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_notifier_new(
    cfg: *const hievc_config,
    out: *mut *mut hievc_notifier,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let cfg = unsafe { arg_ref(cfg, "cfg") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let config = cfg.snapshot().notify.to_config()?;
        let handle = runtime::handle()?;
        let _enter = handle.enter();
        let client = NotificationClient::new(config)?;
        write_handle(
            out,
            hievc_notifier {
                client: Arc::new(client),
            },
        );
        Ok(())
    })
}

/// Logs in now (otherwise the first send does): checks the credentials early.
///
/// # Safety
/// `n` is live.
#[no_mangle]
pub unsafe extern "C" fn hievc_notifier_login(
    n: *const hievc_notifier,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let n = unsafe { arg_ref(n, "notifier") }?;
        Ok(block_on(n.client.login())??)
    })
}

/// Sends a notification to patients (`patient_ids_json`: a JSON array of MyKad-style ids, e.g.
/// `["950728106051"]`). `*out`: `{"status", "requestId", "response"}`.
///
/// # Safety
/// `n` is live; strings NUL-terminated; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_notifier_send(
    n: *const hievc_notifier,
    title: *const c_char,
    body: *const c_char,
    patient_ids_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (n, title, body, ids) = unsafe {
            (
                arg_ref(n, "notifier")?,
                arg_str(title, "title")?,
                arg_str(body, "body")?,
                arg_str(patient_ids_json, "patient_ids_json")?,
            )
        };
        let ids: Vec<String> = crate::fhir::parse_json(ids, "patient_ids_json")?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let sent = block_on(n.client.send(title, body, ids))??;
        write_json(out, &sent)
    })
}

/// Frees a notifier. NULL is a no-op.
///
/// # Safety
/// `n` is NULL or a notifier not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_notifier_free(n: *mut hievc_notifier) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(n) })
}

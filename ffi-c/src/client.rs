//! `hievc_client`: the HIE FHIR REST client, every interaction, resources in and out as JSON.

use std::collections::BTreeMap;
use std::ffi::c_char;

use hie_vc::fhir::{self, ReadOptions, Resource};
use hie_vc::hie::{
    HieClient, HistoryPage, HistoryRequest, Method, Prefer, RequestOptions, SearchParams,
};
use serde::Deserialize;

use crate::error::Failure;
use crate::fhir::{parse_opts, read_resource};
use crate::guard::{
    arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, opt_str, write_handle, Out,
};
use crate::json::write_json;
use crate::runtime::block_on;
use crate::status::hievc_status;
use crate::{hievc_config, hievc_error};

/// An HIE FHIR client. Thread-safe: one client may serve every thread of the host (one
/// connection pool, one OAuth2 token cache); calls block the calling thread until done.
pub struct hievc_client {
    pub(crate) client: HieClient,
}

impl std::fmt::Debug for hievc_client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.client.fmt(f)
    }
}

/// Per-call options (every key optional; keys that do not apply to a call are ignored,
/// unknown keys are refused).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CallOpts {
    timeout_ms: Option<u64>,
    request_id: Option<String>,
    headers: BTreeMap<String, String>,
    /// 0 disables retries for this call.
    max_retries: Option<u32>,
    // writes
    prefer: Option<Prefer>,
    validate: Option<bool>,
    if_none_exist: Option<String>,
    if_match: Option<String>,
    if_match_current: bool,
    // search / history
    all: bool,
    max_results: Option<usize>,
    max_pages: Option<usize>,
    via_post: bool,
    count: Option<u32>,
    since: Option<String>,
    at: Option<String>,
    max_entries: Option<usize>,
    // batch / transaction
    method: Option<String>,
}

impl CallOpts {
    /// # Safety
    /// `p` is NULL or a NUL-terminated string that outlives the call.
    unsafe fn parse(p: *const c_char) -> Result<Self, Failure> {
        // SAFETY: forwarded contract.
        parse_opts(unsafe { opt_str(p, "options_json") }?, "options_json")
    }
    /// The options every request shares, applied by core.
    fn request(&self) -> RequestOptions {
        let mut o = RequestOptions::new();
        o.timeout_ms = self.timeout_ms;
        o.request_id.clone_from(&self.request_id);
        o.headers.clone_from(&self.headers);
        o.max_retries = self.max_retries;
        o
    }
}

/// Applies the options every request builder shares. A header HTTP cannot carry is a bad
/// `options_json`: `HIEVC_INVALID_ARGUMENT`, as every other options mistake.
macro_rules! common {
    ($req:expr, $o:expr) => {
        $req.options(&$o.request())
            .map_err(|e| Failure::invalid(e.to_string()))?
    };
}

/// Applies the options of writes (`prefer`, `validate`) to a create, update or bundle.
macro_rules! writes {
    ($req:expr, $o:expr) => {{
        let mut r = $req;
        if let Some(p) = $o.prefer {
            r = r.prefer(p);
        }
        if let Some(v) = $o.validate {
            r = r.validate(v);
        }
        r
    }};
}

/// A JSON array of Encounters as FHIR JSON.
struct Encounters<'a>(&'a [hie_vc::fhir::Encounter]);

impl serde::Serialize for Encounters<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fhir::embed::seq(self.0, s)
    }
}

/// Shared prologue: the client, the options, the out-parameter.
///
/// # Safety
/// `client` is NULL or a live client; `options_json` NULL or a NUL-terminated string; `out`
/// NULL or writable for the call.
unsafe fn prologue<'a>(
    client: *const hievc_client,
    options_json: *const c_char,
    out: *mut *mut c_char,
) -> Result<(&'a HieClient, CallOpts, Out<'a, *mut c_char>), Failure> {
    // SAFETY: forwarded contract.
    let c = unsafe { arg_ref(client, "client") }?;
    // SAFETY: forwarded contract.
    let o = unsafe { CallOpts::parse(options_json) }?;
    // SAFETY: forwarded contract.
    let out = unsafe { arg_out(out, "out") }?;
    Ok((&c.client, o, out))
}

/// A resource argument, read strictly.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn input_resource(text: *const c_char, what: &str) -> Result<Resource, Failure> {
    // SAFETY: forwarded contract.
    let text = unsafe { arg_str(text, what) }?;
    Ok(read_resource(text, what, ReadOptions::strict())?.value)
}

/// A client with the `[hie]` settings of `cfg` (`hie.url` is required). No request is
/// made until the first call. `HIEVC_CONFIG` when a setting is missing or wrong.
///
/// # Safety
/// `cfg` is a live config; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_new(
    cfg: *const hievc_config,
    out: *mut *mut hievc_client,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let cfg = unsafe { arg_ref(cfg, "cfg") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let config = cfg.snapshot().hie.to_config()?;
        // The HTTP client registers with the runtime's reactor when it is built.
        let rt = crate::runtime::handle()?;
        let _enter = rt.enter();
        let c = HieClient::new(config)?;
        write_handle(out, hievc_client { client: c });
        Ok(())
    })
}

/// Frees a client. NULL is a no-op. Calls in flight on other threads must have returned.
///
/// # Safety
/// `client` is NULL or a client not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_free(client: *mut hievc_client) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(client) })
}

/// `create`: `POST [base]/[type]`; the server assigns the id. Options: `prefer`
/// (`minimal` | `representation` | `operation_outcome`), `validate` (MY Core check before
/// sending, default from the config), `if_none_exist` (a search query: conditional create),
/// and the common `timeout_ms`, `request_id`, `headers`, `max_retries`.
///
/// `*out`: `{"status", "kind": "created" | "existing", "id", "versionId", "location",
/// "etag", "lastModified", "resource", "outcome", "warnings", "bodyError", "requestId"}`.
///
/// # Safety
/// Pointers as documented in the header: live client, NUL-terminated strings (options may be
/// NULL), writable `out`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_create(
    client: *const hievc_client,
    resource_json: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        let resource = unsafe { input_resource(resource_json, "resource_json") }?;
        let mut req = common!(c.create(resource), o);
        req = writes!(req, o);
        if let Some(q) = &o.if_none_exist {
            req = req.if_none_exist(SearchParams::raw(q));
        }
        let w = block_on(req.send())??;
        write_json(out, &w)
    })
}

/// `read`: `GET [base]/[type]/[id]`. `HIEVC_NOT_FOUND` for an unknown id, `HIEVC_GONE` for a
/// deleted one. `*out`: `{"resource", "etag", "versionId", "lastModified", "warnings",
/// "requestId"}`.
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_read(
    client: *const hievc_client,
    resource_type: *const c_char,
    id: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        // SAFETY: caller contract.
        let (rt, id) = unsafe { (arg_str(resource_type, "resource_type")?, arg_str(id, "id")?) };
        let req = common!(c.read_type(rt, id), o);
        let f = block_on(req.send())??;
        write_json(out, &f)
    })
}

/// `vread`: `GET [base]/[type]/[id]/_history/[version_id]`; `*out` as `hievc_client_read`.
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_vread(
    client: *const hievc_client,
    resource_type: *const c_char,
    id: *const c_char,
    version_id: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        // SAFETY: caller contract.
        let (rt, id, vid) = unsafe {
            (
                arg_str(resource_type, "resource_type")?,
                arg_str(id, "id")?,
                arg_str(version_id, "version_id")?,
            )
        };
        let req = common!(c.read_type(rt, id).version(vid), o);
        let f = block_on(req.send())??;
        write_json(out, &f)
    })
}

/// `update`: `PUT [base]/[type]/[id]` with the resource's own id (update-as-create for a new
/// id: `"kind": "created"`, status 201). Options: `if_match` (a version id: `If-Match`),
/// `if_match_current` (true: the resource's own `meta.versionId`), `prefer`, `validate`, and
/// the common ones. `HIEVC_PRECONDITION_FAILED` on a version conflict. `*out` as
/// `hievc_client_create`.
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_update(
    client: *const hievc_client,
    resource_json: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        let resource = unsafe { input_resource(resource_json, "resource_json") }?;
        let mut req = common!(c.update(resource), o);
        req = writes!(req, o);
        if let Some(v) = &o.if_match {
            req = req.if_match(v.clone());
        } else if o.if_match_current {
            req = req.if_match_current();
        }
        let w = block_on(req.send())??;
        write_json(out, &w)
    })
}

/// `delete`: `DELETE [base]/[type]/[id]`; later reads give `HIEVC_GONE`. `*out`:
/// `{"status", "outcome", "requestId"}`.
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_delete(
    client: *const hievc_client,
    resource_type: *const c_char,
    id: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        // SAFETY: caller contract.
        let (rt, id) = unsafe { (arg_str(resource_type, "resource_type")?, arg_str(id, "id")?) };
        let req = common!(c.delete_type(rt, id), o);
        let d = block_on(req.send())??;
        write_json(out, &d)
    })
}

/// `search`: `GET [base]/[type]?query` (`query` like `status=booked&_count=50`, already
/// URL-encoded; NULL or "" for none). Options: `all` (follow `next` links and merge every
/// page, bounded by `max_results` / `max_pages`), `via_post` (`POST [type]/_search`), and the
/// common ones.
///
/// `*out`: `{"matches": [...], "included": [...], "outcome", "total", "next", "pages",
/// "warnings", "requestId"}` (`next` is the server's link when more pages remain).
///
/// # Safety
/// As `hievc_client_create`; `query` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_search(
    client: *const hievc_client,
    resource_type: *const c_char,
    query: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        // SAFETY: caller contract.
        let (rt, q) = unsafe {
            (
                arg_str(resource_type, "resource_type")?,
                opt_str(query, "query")?,
            )
        };
        let mut req = c.search_type(rt);
        if let Some(q) = q {
            req = req.params(SearchParams::raw(q));
        }
        if o.via_post {
            req = req.via_post();
        }
        if let Some(n) = o.max_results {
            req = req.max_results(n);
        }
        if let Some(n) = o.max_pages {
            req = req.max_pages(n);
        }
        let req = common!(req, o);
        let page = if o.all {
            block_on(req.send_all())??
        } else {
            block_on(req.send())??
        };
        write_json(out, &page)
    })
}

/// `history` of an instance (`type` and `id`), a type (`id` NULL) or the whole server (both
/// NULL), of any resource type. Options: `count` (`_count`), `since` (`_since`), `at` (`_at`), `all` (every page,
/// bounded by `max_entries`), and the common ones.
///
/// `*out`: `{"entries": [{"resource", "fullUrl", "method", "requestUrl", "status",
/// "versionId", "lastModified", "deleted"}], "total", "next", "pages", "warnings",
/// "requestId"}`.
///
/// # Safety
/// As `hievc_client_create`; `resource_type` and `id` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_history(
    client: *const hievc_client,
    resource_type: *const c_char,
    id: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        // SAFETY: caller contract.
        let (rt, id) = unsafe { (opt_str(resource_type, "resource_type")?, opt_str(id, "id")?) };
        let req = match (rt, id) {
            (None, None) => c.system_history(),
            (None, Some(_)) => {
                return Err(Failure::invalid(
                    "an id without a resource_type: give both for an instance history",
                ))
            }
            (Some(t), id) => c.history_type(t, id),
        };
        let page = block_on(history(req, &o))??;
        write_json(out, &page)
    })
}

/// Runs a history request with the options: the first page, or every page merged.
async fn history(
    req: HistoryRequest<Resource>,
    o: &CallOpts,
) -> Result<HistoryPage<Resource>, Failure> {
    let mut req = req;
    if let Some(n) = o.count {
        req = req.count(n);
    }
    if let Some(s) = &o.since {
        req = req.since(s);
    }
    if let Some(s) = &o.at {
        req = req.at(s);
    }
    if let Some(n) = o.max_entries {
        req = req.max_entries(n);
    }
    let req = common!(req, o);
    Ok(if o.all {
        req.send_all().await?
    } else {
        req.send().await?
    })
}

/// Sends a `batch` or `transaction` Bundle (its `type` decides): `POST [base]`. Options:
/// `method` (`POST` default, `PUT` for gateways that want the scheduling Bundle that way),
/// `validate`, `prefer`, and the common ones. A refused transaction is an error; in a batch
/// each entry succeeds or fails on its own.
///
/// `*out`: `{"kind": "batch-response" | "transaction-response", "success": bool, "entries":
/// [{"index", "method", "url", "status", "statusText", "location", "id", "versionId", "etag",
/// "lastModified", "outcome", "resource"}], "requestId"}`.
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_bundle(
    client: *const hievc_client,
    bundle_json: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        let bundle = match unsafe { input_resource(bundle_json, "bundle_json") }? {
            Resource::Bundle(b) => *b,
            other => {
                return Err(Failure::from(hie_vc::Error::new(
                    hie_vc::ErrorKind::InvalidInput,
                    format!(
                        "bundle_json is a {}, not a Bundle of type batch or transaction",
                        other.resource_type()
                    ),
                )))
            }
        };
        let mut req = c.send_bundle(bundle);
        if let Some(m) = &o.method {
            req = req.method(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| Failure::invalid(format!("'{m}' is not an HTTP method")))?,
            );
        }
        let req = common!(writes!(req, o), o);
        let b = block_on(req.send())??;
        write_json(out, &b)
    })
}

/// `capabilities`: `GET [base]/metadata`. `*out`: `{"fhirVersion", "software", "formats",
/// "resourceTypes", "statement": {...the CapabilityStatement...}, "requestId"}`.
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_capabilities(
    client: *const hievc_client,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, o, out) = unsafe { prologue(client, options_json, out) }?;
        let req = common!(c.capabilities(), o);
        let caps = block_on(req.send())??;
        write_json(out, &caps)
    })
}

/// The Encounter HIE created for an Appointment (`Encounter?appointment=Appointment/<id>`; the
/// most recently updated when there are several). `*out` is the Encounter's FHIR JSON, or
/// `null` (the JSON text) before the patient checked in.
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_find_encounter_for_appointment(
    client: *const hievc_client,
    appointment_id: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, _, out) = unsafe { prologue(client, std::ptr::null(), out) }?;
        // SAFETY: caller contract.
        let id = unsafe { arg_str(appointment_id, "appointment_id") }?;
        let found = block_on(c.find_encounter_for_appointment(id))??;
        write_json(out, &found)
    })
}

/// Every Encounter carrying a VC session token (`Encounter?identifier=<vc-token
/// system>|<token>`): one for a VCI session, one per patient for VCE. `*out` is a JSON array
/// of Encounters (possibly empty).
///
/// # Safety
/// As `hievc_client_create`.
#[no_mangle]
pub unsafe extern "C" fn hievc_client_find_encounters_by_vc_token(
    client: *const hievc_client,
    token: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (c, _, out) = unsafe { prologue(client, std::ptr::null(), out) }?;
        // SAFETY: caller contract.
        let token = unsafe { arg_str(token, "token") }?;
        let found = block_on(c.find_encounters_by_vc_token(token))??;
        write_json(out, &Encounters(&found))
    })
}

//! `hievc_client`: the HIE FHIR REST client, every interaction, resources in and out as JSON.

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::time::Duration;

use futures::TryStreamExt;
use hie_vc::fhir::{self, ReadOptions, Resource};
use hie_vc::hie::{
    BundleOutcome, Fetched, FhirResource, HeaderName, HeaderValue, HieClient, HistoryPage,
    HistoryRequest, Method, Prefer, RetryPolicy, SearchPage, SearchParams, WriteKind, Written,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use crate::error::Failure;
use crate::fhir::{parse_opts, read_resource};
use crate::guard::{
    arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, opt_str, write_handle,
    write_string, Out,
};
use crate::json::{raw, to_string, warnings, write_json, WarningDoc};
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
    prefer: Option<String>,
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
    fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, Failure> {
        self.headers
            .iter()
            .map(|(k, v)| {
                let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                    Failure::invalid(format!("'{k}' is not a valid HTTP header name"))
                })?;
                let value = HeaderValue::from_str(v).map_err(|_| {
                    Failure::invalid(format!("the value of header '{k}' is not valid in HTTP"))
                })?;
                Ok((name, value))
            })
            .collect()
    }
}

/// Applies the options every request builder shares.
macro_rules! common {
    ($req:expr, $o:expr) => {{
        let mut r = $req;
        if let Some(ms) = $o.timeout_ms {
            r = r.timeout(Duration::from_millis(ms));
        }
        if let Some(id) = &$o.request_id {
            r = r.request_id(id.clone());
        }
        for (n, v) in $o.headers()? {
            r = r.header(n, v);
        }
        if let Some(n) = $o.max_retries {
            r = r.retry(if n == 0 {
                RetryPolicy::none()
            } else {
                RetryPolicy::default().max_retries(n)
            });
        }
        r
    }};
}

/// Applies the options of writes (`prefer`, `validate`) to a create, update or bundle.
macro_rules! writes {
    ($req:expr, $o:expr) => {{
        let mut r = $req;
        if let Some(p) = &$o.prefer {
            r = r.prefer(prefer(p)?);
        }
        if let Some(v) = $o.validate {
            r = r.validate(v);
        }
        r
    }};
}

fn prefer(s: &str) -> Result<Prefer, Failure> {
    match s {
        "minimal" => Ok(Prefer::Minimal),
        "representation" => Ok(Prefer::Representation),
        "operation_outcome" | "OperationOutcome" => Ok(Prefer::OperationOutcome),
        _ => Err(Failure::invalid(format!(
            "prefer '{s}' is unknown: use minimal, representation or operation_outcome"
        ))),
    }
}

fn write_kind(k: WriteKind) -> &'static str {
    match k {
        WriteKind::Created => "created",
        WriteKind::Updated => "updated",
        WriteKind::Existing => "existing",
        _ => "other",
    }
}

type Raw = Box<RawValue>;

#[derive(Serialize)]
struct BodyErrorDoc<'a> {
    kind: &'static str,
    message: &'a str,
}

/// `create` / `update` result.
#[derive(Serialize)]
pub(crate) struct WrittenDoc<'a> {
    status: u16,
    kind: &'static str,
    id: &'a Option<String>,
    version_id: &'a Option<String>,
    location: &'a Option<String>,
    etag: &'a Option<String>,
    last_modified: &'a Option<String>,
    resource: Option<Raw>,
    outcome: Option<Raw>,
    warnings: Vec<WarningDoc<'a>>,
    body_error: Option<BodyErrorDoc<'a>>,
    request_id: &'a str,
}

pub(crate) fn written_doc<T: FhirResource>(w: &Written<T>) -> WrittenDoc<'_> {
    WrittenDoc {
        status: w.status,
        kind: write_kind(w.kind),
        id: &w.id,
        version_id: &w.version_id,
        location: &w.location,
        etag: &w.etag,
        last_modified: &w.last_modified,
        resource: w.resource.as_ref().map(raw),
        outcome: w.outcome.as_ref().map(raw),
        warnings: warnings(&w.warnings),
        body_error: w.body_error.as_ref().map(|e| BodyErrorDoc {
            kind: e.kind().as_str(),
            message: e.message(),
        }),
        request_id: &w.request_id,
    }
}

/// `read` / `vread` result.
#[derive(Serialize)]
struct FetchedDoc<'a> {
    resource: Raw,
    etag: &'a Option<String>,
    version_id: &'a Option<String>,
    last_modified: &'a Option<String>,
    warnings: Vec<WarningDoc<'a>>,
    request_id: &'a str,
}

fn fetched_doc(f: &Fetched<Resource>) -> FetchedDoc<'_> {
    FetchedDoc {
        resource: raw(&f.resource),
        etag: &f.etag,
        version_id: &f.version_id,
        last_modified: &f.last_modified,
        warnings: warnings(&f.warnings),
        request_id: &f.request_id,
    }
}

/// `delete` result.
#[derive(Serialize)]
struct DeletedDoc<'a> {
    status: u16,
    outcome: Option<Raw>,
    request_id: &'a str,
}

/// `search` result (one page, or every page merged).
#[derive(Serialize)]
struct SearchDoc<'a> {
    matches: Vec<Raw>,
    included: Vec<Raw>,
    outcome: Option<Raw>,
    total: Option<u64>,
    next: Option<&'a str>,
    pages: usize,
    warnings: Vec<WarningDoc<'a>>,
    request_id: Option<&'a str>,
}

fn search_doc(pages: &[SearchPage<Resource>]) -> SearchDoc<'_> {
    SearchDoc {
        matches: pages
            .iter()
            .flat_map(|p| p.matches.iter().map(raw))
            .collect(),
        included: pages
            .iter()
            .flat_map(|p| p.included.iter().map(raw))
            .collect(),
        outcome: pages.iter().find_map(|p| p.outcome.as_ref()).map(raw),
        total: pages.first().and_then(|p| p.total),
        next: pages.last().and_then(|p| p.next.as_deref()),
        pages: pages.len(),
        warnings: warnings(pages.iter().flat_map(|p| &p.warnings)),
        request_id: pages.first().map(|p| p.request_id.as_str()),
    }
}

#[derive(Serialize)]
struct HistoryEntryDoc<'a> {
    resource: Option<Raw>,
    full_url: &'a Option<String>,
    method: Option<&'a str>,
    request_url: &'a Option<String>,
    status: Option<u16>,
    version_id: &'a Option<String>,
    last_modified: &'a Option<String>,
    deleted: bool,
}

/// `history` result.
#[derive(Serialize)]
struct HistoryDoc<'a> {
    entries: Vec<HistoryEntryDoc<'a>>,
    total: Option<u64>,
    next: Option<&'a str>,
    pages: usize,
    warnings: Vec<WarningDoc<'a>>,
    request_id: Option<&'a str>,
}

fn history_doc<T: FhirResource>(pages: &[HistoryPage<T>]) -> HistoryDoc<'_> {
    HistoryDoc {
        entries: pages
            .iter()
            .flat_map(|p| p.entries.iter())
            .map(|e| HistoryEntryDoc {
                resource: e.resource.as_ref().map(raw),
                full_url: &e.full_url,
                method: e.method.as_ref().map(|m| m.as_str()),
                request_url: &e.request_url,
                status: e.status,
                version_id: &e.version_id,
                last_modified: &e.last_modified,
                deleted: e.is_delete(),
            })
            .collect(),
        total: pages.first().and_then(|p| p.total),
        next: pages.last().and_then(|p| p.next.as_deref()),
        pages: pages.len(),
        warnings: warnings(pages.iter().flat_map(|p| &p.warnings)),
        request_id: pages.first().map(|p| p.request_id.as_str()),
    }
}

#[derive(Serialize)]
struct EntryDoc<'a> {
    index: usize,
    method: Option<&'a str>,
    url: &'a Option<String>,
    status: u16,
    status_text: &'a str,
    location: &'a Option<String>,
    id: &'a Option<String>,
    version_id: &'a Option<String>,
    etag: &'a Option<String>,
    last_modified: &'a Option<String>,
    outcome: Option<Raw>,
    resource: Option<Raw>,
}

/// `batch` / `transaction` result.
#[derive(Serialize)]
pub(crate) struct BundleDoc<'a> {
    kind: Option<&'a str>,
    success: bool,
    entries: Vec<EntryDoc<'a>>,
    request_id: &'a str,
}

pub(crate) fn bundle_doc(b: &BundleOutcome) -> BundleDoc<'_> {
    BundleDoc {
        kind: b.kind.as_ref().map(|k| k.as_str()),
        success: b.is_success(),
        entries: b
            .entries
            .iter()
            .map(|e| EntryDoc {
                index: e.index,
                method: e.method.as_ref().map(|m| m.as_str()),
                url: &e.url,
                status: e.status,
                status_text: &e.status_text,
                location: &e.location,
                id: &e.id,
                version_id: &e.version_id,
                etag: &e.etag,
                last_modified: &e.last_modified,
                outcome: e.outcome.as_ref().map(raw),
                resource: e.resource.as_ref().map(raw),
            })
            .collect(),
        request_id: &b.request_id,
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
/// `*out`: `{"status", "kind": "created" | "existing", "id", "version_id", "location",
/// "etag", "last_modified", "resource", "outcome", "warnings", "body_error", "request_id"}`.
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
        write_json(out, &written_doc(&w))
    })
}

/// `read`: `GET [base]/[type]/[id]`. `HIEVC_NOT_FOUND` for an unknown id, `HIEVC_GONE` for a
/// deleted one. `*out`: `{"resource", "etag", "version_id", "last_modified", "warnings",
/// "request_id"}`.
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
        write_json(out, &fetched_doc(&f))
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
        write_json(out, &fetched_doc(&f))
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
        write_json(out, &written_doc(&w))
    })
}

/// `delete`: `DELETE [base]/[type]/[id]`; later reads give `HIEVC_GONE`. `*out`:
/// `{"status", "outcome", "request_id"}`.
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
        write_json(
            out,
            &DeletedDoc {
                status: d.status,
                outcome: d.outcome.as_ref().map(raw),
                request_id: &d.request_id,
            },
        )
    })
}

/// `search`: `GET [base]/[type]?query` (`query` like `status=booked&_count=50`, already
/// URL-encoded; NULL or "" for none). Options: `all` (follow `next` links and merge every
/// page, bounded by `max_results` / `max_pages`), `via_post` (`POST [type]/_search`), and the
/// common ones.
///
/// `*out`: `{"matches": [...], "included": [...], "outcome", "total", "next", "pages",
/// "warnings", "request_id"}` (`next` is the server's link when more pages remain).
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
        let pages = if o.all {
            block_on(req.pages().try_collect::<Vec<_>>())??
        } else {
            vec![block_on(req.send())??]
        };
        write_json(out, &search_doc(&pages))
    })
}

/// `history` of an instance (`type` and `id`), a type (`id` NULL) or the whole server (both
/// NULL). Options: `count` (`_count`), `since` (`_since`), `at` (`_at`), `all` (every page,
/// bounded by `max_entries`), and the common ones.
///
/// `*out`: `{"entries": [{"resource", "full_url", "method", "request_url", "status",
/// "version_id", "last_modified", "deleted"}], "total", "next", "pages", "warnings",
/// "request_id"}`.
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
        let v = match (rt, id) {
            (None, None) => block_on(history(c.system_history(), &o))??,
            (None, Some(_)) => {
                return Err(Failure::invalid(
                    "an id without a resource_type: give both for an instance history",
                ))
            }
            (Some(t), id) => {
                macro_rules! typed {
                    ($($ty:ident),*) => {
                        match t {
                            $(stringify!($ty) => match id {
                                Some(i) => block_on(history(c.history::<fhir::$ty>(i), &o))??,
                                None => block_on(history(c.type_history::<fhir::$ty>(), &o))??,
                            },)*
                            other => {
                                return Err(Failure::from(hie_vc::Error::new(
                                    hie_vc::ErrorKind::InvalidInput,
                                    format!("history of '{other}' is not supported: the client reads the history of Appointment, Encounter, Schedule, Slot, Patient, Practitioner, PractitionerRole, Organization, HealthcareService and Bundle"),
                                )))
                            }
                        }
                    };
                }
                typed!(
                    Appointment,
                    Encounter,
                    Schedule,
                    Slot,
                    Patient,
                    Practitioner,
                    PractitionerRole,
                    Organization,
                    HealthcareService,
                    Bundle
                )
            }
        };
        write_string(out, v);
        Ok(())
    })
}

/// Runs a history request with the options and renders its pages.
async fn history<T: FhirResource>(req: HistoryRequest<T>, o: &CallOpts) -> Result<String, Failure> {
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
    let pages = if o.all {
        req.pages().try_collect::<Vec<_>>().await
    } else {
        req.send().await.map(|p| vec![p])
    };
    to_string(&history_doc(&pages?))
}

/// Sends a `batch` or `transaction` Bundle (its `type` decides): `POST [base]`. Options:
/// `method` (`POST` default, `PUT` for gateways that want the scheduling Bundle that way),
/// `validate`, `prefer`, and the common ones. A refused transaction is an error; in a batch
/// each entry succeeds or fails on its own.
///
/// `*out`: `{"kind": "batch-response" | "transaction-response", "success": bool, "entries":
/// [{"index", "method", "url", "status", "status_text", "location", "id", "version_id", "etag",
/// "last_modified", "outcome", "resource"}], "request_id"}`.
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
        write_json(out, &bundle_doc(&b))
    })
}

/// `capabilities`: `GET [base]/metadata`. `*out`: `{"fhir_version", "software", "formats",
/// "resource_types", "statement": {...the CapabilityStatement...}, "request_id"}`.
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
        write_json(
            out,
            &json!({
                "fhir_version": caps.fhir_version(),
                "software": caps.software(),
                "formats": caps.formats(),
                "resource_types": caps.resource_types(),
                "statement": caps.json(),
                "request_id": caps.request_id,
            }),
        )
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
        let text = found.map_or_else(|| "null".to_owned(), |e| fhir::to_json(&e));
        write_string(out, text);
        Ok(())
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
        let items: Vec<String> = found.iter().map(fhir::to_json).collect();
        write_string(out, format!("[{}]", items.join(",")));
        Ok(())
    })
}

//! `batch` and `transaction` (`POST [base]` with a Bundle). A transaction runs on a copy of
//! the store, in FHIR's order (DELETE, POST, PUT, GET), resolves `urn:uuid:` references to the
//! ids it assigns, checks references once at the end, and replaces the store only when every
//! entry succeeded: all or nothing. A batch runs each entry on its own.

use std::collections::{HashMap, HashSet};

use hie_vc::fhir::{
    Bundle, BundleEntry, BundleEntryResponse, BundleType, HttpVerb, Id, Instant, IssueSeverity,
    Resource, Uri,
};

use super::http::Return;
use super::interactions::exec;
use super::routes::{pairs, route, Op, Route};
use super::store::instant_text;
use super::{refs, Body, Ctx, Done, Engine};
use crate::error::{outcome, FhirError};

fn bad(msg: impl Into<String>) -> FhirError {
    FhirError::new(400, "invalid", msg)
}

/// The standard reason phrase of a status.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// The operation an entry asks for.
fn entry_op(e: &BundleEntry, base: &str) -> Result<(HttpVerb, String, Op), FhirError> {
    let req = e
        .request
        .as_ref()
        .ok_or_else(|| bad("the entry has no request (method and url are required)"))?;
    let method = req
        .method
        .clone()
        .ok_or_else(|| bad("the entry's request has no method"))?;
    let url = req
        .url
        .as_ref()
        .map(Uri::to_string)
        .ok_or_else(|| bad("the entry's request has no url"))?;
    let local = match url.strip_prefix(base) {
        Some(rest) => rest.trim_start_matches('/').to_owned(),
        None if url.contains("://") => {
            return Err(bad(format!(
                "entry url '{url}' is not under this server's base {base}"
            )))
        }
        None => url.trim_start_matches('/').to_owned(),
    };
    let (path, query) = match local.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (local.as_str(), None),
    };
    let resource = || {
        e.resource
            .clone()
            .ok_or_else(|| bad(format!("a {} entry needs a resource", method.as_str())))
    };
    let op = match (&method, route(path)?) {
        (HttpVerb::Get, Route::Instance(rt, id)) => Op::Read { rt, id },
        (HttpVerb::Get, Route::Version(rt, id, vid)) => Op::VRead { rt, id, vid },
        (HttpVerb::Get, Route::Type(rt)) => Op::Search {
            rt,
            pairs: pairs(query),
        },
        (HttpVerb::Get, Route::TypeHistory(rt)) => Op::History {
            rt: Some(rt),
            id: None,
            pairs: pairs(query),
        },
        (HttpVerb::Get, Route::InstanceHistory(rt, id)) => Op::History {
            rt: Some(rt),
            id: Some(id),
            pairs: pairs(query),
        },
        (HttpVerb::Post, Route::Type(rt)) => Op::Create {
            rt,
            resource: resource()?,
            id: None,
            if_none_exist: req.if_none_exist.clone(),
        },
        (HttpVerb::Put, Route::Instance(rt, id)) => Op::Update {
            rt,
            id,
            resource: resource()?,
            if_match: req.if_match.clone(),
        },
        (HttpVerb::Delete, Route::Instance(rt, id)) => Op::Delete {
            rt,
            id,
            if_match: req.if_match.clone(),
        },
        (m, r) => {
            return Err(FhirError::new(
                405,
                "not-supported",
                format!(
                    "{} on {} is not supported in a bundle entry",
                    m.as_str(),
                    r.describe()
                ),
            ))
        }
    };
    Ok((method, url, op))
}

/// The response entry of a successful operation.
fn response_entry(base: &str, done: Done, ret: Return) -> BundleEntry {
    let mut resp = BundleEntryResponse {
        status: Some(format!("{} {}", done.status, reason(done.status))),
        ..BundleEntryResponse::default()
    };
    let mut full_url = None;
    if let Some(v) = &done.version {
        resp.etag = Some(v.etag());
        resp.last_modified = Instant::new(instant_text(v.last_updated)).ok();
        if done.write {
            resp.location = Uri::new(v.versioned_path()).ok();
        }
        full_url = Uri::new(format!("{base}/{}", v.path())).ok();
    }
    let resource = match (done.write, ret, done.body) {
        (true, Return::Minimal, _) => None,
        (true, Return::OperationOutcome, _) => {
            resp.outcome = Some(Resource::from(outcome(
                IssueSeverity::Information,
                "informational",
                resp.status.clone().unwrap_or_default(),
            )));
            None
        }
        (_, _, Body::Stored(s)) => Some(s.resource.clone()),
        (_, _, Body::Resource(r)) => Some(r),
        (_, _, Body::Empty | Body::Json(_)) => None,
    };
    if resource.is_none() {
        full_url = None;
    }
    BundleEntry {
        full_url,
        resource,
        response: Some(resp),
        ..BundleEntry::default()
    }
}

fn error_entry(e: FhirError) -> BundleEntry {
    BundleEntry {
        response: Some(BundleEntryResponse {
            status: Some(format!("{} {}", e.status(), reason(e.status()))),
            outcome: Some(Resource::from(e.into_outcome())),
            ..BundleEntryResponse::default()
        }),
        ..BundleEntry::default()
    }
}

fn response_bundle(kind: BundleType, entries: Vec<BundleEntry>) -> Bundle {
    let mut b = Bundle::new(kind);
    b.id = Id::new(uuid::Uuid::new_v4().to_string()).ok();
    b.timestamp = Instant::new(instant_text(time::OffsetDateTime::now_utc())).ok();
    b.entry = entries;
    b
}

/// Processes a batch or transaction Bundle.
pub(crate) fn process(
    engine: &Engine,
    ctx: &Ctx<'_>,
    ret: Return,
    bundle: Bundle,
) -> Result<Bundle, FhirError> {
    match bundle.type_ {
        Some(BundleType::Transaction) => transaction(engine, ctx, ret, bundle),
        Some(BundleType::Batch) => Ok(batch(engine, ctx, ret, bundle)),
        other => Err(bad(format!(
            "a Bundle posted to the base must be a batch or a transaction, not {}",
            other.as_ref().map_or("(no type)", |t| t.as_str())
        ))
        .at("Bundle.type")),
    }
}

fn batch(engine: &Engine, ctx: &Ctx<'_>, ret: Return, bundle: Bundle) -> Bundle {
    let entries = bundle
        .entry
        .iter()
        .map(|e| {
            let r = entry_op(e, ctx.base).and_then(|(_, _, op)| {
                let mut store = engine.store();
                exec(&mut store, ctx, op)
            });
            match r {
                Ok(done) => response_entry(ctx.base, done, ret),
                Err(err) => error_entry(err),
            }
        })
        .collect();
    response_bundle(BundleType::BatchResponse, entries)
}

fn order(op: &Op) -> u8 {
    match op {
        Op::Delete { .. } => 0,
        Op::Create { .. } => 1,
        Op::Update { .. } => 2,
        _ => 3,
    }
}

fn transaction(
    engine: &Engine,
    ctx: &Ctx<'_>,
    ret: Return,
    bundle: Bundle,
) -> Result<Bundle, FhirError> {
    let n = bundle.entry.len();
    let mut ops = Vec::with_capacity(n);
    let mut full_urls: HashMap<String, String> = HashMap::new();
    for (i, e) in bundle.entry.iter().enumerate() {
        let (method, url, mut op) =
            entry_op(e, ctx.base).map_err(|err| err.context(&format!("transaction entry {i}")))?;
        let full_url = e.full_url.as_ref().map(Uri::to_string);
        match (&mut op, full_url) {
            (Op::Create { rt, id, .. }, Some(fu)) => {
                let new_id = uuid::Uuid::new_v4().to_string();
                full_urls.insert(fu, format!("{rt}/{new_id}"));
                *id = Some(new_id);
            }
            (Op::Update { rt, id, .. }, Some(fu)) => {
                full_urls.insert(fu, format!("{rt}/{id}"));
            }
            _ => {}
        }
        ops.push((i, method, url, op));
    }
    let mut targets = HashSet::new();
    for (i, method, url, op) in &mut ops {
        let target = match op {
            Op::Update { rt, id, .. } | Op::Delete { rt, id, .. } => Some(format!("{rt}/{id}")),
            _ => None,
        };
        if let Some(t) = target {
            if !targets.insert(t.clone()) {
                return Err(bad(format!(
                    "transaction entry {i} ({} {url}) targets {t} again; a transaction may name a resource once",
                    method.as_str()
                )));
            }
        }
        if let Op::Create { resource, .. } | Op::Update { resource, .. } = op {
            let r = std::mem::replace(resource, Resource::from(Bundle::default()));
            *resource = refs::resolve(r, &full_urls)
                .map_err(|err| err.context(&format!("transaction entry {i}")))?;
        }
    }
    ops.sort_by_key(|(i, _, _, op)| (order(op), *i));
    let deferred = Ctx {
        defer_references: true,
        ..*ctx
    };
    let mut guard = engine.store();
    let mut work = guard.clone();
    let mut results: Vec<Option<Done>> = (0..n).map(|_| None).collect();
    for (i, method, url, op) in ops {
        let done = exec(&mut work, &deferred, op).map_err(|err| {
            err.context(&format!(
                "transaction failed at entry {i} ({} {url}); nothing was applied",
                method.as_str()
            ))
        })?;
        results[i] = Some(done);
    }
    if ctx.settings.check_references {
        for (i, done) in results.iter().enumerate() {
            let Some(v) = done
                .as_ref()
                .filter(|d| d.write)
                .and_then(|d| d.version.as_ref())
            else {
                continue;
            };
            let Some(body) = &v.body else { continue };
            let d = refs::dangling(&work, v.rt, &body.json, ctx.base);
            if !d.is_empty() {
                return Err(refs::dangling_error(&d).context(&format!(
                    "transaction failed at entry {i}; nothing was applied"
                )));
            }
        }
    }
    *guard = work;
    drop(guard);
    let entries = results
        .into_iter()
        .map(|d| match d {
            Some(done) => response_entry(ctx.base, done, ret),
            None => error_entry(FhirError::new(500, "exception", "entry not processed")),
        })
        .collect();
    Ok(response_bundle(BundleType::TransactionResponse, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hie_vc::fhir::BundleEntryRequest;

    #[test]
    fn entry_urls_are_read_relative_or_under_the_base() {
        let base = "http://127.0.0.1:9/fhir";
        let e = |method: HttpVerb, url: &str| BundleEntry {
            request: Some(BundleEntryRequest {
                method: Some(method),
                url: Uri::new(url).ok(),
                ..BundleEntryRequest::default()
            }),
            ..BundleEntry::default()
        };
        assert!(matches!(
            entry_op(&e(HttpVerb::Get, "Patient/p1"), base).unwrap().2,
            Op::Read { rt: "Patient", .. }
        ));
        assert!(matches!(
            entry_op(
                &e(HttpVerb::Get, "http://127.0.0.1:9/fhir/Slot?status=free"),
                base
            )
            .unwrap()
            .2,
            Op::Search { rt: "Slot", .. }
        ));
        assert_eq!(
            entry_op(&e(HttpVerb::Get, "https://elsewhere/fhir/Patient/p1"), base)
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            entry_op(&e(HttpVerb::Put, "Patient/p1"), base)
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            entry_op(&e(HttpVerb::Patch, "Patient/p1"), base)
                .unwrap_err()
                .status(),
            405
        );
    }
}

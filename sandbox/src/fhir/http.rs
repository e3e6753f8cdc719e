//! FHIR over HTTP: request headers (`Content-Type`, `Accept`, `Prefer`, `If-Match`,
//! `If-None-Exist`) in, status, `ETag`, `Last-Modified`, `Location` and
//! `application/fhir+json` bodies out.

use axum::body::Body as HttpBody;
use axum::http::{header, HeaderMap, Method, Response, StatusCode};
use bytes::Bytes;
use hie_vc::fhir::{self, Bundle, IssueSeverity, ReadOptions, Resource};

use super::bundle;
use super::capability;
use super::interactions::exec;
use super::routes::{method_not_allowed, pairs, route, Op, Route};
use super::{Body, Done, Engine};
use crate::error::{outcome, FhirError};

/// The FHIR JSON media type.
pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// `Prefer: return=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Return {
    #[default]
    Representation,
    Minimal,
    OperationOutcome,
}

/// What the `Prefer` header asks for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Prefer {
    pub ret: Return,
    pub lenient: bool,
}

pub(crate) fn prefer(headers: &HeaderMap) -> Prefer {
    let mut p = Prefer::default();
    for v in headers.get_all("prefer") {
        let Ok(v) = v.to_str() else { continue };
        for token in v.split([',', ';']).map(str::trim) {
            match token {
                "return=minimal" => p.ret = Return::Minimal,
                "return=representation" => p.ret = Return::Representation,
                "return=OperationOutcome" => p.ret = Return::OperationOutcome,
                "handling=lenient" => p.lenient = true,
                "handling=strict" => p.lenient = false,
                _ => {}
            }
        }
    }
    p
}

/// A FHIR request as the HTTP layer received it.
#[derive(Debug)]
pub(crate) struct FhirRequest<'a> {
    pub method: &'a Method,
    /// The path below the base (`Patient/p1`).
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    /// The base URL as the client sees it.
    pub base: &'a str,
}

impl FhirRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn mime(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// Reads the request body as a resource.
fn body_resource(req: &FhirRequest<'_>) -> Result<Resource, FhirError> {
    if let Some(ct) = req.header("content-type") {
        let m = mime(ct).to_ascii_lowercase();
        if !matches!(
            m.as_str(),
            "application/fhir+json" | "application/json" | "application/json+fhir"
        ) {
            return Err(FhirError::new(
                415,
                "not-supported",
                format!("Content-Type '{m}' is not supported; send application/fhir+json"),
            ));
        }
    }
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(FhirError::new(
            400,
            "required",
            "the request needs a FHIR JSON body",
        ));
    }
    fhir::read::<Resource>(req.body, ReadOptions::strict())
        .map(|r| r.value)
        .map_err(|e| {
            FhirError::new(
                400,
                "structure",
                format!("the body is not valid FHIR R4 JSON: {}", e.message),
            )
            .at(e.location)
        })
}

fn accepts_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    accept
        .split(',')
        .map(|a| mime(a).to_ascii_lowercase())
        .any(|m| m.contains("json") || m == "*/*" || m == "application/*" || m.is_empty())
}

/// The operation a request asks for, or what it gets directly (metadata, bundles).
enum Plan {
    Op(Op),
    Metadata,
    Bundle(Box<Bundle>),
}

fn plan(req: &FhirRequest<'_>) -> Result<Plan, FhirError> {
    let r = route(req.path)?;
    let m = req.method;
    let if_match = || req.header("if-match").map(str::to_owned);
    Ok(Plan::Op(match (m, r) {
        (&Method::GET, Route::Metadata) => return Ok(Plan::Metadata),
        (&Method::POST | &Method::PUT, Route::Root) => {
            return match body_resource(req)? {
                Resource::Bundle(b) => Ok(Plan::Bundle(b)),
                other => Err(FhirError::new(
                    400,
                    "invalid",
                    format!(
                        "the base accepts a batch or transaction Bundle, not a {}",
                        other.resource_type()
                    ),
                )),
            }
        }
        (&Method::GET, Route::Root) => {
            return Err(FhirError::new(
                400,
                "not-supported",
                "searching across all types is not supported; search one type ([base]/[type]?...)",
            ))
        }
        (&Method::GET, Route::SystemHistory) => Op::History {
            rt: None,
            id: None,
            pairs: pairs(req.query),
        },
        (&Method::GET, Route::Type(rt)) => Op::Search {
            rt,
            pairs: pairs(req.query),
        },
        (&Method::POST, Route::Type(rt)) => Op::Create {
            rt,
            resource: body_resource(req)?,
            id: None,
            if_none_exist: req.header("if-none-exist").map(str::to_owned),
        },
        (&Method::POST, Route::SearchPost(rt)) => {
            let ct = req.header("content-type").map(mime).unwrap_or("");
            if !ct.eq_ignore_ascii_case("application/x-www-form-urlencoded") && !req.body.is_empty()
            {
                return Err(FhirError::new(
                    415,
                    "not-supported",
                    "POST _search takes application/x-www-form-urlencoded parameters",
                ));
            }
            let mut all = pairs(req.query);
            all.extend(pairs(std::str::from_utf8(req.body).ok()));
            Op::Search { rt, pairs: all }
        }
        (&Method::GET, Route::TypeHistory(rt)) => Op::History {
            rt: Some(rt),
            id: None,
            pairs: pairs(req.query),
        },
        (&Method::GET, Route::Instance(rt, id)) => Op::Read { rt, id },
        (&Method::PUT, Route::Instance(rt, id)) => Op::Update {
            rt,
            id,
            resource: body_resource(req)?,
            if_match: if_match(),
        },
        (&Method::DELETE, Route::Instance(rt, id)) => Op::Delete {
            rt,
            id,
            if_match: if_match(),
        },
        (&Method::GET, Route::InstanceHistory(rt, id)) => Op::History {
            rt: Some(rt),
            id: Some(id),
            pairs: pairs(req.query),
        },
        (&Method::GET, Route::Version(rt, id, vid)) => Op::VRead { rt, id, vid },
        (m, r) => return Err(method_not_allowed(m.as_str(), &r)),
    }))
}

fn response(status: u16) -> axum::http::response::Builder {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
}

fn with_json(b: axum::http::response::Builder, json: String) -> Response<HttpBody> {
    b.header(header::CONTENT_TYPE, FHIR_JSON)
        .body(HttpBody::from(json))
        .unwrap_or_else(|_| Response::new(HttpBody::empty()))
}

/// The response of a failure.
pub(crate) fn error_response(e: &FhirError) -> Response<HttpBody> {
    with_json(response(e.status()), fhir::to_json(e.outcome()))
}

fn done_response(done: Done, base: &str, p: Prefer) -> Response<HttpBody> {
    let mut b = response(done.status);
    if let Some(v) = &done.version {
        b = b
            .header(header::ETAG, v.etag())
            .header(header::LAST_MODIFIED, v.last_modified());
        let location = format!("{base}/{}", v.versioned_path());
        if done.status == 201 {
            b = b.header(header::LOCATION, location);
        } else if done.write {
            b = b.header(header::CONTENT_LOCATION, location);
        }
    }
    let json = match (done.write, p.ret, done.body) {
        (true, Return::Minimal, _) | (_, _, Body::Empty) => None,
        (true, Return::OperationOutcome, _) => Some(fhir::to_json(&outcome(
            IssueSeverity::Information,
            "informational",
            if done.status == 201 {
                "created"
            } else {
                "updated"
            },
        ))),
        (_, _, Body::Stored(s)) => Some(s.text.clone()),
        (_, _, Body::Resource(r)) => Some(fhir::to_json(&r)),
        (_, _, Body::Json(j)) => Some(j),
    };
    match json {
        Some(j) => with_json(b, j),
        None => b
            .body(HttpBody::empty())
            .unwrap_or_else(|_| Response::new(HttpBody::empty())),
    }
}

/// Answers one FHIR request.
pub(crate) fn handle(engine: &Engine, req: &FhirRequest<'_>) -> Response<HttpBody> {
    if !accepts_json(req.headers) {
        return error_response(&FhirError::new(
            406,
            "not-supported",
            "the sandbox only speaks FHIR JSON (Accept: application/fhir+json)",
        ));
    }
    let p = prefer(req.headers);
    let ctx = engine.ctx(req.base, p.lenient);
    let result = plan(req).and_then(|plan| match plan {
        Plan::Metadata => Ok(Done {
            status: 200,
            body: Body::Json(capability::statement(&engine.settings, req.base)),
            version: None,
            write: false,
        }),
        Plan::Bundle(b) => bundle::process(engine, &ctx, p.ret, *b).map(|b| Done::resource(200, b)),
        Plan::Op(op) => {
            let mut store = engine.store();
            exec(&mut store, &ctx, op)
        }
    });
    match result {
        Ok(done) => done_response(done, req.base, p),
        Err(e) => error_response(&e),
    }
}

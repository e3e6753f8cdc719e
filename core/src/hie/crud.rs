//! The instance interactions: create (plain and conditional), read, vread, update (plain,
//! version-aware, as create) and delete, with what the server said about each.

use std::future::Future;
use std::marker::PhantomData;

use bytes::Bytes;
use reqwest::header::{
    HeaderValue, CONTENT_LOCATION, CONTENT_TYPE, ETAG, IF_MATCH, LAST_MODIFIED, LOCATION,
};
use reqwest::Method;

use super::client::{call_options, HieClient};
use super::config::Prefer;
use super::params::SearchParams;
use super::resource::{
    check_id, check_type, etag_version, if_match_value, FhirResource, ResourceLocation,
};
use super::transport::{CallOptions, Exchange, Reply, FHIR_JSON, IF_NONE_EXIST, PREFER};
use crate::error::{Error, ErrorKind, Result};
use crate::fhir::{self, FhirType, OperationOutcome, ReadWarning, Resource};

/// What a write did on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteKind {
    /// A new resource (201 Created): a create, or an update-as-create with a new id.
    Created,
    /// A new version of an existing resource (200 OK to an update).
    Updated,
    /// Nothing written: a conditional create matched an existing resource (200 OK).
    Existing,
}

crate::names::names!(WriteKind, "write kind" {
    Created => "created",
    Updated => "updated",
    Existing => "existing",
});

// `Prefer` is declared with the client's configuration; its names live here, with the writes
// that send it.
crate::names::names!(Prefer, "Prefer return value" {
    Minimal => "minimal",
    Representation => "representation",
    OperationOutcome => "operation_outcome" | "OperationOutcome",
});

/// The result of a create or update.
///
/// JSON (camelCase): `{"status", "kind", "id", "versionId", "location", "etag",
/// "lastModified", "resource", "outcome", "warnings", "bodyError", "requestId"}`; the resource
/// and outcome as FHIR JSON, `bodyError` as [`crate::error::ErrorInfo`].
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase", bound(serialize = "T: FhirType"))]
#[non_exhaustive]
pub struct Written<T> {
    /// The HTTP status (201 or 200).
    pub status: u16,
    /// Created, updated, or matched by a conditional create.
    pub kind: WriteKind,
    /// The logical id (from `Location`, else the returned resource).
    pub id: Option<String>,
    /// The version (from `ETag`, else `Location`, else the returned resource).
    pub version_id: Option<String>,
    /// The `Location` (or `Content-Location`) header as sent by the server. Servers behind
    /// proxies may report a base other than the one called; [`Written::id`] and
    /// [`Written::version_id`] are read from its end only.
    pub location: Option<String>,
    /// The `ETag` header (`W/"<vid>"`).
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
    /// Boxed, so the result stays small to move whatever `T` is (an Appointment is 1.3 KB, and
    /// most writes return none): see [`Written::resource`].
    #[serde(serialize_with = "embed_option_box")]
    pub(crate) resource: Option<Box<T>>,
    /// Boxed for the same reason: see [`Written::outcome`].
    pub(crate) outcome: Option<Box<OperationOutcome>>,
    /// What was off in the returned resource (read leniently).
    pub warnings: Vec<ReadWarning>,
    /// The write succeeded but the returned body could not be read. Kept here rather than
    /// failing the call, because a caller that sees an error would retry a write that happened.
    #[serde(serialize_with = "shared_error")]
    pub body_error: Option<std::sync::Arc<crate::Error>>,
    /// The `X-Request-Id` of the request.
    pub request_id: String,
}

// serde hands `serialize_with` the field as declared, hence `&Box`.
#[allow(clippy::borrowed_box)]
fn embed_box<T: FhirType, S: serde::Serializer>(
    v: &Box<T>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    fhir::embed::one(&**v, s)
}

fn embed_option_box<T: FhirType, S: serde::Serializer>(
    v: &Option<Box<T>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&v.as_deref().map(fhir::embed::Fhir), s)
}

fn shared_error<S: serde::Serializer>(
    e: &Option<std::sync::Arc<crate::Error>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&e.as_deref(), s)
}

impl<T> Written<T> {
    /// Whether a new resource was created.
    pub fn created(&self) -> bool {
        self.kind == WriteKind::Created
    }
    /// The resource as stored, when the server returned it (`Prefer: return=representation`).
    pub fn resource(&self) -> Option<&T> {
        self.resource.as_deref()
    }
    /// The returned resource, to change in place.
    pub fn resource_mut(&mut self) -> Option<&mut T> {
        self.resource.as_deref_mut()
    }
    /// Takes the returned resource out, leaving none.
    pub fn take_resource(&mut self) -> Option<T> {
        self.resource.take().map(|b| *b)
    }
    /// The returned resource, when there is one (the rest of the result dropped).
    pub fn into_resource(self) -> Option<T> {
        self.resource.map(|b| *b)
    }
    /// The OperationOutcome the server returned (`Prefer: return=OperationOutcome`, or hints).
    pub fn outcome(&self) -> Option<&OperationOutcome> {
        self.outcome.as_deref()
    }
}

/// The result of a read or vread. JSON (camelCase): `{"resource", "etag", "versionId",
/// "lastModified", "warnings", "requestId"}`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase", bound(serialize = "T: FhirType"))]
#[non_exhaustive]
pub struct Fetched<T> {
    /// Boxed, so the result stays small to move whatever `T` is: see [`Fetched::resource`].
    #[serde(serialize_with = "embed_box")]
    pub(crate) resource: Box<T>,
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The version (from `ETag`, else `meta.versionId`).
    pub version_id: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
    /// What was off in the resource (read leniently).
    pub warnings: Vec<ReadWarning>,
    /// The `X-Request-Id` of the request.
    pub request_id: String,
}

impl<T> Fetched<T> {
    /// The resource read.
    pub fn resource(&self) -> &T {
        &self.resource
    }
    /// The resource read, to change in place (e.g. before an update with
    /// [`UpdateRequest::if_match`] on [`Fetched::version_id`]).
    pub fn resource_mut(&mut self) -> &mut T {
        &mut self.resource
    }
    /// The resource read (the rest of the result dropped).
    pub fn into_resource(self) -> T {
        *self.resource
    }
}

/// The result of a delete. JSON (camelCase): `{"status", "outcome", "requestId"}`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Deleted {
    /// 200 (with a body) or 204 (without).
    pub status: u16,
    /// The OperationOutcome the server returned, if any.
    pub outcome: Option<OperationOutcome>,
    /// The `X-Request-Id` of the request.
    pub request_id: String,
}

fn header(reply: &Reply, name: reqwest::header::HeaderName) -> Option<String> {
    reply.header(name).map(str::to_owned)
}

/// What a successful write response says, whatever the interaction. `what` names the call
/// in the (rare) error messages and is only built for them.
fn written<T: FhirResource>(
    client: &HieClient,
    reply: Reply,
    kind: WriteKind,
    what: impl Fn() -> String,
) -> Written<T> {
    let location = header(&reply, LOCATION).or_else(|| header(&reply, CONTENT_LOCATION));
    let etag = header(&reply, ETAG);
    let (id, loc_version) = match location.as_deref().and_then(ResourceLocation::parts) {
        Some((_, id, vid)) => (Some(id.to_owned()), vid),
        None => (None, None),
    };
    let mut out = Written {
        status: reply.status,
        kind,
        id,
        version_id: etag
            .as_deref()
            .and_then(etag_version)
            .or_else(|| loc_version.map(str::to_owned)),
        last_modified: header(&reply, LAST_MODIFIED),
        location,
        etag,
        resource: None,
        outcome: None,
        warnings: Vec::new(),
        body_error: None,
        // Moved in from the reply once the body is read (its errors name it too).
        request_id: String::new(),
    };
    if reply.body.iter().all(u8::is_ascii_whitespace) {
        out.request_id = reply.request_id;
        return out;
    }
    match client.decode::<Resource>(&reply, &what) {
        Ok(read) => {
            out.warnings = read.warnings;
            match read.value {
                Resource::OperationOutcome(o) if T::TYPE != Some("OperationOutcome") => {
                    out.outcome = Some(o)
                }
                r => match T::from_resource_boxed(r) {
                    Ok(t) => {
                        out.id = out.id.or_else(|| t.logical_id());
                        out.version_id = out.version_id.or_else(|| t.version_id());
                        out.resource = Some(t);
                    }
                    Err(other) => {
                        out.body_error = Some(std::sync::Arc::new(
                            Error::new(
                                ErrorKind::Decode,
                                format!(
                                    "the server answered {} with a {} instead of the resource",
                                    what(),
                                    other.resource_type()
                                ),
                            )
                            .with_location("resourceType")
                            .with_request_id(reply.request_id.clone()),
                        ))
                    }
                },
            }
        }
        Err(e) => out.body_error = Some(std::sync::Arc::new(e)),
    }
    out.request_id = reply.request_id;
    out
}

/// Serialises a resource as a request body, after the client-side checks.
fn body_of(client: &HieClient, resource: &Resource, validate: Option<bool>) -> Result<Bytes> {
    client.check(resource, validate)?;
    Ok(Bytes::from(fhir::to_vec(resource)))
}

fn prefer_header(prefer: Option<Prefer>) -> Option<HeaderValue> {
    prefer.map(|p| HeaderValue::from_static(p.header_value()))
}

/// The future of a call already made (`started`: its exchange, the client, and what `finish`
/// needs of the call): awaits the reply and hands it to `finish`.
///
/// The request builders check, serialise and make their call in a plain `fn` and return this:
/// an `async fn send(self)` would keep the builder and the call it built (~700 bytes, an
/// Appointment update's future was 1 KB) in its future, which every caller copies into its own
/// (issue 10 §6). This one holds the boxed exchange, the client and `C`.
async fn then_finish<C, R>(
    started: Started<C>,
    finish: impl FnOnce(&HieClient, Reply, C) -> Result<R>,
) -> Result<R> {
    let (exchange, client, context) = started?;
    let reply = exchange.await?;
    finish(&client, reply, context)
}

/// A write's [`then_finish`]: its [`Written`], of the kind `kind` tells from the status.
fn then_written<T: FhirResource, C: Send + 'static>(
    started: Started<C>,
    kind: fn(u16, &C) -> WriteKind,
    what: fn(&C) -> String,
) -> impl Future<Output = Result<Written<T>>> + Send + 'static {
    then_finish(started, move |client, reply, context| {
        let kind = kind(reply.status, &context);
        Ok(written(client, reply, kind, || what(&context)))
    })
}

/// What a request builder's `start` gives: the call under way, the client, and what the
/// result is built with.
type Started<C> = Result<(Exchange, HieClient, C)>;

/// A `create` (`POST [base]/[type]`), optionally conditional (`If-None-Exist`).
#[derive(Debug)]
#[must_use = "nothing is sent until send() is awaited"]
pub struct CreateRequest<T> {
    client: HieClient,
    resource: Resource,
    if_none_exist: Option<SearchParams>,
    prefer: Option<Prefer>,
    validate: Option<bool>,
    opts: CallOptions,
    _t: PhantomData<fn() -> T>,
}

impl<T: FhirResource> CreateRequest<T> {
    pub(crate) fn new(client: HieClient, resource: T) -> Self {
        Self {
            client,
            resource: resource.into_resource(),
            if_none_exist: None,
            prefer: None,
            validate: None,
            opts: CallOptions::default(),
            _t: PhantomData,
        }
    }
    /// Makes the create conditional: the server creates only when nothing matches these
    /// search parameters (`If-None-Exist`), and answers 200 with the match otherwise. Such a
    /// create can be retried safely, so it is.
    pub fn if_none_exist(mut self, criteria: impl Into<SearchParams>) -> Self {
        self.if_none_exist = Some(criteria.into());
        self
    }
    /// What the server should return.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }
    /// Turns client-side MY Core validation on or off for this request.
    pub fn validate(mut self, yes: bool) -> Self {
        self.validate = Some(yes);
        self
    }
    call_options!();

    /// Sends the create.
    ///
    /// The resource is checked (MY Core validation unless turned off), serialised and given
    /// its request id when `send` is called; the returned future makes the exchange. Errors
    /// of either step come from the future.
    pub fn send(self) -> impl Future<Output = Result<Written<T>>> + Send + 'static {
        then_written(
            self.start(),
            |status, (_, conditional)| {
                if status == 201 || !conditional {
                    WriteKind::Created
                } else {
                    WriteKind::Existing
                }
            },
            |(rt, _)| format!("create {rt}"),
        )
    }

    /// The checks, the body and the call; what `send`'s future finishes with.
    fn start(self) -> Started<(String, bool)> {
        let rt = self.resource.resource_type().to_owned();
        check_type(&rt)?;
        let body = body_of(&self.client, &self.resource, self.validate)?;
        let mut call = self
            .client
            .call(Method::POST, &rt, "create", rt.clone(), self.opts)?;
        call.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        if let Some(p) = prefer_header(self.client.prefer(self.prefer)) {
            call.headers.insert(PREFER, p);
        }
        let conditional = self.if_none_exist.is_some();
        if let Some(c) = &self.if_none_exist {
            let v = HeaderValue::from_str(&c.to_query()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "If-None-Exist criteria are not valid in a header",
                )
            })?;
            call.headers.insert(IF_NONE_EXIST, v);
            call.idempotent = true;
        }
        call.body = Some(body);
        let exchange = self.client.execute(call);
        Ok((exchange, self.client, (rt, conditional)))
    }
}

/// A `read` (`GET [base]/[type]/[id]`) or `vread` (`.../_history/[vid]`).
#[derive(Debug)]
#[must_use = "nothing is sent until send() is awaited"]
pub struct ReadRequest<T> {
    client: HieClient,
    resource_type: String,
    id: String,
    version_id: Option<String>,
    opts: CallOptions,
    _t: PhantomData<fn() -> T>,
}

impl<T: FhirResource> ReadRequest<T> {
    pub(crate) fn new(
        client: HieClient,
        resource_type: String,
        id: String,
        version_id: Option<String>,
    ) -> Self {
        Self {
            client,
            resource_type,
            id,
            version_id,
            opts: CallOptions::default(),
            _t: PhantomData,
        }
    }
    /// Reads this version (a `vread`).
    pub fn version(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }
    call_options!();

    /// Sends the read. A deleted resource gives [`ErrorKind::Gone`], an unknown one
    /// [`ErrorKind::NotFound`].
    pub fn send(self) -> impl Future<Output = Result<Fetched<T>>> + Send + 'static {
        then_finish(self.start(), |client, reply, (path, interaction)| {
            let read = client.decode::<T>(&reply, || format!("{interaction} {path}"))?;
            let etag = header(&reply, ETAG);
            let version_id = etag
                .as_deref()
                .and_then(etag_version)
                .or_else(|| read.value.version_id());
            Ok(Fetched {
                resource: Box::new(read.value),
                etag,
                version_id,
                last_modified: header(&reply, LAST_MODIFIED),
                warnings: read.warnings,
                request_id: reply.request_id,
            })
        })
    }

    /// The checks and the call; what `send`'s future finishes with.
    fn start(self) -> Started<(String, &'static str)> {
        check_type(&self.resource_type)?;
        check_id("id", &self.id)?;
        let target = format!("{}/{}", self.resource_type, self.id);
        let (path, interaction) = match &self.version_id {
            Some(v) => {
                check_id("version id", v)?;
                (format!("{target}/_history/{v}"), "vread")
            }
            None => (target, "read"),
        };
        let call = self
            .client
            .call(Method::GET, &path, interaction, path.clone(), self.opts)?;
        let exchange = self.client.execute(call);
        Ok((exchange, self.client, (path, interaction)))
    }
}

enum IfMatch {
    None,
    Version(String),
    Current,
}

/// An `update` (`PUT [base]/[type]/[id]`), optionally version-aware (`If-Match`).
#[must_use = "nothing is sent until send() is awaited"]
pub struct UpdateRequest<T> {
    client: HieClient,
    resource: Resource,
    if_match: IfMatch,
    prefer: Option<Prefer>,
    validate: Option<bool>,
    opts: CallOptions,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for UpdateRequest<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateRequest")
            .field("resource_type", &self.resource.resource_type())
            .field("id", &self.resource.id())
            .finish_non_exhaustive()
    }
}

impl<T: FhirResource> UpdateRequest<T> {
    pub(crate) fn new(client: HieClient, resource: T) -> Self {
        Self {
            client,
            resource: resource.into_resource(),
            if_match: IfMatch::None,
            prefer: None,
            validate: None,
            opts: CallOptions::default(),
            _t: PhantomData,
        }
    }
    /// Only update when the server's current version is `version_id` (`If-Match: W/"<vid>"`):
    /// a concurrent change gives [`ErrorKind::PreconditionFailed`] instead of being overwritten.
    pub fn if_match(mut self, version_id: impl Into<String>) -> Self {
        self.if_match = IfMatch::Version(version_id.into());
        self
    }
    /// Only update when the server still has the version this resource was read at
    /// (its `meta.versionId`).
    pub fn if_match_current(mut self) -> Self {
        self.if_match = IfMatch::Current;
        self
    }
    /// What the server should return.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }
    /// Turns client-side MY Core validation on or off for this request.
    pub fn validate(mut self, yes: bool) -> Self {
        self.validate = Some(yes);
        self
    }
    call_options!();

    /// Sends the update: [`WriteKind::Created`] for a new id (201), [`WriteKind::Updated`]
    /// otherwise (200).
    ///
    /// The resource is checked (its id, MY Core validation unless turned off), serialised and
    /// given its request id when `send` is called; the returned future makes the exchange.
    /// Errors of either step come from the future.
    pub fn send(self) -> impl Future<Output = Result<Written<T>>> + Send + 'static {
        then_written(
            self.start(),
            |status, _| {
                if status == 201 {
                    WriteKind::Created
                } else {
                    WriteKind::Updated
                }
            },
            |path| format!("update {path}"),
        )
    }

    /// The checks, the body and the call; what `send`'s future finishes with.
    fn start(self) -> Started<String> {
        let rt = self.resource.resource_type();
        check_type(rt)?;
        let id = self.resource.id().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("an update needs the {rt}'s id (set it to the client-assigned id, or use create)"),
            )
        })?;
        check_id("id", &id)?;
        let if_match = match self.if_match {
            IfMatch::None => None,
            IfMatch::Version(v) => Some(v),
            IfMatch::Current => Some(self.resource.version_id().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("{rt}/{id} has no meta.versionId to match; read it first or pass the version to if_match"),
                )
            })?),
        };
        let body = body_of(&self.client, &self.resource, self.validate)?;
        let path = format!("{rt}/{id}");
        let mut call = self
            .client
            .call(Method::PUT, &path, "update", path.clone(), self.opts)?;
        call.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        if let Some(p) = prefer_header(self.client.prefer(self.prefer)) {
            call.headers.insert(PREFER, p);
        }
        if let Some(v) = if_match {
            let v = HeaderValue::from_str(&if_match_value(&v)).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "the If-Match version is not valid in a header",
                )
            })?;
            call.headers.insert(IF_MATCH, v);
        }
        call.body = Some(body);
        let exchange = self.client.execute(call);
        Ok((exchange, self.client, path))
    }
}

/// A `delete` (`DELETE [base]/[type]/[id]`).
#[derive(Debug)]
#[must_use = "nothing is sent until send() is awaited"]
pub struct DeleteRequest {
    client: HieClient,
    resource_type: String,
    id: String,
    opts: CallOptions,
}

impl DeleteRequest {
    pub(crate) fn new(client: HieClient, resource_type: String, id: String) -> Self {
        Self {
            client,
            resource_type,
            id,
            opts: CallOptions::default(),
        }
    }
    call_options!();

    /// Sends the delete. Later reads of the resource give [`ErrorKind::Gone`]. HIE disables
    /// delete for most source systems ([`ErrorKind::Forbidden`]).
    pub fn send(self) -> impl Future<Output = Result<Deleted>> + Send + 'static {
        then_finish(self.start(), |client, reply, path| {
            // The delete happened: an unreadable body only loses the optional outcome.
            let outcome = if reply.body.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                match client
                    .decode::<Resource>(&reply, || format!("delete {path}"))
                    .map(|r| r.value)
                {
                    Ok(Resource::OperationOutcome(o)) => Some(*o),
                    _ => None,
                }
            };
            Ok(Deleted {
                status: reply.status,
                outcome,
                request_id: reply.request_id,
            })
        })
    }

    /// The checks and the call; what `send`'s future finishes with.
    fn start(self) -> Started<String> {
        check_type(&self.resource_type)?;
        check_id("id", &self.id)?;
        let path = format!("{}/{}", self.resource_type, self.id);
        let call = self
            .client
            .call(Method::DELETE, &path, "delete", path.clone(), self.opts)?;
        let exchange = self.client.execute(call);
        Ok((exchange, self.client, path))
    }
}

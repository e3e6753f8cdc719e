//! `batch` and `transaction`: a builder of entries and the server's answer, entry by entry,
//! matched to the entry that asked.

use bytes::Bytes;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;

use super::client::{call_options, HieClient};
use super::config::Prefer;
use super::params::SearchParams;
use super::resource::{
    check_id, check_type, etag_version, if_match_value, FhirResource, ResourceLocation,
};
use super::transport::{CallOptions, FHIR_JSON, PREFER};
use crate::error::{Error, ErrorKind, Result};
use crate::fhir::{
    self, Bundle, BundleEntry, BundleEntryRequest, BundleType, HttpVerb, OperationOutcome,
    Resource, Uri,
};

/// What the server did with one entry.
///
/// JSON (camelCase): `{"index", "method", "url", "status", "statusText", "location", "id",
/// "versionId", "etag", "lastModified", "outcome", "resource"}`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EntryOutcome {
    /// The position of the entry in the request (and in the response).
    pub index: usize,
    /// The entry's request method.
    pub method: Option<HttpVerb>,
    /// The entry's request URL.
    pub url: Option<String>,
    /// The entry's HTTP status (0 when the server sent none that could be read).
    pub status: u16,
    /// The status as sent (`201 Created`).
    pub status_text: String,
    /// `response.location`.
    pub location: Option<String>,
    /// The id (from the location, else the returned resource).
    pub id: Option<String>,
    /// The version (from the etag, else the location, else the returned resource).
    pub version_id: Option<String>,
    /// `response.etag`.
    pub etag: Option<String>,
    /// `response.lastModified`.
    pub last_modified: Option<String>,
    /// `response.outcome`.
    pub outcome: Option<OperationOutcome>,
    /// The returned resource, when any.
    pub resource: Option<Resource>,
}

impl EntryOutcome {
    /// Whether the entry succeeded (2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The entry's failure as an error of the kind its status names, with its outcome.
    pub fn error(&self) -> Option<Error> {
        if self.is_success() {
            return None;
        }
        let what = format!(
            "entry {} ({} {})",
            self.index,
            self.method.as_ref().map_or("?", |m| m.as_str()),
            self.url.as_deref().unwrap_or("?")
        );
        let mut e = Error::http(
            self.status,
            format!(
                "{what} failed with '{}'; see the OperationOutcome",
                self.status_text
            ),
        );
        if let Some(o) = &self.outcome {
            e = e.with_outcome(o.clone());
        }
        Some(e)
    }
}

/// The answer to a batch or transaction.
///
/// JSON (camelCase): `{"kind", "success", "entries", "requestId"}` (`success`:
/// [`BundleOutcome::is_success`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BundleOutcome {
    /// `batch-response` or `transaction-response`.
    pub kind: Option<BundleType>,
    /// One outcome per request entry, in request order.
    pub entries: Vec<EntryOutcome>,
    /// The `X-Request-Id` of the request.
    pub request_id: String,
}

impl serde::Serialize for BundleOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("BundleOutcome", 4)?;
        m.serialize_field("kind", &self.kind)?;
        m.serialize_field("success", &self.is_success())?;
        m.serialize_field("entries", &self.entries)?;
        m.serialize_field("requestId", &self.request_id)?;
        m.end()
    }
}

impl BundleOutcome {
    /// Whether every entry succeeded.
    pub fn is_success(&self) -> bool {
        self.entries.iter().all(EntryOutcome::is_success)
    }
    /// The entries that failed.
    pub fn failures(&self) -> impl Iterator<Item = &EntryOutcome> {
        self.entries.iter().filter(|e| !e.is_success())
    }
}

/// A batch or transaction (`POST [base]` with a Bundle).
///
/// ```no_run
/// # async fn demo(client: hie_vc::hie::HieClient, schedule: hie_vc::fhir::Schedule, slot: hie_vc::fhir::Slot) -> hie_vc::Result<()> {
/// let out = client.transaction().update(schedule).update(slot).send().await?;
/// for e in &out.entries {
///     println!("{} {:?} -> {} {:?}", e.index, e.url, e.status, e.location);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is sent until send() is awaited"]
pub struct BundleRequest {
    client: HieClient,
    bundle: Bundle,
    method: Method,
    deferred: Option<Error>,
    validate: Option<bool>,
    prefer: Option<Prefer>,
    opts: CallOptions,
}

fn request(method: HttpVerb, url: &str) -> Option<BundleEntryRequest> {
    Some(BundleEntryRequest {
        method: Some(method),
        url: Uri::new(url).ok(),
        ..BundleEntryRequest::default()
    })
}

impl BundleRequest {
    pub(crate) fn new(client: HieClient, bundle: Bundle) -> Self {
        Self {
            client,
            bundle,
            method: Method::POST,
            deferred: None,
            validate: None,
            prefer: None,
            opts: CallOptions::default(),
        }
    }
    fn defer(mut self, e: Error) -> Self {
        self.deferred.get_or_insert(e);
        self
    }
    /// Adds an entry as is.
    pub fn entry(mut self, entry: BundleEntry) -> Self {
        self.bundle.entry.push(entry);
        self
    }
    /// A create (`POST [type]`) with a fresh `urn:uuid:` fullUrl.
    pub fn create<T: FhirResource>(self, resource: T) -> Self {
        let full_url = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        self.create_with_full_url(resource, full_url)
    }
    /// A create with the given fullUrl (`urn:uuid:...`), so other entries of a transaction can
    /// reference the new resource by it.
    pub fn create_with_full_url<T: FhirResource>(
        self,
        resource: T,
        full_url: impl Into<String>,
    ) -> Self {
        let r = resource.into_resource();
        let rt = r.resource_type().to_owned();
        let full_url = full_url.into();
        let Ok(full_url) = Uri::new(full_url.clone()) else {
            return self.defer(Error::new(
                ErrorKind::InvalidInput,
                format!("'{full_url}' is not a valid fullUrl"),
            ));
        };
        self.entry(BundleEntry {
            full_url: Some(full_url),
            resource: Some(r),
            request: request(HttpVerb::Post, &rt),
            ..BundleEntry::default()
        })
    }
    /// A conditional create (`ifNoneExist`).
    pub fn create_if_none_exist<T: FhirResource>(
        self,
        resource: T,
        criteria: impl Into<SearchParams>,
    ) -> Self {
        let r = resource.into_resource();
        let rt = r.resource_type().to_owned();
        let mut req = request(HttpVerb::Post, &rt);
        if let Some(q) = req.as_mut() {
            q.if_none_exist = Some(criteria.into().to_query());
        }
        self.entry(BundleEntry {
            full_url: Uri::new(format!("urn:uuid:{}", uuid::Uuid::new_v4())).ok(),
            resource: Some(r),
            request: req,
            ..BundleEntry::default()
        })
    }
    /// An update (`PUT [type]/[id]`, update-as-create for a new id).
    pub fn update<T: FhirResource>(self, resource: T) -> Self {
        self.update_entry(resource.into_resource(), None)
    }
    /// A version-aware update (`ifMatch: W/"<vid>"`).
    pub fn update_if_match<T: FhirResource>(self, resource: T, version_id: &str) -> Self {
        self.update_entry(resource.into_resource(), Some(if_match_value(version_id)))
    }
    fn update_entry(self, r: Resource, if_match: Option<String>) -> Self {
        let rt = r.resource_type().to_owned();
        let Some(id) = r.id() else {
            return self.defer(Error::new(
                ErrorKind::InvalidInput,
                format!("a {rt} in an update entry needs its id; set the client-assigned id or use create"),
            ));
        };
        if let Err(e) = check_id("id", &id) {
            return self.defer(e);
        }
        let url = format!("{rt}/{id}");
        let mut req = request(HttpVerb::Put, &url);
        if let Some(q) = req.as_mut() {
            q.if_match = if_match;
        }
        let full_url = self
            .client
            .inner
            .transport
            .url(&url)
            .ok()
            .and_then(|u| Uri::new(u.to_string()).ok());
        self.entry(BundleEntry {
            full_url,
            resource: Some(r),
            request: req,
            ..BundleEntry::default()
        })
    }
    /// A delete (`DELETE [type]/[id]`).
    pub fn delete(self, resource_type: &str, id: &str) -> Self {
        if let Err(e) = check_type(resource_type).and_then(|_| check_id("id", id)) {
            return self.defer(e);
        }
        self.entry(BundleEntry {
            request: request(HttpVerb::Delete, &format!("{resource_type}/{id}")),
            ..BundleEntry::default()
        })
    }
    /// A read (`GET [type]/[id]`).
    pub fn read(self, resource_type: &str, id: &str) -> Self {
        if let Err(e) = check_type(resource_type).and_then(|_| check_id("id", id)) {
            return self.defer(e);
        }
        self.entry(BundleEntry {
            request: request(HttpVerb::Get, &format!("{resource_type}/{id}")),
            ..BundleEntry::default()
        })
    }
    /// A search (`GET [type]?params`).
    pub fn search(self, resource_type: &str, params: impl Into<SearchParams>) -> Self {
        if let Err(e) = check_type(resource_type) {
            return self.defer(e);
        }
        let q = params.into().to_query();
        let url = if q.is_empty() {
            resource_type.to_owned()
        } else {
            format!("{resource_type}?{q}")
        };
        self.entry(BundleEntry {
            request: request(HttpVerb::Get, &url),
            ..BundleEntry::default()
        })
    }
    /// The HTTP method of the submission (default POST; one page of the MY Core guide prints
    /// `PUT [base]` for the scheduling Bundle, so a gateway that wants it can have it).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }
    /// Turns client-side MY Core validation of the entries on or off for this request.
    pub fn validate(mut self, yes: bool) -> Self {
        self.validate = Some(yes);
        self
    }
    /// What the server should return in each entry.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }
    call_options!();

    /// The Bundle as it will be sent.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// Sends the Bundle. A refused transaction is an error; in a batch each entry succeeds or
    /// fails on its own ([`EntryOutcome::error`]).
    pub async fn send(self) -> Result<BundleOutcome> {
        if let Some(e) = self.deferred {
            return Err(e);
        }
        let kind = self.bundle.type_.clone();
        let what =
            match kind {
                Some(BundleType::Batch) => "batch",
                Some(BundleType::Transaction) => "transaction",
                _ => return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "only a Bundle of type batch or transaction can be submitted; set Bundle.type",
                )),
            };
        let mut idempotent = true;
        let mut requests = Vec::with_capacity(self.bundle.entry.len());
        for (i, e) in self.bundle.entry.iter().enumerate() {
            let Some(req) = e
                .request
                .as_ref()
                .filter(|r| r.method.is_some() && r.url.is_some())
            else {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("entry {i} has no request.method and request.url; every {what} entry needs both"),
                )
                .with_location(format!("Bundle.entry[{i}].request")));
            };
            idempotent &= match req.method {
                Some(HttpVerb::Get | HttpVerb::Head | HttpVerb::Put | HttpVerb::Delete) => true,
                Some(HttpVerb::Post) => req.if_none_exist.is_some(),
                _ => false,
            };
            requests.push((req.method.clone(), req.url.as_ref().map(Uri::to_string)));
        }
        let resource = Resource::from(self.bundle);
        self.client.check(&resource, self.validate)?;
        let body = Bytes::from(fhir::to_vec(&resource));
        let mut call = self
            .client
            .call(self.method, "", what, "[base]".into(), self.opts)?;
        call.url = self.client.inner.transport.base.clone();
        // Retried only when every entry is safe to repeat (PUT/DELETE/GET/conditional create).
        call.idempotent = idempotent;
        call.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        if let Some(p) = self.client.prefer(self.prefer) {
            call.headers
                .insert(PREFER, HeaderValue::from_static(p.header_value()));
        }
        call.body = Some(body);
        let reply = self.client.execute(call).await?;
        let read = self.client.decode::<Bundle>(&reply, || what.to_owned())?;
        let response = read.value;
        if response.entry.len() != requests.len() {
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "the server answered the {what} with {} entries for {} requests; the entries cannot be matched",
                    response.entry.len(),
                    requests.len()
                ),
            )
            .with_location("Bundle.entry")
            .with_request_id(reply.request_id));
        }
        let entries = response
            .entry
            .into_iter()
            .zip(requests)
            .enumerate()
            .map(|(index, (entry, (method, url)))| entry_outcome(index, entry, method, url))
            .collect();
        Ok(BundleOutcome {
            kind: response.type_,
            entries,
            request_id: reply.request_id,
        })
    }
}

fn entry_outcome(
    index: usize,
    entry: BundleEntry,
    method: Option<HttpVerb>,
    url: Option<String>,
) -> EntryOutcome {
    let resp = entry.response.unwrap_or_default();
    let location = resp.location.as_ref().map(Uri::to_string);
    let loc = location.as_deref().and_then(ResourceLocation::parse);
    let outcome = resp
        .outcome
        .clone()
        .and_then(|o| OperationOutcome::try_from(o).ok());
    let (outcome, resource) = match entry.resource {
        Some(Resource::OperationOutcome(o)) if outcome.is_none() => (Some(*o), None),
        other => (outcome, other),
    };
    let version_id = resp
        .etag
        .as_deref()
        .and_then(etag_version)
        .or_else(|| loc.as_ref().and_then(|l| l.version_id.clone()))
        .or_else(|| resource.as_ref().and_then(|r| r.version_id()));
    let id = loc
        .as_ref()
        .map(|l| l.id.clone())
        .or_else(|| resource.as_ref().and_then(Resource::id));
    EntryOutcome {
        index,
        method,
        url,
        status: resp.status_code().unwrap_or(0),
        status_text: resp.status.clone().unwrap_or_default(),
        location,
        id,
        version_id,
        etag: resp.etag.clone(),
        last_modified: resp.last_modified.as_ref().map(|i| i.to_string()),
        outcome,
        resource,
    }
}

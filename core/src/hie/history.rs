//! `history` of an instance, a type or the whole server, paged like a search.

use std::marker::PhantomData;

use futures::stream::{Stream, StreamExt, TryStreamExt};
use reqwest::Method;

use super::client::{call_options, HieClient};
use super::paging::{self, Page};
use super::params::SearchParams;
use super::resource::{check_id, check_type, etag_version, FhirResource, ResourceLocation};
use super::transport::{Call, CallOptions};
use crate::error::Result;
use crate::fhir::{self, Bundle, FhirType, HttpVerb, ReadWarning, Uri};

/// One version in a history.
///
/// JSON (camelCase): `{"resource", "fullUrl", "method", "requestUrl", "status", "versionId",
/// "lastModified", "deleted"}` (`deleted`: [`HistoryEntry::is_delete`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HistoryEntry<T> {
    /// The resource at that version (absent for a delete).
    pub resource: Option<T>,
    /// The `fullUrl`.
    pub full_url: Option<String>,
    /// What made the version: POST, PUT, DELETE, ...
    pub method: Option<HttpVerb>,
    /// The request URL of that change (`Patient/p1`).
    pub request_url: Option<String>,
    /// The response status of that change.
    pub status: Option<u16>,
    /// The version id (from the resource, the ETag or the location).
    pub version_id: Option<String>,
    /// When the version was made.
    pub last_modified: Option<String>,
}

impl<T> HistoryEntry<T> {
    /// Whether this version is a delete.
    pub fn is_delete(&self) -> bool {
        self.method == Some(HttpVerb::Delete)
    }
}

impl<T: FhirType> serde::Serialize for HistoryEntry<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("HistoryEntry", 8)?;
        m.serialize_field("resource", &self.resource.as_ref().map(fhir::embed::Fhir))?;
        m.serialize_field("fullUrl", &self.full_url)?;
        m.serialize_field("method", &self.method)?;
        m.serialize_field("requestUrl", &self.request_url)?;
        m.serialize_field("status", &self.status)?;
        m.serialize_field("versionId", &self.version_id)?;
        m.serialize_field("lastModified", &self.last_modified)?;
        m.serialize_field("deleted", &self.is_delete())?;
        m.end()
    }
}

/// One page of a history, or several merged ([`HistoryPage::merge`],
/// [`HistoryRequest::send_all`]).
///
/// JSON (camelCase): `{"entries", "total", "next", "pages", "warnings", "requestId"}`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase", bound(serialize = "T: FhirType"))]
#[non_exhaustive]
pub struct HistoryPage<T> {
    /// The versions, newest first (as servers send them).
    pub entries: Vec<HistoryEntry<T>>,
    /// The total number of versions, when given.
    pub total: Option<u64>,
    /// The server's `next` link.
    pub next: Option<String>,
    /// How many server pages this holds (1, more once merged).
    pub pages: usize,
    /// What was off in the Bundle (read leniently).
    pub warnings: Vec<ReadWarning>,
    /// The `X-Request-Id` of the request (of the first page, once merged).
    pub request_id: String,
}

impl<T> HistoryPage<T> {
    /// Pages as one, in order: their entries and warnings; the first page's total and
    /// request id; the last page's `next` link. `None` for no page.
    pub fn merge(pages: impl IntoIterator<Item = Self>) -> Option<Self> {
        let mut pages = pages.into_iter();
        let mut merged = pages.next()?;
        for p in pages {
            merged.entries.extend(p.entries);
            merged.next = p.next;
            merged.pages += p.pages;
            merged.warnings.extend(p.warnings);
        }
        Some(merged)
    }
}

impl<T: FhirResource> Page for HistoryPage<T> {
    fn from_bundle(bundle: Bundle, warnings: Vec<ReadWarning>, request_id: String) -> Result<Self> {
        let next = bundle.link_url("next").map(str::to_owned);
        let total = bundle
            .total
            .as_ref()
            .and_then(|t| u64::try_from(t.get()).ok());
        let entries = bundle
            .entry
            .into_iter()
            .map(|e| {
                let resource = e.resource.and_then(|r| T::from_resource(r).ok());
                let response = e.response.as_ref();
                let location = response
                    .and_then(|r| r.location.as_ref())
                    .and_then(|l| ResourceLocation::parse(l.as_str()));
                let version_id = resource
                    .as_ref()
                    .and_then(|r| r.version_id())
                    .or_else(|| {
                        response
                            .and_then(|r| r.etag.as_deref())
                            .and_then(etag_version)
                    })
                    .or_else(|| location.and_then(|l| l.version_id));
                HistoryEntry {
                    resource,
                    full_url: e.full_url.as_ref().map(|u| u.as_str().to_owned()),
                    method: e.request.as_ref().and_then(|r| r.method.clone()),
                    request_url: e
                        .request
                        .as_ref()
                        .and_then(|r| r.url.as_ref())
                        .map(Uri::to_string),
                    status: response.and_then(|r| r.status_code()),
                    version_id,
                    last_modified: response
                        .and_then(|r| r.last_modified.as_ref())
                        .map(|i| i.to_string()),
                }
            })
            .collect();
        Ok(HistoryPage {
            entries,
            total,
            next,
            pages: 1,
            warnings,
            request_id,
        })
    }
    fn next_link(&self) -> Option<&str> {
        self.next.as_deref()
    }
    fn items(&self) -> usize {
        self.entries.len()
    }
}

/// A `history` request (`[type]/[id]/_history`, `[type]/_history` or `_history`).
#[derive(Debug)]
#[must_use = "nothing is sent until send() or stream() is used"]
pub struct HistoryRequest<T> {
    client: HieClient,
    resource_type: Option<String>,
    id: Option<String>,
    params: SearchParams,
    max_entries: Option<usize>,
    opts: CallOptions,
    _t: PhantomData<fn() -> T>,
}

impl<T: FhirResource> HistoryRequest<T> {
    pub(crate) fn new(
        client: HieClient,
        resource_type: Option<String>,
        id: Option<String>,
    ) -> Self {
        Self {
            client,
            resource_type,
            id,
            params: SearchParams::new(),
            max_entries: None,
            opts: CallOptions::default(),
            _t: PhantomData,
        }
    }
    /// `_count`: versions per page.
    pub fn count(mut self, n: u32) -> Self {
        self.params = self.params.count(n);
        self
    }
    /// `_since`: only versions made at or after this instant.
    pub fn since(mut self, instant: &str) -> Self {
        self.params = self.params.param("_since", instant);
        self
    }
    /// `_at`: only versions current at this time.
    pub fn at(mut self, instant: &str) -> Self {
        self.params = self.params.param("_at", instant);
        self
    }
    /// Stop a [`Self::stream`] after this many versions.
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = Some(n);
        self
    }
    call_options!();

    fn first_call(&self) -> Result<(Call, String)> {
        let path = match (&self.resource_type, &self.id) {
            (Some(t), Some(id)) => {
                check_type(t)?;
                check_id("id", id)?;
                format!("{t}/{id}/_history")
            }
            (Some(t), None) => {
                check_type(t)?;
                format!("{t}/_history")
            }
            _ => "_history".to_owned(),
        };
        let mut call = self.client.call(
            Method::GET,
            &path,
            "history",
            path.clone(),
            self.opts.clone(),
        )?;
        if !self.params.is_empty() {
            call.url.set_query(Some(&self.params.to_query()));
        }
        Ok((call, path))
    }

    /// The first page.
    pub async fn send(self) -> Result<HistoryPage<T>> {
        let (call, _) = self.first_call()?;
        paging::fetch(&self.client, call).await
    }

    /// Every page, following `next` links.
    pub fn pages(self) -> impl Stream<Item = Result<HistoryPage<T>>> + Send + 'static {
        let (first, target) = match self.first_call() {
            Ok((c, p)) => (Ok(c), p),
            Err(e) => (Err(e), String::from("_history")),
        };
        paging::pages(
            self.client,
            first,
            target,
            self.opts,
            self.max_entries,
            None,
        )
    }

    /// Every page (within [`Self::max_entries`]) merged into one ([`HistoryPage::merge`]).
    pub async fn send_all(self) -> Result<HistoryPage<T>> {
        let pages: Vec<HistoryPage<T>> = self.pages().try_collect().await?;
        HistoryPage::merge(pages).ok_or_else(super::search::no_page)
    }

    /// Every version across pages, up to [`Self::max_entries`].
    pub fn stream(self) -> impl Stream<Item = Result<HistoryEntry<T>>> + Send + 'static {
        let cap = self.max_entries.unwrap_or(usize::MAX);
        self.pages()
            .map_ok(|p| futures::stream::iter(p.entries.into_iter().map(Ok)))
            .try_flatten()
            .take(cap)
    }
}

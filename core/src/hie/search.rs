//! `search`: one page, every page, or every match as a stream that follows `next` links.

use std::marker::PhantomData;

use bytes::Bytes;
use futures::stream::{Stream, StreamExt, TryStreamExt};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;

use super::client::{call_options, HieClient};
use super::paging::{self, Page};
use super::params::{Prefix, SearchParams};
use super::resource::{check_type, FhirResource};
use super::transport::{Call, CallOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::fhir::{
    self, Bundle, FhirType, OperationOutcome, ReadWarning, Resource, SearchEntryMode,
};

/// One page of search results, or several merged ([`SearchPage::merge`],
/// [`SearchRequest::send_all`]).
///
/// JSON (camelCase): `{"matches", "included", "outcome", "total", "next", "pages",
/// "warnings", "requestId"}`, resources as FHIR JSON.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase", bound(serialize = "T: FhirType"))]
#[non_exhaustive]
pub struct SearchPage<T> {
    /// The resources that matched, in the server's order.
    #[serde(serialize_with = "fhir::embed::seq")]
    pub matches: Vec<T>,
    /// Resources added by `_include` / `_revinclude`.
    pub included: Vec<Resource>,
    /// The OperationOutcome the server attached (warnings about the search itself).
    pub outcome: Option<OperationOutcome>,
    /// The total number of matches, when the server counted them.
    pub total: Option<u64>,
    /// The server's `next` link, when there are more pages.
    pub next: Option<String>,
    /// How many server pages this holds (1, more once merged).
    pub pages: usize,
    /// What was off in the Bundle (read leniently).
    pub warnings: Vec<ReadWarning>,
    /// The `X-Request-Id` of the request (of the first page, once merged).
    pub request_id: String,
}

impl<T> SearchPage<T> {
    /// Whether the server has more pages.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }
    /// Pages as one, in order: their matches, includes and warnings; the first page's total
    /// and request id; the first outcome any page has; the last page's `next` link. `None`
    /// for no page.
    pub fn merge(pages: impl IntoIterator<Item = Self>) -> Option<Self> {
        let mut pages = pages.into_iter();
        let mut merged = pages.next()?;
        for p in pages {
            merged.matches.extend(p.matches);
            merged.included.extend(p.included);
            if merged.outcome.is_none() {
                merged.outcome = p.outcome;
            }
            merged.next = p.next;
            merged.pages += p.pages;
            merged.warnings.extend(p.warnings);
        }
        Some(merged)
    }
}

impl<T: FhirResource> Page for SearchPage<T> {
    fn from_bundle(bundle: Bundle, warnings: Vec<ReadWarning>, request_id: String) -> Result<Self> {
        let next = bundle.link_url("next").map(str::to_owned);
        let total = bundle
            .total
            .as_ref()
            .and_then(|t| u64::try_from(t.get()).ok());
        let mut page = SearchPage {
            matches: Vec::with_capacity(bundle.entry.len()),
            included: Vec::new(),
            outcome: None,
            total,
            next,
            pages: 1,
            warnings,
            request_id,
        };
        for entry in bundle.entry {
            let mode = entry.search.as_ref().and_then(|s| s.mode.clone());
            let Some(resource) = entry.resource else {
                continue;
            };
            match (mode, resource) {
                (Some(SearchEntryMode::Include), r) => page.included.push(r),
                (Some(SearchEntryMode::Outcome) | None, Resource::OperationOutcome(o))
                    if T::TYPE != Some("OperationOutcome") =>
                {
                    page.outcome = Some(*o)
                }
                (_, r) => match T::from_resource(r) {
                    Ok(t) => page.matches.push(t),
                    // Another type without a mode: an include by any other name.
                    Err(r) => page.included.push(r),
                },
            }
        }
        Ok(page)
    }
    fn next_link(&self) -> Option<&str> {
        self.next.as_deref()
    }
    fn items(&self) -> usize {
        self.matches.len()
    }
}

/// A `search` (`GET [base]/[type]?params`, or `POST [base]/[type]/_search`).
///
/// ```no_run
/// # async fn demo(client: hie_vc::hie::HieClient) -> hie_vc::Result<()> {
/// use futures::TryStreamExt;
/// use hie_vc::fhir::Slot;
/// let slots: Vec<Slot> = client
///     .search::<Slot>()
///     .param("status", "free")
///     .count(50)
///     .max_results(500)
///     .stream()
///     .try_collect()
///     .await?;
/// # let _ = slots; Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is sent until send() or stream() is used"]
pub struct SearchRequest<T> {
    client: HieClient,
    resource_type: String,
    params: SearchParams,
    max_results: Option<usize>,
    max_pages: Option<usize>,
    via_post: bool,
    opts: CallOptions,
    _t: PhantomData<fn() -> T>,
}

impl<T: FhirResource> SearchRequest<T> {
    pub(crate) fn new(client: HieClient, resource_type: String) -> Self {
        Self {
            client,
            resource_type,
            params: SearchParams::new(),
            max_results: None,
            max_pages: None,
            via_post: false,
            opts: CallOptions::default(),
            _t: PhantomData,
        }
    }
    /// Adds these parameters.
    pub fn params(mut self, params: impl Into<SearchParams>) -> Self {
        self.params = self.params.extend(params.into());
        self
    }
    /// A parameter with its value as given.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params = self.params.param(name, value);
        self
    }
    /// A token parameter (`system|code`).
    pub fn token(mut self, name: &str, system: Option<&str>, code: &str) -> Self {
        self.params = self.params.token(name, system, code);
        self
    }
    /// `identifier=system|value`.
    pub fn identifier(mut self, system: &str, value: &str) -> Self {
        self.params = self.params.identifier(system, value);
        self
    }
    /// A reference parameter (`name=Type/id`).
    pub fn reference(mut self, name: &str, resource_type: &str, id: &str) -> Self {
        self.params = self.params.reference(name, resource_type, id);
        self
    }
    /// A string parameter.
    pub fn string(mut self, name: &str, value: &str) -> Self {
        self.params = self.params.string(name, value);
        self
    }
    /// A date parameter with a prefix.
    pub fn date(mut self, name: &str, prefix: Prefix, value: &str) -> Self {
        self.params = self.params.date(name, prefix, value);
        self
    }
    /// `_count`: the page size asked for.
    pub fn count(mut self, n: u32) -> Self {
        self.params = self.params.count(n);
        self
    }
    /// `_sort`.
    pub fn sort(mut self, spec: &str) -> Self {
        self.params = self.params.sort(spec);
        self
    }
    /// `_include`.
    pub fn include(mut self, spec: &str) -> Self {
        self.params = self.params.include(spec);
        self
    }
    /// `_revinclude`.
    pub fn rev_include(mut self, spec: &str) -> Self {
        self.params = self.params.rev_include(spec);
        self
    }
    /// Stop a [`Self::stream`] after this many matches (and [`Self::pages`] once they are
    /// delivered): a guard against walking a huge result set by accident.
    pub fn max_results(mut self, n: usize) -> Self {
        self.max_results = Some(n);
        self
    }
    /// Stop after this many pages.
    pub fn max_pages(mut self, n: usize) -> Self {
        self.max_pages = Some(n);
        self
    }
    /// Sends the parameters in a form body (`POST [type]/_search`) instead of the URL, which
    /// keeps them out of every proxy's access log. Still retried like a GET.
    pub fn via_post(mut self) -> Self {
        self.via_post = true;
        self
    }
    call_options!();

    fn first_call(&self) -> Result<Call> {
        check_type(&self.resource_type)?;
        let rt = &self.resource_type;
        let mut call = if self.via_post {
            let mut c = self.client.call(
                Method::POST,
                &format!("{rt}/_search"),
                "search",
                rt.clone(),
                self.opts.clone(),
            )?;
            c.headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            c.body = Some(Bytes::from(self.params.to_query()));
            c
        } else {
            let mut c =
                self.client
                    .call(Method::GET, rt, "search", rt.clone(), self.opts.clone())?;
            if !self.params.is_empty() {
                c.url.set_query(Some(&self.params.to_query()));
            }
            c
        };
        // A search changes nothing on the server, whatever the verb.
        call.idempotent = true;
        Ok(call)
    }

    /// Runs the search and returns the first page.
    pub async fn send(self) -> Result<SearchPage<T>> {
        let call = self.first_call()?;
        paging::fetch(&self.client, call).await
    }

    /// Every page, following `next` links.
    pub fn pages(self) -> impl Stream<Item = Result<SearchPage<T>>> + Send + 'static {
        let first = self.first_call();
        paging::pages(
            self.client,
            first,
            self.resource_type,
            self.opts,
            self.max_results,
            self.max_pages,
        )
    }

    /// Every page (within [`Self::max_results`] and [`Self::max_pages`]) merged into one
    /// ([`SearchPage::merge`]).
    pub async fn send_all(self) -> Result<SearchPage<T>> {
        let pages: Vec<SearchPage<T>> = self.pages().try_collect().await?;
        SearchPage::merge(pages).ok_or_else(no_page)
    }

    /// Every match across pages, up to [`Self::max_results`]. Pages are fetched as the stream
    /// is consumed; an error ends the stream after it is yielded.
    pub fn stream(self) -> impl Stream<Item = Result<T>> + Send + 'static {
        let cap = self.max_results.unwrap_or(usize::MAX);
        self.pages()
            .map_ok(|p| futures::stream::iter(p.matches.into_iter().map(Ok)))
            .try_flatten()
            .take(cap)
    }

    /// Every match across pages, up to [`Self::max_results`], collected.
    pub async fn all(self) -> Result<Vec<T>> {
        self.stream().try_collect().await
    }
}

/// Paging capped at zero pages or items fetches nothing to merge.
pub(crate) fn no_page() -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        "no page was fetched: a maximum of 0 pages or results leaves nothing to return",
    )
}

impl HieClient {
    /// The page a `next` link points to (for callers paging by hand).
    pub async fn next_page<T: FhirResource>(
        &self,
        page: &SearchPage<T>,
    ) -> Result<Option<SearchPage<T>>> {
        let Some(link) = page.next.as_deref() else {
            return Ok(None);
        };
        let target = T::TYPE.unwrap_or("search").to_owned();
        let call = paging::next_call(self, link, "page", &target, CallOptions::default())?;
        paging::fetch(self, call).await.map(Some)
    }
}

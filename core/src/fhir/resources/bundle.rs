//! Bundle (R4), every type.

use super::codes::{BundleType, HttpVerb, SearchEntryMode};
use crate::fhir::context::{self, WarningKind};
use crate::fhir::{Decimal, Identifier, Instant, Resource, UnsignedInt, Uri};

fhir_struct! {
    /// A container for a collection of resources (search results, transactions, history, ...).
    plain_resource Bundle "Bundle" {
        /// Persistent identifier for the bundle.
        identifier: Option<Identifier> = "identifier";
        /// document | message | transaction | transaction-response | batch | batch-response | history | searchset | collection.
        type_: Option<BundleType> = "type" [required];
        /// When the bundle was assembled.
        timestamp: Option<Instant> = "timestamp";
        /// If search, the total number of matches.
        total: Option<UnsignedInt> = "total";
        /// Links related to this Bundle.
        link: Vec<BundleLink> = "link";
        /// Entry in the bundle - will have a resource or information.
        entry: Vec<BundleEntry> = "entry";
    }
}

fhir_struct! {
    /// A link of a Bundle (e.g. `next` for paging).
    backbone BundleLink "Bundle.link" {
        /// See http://www.iana.org/assignments/link-relations/link-relations.xhtml#link-relations-1.
        relation: Option<String> = "relation" [required];
        /// Reference details for the link.
        url: Option<Uri> = "url" [required];
    }
}

fhir_struct! {
    /// An entry of a Bundle.
    backbone BundleEntry "Bundle.entry" {
        /// Links related to this entry.
        link: Vec<BundleLink> = "link";
        /// URI for resource (Absolute URL server address or URI for UUID/OID).
        full_url: Option<Uri> = "fullUrl";
        /// A resource in the bundle.
        resource: Option<Resource> = "resource";
        /// Search related information.
        search: Option<BundleEntrySearch> = "search";
        /// Additional execution information (transaction/batch/history).
        request: Option<BundleEntryRequest> = "request";
        /// Results of execution (transaction/batch/history).
        response: Option<BundleEntryResponse> = "response";
    }
    finish fill_request_url;
}

/// A lenient read of an entry whose `request.url` is missing fills it in from the resource
/// (`Type` for POST, `Type/id` otherwise) so that what is written back is valid R4.
fn fill_request_url(entry: &mut BundleEntry) -> Result<(), String> {
    let Some(req) = entry.request.as_mut() else {
        return Ok(());
    };
    if req.url.is_some() {
        return Ok(());
    }
    let Some(res) = entry.resource.as_ref() else {
        return Ok(());
    };
    let url = match (&req.method, res.id()) {
        (Some(HttpVerb::Post), _) | (None, None) => res.resource_type().to_owned(),
        (_, Some(id)) => format!("{}/{}", res.resource_type(), id),
        (_, None) => res.resource_type().to_owned(),
    };
    context::warn(
        WarningKind::FilledIn,
        Some("request.url"),
        format!("missing request.url filled in as '{url}'"),
    );
    req.url = Uri::new(url).ok();
    Ok(())
}

fhir_struct! {
    /// Search information of a Bundle entry.
    backbone BundleEntrySearch "Bundle.entry.search" {
        /// match | include | outcome.
        mode: Option<SearchEntryMode> = "mode";
        /// Search ranking (between 0 and 1).
        score: Option<Decimal> = "score";
    }
}

fhir_struct! {
    /// The request of a transaction/batch entry.
    backbone BundleEntryRequest "Bundle.entry.request" {
        /// GET | HEAD | POST | PUT | DELETE | PATCH.
        method: Option<HttpVerb> = "method" [required];
        /// URL for HTTP equivalent of this entry.
        url: Option<Uri> = "url" [required];
        /// For managing cache currency.
        if_none_match: Option<String> = "ifNoneMatch";
        /// For managing cache currency.
        if_modified_since: Option<Instant> = "ifModifiedSince";
        /// For managing update contention.
        if_match: Option<String> = "ifMatch";
        /// For conditional creates.
        if_none_exist: Option<String> = "ifNoneExist";
    }
}

fhir_struct! {
    /// The response of a transaction/batch entry.
    backbone BundleEntryResponse "Bundle.entry.response" {
        /// Status response code (text optional).
        status: Option<String> = "status" [required];
        /// The location (if the operation returns a location).
        location: Option<Uri> = "location";
        /// The Etag for the resource (if relevant).
        etag: Option<String> = "etag";
        /// Server's date time modified.
        last_modified: Option<Instant> = "lastModified";
        /// OperationOutcome with hints and warnings (for batch/transaction).
        outcome: Option<Resource> = "outcome";
    }
}

impl Bundle {
    /// A Bundle of `type_`.
    pub fn new(type_: BundleType) -> Self {
        Self {
            type_: Some(type_),
            ..Self::default()
        }
    }
    /// The url of the link with `relation` (e.g. `next`).
    pub fn link_url(&self, relation: &str) -> Option<&str> {
        self.link
            .iter()
            .find(|l| l.relation.as_deref() == Some(relation))
            .and_then(|l| l.url.as_ref())
            .map(Uri::as_str)
    }
    /// The resources of the entries, in order.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.entry.iter().filter_map(|e| e.resource.as_ref())
    }
}

impl BundleEntryResponse {
    /// The numeric HTTP status at the start of `status` (e.g. 201 from "201 Created").
    pub fn status_code(&self) -> Option<u16> {
        self.status
            .as_deref()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

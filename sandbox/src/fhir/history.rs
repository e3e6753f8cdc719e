//! `history` (instance, type, system): every version newest first, deletes included, as a
//! `history` Bundle with request/response per entry, paged like search.

use hie_vc::fhir::{
    Bundle, BundleEntry, BundleEntryRequest, BundleEntryResponse, BundleLink, BundleType, HttpVerb,
    Id, Instant, UnsignedInt, Uri,
};
use time::OffsetDateTime;

use super::dates;
use super::store::{instant_text, Store, Verb, Version};
use super::{Ctx, Done};
use crate::error::FhirError;

fn bad(msg: impl Into<String>) -> FhirError {
    FhirError::new(400, "invalid", msg)
}

fn entry(base: &str, v: &Version, first: bool) -> BundleEntry {
    let (method, url, status) = match v.verb {
        Verb::Create => (HttpVerb::Post, v.rt.to_owned(), "201 Created"),
        Verb::Update if first => (HttpVerb::Put, v.path(), "201 Created"),
        Verb::Update => (HttpVerb::Put, v.path(), "200 OK"),
        Verb::Delete => (HttpVerb::Delete, v.path(), "204 No Content"),
    };
    BundleEntry {
        full_url: Uri::new(format!("{base}/{}", v.path())).ok(),
        resource: v.body.as_ref().map(|b| b.resource.clone()),
        request: Some(BundleEntryRequest {
            method: Some(method),
            url: Uri::new(url).ok(),
            ..BundleEntryRequest::default()
        }),
        response: Some(BundleEntryResponse {
            status: Some(status.to_owned()),
            location: Uri::new(v.versioned_path()).ok(),
            etag: Some(v.etag()),
            last_modified: Instant::new(instant_text(v.last_updated)).ok(),
            ..BundleEntryResponse::default()
        }),
        ..BundleEntry::default()
    }
}

fn link(relation: &str, url: String) -> BundleLink {
    BundleLink {
        relation: Some(relation.to_owned()),
        url: Uri::new(url).ok(),
        ..BundleLink::default()
    }
}

/// The history of `rt`/`id`, of `rt`, or of everything.
pub(crate) fn history(
    store: &Store,
    ctx: &Ctx<'_>,
    rt: Option<&'static str>,
    id: Option<&str>,
    pairs: &[(String, String)],
) -> Result<Done, FhirError> {
    let mut count = ctx.settings.paging.default_count;
    let mut offset = 0usize;
    let mut since: Option<OffsetDateTime> = None;
    let mut echo = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "_count" => {
                count = v
                    .parse::<usize>()
                    .map_err(|_| bad("_count must be a non-negative integer"))?
                    .min(ctx.settings.paging.max_count)
            }
            "_offset" => {
                offset = v
                    .parse()
                    .map_err(|_| bad("_offset must be a non-negative integer"))?
            }
            "_since" => {
                since = Some(
                    dates::parse(v, ctx.settings.local)
                        .ok_or_else(|| bad(format!("_since '{v}' is not an instant")))?
                        .low,
                );
                echo.push((k.clone(), v.clone()));
            }
            "_format" => {}
            _ if ctx.lenient => {}
            other => {
                return Err(bad(format!(
                    "history parameter '{other}' is not supported (_count, _since, _offset)"
                )))
            }
        }
    }
    let path = match (rt, id) {
        (Some(rt), Some(id)) => format!("{rt}/{id}/_history"),
        (Some(rt), None) => format!("{rt}/_history"),
        _ => "_history".to_owned(),
    };
    let all: Vec<&Version> = match (rt, id) {
        (Some(rt), Some(id)) => {
            let versions = store.versions(rt, id).ok_or_else(|| {
                FhirError::new(404, "not-found", format!("{rt}/{id} is not known"))
            })?;
            versions.iter().rev().collect()
        }
        (rt, _) => store.history(rt),
    };
    let all: Vec<&Version> = all
        .into_iter()
        .filter(|v| since.is_none_or(|s| v.last_updated >= s))
        .collect();
    let total = all.len();
    let mut b = Bundle::new(BundleType::History);
    b.id = Id::new(uuid::Uuid::new_v4().to_string()).ok();
    b.timestamp = Instant::new(instant_text(OffsetDateTime::now_utc())).ok();
    b.total = UnsignedInt::new(total as i64).ok();
    let page_url = |off: usize| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        ser.extend_pairs(echo.iter());
        ser.append_pair("_count", &count.to_string());
        ser.append_pair("_offset", &off.to_string());
        format!("{}/{path}?{}", ctx.base, ser.finish())
    };
    b.link.push(link("self", page_url(offset)));
    if count > 0 {
        if offset > 0 {
            b.link
                .push(link("previous", page_url(offset.saturating_sub(count))));
        }
        if offset + count < total {
            b.link.push(link("next", page_url(offset + count)));
        }
    }
    for v in all.into_iter().skip(offset).take(count) {
        b.entry.push(entry(ctx.base, v, v.vid == 1));
    }
    Ok(Done::resource(200, b))
}

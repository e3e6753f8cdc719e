//! Searches and histories as data: what a binding's keyword arguments or option object name,
//! applied to the request builders in one place, so every front end pages the same way.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use super::{HieClient, HistoryRequest, SearchParams, SearchRequest};
use crate::error::{Error, ErrorKind, Result};
use crate::fhir::Resource;

/// A search's parameters and paging (JSON: `{"params": [[name, value], ...], "viaPost",
/// "maxResults", "maxPages"}`, every member optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SearchQuery {
    /// `name=value` parameters, in order (a name may repeat).
    pub params: Vec<(String, String)>,
    /// `POST [base]/[type]/_search` instead of `GET`.
    pub via_post: bool,
    /// Stop after this many matches.
    pub max_results: Option<usize>,
    /// Stop after this many pages.
    pub max_pages: Option<usize>,
}

/// A history's level and paging (JSON: `{"resourceType", "id", "count", "since", "at",
/// "maxEntries"}`, every member optional): an instance (type and id), a type (type only) or
/// the server (neither).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct HistoryQuery {
    /// The resource type (none: the server's history).
    pub resource_type: Option<String>,
    /// The resource id (needs `resource_type`).
    pub id: Option<String>,
    /// `_count`: entries per page.
    pub count: Option<u32>,
    /// `_since`: only versions after this instant.
    pub since: Option<String>,
    /// `_at`: only versions current at this instant.
    pub at: Option<String>,
    /// Stop after this many entries.
    pub max_entries: Option<usize>,
}

impl HieClient {
    /// The search `query` names, on `resource_type`.
    pub fn search_query(
        &self,
        resource_type: impl Into<String>,
        query: SearchQuery,
    ) -> SearchRequest<Resource> {
        let mut params = SearchParams::new();
        for (k, v) in query.params {
            params = params.param(k, v);
        }
        let mut req = self.search_type(resource_type).params(params);
        if query.via_post {
            req = req.via_post();
        }
        if let Some(n) = query.max_results {
            req = req.max_results(n);
        }
        if let Some(n) = query.max_pages {
            req = req.max_pages(n);
        }
        req
    }

    /// The history `query` names. An id without a type is an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error.
    pub fn history_query(&self, query: HistoryQuery) -> crate::Result<HistoryRequest<Resource>> {
        let mut req = self.history_at(query.resource_type, query.id.as_deref())?;
        if let Some(n) = query.count {
            req = req.count(n);
        }
        if let Some(s) = &query.since {
            req = req.since(s);
        }
        if let Some(s) = &query.at {
            req = req.at(s);
        }
        if let Some(n) = query.max_entries {
            req = req.max_entries(n);
        }
        Ok(req)
    }
}

type PageStream = Pin<Box<dyn Stream<Item = Result<String>> + Send>>;

/// The pages of a search or history as their JSON documents, each fetched when
/// [`next`](Self::next) asks for it. Cheap to clone and shared across threads and tasks:
/// what a binding hands to its language's iterator.
#[derive(Clone)]
pub struct JsonPages {
    stream: Arc<tokio::sync::Mutex<PageStream>>,
}

impl JsonPages {
    /// Pages of any serializable kind (e.g. `search.pages()`, `history.pages()`).
    pub fn new<T: Serialize>(pages: impl Stream<Item = Result<T>> + Send + 'static) -> Self {
        let json = pages.map(|p| {
            p.and_then(|p| {
                serde_json::to_string(&p).map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))
            })
        });
        Self {
            stream: Arc::new(tokio::sync::Mutex::new(Box::pin(json))),
        }
    }

    /// The next page's JSON; `None` after the last.
    pub async fn next(&self) -> Result<Option<String>> {
        self.stream.lock().await.next().await.transpose()
    }
}

impl fmt::Debug for JsonPages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonPages").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_from_json_and_refuse_unknown_members() {
        let q: SearchQuery =
            serde_json::from_str(r#"{"params": [["status", "booked"]], "maxPages": 2}"#).unwrap();
        assert_eq!(q.params, vec![("status".into(), "booked".into())]);
        assert_eq!((q.via_post, q.max_pages), (false, Some(2)));
        assert!(serde_json::from_str::<HistoryQuery>(r#"{"sinse": "2024"}"#).is_err());
    }

    #[tokio::test]
    async fn json_pages_come_one_by_one_then_none() {
        let pages = JsonPages::new(futures::stream::iter(vec![Ok(1), Ok(2)]));
        let other = pages.clone();
        assert_eq!(pages.next().await.unwrap().as_deref(), Some("1"));
        assert_eq!(other.next().await.unwrap().as_deref(), Some("2"));
        assert_eq!(pages.next().await.unwrap(), None);
    }

    #[test]
    fn a_history_id_without_a_type_is_invalid_input() {
        let c = HieClient::new(
            crate::hie::HieConfig::builder("http://127.0.0.1:1/fhir/")
                .build()
                .unwrap(),
        )
        .unwrap();
        let q = HistoryQuery {
            id: Some("p1".into()),
            ..HistoryQuery::default()
        };
        assert_eq!(
            c.history_query(q).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
    }
}

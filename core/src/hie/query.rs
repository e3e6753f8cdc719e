//! Searches and histories as data: what a binding's keyword arguments or option object name,
//! applied to the request builders in one place, so every front end pages the same way.

use serde::Deserialize;

use super::{HieClient, HistoryRequest, SearchParams, SearchRequest};
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

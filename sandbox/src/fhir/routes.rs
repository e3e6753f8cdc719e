//! What a FHIR URL path names (shared by HTTP requests and bundle entries), and the operations
//! the server executes.

use hie_vc::fhir::{Id, Resource};

use super::store::supported_type;
use crate::error::FhirError;

/// What a path below the base names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `[base]`
    Root,
    /// `[base]/metadata`
    Metadata,
    /// `[base]/_history`
    SystemHistory,
    /// `[base]/[type]`
    Type(&'static str),
    /// `[base]/[type]/_search`
    SearchPost(&'static str),
    /// `[base]/[type]/_history`
    TypeHistory(&'static str),
    /// `[base]/[type]/[id]`
    Instance(&'static str, String),
    /// `[base]/[type]/[id]/_history`
    InstanceHistory(&'static str, String),
    /// `[base]/[type]/[id]/_history/[vid]`
    Version(&'static str, String, String),
}

fn resource_type(seg: &str) -> Result<&'static str, FhirError> {
    supported_type(seg).ok_or_else(|| {
        if seg.starts_with(|c: char| c.is_ascii_uppercase()) {
            FhirError::new(
                404,
                "not-supported",
                format!(
                    "resource type '{seg}' is not supported by the sandbox (it stores {})",
                    super::store::RESOURCE_TYPES.join(", ")
                ),
            )
        } else {
            FhirError::new(404, "not-found", format!("'{seg}' is not a FHIR endpoint"))
        }
    })
}

/// A logical or version id from a URL: 1-64 of `A-Z a-z 0-9 - .`.
pub(crate) fn check_id(what: &str, id: &str) -> Result<String, FhirError> {
    Id::new(id).map(Id::into_string).map_err(|_| {
        FhirError::new(
            400,
            "invalid",
            format!("'{id}' is not a valid {what} (1-64 characters of A-Z, a-z, 0-9, '-' and '.')"),
        )
    })
}

/// Reads a path relative to the base (no leading slash; `""` is the base itself).
pub(crate) fn route(path: &str) -> Result<Route, FhirError> {
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Ok(Route::Root);
    }
    let segs: Vec<&str> = path.split('/').collect();
    Ok(match segs.as_slice() {
        ["metadata"] => Route::Metadata,
        ["_history"] => Route::SystemHistory,
        [t] => Route::Type(resource_type(t)?),
        [t, "_search"] => Route::SearchPost(resource_type(t)?),
        [t, "_history"] => Route::TypeHistory(resource_type(t)?),
        [t, id] => Route::Instance(resource_type(t)?, check_id("id", id)?),
        [t, id, "_history"] => Route::InstanceHistory(resource_type(t)?, check_id("id", id)?),
        [t, id, "_history", vid] => Route::Version(
            resource_type(t)?,
            check_id("id", id)?,
            check_id("version id", vid)?,
        ),
        _ => {
            return Err(FhirError::new(
                404,
                "not-found",
                format!("'{path}' is not a FHIR endpoint of the sandbox"),
            ))
        }
    })
}

/// An operation on the store.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Read {
        rt: &'static str,
        id: String,
    },
    VRead {
        rt: &'static str,
        id: String,
        vid: String,
    },
    Search {
        rt: &'static str,
        pairs: Vec<(String, String)>,
    },
    History {
        rt: Option<&'static str>,
        id: Option<String>,
        pairs: Vec<(String, String)>,
    },
    Create {
        rt: &'static str,
        resource: Resource,
        /// A server id chosen in advance (transactions resolving `urn:uuid:` references).
        id: Option<String>,
        if_none_exist: Option<String>,
    },
    Update {
        rt: &'static str,
        id: String,
        resource: Resource,
        if_match: Option<String>,
    },
    Delete {
        rt: &'static str,
        id: String,
        if_match: Option<String>,
    },
}

/// The query string's pairs, decoded.
pub(crate) fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

impl Route {
    /// The route as the guide writes it (`[base]/Patient/[id]`).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Root => "[base]".to_owned(),
            Self::Metadata => "[base]/metadata".to_owned(),
            Self::SystemHistory => "[base]/_history".to_owned(),
            Self::Type(t) => format!("[base]/{t}"),
            Self::SearchPost(t) => format!("[base]/{t}/_search"),
            Self::TypeHistory(t) => format!("[base]/{t}/_history"),
            Self::Instance(t, _) => format!("[base]/{t}/[id]"),
            Self::InstanceHistory(t, _) => format!("[base]/{t}/[id]/_history"),
            Self::Version(t, _, _) => format!("[base]/{t}/[id]/_history/[vid]"),
        }
    }
}

/// Not allowed on this route.
pub(crate) fn method_not_allowed(method: &str, route: &Route) -> FhirError {
    FhirError::new(
        405,
        "not-supported",
        format!("{method} is not supported on {}", route.describe()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route() {
        assert_eq!(route("").unwrap(), Route::Root);
        assert_eq!(route("/metadata").unwrap(), Route::Metadata);
        assert_eq!(route("Patient").unwrap(), Route::Type("Patient"));
        assert_eq!(
            route("Slot/s-1/_history/3").unwrap(),
            Route::Version("Slot", "s-1".into(), "3".into())
        );
        assert_eq!(
            route("Encounter/_history").unwrap(),
            Route::TypeHistory("Encounter")
        );
        assert_eq!(route("Observation/1").unwrap_err().status(), 404);
        assert_eq!(route("Patient/a$b").unwrap_err().status(), 400);
        assert_eq!(route("Patient/1/2/3/4").unwrap_err().status(), 404);
    }
}

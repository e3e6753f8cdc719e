//! The emulated HIE FHIR R4 server: an in-memory, versioned store of the VC resources with the REST
//! interactions of the MY Core API guide (`docs/guide-gaps.md` §1), MY Core validation on every
//! write and HIE's referential rule.
//!
//! Layers: [`routes`] (what a URL names) → [`interactions`] (one operation on the store) →
//! [`bundle`] (batch and all-or-nothing transaction) → [`http`] (headers, `Prefer`, status).

pub(crate) mod bundle;
pub(crate) mod capability;
pub(crate) mod dates;
pub(crate) mod history;
pub(crate) mod http;
pub(crate) mod interactions;
pub(crate) mod params;
pub(crate) mod query;
pub(crate) mod refs;
pub(crate) mod routes;
pub(crate) mod search;
pub(crate) mod store;

use std::sync::{Arc, Mutex, MutexGuard};

use hie_vc::fhir::Resource;
use hie_vc::mycore::Validator;
use time::UtcOffset;

use self::query::Paging;
use self::store::{Store, Stored, Version};

/// How the FHIR server behaves (from [`crate::SandboxConfig`]).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// MY Core validation of writes (`None`: off).
    pub validator: Option<Validator>,
    /// References to stored types must resolve.
    pub check_references: bool,
    /// DELETE allowed (HIE disables it for most source systems: 403).
    pub allow_delete: bool,
    pub paging: Paging,
    /// The zone of date values without one.
    pub local: UtcOffset,
    /// The base of the MY Core profile canonicals (advertised in the CapabilityStatement).
    pub profile_base: String,
}

/// Per-request context of an operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub settings: &'a Settings,
    /// The server's base URL as the client sees it (`http://127.0.0.1:4321/fhir`).
    pub base: &'a str,
    /// `Prefer: handling=lenient`.
    pub lenient: bool,
    /// Inside a transaction: references are checked once, at the end.
    pub defer_references: bool,
}

/// What an operation produced.
#[derive(Debug)]
pub(crate) enum Body {
    Empty,
    /// A stored resource version.
    Stored(Arc<Stored>),
    /// A resource made for the response (Bundle, OperationOutcome).
    Resource(Resource),
    /// JSON made for the response (the CapabilityStatement).
    Json(String),
}

/// A successful operation.
#[derive(Debug)]
pub(crate) struct Done {
    pub status: u16,
    pub body: Body,
    /// The version read or written (ETag, Last-Modified, Location).
    pub version: Option<Version>,
    /// A write (subject to `Prefer: return=`).
    pub write: bool,
}

impl Done {
    pub(crate) fn read(v: &Version) -> Self {
        Self {
            status: 200,
            body: v.body.clone().map_or(Body::Empty, Body::Stored),
            version: Some(v.clone()),
            write: false,
        }
    }
    pub(crate) fn resource(status: u16, r: impl Into<Resource>) -> Self {
        Self {
            status,
            body: Body::Resource(r.into()),
            version: None,
            write: false,
        }
    }
}

/// The FHIR server: settings and the store behind one lock (operations are short and never
/// wait while holding it).
#[derive(Debug)]
pub(crate) struct Engine {
    store: Mutex<Store>,
    pub(crate) settings: Settings,
}

impl Engine {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            store: Mutex::new(Store::default()),
            settings,
        }
    }

    /// The store, locked. A panic while holding it cannot leave it half-written (writes are
    /// single pushes, transactions swap a finished copy in), so poisoning is ignored.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn ctx<'a>(&'a self, base: &'a str, lenient: bool) -> Ctx<'a> {
        Ctx {
            settings: &self.settings,
            base,
            lenient,
            defer_references: false,
        }
    }
}

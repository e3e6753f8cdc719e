//! The HIE FHIR REST client: every FHIR interaction the VC workflow needs, against HIE's
//! FHIR R4 server (`docs/guide-gaps.md` §1).
//!
//! * [`HieClient`] — cheap to clone, one connection pool, built from an [`HieConfig`].
//! * Interactions return request builders; nothing is sent until `send()` (or `stream()`):
//!   [`HieClient::create`], [`read`](HieClient::read), [`vread`](HieClient::vread),
//!   [`update`](HieClient::update) (with `If-Match`), [`delete`](HieClient::delete),
//!   [`history`](HieClient::history), [`search`](HieClient::search),
//!   [`batch`](HieClient::batch) / [`transaction`](HieClient::transaction),
//!   [`capabilities`](HieClient::capabilities).
//! * VC conveniences: [`HieClient::put_appointment`], [`HieClient::send_scheduling_bundle`],
//!   [`HieClient::find_encounter_for_appointment`], [`HieClient::find_encounters_by_vc_token`], ...
//! * Errors are [`crate::Error`]: one kind per HTTP status with the server's OperationOutcome
//!   and Retry-After, `Transport`, `Timeout`, `Decode`, `Validation` (MY Core checks run before
//!   sending, on by default) and `Config`.
//! * Resilience: idempotent requests are retried on connect errors, 429, 502, 503 and 504 with
//!   exponential backoff and jitter, honouring Retry-After, within a total time bound
//!   ([`RetryPolicy`]); a plain POST never is. Each call sends an `X-Request-Id` and runs in a
//!   `hie.request` tracing span whose URL carries no search-parameter values.
//!
//! ```no_run
//! # async fn demo() -> hie_vc::Result<()> {
//! use hie_vc::fhir::Encounter;
//! use hie_vc::hie::{Auth, HieClient, HieConfig, OAuth2};
//! let client = HieClient::new(
//!     HieConfig::builder("https://fhir.hie.moh.gov.my/baseR4/")
//!         .auth(Auth::oauth2(OAuth2::client_credentials(
//!             "https://auth.hie.example/token",
//!             "my-hospital",
//!             std::env::var("HIE_CLIENT_SECRET").unwrap_or_default(),
//!         )))
//!         .build()?,
//! )?;
//! if let Some(mut enc) = client.find_encounter_for_appointment("appt-42").await? {
//!     enc.status = Some(hie_vc::fhir::EncounterStatus::Finished);
//!     client.put_encounter(enc).if_match_current().send().await?;
//! }
//! # Ok(()) }
//! ```

mod auth;
mod bundle;
mod capabilities;
mod client;
mod config;
mod crud;
mod history;
mod options;
mod paging;
mod params;
mod query;
mod resource;

mod search;
mod status;
mod transport;
mod vc;

pub use crate::retry::RetryPolicy;
pub use auth::{Auth, ClientAuthMethod, OAuth2, Secret};
pub use bundle::{BundleOutcome, BundleRequest, EntryOutcome};
pub use capabilities::{Capabilities, CapabilitiesRequest};
pub use client::HieClient;
pub use config::{HieConfig, HieConfigBuilder, Prefer, DEFAULT_MAX_RESPONSE_BYTES};
pub use crud::{
    CreateRequest, DeleteRequest, Deleted, Fetched, ReadRequest, UpdateRequest, WriteKind, Written,
};
pub use history::{HistoryEntry, HistoryPage, HistoryRequest};
pub use options::RequestOptions;
pub use params::{escape_value, Prefix, SearchParams, Summary};
pub use query::{HistoryQuery, JsonPages, SearchQuery};
pub use resource::{FhirResource, ResourceLocation, TypedResource};
pub use search::{SearchPage, SearchRequest};

/// Re-exported so callers can name HTTP methods and headers without depending on reqwest.
pub use reqwest::header::{HeaderName, HeaderValue};
/// Re-exported for [`BundleRequest::method`].
pub use reqwest::Method;

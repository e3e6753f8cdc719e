//! # hie-vc-sandbox — an emulator of the Malaysian HIE for the VC workflow
//!
//! **This is an emulator, not HIE.** It lets the `hie-vc` SDK, its demo and its tests run the
//! Virtual Consultation flows (`docs/guide-gaps.md` §3) end to end on one machine, without
//! credentials, by playing every counterpart a source system talks to:
//!
//! * **FHIR R4 API** (`{url}/fhir`) for Appointment, Encounter, Schedule, Slot, Patient,
//!   Practitioner, PractitionerRole, Organization and HealthcareService: create, read, vread,
//!   update (and update-as-create), delete (then `410 Gone`), history (instance, type,
//!   system), search (`_id`, `_lastUpdated`, `identifier`, `vc-token`, `patient`/`subject`,
//!   `date` with `eq ne gt lt ge le sa eb`, `status`, `appointment`, ... — see
//!   `GET /fhir/metadata`; `_count` + `next`/`previous` links, `_sort`, `_include`,
//!   `_summary=count`), batch and all-or-nothing transaction (`urn:uuid:` references
//!   resolved), `ETag: W/"<vid>"` and `If-Match` (412), `If-None-Exist`,
//!   `Prefer: return=minimal|representation|OperationOutcome`, `application/fhir+json`.
//!   Every write is validated with the core's MY Core [`Validator`](hie_vc::mycore::Validator)
//!   (`422` + OperationOutcome), and references to stored types must resolve (`422`), as HIE
//!   requires a HealthcareService before the resources naming it.
//! * **Check-in** (`POST /sandbox/check-in/{appointmentId}` or [`Sandbox::check_in`]): creates
//!   the Encounter as HIE does (class VR, serviceType, specialty as type, subject, typed
//!   practitioner participants, serviceProvider, `arrived`, `period.start`, a *new* Jitsi
//!   session token for VCI or the Appointment's token for VCE, an encounter-id), validates
//!   it, stores it and publishes it — on the in-process [`MemoryBroker`] the core's
//!   `MemorySource` reads by default, or on a real Kafka topic ([`KafkaTarget`]); as a bare
//!   Encounter or a Bundle with its Patient and Appointment ([`EventPayload`]).
//! * **Jitsi token service** (`{url}/jitsi`) and **Notification API** (`{url}/notify`)
//!   implementing the SDK clients' default contracts (`hie_vc::jitsi::JitsiRestContract`,
//!   `hie_vc::notify::NotificationContract`; others configurable), recording every session,
//!   join, activation, end and notification for assertions.
//! * **Fault switches** per service ([`Service`], [`Faults`]): latency, a share of 429/503
//!   answers, the next N requests failed, or "down" (connections closed unanswered); from Rust
//!   or `PUT /sandbox/faults/{service}`.
//!
//! It runs in-process ([`Sandbox::start`]: `127.0.0.1` and an ephemeral port, [`Sandbox::shutdown`])
//! or as a local server ([`serve`], used by `hie-vc sandbox serve --port`).
//!
//! ## What it does not emulate
//!
//! * **Authentication and authorisation** beyond checks: the FHIR API can demand a static
//!   bearer token or basic credentials ([`FhirAuth`]); there is no OAuth2 server, no per-source
//!   access rights, no TLS. The Notification API checks its one configured login; the Jitsi
//!   service accepts every caller.
//! * **Full FHIR search**: no chained or reverse-chained parameters, no `_has`, `_revinclude`,
//!   `_include:iterate`, `_elements`, `_text`/`_content`, composite or quantity parameters,
//!   no `:above`/`:below`/`:in`/`:text` modifiers, no `ap` date prefix (refused with 400);
//!   string matching is a case-insensitive prefix match without accent folding.
//!   Unknown parameters are refused (400) unless `Prefer: handling=lenient`.
//! * **Other interactions**: no PATCH, conditional update/delete, `$operations`, XML,
//!   `_history` with `_at`, system-wide search, or resource types outside the nine above.
//! * **Terminology** beyond the MY Core rules the core validator implements (no ValueSet
//!   expansion, no code validation against external code systems), and no FHIR invariants
//!   beyond what the core's strict reader enforces.
//! * **Kafka**: topics, partitioning and security of HIE's cluster are not published; the
//!   sandbox writes one topic keyed by Encounter id with a `content-type` header, and passes
//!   librdkafka properties through for security (it does not configure SASL/SSL itself).
//! * **Jitsi**: no video — join URLs point at the configured (by default non-existent) domain;
//!   tokens are HS256 JWTs signed with a per-sandbox secret ([`Sandbox::jitsi_verifier`]).
//! * **Persistence, scale and time**: everything is in memory and lost at shutdown; HIE's 72-hour
//!   retention, rate limits (other than injected ones) and clustering are not modelled.
//! * **RekodSaya**: the patient's app is not emulated; check-in is an API call.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use hie_vc_sandbox::{Faults, Sandbox, SandboxConfig, Service};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let hie = sandbox.hie_client()?; // an hie_vc::hie::HieClient on sandbox.fhir_base()
//! // ... PUT a Patient, HealthcareService, Practitioner and a VCI Appointment with `hie` ...
//! let checked_in = sandbox.check_in("appt-1").await?;
//! assert!(checked_in.token().is_some());
//! sandbox.set_faults(Service::Notify, Faults::fail_next(1, 503))?;
//! # let _ = hie;
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`MemoryBroker`]: hie_vc::listener::MemoryBroker

mod admin;
mod app;
mod checkin;
pub mod config;
pub mod demo;
pub mod error;
pub mod faults;
pub(crate) mod fhir;
mod jitsi;
mod jsonapi;
mod notify;
mod options;
mod publish;
pub mod records;
mod server;

pub use app::{ADMIN_PATH, JITSI_PATH, NOTIFY_PATH};
pub use checkin::CheckIn;
pub use config::{EventPayload, EventTarget, FhirAuth, KafkaTarget, SandboxConfig};
pub use error::{Error, FhirError};
pub use faults::{Faults, Service, ServiceStats};
pub use fhir::store::RESOURCE_TYPES;
pub use jitsi::JITSI_APP_ID;
pub use options::SandboxOptions;
pub use publish::Delivery;
pub use records::{
    JitsiSessionRecord, JoinRecord, NotificationRecord, PublishedEvent, SessionOrigin,
};
pub use server::{serve, Sandbox};

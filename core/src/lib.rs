//! # hie-vc
//!
//! The SDK source systems (hospital and clinic software) use to run the Virtual Consultation (VC)
//! workflow of Malaysia's Health Information Exchange (HIE): FHIR R4 under the MY Core
//! implementation guide.
//!
//! * [`fhir`]: the FHIR R4 model — lossless, strict or lenient reading, always-valid writing.
//! * [`mycore`]: MY Core VC constants, builders, validation and the VC view of an Encounter.
//! * [`hie`]: the HIE FHIR REST client (async): every interaction, auth, retries, VC conveniences.
//! * [`listener`]: the Kafka Encounter listener (at-least-once, dead letters, dedupe, metrics)
//!   and its in-memory twin.
//! * [`jitsi`]: Jitsi video sessions — one provider interface over HIE's token service,
//!   self-hosted Jitsi Meet and 8x8 JaaS; JWT minting and verification.
//! * [`notify`]: the Notification API client that tells patients their consultation starts.
//! * [`runtime`]: the bridge the bindings (C, Python, Node) use to run async calls from
//!   synchronous code, whatever runtime the calling thread is in.
//! * [`Error`]: the one error type, with a non-exhaustive [`ErrorKind`].

pub mod error;
pub mod fhir;
pub mod hie;
pub(crate) mod http;
pub mod jitsi;
#[cfg(test)]
mod json_tests;
pub mod listener;
pub mod mycore;
mod names;
pub mod notify;
mod retry;
pub mod runtime;
pub mod settings;
pub mod vc;

pub use error::{Error, ErrorKind, Result};

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

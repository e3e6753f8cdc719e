//! The Encounter listener: HIE publishes the Encounters it creates at VC check-in on Kafka
//! (`docs/guide-gaps.md` §3 step 5, §5); a source system listens, reads each into a typed
//! [`Encounter`] with its VC view, and acts (fetch the Jitsi token, notify the patient, ...).
//!
//! * **Sources**: [`KafkaSource`] (production: consumer groups, PLAINTEXT / SSL /
//!   SASL_PLAINTEXT / SASL_SSL with PLAIN or SCRAM-SHA-256/512, any librdkafka property) and
//!   [`MemorySource`] (same semantics in process, for the sandbox and the demo), behind one
//!   [`EventSource`] interface.
//! * **Payloads** ([`PayloadFormat`]): a bare Encounter, a Bundle with the Encounter and its
//!   included resources, or a JSON envelope holding either; bad input of any kind becomes a
//!   typed [`DecodeErrorKind`] with the record's [`Coordinates`] — never a panic.
//! * **Delivery**: at-least-once. An offset is stored only after the handler returned `Ok`
//!   (librdkafka `enable.auto.offset.store=false`), in partition order; a failing handler is
//!   retried per [`RetryPolicy`], then the record goes to the dead-letter topic (with
//!   `hievc.dlq.*` headers, see [`dlq`]) and/or the error callback, and the partition moves on.
//!   Redeliveries (after a crash or a rebalance) are suppressed by Encounter id + versionId
//!   when [dedupe](ListenerBuilder::dedupe) is on.
//! * **Push or pull**: a [`Handler`] the listener calls, or a [`Queue`]
//!   ([`ListenerBuilder::build_queue`]) the caller takes [`Delivery`]s from, one by one or in
//!   batches, and answers — same delivery semantics.
//! * **Lifecycle**: [`Listener::run`] until [`Listener::shutdown`];
//!   [`Listener::close`] commits and leaves the group within a bound, even with the brokers
//!   down.
//! * **Metrics**: [`Listener::metrics`] (throughput, handler latency, errors, per-partition
//!   lag from librdkafka statistics) and periodic `tracing` events.
//!
//! [`Encounter`]: crate::fhir::Encounter
//!
//! ```
//! use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
//! use hie_vc::listener::{EncounterEvent, Listener, MemoryBroker, MemoryRecord};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), hie_vc::Error> {
//! let broker = MemoryBroker::new();
//! let encounter = r#"{"resourceType":"Encounter","id":"e1","status":"arrived",
//!   "class":{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR"}}"#;
//! broker.send("vc-encounters", MemoryRecord::new(encounter))?;
//!
//! let seen = Arc::new(AtomicUsize::new(0));
//! let counter = seen.clone();
//! let listener = Listener::builder()
//!     .memory(&broker, "clinic-a", ["vc-encounters"])
//!     .handler(move |event: EncounterEvent| {
//!         let counter = counter.clone();
//!         async move {
//!             assert_eq!(event.encounter_id(), Some("e1"));
//!             counter.fetch_add(1, Ordering::SeqCst);
//!             Ok::<(), std::convert::Infallible>(())
//!         }
//!     })
//!     .build()?;
//! let stop = listener.shutdown_handle();
//! tokio::spawn(async move {
//!     tokio::time::sleep(std::time::Duration::from_millis(200)).await;
//!     stop.shutdown();
//! });
//! listener.run().await?;
//! listener.close().await?;
//! assert_eq!(seen.load(Ordering::SeqCst), 1);
//! assert_eq!(broker.committed("clinic-a", "vc-encounters", 0), Some(1));
//! # Ok(()) }
//! ```

mod builder;
mod config;
mod decode;
mod dedupe;
pub mod dlq;
mod event;
mod handler;
mod kafka;
mod kafka_context;
mod memory;
mod metrics;
mod options;
mod process;
mod queue;
mod runner;
mod source;
mod spec;
mod worker;

pub use builder::ListenerBuilder;
pub use config::{
    KafkaConfig, Sasl, SaslMechanism, Security, StartFrom, Tls, DEFAULT_QUEUED_MAX_KBYTES,
};
pub use decode::{
    DecodeError, DecodeErrorKind, PayloadFormat, AUTO_ENVELOPE_POINTERS, MAX_JSON_DEPTH,
};
pub use dedupe::{Dedupe, DedupeKey, DedupeWindow};
pub use event::{Coordinates, EncounterEvent, Header, Included, Layout, SourceMessage, Timestamp};
pub use handler::{
    Disposition, ErrorCallback, Failure, FailureReason, Handler, HandlerError, HandlerResult,
    Permanent, SharedHandler,
};
pub use kafka::KafkaSource;
pub use memory::{MemoryBroker, MemoryRecord, MemorySource};
pub use metrics::{LatencySummary, MetricsSnapshot, PartitionLag};
pub use options::{Filter, ListenerOptions, RetryPolicy};
pub use queue::{Delivery, Queue, BATCH_LINGER};
pub use runner::{Listener, ShutdownHandle};
pub use source::{
    DeadLetter, EventSource, RevokeDone, RevokeWait, SourceEvent, SourceHandle, SourceStart,
    TopicPartition,
};
pub use spec::ListenerSpec;

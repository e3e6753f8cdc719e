//! The user's side: the handler that receives events and the error callback that receives
//! failures.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::decode::DecodeErrorKind;
use super::event::{Coordinates, EncounterEvent, SourceMessage};
use crate::Error;

/// What a handler returns on failure: any error.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a handler returns.
pub type HandlerResult = Result<(), HandlerError>;

/// Receives each event. Return `Ok` once the event's effects are durable: only then is the
/// record's offset stored. An error is retried per the [`RetryPolicy`](super::RetryPolicy)
/// (unless it is [`Permanent`]), then the record is dead-lettered or reported.
///
/// Records are redelivered after a crash or a rebalance (at-least-once), so a handler must be
/// idempotent; turning dedupe on suppresses most repeats. Calls for one partition are
/// sequential (unless [`max_in_flight_per_partition`](super::ListenerBuilder::max_in_flight_per_partition)
/// is above 1); calls for different partitions run concurrently.
///
/// Closures `Fn(EncounterEvent) -> impl Future<Output = Result<(), E>>` are handlers:
///
/// ```
/// use hie_vc::listener::{EncounterEvent, Handler};
/// fn assert_handler<H: Handler>(_: H) {}
/// assert_handler(|event: EncounterEvent| async move {
///     let _token = event.vc().and_then(|vc| vc.token.clone());
///     Ok::<(), std::io::Error>(())
/// });
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Handles one event.
    fn handle(&self, event: EncounterEvent) -> BoxFuture<'_, HandlerResult>;
}

impl<F, Fut, E> Handler for F
where
    F: Fn(EncounterEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<HandlerError>,
{
    fn handle(&self, event: EncounterEvent) -> BoxFuture<'_, HandlerResult> {
        (self)(event).map(|r| r.map_err(Into::into)).boxed()
    }
}

/// A handler shared behind an `Arc` (e.g. one handler object for several listeners).
#[derive(Clone)]
pub struct SharedHandler(pub Arc<dyn Handler>);

impl fmt::Debug for SharedHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedHandler")
    }
}

impl Handler for SharedHandler {
    fn handle(&self, event: EncounterEvent) -> BoxFuture<'_, HandlerResult> {
        self.0.handle(event)
    }
}

/// Wrap a handler error in this to skip the remaining retries (the input is wrong, trying
/// again cannot help): the record goes to the dead-letter topic or the error callback at once.
#[derive(Debug)]
pub struct Permanent(pub HandlerError);

impl Permanent {
    /// Wraps an error.
    pub fn new(e: impl Into<HandlerError>) -> Self {
        Self(e.into())
    }
}

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Permanent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// The handler's last error, as the source of the listener's [`Error`].
#[derive(Debug)]
pub(crate) struct HandlerFailed(pub HandlerError);

impl fmt::Display for HandlerFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for HandlerFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Why a record (or the source) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureReason {
    /// The payload could not be decoded.
    Decode(DecodeErrorKind),
    /// The handler returned an error on every attempt.
    Handler,
    /// The handler panicked.
    HandlerPanic,
    /// The handler did not finish within the handler timeout.
    HandlerTimeout,
    /// Writing to the dead-letter topic failed (the record was reported here instead).
    DeadLetter,
    /// Storing the offset failed (the record may be redelivered).
    Store,
    /// The source reported a problem not tied to one record (broker unreachable, commit
    /// failed, ...).
    Source,
}

impl FailureReason {
    /// Stable snake_case name (dead-letter header `hievc.dlq.reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decode(_) => "decode",
            Self::Handler => "handler",
            Self::HandlerPanic => "handler_panic",
            Self::HandlerTimeout => "handler_timeout",
            Self::DeadLetter => "dead_letter",
            Self::Store => "store",
            Self::Source => "source",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(k) => write!(f, "decode/{k}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// What happened to the failed record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposition {
    /// Written to the dead-letter topic; its offset was stored.
    DeadLettered {
        /// The dead-letter topic.
        topic: String,
    },
    /// Reported here only; its offset was stored (no dead-letter topic is configured, or
    /// writing to it failed), so the partition moves on.
    Skipped,
    /// Not tied to a record, or its offset was not stored (it will be redelivered).
    None,
}

/// A failed record or source problem, as given to the error callback.
///
/// `Debug` shows coordinates and sizes, not the payload; [`Failure::message`] gives the record
/// itself to a callback that wants to keep it.
#[derive(Debug)]
pub struct Failure {
    /// Why.
    pub reason: FailureReason,
    /// The error (its kind, message, location and source chain).
    pub error: Error,
    /// The record's coordinates (`None` for source problems).
    pub coordinates: Option<Coordinates>,
    /// Handler attempts made (0 when the handler was not called).
    pub attempts: u32,
    /// What happened to the record.
    pub disposition: Disposition,
    pub(crate) message: Option<SourceMessage>,
}

impl Disposition {
    /// Stable snake_case name: `dead_lettered`, `skipped` or `none`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::DeadLettered { .. } => "dead_lettered",
            Self::Skipped => "skipped",
            Self::None => "none",
        }
    }
}

/// JSON (camelCase), what a binding's error callback receives: `{"reason", "kind", "message",
/// "location", "topic", "partition", "offset", "attempts", "disposition",
/// "deadLetterTopic"}` — `reason` as its `Display` (`decode/not_json`, `handler`, ...),
/// `kind`, `message` and `location` of the error, the coordinates `null` for source problems.
/// Never the record itself (patient data).
impl serde::Serialize for Failure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let c = self.coordinates.as_ref();
        let dead_letter_topic = match &self.disposition {
            Disposition::DeadLettered { topic } => Some(topic.as_str()),
            _ => None,
        };
        let mut m = s.serialize_struct("Failure", 10)?;
        m.serialize_field("reason", &format_args!("{}", self.reason))?;
        m.serialize_field("kind", &self.error.kind())?;
        m.serialize_field("message", self.error.message())?;
        m.serialize_field("location", &self.error.location())?;
        m.serialize_field("topic", &c.map(|c| &*c.topic))?;
        m.serialize_field("partition", &c.map(|c| c.partition))?;
        m.serialize_field("offset", &c.map(|c| c.offset))?;
        m.serialize_field("attempts", &self.attempts)?;
        m.serialize_field("disposition", self.disposition.as_str())?;
        m.serialize_field("deadLetterTopic", &dead_letter_topic)?;
        m.end()
    }
}

impl Failure {
    /// The record that failed (key, payload, headers), when the failure is about one.
    pub fn message(&self) -> Option<&SourceMessage> {
        self.message.as_ref()
    }
}

/// The error callback: called for every failed record and source problem, from the
/// listener's tasks, so it must return quickly.
pub type ErrorCallback = Arc<dyn Fn(&Failure) + Send + Sync + 'static>;

/// The callback used when none is set: logs the failure through `tracing` with coordinates,
/// reason and error kind and location — never the error text, which may quote patient data.
pub(crate) fn log_failure(f: &Failure) {
    match &f.coordinates {
        Some(c) => tracing::warn!(
            target: "hie_vc::listener",
            coordinates = %c,
            reason = %f.reason,
            kind = %f.error.kind(),
            location = f.error.location().unwrap_or(""),
            attempts = f.attempts,
            disposition = ?f.disposition,
            "record failed"
        ),
        // Source problems come from the client library (brokers, group, commits): no record
        // content, so the message is safe to log and is what an operator needs.
        None => tracing::warn!(
            target: "hie_vc::listener",
            reason = %f.reason,
            kind = %f.error.kind(),
            message = f.error.message(),
            "source problem"
        ),
    }
}

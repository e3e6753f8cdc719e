//! The event-source interface: where records come from, where progress is stored and where
//! dead letters go. Kafka ([`KafkaSource`](super::KafkaSource)) is the production source;
//! [`MemorySource`](super::MemorySource) has the same semantics in process (sandbox, demo,
//! tests). A custom source (another broker, a replay file) implements [`EventSource`].
//!
//! The contract the listener relies on:
//! * records of one partition arrive in offset order;
//! * [`SourceHandle::store`] is called in offset order per partition, only after a record was
//!   handled (or dead-lettered); the source commits what was stored, at the latest in `close`;
//! * before partitions move to another group member the source sends
//!   [`SourceEvent::Revoked`] and waits (bounded) until the listener drops the [`RevokeDone`]
//!   it carries, so work in flight can finish and be stored first.

use std::fmt;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::event::{Coordinates, Header, SourceMessage};
use super::metrics::PartitionLag;
use crate::Error;

/// A topic partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic partition.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

impl From<&Coordinates> for TopicPartition {
    fn from(c: &Coordinates) -> Self {
        Self {
            topic: c.topic.clone(),
            partition: c.partition,
        }
    }
}

/// Dropped by the listener once the work on revoked partitions is finished and stored.
///
/// A source blocks its rebalance on [`RevokeWait::wait`]; dropping this guard (by the listener,
/// or with the event when nobody listens) releases it.
#[derive(Debug)]
pub struct RevokeDone {
    _tx: mpsc::SyncSender<()>,
}

/// The source's side of a [`RevokeDone`].
#[derive(Debug)]
pub struct RevokeWait {
    rx: mpsc::Receiver<()>,
}

impl RevokeDone {
    /// A guard and the handle that waits for it.
    pub fn pair() -> (RevokeDone, RevokeWait) {
        let (tx, rx) = mpsc::sync_channel(1);
        (RevokeDone { _tx: tx }, RevokeWait { rx })
    }
}

impl RevokeWait {
    /// Blocks until the guard is dropped or `timeout` passes; `true` when it was dropped.
    pub fn wait(self, timeout: Duration) -> bool {
        matches!(
            self.rx.recv_timeout(timeout),
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected)
        )
    }
}

/// What a source delivers to the listener.
#[derive(Debug)]
#[non_exhaustive]
pub enum SourceEvent {
    /// Records, in offset order per partition.
    Messages(Vec<SourceMessage>),
    /// Partitions this member now owns.
    Assigned(Vec<TopicPartition>),
    /// Partitions this member is giving up: finish and store what is in flight, drop the rest
    /// (the next owner redelivers it), then drop `done`.
    Revoked {
        /// The partitions.
        partitions: Vec<TopicPartition>,
        /// Drop when done.
        done: RevokeDone,
    },
    /// A problem that does not stop the source (a broker unreachable, a commit that failed):
    /// reported to the error callback.
    Warning(Error),
    /// A problem the source cannot recover from (credentials refused, fatal client error): the
    /// listener stops and `run` returns it.
    Fatal(Error),
}

/// A record for the dead-letter topic.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Kept from the original record (so it lands in the same dead-letter partition order).
    pub key: Option<Bytes>,
    /// The original payload, unchanged.
    pub payload: Option<Bytes>,
    /// The original headers followed by the `hievc.dlq.*` ones.
    pub headers: Vec<Header>,
}

/// The shareable side of a source: where handled offsets are stored and dead letters written.
/// Used by the listener's partition workers concurrently, so it is `Send + Sync`.
pub trait SourceHandle: Send + Sync + 'static {
    /// Records that `at` and everything before it in its partition were handled.
    fn store(&self, at: &Coordinates) -> Result<(), Error>;
    /// Writes `record` to `topic` and resolves once the write is acknowledged.
    fn dead_letter(&self, topic: &str, record: DeadLetter)
        -> BoxFuture<'static, Result<(), Error>>;
    /// Per-partition lag, as last known.
    fn lag(&self) -> Vec<PartitionLag>;
}

/// What the listener tells a source when it starts it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceStart {
    /// How long the listener may take to finish revoked partitions; a source waits about
    /// this long on a [`RevokeWait`].
    pub drain_timeout: Duration,
}

/// A source of records for a [`Listener`](super::Listener).
pub trait EventSource: Send + 'static {
    /// A one-line description for logs (brokers, group, topics; never credentials).
    fn describe(&self) -> String;
    /// Starts consuming (subscribes). Called by every `run`; only the first call starts.
    fn start(&mut self, start: &SourceStart) -> Result<(), Error>;
    /// The next event; `None` once the source is closed. Must be cancel-safe: the listener
    /// drops the future when it is asked to stop.
    fn next(&mut self) -> BoxFuture<'_, Option<SourceEvent>>;
    /// The shareable side (offsets, dead letters, lag).
    fn handle(&self) -> Arc<dyn SourceHandle>;
    /// Commits what was stored, leaves the group and releases connections, returning within
    /// about `timeout` even when the brokers are unreachable.
    fn close(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>>;
}

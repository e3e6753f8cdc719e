//! An in-process broker and source with Kafka's semantics where the listener depends on them:
//! partitioned topics, offsets, per-group committed offsets, keys and headers. The sandbox,
//! the demo and unit tests run the very same listener on it, without a Kafka cluster.
//!
//! Differences from Kafka, on purpose: one member per consumer group (no rebalances), stored
//! offsets are committed at once, records are kept until the broker is dropped.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::Notify;

use super::config::StartFrom;
use super::event::{Coordinates, Header, SourceMessage, Timestamp};
use super::metrics::PartitionLag;
use super::source::{
    DeadLetter, EventSource, SourceEvent, SourceHandle, SourceStart, TopicPartition,
};
use crate::{Error, ErrorKind};

const MAX_BATCH: usize = 256;

#[derive(Clone)]
struct Stored {
    key: Option<Bytes>,
    payload: Option<Bytes>,
    headers: Vec<Header>,
    timestamp: i64,
}

#[derive(Default)]
struct State {
    topics: BTreeMap<String, (Arc<str>, Vec<Vec<Stored>>)>,
    committed: HashMap<(String, TopicPartition), i64>,
    members: HashMap<String, u64>,
    next_member: u64,
}

struct BrokerInner {
    state: Mutex<State>,
    notify: Notify,
}

/// A record to send to a [`MemoryBroker`].
#[derive(Debug, Clone, Default)]
pub struct MemoryRecord {
    /// Key: records with the same key go to the same partition.
    pub key: Option<Bytes>,
    /// Payload (`None`: a tombstone).
    pub payload: Option<Bytes>,
    /// Headers.
    pub headers: Vec<Header>,
    /// An explicit partition (else by key hash, else partition 0).
    pub partition: Option<i32>,
}

impl MemoryRecord {
    /// A record with a payload.
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Self {
            payload: Some(payload.into()),
            ..Self::default()
        }
    }
    /// Sets the key.
    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }
    /// Adds a header.
    pub fn header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header::new(key, value));
        self
    }
    /// Sets the partition.
    pub fn partition(mut self, p: i32) -> Self {
        self.partition = Some(p);
        self
    }
}

/// An in-process broker. Clones share it.
///
/// ```
/// use hie_vc::listener::{MemoryBroker, MemoryRecord};
/// let broker = MemoryBroker::new();
/// broker.create_topic("vc-encounters", 3).unwrap();
/// let at = broker.send("vc-encounters", MemoryRecord::new(&b"{}"[..]).key("enc-1")).unwrap();
/// assert_eq!(broker.end_offset("vc-encounters", at.partition), Some(1));
/// ```
#[derive(Clone)]
pub struct MemoryBroker {
    inner: Arc<BrokerInner>,
}

impl std::fmt::Debug for MemoryBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("MemoryBroker")
            .field("topics", &s.topics.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for MemoryBroker {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBroker {
    /// An empty broker.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(BrokerInner {
                state: Mutex::new(State::default()),
                notify: Notify::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Mutations are single inserts/pushes: a poisoned lock still holds consistent data.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates `topic` with `partitions` partitions (or adds partitions up to that count).
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), Error> {
        if topic.is_empty() || partitions < 1 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a topic needs a name and at least one partition",
            ));
        }
        let mut s = self.lock();
        let entry = s
            .topics
            .entry(topic.to_owned())
            .or_insert_with(|| (Arc::from(topic), Vec::new()));
        while entry.1.len() < partitions as usize {
            entry.1.push(Vec::new());
        }
        Ok(())
    }

    /// Appends a record (creating the topic with one partition if needed) and returns where it
    /// was written.
    pub fn send(&self, topic: &str, record: MemoryRecord) -> Result<Coordinates, Error> {
        if topic.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "empty topic name"));
        }
        let at = {
            let mut s = self.lock();
            let entry = s
                .topics
                .entry(topic.to_owned())
                .or_insert_with(|| (Arc::from(topic), vec![Vec::new()]));
            let n = entry.1.len() as i32;
            let partition = match (record.partition, &record.key) {
                (Some(p), _) if (0..n).contains(&p) => p,
                (Some(p), _) => {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!("topic '{topic}' has no partition {p} (it has {n})"),
                    ))
                }
                (None, Some(k)) => {
                    let mut h = DefaultHasher::new();
                    k.hash(&mut h);
                    (h.finish() % n as u64) as i32
                }
                (None, None) => 0,
            };
            let log = &mut entry.1[partition as usize];
            log.push(Stored {
                key: record.key,
                payload: record.payload,
                headers: record.headers,
                timestamp: now_millis(),
            });
            Coordinates::new(entry.0.clone(), partition, log.len() as i64 - 1)
        };
        self.inner.notify.notify_waiters();
        Ok(at)
    }

    /// Every record of `topic`, in partition then offset order (e.g. to read a dead-letter
    /// topic).
    pub fn records(&self, topic: &str) -> Vec<SourceMessage> {
        let s = self.lock();
        let Some((name, parts)) = s.topics.get(topic) else {
            return Vec::new();
        };
        parts
            .iter()
            .enumerate()
            .flat_map(|(p, log)| {
                log.iter()
                    .enumerate()
                    .map(move |(o, r)| to_message(name, p as i32, o as i64, r))
            })
            .collect()
    }

    /// The offset the next record of a partition gets.
    pub fn end_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        let s = self.lock();
        let (_, parts) = s.topics.get(topic)?;
        usize::try_from(partition)
            .ok()
            .and_then(|p| parts.get(p))
            .map(|l| l.len() as i64)
    }

    /// The committed offset of `group` on a partition (the next record it will read).
    pub fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
        self.lock()
            .committed
            .get(&(group.to_owned(), TopicPartition::new(topic, partition)))
            .copied()
    }

    /// A source reading `topics` as consumer group `group`.
    pub fn source<I, S>(&self, group: &str, topics: I) -> MemorySource
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        MemorySource {
            broker: self.clone(),
            group: group.to_owned(),
            topics: topics.into_iter().map(Into::into).collect(),
            start_from: StartFrom::Earliest,
            positions: BTreeMap::new(),
            member: None,
            closed: false,
        }
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn to_message(topic: &Arc<str>, partition: i32, offset: i64, r: &Stored) -> SourceMessage {
    SourceMessage {
        coordinates: Coordinates::new(topic.clone(), partition, offset),
        key: r.key.clone(),
        payload: r.payload.clone(),
        timestamp: Some(Timestamp::Create(r.timestamp)),
        headers: r.headers.clone(),
    }
}

/// Reads topics of a [`MemoryBroker`] as the only member of a consumer group.
pub struct MemorySource {
    broker: MemoryBroker,
    group: String,
    topics: Vec<String>,
    start_from: StartFrom,
    positions: BTreeMap<TopicPartition, i64>,
    member: Option<u64>,
    closed: bool,
}

impl std::fmt::Debug for MemorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySource")
            .field("group", &self.group)
            .field("topics", &self.topics)
            .field("closed", &self.closed)
            .finish()
    }
}

impl MemorySource {
    /// Where the group starts when it has no committed offset.
    pub fn start_from(mut self, s: StartFrom) -> Self {
        self.start_from = s;
        self
    }

    /// Picks up partitions that appeared since the last call; returns the new ones.
    fn refresh(&mut self, s: &State) -> Vec<TopicPartition> {
        let mut new = Vec::new();
        for t in &self.topics {
            let Some((name, parts)) = s.topics.get(t) else {
                continue;
            };
            for (p, log) in parts.iter().enumerate() {
                let tp = TopicPartition::new(name.clone(), p as i32);
                if self.positions.contains_key(&tp) {
                    continue;
                }
                let start = match s.committed.get(&(self.group.clone(), tp.clone())) {
                    Some(&o) => o,
                    None if self.start_from == StartFrom::Latest => log.len() as i64,
                    None => 0,
                };
                self.positions.insert(tp.clone(), start);
                new.push(tp);
            }
        }
        new
    }
}

struct MemoryHandle {
    broker: MemoryBroker,
    group: String,
}

impl SourceHandle for MemoryHandle {
    fn store(&self, at: &Coordinates) -> Result<(), Error> {
        self.broker.lock().committed.insert(
            (self.group.clone(), TopicPartition::from(at)),
            at.offset + 1,
        );
        Ok(())
    }

    fn dead_letter(
        &self,
        topic: &str,
        record: DeadLetter,
    ) -> BoxFuture<'static, Result<(), Error>> {
        let r = self.broker.send(
            topic,
            MemoryRecord {
                key: record.key,
                payload: record.payload,
                headers: record.headers,
                partition: None,
            },
        );
        async move { r.map(|_| ()) }.boxed()
    }

    fn lag(&self) -> Vec<PartitionLag> {
        let s = self.broker.lock();
        let mut out = Vec::new();
        for ((group, tp), committed) in &s.committed {
            if group != &self.group {
                continue;
            }
            let end = s
                .topics
                .get(&*tp.topic)
                .and_then(|(_, p)| p.get(tp.partition as usize))
                .map(|l| l.len() as i64);
            out.push(PartitionLag {
                topic: tp.topic.to_string(),
                partition: tp.partition,
                lag: end.map(|e| e - committed),
                lag_stored: end.map(|e| e - committed),
                high_watermark: end,
                committed_offset: Some(*committed),
            });
        }
        out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        out
    }
}

impl EventSource for MemorySource {
    fn describe(&self) -> String {
        format!("memory group '{}' topics {:?}", self.group, self.topics)
    }

    fn start(&mut self, _start: &SourceStart) -> Result<(), Error> {
        if self.closed {
            return Err(Error::new(ErrorKind::Closed, "the memory source is closed"));
        }
        if self.member.is_some() {
            return Ok(());
        }
        let mut s = self.broker.lock();
        if s.members.contains_key(&self.group) {
            return Err(Error::config(format!(
                "in-memory group '{}' already has a member: the in-memory source supports one per group",
                self.group
            )));
        }
        s.next_member += 1;
        let id = s.next_member;
        s.members.insert(self.group.clone(), id);
        self.member = Some(id);
        Ok(())
    }

    fn next(&mut self) -> BoxFuture<'_, Option<SourceEvent>> {
        async move {
            loop {
                if self.closed || self.member.is_none() {
                    return None;
                }
                // Register interest before looking, so a send in between is not missed.
                let broker = self.broker.clone();
                let notified = broker.inner.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let s = broker.lock();
                    let new = self.refresh(&s);
                    if !new.is_empty() {
                        return Some(SourceEvent::Assigned(new));
                    }
                    let mut batch = Vec::new();
                    for (tp, pos) in self.positions.iter_mut() {
                        let Some(log) = s
                            .topics
                            .get(&*tp.topic)
                            .and_then(|(_, p)| p.get(tp.partition as usize))
                        else {
                            continue;
                        };
                        while (*pos as usize) < log.len() && batch.len() < MAX_BATCH {
                            batch.push(to_message(
                                &tp.topic,
                                tp.partition,
                                *pos,
                                &log[*pos as usize],
                            ));
                            *pos += 1;
                        }
                    }
                    if !batch.is_empty() {
                        return Some(SourceEvent::Messages(batch));
                    }
                }
                // Also wake up now and then so `closed` is seen even without new records.
                let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
            }
        }
        .boxed()
    }

    fn handle(&self) -> Arc<dyn SourceHandle> {
        Arc::new(MemoryHandle {
            broker: self.broker.clone(),
            group: self.group.clone(),
        })
    }

    fn close(&mut self, _timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        async move {
            if !self.closed {
                self.closed = true;
                let mut s = self.broker.lock();
                if s.members.get(&self.group) == self.member.as_ref() {
                    s.members.remove(&self.group);
                }
            }
            Ok(())
        }
        .boxed()
    }
}

impl Drop for MemorySource {
    fn drop(&mut self) {
        if let Some(id) = self.member {
            let mut s = self.broker.lock();
            if s.members.get(&self.group) == Some(&id) {
                s.members.remove(&self.group);
            }
        }
    }
}

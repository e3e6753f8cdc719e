//! The Kafka source: a librdkafka consumer polled on a dedicated thread, offsets stored by
//! the listener after each handled record and committed by librdkafka in the background, on
//! revoke and on close; dead letters through an idempotent producer.
//!
//! Why a dedicated thread: librdkafka runs rebalance callbacks inside `poll`, and a revoke has
//! to wait (bounded) for the listener to finish the records in flight. Blocking there is fine
//! on an OS thread and would stall an async runtime. It also keeps closing — which can block
//! while brokers are unreachable (rust-rdkafka #611, #509, #453) — off the caller's path:
//! `close` waits for the thread at most its timeout and then returns, leaving the thread to
//! finish on its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::{mpsc, oneshot};

use super::config::{KafkaConfig, Security};
use super::event::{Coordinates, Header, SourceMessage, Timestamp};
use super::kafka_context::{Ctx, Shared};
use super::metrics::PartitionLag;
use super::source::{DeadLetter, EventSource, SourceEvent, SourceHandle, SourceStart};
use crate::{Error, ErrorKind};

/// Most records per event sent to the listener.
const MAX_BATCH: usize = 256;
/// Events queued between the poll thread and the listener (back-pressure beyond that).
const QUEUE: usize = 8;

type Consumer_ = BaseConsumer<Ctx>;

/// Reads Encounter records from Kafka topics as a consumer group member.
///
/// Built by [`ListenerBuilder::kafka`](super::ListenerBuilder::kafka); the consumer is created
/// (and its configuration checked) at build time, and subscribes on the first `run`.
pub struct KafkaSource {
    config: KafkaConfig,
    consumer: Option<Arc<Consumer_>>,
    shared: Arc<Shared>,
    handle: Arc<KafkaHandle>,
    rx: Option<mpsc::Receiver<SourceEvent>>,
    stop: Arc<AtomicBool>,
    done: Option<oneshot::Receiver<Result<(), Error>>>,
    closed: bool,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource")
            .field("config", &self.config)
            .field("started", &self.done.is_some())
            .field("closed", &self.closed)
            .finish()
    }
}

impl KafkaSource {
    /// Creates the consumer; fails with [`ErrorKind::Config`] on an invalid configuration.
    pub fn new(config: KafkaConfig) -> Result<Self, Error> {
        config.validate()?;
        let sasl_desc = match &config.security {
            Security::SaslPlaintext(s) | Security::SaslSsl(s, _) => {
                Some(format!("user '{}', {}", s.username(), s.mechanism()))
            }
            _ => None,
        };
        let shared = Arc::new(Shared::new(sasl_desc));
        let consumer: Consumer_ = config
            .consumer_config()
            .create_with_context(Ctx {
                shared: shared.clone(),
            })
            .map_err(|e| {
                Error::config(format!("invalid Kafka consumer configuration: {e}")).with_source(e)
            })?;
        let consumer = Arc::new(consumer);
        let handle = Arc::new(KafkaHandle {
            consumer: Arc::downgrade(&consumer),
            config: config.clone(),
            producer: OnceLock::new(),
            shared: shared.clone(),
        });
        Ok(Self {
            config,
            consumer: Some(consumer),
            shared,
            handle,
            rx: None,
            stop: Arc::new(AtomicBool::new(false)),
            done: None,
            closed: false,
        })
    }
}

/// The shareable side: offset stores and dead letters.
struct KafkaHandle {
    consumer: Weak<Consumer_>,
    config: KafkaConfig,
    producer: OnceLock<Result<FutureProducer, String>>,
    shared: Arc<Shared>,
}

impl SourceHandle for KafkaHandle {
    fn store(&self, at: &Coordinates) -> Result<(), Error> {
        let Some(c) = self.consumer.upgrade() else {
            return Err(Error::new(
                ErrorKind::Closed,
                "the Kafka consumer is closed",
            ));
        };
        // The offset to commit is the next one to read. `store_offsets` takes it as given
        // (rust-rdkafka's `store_offset` adds 1 itself, through a deprecated librdkafka call).
        let mut tpl = TopicPartitionList::with_capacity(1);
        tpl.add_partition_offset(&at.topic, at.partition, Offset::Offset(at.offset + 1))
            .and_then(|()| c.store_offsets(&tpl))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Kafka,
                    format!("could not store the offset of {at}: {e} (the partition was probably revoked; the record will be redelivered)"),
                )
                .with_source(e)
            })
    }

    fn dead_letter(
        &self,
        topic: &str,
        record: DeadLetter,
    ) -> BoxFuture<'static, Result<(), Error>> {
        let producer = self.producer.get_or_init(|| {
            self.config
                .producer_config()
                .create::<FutureProducer>()
                .map_err(|e| e.to_string())
        });
        let producer = match producer {
            Ok(p) => p.clone(),
            Err(e) => {
                let e = Error::config(format!("cannot create the dead-letter producer: {e}"));
                return async move { Err(e) }.boxed();
            }
        };
        let topic = topic.to_owned();
        async move {
            let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
            for h in &record.headers {
                headers = headers.insert(rdkafka::message::Header {
                    key: &h.key,
                    value: h.value.as_deref(),
                });
            }
            let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&topic).headers(headers);
            if let Some(k) = record.key.as_deref() {
                rec = rec.key(k);
            }
            if let Some(p) = record.payload.as_deref() {
                rec = rec.payload(p);
            }
            let delivery = producer.send_result(rec).map_err(|(e, _)| {
                kafka_err(&format!("cannot queue the dead letter for '{topic}'"), e)
            })?;
            match delivery.await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err((e, _))) => Err(kafka_err(
                    &format!("the dead letter was not written to '{topic}'"),
                    e,
                )),
                Err(_) => Err(Error::new(
                    ErrorKind::Closed,
                    "the dead-letter producer was closed before the write was acknowledged",
                )),
            }
        }
        .boxed()
    }

    fn lag(&self) -> Vec<PartitionLag> {
        self.shared.lag()
    }
}

fn kafka_err(what: &str, e: rdkafka::error::KafkaError) -> Error {
    Error::new(ErrorKind::Kafka, format!("{what}: {e}")).with_source(e)
}

impl EventSource for KafkaSource {
    fn describe(&self) -> String {
        self.config.describe()
    }

    fn start(&mut self, start: &SourceStart) -> Result<(), Error> {
        if self.closed {
            return Err(Error::new(ErrorKind::Closed, "the Kafka source is closed"));
        }
        if self.done.is_some() {
            return Ok(());
        }
        let Some(consumer) = self.consumer.clone() else {
            return Err(Error::new(ErrorKind::Closed, "the Kafka source is closed"));
        };
        *self
            .shared
            .drain_timeout
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = start.drain_timeout;
        let topics: Vec<&str> = self.config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics).map_err(|e| {
            Error::config(format!("cannot subscribe to {topics:?}: {e}")).with_source(e)
        })?;
        let (tx, rx) = mpsc::channel(QUEUE);
        *self.shared.tx.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        self.rx = Some(rx);
        let (done_tx, done_rx) = oneshot::channel();
        let shared = self.shared.clone();
        let stop = self.stop.clone();
        thread::Builder::new()
            .name("hievc-kafka-poll".into())
            .spawn(move || {
                poll_loop(&consumer, &shared, &stop);
                let r = close_consumer(consumer);
                let _ = done_tx.send(r);
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Kafka,
                    format!("cannot start the Kafka poll thread: {e}"),
                )
            })?;
        self.done = Some(done_rx);
        // The poll thread owns the consumer from now on, so the client is always destroyed
        // there, never on an async task.
        self.consumer = None;
        Ok(())
    }

    fn next(&mut self) -> BoxFuture<'_, Option<SourceEvent>> {
        async move {
            match self.rx.as_mut() {
                Some(rx) => rx.recv().await,
                None => None,
            }
        }
        .boxed()
    }

    fn handle(&self) -> Arc<dyn SourceHandle> {
        self.handle.clone()
    }

    fn close(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        async move {
            if self.closed {
                return Ok(());
            }
            self.closed = true;
            // Stop listening first: the poll thread must never block on a full queue now.
            *self.shared.tx.lock().unwrap_or_else(|p| p.into_inner()) = None;
            self.rx = None;
            self.stop.store(true, Ordering::SeqCst);
            let producer = self.handle.producer.get().and_then(|p| p.as_ref().ok()).cloned();
            let result = match self.done.take() {
                Some(done) => match tokio::time::timeout(timeout, done).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(_)) => Err(Error::new(ErrorKind::Kafka, "the Kafka poll thread ended unexpectedly")),
                    Err(_) => Err(Error::new(
                        ErrorKind::Timeout,
                        format!("closing the Kafka consumer took longer than {timeout:?} (brokers unreachable?): offsets stored since the last commit may not be committed and will be redelivered; the client is released in the background"),
                    )),
                },
                // Never started: nothing to commit; release the client off this task.
                None => {
                    if let Some(c) = self.consumer.take() {
                        release_in_background(c);
                    }
                    Ok(())
                }
            };
            self.consumer = None;
            if let Some(p) = producer {
                // Dropping a producer flushes (bounded by librdkafka); keep it off this task.
                let _ = thread::Builder::new()
                    .name("hievc-kafka-dlq-close".into())
                    .spawn(move || drop(p));
            }
            result
        }
        .boxed()
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        // Not closed: stop the thread (it closes the consumer itself) and never block here.
        *self.shared.tx.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.stop.store(true, Ordering::SeqCst);
        if let Some(c) = self.consumer.take() {
            if self.done.is_none() {
                release_in_background(c);
            }
        }
    }
}

fn release_in_background(c: Arc<Consumer_>) {
    let _ = thread::Builder::new()
        .name("hievc-kafka-release".into())
        .spawn(move || drop(c));
}

fn poll_loop(consumer: &Consumer_, shared: &Shared, stop: &AtomicBool) {
    let mut topics: HashMap<String, Arc<str>> = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        match consumer.poll(Duration::from_millis(100)) {
            None => continue,
            Some(Err(e)) => {
                shared.report(&e, None);
                continue;
            }
            Some(Ok(m)) => {
                shared.push_pending(convert(&m, &mut topics));
            }
        }
        // Take what is already fetched without waiting, up to a batch.
        loop {
            match consumer.poll(Duration::ZERO) {
                Some(Ok(m)) => {
                    if shared.push_pending(convert(&m, &mut topics)) >= MAX_BATCH {
                        break;
                    }
                }
                Some(Err(e)) => {
                    shared.report(&e, None);
                    break;
                }
                None => break,
            }
        }
        if !shared.flush_pending() {
            // Nobody listens any more (closing): unsent records were not stored, so the
            // group redelivers them.
            shared
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            if stop.load(Ordering::Relaxed) {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

fn convert(m: &BorrowedMessage<'_>, topics: &mut HashMap<String, Arc<str>>) -> SourceMessage {
    let topic = match topics.get(m.topic()) {
        Some(t) => t.clone(),
        None => {
            let t: Arc<str> = Arc::from(m.topic());
            topics.insert(m.topic().to_owned(), t.clone());
            t
        }
    };
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    key: h.key.to_owned(),
                    value: h.value.map(Bytes::copy_from_slice),
                })
                .collect()
        })
        .unwrap_or_default();
    SourceMessage {
        coordinates: Coordinates::new(topic, m.partition(), m.offset()),
        key: m.key().map(Bytes::copy_from_slice),
        payload: m.payload().map(Bytes::copy_from_slice),
        timestamp: match m.timestamp() {
            rdkafka::Timestamp::CreateTime(t) => Some(Timestamp::Create(t)),
            rdkafka::Timestamp::LogAppendTime(t) => Some(Timestamp::LogAppend(t)),
            rdkafka::Timestamp::NotAvailable => None,
        },
        headers,
    }
}

/// How long the poll thread spends committing and leaving the group before giving up; the
/// caller's `close` bound is separate (it stops waiting and lets this finish alone).
const CLOSE_BOUND: Duration = Duration::from_secs(30);

/// Commits the stored offsets and leaves the group, on the poll thread (librdkafka commits
/// as it unassigns the partitions, because auto-commit is on).
fn close_consumer(consumer: Arc<Consumer_>) -> Result<(), Error> {
    let deadline = Instant::now() + CLOSE_BOUND;
    let mut result = Ok(());
    // Leave the group. librdkafka commits the stored offsets as it gives the partitions up
    // (auto-commit is on), then leaves, so the group rebalances at once instead of waiting for
    // the session timeout.
    tracing::debug!(target: "hie_vc::listener", "closing: leaving the group");
    match consumer.close_queue() {
        Ok(()) => {
            while !consumer.closed() && Instant::now() < deadline {
                let _ = consumer.poll(Duration::from_millis(50));
            }
        }
        Err(e) => result = Err(kafka_err("could not leave the consumer group", e)),
    }
    if !consumer.closed() {
        return Err(Error::new(
            ErrorKind::Timeout,
            "the Kafka consumer did not leave its group in time (brokers unreachable?)",
        ));
    }
    // Closed: destroying the client now only joins librdkafka's threads.
    tracing::debug!(target: "hie_vc::listener", "closing: left the group; destroying the client");
    drop(consumer);
    tracing::debug!(target: "hie_vc::listener", "closing: done");
    result
}

//! The listener: reads events from its source, hands records to one worker per partition,
//! drains workers on revoke and shutdown, and closes the source within a bound.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Mutex};

use super::dedupe::Dedupe;
use super::event::SourceMessage;
use super::handler::{Disposition, Failure, FailureReason};
use super::metrics::{self, MetricsSnapshot};
use super::source::{EventSource, SourceEvent, SourceHandle, SourceStart, TopicPartition};
use super::worker::{drain, permits, report, Lane, Pipeline, Work};
use crate::{Error, ErrorKind};

/// Asks a running listener to stop; cheap to clone and usable from any thread.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    pub(crate) fn new() -> Self {
        Self {
            tx: Arc::new(watch::channel(false).0),
        }
    }
    /// Requests the stop: `run` stops taking records, lets handler calls in flight finish
    /// (up to the drain timeout) and returns.
    pub fn shutdown(&self) {
        self.tx.send_replace(true);
    }
    /// Whether a stop was requested.
    pub fn is_shutdown(&self) -> bool {
        *self.tx.borrow()
    }
    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
    async fn wait(rx: &mut watch::Receiver<bool>) {
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// Listens for Encounters and hands each to a handler; built with
/// [`Listener::builder`](super::Listener::builder).
///
/// `run` processes records until [`shutdown`](Self::shutdown) (or the signal given to
/// [`run_until`](Self::run_until)); [`close`](Self::close) then commits the stored offsets and
/// leaves the consumer group. Always close: it is what makes the group hand the partitions to
/// another member at once, with nothing handled twice.
pub struct Listener {
    pub(crate) source: Mutex<Option<Box<dyn EventSource>>>,
    pub(crate) handle: Arc<dyn SourceHandle>,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) shutdown: ShutdownHandle,
    pub(crate) closed: AtomicBool,
    pub(crate) description: String,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("source", &self.description)
            .field("options", &self.pipeline.opts)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl Listener {
    /// Processes records until a shutdown is requested, the source ends, or the source fails
    /// for good (e.g. Kafka refused the credentials: [`ErrorKind::Unauthorized`]), which is
    /// returned. Failed records do not end `run`: they go to the error callback.
    ///
    /// Calling `run` again after a shutdown returns at once; close the listener instead.
    pub async fn run(&self) -> Result<(), Error> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::new(ErrorKind::Closed, "the listener is closed"));
        }
        let Ok(mut guard) = self.source.try_lock() else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "the listener is already running (run it once, from one task)",
            ));
        };
        let Some(source) = guard.as_mut() else {
            return Err(Error::new(ErrorKind::Closed, "the listener is closed"));
        };
        let mut stop = self.shutdown.tx.subscribe();
        if *stop.borrow() {
            return Ok(());
        }
        let opts = &self.pipeline.opts;
        source.start(&SourceStart {
            drain_timeout: opts.drain_timeout,
        })?;
        tracing::info!(target: "hie_vc::listener", source = %self.description, "listener running");
        let mut lanes: HashMap<TopicPartition, Lane> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_emit = Instant::now();
        let result = loop {
            tokio::select! {
                biased;
                _ = ShutdownHandle::wait(&mut stop) => break Ok(()),
                _ = tick.tick() => {
                    self.pipeline.metrics.sample();
                    if let Some(every) = opts.metrics_interval {
                        if last_emit.elapsed() >= every {
                            last_emit = Instant::now();
                            metrics::emit(&self.metrics());
                        }
                    }
                }
                ev = source.next() => match ev {
                    None => break Ok(()),
                    Some(SourceEvent::Messages(batch)) => {
                        self.pipeline.metrics.c().received.fetch_add(batch.len() as u64, Ordering::Relaxed);
                        if !self.dispatch(&mut lanes, batch, &mut stop).await {
                            break Ok(());
                        }
                    }
                    Some(SourceEvent::Assigned(parts)) => {
                        tracing::debug!(target: "hie_vc::listener", partitions = ?parts, "assigned");
                    }
                    Some(SourceEvent::Revoked { partitions, done }) => {
                        let revoked: Vec<Lane> =
                            partitions.iter().filter_map(|tp| lanes.remove(tp)).collect();
                        let timeout = opts.drain_timeout;
                        // Drain off the event loop: records of other partitions keep flowing.
                        tokio::spawn(async move {
                            drain(revoked, timeout).await;
                            drop(done);
                        });
                    }
                    Some(SourceEvent::Warning(error)) => self.source_problem(error),
                    Some(SourceEvent::Fatal(error)) => {
                        self.source_problem(copy_error(&error));
                        break Err(error);
                    }
                }
            }
        };
        drain(lanes.into_values().collect(), opts.drain_timeout).await;
        tracing::info!(target: "hie_vc::listener", source = %self.description, ok = result.is_ok(), "listener stopped");
        result
    }

    /// [`run`](Self::run) until `signal` completes (e.g. `tokio::signal::ctrl_c()`), then
    /// stops as on [`shutdown`](Self::shutdown).
    pub async fn run_until<F: Future>(&self, signal: F) -> Result<(), Error> {
        let run = self.run();
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r,
            _ = signal => {
                self.shutdown();
                run.await
            }
        }
    }

    /// Requests a stop (non-blocking); see [`ShutdownHandle::shutdown`].
    pub fn shutdown(&self) {
        self.shutdown.shutdown();
    }

    /// A handle to request the stop from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Current metrics.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.pipeline.metrics.snapshot(self.handle.lag())
    }

    /// The dedupe store, when dedupe is on.
    pub fn dedupe(&self) -> Option<&Dedupe> {
        self.pipeline.dedupe.as_ref()
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Stops `run` (if running), commits the stored offsets and leaves the consumer group.
    ///
    /// Returns within about drain timeout + close timeout (defaults 10 s + 10 s) even when the
    /// brokers are unreachable; in that case it returns [`ErrorKind::Timeout`] (offsets stored
    /// since the last commit are redelivered later) and the client is released in the
    /// background. Calling it again returns `Ok`.
    pub async fn close(&self) -> Result<(), Error> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.shutdown.shutdown();
        let opts = &self.pipeline.opts;
        let wait = opts.drain_timeout + Duration::from_secs(2);
        let Ok(mut guard) = tokio::time::timeout(wait, self.source.lock()).await else {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "run did not stop within {wait:?}; the listener is closed without committing"
                ),
            ));
        };
        let Some(mut source) = guard.take() else {
            return Ok(());
        };
        let result = source.close(opts.close_timeout).await;
        tracing::info!(target: "hie_vc::listener", source = %self.description, ok = result.is_ok(), "listener closed");
        result
    }

    fn source_problem(&self, error: Error) {
        self.pipeline
            .metrics
            .c()
            .source_errors
            .fetch_add(1, Ordering::Relaxed);
        report(
            &self.pipeline,
            Failure {
                reason: FailureReason::Source,
                error,
                coordinates: None,
                attempts: 0,
                disposition: Disposition::None,
                message: None,
            },
        );
    }

    /// Hands records to their partition's worker, in order. `false` when a stop was requested
    /// while waiting for a busy worker.
    async fn dispatch(
        &self,
        lanes: &mut HashMap<TopicPartition, Lane>,
        batch: Vec<SourceMessage>,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let mut groups: Vec<(TopicPartition, Vec<SourceMessage>)> = Vec::new();
        for m in batch {
            let tp = TopicPartition::from(&m.coordinates);
            match groups.iter_mut().find(|(t, _)| *t == tp) {
                Some((_, g)) => g.push(m),
                None => groups.push((tp, vec![m])),
            }
        }
        let budget = &self.pipeline.budget;
        for (tp, group) in groups {
            // Wait for room in the in-flight budget (back-pressure on the source); a group
            // larger than the whole budget takes all of it.
            let need: u32 = group
                .iter()
                .map(permits)
                .fold(0u32, u32::saturating_add)
                .min(self.pipeline.budget_total);
            tokio::select! {
                biased;
                _ = ShutdownHandle::wait(stop) => return false,
                p = budget.acquire_many(need) => match p {
                    Ok(p) => p.forget(),
                    Err(_) => return false, // closed: never happens, the budget is never closed
                },
            }
            let mut work = Work::new(group, budget.clone(), need);
            loop {
                let lane = lanes
                    .entry(tp.clone())
                    .or_insert_with(|| Lane::spawn(self.pipeline.clone(), self.handle.clone()));
                match lane.tx.send(work) {
                    Ok(()) => break,
                    Err(back) => {
                        // The worker ended on its own (it never does unless told to): replace
                        // it and hand the records over again.
                        work = back.0;
                        lanes.remove(&tp);
                    }
                }
            }
        }
        true
    }
}

/// A copy (kind, message, location, HTTP status) of an error that is also returned elsewhere
/// (the error callback, every puller of a queue).
pub(crate) fn copy_error(e: &Error) -> Error {
    let mut c = Error::new(e.kind(), e.message().to_owned());
    if let Some(l) = e.location() {
        c = c.with_location(l.to_owned());
    }
    if let Some(s) = e.status() {
        c = c.with_status(s);
    }
    c
}

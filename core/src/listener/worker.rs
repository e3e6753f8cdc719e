//! One worker per partition: decode → filter → dedupe → handler (with retries) → store the
//! offset, one record at a time, so offsets are stored in partition order and a record's
//! offset is stored only once it was handled, dead-lettered or reported.
//!
//! A worker is told to stop (shutdown, or its partition was revoked) through a watch flag: it
//! lets the handler call in flight finish and stores its offset, abandons retry waits, and
//! drops the records it has not started — the group redelivers them.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

use super::decode::{decode, DecodeOptions};
use super::dedupe::{Dedupe, DedupeKey};
use super::dlq;
use super::event::{Coordinates, EncounterEvent, EventInner, SourceMessage};
use super::handler::{
    Disposition, ErrorCallback, Failure, FailureReason, Handler, HandlerError, HandlerFailed,
    Permanent,
};
use super::metrics::Metrics;
use super::options::{Filter, ListenerOptions};
use super::source::SourceHandle;
use crate::fhir::{ReadMode, ReadOptions};
use crate::mycore::{is_vc_encounter, VcEncounter};
use crate::{Error, ErrorKind};

/// How long a handled record's offset may wait before it is stored (stores are batched:
/// one librdkafka call per batch instead of per record).
const STORE_EVERY: Duration = Duration::from_millis(100);

/// What every worker of a listener shares.
pub(crate) struct Pipeline {
    pub opts: ListenerOptions,
    pub handler: Arc<dyn Handler>,
    pub on_error: ErrorCallback,
    pub dedupe: Option<Dedupe>,
    pub metrics: Metrics,
    /// Bytes (in KiB permits) of records handed to workers and not finished yet.
    pub budget: Arc<Semaphore>,
    /// The budget's size in permits.
    pub budget_total: u32,
}

impl Pipeline {
    fn read_options(&self) -> ReadOptions {
        match self.opts.read_mode {
            ReadMode::Strict => ReadOptions::strict(),
            ReadMode::Lenient => ReadOptions::lenient(),
        }
    }
}

/// The permits (KiB, at least 1) a record holds in the in-flight budget.
pub(crate) fn permits(m: &SourceMessage) -> u32 {
    u32::try_from(m.len() / 1024 + 1).unwrap_or(u32::MAX)
}

/// Records handed to a worker; each returns its budget permits once finished, and whatever is
/// left unprocessed returns them when dropped (a stopped or aborted worker).
pub(crate) struct Work {
    messages: std::vec::IntoIter<SourceMessage>,
    budget: Arc<Semaphore>,
    held: u32,
}

impl Work {
    pub fn new(messages: Vec<SourceMessage>, budget: Arc<Semaphore>, held: u32) -> Self {
        Self {
            messages: messages.into_iter(),
            budget,
            held,
        }
    }
    fn release(&mut self, n: u32) {
        let n = n.min(self.held);
        self.held -= n;
        self.budget.add_permits(n as usize);
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let held = self.held;
        self.release(held);
    }
}

/// A running worker.
pub(crate) struct Lane {
    pub tx: mpsc::UnboundedSender<Work>,
    cancel: watch::Sender<bool>,
    join: JoinHandle<()>,
}

impl Lane {
    pub fn spawn(p: Arc<Pipeline>, store: Arc<dyn SourceHandle>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (cancel, cancel_rx) = watch::channel(false);
        let join = tokio::spawn(run_lane(p, store, rx, cancel_rx));
        Self { tx, cancel, join }
    }
}

/// Stops workers: each finishes its handler call in flight (stored), within `timeout` in all;
/// workers still busy then are aborted (their record is not stored and will be redelivered).
pub(crate) async fn drain(lanes: Vec<Lane>, timeout: Duration) {
    for l in &lanes {
        let _ = l.cancel.send(true);
    }
    let deadline = tokio::time::Instant::now() + timeout;
    for Lane { tx, join, .. } in lanes {
        drop(tx);
        let abort = join.abort_handle();
        if tokio::time::timeout_at(deadline, join).await.is_err() {
            abort.abort();
            tracing::warn!(target: "hie_vc::listener", ?timeout, "a handler call did not finish within the drain timeout and was abandoned; its record will be redelivered");
        }
    }
}

async fn cancelled(rx: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = rx.wait_for(|c| *c).await;
}

async fn run_lane(
    p: Arc<Pipeline>,
    store: Arc<dyn SourceHandle>,
    mut rx: mpsc::UnboundedReceiver<Work>,
    mut cancel: watch::Receiver<bool>,
) {
    let mut progress = Progress {
        pending: None,
        last_store: Instant::now(),
    };
    loop {
        let mut work = tokio::select! {
            biased;
            _ = cancelled(&mut cancel) => break,
            w = rx.recv() => match w {
                Some(w) => w,
                None => break,
            },
        };
        let mut stop = false;
        while let Some(msg) = work.messages.next() {
            if *cancel.borrow() {
                stop = true;
                break;
            }
            let n = permits(&msg);
            let flow = process(&p, &*store, msg, &mut cancel, &mut progress).await;
            work.release(n);
            if flow == Flow::Stop {
                stop = true;
                break;
            }
        }
        drop(work);
        progress.store(&p, &*store);
        if stop {
            break;
        }
    }
    progress.store(&p, &*store);
}

/// The newest finished record of a worker whose offset is not stored yet.
struct Progress {
    pending: Option<Coordinates>,
    last_store: Instant,
}

impl Progress {
    fn finished(&mut self, c: &Coordinates) {
        self.pending = Some(c.clone());
    }
    /// Stores the pending offset; a failure is reported, not fatal (the record is redelivered
    /// at worst).
    fn store(&mut self, p: &Pipeline, store: &dyn SourceHandle) {
        self.last_store = Instant::now();
        let Some(at) = self.pending.take() else {
            return;
        };
        if let Err(error) = store.store(&at) {
            report(
                p,
                Failure {
                    reason: FailureReason::Store,
                    error,
                    coordinates: Some(at),
                    attempts: 0,
                    disposition: Disposition::None,
                    message: None,
                },
            );
        }
    }
    /// Stores if the pending offset has waited long enough (called before work that may take
    /// a while, so a slow handler does not hold back earlier records' offsets).
    fn store_if_due(&mut self, p: &Pipeline, store: &dyn SourceHandle) {
        if self.pending.is_some() && self.last_store.elapsed() >= STORE_EVERY {
            self.store(p, store);
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

enum Attempt {
    Ok,
    Failed(HandlerError),
    Panicked(String),
    TimedOut(Duration),
}

async fn process(
    p: &Pipeline,
    store: &dyn SourceHandle,
    msg: SourceMessage,
    cancel: &mut watch::Receiver<bool>,
    progress: &mut Progress,
) -> Flow {
    let m = &p.metrics;
    m.mark_processed();
    let decoded = decode(
        msg.payload.as_deref(),
        DecodeOptions {
            format: &p.opts.format,
            read: p.read_options(),
            max_bytes: p.opts.max_message_bytes,
        },
    );
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => {
            m.c().decode_errors.fetch_add(1, Relaxed);
            let reason = FailureReason::Decode(e.kind);
            progress.store(p, store);
            dispose(p, store, msg, reason, Error::from(e), 0, progress).await;
            return Flow::Continue;
        }
    };
    let vc = if is_vc_encounter(&decoded.encounter) {
        VcEncounter::from_encounter(&decoded.encounter).ok()
    } else {
        None
    };
    if vc.is_none() && p.opts.filter == Filter::VcOnly {
        m.c().filtered.fetch_add(1, Relaxed);
        progress.finished(&msg.coordinates);
        return Flow::Continue;
    }
    // Held until the record is finished; dropped unfinished (stop, abort) it releases the key.
    let mut claim = None;
    if let Some(d) = &p.dedupe {
        if let Some(key) = DedupeKey::of(
            &decoded.encounter,
            msg.payload.as_deref().unwrap_or_default(),
        ) {
            match d.guard(key) {
                Some(g) => claim = Some(g),
                None => {
                    m.c().deduplicated.fetch_add(1, Relaxed);
                    progress.finished(&msg.coordinates);
                    return Flow::Continue;
                }
            }
        }
    }
    let event = EncounterEvent::new(EventInner {
        message: msg,
        encounter: decoded.encounter,
        vc,
        included: decoded.included,
        warnings: decoded.warnings,
        layout: decoded.layout,
    });

    let mut attempts = 0u32;
    let first_attempt = Instant::now();
    progress.store_if_due(p, store);
    let last = loop {
        attempts += 1;
        let started = Instant::now();
        let outcome = attempt(p, event.clone()).await;
        m.handler_latency(started.elapsed());
        let permanent = match &outcome {
            Attempt::Ok => {
                m.c().handled.fetch_add(1, Relaxed);
                if let Some(g) = claim {
                    g.complete();
                }
                progress.finished(event.coordinates());
                return Flow::Continue;
            }
            Attempt::Failed(e) => e.downcast_ref::<Permanent>().is_some(),
            Attempt::Panicked(_) | Attempt::TimedOut(_) => false,
        };
        // The one retry policy: retries left, and the wait ending within its total bound.
        let wait = match p
            .opts
            .retry
            .next_delay(attempts, first_attempt.elapsed(), None)
        {
            Some(wait) if !permanent => wait,
            _ => break outcome,
        };
        m.c().retries.fetch_add(1, Relaxed);
        progress.store(p, store);
        tracing::debug!(target: "hie_vc::listener", coordinates = %event.coordinates(), attempts, ?wait, "handler failed; retrying");
        tokio::select! {
            biased;
            _ = cancelled(cancel) => {
                // Stopping: the record is not stored, so it comes back after the restart or
                // to the partition's next owner (and the dropped claim lets it through).
                return Flow::Stop;
            }
            _ = tokio::time::sleep(wait) => {}
        }
    };

    m.c().handler_failures.fetch_add(1, Relaxed);
    let (reason, error) = match last {
        Attempt::Failed(e) => (
            FailureReason::Handler,
            Error::new(
                ErrorKind::Handler,
                format!("the handler failed after {attempts} attempt(s)"),
            )
            .with_source(HandlerFailed(e)),
        ),
        Attempt::Panicked(msg) => (
            FailureReason::HandlerPanic,
            Error::new(
                ErrorKind::Handler,
                format!("the handler panicked (attempt {attempts}): {msg}"),
            ),
        ),
        Attempt::TimedOut(t) => (
            FailureReason::HandlerTimeout,
            Error::new(
                ErrorKind::Timeout,
                format!("the handler did not finish within {t:?} (attempt {attempts})"),
            ),
        ),
        Attempt::Ok => return Flow::Continue, // not reached: Ok returns above
    };
    if let Some(g) = claim {
        g.complete();
    }
    let msg = event.message().clone();
    drop(event);
    progress.store(p, store);
    dispose(p, store, msg, reason, error, attempts, progress).await;
    Flow::Continue
}

/// One handler call, with panics caught and the optional time bound.
async fn attempt(p: &Pipeline, event: EncounterEvent) -> Attempt {
    let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| p.handler.handle(event))) {
        Ok(f) => f,
        Err(panic) => return Attempt::Panicked(panic_text(&*panic)),
    };
    let guarded = AssertUnwindSafe(fut).catch_unwind();
    let result = match p.opts.handler_timeout {
        Some(t) => match tokio::time::timeout(t, guarded).await {
            Ok(r) => r,
            Err(_) => return Attempt::TimedOut(t),
        },
        None => guarded.await,
    };
    match result {
        Ok(Ok(())) => Attempt::Ok,
        Ok(Err(e)) => Attempt::Failed(e),
        Err(panic) => Attempt::Panicked(panic_text(&*panic)),
    }
}

fn panic_text(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-text panic payload".to_owned()
    }
}

/// A record that failed for good: to the dead-letter topic (if any), to the error callback,
/// and its offset stored so the partition moves on.
async fn dispose(
    p: &Pipeline,
    store: &dyn SourceHandle,
    msg: SourceMessage,
    reason: FailureReason,
    error: Error,
    attempts: u32,
    progress: &mut Progress,
) {
    let m = &p.metrics;
    let mut disposition = Disposition::Skipped;
    if let Some(topic) = &p.opts.dead_letter_topic {
        let record = dlq::record(&msg, reason, &error, attempts);
        match store.dead_letter(topic, record).await {
            Ok(()) => {
                m.c().dead_lettered.fetch_add(1, Relaxed);
                disposition = Disposition::DeadLettered {
                    topic: topic.clone(),
                };
            }
            Err(dlq_error) => {
                m.c().dead_letter_failures.fetch_add(1, Relaxed);
                report(
                    p,
                    Failure {
                        reason: FailureReason::DeadLetter,
                        error: dlq_error,
                        coordinates: Some(msg.coordinates.clone()),
                        attempts,
                        disposition: Disposition::Skipped,
                        message: None,
                    },
                );
            }
        }
    }
    progress.finished(&msg.coordinates);
    report(
        p,
        Failure {
            reason,
            error,
            coordinates: Some(msg.coordinates.clone()),
            attempts,
            disposition,
            message: Some(msg),
        },
    );
}

/// Calls the error callback; a panicking callback is contained (and logged).
pub(crate) fn report(p: &Pipeline, f: Failure) {
    if std::panic::catch_unwind(AssertUnwindSafe(|| (p.on_error)(&f))).is_err() {
        tracing::error!(target: "hie_vc::listener", reason = %f.reason, "the error callback panicked");
    }
}

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
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::decode::{decode, DecodeOptions};
use super::dedupe::{Claim, Dedupe, DedupeKey};
use super::dlq;
use super::event::{EncounterEvent, EventInner, SourceMessage};
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

/// Batches queued per worker (each up to a source batch of records).
const LANE_QUEUE: usize = 2;

/// What every worker of a listener shares.
pub(crate) struct Pipeline {
    pub opts: ListenerOptions,
    pub handler: Arc<dyn Handler>,
    pub on_error: ErrorCallback,
    pub dedupe: Option<Dedupe>,
    pub metrics: Metrics,
}

impl Pipeline {
    fn read_options(&self) -> ReadOptions {
        match self.opts.read_mode {
            ReadMode::Strict => ReadOptions::strict(),
            ReadMode::Lenient => ReadOptions::lenient(),
        }
    }
}

/// A running worker.
pub(crate) struct Lane {
    pub tx: mpsc::Sender<Vec<SourceMessage>>,
    cancel: watch::Sender<bool>,
    join: JoinHandle<()>,
}

impl Lane {
    pub fn spawn(p: Arc<Pipeline>, store: Arc<dyn SourceHandle>) -> Self {
        let (tx, rx) = mpsc::channel(LANE_QUEUE);
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
    mut rx: mpsc::Receiver<Vec<SourceMessage>>,
    mut cancel: watch::Receiver<bool>,
) {
    loop {
        let batch = tokio::select! {
            biased;
            _ = cancelled(&mut cancel) => return,
            b = rx.recv() => match b {
                Some(b) => b,
                None => return,
            },
        };
        for msg in batch {
            if *cancel.borrow() {
                return;
            }
            if process(&p, &*store, msg, &mut cancel).await == Flow::Stop {
                return;
            }
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
            dispose(p, store, msg, reason, Error::from(e), 0).await;
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
        save(p, store, &msg);
        return Flow::Continue;
    }
    let key = p.dedupe.as_ref().and_then(|d| {
        let key = DedupeKey::of(
            &decoded.encounter,
            msg.payload.as_deref().unwrap_or_default(),
        )?;
        Some((d, key))
    });
    if let Some((d, key)) = key {
        if d.claim(key) == Claim::Duplicate {
            m.c().deduplicated.fetch_add(1, Relaxed);
            save(p, store, &msg);
            return Flow::Continue;
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
    let last = loop {
        attempts += 1;
        let started = Instant::now();
        let outcome = attempt(p, event.clone()).await;
        m.handler_latency(started.elapsed());
        let permanent = match &outcome {
            Attempt::Ok => {
                m.c().handled.fetch_add(1, Relaxed);
                if let Some((d, key)) = key {
                    d.complete(key);
                }
                save(p, store, event.message());
                return Flow::Continue;
            }
            Attempt::Failed(e) => e.downcast_ref::<Permanent>().is_some(),
            Attempt::Panicked(_) | Attempt::TimedOut(_) => false,
        };
        if permanent || attempts > p.opts.retry.get_max_retries() {
            break outcome;
        }
        m.c().retries.fetch_add(1, Relaxed);
        let wait = p.opts.retry.backoff(attempts);
        tracing::debug!(target: "hie_vc::listener", coordinates = %event.coordinates(), attempts, ?wait, "handler failed; retrying");
        tokio::select! {
            biased;
            _ = cancelled(cancel) => {
                // Stopping: the record is not stored, so it comes back after the restart or
                // to the partition's next owner.
                if let Some((d, key)) = key {
                    d.release(key);
                }
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
    if let Some((d, key)) = key {
        d.complete(key);
    }
    let msg = event.message().clone();
    drop(event);
    dispose(p, store, msg, reason, error, attempts).await;
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

/// Stores the offset of a finished record; a failure is reported, not fatal (the record is
/// redelivered at worst).
fn save(p: &Pipeline, store: &dyn SourceHandle, msg: &SourceMessage) {
    if let Err(error) = store.store(&msg.coordinates) {
        report(
            p,
            Failure {
                reason: FailureReason::Store,
                error,
                coordinates: Some(msg.coordinates.clone()),
                attempts: 0,
                disposition: Disposition::None,
                message: None,
            },
        );
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
    save(p, store, &msg);
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

//! One record through the pipeline: decode → filter → dedupe → handler or queue (with
//! retries) → dead letter / error callback. Returns whether the record is finished (its offset
//! may be stored once every earlier record of its partition is); the lane stores offsets.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::sync::watch;

use super::decode::{decode, DecodeOptions};
use super::dedupe::{ClaimGuard, DedupeKey};
use super::dlq;
use super::event::{EncounterEvent, EventInner, SourceMessage};
use super::handler::{
    Disposition, Failure, FailureReason, Handler, HandlerError, HandlerFailed, Permanent,
};
use super::options::Filter;
use super::source::SourceHandle;
use super::worker::{cancelled, report, Pipeline, Progress, Target};
use crate::mycore::{is_vc_encounter, VcEncounter};
use crate::{Error, ErrorKind};

/// What became of a record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Finished (handled, filtered, deduplicated, dead-lettered or reported): its offset may
    /// be stored.
    Continue,
    /// Left unfinished because the worker is stopping: not stored, redelivered later.
    Stop,
}

enum Attempt {
    Ok,
    Failed(HandlerError),
    Panicked(String),
    TimedOut(Duration),
    /// The worker is stopping and the event was not being handled (a queued event nobody
    /// pulled, or a pulled one dropped unanswered during the stop).
    Abandoned,
}

/// What the synchronous first part of a record's processing left to do.
enum Prepared {
    /// An event for the handler, with its dedupe claim (held until the record is finished;
    /// dropped unfinished it releases the key).
    Event(EncounterEvent, Option<ClaimGuard>),
    /// Filtered out or a duplicate: finished.
    Skipped,
    /// Not decodable: to the dead-letter topic and the error callback.
    Undecodable(SourceMessage, FailureReason, Error),
}

/// Decode → classify → filter → dedupe, without awaiting. Kept out of `process` so the
/// decoded Encounter and everything built on the way live in this stack frame, not in the
/// record's future: that future is moved into the lane's in-flight set once per record, and
/// every byte of it is copied then.
fn prepare(p: &Pipeline, msg: SourceMessage) -> Prepared {
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
            return Prepared::Undecodable(msg, FailureReason::Decode(e.kind), Error::from(e));
        }
    };
    let vc = if is_vc_encounter(&decoded.encounter) {
        VcEncounter::from_encounter(&decoded.encounter).ok()
    } else {
        None
    };
    if vc.is_none() && p.opts.filter == Filter::VcOnly {
        m.c().filtered.fetch_add(1, Relaxed);
        return Prepared::Skipped;
    }
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
                    return Prepared::Skipped;
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
    Prepared::Event(event, claim)
}

pub(crate) async fn process(
    p: &Pipeline,
    store: &dyn SourceHandle,
    msg: SourceMessage,
    cancel: &mut watch::Receiver<bool>,
    progress: &Progress,
) -> Flow {
    let (event, claim) = match prepare(p, msg) {
        Prepared::Event(event, claim) => (event, claim),
        Prepared::Skipped => return Flow::Continue,
        Prepared::Undecodable(msg, reason, error) => {
            progress.store(p, store);
            dispose(p, store, msg, reason, error, 0).await;
            return Flow::Continue;
        }
    };
    let m = &p.metrics;

    let mut attempts = 0u32;
    progress.store_if_due(p, store);
    let mut first_attempt = None;
    let last = loop {
        attempts += 1;
        let started = Instant::now();
        let first_attempt = *first_attempt.get_or_insert(started);
        let outcome = attempt(p, event.clone(), cancel).await;
        let permanent = match &outcome {
            Attempt::Abandoned => return Flow::Stop,
            Attempt::Ok => {
                m.handler_latency(started.elapsed());
                m.c().handled.fetch_add(1, Relaxed);
                if let Some(g) = claim {
                    g.complete();
                }
                return Flow::Continue;
            }
            Attempt::Failed(e) => e.downcast_ref::<Permanent>().is_some(),
            Attempt::Panicked(_) | Attempt::TimedOut(_) => false,
        };
        m.handler_latency(started.elapsed());
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
        // Not reached: these return above.
        Attempt::Ok => return Flow::Continue,
        Attempt::Abandoned => return Flow::Stop,
    };
    if let Some(g) = claim {
        g.complete();
    }
    let msg = event.message().clone();
    drop(event);
    progress.store(p, store);
    dispose(p, store, msg, reason, error, attempts).await;
    Flow::Continue
}

/// One handler call (or one hand-over to the queue and its answer), with the optional time
/// bound.
async fn attempt(
    p: &Pipeline,
    event: EncounterEvent,
    cancel: &mut watch::Receiver<bool>,
) -> Attempt {
    let call = async {
        match &p.target {
            Target::Handler(h) => call(h, event).await,
            Target::Queue(q) => match q.offer(event, cancel).await {
                Some(Ok(())) => Attempt::Ok,
                Some(Err(e)) => Attempt::Failed(e),
                None => Attempt::Abandoned,
            },
        }
    };
    match p.opts.handler_timeout {
        Some(t) => tokio::time::timeout(t, call)
            .await
            .unwrap_or(Attempt::TimedOut(t)),
        None => call.await,
    }
}

/// A push handler's call, with panics caught.
async fn call(h: &Arc<dyn Handler>, event: EncounterEvent) -> Attempt {
    let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| h.handle(event))) {
        Ok(f) => f,
        Err(panic) => return Attempt::Panicked(panic_text(&*panic)),
    };
    match AssertUnwindSafe(fut).catch_unwind().await {
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

/// A record that failed for good: to the dead-letter topic (if any) and to the error
/// callback; the caller then marks it finished so the partition moves on.
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

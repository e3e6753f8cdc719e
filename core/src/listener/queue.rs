//! The listener in pull form: a [`Queue`] the caller takes events from and answers, for hosts
//! that want their own loop (a Python `async for`, a Node `for await`, a C poller) instead of
//! a handler the listener calls.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::event::{Coordinates, EncounterEvent};
use super::handler::{HandlerError, HandlerResult, Permanent};
use super::runner::{copy_error, Listener};
use super::worker::cancelled;
use crate::{Error, ErrorKind};

/// After a batch's first event, how long [`Queue::next_batch`] waits for each further one
/// before it returns what it has: long enough for the events the partition workers are
/// decoding right now, short enough not to delay a batch that is complete.
pub const BATCH_LINGER: Duration = Duration::from_millis(5);

// A delivery's hand-over state: the worker withdraws an event nobody took when it stops, and
// a puller skips an event the worker withdrew; whichever comes first wins.
const QUEUED: u8 = 0;
const TAKEN: u8 = 1;
const WITHDRAWN: u8 = 2;

/// The channel between the partition workers and the pullers. The pipeline holds it too, so
/// the sending side never fails while the listener lives.
pub(crate) struct Channel {
    tx: mpsc::UnboundedSender<Delivery>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Delivery>>,
}

impl Channel {
    pub(crate) fn new() -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            tx,
            rx: tokio::sync::Mutex::new(rx),
        })
    }

    /// Hands `event` to a puller and waits for its answer. `None`: abandoned because the
    /// worker is stopping (nobody took the event, or the taker dropped it unanswered): the
    /// record is not stored and comes back later. Dropped unanswered while the worker runs,
    /// it is a failed attempt (retried per the listener's policy).
    pub(crate) async fn offer(
        &self,
        event: EncounterEvent,
        cancel: &mut watch::Receiver<bool>,
    ) -> Option<HandlerResult> {
        let state = Arc::new(AtomicU8::new(QUEUED));
        let (reply, mut answer) = oneshot::channel();
        let delivery = Delivery {
            event,
            reply,
            state: state.clone(),
        };
        if self.tx.send(delivery).is_err() {
            return None; // not reached: `self` holds the receiver
        }
        tokio::select! {
            biased;
            a = &mut answer => return answered(a, cancel),
            _ = cancelled(cancel) => {}
        }
        if state
            .compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return None;
        }
        // Taken: a handler call in flight, which a stop lets finish (up to the drain timeout).
        answered(answer.await, cancel)
    }

    /// The next live delivery (skipping those the workers gave up on); `None` never happens
    /// while the listener lives.
    async fn take(&self) -> Option<Delivery> {
        let mut rx = self.rx.lock().await;
        loop {
            let d = rx.recv().await?;
            let claimed = d
                .state
                .compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
            if claimed && !d.reply.is_closed() {
                return Some(d);
            }
        }
    }
}

fn answered(
    a: Result<HandlerResult, oneshot::error::RecvError>,
    cancel: &watch::Receiver<bool>,
) -> Option<HandlerResult> {
    match a {
        Ok(result) => Some(result),
        Err(_) if *cancel.borrow() => None,
        Err(_) => Some(Err(Box::new(Dropped))),
    }
}

/// The failure a delivery dropped without an answer counts as.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the event was dropped without an answer (ack or fail it)")
    }
}

impl std::error::Error for Dropped {}

/// One event taken from a [`Queue`], to be answered exactly once: [`ack`](Self::ack) once its
/// effects are durable (only then is its offset stored), [`fail`](Self::fail) (retried per
/// the listener's [`RetryPolicy`](super::RetryPolicy), then dead-lettered or reported, like a
/// handler's error) or [`fail_permanent`](Self::fail_permanent) (no retries).
///
/// **Dropped unanswered**, it counts as a failed attempt ("dropped without an answer"): the
/// listener retries it per its policy (the event comes out of the queue again) and, when
/// every attempt is dropped or fails, dead-letters or reports it like any failure; its offset
/// is never stored as handled. While the listener is stopping (or its partition is revoked),
/// a dropped delivery is abandoned instead: not stored, not dead-lettered, redelivered after
/// the restart (or to the partition's next owner).
pub struct Delivery {
    event: EncounterEvent,
    reply: oneshot::Sender<HandlerResult>,
    state: Arc<AtomicU8>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("event", &self.event)
            .field("abandoned", &self.is_abandoned())
            .finish()
    }
}

impl Delivery {
    /// The event.
    pub fn event(&self) -> &EncounterEvent {
        &self.event
    }

    /// Where the record came from.
    pub fn coordinates(&self) -> &Coordinates {
        self.event.coordinates()
    }

    /// Whether the listener gave up waiting for the answer (it stopped and the drain timeout
    /// passed, or the handler timeout passed): answering then returns [`ErrorKind::Closed`].
    pub fn is_abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    /// The event's effects are durable: its offset may be stored (once every earlier record
    /// of its partition is finished too).
    pub fn ack(self) -> Result<(), Error> {
        self.answer(Ok(()))
    }

    /// Handling failed: retried per the listener's policy, then dead-lettered or reported.
    pub fn fail(self, error: impl Into<HandlerError>) -> Result<(), Error> {
        self.answer(Err(error.into()))
    }

    /// Handling failed and trying again cannot help: dead-lettered or reported at once.
    pub fn fail_permanent(self, error: impl Into<HandlerError>) -> Result<(), Error> {
        self.answer(Err(Box::new(Permanent::new(error))))
    }

    /// Answers with a handler's result (an error wrapped in [`Permanent`] skips the retries).
    ///
    /// [`ErrorKind::Closed`] when the listener gave up on the event meanwhile (see
    /// [`is_abandoned`](Self::is_abandoned)); the answer is then ignored and the record comes
    /// back (a retry, or a redelivery after the restart).
    pub fn answer(self, result: HandlerResult) -> Result<(), Error> {
        self.reply.send(result).map_err(|_| {
            Error::new(
                ErrorKind::Closed,
                "the listener gave up on this event (it stopped, its partition was revoked, or the handler timeout passed); the record comes back later",
            )
        })
    }
}

/// The run of a queue's listener, shared with the task that runs it.
struct Life {
    started: AtomicBool,
    /// Set once the run ended (or will never start).
    ended: watch::Sender<bool>,
    /// The run's error, when it ended with one.
    error: Mutex<Option<Error>>,
}

impl Life {
    fn error(&self) -> MutexGuard<'_, Option<Error>> {
        // Set once, read by copying: a poisoned lock still holds consistent data.
        self.error.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Marks the run ended when the run task finishes, panics or is dropped with its runtime.
struct EndOnDrop(Arc<Life>);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.0.ended.send_replace(true);
    }
}

struct Inner {
    listener: Arc<Listener>,
    channel: Arc<Channel>,
    life: Arc<Life>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Nobody can pull any more: stop, so unanswered events are not waited for forever.
        self.listener.shutdown();
    }
}

/// A listener in pull form: built by
/// [`ListenerBuilder::build_queue`](super::ListenerBuilder::build_queue), it runs the listener
/// in the background (started by the first [`next`](Self::next) or by
/// [`start`](Self::start)) and hands out each event as a [`Delivery`] to answer.
///
/// Semantics are the handler's: an offset is stored only after its event was acknowledged,
/// in partition order; a failure goes through the retry policy, then the dead-letter topic
/// or the error callback, and the partition moves on; unanswered events are redelivered.
/// With [`max_in_flight_per_partition`](super::ListenerBuilder::max_in_flight_per_partition)
/// at 1 (the default), the next event of a partition comes out once the previous one is
/// answered; [`next_batch`](Self::next_batch) raises it so a batch can hold many events of one
/// partition (their offsets are stored up to the first one not yet acknowledged).
///
/// Clones share the queue: several tasks or threads may pull at once. Dropping the last
/// clone requests the stop; [`close`](Self::close) it to commit and leave the group.
///
/// ```
/// use std::time::Duration;
/// use hie_vc::listener::{Listener, MemoryBroker, MemoryRecord};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), hie_vc::Error> {
/// let broker = MemoryBroker::new();
/// let encounter = r#"{"resourceType":"Encounter","id":"e1","status":"arrived",
///   "class":{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR"}}"#;
/// broker.send("vc-encounters", MemoryRecord::new(encounter))?;
///
/// let queue = Listener::builder()
///     .memory(&broker, "clinic-a", ["vc-encounters"])
///     .build_queue()?;
/// while let Some(delivery) = queue.next(Some(Duration::from_millis(500))).await? {
///     assert_eq!(delivery.event().encounter_id(), Some("e1"));
///     delivery.ack()?; // or delivery.fail(error): retried, then dead-lettered
/// }
/// queue.close().await?;
/// assert_eq!(broker.committed("clinic-a", "vc-encounters", 0), Some(1));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("listener", &self.inner.listener)
            .field("running", &self.is_running())
            .finish()
    }
}

impl Queue {
    pub(crate) fn new(listener: Listener, channel: Arc<Channel>) -> Self {
        Self {
            inner: Arc::new(Inner {
                listener: Arc::new(listener),
                channel,
                life: Arc::new(Life {
                    started: AtomicBool::new(false),
                    ended: watch::channel(false).0,
                    error: Mutex::new(None),
                }),
            }),
        }
    }

    /// The listener: metrics, dedupe store, shutdown handle. Do not `run` it yourself: the
    /// queue runs it (a second run fails with [`ErrorKind::InvalidInput`]).
    pub fn listener(&self) -> &Listener {
        &self.inner.listener
    }

    /// Starts the listener in the background on the current tokio runtime (the first
    /// [`next`](Self::next) does it too). Idempotent. [`ErrorKind::InvalidInput`] outside a
    /// tokio runtime.
    pub fn start(&self) -> Result<(), Error> {
        let life = &self.inner.life;
        if life.started.load(Ordering::Acquire) {
            return Ok(());
        }
        let rt = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                "a queue's listener runs on a tokio runtime: start it from within one",
            )
        })?;
        if life.started.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let listener = self.inner.listener.clone();
        let ended = EndOnDrop(life.clone());
        rt.spawn(async move {
            if let Err(e) = listener.run().await {
                *ended.0.error() = Some(e);
            }
            drop(ended);
        });
        Ok(())
    }

    /// Whether the listener is running: started, no stop requested, and the run not ended.
    pub fn is_running(&self) -> bool {
        let life = &self.inner.life;
        life.started.load(Ordering::Acquire)
            && !*life.ended.borrow()
            && !self.inner.listener.shutdown_handle().is_shutdown()
    }

    /// The next event, waiting up to `timeout` (`None`: until one comes or the listener
    /// stops). Starts the listener on first use.
    ///
    /// `Ok(None)` when the timeout passed. Once a stop was requested or the run ended:
    /// the run's own error when it ended with one (e.g. [`ErrorKind::Unauthorized`]: Kafka
    /// refused the credentials), else [`ErrorKind::Closed`]. Cancel-safe: an event is handed
    /// out only when this returns it.
    pub async fn next(&self, timeout: Option<Duration>) -> Result<Option<Delivery>, Error> {
        self.start()?;
        let mut stop = self.inner.listener.shutdown_handle().subscribe();
        let mut ended = self.inner.life.ended.subscribe();
        let deadline = async {
            match timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => Err(self.ended_error()),
            _ = ended.wait_for(|e| *e) => Err(self.ended_error()),
            d = self.inner.channel.take() => d.map(Some).ok_or_else(|| self.ended_error()),
            _ = deadline => Ok(None),
        }
    }

    /// Up to `max` events: waits up to `timeout` for the first (an empty batch when none
    /// came), then takes those that follow within [`BATCH_LINGER`] of each other, until
    /// `max`. Events of one partition come in offset order.
    ///
    /// Raises the listener's in-flight limit per partition to `max` (it never goes down
    /// again), so one partition can fill a batch: its offsets are stored up to the first
    /// event not yet acknowledged, whatever order the batch is answered in. Errors as
    /// [`next`](Self::next) (a batch already begun is returned first; the error comes with
    /// the next call); [`ErrorKind::InvalidInput`] for `max` 0.
    pub async fn next_batch(&self, max: usize, timeout: Duration) -> Result<Vec<Delivery>, Error> {
        if max == 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a batch holds at least one event: max must be above 0",
            ));
        }
        self.inner.listener.pipeline.raise_in_flight(max);
        let Some(first) = self.next(Some(timeout)).await? else {
            return Ok(Vec::new());
        };
        let mut batch = vec![first];
        while batch.len() < max {
            match self.next(Some(BATCH_LINGER)).await {
                Ok(Some(d)) => batch.push(d),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(batch)
    }

    /// Requests the stop without waiting (e.g. from a signal handler); pullers return at once.
    pub fn shutdown(&self) {
        self.inner.listener.shutdown();
    }

    /// Stops: no new events; those handed out and not answered yet may still be answered
    /// until the listener's drain timeout, then they are abandoned (redelivered later).
    /// Returns once the run ended, with the run's error when it ended with one. Idempotent.
    pub async fn stop(&self) -> Result<(), Error> {
        let life = &self.inner.life;
        self.inner.listener.shutdown();
        if !life.started.swap(true, Ordering::AcqRel) {
            // Never started: there is no run to wait for.
            life.ended.send_replace(true);
        }
        let _ = life.ended.subscribe().wait_for(|e| *e).await;
        match life.error().as_ref() {
            Some(e) => Err(copy_error(e)),
            None => Ok(()),
        }
    }

    /// [`stop`](Self::stop)s, then commits the stored offsets and leaves the consumer group
    /// ([`Listener::close`]). The run's error comes first when it ended with one. Idempotent.
    pub async fn close(&self) -> Result<(), Error> {
        let stopped = self.stop().await;
        let closed = self.inner.listener.close().await;
        stopped.and(closed)
    }

    fn ended_error(&self) -> Error {
        match self.inner.life.error().as_ref() {
            Some(e) => copy_error(e),
            None => Error::new(
                ErrorKind::Closed,
                "the listener is stopped: create a new one to listen again",
            ),
        }
    }
}

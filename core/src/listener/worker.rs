//! One worker ("lane") per partition: decode → filter → dedupe → handler (with retries) →
//! store the offset. A lane runs up to
//! [`max_in_flight_per_partition`](super::ListenerOptions::max_in_flight_per_partition)
//! records at once (default 1: one after the other) and stores offsets strictly in partition
//! order: only the longest prefix of finished records is stored, so a record's offset is
//! stored only once it and every record before it were handled, dead-lettered or reported.
//!
//! A lane is told to stop (shutdown, or its partition was revoked) through a watch flag: it
//! lets the handler calls in flight finish and stores their offsets, abandons retry waits, and
//! drops the records it has not started — the group redelivers them.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::stream::{FuturesOrdered, StreamExt};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

use super::dedupe::Dedupe;
use super::event::{Coordinates, SourceMessage};
use super::handler::{Disposition, ErrorCallback, Failure, FailureReason, Handler};
use super::metrics::Metrics;
use super::options::ListenerOptions;
use super::process::{process, Flow};
use super::queue::Channel;
use super::source::SourceHandle;
use crate::fhir::{ReadMode, ReadOptions};

/// How long a handled record's offset may wait before it is stored (stores are batched:
/// one librdkafka call per batch instead of per record).
const STORE_EVERY: Duration = Duration::from_millis(100);

/// Where events go.
pub(crate) enum Target {
    /// A push handler, called by the lanes.
    Handler(Arc<dyn Handler>),
    /// A [`Queue`](super::Queue) that callers pull from and answer.
    Queue(Arc<Channel>),
}

/// What every worker of a listener shares.
pub(crate) struct Pipeline {
    pub opts: ListenerOptions,
    pub target: Target,
    pub on_error: ErrorCallback,
    pub dedupe: Option<Dedupe>,
    pub metrics: Metrics,
    /// Bytes (in KiB permits) of records handed to workers and not finished yet.
    pub budget: Arc<Semaphore>,
    /// The budget's size in permits.
    pub budget_total: u32,
    /// Records a lane may run at once: the option's value, raised by a queue's batch mode
    /// (lanes read it before starting each record, so a raise applies at once).
    pub in_flight: AtomicUsize,
}

impl Pipeline {
    pub fn read_options(&self) -> ReadOptions {
        match self.opts.read_mode {
            ReadMode::Strict => ReadOptions::strict(),
            ReadMode::Lenient => ReadOptions::lenient(),
        }
    }
    fn in_flight_limit(&self) -> usize {
        self.in_flight.load(Relaxed).max(1)
    }
    /// Lets lanes run at least `n` records at once.
    pub fn raise_in_flight(&self, n: usize) {
        self.in_flight.fetch_max(n, Relaxed);
    }
}

/// The permits (KiB, at least 1) a record holds in the in-flight budget.
pub(crate) fn permits(m: &SourceMessage) -> u32 {
    u32::try_from(m.len() / 1024 + 1).unwrap_or(u32::MAX)
}

/// Records handed to a worker. Each record taken carries its budget permits (returned when it
/// is finished or dropped); what is left untaken returns them when the work is dropped (a
/// stopped or aborted worker).
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
    fn take(&mut self) -> Option<(SourceMessage, Held)> {
        let m = self.messages.next()?;
        let n = permits(&m).min(self.held);
        self.held -= n;
        let held = Held {
            budget: self.budget.clone(),
            n,
        };
        Some((m, held))
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        self.budget.add_permits(self.held as usize);
    }
}

/// One record's share of the budget, returned when dropped.
struct Held {
    budget: Arc<Semaphore>,
    n: u32,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.add_permits(self.n as usize);
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

/// Stops workers: each finishes its handler calls in flight (stored), within `timeout` in all;
/// workers still busy then are aborted (their records are not stored and will be redelivered).
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

/// Resolves once the worker is told to stop.
pub(crate) async fn cancelled(rx: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = rx.wait_for(|c| *c).await;
}

/// One record through `process`, returning its coordinates with the outcome; its budget
/// share is returned when it is finished (or dropped with the lane).
async fn track(
    p: &Pipeline,
    store: &dyn SourceHandle,
    msg: SourceMessage,
    held: Held,
    mut cancel: watch::Receiver<bool>,
    progress: &Progress,
) -> (Coordinates, Flow) {
    let at = msg.coordinates.clone();
    let flow = process(p, store, msg, &mut cancel, progress).await;
    drop(held);
    (at, flow)
}

async fn run_lane(
    p: Arc<Pipeline>,
    store: Arc<dyn SourceHandle>,
    mut rx: mpsc::UnboundedReceiver<Work>,
    mut cancel: watch::Receiver<bool>,
) {
    let progress = Progress::new();
    // Records started, in offset order; `FuturesOrdered` yields their outcomes in that order,
    // so what is marked finished is always a prefix of the partition.
    let mut flight = FuturesOrdered::new();
    let mut work: Option<Work> = None;
    // Told to stop, or a record was left unfinished: start nothing more.
    let mut stopping = false;
    // A record was left unfinished: nothing after it may be stored.
    let mut broken = false;
    // The channel closed: finish what was handed over, then end.
    let mut ended = false;
    // When the pending offset is due to be stored. One timer, moved only when that time
    // changes (once per store), not a new one per record: registering a timer takes the
    // runtime's timer lock.
    let timer = tokio::time::sleep(STORE_EVERY);
    tokio::pin!(timer);
    let mut armed: Option<tokio::time::Instant> = None;
    loop {
        if *cancel.borrow() {
            stopping = true;
        }
        while !stopping && flight.len() < p.in_flight_limit() {
            match work.as_mut().and_then(Work::take) {
                Some((msg, held)) => {
                    // Boxed: the set moves what it is given (into its task node), and a
                    // pointer is cheaper to move than the record's whole future.
                    flight.push_back(Box::pin(track(
                        &p,
                        &*store,
                        msg,
                        held,
                        cancel.clone(),
                        &progress,
                    )));
                }
                None => match rx.try_recv() {
                    Ok(w) => work = Some(w),
                    Err(_) => {
                        work = None;
                        break;
                    }
                },
            }
        }
        if flight.is_empty() {
            // Idle (or done): store now rather than when due.
            progress.store(&p, &*store);
            if stopping || ended {
                break;
            }
            tokio::select! {
                biased;
                _ = cancelled(&mut cancel) => stopping = true,
                w = rx.recv() => match w {
                    Some(w) => work = Some(w),
                    None => ended = true,
                },
            }
            continue;
        }
        let room = !stopping && !ended && work.is_none() && flight.len() < p.in_flight_limit();
        let due = progress.due();
        if let Some(at) = due {
            if armed != Some(at) {
                timer.as_mut().reset(at);
                armed = Some(at);
            }
        }
        tokio::select! {
            biased;
            Some((at, flow)) = flight.next() => match flow {
                Flow::Continue if !broken => {
                    progress.finished(at);
                    if stopping {
                        // The drain may be cut short: store what is finished at once.
                        progress.store(&p, &*store);
                    } else {
                        progress.store_if_due(&p, &*store);
                    }
                }
                Flow::Continue => {}
                Flow::Stop => {
                    broken = true;
                    stopping = true;
                }
            },
            _ = cancelled(&mut cancel), if !stopping => {
                stopping = true;
                progress.store(&p, &*store);
            }
            w = rx.recv(), if room => match w {
                Some(w) => work = Some(w),
                None => ended = true,
            },
            _ = &mut timer, if due.is_some() => {
                progress.store(&p, &*store);
            }
        }
    }
    drop(flight);
    drop(work);
    progress.store(&p, &*store);
}

/// The newest record of a worker whose offset may be stored (it and everything before it are
/// finished) and is not stored yet. Shared by the lane (which marks records finished, in
/// order) and its records in flight (which store what is pending before a slow step, so a
/// slow handler does not hold back earlier records' offsets).
pub(crate) struct Progress {
    inner: Mutex<ProgressInner>,
}

struct ProgressInner {
    pending: Option<Coordinates>,
    last_store: Instant,
}

impl Progress {
    fn new() -> Self {
        Self {
            inner: Mutex::new(ProgressInner {
                pending: None,
                last_store: Instant::now(),
            }),
        }
    }
    fn lock(&self) -> MutexGuard<'_, ProgressInner> {
        // Only this lane's task takes it, never across an await: poisoning cannot leave it
        // half-updated.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn finished(&self, c: Coordinates) {
        self.lock().pending = Some(c);
    }
    /// When the pending offset is due to be stored (`None`: nothing pending).
    fn due(&self) -> Option<tokio::time::Instant> {
        let g = self.lock();
        g.pending.as_ref()?;
        Some(tokio::time::Instant::from_std(g.last_store + STORE_EVERY))
    }
    /// Stores the pending offset; a failure is reported, not fatal (the record is redelivered
    /// at worst).
    pub fn store(&self, p: &Pipeline, store: &dyn SourceHandle) {
        let mut g = self.lock();
        g.last_store = Instant::now();
        let Some(at) = g.pending.take() else {
            return;
        };
        // Stored under the lock so two stores of one lane cannot overtake each other.
        if let Err(error) = store.store(&at) {
            drop(g);
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
    /// Stores if the pending offset has waited long enough.
    pub fn store_if_due(&self, p: &Pipeline, store: &dyn SourceHandle) {
        let due = {
            let g = self.lock();
            g.pending.is_some() && g.last_store.elapsed() >= STORE_EVERY
        };
        if due {
            self.store(p, store);
        }
    }
}

/// Calls the error callback; a panicking callback is contained (and logged).
pub(crate) fn report(p: &Pipeline, f: Failure) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (p.on_error)(&f))).is_err() {
        tracing::error!(target: "hie_vc::listener", reason = %f.reason, "the error callback panicked");
    }
}

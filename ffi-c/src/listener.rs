//! `hievc_listener`: the Encounter listener (Kafka, or an in-memory broker), delivering each
//! VC Encounter to a C callback on the listener's own thread, or to `hievc_listener_poll` for
//! hosts that prefer their own threads (events: `event.rs`; the in-memory broker: `broker.rs`).

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::Duration;

use futures::FutureExt;
use hie_vc::listener::{
    Delivery, Failure as ListenerFailure, Listener, ListenerBuilder, ListenerOptions, ListenerSpec,
    Queue,
};
use hie_vc::vc::ArrivalHandler;
use tokio::sync::mpsc;

use crate::broker::hievc_memory_broker;
use crate::config::settings_of;
use crate::error::Failure;
use crate::event::hievc_encounter_event;
use crate::fhir::parse_opts;
use crate::guard::{arg_out, arg_ref, guard, guard_value, lock, opt_out, opt_str, write_handle};
use crate::json::write_json;
use crate::runtime::{self, block_on};
use crate::status::hievc_status::{self, *};
use crate::{hievc_config, hievc_error};

/// Called once per Encounter: return 0 once its effects are durable (the offset is then
/// stored); a positive value fails the attempt (retried per the listener's retry policy, then
/// dead-lettered or reported to the error callback); a negative value fails it permanently
/// (no retries). `ev` and every string it gives are valid only during the call: copy what you
/// keep, or take an owned copy with `hievc_event_clone`.
pub type hievc_encounter_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, ev: *const hievc_encounter_event) -> c_int>;

/// Called for every record that failed for good (undecodable payload, callback failing on
/// every attempt, ...) and every source problem (broker unreachable, ...), with a JSON object
/// `{"reason", "kind", "message", "location", "topic", "partition", "offset", "attempts",
/// "disposition", "deadLetterTopic"}` valid only during the call. Must return quickly.
pub type hievc_failure_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, failure_json: *const c_char)>;

/// Called by `hievc_listener_start_vc` after each VC session it started, with the JSON
/// `hievc_vc_start` returns (valid only during the call; it holds the practitioner's join URL
/// and token: credentials).
pub type hievc_started_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, started_json: *const c_char)>;

/// A host pointer handed back to a callback; the host promises it may be used from the
/// listener's thread (documented contract).
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: the pointer is only handed back to the host's callback; the host guarantees it may
// be used from the listener thread (documented in the header).
unsafe impl Send for UserData {}

thread_local! {
    static ON_CALLBACK_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is a listener thread of this library (where blocking library
/// calls that wait for that same thread would deadlock).
pub(crate) fn on_callback_thread() -> bool {
    ON_CALLBACK_THREAD.with(Cell::get)
}

/// Work for the listener thread (besides, in callback mode, the events it pulls).
enum Job {
    Failure(CString),
    Started(CString),
    Quit,
}

/// How events are consumed; every mode pulls from the core listener's queue, which keeps the
/// delivery semantics (answers, retries, dead letters, the stop) in one place.
enum Mode {
    /// The listener thread pulls and calls the host callback.
    Callback,
    /// A task pulls and runs the VC arrival handler on each event.
    Vc,
    /// Host threads pull with `hievc_listener_poll`.
    Pull,
}

/// What the core listener's error callback and the C-facing object share.
struct Dispatch {
    mode: OnceLock<Mode>,
    jobs: OnceLock<mpsc::UnboundedSender<Job>>,
    on_error: Mutex<Option<(JsonFn, UserData)>>,
}

impl Dispatch {
    fn report(&self, f: &ListenerFailure) {
        if lock(&self.on_error).is_none() {
            return;
        }
        if let (Some(jobs), Ok(text)) = (self.jobs.get(), crate::json::to_cstring(f)) {
            let _ = jobs.send(Job::Failure(text));
        }
    }
}

struct State {
    started: bool,
    closed: bool,
    thread: Option<JoinHandle<()>>,
    thread_id: Option<ThreadId>,
}

/// An Encounter listener. Thread-safe: every function may be called from any host thread.
///
/// Lifecycle: `hievc_listener_new` / `hievc_listener_new_memory` → optional
/// `hievc_listener_set_error_callback` → `hievc_listener_start` (callback) or
/// `hievc_listener_poll` (pull) → `hievc_listener_stop` → `hievc_listener_close` →
/// `hievc_listener_free`. A stopped listener cannot be restarted: close it and create another.
pub struct hievc_listener {
    queue: Queue,
    dispatch: Arc<Dispatch>,
    state: Mutex<State>,
}

impl fmt::Debug for hievc_listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.queue.fmt(f)
    }
}

fn build(
    options: ListenerOptions,
    source: impl FnOnce(ListenerBuilder) -> Result<ListenerBuilder, Failure>,
) -> Result<hievc_listener, Failure> {
    let dispatch = Arc::new(Dispatch {
        mode: OnceLock::new(),
        jobs: OnceLock::new(),
        on_error: Mutex::new(None),
    });
    let for_errors = dispatch.clone();
    let builder = Listener::builder()
        .options(options)
        .on_error(move |f| for_errors.report(f));
    let builder = source(builder)?;
    // librdkafka and the in-memory source register with the runtime when built.
    let handle = runtime::handle()?;
    let _enter = handle.enter();
    let queue = builder.build_queue()?;
    Ok(hievc_listener {
        queue,
        dispatch,
        state: Mutex::new(State {
            started: false,
            closed: false,
            thread: None,
            thread_id: None,
        }),
    })
}

/// The options JSON: core's [`ListenerSpec`] (every key optional, unknown ones refused).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives the call.
unsafe fn listener_spec(p: *const c_char) -> Result<ListenerSpec, Failure> {
    // SAFETY: forwarded contract.
    parse_opts(unsafe { opt_str(p, "options_json") }?, "options_json")
}

/// A Kafka listener with the `[kafka]` settings of `cfg` (`kafka.bootstrap` and
/// `kafka.topics` are required; `kafka.group` defaults to `hie-vc`). Nothing connects until it
/// is started. `HIEVC_CONFIG` when a setting is missing or wrong.
///
/// `options_json` (NULL for the defaults), every key optional: `format` (`auto` |
/// `encounter` | `bundle` | `envelope:<json-pointer>`), `filter` (`vc_only` | `all`),
/// `read_mode` (`strict` | `lenient`), `max_message_bytes`, `dedupe` (bool),
/// `dedupe_max_entries`, `dedupe_ttl_ms`, `max_retries`, `initial_backoff_ms`,
/// `max_backoff_ms` (callback retries), `handler_timeout_ms`, `dead_letter_topic` (default
/// `kafka.dead_letter_topic`), `drain_timeout_ms`, `close_timeout_ms`, `metrics_interval_ms`
/// (0: off), `start_from` (`earliest` | `latest`), `client_id`, `statistics_interval_ms`,
/// `properties` (librdkafka properties, applied last).
///
/// # Safety
/// `cfg` is a live config; `options_json` NULL or a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_new(
    cfg: *const hievc_config,
    options_json: *const c_char,
    out: *mut *mut hievc_listener,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let cfg = unsafe { arg_ref(cfg, "cfg") }?;
        // SAFETY: caller contract.
        let opts = unsafe { listener_spec(options_json) }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let settings = cfg.snapshot();
        let kafka = opts.kafka_config(&settings)?;
        let l = build(opts.listener_options(&settings), |b| Ok(b.kafka(kafka)))?;
        write_handle(out, l);
        Ok(())
    })
}

/// A listener reading `kafka.topics` of an in-memory broker as consumer group `kafka.group`
/// (default `hie-vc`), both from `cfg` (NULL: the defaults; other `[kafka]` settings are
/// ignored). Same semantics as Kafka: offsets per group, at-least-once. `options_json` as
/// `hievc_listener_new` (the Kafka-only keys are ignored).
///
/// # Safety
/// `cfg` NULL or live; `broker` live; `options_json` NULL or a NUL-terminated string; `out`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_new_memory(
    cfg: *const hievc_config,
    broker: *const hievc_memory_broker,
    options_json: *const c_char,
    out: *mut *mut hievc_listener,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let broker = unsafe { arg_ref(broker, "broker") }?;
        // SAFETY: caller contract.
        let opts = unsafe { listener_spec(options_json) }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let settings = unsafe { settings_of(cfg) };
        if settings.kafka.topics.is_empty() {
            return Err(Failure::from(hie_vc::Error::config(
                "kafka.topics is empty: name at least one topic",
            )));
        }
        let group = settings
            .kafka
            .group
            .clone()
            .unwrap_or_else(|| "hie-vc".to_owned());
        let source = broker
            .broker
            .source(&group, settings.kafka.topics.clone())
            .start_from(opts.start_from.unwrap_or_default());
        let l = build(opts.listener_options(&settings), |b| Ok(b.source(source)))?;
        write_handle(out, l);
        Ok(())
    })
}

/// Sets the error callback (see `hievc_failure_cb`); before start only
/// (`HIEVC_INVALID_STATE` after). It runs on the listener's thread, like the Encounter
/// callback. Without one, failures are logged through the library's `tracing` output only.
///
/// # Safety
/// `listener` is live; `userdata` must be usable from the listener's thread.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_set_error_callback(
    listener: *const hievc_listener,
    callback: hievc_failure_cb,
    userdata: *mut c_void,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let l = unsafe { arg_ref(listener, "listener") }?;
        let cb = callback.ok_or_else(|| Failure::null("callback"))?;
        let state = lock(&l.state);
        if state.closed {
            return Err(closed());
        }
        if state.started {
            return Err(Failure::state(
                "the error callback must be set before the listener starts",
            ));
        }
        *lock(&l.dispatch.on_error) = Some((cb, UserData(userdata)));
        Ok(())
    })
}

pub(crate) fn closed() -> Failure {
    Failure::from(hie_vc::Error::new(
        hie_vc::ErrorKind::Closed,
        "the listener is closed (or stopped): create a new one",
    ))
}

impl hievc_listener {
    /// Starts the listener thread and the run task. Called with the state locked.
    fn start(
        &self,
        state: &mut State,
        mode: Mode,
        callbacks: HostCallbacks,
    ) -> Result<(), Failure> {
        if state.closed || self.queue.listener().shutdown_handle().is_shutdown() {
            return Err(closed());
        }
        if state.started {
            return Err(Failure::state("the listener is already started"));
        }
        let handle = runtime::handle()?;
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel::<Job>();
        let callbacks = HostCallbacks {
            failure: *lock(&self.dispatch.on_error),
            ..callbacks
        };
        // In callback mode the listener thread pulls the events itself.
        let pulls = matches!(mode, Mode::Callback).then(|| self.queue.clone());
        // Before the thread exists: its first pull starts the run, and the run's failures (a
        // poison record is reported at once) go through this channel — set later, they were
        // dropped.
        let _ = self.dispatch.jobs.set(jobs_tx);
        let _ = self.dispatch.mode.set(mode);
        let thread = thread::Builder::new()
            .name("hievc-listener".to_owned())
            .spawn(move || listener_thread(jobs_rx, callbacks, pulls))
            .map_err(|e| {
                Failure::new(
                    HIEVC_TRANSPORT,
                    format!("could not start the listener thread: {e}"),
                )
            })?;
        state.thread_id = Some(thread.thread().id());
        state.thread = Some(thread);
        let _enter = handle.enter();
        self.queue.start()?;
        state.started = true;
        Ok(())
    }

    fn on_own_thread(&self) -> bool {
        lock(&self.state).thread_id == Some(thread::current().id())
    }

    /// Requests the stop and waits for the run to end (in-flight callbacks finish first;
    /// events nobody took are not waited for: they are redelivered later).
    fn stop(&self) -> Result<(), Failure> {
        self.queue.shutdown();
        if self.on_own_thread() {
            // Waiting here would wait for this very callback: the stop is only requested.
            return Ok(());
        }
        Ok(block_on(self.queue.stop())??)
    }

    fn close(&self) -> Result<(), Failure> {
        if self.on_own_thread() {
            return Err(Failure::state(
                "a listener cannot be closed from its own callback (it would wait for itself): call hievc_listener_stop there, and close from a host thread",
            ));
        }
        if lock(&self.state).closed {
            return Ok(());
        }
        let result = block_on(self.queue.close())?;
        let thread = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.thread.take()
        };
        if let Some(jobs) = self.dispatch.jobs.get() {
            let _ = jobs.send(Job::Quit);
        }
        if let Some(t) = thread {
            let _ = t.join();
        }
        Ok(result?)
    }
}

type EncounterFn = unsafe extern "C" fn(*mut c_void, *const hievc_encounter_event) -> c_int;
type JsonFn = unsafe extern "C" fn(*mut c_void, *const c_char);

/// The host functions the listener thread calls.
#[derive(Default)]
struct HostCallbacks {
    encounter: Option<(EncounterFn, UserData)>,
    failure: Option<(JsonFn, UserData)>,
    started: Option<(JsonFn, UserData)>,
}

/// What the listener thread waits for.
enum Wake {
    Job(Option<Job>),
    Event(Result<Option<Delivery>, hie_vc::Error>),
}

/// The listener thread: runs the host's callbacks, one at a time. Host code runs outside
/// `block_on` (a callback may call blocking library functions).
fn listener_thread(
    mut jobs: mpsc::UnboundedReceiver<Job>,
    cb: HostCallbacks,
    mut pulls: Option<Queue>,
) {
    ON_CALLBACK_THREAD.with(|f| f.set(true));
    let json_call = |f: Option<(JsonFn, UserData)>, text: &CString| {
        if let Some((f, ud)) = f {
            // SAFETY: the host registered `f` for this call shape; `text` outlives the call.
            unsafe { f(ud.0, text.as_ptr()) };
        }
    };
    loop {
        let wake = block_on(async {
            match &pulls {
                // Jobs first: failures are reported before more events are taken.
                Some(queue) => tokio::select! {
                    biased;
                    job = jobs.recv() => Wake::Job(job),
                    next = queue.next(None) => Wake::Event(next),
                },
                None => Wake::Job(jobs.recv().await),
            }
        });
        match wake {
            // The runtime is gone (hievc_shutdown): nothing more will come.
            Err(_) | Ok(Wake::Job(None | Some(Job::Quit))) => break,
            Ok(Wake::Job(Some(Job::Failure(text)))) => json_call(cb.failure, &text),
            Ok(Wake::Job(Some(Job::Started(text)))) => json_call(cb.started, &text),
            Ok(Wake::Event(Ok(Some(delivery)))) => {
                let rc = match cb.encounter {
                    Some((f, ud)) => {
                        let ev = hievc_encounter_event::new(delivery.event().clone());
                        // SAFETY: the host registered `f` for exactly this call shape.
                        unsafe { f(ud.0, &ev) }
                    }
                    None => 1,
                };
                // Refused only when the listener gave up on the event meanwhile.
                let _ = crate::event::answer(delivery, rc);
            }
            Ok(Wake::Event(Ok(None))) => {}
            // Stopped or ended: keep reporting failures until told to quit.
            Ok(Wake::Event(Err(_))) => pulls = None,
        }
    }
}

/// Runs the VC arrival handler on every event of `queue`, each in its own task (one event per
/// partition is out at a time, so a partition's events are still handled in order).
async fn serve_vc(queue: Queue, handler: Arc<ArrivalHandler>) {
    while let Ok(next) = queue.next(None).await {
        let Some(delivery) = next else { continue };
        let handler = handler.clone();
        tokio::spawn(async move {
            let event = delivery.event().clone();
            let result = std::panic::AssertUnwindSafe(handler.handle_event(event))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err("the VC arrival handler panicked".into()));
            let _ = delivery.answer(result);
        });
    }
}

/// Starts delivering Encounters to `callback`, on the listener's own thread (named
/// `hievc-listener`): one call at a time, in order within each partition. The callback may
/// call any other library function (e.g. read from HIE with a `hievc_client`), and may call
/// `hievc_listener_stop` on its own listener (which then only requests the stop).
///
/// `HIEVC_INVALID_STATE` when already started (with a callback or by polling);
/// `HIEVC_CLOSED` when stopped or closed. Returns at once; connection problems arrive through
/// the error callback, and a fatal one (credentials refused) ends the run: `hievc_listener_stop`
/// returns it.
///
/// # Safety
/// `listener` is live; `userdata` must be usable from the listener's thread.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_start(
    listener: *const hievc_listener,
    callback: hievc_encounter_cb,
    userdata: *mut c_void,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let l = unsafe { arg_ref(listener, "listener") }?;
        let cb = callback.ok_or_else(|| Failure::null("callback"))?;
        let mut state = lock(&l.state);
        l.start(
            &mut state,
            Mode::Callback,
            HostCallbacks {
                encounter: Some((cb, UserData(userdata))),
                ..HostCallbacks::default()
            },
        )
    })
}

/// Starts the ready-made VC arrival handler on this listener: each arriving VC Encounter runs
/// `hievc_vc_start` with the practitioner `practitioner_json` (as for `hievc_jitsi_join`) and
/// the resources that came with it; then `on_started` (NULL: none) receives the result JSON on
/// the listener's thread. Failures that may pass (HIE, Jitsi or the Notification API
/// unavailable) are retried per the listener's policy; others (not a VC Encounter, no patient
/// id) are dead-lettered / reported to the error callback. `start` being idempotent, a
/// redelivered Encounter notifies nobody twice. The workflow may be freed after this call (the
/// listener keeps what it needs).
///
/// # Safety
/// `listener` and `vc` are live; `practitioner_json` NUL-terminated; `userdata` usable from
/// the listener's thread.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_start_vc(
    listener: *const hievc_listener,
    vc: *const crate::hievc_vc,
    practitioner_json: *const c_char,
    on_started: hievc_started_cb,
    userdata: *mut c_void,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (l, vc) = unsafe { (arg_ref(listener, "listener")?, arg_ref(vc, "vc")?) };
        let practitioner =
            unsafe { crate::jitsi::participant(practitioner_json, "practitioner_json") }?;
        let mut state = lock(&l.state);
        let weak = Arc::downgrade(&l.dispatch);
        let handler = vc
            .vc
            .arrival_handler(move |_| Some(practitioner.clone()))
            .on_started(move |started| {
                let Some(d) = weak.upgrade() else { return };
                if let (Some(jobs), Ok(text)) = (d.jobs.get(), crate::json::to_cstring(started)) {
                    let _ = jobs.send(Job::Started(text));
                }
            });
        l.start(
            &mut state,
            Mode::Vc,
            HostCallbacks {
                started: on_started.map(|f| (f, UserData(userdata))),
                ..HostCallbacks::default()
            },
        )?;
        runtime::handle()?.spawn(serve_vc(l.queue.clone(), Arc::new(handler)));
        Ok(())
    })
}

/// Pull alternative to a callback: waits up to `timeout_ms` (0: just check) for the next
/// Encounter. The first poll starts the listener in pull mode.
///
/// `HIEVC_OK` with `*event_out` set to an owned event: handle it, then answer with
/// `hievc_event_ack` (0 stores the offset; non-zero fails it as a callback's return value
/// would) and free it with `hievc_event_free`. Until answered, the next Encounter of the same
/// partition waits. `HIEVC_NO_EVENT` when the timeout passed (`*event_out` untouched);
/// `HIEVC_CLOSED` once stopped (or the run's own error when it ended with one);
/// `HIEVC_INVALID_STATE` when the listener was started with a callback. Several threads may
/// poll the same listener.
///
/// # Safety
/// `listener` is live; `event_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_poll(
    listener: *const hievc_listener,
    timeout_ms: u32,
    event_out: *mut *mut hievc_encounter_event,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let l = unsafe { arg_ref(listener, "listener") }?;
        // SAFETY: caller contract.
        let event_out = unsafe { arg_out(event_out, "event_out") }?;
        {
            let mut state = lock(&l.state);
            if state.closed {
                return Err(closed());
            }
            if !state.started {
                l.start(&mut state, Mode::Pull, HostCallbacks::default())?;
            }
        }
        if !matches!(l.dispatch.mode.get(), Some(Mode::Pull)) {
            return Err(Failure::state(
                "the listener was started with a callback: events go there, not to hievc_listener_poll",
            ));
        }
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        let delivery = block_on(l.queue.next(Some(timeout)))??
            .ok_or_else(|| Failure::new(HIEVC_NO_EVENT, "no event within the timeout"))?;
        write_handle(event_out, hievc_encounter_event::polled(delivery));
        Ok(())
    })
}

/// Stops delivering: no new Encounters are taken, callbacks in flight finish (up to
/// `listener.drain_timeout_ms`, default 10 s), and the call returns once the run ended — with
/// the run's error when it ended with one (e.g. Kafka refused the credentials). Offsets
/// stored so far are committed by `hievc_listener_close`. Idempotent.
///
/// From the listener's own callback it only requests the stop and returns at once.
///
/// # Safety
/// `listener` is live.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_stop(
    listener: *const hievc_listener,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let l = unsafe { arg_ref(listener, "listener") }?;
        l.stop()
    })
}

/// Stops (if running), commits the stored offsets and leaves the consumer group, within about
/// drain timeout + close timeout (defaults 10 s + 5 s) even with the brokers down
/// (`HIEVC_TIMEOUT` then: offsets stored since the last commit are redelivered later), and
/// ends the listener's thread. Always close a listener: it is what hands its partitions to
/// another group member at once. Idempotent: closing again returns `HIEVC_OK`.
///
/// `HIEVC_INVALID_STATE` from the listener's own callback (it would wait for itself).
///
/// # Safety
/// `listener` is live.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_close(
    listener: *const hievc_listener,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let l = unsafe { arg_ref(listener, "listener") }?;
        l.close()
    })
}

/// Whether the listener is running (started, and neither stopped nor ended by an error).
///
/// # Safety
/// `listener` is NULL (false) or live.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_is_running(listener: *const hievc_listener) -> bool {
    guard_value(false, || {
        // SAFETY: caller contract.
        match unsafe { listener.as_ref() } {
            Some(l) => lock(&l.state).started && l.queue.is_running(),
            None => false,
        }
    })
}

/// The listener's metrics as JSON: counters (`received`, `handled`, `filtered`,
/// `deduplicated`, `decodeErrors`, `handlerFailures`, `retries`, `deadLettered`, ...),
/// throughput, `handlerLatencyUs` percentiles and per-partition lag. Free `*out` with
/// `hievc_string_free`.
///
/// # Safety
/// `listener` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_metrics(
    listener: *const hievc_listener,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let l = unsafe { arg_ref(listener, "listener") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        write_json(out, &l.queue.listener().metrics())
    })
}

/// Closes (if not closed yet, ignoring errors) and frees a listener. NULL is a no-op. From the
/// listener's own callback, the close and the free finish on another thread.
///
/// # Safety
/// `listener` is NULL or a listener not freed before, not in use on other threads.
#[no_mangle]
pub unsafe extern "C" fn hievc_listener_free(listener: *mut hievc_listener) {
    guard_value((), || {
        if listener.is_null() {
            return;
        }
        // SAFETY: caller contract.
        let l = unsafe { Box::from_raw(listener) };
        if l.on_own_thread() {
            l.queue.shutdown();
            let _ = thread::Builder::new()
                .name("hievc-listener-free".to_owned())
                .spawn(move || {
                    let _ = l.close();
                });
            return;
        }
        let _ = l.close();
    })
}

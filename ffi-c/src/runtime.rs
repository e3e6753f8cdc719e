//! The library's one tokio runtime: created on first use, shut down by `hievc_shutdown`.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::Failure;
use crate::guard::{guard, opt_out};
use crate::hievc_error;
use crate::status::hievc_status::{self, *};

enum State {
    NotStarted,
    Running(Runtime),
    ShutDown,
}

static STATE: Mutex<State> = Mutex::new(State::NotStarted);

fn lock() -> std::sync::MutexGuard<'static, State> {
    // The state is a plain enum swapped whole: a poisoned lock still holds a consistent value.
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// How many worker threads the runtime has (HTTP and Kafka are I/O bound: two are plenty).
const WORKERS: usize = 2;

/// A handle of the runtime, created on first use.
pub(crate) fn handle() -> Result<Handle, Failure> {
    let mut state = lock();
    match &*state {
        State::Running(rt) => Ok(rt.handle().clone()),
        State::ShutDown => Err(shut_down()),
        State::NotStarted => {
            let rt = Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .thread_name("hievc-runtime")
                .enable_all()
                .build()
                .map_err(|e| {
                    Failure::new(
                        HIEVC_TRANSPORT,
                        format!("could not start the library's runtime threads: {e}"),
                    )
                })?;
            let handle = rt.handle().clone();
            *state = State::Running(rt);
            Ok(handle)
        }
    }
}

pub(crate) fn shut_down() -> Failure {
    Failure::new(
        HIEVC_SHUT_DOWN,
        "hievc_shutdown was called: the library cannot be used any more in this process",
    )
}

/// Runs `fut` to completion on the runtime, blocking the calling thread.
///
/// Works from any host thread and from the library's own callback threads. When called from
/// a runtime thread itself (e.g. a Rust host that embeds the rlib inside its own runtime), the
/// worker is handed over first (`block_in_place`) so the runtime keeps running.
pub(crate) fn block_on<F: Future>(fut: F) -> Result<F::Output, Failure> {
    let handle = handle()?;
    if Handle::try_current().is_ok() {
        Ok(tokio::task::block_in_place(|| handle.block_on(fut)))
    } else {
        Ok(handle.block_on(fut))
    }
}

/// How long `hievc_shutdown` waits for tasks still running (listeners not closed, calls in
/// flight) before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Stops the library's runtime: its threads end, and every later call that needs it fails
/// with `HIEVC_SHUT_DOWN`. Idempotent (a second call returns `HIEVC_OK`).
///
/// Call it once, at the end, after every listener is closed and every call has returned —
/// typically just before `dlclose` or the end of `main`. Tasks still running get a grace of
/// 5 seconds and are then abandoned. Without it the threads simply end with the process (the
/// OS reclaims them); nothing is lost as long as listeners were closed.
///
/// Must not be called from a library thread (a listener callback): returns
/// `HIEVC_INVALID_STATE` there.
///
/// # Safety
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_shutdown(err: *mut *mut hievc_error) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        if Handle::try_current().is_ok() || crate::listener::on_callback_thread() {
            return Err(Failure::state(
                "hievc_shutdown cannot run on a library thread (inside a callback): call it from a host thread",
            ));
        }
        let previous = std::mem::replace(&mut *lock(), State::ShutDown);
        if let State::Running(rt) = previous {
            rt.shutdown_timeout(SHUTDOWN_GRACE);
        }
        Ok(())
    })
}

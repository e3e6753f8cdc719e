//! The library's one tokio runtime: created on first use, shut down by `hievc_shutdown`.

use std::future::Future;
use std::time::Duration;

use hie_vc::runtime::{SharedRuntime, Unavailable};
use tokio::runtime::Handle;

use crate::error::Failure;
use crate::guard::{guard, opt_out};
use crate::hievc_error;
use crate::status::hievc_status::{self, *};

/// How many worker threads the runtime has (HTTP and Kafka are I/O bound: two are plenty).
const WORKERS: usize = 2;

static RUNTIME: SharedRuntime = SharedRuntime::new("hievc-runtime", WORKERS);

fn unavailable(e: Unavailable) -> Failure {
    match e {
        Unavailable::ShutDown => shut_down(),
        e => Failure::new(
            HIEVC_TRANSPORT,
            format!("could not start the library's runtime threads: {e}"),
        ),
    }
}

/// A handle of the runtime, created on first use.
pub(crate) fn handle() -> Result<Handle, Failure> {
    RUNTIME.handle().map_err(unavailable)
}

pub(crate) fn shut_down() -> Failure {
    Failure::new(
        HIEVC_SHUT_DOWN,
        "hievc_shutdown was called: the library cannot be used any more in this process",
    )
}

/// Runs `fut` to completion on the runtime, blocking the calling thread: from a host thread,
/// a library callback thread, or a thread inside the host's own tokio runtime of either flavor
/// (see `hie_vc::runtime`).
pub(crate) fn block_on<F>(fut: F) -> Result<F::Output, Failure>
where
    F: Future + Send,
    F::Output: Send,
{
    RUNTIME.block_on(fut).map_err(unavailable)
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
        RUNTIME.shutdown(SHUTDOWN_GRACE);
        Ok(())
    })
}

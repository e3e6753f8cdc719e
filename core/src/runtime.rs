//! Running the async SDK from synchronous code — the C ABI, and the Python and Node bindings —
//! whatever runtime the calling thread happens to be in.
//!
//! A binding owns one [`SharedRuntime`] (a multi-thread tokio runtime, created on first use)
//! and runs every call with [`SharedRuntime::block_on`]. The calling thread blocks until the
//! call is done; the call itself always runs on the shared runtime, where the HTTP clients and
//! Kafka consumers it created are registered. The caller's thread may be:
//!
//! * outside any runtime (a C, Java, .NET or Python thread): the future is driven right there;
//! * a worker of a multi-thread tokio runtime (a Rust host embedding a binding): the worker is
//!   handed over first (`block_in_place`), so the host's other tasks keep running;
//! * inside a current-thread tokio runtime (e.g. `#[tokio::main(flavor = "current_thread")]`,
//!   or a binding called from such a runtime's task): that thread cannot be handed over, so the
//!   future is driven on a short-lived helper thread while the caller waits. The caller's
//!   runtime is blocked meanwhile — exactly as with any other blocking call made there.
//!
//! (`block_in_place` alone, or `Handle::block_on` alone, panics in the third case.) One nesting
//! is still refused by tokio with a panic: a multi-thread runtime's handle entered with
//! `Handle::enter` from inside a current-thread runtime's `block_on` looks like the second
//! case but may not hand its thread over; no binding creates it.

use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime, RuntimeFlavor};

/// Runs `fut` to completion on `handle`'s runtime, blocking the calling thread, from any
/// context (see the [module documentation](self)). A panic inside `fut` propagates to the
/// caller.
///
/// `handle` must belong to a multi-thread runtime that keeps running for the duration of the
/// call (its workers drive the I/O and timers `fut` waits on).
pub fn block_on<F>(handle: &Handle, fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => handle.block_on(fut),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| handle.block_on(fut)),
        // A current-thread runtime (or a flavor this code does not know): this thread may not
        // block inside it, but a fresh thread outside every runtime may.
        Ok(_) => std::thread::scope(|s| {
            match std::thread::Builder::new()
                .name("hie-vc-block-on".into())
                .spawn_scoped(s, || handle.block_on(fut))
            {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // The OS refused a thread: nothing else can run the call without panicking.
                Err(e) => panic!("could not start a thread to run a blocking call: {e}"),
            }
        }),
    }
}

/// Why a [`SharedRuntime`] cannot run a call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Unavailable {
    /// [`SharedRuntime::shutdown`] was called: the runtime is gone for good.
    ShutDown,
    /// The runtime's threads could not be started (the OS refused).
    Start(std::io::Error),
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShutDown => f.write_str("the runtime was shut down"),
            Self::Start(e) => write!(f, "could not start the runtime's threads: {e}"),
        }
    }
}

impl std::error::Error for Unavailable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ShutDown => None,
            Self::Start(e) => Some(e),
        }
    }
}

enum State {
    NotStarted,
    Running(Runtime),
    ShutDown,
}

/// A binding's one multi-thread runtime: created on first use, shut down once, explicitly.
///
/// `const`-constructible, so a binding keeps it in a `static`.
pub struct SharedRuntime {
    state: Mutex<State>,
    thread_name: &'static str,
    workers: usize,
}

impl fmt::Debug for SharedRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.lock() {
            State::NotStarted => "not started",
            State::Running(_) => "running",
            State::ShutDown => "shut down",
        };
        f.debug_struct("SharedRuntime")
            .field("thread_name", &self.thread_name)
            .field("workers", &self.workers)
            .field("state", &state)
            .finish()
    }
}

impl SharedRuntime {
    /// A runtime of `workers` threads named `thread_name`, started by the first call that
    /// needs it. HTTP and Kafka work is I/O bound: two workers are plenty for a binding.
    pub const fn new(thread_name: &'static str, workers: usize) -> Self {
        Self {
            state: Mutex::new(State::NotStarted),
            thread_name,
            workers,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a plain enum swapped whole: a poisoned lock still holds a consistent
        // value.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A handle of the runtime, starting it on first use. Objects that register with a
    /// runtime when built (HTTP clients) are built inside `handle.enter()`.
    pub fn handle(&self) -> Result<Handle, Unavailable> {
        let mut state = self.lock();
        match &*state {
            State::Running(rt) => Ok(rt.handle().clone()),
            State::ShutDown => Err(Unavailable::ShutDown),
            State::NotStarted => {
                let rt = Builder::new_multi_thread()
                    .worker_threads(self.workers.max(1))
                    .thread_name(self.thread_name)
                    .enable_all()
                    .build()
                    .map_err(Unavailable::Start)?;
                let handle = rt.handle().clone();
                *state = State::Running(rt);
                Ok(handle)
            }
        }
    }

    /// Runs `fut` on the runtime and blocks the calling thread until it is done, from any
    /// context (see [`block_on`]).
    pub fn block_on<F>(&self, fut: F) -> Result<F::Output, Unavailable>
    where
        F: Future + Send,
        F::Output: Send,
    {
        let handle = self.handle()?;
        Ok(block_on(&handle, fut))
    }

    /// Stops the runtime for good: tasks still running get `grace`, then are abandoned; every
    /// later call fails with [`Unavailable::ShutDown`]. Returns whether it was running.
    ///
    /// # Panics
    /// When called from inside a tokio runtime (tokio refuses to block there): call it from
    /// plain host code.
    pub fn shutdown(&self, grace: Duration) -> bool {
        let previous = std::mem::replace(&mut *self.lock(), State::ShutDown);
        match previous {
            State::Running(rt) => {
                rt.shutdown_timeout(grace);
                true
            }
            State::NotStarted | State::ShutDown => false,
        }
    }
}

impl Drop for SharedRuntime {
    /// A runtime dropped without [`shutdown`](Self::shutdown) stops without waiting: a plain
    /// drop would block, which tokio refuses (with a panic) inside an async context.
    fn drop(&mut self) {
        let state = std::mem::replace(
            self.state.get_mut().unwrap_or_else(|p| p.into_inner()),
            State::ShutDown,
        );
        if let State::Running(rt) = state {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A call that needs the shared runtime's reactor and timers, and a task spawned onto it:
    /// a TCP round trip through a listener task, after a sleep. Returns the reply and the name
    /// of the thread the spawned task ran on.
    async fn round_trip() -> (Vec<u8>, Option<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
            std::thread::current().name().map(str::to_owned)
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut back = vec![0u8; 4];
        c.read_exact(&mut back).await.unwrap();
        (back, server.await.unwrap())
    }

    fn check(rt: &SharedRuntime, name: &str) {
        let (reply, thread) = rt.block_on(round_trip()).unwrap();
        assert_eq!(reply, b"ping");
        assert_eq!(
            thread.as_deref(),
            Some(name),
            "the call runs on the shared runtime"
        );
    }

    #[test]
    fn from_a_thread_outside_any_runtime() {
        let rt = SharedRuntime::new("t-plain", 2);
        check(&rt, "t-plain");
        assert!(rt.shutdown(Duration::from_secs(1)));
    }

    #[test]
    fn from_a_multi_thread_runtime_worker() {
        let rt = Arc::new(SharedRuntime::new("t-multi", 2));
        let host = Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let inner = Arc::clone(&rt);
        // Inside a task on a worker, and inside the host's own block_on.
        host.block_on(async move {
            tokio::spawn(async move { check(&inner, "t-multi") })
                .await
                .unwrap();
            check(&rt, "t-multi");
        });
    }

    #[test]
    fn from_a_current_thread_runtime() {
        let rt = Arc::new(SharedRuntime::new("t-current", 2));
        let host = Builder::new_current_thread().enable_all().build().unwrap();
        let inner = Arc::clone(&rt);
        host.block_on(async move {
            tokio::spawn(async move { check(&inner, "t-current") })
                .await
                .unwrap();
            check(&rt, "t-current");
        });
    }

    #[test]
    fn from_a_runtime_entered_without_block_on() {
        let rt = SharedRuntime::new("t-entered", 1);
        let host = Builder::new_current_thread().enable_all().build().unwrap();
        let _guard = host.enter();
        check(&rt, "t-entered");
    }

    #[test]
    fn a_panic_in_the_call_reaches_the_caller_in_every_context() {
        let rt = Arc::new(SharedRuntime::new("t-panic", 1));
        let boom = || async { panic!("boom in the call") };
        let plain = std::panic::catch_unwind(|| rt.block_on(boom()));
        assert!(plain.is_err());
        let host = Builder::new_current_thread().enable_all().build().unwrap();
        let current = host.block_on(async { std::panic::catch_unwind(|| rt.block_on(boom())) });
        let payload = current.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in the call"));
        // The runtime survives a panicking call.
        check(&rt, "t-panic");
    }

    #[test]
    fn after_shutdown_every_call_is_refused() {
        let rt = SharedRuntime::new("t-down", 1);
        assert!(!rt.shutdown(Duration::from_secs(1)), "never started");
        assert!(matches!(rt.handle(), Err(Unavailable::ShutDown)));
        assert!(matches!(
            rt.block_on(async { 1 }),
            Err(Unavailable::ShutDown)
        ));
        assert_eq!(
            Unavailable::ShutDown.to_string(),
            "the runtime was shut down"
        );
    }
}

//! Promises for core futures, and their cancellation by an `AbortSignal`.
//!
//! The JavaScript layer gives each cancellable call an id and, when the call's signal aborts,
//! calls [`abort_call`] with it: the Rust future is dropped at once (its HTTP request with
//! it), and the Promise rejects with the marked `aborted` error, which the JavaScript layer
//! replaces by the signal's reason (an `AbortError`, as `fetch` does).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{LazyLock, Mutex};

use futures::future::{AbortHandle, Abortable};
use hie_vc::error::ErrorInfo;
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::Env;
use napi_derive::napi;

use crate::errors::{info_to_napi, to_napi};

/// The abort handles of calls in flight, by the JavaScript layer's call id.
static CALLS: LazyLock<Mutex<HashMap<u32, AbortHandle>>> = LazyLock::new(Mutex::default);

fn calls() -> std::sync::MutexGuard<'static, HashMap<u32, AbortHandle>> {
    // A map of handles stays consistent whatever panicked while it was held.
    CALLS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Aborts the call `id` (nothing when it already ended).
#[napi]
pub fn abort_call(id: u32) {
    if let Some(h) = calls().remove(&id) {
        h.abort();
    }
}

/// Removes a call's handle when its future ends or is dropped.
struct Forget(u32);

impl Drop for Forget {
    fn drop(&mut self) {
        calls().remove(&self.0);
    }
}

/// Runs `fut` on the runtime and returns a Promise of its value; with a call id, the call is
/// registered now (before the future first runs), so an abort that comes at once still
/// counts.
pub(crate) fn spawn<'env, T, F>(
    env: &'env Env,
    call: Option<u32>,
    fut: F,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = hie_vc::Result<T>> + Send + 'static,
{
    match call {
        None => env.spawn_future(async move { fut.await.map_err(to_napi) }),
        Some(id) => {
            let (handle, registration) = AbortHandle::new_pair();
            calls().insert(id, handle);
            let fut = Abortable::new(fut, registration);
            env.spawn_future(async move {
                let _forget = Forget(id);
                match fut.await {
                    Ok(r) => r.map_err(to_napi),
                    Err(_) => Err(info_to_napi(&ErrorInfo::new(
                        "aborted",
                        "the operation was aborted",
                    ))),
                }
            })
        }
    }
}

//! The Rust core behind the `hie-vc` npm package.
//!
//! This crate holds Node concerns only: argument conversion, Promises, cancellation by
//! `AbortSignal`, the one tokio runtime. Values cross as the core's own JSON text (FHIR
//! resources through the model's writer, results in the core's camelCase facade), which the
//! JavaScript layer (`lib/`) parses with `JSON.parse` — faster in V8 than building objects
//! through N-API — and wraps in idiomatic classes. Nothing here blocks the event loop: every
//! interaction runs on the runtime and resolves a Promise.

// napi-derive registers exports only outside `cfg(test)`; `clippy --all-targets` checks the
// crate under `cfg(test)` too, where every export then looks unused.
#![cfg_attr(test, allow(dead_code))]

mod call;
mod client;
mod errors;
mod fhir;
mod jitsi;
mod listener;
mod mycore;
mod sandbox;
mod vc;

use napi_derive::napi;

/// The package's version (the crate's).
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Two workers: the work is I/O (HTTP, Kafka); decoding happens on them too, off the event
/// loop's thread.
#[napi_derive::module_init]
fn init() {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hie-vc-node")
        .enable_all()
        .build()
    {
        Ok(rt) => napi::bindgen_prelude::create_custom_tokio_runtime(rt),
        // napi then starts its default runtime on first use.
        Err(e) => eprintln!("hie-vc: could not start the runtime of 2 workers: {e}"),
    }
}

/// Runs the VC demo (the CLI's `hie-vc demo`) on an embedded sandbox, printing its timeline;
/// `kafka`: publish and listen through this Kafka cluster instead of the in-process broker.
#[napi(ts_return_type = "Promise<void>")]
pub fn demo(
    env: &napi::Env,
    kafka: Option<String>,
    arrival_timeout_ms: Option<u32>,
) -> napi::Result<napi::bindgen_prelude::PromiseRaw<'_, ()>> {
    let timeout = std::time::Duration::from_millis(u64::from(arrival_timeout_ms.unwrap_or(60_000)));
    call::spawn(env, None, async move {
        hie_vc_sandbox::demo::print_run(kafka, timeout)
            .await
            .map(|_| ())
    })
}

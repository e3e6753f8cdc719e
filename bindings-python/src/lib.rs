//! `hie_vc._native`: the Rust core behind the `hie_vc` Python package.
//!
//! This crate holds Python concerns only: argument conversion, the GIL, asyncio, exceptions.
//! Values cross as the core's own JSON (FHIR resources through the model's writer, results in
//! the core's camelCase facade), which the pure-Python layer (`python/hie_vc`) wraps in
//! classes. Every blocking wait releases the GIL.

use pyo3::prelude::*;

mod aio;
mod client;
mod errors;
mod fhir;
mod jitsi;
mod listener;
mod mycore;
mod runtime;
mod sandbox;
mod vc;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    fhir::register(m)?;
    mycore::register(m)?;
    client::register(m)?;
    sandbox::register(m)?;
    listener::register(m)?;
    vc::register(m)?;
    jitsi::register(m)?;
    m.add_function(wrap_pyfunction!(demo, m)?)?;
    Ok(())
}

/// Runs the VC demo (the CLI's `hie-vc demo`) on an embedded sandbox, printing its timeline;
/// `kafka`: publish and listen through this Kafka cluster instead of the in-process broker.
#[pyfunction]
#[pyo3(signature = (kafka = None, arrival_timeout = 60.0))]
fn demo(py: Python<'_>, kafka: Option<String>, arrival_timeout: f64) -> PyResult<()> {
    let timeout = std::time::Duration::from_secs_f64(arrival_timeout.max(0.0));
    runtime::block_on(py, async move {
        hie_vc_sandbox::demo::print_run(kafka, timeout)
            .await
            .map(|_| ())
    })
}

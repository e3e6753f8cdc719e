//! The package's one tokio runtime, and blocking on it with the GIL released.

use std::future::Future;

use hie_vc::runtime::SharedRuntime;
use pyo3::prelude::*;

use crate::errors::to_py;

/// Two workers: the work is I/O (HTTP, Kafka); decoding happens on them too.
pub(crate) static RUNTIME: SharedRuntime = SharedRuntime::new("hie-vc-py", 2);

/// The runtime's handle, or the typed error once it was shut down.
pub(crate) fn handle() -> PyResult<tokio::runtime::Handle> {
    RUNTIME
        .handle()
        .map_err(|e| to_py(hie_vc::Error::new(hie_vc::ErrorKind::Closed, e.to_string())))
}

/// Runs `fut` on the runtime while this thread waits without the GIL, so other Python threads
/// run meanwhile.
pub(crate) fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = hie_vc::Result<T>> + Send,
    T: Send,
{
    let handle = handle()?;
    py.detach(|| hie_vc::runtime::block_on(&handle, fut))
        .map_err(to_py)
}

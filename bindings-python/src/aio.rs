//! Awaitables on the caller's asyncio loop for core futures.
//!
//! The future runs on the package's tokio runtime; its result is handed to the loop with
//! `call_soon_threadsafe`, so the coroutine that awaits it resumes on its own loop and thread.
//! Cancelling the awaitable (task.cancel(), a timeout) aborts the Rust future. Written here
//! rather than with pyo3-async-runtimes because that crate drives futures on a runtime of its
//! own, while every client of this package is registered with the one shared runtime.

use std::future::Future;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;

use crate::errors::to_py;

/// `hie_vc._aio.resolve`: sets a result or an exception unless the future is already done
/// (cancelled meanwhile).
static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn resolve(py: Python<'_>) -> PyResult<&Py<PyAny>> {
    RESOLVE.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("hie_vc._aio")?.getattr("resolve")?.unbind())
    })
}

/// Runs `fut` on the runtime; `convert` turns its value into a Python object (with the GIL).
/// Returns an `asyncio.Future` of the running loop.
pub(crate) fn spawn<'py, F, T, C>(
    py: Python<'py>,
    fut: F,
    convert: C,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = hie_vc::Result<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    spawn_py(py, async move { fut.await.map_err(to_py) }, convert)
}

/// As [`spawn`] for futures that already fail with a Python exception.
pub(crate) fn spawn_py<'py, F, T, C>(
    py: Python<'py>,
    fut: F,
    convert: C,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let py_future = event_loop.call_method0("create_future")?;
    let resolve = resolve(py)?.clone_ref(py);
    let (loop_ref, fut_ref) = (event_loop.clone().unbind(), py_future.clone().unbind());
    let handle = crate::runtime::handle()?;
    let task = handle.spawn(async move {
        let result = fut.await;
        Python::attach(|py| {
            let (value, error) = match result.and_then(|v| convert(py, v)) {
                Ok(v) => (v, py.None()),
                Err(e) => (py.None(), e.into_value(py).into_any()),
            };
            // A closed loop (the program ended its asyncio.run) has nobody left to tell.
            let _ = loop_ref
                .bind(py)
                .call_method1("call_soon_threadsafe", (resolve, fut_ref, value, error));
        });
    });
    let abort = task.abort_handle();
    let on_done = PyCFunction::new_closure(py, None, None, move |args, _kwargs| -> PyResult<()> {
        let fut = args.get_item(0)?;
        if fut.call_method0("cancelled")?.is_truthy()? {
            abort.abort();
        }
        Ok(())
    })?;
    py_future.call_method1("add_done_callback", (on_done,))?;
    Ok(py_future)
}

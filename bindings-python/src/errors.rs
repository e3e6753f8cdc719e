//! Core errors as Python exceptions. The hierarchy is defined in Python (`hie_vc/errors.py`,
//! where users read it); the core's error facts cross as its `ErrorInfo` JSON and
//! `hie_vc.errors._from_info` picks the class by the error's kind.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static FROM_INFO: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The exception for a core error: the right subclass of `hie_vc.HieVcError`, with `kind`,
/// `status`, `request_id`, `step`, `completed_steps`, `outcome`, `report`, `location`.
pub(crate) fn to_py(e: hie_vc::Error) -> PyErr {
    info_to_py(&e.info())
}

/// The exception for an error already in its facade form.
pub(crate) fn info_to_py(info: &hie_vc::error::ErrorInfo) -> PyErr {
    Python::attach(|py| {
        let text = match serde_json::to_string(info) {
            Ok(t) => t,
            Err(e) => return PyRuntimeError::new_err(format!("hie_vc: {e}")),
        };
        let made = FROM_INFO
            .get_or_try_init(py, || {
                Ok::<_, PyErr>(py.import("hie_vc.errors")?.getattr("_from_info")?.unbind())
            })
            .and_then(|f| {
                let report = match &info.report {
                    Some(r) => Py::new(py, crate::mycore::Report::new(r.clone()))?.into_any(),
                    None => py.None(),
                };
                f.bind(py).call1((text, report))
            });
        match made {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    })
}

/// An `InvalidInput` error (bad argument), as the core would word it.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    to_py(hie_vc::Error::new(hie_vc::ErrorKind::InvalidInput, message))
}

/// Extension for results whose error is a core error.
pub(crate) trait IntoPyResult<T> {
    /// Converts the error into the matching Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for hie_vc::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

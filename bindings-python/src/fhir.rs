//! `hie_vc.fhir`: reading, writing and printing FHIR resources with the core's model.

use hie_vc::fhir::{self, ReadOptions, Resource};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors::{invalid, to_py};

/// Text or bytes from Python, borrowed without a copy where Python allows.
pub(crate) enum Input<'py> {
    Bytes(Bound<'py, PyBytes>),
    Str(Bound<'py, PyString>),
}

impl<'py> FromPyObject<'_, 'py> for Input<'py> {
    type Error = PyErr;
    fn extract(ob: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = ob.cast::<PyBytes>() {
            return Ok(Input::Bytes(b.to_owned()));
        }
        if let Ok(s) = ob.cast::<PyString>() {
            return Ok(Input::Str(s.to_owned()));
        }
        Err(crate::errors::invalid(format!(
            "expected str or bytes of FHIR JSON, got {}",
            ob.get_type().name()?
        )))
    }
}

impl Input<'_> {
    /// The bytes (UTF-8 for a str).
    pub(crate) fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
        Ok(match self {
            Input::Bytes(b) => f(b.as_bytes()),
            Input::Str(s) => f(s.to_cow()?.as_bytes()),
        })
    }
}

/// Reads a resource of any type (strict or lenient) from text the caller holds.
pub(crate) fn read_resource(data: &[u8], lenient: bool) -> hie_vc::Result<fhir::Read<Resource>> {
    read_with(data, lenient, false)
}

/// As [`read_resource`], refusing unknown elements when `deny_unknown`.
pub(crate) fn read_with(
    data: &[u8],
    lenient: bool,
    deny_unknown: bool,
) -> hie_vc::Result<fhir::Read<Resource>> {
    fhir::read::<Resource>(data, ReadOptions::from_flags(lenient, deny_unknown))
        .map_err(hie_vc::Error::from)
}

/// Reads a resource argument strictly (what every write sends).
pub(crate) fn resource_arg(json: &str) -> PyResult<Resource> {
    read_resource(json.as_bytes(), false)
        .map(|r| r.value)
        .map_err(to_py)
}

/// `read(data, lenient) -> str`: the read as JSON `{"resource", "resourceType", "warnings"}`.
/// Large documents are decoded without the GIL, so other threads run meanwhile.
#[pyfunction]
#[pyo3(signature = (data, lenient = false, deny_unknown = false))]
fn fhir_read(
    py: Python<'_>,
    data: Input<'_>,
    lenient: bool,
    deny_unknown: bool,
) -> PyResult<String> {
    let read = data.with_bytes(|b| {
        if b.len() > DETACH_ABOVE {
            py.detach(|| read_with(b, lenient, deny_unknown))
        } else {
            read_with(b, lenient, deny_unknown)
        }
    })?;
    json(&read.map_err(to_py)?)
}

/// Below this size a read is quicker than handing the GIL over and taking it back.
const DETACH_ABOVE: usize = 16 * 1024;

/// The JSON the model's writer makes of a resource (read strictly, or leniently).
#[pyfunction]
#[pyo3(signature = (data, lenient = false))]
fn fhir_write(data: Input<'_>, lenient: bool) -> PyResult<String> {
    let r = data
        .with_bytes(|b| read_resource(b, lenient))?
        .map_err(to_py)?;
    Ok(fhir::to_json(&r.value))
}

/// The Rust model's `Debug` text of a value of the schema type `type_name` (what `repr`
/// shows): elements marked as patient data are redacted. A value that does not read even
/// leniently shows only its type, never its content.
#[pyfunction]
fn fhir_debug(type_name: &str, data: Input<'_>) -> PyResult<String> {
    let shown = data.with_bytes(|b| fhir::schema::debug(type_name, b))?;
    match shown {
        Some(Ok(text)) => Ok(text),
        Some(Err(_)) => Ok(format!("{type_name} {{ <unreadable> }}")),
        None => Err(invalid(format!(
            "'{type_name}' is not a type of the FHIR model"
        ))),
    }
}

/// Serializes a facade value to JSON text (the core's camelCase form).
pub(crate) fn json<T: serde::Serialize + ?Sized>(v: &T) -> PyResult<String> {
    serde_json::to_string(v)
        .map_err(|e| to_py(hie_vc::Error::new(hie_vc::ErrorKind::Decode, e.to_string())))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fhir_read, m)?)?;
    m.add_function(wrap_pyfunction!(fhir_write, m)?)?;
    m.add_function(wrap_pyfunction!(fhir_debug, m)?)?;
    Ok(())
}

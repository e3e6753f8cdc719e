//! Output documents as C strings. Their shapes are the core types' own serde (camelCase
//! names, FHIR values as the FHIR writer writes them, byte for byte): this module only turns
//! them into the caller's `char *`.

use serde::Serialize;
use std::ffi::{c_char, CString};

use crate::error::Failure;
use crate::guard::Out;

fn serialise_error(e: serde_json::Error) -> Failure {
    Failure::new(
        crate::status::hievc_status::HIEVC_PANIC,
        format!("could not serialise the result: {e}"),
    )
}

/// Serialises an output document straight into the C string handed to the caller: one buffer,
/// no copy, no scan for NULs.
pub(crate) fn to_cstring<T: Serialize + ?Sized>(v: &T) -> Result<CString, Failure> {
    let mut buf = Vec::with_capacity(512);
    serde_json::to_writer(&mut buf, v).map_err(serialise_error)?;
    // SAFETY: JSON text has no NUL byte: serde_json escapes every control character in
    // strings (`\u0000`), and raw JSON the FHIR model keeps (unknown elements) was read as
    // JSON, where a NUL can only appear escaped.
    Ok(unsafe { CString::from_vec_unchecked(buf) })
}

/// Serialises an output document with indentation (FHIR values inside indented too).
pub(crate) fn to_cstring_pretty<T: Serialize + ?Sized>(v: &T) -> Result<CString, Failure> {
    let mut buf = Vec::with_capacity(1024);
    serde_json::to_writer_pretty(&mut buf, v).map_err(serialise_error)?;
    // SAFETY: as `to_cstring`.
    Ok(unsafe { CString::from_vec_unchecked(buf) })
}

/// Hands an output document to the caller through `out` (freed with `hievc_string_free`).
pub(crate) fn write_json<T: Serialize + ?Sized>(
    out: Out<'_, *mut c_char>,
    v: &T,
) -> Result<(), Failure> {
    let c = to_cstring(v)?;
    out.write(c.into_raw());
    Ok(())
}

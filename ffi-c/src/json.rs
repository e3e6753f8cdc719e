//! JSON shapes of what the SDK returns (reports, warnings, HIE call results, events), as
//! documented in the header.
//!
//! Documents that carry resources are typed structs whose resources are `RawValue`s: the FHIR
//! JSON `hie_vc::fhir::to_json` writes goes out byte for byte (decimals such as `1.50` keep
//! their digits, element order is kept) and is never parsed again.

use hie_vc::fhir::{self, FhirType, ReadWarning};
use hie_vc::mycore::Report;
use serde::Serialize;
use serde_json::value::RawValue;
use std::ffi::{c_char, CString};

use crate::error::Failure;
use crate::guard::Out;

/// FHIR JSON of `v`, embedded as is.
pub(crate) fn raw<T: FhirType>(v: &T) -> Box<RawValue> {
    from_text(fhir::to_json(v))
}

/// Text that is JSON, embedded as is.
pub(crate) fn from_text(text: String) -> Box<RawValue> {
    // `to_json` always writes JSON; should it ever not, embed null rather than fail the call.
    RawValue::from_string(text).unwrap_or_else(|_| null_raw())
}

fn null_raw() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).unwrap_or_default()
}

/// A MY Core report: `{"valid", "errors", "warnings", "summary", "issues": [{severity, code,
/// rule, location, message}]}`.
#[derive(Serialize)]
pub(crate) struct ReportDoc<'a> {
    valid: bool,
    errors: usize,
    warnings: usize,
    summary: String,
    issues: Vec<IssueDoc<'a>>,
}

#[derive(Serialize)]
struct IssueDoc<'a> {
    severity: &'static str,
    code: &'static str,
    rule: &'static str,
    location: &'a str,
    message: &'a str,
}

pub(crate) fn report_doc(r: &Report) -> ReportDoc<'_> {
    ReportDoc {
        valid: r.is_valid(),
        errors: r.errors().count(),
        warnings: r.warnings().count(),
        summary: r.summary(),
        issues: r
            .issues
            .iter()
            .map(|i| IssueDoc {
                severity: i.severity.as_str(),
                code: i.code,
                rule: i.rule,
                location: &i.location,
                message: &i.message,
            })
            .collect(),
    }
}

/// A read warning: `{"kind", "location", "message"}`.
#[derive(Serialize)]
pub(crate) struct WarningDoc<'a> {
    kind: &'static str,
    location: &'a str,
    message: &'a str,
}

pub(crate) fn warnings<'a>(w: impl IntoIterator<Item = &'a ReadWarning>) -> Vec<WarningDoc<'a>> {
    w.into_iter()
        .map(|w| WarningDoc {
            kind: w.kind.as_str(),
            location: &w.location,
            message: &w.message,
        })
        .collect()
}

fn serialise_error(e: serde_json::Error) -> Failure {
    Failure::new(
        crate::status::hievc_status::HIEVC_PANIC,
        format!("could not serialise the result: {e}"),
    )
}

/// Serialises an output document (never fails for the shapes built here).
pub(crate) fn to_string<T: Serialize + ?Sized>(v: &T) -> Result<String, Failure> {
    serde_json::to_string(v).map_err(serialise_error)
}

/// Serialises an output document straight into the C string handed to the caller: one buffer,
/// no copy, no scan for NULs.
pub(crate) fn to_cstring<T: Serialize + ?Sized>(v: &T) -> Result<CString, Failure> {
    let mut buf = Vec::with_capacity(512);
    serde_json::to_writer(&mut buf, v).map_err(serialise_error)?;
    // SAFETY: JSON text has no NUL byte: serde_json escapes every control character in
    // strings (`\u0000`), and embedded `RawValue`s were validated as JSON when created.
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

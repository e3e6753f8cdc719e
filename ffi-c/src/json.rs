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
use serde_json::{json, Value};

use crate::error::Failure;

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

/// `{"valid", "errors", "warnings", "summary", "issues": [{severity, code, rule, location,
/// message}]}`.
pub(crate) fn report_json(r: &Report) -> Value {
    json!({
        "valid": r.is_valid(),
        "errors": r.errors().count(),
        "warnings": r.warnings().count(),
        "summary": r.summary(),
        "issues": r.issues.iter().map(|i| json!({
            "severity": i.severity.as_str(),
            "code": i.code,
            "rule": i.rule,
            "location": i.location,
            "message": i.message,
        })).collect::<Vec<_>>(),
    })
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

/// Serialises an output document (never fails for the shapes built here).
pub(crate) fn to_string<T: Serialize + ?Sized>(v: &T) -> Result<String, Failure> {
    serde_json::to_string(v).map_err(|e| {
        Failure::new(
            crate::status::hievc_status::HIEVC_PANIC,
            format!("could not serialise the result: {e}"),
        )
    })
}

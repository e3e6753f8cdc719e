//! The operations on documents alone: `read`, `round_trip` (read.json), `validate` and
//! `vc_view` (validate.json).

use hie_vc::fhir::{self, ReadMode, ReadOptions, Resource};
use hie_vc::mycore::{Validator, VcEncounter};
use serde_json::{json, Value};

use crate::json::Json;
use crate::matcher::same_json;
use crate::spec::{check_keys, document_at, opt_bool, opt_str};

/// A value as JSON, through its `Serialize` (the document every binding hands out).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| json!({ "unserializable": e.to_string() }))
}

/// `{"error": <ErrorInfo>}`.
pub fn error(e: &hie_vc::Error) -> Value {
    json!({ "error": to_json(e) })
}

/// The read options of `input` (`mode`, default strict; `deny_unknown`).
fn read_options(input: &Json, mode_key: &str) -> Result<ReadOptions, String> {
    let mode: ReadMode = match opt_str(input, mode_key)? {
        None => ReadMode::Strict,
        Some(m) => m.parse().map_err(|e: hie_vc::Error| e.to_string())?,
    };
    let deny = opt_bool(input, "deny_unknown")?.unwrap_or(false);
    Ok(ReadOptions {
        mode,
        deny_unknown: deny,
    })
}

/// Reads the `document` of `input` with the options under `mode_key`.
fn read_input(
    input: &Json,
    mode_key: &str,
) -> Result<Result<fhir::Read<Resource>, hie_vc::Error>, String> {
    let bytes = document_at(input, "document")?;
    let opts = read_options(input, mode_key)?;
    Ok(fhir::read::<Resource>(&bytes, opts).map_err(hie_vc::Error::from))
}

/// `read`: `{"result": {"resource", "resourceType", "warnings"}}` or `{"error": ErrorInfo}`.
pub fn read(input: &Json) -> Result<Value, String> {
    check_keys(input, "input", &["document", "mode", "deny_unknown"])?;
    Ok(match read_input(input, "mode")? {
        Ok(read) => json!({ "result": to_json(&read) }),
        Err(e) => error(&e),
    })
}

/// `round_trip`: read, write, read the written text strictly, write again.
/// `{"result": {"written", "sameAsInput", "stable", "rereadWarnings"}}`, or `{"error"}` when
/// the first read fails, or `{"rereadError"}` when the written text does not read strictly.
pub fn round_trip(input: &Json) -> Result<Value, String> {
    check_keys(input, "input", &["document", "mode", "deny_unknown"])?;
    let original = document_at(input, "document")?;
    let read = match read_input(input, "mode")? {
        Ok(r) => r,
        Err(e) => return Ok(error(&e)),
    };
    let written = fhir::to_vec(&read.value);
    let again = match fhir::read::<Resource>(&written, ReadOptions::strict()) {
        Ok(r) => r,
        Err(e) => return Ok(json!({ "rereadError": to_json(&hie_vc::Error::from(e)) })),
    };
    let rewritten = fhir::to_vec(&again.value);
    let written_json: Value =
        serde_json::from_slice(&written).map_err(|e| format!("written text: {e}"))?;
    let input_json: Value = serde_json::from_slice(&original).map_err(|e| format!("input: {e}"))?;
    Ok(json!({ "result": {
        "sameAsInput": same_json(&written_json, &input_json),
        "stable": written == rewritten,
        "warnings": to_json(&read.warnings),
        "writtenText": String::from_utf8_lossy(&written),
        "rereadWarnings": to_json(&again.warnings),
        "written": written_json,
    }}))
}

/// `validate`: `{"result": Report}` (or `{"error"}` when the document does not read).
pub fn validate(input: &Json) -> Result<Value, String> {
    check_keys(
        input,
        "input",
        &[
            "document",
            "read",
            "deny_unknown",
            "accept_published_quirks",
        ],
    )?;
    let quirks = opt_bool(input, "accept_published_quirks")?.unwrap_or(false);
    Ok(match read_input(input, "read")? {
        Ok(read) => {
            let report = Validator::new()
                .accept_published_quirks(quirks)
                .validate(&read.value);
            json!({ "result": to_json(&report) })
        }
        Err(e) => error(&e),
    })
}

/// `vc_view`: `{"result": VcEncounter}` or `{"error"}` (not a VC Encounter, or unreadable).
pub fn vc_view(input: &Json) -> Result<Value, String> {
    check_keys(input, "input", &["document", "read", "deny_unknown"])?;
    Ok(match read_input(input, "read")? {
        Ok(read) => match read.value {
            Resource::Encounter(e) => match VcEncounter::from_encounter(&e) {
                Ok(vc) => json!({ "result": to_json(&vc) }),
                Err(e) => error(&e),
            },
            other => {
                return Err(format!(
                    "vc_view takes an Encounter, the document is a {}",
                    other.resource_type()
                ))
            }
        },
        Err(e) => error(&e),
    })
}

//! Core errors as JavaScript errors. The class (`HieVcError`) is defined in JavaScript
//! (`lib/errors.js`, where users read it); the core's error facts cross as its `ErrorInfo`
//! JSON in the message, behind a marker the JavaScript layer recognises, so one conversion
//! serves every call.

use hie_vc::error::ErrorInfo;

/// What starts the message of an error the JavaScript layer turns into a `HieVcError`.
pub(crate) const MARKER: &str = "\u{1}hievc:";

/// The N-API error for a core error.
pub(crate) fn to_napi(e: hie_vc::Error) -> napi::Error {
    info_to_napi(&e.info())
}

/// The N-API error for an error in its facade form. A validation report also carries its
/// OperationOutcome (the core's `Report` is not readable back from JSON), so `report.
/// toOperationOutcome()` works on an error's report too.
pub(crate) fn info_to_napi(info: &ErrorInfo) -> napi::Error {
    let mut value = serde_json::to_value(info).unwrap_or_else(
        |e| serde_json::json!({"kind": "decode", "message": format!("hie-vc: {e}")}),
    );
    if let (Some(r), Some(obj)) = (&info.report, value.as_object_mut()) {
        if let Ok(oo) = serde_json::from_str::<serde_json::Value>(&hie_vc::fhir::to_json(
            &r.to_operation_outcome(),
        )) {
            obj.insert("reportOutcome".into(), oo);
        }
    }
    napi::Error::from_reason(format!("{MARKER}{value}"))
}

/// An `InvalidInput` error (bad argument), as the core would word it.
pub(crate) fn invalid(message: impl Into<String>) -> napi::Error {
    to_napi(hie_vc::Error::new(hie_vc::ErrorKind::InvalidInput, message))
}

/// Extension for results whose error is a core error.
pub(crate) trait IntoNapi<T> {
    /// Converts the error into the marked N-API error.
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for hie_vc::Result<T> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// Serializes a facade value to JSON text (the core's camelCase form).
pub(crate) fn json<T: serde::Serialize + ?Sized>(v: &T) -> hie_vc::Result<String> {
    serde_json::to_string(v)
        .map_err(|e| hie_vc::Error::new(hie_vc::ErrorKind::Decode, e.to_string()))
}

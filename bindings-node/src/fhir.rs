//! `fhir`: reading and writing FHIR resources with the core's model.
//!
//! Reads are synchronous, like `JSON.parse`: a resource is small, and a Promise round trip
//! would cost more than the read.

use hie_vc::fhir::{self, ReadOptions, Resource};
use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;

use crate::errors::{invalid, json, to_napi, IntoNapi};

/// FHIR JSON as text or bytes.
pub(crate) type Input = Either<String, Buffer>;

/// The bytes of an input (UTF-8 for text).
pub(crate) fn bytes(i: &Input) -> &[u8] {
    match i {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

/// Reads a resource of any type, strictly or leniently, refusing unknown elements when
/// `deny_unknown`.
pub(crate) fn read_with(
    data: &[u8],
    lenient: bool,
    deny_unknown: bool,
) -> hie_vc::Result<fhir::Read<Resource>> {
    fhir::read::<Resource>(data, ReadOptions::from_flags(lenient, deny_unknown))
        .map_err(hie_vc::Error::from)
}

/// Reads a resource argument strictly (what every write sends).
pub(crate) fn resource_arg(json_text: &str) -> napi::Result<Resource> {
    read_with(json_text.as_bytes(), false, false)
        .map(|r| r.value)
        .napi()
}

/// A resource argument read strictly as the type `T` (`what` names the argument).
pub(crate) fn typed<T: hie_vc::hie::TypedResource>(json_text: &str, what: &str) -> napi::Result<T> {
    let r = resource_arg(json_text)?;
    let got = r.resource_type().to_owned();
    T::from_resource(r).map_err(|_| invalid(format!("{what} must be a {}, not a {got}", T::NAME)))
}

/// Reads FHIR JSON: the read as JSON `{"resource", "resourceType", "warnings"}`.
#[napi(js_name = "fhirRead")]
pub fn fhir_read(
    data: Input,
    lenient: Option<bool>,
    deny_unknown: Option<bool>,
) -> napi::Result<String> {
    let r = read_with(
        bytes(&data),
        lenient.unwrap_or(false),
        deny_unknown.unwrap_or(false),
    )
    .napi()?;
    json(&r).napi()
}

/// The JSON the model's writer makes of a resource (read strictly, or leniently).
#[napi(js_name = "fhirWrite")]
pub fn fhir_write(data: Input, lenient: Option<bool>) -> napi::Result<String> {
    let r = read_with(bytes(&data), lenient.unwrap_or(false), false).map_err(to_napi)?;
    Ok(fhir::to_json(&r.value))
}

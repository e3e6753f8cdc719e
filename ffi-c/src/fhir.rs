//! FHIR reading (strict / lenient, with warnings) and MY Core validation.

use std::ffi::c_char;

use hie_vc::fhir::{self, Read, ReadErrorKind, ReadMode, ReadOptions, Resource};
use hie_vc::mycore::{Validator, VcEncounter};
use serde::Deserialize;

use crate::error::Failure;
use crate::guard::{
    arg_bytes, arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, opt_str,
    to_cstring, write_handle, Out,
};
use crate::hievc_error;
use crate::json::{to_cstring_pretty, write_json};
use crate::status::hievc_status::{self, *};

/// Reads a FHIR resource from host text: a syntax error is `HIEVC_INVALID_JSON`, anything R4
/// forbids is `HIEVC_DECODE` with its location.
pub(crate) fn read_resource(
    text: &str,
    what: &str,
    opts: ReadOptions,
) -> Result<Read<Resource>, Failure> {
    fhir::read::<Resource>(text.as_bytes(), opts).map_err(|e| {
        let syntax = e.kind == ReadErrorKind::Syntax;
        let mut f = Failure::from(e);
        if syntax {
            f = f.with_status(HIEVC_INVALID_JSON);
        }
        f.info.message = format!("argument '{what}': {}", f.info.message);
        f
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ReadOpts {
    /// `strict` (default) or `lenient`.
    mode: ReadMode,
    /// Refuse unknown elements instead of keeping them.
    deny_unknown: bool,
    /// Pretty-print the resource.
    pretty: bool,
    /// Only the resource, as the FHIR writer writes it (no warnings around it).
    resource_only: bool,
}

impl ReadOpts {
    fn read_options(&self) -> ReadOptions {
        ReadOptions {
            mode: self.mode,
            deny_unknown: self.deny_unknown,
        }
    }

    /// Hands the read to the caller in the shape the options ask for.
    fn write(&self, read: &Read<Resource>, out: Out<'_, *mut c_char>) -> Result<(), Failure> {
        let text = match (self.resource_only, self.pretty) {
            (true, false) => to_cstring(fhir::to_json(&read.value)),
            (true, true) => to_cstring(fhir::to_json_pretty(&read.value)),
            (false, false) => crate::json::to_cstring(read)?,
            (false, true) => to_cstring_pretty(read)?,
        };
        out.write(text.into_raw());
        Ok(())
    }
}

/// How a document argument given as bytes is read (`{"mode", "deny_unknown"}`, NULL for
/// strict).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DocOpts {
    mode: ReadMode,
    deny_unknown: bool,
}

/// Reads a document given as bytes, exactly as the core does: every failure (not UTF-8, not
/// JSON, not R4) is the core's `decode` error with its location, `HIEVC_DECODE`.
///
/// # Safety
/// `data` is NULL or `len` readable bytes; `options_json` NULL or a NUL-terminated string.
unsafe fn read_document(
    data: *const u8,
    len: usize,
    options_json: *const c_char,
) -> Result<Read<Resource>, Failure> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { arg_bytes(data, len, "data") }?;
    // SAFETY: forwarded contract.
    let o: DocOpts = parse_opts(
        unsafe { opt_str(options_json, "options_json") }?,
        "options_json",
    )?;
    let opts = ReadOptions {
        mode: o.mode,
        deny_unknown: o.deny_unknown,
    };
    Ok(fhir::read::<Resource>(bytes, opts)?)
}

/// Parses a JSON argument: malformed JSON is `HIEVC_INVALID_JSON`, JSON of the wrong shape
/// `HIEVC_INVALID_ARGUMENT`.
pub(crate) fn parse_json<'de, T: Deserialize<'de>>(
    text: &'de str,
    what: &str,
) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            Failure::invalid(format!("argument '{what}': {e}"))
        } else {
            Failure::json(what, &e)
        }
    })
}

/// A name argument of one of the SDK's option enums: an unknown name is
/// `HIEVC_INVALID_ARGUMENT`, with the SDK's message listing the accepted names.
pub(crate) fn invalid_name(e: hie_vc::Error) -> Failure {
    Failure::invalid(e.message())
}

/// An optional options argument (NULL: the defaults).
pub(crate) fn parse_opts<'de, T: Deserialize<'de> + Default>(
    text: Option<&'de str>,
    what: &str,
) -> Result<T, Failure> {
    text.map_or_else(|| Ok(T::default()), |t| parse_json(t, what))
}

/// Reads a FHIR R4 resource (any type) and writes it back as normalised FHIR JSON, with what
/// the reader accepted but is not clean R4.
///
/// `options_json` (NULL for the defaults): `{"mode": "strict" | "lenient", "deny_unknown":
/// false, "pretty": false}`. Strict (default) refuses what R4 forbids with `HIEVC_DECODE` and
/// the location in `hievc_error_location`; lenient accepts the known quirks of published MY
/// Core material and reports each as a warning. Unknown elements are kept (and reported)
/// unless `deny_unknown`.
///
/// `*out` receives `{"resource": {...}, "resourceType": "Appointment", "warnings":
/// [{"kind", "location", "message"}]}` (indented throughout with `pretty`); with
/// `"resource_only": true`, only the resource's FHIR JSON, exactly as the SDK writes it (what
/// it stores or sends: e.g. to compare a round trip byte for byte). Free it with
/// `hievc_string_free`.
///
/// # Safety
/// `json` is a NUL-terminated string, `options_json` NULL or one; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_fhir_read(
    json: *const c_char,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let text = unsafe { arg_str(json, "json") }?;
        // SAFETY: caller contract.
        let opts: ReadOpts = parse_opts(
            unsafe { opt_str(options_json, "options_json") }?,
            "options_json",
        )?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let read = read_resource(text, "json", opts.read_options())?;
        opts.write(&read, out)
    })
}

/// `hievc_fhir_read` on a document given as `len` bytes (not NUL-terminated, any content),
/// failing exactly as the SDK's reader does in every language: text that is not JSON, or not
/// UTF-8, is `HIEVC_DECODE` (kind `decode`) with the place in `hievc_error_location` (`$`, or
/// the element holding the bad bytes), like any other R4 violation. `options_json` and `*out`
/// as `hievc_fhir_read`.
///
/// # Safety
/// `data` points at `len` readable bytes (NULL allowed when `len` is 0); `options_json` NULL
/// or a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_fhir_read_bytes(
    data: *const u8,
    len: usize,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let bytes = unsafe { arg_bytes(data, len, "data") }?;
        // SAFETY: caller contract.
        let opts: ReadOpts = parse_opts(
            unsafe { opt_str(options_json, "options_json") }?,
            "options_json",
        )?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        let read = fhir::read::<Resource>(bytes, opts.read_options())?;
        opts.write(&read, out)
    })
}

/// The VC view of an Encounter given as `len` bytes, read as `hievc_fhir_read_bytes` reads
/// (`options_json`: `{"mode", "deny_unknown"}`, NULL for strict). `*out`: `{"id", "versionId",
/// "type", "token", "encounterNumber", "status", "patient", "practitioners", "organisation",
/// "appointments", "period"}` — the `vc` of a listener's event. `HIEVC_INVALID_INPUT` for a
/// resource that is not an Encounter or an Encounter that is not a virtual consultation (the
/// message says why); `HIEVC_DECODE` when the document does not read.
///
/// # Safety
/// `data` points at `len` readable bytes (NULL allowed when `len` is 0); `options_json` NULL
/// or a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_fhir_vc_view(
    data: *const u8,
    len: usize,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let read = unsafe { read_document(data, len, options_json) }?;
        let Resource::Encounter(e) = read.value else {
            return Err(Failure::from(hie_vc::Error::new(
                hie_vc::ErrorKind::InvalidInput,
                format!(
                    "the VC view needs an Encounter, not a {}",
                    read.value.resource_type()
                ),
            )));
        };
        write_json(out, &VcEncounter::from_encounter(&e)?)
    })
}

/// MY Core validation settings, reusable across calls and threads (immutable).
pub struct hievc_validator {
    validator: Validator,
}

impl std::fmt::Debug for hievc_validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("hievc_validator").finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ValidatorOpts {
    profile_base: Option<String>,
    accept_published_quirks: bool,
    require_profile_claim: bool,
}

/// A validator. `cfg` (NULL for none) gives `hie.profile_base`; `options_json` (NULL for the
/// defaults): `{"profile_base": "...", "accept_published_quirks": false,
/// "require_profile_claim": false}` — quirks: report the known departures of the IG's own
/// published examples as warnings instead of errors; profile claim: a missing MY Core
/// `meta.profile` is an error instead of a warning.
///
/// # Safety
/// `cfg` is NULL or a live config; `options_json` NULL or a NUL-terminated string; `out` is
/// writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_validator_new(
    cfg: *const crate::hievc_config,
    options_json: *const c_char,
    out: *mut *mut hievc_validator,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let opts: ValidatorOpts = parse_opts(
            unsafe { opt_str(options_json, "options_json") }?,
            "options_json",
        )?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let settings = unsafe { crate::config::settings_of(cfg) };
        let mut validator = Validator::new()
            .accept_published_quirks(opts.accept_published_quirks)
            .require_profile_claim(opts.require_profile_claim);
        if let Some(p) = opts.profile_base.or(settings.hie.profile_base) {
            validator = validator.profile_base(p);
        }
        write_handle(out, hievc_validator { validator });
        Ok(())
    })
}

/// Frees a validator. NULL is a no-op.
///
/// # Safety
/// `v` is NULL or a validator not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_validator_free(v: *mut hievc_validator) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(v) })
}

#[derive(Clone, Copy)]
enum Shape {
    Report,
    Outcome,
}

/// # Safety
/// `json` is NULL or a NUL-terminated string; `out` is NULL or writable for the call.
unsafe fn validate_with(
    v: &Validator,
    json: *const c_char,
    out: *mut *mut c_char,
    shape: Shape,
) -> Result<(), Failure> {
    // SAFETY: forwarded contract.
    let text = unsafe { arg_str(json, "resource_json") }?;
    // SAFETY: forwarded contract.
    let out = unsafe { arg_out(out, "out") }?;
    let read = read_resource(text, "resource_json", ReadOptions::strict())?;
    let report = v.validate(&read.value);
    match shape {
        Shape::Report => write_json(out, &report),
        Shape::Outcome => write_json(out, &report.to_operation_outcome()),
    }
}

/// Validates a resource (a Bundle's entries in place) against the MY Core VC rules.
///
/// Returns `HIEVC_OK` whenever the resource could be read, valid or not: `*out` receives the
/// report `{"valid": bool, "errors": n, "warnings": n, "summary": "...", "issues":
/// [{"severity": "error" | "warning" | "information", "code", "rule", "location",
/// "message", "source": "workflow" | "profile", "profile"?: {"definition", "element",
/// "binding"}}]}` (`profile`: the MY Core profile element the issue enforces).
/// `HIEVC_INVALID_JSON` / `HIEVC_DECODE` when the text is not a FHIR resource.
///
/// # Safety
/// `v` is a live validator; `resource_json` a NUL-terminated string; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_validator_validate(
    v: *const hievc_validator,
    resource_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let v = unsafe { arg_ref(v, "validator") }?;
        // SAFETY: caller contract.
        unsafe { validate_with(&v.validator, resource_json, out, Shape::Report) }
    })
}

/// `hievc_validator_validate` on a document given as `len` bytes, read as
/// `hievc_fhir_read_bytes` reads (`options_json`: `{"mode": "strict" | "lenient",
/// "deny_unknown"}`, NULL for strict): validates what a lenient read accepted, and fails as the
/// SDK's reader does (`HIEVC_DECODE` with the location) when the document does not read.
/// `*out` as `hievc_validator_validate`.
///
/// # Safety
/// `v` is a live validator; `data` points at `len` readable bytes (NULL allowed when `len` is
/// 0); `options_json` NULL or a NUL-terminated string; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_validator_validate_bytes(
    v: *const hievc_validator,
    data: *const u8,
    len: usize,
    options_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let v = unsafe { arg_ref(v, "validator") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        // SAFETY: caller contract.
        let read = unsafe { read_document(data, len, options_json) }?;
        write_json(out, &v.validator.validate(&read.value))
    })
}

/// As `hievc_validator_validate`, but `*out` receives the report as a FHIR OperationOutcome
/// (one `information` issue when there is nothing to say).
///
/// # Safety
/// As `hievc_validator_validate`.
#[no_mangle]
pub unsafe extern "C" fn hievc_validator_operation_outcome(
    v: *const hievc_validator,
    resource_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let v = unsafe { arg_ref(v, "validator") }?;
        // SAFETY: caller contract.
        unsafe { validate_with(&v.validator, resource_json, out, Shape::Outcome) }
    })
}

/// `hievc_validator_validate` with the default settings (no validator object needed).
///
/// # Safety
/// `resource_json` a NUL-terminated string; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_validate(
    resource_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        unsafe { validate_with(&Validator::new(), resource_json, out, Shape::Report) }
    })
}

/// `hievc_validator_operation_outcome` with the default settings.
///
/// # Safety
/// `resource_json` a NUL-terminated string; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_validate_operation_outcome(
    resource_json: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        unsafe { validate_with(&Validator::new(), resource_json, out, Shape::Outcome) }
    })
}

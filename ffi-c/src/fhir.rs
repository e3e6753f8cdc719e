//! FHIR reading (strict / lenient, with warnings) and MY Core validation.

use std::ffi::c_char;

use hie_vc::fhir::{self, Read, ReadErrorKind, ReadMode, ReadOptions, Resource};
use hie_vc::mycore::Validator;
use serde::Deserialize;

use crate::error::Failure;
use crate::guard::{
    arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, opt_str, write_handle,
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
/// [{"kind", "location", "message"}]}` (indented throughout with `pretty`); free it with `hievc_string_free`.
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
        let ro = ReadOptions {
            mode: opts.mode,
            deny_unknown: opts.deny_unknown,
        };
        let read = read_resource(text, "json", ro)?;
        if opts.pretty {
            out.write(to_cstring_pretty(&read)?.into_raw());
            Ok(())
        } else {
            write_json(out, &read)
        }
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

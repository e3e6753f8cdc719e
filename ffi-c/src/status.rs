//! The status every fallible function returns.

use std::ffi::{c_char, CStr};

use hie_vc::ErrorKind;

/// What a call returned. `HIEVC_OK` (0) is success; everything else is a failure whose detail
/// is in the optional `hievc_error **` out-parameter (except `HIEVC_NO_EVENT`, which only says
/// that a poll timed out).
///
/// Values are explicit and never reused: a value that is retired stays unused, new ones are
/// added. Hosts must treat an unknown value as a generic failure.
///
/// * 1-99: misuse of the ABI and library state (NULL argument, invalid UTF-8, invalid JSON,
///   panic, ...).
/// * 100-199: one per SDK error kind (`hievc_error_kind` gives its stable snake_case name);
///   HTTP ones carry the HTTP status in `hievc_error_http_status`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum hievc_status {
    /// Success.
    HIEVC_OK = 0,
    /// A required pointer argument was NULL.
    HIEVC_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    HIEVC_INVALID_UTF8 = 2,
    /// A JSON argument was not valid JSON (or not the JSON the function takes).
    HIEVC_INVALID_JSON = 3,
    /// The library panicked; the call had no effect that can be relied on. Please report it.
    HIEVC_PANIC = 4,
    /// An argument was out of range or of the wrong shape (e.g. an unknown config key).
    HIEVC_INVALID_ARGUMENT = 5,
    /// `hievc_listener_poll`: the timeout passed without an event (not an error).
    HIEVC_NO_EVENT = 6,
    /// The call is not allowed in the object's current state (e.g. starting a listener twice,
    /// polling a listener started with a callback, closing a listener from its own callback).
    HIEVC_INVALID_STATE = 7,
    /// `hievc_shutdown` was called: the library's runtime is gone.
    HIEVC_SHUT_DOWN = 8,
    /// HTTP 400.
    HIEVC_BAD_REQUEST = 100,
    /// HTTP 401.
    HIEVC_UNAUTHORIZED = 101,
    /// HTTP 403.
    HIEVC_FORBIDDEN = 102,
    /// HTTP 404.
    HIEVC_NOT_FOUND = 103,
    /// HTTP 405.
    HIEVC_METHOD_NOT_ALLOWED = 104,
    /// HTTP 409.
    HIEVC_CONFLICT = 105,
    /// HTTP 410 (deleted).
    HIEVC_GONE = 106,
    /// HTTP 412 (version conflict on If-Match).
    HIEVC_PRECONDITION_FAILED = 107,
    /// HTTP 413.
    HIEVC_PAYLOAD_TOO_LARGE = 108,
    /// HTTP 415.
    HIEVC_UNSUPPORTED_MEDIA_TYPE = 109,
    /// HTTP 422 (profile or business rule violation).
    HIEVC_UNPROCESSABLE = 110,
    /// HTTP 429.
    HIEVC_RATE_LIMITED = 111,
    /// HTTP 500.
    HIEVC_SERVER_ERROR = 112,
    /// HTTP 503.
    HIEVC_SERVICE_UNAVAILABLE = 113,
    /// HTTP 504.
    HIEVC_GATEWAY_TIMEOUT = 114,
    /// Any other non-success HTTP status.
    HIEVC_HTTP = 115,
    /// The connection failed or broke.
    HIEVC_TRANSPORT = 116,
    /// A time limit passed.
    HIEVC_TIMEOUT = 117,
    /// A response, message or FHIR document could not be decoded.
    HIEVC_DECODE = 118,
    /// MY Core validation failed before anything was sent (the report is in the error).
    HIEVC_VALIDATION = 119,
    /// The configuration is incomplete or wrong.
    HIEVC_CONFIG = 120,
    /// A Kafka client error.
    HIEVC_KAFKA = 121,
    /// Something was used after it was closed.
    HIEVC_CLOSED = 122,
    /// The input is not what the operation accepts.
    HIEVC_INVALID_INPUT = 123,
    /// A user callback failed.
    HIEVC_HANDLER = 124,
    /// TLS failed: a certificate was not trusted, not for the host, or refused by the peer.
    HIEVC_TLS = 125,
    /// An SDK error kind newer than this table (see `hievc_error_kind` for its name).
    HIEVC_OTHER = 199,
}

use hievc_status::*;

impl hievc_status {
    /// The status of an SDK error kind.
    pub(crate) fn of_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::BadRequest => HIEVC_BAD_REQUEST,
            ErrorKind::Unauthorized => HIEVC_UNAUTHORIZED,
            ErrorKind::Forbidden => HIEVC_FORBIDDEN,
            ErrorKind::NotFound => HIEVC_NOT_FOUND,
            ErrorKind::MethodNotAllowed => HIEVC_METHOD_NOT_ALLOWED,
            ErrorKind::Conflict => HIEVC_CONFLICT,
            ErrorKind::Gone => HIEVC_GONE,
            ErrorKind::PreconditionFailed => HIEVC_PRECONDITION_FAILED,
            ErrorKind::PayloadTooLarge => HIEVC_PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => HIEVC_UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Unprocessable => HIEVC_UNPROCESSABLE,
            ErrorKind::RateLimited => HIEVC_RATE_LIMITED,
            ErrorKind::ServerError => HIEVC_SERVER_ERROR,
            ErrorKind::ServiceUnavailable => HIEVC_SERVICE_UNAVAILABLE,
            ErrorKind::GatewayTimeout => HIEVC_GATEWAY_TIMEOUT,
            ErrorKind::Http => HIEVC_HTTP,
            ErrorKind::Transport => HIEVC_TRANSPORT,
            ErrorKind::Timeout => HIEVC_TIMEOUT,
            ErrorKind::Decode => HIEVC_DECODE,
            ErrorKind::Validation => HIEVC_VALIDATION,
            ErrorKind::Config => HIEVC_CONFIG,
            ErrorKind::Kafka => HIEVC_KAFKA,
            ErrorKind::Closed => HIEVC_CLOSED,
            ErrorKind::InvalidInput => HIEVC_INVALID_INPUT,
            ErrorKind::Handler => HIEVC_HANDLER,
            ErrorKind::Tls => HIEVC_TLS,
            _ => HIEVC_OTHER,
        }
    }

    /// The stable snake_case name (the SDK error kind's name for 100-199).
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            HIEVC_OK => c"ok",
            HIEVC_NULL_ARGUMENT => c"null_argument",
            HIEVC_INVALID_UTF8 => c"invalid_utf8",
            HIEVC_INVALID_JSON => c"invalid_json",
            HIEVC_PANIC => c"panic",
            HIEVC_INVALID_ARGUMENT => c"invalid_argument",
            HIEVC_NO_EVENT => c"no_event",
            HIEVC_INVALID_STATE => c"invalid_state",
            HIEVC_SHUT_DOWN => c"shut_down",
            HIEVC_BAD_REQUEST => c"bad_request",
            HIEVC_UNAUTHORIZED => c"unauthorized",
            HIEVC_FORBIDDEN => c"forbidden",
            HIEVC_NOT_FOUND => c"not_found",
            HIEVC_METHOD_NOT_ALLOWED => c"method_not_allowed",
            HIEVC_CONFLICT => c"conflict",
            HIEVC_GONE => c"gone",
            HIEVC_PRECONDITION_FAILED => c"precondition_failed",
            HIEVC_PAYLOAD_TOO_LARGE => c"payload_too_large",
            HIEVC_UNSUPPORTED_MEDIA_TYPE => c"unsupported_media_type",
            HIEVC_UNPROCESSABLE => c"unprocessable",
            HIEVC_RATE_LIMITED => c"rate_limited",
            HIEVC_SERVER_ERROR => c"server_error",
            HIEVC_SERVICE_UNAVAILABLE => c"service_unavailable",
            HIEVC_GATEWAY_TIMEOUT => c"gateway_timeout",
            HIEVC_HTTP => c"http",
            HIEVC_TRANSPORT => c"transport",
            HIEVC_TIMEOUT => c"timeout",
            HIEVC_DECODE => c"decode",
            HIEVC_VALIDATION => c"validation",
            HIEVC_CONFIG => c"config",
            HIEVC_KAFKA => c"kafka",
            HIEVC_CLOSED => c"closed",
            HIEVC_INVALID_INPUT => c"invalid_input",
            HIEVC_HANDLER => c"handler",
            HIEVC_TLS => c"tls",
            HIEVC_OTHER => c"other",
        }
    }

    /// Every status, for `hievc_status_name` of a raw integer.
    pub(crate) const ALL: [hievc_status; 36] = [
        HIEVC_OK,
        HIEVC_NULL_ARGUMENT,
        HIEVC_INVALID_UTF8,
        HIEVC_INVALID_JSON,
        HIEVC_PANIC,
        HIEVC_INVALID_ARGUMENT,
        HIEVC_NO_EVENT,
        HIEVC_INVALID_STATE,
        HIEVC_SHUT_DOWN,
        HIEVC_BAD_REQUEST,
        HIEVC_UNAUTHORIZED,
        HIEVC_FORBIDDEN,
        HIEVC_NOT_FOUND,
        HIEVC_METHOD_NOT_ALLOWED,
        HIEVC_CONFLICT,
        HIEVC_GONE,
        HIEVC_PRECONDITION_FAILED,
        HIEVC_PAYLOAD_TOO_LARGE,
        HIEVC_UNSUPPORTED_MEDIA_TYPE,
        HIEVC_UNPROCESSABLE,
        HIEVC_RATE_LIMITED,
        HIEVC_SERVER_ERROR,
        HIEVC_SERVICE_UNAVAILABLE,
        HIEVC_GATEWAY_TIMEOUT,
        HIEVC_HTTP,
        HIEVC_TRANSPORT,
        HIEVC_TIMEOUT,
        HIEVC_DECODE,
        HIEVC_VALIDATION,
        HIEVC_CONFIG,
        HIEVC_KAFKA,
        HIEVC_CLOSED,
        HIEVC_INVALID_INPUT,
        HIEVC_HANDLER,
        HIEVC_TLS,
        HIEVC_OTHER,
    ];
}

/// The stable snake_case name of a status value (`"ok"`, `"not_found"`, ...), or `"unknown"`
/// for a value this version does not know. The string is static: never free it.
///
/// Takes an `int32_t` rather than `hievc_status` so any value a host holds is safe to pass.
#[no_mangle]
pub extern "C" fn hievc_status_name(status: i32) -> *const c_char {
    crate::guard::guard_value(c"unknown".as_ptr(), || {
        hievc_status::ALL
            .iter()
            .find(|s| **s as i32 == status)
            .map_or(c"unknown".as_ptr(), |s| s.name().as_ptr())
    })
}

//! Exit codes: meaningful to scripts and stable across releases. Wrong usage exits with 2
//! (clap's own code).

use hie_vc::{Error, ErrorKind};

/// Success.
pub const OK: u8 = 0;
/// The operation ran and found a problem (validation errors, a failed step).
pub const FAILED: u8 = 1;
/// The configuration is incomplete or wrong.
pub const CONFIG: u8 = 3;
/// The input (file, resource) could not be read.
pub const INPUT: u8 = 4;
/// The server refused the request (4xx).
pub const REFUSED: u8 = 5;
/// The resource does not exist (404/410).
pub const NOT_FOUND: u8 = 6;
/// The server failed or could not be reached (5xx, network, timeout).
pub const UNAVAILABLE: u8 = 7;
/// Interrupted (Ctrl-C).
pub const INTERRUPTED: u8 = 130;

/// The exit code for an error.
pub fn for_error(e: &Error) -> u8 {
    match e.kind() {
        // A refused certificate is fixed by configuration (a CA, a client certificate), not
        // by trying again.
        ErrorKind::Config | ErrorKind::Tls => CONFIG,
        ErrorKind::Decode | ErrorKind::InvalidInput => INPUT,
        ErrorKind::Validation => FAILED,
        ErrorKind::NotFound | ErrorKind::Gone => NOT_FOUND,
        ErrorKind::Transport
        | ErrorKind::Timeout
        | ErrorKind::ServerError
        | ErrorKind::ServiceUnavailable
        | ErrorKind::GatewayTimeout
        | ErrorKind::Kafka => UNAVAILABLE,
        _ if e.status().is_some_and(|s| s >= 500) => UNAVAILABLE,
        _ if e.status().is_some() => REFUSED,
        _ => FAILED,
    }
}

//! Turning what went wrong on the wire into the SDK's [`Error`]: an HTTP kind per status with the
//! server's OperationOutcome and Retry-After, or a transport/timeout error, each with a message
//! that says what to do.

use std::time::Duration;

use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};

use crate::error::{Error, ErrorKind};
use crate::fhir::{self, OperationOutcome, ReadOptions, Resource};
use crate::http::retry_after_of;

/// The OperationOutcome in an error body, when the body is one.
pub(crate) fn outcome_of(body: &[u8]) -> Option<OperationOutcome> {
    if body.is_empty() {
        return None;
    }
    match fhir::read::<Resource>(body, ReadOptions::lenient()) {
        Ok(r) => OperationOutcome::try_from(r.value).ok(),
        Err(_) => None,
    }
}

/// The client-error kind an OperationOutcome's first error issue names, for servers that answer
/// 5xx where a 4xx was due (HIE does): the outcome is the better witness of what went wrong.
fn outcome_kind(outcome: &OperationOutcome) -> Option<ErrorKind> {
    use crate::fhir::IssueSeverity::{Error as Err, Fatal};
    let issue = outcome
        .issue
        .iter()
        .find(|i| matches!(i.severity, Some(Err | Fatal)))?;
    Some(match issue.code.as_ref()?.as_str() {
        "invalid" | "structure" | "required" | "value" | "invariant" => ErrorKind::BadRequest,
        "business-rule" | "code-invalid" | "extension" => ErrorKind::Unprocessable,
        "not-found" => ErrorKind::NotFound,
        "deleted" => ErrorKind::Gone,
        "conflict" | "duplicate" => ErrorKind::Conflict,
        "login" | "unknown" | "expired" => ErrorKind::Unauthorized,
        "security" | "forbidden" | "suppressed" => ErrorKind::Forbidden,
        "not-supported" => ErrorKind::MethodNotAllowed,
        "throttled" => ErrorKind::RateLimited,
        _ => return None,
    })
}

/// What to do about a status, for the message.
fn advice(kind: ErrorKind, status: u16, interaction: &str, target: &str) -> String {
    match kind {
        ErrorKind::BadRequest => "the server refused the request as invalid; see the OperationOutcome and fix the resource or parameters".into(),
        ErrorKind::Unauthorized => "authentication failed; check the credentials configured for this client".into(),
        ErrorKind::Forbidden if interaction == "delete" => "these credentials may not delete (HIE disables delete for most source systems; deletions go through HIE case by case)".into(),
        ErrorKind::Forbidden => "these credentials may not do this; ask HIE to extend the integration scope".into(),
        ErrorKind::NotFound => format!("{target} was not found (or the type is not supported); check the type and id"),
        ErrorKind::MethodNotAllowed => "the server does not allow this interaction here (e.g. client-assigned ids); use another interaction".into(),
        ErrorKind::Conflict => "the resource changed or already exists; re-read it and retry".into(),
        ErrorKind::Gone => format!("{target} was deleted"),
        ErrorKind::PreconditionFailed => "version conflict: the resource changed since it was read; re-read it and apply the change to the current version".into(),
        ErrorKind::PayloadTooLarge => "the request is too large for the server; send fewer or smaller resources".into(),
        ErrorKind::UnsupportedMediaType => "the server does not accept this content type".into(),
        ErrorKind::Unprocessable => "the resource violates a MY Core profile or a business rule; see the OperationOutcome".into(),
        ErrorKind::RateLimited => "rate limited; wait for the Retry-After delay and send less often".into(),
        ErrorKind::ServiceUnavailable => "the server is unavailable (overloaded or in maintenance); retry later".into(),
        ErrorKind::GatewayTimeout => "a gateway timed out waiting for the server; retry later".into(),
        ErrorKind::ServerError => "the server failed; retry later or report the request id to HIE".into(),
        _ if (300..400).contains(&status) => "the server redirected the request; set the base URL to the final location (redirects are not followed so credentials stay on the configured host)".into(),
        _ if status >= 500 => "the server or a gateway failed; retry later or report the request id to HIE".into(),
        _ => "the server refused the request".into(),
    }
}

/// The error for a non-success response to `what` (e.g. `read Patient/p1`).
pub(crate) fn http_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
    target: &str,
) -> Error {
    let outcome = outcome_of(body);
    let status_kind = ErrorKind::from_status(status);
    let from_outcome = outcome.as_ref().and_then(outcome_kind);
    let (kind, note) = match from_outcome {
        // A 5xx whose OperationOutcome names a client error: trust the outcome.
        Some(k) if status >= 500 && k != status_kind => (
            k,
            format!(" (the server answered {status} but its OperationOutcome reports a {k} error)"),
        ),
        _ => (status_kind, String::new()),
    };
    let interaction = what.split(' ').next().unwrap_or("");
    let mut message = format!(
        "{what} failed: {}{note}",
        advice(kind, status, interaction, target)
    );
    if status == 401 {
        if let Some(ch) = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()) {
            message.push_str(&format!(" (WWW-Authenticate: {ch})"));
        }
    }
    if (300..400).contains(&status) {
        if let Some(loc) = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            message.push_str(&format!(
                " (Location: {})",
                super::transport::redact_url(loc)
            ));
        }
    }
    let mut err = Error::new(kind, message)
        .with_status(status)
        .with_retry_after(retry_after_of(headers));
    if let Some(o) = outcome {
        err = err.with_outcome(o);
    }
    err
}

/// The error for a request that got no (complete) response.
pub(crate) fn transport_error(e: reqwest::Error, what: &str, timeout: Duration) -> Error {
    let e = e.without_url();
    if e.is_timeout() {
        return Error::new(
            ErrorKind::Timeout,
            format!("{what} timed out after {timeout:?}; raise the request timeout or retry later"),
        )
        .with_source(e);
    }
    let hint = if e.is_connect() {
        "could not connect; check the base URL, DNS, TLS and network"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while the response was read; retry"
    } else {
        "the connection failed or was reset; retry"
    };
    Error::new(ErrorKind::Transport, format!("{what} failed: {hint}")).with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::RETRY_AFTER;

    const OO: &str = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"required","diagnostics":"Appointment.status missing"}]}"#;

    #[test]
    fn status_maps_to_kind_and_keeps_the_outcome() {
        let e = http_error(
            422,
            &HeaderMap::new(),
            OO.as_bytes(),
            "update Appointment/a",
            "Appointment/a",
        );
        assert_eq!(e.kind(), ErrorKind::Unprocessable);
        assert_eq!(e.status(), Some(422));
        assert!(e.outcome().unwrap().summary().contains("status missing"));
        assert!(e.message().contains("business rule"));
    }

    #[test]
    fn a_5xx_with_a_client_error_outcome_follows_the_outcome() {
        let e = http_error(500, &HeaderMap::new(), OO.as_bytes(), "create Slot", "Slot");
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        assert_eq!(e.status(), Some(500));
        assert!(e.outcome().is_some());
        let plain = http_error(500, &HeaderMap::new(), b"oops", "create Slot", "Slot");
        assert_eq!(plain.kind(), ErrorKind::ServerError);
        assert!(plain.outcome().is_none());
    }

    #[test]
    fn retry_after_and_challenge_are_kept() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        let e = http_error(429, &h, b"", "read Patient/p", "Patient/p");
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let mut h = HeaderMap::new();
        h.insert(
            WWW_AUTHENTICATE,
            "Bearer error=\"invalid_token\"".parse().unwrap(),
        );
        let e = http_error(401, &h, b"", "read Patient/p", "Patient/p");
        assert!(e.message().contains("invalid_token"));
    }
}

//! The one error type of the SDK: a kind to match on, a message that says what to do, and the
//! details a caller may need (HTTP status, OperationOutcome, Retry-After, validation report,
//! read location).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::fhir::{OperationOutcome, ReadError};
use crate::mycore::Report;
use crate::vc::Step;

/// What went wrong, for matching. New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// HTTP 400.
    BadRequest,
    /// HTTP 401.
    Unauthorized,
    /// HTTP 403.
    Forbidden,
    /// HTTP 404.
    NotFound,
    /// HTTP 405.
    MethodNotAllowed,
    /// HTTP 409.
    Conflict,
    /// HTTP 410 (deleted).
    Gone,
    /// HTTP 412 (version conflict on If-Match).
    PreconditionFailed,
    /// HTTP 413.
    PayloadTooLarge,
    /// HTTP 415.
    UnsupportedMediaType,
    /// HTTP 422 (profile or business rule violation).
    Unprocessable,
    /// HTTP 429.
    RateLimited,
    /// HTTP 500.
    ServerError,
    /// HTTP 503.
    ServiceUnavailable,
    /// HTTP 504.
    GatewayTimeout,
    /// Any other non-success HTTP status.
    Http,
    /// The connection failed or broke.
    Transport,
    /// A time limit passed.
    Timeout,
    /// A response or message could not be decoded.
    Decode,
    /// MY Core validation failed before anything was sent.
    Validation,
    /// The configuration is incomplete or wrong.
    Config,
    /// A Kafka client error.
    Kafka,
    /// Something was used after it was closed.
    Closed,
    /// The input is not what the operation accepts.
    InvalidInput,
    /// A user callback (e.g. the Kafka listener's handler) failed.
    Handler,
    /// TLS failed: the peer's certificate is not signed by a trusted CA or not issued for the
    /// host connected to, or the peer refused this side's certificate (mutual TLS). Not
    /// retryable: it needs a configuration or certificate change.
    Tls,
}

crate::names::names!(ErrorKind, "error kind" {
    BadRequest => "bad_request",
    Unauthorized => "unauthorized",
    Forbidden => "forbidden",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    Conflict => "conflict",
    Gone => "gone",
    PreconditionFailed => "precondition_failed",
    PayloadTooLarge => "payload_too_large",
    UnsupportedMediaType => "unsupported_media_type",
    Unprocessable => "unprocessable",
    RateLimited => "rate_limited",
    ServerError => "server_error",
    ServiceUnavailable => "service_unavailable",
    GatewayTimeout => "gateway_timeout",
    Http => "http",
    Transport => "transport",
    Timeout => "timeout",
    Decode => "decode",
    Validation => "validation",
    Config => "config",
    Kafka => "kafka",
    Closed => "closed",
    InvalidInput => "invalid_input",
    Handler => "handler",
    Tls => "tls",
});

impl ErrorKind {
    /// The kind for an HTTP error status.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            410 => Self::Gone,
            412 => Self::PreconditionFailed,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::Unprocessable,
            429 => Self::RateLimited,
            500 => Self::ServerError,
            503 => Self::ServiceUnavailable,
            504 => Self::GatewayTimeout,
            _ => Self::Http,
        }
    }
}

/// The SDK's error. One pointer wide, so `Result<T>` stays small on the happy path.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    outcome: Option<Box<OperationOutcome>>,
    retry_after: Option<Duration>,
    report: Option<Box<Report>>,
    location: Option<String>,
    request_id: Option<String>,
    step: Option<Step>,
    completed: Vec<Step>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The SDK's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message that says what happened and what to do.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            status: None,
            outcome: None,
            retry_after: None,
            report: None,
            location: None,
            request_id: None,
            step: None,
            completed: Vec::new(),
            source: None,
        }))
    }
    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    /// An HTTP error for `status`.
    pub fn http(status: u16, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::from_status(status), message);
        e.0.status = Some(status);
        e
    }
    /// MY Core validation failed before sending.
    pub fn validation(report: Report) -> Self {
        let mut e = Self::new(
            ErrorKind::Validation,
            format!("MY Core validation failed: {}; fix the resource or turn client-side validation off", report.summary()),
        );
        e.0.report = Some(Box::new(report));
        e
    }
    /// Sets the OperationOutcome.
    pub fn with_outcome(mut self, outcome: OperationOutcome) -> Self {
        self.0.outcome = Some(Box::new(outcome));
        self
    }
    /// Sets Retry-After.
    pub fn with_retry_after(mut self, d: Option<Duration>) -> Self {
        self.0.retry_after = d;
        self
    }
    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }
    /// Sets the location (a FHIRPath or a message coordinate).
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.0.location = Some(location.into());
        self
    }
    /// Sets the `X-Request-Id` of the HTTP request that failed.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.0.request_id = Some(request_id.into());
        self
    }
    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// The HTTP status, for HTTP errors.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }
    /// The OperationOutcome the server sent, when it sent one.
    pub fn outcome(&self) -> Option<&OperationOutcome> {
        self.0.outcome.as_deref()
    }
    /// How long the server asked to wait (429/503).
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
    /// The validation report, for [`ErrorKind::Validation`].
    pub fn report(&self) -> Option<&Report> {
        self.0.report.as_deref()
    }
    /// Where in the input the problem is (for decode errors).
    pub fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// The `X-Request-Id` of the HTTP request that failed: quote it when reporting to HIE.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// Marks the workflow step that failed and the steps already done, so a caller can resume.
    pub fn with_step(mut self, step: Step, completed: Vec<Step>) -> Self {
        self.0.message = if completed.is_empty() {
            format!(
                "step '{step}' failed (nothing done yet): {}",
                self.0.message
            )
        } else {
            let done: Vec<&str> = completed.iter().map(|s| s.as_str()).collect();
            format!(
                "step '{step}' failed (done: {}): {}",
                done.join(", "),
                self.0.message
            )
        };
        self.0.step = Some(step);
        self.0.completed = completed;
        self
    }
    /// The VC workflow step that failed, for workflow errors.
    pub fn step(&self) -> Option<Step> {
        self.0.step
    }
    /// The VC workflow steps completed before the failure.
    pub fn completed_steps(&self) -> &[Step] {
        &self.0.completed
    }
    /// The message with its causes: `Display` (HTTP status, location, OperationOutcome
    /// summary, request id), then each source in the chain that the text does not already
    /// say (often the I/O cause a transport error only summarises). What bindings show.
    pub fn detailed_message(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let text = s.to_string();
            // A read error's text is `location: message`, both already in the message
            // `From<ReadError>` built; repeating it would double every decode error.
            let said = message.contains(&text)
                || s.downcast_ref::<ReadError>()
                    .is_some_and(|r| message.contains(&r.message));
            if !said {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        message
    }
    /// Everything a binding shows of this error, as plain data (see [`ErrorInfo`]).
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            kind: self.0.kind.as_str().to_owned(),
            message: self.detailed_message(),
            http_status: self.0.status,
            operation_outcome: self.0.outcome.as_deref().cloned(),
            report: self.0.report.as_deref().cloned(),
            location: self.0.location.clone(),
            request_id: self.0.request_id.clone(),
            retry_after_ms: self
                .0
                .retry_after
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            retryable: self.is_retryable(),
            step: self.0.step,
            completed_steps: self.0.completed.clone(),
        }
    }
    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::Transport
                | ErrorKind::Timeout
                | ErrorKind::RateLimited
                | ErrorKind::ServiceUnavailable
                | ErrorKind::GatewayTimeout
        ) || self.0.status == Some(502)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind)
            .field("message", &self.0.message);
        if let Some(s) = self.0.status {
            d.field("status", &s);
        }
        if let Some(o) = &self.0.outcome {
            d.field("outcome", &o.summary());
        }
        if let Some(r) = self.0.retry_after {
            d.field("retry_after", &r);
        }
        if let Some(l) = &self.0.location {
            d.field("location", l);
        }
        if let Some(s) = self.0.step {
            d.field("step", &s).field("completed", &self.0.completed);
        }
        if let Some(r) = &self.0.request_id {
            d.field("request_id", r);
        }
        if let Some(s) = &self.0.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.0.status {
            write!(f, "HTTP {s}: ")?;
        }
        f.write_str(&self.0.message)?;
        if let Some(l) = &self.0.location {
            write!(f, " (at {l})")?;
        }
        if let Some(o) = &self.0.outcome {
            write!(f, " [OperationOutcome: {}]", o.summary())?;
        }
        if let Some(r) = &self.0.request_id {
            write!(f, " (request id {r})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An error as plain data: what every binding hands its callers (the C ABI's error JSON,
/// Python and Node exceptions). Serializes with camelCase names:
/// `{"kind", "message", "httpStatus", "operationOutcome", "report", "location", "requestId",
/// "retryAfterMs", "retryable", "step", "completedSteps"}`, absent values as `null`; the
/// OperationOutcome as the FHIR JSON the server sent (as the model writes it).
///
/// `kind` is a string so a binding can report its own failures (`"null_argument"`, ...) in
/// the same shape; for SDK errors it is [`ErrorKind::as_str`]. Never holds secrets: error
/// messages never quote credentials or tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorInfo {
    /// The error kind's stable snake_case name.
    pub kind: String,
    /// [`Error::detailed_message`].
    pub message: String,
    /// The HTTP status, for HTTP errors.
    pub http_status: Option<u16>,
    /// The OperationOutcome the server sent.
    #[serde(serialize_with = "crate::fhir::embed::option")]
    pub operation_outcome: Option<OperationOutcome>,
    /// The MY Core report, for validation errors.
    pub report: Option<Report>,
    /// Where in the input the problem is.
    pub location: Option<String>,
    /// The `X-Request-Id` of the failed HTTP request.
    pub request_id: Option<String>,
    /// How long the server asked to wait, in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// Whether retrying later may succeed.
    pub retryable: bool,
    /// The VC workflow step that failed.
    pub step: Option<Step>,
    /// The VC workflow steps done before it.
    pub completed_steps: Vec<Step>,
}

impl ErrorInfo {
    /// A binding's own failure (not an SDK error), e.g. kind `null_argument`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
            http_status: None,
            operation_outcome: None,
            report: None,
            location: None,
            request_id: None,
            retry_after_ms: None,
            retryable: false,
            step: None,
            completed_steps: Vec::new(),
        }
    }
}

impl Serialize for Error {
    /// As [`ErrorInfo`].
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.info().serialize(s)
    }
}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Self {
        let location = e.location.clone();
        Error::new(
            ErrorKind::Decode,
            format!("could not read FHIR JSON: {}", e.message),
        )
        .with_location(location)
        .with_source(e)
    }
}

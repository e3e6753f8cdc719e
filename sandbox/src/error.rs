//! The sandbox's errors: [`Error`] for its Rust API, [`FhirError`] for a FHIR failure (an HTTP
//! status with the OperationOutcome that explains it, exactly what the HTTP side answers).

use std::fmt;
use std::net::SocketAddr;

use hie_vc::fhir::{Code, IssueSeverity, OperationOutcome, OperationOutcomeIssue};

/// A FHIR failure: the HTTP status the sandbox answers and its OperationOutcome.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirError {
    status: u16,
    // Boxed: errors travel in `Result`s on every path, and an OperationOutcome is large.
    outcome: Box<OperationOutcome>,
}

impl FhirError {
    /// A failure with one `error` issue of IssueType `code` (`not-found`, `invalid`, ...).
    pub fn new(status: u16, code: &str, diagnostics: impl Into<String>) -> Self {
        Self {
            status,
            outcome: Box::new(outcome(IssueSeverity::Error, code, diagnostics)),
        }
    }
    /// A failure explained by a whole OperationOutcome (e.g. a MY Core validation report).
    pub fn with_outcome(status: u16, outcome: OperationOutcome) -> Self {
        Self {
            status,
            outcome: Box::new(outcome),
        }
    }
    /// Adds the location (FHIRPath expression) of the first issue.
    pub fn at(mut self, expression: impl Into<String>) -> Self {
        if let Some(i) = self.outcome.issue.first_mut() {
            i.expression.push(expression.into());
        }
        self
    }
    /// Prefixes the diagnostics of every issue (e.g. with the failing bundle entry).
    pub(crate) fn context(mut self, prefix: &str) -> Self {
        for i in &mut self.outcome.issue {
            i.diagnostics = Some(match i.diagnostics.take() {
                Some(d) => format!("{prefix}: {d}"),
                None => prefix.to_owned(),
            });
        }
        self
    }
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The OperationOutcome.
    pub fn outcome(&self) -> &OperationOutcome {
        &self.outcome
    }
    /// The OperationOutcome, owned.
    pub fn into_outcome(self) -> OperationOutcome {
        *self.outcome
    }
}

impl fmt::Display for FhirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.outcome.summary())
    }
}

impl std::error::Error for FhirError {}

/// An OperationOutcome with a single issue.
pub(crate) fn outcome(
    severity: IssueSeverity,
    code: &str,
    diagnostics: impl Into<String>,
) -> OperationOutcome {
    OperationOutcome {
        issue: vec![OperationOutcomeIssue {
            severity: Some(severity),
            code: Code::new(code).ok(),
            diagnostics: Some(diagnostics.into()),
            ..OperationOutcomeIssue::default()
        }],
        ..OperationOutcome::default()
    }
}

/// What the sandbox's Rust API can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is incomplete or contradictory.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    /// A FHIR-level failure (the same status and OperationOutcome the HTTP side answers).
    #[error(transparent)]
    Fhir(#[from] FhirError),
    /// The Encounter could not be delivered to the event source (it is stored; checking in
    /// again retries the delivery).
    #[error("publishing the Encounter to {target} failed: {message}")]
    Publish {
        /// The topic (and brokers) written to.
        target: String,
        /// What the broker or the in-memory source said.
        message: String,
    },
    /// A recorded item (session, notification) that does not exist.
    #[error("{0}")]
    NotFound(String),
}

impl Error {
    /// The HTTP status this error is answered with by the admin endpoints.
    pub fn status(&self) -> u16 {
        match self {
            Self::Bind { .. } | Self::Config(_) => 500,
            Self::Fhir(e) => e.status(),
            Self::Publish { .. } => 502,
            Self::NotFound(_) => 404,
        }
    }
}

/// The SDK's one error type, for front ends that show every failure the same way (the C ABI,
/// the Python and Node packages): a FHIR failure keeps its status and OperationOutcome.
impl From<Error> for hie_vc::Error {
    fn from(e: Error) -> Self {
        use hie_vc::ErrorKind;
        match e {
            Error::Fhir(f) => {
                let message = f.to_string();
                hie_vc::Error::http(f.status(), message).with_outcome(f.into_outcome())
            }
            Error::Config(m) => hie_vc::Error::config(format!("sandbox: {m}")),
            Error::NotFound(m) => hie_vc::Error::new(ErrorKind::NotFound, m),
            other @ Error::Publish { .. } => {
                hie_vc::Error::new(ErrorKind::Kafka, other.to_string())
            }
            other @ Error::Bind { .. } => {
                hie_vc::Error::new(ErrorKind::Transport, other.to_string())
            }
        }
    }
}

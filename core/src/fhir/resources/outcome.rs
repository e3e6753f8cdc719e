//! OperationOutcome (R4).

use super::codes::IssueSeverity;
use crate::fhir::{Code, CodeableConcept};

fhir_struct! {
    /// Information about the success/failure of an action.
    resource OperationOutcome "OperationOutcome" {
        /// A single issue associated with the action.
        issue: Vec<OperationOutcomeIssue> = "issue" [required];
    }
}

fhir_struct! {
    /// One issue of an OperationOutcome.
    backbone OperationOutcomeIssue "OperationOutcome.issue" {
        /// fatal | error | warning | information.
        severity: Option<IssueSeverity> = "severity" [required];
        /// Error or warning code (IssueType).
        code: Option<Code> = "code" [required];
        /// Additional details about the error.
        details: Option<CodeableConcept> = "details";
        /// Additional diagnostic information about the issue.
        diagnostics: Option<String> = "diagnostics";
        /// Deprecated: path of element(s) related to issue.
        location: Vec<String> = "location";
        /// FHIRPath of element(s) related to issue.
        expression: Vec<String> = "expression";
    }
}

impl OperationOutcome {
    /// Whether any issue is fatal or an error.
    pub fn has_errors(&self) -> bool {
        self.issue.iter().any(|i| {
            matches!(
                i.severity,
                Some(IssueSeverity::Fatal | IssueSeverity::Error)
            )
        })
    }
    /// A one-line summary of the issues (diagnostics or details text), for error messages.
    pub fn summary(&self) -> String {
        self.issue
            .iter()
            .map(|i| {
                let sev = i.severity.as_ref().map_or("issue", |s| s.as_str());
                let text = i
                    .diagnostics
                    .as_deref()
                    .or_else(|| i.details.as_ref().and_then(|d| d.text.as_deref()))
                    .or_else(|| i.code.as_ref().map(Code::as_str))
                    .unwrap_or("");
                match i.expression.first().or_else(|| i.location.first()) {
                    Some(at) => format!("{sev}: {text} (at {at})"),
                    None => format!("{sev}: {text}"),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

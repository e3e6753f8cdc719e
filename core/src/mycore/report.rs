//! A validation report: located issues, convertible to an OperationOutcome.

use std::fmt;

use crate::fhir::{Code, IssueSeverity, OperationOutcome, OperationOutcomeIssue};

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The resource does not conform; HIE would refuse it.
    Error,
    /// Accepted, but off (a known quirk, an unknown code, ...).
    Warning,
    /// For information only.
    Information,
}

// The FHIR IssueSeverity codes.
crate::names::names!(Severity, "issue severity" {
    Error => "error",
    Warning => "warning",
    Information => "information",
});

/// Where a profile-derived finding comes from: the definition and element (and binding) of
/// the MY Core IG it enforces. JSON: `{"definition", "element", "binding"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ProfileRef {
    /// The canonical of the StructureDefinition (profile or extension) or, for a code outside
    /// a complete code system, of the CodeSystem.
    pub definition: &'static str,
    /// The element id in it (`Appointment.serviceType`).
    pub element: &'static str,
    /// The value set of the binding enforced, if any.
    pub binding: Option<&'static str>,
}

/// One finding. JSON: `{"severity", "code", "rule", "location", "message", "source",
/// "profile"}`: `source` is `profile` for an issue only the IG's profiles state (its rule id
/// starts with `profile-`) and `workflow` for a MY Core VC rule; `profile` names the profile
/// element an issue enforces (also on a workflow issue that states a profile rule in its own
/// words), else it is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// How serious.
    pub severity: Severity,
    /// FHIR IssueType code (`required`, `value`, `code-invalid`, `business-rule`, ...).
    pub code: &'static str,
    /// Stable id of the MY Core rule (e.g. `vc-token-required`), for filtering and tests.
    pub rule: &'static str,
    /// FHIRPath-like location, e.g. `Appointment.participant[1].actor.type`.
    pub location: String,
    /// What is wrong and what to do.
    pub message: String,
    /// The profile element this issue enforces, when the IG's profiles state it.
    pub profile: Option<ProfileRef>,
}

impl Issue {
    /// `profile` for a rule only the profiles state, `workflow` for a MY Core VC rule.
    pub fn source(&self) -> &'static str {
        if self.rule.starts_with("profile-") {
            "profile"
        } else {
            "workflow"
        }
    }
}

impl serde::Serialize for Issue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("severity", &self.severity)?;
        m.serialize_entry("code", self.code)?;
        m.serialize_entry("rule", self.rule)?;
        m.serialize_entry("location", &self.location)?;
        m.serialize_entry("message", &self.message)?;
        m.serialize_entry("source", self.source())?;
        if let Some(p) = &self.profile {
            m.serialize_entry("profile", p)?;
        }
        m.end()
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity.as_str(),
            self.rule,
            self.location,
            self.message
        )
    }
}

/// The findings of a validation. JSON: `{"valid", "errors", "warnings", "summary", "issues"}`
/// (`errors` and `warnings` are counts; `issues` as [`Issue`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every finding, in document order.
    pub issues: Vec<Issue>,
}

impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Report", 5)?;
        m.serialize_field("valid", &self.is_valid())?;
        m.serialize_field("errors", &self.errors().count())?;
        m.serialize_field("warnings", &self.warnings().count())?;
        m.serialize_field("summary", &self.summary())?;
        m.serialize_field("issues", &self.issues)?;
        m.end()
    }
}

impl Report {
    /// No error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !self.has_errors()
    }
    /// At least one error.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }
    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity == Severity::Error)
    }
    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
    }
    /// A one-line summary (the first errors, then a count), for error messages.
    pub fn summary(&self) -> String {
        let errors: Vec<&Issue> = self.errors().collect();
        if errors.is_empty() {
            return format!("no errors ({} warnings)", self.warnings().count());
        }
        let shown: Vec<String> = errors
            .iter()
            .take(3)
            .map(|i| format!("{}: {}", i.location, i.message))
            .collect();
        let more = errors.len().saturating_sub(3);
        if more > 0 {
            format!("{} (and {more} more errors)", shown.join("; "))
        } else {
            shown.join("; ")
        }
    }
    /// The report as a FHIR OperationOutcome (an `information` issue when there is nothing to say).
    pub fn to_operation_outcome(&self) -> OperationOutcome {
        let mut oo = OperationOutcome::default();
        for i in &self.issues {
            oo.issue.push(OperationOutcomeIssue {
                severity: Some(match i.severity {
                    Severity::Error => IssueSeverity::Error,
                    Severity::Warning => IssueSeverity::Warning,
                    Severity::Information => IssueSeverity::Information,
                }),
                code: Code::new(i.code).ok(),
                diagnostics: Some(format!("[{}] {}", i.rule, i.message)),
                expression: vec![i.location.clone()],
                ..Default::default()
            });
        }
        if oo.issue.is_empty() {
            oo.issue.push(OperationOutcomeIssue {
                severity: Some(IssueSeverity::Information),
                code: Code::new("informational").ok(),
                diagnostics: Some("All OK: no MY Core VC rule is violated".to_owned()),
                ..Default::default()
            });
        }
        oo
    }
    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        rule: &'static str,
        location: String,
        message: impl Into<String>,
    ) {
        self.issues.push(Issue {
            severity,
            code,
            rule,
            location,
            message: message.into(),
            profile: None,
        });
    }
    pub(crate) fn push_issue(&mut self, issue: Issue) {
        self.issues.push(issue);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_counts() {
        let mut r = Report::default();
        assert!(r.is_valid());
        assert!(r.summary().starts_with("no errors"));
        for i in 0..5 {
            r.push(
                Severity::Error,
                "required",
                "x",
                format!("A.b{i}"),
                "missing",
            );
        }
        r.push(Severity::Warning, "value", "y", "A.c".into(), "odd");
        assert!(r.has_errors());
        assert_eq!((r.errors().count(), r.warnings().count()), (5, 1));
        assert!(r.summary().contains("and 2 more errors"), "{}", r.summary());
        assert_eq!(r.to_operation_outcome().issue.len(), 6);
    }
}

//! `hie_vc.mycore`: MY Core builders (keyword arguments → the core's spec structs), validation
//! reports and the VC view of an Encounter.

use hie_vc::fhir::{self, DateTime, Resource};
use hie_vc::mycore::{self, spec, QuotaWire, Validator};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::{invalid, IntoPyResult};
use crate::fhir::{read_with, resource_arg};

/// Wraps FHIR JSON in the `hie_vc.fhir` model class of its type.
pub(crate) fn fhir_object<'py>(py: Python<'py>, json: String) -> PyResult<Bound<'py, PyAny>> {
    py.import("hie_vc.fhir")?
        .getattr("_from_json")?
        .call1((json,))
}

/// One finding of a validation.
#[pyclass(module = "hie_vc.mycore", frozen, eq, get_all)]
#[derive(Clone, PartialEq)]
pub(crate) struct Issue {
    /// `error`, `warning` or `information`.
    severity: String,
    /// The FHIR IssueType code (`required`, `value`, `code-invalid`, `business-rule`, ...).
    code: String,
    /// The stable id of the rule (e.g. `vc-token-required`).
    rule: String,
    /// Where, FHIRPath-like (e.g. `Appointment.participant[1].actor`).
    location: String,
    /// What is wrong and what to do.
    message: String,
    /// `profile` (a rule the IG's profiles state) or `workflow` (a MY Core VC rule).
    source: String,
    /// The canonical of the StructureDefinition (or CodeSystem) the issue enforces, if any.
    profile_definition: Option<String>,
    /// The element id in it (`Appointment.serviceType`).
    profile_element: Option<String>,
    /// The value set of the binding enforced, if any.
    profile_binding: Option<String>,
}

#[pymethods]
impl Issue {
    fn __repr__(&self) -> String {
        format!(
            "Issue(severity={:?}, rule={:?}, location={:?}, message={:?})",
            self.severity, self.rule, self.location, self.message
        )
    }
    fn __str__(&self) -> String {
        format!(
            "{} [{}] {}: {}",
            self.severity, self.rule, self.location, self.message
        )
    }
}

/// The findings of a MY Core validation.
#[pyclass(module = "hie_vc.mycore", frozen)]
pub(crate) struct Report {
    inner: mycore::Report,
}

impl Report {
    pub(crate) fn new(inner: mycore::Report) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl Report {
    /// No error (warnings allowed).
    #[getter]
    fn is_valid(&self) -> bool {
        self.inner.is_valid()
    }
    /// Every finding, in document order.
    #[getter]
    fn issues<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner.issues.iter().map(|i| Issue {
                severity: i.severity.as_str().to_owned(),
                code: i.code.to_owned(),
                rule: i.rule.to_owned(),
                location: i.location.clone(),
                message: i.message.clone(),
                source: i.source().to_owned(),
                profile_definition: i.profile.as_ref().map(|p| p.definition.to_owned()),
                profile_element: i.profile.as_ref().map(|p| p.element.to_owned()),
                profile_binding: i
                    .profile
                    .as_ref()
                    .and_then(|p| p.binding.map(str::to_owned)),
            }),
        )
    }
    /// The number of errors.
    #[getter]
    fn error_count(&self) -> usize {
        self.inner.errors().count()
    }
    /// The number of warnings.
    #[getter]
    fn warning_count(&self) -> usize {
        self.inner.warnings().count()
    }
    /// One line saying what is wrong (or that nothing is).
    #[getter]
    fn summary(&self) -> String {
        self.inner.summary()
    }
    /// The report as a FHIR OperationOutcome (what HIE would answer).
    fn to_operation_outcome<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fhir_object(py, fhir::to_json(&self.inner.to_operation_outcome()))
    }
    /// The report as the core's JSON document (`valid`, `errors`, `warnings`, `summary`, `issues`).
    fn to_json(&self) -> PyResult<String> {
        crate::fhir::json(&self.inner)
    }
    fn __bool__(&self) -> bool {
        self.inner.is_valid()
    }
    fn __len__(&self) -> usize {
        self.inner.issues.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "Report(is_valid={}, errors={}, warnings={})",
            if self.inner.is_valid() {
                "True"
            } else {
                "False"
            },
            self.inner.errors().count(),
            self.inner.warnings().count()
        )
    }
}

/// `validate(resource_json, ...) -> Report`.
#[pyfunction]
#[pyo3(signature = (resource, accept_published_quirks = false, profile_base = None, require_profile_claim = false, lenient = false, deny_unknown = false))]
fn validate(
    resource: &str,
    accept_published_quirks: bool,
    profile_base: Option<String>,
    require_profile_claim: bool,
    lenient: bool,
    deny_unknown: bool,
) -> PyResult<Report> {
    let r = read_with(resource.as_bytes(), lenient, deny_unknown)
        .py()?
        .value;
    let mut v = Validator::new()
        .accept_published_quirks(accept_published_quirks)
        .require_profile_claim(require_profile_claim);
    if let Some(b) = profile_base {
        v = v.profile_base(b);
    }
    Ok(Report::new(v.validate(&r)))
}

/// The VC view of an Encounter as the core's JSON, or an error saying why it is not one.
#[pyfunction]
#[pyo3(signature = (encounter, lenient = false, deny_unknown = false))]
fn vc_view(encounter: &str, lenient: bool, deny_unknown: bool) -> PyResult<String> {
    let r = read_with(encounter.as_bytes(), lenient, deny_unknown)
        .py()?
        .value;
    let Resource::Encounter(e) = r else {
        return Err(invalid(format!(
            "the VC view needs an Encounter, not a {}",
            r.resource_type()
        )));
    };
    let vc = mycore::VcEncounter::from_encounter(&e).py()?;
    crate::fhir::json(&vc)
}

/// Builds a resource from a builder spec (`kind`: appointment, schedule, slot) given as JSON.
#[pyfunction]
fn build(kind: &str, spec_json: &str) -> PyResult<String> {
    Ok(match kind {
        "appointment" => fhir::to_json(
            &spec::from_json::<spec::AppointmentSpec>(kind, spec_json)
                .py()?
                .build()
                .py()?,
        ),
        "schedule" => fhir::to_json(
            &spec::from_json::<spec::ScheduleSpec>(kind, spec_json)
                .py()?
                .build()
                .py()?,
        ),
        "slot" => fhir::to_json(
            &spec::from_json::<spec::SlotSpec>(kind, spec_json)
                .py()?
                .build()
                .py()?,
        ),
        other => return Err(invalid(format!("no builder for '{other}'"))),
    })
}

pub(crate) fn typed<T: hie_vc::hie::TypedResource>(json: &str, what: &str) -> PyResult<T> {
    let r = resource_arg(json)?;
    let got = r.resource_type().to_owned();
    T::from_resource(r).map_err(|_| invalid(format!("{what} must be a {}, not a {got}", T::NAME)))
}

/// The Encounter finished at `end` (status history kept), as JSON.
#[pyfunction]
fn finish_encounter(encounter: &str, end: &str) -> PyResult<String> {
    let e: fhir::Encounter = typed(encounter, "encounter")?;
    let end = DateTime::new(end).map_err(|e| invalid(format!("end: {e}")))?;
    Ok(fhir::to_json(&mycore::finish_encounter(&e, end)))
}

/// The transaction Bundle that PUTs a Schedule and its Slots, as JSON.
#[pyfunction]
#[pyo3(signature = (schedule, slots, full_url_base = None))]
fn scheduling_bundle(
    schedule: &str,
    slots: Vec<String>,
    full_url_base: Option<&str>,
) -> PyResult<String> {
    let s: fhir::Schedule = typed(schedule, "schedule")?;
    let slots = slots
        .iter()
        .enumerate()
        .map(|(i, j)| typed::<fhir::Slot>(j, &format!("slots[{i}]")))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(fhir::to_json(
        &mycore::scheduling_bundle(&s, &slots, full_url_base).py()?,
    ))
}

/// The transaction Bundle that books an Appointment into a Slot, as JSON.
#[pyfunction]
#[pyo3(signature = (appointment, slot, quota_wire = "integer", full_url_base = None))]
fn booking_bundle(
    appointment: &str,
    slot: &str,
    quota_wire: &str,
    full_url_base: Option<&str>,
) -> PyResult<String> {
    let a: fhir::Appointment = typed(appointment, "appointment")?;
    let s: fhir::Slot = typed(slot, "slot")?;
    let wire: QuotaWire = quota_wire.parse().py()?;
    Ok(fhir::to_json(
        &mycore::booking_bundle(&a, &s, wire, full_url_base).py()?,
    ))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Issue>()?;
    m.add_class::<Report>()?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(vc_view, m)?)?;
    m.add_function(wrap_pyfunction!(build, m)?)?;
    m.add_function(wrap_pyfunction!(finish_encounter, m)?)?;
    m.add_function(wrap_pyfunction!(scheduling_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(booking_bundle, m)?)?;
    Ok(())
}

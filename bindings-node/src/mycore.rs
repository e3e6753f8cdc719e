//! `mycore`: MY Core builders (option objects → the core's spec structs), validation reports
//! and the VC view of an Encounter.

use hie_vc::fhir::{self, DateTime, Resource};
use hie_vc::mycore::{self, spec, QuotaWire, Validator};
use napi_derive::napi;
use serde::Deserialize;

use crate::errors::{invalid, json, IntoNapi};
use crate::fhir::{bytes, read_with, typed, Input};

/// `mycore.validate`'s options (camelCase, as the JavaScript layer passes them).
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct ValidateOptions {
    accept_published_quirks: bool,
    profile_base: Option<String>,
    require_profile_claim: bool,
    lenient: bool,
    deny_unknown: bool,
}

/// Validates a resource: `{"report": Report JSON, "operationOutcome": FHIR JSON}`.
#[napi(js_name = "mycoreValidate")]
pub fn validate(resource: Input, options_json: Option<String>) -> napi::Result<String> {
    let o: ValidateOptions = match options_json {
        Some(t) => {
            serde_json::from_str(&t).map_err(|e| invalid(format!("validate options: {e}")))?
        }
        None => ValidateOptions::default(),
    };
    let r = read_with(bytes(&resource), o.lenient, o.deny_unknown)
        .napi()?
        .value;
    let mut v = Validator::new()
        .accept_published_quirks(o.accept_published_quirks)
        .require_profile_claim(o.require_profile_claim);
    if let Some(b) = o.profile_base {
        v = v.profile_base(b);
    }
    let report = v.validate(&r);
    Ok(format!(
        "{{\"report\":{},\"operationOutcome\":{}}}",
        json(&report).napi()?,
        fhir::to_json(&report.to_operation_outcome())
    ))
}

/// The VC view of an Encounter as the core's JSON, or an error saying why it is not one.
#[napi(js_name = "mycoreVcView")]
pub fn vc_view(
    encounter: Input,
    lenient: Option<bool>,
    deny_unknown: Option<bool>,
) -> napi::Result<String> {
    let r = read_with(
        bytes(&encounter),
        lenient.unwrap_or(false),
        deny_unknown.unwrap_or(false),
    )
    .napi()?
    .value;
    let Resource::Encounter(e) = r else {
        return Err(invalid(format!(
            "the VC view needs an Encounter, not a {}",
            r.resource_type()
        )));
    };
    json(&mycore::VcEncounter::from_encounter(&e).napi()?).napi()
}

/// Builds a resource from a builder spec (`kind`: appointment, schedule, slot) given as JSON
/// (camelCase names, as the core's spec accepts them).
#[napi(js_name = "mycoreBuild")]
pub fn build(kind: String, spec_json: String) -> napi::Result<String> {
    let k = kind.as_str();
    Ok(match k {
        "appointment" => fhir::to_json(
            &spec::from_json::<spec::AppointmentSpec>(k, &spec_json)
                .napi()?
                .build()
                .napi()?,
        ),
        "schedule" => fhir::to_json(
            &spec::from_json::<spec::ScheduleSpec>(k, &spec_json)
                .napi()?
                .build()
                .napi()?,
        ),
        "slot" => fhir::to_json(
            &spec::from_json::<spec::SlotSpec>(k, &spec_json)
                .napi()?
                .build()
                .napi()?,
        ),
        other => return Err(invalid(format!("no builder for '{other}'"))),
    })
}

/// The Encounter finished at `end` (status history kept), as JSON.
#[napi(js_name = "mycoreFinishEncounter")]
pub fn finish_encounter(encounter: String, end: String) -> napi::Result<String> {
    let e: fhir::Encounter = typed(&encounter, "encounter")?;
    let end = DateTime::new(&end).map_err(|e| invalid(format!("end: {e}")))?;
    Ok(fhir::to_json(&mycore::finish_encounter(&e, end)))
}

/// The transaction Bundle that PUTs a Schedule and its Slots, as JSON.
#[napi(js_name = "mycoreSchedulingBundle")]
pub fn scheduling_bundle(
    schedule: String,
    slots: Vec<String>,
    full_url_base: Option<String>,
) -> napi::Result<String> {
    let s: fhir::Schedule = typed(&schedule, "schedule")?;
    let slots = slots
        .iter()
        .enumerate()
        .map(|(i, j)| typed::<fhir::Slot>(j, &format!("slots[{i}]")))
        .collect::<napi::Result<Vec<_>>>()?;
    Ok(fhir::to_json(
        &mycore::scheduling_bundle(&s, &slots, full_url_base.as_deref()).napi()?,
    ))
}

/// The transaction Bundle that books an Appointment into a Slot, as JSON.
#[napi(js_name = "mycoreBookingBundle")]
pub fn booking_bundle(
    appointment: String,
    slot: String,
    quota_wire: Option<String>,
    full_url_base: Option<String>,
) -> napi::Result<String> {
    let a: fhir::Appointment = typed(&appointment, "appointment")?;
    let s: fhir::Slot = typed(&slot, "slot")?;
    let wire: QuotaWire = quota_wire.as_deref().unwrap_or("integer").parse().napi()?;
    Ok(fhir::to_json(
        &mycore::booking_bundle(&a, &s, wire, full_url_base.as_deref()).napi()?,
    ))
}

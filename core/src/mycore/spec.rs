//! The MY Core builders as plain data: what a binding's keyword arguments (Python) or option
//! object (Node) hold, deserialized once here and applied to the builders, so every front end
//! accepts the same names (snake_case, or camelCase for JavaScript) and gives the same errors.
//!
//! ```
//! use hie_vc::mycore::spec::AppointmentSpec;
//! let spec: AppointmentSpec = serde_json::from_str(r#"{
//!     "id": "appt-1", "specialty": "86", "patient": {"id": "p1", "display": "Siti"},
//!     "slot": "slot-1", "start": "2023-07-10T21:00:00+08:00", "end": "2023-07-10T22:00:00+08:00"
//! }"#).unwrap();
//! let appt = spec.build().unwrap();
//! assert_eq!(appt.status.unwrap().as_str(), "booked");
//! ```

use serde::Deserialize;

use super::builders::{AppointmentBuilder, ScheduleBuilder, ScheduleType, SlotBuilder};
use super::quota::QuotaWire;
use super::vc::VcType;
use crate::fhir::{Appointment, AppointmentStatus, Schedule, Slot, SlotStatus};
use crate::{Error, ErrorKind, Result};

/// A participant: `"id"` alone or `{"id", "display"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Party {
    /// Just the id.
    Id(String),
    /// The id and a display name.
    Named {
        /// The logical id.
        id: String,
        /// The display name (empty when absent).
        #[serde(default)]
        display: String,
        /// For a practitioner: `Practitioner` (default) or `PractitionerRole`.
        #[serde(default, alias = "resourceType", rename = "type")]
        kind: Option<String>,
    },
}

impl Party {
    fn parts(&self) -> (&str, &str, Option<&str>) {
        match self {
            Party::Id(id) => (id, "", None),
            Party::Named { id, display, kind } => (id, display, kind.as_deref()),
        }
    }
}

fn bad(message: String) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

fn vc_type(code: Option<&str>, default: VcType) -> VcType {
    code.map_or(default, VcType::from_code)
}

fn schedule_type(code: Option<&str>) -> Result<Option<ScheduleType>> {
    code.map(|c| {
        ScheduleType::from_code(c)
            .ok_or_else(|| bad(format!("'{c}' is not a MY Core schedule type code")))
    })
    .transpose()
}

fn both(
    what: &str,
    start: &Option<String>,
    end: &Option<String>,
) -> Result<Option<(String, String)>> {
    match (start, end) {
        (Some(s), Some(e)) => Ok(Some((s.clone(), e.clone()))),
        (None, None) => Ok(None),
        _ => Err(bad(format!("{what} needs both start and end, or neither"))),
    }
}

/// An Appointment ([`AppointmentBuilder`]): VCI by default, VCE when `token` is given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AppointmentSpec {
    /// The client-chosen id.
    pub id: String,
    /// `VCI` or `VCE` (default: `VCE` with a token, else `VCI`).
    #[serde(alias = "vcType")]
    pub vc_type: Option<String>,
    /// The VCE session token.
    pub token: Option<String>,
    /// The status code (default: `booked` with a slot, `pending` without).
    pub status: Option<String>,
    /// The MY Core specialty code.
    pub specialty: Option<String>,
    /// The MY Core schedule-type code (default `internal`).
    #[serde(alias = "appointmentType")]
    pub appointment_type: Option<String>,
    /// The HealthcareService.
    #[serde(alias = "healthcareService")]
    pub healthcare_service: Option<Party>,
    /// The patient.
    pub patient: Option<Party>,
    /// The practitioner.
    pub practitioner: Option<Party>,
    /// The Slot id.
    pub slot: Option<String>,
    /// Start instant.
    pub start: Option<String>,
    /// End instant.
    pub end: Option<String>,
    /// The creation date.
    pub created: Option<String>,
    /// A description.
    pub description: Option<String>,
    /// The canonical base of the profiles claimed in `meta.profile`.
    #[serde(alias = "profileBase")]
    pub profile_base: Option<String>,
}

impl AppointmentSpec {
    /// Builds and checks the Appointment.
    pub fn build(&self) -> Result<Appointment> {
        let default = if self.token.is_some() {
            VcType::Vce
        } else {
            VcType::Vci
        };
        let mut b = AppointmentBuilder::new(
            self.id.clone(),
            vc_type(self.vc_type.as_deref(), default),
            self.token.clone(),
        );
        if let Some(s) = &self.status {
            b = b.status(AppointmentStatus::from_code(s));
        }
        if let Some(s) = &self.specialty {
            b = b.specialty(s.clone());
        }
        if let Some(t) = schedule_type(self.appointment_type.as_deref())? {
            b = b.appointment_type(t);
        }
        if let Some(p) = &self.healthcare_service {
            let (id, display, _) = p.parts();
            b = b.healthcare_service(id, display);
        }
        if let Some(p) = &self.patient {
            let (id, display, _) = p.parts();
            b = b.patient(id, display);
        }
        if let Some(p) = &self.practitioner {
            let (id, display, kind) = p.parts();
            b = b.practitioner(kind.unwrap_or("Practitioner"), id, display);
        }
        if let Some(s) = &self.slot {
            b = b.slot(s.clone());
        }
        if let Some((s, e)) = both("an Appointment's period", &self.start, &self.end)? {
            b = b.period(s, e);
        }
        if let Some(c) = &self.created {
            b = b.created(c.clone());
        }
        if let Some(d) = &self.description {
            b = b.description(d.clone());
        }
        if let Some(p) = &self.profile_base {
            b = b.profile_base(p.clone());
        }
        b.build()
    }
}

/// A Schedule ([`ScheduleBuilder`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ScheduleSpec {
    /// The client-chosen id.
    pub id: String,
    /// `VCI` or `VCE` (default: `VCE` with a token, else `VCI`).
    #[serde(alias = "vcType")]
    pub vc_type: Option<String>,
    /// The VCE session token.
    pub token: Option<String>,
    /// The MY Core schedule-type code (default `internal`).
    #[serde(alias = "scheduleType")]
    pub schedule_type: Option<String>,
    /// The MY Core specialty code.
    pub specialty: Option<String>,
    /// The HealthcareService.
    #[serde(alias = "healthcareService")]
    pub healthcare_service: Option<Party>,
    /// The practitioner whose schedule it is.
    pub practitioner: Option<Party>,
    /// Start of the planning horizon.
    pub start: Option<String>,
    /// End of the planning horizon.
    pub end: Option<String>,
    /// A comment.
    pub comment: Option<String>,
    /// The canonical base of the profiles claimed in `meta.profile`.
    #[serde(alias = "profileBase")]
    pub profile_base: Option<String>,
}

impl ScheduleSpec {
    /// Builds and checks the Schedule.
    pub fn build(&self) -> Result<Schedule> {
        let default = if self.token.is_some() {
            VcType::Vce
        } else {
            VcType::Vci
        };
        let mut b =
            ScheduleBuilder::new(self.id.clone(), vc_type(self.vc_type.as_deref(), default));
        if let Some(t) = &self.token {
            b = b.token(t.clone());
        }
        if let Some(t) = schedule_type(self.schedule_type.as_deref())? {
            b = b.schedule_type(t);
        }
        if let Some(s) = &self.specialty {
            b = b.specialty(s.clone());
        }
        if let Some(p) = &self.healthcare_service {
            let (id, display, _) = p.parts();
            b = b.healthcare_service(id, display);
        }
        if let Some(p) = &self.practitioner {
            let (id, display, kind) = p.parts();
            b = b.actor(kind.unwrap_or("Practitioner"), id, display);
        }
        if let Some((s, e)) = both("a Schedule's planning horizon", &self.start, &self.end)? {
            b = b.planning_horizon(s, e);
        }
        if let Some(c) = &self.comment {
            b = b.comment(c.clone());
        }
        if let Some(p) = &self.profile_base {
            b = b.profile_base(p.clone());
        }
        b.build()
    }
}

/// A Slot ([`SlotBuilder`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SlotSpec {
    /// The client-chosen id.
    pub id: String,
    /// `VCI` or `VCE` (default: `VCE` with a token, else `VCI`).
    #[serde(alias = "vcType")]
    pub vc_type: Option<String>,
    /// The Schedule id.
    pub schedule: Option<String>,
    /// The VCE session token.
    pub token: Option<String>,
    /// How many patients the slot takes (default 1).
    pub quota: Option<i64>,
    /// How many places are left (default: the quota).
    pub available: Option<i64>,
    /// `integer` (the profile) or `string` (the published examples).
    #[serde(alias = "quotaWire")]
    pub quota_wire: Option<String>,
    /// The MY Core specialty code.
    pub specialty: Option<String>,
    /// The MY Core schedule-type code (default `internal`).
    #[serde(alias = "appointmentType")]
    pub appointment_type: Option<String>,
    /// The status code (default `free`).
    pub status: Option<String>,
    /// Start instant.
    pub start: Option<String>,
    /// End instant.
    pub end: Option<String>,
    /// A comment.
    pub comment: Option<String>,
    /// The canonical base of the profiles claimed in `meta.profile`.
    #[serde(alias = "profileBase")]
    pub profile_base: Option<String>,
}

impl SlotSpec {
    /// Builds and checks the Slot.
    pub fn build(&self) -> Result<Slot> {
        let default = if self.token.is_some() {
            VcType::Vce
        } else {
            VcType::Vci
        };
        let mut b = SlotBuilder::new(self.id.clone(), vc_type(self.vc_type.as_deref(), default));
        if let Some(s) = &self.schedule {
            b = b.schedule(s.clone());
        }
        if let Some(t) = &self.token {
            b = b.token(t.clone());
        }
        if let Some(q) = self.quota {
            b = b.quota(q);
        }
        if let Some(a) = self.available {
            b = b.available(a);
        }
        if let Some(w) = &self.quota_wire {
            b = b.quota_wire(w.parse::<QuotaWire>()?);
        }
        if let Some(s) = &self.specialty {
            b = b.specialty(s.clone());
        }
        if let Some(t) = schedule_type(self.appointment_type.as_deref())? {
            b = b.appointment_type(t);
        }
        if let Some(s) = &self.status {
            b = b.status(SlotStatus::from_code(s));
        }
        if let Some((s, e)) = both("a Slot", &self.start, &self.end)? {
            b = b.period(s, e);
        }
        if let Some(c) = &self.comment {
            b = b.comment(c.clone());
        }
        if let Some(p) = &self.profile_base {
            b = b.profile_base(p.clone());
        }
        b.build()
    }
}

/// Reads a spec from JSON text: an unknown or mistyped option is an `InvalidInput` error that
/// names it (serde's own wording: "unknown field `specalty`, expected one of ...").
pub fn from_json<'a, T: Deserialize<'a>>(what: &str, json: &'a str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| bad(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fhir_json(s: &Slot) -> String {
        crate::fhir::to_json(s)
    }

    #[test]
    fn an_appointment_spec_builds_what_the_builder_builds() {
        let spec: AppointmentSpec = from_json(
            "vci_appointment",
            r#"{"id":"a1","specialty":"86","patient":{"id":"p1","display":"Siti"},"slot":"s1",
                "start":"2023-07-10T21:00:00+08:00","end":"2023-07-10T22:00:00+08:00"}"#,
        )
        .unwrap();
        let built = AppointmentBuilder::vci("a1")
            .specialty("86")
            .patient("p1", "Siti")
            .slot("s1")
            .period("2023-07-10T21:00:00+08:00", "2023-07-10T22:00:00+08:00")
            .build()
            .unwrap();
        assert_eq!(spec.build().unwrap(), built);
        // A participant given by id alone has no display (FHIR strings may not be empty), which
        // MY Core refuses with its own rule, not with an invalid-JSON error.
        let bare = AppointmentSpec {
            patient: Some(Party::Id("p1".into())),
            ..spec
        };
        let e = bare.build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        assert!(e.to_string().contains("needs a display"), "{e}");
    }

    #[test]
    fn camel_case_names_unknown_names_and_half_periods() {
        let s: SlotSpec =
            from_json("slot", r#"{"id":"s1","schedule":"sch1","specialty":"86","quotaWire":"string","appointmentType":"public",
                    "start":"2023-07-10T21:00:00+08:00","end":"2023-07-10T22:00:00+08:00"}"#)
                .unwrap();
        let slot = s.build().unwrap();
        assert!(fhir_json(&slot).contains(r#""valueString":"1""#));
        let e = from_json::<AppointmentSpec>("vci_appointment", r#"{"id":"a","specalty":"86"}"#)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("specalty"), "{e}");
        let half = AppointmentSpec {
            id: "a".into(),
            start: Some("2023-07-10T21:00:00+08:00".into()),
            ..AppointmentSpec::default()
        };
        assert_eq!(half.build().unwrap_err().kind(), ErrorKind::InvalidInput);
        let wrong = SlotSpec {
            id: "s".into(),
            appointment_type: Some("nope".into()),
            ..SlotSpec::default()
        };
        assert!(wrong.build().unwrap_err().to_string().contains("nope"));
    }
}

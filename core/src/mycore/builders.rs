//! Builders of valid MY Core VC resources and of the scheduling and booking transactions.
//!
//! Every `build()` validates its output with the MY Core rules and refuses (with the report) what
//! HIE would refuse, so a built resource can be sent as is.

use super::consts::{
    profile_url, CLASS_VR, CLASS_VR_DISPLAY, ENCOUNTER_CLASS_SYSTEM, EXT_SCHEDULE_TYPE,
    PROFILE_BASE, SCHEDULE_TYPES, SCHEDULE_TYPE_SYSTEM, SPECIALTY_SYSTEM, VC_TOKEN_SYSTEM,
};
use super::quota::{QuotaWire, SlotQuota};
use super::specialty::specialty_display;
use super::validate::Validator;
use super::vc::VcType;
use crate::fhir::{
    Appointment, AppointmentParticipant, AppointmentStatus, Bundle, BundleEntry,
    BundleEntryRequest, BundleType, CodeableConcept, DateTime, Encounter, EncounterStatus,
    Extension, ExtensionValue, HttpVerb, Id, Identifier, Instant, Meta, ParticipationStatus,
    Period, Reference, Resource, Schedule, Slot, SlotStatus, Uri,
};
use crate::{Error, ErrorKind};

/// MY Core schedule type (also `appointmentType` of Appointment and Slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScheduleType {
    /// Internal.
    #[default]
    Internal,
    /// Public.
    Public,
    /// Affiliate.
    Affiliate,
    /// Outsource.
    Outsource,
    /// Walk in.
    WalkIn,
}

impl ScheduleType {
    /// The code.
    pub fn code(self) -> &'static str {
        SCHEDULE_TYPES[self as usize].0
    }
    /// The display.
    pub fn display(self) -> &'static str {
        SCHEDULE_TYPES[self as usize].1
    }
    /// The concept.
    pub fn concept(self) -> CodeableConcept {
        CodeableConcept::code(SCHEDULE_TYPE_SYSTEM, self.code(), Some(self.display()))
    }
    /// The type for a code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Internal,
            Self::Public,
            Self::Affiliate,
            Self::Outsource,
            Self::WalkIn,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }
}

fn id(value: &str, what: &str) -> Result<Id, Error> {
    Id::new(value).map_err(|e| Error::new(ErrorKind::InvalidInput, format!("{what}: {e}")))
}

fn instant(value: &str, what: &str) -> Result<Instant, Error> {
    Instant::new(value).map_err(|e| Error::new(ErrorKind::InvalidInput, format!("{what}: {e}")))
}

fn specialty(code: &str) -> CodeableConcept {
    CodeableConcept::code(SPECIALTY_SYSTEM, code, specialty_display(code))
}

fn vr() -> CodeableConcept {
    CodeableConcept::code(ENCOUNTER_CLASS_SYSTEM, CLASS_VR, Some(CLASS_VR_DISPLAY))
}

fn meta(base: &str, rt: &str) -> Meta {
    Meta {
        profile: Uri::new(profile_url(base, rt)).into_iter().collect(),
        ..Meta::default()
    }
}

fn token_identifier(token: &str) -> Identifier {
    Identifier::new(VC_TOKEN_SYSTEM, token)
}

fn checked<T: Clone + Into<Resource>>(v: T, base: &str) -> Result<T, Error> {
    let report = Validator::new()
        .profile_base(base)
        .validate(&v.clone().into());
    if report.has_errors() {
        Err(Error::validation(report))
    } else {
        Ok(v)
    }
}

fn period(
    start: Option<&String>,
    end: Option<&String>,
    what: &str,
) -> Result<(Option<Instant>, Option<Instant>), Error> {
    Ok((
        start
            .map(|s| instant(s, &format!("{what} start")))
            .transpose()?,
        end.map(|s| instant(s, &format!("{what} end")))
            .transpose()?,
    ))
}

/// A reference to an actor: `Type/id` with type and display (MY Core requires both).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Actor {
    kind: String,
    id: String,
    display: String,
}

impl Actor {
    /// An empty display is left out: FHIR strings may not be empty.
    fn reference(&self) -> Reference {
        let r = Reference::to(&self.kind, &self.id);
        if self.display.is_empty() {
            r
        } else {
            r.with_display(self.display.clone())
        }
    }
}

/// Builds a MY Core VC Appointment (VCI or VCE).
///
/// ```
/// use hie_vc::mycore::AppointmentBuilder;
/// let appt = AppointmentBuilder::vci("appt-1")
///     .specialty("86")
///     .healthcare_service("hs-1", "Addiction & Substance Abuse")
///     .patient("pt-1", "SITI BINTI ALI")
///     .slot("slot-1")
///     .period("2023-07-10T21:00:00+08:00", "2023-07-10T22:00:00+08:00")
///     .build()
///     .unwrap();
/// assert_eq!(appt.status.unwrap().as_str(), "booked");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AppointmentBuilder {
    id: String,
    vc_type: VcType,
    token: Option<String>,
    status: Option<AppointmentStatus>,
    specialty: Option<String>,
    appointment_type: ScheduleType,
    actors: Vec<Actor>,
    slot: Option<String>,
    start: Option<String>,
    end: Option<String>,
    created: Option<String>,
    description: Option<String>,
    profile_base: String,
}

impl AppointmentBuilder {
    /// A VCI (one-to-one) Appointment with the client-chosen `id`.
    pub fn vci(id: impl Into<String>) -> Self {
        Self::new(id, VcType::Vci, None)
    }
    /// A VCE (group) Appointment carrying the session `token`.
    pub fn vce(id: impl Into<String>, token: impl Into<String>) -> Self {
        Self::new(id, VcType::Vce, Some(token.into()))
    }
    /// An Appointment of any VC type.
    pub fn new(id: impl Into<String>, vc_type: VcType, token: Option<String>) -> Self {
        Self {
            id: id.into(),
            vc_type,
            token,
            status: None,
            specialty: None,
            appointment_type: ScheduleType::default(),
            actors: Vec::new(),
            slot: None,
            start: None,
            end: None,
            created: None,
            description: None,
            profile_base: PROFILE_BASE.to_owned(),
        }
    }
    /// Status (default: `booked` with a slot, `pending` without).
    pub fn status(mut self, status: AppointmentStatus) -> Self {
        self.status = Some(status);
        self
    }
    /// The MY Core specialty code (display looked up in the code system).
    pub fn specialty(mut self, code: impl Into<String>) -> Self {
        self.specialty = Some(code.into());
        self
    }
    /// The appointment type (default internal).
    pub fn appointment_type(mut self, t: ScheduleType) -> Self {
        self.appointment_type = t;
        self
    }
    /// The HealthcareService (must already exist in HIE).
    pub fn healthcare_service(self, id: impl Into<String>, display: impl Into<String>) -> Self {
        self.actor("HealthcareService", id, display)
    }
    /// A patient taking part.
    pub fn patient(self, id: impl Into<String>, display: impl Into<String>) -> Self {
        self.actor("Patient", id, display)
    }
    /// A practitioner taking part (`kind` is `Practitioner` or `PractitionerRole`).
    pub fn practitioner(
        self,
        kind: &str,
        id: impl Into<String>,
        display: impl Into<String>,
    ) -> Self {
        self.actor(kind, id, display)
    }
    /// Any participant: `kind/id` with its display.
    pub fn actor(mut self, kind: &str, id: impl Into<String>, display: impl Into<String>) -> Self {
        self.actors.push(Actor {
            kind: kind.to_owned(),
            id: id.into(),
            display: display.into(),
        });
        self
    }
    /// The Slot this Appointment fills.
    pub fn slot(mut self, slot_id: impl Into<String>) -> Self {
        self.slot = Some(slot_id.into());
        self
    }
    /// Start and end (FHIR instants, e.g. `2023-07-10T21:00:00+08:00`).
    pub fn period(mut self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.start = Some(start.into());
        self.end = Some(end.into());
        self
    }
    /// Creation date (default: now).
    pub fn created(mut self, created: impl Into<String>) -> Self {
        self.created = Some(created.into());
        self
    }
    /// Subject line shown in appointment lists.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// The base of the profile canonical in `meta.profile`.
    pub fn profile_base(mut self, base: impl Into<String>) -> Self {
        self.profile_base = base.into();
        self
    }
    /// The Appointment, validated.
    pub fn build(self) -> Result<Appointment, Error> {
        let (start, end) = period(self.start.as_ref(), self.end.as_ref(), "appointment")?;
        let created = match &self.created {
            Some(c) => DateTime::new(c.as_str())
                .map_err(|e| Error::new(ErrorKind::InvalidInput, format!("created: {e}")))?,
            None => DateTime::now(),
        };
        let status = self.status.clone().unwrap_or(if self.slot.is_some() {
            AppointmentStatus::Booked
        } else {
            AppointmentStatus::Pending
        });
        let slot = match &self.slot {
            Some(s) => vec![Reference {
                reference: Some(format!("Slot/{}", id(s, "slot id")?)),
                ..Reference::default()
            }],
            None => Vec::new(),
        };
        let a = Appointment {
            id: Some(id(&self.id, "appointment id")?),
            meta: Some(meta(&self.profile_base, "Appointment")),
            identifier: self
                .token
                .as_deref()
                .map(token_identifier)
                .into_iter()
                .collect(),
            status: Some(status),
            service_category: vec![vr()],
            service_type: vec![self.vc_type.service_type()],
            specialty: self
                .specialty
                .as_deref()
                .map(specialty)
                .into_iter()
                .collect(),
            appointment_type: Some(self.appointment_type.concept()),
            description: self.description.clone(),
            start,
            end,
            slot,
            created: Some(created),
            participant: self
                .actors
                .iter()
                .map(|a| AppointmentParticipant {
                    actor: Some(a.reference()),
                    status: Some(ParticipationStatus::Accepted),
                    ..Default::default()
                })
                .collect(),
            ..Appointment::default()
        };
        checked(a, &self.profile_base)
    }
}

/// Builds a MY Core VC Schedule.
#[derive(Debug, Clone)]
#[must_use]
pub struct ScheduleBuilder {
    id: String,
    vc_type: VcType,
    token: Option<String>,
    schedule_type: ScheduleType,
    specialty: Option<String>,
    actors: Vec<Actor>,
    start: Option<String>,
    end: Option<String>,
    comment: Option<String>,
    profile_base: String,
}

impl ScheduleBuilder {
    /// A Schedule of `vc_type` with the client-chosen `id`.
    pub fn new(id: impl Into<String>, vc_type: VcType) -> Self {
        Self {
            id: id.into(),
            vc_type,
            token: None,
            schedule_type: ScheduleType::default(),
            specialty: None,
            actors: Vec::new(),
            start: None,
            end: None,
            comment: None,
            profile_base: PROFILE_BASE.to_owned(),
        }
    }
    /// The VCE session token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// The schedule type (default internal).
    pub fn schedule_type(mut self, t: ScheduleType) -> Self {
        self.schedule_type = t;
        self
    }
    /// The MY Core specialty code.
    pub fn specialty(mut self, code: impl Into<String>) -> Self {
        self.specialty = Some(code.into());
        self
    }
    /// The HealthcareService the schedule is for.
    pub fn healthcare_service(self, id: impl Into<String>, display: impl Into<String>) -> Self {
        self.actor("HealthcareService", id, display)
    }
    /// Another actor (Practitioner, PractitionerRole, Location, ...).
    pub fn actor(mut self, kind: &str, id: impl Into<String>, display: impl Into<String>) -> Self {
        self.actors.push(Actor {
            kind: kind.to_owned(),
            id: id.into(),
            display: display.into(),
        });
        self
    }
    /// The planning horizon.
    pub fn planning_horizon(mut self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.start = Some(start.into());
        self.end = Some(end.into());
        self
    }
    /// A comment.
    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.comment = Some(c.into());
        self
    }
    /// The base of the profile canonical in `meta.profile`.
    pub fn profile_base(mut self, base: impl Into<String>) -> Self {
        self.profile_base = base.into();
        self
    }
    /// The Schedule, validated.
    pub fn build(self) -> Result<Schedule, Error> {
        let (start, end) = period(self.start.as_ref(), self.end.as_ref(), "planning horizon")?;
        let horizon = (start.is_some() || end.is_some()).then(|| Period {
            start: start.map(|s| DateTime::new(s.as_str()).unwrap_or_else(|_| DateTime::now())),
            end: end.map(|s| DateTime::new(s.as_str()).unwrap_or_else(|_| DateTime::now())),
            ..Period::default()
        });
        let s = Schedule {
            id: Some(id(&self.id, "schedule id")?),
            meta: Some(meta(&self.profile_base, "Schedule")),
            extension: vec![Extension::new(
                EXT_SCHEDULE_TYPE,
                ExtensionValue::CodeableConcept(self.schedule_type.concept()),
            )],
            identifier: self
                .token
                .as_deref()
                .map(token_identifier)
                .into_iter()
                .collect(),
            active: Some(true),
            service_category: vec![vr()],
            service_type: vec![self.vc_type.service_type()],
            specialty: self
                .specialty
                .as_deref()
                .map(specialty)
                .into_iter()
                .collect(),
            actor: self.actors.iter().map(Actor::reference).collect(),
            planning_horizon: horizon,
            comment: self.comment.clone(),
            ..Schedule::default()
        };
        checked(s, &self.profile_base)
    }
}

/// Builds a MY Core VC Slot.
#[derive(Debug, Clone)]
#[must_use]
pub struct SlotBuilder {
    id: String,
    vc_type: VcType,
    schedule: Option<String>,
    token: Option<String>,
    quota: i64,
    available: Option<i64>,
    wire: QuotaWire,
    specialty: Option<String>,
    appointment_type: ScheduleType,
    status: SlotStatus,
    start: Option<String>,
    end: Option<String>,
    comment: Option<String>,
    profile_base: String,
}

impl SlotBuilder {
    /// A Slot of `vc_type` with the client-chosen `id` (quota 1 by default).
    pub fn new(id: impl Into<String>, vc_type: VcType) -> Self {
        Self {
            id: id.into(),
            vc_type,
            schedule: None,
            token: None,
            quota: 1,
            available: None,
            wire: QuotaWire::default(),
            specialty: None,
            appointment_type: ScheduleType::default(),
            status: SlotStatus::Free,
            start: None,
            end: None,
            comment: None,
            profile_base: PROFILE_BASE.to_owned(),
        }
    }
    /// The Schedule the slot belongs to.
    pub fn schedule(mut self, schedule_id: impl Into<String>) -> Self {
        self.schedule = Some(schedule_id.into());
        self
    }
    /// The VCE session token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// Maximum bookings (available defaults to it).
    pub fn quota(mut self, quota: i64) -> Self {
        self.quota = quota;
        self
    }
    /// Remaining bookings.
    pub fn available(mut self, available: i64) -> Self {
        self.available = Some(available);
        self
    }
    /// How the quota goes on the wire (integer by default; string like the published examples).
    pub fn quota_wire(mut self, wire: QuotaWire) -> Self {
        self.wire = wire;
        self
    }
    /// The MY Core specialty code.
    pub fn specialty(mut self, code: impl Into<String>) -> Self {
        self.specialty = Some(code.into());
        self
    }
    /// The appointment type (default internal).
    pub fn appointment_type(mut self, t: ScheduleType) -> Self {
        self.appointment_type = t;
        self
    }
    /// Status (default free).
    pub fn status(mut self, s: SlotStatus) -> Self {
        self.status = s;
        self
    }
    /// Start and end (FHIR instants).
    pub fn period(mut self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.start = Some(start.into());
        self.end = Some(end.into());
        self
    }
    /// A comment.
    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.comment = Some(c.into());
        self
    }
    /// The base of the profile canonical in `meta.profile`.
    pub fn profile_base(mut self, base: impl Into<String>) -> Self {
        self.profile_base = base.into();
        self
    }
    /// The Slot, validated.
    pub fn build(self) -> Result<Slot, Error> {
        let (start, end) = period(self.start.as_ref(), self.end.as_ref(), "slot")?;
        let schedule = match &self.schedule {
            Some(s) => Some(Reference {
                reference: Some(format!("Schedule/{}", id(s, "schedule id")?)),
                ..Reference::default()
            }),
            None => None,
        };
        let quota = SlotQuota {
            quota: self.quota,
            available: self.available.unwrap_or(self.quota),
        };
        let s = Slot {
            id: Some(id(&self.id, "slot id")?),
            meta: Some(meta(&self.profile_base, "Slot")),
            extension: vec![quota.to_extension(self.wire)],
            identifier: self
                .token
                .as_deref()
                .map(token_identifier)
                .into_iter()
                .collect(),
            service_category: vec![vr()],
            service_type: vec![self.vc_type.service_type()],
            specialty: self
                .specialty
                .as_deref()
                .map(specialty)
                .into_iter()
                .collect(),
            appointment_type: Some(self.appointment_type.concept()),
            schedule,
            status: Some(self.status.clone()),
            start,
            end,
            comment: self.comment.clone(),
            ..Slot::default()
        };
        checked(s, &self.profile_base)
    }
}

/// The Encounter as the source system PUTs it at the end: `finished`, with `period.end`
/// (everything else kept; the previous status goes to `statusHistory`).
pub fn finish_encounter(e: &Encounter, end: DateTime) -> Encounter {
    let mut out = e.clone();
    if out
        .status
        .as_ref()
        .is_some_and(|s| *s != EncounterStatus::Finished)
    {
        let since = out.period.as_ref().and_then(|p| p.start.clone());
        out.status_history
            .push(crate::fhir::EncounterStatusHistory {
                status: out.status.clone(),
                period: Some(Period {
                    start: since,
                    end: Some(end.clone()),
                    ..Period::default()
                }),
                ..Default::default()
            });
    }
    out.status = Some(EncounterStatus::Finished);
    let period = out.period.get_or_insert_with(Period::default);
    period.end = Some(end);
    out
}

fn put_entry(r: Resource, full_url_base: Option<&str>) -> Result<BundleEntry, Error> {
    let rt = r.resource_type().to_owned();
    let rid = r.id().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("a {rt} in a transaction needs a client-chosen id"),
        )
    })?;
    let url = format!("{rt}/{rid}");
    Ok(BundleEntry {
        full_url: full_url_base
            .and_then(|b| Uri::new(format!("{}/{url}", b.trim_end_matches('/'))).ok()),
        request: Some(BundleEntryRequest {
            method: Some(HttpVerb::Put),
            url: Uri::new(url).ok(),
            ..Default::default()
        }),
        resource: Some(r),
        ..BundleEntry::default()
    })
}

/// The scheduling transaction: the Schedule and its Slots as PUT entries with their client ids.
/// `full_url_base` (the HIE base URL) fills `fullUrl` when given.
pub fn scheduling_bundle(
    schedule: &Schedule,
    slots: &[Slot],
    full_url_base: Option<&str>,
) -> Result<Bundle, Error> {
    let sched_id = schedule.id.as_ref().map(Id::as_str);
    for s in slots {
        let target = s.schedule.as_ref().and_then(Reference::target_id);
        if target.is_some() && target != sched_id {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "Slot {} belongs to Schedule {} but the transaction is for Schedule {}",
                    s.id.as_ref().map_or("?", |i| i.as_str()),
                    target.unwrap_or("?"),
                    sched_id.unwrap_or("?")
                ),
            ));
        }
    }
    let mut b = Bundle::new(BundleType::Transaction);
    b.entry
        .push(put_entry(schedule.clone().into(), full_url_base)?);
    for s in slots {
        b.entry.push(put_entry(s.clone().into(), full_url_base)?);
    }
    Ok(b)
}

/// The booking transaction: the Appointment (booked, referencing the slot) and the Slot with
/// `available` decremented (busy when it reaches 0). The Slot entry carries `If-Match` on its
/// version when known, so two concurrent bookings cannot both take the last place.
/// Refuses when the slot has no availability left.
pub fn booking_bundle(
    appointment: &Appointment,
    slot: &Slot,
    wire: QuotaWire,
    full_url_base: Option<&str>,
) -> Result<Bundle, Error> {
    let slot_id = slot
        .id
        .as_ref()
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "the Slot to book needs its id"))?;
    let (q, _) = SlotQuota::read(slot).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("cannot book Slot {slot_id}: {e}"),
        )
    })?;
    if q.available <= 0 {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "Slot {slot_id} has no availability left ({} of {} booked); choose another slot",
                q.quota, q.quota
            ),
        ));
    }
    let mut slot = slot.clone();
    SlotQuota {
        quota: q.quota,
        available: q.available - 1,
    }
    .write(&mut slot, wire);
    if q.available - 1 == 0 {
        slot.status = Some(SlotStatus::Busy);
    }
    let mut appt = appointment.clone();
    let slot_ref = format!("Slot/{slot_id}");
    if !appt
        .slot
        .iter()
        .any(|r| r.reference.as_deref() == Some(slot_ref.as_str()))
    {
        appt.slot.push(Reference {
            reference: Some(slot_ref),
            ..Reference::default()
        });
    }
    if matches!(
        appt.status,
        None | Some(AppointmentStatus::Pending | AppointmentStatus::Proposed)
    ) {
        appt.status = Some(AppointmentStatus::Booked);
    }
    let version = slot
        .meta
        .as_ref()
        .and_then(|m| m.version_id.as_ref())
        .map(|v| format!("W/\"{v}\""));
    let mut b = Bundle::new(BundleType::Transaction);
    b.entry.push(put_entry(appt.into(), full_url_base)?);
    let mut slot_entry = put_entry(slot.into(), full_url_base)?;
    if let (Some(req), Some(v)) = (slot_entry.request.as_mut(), version) {
        req.if_match = Some(v);
    }
    b.entry.push(slot_entry);
    Ok(b)
}

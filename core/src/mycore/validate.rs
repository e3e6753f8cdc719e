//! MY Core VC validation rules (`docs/guide-gaps.md` §2 and the MY Core profiles).

use super::consts::{
    profile_url, CLASS_VR, ENCOUNTER_CLASS_SYSTEM, ENCOUNTER_STATUSES, EXT_SCHEDULE_TYPE,
    PROFILE_BASE, PUBLISHED_SERVICE_TYPE_QUIRKS, SCHEDULE_TYPES, SCHEDULE_TYPE_SYSTEM,
    SERVICE_TYPE_SYSTEM, SPECIALTY_SYSTEM, VC_TOKEN_SYSTEM,
};
use super::profile::{self, Cover};
use super::quota::{QuotaError, SlotQuota};
use super::report::{Report, Severity};
use super::vc::{is_vc, is_vr, vc_type_of, VcType};
use crate::fhir::{
    Appointment, AppointmentStatus, Bundle, CodeableConcept, Encounter, Extension, ExtensionValue,
    Identifier, Meta, Reference, Resource, Schedule, Slot,
};

/// Profile findings the workflow rules report in their own words (the profile's issue is
/// attached to the workflow one): slot-quota numbers sent as strings are read by decision
/// (`docs/validation.md`) and reported as `slot-quota-string`.
const COVERS: &[Cover] = &[
    Cover {
        definition: super::consts::EXT_SLOT_QUOTA,
        element: "Extension.extension:quota.value[x]",
        rule: "slot-quota-string",
    },
    Cover {
        definition: super::consts::EXT_SLOT_QUOTA,
        element: "Extension.extension:available.value[x]",
        rule: "slot-quota-string",
    },
];

/// Validates a resource against the MY Core VC rules with the default settings.
pub fn validate(resource: &Resource) -> Report {
    Validator::new().validate(resource)
}

/// MY Core validation, configurable.
#[derive(Debug, Clone)]
pub struct Validator {
    profile_base: String,
    published_quirks: bool,
    require_profile: bool,
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}

impl Validator {
    /// Default settings: profile canonicals under [`PROFILE_BASE`], published quirks are errors.
    pub fn new() -> Self {
        Self {
            profile_base: PROFILE_BASE.to_owned(),
            published_quirks: false,
            require_profile: false,
        }
    }
    /// The base of the profile canonicals in `meta.profile` (older HIE builds used another one).
    pub fn profile_base(mut self, base: impl Into<String>) -> Self {
        self.profile_base = base.into();
        self
    }
    /// Report the known departures of the IG's own published examples as warnings instead of
    /// errors, for reading material that predates the profiles: a Schedule without `actor` (or
    /// with it in a non-R4 `participant`), a Schedule or Slot without `specialty`, a serviceType
    /// from a pre-MY Core code system, a VCE Schedule without its vc-token, `available` above
    /// `quota`.
    pub fn accept_published_quirks(mut self, yes: bool) -> Self {
        self.published_quirks = yes;
        self
    }
    /// Make a missing MY Core profile claim in `meta.profile` an error (a warning by default).
    pub fn require_profile_claim(mut self, yes: bool) -> Self {
        self.require_profile = yes;
        self
    }
    /// Validates `resource` (a Bundle's entries are validated in place).
    pub fn validate(&self, resource: &Resource) -> Report {
        let mut c = Check {
            v: self,
            report: Report::default(),
            quirks: Vec::new(),
        };
        c.resource(resource, resource.resource_type());
        c.report
    }
}

struct Check<'a> {
    v: &'a Validator,
    report: Report,
    /// The issues (indices) reported as warnings because published quirks are accepted.
    quirks: Vec<usize>,
}

fn has_system(cc: &CodeableConcept, system: &str) -> bool {
    cc.coding
        .iter()
        .any(|c| c.system.as_ref().is_some_and(|s| s.as_str() == system))
}

impl Check<'_> {
    fn err(&mut self, code: &'static str, rule: &'static str, at: String, msg: impl Into<String>) {
        self.report.push(Severity::Error, code, rule, at, msg);
    }
    fn warn(&mut self, code: &'static str, rule: &'static str, at: String, msg: impl Into<String>) {
        self.report.push(Severity::Warning, code, rule, at, msg);
    }
    fn quirk(
        &mut self,
        code: &'static str,
        rule: &'static str,
        at: String,
        msg: impl Into<String>,
    ) {
        let sev = if self.v.published_quirks {
            self.quirks.push(self.report.issues.len());
            Severity::Warning
        } else {
            Severity::Error
        };
        self.report.push(sev, code, rule, at, msg);
    }

    fn resource(&mut self, r: &Resource, at: &str) {
        let first = self.report.issues.len();
        match r {
            Resource::Appointment(a) => self.appointment_rules(a, at),
            Resource::Encounter(e) => self.encounter_rules(e, at),
            Resource::Schedule(s) => self.schedule_rules(s, at),
            Resource::Slot(s) => self.slot_rules(s, at),
            Resource::Bundle(b) => return self.bundle(b, at),
            _ => return,
        }
        // The profiles' own rules, after the workflow rules so that a finding both state is
        // reported once, by the workflow rule (with the profile element attached).
        if let Some(node) = r.node().object() {
            profile::check(node, at, &mut self.report, first, COVERS, &self.quirks);
        }
    }

    fn bundle(&mut self, b: &Bundle, at: &str) {
        for (i, e) in b.entry.iter().enumerate() {
            if let Some(r) = &e.resource {
                self.resource(r, &format!("{at}.entry[{i}].resource"));
            }
        }
    }

    fn profile(&mut self, meta: Option<&Meta>, rt: &str, at: &str) {
        // Compared in place: validation runs before every write, and building the canonical
        // for a resource that claims it would be an allocation per call.
        let base = self.v.profile_base.trim_end_matches('/');
        let claimed = meta.is_some_and(|m| {
            m.profile.iter().any(|p| {
                p.as_str()
                    .strip_prefix(base)
                    .and_then(|r| r.strip_prefix('/'))
                    .and_then(|r| r.strip_prefix(rt))
                    == Some("-my-core")
            })
        });
        if !claimed {
            let want = profile_url(&self.v.profile_base, rt);
            let msg = format!(
                "meta.profile does not claim {want}; add it so HIE validates against MY Core"
            );
            if self.v.require_profile {
                self.err(
                    "required",
                    "profile-claim",
                    format!("{at}.meta.profile"),
                    msg,
                );
            } else {
                self.warn(
                    "required",
                    "profile-claim",
                    format!("{at}.meta.profile"),
                    msg,
                );
            }
        }
    }

    /// serviceCategory/class VR, serviceType VC family, specialty from the MY Core code system.
    fn categories(&mut self, cats: &[CodeableConcept], at: &str, vc: bool) {
        if cats.is_empty() {
            self.err(
                "required",
                "service-category-required",
                format!("{at}.serviceCategory"),
                "serviceCategory is required (VR for a virtual consultation)",
            );
        } else if vc && !cats.iter().flat_map(|c| c.coding.iter()).any(is_vr) {
            self.err(
                "value",
                "service-category-vr",
                format!("{at}.serviceCategory"),
                format!(
                    "a VC resource needs serviceCategory {CLASS_VR} from {ENCOUNTER_CLASS_SYSTEM}"
                ),
            );
        }
    }

    fn service_types(&mut self, types: &[CodeableConcept], at: &str, vc: bool) {
        // Locations are built only for an issue: most resources have none.
        let loc = || format!("{at}.serviceType");
        if types.is_empty() {
            self.err(
                "required",
                "service-type-required",
                loc(),
                "serviceType is required (VCI or VCE for a virtual consultation)",
            );
            return;
        }
        if !types.iter().any(|t| has_system(t, SERVICE_TYPE_SYSTEM)) {
            self.quirk(
                "code-invalid",
                "service-type-system",
                loc(),
                format!("serviceType needs a coding from {SERVICE_TYPE_SYSTEM}"),
            );
        } else if vc && vc_type_of(types.iter()).is_none() {
            let code = types
                .iter()
                .find_map(|t| t.code_of(SERVICE_TYPE_SYSTEM))
                .unwrap_or("");
            let known = profile::code_system(SERVICE_TYPE_SYSTEM)
                .is_none_or(|cs| cs.display(code).is_some());
            if !known {
                // A code the (complete) code system does not define is the profiles' error
                // `profile-code-unknown`; the one a published example uses is a quirk.
                if PUBLISHED_SERVICE_TYPE_QUIRKS.contains(&code) {
                    self.quirk(
                        "code-invalid",
                        "service-type-code",
                        loc(),
                        format!("serviceType '{code}' (a published example's code) is not in {SERVICE_TYPE_SYSTEM}"),
                    );
                }
                return;
            }
            self.warn(
                "code-invalid",
                "service-type-vc",
                loc(),
                format!("serviceType '{code}' is not a VC code (VCI, VCE, VCMDT, VCD); kept"),
            );
        }
    }

    fn specialties(
        &mut self,
        specs: &[CodeableConcept],
        at: &str,
        name: &str,
        required_rule: &'static str,
        quirkable: bool,
    ) {
        let loc = || format!("{at}.{name}");
        if specs.is_empty() {
            let msg = format!("{name} is required (a code from {SPECIALTY_SYSTEM})");
            if quirkable {
                self.quirk("required", required_rule, loc(), msg);
            } else {
                self.err("required", required_rule, loc(), msg);
            }
            return;
        }
        // A code outside the (complete) specialty code system is the profiles' error
        // `profile-code-unknown`.
        for (i, cc) in specs.iter().enumerate() {
            if cc.code_of(SPECIALTY_SYSTEM).is_none() {
                self.err(
                    "code-invalid",
                    "specialty-system",
                    format!("{}[{i}]", loc()),
                    format!("{name} needs a coding from {SPECIALTY_SYSTEM}"),
                );
            }
        }
    }

    fn schedule_type(
        &mut self,
        cc: Option<&CodeableConcept>,
        loc: &dyn Fn() -> String,
        rule: &'static str,
        what: &str,
    ) {
        match cc {
            None => self.err("required", rule, loc(), format!("{what} is required (internal | public | affiliate | outsource | walk-in)")),
            Some(cc) => match cc.code_of(SCHEDULE_TYPE_SYSTEM) {
                None => self.err("code-invalid", "schedule-type-system", loc(), format!("{what} needs a coding from {SCHEDULE_TYPE_SYSTEM}")),
                Some(code) if !SCHEDULE_TYPES.iter().any(|(c, _)| *c == code) => {
                    self.err("code-invalid", "schedule-type-code", loc(), format!("'{code}' is not a schedule type (internal | public | affiliate | outsource | walk-in)"))
                }
                Some(_) => {}
            },
        }
    }

    fn actor(&mut self, r: &Reference, loc: &dyn Fn() -> String) {
        if r.type_.is_none() {
            self.err(
                "required",
                "actor-type",
                format!("{}.type", loc()),
                "the actor reference needs a type (e.g. Patient, HealthcareService)",
            );
        }
        if r.display.is_none() {
            self.err(
                "required",
                "actor-display",
                format!("{}.display", loc()),
                "the actor reference needs a display",
            );
        }
    }

    fn token(&mut self, ids: &[Identifier], at: &str, needed: bool, what: &str, quirkable: bool) {
        let tokens: Vec<(usize, &Identifier)> = ids
            .iter()
            .enumerate()
            .filter(|(_, i)| i.has_system(VC_TOKEN_SYSTEM))
            .collect();
        if tokens.is_empty() && needed && quirkable {
            self.quirk(
                "required",
                "vc-token-required",
                format!("{at}.identifier"),
                format!("{what} needs a vc-token identifier (system {VC_TOKEN_SYSTEM})"),
            );
        } else if tokens.is_empty() && needed {
            self.err(
                "required",
                "vc-token-required",
                format!("{at}.identifier"),
                format!("{what} needs a vc-token identifier (system {VC_TOKEN_SYSTEM})"),
            );
        }
        for (i, id) in &tokens {
            if id.value.as_deref().is_none_or(str::is_empty) {
                self.err(
                    "required",
                    "vc-token-value",
                    format!("{at}.identifier[{i}].value"),
                    "the vc-token identifier has no value",
                );
            }
        }
    }

    fn appointment_rules(&mut self, a: &Appointment, at: &str) {
        self.profile(a.meta.as_ref(), "Appointment", at);
        let vc = is_vc(
            a.service_category.iter().flat_map(|c| c.coding.iter()),
            a.service_type.iter(),
            &a.identifier,
        );
        let vt = vc_type_of(a.service_type.iter());
        if a.status.is_none() {
            self.err(
                "required",
                "status-required",
                format!("{at}.status"),
                "status is required",
            );
        }
        self.categories(&a.service_category, at, vc);
        self.service_types(&a.service_type, at, vc);
        self.specialties(&a.specialty, at, "specialty", "specialty-required", false);
        self.schedule_type(
            a.appointment_type.as_ref(),
            &|| format!("{at}.appointmentType"),
            "appointment-type-required",
            "appointmentType",
        );
        if a.participant.is_empty() {
            self.err(
                "required",
                "participant-required",
                format!("{at}.participant"),
                "at least one participant is required",
            );
        }
        for (i, p) in a.participant.iter().enumerate() {
            let loc = |field: &str| format!("{at}.participant[{i}].{field}");
            match &p.actor {
                Some(actor) => self.actor(actor, &|| loc("actor")),
                None => self.err(
                    "required",
                    "participant-actor",
                    loc("actor"),
                    "participant.actor is required",
                ),
            }
            if p.status.is_none() {
                self.err(
                    "required",
                    "participant-status",
                    loc("status"),
                    "participant.status is required",
                );
            }
        }
        if vc {
            if a.slot.is_empty() && a.status == Some(AppointmentStatus::Booked) {
                self.err("business-rule", "slotless-not-booked", format!("{at}.status"), "an Appointment without a slot must not be 'booked' (use 'pending' or 'proposed', or book a Slot)");
            }
            if !a
                .participant
                .iter()
                .any(|p| p.actor.as_ref().and_then(Reference::target_type) == Some("Patient"))
            {
                self.err(
                    "required",
                    "vc-patient",
                    format!("{at}.participant"),
                    "a VC Appointment needs a Patient participant (the patient to notify)",
                );
            }
            self.token(
                &a.identifier,
                at,
                vt.as_ref().is_some_and(VcType::is_group),
                "a VCE Appointment",
                false,
            );
        }
        if let (Some(s), Some(e)) = (
            a.start.as_ref().and_then(|s| s.to_offset()),
            a.end.as_ref().and_then(|e| e.to_offset()),
        ) {
            if e < s {
                self.err(
                    "invariant",
                    "start-before-end",
                    format!("{at}.end"),
                    "end is before start",
                );
            }
        }
    }

    fn encounter_rules(&mut self, e: &Encounter, at: &str) {
        self.profile(e.meta.as_ref(), "Encounter", at);
        let vc = is_vc(e.class.iter(), e.service_type.iter(), &e.identifier);
        match &e.status {
            None => self.err("required", "status-required", format!("{at}.status"), "status is required"),
            Some(s) if !ENCOUNTER_STATUSES.contains(&s.as_str()) => self.err(
                "code-invalid",
                "encounter-status",
                format!("{at}.status"),
                format!("MY Core allows Encounter.status arrived | in-progress | finished | unknown, not '{s}'"),
            ),
            Some(_) => {}
        }
        match &e.class {
            None => self.err(
                "required",
                "class-required",
                format!("{at}.class"),
                "class is required",
            ),
            Some(c) if vc && !is_vr(c) => self.err(
                "value",
                "class-vr",
                format!("{at}.class"),
                format!("a VC Encounter needs class {CLASS_VR} from {ENCOUNTER_CLASS_SYSTEM}"),
            ),
            Some(_) => {}
        }
        if vc {
            self.token(&e.identifier, at, true, "a VC Encounter", false);
            let n = e
                .identifier
                .iter()
                .filter(|i| i.has_system(VC_TOKEN_SYSTEM))
                .count();
            if n > 1 {
                self.err(
                    "structure",
                    "vc-token-max",
                    format!("{at}.identifier"),
                    format!("at most one vc-token identifier is allowed, found {n}"),
                );
            }
        }
        match &e.service_type {
            None => self.err(
                "required",
                "service-type-required",
                format!("{at}.serviceType"),
                "serviceType is required",
            ),
            Some(st) => self.service_types(std::slice::from_ref(st), at, vc),
        }
        self.specialties(&e.type_, at, "type", "type-required", false);
        if e.subject.is_none() {
            self.err(
                "required",
                "subject-required",
                format!("{at}.subject"),
                "subject (the patient) is required",
            );
        }
        match &e.period {
            Some(p) if p.start.is_some() => {}
            _ => self.err(
                "required",
                "period-start-required",
                format!("{at}.period.start"),
                "period.start is required",
            ),
        }
        if e.service_provider.is_none() {
            self.err(
                "required",
                "service-provider-required",
                format!("{at}.serviceProvider"),
                "serviceProvider (the organisation) is required",
            );
        }
        for (i, p) in e.participant.iter().enumerate() {
            if p.individual.is_some() && p.type_.is_empty() {
                self.err(
                    "required",
                    "participant-type",
                    format!("{at}.participant[{i}].type"),
                    "participant.type is required when participant.individual is given",
                );
            }
        }
        for (i, d) in e.diagnosis.iter().enumerate() {
            if d.use_.is_none() {
                self.err(
                    "required",
                    "diagnosis-use",
                    format!("{at}.diagnosis[{i}].use"),
                    "diagnosis.use is required",
                );
            }
        }
        if e.status.as_ref().is_some_and(|s| s.as_str() == "finished")
            && e.period.as_ref().is_none_or(|p| p.end.is_none())
        {
            self.warn(
                "business-rule",
                "finished-period-end",
                format!("{at}.period.end"),
                "a finished Encounter should have period.end",
            );
        }
    }

    fn schedule_rules(&mut self, s: &Schedule, at: &str) {
        self.profile(s.meta.as_ref(), "Schedule", at);
        let vc = is_vc(
            s.service_category.iter().flat_map(|c| c.coding.iter()),
            s.service_type.iter(),
            &s.identifier,
        );
        let types: Vec<&Extension> = s
            .extension
            .iter()
            .filter(|e| e.is(EXT_SCHEDULE_TYPE))
            .collect();
        let loc = format!("{at}.extension");
        match types.as_slice() {
            [] => self.err(
                "required",
                "schedule-type-required",
                loc,
                format!("the schedule-type extension ({EXT_SCHEDULE_TYPE}) is required"),
            ),
            [one] => {
                let cc = match &one.value {
                    Some(ExtensionValue::CodeableConcept(cc)) => Some(cc),
                    _ => None,
                };
                if cc.is_none() {
                    self.err(
                        "value",
                        "schedule-type-value",
                        loc,
                        "the schedule-type extension needs a valueCodeableConcept",
                    );
                } else {
                    self.schedule_type(
                        cc,
                        &|| loc.clone(),
                        "schedule-type-required",
                        "the schedule type",
                    );
                }
            }
            _ => self.err(
                "structure",
                "schedule-type-max",
                loc,
                "only one schedule-type extension is allowed",
            ),
        }
        self.categories(&s.service_category, at, vc);
        self.service_types(&s.service_type, at, vc);
        self.specialties(&s.specialty, at, "specialty", "specialty-required", true);
        if s.actor.is_empty() {
            if s.extra.get("participant").is_some() {
                self.quirk("structure", "schedule-actor", format!("{at}.actor"), "Schedule has no actor but a non-R4 'participant' element (a quirk of published examples): put the HealthcareService in Schedule.actor");
            } else {
                self.quirk(
                    "required",
                    "schedule-actor",
                    format!("{at}.actor"),
                    "Schedule.actor is required (the HealthcareService)",
                );
            }
        }
        for (i, a) in s.actor.iter().enumerate() {
            self.actor(a, &|| format!("{at}.actor[{i}]"));
        }
        if vc {
            let vt = vc_type_of(s.service_type.iter());
            self.token(
                &s.identifier,
                at,
                vt.as_ref().is_some_and(VcType::is_group),
                "a VCE Schedule",
                true,
            );
        }
    }

    fn slot_rules(&mut self, s: &Slot, at: &str) {
        self.profile(s.meta.as_ref(), "Slot", at);
        let vc = is_vc(
            s.service_category.iter().flat_map(|c| c.coding.iter()),
            s.service_type.iter(),
            &s.identifier,
        );
        let loc = format!("{at}.extension");
        match SlotQuota::read(s) {
            Ok((q, as_string)) => {
                if as_string {
                    self.warn("value", "slot-quota-string", loc.clone(), "slot-quota numbers sent as valueString; the profile types them integer (read anyway)");
                }
                if q.quota < 0 || q.available < 0 {
                    self.err(
                        "value",
                        "slot-quota-negative",
                        loc.clone(),
                        "slot-quota quota and available must not be negative",
                    );
                }
                if q.available > q.quota {
                    self.quirk(
                        "business-rule",
                        "slot-quota-available",
                        loc,
                        format!("available ({}) exceeds quota ({})", q.available, q.quota),
                    );
                }
            }
            Err(QuotaError::Missing) => self.err(
                "required",
                "slot-quota-required",
                loc,
                "the slot-quota extension (quota and available) is required",
            ),
            Err(e) => self.err("value", "slot-quota-value", loc, e.to_string()),
        }
        self.categories(&s.service_category, at, vc);
        self.service_types(&s.service_type, at, vc);
        self.specialties(&s.specialty, at, "specialty", "specialty-required", true);
        self.schedule_type(
            s.appointment_type.as_ref(),
            &|| format!("{at}.appointmentType"),
            "appointment-type-required",
            "appointmentType",
        );
        if s.schedule.is_none() {
            self.err(
                "required",
                "schedule-required",
                format!("{at}.schedule"),
                "schedule is required",
            );
        }
        if s.status.is_none() {
            self.err(
                "required",
                "status-required",
                format!("{at}.status"),
                "status is required",
            );
        }
        for (name, v) in [("start", &s.start), ("end", &s.end)] {
            if v.is_none() {
                self.err(
                    "required",
                    "slot-period",
                    format!("{at}.{name}"),
                    format!("{name} is required"),
                );
            }
        }
        if let (Some(st), Some(en)) = (
            s.start.as_ref().and_then(|x| x.to_offset()),
            s.end.as_ref().and_then(|x| x.to_offset()),
        ) {
            if en < st {
                self.err(
                    "invariant",
                    "start-before-end",
                    format!("{at}.end"),
                    "end is before start",
                );
            }
        }
        if vc {
            let vt = vc_type_of(s.service_type.iter());
            self.token(
                &s.identifier,
                at,
                vt.as_ref().is_some_and(VcType::is_group),
                "a VCE Slot",
                false,
            );
        }
    }
}

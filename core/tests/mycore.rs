//! MY Core VC layer: builders produce valid resources, each rule fires where it should, the
//! transactions are right, and the VC view of an Encounter.

use hie_vc::fhir::{
    self, AppointmentStatus, Encounter, HttpVerb, ReadOptions, Resource, SlotStatus,
};
use hie_vc::mycore::{
    self, booking_bundle, finish_encounter, scheduling_bundle, AppointmentBuilder, QuotaWire,
    ScheduleBuilder, ScheduleType, Severity, SlotBuilder, SlotQuota, Validator, VcEncounter,
    VcType,
};
use hie_vc::ErrorKind;
use serde_json::{json, Value};

/// A rule, an edit of a valid resource that breaks it, and where the error must point.
type Case = (&'static str, Box<dyn Fn(&mut Value)>, &'static str);

const TOKEN: &str = "19d3b96a-6c4d-485a-9514-cbf6ccfeed6b";

fn rules(r: &Resource) -> Vec<(Severity, &'static str, String)> {
    mycore::validate(r)
        .issues
        .into_iter()
        .map(|i| (i.severity, i.rule, i.location))
        .collect()
}

fn errors(r: &Resource) -> Vec<&'static str> {
    mycore::validate(r).errors().map(|i| i.rule).collect()
}

fn vce_set() -> (
    hie_vc::fhir::Schedule,
    hie_vc::fhir::Slot,
    hie_vc::fhir::Appointment,
) {
    let sched = ScheduleBuilder::new("vce-sch", VcType::Vce)
        .token(TOKEN)
        .specialty("149")
        .schedule_type(ScheduleType::Affiliate)
        .healthcare_service("hs-1", "Communicable Disease")
        .planning_horizon("2023-07-10T21:00:00+08:00", "2023-07-10T22:00:00+08:00")
        .build()
        .unwrap();
    let slot = SlotBuilder::new("vce-slt", VcType::Vce)
        .schedule("vce-sch")
        .token(TOKEN)
        .quota(10)
        .specialty("149")
        .period("2023-07-10T21:00:00+08:00", "2023-07-10T22:00:00+08:00")
        .build()
        .unwrap();
    let appt = AppointmentBuilder::vce("vce-app-1", TOKEN)
        .specialty("149")
        .healthcare_service("hs-1", "Communicable Disease")
        .patient("pt-1", "SIVAKUMAR")
        .period("2023-07-10T21:00:00+08:00", "2023-07-10T22:00:00+08:00")
        .build()
        .unwrap();
    (sched, slot, appt)
}

#[test]
fn builder_outputs_validate_clean_and_round_trip() {
    let (sched, slot, appt) = vce_set();
    let vci = AppointmentBuilder::vci("vci-1")
        .specialty("86")
        .healthcare_service("hs-1", "Addiction")
        .patient("pt-1", "A")
        .slot("slot-1")
        .period("2023-07-10T21:00:00+08:00", "2023-07-10T22:00:00+08:00")
        .build()
        .unwrap();
    for r in [Resource::from(sched), slot.into(), appt.into(), vci.into()] {
        let report = mycore::validate(&r);
        assert!(
            report.issues.is_empty(),
            "{}: {:?}",
            r.resource_type(),
            report.issues
        );
        let back = fhir::read_str::<Resource>(&fhir::to_json(&r), ReadOptions::strict()).unwrap();
        assert!(back.warnings.is_empty());
        assert_eq!(back.value, r);
    }
}

#[test]
fn builder_refuses_what_hie_would_refuse() {
    let e = AppointmentBuilder::vci("a")
        .specialty("86")
        .healthcare_service("h", "H")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.report().unwrap().errors().any(|i| i.rule == "vc-patient"));
    assert!(e.to_string().contains("Patient participant"), "{e}");
    let e = AppointmentBuilder::vci("a")
        .healthcare_service("h", "H")
        .patient("p", "P")
        .build()
        .unwrap_err();
    assert!(e
        .report()
        .unwrap()
        .errors()
        .any(|i| i.rule == "specialty-required"));
    let e = AppointmentBuilder::vci("bad id").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = AppointmentBuilder::vci("a")
        .period("2023-07-10", "2023-07-10T22:00:00+08:00")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // a VCI appointment without slot is pending (a slot-less booked one is refused)
    let a = AppointmentBuilder::vci("a")
        .specialty("86")
        .healthcare_service("h", "H")
        .patient("p", "P")
        .build()
        .unwrap();
    assert_eq!(a.status, Some(AppointmentStatus::Pending));
    let e = AppointmentBuilder::vci("a")
        .status(AppointmentStatus::Booked)
        .specialty("86")
        .healthcare_service("h", "H")
        .patient("p", "P")
        .build()
        .unwrap_err();
    assert!(e
        .report()
        .unwrap()
        .errors()
        .any(|i| i.rule == "slotless-not-booked"));
    // VCE resources need the token
    let e = SlotBuilder::new("s", VcType::Vce)
        .schedule("x")
        .specialty("149")
        .period("2023-07-10T21:00:00Z", "2023-07-10T22:00:00Z")
        .build()
        .unwrap_err();
    assert!(e
        .report()
        .unwrap()
        .errors()
        .any(|i| i.rule == "vc-token-required"));
}

fn appt_json() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/spec/mycore-ig/examples/vci-app-example.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

fn res(v: &Value) -> Resource {
    fhir::read::<Resource>(&serde_json::to_vec(v).unwrap(), ReadOptions::lenient())
        .unwrap()
        .value
}

#[test]
fn appointment_rules() {
    assert!(errors(&res(&appt_json())).is_empty());
    let cases: Vec<Case> = vec![
        (
            "status-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("status");
            }),
            "Appointment.status",
        ),
        (
            "service-category-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("serviceCategory");
            }),
            "Appointment.serviceCategory",
        ),
        (
            "service-category-vr",
            Box::new(|v| v["serviceCategory"][0]["coding"][0]["code"] = json!("AMB")),
            "Appointment.serviceCategory",
        ),
        (
            "service-type-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("serviceType");
            }),
            "Appointment.serviceType",
        ),
        (
            "specialty-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("specialty");
            }),
            "Appointment.specialty",
        ),
        (
            "specialty-system",
            Box::new(|v| v["specialty"][0]["coding"][0]["system"] = json!("http://other")),
            "Appointment.specialty[0]",
        ),
        (
            "appointment-type-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("appointmentType");
            }),
            "Appointment.appointmentType",
        ),
        (
            "schedule-type-code",
            Box::new(|v| v["appointmentType"]["coding"][0]["code"] = json!("private")),
            "Appointment.appointmentType",
        ),
        (
            "actor-type",
            Box::new(|v| {
                v["participant"][1]["actor"]
                    .as_object_mut()
                    .unwrap()
                    .remove("type");
            }),
            "Appointment.participant[1].actor.type",
        ),
        (
            "actor-display",
            Box::new(|v| {
                v["participant"][0]["actor"]
                    .as_object_mut()
                    .unwrap()
                    .remove("display");
            }),
            "Appointment.participant[0].actor.display",
        ),
        (
            "participant-actor",
            Box::new(|v| {
                v["participant"][1].as_object_mut().unwrap().remove("actor");
            }),
            "Appointment.participant[1].actor",
        ),
        (
            "participant-status",
            Box::new(|v| {
                v["participant"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("status");
            }),
            "Appointment.participant[1].status",
        ),
        (
            "slotless-not-booked",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("slot");
            }),
            "Appointment.status",
        ),
        (
            "vc-patient",
            Box::new(|v| {
                v["participant"].as_array_mut().unwrap().remove(1);
            }),
            "Appointment.participant",
        ),
        (
            "vc-token-required",
            Box::new(|v| v["serviceType"][0]["coding"][0]["code"] = json!("VCE")),
            "Appointment.identifier",
        ),
        (
            "start-before-end",
            Box::new(|v| v["end"] = json!("2023-07-10T20:00:00+08:00")),
            "Appointment.end",
        ),
    ];
    for (rule, edit, at) in cases {
        let mut v = appt_json();
        edit(&mut v);
        let found = rules(&res(&v));
        assert!(
            found
                .iter()
                .any(|(s, r, l)| *s == Severity::Error && *r == rule && l == at),
            "{rule} at {at} not in {found:?}"
        );
    }
}

fn enc_json() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/spec/mycore-ig/examples/vci-enc-example.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

#[test]
fn encounter_rules() {
    assert!(errors(&res(&enc_json())).is_empty());
    let cases: Vec<Case> = vec![
        (
            "encounter-status",
            Box::new(|v| v["status"] = json!("planned")),
            "Encounter.status",
        ),
        (
            "vc-token-required",
            Box::new(|v| {
                v["identifier"].as_array_mut().unwrap().remove(0);
            }),
            "Encounter.identifier",
        ),
        (
            "vc-token-max",
            Box::new(|v| {
                let t = v["identifier"][0].clone();
                v["identifier"].as_array_mut().unwrap().push(t);
            }),
            "Encounter.identifier",
        ),
        (
            "class-vr",
            Box::new(|v| v["class"]["code"] = json!("AMB")),
            "Encounter.class",
        ),
        (
            "type-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("type");
            }),
            "Encounter.type",
        ),
        (
            "service-type-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("serviceType");
            }),
            "Encounter.serviceType",
        ),
        (
            "subject-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("subject");
            }),
            "Encounter.subject",
        ),
        (
            "period-start-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("period");
            }),
            "Encounter.period.start",
        ),
        (
            "service-provider-required",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("serviceProvider");
            }),
            "Encounter.serviceProvider",
        ),
        (
            "participant-type",
            Box::new(|v| v["participant"] = json!([{"individual":{"reference":"Practitioner/1"}}])),
            "Encounter.participant[0].type",
        ),
        (
            "diagnosis-use",
            Box::new(|v| v["diagnosis"] = json!([{"condition":{"reference":"Condition/1"}}])),
            "Encounter.diagnosis[0].use",
        ),
    ];
    for (rule, edit, at) in cases {
        let mut v = enc_json();
        edit(&mut v);
        let found = rules(&res(&v));
        assert!(
            found
                .iter()
                .any(|(s, r, l)| *s == Severity::Error && *r == rule && l == at),
            "{rule} at {at} not in {found:?}"
        );
    }
    let mut v = enc_json();
    v["status"] = json!("finished");
    assert!(rules(&res(&v))
        .iter()
        .any(|(s, r, _)| *s == Severity::Warning && *r == "finished-period-end"));
}

#[test]
fn schedule_and_slot_rules() {
    let (sched, slot, _) = vce_set();
    let mut s: Value = serde_json::to_value(&sched).unwrap();
    s.as_object_mut().unwrap().remove("extension");
    assert!(errors(&res(&s)).contains(&"schedule-type-required"));
    let mut s: Value = serde_json::to_value(&sched).unwrap();
    s.as_object_mut().unwrap().remove("identifier");
    assert!(errors(&res(&s)).contains(&"vc-token-required"));
    let mut s: Value = serde_json::to_value(&sched).unwrap();
    s["actor"][0].as_object_mut().unwrap().remove("display");
    assert!(errors(&res(&s)).contains(&"actor-display"));

    let mut q: Value = serde_json::to_value(&slot).unwrap();
    q["extension"][0]["extension"][1]["valueInteger"] = json!(11);
    assert!(errors(&res(&q)).contains(&"slot-quota-available"));
    let mut q: Value = serde_json::to_value(&slot).unwrap();
    q.as_object_mut().unwrap().remove("extension");
    assert!(errors(&res(&q)).contains(&"slot-quota-required"));
    let mut q: Value = serde_json::to_value(&slot).unwrap();
    q["extension"][0]["extension"][0] = json!({"url":"quota","valueString":"ten"});
    assert!(errors(&res(&q)).contains(&"slot-quota-value"));
    let mut q: Value = serde_json::to_value(&slot).unwrap();
    q["extension"][0]["extension"][0] = json!({"url":"quota","valueString":"10"});
    let r = mycore::validate(&res(&q));
    assert!(r.is_valid() && r.warnings().any(|i| i.rule == "slot-quota-string"));
}

#[test]
fn published_examples_have_only_known_quirks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/spec/mycore-ig/examples");
    let quirk_rules = [
        "schedule-actor",
        "specialty-required",
        "service-type-system",
        "service-type-code",
        "vc-token-required",
        "slot-quota-available",
    ];
    let mut strict_errors = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let r = res(&serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap());
        let report = Validator::new().accept_published_quirks(true).validate(&r);
        assert!(report.is_valid(), "{}: {:?}", p.display(), report.issues);
        for i in Validator::new().validate(&r).errors() {
            assert!(quirk_rules.contains(&i.rule), "{}: {i}", p.display());
            strict_errors += 1;
        }
    }
    assert!(strict_errors > 0, "the quirks must be errors by default");
}

#[test]
fn report_to_operation_outcome() {
    let mut v = enc_json();
    v["status"] = json!("planned");
    let report = mycore::validate(&res(&v));
    let oo = report.to_operation_outcome();
    assert!(oo.has_errors());
    let json: Value = serde_json::from_str(&fhir::to_json(&oo)).unwrap();
    assert_eq!(json["issue"][0]["severity"], "error");
    assert_eq!(json["issue"][0]["code"], "code-invalid");
    assert_eq!(json["issue"][0]["expression"][0], "Encounter.status");
    let clean = mycore::validate(&res(&enc_json())).to_operation_outcome();
    assert_eq!(
        clean.issue[0].severity.as_ref().unwrap().as_str(),
        "information"
    );
}

#[test]
fn scheduling_and_booking_transactions() {
    let (sched, slot, appt) = vce_set();
    let b = scheduling_bundle(
        &sched,
        std::slice::from_ref(&slot),
        Some("https://hie.example/baseR4/"),
    )
    .unwrap();
    assert_eq!(b.entry.len(), 2);
    for (e, url) in b.entry.iter().zip(["Schedule/vce-sch", "Slot/vce-slt"]) {
        let req = e.request.as_ref().unwrap();
        assert_eq!(
            (
                req.method.clone().unwrap(),
                req.url.as_ref().unwrap().as_str()
            ),
            (HttpVerb::Put, url)
        );
        assert_eq!(
            e.full_url.as_ref().unwrap().as_str(),
            format!("https://hie.example/baseR4/{url}")
        );
    }
    assert!(mycore::validate(&b.clone().into()).issues.is_empty());
    let other = SlotBuilder::new("x", VcType::Vce)
        .schedule("other")
        .token(TOKEN)
        .specialty("149")
        .period("2023-07-10T21:00:00Z", "2023-07-10T22:00:00Z")
        .build()
        .unwrap();
    assert_eq!(
        scheduling_bundle(&sched, &[other], None)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );

    let mut slot = slot;
    slot.meta.as_mut().unwrap().version_id = Some(hie_vc::fhir::Id::new("4").unwrap());
    let booking = booking_bundle(&appt, &slot, QuotaWire::String, None).unwrap();
    let booked_slot = match booking.entry[1].resource.as_ref().unwrap() {
        Resource::Slot(s) => s,
        other => panic!("{other:?}"),
    };
    let (q, as_string) = SlotQuota::read(booked_slot).unwrap();
    assert_eq!((q.quota, q.available, as_string), (10, 9, true));
    assert_eq!(
        booking.entry[1]
            .request
            .as_ref()
            .unwrap()
            .if_match
            .as_deref(),
        Some("W/\"4\"")
    );
    match booking.entry[0].resource.as_ref().unwrap() {
        Resource::Appointment(a) => {
            assert_eq!(a.slot[0].reference.as_deref(), Some("Slot/vce-slt"));
            assert_eq!(a.status, Some(AppointmentStatus::Booked));
        }
        other => panic!("{other:?}"),
    }
    // the last place makes the slot busy; none left is refused
    let one = SlotBuilder::new("one", VcType::Vci)
        .schedule("s")
        .quota(1)
        .specialty("86")
        .period("2023-07-10T21:00:00Z", "2023-07-10T22:00:00Z")
        .build()
        .unwrap();
    let b = booking_bundle(&appt, &one, QuotaWire::Integer, None).unwrap();
    let Resource::Slot(s) = b.entry[1].resource.clone().unwrap() else {
        panic!()
    };
    assert_eq!(s.status, Some(SlotStatus::Busy));
    assert_eq!(
        booking_bundle(&appt, &s, QuotaWire::Integer, None)
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
}

#[test]
fn vc_encounter_view() {
    let e: Encounter = fhir::read_str(&enc_json().to_string(), ReadOptions::strict())
        .unwrap()
        .value;
    let vc = VcEncounter::from_encounter(&e).unwrap();
    assert_eq!(vc.vc_type, VcType::Vci);
    assert_eq!(vc.token.as_deref(), Some(TOKEN));
    assert_eq!(vc.encounter_number.as_deref(), Some("HTJ-ENC-2307000110"));
    assert_eq!(
        vc.patient_id(),
        Some("48e364a3-aa9b-4364-8458-d75c1591ef0d")
    );
    assert_eq!(
        vc.organisation.as_ref().unwrap().reference.as_deref(),
        Some("Organization/11-05060009")
    );
    assert!(!format!("{vc:?}").contains("19d3b96a"));

    let mut other = enc_json();
    other["serviceType"]["coding"][0]["code"] = json!("VCMDT");
    let e2: Encounter = fhir::read_str(&other.to_string(), ReadOptions::strict())
        .unwrap()
        .value;
    assert_eq!(
        VcEncounter::from_encounter(&e2).unwrap().vc_type,
        VcType::Vcmdt
    );

    let amb: Encounter = fhir::read(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/spec/mycore-ig/examples/encounter-sample.json"
        ))
        .unwrap(),
        ReadOptions::strict(),
    )
    .unwrap()
    .value;
    let err = VcEncounter::from_encounter(&amb).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("not a virtual consultation"),
        "{err}"
    );

    let finished = finish_encounter(
        &e,
        hie_vc::fhir::DateTime::new("2023-07-07T18:20:00+08:00").unwrap(),
    );
    assert_eq!(finished.status.as_ref().unwrap().as_str(), "finished");
    assert_eq!(
        finished
            .period
            .as_ref()
            .unwrap()
            .end
            .as_ref()
            .unwrap()
            .as_str(),
        "2023-07-07T18:20:00+08:00"
    );
    assert_eq!(
        finished
            .status_history
            .last()
            .unwrap()
            .status
            .as_ref()
            .unwrap()
            .as_str(),
        "arrived"
    );
    assert!(mycore::validate(&finished.clone().into()).is_valid());
}

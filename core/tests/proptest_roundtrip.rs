//! Generated resources survive write → strict read → write unchanged.

use hie_vc::fhir::{
    self, Appointment, AppointmentParticipant, AppointmentStatus, CodeableConcept, Coding, Decimal,
    Extension, ExtensionValue, Id, Identifier, Instant, Integer, ParticipationStatus, ReadOptions,
    Reference, Resource, Slot, SlotStatus,
};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 äé✓/_.:-]{1,24}".prop_filter("non-empty", |s| !s.is_empty())
}

fn code() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,10}"
}

fn id() -> impl Strategy<Value = Id> {
    "[A-Za-z0-9.-]{1,64}".prop_map(|s| Id::new(s).unwrap())
}

fn instant() -> impl Strategy<Value = Instant> {
    (
        1990u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        prop::bool::ANY,
    )
        .prop_map(|(y, mo, d, h, mi, z)| {
            Instant::new(format!(
                "{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:00{}",
                if z { "Z" } else { "+08:00" }
            ))
            .unwrap()
        })
}

fn decimal() -> impl Strategy<Value = Decimal> {
    (-100000i64..100000, 0usize..4).prop_map(|(n, zeros)| {
        Decimal::new(format!(
            "{}.{}{}",
            n / 100,
            (n % 100).abs(),
            "0".repeat(zeros)
        ))
        .unwrap()
    })
}

fn concept() -> impl Strategy<Value = CodeableConcept> {
    (
        prop::collection::vec((code(), proptest::option::of(text())), 1..3),
        proptest::option::of(text()),
    )
        .prop_map(|(codings, t)| CodeableConcept {
            coding: codings
                .into_iter()
                .map(|(c, d)| {
                    Coding::new("http://fhir.hie.moh.gov.my/CodeSystem/x", &c, d.as_deref())
                })
                .collect(),
            text: t,
            ..Default::default()
        })
}

fn extension() -> impl Strategy<Value = Extension> {
    let leaf = prop_oneof![
        text().prop_map(ExtensionValue::String),
        any::<i32>().prop_map(|i| ExtensionValue::Integer(Integer(i64::from(i)))),
        any::<bool>().prop_map(ExtensionValue::Boolean),
        decimal().prop_map(ExtensionValue::Decimal),
        concept().prop_map(ExtensionValue::CodeableConcept),
        instant().prop_map(ExtensionValue::Instant),
    ];
    let leaf_ext = (code(), leaf).prop_map(|(u, v)| Extension::new(&format!("http://e/{u}"), v));
    leaf_ext.prop_recursive(3, 12, 4, |inner| {
        (code(), prop::collection::vec(inner, 1..4))
            .prop_map(|(u, parts)| Extension::complex(&format!("http://e/{u}"), parts))
    })
}

fn slot() -> impl Strategy<Value = Slot> {
    (
        id(),
        prop::collection::vec(extension(), 0..3),
        prop::collection::vec(concept(), 0..3),
        instant(),
        instant(),
        proptest::option::of(text()),
        prop::collection::vec((text(), text()), 0..3),
    )
        .prop_map(|(id, ext, st, a, b, comment, ids)| Slot {
            id: Some(id),
            extension: ext,
            service_type: st,
            identifier: ids
                .into_iter()
                .map(|(s, v)| Identifier::new(&format!("urn:{}", s.replace(' ', "-")), v))
                .collect(),
            schedule: Some(Reference::to("Schedule", "s1")),
            status: Some(SlotStatus::Free),
            start: Some(a),
            end: Some(b),
            comment,
            ..Default::default()
        })
}

fn appointment() -> impl Strategy<Value = Appointment> {
    (
        id(),
        prop::collection::vec((id(), text()), 1..5),
        prop::collection::vec(concept(), 0..3),
        proptest::option::of(instant()),
        prop::collection::vec(extension(), 0..2),
    )
        .prop_map(|(id, actors, specs, start, ext)| Appointment {
            id: Some(id),
            status: Some(AppointmentStatus::Booked),
            specialty: specs,
            start,
            extension: ext,
            participant: actors
                .into_iter()
                .map(|(pid, name)| AppointmentParticipant {
                    actor: Some(Reference::to("Patient", pid.as_str()).with_display(name)),
                    status: Some(ParticipationStatus::Accepted),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn slots_round_trip(s in slot()) {
        let r = Resource::from(s);
        let json = fhir::to_json(&r);
        let back = fhir::read_str::<Resource>(&json, ReadOptions::strict()).unwrap();
        prop_assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        prop_assert_eq!(fhir::to_json(&back.value), json);
        prop_assert_eq!(back.value, r);
    }

    #[test]
    fn appointments_round_trip(a in appointment()) {
        let r = Resource::from(a);
        let json = fhir::to_json(&r);
        let back = fhir::read_str::<Resource>(&json, ReadOptions::strict()).unwrap();
        prop_assert_eq!(fhir::to_json(&back.value), json);
        prop_assert_eq!(back.value, r);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = fhir::read::<Resource>(&bytes, ReadOptions::lenient());
        let _ = fhir::read::<Resource>(&bytes, ReadOptions::strict());
    }
}

//! The FHIR model's behaviour: lossless round trips, strict errors with locations, lenient
//! warnings, unknown-element policy, and Debug output that hides patient data.

use hie_vc::fhir::{
    self, Appointment, Encounter, ReadErrorKind, ReadOptions, Resource, Slot, WarningKind,
};
use serde_json::{json, Value};

fn round_trip(v: &Value) -> Value {
    let bytes = serde_json::to_vec(v).unwrap();
    let read = fhir::read::<Resource>(&bytes, ReadOptions::strict())
        .unwrap_or_else(|e| panic!("{e}\n{v}"));
    serde_json::from_str(&fhir::to_json(&read.value)).unwrap()
}

fn slot() -> Value {
    json!({"resourceType":"Slot","id":"s1","schedule":{"reference":"Schedule/x"},"status":"free",
           "start":"2023-07-10T21:00:00+08:00","end":"2023-07-10T22:00:00+08:00"})
}

fn with(mut base: Value, key: &str, v: Value) -> Value {
    base.as_object_mut().unwrap().insert(key.to_owned(), v);
    base
}

/// Crafted documents that must come back byte-for-byte equal as JSON values.
fn crafted() -> Vec<Value> {
    vec![
        // 1. unknown top-level element with a decimal that must keep its text
        with(slot(), "x-local", json!({"a": [1, 2, {"b": null}]})),
        // 2. primitive extension on a single primitive
        with(
            slot(),
            "_status",
            json!({"id":"st","extension":[{"url":"http://e/x","valueString":"v"}]}),
        ),
        // 3. value-less primitive carrying only an extension
        with(
            with(slot(), "comment", Value::Null)
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "comment")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            "_comment",
            json!({"extension":[{"url":"http://e/absent","valueCode":"masked"}]}),
        ),
        // 4. null-aligned primitive extension array
        json!({"resourceType":"Patient","id":"p","name":[{"given":["A","B","C"],"_given":[null,{"extension":[{"url":"http://e/g","valueBoolean":true}]},null]}]}),
        // 5. nested (complex) extension
        with(
            slot(),
            "extension",
            json!([{"url":"http://e/outer","extension":[{"url":"inner","valueInteger":3},{"url":"deeper","extension":[{"url":"x","valueDate":"2020-01"}]}]}]),
        ),
        // 6. extension value of a type the model keeps raw (Timing)
        with(
            slot(),
            "extension",
            json!([{"url":"http://e/t","valueTiming":{"repeat":{"frequency":2,"period":1.0,"periodUnit":"d"}}}]),
        ),
        // 7. contained resources, typed and raw
        with(
            slot(),
            "contained",
            json!([{"resourceType":"Patient","id":"c1","gender":"female"},{"resourceType":"Observation","id":"o1","status":"final","valueQuantity":{"value":1.50}}]),
        ),
        // 8. modifierExtension
        with(
            slot(),
            "modifierExtension",
            json!([{"url":"http://e/m","valueBoolean":false}]),
        ),
        // 9. decimal precision in a Quantity inside an extension
        with(
            slot(),
            "extension",
            json!([{"url":"http://e/q","valueQuantity":{"value":1.50,"unit":"mg"}}]),
        ),
        // 10. exponent decimal
        with(
            slot(),
            "extension",
            json!([{"url":"http://e/d","valueDecimal":1.0e-3}]),
        ),
        // 11. every Encounter backbone
        json!({"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"VR"},
               "statusHistory":[{"status":"arrived","period":{"start":"2023-01-01T00:00:00Z"}}],
               "classHistory":[{"class":{"code":"AMB"},"period":{"end":"2023"}}],
               "participant":[{"type":[{"text":"x"}],"individual":{"reference":"Practitioner/p"}}],
               "diagnosis":[{"condition":{"reference":"Condition/c"},"rank":1}],
               "hospitalization":{"dietPreference":[{"text":"halal"}]},
               "location":[{"location":{"reference":"Location/l"},"status":"active"}],
               "length":{"value":30,"unit":"min"}}),
        // 12. Bundle searchset with links, search mode/score and a total
        json!({"resourceType":"Bundle","type":"searchset","total":1,"link":[{"relation":"next","url":"http://h/Slot?page=2"}],
               "entry":[{"fullUrl":"http://h/Slot/s1","resource":slot(),"search":{"mode":"match","score":0.50}}]}),
        // 13. transaction-response with outcome
        json!({"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201 Created","location":"Slot/s1/_history/1","etag":"W/\"1\"","lastModified":"2023-01-01T00:00:00Z","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}}}]}),
        // 14. batch with conditional headers
        json!({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"POST","url":"Slot","ifNoneExist":"identifier=a|b"},"resource":slot()},{"request":{"method":"DELETE","url":"Slot/x","ifMatch":"W/\"3\""}}]}),
        // 15. history bundle
        json!({"resourceType":"Bundle","type":"history","entry":[{"fullUrl":"http://h/Slot/s1","request":{"method":"PUT","url":"Slot/s1"},"response":{"status":"200"},"resource":slot()}]}),
        // 16. Patient with choice elements
        json!({"resourceType":"Patient","id":"p2","deceasedDateTime":"2020-02-02T10:00:00+08:00","multipleBirthInteger":2,"birthDate":"1992-01-14","identifier":[{"system":"http://fhir.hie.moh.gov.my/sid/my-kad-no","value":"950728106051"}]}),
        // 17. OperationOutcome
        json!({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"x","expression":["Appointment.status"]}]}),
        // 18. an unknown resource type at the top
        json!({"resourceType":"Basic","id":"b","code":{"text":"x"},"amount":3.10}),
        // 19. Practitioner, PractitionerRole, Organization, HealthcareService
        json!({"resourceType":"PractitionerRole","id":"r","practitioner":{"reference":"Practitioner/p"},"availableTime":[{"daysOfWeek":["mon","tue"],"availableStartTime":"08:00:00"}]}),
        json!({"resourceType":"HealthcareService","id":"h","name":"Clinic","providedBy":{"reference":"Organization/o"},"eligibility":[{"comment":"**md**"}]}),
        json!({"resourceType":"Organization","id":"o","name":"Hospital","alias":["HTJ"],"contact":[{"purpose":{"text":"admin"}}]}),
        json!({"resourceType":"Practitioner","id":"p","qualification":[{"code":{"text":"MD"}}],"communication":[{"text":"ms"}]}),
        // 23. narrative and meta
        with(
            with(
                slot(),
                "text",
                json!({"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}),
            ),
            "meta",
            json!({"versionId":"3","lastUpdated":"2023-05-15T09:16:00.852+08:00","tag":[{"code":"t"}],"profile":["http://fhir.hie.moh.gov.my/StructureDefinition/Slot-my-core"]}),
        ),
        // 24. unicode and escapes in strings and keys
        with(
            with(
                slot(),
                "comment",
                json!("Klinik \u{a0}Kesihatan \"A\" \\ é ✓"),
            ),
            "x\"odd",
            json!(1),
        ),
        // 25. Appointment with annotations-like unknown + identifier assigner recursion
        json!({"resourceType":"Appointment","status":"booked","participant":[{"status":"accepted","actor":{"identifier":{"value":"1","assigner":{"display":"MMC"}}}}],"identifier":[{"value":"x","period":{"start":"2020"}}]}),
    ]
}

#[test]
fn crafted_cases_round_trip_to_equal_json() {
    let cases = crafted();
    assert!(cases.len() >= 20);
    for (i, case) in cases.iter().enumerate() {
        assert_eq!(&round_trip(case), case, "case {}", i + 1);
    }
}

#[test]
fn decimals_keep_their_exact_text() {
    let text = r#"{"resourceType":"Slot","schedule":{"reference":"Schedule/x"},"status":"free","start":"2023-07-10T21:00:00Z","end":"2023-07-10T22:00:00Z","extension":[{"url":"http://e/q","valueDecimal":1.50}],"x":{"v":2.000}}"#;
    let r = fhir::read_str::<Slot>(text, ReadOptions::strict()).unwrap();
    let out = fhir::to_json(&r.value);
    assert!(out.contains(r#""valueDecimal":1.50"#), "{out}");
    assert!(out.contains(r#""x":{"v":2.000}"#), "{out}");
}

fn strict_err(v: Value) -> hie_vc::fhir::ReadError {
    fhir::read::<Resource>(&serde_json::to_vec(&v).unwrap(), ReadOptions::strict())
        .expect_err("strict read must fail")
}

#[test]
fn strict_errors_are_located() {
    let appt = |p1: Value| json!({"resourceType":"Appointment","status":"booked","participant":[{"status":"accepted"}, p1]});
    let e = strict_err(appt(json!({"status":"accepted","actor":"Patient/1"})));
    assert_eq!(
        (e.kind, e.location.as_str()),
        (
            ReadErrorKind::InvalidType,
            "Appointment.participant[1].actor"
        )
    );
    let e = strict_err(appt(
        json!({"status":"accepted","actor":{"reference":["x"]}}),
    ));
    assert_eq!(e.location, "Appointment.participant[1].actor.reference");
    let e = strict_err(
        json!({"resourceType":"Appointment","status":"booked","participant":{"status":"accepted"}}),
    );
    assert_eq!(
        (e.kind, e.location.as_str()),
        (ReadErrorKind::InvalidType, "Appointment.participant")
    );
    let e = strict_err(
        json!({"resourceType":"Appointment","status":"booked","participant":[{"status":"accepted"}],"start":"2023-07-10"}),
    );
    assert_eq!(
        (e.kind, e.location.as_str()),
        (ReadErrorKind::InvalidValue, "Appointment.start")
    );
    let e = strict_err(
        json!({"resourceType":"Appointment","id":"bad id!","status":"booked","participant":[{"status":"accepted"}]}),
    );
    assert_eq!(
        (e.kind, e.location.as_str()),
        (ReadErrorKind::InvalidValue, "Appointment.id")
    );
    let e = strict_err(json!({"resourceType":"Patient","birthDate":"14-01-1992"}));
    assert_eq!(e.location, "Patient.birthDate");
    let e = strict_err(
        json!({"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},"period":{"start":"2023-07-07 17:50"}}),
    );
    assert_eq!(e.location, "Encounter.period.start");
    let e = strict_err(json!({"resourceType":"Encounter","class":{"code":"VR"}}));
    assert_eq!(
        (e.kind, e.location.as_str()),
        (ReadErrorKind::MissingRequired, "Encounter.status")
    );
    let e = strict_err(
        json!({"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Slot","status":7}}]}),
    );
    assert_eq!(e.location, "Bundle.entry[0].resource.status");
    let e = strict_err(
        json!({"resourceType":"Slot","status":"free","schedule":{"reference":"Schedule/x"},"start":"2023-07-10T21:00:00Z","end":null}),
    );
    assert_eq!(e.location, "Slot.end");
    let e = strict_err(json!({"resourceType":"Appointment","status":"booked","participant":[]}));
    assert_eq!(e.location, "Appointment.participant");
    let e = strict_err(json!({"resourceType":"Slot","overbooked":"true","status":"free"}));
    assert_eq!(e.location, "Slot.overbooked");
}

#[test]
fn missing_or_wrong_resource_type() {
    let e = fhir::read_str::<Resource>(r#"{"id":"x"}"#, ReadOptions::strict()).unwrap_err();
    assert_eq!(e.kind, ReadErrorKind::MissingResourceType);
    let e = fhir::read_str::<Appointment>(
        r#"{"status":"booked","participant":[{"status":"accepted"}]}"#,
        ReadOptions::strict(),
    )
    .unwrap_err();
    assert_eq!(e.kind, ReadErrorKind::MissingResourceType);
    let r = fhir::read_str::<Appointment>(
        r#"{"status":"booked","participant":[{"status":"accepted"}]}"#,
        ReadOptions::lenient(),
    )
    .unwrap();
    assert_eq!(r.warnings[0].kind, WarningKind::MissingResourceType);
    let e =
        fhir::read_str::<Encounter>(r#"{"resourceType":"Appointment"}"#, ReadOptions::lenient())
            .unwrap_err();
    assert_eq!(e.kind, ReadErrorKind::WrongResourceType);
    // resourceType not first still dispatches, and stays located
    let e = fhir::read_str::<Resource>(
        r#"{"status":"booked","participant":[{"status":1}],"resourceType":"Appointment"}"#,
        ReadOptions::strict(),
    )
    .unwrap_err();
    assert_eq!(e.location, "Appointment.participant[0].status");
}

#[test]
fn syntax_errors_and_bad_bytes() {
    for bad in [
        &b"{"[..],
        b"not json",
        b"{\"resourceType\":\"Slot\",}",
        b"{\"resourceType\":\"Slot\"} trailing",
        b"{\"resourceType\":\"Slot\",\"comment\":\"\xff\xfe\"}",
    ] {
        let e = fhir::read::<Resource>(bad, ReadOptions::lenient()).unwrap_err();
        assert_eq!(
            e.kind,
            ReadErrorKind::Syntax,
            "{:?}: {e}",
            String::from_utf8_lossy(bad)
        );
    }
    // Deep nesting inside an unknown element is kept as text (no recursion, so no stack risk).
    let deep = format!(
        "{{\"resourceType\":\"Slot\",\"x\":{}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let r = fhir::read::<Resource>(deep.as_bytes(), ReadOptions::lenient()).unwrap();
    assert_eq!(fhir::to_json(&r.value), deep);
    let mut deep_ext = String::from(r#"{"resourceType":"Slot","extension":["#);
    for _ in 0..200 {
        deep_ext.push_str(r#"{"url":"u","extension":["#);
    }
    deep_ext.push_str(&"]}".repeat(200));
    deep_ext.push_str("]}");
    // Deep nesting in typed elements is refused with a typed error, never a stack overflow.
    let e = fhir::read::<Resource>(deep_ext.as_bytes(), ReadOptions::lenient()).unwrap_err();
    assert!(
        matches!(e.kind, ReadErrorKind::TooDeep | ReadErrorKind::Syntax),
        "{e:?}"
    );
}

#[test]
fn lenient_accepts_published_quirks_with_warnings() {
    let v = json!({"resourceType":"Appointment","status":"booked","slot":{"reference":"Slot/a"},"participant":[{"status":"accepted"}],
                   "priority":"5","meta":{"profile":"http://x/p"}});
    let r = fhir::read::<Appointment>(&serde_json::to_vec(&v).unwrap(), ReadOptions::lenient())
        .unwrap();
    let kinds: Vec<(WarningKind, &str)> = r
        .warnings
        .iter()
        .map(|w| (w.kind, w.location.as_str()))
        .collect();
    assert!(
        kinds.contains(&(WarningKind::SingleForArray, "Appointment.slot")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(WarningKind::StringForPrimitive, "Appointment.priority")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(WarningKind::SingleForArray, "Appointment.meta.profile")),
        "{kinds:?}"
    );
    assert_eq!(r.value.slot.len(), 1);
    assert_eq!(r.value.priority.unwrap().get(), 5);
    let out: Value = serde_json::from_str(&fhir::to_json(&r.value)).unwrap();
    assert!(
        out["slot"].is_array() && out["meta"]["profile"].is_array() && out["priority"] == json!(5)
    );

    let b = json!({"resourceType":"Bundle","type":"transaction","entry":[
        {"request":{"method":"POST"},"resource":slot()},{"request":{"method":"PUT"},"resource":slot()}]});
    let r =
        fhir::read::<Resource>(&serde_json::to_vec(&b).unwrap(), ReadOptions::lenient()).unwrap();
    let out: Value = serde_json::from_str(&fhir::to_json(&r.value)).unwrap();
    assert_eq!(out["entry"][0]["request"]["url"], "Slot");
    assert_eq!(out["entry"][1]["request"]["url"], "Slot/s1");
    assert!(r
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::FilledIn && w.location == "Bundle.entry[0].request.url"));
    assert_eq!(
        fhir::read::<Resource>(&serde_json::to_vec(&b).unwrap(), ReadOptions::strict())
            .unwrap_err()
            .location,
        "Bundle.entry[0].request.url"
    );
}

#[test]
fn unknown_elements_kept_reported_or_denied() {
    let v = with(slot(), "participant", json!([{"actor":{"display":"x"}}]));
    let bytes = serde_json::to_vec(&v).unwrap();
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        let r = fhir::read::<Slot>(&bytes, opts).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(
            (r.warnings[0].kind, r.warnings[0].location.as_str()),
            (WarningKind::UnknownElement, "Slot.participant")
        );
        assert!(r.value.extra.get("participant").is_some());
    }
    let e = fhir::read::<Slot>(&bytes, ReadOptions::strict().deny_unknown(true)).unwrap_err();
    assert_eq!(
        (e.kind, e.location.as_str()),
        (ReadErrorKind::UnknownElement, "Slot.participant")
    );
}

#[test]
fn unknown_codes_are_kept() {
    let r = fhir::read_str::<Slot>(r#"{"resourceType":"Slot","schedule":{"reference":"Schedule/x"},"status":"on-hold","start":"2023-07-10T21:00:00Z","end":"2023-07-10T22:00:00Z"}"#, ReadOptions::strict()).unwrap();
    assert_eq!(r.value.status.as_ref().unwrap().as_str(), "on-hold");
    assert!(!r.value.status.as_ref().unwrap().is_known());
    assert_eq!(r.warnings[0].kind, WarningKind::UnknownCode);
    assert!(fhir::to_json(&r.value).contains(r#""status":"on-hold""#));
}

#[test]
fn misaligned_primitive_extensions() {
    let v = json!({"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null]}]});
    let bytes = serde_json::to_vec(&v).unwrap();
    assert_eq!(
        fhir::read::<Resource>(&bytes, ReadOptions::strict())
            .unwrap_err()
            .location,
        "Patient.name[0].given"
    );
    let r = fhir::read::<Resource>(&bytes, ReadOptions::lenient()).unwrap();
    assert_eq!(r.warnings[0].kind, WarningKind::Misaligned);
}

#[test]
fn debug_never_shows_patient_data_or_tokens() {
    let v = json!({"resourceType":"Bundle","type":"collection","entry":[
        {"resource":{"resourceType":"Patient","identifier":[{"system":"http://fhir.hie.moh.gov.my/sid/my-kad-no","value":"950728106051"}],
          "name":[{"text":"SITI NUR","family":"NUR","given":["SITI"]}],"telecom":[{"system":"phone","value":"0123456789"}],
          "birthDate":"1995-07-28","address":[{"line":["1 Jalan Ampang"],"city":"Kuala Lumpur","postalCode":"50450"}],
          "extension":[{"url":"http://x","valueString":"HALIZA BT RAZAK"}],"x-unknown":"950728106051-raw"}},
        {"resource":{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},
          "identifier":[{"system":"http://fhir.hie.moh.gov.my/sid/vc-token","value":"19d3b96a-6c4d-485a-9514-cbf6ccfeed6b"}],
          "subject":{"reference":"Patient/1","display":"SIVAKUMAR A/L ARUMUGAM"}}}]});
    let r =
        fhir::read::<Resource>(&serde_json::to_vec(&v).unwrap(), ReadOptions::strict()).unwrap();
    let dbg = format!("{:?} {:#?}", r.value, r.value);
    for secret in [
        "950728106051",
        "SITI",
        "NUR",
        "0123456789",
        "1995-07-28",
        "Jalan",
        "Kuala",
        "50450",
        "HALIZA",
        "19d3b96a",
        "SIVAKUMAR",
    ] {
        assert!(!dbg.contains(secret), "Debug shows {secret}: {dbg}");
    }
    assert!(
        dbg.contains("Patient/1") && dbg.contains("x-unknown"),
        "{dbg}"
    );
}

#[test]
fn serde_impls_match_the_reader() {
    let s: Slot = serde_json::from_value(slot()).unwrap();
    assert_eq!(serde_json::to_value(&s).unwrap(), slot());
    assert!(serde_json::from_value::<Slot>(json!({"resourceType":"Slot","start":"2023"})).is_err());
}

#[test]
fn a_repeated_element_keeps_its_last_value() {
    // JSON objects with a repeated key are not valid FHIR, but readers meet them; like
    // serde_json's own maps, the last occurrence wins — for arrays and structures alike, never
    // a merge of both.
    let json = r#"{"resourceType":"Encounter","status":"planned","class":{"code":"VR"},
        "identifier":[{"value":"first"},{"value":"second"}],
        "subject":{"reference":"Patient/a","display":"A"},
        "identifier":[{"value":"third"}],
        "subject":{"reference":"Patient/b"}}"#;
    let e = fhir::read_str::<Encounter>(json, ReadOptions::strict())
        .unwrap()
        .value;
    let ids: Vec<_> = e.identifier.iter().map(|i| i.value.as_deref()).collect();
    assert_eq!(ids, [Some("third")]);
    let subject = e.subject.unwrap();
    assert_eq!(subject.reference.as_deref(), Some("Patient/b"));
    assert_eq!(subject.display, None);
}

#[test]
fn null_array_elements_dropped_only_when_lenient() {
    let json = r#"{"resourceType":"Encounter","status":"planned","class":{"code":"VR"},
        "identifier":[{"value":"a"},null,{"value":"b"}]}"#;
    let e = fhir::read_str::<Encounter>(json, ReadOptions::strict()).unwrap_err();
    assert_eq!(
        (e.kind, e.location.as_str()),
        (ReadErrorKind::InvalidType, "Encounter.identifier[1]")
    );
    let r = fhir::read_str::<Encounter>(json, ReadOptions::lenient()).unwrap();
    let ids: Vec<_> = r
        .value
        .identifier
        .iter()
        .map(|i| i.value.as_deref())
        .collect();
    assert_eq!(ids, [Some("a"), Some("b")]);
    assert_eq!(
        (r.warnings[0].kind, r.warnings[0].location.as_str()),
        (WarningKind::Null, "Encounter.identifier[1]")
    );
}

#[test]
fn read_errors_never_quote_the_value() {
    // A malformed birth date, a name sent as a bare string inside the array, an identifier
    // value sent as a number: each error is located and typed, and no message (nor Debug)
    // carries the patient's data.
    let cases = [
        (
            r#"{"resourceType":"Patient","birthDate":"1990-13-45"}"#,
            "1990-13-45",
            "Patient.birthDate",
        ),
        (
            r#"{"resourceType":"Patient","name":["Siti binti Ahmad"]}"#,
            "Siti binti Ahmad",
            "Patient.name[0]",
        ),
        (
            r#"{"resourceType":"Patient","identifier":[{"value":900101145678}]}"#,
            "900101145678",
            "Patient.identifier[0].value",
        ),
    ];
    for (json, secret, location) in cases {
        let e = fhir::read_str::<Resource>(json, ReadOptions::strict()).unwrap_err();
        assert_eq!(e.location, location, "{json}");
        let shown = format!("{e} {e:?} {}", hie_vc::Error::from(e.clone()));
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        assert!(e.message.contains("expected"), "{}", e.message);
    }
    let v = fhir::Date::new("1990-13-45").unwrap_err();
    assert_eq!(v.value, "1990-13-45");
    assert!(!format!("{v} {v:?}").contains("1990-13-45"));
}

#[test]
fn resource_type_late_in_the_object() {
    // Serializers that sort keys put resourceType after most members: the reader keeps those
    // members until it knows the type, then reads them as that type, with the same result and
    // the same error locations as when resourceType comes first.
    let first = r#"{"resourceType":"Encounter","class":{"code":"VR"},"id":"e1","status":"arrived","x-local":[1.50],"subject":{"reference":"Patient/p"}}"#;
    let late = r#"{"class":{"code":"VR"},"id":"e1","resourceType":"Encounter","status":"arrived","x-local":[1.50],"subject":{"reference":"Patient/p"}}"#;
    let a = fhir::read_str::<Resource>(first, ReadOptions::strict()).unwrap();
    let b = fhir::read_str::<Resource>(late, ReadOptions::strict()).unwrap();
    assert_eq!(a.value, b.value);
    assert_eq!(fhir::to_json(&b.value), fhir::to_json(&a.value));
    assert!(fhir::to_json(&b.value).contains(r#""x-local":[1.50]"#));
    assert_eq!(a.warnings, b.warnings);

    let bad = r#"{"period":{"start":"2024-13-01"},"status":"arrived","class":{"code":"VR"},"resourceType":"Encounter"}"#;
    let e = fhir::read_str::<Resource>(bad, ReadOptions::strict()).unwrap_err();
    assert_eq!(
        (e.kind, e.location.as_str()),
        (ReadErrorKind::InvalidValue, "Encounter.period.start")
    );
    let missing = r#"{"status":"arrived","class":{"code":"VR"},"resourceType":"Encounter"}"#;
    assert!(fhir::read_str::<Resource>(missing, ReadOptions::strict()).is_ok());
    let no_type = r#"{"status":"arrived","class":{"code":"VR"}}"#;
    let e = fhir::read_str::<Resource>(no_type, ReadOptions::strict()).unwrap_err();
    assert_eq!(e.kind, ReadErrorKind::MissingResourceType);
    // A type the model does not know keeps every member, in order, resourceType first.
    let other = r#"{"status":"final","code":{"text":"x"},"resourceType":"Observation","id":"o1"}"#;
    let r = fhir::read_str::<Resource>(other, ReadOptions::strict()).unwrap();
    assert_eq!(
        fhir::to_json(&r.value),
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"id":"o1"}"#
    );
}

#[test]
fn locations_through_choices_arrays_and_nested_reads() {
    let json = r#"{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},
        "extension":[{"url":"http://a","valueString":"x"},
                     {"url":"http://b","valueCodeableConcept":{"text":"t","x-local":1}}],
        "participant":[{"individual":{"reference":"Practitioner/p"}},{"period":{"start":"2024-01-01","x-p":true}}]}"#;
    let r = fhir::read_str::<Resource>(json, ReadOptions::strict()).unwrap();
    let at: Vec<&str> = r.warnings.iter().map(|w| w.location.as_str()).collect();
    assert_eq!(
        at,
        [
            "Encounter.extension[1].valueCodeableConcept.x-local",
            "Encounter.participant[1].period.x-p"
        ]
    );
    let bad = r#"{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},
        "extension":[{"url":"http://a","valuePeriod":{"start":"2024-02-30T25:00:00Z"}}]}"#;
    let e = fhir::read_str::<Resource>(bad, ReadOptions::strict()).unwrap_err();
    assert_eq!(e.location, "Encounter.extension[0].valuePeriod.start");
    // A Bundle's entries are resources read inside the Bundle's read.
    let bundle = r#"{"resourceType":"Bundle","type":"collection","entry":[
        {"resource":{"resourceType":"Patient","id":"p"}},
        {"resource":{"status":"arrived","class":{"code":"VR"},"resourceType":"Encounter","period":{"end":"bad"}}}]}"#;
    let e = fhir::read_str::<Resource>(bundle, ReadOptions::strict()).unwrap_err();
    assert_eq!(e.location, "Bundle.entry[1].resource.period.end");
    // And the next read on this thread starts from a clean path.
    let ok = fhir::read_str::<Resource>(json, ReadOptions::strict()).unwrap();
    assert_eq!(ok.warnings.len(), 2);
    assert_eq!(ok.warnings[0].location, at[0]);
}

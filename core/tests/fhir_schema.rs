//! `fhir::schema`: the model's definitions as data agree with the model (the reader and the
//! writer) and cover every type it declares.

use std::collections::HashSet;
use std::path::PathBuf;

use hie_vc::fhir::schema::{self, Kind, TypeDef};
use hie_vc::fhir::{self, ReadOptions, Resource};
use serde_json::Value;

/// The resource types issue 11 names as the typed ones.
const VC_RESOURCES: [&str; 11] = [
    "Encounter",
    "Appointment",
    "Schedule",
    "Slot",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "HealthcareService",
    "Bundle",
    "OperationOutcome",
];

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/mycore-ig/examples")
}

#[test]
fn every_resource_of_the_model_is_defined_and_read_typed() {
    let defined: Vec<&str> = schema::resources().map(|t| t.name).collect();
    let mut sorted = defined.clone();
    sorted.sort_unstable();
    let mut expected = VC_RESOURCES.to_vec();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    for name in defined {
        // The reader types every resource the schema calls one (an unknown type would be raw).
        let json = format!(r#"{{"resourceType":"{name}","id":"x"}}"#);
        let r = fhir::read_str::<Resource>(&json, ReadOptions::lenient())
            .unwrap()
            .value;
        assert!(!matches!(r, Resource::Other(_)), "{name} read raw");
        assert_eq!(r.resource_type(), name);
    }
}

#[test]
fn names_are_unique_and_every_element_type_resolves() {
    let mut seen = HashSet::new();
    for t in schema::types() {
        assert!(seen.insert(t.name), "{} defined twice", t.name);
        assert!(!t.doc.0.is_empty(), "{} has no doc", t.name);
        for e in t.elements {
            let et = schema::get(e.type_name)
                .unwrap_or_else(|| panic!("{}.{}: no type {}", t.name, e.json_name, e.type_name));
            assert!(!e.doc.0.is_empty(), "{}.{} has no doc", t.name, e.json_name);
            assert_eq!(
                et.kind == Kind::Choice,
                !e.choices.is_empty(),
                "{}.{}",
                t.name,
                e.json_name
            );
        }
        for c in t.choices {
            assert!(
                schema::get(c.type_name).is_some(),
                "{}: {}",
                t.name,
                c.type_name
            );
        }
        match t.kind {
            Kind::Code => assert!(!t.codes.is_empty(), "{}", t.name),
            Kind::Choice => assert!(!t.choices.is_empty(), "{}", t.name),
            Kind::Resource | Kind::Datatype | Kind::Backbone => {
                assert!(t.codes.is_empty() && t.choices.is_empty(), "{}", t.name)
            }
            _ => {}
        }
    }
    // Everything reachable from the resources is listed, and nothing listed is unreachable
    // (apart from Element, the shape of `_name` companions).
    let mut reached = HashSet::new();
    let mut todo: Vec<&str> = schema::resources().map(|t| t.name).collect();
    todo.push("Element");
    while let Some(n) = todo.pop() {
        if !reached.insert(n) {
            continue;
        }
        let t = schema::get(n).unwrap();
        todo.extend(t.elements.iter().map(|e| e.type_name));
        todo.extend(t.choices.iter().map(|c| c.type_name));
    }
    let listed: HashSet<&str> = schema::types().iter().map(|t| t.name).collect();
    assert_eq!(reached, listed);
}

#[test]
fn spot_checks() {
    let enc = schema::get("Encounter").unwrap();
    assert_eq!(enc.kind, Kind::Resource);
    assert_eq!(
        enc.doc.to_string(),
        "An interaction between a patient and healthcare provider(s); HIE creates one per VC check-in."
    );
    let class = enc.element("class").unwrap();
    assert_eq!(class.type_name, "Coding");
    assert!(class.required && !class.array && !class.redact);
    assert_eq!(
        class.doc.to_string(),
        "Classification of patient encounter (MY Core: VR for VC)."
    );
    let names: Vec<&str> = enc.elements.iter().map(|e| e.json_name).collect();
    assert_eq!(
        &names[..9],
        [
            "id",
            "meta",
            "implicitRules",
            "language",
            "text",
            "contained",
            "extension",
            "modifierExtension",
            "identifier"
        ]
    );
    let participant = enc.element("participant").unwrap();
    assert_eq!(participant.type_name, "EncounterParticipant");
    assert!(participant.array && !participant.required);
    let ep = schema::get("EncounterParticipant").unwrap();
    assert_eq!(
        (ep.kind, ep.fhir_name),
        (Kind::Backbone, "Encounter.participant")
    );
    assert_eq!(enc.element("status").unwrap().type_name, "EncounterStatus");
    assert_eq!(enc.element("text").unwrap().type_name, "Narrative");
    assert!(enc.element("text").unwrap().redact);
    assert_eq!(enc.element("contained").unwrap().type_name, "Resource");

    // Patient: the identifiers' values are redacted by Identifier, not the element itself.
    let patient = schema::get("Patient").unwrap();
    let ident = patient.element("identifier").unwrap();
    assert!(ident.array && !ident.redact && ident.type_name == "Identifier");
    assert!(
        schema::get("Identifier")
            .unwrap()
            .element("value")
            .unwrap()
            .redact
    );
    assert!(patient.element("birthDate").unwrap().redact);
    assert_eq!(patient.element("birthDate").unwrap().type_name, "date");
    let deceased = patient.element("deceased").unwrap();
    assert_eq!(deceased.type_name, "Deceased");
    assert!(!deceased.open);
    let suffixes: Vec<(&str, &str)> = deceased
        .choices
        .iter()
        .map(|c| (c.suffix, c.type_name))
        .collect();
    assert_eq!(suffixes, [("Boolean", "boolean"), ("DateTime", "dateTime")]);

    // Extension.value[x]: an open choice; valueString is redacted.
    let value = schema::get("Extension").unwrap().element("value").unwrap();
    assert!(value.open && !value.array);
    let string = value.choices.iter().find(|c| c.suffix == "String").unwrap();
    assert_eq!(string.type_name, "string");
    assert!(string.redact);
    let cc = value
        .choices
        .iter()
        .find(|c| c.suffix == "CodeableConcept")
        .unwrap();
    assert!(!cc.redact && cc.type_name == "CodeableConcept");

    // Codes keep their wire form and their variant.
    let status = schema::get("EncounterStatus").unwrap();
    assert_eq!(status.kind, Kind::Code);
    let ip = status
        .codes
        .iter()
        .find(|c| c.code == "in-progress")
        .unwrap();
    assert_eq!(ip.variant, "InProgress");
    assert_eq!(status.codes.len(), 9);

    // Bundle has the Resource elements only; its entries hold any resource.
    let bundle = schema::get("Bundle").unwrap();
    assert!(bundle.element("text").is_none() && bundle.element("meta").is_some());
    let entry = schema::get("BundleEntry").unwrap();
    assert_eq!(entry.element("resource").unwrap().type_name, "Resource");
    assert_eq!(schema::get("Resource").unwrap().kind, Kind::AnyResource);

    // Primitives say how they are written.
    let dec = schema::get("decimal").unwrap();
    assert_eq!(dec.kind, Kind::Primitive);
    assert_eq!(dec.json_type, Some(schema::JsonType::Decimal));
    // A multi-line doc comment keeps its lines.
    let r = schema::get("Reference")
        .unwrap()
        .element("identifier")
        .unwrap();
    assert_eq!(r.doc.0.len(), 3);
    assert!(r
        .doc
        .to_string()
        .starts_with("Logical reference, when literal reference is not known.\n(Boxed"));
}

#[test]
fn serializes_as_camel_case_json() {
    let json = serde_json::to_value(schema::types()).unwrap();
    let enc = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Encounter")
        .unwrap();
    assert_eq!(enc["kind"], "resource");
    assert_eq!(enc["fhirName"], "Encounter");
    let class = enc["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["jsonName"] == "class")
        .unwrap();
    assert_eq!(class["typeName"], "Coding");
    assert_eq!(class["required"], true);
    assert_eq!(
        class["doc"],
        "Classification of patient encounter (MY Core: VR for VC)."
    );
    let any = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Resource")
        .unwrap();
    assert_eq!(any["kind"], "anyResource");
    let ext = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ExtensionValue")
        .unwrap();
    assert_eq!(ext["open"], true);
    assert_eq!(ext["jsonType"], Value::Null);
}

/// Checks that every member of `v` (a value of type `t`, as the writer wrote it) is an element
/// of `t` in the schema, recursively; returns the paths of the members that are not.
fn check_value(t: &TypeDef, v: &Value, path: &str, bad: &mut Vec<String>) {
    match t.kind {
        Kind::Primitive | Kind::Code => {
            let ok = match t.json_type {
                Some(schema::JsonType::String) => v.is_string(),
                Some(schema::JsonType::Boolean) => v.is_boolean(),
                Some(schema::JsonType::Integer) => v.is_i64() || v.is_u64(),
                Some(schema::JsonType::Decimal) => v.is_number(),
                _ => false,
            };
            if !ok {
                bad.push(format!("{path}: {v} is not a {}", t.name));
            }
        }
        Kind::AnyResource => {
            let rt = v["resourceType"].as_str().unwrap_or_default();
            // A type the model does not know is kept raw: nothing to check against.
            if let Some(def) = schema::get(rt).filter(|d| d.kind == Kind::Resource) {
                check_value(def, v, path, bad);
            }
        }
        Kind::Choice => bad.push(format!("{path}: a choice type is not a value")),
        Kind::Resource | Kind::Datatype | Kind::Backbone => {
            let Some(obj) = v.as_object() else {
                bad.push(format!("{path}: not an object"));
                return;
            };
            for (key, value) in obj {
                let at = format!("{path}.{key}");
                if key == "resourceType" && t.kind == Kind::Resource {
                    if value != t.name {
                        bad.push(format!("{at}: {value}"));
                    }
                    continue;
                }
                if let Some(e) = t.element(key).filter(|e| e.choices.is_empty()) {
                    let et = schema::get(e.type_name).unwrap();
                    match (e.array, value.as_array()) {
                        (true, Some(items)) => {
                            for (i, item) in items.iter().enumerate() {
                                check_value(et, item, &format!("{at}[{i}]"), bad);
                            }
                        }
                        (true, None) => bad.push(format!("{at}: not an array")),
                        (false, _) => check_value(et, value, &at, bad),
                    }
                    continue;
                }
                if let Some(found) = choice_member(t, key) {
                    // An open choice keeps a type it does not declare as raw JSON.
                    if let Some(ct) = found {
                        check_value(ct, value, &at, bad);
                    }
                    continue;
                }
                if let Some(name) = key.strip_prefix('_') {
                    // A `_name` companion: only for primitive elements, holding Elements.
                    let primitive = match t.element(name) {
                        Some(e) if e.choices.is_empty() => schema::get(e.type_name)
                            .is_some_and(|d| matches!(d.kind, Kind::Primitive | Kind::Code)),
                        _ => choice_member(t, name)
                            .flatten()
                            .is_some_and(|ct| matches!(ct.kind, Kind::Primitive | Kind::Code)),
                    };
                    if primitive {
                        let element = schema::get("Element").unwrap();
                        match value.as_array() {
                            Some(items) => {
                                for (i, item) in items.iter().enumerate() {
                                    if !item.is_null() {
                                        check_value(element, item, &format!("{at}[{i}]"), bad);
                                    }
                                }
                            }
                            None => check_value(element, value, &at, bad),
                        }
                        continue;
                    }
                }
                bad.push(format!("{at}: not an element of {}", t.name));
            }
        }
    }
}

/// Whether `key` is a member of a choice element of `t` (`valueString`): `Some(type)` for a
/// type the choice declares, `Some(None)` for another type an open choice keeps raw.
fn choice_member(t: &TypeDef, key: &str) -> Option<Option<&'static TypeDef>> {
    t.elements.iter().find_map(|e| {
        let suffix = key.strip_prefix(e.json_name)?;
        match e.choices.iter().find(|c| c.suffix == suffix) {
            Some(c) => Some(schema::get(c.type_name)),
            None if e.open && fhir::value::is_type_suffix(suffix) => Some(None),
            None => None,
        }
    })
}

#[test]
fn the_writer_emits_only_elements_of_the_schema() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .expect("the IG examples (../shared/spec/mycore-ig/examples)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "only {} IG examples", files.len());
    let any = schema::get("Resource").unwrap();
    let mut members = 0usize;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let read = fhir::read::<Resource>(&bytes, ReadOptions::lenient())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            !matches!(read.value, Resource::Other(_)),
            "{}: not a typed resource",
            path.display()
        );
        let written: Value = serde_json::from_str(&fhir::to_json(&read.value)).unwrap();
        members += written.to_string().matches("\":").count();
        let mut bad = Vec::new();
        check_value(any, &written, read.value.resource_type(), &mut bad);
        // Unknown elements are kept and written back; those are the only members allowed
        // outside the schema, and the read reported each.
        let unknown: Vec<&str> = read
            .warnings
            .iter()
            .filter(|w| w.kind == fhir::WarningKind::UnknownElement)
            .map(|w| w.location.as_str())
            .collect();
        bad.retain(|b| {
            let at = b.split(':').next().unwrap_or("");
            !unknown.contains(&at)
        });
        assert!(bad.is_empty(), "{}: {bad:#?}", path.display());
    }
    assert!(members > 500, "only {members} members checked");
}

#[test]
fn a_synthetic_resource_with_every_kind_of_member_agrees() {
    // Choices (typed and open), `_name` companions (single and array), contained resources
    // (typed and raw), backbone elements and a Bundle around it all.
    let json = r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":
      {"resourceType":"Patient","id":"p","_birthDate":{"extension":[{"url":"http://x","valueCode":"c"}]},
       "birthDate":"1990-01-01","deceasedBoolean":false,
       "name":[{"given":["A","B"],"_given":[null,{"id":"g2"}]}],
       "extension":[{"url":"http://e","valueTiming":{"event":["2020-01-01"]}},
                    {"url":"http://f","valueQuantity":{"value":1.50,"unit":"kg"}}],
       "contained":[{"resourceType":"Observation","id":"o"},{"resourceType":"Slot","id":"s","status":"free",
         "schedule":{"reference":"Schedule/1"},"start":"2020-01-01T00:00:00Z","end":"2020-01-01T01:00:00Z"}],
       "contact":[{"relationship":[{"text":"x"}],"gender":"female"}]}}]}"#;
    let read = fhir::read_str::<Resource>(json, ReadOptions::strict()).unwrap();
    let written: Value = serde_json::from_str(&fhir::to_json(&read.value)).unwrap();
    let mut bad = Vec::new();
    check_value(
        schema::get("Resource").unwrap(),
        &written,
        "Bundle",
        &mut bad,
    );
    assert!(bad.is_empty(), "{bad:#?}");
    // The check itself finds a member that is not an element.
    let mut tampered = written.clone();
    tampered["entry"][0]["resource"]["nickname"] = Value::from("x");
    tampered["entry"][0]["resource"]["_active"] = Value::from("y");
    let mut bad = Vec::new();
    check_value(
        schema::get("Resource").unwrap(),
        &tampered,
        "Bundle",
        &mut bad,
    );
    assert_eq!(bad.len(), 2, "{bad:#?}");
}

#[test]
fn debug_by_type_name_is_the_redacted_debug_text() {
    let patient = r#"{"resourceType":"Patient","name":[{"family":"Ahmad","given":["Siti"]}],"gender":"female"}"#;
    let text = schema::debug("Patient", patient.as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(
        text,
        r#"Patient { name: [HumanName { family: "<redacted>", given: "<redacted>" }], gender: Female }"#
    );
    assert_eq!(
        schema::debug("Resource", patient.as_bytes())
            .unwrap()
            .unwrap(),
        text
    );
    // Backbone elements and datatypes by their schema names; a lenient read.
    let part = r#"{"individual":{"reference":"Practitioner/1","display":"Dr Tan"}}"#;
    assert_eq!(
        schema::debug("EncounterParticipant", part.as_bytes())
            .unwrap()
            .unwrap(),
        r#"Encounter.participant { individual: Reference { reference: "Practitioner/1", display: "<redacted>" } }"#
    );
    assert_eq!(
        schema::debug("Coding", br#"{"code":" x"}"#)
            .unwrap()
            .unwrap(),
        r#"Coding { code: " x" }"#
    );
    // Every structure type of the schema has a reader; other names have none.
    for t in schema::types() {
        let structure = matches!(
            t.kind,
            Kind::Resource | Kind::AnyResource | Kind::Datatype | Kind::Backbone
        );
        assert_eq!(
            schema::debug(t.name, b"{}").is_some(),
            structure,
            "{}",
            t.name
        );
    }
    assert!(schema::debug("Observation", b"{}").is_none());
    let err = schema::debug("Encounter", b"[1]").unwrap().unwrap_err();
    assert_eq!(err.kind, fhir::ReadErrorKind::InvalidType);
}

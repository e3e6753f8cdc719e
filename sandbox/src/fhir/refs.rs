//! References: HIE's rule that what a resource points to must already exist (a HealthcareService
//! before the Schedule, Slot and Appointment that name it), and the rewriting of `urn:uuid:`
//! references in a transaction to the ids the server assigned.

use std::collections::HashMap;

use hie_vc::fhir::{self, ReadOptions, Resource};
use serde_json::Value;

use super::search::reference_target;
use super::store::{supported_type, Store};
use crate::error::FhirError;

/// A reference that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dangling {
    /// Where (`Appointment.participant[0].actor`).
    pub at: String,
    /// The reference as written.
    pub reference: String,
}

fn walk(v: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("reference") {
                out.push((at.clone(), r.clone()));
            }
            for (k, child) in o {
                // Contained resources are checked with the resource that holds them.
                let len = at.len();
                at.push('.');
                at.push_str(k);
                walk(child, at, out);
                at.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                walk(child, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// Every `reference` string in `json`, with where it is.
pub(crate) fn references(rt: &str, json: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut at = rt.to_owned();
    walk(json, &mut at, &mut out);
    out
}

/// The literal references of `json` to resources of a stored type that are not live in
/// `store`. Internal (`#...`), `urn:` and foreign absolute references are not checked.
pub(crate) fn dangling(store: &Store, rt: &str, json: &Value, base: &str) -> Vec<Dangling> {
    references(rt, json)
        .into_iter()
        .filter(|(_, r)| {
            if r.starts_with('#') || r.starts_with("urn:") {
                return false;
            }
            if r.contains("://") && !r.starts_with(base) {
                return false;
            }
            match reference_target(r, base) {
                Some((t, id)) => supported_type(t).is_some() && store.live(t, id).is_none(),
                None => false,
            }
        })
        .map(|(at, reference)| Dangling { at, reference })
        .collect()
}

/// The 422 for dangling references.
pub(crate) fn dangling_error(found: &[Dangling]) -> FhirError {
    let list = found
        .iter()
        .map(|d| format!("{} at {}", d.reference, d.at))
        .collect::<Vec<_>>()
        .join(", ");
    let mut e = FhirError::new(
        422,
        "business-rule",
        format!(
            "referenced resources do not exist on the server (create them first; HIE needs e.g. the HealthcareService before the Schedule, Slot and Appointment that name it): {list}"
        ),
    );
    if let Some(d) = found.first() {
        e = e.at(d.at.clone());
    }
    e
}

fn rewrite(v: &mut Value, map: &HashMap<String, String>, unresolved: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("reference") {
                if let Some(to) = map.get(r.as_str()) {
                    *r = to.clone();
                } else if r.starts_with("urn:uuid:") || r.starts_with("urn:oid:") {
                    unresolved.push(r.clone());
                }
            }
            for (_, child) in o.iter_mut() {
                rewrite(child, map, unresolved);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite(c, map, unresolved)),
        _ => {}
    }
}

/// `resource` with its references to bundle `fullUrl`s replaced by `Type/id` (per `map`).
pub(crate) fn resolve(
    resource: Resource,
    map: &HashMap<String, String>,
) -> Result<Resource, FhirError> {
    if map.is_empty() && !fhir::to_json(&resource).contains("\"urn:") {
        return Ok(resource);
    }
    let mut json: Value = serde_json::from_str(&fhir::to_json(&resource))
        .map_err(|e| FhirError::new(500, "exception", format!("re-reading a resource: {e}")))?;
    let mut unresolved = Vec::new();
    rewrite(&mut json, map, &mut unresolved);
    if let Some(u) = unresolved.first() {
        return Err(FhirError::new(
            400,
            "not-found",
            format!(
                "reference '{u}' names no entry of the transaction (no entry has that fullUrl)"
            ),
        ));
    }
    let text = json.to_string();
    fhir::read::<Resource>(text.as_bytes(), ReadOptions::strict())
        .map(|r| r.value)
        .map_err(|e| FhirError::new(400, "invalid", e.message).at(e.location))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::store::Verb;
    use hie_vc::fhir::Patient;
    use serde_json::json;

    #[test]
    fn dangling_references_are_found_with_their_place() {
        let mut store = Store::default();
        store.write(
            "Patient",
            "p1",
            Some(Resource::from(Patient::default())),
            Verb::Update,
        );
        let appt = json!({
            "participant": [
                {"actor": {"reference": "Patient/p1"}},
                {"actor": {"reference": "HealthcareService/hs-1"}},
                {"actor": {"reference": "Location/l1"}},
                {"actor": {"reference": "#contained"}},
                {"actor": {"reference": "https://other.example/fhir/Patient/zz"}}
            ]
        });
        let d = dangling(&store, "Appointment", &appt, "http://127.0.0.1:9/fhir");
        assert_eq!(
            d,
            vec![Dangling {
                at: "Appointment.participant[1].actor".into(),
                reference: "HealthcareService/hs-1".into()
            }]
        );
        let local = json!({"subject": {"reference": "http://127.0.0.1:9/fhir/Patient/nope"}});
        assert_eq!(
            dangling(&store, "Encounter", &local, "http://127.0.0.1:9/fhir").len(),
            1
        );
        assert_eq!(dangling_error(&d).status(), 422);
    }

    #[test]
    fn urn_references_are_rewritten_or_refused() {
        let enc = r#"{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},
            "subject":{"reference":"urn:uuid:0b1e"}}"#;
        let r = Resource::from_json(enc.as_bytes()).unwrap();
        let mut map = HashMap::new();
        map.insert("urn:uuid:0b1e".to_owned(), "Patient/new-1".to_owned());
        let out = resolve(r.clone(), &map).unwrap();
        assert!(fhir::to_json(&out).contains("\"Patient/new-1\""));
        assert_eq!(resolve(r, &HashMap::new()).unwrap_err().status(), 400);
    }
}

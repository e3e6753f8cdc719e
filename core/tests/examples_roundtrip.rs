//! Every published MY Core example round-trips: read leniently, written back, equal JSON
//! (after the normalizations the warnings name).

use hie_vc::fhir::{self, ReadOptions, Resource, WarningKind};
use serde_json::Value;
use std::path::PathBuf;

pub fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/mycore-ig")
}

/// Turns `Bundle.entry[0].resource.slot` into the JSON path segments below the root.
fn segments(location: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in location.split('.').skip(1) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push(rest[..i].to_owned());
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                out.push(rest[1..end].to_owned());
                rest = &rest[end + 1..];
            }
        } else {
            out.push(rest.to_owned());
        }
    }
    out
}

fn at<'a>(v: &'a mut Value, segs: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get_mut(s)?,
            Value::Array(a) => a.get_mut(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[test]
fn every_example_round_trips() {
    let dir = spec_dir().join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("examples dir") {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let read = fhir::read::<Resource>(&bytes, ReadOptions::lenient())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut expected: Value = serde_json::from_slice(&bytes).unwrap();
        for w in &read.warnings {
            match w.kind {
                WarningKind::SingleForArray => {
                    let v =
                        at(&mut expected, &segments(&w.location)).expect("warned location exists");
                    *v = Value::Array(vec![v.take()]);
                }
                WarningKind::FilledIn => {
                    let segs = segments(&w.location);
                    let (last, parent) = segs.split_last().unwrap();
                    let filled = at(&mut serde_json::to_value(&read.value).unwrap(), &segs)
                        .cloned()
                        .unwrap();
                    at(&mut expected, parent)
                        .unwrap()
                        .as_object_mut()
                        .unwrap()
                        .insert(last.clone(), filled);
                }
                WarningKind::UnknownElement | WarningKind::MissingRequired => {}
                other => panic!("{}: unexpected warning kind {other:?}: {w}", path.display()),
            }
        }
        let written: Value = serde_json::from_str(&fhir::to_json(&read.value)).unwrap();
        assert_eq!(written, expected, "{}", path.display());
        n += 1;
    }
    assert!(n >= 19, "found only {n} examples");
}

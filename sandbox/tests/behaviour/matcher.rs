//! The one comparison of every runner: does the document an operation produced match what the
//! case expects? See tests/behaviour/README.md ("Matching").

use serde_json::Value;

/// Every place where `actual` does not match `expected`, as `"/json/pointer: what"`; empty
/// when it matches.
pub fn mismatches(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    compare(expected, Some(actual), "", &mut out);
    out
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "nothing".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 200 {
                let mut cut = 200;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                format!("{}… ({} chars)", &s[..cut], s.len())
            } else {
                s
            }
        }
    }
}

/// The matcher an object stands for: `{"$contains": …}`, `{"$excludes": …}`, `{"$len": …}`,
/// `{"$present": …}`.
fn matcher(expected: &Value) -> Option<(&str, &Value)> {
    let m = expected.as_object()?;
    let (k, v) = m.iter().next()?;
    k.starts_with('$').then_some((k.as_str(), v))
}

fn compare(expected: &Value, actual: Option<&Value>, at: &str, out: &mut Vec<String>) {
    let present = actual.is_some_and(|a| !a.is_null());
    if let Some((name, arg)) = matcher(expected) {
        if expected.as_object().is_some_and(|m| m.len() > 1) {
            out.push(format!(
                "{at}: a matcher object takes one member, got {expected}"
            ));
            return;
        }
        let ok = match (name, arg) {
            ("$present", Value::Bool(want)) => present == *want,
            ("$contains", Value::String(part)) => actual
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains(part.as_str())),
            ("$excludes", Value::String(part)) => actual
                .and_then(Value::as_str)
                .is_some_and(|s| !s.contains(part.as_str())),
            ("$len", Value::Number(n)) => actual
                .and_then(Value::as_array)
                .is_some_and(|a| Some(a.len() as u64) == n.as_u64()),
            _ => {
                out.push(format!(
                    "{at}: unknown matcher {expected} (use $present: bool, $contains: string, $excludes: string, $len: integer)"
                ));
                return;
            }
        };
        if !ok {
            out.push(format!("{at}: expected {expected}, got {}", show(actual)));
        }
        return;
    }
    match expected {
        Value::Null => {
            if present {
                out.push(format!(
                    "{at}: expected null or absent, got {}",
                    show(actual)
                ));
            }
        }
        Value::Object(want) => {
            let Some(have) = actual.and_then(Value::as_object) else {
                out.push(format!("{at}: expected an object, got {}", show(actual)));
                return;
            };
            for (k, v) in want {
                let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                compare(v, have.get(k), &path, out);
            }
        }
        Value::Array(want) => {
            let Some(have) = actual.and_then(Value::as_array) else {
                out.push(format!("{at}: expected an array, got {}", show(actual)));
                return;
            };
            if want.len() != have.len() {
                out.push(format!(
                    "{at}: expected {} items, got {}: {}",
                    want.len(),
                    have.len(),
                    show(actual)
                ));
                return;
            }
            for (i, (w, h)) in want.iter().zip(have).enumerate() {
                compare(w, Some(h), &format!("{at}/{i}"), out);
            }
        }
        Value::Number(want) => {
            let equal = actual
                .and_then(Value::as_number)
                .is_some_and(|have| numbers_equal(want, have));
            if !equal {
                out.push(format!("{at}: expected {want}, got {}", show(actual)));
            }
        }
        scalar => {
            if actual != Some(scalar) {
                out.push(format!("{at}: expected {scalar}, got {}", show(actual)));
            }
        }
    }
}

/// Numbers compare by value (`1` matches `1.0`), as in Python and JavaScript.
fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

/// Whether two JSON documents are equal by value: objects regardless of member order,
/// numbers by value.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_json(v, w))
        }
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_rules() {
        let actual = json!({"kind": "decode", "status": null, "n": 1, "list": [{"a": 1, "b": 2}],
                            "message": "could not read FHIR JSON: x"});
        for ok in [
            json!({}),
            json!({"kind": "decode"}),
            json!({"status": null, "absent": null}),
            json!({"n": 1.0}),
            json!({"list": [{"b": 2}]}),
            json!({"list": {"$len": 1}}),
            json!({"message": {"$contains": "FHIR"}}),
            json!({"message": {"$excludes": "XML"}}),
            json!({"kind": {"$present": true}, "status": {"$present": false}}),
        ] {
            assert_eq!(mismatches(&ok, &actual), Vec::<String>::new(), "{ok}");
        }
        for (bad, at) in [
            (json!({"kind": "http"}), "/kind"),
            (json!({"absent": 1}), "/absent"),
            (json!({"list": []}), "/list"),
            (json!({"list": [{"a": 2}]}), "/list/0/a"),
            (json!({"n": "1"}), "/n"),
            (json!({"status": {"$present": true}}), "/status"),
            (json!({"message": {"$contains": "XML"}}), "/message"),
            (json!({"message": {"$excludes": "FHIR"}}), "/message"),
            (json!({"n": {"$excludes": "1"}}), "/n"),
            (json!({"kind": {"$regex": "d.*"}}), "/kind"),
            (json!({"kind": {"$present": true, "x": 1}}), "/kind"),
            (json!({"n": null}), "/n"),
        ] {
            let m = mismatches(&bad, &actual);
            assert_eq!(m.len(), 1, "{bad}: {m:?}");
            assert!(m[0].starts_with(&format!("{at}:")), "{bad}: {m:?}");
        }
    }

    #[test]
    fn same_json_ignores_order_and_number_form() {
        assert!(same_json(
            &json!({"a": 1, "b": [1.5]}),
            &json!({"b": [1.50], "a": 1.0})
        ));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": null})));
        assert!(!same_json(&json!([1, 2]), &json!([2, 1])));
    }
}

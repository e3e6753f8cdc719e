//! An order-keeping JSON tree for case files and the documents they build.
//!
//! Python's and JavaScript's JSON objects keep member order, so a patched document reaches the
//! reader in the order the file gives; the Rust runner must do the same, or warnings and the
//! first strict-read error would come in another order than in the other runners. serde_json
//! keeps order only with its `preserve_order` feature, and turning that on here would turn it
//! on for the core in every workspace build that includes these tests (features unify), so the
//! tests would run a core that production does not. Scalars keep their exact text (`1.50`
//! stays `1.50`).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A JSON value with object members in document order and scalars as their JSON text.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`, `true`, `false`, a number or a string, as its JSON text.
    Scalar(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses JSON text.
    pub fn parse(text: &str) -> Result<Json, String> {
        let raw: &RawValue = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Json::from_raw(raw)
    }

    fn from_raw(raw: &RawValue) -> Result<Json, String> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'{') => {
                let members: Members<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
                let mut out = Vec::with_capacity(members.0.len());
                for (k, v) in members.0 {
                    out.push((k, Json::from_raw(v)?));
                }
                Ok(Json::Object(out))
            }
            Some(b'[') => {
                let items: Vec<&RawValue> =
                    serde_json::from_str(text).map_err(|e| e.to_string())?;
                items
                    .into_iter()
                    .map(Json::from_raw)
                    .collect::<Result<_, _>>()
                    .map(Json::Array)
            }
            _ => Ok(Json::Scalar(text.to_owned())),
        }
    }

    /// A string value.
    pub fn string(s: &str) -> Json {
        Json::Scalar(serde_json::Value::from(s).to_string())
    }

    /// Compact JSON text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Scalar(s) => out.push_str(s),
            Json::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// As an unordered `serde_json::Value` (for matching, where order does not count).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_text()).unwrap_or(serde_json::Value::Null)
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The members of an object (empty for anything else).
    pub fn members(&self) -> &[(String, Json)] {
        match self {
            Json::Object(m) => m,
            _ => &[],
        }
    }

    /// The items of an array.
    pub fn items(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The value of a JSON string.
    pub fn as_str(&self) -> Option<String> {
        match self {
            Json::Scalar(s) if s.starts_with('"') => serde_json::from_str(s).ok(),
            _ => None,
        }
    }

    /// The value of a JSON boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Scalar(s) if s == "true" => Some(true),
            Json::Scalar(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// The value of a non-negative JSON integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Scalar(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Replaces `from` by `to` inside every string of the tree.
    pub fn substitute(&self, from: &str, to: &str) -> Json {
        match self {
            Json::Scalar(s) if s.starts_with('"') && s.contains(from) => {
                match serde_json::from_str::<String>(s) {
                    Ok(v) => Json::string(&v.replace(from, to)),
                    Err(_) => self.clone(),
                }
            }
            Json::Scalar(_) => self.clone(),
            Json::Array(items) => {
                Json::Array(items.iter().map(|v| v.substitute(from, to)).collect())
            }
            Json::Object(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.substitute(from, to)))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Object members in order, values still as raw text.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    if out.iter().any(|(seen, _): &(String, _)| *seen == k) {
                        return Err(de::Error::custom(format!("duplicate member '{k}'")));
                    }
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// An RFC 6902 patch (the subset `add`, `remove`, `replace`) applied in order.
pub fn apply_patch(doc: &mut Json, patch: &Json) -> Result<(), String> {
    let ops = patch
        .items()
        .ok_or("a patch is a JSON array of operations")?;
    for (i, op) in ops.iter().enumerate() {
        apply_op(doc, op).map_err(|e| format!("patch[{i}]: {e}"))?;
    }
    Ok(())
}

fn apply_op(doc: &mut Json, op: &Json) -> Result<(), String> {
    for (k, _) in op.members() {
        if !matches!(k.as_str(), "op" | "path" | "value") {
            return Err(format!("unknown member '{k}'"));
        }
    }
    let name = op.get("op").and_then(Json::as_str).ok_or("no \"op\"")?;
    let path = op.get("path").and_then(Json::as_str).ok_or("no \"path\"")?;
    let tokens = pointer_tokens(&path)?;
    let Some((last, parents)) = tokens.split_last() else {
        return match name.as_str() {
            "replace" | "add" => {
                *doc = op.get("value").ok_or("no \"value\"")?.clone();
                Ok(())
            }
            _ => Err("cannot remove the whole document".to_owned()),
        };
    };
    let mut parent = &mut *doc;
    for t in parents {
        parent = child(parent, t).ok_or_else(|| format!("'{path}': nothing at '{t}'"))?;
    }
    let value = || op.get("value").cloned().ok_or("no \"value\"".to_owned());
    match (name.as_str(), parent) {
        ("replace", p) => {
            let slot = child(p, last).ok_or_else(|| format!("'{path}' does not exist"))?;
            *slot = value()?;
        }
        ("add", Json::Object(m)) => match m.iter_mut().find(|(k, _)| k == last) {
            Some((_, v)) => *v = value()?,
            None => m.push((last.clone(), value()?)),
        },
        ("add", Json::Array(a)) => {
            let at = if last == "-" {
                a.len()
            } else {
                index(last)
                    .filter(|i| *i <= a.len())
                    .ok_or_else(|| format!("'{path}': index out of range (array of {})", a.len()))?
            };
            a.insert(at, value()?);
        }
        ("remove", Json::Object(m)) => {
            let at = m
                .iter()
                .position(|(k, _)| k == last)
                .ok_or_else(|| format!("'{path}' does not exist"))?;
            m.remove(at);
        }
        ("remove", Json::Array(a)) => {
            let at = index(last)
                .filter(|i| *i < a.len())
                .ok_or_else(|| format!("'{path}' does not exist"))?;
            a.remove(at);
        }
        ("add" | "remove", Json::Scalar(_)) => {
            return Err(format!("'{path}': the parent is not an object or array"))
        }
        (other, _) => return Err(format!("unsupported op '{other}' (add, remove, replace)")),
    }
    Ok(())
}

/// RFC 6901 tokens of a JSON pointer.
fn pointer_tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("'{path}' is not a JSON pointer"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn index(token: &str) -> Option<usize> {
    // RFC 6901: no leading zeros, digits only.
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

fn child<'a>(v: &'a mut Json, token: &str) -> Option<&'a mut Json> {
    match v {
        Json::Object(m) => m.iter_mut().find(|(k, _)| k == token).map(|(_, v)| v),
        Json::Array(a) => index(token).and_then(move |i| a.get_mut(i)),
        Json::Scalar(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_number_text() {
        let j = Json::parse(r#"{ "z": 1.50, "a": [ true, null, "x\"y" ], "m": {} }"#).unwrap();
        assert_eq!(j.to_text(), r#"{"z":1.50,"a":[true,null,"x\"y"],"m":{}}"#);
        assert!(Json::parse(r#"{"a":1,"a":2}"#).is_err());
    }

    #[test]
    fn patches_add_remove_replace() {
        let mut j = Json::parse(r#"{"a":{"b":[1,2]},"c":"x","d/e":0}"#).unwrap();
        let p = Json::parse(
            r#"[{"op":"replace","path":"/a/b/1","value":9},
                {"op":"add","path":"/a/b/-","value":3},
                {"op":"add","path":"/a/b/0","value":0},
                {"op":"remove","path":"/c"},
                {"op":"add","path":"/n","value":{"k":1}},
                {"op":"replace","path":"/d~1e","value":1}]"#,
        )
        .unwrap();
        apply_patch(&mut j, &p).unwrap();
        assert_eq!(j.to_text(), r#"{"a":{"b":[0,1,9,3]},"d/e":1,"n":{"k":1}}"#);
        for bad in [
            r#"[{"op":"replace","path":"/nope","value":1}]"#,
            r#"[{"op":"remove","path":"/a/b/7"}]"#,
            r#"[{"op":"move","path":"/a","from":"/n"}]"#,
            r#"[{"op":"add","path":"/a/b/01","value":1}]"#,
            r#"[{"op":"add","path":"a","value":1}]"#,
        ] {
            let mut k = j.clone();
            assert!(
                apply_patch(&mut k, &Json::parse(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn substitutes_inside_strings_only() {
        let j = Json::parse(r#"{"{{t}}":"a-{{t}}","n":[1,"{{t}}"]}"#).unwrap();
        assert_eq!(
            j.substitute("{{t}}", "X").to_text(),
            r#"{"{{t}}":"a-X","n":[1,"X"]}"#
        );
    }
}

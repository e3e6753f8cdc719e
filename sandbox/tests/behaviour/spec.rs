//! Case files (`tests/behaviour/<area>.json`) and the documents their inputs describe. The
//! format is specified in tests/behaviour/README.md; this is its Rust reading.

use std::path::PathBuf;

use base64::Engine as _;

use crate::json::{apply_patch, Json};

/// The version of the case format these runners read.
pub const FORMAT: u64 = 1;

/// One case: an operation, its input, and what its result document must match.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub op: String,
    pub input: Json,
    pub expect: serde_json::Value,
}

/// `tests/behaviour/` of this repository.
pub fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/behaviour")
}

/// The published specification material: `HIEVC_SPEC_DIR`, else `shared/spec` next to the
/// repository.
pub fn spec_dir() -> PathBuf {
    match std::env::var_os("HIEVC_SPEC_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec"),
    }
}

/// Refuses members of `obj` other than `allowed`, so a misspelt input key fails the case
/// instead of being ignored.
pub fn check_keys(obj: &Json, what: &str, allowed: &[&str]) -> Result<(), String> {
    if !matches!(obj, Json::Object(_)) {
        return Err(format!("{what} must be a JSON object, got {obj}"));
    }
    for (k, _) in obj.members() {
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "{what}: unknown key '{k}' (allowed: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// Reads `tests/behaviour/<area>.json`.
pub fn load(area: &str) -> Result<Vec<Case>, String> {
    let path = cases_dir().join(format!("{area}.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_file(area, &text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a case file of `area`.
pub fn parse_file(area: &str, text: &str) -> Result<Vec<Case>, String> {
    let file = Json::parse(text)?;
    check_keys(&file, "the file", &["format", "area", "about", "cases"])?;
    match file.get("format").and_then(Json::as_u64) {
        Some(FORMAT) => {}
        other => return Err(format!("format must be {FORMAT}, got {other:?}")),
    }
    if file.get("area").and_then(Json::as_str).as_deref() != Some(area) {
        return Err(format!("\"area\" must be \"{area}\""));
    }
    let items = file
        .get("cases")
        .and_then(Json::items)
        .ok_or("\"cases\" must be an array")?;
    let mut cases: Vec<Case> = Vec::with_capacity(items.len());
    for (i, c) in items.iter().enumerate() {
        check_keys(
            c,
            &format!("cases[{i}]"),
            &["name", "op", "note", "input", "expect"],
        )?;
        let field = |k: &str| c.get(k).ok_or(format!("cases[{i}]: no \"{k}\""));
        let name = field("name")?
            .as_str()
            .ok_or(format!("cases[{i}]: \"name\" must be a string"))?;
        if cases.iter().any(|seen| seen.name == name) {
            return Err(format!("two cases are named '{name}'"));
        }
        let op = field("op")?
            .as_str()
            .ok_or(format!("{name}: \"op\" must be a string"))?;
        let expect = field("expect")?.to_value();
        if !expect.is_object() {
            return Err(format!("{name}: \"expect\" must be an object"));
        }
        cases.push(Case {
            name,
            op,
            input: field("input")?.clone(),
            expect,
        });
    }
    Ok(cases)
}

/// The keys a document object may have besides those of its caller.
pub const DOCUMENT_KEYS: [&str; 5] = ["example", "json", "text", "base64", "patch"];

/// The bytes a document object describes: `example` (an IG example, verbatim), `json`
/// (written compactly), `text` (verbatim) or `base64`; `patch` edits an `example` or `json`
/// before it is written. Other keys of `doc` are the caller's and are ignored here.
pub fn document(doc: &Json) -> Result<Vec<u8>, String> {
    let sources: Vec<&str> = ["example", "json", "text", "base64"]
        .into_iter()
        .filter(|k| doc.get(k).is_some())
        .collect();
    let [source] = sources.as_slice() else {
        return Err(format!(
            "a document has exactly one of example, json, text, base64; got {sources:?} in {doc}"
        ));
    };
    let patch = doc.get("patch");
    let string = |k: &str| {
        doc.get(k)
            .and_then(Json::as_str)
            .ok_or(format!("\"{k}\" must be a string"))
    };
    if patch.is_some() && matches!(*source, "text" | "base64") {
        return Err(format!(
            "\"patch\" applies to example or json, not {source}"
        ));
    }
    let tree = match *source {
        "example" => {
            let name = string("example")?;
            if name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(format!("example '{name}' must be a plain file name"));
            }
            let path = spec_dir().join("mycore-ig/examples").join(&name);
            let bytes = std::fs::read(&path).map_err(|e| {
                format!(
                    "{}: {e} (set HIEVC_SPEC_DIR to the shared spec directory)",
                    path.display()
                )
            })?;
            let Some(patch) = patch else {
                return Ok(bytes);
            };
            let text = String::from_utf8(bytes).map_err(|e| format!("{name}: {e}"))?;
            let mut tree = Json::parse(&text).map_err(|e| format!("{name}: {e}"))?;
            apply_patch(&mut tree, patch)?;
            tree
        }
        "json" => {
            let mut tree = doc.get("json").cloned().unwrap_or(Json::Array(vec![]));
            if let Some(patch) = patch {
                apply_patch(&mut tree, patch)?;
            }
            tree
        }
        "text" => return Ok(string("text")?.into_bytes()),
        _ => {
            return base64::engine::general_purpose::STANDARD
                .decode(string("base64")?)
                .map_err(|e| format!("\"base64\": {e}"))
        }
    };
    Ok(tree.to_text().into_bytes())
}

/// [`document`] for a value that is only a document (`what` names it in errors).
pub fn only_document(doc: &Json, what: &str) -> Result<Vec<u8>, String> {
    check_keys(doc, what, &DOCUMENT_KEYS)?;
    document(doc).map_err(|e| format!("{what}: {e}"))
}

/// [`only_document`] for the input member `key`.
pub fn document_at(input: &Json, key: &str) -> Result<Vec<u8>, String> {
    only_document(input.get(key).ok_or(format!("no \"{key}\""))?, key)
}

/// An optional member converted by `conv`, which names the JSON type it wants.
fn opt<T>(
    obj: &Json,
    key: &str,
    conv: fn(&Json) -> Option<T>,
    want: &str,
) -> Result<Option<T>, String> {
    obj.get(key)
        .map(|v| conv(v).ok_or(format!("\"{key}\" must be {want}, got {v}")))
        .transpose()
}

/// An optional string member.
pub fn opt_str(obj: &Json, key: &str) -> Result<Option<String>, String> {
    opt(obj, key, Json::as_str, "a string")
}

/// An optional boolean member.
pub fn opt_bool(obj: &Json, key: &str) -> Result<Option<bool>, String> {
    opt(obj, key, Json::as_bool, "true or false")
}

/// An optional non-negative integer member.
pub fn opt_u64(obj: &Json, key: &str) -> Result<Option<u64>, String> {
    opt(obj, key, Json::as_u64, "a non-negative integer")
}

/// A required array member.
pub fn array<'a>(obj: &'a Json, key: &str) -> Result<&'a [Json], String> {
    obj.get(key)
        .and_then(Json::items)
        .ok_or(format!("\"{key}\" must be an array"))
}

/// An optional member `[[name, value], ...]` of strings (headers, search parameters).
pub fn pairs(obj: &Json, key: &str) -> Result<Vec<(String, String)>, String> {
    let Some(list) = obj.get(key) else {
        return Ok(Vec::new());
    };
    let bad = |p: &Json| format!("\"{key}\": {p} is not [name, value] (strings)");
    let items = list.items().ok_or_else(|| bad(list))?;
    items
        .iter()
        .map(|p| match p.items() {
            Some([k, v]) => k.as_str().zip(v.as_str()).ok_or_else(|| bad(p)),
            _ => Err(bad(p)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_from_each_source() {
        let d = |s: &str| document(&Json::parse(s).unwrap());
        assert_eq!(d(r#"{"text":"not json"}"#).unwrap(), b"not json");
        assert_eq!(d(r#"{"base64":"/w=="}"#).unwrap(), [0xff]);
        assert_eq!(
            d(r#"{"json":{"b":1,"a":2},"patch":[{"op":"remove","path":"/b"}]}"#).unwrap(),
            br#"{"a":2}"#
        );
        let raw = d(r#"{"example":"vci-slt-example.json"}"#).unwrap();
        assert!(raw.starts_with(b"{\n"), "verbatim");
        let patched = d(
            r#"{"example":"vci-slt-example.json","patch":[{"op":"replace","path":"/id","value":"x"}]}"#,
        )
        .unwrap();
        assert!(patched.starts_with(br#"{"resourceType":"Slot","id":"x","#));
        for bad in [
            r#"{"text":"a","json":1}"#,
            r#"{}"#,
            r#"{"text":"a","patch":[]}"#,
            r#"{"example":"../secret.json"}"#,
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn case_files_are_checked() {
        let ok = r#"{"format":1,"area":"read","cases":[
            {"name":"a","op":"read","input":{},"expect":{}}]}"#;
        assert_eq!(parse_file("read", ok).unwrap().len(), 1);
        for bad in [
            r#"{"format":2,"area":"read","cases":[]}"#,
            r#"{"format":1,"area":"vc","cases":[]}"#,
            r#"{"format":1,"area":"read","cases":[{"name":"a","op":"read","input":{},"expect":{},"expected":{}}]}"#,
            r#"{"format":1,"area":"read","cases":[{"name":"a","op":"read","input":{},"expect":[]}]}"#,
            r#"{"format":1,"area":"read","cases":[{"name":"a","op":"read","input":{},"expect":{}},{"name":"a","op":"read","input":{},"expect":{}}]}"#,
        ] {
            assert!(parse_file("read", bad).is_err(), "{bad}");
        }
    }
}

//! The generator of the MY Core profile tables (shared by the `mycore_tables` example and the
//! staleness test). It reads only what it understands and refuses the rest with a named error,
//! so an IG release that uses a construct the tables cannot express fails here, not silently.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The IG directory: `$HIEVC_SPEC_DIR/mycore-ig`, else `<repo>/../shared/spec/mycore-ig`.
pub fn default_ig_dir() -> PathBuf {
    match std::env::var_os("HIEVC_SPEC_DIR") {
        Some(d) => PathBuf::from(d).join("mycore-ig"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/mycore-ig"),
    }
}

fn load_dir(dir: &Path) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.push((name, v));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

struct Gaps(BTreeMap<(&'static str, String), Vec<String>>);

impl Gaps {
    fn add(&mut self, kind: &'static str, url: &str, element: &str) {
        let els = self.0.entry((kind, url.to_owned())).or_default();
        if !els.iter().any(|e| e == element) {
            els.push(element.to_owned());
        }
    }
}

struct Ctx<'a> {
    /// Profile URL → the resource type it constrains.
    profile_types: BTreeMap<String, String>,
    /// Published extension definitions.
    extensions: Vec<String>,
    /// Published value set URLs, in table order.
    value_sets: Vec<String>,
    gaps: &'a mut Gaps,
}

/// `a.b:s.c` → `[("a", None), ("b", Some("s")), ("c", None)]`.
fn parts(id: &str) -> Vec<(&str, Option<&str>)> {
    id.split('.')
        .map(|p| match p.split_once(':') {
            Some((n, s)) => (n, Some(s)),
            None => (p, None),
        })
        .collect()
}

fn join(parts: &[(&str, Option<&str>)]) -> String {
    parts
        .iter()
        .map(|(n, s)| match s {
            Some(s) => format!("{n}:{s}"),
            None => (*n).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn fixed_text(e: &Value) -> Result<Option<String>, String> {
    let Some(obj) = e.as_object() else {
        return Ok(None);
    };
    for (k, v) in obj {
        if k.starts_with("fixed") || k.starts_with("pattern") {
            return match v {
                Value::String(t) => Ok(Some(t.clone())),
                Value::Number(_) | Value::Bool(_) => Ok(Some(v.to_string())),
                _ => Err(format!(
                    "element {}: {k} is a complex value; the tables hold primitive fixed values only",
                    s(e, "id").unwrap_or("?")
                )),
            };
        }
    }
    Ok(None)
}

fn rust_str(t: &str) -> String {
    format!("{t:?}")
}

fn str_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.into_iter().map(rust_str).collect();
    format!("&[{}]", v.join(", "))
}

/// The rules of one StructureDefinition's differential, as Rust `Rule` literals.
fn rules(sd: &Value, ctx: &mut Ctx<'_>) -> Result<Vec<String>, String> {
    let elements: Vec<&Value> = sd
        .pointer("/differential/element")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let by_id: BTreeMap<&str, &Value> = elements
        .iter()
        .filter_map(|e| Some((s(e, "id")?, *e)))
        .collect();
    let mut out = Vec::new();
    for e in &elements {
        let id = s(e, "id").ok_or("an element without id")?;
        let ps = parts(id);
        if ps.len() < 2 {
            continue; // the root: its cardinality is the extension's, stated where it is used
        }
        // Each step, with its slice resolved; a step whose slice cannot be resolved makes the
        // rule unusable, which the generator refuses rather than drop.
        let mut steps = Vec::new();
        let mut discriminator_of: Option<String> = None;
        for k in 1..ps.len() {
            let (name, slice) = ps[k];
            let json = name.trim_end_matches("[x]");
            let slice_lit = match slice {
                None => "None".to_owned(),
                Some(sl) => {
                    let slice_id = join(&ps[..=k]);
                    if name == "extension" || name == "modifierExtension" {
                        let url = by_id
                            .get(slice_id.as_str())
                            .and_then(|x| x.pointer("/type/0/profile/0"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .or_else(|| {
                                by_id
                                    .get(format!("{slice_id}.url").as_str())
                                    .and_then(|x| fixed_text(x).ok().flatten())
                            })
                            .unwrap_or_else(|| sl.to_owned());
                        discriminator_of = Some(format!("{slice_id}.url"));
                        format!("Some(Slice::Url({}))", rust_str(&url))
                    } else {
                        let mut base = ps[..k].to_vec();
                        base.push((name, None));
                        let base_id = join(&base);
                        let disc = by_id
                            .get(base_id.as_str())
                            .and_then(|x| x.pointer("/slicing/discriminator/0"))
                            .ok_or_else(|| {
                                format!("{id}: slice '{sl}' of {base_id} has no discriminator")
                            })?;
                        let kind = s(disc, "type").unwrap_or("");
                        if kind != "value" && kind != "pattern" {
                            return Err(format!(
                                "{base_id}: discriminator type '{kind}' is not supported"
                            ));
                        }
                        let path = s(disc, "path")
                            .ok_or_else(|| format!("{base_id}: discriminator without path"))?;
                        let disc_id = format!("{slice_id}.{path}");
                        let value = by_id
                            .get(disc_id.as_str())
                            .map(|x| fixed_text(x))
                            .transpose()?
                            .flatten()
                            .ok_or_else(|| {
                                format!("{id}: slice '{sl}' has no fixed value at {disc_id}")
                            })?;
                        discriminator_of = Some(disc_id);
                        format!(
                            "Some(Slice::Value {{ path: {}, value: {} }})",
                            str_list(path.split('.')),
                            rust_str(&value)
                        )
                    }
                }
            };
            steps.push(format!(
                "Step {{ name: {}, slice: {slice_lit} }}",
                rust_str(json)
            ));
        }
        let min = e.get("min").and_then(Value::as_u64).unwrap_or(0);
        let max = match s(e, "max") {
            None | Some("*") => "None".to_owned(),
            Some(n) => format!(
                "Some({})",
                n.parse::<u32>()
                    .map_err(|_| format!("{id}: max '{n}' is not a number"))?
            ),
        };
        let types: Vec<&str> = e
            .get("type")
            .and_then(Value::as_array)
            .map(|ts| ts.iter().filter_map(|t| s(t, "code")).collect())
            .unwrap_or_default();
        let (name, slice) = *ps.last().unwrap_or(&("", None));
        let choice_types = if name.ends_with("[x]") {
            types.clone()
        } else {
            Vec::new()
        };
        let mut targets = Vec::new();
        for t in e
            .get("type")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for tp in t
                .get("targetProfile")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let url = tp.as_str().unwrap_or("");
                let rt = match ctx.profile_types.get(url) {
                    Some(rt) => rt.clone(),
                    None => match url.strip_prefix("http://hl7.org/fhir/StructureDefinition/") {
                        Some(rt) => rt.to_owned(),
                        None => return Err(format!("{id}: target profile {url} is not published")),
                    },
                };
                if !targets.contains(&rt) {
                    targets.push(rt);
                }
            }
        }
        let extension = if (name == "extension" || name == "modifierExtension") && slice.is_some() {
            let url = e.pointer("/type/0/profile/0").and_then(Value::as_str);
            if let Some(url) = url {
                if !ctx.extensions.iter().any(|x| x == url) {
                    ctx.gaps.add("extension", url, id);
                }
            }
            url.map(str::to_owned)
        } else {
            None
        };
        let binding = match e.get("binding") {
            None => "None".to_owned(),
            Some(b) => {
                let strength = match s(b, "strength") {
                    Some("required") => "Required",
                    Some("extensible") => "Extensible",
                    Some("preferred") => "Preferred",
                    Some("example") => "Example",
                    other => return Err(format!("{id}: binding strength {other:?}")),
                };
                let vs =
                    s(b, "valueSet").ok_or_else(|| format!("{id}: binding without valueSet"))?;
                let bare = vs.split('|').next().unwrap_or(vs);
                let resolved = match ctx.value_sets.iter().position(|u| u == bare) {
                    Some(i) => Some(i),
                    None => {
                        let ci = ctx
                            .value_sets
                            .iter()
                            .position(|u| u.eq_ignore_ascii_case(bare));
                        if ci.is_some() {
                            ctx.gaps.add("value-set-case", bare, id);
                        } else if !bare.starts_with("http://hl7.org/fhir/") {
                            ctx.gaps.add("value-set", bare, id);
                        }
                        ci
                    }
                };
                format!(
                    "Some(Binding {{ strength: Strength::{strength}, value_set: {}, resolved: {resolved:?} }})",
                    rust_str(bare)
                )
            }
        };
        // A slice's discriminator and an extension's url only say which slice a value is in:
        // a value in the slice has them by definition.
        let fixed = match fixed_text(e)? {
            Some(_) if discriminator_of.as_deref() == Some(id) => None,
            Some(_) if id.ends_with(".url") && ps.len() == 2 => None,
            f => f,
        };
        if min == 0
            && max == "None"
            && choice_types.is_empty()
            && targets.is_empty()
            && binding == "None"
            && fixed.is_none()
            && extension.is_none()
        {
            continue;
        }
        let mut r = String::new();
        let _ = writeln!(r, "    Rule {{");
        let _ = writeln!(r, "        element: {},", rust_str(id));
        let _ = writeln!(r, "        path: &[{}],", steps.join(", "));
        let _ = writeln!(r, "        min: {min},");
        let _ = writeln!(r, "        max: {max},");
        let _ = writeln!(
            r,
            "        types: {},",
            str_list(choice_types.iter().copied())
        );
        let _ = writeln!(
            r,
            "        targets: {},",
            str_list(targets.iter().map(String::as_str))
        );
        let _ = writeln!(r, "        binding: {binding},");
        let _ = writeln!(
            r,
            "        fixed: {},",
            fixed.map_or("None".to_owned(), |f| format!("Some({})", rust_str(&f)))
        );
        let _ = writeln!(
            r,
            "        extension: {},",
            extension.map_or("None".to_owned(), |u| format!("Some({})", rust_str(&u)))
        );
        let _ = write!(r, "    }}");
        out.push(r);
    }
    Ok(out)
}

fn concepts(list: &Value, out: &mut Vec<(String, String)>) {
    for c in list.as_array().into_iter().flatten() {
        if let Some(code) = s(c, "code") {
            out.push((code.to_owned(), s(c, "display").unwrap_or("").to_owned()));
        }
        if let Some(nested) = c.get("concept") {
            concepts(nested, out);
        }
    }
}

/// The tables' Rust source for the IG in `dir` (`profiles/`, `terminology/`).
pub fn generate(dir: &Path) -> Result<String, String> {
    let sds = load_dir(&dir.join("profiles"))?;
    let terms = load_dir(&dir.join("terminology"))?;
    let mut code_systems = Vec::new();
    let mut value_sets = Vec::new();
    for (file, t) in &terms {
        match s(t, "resourceType") {
            Some("CodeSystem") => code_systems.push(t),
            Some("ValueSet") => value_sets.push(t),
            other => return Err(format!("{file}: unexpected resourceType {other:?}")),
        }
    }
    code_systems.sort_by_key(|c| s(c, "url").unwrap_or(""));
    value_sets.sort_by_key(|v| s(v, "url").unwrap_or(""));
    let mut gaps = Gaps(BTreeMap::new());
    let mut ctx = Ctx {
        profile_types: sds
            .iter()
            .filter_map(|(_, sd)| Some((s(sd, "url")?.to_owned(), s(sd, "type")?.to_owned())))
            .collect(),
        extensions: sds
            .iter()
            .filter(|(_, sd)| s(sd, "type") == Some("Extension"))
            .filter_map(|(_, sd)| s(sd, "url").map(str::to_owned))
            .collect(),
        value_sets: value_sets
            .iter()
            .filter_map(|v| s(v, "url").map(str::to_owned))
            .collect(),
        gaps: &mut gaps,
    };
    let mut out = String::new();
    out.push_str(
        "// @generated by `cargo run -q -p hie-vc --example mycore_tables` from the MY Core IG's\n\
         // profiles and terminology; do not edit (core/tests/mycore_tables.rs checks it is current).\n\n\
         use super::{\n    Binding, CodeSystem, ExtensionDef, Gap, Include, Profile, Rule, Slice, Step, Strength, ValueSet,\n};\n\n",
    );
    let mut profiles = Vec::new();
    let mut extensions = Vec::new();
    for (file, sd) in &sds {
        if s(sd, "resourceType") != Some("StructureDefinition") {
            return Err(format!("{file}: not a StructureDefinition"));
        }
        let url = s(sd, "url").ok_or_else(|| format!("{file}: no url"))?;
        let ty = s(sd, "type").ok_or_else(|| format!("{file}: no type"))?;
        let rs = rules(sd, &mut ctx).map_err(|e| format!("{file}: {e}"))?;
        let body = if rs.is_empty() {
            "&[]".to_owned()
        } else {
            format!("&[\n{},\n]", rs.join(",\n"))
        };
        if ty == "Extension" {
            extensions.push((url.to_owned(), body));
        } else {
            profiles.push((url.to_owned(), ty.to_owned(), body));
        }
    }
    profiles.sort_by(|a, b| a.1.cmp(&b.1));
    extensions.sort();
    out.push_str(
        "/// The resource profiles, by resource type.\npub static PROFILES: &[Profile] = &[\n",
    );
    for (url, ty, body) in &profiles {
        let _ = writeln!(
            out,
            "Profile {{\n    url: {},\n    resource: {},\n    rules: {body},\n}},",
            rust_str(url),
            rust_str(ty)
        );
    }
    out.push_str("];\n\n/// The published extension definitions, by URL.\npub static EXTENSIONS: &[ExtensionDef] = &[\n");
    for (url, body) in &extensions {
        let _ = writeln!(
            out,
            "ExtensionDef {{\n    url: {},\n    rules: {body},\n}},",
            rust_str(url)
        );
    }
    out.push_str("];\n\n/// The published code systems, by URL.\npub static CODE_SYSTEMS: &[CodeSystem] = &[\n");
    for cs in &code_systems {
        let mut list = Vec::new();
        concepts(cs.get("concept").unwrap_or(&Value::Null), &mut list);
        list.sort();
        list.dedup_by(|a, b| a.0 == b.0);
        let _ = writeln!(
            out,
            "CodeSystem {{\n    url: {},\n    complete: {},\n    concepts: &[",
            rust_str(s(cs, "url").unwrap_or("")),
            s(cs, "content") == Some("complete")
        );
        for (c, d) in &list {
            let _ = writeln!(out, "        ({}, {}),", rust_str(c), rust_str(d));
        }
        out.push_str("    ],\n},\n");
    }
    out.push_str(
        "];\n\n/// The published value sets, by URL.\npub static VALUE_SETS: &[ValueSet] = &[\n",
    );
    for vs in &value_sets {
        let url = s(vs, "url").unwrap_or("");
        let _ = writeln!(
            out,
            "ValueSet {{\n    url: {},\n    includes: &[",
            rust_str(url)
        );
        if vs.pointer("/compose/exclude").is_some() {
            return Err(format!("value set {url}: compose.exclude is not supported"));
        }
        for inc in vs
            .pointer("/compose/include")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if inc.get("filter").is_some() || inc.get("valueSet").is_some() {
                return Err(format!(
                    "value set {url}: include filters and valueSet imports are not supported"
                ));
            }
            let system = s(inc, "system")
                .ok_or_else(|| format!("value set {url}: include without system"))?;
            let mut codes: Vec<&str> = inc
                .get("concept")
                .and_then(Value::as_array)
                .map(|cs| cs.iter().filter_map(|c| s(c, "code")).collect())
                .unwrap_or_default();
            codes.sort_unstable();
            let _ = writeln!(
                out,
                "        Include {{ system: {}, codes: {} }},",
                rust_str(system),
                str_list(codes)
            );
        }
        out.push_str("    ],\n},\n");
    }
    out.push_str("];\n\n/// What the profiles name that the IG does not publish.\npub static GAPS: &[Gap] = &[\n");
    for ((kind, url), els) in &gaps.0 {
        let _ = writeln!(
            out,
            "Gap {{ kind: {}, url: {}, elements: {} }},",
            rust_str(kind),
            rust_str(url),
            str_list(els.iter().map(String::as_str))
        );
    }
    out.push_str("];\n");
    Ok(out)
}

//! Applies the profile tables to a resource through the model's [`Walk`] view.
//!
//! Locations are kept as a stack of borrowed steps and formatted only when an issue is
//! reported: a valid resource costs no allocation here.

use super::{
    code_system, extension, profile_of, Binding, Rule, Slice, Strength, ValueSet, VALUE_SETS,
};
use crate::fhir::node::{Child, Node, Walk};
use crate::mycore::report::{Issue, ProfileRef, Report, Severity};

/// A profile finding a workflow rule already reports in its own words: the profile's issue is
/// attached to the workflow one instead of being added (e.g. slot-quota numbers sent as
/// strings, which the SDK reads by decision and reports as `slot-quota-string`).
pub(crate) struct Cover {
    /// The StructureDefinition of the profile rule.
    pub definition: &'static str,
    /// Its element id.
    pub element: &'static str,
    /// The workflow rule that reports it.
    pub rule: &'static str,
}

/// One step of a location: the element's JSON name, its index in an array, a choice's suffix.
type Seg<'a> = (&'a str, Option<usize>, &'a str);

struct Ctx<'r, 'c> {
    at: &'r str,
    report: &'r mut Report,
    /// The first issue of this resource in the report: merging looks no further back.
    first: usize,
    covers: &'c [Cover],
    /// The issues (indices in the report) a workflow rule downgraded as published quirks.
    quirks: &'c [usize],
}

fn location(at: &str, segs: &[Seg<'_>], tail: Option<&str>) -> String {
    let mut s = String::with_capacity(at.len() + 16 * segs.len());
    s.push_str(at);
    for (name, index, suffix) in segs {
        s.push('.');
        s.push_str(name);
        if !suffix.is_empty() {
            // `value` + `Integer`: the JSON name of a choice element's value.
            let mut cs = suffix.chars();
            if let Some(first) = cs.next() {
                s.extend(first.to_uppercase());
                s.push_str(cs.as_str());
            }
        }
        if let Some(i) = index {
            s.push_str(&format!("[{i}]"));
        }
    }
    if let Some(t) = tail {
        s.push('.');
        s.push_str(t);
    }
    s
}

/// `a.b[0]` and `a.b` name the same element.
fn same_element(a: &str, b: &str) -> bool {
    fn strip(s: &str) -> &str {
        match s
            .strip_suffix(']')
            .and_then(|r| r.rfind('[').map(|i| &r[..i]))
        {
            Some(base) => base,
            None => s,
        }
    }
    a == b || strip(a) == strip(b)
}

impl Ctx<'_, '_> {
    fn emit(
        &mut self,
        severity: Severity,
        code: &'static str,
        rule: &'static str,
        location: String,
        message: String,
        source: ProfileRef,
    ) {
        // An IG gap is said once per resource, where it is first met.
        if rule.ends_with("-unpublished")
            && self.report.issues[self.first..]
                .iter()
                .any(|i| i.rule == rule && i.profile.is_some_and(|p| p.element == source.element))
        {
            return;
        }
        let covered = self
            .covers
            .iter()
            .filter(|c| c.definition == source.definition && c.element == source.element)
            .map(|c| c.rule)
            .collect::<Vec<_>>();
        for (i, issue) in self.report.issues.iter_mut().enumerate().skip(self.first) {
            // Never into a milder issue, unless the workflow made it milder on purpose (a
            // published quirk accepted): the profile's finding is that quirk.
            // A cover is such a decision too.
            let milder = issue.severity > severity
                && !self.quirks.contains(&i)
                && !covered.contains(&issue.rule);
            if issue.source() == "profile" || milder {
                continue;
            }
            // A wrong code is one finding whether the workflow rule names the element or the
            // profile the coding in it.
            let merge = covered.contains(&issue.rule)
                || (issue.code == code && same_element(&issue.location, &location))
                || (code == "code-invalid"
                    && issue.code == code
                    && location
                        .strip_prefix(issue.location.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '['])));
            if merge {
                // The first profile element a workflow issue states is the one it names.
                issue.profile.get_or_insert(source);
                return;
            }
        }
        self.report.push_issue(Issue {
            severity,
            code,
            rule,
            location,
            message,
            profile: Some(source),
        });
    }
}

/// Checks `root` (a typed resource at location `at`) against its MY Core profile and the
/// published extension definitions and code systems. `first` is the index of the resource's
/// first issue in `report` (its workflow issues, which profile issues merge into); `quirks`
/// the indices of the issues downgraded as accepted published quirks.
pub(crate) fn check(
    root: &dyn Walk,
    at: &str,
    report: &mut Report,
    first: usize,
    covers: &[Cover],
    quirks: &[usize],
) {
    let mut cx = Ctx {
        at,
        report,
        first,
        covers,
        quirks,
    };
    let mut segs: Vec<Seg<'_>> = Vec::with_capacity(8);
    codings(&mut cx, root, &mut segs);
    let Some(profile) = profile_of(root.fhir_type()) else {
        return;
    };
    for rule in profile.rules {
        apply(&mut cx, profile.url, root, rule, &mut segs);
    }
    // Extensions on the resource, against their definitions.
    root.child("extension", &mut |c| {
        let Some(ext) = c.node.object() else { return };
        let Some(url) = Node::Object(ext).child_text("url") else {
            return;
        };
        segs.push(("extension", c.index, ""));
        match extension(url) {
            Some(def) => {
                for rule in def.rules {
                    apply(&mut cx, def.url, ext, rule, &mut segs);
                }
            }
            None => {
                if let Some(rule) = profile.rules.iter().find(|r| r.extension == Some(url)) {
                    let loc = location(cx.at, &segs, None);
                    cx.emit(
                        Severity::Warning,
                        "informational",
                        "profile-extension-unpublished",
                        loc,
                        format!("the extension {url} ({}) is not published by the IG: its content is not checked", rule.element),
                        ProfileRef { definition: profile.url, element: rule.element, binding: None },
                    );
                }
            }
        }
        segs.pop();
    });
}

/// Every Coding of the resource whose system is a complete MY Core code system must hold one
/// of its codes, whatever binding (if any) the element has.
fn codings<'a>(cx: &mut Ctx<'_, '_>, node: &'a dyn Walk, segs: &mut Vec<Seg<'a>>) {
    node.children(&mut |name, c| {
        let Some(obj) = c.node.object() else { return };
        segs.push((name, c.index, c.suffix));
        if obj.fhir_type() == "Coding" {
            let n = Node::Object(obj);
            if let (Some(system), Some(code)) = (n.child_text("system"), n.child_text("code")) {
                if let Some(cs) = code_system(system) {
                    if cs.complete && cs.display(code).is_none() {
                        let loc = location(cx.at, segs, Some("code"));
                        cx.emit(
                            Severity::Error,
                            "code-invalid",
                            "profile-code-unknown",
                            loc,
                            format!("code '{code}' is not in the code system {system} (content complete)"),
                            ProfileRef { definition: cs.url, element: "Coding.code", binding: None },
                        );
                    }
                }
            }
        } else if obj.fhir_type() != "Reference" {
            codings(cx, obj, segs);
        }
        segs.pop();
    });
}

fn in_slice(c: &Child<'_>, slice: &Option<Slice>) -> bool {
    let Some(slice) = slice else { return true };
    let Some(obj) = c.node.object() else {
        return false;
    };
    match slice {
        Slice::Url(url) => Node::Object(obj).child_text("url") == Some(url),
        Slice::Value { path, value } => any_at(obj, path, value),
    }
}

fn any_at(obj: &dyn Walk, path: &[&str], value: &str) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let mut found = false;
    obj.child(first, &mut |c| {
        if found {
            return;
        }
        found = match (rest.is_empty(), c.node) {
            (true, Node::Text(t)) => t == value,
            (false, Node::Object(o)) => any_at(o, rest, value),
            _ => false,
        };
    });
    found
}

/// Applies `rule` below `node`, descending its path; `segs` holds the location of `node`.
fn apply<'a>(
    cx: &mut Ctx<'_, '_>,
    sd: &'static str,
    node: &'a dyn Walk,
    rule: &'static Rule,
    segs: &mut Vec<Seg<'a>>,
) {
    descend(cx, sd, node, rule, 0, segs);
}

fn descend<'a>(
    cx: &mut Ctx<'_, '_>,
    sd: &'static str,
    node: &'a dyn Walk,
    rule: &'static Rule,
    depth: usize,
    segs: &mut Vec<Seg<'a>>,
) {
    let step = &rule.path[depth];
    if depth + 1 < rule.path.len() {
        node.child(step.name, &mut |c| {
            if !in_slice(&c, &step.slice) {
                return;
            }
            if let Some(o) = c.node.object() {
                segs.push((step.name, c.index, c.suffix));
                descend(cx, sd, o, rule, depth + 1, segs);
                segs.pop();
            }
        });
        return;
    }
    // The last step: count the values in the slice, then check each.
    let mut count = 0u32;
    node.child(step.name, &mut |c| {
        if !in_slice(&c, &step.slice) {
            return;
        }
        count += 1;
        segs.push((step.name, c.index, c.suffix));
        value(cx, sd, rule, &c, segs);
        segs.pop();
    });
    let source = || ProfileRef {
        definition: sd,
        element: rule.element,
        binding: None,
    };
    let name = if rule.types.is_empty() && !step.name.is_empty() {
        step.name.to_owned()
    } else {
        format!("{}[x]", step.name)
    };
    if count < rule.min {
        let loc = location(cx.at, segs, Some(&name));
        cx.emit(
            Severity::Error,
            "required",
            "profile-cardinality",
            loc,
            format!(
                "{} is required by the profile (min {}, found {count})",
                rule.element, rule.min
            ),
            source(),
        );
    }
    if let Some(max) = rule.max {
        if count > max {
            let loc = location(cx.at, segs, Some(&name));
            cx.emit(
                Severity::Error,
                "structure",
                "profile-cardinality",
                loc,
                format!(
                    "the profile allows at most {max} of {}, found {count}",
                    rule.element
                ),
                source(),
            );
        }
    }
}

/// The checks on one value of the rule's element.
fn value(
    cx: &mut Ctx<'_, '_>,
    sd: &'static str,
    rule: &'static Rule,
    c: &Child<'_>,
    segs: &[Seg<'_>],
) {
    let source = |binding: Option<&'static str>| ProfileRef {
        definition: sd,
        element: rule.element,
        binding,
    };
    if !rule.types.is_empty()
        && !c.suffix.is_empty()
        && !rule.types.iter().any(|t| t.eq_ignore_ascii_case(c.suffix))
    {
        let loc = location(cx.at, segs, None);
        cx.emit(
            Severity::Error,
            "structure",
            "profile-value-type",
            loc,
            format!(
                "{} must be of type {}, not {}",
                rule.element,
                rule.types.join(" | "),
                c.suffix
            ),
            source(None),
        );
    }
    if let Some(fixed) = rule.fixed {
        if let Node::Text(t) = c.node {
            if t != fixed {
                let loc = location(cx.at, segs, None);
                cx.emit(
                    Severity::Error,
                    "value",
                    "profile-fixed",
                    loc,
                    format!("{} must be '{fixed}'", rule.element),
                    source(None),
                );
            }
        }
    }
    if !rule.targets.is_empty() {
        if let Some(target) = c.node.object().and_then(reference_type) {
            if !rule.targets.contains(&target) {
                let loc = location(cx.at, segs, None);
                cx.emit(
                    Severity::Error,
                    "structure",
                    "profile-reference-target",
                    loc,
                    format!(
                        "{} must refer to {}, not a {target}",
                        rule.element,
                        rule.targets.join(" | ")
                    ),
                    source(None),
                );
            }
        }
    }
    if let Some(b) = rule.binding {
        binding(cx, rule, b, c, segs, source(Some(b.value_set)));
    }
}

/// The resource type a Reference points to: its `type`, else the type in a relative or
/// absolute literal reference (`Schedule/s1`, `https://host/fhir/Schedule/s1/_history/2`).
fn reference_type(r: &dyn Walk) -> Option<&str> {
    let n = Node::Object(r);
    if let Some(t) = n.child_text("type") {
        return Some(t);
    }
    let reference = n.child_text("reference")?;
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let path = reference.split('?').next()?;
    let path = match path.find("/_history/") {
        Some(i) => &path[..i],
        None => path,
    };
    let mut parts = path.rsplit('/');
    let _id = parts.next()?;
    let ty = parts.next()?;
    ty.starts_with(|c: char| c.is_ascii_uppercase())
        .then_some(ty)
}

fn binding(
    cx: &mut Ctx<'_, '_>,
    rule: &'static Rule,
    b: Binding,
    c: &Child<'_>,
    segs: &[Seg<'_>],
    source: ProfileRef,
) {
    if matches!(b.strength, Strength::Preferred | Strength::Example) {
        return; // no error whatever the code (unknown codes of MY Core systems: `codings`)
    }
    let Some(vs) = b.resolved.map(|i| &VALUE_SETS[i]) else {
        if b.value_set.starts_with("http://hl7.org/fhir/") {
            // FHIR's own value sets are not part of the IG's tables: the model checks the R4
            // code sets it types, and nothing more is claimed here (docs/validation.md).
            return;
        }
        let loc = location(cx.at, segs, None);
        cx.emit(
            Severity::Warning,
            "informational",
            "profile-value-set-unpublished",
            loc,
            format!(
                "{} is bound ({}) to {}, which the IG does not publish: its codes are not checked",
                rule.element,
                b.strength.as_str(),
                b.value_set
            ),
            source,
        );
        return;
    };
    let mut codes: Vec<(Option<&str>, &str)> = Vec::new();
    match c.node {
        Node::Text(code) => codes.push((None, code)),
        Node::Object(o) if o.fhir_type() == "Coding" => {
            if let Some(code) = Node::Object(o).child_text("code") {
                codes.push((Node::Object(o).child_text("system"), code));
            }
        }
        Node::Object(o) if o.fhir_type() == "CodeableConcept" => o.child("coding", &mut |cc| {
            if let Some(code) = cc.node.child_text("code") {
                codes.push((cc.node.child_text("system"), code));
            }
        }),
        _ => return,
    }
    let mut unknown = false;
    for (system, code) in &codes {
        match vs.contains(*system, code) {
            Some(true) => return,
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown {
        return;
    }
    // A code of a complete MY Core code system that it does not define is reported once, as
    // such, by `codings`.
    if codes.iter().any(|(s, code)| {
        s.and_then(code_system)
            .is_some_and(|cs| cs.complete && cs.display(code).is_none())
    }) {
        return;
    }
    let own_system = codes
        .iter()
        .any(|(s, _)| s.is_none_or(|s| vs.has_system(s)));
    let severity = match b.strength {
        Strength::Required => Severity::Error,
        // Extensible: a code of the value set's own systems outside it is wrong; a code from
        // another system is allowed when none of the set applies.
        _ if own_system => Severity::Error,
        _ => Severity::Warning,
    };
    let loc = location(cx.at, segs, None);
    cx.emit(
        severity,
        "code-invalid",
        "profile-binding",
        loc,
        format!(
            "{}: {} is not in the value set {} ({} binding)",
            rule.element,
            describe(&codes),
            value_set_name(vs),
            b.strength.as_str()
        ),
        source,
    );
}

fn describe(codes: &[(Option<&str>, &str)]) -> String {
    match codes {
        [] => "no code".to_owned(),
        [(_, code)] => format!("code '{code}'"),
        _ => format!(
            "none of the codes {}",
            codes
                .iter()
                .map(|(_, c)| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn value_set_name(vs: &ValueSet) -> &str {
    vs.url
}

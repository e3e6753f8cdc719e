//! Search execution: matching stored resources against parsed criteria, sorting, paging and
//! `_include`, and the `searchset` Bundle with `self` / `first` / `next` / `previous` links.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use hie_vc::fhir::{
    Bundle, BundleEntry, BundleEntrySearch, BundleLink, BundleType, Id, Instant, IssueSeverity,
    Resource, SearchEntryMode, UnsignedInt, Uri,
};
use hie_vc::mycore::consts::VC_TOKEN_SYSTEM;
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

use super::dates::{self, Range};
use super::params::Kind;
use super::query::{split_unescaped, unescape, Criterion, Modifier, Query};
use super::store::{supported_type, Store, Version};
use crate::error::outcome;

/// What a search needs to know besides the store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchCtx<'a> {
    /// The zone of date values without one.
    pub local: UtcOffset,
    /// This server's base URL (absolute references under it are local).
    pub base: &'a str,
}

/// The result of a search.
#[derive(Debug)]
pub(crate) struct Found<'a> {
    pub total: usize,
    pub page: Vec<&'a Version>,
    pub included: Vec<&'a Version>,
}

/// The nodes `path` reaches from `v` (arrays flattened at every step).
pub(crate) fn nodes<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur = vec![v];
    for seg in path.split('.') {
        let mut next = Vec::new();
        for n in cur {
            match n.get(seg) {
                Some(Value::Array(a)) => next.extend(a.iter()),
                Some(x) => next.push(x),
                None => {}
            }
        }
        cur = next;
    }
    cur
}

fn token_pairs(node: &Value) -> Vec<(Option<&str>, String)> {
    match node {
        Value::String(s) => vec![(None, s.clone())],
        Value::Bool(b) => vec![(None, b.to_string())],
        Value::Object(o) => {
            if let Some(Value::Array(codings)) = o.get("coding") {
                return codings.iter().flat_map(token_pairs).collect();
            }
            let system = o.get("system").and_then(Value::as_str);
            match o.get("code").or_else(|| o.get("value")) {
                Some(Value::String(c)) => vec![(system, c.clone())],
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

fn token_matches(node: &Value, value: &str) -> bool {
    let parts = split_unescaped(value, '|');
    let (system, code) = match parts.as_slice() {
        [code] => (None, Some(unescape(code))),
        [system, code] => (
            Some(unescape(system)),
            (!code.is_empty()).then(|| unescape(code)),
        ),
        _ => return false,
    };
    token_pairs(node).iter().any(|(s, c)| {
        let system_ok = match system.as_deref() {
            None => true,
            Some("") => s.is_none(),
            Some(want) => *s == Some(want),
        };
        system_ok && code.as_deref().is_none_or(|want| c == want)
    })
}

/// `Type/id` of a literal reference (relative, or absolute with any base), without version.
pub(crate) fn reference_target<'a>(reference: &'a str, base: &str) -> Option<(&'a str, &'a str)> {
    let local = reference
        .strip_prefix(base)
        .map_or(reference, |r| r.trim_start_matches('/'));
    let path = local.split("/_history/").next().unwrap_or(local);
    let mut segs = path.trim_end_matches('/').rsplit('/');
    let id = segs.next()?;
    let rt = segs.next()?;
    (!id.is_empty() && rt.starts_with(|c: char| c.is_ascii_uppercase())).then_some((rt, id))
}

fn reference_matches(
    node: &Value,
    value: &str,
    targets: &[&str],
    type_modifier: Option<&str>,
    base: &str,
) -> bool {
    let Some(reference) = node.get("reference").and_then(Value::as_str) else {
        return false;
    };
    let Some((node_type, node_id)) = reference_target(reference, base) else {
        return false;
    };
    if !targets.is_empty() && !targets.contains(&node_type) {
        return false;
    }
    let value = unescape(value);
    let (want_type, want_id) = match reference_target(&value, base) {
        Some((t, id)) if value.contains('/') => (Some(t), id),
        _ => (None, value.as_str()),
    };
    let want_type = want_type.or(type_modifier);
    want_type.is_none_or(|t| t == node_type) && want_id == node_id
}

/// The interval a date node covers: a date/dateTime/instant, or a Period.
pub(crate) fn date_range(node: &Value, local: UtcOffset) -> Option<Range> {
    match node {
        Value::String(s) => dates::parse(s, local),
        Value::Object(o) if o.contains_key("start") || o.contains_key("end") => {
            let low = match o.get("start").and_then(Value::as_str) {
                Some(s) => dates::parse(s, local)?.low,
                None => Range::min(),
            };
            let high = match o.get("end").and_then(Value::as_str) {
                Some(s) => dates::parse(s, local)?.high,
                None => Range::max(),
            };
            Some(Range { low, high })
        }
        _ => None,
    }
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn strings(node: &Value) -> Vec<&str> {
    match node {
        Value::String(s) => vec![s.as_str()],
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "use" | "period" | "id" | "extension"))
            .flat_map(|(_, v)| match v {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn string_matches(node: &Value, value: &str, modifier: &Modifier) -> bool {
    let want = unescape(value);
    let want_folded = fold(&want);
    strings(node).into_iter().any(|s| match modifier {
        Modifier::Exact => s == want,
        Modifier::Contains => fold(s).contains(&want_folded),
        _ => fold(s).starts_with(&want_folded),
    })
}

fn value_matches(node: &Value, c: &Criterion, value: &str, ctx: &MatchCtx<'_>) -> bool {
    match c.param.kind {
        Kind::Id => node.as_str() == Some(unescape(value).as_str()),
        Kind::Token => token_matches(node, value),
        Kind::VcToken => {
            node.get("system").and_then(Value::as_str) == Some(VC_TOKEN_SYSTEM)
                && node.get("value").and_then(Value::as_str) == Some(unescape(value).as_str())
        }
        Kind::Reference(targets) => {
            let t = match c.modifier {
                Modifier::Type(t) => Some(t),
                _ => None,
            };
            reference_matches(node, value, targets, t, ctx.base)
        }
        Kind::Date => {
            let (prefix, v) = dates::split_prefix(value);
            match (dates::parse(v, ctx.local), date_range(node, ctx.local)) {
                (Some(param), Some(target)) => prefix.matches(&target, &param),
                _ => false,
            }
        }
        Kind::String => string_matches(node, value, &c.modifier),
    }
}

/// Whether `resource` (as JSON) satisfies the criterion.
pub(crate) fn criterion_matches(resource: &Value, c: &Criterion, ctx: &MatchCtx<'_>) -> bool {
    let found: Vec<&Value> = c
        .param
        .paths
        .iter()
        .flat_map(|p| nodes(resource, p))
        .collect();
    if let Modifier::Missing(missing) = c.modifier {
        return found.is_empty() == missing;
    }
    let any = c
        .values
        .iter()
        .any(|v| found.iter().any(|n| value_matches(n, c, v, ctx)));
    if c.modifier == Modifier::Not {
        !any
    } else {
        any
    }
}

#[derive(Debug, PartialEq, PartialOrd)]
enum Key {
    Time(OffsetDateTime),
    Text(String),
    Missing,
}

fn sort_key(v: &Version, param: &super::params::Param, local: UtcOffset) -> Key {
    let Some(json) = v.body.as_ref().map(|b| &b.json) else {
        return Key::Missing;
    };
    let Some(node) = param.paths.iter().flat_map(|p| nodes(json, p)).next() else {
        return Key::Missing;
    };
    match param.kind {
        Kind::Date => date_range(node, local).map_or(Key::Missing, |r| Key::Time(r.low)),
        Kind::Reference(_) => node
            .get("reference")
            .and_then(Value::as_str)
            .map_or(Key::Missing, |s| Key::Text(s.to_owned())),
        Kind::String => strings(node)
            .first()
            .map_or(Key::Missing, |s| Key::Text(fold(s))),
        Kind::Token | Kind::VcToken | Kind::Id => token_pairs(node)
            .into_iter()
            .next()
            .map_or(Key::Missing, |(_, c)| Key::Text(c)),
    }
}

/// Runs `q` on the live resources of `rt`.
pub(crate) fn run<'a>(store: &'a Store, rt: &str, q: &Query, ctx: &MatchCtx<'_>) -> Found<'a> {
    let mut matched: Vec<&Version> = store
        .live_of_type(rt)
        .into_iter()
        .filter(|v| {
            let json = v.body.as_ref().map_or(&Value::Null, |b| &b.json);
            q.criteria.iter().all(|c| criterion_matches(json, c, ctx))
        })
        .collect();
    for s in q.sort.iter().rev() {
        matched.sort_by(|a, b| {
            let (ka, kb) = (
                sort_key(a, s.param, ctx.local),
                sort_key(b, s.param, ctx.local),
            );
            // Missing values go last whatever the direction.
            let o = match (&ka, &kb) {
                (Key::Missing, Key::Missing) => Ordering::Equal,
                (Key::Missing, _) => return Ordering::Greater,
                (_, Key::Missing) => return Ordering::Less,
                _ => ka.partial_cmp(&kb).unwrap_or(Ordering::Equal),
            };
            if s.descending {
                o.reverse()
            } else {
                o
            }
        });
    }
    let total = matched.len();
    let page: Vec<&Version> = if q.summary_count {
        Vec::new()
    } else {
        matched.into_iter().skip(q.offset).take(q.count).collect()
    };
    let mut included = Vec::new();
    let mut seen: BTreeSet<(&str, &str)> = page.iter().map(|v| (v.rt, &*v.id)).collect();
    for inc in &q.include {
        let Kind::Reference(targets) = inc.param.kind else {
            continue;
        };
        for v in &page {
            let Some(body) = &v.body else { continue };
            for node in inc.param.paths.iter().flat_map(|p| nodes(&body.json, p)) {
                let Some((t, id)) = node
                    .get("reference")
                    .and_then(Value::as_str)
                    .and_then(|r| reference_target(r, ctx.base))
                else {
                    continue;
                };
                let Some(t) = supported_type(t) else { continue };
                if (!targets.is_empty() && !targets.contains(&t))
                    || inc.target.is_some_and(|want| want != t)
                {
                    continue;
                }
                if let Some(found) = store.live(t, id) {
                    if seen.insert((found.rt, &found.id)) {
                        included.push(found);
                    }
                }
            }
        }
    }
    Found {
        total,
        page,
        included,
    }
}

fn link(relation: &str, base: &str, rt: &str, q: &Query, offset: usize) -> BundleLink {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    ser.extend_pairs(q.echo.iter());
    ser.append_pair("_count", &q.count.to_string());
    ser.append_pair("_offset", &offset.to_string());
    BundleLink {
        relation: Some(relation.to_owned()),
        url: Uri::new(format!("{base}/{rt}?{}", ser.finish())).ok(),
        ..BundleLink::default()
    }
}

/// An entry for a stored version.
pub(crate) fn entry(base: &str, v: &Version, mode: Option<SearchEntryMode>) -> BundleEntry {
    BundleEntry {
        full_url: Uri::new(format!("{base}/{}", v.path())).ok(),
        resource: v.body.as_ref().map(|b| b.resource.clone()),
        search: mode.map(|m| BundleEntrySearch {
            mode: Some(m),
            ..BundleEntrySearch::default()
        }),
        ..BundleEntry::default()
    }
}

/// The `searchset` Bundle of a search result.
pub(crate) fn searchset(base: &str, rt: &str, q: &Query, found: &Found<'_>) -> Bundle {
    let mut b = Bundle::new(BundleType::Searchset);
    b.id = Id::new(uuid::Uuid::new_v4().to_string()).ok();
    b.timestamp = Instant::new(super::store::instant_text(OffsetDateTime::now_utc())).ok();
    b.total = UnsignedInt::new(found.total as i64).ok();
    b.link.push(link("self", base, rt, q, q.offset));
    if !q.summary_count && q.count > 0 {
        b.link.push(link("first", base, rt, q, 0));
        if q.offset > 0 {
            let prev = q.offset.saturating_sub(q.count);
            b.link.push(link("previous", base, rt, q, prev));
        }
        if q.offset + q.count < found.total {
            b.link.push(link("next", base, rt, q, q.offset + q.count));
        }
    }
    for v in &found.page {
        b.entry.push(entry(base, v, Some(SearchEntryMode::Match)));
    }
    for v in &found.included {
        b.entry.push(entry(base, v, Some(SearchEntryMode::Include)));
    }
    if !q.ignored.is_empty() {
        let oo = outcome(
            IssueSeverity::Warning,
            "not-supported",
            format!(
                "ignored (Prefer: handling=lenient): {}",
                q.ignored.join("; ")
            ),
        );
        b.entry.push(BundleEntry {
            resource: Some(Resource::from(oo)),
            search: Some(BundleEntrySearch {
                mode: Some(SearchEntryMode::Outcome),
                ..BundleEntrySearch::default()
            }),
            ..BundleEntry::default()
        });
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CTX: MatchCtx<'static> = MatchCtx {
        local: time::macros::offset!(+08:00),
        base: "http://127.0.0.1:1/fhir",
    };

    #[test]
    fn tokens_match_codes_codings_identifiers() {
        let cc = json!({"coding":[{"system":"s","code":"VCI"}]});
        assert!(token_matches(&cc, "s|VCI"));
        assert!(token_matches(&cc, "VCI"));
        assert!(token_matches(&cc, "s|"));
        assert!(!token_matches(&cc, "|VCI"));
        assert!(!token_matches(&cc, "t|VCI"));
        let id = json!({"system":"http://x/sid","value":"a|b"});
        assert!(token_matches(&id, r"http://x/sid|a\|b"));
        assert!(token_matches(&json!("arrived"), "arrived"));
        assert!(token_matches(&json!("arrived"), "|arrived"));
        assert!(token_matches(&json!(true), "true"));
    }

    #[test]
    fn references_match_by_type_and_id() {
        let r = json!({"reference":"Patient/p1"});
        assert!(reference_matches(&r, "p1", &[], None, CTX.base));
        assert!(reference_matches(
            &r,
            "Patient/p1",
            &["Patient"],
            None,
            CTX.base
        ));
        assert!(reference_matches(
            &r,
            "http://elsewhere/fhir/Patient/p1",
            &[],
            None,
            CTX.base
        ));
        assert!(!reference_matches(
            &r,
            "Practitioner/p1",
            &[],
            None,
            CTX.base
        ));
        assert!(!reference_matches(
            &r,
            "p1",
            &["Practitioner"],
            None,
            CTX.base
        ));
        assert!(!reference_matches(&r, "p1", &[], Some("Group"), CTX.base));
        let abs = json!({"reference":"http://127.0.0.1:1/fhir/Patient/p1/_history/2"});
        assert!(reference_matches(&abs, "Patient/p1", &[], None, CTX.base));
    }

    #[test]
    fn dates_and_periods() {
        let open = json!({"start":"2024-05-01T09:00:00+08:00"});
        let r = date_range(&open, CTX.local).unwrap();
        assert_eq!(r.high, Range::max());
        assert!(date_range(&json!({"start":"garbage"}), CTX.local).is_none());
        assert!(date_range(&json!(3), CTX.local).is_none());
    }

    #[test]
    fn strings_match_name_parts() {
        let name = json!({"family":"Abdullah","given":["Nurul","Aina"],"use":"official"});
        let m = Modifier::None;
        assert!(string_matches(&name, "nur", &m));
        assert!(string_matches(&name, "ABD", &m));
        assert!(!string_matches(&name, "off", &m));
        assert!(string_matches(&name, "ain", &m));
        assert!(!string_matches(&name, "dull", &m));
        assert!(string_matches(&name, "dull", &Modifier::Contains));
        assert!(!string_matches(&name, "abdullah", &Modifier::Exact));
        assert!(string_matches(&name, "Abdullah", &Modifier::Exact));
    }

    #[test]
    fn paths_flatten_arrays() {
        let appt = json!({"participant":[{"actor":{"reference":"Patient/1"}},{"actor":{"reference":"Practitioner/2"}}]});
        assert_eq!(nodes(&appt, "participant.actor").len(), 2);
        assert!(nodes(&appt, "participant.type").is_empty());
    }
}

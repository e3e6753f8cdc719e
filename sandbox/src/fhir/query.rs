//! Search requests: the parameters of `GET [base]/[type]?...` parsed against the type's
//! parameter table into criteria and result controls, with FHIR's escaping (`\,` `\|` `\$`).

use super::params::{self, Kind, Param};
use super::store::supported_type;
use crate::error::FhirError;

/// A modifier after the parameter name (`name:exact`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Modifier {
    None,
    Exact,
    Contains,
    Missing(bool),
    Not,
    /// A reference parameter restricted to a target type (`subject:Patient`).
    Type(&'static str),
}

/// One parameter of the search: the resource matches when any of the values matches.
#[derive(Debug, Clone)]
pub(crate) struct Criterion {
    pub param: &'static Param,
    pub modifier: Modifier,
    /// Still escaped: each kind unescapes after splitting its own separators.
    pub values: Vec<String>,
}

/// `_sort` entry.
#[derive(Debug, Clone)]
pub(crate) struct Sort {
    pub param: &'static Param,
    pub descending: bool,
}

/// `_include` entry.
#[derive(Debug, Clone)]
pub(crate) struct Include {
    pub param: &'static Param,
    pub target: Option<&'static str>,
}

/// A parsed search.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub criteria: Vec<Criterion>,
    pub count: usize,
    pub offset: usize,
    pub sort: Vec<Sort>,
    pub include: Vec<Include>,
    pub summary_count: bool,
    /// Parameters left out under `Prefer: handling=lenient`.
    pub ignored: Vec<String>,
    /// The parameters to repeat in paging links (everything but `_count` and `_offset`).
    pub echo: Vec<(String, String)>,
}

/// Page size limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub default_count: usize,
    pub max_count: usize,
}

/// Splits on `sep` where it is not escaped with a backslash.
pub(crate) fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// Removes FHIR search escapes (`\,` `\|` `\$` `\\`).
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn bad(msg: impl Into<String>) -> FhirError {
    FhirError::new(400, "invalid", msg)
}

fn parse_count(name: &str, v: &str) -> Result<usize, FhirError> {
    v.parse::<usize>()
        .map_err(|_| bad(format!("{name} must be a non-negative integer")))
}

fn modifier(param: &'static Param, m: Option<&str>, value: &str) -> Result<Modifier, FhirError> {
    let Some(m) = m else {
        return Ok(Modifier::None);
    };
    let name = param.name;
    Ok(match (m, param.kind) {
        ("missing", _) => match value {
            "true" => Modifier::Missing(true),
            "false" => Modifier::Missing(false),
            _ => return Err(bad(format!("{name}:missing takes true or false"))),
        },
        ("exact", Kind::String) => Modifier::Exact,
        ("contains", Kind::String) => Modifier::Contains,
        ("not", Kind::Token | Kind::VcToken | Kind::Id) => Modifier::Not,
        (t, Kind::Reference(targets)) => match supported_type(t) {
            Some(t) if targets.is_empty() || targets.contains(&t) => Modifier::Type(t),
            _ => {
                return Err(bad(format!(
                    "modifier ':{t}' is not supported on reference parameter {name}"
                )))
            }
        },
        (m, _) => {
            return Err(bad(format!(
                "modifier ':{m}' is not supported on parameter {name} ({})",
                param.kind.fhir_type()
            )))
        }
    })
}

fn sort_spec(rt: &str, spec: &str) -> Result<Vec<Sort>, FhirError> {
    let mut out = Vec::new();
    for s in spec.split(',').filter(|s| !s.is_empty()) {
        let (descending, name) = match s.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, s),
        };
        let param = params::find(rt, name)
            .ok_or_else(|| bad(format!("cannot sort {rt} by unknown parameter '{name}'")))?;
        out.push(Sort { param, descending });
    }
    Ok(out)
}

fn include_spec(rt: &str, spec: &str) -> Result<Vec<Include>, FhirError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, name, target) = match parts.as_slice() {
        [s, n] => (*s, *n, None),
        [s, n, t] => (*s, *n, Some(*t)),
        _ => {
            return Err(bad(format!(
                "_include must be Type:parameter[:TargetType], got '{spec}'"
            )))
        }
    };
    if src != rt {
        return Err(bad(format!(
            "_include '{spec}' starts from {src}, but the search is on {rt} (_include:iterate is not supported)"
        )));
    }
    let target = match target {
        None => None,
        Some(t) => Some(
            supported_type(t)
                .ok_or_else(|| bad(format!("_include target type '{t}' is not supported")))?,
        ),
    };
    if name == "*" {
        return Ok(params::of_type(rt)
            .iter()
            .filter(|p| matches!(p.kind, Kind::Reference(_)))
            .map(|param| Include { param, target })
            .collect());
    }
    match params::find(rt, name) {
        Some(param) if matches!(param.kind, Kind::Reference(_)) => {
            Ok(vec![Include { param, target }])
        }
        _ => Err(bad(format!(
            "_include '{spec}': {rt} has no reference parameter '{name}'"
        ))),
    }
}

fn check_date(name: &str, value: &str) -> Result<(), FhirError> {
    if value.starts_with("ap") {
        return Err(bad(format!(
            "{name}: the 'ap' (approximately) prefix is not supported"
        )));
    }
    let (_, v) = super::dates::split_prefix(value);
    if super::dates::parse(v, time::UtcOffset::UTC).is_none() {
        return Err(bad(format!(
            "{name}: '{value}' is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with a zone), optionally after eq, ne, gt, lt, ge, le, sa or eb"
        )));
    }
    Ok(())
}

/// Parses the search parameters of a search on `rt`. Unknown parameters are refused (400)
/// unless `lenient` (`Prefer: handling=lenient`), when they are left out and reported.
pub(crate) fn parse(
    rt: &str,
    pairs: &[(String, String)],
    paging: Paging,
    lenient: bool,
) -> Result<Query, FhirError> {
    let mut q = Query {
        criteria: Vec::new(),
        count: paging.default_count,
        offset: 0,
        sort: Vec::new(),
        include: Vec::new(),
        summary_count: false,
        ignored: Vec::new(),
        echo: Vec::new(),
    };
    for (key, value) in pairs {
        if key != "_count" && key != "_offset" {
            q.echo.push((key.clone(), value.clone()));
        }
        let (name, modi) = match key.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (key.as_str(), None),
        };
        if params::CONTROL.contains(&name) {
            if modi.is_some() && name != "_include" {
                return Err(bad(format!("{name} takes no modifier")));
            }
            match name {
                "_count" => q.count = parse_count(name, value)?.min(paging.max_count),
                "_offset" => q.offset = parse_count(name, value)?,
                "_sort" => q.sort.extend(sort_spec(rt, value)?),
                "_include" => {
                    if modi.is_some() {
                        let msg = format!("_include:{} is not supported", modi.unwrap_or(""));
                        if lenient {
                            q.ignored.push(msg);
                            continue;
                        }
                        return Err(bad(msg));
                    }
                    q.include.extend(include_spec(rt, value)?)
                }
                "_summary" => match value.as_str() {
                    "count" => q.summary_count = true,
                    "false" => {}
                    other if lenient => q.ignored.push(format!("_summary={other}")),
                    other => {
                        return Err(bad(format!(
                            "_summary={other} is not supported (only count and false)"
                        )))
                    }
                },
                "_format" if value.contains("xml") => {
                    return Err(FhirError::new(
                        406,
                        "not-supported",
                        "the sandbox only speaks FHIR JSON",
                    ))
                }
                // `_total` (a total is always given) and JSON `_format`s.
                _ => {}
            }
            continue;
        }
        let Some(param) = params::find(rt, name) else {
            let msg = format!("unknown search parameter '{name}' for {rt}");
            if lenient {
                q.ignored.push(msg);
                continue;
            }
            return Err(bad(format!(
                "{msg}; supported: {}",
                params::common()
                    .iter()
                    .chain(params::of_type(rt))
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .at(key.clone()));
        };
        let modifier = modifier(param, modi, value)?;
        if value.is_empty() {
            return Err(bad(format!("search parameter '{key}' has an empty value")));
        }
        let values: Vec<String> = if matches!(modifier, Modifier::Missing(_)) {
            Vec::new()
        } else {
            split_unescaped(value, ',')
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        if param.kind == Kind::Date {
            for v in &values {
                check_date(name, v)?;
            }
        }
        q.criteria.push(Criterion {
            param,
            modifier,
            values,
        });
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGING: Paging = Paging {
        default_count: 20,
        max_count: 100,
    };

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn escapes_and_splitting() {
        assert_eq!(split_unescaped(r"a\,b,c", ','), vec![r"a\,b", "c"]);
        assert_eq!(unescape(r"a\,b\|c\\d"), r"a,b|c\d");
        assert_eq!(split_unescaped(r"sys\|x|val", '|'), vec![r"sys\|x", "val"]);
    }

    #[test]
    fn parses_criteria_and_controls() {
        let q = parse(
            "Encounter",
            &pairs(&[
                ("status", "arrived,in-progress"),
                ("date", "ge2024-05-01"),
                ("subject:Patient", "p1"),
                ("_count", "500"),
                ("_offset", "20"),
                ("_sort", "-date"),
                ("_include", "Encounter:subject"),
            ]),
            PAGING,
            false,
        )
        .unwrap();
        assert_eq!(q.criteria.len(), 3);
        assert_eq!(q.criteria[0].values.len(), 2);
        assert_eq!(q.criteria[2].modifier, Modifier::Type("Patient"));
        assert_eq!((q.count, q.offset), (100, 20));
        assert!(q.sort[0].descending);
        assert_eq!(q.include.len(), 1);
        assert_eq!(q.echo.len(), 5);
    }

    #[test]
    fn unknown_parameters_are_refused_unless_lenient() {
        let e = parse("Patient", &pairs(&[("shoe-size", "42")]), PAGING, false).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.outcome().summary().contains("shoe-size"));
        let q = parse("Patient", &pairs(&[("shoe-size", "42")]), PAGING, true).unwrap();
        assert_eq!(q.ignored.len(), 1);
        assert!(parse("Patient", &pairs(&[("name:below", "x")]), PAGING, false).is_err());
        assert!(parse("Patient", &pairs(&[("_count", "-1")]), PAGING, false).is_err());
        assert!(parse(
            "Encounter",
            &pairs(&[("_include", "Patient:x")]),
            PAGING,
            false
        )
        .is_err());
        assert!(parse("Encounter", &pairs(&[("status", "")]), PAGING, false).is_err());
        assert!(parse("Encounter", &pairs(&[("date", "ap2024")]), PAGING, false).is_err());
        assert!(parse("Encounter", &pairs(&[("date", "ge2024-13")]), PAGING, false).is_err());
        assert!(parse(
            "Encounter",
            &pairs(&[("date", "le2024-05-01T10:00:00Z")]),
            PAGING,
            false
        )
        .is_ok());
    }
}

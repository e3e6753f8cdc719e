//! Search parameters: a typed builder that escapes values the FHIR way (`\,` `\|` `\$` `\\`) and
//! encodes them for the URL, plus raw query strings for everything the builder does not name.

/// A comparison prefix of a date or number parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// Equal (the default when no prefix is given).
    Eq,
    /// Not equal.
    Ne,
    /// Greater than.
    Gt,
    /// Less than.
    Lt,
    /// Greater or equal.
    Ge,
    /// Less or equal.
    Le,
    /// Starts after.
    Sa,
    /// Ends before.
    Eb,
    /// Approximately.
    Ap,
}

impl Prefix {
    /// The prefix text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Lt => "lt",
            Self::Ge => "ge",
            Self::Le => "le",
            Self::Sa => "sa",
            Self::Eb => "eb",
            Self::Ap => "ap",
        }
    }
}

/// `_summary` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Summary {
    /// Only the summary elements.
    True,
    /// Only the text, id, meta and top-level mandatory elements.
    Text,
    /// Remove the text element.
    Data,
    /// Only the count of matches.
    Count,
    /// All parts of the resource.
    False,
}

impl Summary {
    fn as_str(self) -> &'static str {
        match self {
            Self::True => "true",
            Self::Text => "text",
            Self::Data => "data",
            Self::Count => "count",
            Self::False => "false",
        }
    }
}

/// Escapes the characters FHIR search gives a meaning to inside a value.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '$' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Search parameters, in order. Values are kept unencoded; [`SearchParams::to_query`] encodes.
///
/// ```
/// use hie_vc::hie::{Prefix, SearchParams};
/// let p = SearchParams::new()
///     .identifier("http://fhir.hie.moh.gov.my/sid/vc-token", "tok|1")
///     .date("date", Prefix::Ge, "2024-01-01")
///     .count(20);
/// assert_eq!(
///     p.to_query(),
///     "identifier=http%3A%2F%2Ffhir.hie.moh.gov.my%2Fsid%2Fvc-token%7Ctok%5C%7C1&date=ge2024-01-01&_count=20"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pairs: Vec<(String, String)>,
}

impl SearchParams {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }
    /// Parameters from a query string as a server would read it (`a=b&c=d`, URL-encoded);
    /// for parameters the typed methods do not cover.
    pub fn raw(query: &str) -> Self {
        let q = query.strip_prefix('?').unwrap_or(query);
        Self {
            pairs: url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }
    /// A parameter with its value as given (FHIR escaping is the caller's).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.pairs.push((name.into(), value.into()));
        self
    }
    /// Adds the parameters of `other`.
    pub fn extend(mut self, other: SearchParams) -> Self {
        self.pairs.extend(other.pairs);
        self
    }
    /// A string parameter (starts-with, case-insensitive by default); the value is escaped.
    pub fn string(self, name: &str, value: &str) -> Self {
        self.param(name, escape_value(value))
    }
    /// A string parameter matched exactly (`name:exact`).
    pub fn exact(self, name: &str, value: &str) -> Self {
        self.param(format!("{name}:exact"), escape_value(value))
    }
    /// A token parameter: `system|code`, or just `code` without a system.
    pub fn token(self, name: &str, system: Option<&str>, code: &str) -> Self {
        let v = match system {
            Some(s) => format!("{}|{}", escape_value(s), escape_value(code)),
            None => escape_value(code),
        };
        self.param(name, v)
    }
    /// `identifier=system|value`.
    pub fn identifier(self, system: &str, value: &str) -> Self {
        self.token("identifier", Some(system), value)
    }
    /// A reference parameter: `name=Type/id`.
    pub fn reference(self, name: &str, resource_type: &str, id: &str) -> Self {
        self.param(name, format!("{resource_type}/{}", escape_value(id)))
    }
    /// A date parameter with a prefix (`date=ge2024-01-01`).
    pub fn date(self, name: &str, prefix: Prefix, value: &str) -> Self {
        let p = if prefix == Prefix::Eq {
            ""
        } else {
            prefix.as_str()
        };
        self.param(name, format!("{p}{value}"))
    }
    /// `_id`.
    pub fn id(self, id: &str) -> Self {
        self.param("_id", escape_value(id))
    }
    /// `_lastUpdated` with a prefix.
    pub fn last_updated(self, prefix: Prefix, instant: &str) -> Self {
        self.date("_lastUpdated", prefix, instant)
    }
    /// `_count`: the page size asked for.
    pub fn count(self, n: u32) -> Self {
        self.param("_count", n.to_string())
    }
    /// `_sort` (e.g. `-_lastUpdated`).
    pub fn sort(self, spec: &str) -> Self {
        self.param("_sort", spec)
    }
    /// `_include` (e.g. `Encounter:appointment`).
    pub fn include(self, spec: &str) -> Self {
        self.param("_include", spec)
    }
    /// `_revinclude` (e.g. `Encounter:appointment`).
    pub fn rev_include(self, spec: &str) -> Self {
        self.param("_revinclude", spec)
    }
    /// `_summary`.
    pub fn summary(self, summary: Summary) -> Self {
        self.param("_summary", summary.as_str())
    }
    /// `_elements`.
    pub fn elements(self, elements: &[&str]) -> Self {
        self.param("_elements", elements.join(","))
    }
    /// The parameters, unencoded.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
    /// The URL-encoded query string (no leading `?`).
    pub fn to_query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

impl From<&str> for SearchParams {
    fn from(query: &str) -> Self {
        Self::raw(query)
    }
}

impl From<String> for SearchParams {
    fn from(query: String) -> Self {
        Self::raw(&query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_fhir_escaped_then_url_encoded() {
        assert_eq!(escape_value(r"a,b|c$d\e"), r"a\,b\|c\$d\\e");
        let p = SearchParams::new()
            .string("name", "Ali, Abu")
            .exact("family", "O'Neil");
        assert_eq!(p.pairs()[0].1, r"Ali\, Abu");
        assert_eq!(p.to_query(), "name=Ali%5C%2C+Abu&family%3Aexact=O%27Neil");
    }

    #[test]
    fn raw_queries_round_trip() {
        let p = SearchParams::raw("?appointment=Appointment%2Fa1&_count=5&status=finished");
        assert_eq!(p.pairs().len(), 3);
        assert_eq!(
            p.pairs()[0],
            ("appointment".into(), "Appointment/a1".into())
        );
        assert_eq!(SearchParams::raw(&p.to_query()), p);
        let e = SearchParams::from("x=1").extend(SearchParams::new().count(2));
        assert_eq!(e.to_query(), "x=1&_count=2");
    }

    #[test]
    fn typed_parameters() {
        let q = SearchParams::new()
            .reference("appointment", "Appointment", "a1")
            .date("date", Prefix::Eq, "2024")
            .last_updated(Prefix::Lt, "2024-05-01T00:00:00Z")
            .token("status", None, "booked")
            .summary(Summary::Count)
            .elements(&["id", "status"]);
        let pairs: Vec<String> = q.pairs().iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            pairs,
            [
                "appointment=Appointment/a1",
                "date=2024",
                "_lastUpdated=lt2024-05-01T00:00:00Z",
                "status=booked",
                "_summary=count",
                "_elements=id,status"
            ]
        );
    }
}

//! FHIR R4 primitive types, each checked against its R4 format when read and when built.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde_json::value::RawValue;

use super::context::{self, ReadErrorKind, WarningKind};
use super::intern;
use super::schema::{JsonType, SchemaType, TypeDef};
use super::value::FhirType;

/// A value that does not match its FHIR primitive format.
///
/// Its `Display` and `Debug` never show the value: a malformed birth date or identifier is
/// still patient data, and error messages end up in logs and dead-letter headers. The value
/// is in [`ValueError::value`] for callers that choose to show it.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid FHIR {type_name} (a value of {} characters, not shown): expected {expected}", value.chars().count())]
pub struct ValueError {
    /// The FHIR type name (`dateTime`, `id`, ...).
    pub type_name: &'static str,
    /// The value that was refused.
    pub value: String,
    /// What the format is.
    pub expected: &'static str,
}

impl fmt::Debug for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueError")
            .field("type_name", &self.type_name)
            .field("value", &"<redacted>")
            .field("expected", &self.expected)
            .finish()
    }
}

fn is_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

fn two(b: &[u8], lo: u8, hi: u8) -> bool {
    b.len() == 2 && is_digits(b) && (lo..=hi).contains(&((b[0] - b'0') * 10 + (b[1] - b'0')))
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; returns the length consumed when `s` starts with a date.
fn date_prefix(b: &[u8]) -> Option<usize> {
    if b.len() < 4 || !is_digits(&b[..4]) || &b[..4] == b"0000" {
        return None;
    }
    if b.len() == 4 || b[4] != b'-' {
        return Some(4);
    }
    if b.len() < 7 || !two(&b[5..7], 1, 12) {
        return None;
    }
    if b.len() == 7 || b[7] != b'-' {
        return Some(7);
    }
    if b.len() < 10 || !two(&b[8..10], 1, 31) {
        return None;
    }
    Some(10)
}

/// `hh:mm:ss(.fff)?`
fn time_len(b: &[u8]) -> Option<usize> {
    if b.len() < 8
        || b[2] != b':'
        || b[5] != b':'
        || !two(&b[0..2], 0, 23)
        || !two(&b[3..5], 0, 59)
        || !two(&b[6..8], 0, 60)
    {
        return None;
    }
    let mut i = 8;
    if b.len() > 8 && b[8] == b'.' {
        i = 9;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == 9 {
            return None;
        }
    }
    Some(i)
}

/// `Z` or `+hh:mm` / `-hh:mm`, and nothing after it.
fn is_zone(b: &[u8]) -> bool {
    match b {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => two(&[*h1, *h2], 0, 14) && two(&[*m1, *m2], 0, 59),
        _ => false,
    }
}

fn valid_date(s: &str) -> bool {
    date_prefix(s.as_bytes()) == Some(s.len())
}

fn valid_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    match date_prefix(b) {
        Some(n) if n == b.len() => true,
        Some(10) if b[10] == b'T' => match time_len(&b[11..]) {
            Some(t) => is_zone(&b[11 + t..]),
            None => false,
        },
        _ => false,
    }
}

fn valid_instant(s: &str) -> bool {
    let b = s.as_bytes();
    date_prefix(b) == Some(10) && b.len() > 11 && b[10] == b'T' && valid_date_time(s)
}

fn valid_time(s: &str) -> bool {
    time_len(s.as_bytes()) == Some(s.len())
}

fn valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
}

fn valid_code(s: &str) -> bool {
    !s.is_empty() && s.trim() == s && !s.contains("  ") && !s.contains(['\n', '\r', '\t'])
}

fn valid_uri(s: &str) -> bool {
    // Printable ASCII (the usual case) has no whitespace; anything else takes the Unicode check.
    // (A fold rather than `all`: without the early exit the loop vectorises.)
    !s.is_empty()
        && (s
            .bytes()
            .fold(true, |ok, b| ok & (b.wrapping_sub(b'!') <= b'~' - b'!'))
            || !s.contains(char::is_whitespace))
}

fn valid_string(s: &str) -> bool {
    !s.is_empty()
}

fn valid_base64(s: &str) -> bool {
    s.bytes().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b' ' | b'\n' | b'\r')
    })
}

/// Reads a JSON string, checking it with `check` (an error when strict, a warning when lenient).
/// With `intern`, a [well-known](super::intern) value is kept as the static text instead of
/// a new allocation.
fn read_checked<'de, D: Deserializer<'de>>(
    d: D,
    type_name: &'static str,
    check: fn(&str) -> bool,
    expected: &'static str,
    intern: bool,
) -> Result<Cow<'static, str>, D::Error> {
    struct V {
        type_name: &'static str,
        check: fn(&str) -> bool,
        expected: &'static str,
        intern: bool,
    }
    impl V {
        fn check<E: de::Error>(&self, v: &str) -> Result<(), E> {
            if !(self.check)(v) {
                let msg = ValueError {
                    type_name: self.type_name,
                    value: v.to_owned(),
                    expected: self.expected,
                }
                .to_string();
                context::strict_or_warn(
                    WarningKind::InvalidFormat,
                    ReadErrorKind::InvalidValue,
                    None,
                    msg,
                )
                .map_err(E::custom)?;
            }
            Ok(())
        }
    }
    impl Visitor<'_> for V {
        type Value = Cow<'static, str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a JSON string holding a FHIR {}", self.type_name)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'static, str>, E> {
            self.check(v)?;
            Ok(match self.intern.then(|| intern::well_known(v)).flatten() {
                Some(known) => Cow::Borrowed(known),
                None => Cow::Owned(v.to_owned()),
            })
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'static, str>, E> {
            self.check(&v)?;
            Ok(Cow::Owned(v))
        }
    }
    d.deserialize_str(V {
        type_name,
        check,
        expected,
        intern,
    })
}

impl SchemaType for String {
    const SCHEMA_NAME: &'static str = "string";
    const DEF: TypeDef = TypeDef::primitive(
        "string",
        JsonType::String,
        &[" FHIR `string`: a non-empty sequence of Unicode characters."],
    );
}

impl SchemaType for bool {
    const SCHEMA_NAME: &'static str = "boolean";
    const DEF: TypeDef = TypeDef::primitive(
        "boolean",
        JsonType::Boolean,
        &[" FHIR `boolean`: `true` or `false`."],
    );
}

impl FhirType for String {
    const PRIMITIVE: bool = true;
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_checked(d, "string", valid_string, "a non-empty string", false).map(Cow::into_owned)
    }
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl FhirType for bool {
    const PRIMITIVE: bool = true;
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
                let b = match v {
                    "true" => true,
                    "false" => false,
                    _ => return Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                };
                context::strict_or_warn(
                    WarningKind::StringForPrimitive,
                    ReadErrorKind::InvalidType,
                    None,
                    // The value is not quoted: read errors and warnings reach logs and
                    // dead-letter headers, and a string in the wrong place may be anything.
                    "boolean sent as a JSON string".to_owned(),
                )
                .map_err(E::custom)?;
                Ok(b)
            }
        }
        d.deserialize_any(V)
    }
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*self)
    }
}

macro_rules! string_primitive {
    ($(#[doc = $doc:literal])* $name:ident, $fhir:literal, $check:path, $expected:literal) => {
        string_primitive!($(#[doc = $doc])* $name, $fhir, $check, $expected, false);
    };
    ($(#[doc = $doc:literal])* $name:ident, $fhir:literal, $check:path, $expected:literal, $intern:literal) => {
        $(#[doc = $doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Cow<'static, str>);

        impl SchemaType for $name {
            const SCHEMA_NAME: &'static str = $fhir;
            const DEF: TypeDef = TypeDef::primitive($fhir, JsonType::String, &[$($doc),*]);
        }

        impl $name {
            /// Checks `value` against the R4 format.
            pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
                let value = value.into();
                if $check(&value) {
                    Ok(Self(Cow::Owned(value)))
                } else {
                    Err(ValueError { type_name: $fhir, value, expected: $expected })
                }
            }
            /// The text as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The text as sent.
            pub fn into_string(self) -> String {
                self.0.into_owned()
            }
            /// Whether the text matches the R4 format (a lenient read may keep one that does not).
            pub fn is_valid(&self) -> bool {
                $check(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ValueError;
            fn try_from(s: &str) -> Result<Self, ValueError> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl super::node::AsNode for $name {
            fn as_node(&self) -> super::node::Node<'_> {
                super::node::Node::Text(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                *self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                *self.0 == **other
            }
        }

        impl FhirType for $name {
            const PRIMITIVE: bool = true;
            fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                read_checked(d, $fhir, $check, $expected, $intern).map(Self)
            }
            fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <Self as FhirType>::read(d)
            }
        }
    };
}

string_primitive!(
    /// FHIR `id`: 1–64 characters of `A-Z a-z 0-9 - .`.
    Id, "id", valid_id, "1-64 characters of A-Z, a-z, 0-9, '-' and '.'"
);
string_primitive!(
    /// FHIR `code`: no leading, trailing or doubled whitespace.
    Code, "code", valid_code, "a token without leading, trailing or repeated whitespace", true
);
string_primitive!(
    /// FHIR `uri` (also used for `url`, `canonical`, `oid`, `uuid`).
    Uri, "uri", valid_uri, "a URI without whitespace", true
);
string_primitive!(
    /// FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Date, "date", valid_date, "YYYY, YYYY-MM or YYYY-MM-DD"
);
string_primitive!(
    /// FHIR `dateTime`: a date, or a date and time with a zone (`2023-07-10T21:00:00+08:00`).
    DateTime, "dateTime", valid_date_time, "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)"
);
string_primitive!(
    /// FHIR `instant`: a full timestamp with a zone.
    Instant, "instant", valid_instant, "YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)"
);
string_primitive!(
    /// FHIR `time`: `hh:mm:ss[.fff]`.
    Time, "time", valid_time, "hh:mm:ss[.fff]"
);
string_primitive!(
    /// FHIR `base64Binary`.
    Base64Binary, "base64Binary", valid_base64, "base64 text"
);

/// FHIR `url`.
pub type Url = Uri;
/// FHIR `canonical`.
pub type Canonical = Uri;
/// FHIR `markdown` (plain `string` rules).
pub type Markdown = String;

fn rfc3339(t: time::OffsetDateTime) -> String {
    // Seconds precision keeps the wire form predictable (HIE examples use it).
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl DateTime {
    /// The current time, in UTC, to the second.
    pub fn now() -> Self {
        Self(Cow::Owned(rfc3339(time::OffsetDateTime::now_utc())))
    }
    /// A full timestamp.
    pub fn from_offset(t: time::OffsetDateTime) -> Self {
        Self(Cow::Owned(rfc3339(t)))
    }
    /// The timestamp when the value has full precision (a date alone has none).
    pub fn to_offset(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339).ok()
    }
}

impl Instant {
    /// The current time, in UTC, to the second.
    pub fn now() -> Self {
        Self(Cow::Owned(rfc3339(time::OffsetDateTime::now_utc())))
    }
    /// The timestamp.
    pub fn to_offset(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339).ok()
    }
}

impl From<time::OffsetDateTime> for DateTime {
    fn from(t: time::OffsetDateTime) -> Self {
        Self::from_offset(t)
    }
}

/// FHIR `decimal`, keeping the exact text it was sent with (`1.50` stays `1.50`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl SchemaType for Decimal {
    const SCHEMA_NAME: &'static str = "decimal";
    const DEF: TypeDef = TypeDef::primitive(
        "decimal",
        JsonType::Decimal,
        &[" FHIR `decimal`, whose exact text is the value (`1.50` is not `1.5`)."],
    );
}

fn valid_decimal(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let (int, rest) = match b.iter().position(|c| !c.is_ascii_digit()) {
        Some(i) => b.split_at(i),
        None => (b, &b[b.len()..]),
    };
    if int.is_empty() || (int.len() > 1 && int[0] == b'0') {
        return false;
    }
    let rest = match rest.strip_prefix(b".") {
        Some(r) => {
            let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return false;
            }
            &r[n..]
        }
        None => rest,
    };
    match rest {
        [] => true,
        [b'e' | b'E', exp @ ..] => {
            let exp = exp
                .strip_prefix(b"+")
                .or_else(|| exp.strip_prefix(b"-"))
                .unwrap_or(exp);
            is_digits(exp)
        }
        _ => false,
    }
}

impl Decimal {
    /// Checks the text is a JSON/FHIR decimal.
    pub fn new(text: impl Into<String>) -> Result<Self, ValueError> {
        let text = text.into();
        if valid_decimal(&text) {
            Ok(Self(text))
        } else {
            Err(ValueError {
                type_name: "decimal",
                value: text,
                expected: "a decimal number such as 1.50",
            })
        }
    }
    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The value as a float (precision may be lost; the text is kept).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for Decimal {
    fn from(v: i64) -> Self {
        Self(v.to_string())
    }
}

impl FhirType for Decimal {
    const PRIMITIVE: bool = true;
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = serde::Deserialize::deserialize(d)?;
        let text = raw.get().trim();
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            if valid_decimal(inner) {
                context::strict_or_warn(
                    WarningKind::StringForPrimitive,
                    ReadErrorKind::InvalidType,
                    None,
                    "decimal sent as a JSON string".to_owned(),
                )
                .map_err(de::Error::custom)?;
                return Ok(Self(inner.to_owned()));
            }
        }
        if valid_decimal(text) {
            Ok(Self(text.to_owned()))
        } else {
            context::note_error(ReadErrorKind::InvalidType, None);
            Err(de::Error::custom(format!(
                "invalid type: expected a decimal number, found {}",
                describe(text)
            )))
        }
    }
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match RawValue::from_string(self.0.clone()) {
            Ok(raw) => serde::Serialize::serialize(&raw, s),
            Err(e) => Err(serde::ser::Error::custom(e)),
        }
    }
}

fn describe(json: &str) -> &'static str {
    match json.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a malformed number",
    }
}

/// Reads an integer within `[lo, hi]`; a numeric string is accepted leniently.
fn read_int<'de, D: Deserializer<'de>>(
    d: D,
    type_name: &'static str,
    lo: i64,
    hi: i64,
) -> Result<i64, D::Error> {
    struct V {
        type_name: &'static str,
        lo: i64,
        hi: i64,
    }
    impl V {
        fn range<E: de::Error>(&self, v: i64) -> Result<i64, E> {
            if (self.lo..=self.hi).contains(&v) {
                Ok(v)
            } else {
                context::note_error(ReadErrorKind::InvalidValue, None);
                Err(E::custom(format!(
                    "{v} is out of range for FHIR {} ({}..={})",
                    self.type_name, self.lo, self.hi
                )))
            }
        }
    }
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a JSON integer (FHIR {})", self.type_name)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            self.range(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            self.range(i64::try_from(v).unwrap_or(i64::MAX))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| E::invalid_type(de::Unexpected::Str(v), &self))?;
            context::strict_or_warn(
                WarningKind::StringForPrimitive,
                ReadErrorKind::InvalidType,
                None,
                format!("{} sent as a JSON string", self.type_name),
            )
            .map_err(E::custom)?;
            self.range(n)
        }
    }
    d.deserialize_any(V { type_name, lo, hi })
}

macro_rules! int_primitive {
    ($(#[doc = $doc:literal])* $name:ident, $fhir:literal, $lo:expr, $hi:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl SchemaType for $name {
            const SCHEMA_NAME: &'static str = $fhir;
            const DEF: TypeDef = TypeDef::primitive($fhir, JsonType::Integer, &[$($doc),*]);
        }

        impl $name {
            /// Checks the range.
            pub fn new(v: i64) -> Result<Self, ValueError> {
                if ($lo..=$hi).contains(&v) {
                    Ok(Self(v))
                } else {
                    Err(ValueError { type_name: $fhir, value: v.to_string(), expected: concat!("an integer in ", stringify!($lo), "..=", stringify!($hi)) })
                }
            }
            /// The value.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl super::node::AsNode for $name {
            fn as_node(&self) -> super::node::Node<'_> {
                super::node::Node::Int(self.0)
            }
        }

        impl FhirType for $name {
            const PRIMITIVE: bool = true;
            fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                read_int(d, $fhir, $lo, $hi).map(Self)
            }
            fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.0)
            }
        }
    };
}

int_primitive!(
    /// FHIR `integer` (32-bit signed).
    Integer, "integer", i32::MIN as i64, i32::MAX as i64
);
int_primitive!(
    /// FHIR `unsignedInt` (0 or more).
    UnsignedInt, "unsignedInt", 0, i32::MAX as i64
);
int_primitive!(
    /// FHIR `positiveInt` (1 or more).
    PositiveInt, "positiveInt", 1, i32::MAX as i64
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        for ok in [
            "2023",
            "2023-07",
            "2023-07-10",
            "2023-07-10T21:00:00+08:00",
            "2023-07-10T21:00:00.123Z",
            "2023-07-10T23:59:60-14:00",
        ] {
            assert!(valid_date_time(ok), "{ok}");
        }
        for bad in [
            "",
            "23",
            "2023-13",
            "2023-07-32",
            "2023-07-10T21:00:00",
            "2023-07-10T21:00+08:00",
            "2023-07-10T25:00:00Z",
            "2023-07-10 21:00:00Z",
            "2023-07-10T21:00:00+0800",
            "0000",
        ] {
            assert!(!valid_date_time(bad), "{bad}");
        }
        assert!(valid_instant("2023-05-15T09:16:00.852+08:00"));
        assert!(!valid_instant("2023-05-15"));
        assert!(valid_date("1992-01-14"));
        assert!(!valid_date("1992-01-14T00:00:00Z"));
        assert!(valid_time("21:00:00") && !valid_time("21:00"));
    }

    #[test]
    fn ids_codes_uris() {
        assert!(
            valid_id("vci-app-example") && valid_id("11-05060009") && valid_id(&"a".repeat(64))
        );
        assert!(
            !valid_id("") && !valid_id("a_b") && !valid_id(&"a".repeat(65)) && !valid_id("a b")
        );
        assert!(
            valid_code("in-progress")
                && valid_code("a b")
                && !valid_code(" a")
                && !valid_code("a  b")
                && !valid_code("")
        );
        assert!(valid_uri("urn:uuid:1") && !valid_uri("a b"));
        // Past the printable-ASCII fast path: Unicode whitespace is refused, other text kept.
        assert!(valid_uri("http://ex.my/klinik-é") && valid_uri("a\u{1}b"));
        assert!(!valid_uri("a\u{00a0}b") && !valid_uri("a\tb") && !valid_uri("a\u{2003}"));
    }

    #[test]
    fn decimals_keep_text() {
        for ok in ["1.50", "0", "-0.5", "1e10", "1.0E-3", "100"] {
            assert_eq!(Decimal::new(ok).unwrap().as_str(), ok);
        }
        for bad in ["01", "1.", ".5", "abc", "", "1e"] {
            assert!(Decimal::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_sent_as_strings_are_not_quoted() {
        use crate::fhir::{read_str, Patient, ReadOptions};
        // A MyKad-like number in a number's place must not reach logs through the message.
        for (json, what) in [
            (
                r#"{"resourceType":"Patient","multipleBirthInteger":"950728106"}"#,
                "integer",
            ),
            (r#"{"resourceType":"Patient","active":"true"}"#, "boolean"),
        ] {
            let e = read_str::<Patient>(json, ReadOptions::strict()).unwrap_err();
            assert!(
                e.message.contains(&format!("{what} sent as a JSON string")),
                "{e}"
            );
            assert!(
                !e.message.contains("950728106") && !e.message.contains("\"true\""),
                "{e}"
            );
            let r = read_str::<Patient>(json, ReadOptions::lenient()).unwrap();
            assert_eq!(r.warnings.len(), 1);
            assert!(
                !r.warnings[0].message.contains("950728106"),
                "{:?}",
                r.warnings
            );
        }
    }

    #[test]
    fn now_is_valid() {
        assert!(DateTime::now().is_valid());
        assert!(Instant::now().is_valid());
        assert!(DateTime::now().to_offset().is_some());
    }
}

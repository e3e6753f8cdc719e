//! Payload formats and decoding: from record bytes to a typed Encounter and its includes.
//!
//! HIE's Subscription Guide does not publish the payload envelope (`docs/guide-gaps.md` §5), so the
//! listener accepts the three shapes seen in practice: a bare Encounter, a Bundle holding the
//! Encounter and its included resources, or a JSON envelope holding either at a JSON pointer.
//! Every failure is a [`DecodeError`] with a [`DecodeErrorKind`] to match on and a location
//! (FHIRPath, JSON pointer or byte offset); decoding never panics, whatever the bytes.

use std::collections::HashMap;
use std::fmt;

use serde_json::value::RawValue;

use crate::fhir::{
    self, Bundle, Encounter, ReadErrorKind, ReadOptions, ReadWarning, Resource, SearchEntryMode,
};
use crate::{Error, ErrorKind};

use super::event::{Included, Layout};

/// Deepest JSON nesting (objects and arrays) accepted. FHIR resources, even Bundles with
/// contained resources and nested extensions, stay far below; deeper input is refused before
/// parsing, including inside unknown elements the model would otherwise keep as raw text.
pub const MAX_JSON_DEPTH: usize = 100;

/// Envelope pointers [`PayloadFormat::Auto`] tries when the top-level object is not a resource.
pub const AUTO_ENVELOPE_POINTERS: [&str; 5] =
    ["/payload", "/resource", "/data", "/message", "/value"];

/// How record payloads are laid out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadFormat {
    /// Detect per message: a bare Encounter, a Bundle, or an envelope holding either at one of
    /// [`AUTO_ENVELOPE_POINTERS`].
    #[default]
    Auto,
    /// A bare Encounter.
    Encounter,
    /// A Bundle holding one Encounter (the main resource) and its included resources.
    Bundle,
    /// A JSON object holding an Encounter or a Bundle (as JSON, or as a string of JSON) at a
    /// JSON pointer (RFC 6901), e.g. `/payload` or `/data/resource`.
    Envelope {
        /// Where the resource is.
        pointer: String,
    },
}

impl PayloadFormat {
    /// An envelope format; the pointer must be empty or start with `/` (RFC 6901).
    pub fn envelope(pointer: impl Into<String>) -> Result<Self, Error> {
        let pointer = pointer.into();
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(Error::config(format!(
                "envelope pointer '{pointer}' is not a JSON pointer: it must start with '/' (e.g. '/payload')"
            )));
        }
        Ok(Self::Envelope { pointer })
    }
    /// Parses `auto`, `encounter`, `bundle` or `envelope:<pointer>` (the form the bindings use;
    /// the same as `FromStr`).
    pub fn parse(s: &str) -> Result<Self, Error> {
        s.parse()
    }
}

impl std::str::FromStr for PayloadFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "auto" => Ok(Self::Auto),
            "encounter" => Ok(Self::Encounter),
            "bundle" => Ok(Self::Bundle),
            _ => match s.strip_prefix("envelope:") {
                Some(p) => Self::envelope(p)
                    .map_err(|e| Error::new(ErrorKind::InvalidInput, e.message().to_owned())),
                None => Err(crate::names::unknown(
                    "payload format",
                    s,
                    &["auto", "encounter", "bundle", "envelope:<json-pointer>"],
                )),
            },
        }
    }
}

/// The name `FromStr` reads: `auto`, `encounter`, `bundle` or `envelope:<pointer>`.
impl fmt::Display for PayloadFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Encounter => f.write_str("encounter"),
            Self::Bundle => f.write_str("bundle"),
            Self::Envelope { pointer } => write!(f, "envelope:{pointer}"),
        }
    }
}

crate::names::string_serde!(PayloadFormat);

/// What kind of decode failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// No payload (a tombstone) or an empty one.
    Empty,
    /// Larger than the configured maximum.
    TooLarge,
    /// Not UTF-8.
    InvalidUtf8,
    /// Not JSON.
    NotJson,
    /// Nested deeper than the reader accepts.
    TooDeep,
    /// A resource, but not an Encounter (or Bundle, for formats that accept one).
    WrongResourceType,
    /// A JSON object without `resourceType` (and, for `auto`, no known envelope member).
    MissingResourceType,
    /// A Bundle without an Encounter entry.
    NoEncounter,
    /// The envelope has nothing at the configured pointer.
    EnvelopeMissing,
    /// The resource breaks FHIR R4 rules (strict reads): a wrong type, a bad value, a missing
    /// required element, an unknown element while those are denied.
    Invalid,
}

impl DecodeErrorKind {
    /// Stable snake_case name (used in dead-letter headers and by the bindings).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLarge => "too_large",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::NotJson => "not_json",
            Self::TooDeep => "too_deep",
            Self::WrongResourceType => "wrong_resource_type",
            Self::MissingResourceType => "missing_resource_type",
            Self::NoEncounter => "no_encounter",
            Self::EnvelopeMissing => "envelope_missing",
            Self::Invalid => "invalid",
        }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payload that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Where: a FHIRPath (`Encounter.period.start`), a JSON pointer or `byte <n>`.
    pub location: String,
    /// What the reader said.
    pub message: String,
}

impl DecodeError {
    fn new(kind: DecodeErrorKind, location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            location: location.into(),
            message: message.into(),
        }
    }
    fn from_read(e: fhir::ReadError, prefix: &str) -> Self {
        let kind = match e.kind {
            ReadErrorKind::Syntax => DecodeErrorKind::NotJson,
            ReadErrorKind::TooDeep => DecodeErrorKind::TooDeep,
            ReadErrorKind::WrongResourceType => DecodeErrorKind::WrongResourceType,
            ReadErrorKind::MissingResourceType => DecodeErrorKind::MissingResourceType,
            _ => DecodeErrorKind::Invalid,
        };
        let location = if prefix.is_empty() {
            e.location
        } else {
            format!("{prefix} {}", e.location)
        };
        Self::new(kind, location, e.message)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.kind, self.location, self.message)
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        let kind = if e.kind == DecodeErrorKind::TooLarge {
            ErrorKind::PayloadTooLarge
        } else {
            ErrorKind::Decode
        };
        Error::new(kind, format!("could not decode the message ({})", e.kind))
            .with_location(e.location.clone())
            .with_source(e)
    }
}

/// Decoding settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeOptions<'a> {
    pub format: &'a PayloadFormat,
    pub read: ReadOptions,
    pub max_bytes: usize,
}

/// A decoded payload.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub encounter: Encounter,
    pub included: Vec<Included>,
    pub warnings: Vec<ReadWarning>,
    pub layout: Layout,
}

/// Decodes a payload.
pub(crate) fn decode(
    payload: Option<&[u8]>,
    opts: DecodeOptions<'_>,
) -> Result<Decoded, DecodeError> {
    let bytes = match payload {
        Some(b) if !b.is_empty() => b,
        _ => {
            return Err(DecodeError::new(
                DecodeErrorKind::Empty,
                "$",
                "the record has no payload (a tombstone or an empty value)",
            ))
        }
    };
    if bytes.len() > opts.max_bytes {
        return Err(DecodeError::new(
            DecodeErrorKind::TooLarge,
            "$",
            format!(
                "payload is {} bytes, over the {}-byte limit (raise max_message_bytes to accept it)",
                bytes.len(),
                opts.max_bytes
            ),
        ));
    }
    check_depth(bytes)?;
    decode_json(bytes, opts).map_err(|e| match e.kind {
        // A successful parse implies UTF-8 (the JSON reader checks every string), so the
        // separate check is only paid when something failed, to name the real cause.
        DecodeErrorKind::NotJson | DecodeErrorKind::Invalid => match std::str::from_utf8(bytes) {
            Err(u) => DecodeError::new(
                DecodeErrorKind::InvalidUtf8,
                format!("byte {}", u.valid_up_to()),
                "payload is not UTF-8 text",
            ),
            Ok(_) => e,
        },
        _ => e,
    })
}

fn decode_json(bytes: &[u8], opts: DecodeOptions<'_>) -> Result<Decoded, DecodeError> {
    match opts.format {
        PayloadFormat::Encounter => read_encounter(bytes, opts.read, ""),
        PayloadFormat::Bundle => read_bundle_only(bytes, opts.read, ""),
        PayloadFormat::Envelope { pointer } => read_envelope(bytes, pointer, opts.read, true),
        PayloadFormat::Auto => match read_resource(bytes, opts.read, "") {
            Err(e) if e.kind == DecodeErrorKind::MissingResourceType => {
                for p in AUTO_ENVELOPE_POINTERS {
                    match read_envelope(bytes, p, opts.read, false) {
                        Err(miss) if miss.kind == DecodeErrorKind::EnvelopeMissing => continue,
                        other => return other,
                    }
                }
                Err(DecodeError::new(
                    DecodeErrorKind::MissingResourceType,
                    e.location,
                    format!(
                        "a JSON object without resourceType and without any of {} (set an envelope format with the right pointer)",
                        AUTO_ENVELOPE_POINTERS.join(", ")
                    ),
                ))
            }
            other => other,
        },
    }
}

/// Reads any resource and keeps an Encounter or a Bundle.
fn read_resource(bytes: &[u8], opts: ReadOptions, prefix: &str) -> Result<Decoded, DecodeError> {
    let read =
        fhir::read::<Resource>(bytes, opts).map_err(|e| DecodeError::from_read(e, prefix))?;
    let warnings = read.warnings;
    match read.value {
        Resource::Encounter(e) => Ok(Decoded {
            encounter: *e,
            included: Vec::new(),
            warnings,
            layout: Layout::Encounter,
        }),
        Resource::Bundle(b) => from_bundle(*b, prefix).map(|(encounter, included)| Decoded {
            encounter,
            included,
            warnings,
            layout: Layout::Bundle,
        }),
        other => Err(DecodeError::new(
            DecodeErrorKind::WrongResourceType,
            at(prefix, "resourceType"),
            format!(
                "resourceType is '{}', expected 'Encounter' or 'Bundle'",
                other.resource_type()
            ),
        )),
    }
}

fn read_encounter(bytes: &[u8], opts: ReadOptions, prefix: &str) -> Result<Decoded, DecodeError> {
    let read =
        fhir::read::<Encounter>(bytes, opts).map_err(|e| DecodeError::from_read(e, prefix))?;
    Ok(Decoded {
        encounter: read.value,
        included: Vec::new(),
        warnings: read.warnings,
        layout: Layout::Encounter,
    })
}

fn read_bundle_only(bytes: &[u8], opts: ReadOptions, prefix: &str) -> Result<Decoded, DecodeError> {
    let read = fhir::read::<Bundle>(bytes, opts).map_err(|e| DecodeError::from_read(e, prefix))?;
    let warnings = read.warnings;
    let (encounter, included) = from_bundle(read.value, prefix)?;
    Ok(Decoded {
        encounter,
        included,
        warnings,
        layout: Layout::Bundle,
    })
}

/// Splits a Bundle into its main Encounter and the rest. The main one is the first Encounter
/// entry in search mode `match` when the Bundle says so, else the first Encounter.
fn from_bundle(bundle: Bundle, prefix: &str) -> Result<(Encounter, Vec<Included>), DecodeError> {
    let is_encounter = |e: &fhir::BundleEntry| matches!(e.resource, Some(Resource::Encounter(_)));
    let main = bundle
        .entry
        .iter()
        .position(|e| {
            is_encounter(e)
                && e.search.as_ref().and_then(|s| s.mode.as_ref()) == Some(&SearchEntryMode::Match)
        })
        .or_else(|| bundle.entry.iter().position(is_encounter));
    let Some(main) = main else {
        return Err(DecodeError::new(
            DecodeErrorKind::NoEncounter,
            at(prefix, "Bundle.entry"),
            format!(
                "the Bundle has {} entries and no Encounter",
                bundle.entry.len()
            ),
        ));
    };
    let mut encounter = None;
    let mut included = Vec::with_capacity(bundle.entry.len().saturating_sub(1));
    for (i, entry) in bundle.entry.into_iter().enumerate() {
        let full_url = entry.full_url.map(|u| u.as_str().to_owned());
        match entry.resource {
            Some(Resource::Encounter(e)) if i == main => encounter = Some(*e),
            Some(resource) => included.push(Included { full_url, resource }),
            None => {}
        }
    }
    match encounter {
        Some(e) => Ok((e, included)),
        None => Err(DecodeError::new(
            DecodeErrorKind::NoEncounter,
            at(prefix, "Bundle.entry"),
            "the Bundle has no Encounter",
        )),
    }
}

fn at(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_owned()
    } else {
        format!("{prefix} {path}")
    }
}

/// Reads the resource at `pointer` in an envelope. With `required == false` (auto detection) a
/// top level that is not an object, or a missing member, is `EnvelopeMissing`.
fn read_envelope(
    bytes: &[u8],
    pointer: &str,
    opts: ReadOptions,
    required: bool,
) -> Result<Decoded, DecodeError> {
    let mut current: &RawValue = serde_json::from_slice(bytes).map_err(|e| json_error(&e, "$"))?;
    let mut walked = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        walked.push('/');
        walked.push_str(&token);
        let text = current.get().trim_start();
        let next = if text.starts_with('{') {
            let map: HashMap<String, &RawValue> =
                serde_json::from_str(current.get()).map_err(|e| json_error(&e, &walked))?;
            map.get(&token).copied()
        } else if text.starts_with('[') {
            let items: Vec<&RawValue> =
                serde_json::from_str(current.get()).map_err(|e| json_error(&e, &walked))?;
            token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i).copied())
        } else {
            None
        };
        current = match next {
            Some(v) => v,
            None => {
                return Err(DecodeError::new(
                    DecodeErrorKind::EnvelopeMissing,
                    pointer,
                    if required {
                        format!("the envelope has nothing at '{walked}'")
                    } else {
                        format!("no member at '{walked}'")
                    },
                ))
            }
        };
    }
    let prefix = format!("envelope {pointer}:");
    let text = current.get().trim_start();
    let decoded = if text.starts_with('"') {
        // The resource sent as a string of JSON (a common envelope style).
        let inner: String =
            serde_json::from_str(current.get()).map_err(|e| json_error(&e, pointer))?;
        read_resource(inner.as_bytes(), opts, &prefix)
    } else if text.starts_with('{') {
        read_resource(current.get().as_bytes(), opts, &prefix)
    } else {
        return Err(DecodeError::new(
            if required {
                DecodeErrorKind::WrongResourceType
            } else {
                DecodeErrorKind::EnvelopeMissing
            },
            pointer,
            "the envelope member is neither a JSON object nor a string of JSON",
        ));
    };
    decoded.map(|mut d| {
        d.layout = Layout::Envelope {
            pointer: pointer.to_owned(),
            bundle: d.layout == Layout::Bundle,
        };
        d
    })
}

/// Refuses JSON nested deeper than [`MAX_JSON_DEPTH`]: one pass over the bytes, skipping
/// strings.
fn check_depth(bytes: &[u8]) -> Result<(), DecodeError> {
    // Fast path: fewer opening brackets than the limit cannot nest deeper. `b | 0x20` maps
    // both '[' (0x5B) and '{' (0x7B), and only them, to 0x7B; counting in u8 lanes per chunk
    // of 255 lets the compiler vectorize it (~20x faster than a plain filter/count here).
    let opening: usize = bytes
        .chunks(255)
        .map(|chunk| {
            let mut n: u8 = 0;
            for &b in chunk {
                n += u8::from((b | 0x20) == b'{');
            }
            usize::from(n)
        })
        .sum();
    if opening <= MAX_JSON_DEPTH {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(DecodeError::new(
                        DecodeErrorKind::TooDeep,
                        format!("byte {i}"),
                        format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn json_error(e: &serde_json::Error, location: &str) -> DecodeError {
    let msg = e.to_string();
    let kind = if msg.contains("recursion limit exceeded") {
        DecodeErrorKind::TooDeep
    } else {
        DecodeErrorKind::NotJson
    };
    DecodeError::new(kind, location, msg)
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;

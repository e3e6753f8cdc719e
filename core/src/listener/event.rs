//! What the listener hands to a handler: a decoded Encounter with its VC view, the resources
//! that came with it, and the Kafka record it was read from.
//!
//! `Debug` of every type here shows coordinates, ids and sizes only: payloads, keys and header
//! values carry patient data and VC tokens, which must never reach a log.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::fhir::{Encounter, ReadWarning, Reference, Resource};
use crate::mycore::VcEncounter;

/// Where a record sits: topic, partition and offset. `Display` is `topic/partition@offset`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Coordinates {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: i32,
    /// Offset of the record in its partition.
    pub offset: i64,
}

impl Coordinates {
    /// Coordinates of a record.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32, offset: i64) -> Self {
        Self {
            topic: topic.into(),
            partition,
            offset,
        }
    }
}

impl fmt::Display for Coordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@{}", self.topic, self.partition, self.offset)
    }
}

/// A record header. `Debug` shows the key and the value's length only.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    /// Header name.
    pub key: String,
    /// Header value; `None` for a null header.
    pub value: Option<Bytes>,
}

impl Header {
    /// A header with a value.
    pub fn new(key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        Self {
            key: key.into(),
            value: Some(value.into()),
        }
    }
    /// The value as UTF-8 text, when it is.
    pub fn value_str(&self) -> Option<&str> {
        self.value
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// JSON: `{"key", "value"}`, the value as text (invalid UTF-8 replaced), `null` for a null
/// header.
impl serde::Serialize for Header {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Header", 2)?;
        m.serialize_field("key", &self.key)?;
        m.serialize_field("value", &self.value.as_deref().map(String::from_utf8_lossy))?;
        m.end()
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}=<{} bytes>", self.key, v.len()),
            None => write!(f, "{}=null", self.key),
        }
    }
}

/// The timestamp of a record, as Kafka defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timestamp {
    /// Set by the producer when it created the record (milliseconds since the Unix epoch).
    Create(i64),
    /// Set by the broker when it appended the record (milliseconds since the Unix epoch).
    LogAppend(i64),
}

impl Timestamp {
    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        match self {
            Self::Create(ms) | Self::LogAppend(ms) => ms,
        }
    }
    /// As a `SystemTime` (timestamps before the epoch clamp to it).
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.millis()).unwrap_or(0))
    }
}

/// One record as a source delivered it, before decoding.
#[derive(Clone)]
pub struct SourceMessage {
    /// Where it sits.
    pub coordinates: Coordinates,
    /// The record key.
    pub key: Option<Bytes>,
    /// The record value; `None` for a tombstone.
    pub payload: Option<Bytes>,
    /// The record timestamp.
    pub timestamp: Option<Timestamp>,
    /// The record headers, in order.
    pub headers: Vec<Header>,
}

impl SourceMessage {
    /// A record with a payload and no key, timestamp or headers.
    pub fn new(coordinates: Coordinates, payload: impl Into<Bytes>) -> Self {
        Self {
            coordinates,
            key: None,
            payload: Some(payload.into()),
            timestamp: None,
            headers: Vec::new(),
        }
    }
    /// The first header named `key`.
    pub fn header(&self, key: &str) -> Option<&Header> {
        self.headers.iter().find(|h| h.key == key)
    }
    /// Payload length in bytes (0 for a tombstone).
    pub fn len(&self) -> usize {
        self.payload.as_ref().map_or(0, Bytes::len)
    }
    /// Whether the payload is missing or empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for SourceMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceMessage")
            .field("coordinates", &format_args!("{}", self.coordinates))
            .field("key_len", &self.key.as_ref().map(Bytes::len))
            .field("payload_len", &self.payload.as_ref().map(Bytes::len))
            .field("timestamp", &self.timestamp)
            .field("headers", &self.headers)
            .finish()
    }
}

/// JSON: `{"topic", "partition", "offset", "key", "payload", "timestampMs", "headers":
/// [{"key", "value"}]}`, the key, the payload and header values as text (invalid UTF-8
/// replaced; `null` when absent: `"payload": null` is a tombstone). For inspecting records
/// (e.g. a dead-letter topic) from a host language; it carries patient data, so never log it.
impl serde::Serialize for SourceMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        fn text(b: &Option<Bytes>) -> Option<std::borrow::Cow<'_, str>> {
            b.as_deref().map(String::from_utf8_lossy)
        }
        let mut m = s.serialize_struct("SourceMessage", 7)?;
        m.serialize_field("topic", &*self.coordinates.topic)?;
        m.serialize_field("partition", &self.coordinates.partition)?;
        m.serialize_field("offset", &self.coordinates.offset)?;
        m.serialize_field("key", &text(&self.key))?;
        m.serialize_field("payload", &text(&self.payload))?;
        m.serialize_field("timestampMs", &self.timestamp.map(Timestamp::millis))?;
        m.serialize_field("headers", &self.headers)?;
        m.end()
    }
}

/// How the payload was laid out. JSON: `{"kind": "encounter" | "bundle"}` or `{"kind":
/// "envelope", "pointer", "bundle"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Layout {
    /// A bare Encounter.
    Encounter,
    /// A Bundle holding the Encounter and its included resources.
    Bundle,
    /// A JSON envelope; the pointer says where the Encounter or Bundle was.
    Envelope {
        /// JSON pointer of the resource in the envelope.
        pointer: String,
        /// Whether the resource there was a Bundle (else a bare Encounter).
        bundle: bool,
    },
}

/// An included resource and the `fullUrl` it had in the Bundle. `Debug` shows the type and id
/// only (an included Patient is all patient data). JSON: `{"fullUrl", "resource"}`.
#[derive(Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Included {
    /// `Bundle.entry.fullUrl`, when there was one.
    pub full_url: Option<String>,
    /// The resource.
    pub resource: Resource,
}

impl fmt::Debug for Included {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.resource.resource_type(),
            self.resource.id().as_deref().unwrap_or("?")
        )
    }
}

/// An Encounter read from a message, with everything that came with it.
///
/// Cheap to clone (shared), so a handler may keep it or move it into a task. `Debug` shows
/// coordinates, ids and counts only.
///
/// JSON (camelCase), what a handler in another language receives: `{"encounter",
/// "encounterId", "versionId", "vc", "included", "warnings", "layout", "topic", "partition",
/// "offset", "key", "timestampMs", "headers"}` — the Encounter as FHIR JSON, `vc` as
/// [`VcEncounter`] (`null` for a non-VC Encounter), the key and header values as text. It
/// holds patient data and the vc-token: it goes only where the caller sends it.
#[derive(Clone)]
pub struct EncounterEvent {
    inner: Arc<EventInner>,
}

pub(crate) struct EventInner {
    pub message: SourceMessage,
    pub encounter: Encounter,
    pub vc: Option<VcEncounter>,
    pub included: Vec<Included>,
    pub warnings: Vec<ReadWarning>,
    pub layout: Layout,
}

impl EncounterEvent {
    pub(crate) fn new(inner: EventInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
    /// The Encounter, as read.
    pub fn encounter(&self) -> &Encounter {
        &self.inner.encounter
    }
    /// Its VC view (type, token, patient, practitioners, ...), or `None` when the Encounter is
    /// not a VC one (only delivered with [`Filter::AllEncounters`](super::Filter)).
    pub fn vc(&self) -> Option<&VcEncounter> {
        self.inner.vc.as_ref()
    }
    /// Whether the Encounter is a VC one.
    pub fn is_vc(&self) -> bool {
        self.inner.vc.is_some()
    }
    /// The other resources of the message (Patient, Appointment, Practitioner, ...), in order.
    pub fn included(&self) -> &[Included] {
        &self.inner.included
    }
    /// The included resource a reference points at: `Type/id` (also when the included
    /// resource's `fullUrl` ends with it) or an exact `fullUrl` such as `urn:uuid:...`.
    pub fn resolve(&self, reference: &Reference) -> Option<&Resource> {
        let r = reference.reference.as_deref()?;
        let r = r.split("/_history/").next().unwrap_or(r);
        self.inner.included.iter().find_map(|inc| {
            if inc.full_url.as_deref() == Some(r) {
                return Some(&inc.resource);
            }
            let id = inc.resource.id()?;
            let rt = inc.resource.resource_type();
            let rel = r.strip_suffix(id.as_str())?.strip_suffix('/')?;
            (rel == rt || rel.ends_with(&format!("/{rt}"))).then_some(&inc.resource)
        })
    }
    /// What the reader accepted that is not clean R4 (lenient reads) and unknown elements kept.
    pub fn warnings(&self) -> &[ReadWarning] {
        &self.inner.warnings
    }
    /// How the payload was laid out.
    pub fn layout(&self) -> &Layout {
        &self.inner.layout
    }
    /// The record this event was read from.
    pub fn message(&self) -> &SourceMessage {
        &self.inner.message
    }
    /// Where the record sits.
    pub fn coordinates(&self) -> &Coordinates {
        &self.inner.message.coordinates
    }
    /// Topic of the record.
    pub fn topic(&self) -> &str {
        &self.inner.message.coordinates.topic
    }
    /// Partition of the record.
    pub fn partition(&self) -> i32 {
        self.inner.message.coordinates.partition
    }
    /// Offset of the record.
    pub fn offset(&self) -> i64 {
        self.inner.message.coordinates.offset
    }
    /// Record key.
    pub fn key(&self) -> Option<&[u8]> {
        self.inner.message.key.as_deref()
    }
    /// Record timestamp.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.inner.message.timestamp
    }
    /// Record headers.
    pub fn headers(&self) -> &[Header] {
        &self.inner.message.headers
    }
    /// The raw payload bytes, exactly as received.
    pub fn raw(&self) -> &[u8] {
        self.inner.message.payload.as_deref().unwrap_or_default()
    }
    /// The Encounter's logical id.
    pub fn encounter_id(&self) -> Option<&str> {
        self.inner.encounter.id.as_ref().map(|i| i.as_str())
    }
    /// The Encounter's `meta.versionId`.
    pub fn version_id(&self) -> Option<&str> {
        self.inner
            .encounter
            .meta
            .as_ref()
            .and_then(|m| m.version_id.as_ref())
            .map(|v| v.as_str())
    }
}

impl fmt::Debug for EncounterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncounterEvent")
            .field(
                "coordinates",
                &format_args!("{}", self.inner.message.coordinates),
            )
            .field("encounter_id", &self.encounter_id())
            .field("version_id", &self.version_id())
            .field(
                "vc_type",
                &self.inner.vc.as_ref().map(|v| v.vc_type.code().to_owned()),
            )
            .field("included", &self.inner.included.len())
            .field("warnings", &self.inner.warnings.len())
            .field("layout", &self.inner.layout)
            .field("payload_len", &self.inner.message.len())
            .finish()
    }
}

impl serde::Serialize for EncounterEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("EncounterEvent", 13)?;
        m.serialize_field("encounter", self.encounter())?;
        m.serialize_field("encounterId", &self.encounter_id())?;
        m.serialize_field("versionId", &self.version_id())?;
        m.serialize_field("vc", &self.vc())?;
        m.serialize_field("included", self.included())?;
        m.serialize_field("warnings", self.warnings())?;
        m.serialize_field("layout", self.layout())?;
        m.serialize_field("topic", self.topic())?;
        m.serialize_field("partition", &self.partition())?;
        m.serialize_field("offset", &self.offset())?;
        m.serialize_field("key", &self.key().map(String::from_utf8_lossy))?;
        m.serialize_field("timestampMs", &self.timestamp().map(Timestamp::millis))?;
        m.serialize_field("headers", self.headers())?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir;
    use crate::json_tests::{encounter, json, patient, vc_golden, ENCOUNTER, PATIENT};

    #[test]
    fn event_golden() {
        let e = encounter();
        let vc = VcEncounter::from_encounter(&e).unwrap();
        let mut message = SourceMessage::new(Coordinates::new("vc", 1, 42), ENCOUNTER);
        message.key = Some(Bytes::from_static(b"e1"));
        message.timestamp = Some(Timestamp::Create(1_700_000_000_000));
        message.headers = vec![Header::new("content-type", "application/fhir+json")];
        let event = EncounterEvent::new(EventInner {
            message,
            encounter: e.clone(),
            vc: Some(vc),
            included: vec![Included {
                full_url: Some("urn:uuid:p".to_owned()),
                resource: patient(),
            }],
            warnings: vec![],
            layout: Layout::Envelope {
                pointer: "/payload".to_owned(),
                bundle: true,
            },
        });
        assert_eq!(
            json(&event),
            format!(
                concat!(
                    r#"{{"encounter":{},"encounterId":"e1","versionId":"3","vc":{},"#,
                    r#""included":[{{"fullUrl":"urn:uuid:p","resource":{}}}],"warnings":[],"#,
                    r#""layout":{{"kind":"envelope","pointer":"/payload","bundle":true}},"#,
                    r#""topic":"vc","partition":1,"offset":42,"key":"e1","timestampMs":1700000000000,"#,
                    r#""headers":[{{"key":"content-type","value":"application/fhir+json"}}]}}"#
                ),
                fhir::to_json(&e),
                vc_golden(),
                PATIENT
            )
        );
        assert_eq!(json(&Layout::Bundle), r#"{"kind":"bundle"}"#);
    }

    #[test]
    fn source_message_golden() {
        let mut m = SourceMessage::new(Coordinates::new("dlq", 0, 7), &b"{\xff}"[..]);
        m.key = Some(Bytes::from_static(b"e1"));
        m.headers = vec![
            Header::new("hievc.dlq.reason", "decode/not_json"),
            Header {
                key: "null".to_owned(),
                value: None,
            },
        ];
        assert_eq!(
            json(&m),
            concat!(
                r#"{"topic":"dlq","partition":0,"offset":7,"key":"e1","payload":"{"#,
                "\u{fffd}",
                r#"}","#,
                r#""timestampMs":null,"headers":[{"key":"hievc.dlq.reason","value":"decode/not_json"},"#,
                r#"{"key":"null","value":null}]}"#
            )
        );
        m.payload = None;
        assert!(json(&m).contains(r#""payload":null"#));
    }
}

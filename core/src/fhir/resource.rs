//! `Resource`: any resource, dispatched on `resourceType`; types the model does not know are kept raw.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::Serializer;
use serde_json::value::RawValue;

use super::context::{self, ReadErrorKind, Seg, WarningKind};
use super::resources::administration::{
    HealthcareService, Organization, Patient, Practitioner, PractitionerRole,
};
use super::resources::appointment::Appointment;
use super::resources::bundle::Bundle;
use super::resources::encounter::Encounter;
use super::resources::outcome::OperationOutcome;
use super::resources::scheduling::{Schedule, Slot};
use super::value::{self, FhirType};
use super::{Id, Meta};

/// A resource of a type the model does not type, kept as the exact JSON that was read.
#[derive(Clone)]
pub struct RawResource {
    /// The `resourceType`.
    pub resource_type: String,
    /// The whole resource as JSON text (including `resourceType`).
    pub json: Box<RawValue>,
}

impl PartialEq for RawResource {
    fn eq(&self, other: &Self) -> bool {
        self.resource_type == other.resource_type && self.json.get() == other.json.get()
    }
}

impl fmt::Debug for RawResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}(<raw {} bytes>)",
            self.resource_type,
            self.json.get().len()
        )
    }
}

impl RawResource {
    /// The `id`, when present.
    pub fn id(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct IdOnly {
            id: Option<String>,
        }
        serde_json::from_str::<IdOnly>(self.json.get())
            .ok()
            .and_then(|v| v.id)
    }
}

macro_rules! resource_enum {
    ($( $variant:ident ),* $(,)?) => {
        /// Any FHIR resource: the VC-relevant ones typed, the others raw.
        #[derive(Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Resource {
            $(
                #[doc = concat!("A ", stringify!($variant), ".")]
                $variant(Box<$variant>),
            )*
            /// Any other resource type, kept as JSON.
            Other(RawResource),
        }

        impl Resource {
            /// The `resourceType`.
            pub fn resource_type(&self) -> &str {
                match self {
                    $( Self::$variant(_) => stringify!($variant), )*
                    Self::Other(r) => &r.resource_type,
                }
            }
            /// The logical id.
            pub fn id(&self) -> Option<String> {
                match self {
                    $( Self::$variant(r) => r.id.as_ref().map(|i| i.as_str().to_owned()), )*
                    Self::Other(r) => r.id(),
                }
            }
            /// Sets the logical id (not for raw resources).
            pub fn set_id(&mut self, id: Option<Id>) {
                match self {
                    $( Self::$variant(r) => r.id = id, )*
                    Self::Other(_) => {}
                }
            }
            /// The `meta` (not for raw resources).
            pub fn meta(&self) -> Option<&Meta> {
                match self {
                    $( Self::$variant(r) => r.meta.as_ref(), )*
                    Self::Other(_) => None,
                }
            }
            /// The resource as a [`Node`](super::node::Node): a structure when typed, its
            /// JSON text when raw.
            pub fn node(&self) -> super::node::Node<'_> {
                match self {
                    $( Self::$variant(r) => super::node::Node::Object(&**r), )*
                    Self::Other(r) => super::node::Node::Raw(&r.json),
                }
            }
            /// Reads a typed resource from the members read before `resourceType` (`before`,
            /// kept as raw JSON) and those `map` has left; `None` for a type the model does
            /// not know.
            fn read_typed<'de, A: MapAccess<'de>>(
                rt: &str,
                before: &[(String, Box<RawValue>)],
                map: &mut A,
            ) -> Result<Option<Self>, A::Error> {
                Ok(Some(match rt {
                    $( stringify!($variant) => {
                        let mut out = Box::<$variant>::default();
                        let (mut has_type, mut any) = (true, true);
                        if !before.is_empty() {
                            $variant::read_members(&mut BufferedMembers::new(before), &mut has_type, &mut any, &mut out)
                                .map_err(|e| de::Error::custom(strip_position(&e.to_string())))?;
                        }
                        $variant::read_members(map, &mut has_type, &mut any, &mut out)?;
                        $variant::read_end::<A::Error>(has_type, any, &mut out)?;
                        Self::$variant(out)
                    } )*
                    _ => return Ok(None),
                }))
            }
            fn write_inner<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(r) => r.write(s), )*
                    Self::Other(r) => serde::Serialize::serialize(&r.json, s),
                }
            }
        }

        impl fmt::Debug for Resource {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Self::$variant(r) => fmt::Debug::fmt(r, f), )*
                    Self::Other(r) => fmt::Debug::fmt(r, f),
                }
            }
        }

        $(
            impl From<$variant> for Resource {
                fn from(r: $variant) -> Self {
                    Self::$variant(Box::new(r))
                }
            }

            impl TryFrom<Resource> for $variant {
                type Error = Resource;
                fn try_from(r: Resource) -> Result<Self, Resource> {
                    match r {
                        Resource::$variant(v) => Ok(*v),
                        other => Err(other),
                    }
                }
            }

            impl From<Box<$variant>> for Resource {
                fn from(r: Box<$variant>) -> Self {
                    Self::$variant(r)
                }
            }

            /// Keeps the box the resource holds (no copy of the content).
            impl TryFrom<Resource> for Box<$variant> {
                type Error = Resource;
                fn try_from(r: Resource) -> Result<Self, Resource> {
                    match r {
                        Resource::$variant(v) => Ok(v),
                        other => Err(other),
                    }
                }
            }

            impl<'a> TryFrom<&'a Resource> for &'a $variant {
                type Error = ();
                fn try_from(r: &'a Resource) -> Result<Self, ()> {
                    match r {
                        Resource::$variant(v) => Ok(v),
                        _ => Err(()),
                    }
                }
            }
        )*
    };
}

resource_enum!(
    Appointment,
    Encounter,
    Schedule,
    Slot,
    Patient,
    Practitioner,
    PractitionerRole,
    Organization,
    HealthcareService,
    Bundle,
    OperationOutcome,
);

/// Checks the `resourceType` value of a typed read.
pub(crate) fn check_resource_type<'de, A: MapAccess<'de>>(
    map: &mut A,
    expected: &str,
) -> Result<(), A::Error> {
    let rt: String = map.next_value()?;
    if rt == expected {
        Ok(())
    } else {
        context::note_error(ReadErrorKind::WrongResourceType, Some("resourceType"));
        Err(de::Error::custom(format!(
            "resourceType is '{rt}', expected '{expected}'"
        )))
    }
}

/// A typed read found no `resourceType`.
pub(crate) fn missing_resource_type<E: de::Error>(expected: &str) -> Result<(), E> {
    context::strict_or_warn(
        WarningKind::MissingResourceType,
        ReadErrorKind::MissingResourceType,
        None,
        format!("missing resourceType (expected '{expected}')"),
    )
    .map_err(E::custom)
}

fn json_key(k: &str) -> String {
    serde_json::to_string(k).unwrap_or_else(|_| format!("\"{k}\""))
}

struct ResourceVisitor;

impl<'de> Visitor<'de> for ResourceVisitor {
    type Value = Resource;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR resource (a JSON object with resourceType)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Resource, A::Error> {
        value::check_depth::<A::Error>()?;
        let first = value::next_key(&mut map)?;
        match first {
            Some(k) if k.0 == "resourceType" => {
                let rt: String = map.next_value()?;
                let rooted = context::set_root_if_empty(&rt);
                let r = read_after_type(rt, Vec::new(), map);
                if rooted && r.is_ok() {
                    context::pop();
                }
                r
            }
            // `resourceType` is not first: keep the members up to it as raw JSON, then read
            // them and the rest as the type it names.
            Some(k) => {
                let mut before: Vec<(String, Box<RawValue>)> = Vec::new();
                let mut pending = Some(k);
                loop {
                    let key = match pending.take() {
                        Some(k) => k,
                        None => match value::next_key(&mut map)? {
                            Some(k) => k,
                            None => {
                                context::note_error(ReadErrorKind::MissingResourceType, None);
                                return Err(de::Error::custom(
                                    "missing resourceType: cannot tell which resource this is",
                                ));
                            }
                        },
                    };
                    if key.0 == "resourceType" {
                        break;
                    }
                    let v = raw_value(&mut map, &key.0)?;
                    before.push((key.0.into_owned(), v));
                }
                let rt: String = map.next_value()?;
                let rooted = context::set_root_if_empty(&rt);
                let r = read_after_type(rt, before, map);
                if rooted && r.is_ok() {
                    context::pop();
                }
                r
            }
            None => {
                context::note_error(ReadErrorKind::MissingResourceType, None);
                Err(de::Error::custom(
                    "missing resourceType: an empty object is not a resource",
                ))
            }
        }
    }
}

/// Positions from a re-parse of buffered members point into that buffer, not the input.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// The members read before `resourceType`, as a map the typed readers can take (their
/// values are parsed from the kept JSON text).
struct BufferedMembers<'a> {
    members: std::slice::Iter<'a, (String, Box<RawValue>)>,
    value: Option<&'a RawValue>,
}

impl<'a> BufferedMembers<'a> {
    fn new(members: &'a [(String, Box<RawValue>)]) -> Self {
        Self {
            members: members.iter(),
            value: None,
        }
    }
}

impl<'a> MapAccess<'a> for BufferedMembers<'a> {
    type Error = serde_json::Error;
    fn next_key_seed<K: de::DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }
    fn next_value_seed<V: de::DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom(
                "a map value was asked for before its key",
            )),
        }
    }
}

/// The value of member `key`, kept as its JSON text (located as `key` if it is broken).
fn raw_value<'de, A: MapAccess<'de>>(map: &mut A, key: &str) -> Result<Box<RawValue>, A::Error> {
    context::push(Seg::Name(key.to_owned()));
    let v = map.next_value::<Box<RawValue>>();
    context::pop();
    v
}

fn read_after_type<'de, A: MapAccess<'de>>(
    rt: String,
    before: Vec<(String, Box<RawValue>)>,
    mut map: A,
) -> Result<Resource, A::Error> {
    if let Some(r) = Resource::read_typed(&rt, &before, &mut map)? {
        return Ok(r);
    }
    fn member(json: &mut String, key: &str, value: &RawValue) {
        json.push(',');
        json.push_str(&json_key(key));
        json.push(':');
        json.push_str(value.get());
    }
    let mut json = format!("{{\"resourceType\":{}", json_key(&rt));
    for (k, v) in &before {
        member(&mut json, k, v);
    }
    while let Some(k) = value::next_key(&mut map)? {
        let v = raw_value(&mut map, &k.0)?;
        member(&mut json, &k.0, &v);
    }
    json.push('}');
    let json = RawValue::from_string(json).map_err(de::Error::custom)?;
    Ok(Resource::Other(RawResource {
        resource_type: rt,
        json,
    }))
}

impl super::node::AsNode for Resource {
    fn as_node(&self) -> super::node::Node<'_> {
        self.node()
    }
}

impl FhirType for Resource {
    const PRIMITIVE: bool = false;
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ResourceVisitor)
    }
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.write_inner(s)
    }
}

impl serde::Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.write_inner(s)
    }
}

impl<'de> serde::Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <Self as FhirType>::read(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{read_str, to_json, ReadOptions};

    #[test]
    fn raw_resources_keep_their_text_and_id() {
        let json = r#"{"resourceType":"Observation","id":"o1","valueQuantity":{"value":1.50}}"#;
        let r = read_str::<Resource>(json, ReadOptions::strict())
            .unwrap()
            .value;
        assert_eq!(r.resource_type(), "Observation");
        assert_eq!(r.id().as_deref(), Some("o1"));
        assert_eq!(to_json(&r), json);
    }

    #[test]
    fn resource_type_anywhere_in_the_object() {
        let json = r#"{"id":"x","status":"free","resourceType":"Slot","schedule":{"reference":"Schedule/s"},"start":"2023-07-10T21:00:00Z","end":"2023-07-10T22:00:00Z"}"#;
        let r = read_str::<Resource>(json, ReadOptions::strict())
            .unwrap()
            .value;
        assert!(matches!(r, Resource::Slot(_)));
        let raw = read_str::<Resource>(
            r#"{"id":"y","resourceType":"Basic"}"#,
            ReadOptions::strict(),
        )
        .unwrap()
        .value;
        assert_eq!(raw.id().as_deref(), Some("y"));
    }

    #[test]
    fn conversions() {
        let r = Resource::from(Slot::default());
        let back: &Slot = (&r).try_into().unwrap();
        assert_eq!(back, &Slot::default());
        assert!(Encounter::try_from(r).is_err());
    }
}

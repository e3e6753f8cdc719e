//! `Element` and the `_name` companions that carry ids and extensions of primitive values.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;

use super::context::{self, ReadErrorKind, Seg, WarningKind};
use super::value::FhirType;

fhir_struct! {
    /// The base of every FHIR element: an id and extensions (what a `_name` companion holds).
    datatype Element "Element" {}
}

/// The `_name` companion of one primitive element.
#[derive(Debug, Clone, PartialEq)]
pub enum PrimitiveExt {
    /// For a single primitive (`"_status": {...}`).
    One(Element),
    /// For a primitive array, aligned by index with the values (`"_given": [null, {...}]`).
    Many(Vec<Option<Element>>),
}

/// The `_name` companions of an element's primitive children, by JSON name.
#[derive(Clone, Default, PartialEq)]
pub struct PrimitiveExtensions(pub Vec<(String, PrimitiveExt)>);

impl fmt::Debug for PrimitiveExtensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

struct ManyVisitor;

impl<'de> Visitor<'de> for ManyVisitor {
    type Value = Vec<Option<Element>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of objects or nulls")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            context::push(Seg::Index(out.len()));
            let r = seq.next_element_seed(NullableElement);
            context::pop();
            match r? {
                Some(v) => out.push(v),
                None => return Ok(out),
            }
        }
    }
}

struct NullableElement;

impl<'de> de::DeserializeSeed<'de> for NullableElement {
    type Value = Option<Element>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<Element>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Element::read(d).map(Some)
            }
        }
        d.deserialize_option(V)
    }
}

struct ManySeed;

impl<'de> de::DeserializeSeed<'de> for ManySeed {
    type Value = Vec<Option<Element>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(ManyVisitor)
    }
}

struct OneSeed;

impl<'de> de::DeserializeSeed<'de> for OneSeed {
    type Value = Element;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        Element::read(d)
    }
}

struct ManySer<'a>(&'a [Option<Element>]);

impl serde::Serialize for ManySer<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|e| e.as_ref().map(super::value::Ser)))
    }
}

impl PrimitiveExtensions {
    /// No companion at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Whether the element `json` has a companion.
    pub fn has(&self, json: &str) -> bool {
        !self.0.is_empty() && self.0.iter().any(|(k, _)| k == json)
    }
    /// The companion of `json`.
    pub fn get(&self, json: &str) -> Option<&PrimitiveExt> {
        self.0.iter().find(|(k, _)| k == json).map(|(_, v)| v)
    }
    /// Sets the companion of `json`.
    pub fn set(&mut self, json: impl Into<String>, ext: PrimitiveExt) {
        let json = json.into();
        match self.0.iter_mut().find(|(k, _)| *k == json) {
            Some(slot) => slot.1 = ext,
            None => self.0.push((json, ext)),
        }
    }

    pub(crate) fn read<'de, A: MapAccess<'de>>(
        &mut self,
        json: &str,
        array: bool,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let key = format!("_{json}");
        context::push(Seg::Name(key));
        let r = if array {
            map.next_value_seed(ManySeed).map(PrimitiveExt::Many)
        } else {
            map.next_value_seed(OneSeed).map(PrimitiveExt::One)
        };
        if r.is_err() {
            context::note_error(ReadErrorKind::InvalidType, None);
        }
        context::pop();
        self.set(json, r?);
        Ok(())
    }

    pub(crate) fn check_aligned<E: de::Error>(
        &self,
        json: &'static str,
        values: usize,
    ) -> Result<(), E> {
        if let Some(PrimitiveExt::Many(v)) = self.get(json) {
            if v.len() != values && values != 0 {
                context::strict_or_warn(
                    WarningKind::Misaligned,
                    ReadErrorKind::InvalidValue,
                    Some(json),
                    format!(
                        "'_{json}' has {} entries but '{json}' has {values}; they must align",
                        v.len()
                    ),
                )
                .map_err(E::custom)?;
            }
        }
        Ok(())
    }

    pub(crate) fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for (k, v) in &self.0 {
            let key = format!("_{k}");
            match v {
                PrimitiveExt::One(e) => map.serialize_entry(&key, &super::value::Ser(e))?,
                PrimitiveExt::Many(v) => map.serialize_entry(&key, &ManySer(v))?,
            }
        }
        Ok(())
    }
}

//! The reading/writing machinery shared by every model type: how one FHIR value, an optional
//! element, an array and a primitive's `_name` companion are read and written.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;

use super::context::{self, ReadErrorKind, Seg, WarningKind};

/// Nesting beyond this is refused: no VC resource comes close, and it bounds stack use on hostile input.
pub(crate) const MAX_DEPTH: usize = 96;

/// A type of the FHIR model: how it is read from and written to FHIR JSON.
pub trait FhirType: Sized + fmt::Debug + super::schema::SchemaType {
    /// A FHIR primitive (may carry a `_name` companion in JSON).
    const PRIMITIVE: bool;
    /// Reads one value.
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
    /// Reads one value into `place` (which holds a default value). Structures override it to
    /// fill their fields where they are instead of returning themselves through every layer
    /// of the reader: the moves of large structs were a fifth of the reading time.
    fn read_in_place<'de, D: Deserializer<'de>>(d: D, place: &mut Self) -> Result<(), D::Error> {
        *place = Self::read(d)?;
        Ok(())
    }
    /// Reads one value into an optional slot (in place for structures).
    fn read_into_option<'de, D: Deserializer<'de>>(
        d: D,
        slot: &mut Option<Self>,
    ) -> Result<(), D::Error> {
        *slot = Some(Self::read(d)?);
        Ok(())
    }
    /// Reads one value at the end of `out` (in place for structures).
    fn read_push<'de, D: Deserializer<'de>>(d: D, out: &mut Vec<Self>) -> Result<(), D::Error> {
        out.push(Self::read(d)?);
        Ok(())
    }
    /// Writes one value.
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

/// A field's container: `Option<T>` for 0..1 and `Vec<T>` for 0..*.
pub trait Field: Default {
    /// The container holds a primitive.
    const PRIMITIVE: bool;
    /// The container is an array.
    const ARRAY: bool;
    /// The [schema name](super::schema::TypeDef::name) of the type it holds.
    const TYPE_NAME: &'static str;
    /// Reads the value of the current key from the map into `self`, replacing what it held (a
    /// repeated key keeps the last value).
    fn read_into<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error>;
    /// Nothing to write.
    fn is_absent(&self) -> bool;
    /// Number of values (for `_name` alignment).
    fn count(&self) -> usize;
    /// Writes `key: value` when present.
    fn write_entry<M: SerializeMap>(&self, key: &str, map: &mut M) -> Result<(), M::Error>;
    /// What `Debug` shows (the value itself, not `Some(..)`).
    fn debug_value(&self) -> &dyn fmt::Debug;
}

pub(crate) struct Ser<'a, T>(pub(crate) &'a T);

impl<T: FhirType> serde::Serialize for Ser<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.write(s)
    }
}

struct SerSlice<'a, T>(&'a [T]);

impl<T: FhirType> serde::Serialize for SerSlice<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Ser))
    }
}

/// What an optional value reads as: `null` is refused when strict and dropped with a warning
/// when lenient.
struct OptVisitor<T>(PhantomData<T>);

impl<'de, T: FhirType> Visitor<'de> for OptVisitor<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR value")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        context::strict_or_warn(
            WarningKind::Null,
            ReadErrorKind::InvalidType,
            None,
            "null is not allowed in FHIR JSON; omit the element instead",
        )
        .map_err(E::custom)?;
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        T::read(d).map(Some)
    }
}

/// Reads an optional value into its slot (see [`OptVisitor`] for `null`).
struct OptInPlace<'a, T>(&'a mut Option<T>);

impl<'de, T: FhirType> DeserializeSeed<'de> for OptInPlace<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: FhirType> Visitor<'de> for OptInPlace<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR value")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        *self.0 = OptVisitor::<T>(PhantomData).visit_none()?;
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        T::read_into_option(d, self.0)
    }
}

impl<T: FhirType> Field for Option<T> {
    const PRIMITIVE: bool = T::PRIMITIVE;
    const ARRAY: bool = false;
    const TYPE_NAME: &'static str = T::SCHEMA_NAME;
    fn read_into<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        map.next_value_seed(OptInPlace(self))
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
    fn count(&self) -> usize {
        usize::from(self.is_some())
    }
    fn write_entry<M: SerializeMap>(&self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match self {
            Some(v) => map.serialize_entry(key, &Ser(v)),
            None => Ok(()),
        }
    }
    fn debug_value(&self) -> &dyn fmt::Debug {
        match self {
            Some(v) => v,
            None => self,
        }
    }
}

impl<T: FhirType> FhirType for Box<T> {
    const PRIMITIVE: bool = T::PRIMITIVE;
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::read(d).map(Box::new)
    }
    fn read_in_place<'de, D: Deserializer<'de>>(d: D, place: &mut Self) -> Result<(), D::Error> {
        T::read_in_place(d, place)
    }
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).write(s)
    }
}

/// Reads what stands where an array should: a lone value is wrapped (lenient) or refused
/// (strict); `null` likewise.
struct ArrayVisitor<T>(PhantomData<T>);

impl<T> ArrayVisitor<T> {
    fn single<E: de::Error>(what: &str) -> Result<(), E> {
        context::strict_or_warn(
            WarningKind::SingleForArray,
            ReadErrorKind::InvalidType,
            None,
            format!("expected an array, found {what}; R4 requires an array here"),
        )
        .map_err(E::custom)
    }
    fn wrap<'de, E: de::Error, D: Deserializer<'de, Error = E>>(
        d: D,
        what: &str,
    ) -> Result<Vec<T>, E>
    where
        T: FhirType,
    {
        Self::single::<E>(what)?;
        T::read(d).map(|v| vec![v])
    }
}

impl<'de, T: FhirType> Visitor<'de> for ArrayVisitor<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
        Self::wrap(de::value::MapAccessDeserializer::new(map), "an object")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<T>, E> {
        Self::wrap(de::value::StrDeserializer::<E>::new(v), "a string")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<T>, E> {
        Self::wrap(de::value::BoolDeserializer::<E>::new(v), "a boolean")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<T>, E> {
        Self::wrap(de::value::I64Deserializer::<E>::new(v), "a number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<T>, E> {
        Self::wrap(de::value::U64Deserializer::<E>::new(v), "a number")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<T>, E> {
        Self::wrap(de::value::F64Deserializer::<E>::new(v), "a number")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        context::strict_or_warn(
            WarningKind::Null,
            ReadErrorKind::InvalidType,
            None,
            "null is not allowed in FHIR JSON; omit the element instead",
        )
        .map_err(E::custom)?;
        Ok(Vec::new())
    }
}

/// Reads an array into a `Vec`, each element where it will stay; anything but an array takes
/// [`ArrayVisitor`] (a lone value, `null`).
struct ArrayInPlace<'a, T>(&'a mut Vec<T>);

impl<'de, T: FhirType> DeserializeSeed<'de> for ArrayInPlace<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// One array element, read in place at the end of the `Vec` (a `null` one adds nothing).
struct ElemInPlace<'a, T>(&'a mut Vec<T>);

impl<'de, T: FhirType> DeserializeSeed<'de> for ElemInPlace<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: FhirType> Visitor<'de> for ElemInPlace<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR value")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        // A null element (accepted only leniently): dropped, reported.
        OptVisitor::<T>(PhantomData).visit_none().map(drop)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        T::read_push(d, self.0)
    }
}

/// A lone value where an array belongs: [`ArrayVisitor`] decides (wrap or refuse).
macro_rules! lone_value {
    ($($visit:ident($ty:ty)),*) => {
        $(
            fn $visit<E: de::Error>(self, v: $ty) -> Result<(), E> {
                *self.0 = ArrayVisitor::<T>(PhantomData).$visit(v)?;
                Ok(())
            }
        )*
    };
}

impl<'de, T: FhirType> Visitor<'de> for ArrayInPlace<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let out = self.0;
        out.reserve(seq.size_hint().unwrap_or(0).min(64));
        let mut i = 0usize;
        loop {
            context::push(Seg::Index(i));
            let r = seq.next_element_seed(ElemInPlace(out));
            if r.is_err() {
                context::note_error(ReadErrorKind::InvalidType, None);
            }
            context::pop();
            if r?.is_none() {
                break;
            }
            i += 1;
        }
        if i == 0 {
            context::strict_or_warn(
                WarningKind::Empty,
                ReadErrorKind::InvalidValue,
                None,
                "an empty array is not allowed in FHIR JSON; omit the element instead",
            )
            .map_err(de::Error::custom)?;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        *self.0 = ArrayVisitor::<T>(PhantomData).visit_map(map)?;
        Ok(())
    }
    lone_value!(
        visit_str(&str),
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64)
    );
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.0 = ArrayVisitor::<T>(PhantomData).visit_unit()?;
        Ok(())
    }
}

impl<T: FhirType> Field for Vec<T> {
    const PRIMITIVE: bool = T::PRIMITIVE;
    const ARRAY: bool = true;
    const TYPE_NAME: &'static str = T::SCHEMA_NAME;
    fn read_into<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        self.clear();
        map.next_value_seed(ArrayInPlace(self))
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
    fn count(&self) -> usize {
        self.len()
    }
    fn write_entry<M: SerializeMap>(&self, key: &str, map: &mut M) -> Result<(), M::Error> {
        if self.is_empty() {
            Ok(())
        } else {
            map.serialize_entry(key, &SerSlice(self))
        }
    }
    fn debug_value(&self) -> &dyn fmt::Debug {
        self
    }
}

/// Reads the value of `json` into a field, with the location pushed for errors and warnings.
pub fn read_field<'de, F: Field, A: MapAccess<'de>>(
    map: &mut A,
    json: &'static str,
    field: &mut F,
) -> Result<(), A::Error> {
    context::push(Seg::Field(json));
    let r = field.read_into(map);
    if r.is_err() {
        context::note_error(ReadErrorKind::InvalidType, None);
    }
    context::pop();
    r
}

/// An object key, borrowed from the input when it holds no escapes.
#[derive(Debug)]
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads the next key, noting the location when the JSON itself is broken.
pub fn next_key<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<Key<'de>>, A::Error> {
    let r = map.next_key::<Key<'de>>();
    if r.is_err() {
        context::note_error(ReadErrorKind::Syntax, None);
    }
    r
}

/// Elements the model does not know, kept as the exact JSON text that was read.
#[derive(Clone, Default)]
pub struct Extras(pub Vec<(String, Box<RawValue>)>);

impl PartialEq for Extras {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.0 == b.0 && a.1.get() == b.1.get())
    }
}

impl fmt::Debug for Extras {
    // Values may carry patient data: only the names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Extras {
    /// No unknown element.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The raw JSON of the unknown element `name`.
    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| &**v)
    }
    /// Keeps `value` under `name`, replacing an earlier one.
    pub fn insert(&mut self, name: impl Into<String>, value: Box<RawValue>) {
        let name = name.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }
    /// Removes and returns the unknown element `name`.
    pub fn remove(&mut self, name: &str) -> Option<Box<RawValue>> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1)
    }
    /// Reads an unknown element: kept and reported, or refused when unknown elements are denied.
    pub fn read_unknown<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if context::depth() > MAX_DEPTH {
            context::note_error(ReadErrorKind::TooDeep, Some(key));
            return Err(de::Error::custom("JSON nested too deeply"));
        }
        if context::deny_unknown() {
            context::note_error(ReadErrorKind::UnknownElement, Some(key));
            return Err(de::Error::custom(format!("unknown element '{key}'")));
        }
        context::warn(
            WarningKind::UnknownElement,
            Some(key),
            format!("unknown element '{key}' kept as is"),
        );
        context::push(Seg::Name(key.to_owned()));
        let r = map.next_value::<Box<RawValue>>();
        if r.is_err() {
            context::note_error(ReadErrorKind::Syntax, None);
        }
        context::pop();
        self.0.push((key.to_owned(), r?));
        Ok(())
    }
    /// Writes every kept element.
    pub fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        Ok(())
    }
}

/// Checks a required element at the end of an object.
pub fn require<E: de::Error>(present: bool, json: &'static str) -> Result<(), E> {
    if present {
        return Ok(());
    }
    context::strict_or_warn(
        WarningKind::MissingRequired,
        ReadErrorKind::MissingRequired,
        Some(json),
        format!("missing required element '{json}'"),
    )
    .map_err(E::custom)
}

/// Checks that an object had at least one element.
pub fn require_nonempty_object<E: de::Error>(any: bool) -> Result<(), E> {
    if any {
        return Ok(());
    }
    context::strict_or_warn(
        WarningKind::Empty,
        ReadErrorKind::InvalidValue,
        None,
        "an empty object is not allowed in FHIR JSON; omit the element instead",
    )
    .map_err(E::custom)
}

/// Guards against hostile nesting before descending into an object.
pub fn check_depth<E: de::Error>() -> Result<(), E> {
    if context::depth() > MAX_DEPTH {
        context::note_error(ReadErrorKind::TooDeep, None);
        return Err(E::custom(format!(
            "JSON nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(())
}

/// A choice element (`value[x]`, `deceased[x]`, ...): one variant per type suffix.
pub trait Choice: Sized + fmt::Debug + super::schema::SchemaType {
    /// Whether `suffix` (e.g. `String`, `CodeableConcept`) names a type this choice can hold.
    fn accepts(suffix: &str) -> bool;
    /// Whether `suffix` names a primitive type (which may have a `_name` companion).
    fn is_primitive(suffix: &str) -> bool;
    /// Reads the value of the type named by `suffix`.
    fn read_suffix<'de, D: Deserializer<'de>>(suffix: &str, d: D) -> Result<Self, D::Error>;
    /// Writes `prefix + suffix: value`.
    fn write_choice<M: SerializeMap>(&self, prefix: &str, map: &mut M) -> Result<(), M::Error>;
}

struct ChoiceSeed<'a, C>(&'a str, PhantomData<C>);

impl<'de, C: Choice> DeserializeSeed<'de> for ChoiceSeed<'_, C> {
    type Value = C;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<C, D::Error> {
        C::read_suffix(self.0, d)
    }
}

/// Reads a choice element's value into its slot; a second `prefix[x]` is an error.
pub fn read_choice<'de, C: Choice, A: MapAccess<'de>>(
    slot: &mut Option<C>,
    key: &str,
    prefix: &str,
    suffix: &str,
    map: &mut A,
) -> Result<(), A::Error> {
    context::push(Seg::Name(key.to_owned()));
    let r = if slot.is_some() {
        context::note_error(ReadErrorKind::InvalidValue, None);
        Err(de::Error::custom(format!(
            "more than one {prefix}[x] element"
        )))
    } else {
        map.next_value_seed(ChoiceSeed::<C>(suffix, PhantomData))
    };
    if r.is_err() {
        context::note_error(ReadErrorKind::InvalidType, None);
    }
    context::pop();
    *slot = Some(r?);
    Ok(())
}

/// Adds a field to a `Debug` output unless it is absent; redacted fields show only that they exist.
pub fn debug_field<F: Field>(ds: &mut fmt::DebugStruct<'_, '_>, name: &str, v: &F, redact: bool) {
    if v.is_absent() {
        return;
    }
    if redact {
        ds.field(name, &"<redacted>");
    } else {
        ds.field(name, v.debug_value());
    }
}

/// Whether `s` looks like a FHIR type suffix (`String`, `CodeableConcept`, ...).
pub fn is_type_suffix(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// Whether the type suffix names a FHIR primitive type.
pub fn is_primitive_suffix(s: &str) -> bool {
    matches!(
        s,
        "Base64Binary"
            | "Boolean"
            | "Canonical"
            | "Code"
            | "Date"
            | "DateTime"
            | "Decimal"
            | "Id"
            | "Instant"
            | "Integer"
            | "Markdown"
            | "Oid"
            | "PositiveInt"
            | "String"
            | "Time"
            | "UnsignedInt"
            | "Uri"
            | "Url"
            | "Uuid"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_suffixes() {
        assert!(is_type_suffix("CodeableConcept") && is_type_suffix("String"));
        assert!(!is_type_suffix("string") && !is_type_suffix("") && !is_type_suffix("Code_x"));
        assert!(is_primitive_suffix("DateTime") && !is_primitive_suffix("Reference"));
    }

    #[test]
    fn extras_insert_get_remove() {
        let mut e = Extras::default();
        e.insert("a", RawValue::from_string("1.50".into()).unwrap());
        e.insert("a", RawValue::from_string("2".into()).unwrap());
        assert_eq!(e.get("a").unwrap().get(), "2");
        assert_eq!(format!("{e:?}"), "[\"a\"]");
        assert!(e.remove("a").is_some() && e.is_empty());
    }
}

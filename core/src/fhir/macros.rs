//! `fhir_struct!`: one declaration per FHIR type gives the struct, its reader (strict/lenient,
//! located errors, unknown elements kept, `_name` companions), its writer (always valid R4) and a
//! `Debug` that leaves out absent elements and hides the ones marked `redact` (patient data).
//!
//! Field syntax: `rust_name: Container<Type> = "jsonName" [flags];` with flags `required`
//! (cardinality 1..) and `redact` (never printed by `Debug`). Kinds: `datatype` (adds `id`,
//! `extension`), `backbone` (adds `modifierExtension`), `resource` (adds the DomainResource
//! elements) and `plain_resource` (adds the Resource elements only, e.g. Bundle).

macro_rules! fhir_struct {
    // ---- kinds: prepend the inherited elements ----
    ($(#[doc = $doc:literal])* datatype $name:ident $fhir:literal { $($body:tt)* } $($rest:tt)*) => {
        fhir_struct!(@emit false, Datatype, $(#[doc = $doc])* $name $fhir {
            /// Element id (for internal references).
            id: Option<String> = "id";
            /// Additional content defined by implementations.
            extension: Vec<$crate::fhir::Extension> = "extension";
            $($body)*
        } $($rest)*);
    };
    ($(#[doc = $doc:literal])* backbone $name:ident $fhir:literal { $($body:tt)* } $($rest:tt)*) => {
        fhir_struct!(@emit false, Backbone, $(#[doc = $doc])* $name $fhir {
            /// Element id (for internal references).
            id: Option<String> = "id";
            /// Additional content defined by implementations.
            extension: Vec<$crate::fhir::Extension> = "extension";
            /// Extensions that cannot be ignored.
            modifier_extension: Vec<$crate::fhir::Extension> = "modifierExtension";
            $($body)*
        } $($rest)*);
    };
    ($(#[doc = $doc:literal])* resource $name:ident $fhir:literal { $($body:tt)* } $($rest:tt)*) => {
        fhir_struct!(@emit true, Resource, $(#[doc = $doc])* $name $fhir {
            /// Logical id of the resource.
            id: Option<$crate::fhir::Id> = "id";
            /// Metadata about the resource.
            meta: Option<$crate::fhir::Meta> = "meta";
            /// A set of rules under which this content was created.
            implicit_rules: Option<$crate::fhir::Uri> = "implicitRules";
            /// Language of the resource content.
            language: Option<$crate::fhir::Code> = "language";
            /// Text summary of the resource, for human interpretation.
            text: Option<$crate::fhir::Narrative> = "text" [redact];
            /// Contained, inline resources.
            contained: Vec<$crate::fhir::Resource> = "contained";
            /// Additional content defined by implementations.
            extension: Vec<$crate::fhir::Extension> = "extension";
            /// Extensions that cannot be ignored.
            modifier_extension: Vec<$crate::fhir::Extension> = "modifierExtension";
            $($body)*
        } $($rest)*);
    };
    ($(#[doc = $doc:literal])* plain_resource $name:ident $fhir:literal { $($body:tt)* } $($rest:tt)*) => {
        fhir_struct!(@emit true, Resource, $(#[doc = $doc])* $name $fhir {
            /// Logical id of the resource.
            id: Option<$crate::fhir::Id> = "id";
            /// Metadata about the resource.
            meta: Option<$crate::fhir::Meta> = "meta";
            /// A set of rules under which this content was created.
            implicit_rules: Option<$crate::fhir::Uri> = "implicitRules";
            /// Language of the resource content.
            language: Option<$crate::fhir::Code> = "language";
            $($body)*
        } $($rest)*);
    };

    // ---- flags ----
    (@req required, $out:ident, $field:ident, $json:literal) => {
        $crate::fhir::value::require(
            !$crate::fhir::value::Field::is_absent(&$out.$field) || $out.primitive_ext.has($json),
            $json,
        )?;
    };
    (@req redact, $out:ident, $field:ident, $json:literal) => {};
    (@redact redact) => { true };
    (@redact required) => { false };
    (@required required) => { true };
    (@required redact) => { false };

    // ---- the struct ----
    (@emit $is_resource:expr, $kind:ident, $(#[doc = $doc:literal])* $name:ident $fhir:literal {
        $( $(#[doc = $fdoc:literal])* $field:ident : $ty:ty = $json:literal $([$($flag:ident),*])? ; )*
    } $(choice {
        $( $(#[doc = $cdoc:literal])* $cfield:ident : $cty:ty = $cprefix:literal $([$($cflag:ident),*])? ; )*
    })? $(finish $finish:path;)?) => {
        $(#[doc = $doc])*
        #[derive(Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: $ty, )*
            $($( $(#[doc = $cdoc])* pub $cfield: Option<$cty>, )*)?
            /// Extensions and ids on primitive elements (the `_name` companions in JSON).
            pub primitive_ext: $crate::fhir::PrimitiveExtensions,
            /// Elements this model does not know, kept as the JSON text that was read.
            pub extra: $crate::fhir::Extras,
        }

        impl $name {
            /// The FHIR type name.
            pub const FHIR_TYPE: &'static str = $fhir;

            #[doc(hidden)]
            pub fn read_body_into<'de, A: serde::de::MapAccess<'de>>(
                mut map: A,
                mut has_type: bool,
                out: &mut Self,
            ) -> Result<(), A::Error> {
                $crate::fhir::value::check_depth::<A::Error>()?;
                let mut any = has_type;
                Self::read_members(&mut map, &mut has_type, &mut any, out)?;
                Self::read_end(has_type, any, out)
            }

            /// Reads the members `map` has left into `out` (a resource's may come in two
            /// parts: those before `resourceType`, buffered, then the rest).
            #[doc(hidden)]
            pub fn read_members<'de, A: serde::de::MapAccess<'de>>(
                map: &mut A,
                has_type: &mut bool,
                any: &mut bool,
                out: &mut Self,
            ) -> Result<(), A::Error> {
                while let Some(key) = $crate::fhir::value::next_key(map)? {
                    *any = true;
                    let key: &str = &key.0;
                    if $is_resource && key == "resourceType" {
                        $crate::fhir::resource::check_resource_type::<A>(map, $fhir)?;
                        *has_type = true;
                        continue;
                    }
                    match key {
                        $( $json => $crate::fhir::value::read_field(map, $json, &mut out.$field)?, )*
                        _ => out.read_other(key, map)?,
                    }
                }
                Ok(())
            }

            /// The checks made once every member is read.
            #[doc(hidden)]
            pub fn read_end<E: serde::de::Error>(has_type: bool, any: bool, out: &mut Self) -> Result<(), E> {
                #[allow(unused_imports)]
                use $crate::fhir::value::Field as _;
                if $is_resource && !has_type {
                    $crate::fhir::resource::missing_resource_type::<E>($fhir)?;
                }
                $crate::fhir::value::require_nonempty_object::<E>(any)?;
                $( $( $( fhir_struct!(@req $flag, out, $field, $json); )* )? )*
                $($( $( $( fhir_struct!(@req $cflag, out, $cfield, $cprefix); )* )? )*)?
                $( $finish(out).map_err(<E as serde::de::Error>::custom)?; )?
                if !out.primitive_ext.is_empty() {
                    $(
                        if <$ty as $crate::fhir::value::Field>::ARRAY && <$ty as $crate::fhir::value::Field>::PRIMITIVE {
                            out.primitive_ext.check_aligned::<E>($json, $crate::fhir::value::Field::count(&out.$field))?;
                        }
                    )*
                }
                Ok(())
            }

            fn read_other<'de, A: serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
                if let Some(stripped) = key.strip_prefix('_') {
                    $(
                        if stripped == $json && <$ty as $crate::fhir::value::Field>::PRIMITIVE {
                            return self.primitive_ext.read(stripped, <$ty as $crate::fhir::value::Field>::ARRAY, map);
                        }
                    )*
                    $($(
                        if let Some(suffix) = stripped.strip_prefix($cprefix) {
                            if <$cty as $crate::fhir::value::Choice>::is_primitive(suffix) {
                                return self.primitive_ext.read(stripped, false, map);
                            }
                        }
                    )*)?
                }
                $($(
                    if let Some(suffix) = key.strip_prefix($cprefix) {
                        if <$cty as $crate::fhir::value::Choice>::accepts(suffix) {
                            return $crate::fhir::value::read_choice(&mut self.$cfield, key, $cprefix, suffix, map);
                        }
                    }
                )*)?
                self.extra.read_unknown(key, map)
            }
        }

        impl $crate::fhir::FhirRoot for $name {
            const ROOT: Option<&'static str> = Some($fhir);
        }

        impl $crate::fhir::node::Walk for $name {
            fn fhir_type(&self) -> &'static str {
                $fhir
            }
            fn child<'a>(&'a self, name: &str, f: &mut dyn FnMut($crate::fhir::node::Child<'a>)) {
                match name {
                    $( $json => $crate::fhir::node::NodeField::each(&self.$field, f), )*
                    $($(
                        $cprefix => if let Some(c) = &self.$cfield {
                            let (node, suffix) = $crate::fhir::node::ChoiceNode::choice_node(c);
                            f($crate::fhir::node::Child { node, index: None, suffix })
                        },
                    )*)?
                    _ => if let Some(raw) = self.extra.get(name) {
                        f($crate::fhir::node::Child { node: $crate::fhir::node::Node::Raw(raw), index: None, suffix: "" })
                    },
                }
            }
            fn children<'a>(&'a self, f: &mut dyn FnMut(&'a str, $crate::fhir::node::Child<'a>)) {
                $( $crate::fhir::node::NodeField::each(&self.$field, &mut |c| f($json, c)); )*
                $($(
                    if let Some(c) = &self.$cfield {
                        let (node, suffix) = $crate::fhir::node::ChoiceNode::choice_node(c);
                        f($cprefix, $crate::fhir::node::Child { node, index: None, suffix });
                    }
                )*)?
                for (k, v) in &self.extra.0 {
                    f(k, $crate::fhir::node::Child { node: $crate::fhir::node::Node::Raw(v), index: None, suffix: "" });
                }
            }
        }

        impl $crate::fhir::node::AsNode for $name {
            fn as_node(&self) -> $crate::fhir::node::Node<'_> {
                $crate::fhir::node::Node::Object(self)
            }
        }

        impl $crate::fhir::schema::SchemaType for $name {
            const SCHEMA_NAME: &'static str = stringify!($name);
            const DEF: $crate::fhir::schema::TypeDef = $crate::fhir::schema::TypeDef {
                name: stringify!($name),
                fhir_name: $fhir,
                kind: $crate::fhir::schema::Kind::$kind,
                json_type: Some($crate::fhir::schema::JsonType::Object),
                doc: $crate::fhir::schema::Doc(&[$($doc),*]),
                elements: &[
                    $(
                        $crate::fhir::schema::ElementDef {
                            json_name: $json,
                            type_name: <$ty as $crate::fhir::value::Field>::TYPE_NAME,
                            choices: &[],
                            open: false,
                            array: <$ty as $crate::fhir::value::Field>::ARRAY,
                            required: false $( $( || fhir_struct!(@required $flag) )* )?,
                            redact: false $( $( || fhir_struct!(@redact $flag) )* )?,
                            doc: $crate::fhir::schema::Doc(&[$($fdoc),*]),
                        },
                    )*
                    $($(
                        $crate::fhir::schema::ElementDef {
                            json_name: $cprefix,
                            type_name: <$cty as $crate::fhir::schema::SchemaType>::SCHEMA_NAME,
                            choices: <$cty as $crate::fhir::schema::SchemaType>::DEF.choices,
                            open: <$cty as $crate::fhir::schema::SchemaType>::DEF.open,
                            array: false,
                            required: false $( $( || fhir_struct!(@required $cflag) )* )?,
                            redact: false $( $( || fhir_struct!(@redact $cflag) )* )?,
                            doc: $crate::fhir::schema::Doc(&[$($cdoc),*]),
                        },
                    )*)?
                ],
                codes: &[],
                choices: &[],
                open: false,
            };
        }

        impl $crate::fhir::value::FhirType for $name {
            const PRIMITIVE: bool = false;
            fn read<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let mut out = Self::default();
                Self::read_in_place(d, &mut out)?;
                Ok(out)
            }
            fn read_in_place<'de, D: serde::Deserializer<'de>>(d: D, place: &mut Self) -> Result<(), D::Error> {
                struct V<'a>(&'a mut $name);
                impl<'de> serde::de::Visitor<'de> for V<'_> {
                    type Value = ();
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (FHIR ", $fhir, ")"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
                        $name::read_body_into(map, false, self.0)
                    }
                }
                d.deserialize_map(V(place))
            }
            fn read_into_option<'de, D: serde::Deserializer<'de>>(d: D, slot: &mut Option<Self>) -> Result<(), D::Error> {
                Self::read_in_place(d, slot.insert(Self::default()))
            }
            fn read_push<'de, D: serde::Deserializer<'de>>(d: D, out: &mut Vec<Self>) -> Result<(), D::Error> {
                out.push(Self::default());
                let last = out.len() - 1;
                Self::read_in_place(d, &mut out[last])
            }
            fn write<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut m = s.serialize_map(None)?;
                if $is_resource {
                    m.serialize_entry("resourceType", $fhir)?;
                }
                $( $crate::fhir::value::Field::write_entry(&self.$field, $json, &mut m)?; )*
                $($(
                    if let Some(c) = &self.$cfield {
                        $crate::fhir::value::Choice::write_choice(c, $cprefix, &mut m)?;
                    }
                )*)?
                self.primitive_ext.write(&mut m)?;
                self.extra.write(&mut m)?;
                m.end()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::fhir::value::FhirType::write(self, s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <Self as $crate::fhir::value::FhirType>::read(d)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut ds = f.debug_struct($fhir);
                $(
                    $crate::fhir::value::debug_field(
                        &mut ds,
                        $json,
                        &self.$field,
                        false $( $( || fhir_struct!(@redact $flag) )* )?,
                    );
                )*
                $($(
                    if let Some(c) = &self.$cfield {
                        if false $( $( || fhir_struct!(@redact $cflag) )* )? {
                            ds.field($cprefix, &"<redacted>");
                        } else {
                            ds.field($cprefix, c);
                        }
                    }
                )*)?
                if !self.primitive_ext.is_empty() {
                    ds.field("_primitive_ext", &self.primitive_ext);
                }
                if !self.extra.is_empty() {
                    ds.field("_unknown", &self.extra);
                }
                ds.finish()
            }
        }
    };
}

/// `fhir_code!`: a typed code enum that keeps codes it does not know.
macro_rules! fhir_code {
    ($(#[doc = $doc:literal])* $name:ident { $( $(#[doc = $vdoc:literal])* $variant:ident = $code:literal ),* $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )*
            /// A code outside the R4 value set, kept as sent.
            Other(String),
        }

        impl $name {
            /// The code on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Other(s) => s,
                }
            }
            /// Parses a code, keeping an unknown one in `Other`.
            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
            /// Whether the code is one R4 defines.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_code(s)
            }
        }

        impl $crate::fhir::node::AsNode for $name {
            fn as_node(&self) -> $crate::fhir::node::Node<'_> {
                $crate::fhir::node::Node::Text(self.as_str())
            }
        }

        impl $crate::fhir::schema::SchemaType for $name {
            const SCHEMA_NAME: &'static str = stringify!($name);
            const DEF: $crate::fhir::schema::TypeDef = $crate::fhir::schema::TypeDef {
                name: stringify!($name),
                fhir_name: stringify!($name),
                kind: $crate::fhir::schema::Kind::Code,
                json_type: Some($crate::fhir::schema::JsonType::String),
                doc: $crate::fhir::schema::Doc(&[$($doc),*]),
                elements: &[],
                codes: &[
                    $(
                        $crate::fhir::schema::CodeDef {
                            code: $code,
                            variant: stringify!($variant),
                            doc: $crate::fhir::schema::Doc(&[$($vdoc),*]),
                        },
                    )*
                ],
                choices: &[],
                open: false,
            };
        }

        impl $crate::fhir::value::FhirType for $name {
            const PRIMITIVE: bool = true;
            fn read<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <$crate::fhir::Code as $crate::fhir::value::FhirType>::read(d)?;
                let v = Self::from_code(code.as_str());
                if !v.is_known() {
                    $crate::fhir::context::warn(
                        $crate::fhir::WarningKind::UnknownCode,
                        None,
                        format!(concat!("code '{}' is not in the R4 ", stringify!($name), " value set; kept"), code),
                    );
                }
                Ok(v)
            }
            fn write<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <Self as $crate::fhir::value::FhirType>::read(d)
            }
        }
    };
}

/// `fhir_choice!`: the enum of a choice element (`value[x]`). `open` choices also keep any other
/// type suffix as raw JSON (Extension.value[x] may hold any type).
macro_rules! fhir_choice {
    (@redact redact) => { true };
    (@arm_other open, $suffix:ident, $d:ident) => {
        return Ok(Self::Other {
            type_name: $suffix.to_owned(),
            json: <Box<serde_json::value::RawValue> as serde::Deserialize>::deserialize($d)?,
        })
    };
    (@arm_other closed, $suffix:ident, $d:ident) => {
        return Err(serde::de::Error::custom(format!("unsupported type suffix '{}'", $suffix)))
    };
    (@accept_other open, $suffix:ident) => { $crate::fhir::value::is_type_suffix($suffix) };
    (@accept_other closed, $suffix:ident) => { false };
    (@open open) => { true };
    (@open closed) => { false };
    ($(#[doc = $doc:literal])* $openness:ident $name:ident {
        $( $(#[doc = $vdoc:literal])* $variant:ident($ty:ty) = $suffix:literal $([$flag:ident])? ),* $(,)?
    }) => {
        $(#[doc = $doc])*
        // A value enum: boxing the larger datatypes would make every match and constructor
        // awkward for a few hundred bytes per extension.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant($ty), )*
            /// Any other type (open choices only), kept as the JSON text that was read.
            Other {
                /// The type suffix, e.g. `Timing`.
                type_name: String,
                /// The value as read.
                json: Box<serde_json::value::RawValue>,
            },
        }

        impl $name {
            /// The type suffix of the value (`String`, `CodeableConcept`, ...).
            pub fn type_suffix(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $suffix, )*
                    Self::Other { type_name, .. } => type_name,
                }
            }
        }

        impl $crate::fhir::node::ChoiceNode for $name {
            fn choice_node(&self) -> ($crate::fhir::node::Node<'_>, &str) {
                match self {
                    $( Self::$variant(v) => ($crate::fhir::node::AsNode::as_node(v), $suffix), )*
                    Self::Other { type_name, json } => ($crate::fhir::node::Node::Raw(json), type_name),
                }
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                match (self, other) {
                    $( (Self::$variant(a), Self::$variant(b)) => a == b, )*
                    (Self::Other { type_name: ta, json: ja }, Self::Other { type_name: tb, json: jb }) => {
                        ta == tb && ja.get() == jb.get()
                    }
                    _ => false,
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $(
                        Self::$variant(v) => {
                            if false $( || fhir_choice!(@redact $flag) )? {
                                f.debug_tuple($suffix).field(&"<redacted>").finish()
                            } else {
                                f.debug_tuple($suffix).field(v).finish()
                            }
                        }
                    )*
                    Self::Other { type_name, .. } => f.debug_tuple(type_name).field(&"<raw>").finish(),
                }
            }
        }

        impl $crate::fhir::schema::SchemaType for $name {
            const SCHEMA_NAME: &'static str = stringify!($name);
            const DEF: $crate::fhir::schema::TypeDef = $crate::fhir::schema::TypeDef {
                name: stringify!($name),
                fhir_name: stringify!($name),
                kind: $crate::fhir::schema::Kind::Choice,
                json_type: None,
                doc: $crate::fhir::schema::Doc(&[$($doc),*]),
                elements: &[],
                codes: &[],
                choices: &[
                    $(
                        $crate::fhir::schema::ChoiceDef {
                            suffix: $suffix,
                            type_name: <$ty as $crate::fhir::schema::SchemaType>::SCHEMA_NAME,
                            redact: false $( || fhir_choice!(@redact $flag) )?,
                            doc: $crate::fhir::schema::Doc(&[$($vdoc),*]),
                        },
                    )*
                ],
                open: fhir_choice!(@open $openness),
            };
        }

        impl $crate::fhir::value::Choice for $name {
            fn accepts(suffix: &str) -> bool {
                matches!(suffix, $( $suffix )|*) || fhir_choice!(@accept_other $openness, suffix)
            }
            fn is_primitive(suffix: &str) -> bool {
                $( if suffix == $suffix { return <$ty as $crate::fhir::value::FhirType>::PRIMITIVE; } )*
                $crate::fhir::value::is_primitive_suffix(suffix)
            }
            fn read_suffix<'de, D: serde::Deserializer<'de>>(suffix: &str, d: D) -> Result<Self, D::Error> {
                match suffix {
                    $( $suffix => return <$ty as $crate::fhir::value::FhirType>::read(d).map(Self::$variant), )*
                    _ => {}
                }
                fhir_choice!(@arm_other $openness, suffix, d)
            }
            fn write_choice<M: serde::ser::SerializeMap>(&self, prefix: &str, map: &mut M) -> Result<(), M::Error> {
                let key = format!("{prefix}{}", self.type_suffix());
                match self {
                    $( Self::$variant(v) => map.serialize_entry(&key, &$crate::fhir::value::Ser(v)), )*
                    Self::Other { json, .. } => map.serialize_entry(&key, json),
                }
            }
        }
    };
}

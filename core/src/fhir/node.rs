//! A read-only, name-addressed view of the model: what rules written as data (MY Core's
//! profile tables, [`crate::mycore::profile`]) walk to reach an element by its FHIR name.
//!
//! Every structure answers [`Walk::child`] with the values of one element (a choice element by
//! its prefix, `value`, with the type suffix of the value it holds) and [`Walk::children`] with
//! all of them. The view borrows the typed values: walking allocates nothing, so profile rules
//! cost a few pointer hops each instead of a conversion of the resource to a JSON tree.
//!
//! ```
//! use hie_vc::fhir::node::{Node, Walk};
//! use hie_vc::fhir::{Coding, Uri};
//! let c = Coding { code: Some("VR".parse().unwrap()), ..Default::default() };
//! let mut seen = Vec::new();
//! c.child("code", &mut |c| seen.push(c.node.text().map(str::to_owned)));
//! assert_eq!(seen, [Some("VR".to_owned())]);
//! ```

use serde_json::value::RawValue;

/// One value of an element, where it stands and, for a choice element, its type.
#[derive(Debug, Clone, Copy)]
pub struct Child<'a> {
    /// The value.
    pub node: Node<'a>,
    /// Its index when the element is an array (`None` for a single value).
    pub index: Option<usize>,
    /// The type suffix of a choice element's value (`Integer`, `CodeableConcept`); `""` for
    /// other elements.
    pub suffix: &'a str,
}

/// One value of an element.
#[derive(Clone, Copy)]
pub enum Node<'a> {
    /// A structure: a datatype, a backbone element or a resource.
    Object(&'a dyn Walk),
    /// A primitive written as a JSON string (string, code, uri, dateTime, ...).
    Text(&'a str),
    /// A decimal, as its exact text.
    Decimal(&'a str),
    /// An integer primitive.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An element the model keeps as JSON text (unknown elements, untyped choice values,
    /// resources the model does not type).
    Raw(&'a RawValue),
}

impl<'a> Node<'a> {
    /// The structure, if this is one.
    pub fn object(self) -> Option<&'a dyn Walk> {
        match self {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }
    /// The text of a string-like primitive.
    pub fn text(self) -> Option<&'a str> {
        match self {
            Node::Text(t) => Some(t),
            _ => None,
        }
    }
    /// The text of the first value of the child element `name` of a structure.
    pub fn child_text(self, name: &str) -> Option<&'a str> {
        let mut out = None;
        if let Node::Object(o) = self {
            o.child(name, &mut |c| {
                if out.is_none() {
                    out = c.node.text();
                }
            });
        }
        out
    }
}

impl std::fmt::Debug for Node<'_> {
    // Values may be patient data: only the shape is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Object(o) => write!(f, "Object({})", o.fhir_type()),
            Node::Text(_) => f.write_str("Text"),
            Node::Decimal(_) => f.write_str("Decimal"),
            Node::Int(_) => f.write_str("Int"),
            Node::Bool(_) => f.write_str("Bool"),
            Node::Raw(_) => f.write_str("Raw"),
        }
    }
}

/// A structure of the model, addressed by its elements' FHIR JSON names.
pub trait Walk {
    /// The FHIR type name (`Coding`, `Appointment`, `Appointment.participant`'s backbone type).
    fn fhir_type(&self) -> &'static str;
    /// Calls `f` with each value of the element `name`. A choice element is named by its
    /// prefix (`value`); an element the model does not know is found among the kept unknown
    /// ones.
    fn child<'a>(&'a self, name: &str, f: &mut dyn FnMut(Child<'a>));
    /// Calls `f` with every value of every present element and its JSON name (a choice
    /// element's prefix).
    fn children<'a>(&'a self, f: &mut dyn FnMut(&'a str, Child<'a>));
}

/// A value the view can show.
pub trait AsNode {
    /// The value as a node.
    fn as_node(&self) -> Node<'_>;
}

/// A field's container (`Option<T>`, `Vec<T>`): its values as nodes.
pub trait NodeField {
    /// Calls `f` with each value (and its index in an array).
    fn each<'a>(&'a self, f: &mut dyn FnMut(Child<'a>));
}

impl<T: AsNode> NodeField for Option<T> {
    fn each<'a>(&'a self, f: &mut dyn FnMut(Child<'a>)) {
        if let Some(v) = self {
            f(Child {
                node: v.as_node(),
                index: None,
                suffix: "",
            });
        }
    }
}

impl<T: AsNode> NodeField for Vec<T> {
    fn each<'a>(&'a self, f: &mut dyn FnMut(Child<'a>)) {
        for (i, v) in self.iter().enumerate() {
            f(Child {
                node: v.as_node(),
                index: Some(i),
                suffix: "",
            });
        }
    }
}

/// A choice type's value with its type suffix.
pub trait ChoiceNode {
    /// The value and its type suffix (`Integer`, `CodeableConcept`, ...).
    fn choice_node(&self) -> (Node<'_>, &str);
}

impl AsNode for String {
    fn as_node(&self) -> Node<'_> {
        Node::Text(self)
    }
}

impl AsNode for bool {
    fn as_node(&self) -> Node<'_> {
        Node::Bool(*self)
    }
}

impl<T: AsNode> AsNode for Box<T> {
    fn as_node(&self) -> Node<'_> {
        (**self).as_node()
    }
}

impl AsNode for super::Decimal {
    fn as_node(&self) -> Node<'_> {
        Node::Decimal(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{read_str, ReadOptions, Resource};

    #[test]
    fn elements_choices_and_unknown_ones_by_name() {
        let json = r#"{"resourceType":"Slot","extension":[{"url":"u","valueInteger":5}],
            "schedule":{"reference":"Schedule/s"},"status":"free","x-local":{"a":1},
            "start":"2023-07-10T21:00:00Z","end":"2023-07-10T22:00:00Z"}"#;
        let r = read_str::<Resource>(json, ReadOptions::strict())
            .unwrap()
            .value;
        let Resource::Slot(slot) = &r else { panic!() };
        let slot: &dyn Walk = &**slot;
        assert_eq!(slot.fhir_type(), "Slot");
        let mut ext = None;
        slot.child("extension", &mut |c| {
            ext = c.node.object().map(|o| (o, c.index))
        });
        let (ext, index) = ext.unwrap();
        assert_eq!(index, Some(0));
        let mut value = None;
        ext.child("value", &mut |c| value = Some((c.node, c.suffix, c.index)));
        assert!(matches!(value, Some((Node::Int(5), "Integer", None))));
        assert_eq!(Node::Object(ext).child_text("url"), Some("u"));
        let mut raw = false;
        slot.child("x-local", &mut |c| raw = matches!(c.node, Node::Raw(_)));
        assert!(raw);
        let mut names = Vec::new();
        slot.children(&mut |name, _| names.push(name));
        assert_eq!(
            names,
            ["extension", "schedule", "status", "start", "end", "x-local"]
        );
    }
}

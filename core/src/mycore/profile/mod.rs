//! The MY Core profiles' own rules, as data generated from the IG's artefacts
//! (`mycore-ig/profiles`, `mycore-ig/terminology`): cardinalities, fixed values, bindings,
//! code system contents, extension value types and reference targets. A new IG release is a
//! data update: `cargo run -q -p hie-vc --example mycore_tables > core/src/mycore/profile/tables.rs`
//! (a test fails while the checked-in tables differ from what the generator makes of the IG).
//!
//! [`check`] applies them to a resource through the model's [`Walk`](crate::fhir::node::Walk)
//! view; [`super::Validator`] runs it with the workflow rules and reports both in one report.
//! The IG's gaps (what its profiles name but it does not publish) are listed in [`GAPS`] and
//! tolerated with a warning where an instance meets them (`docs/validation.md`).

mod check;
#[rustfmt::skip]
mod tables;

pub(crate) use check::{check, Cover};
pub use tables::{CODE_SYSTEMS, EXTENSIONS, GAPS, PROFILES, VALUE_SETS};

/// A profile on a resource type (`Appointment-my-core`, ...).
#[derive(Debug)]
pub struct Profile {
    /// The canonical URL.
    pub url: &'static str,
    /// The resource type it constrains.
    pub resource: &'static str,
    /// Its rules, in the order of its differential.
    pub rules: &'static [Rule],
}

/// An extension definition (`slot-quota-my-core`, ...).
#[derive(Debug)]
pub struct ExtensionDef {
    /// The canonical URL (the `url` of its instances).
    pub url: &'static str,
    /// Its rules, relative to the extension.
    pub rules: &'static [Rule],
}

/// What one element of a differential states.
#[derive(Debug)]
pub struct Rule {
    /// The element id in the StructureDefinition (`Appointment.specialty.coding:specialty`).
    pub element: &'static str,
    /// Where the element is, from the profiled root.
    pub path: &'static [Step],
    /// The minimum count in each parent (0 when the profile does not raise it).
    pub min: u32,
    /// The maximum count in each parent (`None`: unbounded or not constrained).
    pub max: Option<u32>,
    /// The type codes a choice element may hold (`integer`); empty when not constrained.
    pub types: &'static [&'static str],
    /// The resource types a Reference may point to; empty when not constrained.
    pub targets: &'static [&'static str],
    /// The value set binding.
    pub binding: Option<Binding>,
    /// A fixed value the element must have (as JSON text of a primitive).
    pub fixed: Option<&'static str>,
    /// For an extension slice: the definition its instances follow.
    pub extension: Option<&'static str>,
}

/// One step of a path: an element name (a choice element by its prefix, `value`) and the
/// slice its values must belong to.
#[derive(Debug)]
pub struct Step {
    /// The JSON name (choice prefix for `value[x]`).
    pub name: &'static str,
    /// The slice, if the step names one.
    pub slice: Option<Slice>,
}

/// How a slice picks its values.
#[derive(Debug)]
pub enum Slice {
    /// An extension slice: the instances with this `url`.
    Url(&'static str),
    /// A value-discriminated slice: the values whose element at `path` equals `value`.
    Value {
        /// The discriminator's path below the sliced element (`system`, `coding.system`).
        path: &'static [&'static str],
        /// The value it must have.
        value: &'static str,
    },
}

/// A binding of an element to a value set.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// How strongly the codes must come from the value set.
    pub strength: Strength,
    /// The value set's canonical as the profile writes it.
    pub value_set: &'static str,
    /// The published value set it resolves to (index into [`VALUE_SETS`]), `None` when the IG
    /// does not publish it.
    pub resolved: Option<usize>,
}

/// FHIR binding strengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Codes must come from the value set.
    Required,
    /// Codes must come from the value set when one applies.
    Extensible,
    /// Codes should come from the value set.
    Preferred,
    /// The value set is an example.
    Example,
}

impl Strength {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Required => "required",
            Strength::Extensible => "extensible",
            Strength::Preferred => "preferred",
            Strength::Example => "example",
        }
    }
}

/// A code system the IG publishes.
#[derive(Debug)]
pub struct CodeSystem {
    /// The canonical URL (the `system` of codings).
    pub url: &'static str,
    /// `content: complete`: a code outside it is an error.
    pub complete: bool,
    /// `(code, display)`, sorted by code.
    pub concepts: &'static [(&'static str, &'static str)],
}

impl CodeSystem {
    /// The display of `code`, if the code system defines it.
    pub fn display(&self, code: &str) -> Option<&'static str> {
        self.concepts
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .ok()
            .map(|i| self.concepts[i].1)
    }
}

/// A value set the IG publishes.
#[derive(Debug)]
pub struct ValueSet {
    /// The canonical URL.
    pub url: &'static str,
    /// What it includes.
    pub includes: &'static [Include],
}

/// One `compose.include`: a system and, when listed, its codes.
#[derive(Debug)]
pub struct Include {
    /// The code system.
    pub system: &'static str,
    /// The codes (sorted); empty: every code of the system.
    pub codes: &'static [&'static str],
}

impl ValueSet {
    /// Whether `(system, code)` is in the value set: `Some(true|false)`, or `None` when an
    /// include names a whole code system the IG does not publish (membership unknown).
    pub fn contains(&self, system: Option<&str>, code: &str) -> Option<bool> {
        let mut unknown = false;
        for inc in self.includes {
            if system.is_some_and(|s| s != inc.system) {
                continue;
            }
            if !inc.codes.is_empty() {
                if inc.codes.binary_search(&code).is_ok() {
                    return Some(true);
                }
            } else {
                match code_system(inc.system) {
                    Some(cs) if cs.display(code).is_some() => return Some(true),
                    Some(cs) if cs.complete => {}
                    _ => unknown = true,
                }
            }
        }
        if unknown {
            None
        } else {
            Some(false)
        }
    }
    /// Whether `system` is one of the systems the value set draws from.
    pub fn has_system(&self, system: &str) -> bool {
        self.includes.iter().any(|i| i.system == system)
    }
}

/// A gap in the IG: something its profiles name that it does not publish, and what the
/// validator does about it.
#[derive(Debug)]
pub struct Gap {
    /// `extension` (an unpublished extension definition), `value-set` (an unpublished value
    /// set) or `value-set-case` (a binding URL that matches a published value set only when
    /// case is ignored).
    pub kind: &'static str,
    /// The canonical URL the profile names.
    pub url: &'static str,
    /// The elements that name it.
    pub elements: &'static [&'static str],
}

/// The published code system with canonical `url`.
pub fn code_system(url: &str) -> Option<&'static CodeSystem> {
    CODE_SYSTEMS.iter().find(|c| c.url == url)
}

/// The published extension definition with canonical `url`.
pub fn extension(url: &str) -> Option<&'static ExtensionDef> {
    EXTENSIONS.iter().find(|e| e.url == url)
}

/// The profile of `resource_type`.
pub fn profile_of(resource_type: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.resource == resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_hold_the_igs_profiles_and_terminology() {
        let names: Vec<_> = PROFILES.iter().map(|p| p.resource).collect();
        assert_eq!(names, ["Appointment", "Encounter", "Schedule", "Slot"]);
        let st = code_system("http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core").unwrap();
        assert!(st.complete);
        assert!(st.display("VCI").is_some() && st.display("VCX").is_none());
        let spec = code_system("http://fhir.hie.moh.gov.my/CodeSystem/specialty-my-core").unwrap();
        assert_eq!(spec.concepts.len(), 221);
        let quota =
            extension("http://fhir.hie.moh.gov.my/StructureDefinition/slot-quota-my-core").unwrap();
        assert!(quota
            .rules
            .iter()
            .any(|r| r.element == "Extension.extension:quota.value[x]" && r.types == ["integer"]));
        // The appointmentType binding's wrong-case URL resolves to the published value set.
        let appt = profile_of("Appointment").unwrap();
        let at = appt
            .rules
            .iter()
            .find(|r| r.element == "Appointment.appointmentType")
            .unwrap();
        let vs = &VALUE_SETS[at.binding.unwrap().resolved.unwrap()];
        assert_eq!(
            vs.url,
            "http://fhir.hie.moh.gov.my/ValueSet/schedule-type-my-core"
        );
        assert!(GAPS.iter().any(|g| g.kind == "value-set-case"));
        assert!(GAPS
            .iter()
            .any(|g| g.kind == "extension" && g.url.ends_with("encounter-outcome-my-core")));
    }
}

//! What makes a resource a Virtual Consultation one, and its VC type.

use std::fmt;

use super::consts::{
    CLASS_VR, ENCOUNTER_CLASS_SYSTEM, SERVICE_TYPE_SYSTEM, SERVICE_VCD, SERVICE_VCE, SERVICE_VCI,
    SERVICE_VCMDT, VC_TOKEN_SYSTEM,
};
use crate::fhir::{CodeableConcept, Coding, Identifier};

/// The kind of a virtual consultation (the serviceType code).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VcType {
    /// Individual, one-to-one (follow-up consultations only).
    Vci,
    /// Education / group, many-to-many (a session token ties the resources together).
    Vce,
    /// Multidisciplinary team.
    Vcmdt,
    /// On demand.
    Vcd,
    /// Another serviceType code on a VC resource, kept as sent.
    Other(String),
}

/// JSON: the serviceType code (`"VCI"`, ...).
impl serde::Serialize for VcType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for VcType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Ok(Self::from_code(&code))
    }
}

impl VcType {
    /// The serviceType code.
    pub fn code(&self) -> &str {
        match self {
            Self::Vci => SERVICE_VCI,
            Self::Vce => SERVICE_VCE,
            Self::Vcmdt => SERVICE_VCMDT,
            Self::Vcd => SERVICE_VCD,
            Self::Other(c) => c,
        }
    }
    /// The type for a serviceType code.
    pub fn from_code(code: &str) -> Self {
        match code {
            SERVICE_VCI => Self::Vci,
            SERVICE_VCE => Self::Vce,
            SERVICE_VCMDT => Self::Vcmdt,
            SERVICE_VCD => Self::Vcd,
            other => Self::Other(other.to_owned()),
        }
    }
    /// The display of the code in the MY Core code system.
    pub fn display(&self) -> Option<&'static str> {
        super::consts::VC_SERVICE_TYPES
            .iter()
            .find(|(c, _)| *c == self.code())
            .map(|(_, d)| *d)
    }
    /// Whether the session is shared by many patients through one token (VCE and the group kinds).
    pub fn is_group(&self) -> bool {
        matches!(self, Self::Vce | Self::Vcmdt)
    }
    /// The serviceType concept for this type.
    pub fn service_type(&self) -> CodeableConcept {
        CodeableConcept::code(SERVICE_TYPE_SYSTEM, self.code(), self.display())
    }
}

impl fmt::Display for VcType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Whether a serviceType code is one of the VC family.
pub fn is_vc_service_code(code: &str) -> bool {
    matches!(
        code,
        SERVICE_VCI | SERVICE_VCE | SERVICE_VCMDT | SERVICE_VCD
    )
}

pub(crate) fn is_vr(c: &Coding) -> bool {
    c.is(ENCOUNTER_CLASS_SYSTEM, CLASS_VR)
        || (c.system.is_none() && c.code.as_ref().is_some_and(|x| x.as_str() == CLASS_VR))
}

/// The VC type named by the first VC-family serviceType coding (`None` when there is none).
pub fn vc_type_of<'a>(
    service_types: impl IntoIterator<Item = &'a CodeableConcept>,
) -> Option<VcType> {
    service_types
        .into_iter()
        .flat_map(|cc| cc.coding.iter())
        .filter(|c| {
            c.system
                .as_ref()
                .is_none_or(|s| s.as_str() == SERVICE_TYPE_SYSTEM)
        })
        .filter_map(|c| c.code.as_ref())
        .find(|c| is_vc_service_code(c.as_str()))
        .map(|c| VcType::from_code(c.as_str()))
}

/// The vc-token identifier value.
pub fn vc_token(identifiers: &[Identifier]) -> Option<&str> {
    identifiers
        .iter()
        .find(|i| i.has_system(VC_TOKEN_SYSTEM))
        .and_then(|i| i.value.as_deref())
}

/// Whether a resource with these elements is a VC one: VR category/class, a VC-family serviceType,
/// or a vc-token identifier (`docs/guide-gaps.md` §5).
pub(crate) fn is_vc<'a>(
    categories: impl IntoIterator<Item = &'a Coding>,
    service_types: impl IntoIterator<Item = &'a CodeableConcept>,
    identifiers: &[Identifier],
) -> bool {
    categories.into_iter().any(is_vr)
        || vc_type_of(service_types).is_some()
        || vc_token(identifiers).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_classification() {
        for (code, t) in [
            ("VCI", VcType::Vci),
            ("VCE", VcType::Vce),
            ("VCMDT", VcType::Vcmdt),
            ("VCD", VcType::Vcd),
        ] {
            assert_eq!(VcType::from_code(code), t);
            assert_eq!(t.code(), code);
            assert!(t.display().is_some());
        }
        assert_eq!(VcType::from_code("VCG"), VcType::Other("VCG".into()));
        assert!(VcType::Vce.is_group() && !VcType::Vci.is_group());
        let ids = [Identifier::new(VC_TOKEN_SYSTEM, "t")];
        assert_eq!(vc_token(&ids), Some("t"));
        assert!(is_vc(std::iter::empty(), std::iter::empty(), &ids));
        assert!(!is_vc(std::iter::empty(), std::iter::empty(), &[]));
        let st = [VcType::Vce.service_type()];
        assert!(is_vc(std::iter::empty(), st.iter(), &[]));
    }
}

//! The slot-quota extension: read as integer or string, written as integer (or string by option).

use super::consts::{EXT_SLOT_QUOTA, SLOT_QUOTA_AVAILABLE, SLOT_QUOTA_QUOTA};
use crate::fhir::{Extension, ExtensionValue, Integer, Slot};

/// How the quota numbers go on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuotaWire {
    /// `valueInteger` (what the profile says).
    #[default]
    Integer,
    /// `valueString` (what every published example sends).
    String,
}

crate::names::names!(QuotaWire, "quota wire format" { Integer => "integer", String => "string" });

/// A slot's quota and remaining availability. JSON: `{"quota", "available"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlotQuota {
    /// Maximum number of bookings.
    pub quota: i64,
    /// Bookings still available.
    pub available: i64,
}

/// Why a slot's quota could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// The slot has no slot-quota extension.
    #[error("the Slot has no slot-quota extension")]
    Missing,
    /// A sub-extension is missing.
    #[error("the slot-quota extension has no '{0}' sub-extension")]
    MissingPart(&'static str),
    /// A sub-extension value is not an integer.
    #[error("slot-quota '{0}' is not an integer: {1}")]
    NotInteger(&'static str, String),
}

fn number(ext: &Extension, part: &'static str) -> Result<(i64, bool), QuotaError> {
    let p = ext.part(part).ok_or(QuotaError::MissingPart(part))?;
    match &p.value {
        Some(ExtensionValue::Integer(i)) => Ok((i.get(), false)),
        Some(ExtensionValue::UnsignedInt(i)) => Ok((i.get(), false)),
        Some(ExtensionValue::PositiveInt(i)) => Ok((i.get(), false)),
        Some(ExtensionValue::String(s)) => s
            .trim()
            .parse()
            .map(|n| (n, true))
            .map_err(|_| QuotaError::NotInteger(part, format!("\"{s}\""))),
        Some(other) => Err(QuotaError::NotInteger(
            part,
            format!("value{}", other.type_suffix()),
        )),
        None => Err(QuotaError::NotInteger(part, "no value".to_owned())),
    }
}

impl SlotQuota {
    /// Reads the quota of `slot`; also says whether any number was sent as a string.
    pub fn read(slot: &Slot) -> Result<(Self, bool), QuotaError> {
        let ext = slot
            .extension
            .iter()
            .find(|e| e.is(EXT_SLOT_QUOTA))
            .ok_or(QuotaError::Missing)?;
        let (quota, s1) = number(ext, SLOT_QUOTA_QUOTA)?;
        let (available, s2) = number(ext, SLOT_QUOTA_AVAILABLE)?;
        Ok((Self { quota, available }, s1 || s2))
    }

    /// The extension for this quota.
    pub fn to_extension(self, wire: QuotaWire) -> Extension {
        let v = |n: i64| match wire {
            QuotaWire::Integer => ExtensionValue::Integer(Integer(n)),
            QuotaWire::String => ExtensionValue::String(n.to_string()),
        };
        Extension::complex(
            EXT_SLOT_QUOTA,
            vec![
                Extension::new(SLOT_QUOTA_QUOTA, v(self.quota)),
                Extension::new(SLOT_QUOTA_AVAILABLE, v(self.available)),
            ],
        )
    }

    /// Writes this quota into `slot`, replacing any quota extension and keeping the others.
    pub fn write(self, slot: &mut Slot, wire: QuotaWire) {
        let ext = self.to_extension(wire);
        match slot.extension.iter_mut().find(|e| e.is(EXT_SLOT_QUOTA)) {
            Some(slot_ext) => *slot_ext = ext,
            None => slot.extension.push(ext),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_both_wire_forms_and_write_either() {
        let mut slot = Slot::default();
        assert_eq!(SlotQuota::read(&slot), Err(QuotaError::Missing));
        SlotQuota {
            quota: 10,
            available: 9,
        }
        .write(&mut slot, QuotaWire::String);
        assert_eq!(
            SlotQuota::read(&slot),
            Ok((
                SlotQuota {
                    quota: 10,
                    available: 9
                },
                true
            ))
        );
        SlotQuota {
            quota: 10,
            available: 8,
        }
        .write(&mut slot, QuotaWire::Integer);
        assert_eq!(slot.extension.len(), 1);
        assert_eq!(
            SlotQuota::read(&slot),
            Ok((
                SlotQuota {
                    quota: 10,
                    available: 8
                },
                false
            ))
        );
        slot.extension[0].extension.pop();
        assert_eq!(
            SlotQuota::read(&slot),
            Err(QuotaError::MissingPart("available"))
        );
    }
}

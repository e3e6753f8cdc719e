//! The FHIR R4 resources VC uses.

pub mod administration;
pub mod appointment;
pub mod bundle;
pub mod codes;
pub mod encounter;
pub mod outcome;
pub mod scheduling;

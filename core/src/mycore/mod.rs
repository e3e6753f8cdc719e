//! MY Core VC layer: the constants, builders and validation rules of MY Core Virtual
//! Consultation resources, and the VC view of an Encounter.

pub mod consts;
pub mod quota;
pub mod report;
pub mod specialty;

pub use quota::{QuotaError, QuotaWire, SlotQuota};
pub use report::{Issue, Report, Severity};

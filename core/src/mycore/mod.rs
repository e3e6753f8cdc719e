//! MY Core VC layer: the constants, builders and validation rules of MY Core Virtual
//! Consultation resources, and the VC view of an Encounter.

pub mod consts;
pub mod profile;
pub mod quota;
pub mod report;
pub mod specialty;

pub use quota::{QuotaError, QuotaWire, SlotQuota};
pub use report::{Issue, ProfileRef, Report, Severity};
pub mod encounter;
pub mod validate;
pub mod vc;

pub use encounter::{is_vc_encounter, VcEncounter};
pub use validate::{validate, Validator};
pub use vc::{vc_token, VcType};
pub mod builders;
pub mod spec;

pub use builders::{
    booking_bundle, finish_encounter, scheduling_bundle, AppointmentBuilder, ScheduleBuilder,
    ScheduleType, SlotBuilder,
};

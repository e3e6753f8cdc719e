//! The VC demo: the VCI and the VCE flow end to end on the embedded HIE sandbox, through the
//! real SDK pieces (HIE client, Jitsi REST provider, Notification client, the Encounter
//! listener on the in-memory source or on real Kafka, the VC workflow).

mod console;
mod scenario;
mod timeline;

pub use console::print_run;
pub use scenario::{
    book_vci, demo_patient_numbers, demo_practitioner, prepare, run, DemoOptions, DemoReport,
    FlowReport,
};
pub use timeline::{mask, mask_url, Entry, Timeline};

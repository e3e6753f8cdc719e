//! The library side of the `hie-vc` command line: the VC demo scenario and what `listen`
//! prints, shared by the binary and the end-to-end tests.

/// The VC demo scenario lives with the sandbox it runs on (the Python package runs it too).
pub use hie_vc_sandbox::demo;
pub mod listen;

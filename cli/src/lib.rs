//! The library side of the `hie-vc` command line: the VC demo scenario, shared by the binary
//! and the end-to-end tests.

pub mod demo;

//! The library side of the `hie-vc` command line: the VC demo scenario and what `listen`
//! prints, shared by the binary and the end-to-end tests.

pub mod demo;
pub mod listen;

//! # libhievc — the stable C ABI of hie-vc
//!
//! Java (FFM), .NET (P/Invoke) and C hospital systems reach the SDK through this library. The
//! contract (ownership, threads, NULL, panics, callbacks) is written in `include/hie_vc.h` and
//! `ffi-c/README.md`; in short:
//!
//! * One `hievc_` prefix. Objects are opaque handles created by `hievc_<type>_new*` and freed
//!   by `hievc_<type>_free` (NULL-safe). Every handle is thread-safe.
//! * Fallible functions return a [`hievc_status`] (`HIEVC_OK` = 0) and take an optional
//!   `hievc_error **err` (detail: kind, message, HTTP status, OperationOutcome). Outputs are
//!   written only on success.
//! * Strings in are NUL-terminated UTF-8; strings out (`char **out`) are owned by the caller
//!   and freed with `hievc_string_free`. Resources go in and out as FHIR JSON.
//! * Every export runs inside `catch_unwind`: a panic becomes `HIEVC_PANIC`, never an abort.
//! * One tokio runtime, created on first use, stopped by `hievc_shutdown`.

#![allow(non_camel_case_types)]

mod broker;
mod client;
mod config;
mod error;
mod event;
mod fhir;
mod guard;
mod jitsi;
mod json;
mod listener;
mod runtime;
mod sandbox;
mod status;
mod vc;
mod version;

pub use broker::*;
pub use client::*;
pub use config::{
    hievc_config, hievc_config_free, hievc_config_from_env, hievc_config_from_json,
    hievc_config_from_toml, hievc_config_new, hievc_config_set,
};
pub use error::*;
pub use event::*;
pub use fhir::*;
pub use guard::hievc_string_free;
pub use jitsi::*;
pub use listener::*;
pub use runtime::hievc_shutdown;
pub use sandbox::*;
pub use status::*;
pub use vc::*;
pub use version::*;

use std::ffi::c_char;

/// The library version (`"MAJOR.MINOR.PATCH"`), static: never free it. Compare with the
/// `HIEVC_VERSION_*` macros of the header the host was compiled with to detect a mismatch.
#[no_mangle]
pub extern "C" fn hievc_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"0.0.0",
    };
    VERSION.as_ptr()
}

//! The library version as the `HIEVC_VERSION_*` constants, which cbindgen turns into the
//! header's version macros.
//!
//! They are literals because cbindgen reads the source and does not expand macros (an
//! `include!` of a generated file would leave the header without them). The build checks them
//! against the crate version (written to `OUT_DIR` by build.rs) and fails when they drift:
//! after a version bump, update them and regenerate `include/hie_vc.h`.

/// Major version of libhievc (the SONAME is `libhievc.so.<major>`).
pub const HIEVC_VERSION_MAJOR: u32 = 0;
/// Minor version of libhievc.
pub const HIEVC_VERSION_MINOR: u32 = 1;
/// Patch version of libhievc.
pub const HIEVC_VERSION_PATCH: u32 = 0;
/// `MAJOR * 10000 + MINOR * 100 + PATCH`, for `#if HIEVC_VERSION_NUMBER >= ...`.
pub const HIEVC_VERSION_NUMBER: u32 = 100;

// `CRATE_VERSION: (u32, u32, u32)`, from Cargo.
include!(concat!(env!("OUT_DIR"), "/crate_version.rs"));

const _: () = assert!(
    HIEVC_VERSION_MAJOR == CRATE_VERSION.0
        && HIEVC_VERSION_MINOR == CRATE_VERSION.1
        && HIEVC_VERSION_PATCH == CRATE_VERSION.2,
    "ffi-c/src/version.rs is not the crate version: update HIEVC_VERSION_* there, then regenerate include/hie_vc.h"
);
const _: () = assert!(
    HIEVC_VERSION_NUMBER
        == HIEVC_VERSION_MAJOR * 10000 + HIEVC_VERSION_MINOR * 100 + HIEVC_VERSION_PATCH,
    "HIEVC_VERSION_NUMBER in ffi-c/src/version.rs is not MAJOR * 10000 + MINOR * 100 + PATCH"
);

//! Build script of libhievc:
//! * the SONAME carries the major version (`libhievc.so.<major>`), so a host linked against one
//!   major version never loads another;
//! * `$OUT_DIR/crate_version.rs` holds the crate version, against which `src/version.rs` (the
//!   `HIEVC_VERSION_*` constants cbindgen turns into the header's version macros) is checked at
//!   compile time, so the two cannot drift. Nothing is written into the source tree.

use std::env;
use std::fs;
use std::path::PathBuf;

/// A version part Cargo gave (always digits for a valid crate version).
fn part(var: &str) -> u32 {
    let value = env::var(var).unwrap_or_default();
    value
        .parse()
        .unwrap_or_else(|_| panic!("{var} is '{value}', not a number"))
}

fn main() {
    let (major, minor, patch) = (
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    );

    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "android" || target_os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhievc.so.{major}");
    } else if target_os == "macos" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libhievc.{major}.dylib");
    }

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts"))
        .join("crate_version.rs");
    let generated = format!(
        "/// The crate version (major, minor, patch), from Cargo.\n\
         const CRATE_VERSION: (u32, u32, u32) = ({major}, {minor}, {patch});\n"
    );
    if let Err(e) = fs::write(&out, generated) {
        panic!("could not write {}: {e}", out.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.toml");
}

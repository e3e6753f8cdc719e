//! Per-call overhead of the C ABI against calling the Rust SDK directly, both sides in one run:
//!
//! * `trivial`: `hievc_version()` (panic boundary + return of a static string) against the
//!   same string from Rust;
//! * `validate`: `hievc_validate()` on a 1.7 KB VC Encounter (C string in, UTF-8 check, read,
//!   MY Core validation, report as JSON out, `hievc_string_free`) against
//!   `fhir::read` + `mycore::validate` in Rust; `validator` is the same through a reusable
//!   `hievc_validator`.
//!
//! `ffi-c/bench.sh` runs it and prints the ratios. The exports are called through the rlib,
//! exactly the symbols a C host calls (no inlining across the crate boundary).

use std::ffi::{c_char, CStr, CString};
use std::hint::black_box;
use std::ptr;

use criterion::{criterion_group, criterion_main, Criterion};
use hie_vc::fhir::{self, ReadOptions, Resource};
use hie_vc::mycore;
use hievc::{
    hievc_status, hievc_string_free, hievc_validate, hievc_validator, hievc_validator_free,
    hievc_validator_new, hievc_validator_validate, hievc_version,
};

const ENCOUNTER: &str = include_str!("../../tests/c/data/vc_encounter.json");

fn rust_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ffi_trivial");
    g.bench_function("rust", |b| b.iter(|| black_box(rust_version()).len()));
    g.bench_function("c_abi", |b| {
        // SAFETY: hievc_version returns a static NUL-terminated string.
        b.iter(|| unsafe { CStr::from_ptr(black_box(hievc_version())) }.count_bytes())
    });
    g.finish();

    let Ok(json) = CString::new(ENCOUNTER) else {
        return;
    };
    let mut validator: *mut hievc_validator = ptr::null_mut();
    // SAFETY: out-parameter is writable; NULL config and options mean the defaults.
    let st =
        unsafe { hievc_validator_new(ptr::null(), ptr::null(), &mut validator, ptr::null_mut()) };
    if st != hievc_status::HIEVC_OK {
        eprintln!("hievc_validator_new failed: {st:?}");
        return;
    }
    let mut g = c.benchmark_group("ffi_validate");
    g.bench_function("rust", |b| {
        b.iter(|| {
            fhir::read::<Resource>(black_box(ENCOUNTER.as_bytes()), ReadOptions::strict())
                .map(|r| mycore::validate(&r.value).is_valid())
        })
    });
    let call = |f: &dyn Fn(*mut *mut c_char) -> hievc_status| {
        let mut out: *mut c_char = ptr::null_mut();
        let st = f(&mut out);
        // SAFETY: `out` is NULL or a string the library returned.
        unsafe { hievc_string_free(out) };
        st
    };
    g.bench_function("c_abi", |b| {
        // SAFETY: valid NUL-terminated input, writable out-parameter.
        b.iter(|| {
            call(&|out| unsafe { hievc_validate(black_box(json.as_ptr()), out, ptr::null_mut()) })
        })
    });
    g.bench_function("c_abi_validator", |b| {
        b.iter(|| {
            // SAFETY: live validator, valid input, writable out-parameter.
            call(&|out| unsafe {
                hievc_validator_validate(validator, black_box(json.as_ptr()), out, ptr::null_mut())
            })
        })
    });
    g.finish();
    // SAFETY: created above, freed once.
    unsafe { hievc_validator_free(validator) };
}

criterion_group!(benches, bench);
criterion_main!(benches);

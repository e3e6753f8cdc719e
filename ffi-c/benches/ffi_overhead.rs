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
//!
//! Besides criterion's absolute times, `interleaved` measures the validate ratio the way a
//! noisy shared machine needs: batches of the two sides alternate (order flipped each round),
//! and the median of the per-round ratios is written to
//! `target/criterion/ffi_validate/interleaved.json`.

use std::ffi::{c_char, CStr, CString};
use std::hint::black_box;
use std::ptr;
use std::time::Instant;

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

/// Median over `rounds` of (time of `batch` calls of `b`) / (time of `batch` calls of `a`),
/// the two batches alternating in order.
fn interleaved_ratio(rounds: usize, batch: usize, a: &dyn Fn(), b: &dyn Fn()) -> (f64, f64, f64) {
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        t.elapsed().as_secs_f64() / batch as f64
    };
    let mut ratios = Vec::with_capacity(rounds);
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        let (x, y) = if round % 2 == 0 {
            let x = time(a);
            (x, time(b))
        } else {
            let y = time(b);
            (time(a), y)
        };
        ratios.push(y / x);
        ta.push(x);
        tb.push(y);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb), median(&mut ratios))
}

fn interleaved(_: &mut Criterion) {
    let Ok(json) = CString::new(ENCOUNTER) else {
        return;
    };
    let rust = || {
        let _ = black_box(
            fhir::read::<Resource>(black_box(ENCOUNTER.as_bytes()), ReadOptions::strict())
                .map(|r| mycore::validate(&r.value).is_valid()),
        );
    };
    let c_abi = || {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: valid NUL-terminated input, writable out-parameter; `out` freed once.
        unsafe {
            black_box(hievc_validate(
                black_box(json.as_ptr()),
                &mut out,
                ptr::null_mut(),
            ));
            hievc_string_free(out);
        }
    };
    let (r, c, ratio) = interleaved_ratio(400, 50, &rust, &c_abi);
    let doc = format!(
        "{{\"rust_ns\":{:.0},\"c_abi_ns\":{:.0},\"median_ratio\":{ratio:.4},\"rounds\":400,\"batch\":50}}",
        r * 1e9,
        c * 1e9
    );
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/ffi_validate");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("interleaved.json"), &doc);
    }
    println!("interleaved validate: {doc}");
}

criterion_group!(benches, bench, interleaved);
criterion_main!(benches);

//! `validate_loop <rust|c_abi> <iterations>`: validates the test VC Encounter in a loop, either
//! through the Rust API or through the C ABI exports. `ffi-c/bench.sh` runs both under
//! callgrind to compare instruction counts, which unlike wall time do not depend on what else
//! the machine is doing.

use std::ffi::{c_char, CString};
use std::hint::black_box;
use std::process::ExitCode;
use std::ptr;

use hie_vc::fhir::{self, ReadOptions, Resource};
use hie_vc::mycore;
use hievc::{hievc_status, hievc_string_free, hievc_validate};

const ENCOUNTER: &str = include_str!("../../tests/c/data/vc_encounter.json");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let Ok(json) = CString::new(ENCOUNTER) else {
        return ExitCode::FAILURE;
    };
    let mut valid = 0usize;
    match args.get(1).map(String::as_str) {
        Some("rust") => {
            for _ in 0..n {
                if let Ok(r) =
                    fhir::read::<Resource>(black_box(ENCOUNTER.as_bytes()), ReadOptions::strict())
                {
                    valid += usize::from(mycore::validate(&r.value).is_valid());
                }
            }
        }
        Some("c_abi") => {
            for _ in 0..n {
                let mut out: *mut c_char = ptr::null_mut();
                // SAFETY: NUL-terminated input, writable out-parameter; `out` freed once.
                let st =
                    unsafe { hievc_validate(black_box(json.as_ptr()), &mut out, ptr::null_mut()) };
                valid += usize::from(st == hievc_status::HIEVC_OK);
                // SAFETY: as above.
                unsafe { hievc_string_free(out) };
            }
        }
        _ => {
            eprintln!("usage: validate_loop <rust|c_abi> <iterations>");
            return ExitCode::FAILURE;
        }
    }
    println!("{valid}");
    ExitCode::SUCCESS
}

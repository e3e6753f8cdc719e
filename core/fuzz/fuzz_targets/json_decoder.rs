//! Fuzzes the FHIR JSON decoder in both modes and the write → read round trip of whatever it
//! accepts: no input may panic, and an accepted document must read back to the same value.
#![no_main]

use hie_vc::fhir::{self, ReadOptions, Resource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for opts in [ReadOptions::strict(), ReadOptions::lenient(), ReadOptions::lenient().deny_unknown(true)] {
        if let Ok(read) = fhir::read::<Resource>(data, opts) {
            let json = fhir::to_json(&read.value);
            let again = fhir::read::<Resource>(json.as_bytes(), ReadOptions::lenient())
                .expect("what the SDK writes must read back");
            assert_eq!(fhir::to_json(&again.value), json, "write is not stable");
            let _ = hie_vc::mycore::validate(&read.value);
        }
    }
});

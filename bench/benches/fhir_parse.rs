//! Typed FHIR read + MY Core validation, side by side with the floor any typed parse is measured
//! against: `serde_json::from_slice::<serde_json::Value>` on the same bytes.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hie_vc::fhir::{self, ReadOptions, Resource};
use hie_vc::mycore;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let enc = serde_json::to_vec(&hie_vc_bench::vc_encounter(1)).unwrap();
    let bundle = hie_vc_bench::searchset(1 << 20);
    for (name, bytes) in [("encounter_2kb", &enc), ("searchset_1mb", &bundle)] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("serde_json_value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap())
        });
        g.bench_function("typed_read_validate", |b| {
            b.iter(|| {
                let r = fhir::read::<Resource>(black_box(bytes), ReadOptions::strict()).unwrap();
                mycore::validate(&r.value)
            })
        });
        // The validation alone (workflow rules and the profile tables), on the value read once.
        let read = fhir::read::<Resource>(bytes, ReadOptions::strict())
            .unwrap()
            .value;
        g.bench_function("validate_only", |b| {
            b.iter(|| mycore::validate(black_box(&read)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

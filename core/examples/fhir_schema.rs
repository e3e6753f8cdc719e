//! Prints the FHIR model's definitions ([`hie_vc::fhir::schema`]) as JSON: the input of the
//! bindings' generators (`bindings-python/tools/gen_fhir.py`, `bindings-node/tools/gen_types.mjs`).
//!
//! ```text
//! cargo run -q -p hie-vc --example fhir_schema > schema.json
//! cargo run -q -p hie-vc --example fhir_schema -- debug FILE...
//! ```
//!
//! `debug` reads each FHIR JSON file leniently and prints, one JSON object per line,
//! `{"debug": the resource's Debug text (patient data redacted), "json": the FHIR JSON the
//! writer makes of it}`: what the Python binding's repr is checked against.

use std::process::ExitCode;

use hie_vc::fhir::{self, ReadOptions, Resource};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => match serde_json::to_string_pretty(fhir::schema::types()) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot write the schema: {e}");
                ExitCode::FAILURE
            }
        },
        Some("debug") => {
            for path in &args[1..] {
                let bytes = match std::fs::read(path) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("cannot read {path}: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                match fhir::read::<Resource>(&bytes, ReadOptions::lenient()) {
                    Ok(read) => {
                        let line = serde_json::json!({
                            "debug": format!("{:?}", read.value),
                            "json": fhir::to_json(&read.value),
                        });
                        println!("{line}");
                    }
                    Err(e) => {
                        eprintln!("{path}: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown argument '{other}'; usage: fhir_schema [debug FILE...]");
            ExitCode::from(2)
        }
    }
}

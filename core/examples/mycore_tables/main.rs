//! Generates `core/src/mycore/profile/tables.rs`, the MY Core profile rules as Rust data, from
//! the IG's StructureDefinitions, CodeSystems and ValueSets:
//!
//! ```text
//! cargo run -q -p hie-vc --example mycore_tables > core/src/mycore/profile/tables.rs
//! cargo run -q -p hie-vc --example mycore_tables -- /path/to/mycore-ig > tables.rs
//! ```
//!
//! Without an argument the IG is `$HIEVC_SPEC_DIR/mycore-ig`, else `<repo>/../shared/spec/mycore-ig`.
//! `core/tests/mycore_tables.rs` fails while the checked-in file differs from the output.

use std::path::PathBuf;
use std::process::ExitCode;

mod gen;

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => PathBuf::from(d),
        None => gen::default_ig_dir(),
    };
    match gen::generate(&dir) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mycore_tables: {e}");
            ExitCode::FAILURE
        }
    }
}

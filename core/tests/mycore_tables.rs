//! The checked-in MY Core profile tables are what the generator makes of the IG: a new IG
//! release (or an edit of the tables by hand) fails here until the tables are regenerated with
//! `cargo run -q -p hie-vc --example mycore_tables > core/src/mycore/profile/tables.rs`.

#[path = "../examples/mycore_tables/gen.rs"]
mod gen;

#[test]
fn checked_in_tables_are_current() {
    let dir = gen::default_ig_dir();
    let fresh = gen::generate(&dir)
        .unwrap_or_else(|e| panic!("cannot generate from {}: {e}", dir.display()));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/mycore/profile/tables.rs");
    let current = std::fs::read_to_string(path).expect("the tables file");
    assert!(
        current == fresh,
        "{path} is stale: regenerate it with `cargo run -q -p hie-vc --example mycore_tables > core/src/mycore/profile/tables.rs`"
    );
}

#[test]
fn an_unsupported_construct_is_refused_by_name() {
    let dir = std::env::temp_dir().join(format!("mycore-tables-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("profiles")).unwrap();
    std::fs::create_dir_all(dir.join("terminology")).unwrap();
    std::fs::write(
        dir.join("terminology/vs.json"),
        r#"{"resourceType":"ValueSet","url":"http://x/vs","compose":{"include":[{"system":"http://x/cs","filter":[{"property":"concept","op":"is-a","value":"a"}]}]}}"#,
    )
    .unwrap();
    let err = gen::generate(&dir).unwrap_err();
    assert!(err.contains("filters"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

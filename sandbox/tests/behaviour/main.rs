//! The Rust replay of the cross-language behaviour spec (`tests/behaviour/*.json`, format in
//! tests/behaviour/README.md): one test per case file, each running every case and reporting
//! every failing one by name. The Python and Node suites replay the same files.
//!
//! `HIEVC_BEHAVIOUR_SHOW=1` prints each case's result document (to write expectations);
//! `HIEVC_BEHAVIOUR_CASE=<text>` runs only the cases whose name contains the text.

mod json;
mod matcher;
mod ops_fhir;
mod ops_listener;
mod ops_scenario;
mod spec;

use serde_json::Value;
use spec::Case;

/// The case files, one per area; each has a test below.
const AREAS: [&str; 5] = ["read", "validate", "listener", "client", "vc"];

/// Runs one case: the operation's result document.
async fn run_op(case: &Case) -> Result<Value, String> {
    let input = &case.input;
    match case.op.as_str() {
        "read" => ops_fhir::read(input),
        "round_trip" => ops_fhir::round_trip(input),
        "validate" => ops_fhir::validate(input),
        "vc_view" => ops_fhir::vc_view(input),
        "listen" => ops_listener::listen(input).await,
        "client" | "vc" => ops_scenario::scenario(&case.op, input).await,
        other => Err(format!(
            "unknown op '{other}' (read, round_trip, validate, vc_view, listen, client, vc)"
        )),
    }
}

/// Runs `cases` and returns one message per failing case (empty when all pass).
fn run_cases(cases: &[Case]) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let show = std::env::var_os("HIEVC_BEHAVIOUR_SHOW").is_some();
    let only = std::env::var("HIEVC_BEHAVIOUR_CASE").ok();
    let mut failures = Vec::new();
    for case in cases {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        match runtime.block_on(run_op(case)) {
            Err(e) => failures.push(format!("{}: could not run: {e}", case.name)),
            Ok(actual) => {
                let pretty = serde_json::to_string_pretty(&actual).unwrap_or_default();
                if show {
                    println!("== {} ({})\n{pretty}", case.name, case.op);
                }
                let wrong = matcher::mismatches(&case.expect, &actual);
                if !wrong.is_empty() {
                    failures.push(format!(
                        "{}: does not match\n    {}\n  result: {}",
                        case.name,
                        wrong.join("\n    "),
                        truncate(&pretty, 6000)
                    ));
                }
            }
        }
    }
    failures
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… (HIEVC_BEHAVIOUR_SHOW=1 prints it all)", &s[..cut])
}

/// Loads and runs the case file of `area`; fails listing every failing case.
fn replay(area: &str) {
    let cases = spec::load(area).unwrap_or_else(|e| panic!("{e}"));
    assert!(!cases.is_empty(), "{area}.json has no cases");
    let failures = run_cases(&cases);
    assert!(
        failures.is_empty(),
        "{} of {} cases of {area}.json failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn read() {
    replay("read");
}

#[test]
fn validate() {
    replay("validate");
}

#[test]
fn listener() {
    replay("listener");
}

#[test]
fn client() {
    replay("client");
}

#[test]
fn vc() {
    replay("vc");
}

/// A case file without a test here would never run.
#[test]
fn every_case_file_is_replayed() {
    let mut found: Vec<String> = std::fs::read_dir(spec::cases_dir())
        .expect("tests/behaviour")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .collect();
    found.sort();
    let mut areas: Vec<String> = AREAS.iter().map(|a| (*a).to_owned()).collect();
    areas.sort();
    assert_eq!(found, areas);
}

/// The runner reports a wrong expectation, an unknown op and a bad input by case name,
/// and every failing case of a file, not only the first.
#[test]
fn the_runner_reports_every_failing_case() {
    let cases = spec::parse_file(
        "read",
        r#"{"format": 1, "area": "read", "cases": [
          {"name": "right", "op": "read",
           "input": {"document": {"json": {"resourceType": "Patient", "id": "p1"}}},
           "expect": {"result": {"resourceType": "Patient", "warnings": []}}},
          {"name": "wrong expectation", "op": "read",
           "input": {"document": {"json": {"resourceType": "Patient", "id": "p1"}}},
           "expect": {"result": {"resourceType": "Encounter"}}},
          {"name": "error where a result is expected", "op": "read",
           "input": {"document": {"text": "{"}},
           "expect": {"result": {}}},
          {"name": "new op", "op": "teleport", "input": {}, "expect": {}},
          {"name": "misspelt input", "op": "read",
           "input": {"document": {"text": "{}"}, "mdoe": "lenient"}, "expect": {}}
        ]}"#,
    )
    .unwrap();
    let failures = run_cases(&cases);
    let names: Vec<&str> = failures
        .iter()
        .map(|f| f.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "wrong expectation",
            "error where a result is expected",
            "new op",
            "misspelt input"
        ],
        "{failures:#?}"
    );
    assert!(failures[0].contains("/result/resourceType: expected \"Encounter\", got \"Patient\""));
    assert!(failures[1].contains("/result: expected an object, got nothing"));
    assert!(failures[2].contains("unknown op 'teleport'"));
    assert!(failures[3].contains("unknown key 'mdoe'"));
}

//! The variables that point the tests at real services.

/// The value of the environment variable `var`, which a service-backed test cannot run
/// without. Panics, naming the variable and how to get the service, when it is unset or
/// blank: a test that needs a service never passes without it. The panic names the test's
/// line, not this one.
#[track_caller]
pub fn require(var: &str, how: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => panic!(
            "{var} is not set: this test needs a real service ({how}); \
             tests/run.sh starts the services and sets it"
        ),
    }
}

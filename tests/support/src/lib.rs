//! Helpers shared by the service-backed test suites of the workspace (core, sandbox, CLI).
//!
//! Service-backed tests are `#[ignore = "needs …"]` so a plain `cargo test` does not count them
//! as passed without their service; `tests/run.sh` starts the services and runs them with
//! `--include-ignored`. Run that way without the service's variable, they fail: see
//! [`service::require`].

pub mod kafka;
pub mod service;

//! The demo as a console program: what `hie-vc demo` and `python -m hie_vc demo` print.

use std::time::Duration;

use hie_vc::{Error, ErrorKind, Result};

use super::{run, DemoOptions, DemoReport, Timeline};
use crate::{KafkaTarget, Sandbox, SandboxConfig};

fn sandbox_err(e: crate::Error) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("the embedded sandbox could not start: {e}"),
    )
}

/// Starts a sandbox (publishing to `kafka` when given, on a topic of its own), runs both flows
/// and prints the timeline and a summary to stdout.
pub async fn print_run(kafka: Option<String>, arrival_timeout: Duration) -> Result<DemoReport> {
    let mut config = SandboxConfig::new();
    if let Some(brokers) = &kafka {
        config = config
            .kafka(KafkaTarget::new(brokers.clone()))
            .topic(format!("hie-vc-demo-{}", std::process::id()));
    }
    let sandbox = Sandbox::start(config).await.map_err(sandbox_err)?;
    println!(
        "hie-vc demo — the VCI and VCE flows on the embedded HIE sandbox ({})",
        sandbox.url()
    );
    println!("(an emulator: see the sandbox docs for what it does not emulate)\n");
    let mut last_flow = "";
    let mut timeline = Timeline::new(move |e| {
        if e.flow != last_flow {
            let title = match e.flow {
                "VCI" => "VCI — individual virtual consultation (one patient)",
                "VCE" => "VCE — education / group virtual consultation (one token, many patients)",
                _ => "setup",
            };
            println!("\n{title}");
            last_flow = e.flow;
        }
        println!("{e}");
    });
    let opts = DemoOptions {
        kafka,
        arrival_timeout: Some(arrival_timeout),
    };
    let result = run(&sandbox, &opts, &mut timeline).await;
    let notifications = sandbox.notifications();
    let sessions = sandbox.jitsi_sessions();
    sandbox.shutdown().await;
    let report = result?;
    println!("\nsummary");
    for (name, f) in [("VCI", &report.vci), ("VCE", &report.vce)] {
        let notified: usize = f.notified.iter().map(Vec::len).sum();
        println!(
            "  {name}: {} appointment(s), {} encounter(s) started and finished, {notified} patient(s) notified once, session {}",
            f.appointments.len(),
            f.encounters.len(),
            match f.ended {
                Some(e) => format!("{e:?}").to_lowercase(),
                None => "not ended".to_owned(),
            }
        );
    }
    println!(
        "  sandbox recorded {} notification(s) and {} Jitsi session(s)",
        notifications.len(),
        sessions.len()
    );
    Ok(report)
}

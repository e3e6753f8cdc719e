//! `demo` and `sandbox serve`.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand};
use hie_vc::{Error, ErrorKind, Result};
use hie_vc_cli::demo::{self, DemoOptions, Timeline};
use hie_vc_sandbox::{KafkaTarget, Sandbox, SandboxConfig};

use crate::exit;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Publish check-in Encounters to this Kafka cluster and consume them from it (instead of
    /// the in-process broker).
    #[arg(long, value_name = "BROKERS")]
    kafka: Option<String>,
    /// Seconds to wait for each Encounter to arrive.
    #[arg(long, default_value_t = 60)]
    arrival_timeout: u64,
}

fn sandbox_err(e: hie_vc_sandbox::Error) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("the embedded sandbox could not start: {e}"),
    )
}

pub async fn demo(args: &DemoArgs) -> Result<u8> {
    let mut config = SandboxConfig::new();
    if let Some(brokers) = &args.kafka {
        // A topic of its own per run, so old Encounters on a shared broker do not replay.
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
        kafka: args.kafka.clone(),
        arrival_timeout: Some(Duration::from_secs(args.arrival_timeout)),
    };
    let result = demo::run(&sandbox, &opts, &mut timeline).await;
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
    Ok(exit::OK)
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the HIE sandbox (FHIR, check-in, Jitsi token service, Notification API) on a port.
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 8089)]
        port: u16,
        /// Publish check-in Encounters to this Kafka cluster.
        #[arg(long, value_name = "BROKERS")]
        kafka: Option<String>,
    },
}

pub async fn sandbox(cmd: &SandboxCommand) -> Result<u8> {
    let SandboxCommand::Serve { port, kafka } = cmd;
    let mut config = SandboxConfig::new();
    if let Some(b) = kafka {
        config = config.kafka(KafkaTarget::new(b.clone()));
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], *port));
    hie_vc_sandbox::serve(
        config,
        addr,
        |s: &Sandbox| {
            // A closed stdout (a supervisor that stopped reading) must not stop the server.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "HIE sandbox on {}", s.url());
            let _ = writeln!(out, "  FHIR          {}", s.fhir_base());
            let _ = writeln!(out, "  Jitsi tokens  {}", s.jitsi_base());
            let _ = writeln!(out, "  Notification  {}", s.notify_base());
            let _ = writeln!(
                out,
                "  check-in      POST {}/sandbox/check-in/{{appointmentId}}",
                s.url()
            );
            let _ = writeln!(out, "Ctrl-C stops it.");
            let _ = out.flush();
        },
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await
    .map_err(sandbox_err)?;
    Ok(exit::OK)
}

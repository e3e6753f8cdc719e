//! `demo` and `sandbox serve`.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand};
use hie_vc::{Error, ErrorKind, Result};
use hie_vc_cli::demo;
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

pub async fn demo(args: &DemoArgs) -> Result<u8> {
    demo::print_run(
        args.kafka.clone(),
        Duration::from_secs(args.arrival_timeout),
    )
    .await?;
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
    .map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("the embedded sandbox could not start: {e}"),
        )
    })?;
    Ok(exit::OK)
}

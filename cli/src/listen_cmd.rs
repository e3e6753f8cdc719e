//! `listen`: arriving VC Encounters as JSON lines on standard output (see
//! [`hie_vc_cli::listen`] for what is printed).

use clap::Args;
use hie_vc::listener::{Filter, ListenerBuilder};
use hie_vc::settings::Settings;
use hie_vc::Result;
use hie_vc_cli::listen::{self, Lines, ListenOutput};

use crate::exit;

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Print every Encounter, not only VC ones.
    #[arg(long)]
    all_encounters: bool,
    /// Stop after this many Encounters.
    #[arg(long)]
    max: Option<u64>,
    /// Report skipped records and Kafka problems as JSON lines on standard output too (with an
    /// "error" member instead of "encounter"), instead of text on standard error.
    #[arg(long)]
    json: bool,
}

pub async fn listen(args: &ListenArgs, settings: &Settings) -> Result<u8> {
    let builder = ListenerBuilder::from_settings(settings)?.filter(if args.all_encounters {
        Filter::AllEncounters
    } else {
        Filter::VcOnly
    });
    let output = ListenOutput {
        out: Lines::new(std::io::stdout()),
        err: Lines::new(std::io::stderr()),
        json: args.json,
    };
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = interrupted.clone();
    let ctrl_c = async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        } else {
            // No signal handling here: run until --max.
            std::future::pending::<()>().await;
        }
    };
    let seen = listen::run(builder, output, args.max, ctrl_c).await?;
    eprintln!("{seen} Encounters");
    Ok(if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        exit::INTERRUPTED
    } else {
        exit::OK
    })
}

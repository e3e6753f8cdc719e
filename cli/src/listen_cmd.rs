//! `listen`: arriving VC Encounters as JSON lines on standard output.

use std::io::Write;

use clap::Args;
use hie_vc::fhir;
use hie_vc::listener::{EncounterEvent, Filter, ListenerBuilder};
use hie_vc::settings::Settings;
use hie_vc::Result;
use serde_json::json;

use crate::exit;

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Print every Encounter, not only VC ones.
    #[arg(long)]
    all_encounters: bool,
    /// Stop after this many Encounters.
    #[arg(long)]
    max: Option<u64>,
}

/// One JSON line per Encounter: its VC view, its coordinates and the Encounter itself.
pub fn line(event: &EncounterEvent) -> serde_json::Value {
    let c = event.coordinates();
    let vc = event.vc().map(|v| {
        json!({
            "type": v.vc_type.code(),
            "token": v.token,
            "encounterNumber": v.encounter_number,
            "status": v.status.as_ref().map(|s| s.as_str().to_owned()),
            "patient": v.patient.as_ref().and_then(|r| r.reference.clone()),
            "practitioners": v.practitioners.iter().filter_map(|r| r.reference.clone()).collect::<Vec<_>>(),
            "organisation": v.organisation.as_ref().and_then(|r| r.reference.clone()),
        })
    });
    json!({
        "topic": &*c.topic,
        "partition": c.partition,
        "offset": c.offset,
        "vc": vc,
        "encounter": serde_json::from_str::<serde_json::Value>(&fhir::to_json(event.encounter())).unwrap_or_default(),
    })
}

pub async fn listen(args: &ListenArgs, settings: &Settings) -> Result<u8> {
    let max = args.max;
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<()>(1);
    let counter = seen.clone();
    let b = ListenerBuilder::from_settings(settings)?
        .filter(if args.all_encounters {
            Filter::AllEncounters
        } else {
            Filter::VcOnly
        })
        .on_error(|f| eprintln!("skipped a record: {} ({:?})", f.error, f.coordinates))
        .handler(move |event: EncounterEvent| {
            let counter = counter.clone();
            let stop_tx = stop_tx.clone();
            async move {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", line(&event))?;
                out.flush()?;
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if max.is_some_and(|m| n >= m) {
                    let _ = stop_tx.try_send(());
                }
                Ok::<(), std::io::Error>(())
            }
        });
    let listener = b.build()?;
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = interrupted.clone();
    let signal = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => flag.store(true, std::sync::atomic::Ordering::SeqCst),
            _ = stop_rx.recv() => {}
        }
    };
    let run = listener.run_until(signal).await;
    let closed = listener.close().await;
    run?;
    closed?;
    eprintln!(
        "{} Encounters",
        seen.load(std::sync::atomic::Ordering::SeqCst)
    );
    Ok(if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        exit::INTERRUPTED
    } else {
        exit::OK
    })
}

//! A listener process for crash tests and manual runs: appends the id of every handled
//! Encounter to a file, one per line, before acknowledging it. Stops gracefully (commit, leave
//! the group) when its standard input closes.
//!
//! ```text
//! cargo run -p hie-vc --example listen_count -- <bootstrap> <topic> <group> <out-file> [key=value...]
//! ```
//! Extra `key=value` arguments are librdkafka properties (e.g. `session.timeout.ms=6000`).
//! `HIEVC_LOG=debug` prints the listener's and librdkafka's logs to stderr.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hie_vc::listener::{EncounterEvent, KafkaConfig, Listener};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(level) = std::env::var("HIEVC_LOG") {
        let level = level.parse().unwrap_or(tracing::Level::INFO);
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: listen_count <bootstrap> <topic> <group> <out-file> [key=value...]";
    let [bootstrap, topic, group, out, props @ ..] = args.as_slice() else {
        return Err(usage.into());
    };
    let file = OpenOptions::new().create(true).append(true).open(out)?;
    let file = Arc::new(Mutex::new(file));
    let listener = Listener::builder()
        .kafka({
            let mut c = KafkaConfig::new(bootstrap, group).topic(topic);
            for p in props {
                let (k, v) = p.split_once('=').ok_or(usage)?;
                c = c.property(k, v);
            }
            c
        })
        .metrics_interval(Some(Duration::from_secs(5)))
        .handler(move |event: EncounterEvent| {
            let file = file.clone();
            async move {
                let line = format!("{}\n", event.encounter_id().unwrap_or("?"));
                // Written (to the page cache, which survives a kill -9) before the offset is
                // stored: at-least-once.
                file.lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .write_all(line.as_bytes())
            }
        })
        .build()?;
    let stop = listener.shutdown_handle();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        stop.shutdown();
    });
    println!("listening");
    listener.run().await?;
    let started = std::time::Instant::now();
    let closed = listener.close().await;
    eprintln!(
        "closed in {:?}: {:?}",
        started.elapsed(),
        closed.as_ref().map_err(|e| e.to_string())
    );
    closed?;
    Ok(())
}

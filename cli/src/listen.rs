//! What `hie-vc listen` prints: each arriving Encounter as a JSON line on standard output, and
//! each skipped record or Kafka problem in plain words on standard error — or, for scripts
//! (`--json`), as a JSON line on standard output, in the order it happened.
//!
//! A failure is described by its record's coordinates (`topic/partition@offset`), why it
//! failed, where in the resource (when known) and what became of the record. The error text of
//! a record that could not be read is not printed: it may quote the record's content, which is
//! patient data.

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hie_vc::fhir;
use hie_vc::listener::{
    DecodeErrorKind, Disposition, EncounterEvent, Failure, FailureReason, ListenerBuilder,
};
use hie_vc::Result;
use serde_json::json;

/// A line-oriented output shared by the listener's tasks: each line is written and flushed
/// whole, so lines from the handler and the error callback never interleave.
#[derive(Clone)]
pub struct Lines(Arc<Mutex<Box<dyn Write + Send>>>);

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lines")
    }
}

impl Lines {
    /// Lines written to `w`.
    pub fn new(w: impl Write + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(Box::new(w))))
    }
    /// Writes `line` and a newline, and flushes.
    pub fn line(&self, line: impl std::fmt::Display) -> std::io::Result<()> {
        // A panic while writing leaves nothing half-done that matters: keep writing.
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(w, "{line}")?;
        w.flush()
    }
}

/// How `listen` runs and reports.
#[derive(Debug, Clone)]
pub struct ListenOutput {
    /// Where Encounters go (and, with `json`, failures).
    pub out: Lines,
    /// Where failures go as text when `json` is off.
    pub err: Lines,
    /// Failures as JSON lines on `out` instead of text on `err`.
    pub json: bool,
}

/// One JSON line per Encounter: its VC view, its coordinates and the Encounter itself.
pub fn encounter_line(event: &EncounterEvent) -> serde_json::Value {
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

/// Why a record could not be read, in plain words.
fn unreadable(kind: DecodeErrorKind) -> String {
    let what = match kind {
        DecodeErrorKind::Empty => "is empty (a tombstone or an empty message)",
        DecodeErrorKind::TooLarge => "is larger than the largest message accepted",
        DecodeErrorKind::InvalidUtf8 => "is not UTF-8 text",
        DecodeErrorKind::NotJson => "is not JSON",
        DecodeErrorKind::TooDeep => "is nested too deeply",
        DecodeErrorKind::WrongResourceType => "is a FHIR resource but not an Encounter",
        DecodeErrorKind::MissingResourceType => "is JSON without a resourceType",
        DecodeErrorKind::NoEncounter => "is a Bundle without an Encounter",
        DecodeErrorKind::EnvelopeMissing => "holds nothing where the envelope pointer points",
        DecodeErrorKind::Invalid => "breaks the FHIR R4 rules",
        other => return format!("the message could not be read ({other})"),
    };
    format!("the message {what}")
}

/// Why `f` happened, in plain words (without the record's content).
pub fn describe(f: &Failure) -> String {
    let mut why = match f.reason {
        FailureReason::Decode(kind) => unreadable(kind),
        // `listen`'s handler only prints, so its errors are about standard output.
        FailureReason::Handler => format!(
            "printing it failed ({}) after {} attempt(s)",
            f.error.message(),
            f.attempts
        ),
        FailureReason::HandlerPanic => "printing it panicked".to_owned(),
        FailureReason::HandlerTimeout => "printing it took too long".to_owned(),
        FailureReason::DeadLetter => "it could not be written to the dead-letter topic".to_owned(),
        FailureReason::Store => "its offset could not be stored".to_owned(),
        // Source problems come from the Kafka client (brokers, group, commits), never from a
        // record's content: the message is what an operator needs.
        FailureReason::Source => format!("Kafka: {}", f.error.message()),
        other => format!("{other}: {}", f.error.kind()),
    };
    // `$` is the whole message: nothing to add.
    if let Some(at) = f.error.location().filter(|l| !l.is_empty() && *l != "$") {
        why.push_str(&format!(" (at {at})"));
    }
    why
}

/// What became of the record, in plain words; `None` when there is nothing to add.
fn fate(f: &Failure) -> Option<String> {
    match &f.disposition {
        Disposition::DeadLettered { topic } => Some(format!("sent to dead-letter topic {topic}")),
        Disposition::Skipped => None,
        _ if f.coordinates.is_some() => Some("it will be delivered again".to_owned()),
        _ => None,
    }
}

/// One line for a person: `skipped record vc/0@21: the message is not JSON; sent to
/// dead-letter topic dlq`.
pub fn failure_text(f: &Failure) -> String {
    let mut line = match (&f.coordinates, &f.disposition) {
        (Some(c), Disposition::Skipped | Disposition::DeadLettered { .. }) => {
            format!("skipped record {c}: {}", describe(f))
        }
        (Some(c), _) => format!("record {c}: {}", describe(f)),
        (None, _) => describe(f),
    };
    if let Some(fate) = fate(f) {
        line.push_str("; ");
        line.push_str(&fate);
    }
    line
}

/// One JSON line for a script: the record's `topic`, `partition` and `offset` (as on Encounter
/// lines; `null` for a problem not tied to a record) and an `error` object with the stable
/// `reason` (`decode/not_json`, `handler`, `source`, ...), the error `kind`, the plain-words
/// `description`, the `location`, the `attempts` and the `disposition` (`skipped`,
/// `dead_lettered` with `deadLetterTopic`, or `none`: not stored, will come again).
pub fn failure_json(f: &Failure) -> serde_json::Value {
    let c = f.coordinates.as_ref();
    let (disposition, dlq) = match &f.disposition {
        Disposition::DeadLettered { topic } => ("dead_lettered", Some(topic.as_str())),
        Disposition::Skipped => ("skipped", None),
        _ => ("none", None),
    };
    json!({
        "topic": c.map(|c| &*c.topic),
        "partition": c.map(|c| c.partition),
        "offset": c.map(|c| c.offset),
        "record": c.map(ToString::to_string),
        "error": {
            "reason": f.reason.to_string(),
            "kind": f.error.kind().as_str(),
            "description": failure_text(f),
            "location": f.error.location(),
            "attempts": f.attempts,
            "disposition": disposition,
            "deadLetterTopic": dlq,
        },
    })
}

/// Runs the listener `builder` (its source and filter set) until `stop` completes or `max`
/// Encounters were printed, then closes it. Returns how many Encounters were printed.
pub async fn run(
    builder: ListenerBuilder,
    output: ListenOutput,
    max: Option<u64>,
    stop: impl Future<Output = ()>,
) -> Result<u64> {
    let seen = Arc::new(AtomicU64::new(0));
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<()>(1);
    let report = output.clone();
    let counter = seen.clone();
    let out = output.out.clone();
    let listener = builder
        .on_error(move |f| {
            // Nowhere better to say that reporting failed: the listener goes on.
            let _ = if report.json {
                report.out.line(failure_json(f))
            } else {
                report
                    .err
                    .line(format_args!("hie-vc listen: {}", failure_text(f)))
            };
        })
        .handler(move |event: EncounterEvent| {
            let out = out.clone();
            let counter = counter.clone();
            let stop_tx = stop_tx.clone();
            async move {
                out.line(encounter_line(&event))?;
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                if max.is_some_and(|m| n >= m) {
                    let _ = stop_tx.try_send(());
                }
                Ok::<(), std::io::Error>(())
            }
        })
        .build()?;
    let until = async move {
        tokio::select! {
            () = stop => {}
            _ = stop_rx.recv() => {}
        }
    };
    let run = listener.run_until(until).await;
    let closed = listener.close().await;
    run?;
    closed?;
    Ok(seen.load(Ordering::SeqCst))
}

//! Source-independent listener settings: payload format, filter, dedupe, retries, dead-letter
//! topic and the time bounds of shutdown.

use std::time::Duration;

use super::decode::PayloadFormat;
use super::dedupe::DedupeWindow;
use crate::fhir::ReadMode;
use crate::Error;

/// Which Encounters reach the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Filter {
    /// Only VC Encounters: class VR, a VCI/VCE/VCMDT/VCD serviceType, or a vc-token
    /// identifier. Others are skipped (counted as filtered, offsets stored).
    #[default]
    VcOnly,
    /// Every Encounter; [`EncounterEvent::vc`](super::EncounterEvent::vc) is `None` for the
    /// non-VC ones.
    AllEncounters,
}

crate::names::names!(Filter, "listener filter" { VcOnly => "vc_only", AllEncounters => "all" });

// Handler retries use the SDK's one retry policy (see its docs for what the listener reads).
pub use crate::retry::RetryPolicy;

/// Source-independent listener settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ListenerOptions {
    /// Payload layout.
    pub format: PayloadFormat,
    /// Which Encounters reach the handler.
    pub filter: Filter,
    /// Strict (default: refuse what R4 forbids) or lenient reads.
    pub read_mode: ReadMode,
    /// Larger payloads are refused without parsing (default 1 MiB, Kafka's default record
    /// limit).
    pub max_message_bytes: usize,
    /// Most payload bytes handed to partition workers and not finished yet (default 8 MiB):
    /// the listener's own buffer on top of librdkafka's queue (`queued.max.messages.kbytes`),
    /// deep enough that one busy partition does not starve the others.
    pub max_buffered_bytes: usize,
    /// Suppress repeated Encounter versions (off by default).
    pub dedupe: Option<DedupeWindow>,
    /// Handler retries.
    pub retry: RetryPolicy,
    /// Bound on one handler attempt (`None`: no bound).
    pub handler_timeout: Option<Duration>,
    /// Where failed records go; without one they are reported to the error callback only.
    pub dead_letter_topic: Option<String>,
    /// How long shutdown and rebalances wait for handler calls in flight (default 10 s).
    pub drain_timeout: Duration,
    /// How long `close` may take to commit and leave the group (default 10 s).
    pub close_timeout: Duration,
    /// How often metrics are emitted through `tracing` (`None`: never; default 30 s).
    pub metrics_interval: Option<Duration>,
    /// Records of one partition in the handler at once (default 1: one after the other).
    /// Above 1 a partition's handler calls overlap, each with its own retries and dead-letter
    /// path, while offsets are still stored in partition order (up to the first record not
    /// finished).
    pub max_in_flight_per_partition: usize,
}

impl Default for ListenerOptions {
    fn default() -> Self {
        Self {
            format: PayloadFormat::Auto,
            filter: Filter::VcOnly,
            read_mode: ReadMode::Strict,
            max_message_bytes: 1024 * 1024,
            max_buffered_bytes: 8 * 1024 * 1024,
            dedupe: None,
            retry: RetryPolicy::default(),
            handler_timeout: None,
            dead_letter_topic: None,
            drain_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(10),
            metrics_interval: Some(Duration::from_secs(30)),
            max_in_flight_per_partition: 1,
        }
    }
}

impl ListenerOptions {
    /// The defaults with what the settings say about listening: `[kafka] dead_letter_topic`
    /// (what every front end must apply, so it is applied here once).
    pub fn from_settings(settings: &crate::settings::Settings) -> Self {
        Self {
            dead_letter_topic: settings.kafka.dead_letter_topic.clone(),
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.max_message_bytes == 0 {
            return Err(Error::config("max_message_bytes must be above 0"));
        }
        if self.max_buffered_bytes < 1024 {
            return Err(Error::config("max_buffered_bytes must be at least 1 KiB"));
        }
        if let Some(t) = &self.dead_letter_topic {
            if t.trim().is_empty() {
                return Err(Error::config(
                    "the dead-letter topic name is empty: set a name or leave it unset",
                ));
            }
        }
        if self.handler_timeout.is_some_and(|d| d.is_zero()) {
            return Err(Error::config(
                "handler_timeout of 0 would fail every call: set a positive bound or none",
            ));
        }
        if self.max_in_flight_per_partition == 0 {
            return Err(Error::config(
                "max_in_flight_per_partition of 0 would handle nothing: set 1 (one record at a time) or more",
            ));
        }
        if self.dedupe.is_some_and(|w| w.max_entries == 0) {
            return Err(Error::config(
                "dedupe window of 0 entries remembers nothing: set max_entries or turn dedupe off",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy::default()
            .jitter(0.0)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350));
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(350));
        assert_eq!(p.backoff(30), Duration::from_millis(350));
        let j = RetryPolicy::default().jitter(0.5);
        for _ in 0..50 {
            let d = j.backoff(1);
            assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(300));
        }
    }
}

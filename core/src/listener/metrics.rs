//! Listener metrics: counters, throughput, handler latency and per-partition lag, read as a
//! [`MetricsSnapshot`] at any time and emitted periodically through `tracing` (target
//! `hie_vc::listener::metrics`).
//!
//! Counters are lock-free atomics because every partition worker updates them per message;
//! latency goes into a fixed log-scale histogram (4 buckets per power of two, so percentiles
//! are within ~19 %) instead of keeping samples, so memory stays constant.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Lag of one partition, from librdkafka statistics (Kafka) or the in-memory log. JSON
/// (camelCase): `{"topic", "partition", "lag", "lagStored", "highWatermark",
/// "committedOffset"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionLag {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Records between the last committed offset and the end of the partition.
    pub lag: Option<i64>,
    /// Records between the last stored (handled) offset and the end of the partition.
    pub lag_stored: Option<i64>,
    /// The end of the partition (high watermark).
    pub high_watermark: Option<i64>,
    /// The last committed offset (next record to read after a restart).
    pub committed_offset: Option<i64>,
}

const SUB: u32 = 4; // buckets per power of two
const BUCKETS: usize = 40 * SUB as usize; // 1 µs .. 2^40 µs (12 days)

/// Handler latency histogram.
struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_us: AtomicU64,
    max_us: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }
    fn index(us: u64) -> usize {
        if us <= 1 {
            return 0;
        }
        let log2 = 63 - us.leading_zeros();
        // The two bits under the leading one pick the sub-bucket.
        let frac = if log2 >= 2 {
            ((us >> (log2 - 2)) & 0b11) as u32
        } else {
            ((us << (2 - log2)) & 0b11) as u32
        };
        ((log2 * SUB + frac) as usize).min(BUCKETS - 1)
    }
    /// Upper bound (µs) of bucket `i`.
    fn upper(i: usize) -> u64 {
        let log2 = (i as u32) / SUB;
        let frac = u64::from((i as u32) % SUB);
        let base = 1u64 << log2;
        base + ((base * (frac + 1)) >> 2)
    }
    fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.buckets[Self::index(us)].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
        self.max_us.fetch_max(us, Relaxed);
    }
    fn summary(&self) -> LatencySummary {
        let count = self.count.load(Relaxed);
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        let max = self.max_us.load(Relaxed);
        let pct = |p: f64| -> Duration {
            if total == 0 {
                return Duration::ZERO;
            }
            let rank = ((total as f64) * p).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return Duration::from_micros(Self::upper(i).min(max));
                }
            }
            Duration::from_micros(max)
        };
        LatencySummary {
            count,
            mean: Duration::from_micros(self.sum_us.load(Relaxed).checked_div(count).unwrap_or(0)),
            p50: pct(0.50),
            p90: pct(0.90),
            p99: pct(0.99),
            max: Duration::from_micros(max),
        }
    }
}

/// Handler latency (per successful or failed attempt). JSON: `{"count", "mean", "p50",
/// "p90", "p99", "max"}`, durations in whole microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LatencySummary {
    /// Attempts measured.
    pub count: u64,
    /// Mean.
    pub mean: Duration,
    /// Median (bucket upper bound).
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
}

/// A point-in-time view of a listener's metrics.
///
/// JSON (camelCase): `{"uptimeMs", "received", "handled", "filtered", "deduplicated",
/// "decodeErrors", "handlerFailures", "retries", "deadLettered", "deadLetterFailures",
/// "sourceErrors", "processed", "messagesPerSecond", "averageMessagesPerSecond",
/// "handlerLatencyUs", "totalLag", "partitions"}` (`processed` and `totalLag` as the methods
/// of those names; `handlerLatencyUs` as [`LatencySummary`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsSnapshot {
    /// Since the listener was built.
    pub uptime: Duration,
    /// Records received from the source.
    pub received: u64,
    /// Records whose handler returned Ok.
    pub handled: u64,
    /// Records skipped by the filter (not a VC Encounter).
    pub filtered: u64,
    /// Records suppressed as duplicates.
    pub deduplicated: u64,
    /// Records that could not be decoded.
    pub decode_errors: u64,
    /// Records whose handler failed on every attempt.
    pub handler_failures: u64,
    /// Handler attempts repeated after a failure.
    pub retries: u64,
    /// Records written to the dead-letter topic.
    pub dead_lettered: u64,
    /// Dead-letter writes that failed.
    pub dead_letter_failures: u64,
    /// Problems reported by the source (broker unreachable, commit failed, ...).
    pub source_errors: u64,
    /// Records whose processing finished (handled, filtered, deduplicated or failed) per
    /// second over the last ~10 seconds.
    pub messages_per_second: f64,
    /// The same since the first record.
    pub average_messages_per_second: f64,
    /// Handler latency.
    pub handler_latency: LatencySummary,
    /// Per-partition lag (Kafka: from the latest librdkafka statistics).
    pub partitions: Vec<PartitionLag>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl serde::Serialize for LatencySummary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("LatencySummary", 6)?;
        m.serialize_field("count", &self.count)?;
        m.serialize_field("mean", &micros(self.mean))?;
        m.serialize_field("p50", &micros(self.p50))?;
        m.serialize_field("p90", &micros(self.p90))?;
        m.serialize_field("p99", &micros(self.p99))?;
        m.serialize_field("max", &micros(self.max))?;
        m.end()
    }
}

impl serde::Serialize for MetricsSnapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("MetricsSnapshot", 17)?;
        let uptime_ms = u64::try_from(self.uptime.as_millis()).unwrap_or(u64::MAX);
        m.serialize_field("uptimeMs", &uptime_ms)?;
        m.serialize_field("received", &self.received)?;
        m.serialize_field("handled", &self.handled)?;
        m.serialize_field("filtered", &self.filtered)?;
        m.serialize_field("deduplicated", &self.deduplicated)?;
        m.serialize_field("decodeErrors", &self.decode_errors)?;
        m.serialize_field("handlerFailures", &self.handler_failures)?;
        m.serialize_field("retries", &self.retries)?;
        m.serialize_field("deadLettered", &self.dead_lettered)?;
        m.serialize_field("deadLetterFailures", &self.dead_letter_failures)?;
        m.serialize_field("sourceErrors", &self.source_errors)?;
        m.serialize_field("processed", &self.processed())?;
        m.serialize_field("messagesPerSecond", &self.messages_per_second)?;
        m.serialize_field(
            "averageMessagesPerSecond",
            &self.average_messages_per_second,
        )?;
        m.serialize_field("handlerLatencyUs", &self.handler_latency)?;
        m.serialize_field("totalLag", &self.total_lag())?;
        m.serialize_field("partitions", &self.partitions)?;
        m.end()
    }
}

impl MetricsSnapshot {
    /// Total lag over all partitions with a known lag.
    pub fn total_lag(&self) -> i64 {
        self.partitions.iter().filter_map(|p| p.lag).sum()
    }
    /// Records whose processing finished, whatever the outcome.
    pub fn processed(&self) -> u64 {
        self.handled
            + self.filtered
            + self.deduplicated
            + self.decode_errors
            + self.handler_failures
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub received: AtomicU64,
    pub handled: AtomicU64,
    pub filtered: AtomicU64,
    pub deduplicated: AtomicU64,
    pub decode_errors: AtomicU64,
    pub handler_failures: AtomicU64,
    pub retries: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub dead_letter_failures: AtomicU64,
    pub source_errors: AtomicU64,
}

pub(crate) struct MetricsInner {
    pub counters: Counters,
    latency: Histogram,
    started: Instant,
    first_processed: OnceLock<Instant>,
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

/// Live metrics of a listener; clones share them.
#[derive(Clone)]
pub(crate) struct Metrics {
    pub inner: Arc<MetricsInner>,
}

impl Metrics {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(MetricsInner {
                counters: Counters::default(),
                latency: Histogram::new(),
                started: Instant::now(),
                first_processed: OnceLock::new(),
                samples: Mutex::new(VecDeque::new()),
            }),
        }
    }
    pub fn c(&self) -> &Counters {
        &self.inner.counters
    }
    pub fn handler_latency(&self, d: Duration) {
        self.inner.latency.record(d);
    }
    /// Marks the first processed record (the start of the average rate).
    pub fn mark_processed(&self) {
        self.inner.first_processed.get_or_init(Instant::now);
    }
    /// Takes a throughput sample (called about once a second by the listener).
    pub fn sample(&self) {
        let processed = self.processed();
        let now = Instant::now();
        let mut s = self.inner.samples.lock().unwrap_or_else(|p| p.into_inner());
        s.push_back((now, processed));
        while s.len() > 11 {
            s.pop_front();
        }
    }
    fn processed(&self) -> u64 {
        let c = &self.inner.counters;
        c.handled.load(Relaxed)
            + c.filtered.load(Relaxed)
            + c.deduplicated.load(Relaxed)
            + c.decode_errors.load(Relaxed)
            + c.handler_failures.load(Relaxed)
    }
    pub fn snapshot(&self, partitions: Vec<PartitionLag>) -> MetricsSnapshot {
        let c = &self.inner.counters;
        let now = Instant::now();
        let processed = self.processed();
        let rate = {
            let s = self.inner.samples.lock().unwrap_or_else(|p| p.into_inner());
            match s.front() {
                Some(&(t, n)) if now.duration_since(t) >= Duration::from_millis(500) => {
                    processed.saturating_sub(n) as f64 / now.duration_since(t).as_secs_f64()
                }
                _ => 0.0,
            }
        };
        let first = self.inner.first_processed.get().copied();
        let average = match first {
            Some(t) if now.duration_since(t) > Duration::ZERO => {
                processed as f64 / now.duration_since(t).as_secs_f64()
            }
            _ => 0.0,
        };
        MetricsSnapshot {
            uptime: now.duration_since(self.inner.started),
            received: c.received.load(Relaxed),
            handled: c.handled.load(Relaxed),
            filtered: c.filtered.load(Relaxed),
            deduplicated: c.deduplicated.load(Relaxed),
            decode_errors: c.decode_errors.load(Relaxed),
            handler_failures: c.handler_failures.load(Relaxed),
            retries: c.retries.load(Relaxed),
            dead_lettered: c.dead_lettered.load(Relaxed),
            dead_letter_failures: c.dead_letter_failures.load(Relaxed),
            source_errors: c.source_errors.load(Relaxed),
            messages_per_second: rate,
            average_messages_per_second: average,
            handler_latency: self.inner.latency.summary(),
            partitions,
        }
    }
}

/// Emits a snapshot through `tracing`.
pub(crate) fn emit(s: &MetricsSnapshot) {
    tracing::info!(
        target: "hie_vc::listener::metrics",
        received = s.received,
        handled = s.handled,
        filtered = s.filtered,
        deduplicated = s.deduplicated,
        decode_errors = s.decode_errors,
        handler_failures = s.handler_failures,
        retries = s.retries,
        dead_lettered = s.dead_lettered,
        source_errors = s.source_errors,
        messages_per_second = s.messages_per_second,
        latency_p50_us = s.handler_latency.p50.as_micros() as u64,
        latency_p99_us = s.handler_latency.p99.as_micros() as u64,
        total_lag = s.total_lag(),
        "listener metrics"
    );
    for p in &s.partitions {
        tracing::debug!(
            target: "hie_vc::listener::metrics",
            topic = %p.topic,
            partition = p.partition,
            lag = p.lag,
            lag_stored = p.lag_stored,
            high_watermark = p.high_watermark,
            committed_offset = p.committed_offset,
            "partition lag"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_bound_their_values() {
        for us in [1u64, 2, 3, 5, 7, 100, 1_000, 12_345, 999_999, 60_000_000] {
            let i = Histogram::index(us);
            assert!(Histogram::upper(i) >= us, "{us} in bucket {i}");
            // within ~25 % above
            assert!(Histogram::upper(i) as f64 <= us as f64 * 1.26 + 1.0, "{us}");
        }
    }

    #[test]
    fn percentiles_follow_the_distribution() {
        let h = Histogram::new();
        for _ in 0..90 {
            h.record(Duration::from_micros(100));
        }
        for _ in 0..10 {
            h.record(Duration::from_millis(50));
        }
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert!(s.p50 >= Duration::from_micros(100) && s.p50 < Duration::from_micros(130));
        assert!(s.p99 >= Duration::from_millis(50) && s.p99 <= Duration::from_millis(63));
        assert_eq!(s.max, Duration::from_millis(50));
    }
}

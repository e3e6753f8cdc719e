//! The librdkafka callbacks of the Kafka source: rebalances (drain, then commit, before
//! partitions move), statistics (per-partition lag), errors (classified, rate-limited) and
//! log lines (to `tracing`, the last problem kept to explain errors).
//!
//! All callbacks run on the source's poll thread, inside `poll`, so they may block it briefly;
//! a revoke blocks it on purpose until the listener has stored what it finished.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;
use rdkafka::TopicPartitionList;
use tokio::sync::mpsc;

use super::event::SourceMessage;
use super::metrics::PartitionLag;
use super::source::{RevokeDone, SourceEvent, TopicPartition};
use crate::{Error, ErrorKind};

/// The same warning is reported at most once per this period (a broker that is down would
/// otherwise report on every reconnect attempt).
const WARN_EVERY: Duration = Duration::from_secs(10);

/// State shared by the poll thread, the callbacks and the source handle.
pub(crate) struct Shared {
    /// Events to the listener; `None` once it stopped listening.
    pub tx: Mutex<Option<mpsc::Sender<SourceEvent>>>,
    /// Records polled but not sent yet: flushed before a revoke so order is kept.
    pub pending: Mutex<Vec<SourceMessage>>,
    /// How long a revoke waits for the listener.
    pub drain_timeout: Mutex<Duration>,
    pub lag: Mutex<Vec<PartitionLag>>,
    last_warn: Mutex<HashMap<String, Instant>>,
    last_problem: Mutex<Option<String>>,
    /// For messages: who is authenticating.
    pub sasl_desc: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a plain assignment or push; a panic elsewhere cannot
    // leave the data half-updated, so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(sasl_desc: Option<String>) -> Self {
        Self {
            tx: Mutex::new(None),
            pending: Mutex::new(Vec::new()),
            drain_timeout: Mutex::new(Duration::from_secs(10)),
            lag: Mutex::new(Vec::new()),
            last_warn: Mutex::new(HashMap::new()),
            last_problem: Mutex::new(None),
            sasl_desc,
        }
    }

    pub fn sender(&self) -> Option<mpsc::Sender<SourceEvent>> {
        lock(&self.tx).clone()
    }

    pub fn lag(&self) -> Vec<PartitionLag> {
        lock(&self.lag).clone()
    }

    /// Sends what was polled so far. `false` when the listener stopped listening.
    pub fn flush_pending(&self) -> bool {
        let batch = std::mem::take(&mut *lock(&self.pending));
        if batch.is_empty() {
            return true;
        }
        self.send(SourceEvent::Messages(batch))
    }

    pub fn push_pending(&self, m: SourceMessage) -> usize {
        let mut p = lock(&self.pending);
        p.push(m);
        p.len()
    }

    /// Sends an event, blocking while the listener's queue is full (back-pressure).
    pub fn send(&self, ev: SourceEvent) -> bool {
        match self.sender() {
            Some(tx) => tx.blocking_send(ev).is_ok(),
            None => false,
        }
    }

    /// Classifies a client error and reports it: fatal ones stop the listener, the others
    /// are warnings (at most one per kind every few seconds).
    pub fn report(&self, e: &KafkaError, reason: Option<&str>) {
        let code = e.rdkafka_error_code();
        if code == Some(RDKafkaErrorCode::NoOffset) {
            return; // "nothing to commit" is not a problem
        }
        let detail = reason
            .map(str::to_owned)
            .or_else(|| lock(&self.last_problem).clone());
        let (fatal, kind, what) = classify(e, detail.as_deref(), self.sasl_desc.as_deref());
        let mut message = what;
        if let Some(d) = detail.filter(|d| !d.is_empty()) {
            message.push_str(" (librdkafka: ");
            message.push_str(&d);
            message.push(')');
        }
        let err = Error::new(kind, message);
        if fatal {
            let _ = self.try_send(SourceEvent::Fatal(err));
            return;
        }
        let key = format!("{e}");
        {
            let mut seen = lock(&self.last_warn);
            let now = Instant::now();
            if seen
                .get(&key)
                .is_some_and(|t| now.duration_since(*t) < WARN_EVERY)
            {
                return;
            }
            seen.insert(key, now);
        }
        let _ = self.try_send(SourceEvent::Warning(err));
    }

    fn try_send(&self, ev: SourceEvent) -> bool {
        match self.sender() {
            Some(tx) => tx.try_send(ev).is_ok(),
            None => false,
        }
    }
}

/// A TLS failure that retrying cannot fix, told by librdkafka only in its text (the error code
/// is `_SSL` or `_TRANSPORT` for these as for a broker that merely went away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsFailure {
    /// This side refused the broker's certificate: unknown CA, expired, or another host name.
    BrokerCertificate,
    /// The broker refused this side's certificate (mutual TLS), or wanted one and got none.
    ClientCertificate,
}

impl TlsFailure {
    /// Reads librdkafka's text (OpenSSL's reason strings, lower-cased).
    fn of(detail: &str) -> Option<Self> {
        let d = detail.to_ascii_lowercase();
        if d.contains("certificate verify failed") {
            Some(Self::BrokerCertificate)
        } else if [
            "alert bad certificate",
            "alert certificate required",
            "alert unknown ca",
            "alert certificate unknown",
            "alert certificate expired",
            "alert certificate revoked",
            "alert unsupported certificate",
        ]
        .iter()
        .any(|p| d.contains(p))
        {
            Some(Self::ClientCertificate)
        } else {
            None
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::BrokerCertificate => "the Kafka broker's TLS certificate was refused: it is not signed by a CA this client trusts (kafka.ssl_ca_location, else the system's CAs), has expired, or is not issued for the broker's host name (host names are checked unless kafka.ssl_verify_hostname is false)",
            Self::ClientCertificate => "the Kafka broker refused this client's TLS certificate (mutual TLS): set kafka.ssl_certificate_location and kafka.ssl_key_location to a certificate signed by a CA the broker trusts",
        }
    }
}

/// (fatal, kind, message) for a client error; `detail` is librdkafka's explanation.
fn classify(e: &KafkaError, detail: Option<&str>, sasl: Option<&str>) -> (bool, ErrorKind, String) {
    use RDKafkaErrorCode as C;
    let code = e.rdkafka_error_code();
    if matches!(
        code,
        Some(C::SSL | C::BrokerTransportFailure | C::AllBrokersDown)
    ) {
        if let Some(tls) = detail.and_then(TlsFailure::of) {
            return (true, ErrorKind::Tls, tls.message().to_owned());
        }
    }
    match code {
        Some(C::Authentication | C::SaslAuthenticationFailed) => (
            true,
            ErrorKind::Unauthorized,
            format!(
                "Kafka authentication failed{}: the broker refused the credentials; check the user name, password and SASL mechanism",
                sasl.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
        ),
        Some(
            C::TopicAuthorizationFailed
            | C::GroupAuthorizationFailed
            | C::ClusterAuthorizationFailed,
        ) => (
            true,
            ErrorKind::Forbidden,
            format!("Kafka refused access: {e}; ask for read access to the topics and the consumer group"),
        ),
        Some(C::AllBrokersDown | C::BrokerTransportFailure | C::Resolve) => (
            false,
            ErrorKind::Transport,
            format!("Kafka brokers unreachable: {e}; the listener keeps retrying"),
        ),
        _ if matches!(e, KafkaError::MessageConsumptionFatal(_)) => (
            true,
            ErrorKind::Kafka,
            format!("fatal Kafka client error: {e}"),
        ),
        _ => (false, ErrorKind::Kafka, format!("Kafka client error: {e}")),
    }
}

/// The consumer's context.
pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, line: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility = fac, "{line}");
                *lock(&self.shared.last_problem) = Some(line.to_owned());
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", facility = fac, "{line}");
                *lock(&self.shared.last_problem) = Some(line.to_owned());
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility = fac, "{line}")
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "librdkafka", facility = fac, "{line}")
            }
        }
    }

    fn stats(&self, s: Statistics) {
        let mut out = Vec::new();
        for (name, topic) in &s.topics {
            for (id, p) in &topic.partitions {
                // -1 is librdkafka's internal "unassigned" partition; `desired` marks ours.
                if *id < 0 || !p.desired {
                    continue;
                }
                let known = |v: i64| (v >= 0).then_some(v);
                out.push(PartitionLag {
                    topic: name.clone(),
                    partition: *id,
                    lag: known(p.consumer_lag),
                    lag_stored: known(p.consumer_lag_stored),
                    high_watermark: known(p.hi_offset),
                    committed_offset: known(p.committed_offset),
                });
            }
        }
        out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        *lock(&self.shared.lag) = out;
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.shared.report(&error, Some(reason));
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

impl ConsumerContext for Ctx {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let parts = partitions(tpl);
                tracing::info!(target: "hie_vc::listener", partitions = ?parts, "partitions revoked");
                // Records polled before the revoke go first, so the listener sees them in order
                // and drops the ones it will not handle.
                if self.shared.flush_pending() {
                    let (done, wait) = RevokeDone::pair();
                    if self.shared.send(SourceEvent::Revoked {
                        partitions: parts,
                        done,
                    }) {
                        let bound = *lock(&self.shared.drain_timeout) + Duration::from_secs(1);
                        if !wait.wait(bound) {
                            tracing::warn!(target: "hie_vc::listener", "listener did not finish revoked partitions in time; unfinished records will be redelivered to the next owner");
                        }
                    }
                }
                // No commit here: with auto-commit on, librdkafka commits the stored offsets of
                // the partitions it removes and waits for that commit before the group moves
                // on, so the next owner starts right after the last handled record.
            }
            Rebalance::Assign(tpl) => {
                let parts = partitions(tpl);
                tracing::info!(target: "hie_vc::listener", partitions = ?parts, "partitions assigned");
                self.shared.send(SourceEvent::Assigned(parts));
            }
            Rebalance::Error(e) => self.shared.report(e, None),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            self.shared.report(&e, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(code: RDKafkaErrorCode) -> KafkaError {
        KafkaError::Global(code)
    }

    #[test]
    fn certificate_failures_are_fatal_tls_errors_and_other_ssl_trouble_is_not() {
        // Lines as librdkafka 2.12 writes them against tests/services/kafka.sh's listeners.
        let wrong_ca = "ssl://127.0.0.1:9095/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured or root CA certificates are installed (install ca-certificates package) (after 151ms in state SSL_HANDSHAKE)";
        let (fatal, kind, msg) = classify(&global(RDKafkaErrorCode::SSL), Some(wrong_ca), None);
        assert!(fatal);
        assert_eq!(kind, ErrorKind::Tls);
        assert!(msg.contains("certificate was refused") && msg.contains("ssl_ca_location"));

        let no_client_cert = "ssl://127.0.0.1:9097/bootstrap: Receive failed: error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42 (after 0ms in state APIVERSION_QUERY)";
        let (fatal, kind, msg) = classify(
            &global(RDKafkaErrorCode::BrokerTransportFailure),
            Some(no_client_cert),
            None,
        );
        assert!(fatal);
        assert_eq!(kind, ErrorKind::Tls);
        assert!(msg.contains("ssl_certificate_location"), "{msg}");

        // A broker going away in the middle of a handshake is retried, not fatal.
        let gone = "ssl://127.0.0.1:9095/1: SSL handshake failed: Disconnected: connecting to a PLAINTEXT broker listener? (after 2ms in state SSL_HANDSHAKE)";
        let (fatal, kind, _) = classify(&global(RDKafkaErrorCode::SSL), Some(gone), None);
        assert!(!fatal);
        assert_eq!(kind, ErrorKind::Kafka);
        let (fatal, kind, _) = classify(
            &global(RDKafkaErrorCode::AllBrokersDown),
            Some("1/1 brokers are down"),
            None,
        );
        assert!(!fatal);
        assert_eq!(kind, ErrorKind::Transport);
        // Certificate words in an unrelated error do not make it a TLS failure.
        let (_, kind, _) = classify(
            &global(RDKafkaErrorCode::UnknownTopicOrPartition),
            Some("certificate verify failed"),
            None,
        );
        assert_ne!(kind, ErrorKind::Tls);
    }
}

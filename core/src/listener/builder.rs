//! Building a listener: a source (Kafka, in-memory or custom), the options, the handler and
//! the error callback.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};

use super::config::KafkaConfig;
use super::decode::PayloadFormat;
use super::dedupe::{Dedupe, DedupeWindow};
use super::handler::{log_failure, ErrorCallback, Failure, Handler};
use super::kafka::KafkaSource;
use super::memory::MemoryBroker;
use super::metrics::Metrics;
use super::options::{Filter, ListenerOptions, RetryPolicy};
use super::queue::{Channel, Queue};
use super::runner::{Listener, ShutdownHandle};
use super::source::EventSource;
use super::worker::{Pipeline, Target};
use crate::fhir::ReadMode;
use crate::settings::Settings;
use crate::Error;

enum SourceSpec {
    Kafka(Box<KafkaConfig>),
    Custom(Box<dyn EventSource>),
}

/// Builds a [`Listener`].
///
/// ```no_run
/// use hie_vc::listener::{KafkaConfig, Listener, DedupeWindow, EncounterEvent};
/// # async fn demo() -> Result<(), hie_vc::Error> {
/// let listener = Listener::builder()
///     .kafka(KafkaConfig::new("127.0.0.1:9092", "clinic-a").topic("vc-encounters"))
///     .dedupe(DedupeWindow::default())
///     .dead_letter_topic("vc-encounters.dlq")
///     .handler(|event: EncounterEvent| async move {
///         if let Some(vc) = event.vc() {
///             println!("{} encounter {:?}", vc.vc_type, vc.id);
///         }
///         Ok::<(), std::convert::Infallible>(())
///     })
///     .on_error(|failure| eprintln!("{} at {:?}", failure.reason, failure.coordinates))
///     .build()?;
/// listener.run_until(async { /* e.g. tokio::signal::ctrl_c().await */ }).await?;
/// listener.close().await?;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Default)]
pub struct ListenerBuilder {
    source: Option<SourceSpec>,
    options: ListenerOptions,
    handler: Option<Arc<dyn Handler>>,
    on_error: Option<ErrorCallback>,
    dedupe_store: Option<Dedupe>,
}

impl fmt::Debug for ListenerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Some(SourceSpec::Kafka(c)) => c.describe(),
            Some(SourceSpec::Custom(s)) => s.describe(),
            None => "none".to_owned(),
        };
        f.debug_struct("ListenerBuilder")
            .field("source", &source)
            .field("options", &self.options)
            .field("handler", &self.handler.is_some())
            .finish()
    }
}

impl Listener {
    /// A builder.
    pub fn builder() -> ListenerBuilder {
        ListenerBuilder::default()
    }
}

impl ListenerBuilder {
    /// A Kafka listener as the settings describe it: the consumer from `[kafka]`
    /// ([`crate::settings::KafkaSettings::to_config`]) and the options from
    /// [`ListenerOptions::from_settings`] (the dead-letter topic). Add the handler, and any
    /// option the settings do not hold, then build.
    pub fn from_settings(settings: &Settings) -> Result<Self, Error> {
        Ok(Listener::builder()
            .kafka(settings.kafka.to_config()?)
            .options(ListenerOptions::from_settings(settings)))
    }
    /// Reads from Kafka (the production source).
    pub fn kafka(mut self, config: KafkaConfig) -> Self {
        self.source = Some(SourceSpec::Kafka(Box::new(config)));
        self
    }
    /// Reads `topics` of an in-memory broker as consumer group `group`.
    pub fn memory<I, S>(self, broker: &MemoryBroker, group: &str, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.source(broker.source(group, topics))
    }
    /// Reads from any source.
    pub fn source(mut self, source: impl EventSource) -> Self {
        self.source = Some(SourceSpec::Custom(Box::new(source)));
        self
    }
    /// Replaces all options at once.
    pub fn options(mut self, options: ListenerOptions) -> Self {
        self.options = options;
        self
    }
    /// Payload layout (default: auto).
    pub fn format(mut self, format: PayloadFormat) -> Self {
        self.options.format = format;
        self
    }
    /// Which Encounters reach the handler (default: VC only).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.options.filter = filter;
        self
    }
    /// Strict (default) or lenient FHIR reads.
    pub fn read_mode(mut self, mode: ReadMode) -> Self {
        self.options.read_mode = mode;
        self
    }
    /// Largest accepted payload (default 1 MiB).
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.options.max_message_bytes = n;
        self
    }
    /// Most payload bytes buffered in the listener (default 8 MiB).
    pub fn max_buffered_bytes(mut self, n: usize) -> Self {
        self.options.max_buffered_bytes = n;
        self
    }
    /// Turns dedupe on with its own store.
    pub fn dedupe(mut self, window: DedupeWindow) -> Self {
        self.options.dedupe = Some(window);
        self
    }
    /// Turns dedupe on with a store shared with other listeners of this process.
    pub fn dedupe_store(mut self, store: Dedupe) -> Self {
        self.dedupe_store = Some(store);
        self
    }
    /// Handler retries (default: 3, exponential from 200 ms).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = policy;
        self
    }
    /// Bound on one handler attempt.
    pub fn handler_timeout(mut self, d: Duration) -> Self {
        self.options.handler_timeout = Some(d);
        self
    }
    /// Where failed records go.
    pub fn dead_letter_topic(mut self, topic: impl Into<String>) -> Self {
        self.options.dead_letter_topic = Some(topic.into());
        self
    }
    /// How long shutdown and rebalances wait for handler calls in flight (default 10 s).
    pub fn drain_timeout(mut self, d: Duration) -> Self {
        self.options.drain_timeout = d;
        self
    }
    /// How long `close` may take to commit and leave the group (default 10 s: leaving takes
    /// well under a second on an idle broker, several on a loaded machine).
    pub fn close_timeout(mut self, d: Duration) -> Self {
        self.options.close_timeout = d;
        self
    }
    /// How many records of one partition may be in the handler at once (default 1: one after
    /// the other). Above 1, a partition's handler calls overlap (each with its own retries and
    /// dead-letter path) while offsets are still stored in partition order, up to the first
    /// record not finished. [`Queue::next_batch`] raises it to the batch size.
    pub fn max_in_flight_per_partition(mut self, n: usize) -> Self {
        self.options.max_in_flight_per_partition = n;
        self
    }
    /// How often metrics go to `tracing` (`None`: never; default 30 s).
    pub fn metrics_interval(mut self, every: Option<Duration>) -> Self {
        self.options.metrics_interval = every;
        self
    }
    /// The handler (a closure `Fn(EncounterEvent) -> impl Future<Output = Result<(), E>>` or
    /// a [`Handler`] object).
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }
    /// A handler shared with other listeners.
    pub fn shared_handler(mut self, handler: Arc<dyn Handler>) -> Self {
        self.handler = Some(handler);
        self
    }
    /// The error callback (default: a `tracing` warning with coordinates and reason).
    pub fn on_error(mut self, f: impl Fn(&Failure) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(f));
        self
    }

    /// Checks the settings and creates the source (for Kafka: the consumer, whose
    /// configuration librdkafka checks now). Nothing connects until `run`.
    pub fn build(mut self) -> Result<Listener, Error> {
        let handler = self.handler.take().ok_or_else(|| {
            Error::config(
                "no handler: set one with .handler(|event| async move { ... }), or pull events with .build_queue()",
            )
        })?;
        self.assemble(Target::Handler(handler))
    }

    /// Builds the listener in pull form: events go to the returned [`Queue`] instead of a
    /// handler (see its docs). A [`Error::config`] when a handler was set too (it would
    /// never be called).
    pub fn build_queue(self) -> Result<Queue, Error> {
        if self.handler.is_some() {
            return Err(Error::config(
                "a handler was set, but build_queue() hands events to the queue: use build() for the handler, or drop .handler(..)",
            ));
        }
        let channel = Channel::new();
        let listener = self.assemble(Target::Queue(channel.clone()))?;
        Ok(Queue::new(listener, channel))
    }

    fn assemble(self, target: Target) -> Result<Listener, Error> {
        self.options.validate()?;
        let source: Box<dyn EventSource> = match self.source {
            Some(SourceSpec::Kafka(c)) => Box::new(KafkaSource::new(*c)?),
            Some(SourceSpec::Custom(s)) => s,
            None => {
                return Err(Error::config(
                    "no source: use .kafka(KafkaConfig), .memory(&broker, group, topics) or .source(..)",
                ))
            }
        };
        let dedupe = self
            .dedupe_store
            .or_else(|| self.options.dedupe.map(Dedupe::new));
        let description = source.describe();
        let budget_total = u32::try_from(self.options.max_buffered_bytes / 1024)
            .unwrap_or(u32::MAX)
            .min(Semaphore::MAX_PERMITS as u32);
        let handle = source.handle();
        let in_flight = AtomicUsize::new(self.options.max_in_flight_per_partition);
        Ok(Listener {
            source: Mutex::new(Some(source)),
            handle,
            pipeline: Arc::new(Pipeline {
                opts: self.options,
                target,
                on_error: self.on_error.unwrap_or_else(|| Arc::new(log_failure)),
                dedupe,
                metrics: Metrics::new(),
                budget: Arc::new(Semaphore::new(budget_total as usize)),
                budget_total,
                in_flight,
            }),
            shutdown: ShutdownHandle::new(),
            closed: AtomicBool::new(false),
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Settings {
        Settings::from_toml_str(toml).unwrap()
    }

    #[test]
    fn a_listener_from_settings_reads_kafka_and_the_dead_letter_topic() {
        let s = settings(
            "[kafka]\nbootstrap = \"127.0.0.1:9\"\ntopics = [\"vc\"]\ndead_letter_topic = \"vc-dlq\"\n",
        );
        let b = ListenerBuilder::from_settings(&s).unwrap();
        assert_eq!(b.options.dead_letter_topic.as_deref(), Some("vc-dlq"));
        assert!(matches!(b.source, Some(SourceSpec::Kafka(_))));
        // Later options win over the settings.
        let b = b.dead_letter_topic("other");
        assert_eq!(b.options.dead_letter_topic.as_deref(), Some("other"));
    }

    #[test]
    fn a_listener_from_settings_without_kafka_is_a_config_error() {
        let e =
            ListenerBuilder::from_settings(&settings("[kafka]\ntopics = [\"vc\"]\n")).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.message().contains("kafka.bootstrap"), "{e}");
    }
}

//! [`ListenerSpec`]: the listener's behaviour beyond the shared `[kafka]` settings, as plain
//! data — the C ABI's options JSON, Python's keyword arguments, Node's option object — turned
//! into [`ListenerOptions`] and a [`KafkaConfig`] here, once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{DedupeWindow, Filter, KafkaConfig, ListenerOptions, PayloadFormat, StartFrom};
use crate::fhir::ReadMode;
use crate::settings::Settings;
use crate::Result;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Every key optional; unknown keys are refused (a misspelt option must not be ignored).
/// snake_case names, camelCase accepted too.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ListenerSpec {
    /// `auto` | `encounter` | `bundle` | `envelope:<json-pointer>`.
    pub format: Option<PayloadFormat>,
    /// `vc_only` (default) | `all`.
    pub filter: Option<Filter>,
    /// `strict` | `lenient` (default).
    #[serde(alias = "readMode")]
    pub read_mode: Option<ReadMode>,
    /// Larger records are refused (dead-lettered).
    #[serde(alias = "maxMessageBytes")]
    pub max_message_bytes: Option<usize>,
    /// Skip Encounters already handled (same id and version).
    pub dedupe: bool,
    /// Entries the dedupe window keeps.
    #[serde(alias = "dedupeMaxEntries")]
    pub dedupe_max_entries: Option<usize>,
    /// How long the dedupe window remembers, in ms (0: until evicted by size).
    #[serde(alias = "dedupeTtlMs")]
    pub dedupe_ttl_ms: Option<u64>,
    /// Handler retries before the record is dead-lettered.
    #[serde(alias = "maxRetries")]
    pub max_retries: Option<u32>,
    /// Delay before the first retry, in ms.
    #[serde(alias = "initialBackoffMs")]
    pub initial_backoff_ms: Option<u64>,
    /// Longest delay between retries, in ms.
    #[serde(alias = "maxBackoffMs")]
    pub max_backoff_ms: Option<u64>,
    /// A handler call taking longer fails (and is retried).
    #[serde(alias = "handlerTimeoutMs")]
    pub handler_timeout_ms: Option<u64>,
    /// Where records that failed for good go (default `kafka.dead_letter_topic`).
    #[serde(alias = "deadLetterTopic")]
    pub dead_letter_topic: Option<String>,
    /// How long a stop waits for handler calls in flight, in ms.
    #[serde(alias = "drainTimeoutMs")]
    pub drain_timeout_ms: Option<u64>,
    /// How long a close waits for the commit, in ms.
    #[serde(alias = "closeTimeoutMs")]
    pub close_timeout_ms: Option<u64>,
    /// How often metrics are logged, in ms (0: never).
    #[serde(alias = "metricsIntervalMs")]
    pub metrics_interval_ms: Option<u64>,
    /// `earliest` | `latest`: where a new group starts.
    #[serde(alias = "startFrom")]
    pub start_from: Option<StartFrom>,
    /// The Kafka client id.
    #[serde(alias = "clientId")]
    pub client_id: Option<String>,
    /// librdkafka statistics interval, in ms (0: off).
    #[serde(alias = "statisticsIntervalMs")]
    pub statistics_interval_ms: Option<u64>,
    /// librdkafka properties, applied last.
    pub properties: BTreeMap<String, String>,
}

impl std::fmt::Debug for ListenerSpec {
    /// librdkafka properties may hold passwords: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerSpec")
            .field("filter", &self.filter)
            .field("read_mode", &self.read_mode)
            .field("dedupe", &self.dedupe)
            .field("max_retries", &self.max_retries)
            .field("dead_letter_topic", &self.dead_letter_topic)
            .field("properties", &self.properties.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ListenerSpec {
    /// The listener options: the settings' (`kafka.dead_letter_topic`), then these.
    pub fn listener_options(&self, settings: &Settings) -> ListenerOptions {
        let mut o = ListenerOptions::from_settings(settings);
        if let Some(f) = &self.format {
            o.format = f.clone();
        }
        if let Some(f) = self.filter {
            o.filter = f;
        }
        if let Some(m) = self.read_mode {
            o.read_mode = m;
        }
        if let Some(n) = self.max_message_bytes {
            o.max_message_bytes = n;
        }
        if self.dedupe || self.dedupe_max_entries.is_some() || self.dedupe_ttl_ms.is_some() {
            let mut w = DedupeWindow::default();
            if let Some(n) = self.dedupe_max_entries {
                w.max_entries = n;
            }
            if let Some(t) = self.dedupe_ttl_ms {
                w.ttl = (t > 0).then(|| ms(t));
            }
            o.dedupe = Some(w);
        }
        let mut retry = o.retry.clone();
        if let Some(n) = self.max_retries {
            retry = retry.max_retries(n);
        }
        if let Some(v) = self.initial_backoff_ms {
            retry = retry.initial_backoff(ms(v));
        }
        if let Some(v) = self.max_backoff_ms {
            retry = retry.max_backoff(ms(v));
        }
        o.retry = retry;
        o.handler_timeout = self.handler_timeout_ms.map(ms);
        if let Some(t) = &self.dead_letter_topic {
            o.dead_letter_topic = Some(t.clone());
        }
        if let Some(v) = self.drain_timeout_ms {
            o.drain_timeout = ms(v);
        }
        if let Some(v) = self.close_timeout_ms {
            o.close_timeout = ms(v);
        }
        if let Some(v) = self.metrics_interval_ms {
            o.metrics_interval = (v > 0).then(|| ms(v));
        }
        o
    }

    /// The Kafka consumer configuration: the `[kafka]` settings, then these.
    pub fn kafka_config(&self, settings: &Settings) -> Result<KafkaConfig> {
        let mut c = settings
            .kafka
            .to_config()?
            .start_from(self.start_from.unwrap_or_default());
        if let Some(id) = &self.client_id {
            c = c.client_id(id.clone());
        }
        if let Some(v) = self.statistics_interval_ms {
            c = c.statistics_interval((v > 0).then(|| ms(v)));
        }
        for (k, v) in &self.properties {
            c = c.property(k.clone(), v.clone());
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_apply_over_the_settings_and_unknown_keys_are_refused() {
        let s = crate::settings::SettingsLoader::new()
            .set("kafka", "dead_letter_topic", "dlq-from-settings")
            .load()
            .unwrap();
        let spec: ListenerSpec =
            serde_json::from_str(r#"{"filter":"all","maxRetries":2,"dedupe":true}"#).unwrap();
        let o = spec.listener_options(&s);
        assert_eq!(o.filter, Filter::AllEncounters);
        assert_eq!(o.retry.get_max_retries(), 2);
        assert!(o.dedupe.is_some());
        assert_eq!(o.dead_letter_topic.as_deref(), Some("dlq-from-settings"));
        assert!(serde_json::from_str::<ListenerSpec>(r#"{"filtr":"all"}"#).is_err());
        let mut spec = ListenerSpec::default();
        spec.properties
            .insert("sasl.password".into(), "s3cret".into());
        assert!(!format!("{spec:?}").contains("s3cret"));
    }
}

//! Where check-in Encounters go: the in-process broker the core's `MemorySource` reads (the
//! default), or a real Kafka topic (rdkafka producer).

use std::fmt;
use std::time::Duration;

use hie_vc::listener::{MemoryBroker, MemoryRecord};
use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use serde::Serialize;

use crate::config::{EventTarget, KafkaTarget};
use crate::error::Error;

/// The media type header put on every record.
const CONTENT_TYPE: &str = "application/fhir+json";

/// Where a record was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset in the partition.
    pub offset: i64,
}

pub(crate) enum Publisher {
    Memory(MemoryBroker),
    Kafka {
        producer: FutureProducer,
        target: KafkaTarget,
    },
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Publisher {
    pub(crate) fn new(target: &EventTarget) -> Result<Self, Error> {
        match target {
            EventTarget::Memory(b) => Ok(Self::Memory(b.clone().unwrap_or_default())),
            EventTarget::Kafka(k) => {
                let mut c = ClientConfig::new();
                c.set("bootstrap.servers", &k.bootstrap_servers)
                    .set("client.id", "hie-vc-sandbox")
                    .set("acks", "all")
                    .set("enable.idempotence", "true")
                    .set(
                        "message.timeout.ms",
                        k.timeout.as_millis().max(1).to_string(),
                    );
                for (key, value) in &k.properties {
                    c.set(key, value);
                }
                let producer: FutureProducer = c.create().map_err(|e| {
                    Error::Config(format!("the Kafka producer cannot be created: {e}"))
                })?;
                Ok(Self::Kafka {
                    producer,
                    target: k.clone(),
                })
            }
        }
    }

    /// `memory` or the brokers.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Memory(_) => "the in-memory broker".to_owned(),
            Self::Kafka { target, .. } => format!("Kafka at {}", target.bootstrap_servers),
        }
    }

    pub(crate) fn broker(&self) -> Option<&MemoryBroker> {
        match self {
            Self::Memory(b) => Some(b),
            Self::Kafka { .. } => None,
        }
    }

    /// Writes one record keyed by `key` (the Encounter id: its versions stay in order).
    pub(crate) async fn publish(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
    ) -> Result<Delivery, Error> {
        let failed = |message: String| Error::Publish {
            target: format!("topic '{topic}' on {}", self.describe()),
            message,
        };
        match self {
            Self::Memory(broker) => {
                let at = broker
                    .send(
                        topic,
                        MemoryRecord::new(payload.to_vec())
                            .key(key.as_bytes().to_vec())
                            .header("content-type", CONTENT_TYPE.as_bytes().to_vec()),
                    )
                    .map_err(|e| failed(e.to_string()))?;
                Ok(Delivery {
                    topic: at.topic.to_string(),
                    partition: at.partition,
                    offset: at.offset,
                })
            }
            Self::Kafka { producer, target } => {
                let headers = OwnedHeaders::new().insert(Header {
                    key: "content-type",
                    value: Some(CONTENT_TYPE),
                });
                let record = FutureRecord::to(topic)
                    .key(key)
                    .payload(payload)
                    .headers(headers);
                match producer.send(record, target.timeout).await {
                    Ok(d) => Ok(Delivery {
                        topic: topic.to_owned(),
                        partition: d.partition,
                        offset: d.offset,
                    }),
                    Err((e, _)) => Err(failed(e.to_string())),
                }
            }
        }
    }

    /// Flushes what the producer still holds (bounded).
    pub(crate) fn flush(&self, timeout: Duration) {
        if let Self::Kafka { producer, .. } = self {
            if let Err(e) = producer.flush(timeout) {
                tracing::warn!(error = %e, "sandbox: Kafka producer flush at shutdown failed");
            }
        }
    }
}

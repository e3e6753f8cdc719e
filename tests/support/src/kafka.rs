//! Real-broker helpers: topics, a producer, a raw reader, committed offsets. The tests use
//! rdkafka directly here (and kcat elsewhere) so the SDK's listener and the sandbox's publisher
//! are checked against clients they do not share code with.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// The broker to test against, from `HIEVC_KAFKA_BOOTSTRAP`; panics when it is unset (see
/// [`crate::service::require`]).
#[track_caller]
pub fn bootstrap() -> String {
    crate::service::require(
        "HIEVC_KAFKA_BOOTSTRAP",
        "a Kafka broker: tests/services/kafka.sh start, then HIEVC_KAFKA_BOOTSTRAP=127.0.0.1:9092",
    )
}

/// The SASL_PLAINTEXT listener: `HIEVC_KAFKA_SASL_BOOTSTRAP`, else the PLAINTEXT host with
/// port 9093 (what tests/services/kafka.sh opens).
pub fn sasl_bootstrap(plain: &str) -> String {
    std::env::var("HIEVC_KAFKA_SASL_BOOTSTRAP").unwrap_or_else(|_| {
        let host = plain.rsplit_once(':').map_or(plain, |(h, _)| h);
        format!("{host}:9093")
    })
}

/// The TLS listeners of tests/services/kafka.sh and the files it made for them. Every field
/// comes from a variable `tests/run.sh` exports; [`TlsBroker::from_env`] panics when one is
/// unset, so a TLS test never passes without a TLS broker.
#[derive(Debug, Clone)]
pub struct TlsBroker {
    /// SSL, server certificate only (`HIEVC_KAFKA_SSL_BOOTSTRAP`).
    pub ssl: String,
    /// SASL_SSL with the users of the SASL port (`HIEVC_KAFKA_SASL_SSL_BOOTSTRAP`).
    pub sasl_ssl: String,
    /// SSL requiring a client certificate (`HIEVC_KAFKA_MTLS_BOOTSTRAP`).
    pub mtls: String,
    /// SSL presenting a certificate for another host name (`HIEVC_KAFKA_OTHER_HOST_BOOTSTRAP`).
    pub other_host: String,
    /// The CA, certificates and client key (`HIEVC_KAFKA_TLS_DIR`).
    pub dir: PathBuf,
}

impl TlsBroker {
    /// The TLS listeners from the environment; panics naming the first variable unset.
    #[track_caller]
    pub fn from_env() -> Self {
        // `require` directly (no closure), so a panic names the test's line.
        use crate::service::require;
        const HOW: &str = "the TLS listeners of tests/services/kafka.sh start";
        Self {
            ssl: require("HIEVC_KAFKA_SSL_BOOTSTRAP", HOW),
            sasl_ssl: require("HIEVC_KAFKA_SASL_SSL_BOOTSTRAP", HOW),
            mtls: require("HIEVC_KAFKA_MTLS_BOOTSTRAP", HOW),
            other_host: require("HIEVC_KAFKA_OTHER_HOST_BOOTSTRAP", HOW),
            dir: PathBuf::from(require("HIEVC_KAFKA_TLS_DIR", HOW)),
        }
    }
    /// The CA that signed every broker and client certificate.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    /// A CA that signed nothing the broker presents.
    pub fn other_ca(&self) -> PathBuf {
        self.dir.join("other-ca.pem")
    }
    /// The client certificate (mutual TLS).
    pub fn client_cert(&self) -> PathBuf {
        self.dir.join("client.pem")
    }
    /// The client key, encrypted with [`TlsBroker::key_password`].
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client.key")
    }
    /// The client key's password (`HIEVC_KAFKA_TLS_KEY_PASSWORD`, else kafka.sh's).
    pub fn key_password(&self) -> String {
        std::env::var("HIEVC_KAFKA_TLS_KEY_PASSWORD").unwrap_or_else(|_| "hievc-key-secret".into())
    }
}

/// The SASL user of tests/services/kafka.sh (`HIEVC_KAFKA_SASL_USER` overrides it).
pub fn sasl_user() -> String {
    std::env::var("HIEVC_KAFKA_SASL_USER").unwrap_or_else(|_| "hievc".into())
}

/// That user's password (`HIEVC_KAFKA_SASL_PASSWORD` overrides it).
pub fn sasl_password() -> String {
    std::env::var("HIEVC_KAFKA_SASL_PASSWORD").unwrap_or_else(|_| "hievc-secret".into())
}

/// A topic or group name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client")
}

/// Creates a topic and waits until its partitions have leaders.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin = admin(bootstrap);
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1))
        .set("max.message.bytes", "8388608");
    let res = admin
        .create_topics(
            [&new],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        )
        .await
        .expect("create topic");
    for r in res {
        r.expect("topic created");
    }
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(md) = c.fetch_metadata(Some(topic), Duration::from_secs(5)) {
            let ok = md.topics().iter().any(|t| {
                t.name() == topic
                    && t.partitions().len() == partitions as usize
                    && t.partitions().iter().all(|p| p.leader() >= 0)
            });
            if ok {
                return;
            }
        }
        assert!(Instant::now() < deadline, "topic {topic} not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An idempotent producer that retries through broker restarts.
pub fn producer(bootstrap: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "120000")
        .set("linger.ms", "5")
        .set("message.max.bytes", "8388608")
        .create()
        .expect("producer")
}

/// A record to produce.
#[derive(Debug, Clone)]
pub struct Rec {
    /// The record key.
    pub key: Option<String>,
    /// The value.
    pub payload: Vec<u8>,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The partition, or `None` for the producer's partitioner.
    pub partition: Option<i32>,
}

impl Rec {
    /// A record with this value and nothing else.
    pub fn new(payload: impl Into<Vec<u8>>) -> Self {
        Self {
            key: None,
            payload: payload.into(),
            headers: Vec::new(),
            partition: None,
        }
    }
    /// Sets the key.
    pub fn key(mut self, k: impl Into<String>) -> Self {
        self.key = Some(k.into());
        self
    }
    /// Adds a header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    /// Sends to this partition.
    pub fn partition(mut self, p: i32) -> Self {
        self.partition = Some(p);
        self
    }
}

/// Produces records in order and waits for every acknowledgement; returns (partition, offset)
/// of each.
pub async fn produce(p: &FutureProducer, topic: &str, recs: Vec<Rec>) -> Vec<(i32, i64)> {
    let mut pending = Vec::with_capacity(recs.len());
    for r in &recs {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &r.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_bytes()),
            });
        }
        let mut fr: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic)
            .payload(r.payload.as_slice())
            .headers(headers);
        if let Some(k) = &r.key {
            fr = fr.key(k);
        }
        if let Some(part) = r.partition {
            fr = fr.partition(part);
        }
        loop {
            match p.send_result(fr) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                Err((_, back)) => {
                    // Local queue full: let deliveries drain.
                    fr = back;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
    let mut out = Vec::with_capacity(pending.len());
    for f in pending {
        let d = f.await.expect("delivery future").expect("delivered");
        out.push((d.partition, d.offset));
    }
    out
}

/// A record read back.
#[derive(Debug, Clone)]
pub struct Read {
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// Its value.
    pub payload: Option<Vec<u8>>,
    /// Its headers (values as lossy UTF-8).
    pub headers: HashMap<String, String>,
}

/// Reads `count` records of `topic` from the beginning (group-less), within `timeout`.
pub fn read_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    count: usize,
    timeout: Duration,
) -> Vec<Read> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    c.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    while out.len() < count && Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            let headers = m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| {
                            (
                                h.key.to_owned(),
                                String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(Read {
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                payload: m.payload().map(<[u8]>::to_vec),
                headers,
            });
        }
    }
    out
}

/// The committed offset of `group` per partition (`None`: nothing committed).
pub fn committed(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> Vec<Option<i64>> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    (0..partitions)
        .map(|p| match got.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => Some(o),
            _ => None,
        })
        .collect()
}

/// The end offsets (high watermarks) per partition.
pub fn end_offsets(bootstrap: &str, topic: &str, partitions: i32) -> Vec<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    (0..partitions)
        .map(|p| {
            c.fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap()
                .1
        })
        .collect()
}

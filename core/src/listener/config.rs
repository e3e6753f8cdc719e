//! Kafka connection settings: brokers, group, topics, security and pass-through librdkafka
//! properties.
//!
//! HIE does not publish topic names, group conventions or broker security (`docs/guide-gaps.md`
//! §5), so everything is configurable and any librdkafka property can be passed through. Passwords
//! are kept out of `Debug`, and so are pass-through properties whose name says they are secret.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use rdkafka::ClientConfig;

use crate::Error;

/// SASL mechanisms the listener supports (GSSAPI/Kerberos and OAUTHBEARER are not built in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SaslMechanism {
    /// `PLAIN`: the password travels as is, so use it with TLS (`SASL_SSL`) outside a test bench.
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
}

impl SaslMechanism {
    /// The librdkafka / Kafka name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
    /// Parses `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(Self::Plain),
            "SCRAM-SHA-256" => Ok(Self::ScramSha256),
            "SCRAM-SHA-512" => Ok(Self::ScramSha512),
            _ => Err(Error::config(format!(
                "unsupported SASL mechanism '{s}': use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            ))),
        }
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SASL credentials. `Debug` shows the mechanism and user name, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Sasl {
    mechanism: SaslMechanism,
    username: String,
    password: String,
}

impl Sasl {
    /// Credentials for `mechanism`.
    pub fn new(
        mechanism: SaslMechanism,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            mechanism,
            username: username.into(),
            password: password.into(),
        }
    }
    /// The mechanism.
    pub fn mechanism(&self) -> SaslMechanism {
        self.mechanism
    }
    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }
}

impl fmt::Debug for Sasl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sasl")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// TLS settings. With none set, the system trust store is used and the broker host name is
/// verified.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// CA certificate(s) file (PEM) to trust instead of the system store.
    pub ca_location: Option<PathBuf>,
    /// CA certificate(s) as PEM text.
    pub ca_pem: Option<String>,
    /// Client certificate file (PEM), for mutual TLS.
    pub certificate_location: Option<PathBuf>,
    /// Client private key file (PEM), for mutual TLS.
    pub key_location: Option<PathBuf>,
    /// Password of the client private key. Hidden from `Debug`.
    pub key_password: Option<String>,
    /// Skip the broker host name check. Only for test brokers with self-made certificates.
    pub danger_skip_hostname_verification: bool,
}

impl Tls {
    /// A client certificate needs its key and the other way round; a key password needs a key.
    fn validate(&self) -> Result<(), Error> {
        match (&self.certificate_location, &self.key_location) {
            (Some(_), None) => Err(Error::config(
                "a TLS client certificate (ssl.certificate.location) needs its private key (ssl.key.location)",
            )),
            (None, Some(_)) => Err(Error::config(
                "a TLS private key (ssl.key.location) needs its client certificate (ssl.certificate.location)",
            )),
            _ if self.key_password.is_some() && self.key_location.is_none() => Err(Error::config(
                "a TLS key password is set but no private key (ssl.key.location)",
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("ca_location", &self.ca_location)
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .field("certificate_location", &self.certificate_location)
            .field("key_location", &self.key_location)
            .field(
                "key_password",
                &self.key_password.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "danger_skip_hostname_verification",
                &self.danger_skip_hostname_verification,
            )
            .finish()
    }
}

/// How the listener talks to the brokers (Kafka's `security.protocol`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// No encryption, no authentication (test benches, private networks).
    #[default]
    Plaintext,
    /// TLS.
    Ssl(Tls),
    /// SASL without TLS.
    SaslPlaintext(Sasl),
    /// SASL over TLS (what a production HIE broker is expected to use).
    SaslSsl(Sasl, Tls),
}

impl Security {
    /// The `security.protocol` value.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl(_) => "SSL",
            Self::SaslPlaintext(_) => "SASL_PLAINTEXT",
            Self::SaslSsl(..) => "SASL_SSL",
        }
    }

    fn apply(&self, c: &mut ClientConfig) {
        c.set("security.protocol", self.protocol());
        let (sasl, tls) = match self {
            Self::Plaintext => (None, None),
            Self::Ssl(t) => (None, Some(t)),
            Self::SaslPlaintext(s) => (Some(s), None),
            Self::SaslSsl(s, t) => (Some(s), Some(t)),
        };
        if let Some(s) = sasl {
            c.set("sasl.mechanisms", s.mechanism.as_str());
            c.set("sasl.username", &s.username);
            c.set("sasl.password", &s.password);
        }
        if let Some(t) = tls {
            if let Some(p) = &t.ca_location {
                c.set("ssl.ca.location", p.to_string_lossy());
            }
            if let Some(p) = &t.ca_pem {
                c.set("ssl.ca.pem", p);
            }
            if let Some(p) = &t.certificate_location {
                c.set("ssl.certificate.location", p.to_string_lossy());
            }
            if let Some(p) = &t.key_location {
                c.set("ssl.key.location", p.to_string_lossy());
            }
            if let Some(p) = &t.key_password {
                c.set("ssl.key.password", p);
            }
            // Set either way: librdkafka before 2.0 did not check host names by default.
            c.set(
                "ssl.endpoint.identification.algorithm",
                if t.danger_skip_hostname_verification {
                    "none"
                } else {
                    "https"
                },
            );
        }
    }
}

/// Where a consumer group with no committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartFrom {
    /// The oldest retained record (HIE keeps 72 hours): nothing published while the group did
    /// not exist yet is missed.
    #[default]
    Earliest,
    /// Only records published after the group first joined.
    Latest,
}

crate::names::names!(StartFrom, "start position" { Earliest => "earliest", Latest => "latest" });

/// Connection to the Kafka cluster HIE publishes Encounters on.
///
/// ```
/// use hie_vc::listener::{KafkaConfig, Sasl, SaslMechanism, Security};
/// let cfg = KafkaConfig::new("127.0.0.1:9093", "clinic-a")
///     .topic("vc-encounters")
///     .security(Security::SaslPlaintext(Sasl::new(SaslMechanism::ScramSha512, "clinic-a", "s3cret")))
///     .property("session.timeout.ms", "10000");
/// assert!(!format!("{cfg:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `host:port[,host:port...]`.
    pub bootstrap_servers: String,
    /// The consumer group: listeners sharing it split the partitions between them.
    pub group_id: String,
    /// Topics to subscribe to (a name starting with `^` is a regular expression).
    pub topics: Vec<String>,
    /// Security protocol and credentials.
    pub security: Security,
    /// Where a new group starts.
    pub start_from: StartFrom,
    /// librdkafka statistics period, the source of per-partition lag (`None` turns it off).
    pub statistics_interval: Option<Duration>,
    /// `client.id`, shown in broker logs.
    pub client_id: String,
    /// librdkafka properties applied last, overriding everything above.
    pub properties: Vec<(String, String)>,
}

/// Local consumer queue bound (KiB) the listener sets unless overridden; librdkafka's own
/// default (64 MiB) alone would exceed the memory budget of a small listener process.
pub const DEFAULT_QUEUED_MAX_KBYTES: u32 = 8 * 1024;

impl KafkaConfig {
    /// A PLAINTEXT connection to `bootstrap_servers` in consumer group `group_id`.
    pub fn new(bootstrap_servers: impl Into<String>, group_id: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            group_id: group_id.into(),
            topics: Vec::new(),
            security: Security::Plaintext,
            start_from: StartFrom::Earliest,
            statistics_interval: Some(Duration::from_secs(5)),
            client_id: "hie-vc-listener".to_owned(),
            properties: Vec::new(),
        }
    }
    /// Adds a topic.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topics.push(topic.into());
        self
    }
    /// Adds topics.
    pub fn topics<I, S>(mut self, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.topics.extend(topics.into_iter().map(Into::into));
        self
    }
    /// Sets the security protocol and credentials.
    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }
    /// Sets where a new group starts.
    pub fn start_from(mut self, start_from: StartFrom) -> Self {
        self.start_from = start_from;
        self
    }
    /// Sets the statistics period (`None` turns lag reporting off).
    pub fn statistics_interval(mut self, every: Option<Duration>) -> Self {
        self.statistics_interval = every;
        self
    }
    /// Sets `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }
    /// Passes a librdkafka property through (applied last).
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.bootstrap_servers.trim().is_empty() {
            return Err(Error::config(
                "Kafka bootstrap servers are empty: set host:port of at least one broker",
            ));
        }
        if self.group_id.trim().is_empty() {
            return Err(Error::config(
                "Kafka group id is empty: offsets are stored per group, so one is required",
            ));
        }
        if self.topics.is_empty() || self.topics.iter().any(|t| t.trim().is_empty()) {
            return Err(Error::config(
                "no Kafka topic (or an empty name): add the topics HIE publishes Encounters on",
            ));
        }
        if let Security::Ssl(t) | Security::SaslSsl(_, t) = &self.security {
            t.validate()?;
        }
        for (k, _) in &self.properties {
            if matches!(
                k.as_str(),
                "enable.auto.offset.store" | "enable.partition.eof" | "enable.auto.commit"
            ) {
                return Err(Error::config(format!(
                    "librdkafka property '{k}' is managed by the listener (offsets are stored only after the handler succeeded, and committed in the background, on rebalance and on close) and cannot be overridden"
                )));
            }
        }
        Ok(())
    }

    /// The common part: brokers, security, client id, statistics, pass-through properties.
    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers);
        c.set("client.id", &self.client_id);
        self.security.apply(&mut c);
        match self.statistics_interval {
            Some(d) if !d.is_zero() => {
                c.set("statistics.interval.ms", d.as_millis().to_string());
            }
            _ => {}
        }
        c
    }

    /// The consumer configuration: at-least-once (offsets stored by the listener only after
    /// the handler succeeded, committed in the background and on close).
    pub(crate) fn consumer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        c.set("group.id", &self.group_id);
        c.set("enable.auto.commit", "true");
        c.set("enable.auto.offset.store", "false");
        c.set("enable.partition.eof", "false");
        c.set(
            "auto.offset.reset",
            match self.start_from {
                StartFrom::Earliest => "earliest",
                StartFrom::Latest => "latest",
            },
        );
        c.set(
            "queued.max.messages.kbytes",
            DEFAULT_QUEUED_MAX_KBYTES.to_string(),
        );
        // With a bounded queue, librdkafka pauses fetching for this long each time the queue
        // is full (default 1 s): a listener slower than the network would then sit idle most
        // of the time. Resume quickly instead.
        c.set("fetch.queue.backoff.ms", "10");
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }

    /// The dead-letter producer configuration: idempotent, acknowledged by all replicas.
    pub(crate) fn producer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        c.set("enable.idempotence", "true");
        c.set("acks", "all");
        c.set("linger.ms", "5");
        // A dead letter holds its partition until it is written: give up after a minute
        // (librdkafka's default is 5) and report the record instead.
        c.set("message.timeout.ms", "60000");
        // Poison records can be large (a record refused as too large is dead-lettered whole);
        // the broker's limit for the dead-letter topic decides, not the client's 1 MB default.
        c.set("message.max.bytes", "67108864");
        c.remove("statistics.interval.ms");
        for (k, v) in &self.properties {
            // Consumer-only properties would make the producer warn on every start.
            if !is_consumer_only(k) {
                c.set(k, v);
            }
        }
        c
    }

    /// A short description for logs: brokers, group, topics, protocol; never credentials.
    pub(crate) fn describe(&self) -> String {
        format!(
            "kafka {} ({}) group '{}' topics {:?}",
            self.bootstrap_servers,
            self.security.protocol(),
            self.group_id,
            self.topics
        )
    }
}

fn is_consumer_only(k: &str) -> bool {
    k.starts_with("fetch.")
        || k.starts_with("queued.")
        || k.starts_with("auto.")
        || k.starts_with("session.")
        || k.starts_with("heartbeat.")
        || k.starts_with("max.poll.")
        || k.starts_with("partition.assignment")
        || k.starts_with("group.")
        || k.starts_with("enable.auto.")
        || k == "isolation.level"
        || k == "check.crcs"
}

/// Whether a property name says its value is secret.
pub(crate) fn is_secret_property(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    k.contains("password")
        || k.contains("secret")
        || k.contains("token")
        || k.ends_with(".pem")
        || k.contains("jaas")
}

impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let props: Vec<(&str, &str)> = self
            .properties
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if is_secret_property(k) {
                        "<redacted>"
                    } else {
                        v.as_str()
                    },
                )
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("security", &self.security)
            .field("start_from", &self.start_from)
            .field("statistics_interval", &self.statistics_interval)
            .field("client_id", &self.client_id)
            .field("properties", &props)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_modes_map_to_librdkafka_properties() {
        let tls = Tls {
            ca_location: Some("/etc/hie/ca.pem".into()),
            key_password: Some("key-pass".into()),
            danger_skip_hostname_verification: true,
            ..Tls::default()
        };
        let cfg = KafkaConfig::new("b1:9093,b2:9093", "g")
            .topic("t")
            .security(Security::SaslSsl(
                Sasl::new(SaslMechanism::ScramSha512, "clinic", "pw-123"),
                tls,
            ))
            .property("session.timeout.ms", "10000")
            .property("sasl.oauthbearer.client.secret", "oauth-456");
        let c = cfg.consumer_config();
        let get = |k: &str| c.get(k).map(str::to_owned);
        assert_eq!(get("security.protocol").as_deref(), Some("SASL_SSL"));
        assert_eq!(get("sasl.mechanisms").as_deref(), Some("SCRAM-SHA-512"));
        assert_eq!(get("sasl.username").as_deref(), Some("clinic"));
        assert_eq!(get("sasl.password").as_deref(), Some("pw-123"));
        assert_eq!(get("ssl.ca.location").as_deref(), Some("/etc/hie/ca.pem"));
        assert_eq!(get("ssl.key.password").as_deref(), Some("key-pass"));
        assert_eq!(
            get("ssl.endpoint.identification.algorithm").as_deref(),
            Some("none")
        );
        assert_eq!(get("enable.auto.offset.store").as_deref(), Some("false"));
        assert_eq!(get("session.timeout.ms").as_deref(), Some("10000"));
        let p = cfg.producer_config();
        assert_eq!(p.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(p.get("session.timeout.ms"), None, "consumer-only property");
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        let debug = format!("{cfg:?}");
        for secret in ["pw-123", "key-pass", "oauth-456"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert_eq!(
            KafkaConfig::new("b", "g")
                .topic("t")
                .security(Security::Ssl(Tls::default()))
                .consumer_config()
                .get("security.protocol"),
            Some("SSL")
        );
        // Host names are checked unless turned off, whatever librdkafka's default.
        assert_eq!(
            KafkaConfig::new("b", "g")
                .topic("t")
                .security(Security::Ssl(Tls::default()))
                .consumer_config()
                .get("ssl.endpoint.identification.algorithm"),
            Some("https")
        );
        let half = |t: Tls| {
            KafkaConfig::new("b", "g")
                .topic("t")
                .security(Security::Ssl(t))
                .validate()
                .unwrap_err()
                .to_string()
        };
        assert!(half(Tls {
            certificate_location: Some("c.pem".into()),
            ..Tls::default()
        })
        .contains("needs its private key"));
        assert!(half(Tls {
            key_location: Some("k.pem".into()),
            ..Tls::default()
        })
        .contains("needs its client certificate"));
        assert!(!half(Tls {
            key_password: Some("kp-789".into()),
            ..Tls::default()
        })
        .contains("kp-789"));
    }

    #[test]
    fn validation_names_what_is_missing_or_managed() {
        let ok = KafkaConfig::new("b:9092", "g").topic("t");
        assert!(ok.validate().is_ok());
        assert!(KafkaConfig::new("", "g").topic("t").validate().is_err());
        assert!(KafkaConfig::new("b", " ").topic("t").validate().is_err());
        assert!(KafkaConfig::new("b", "g").validate().is_err());
        let e = ok
            .clone()
            .property("enable.auto.offset.store", "true")
            .validate()
            .unwrap_err();
        assert!(e.message().contains("managed by the listener"));
        assert!(ok
            .property("enable.auto.commit", "false")
            .validate()
            .is_err());
        assert_eq!(
            SaslMechanism::parse("scram-sha-256").unwrap(),
            SaslMechanism::ScramSha256
        );
        assert!(SaslMechanism::parse("GSSAPI").is_err());
    }
}

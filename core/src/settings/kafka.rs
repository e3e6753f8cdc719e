//! `[kafka]`: where HIE publishes VC Encounters.

use std::fmt;

use serde::Deserialize;

use super::redact;
use crate::listener::{KafkaConfig, Sasl, SaslMechanism, Security, Tls};
use crate::{Error, Result};

/// `[kafka]`: where HIE publishes VC Encounters.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaSettings {
    /// Bootstrap servers, `host:port[,host:port]`.
    pub bootstrap: Option<String>,
    /// Topics to listen on.
    pub topics: Vec<String>,
    /// Consumer group id.
    pub group: Option<String>,
    /// `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    pub security_protocol: Option<String>,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl_mechanism: Option<String>,
    /// SASL user.
    pub sasl_username: Option<String>,
    /// SASL password.
    pub sasl_password: Option<String>,
    /// CA certificate file (PEM) for SSL.
    pub ssl_ca_location: Option<String>,
    /// Dead-letter topic for messages the handler keeps failing.
    pub dead_letter_topic: Option<String>,
}

impl fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSettings")
            .field("bootstrap", &self.bootstrap)
            .field("topics", &self.topics)
            .field("group", &self.group)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &redact(&self.sasl_password))
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("dead_letter_topic", &self.dead_letter_topic)
            .finish()
    }
}

impl KafkaSettings {
    fn sasl(&self) -> Result<Sasl> {
        let mech = match self
            .sasl_mechanism
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("PLAIN") => SaslMechanism::Plain,
            Some("SCRAM-SHA-256") | None => SaslMechanism::ScramSha256,
            Some("SCRAM-SHA-512") => SaslMechanism::ScramSha512,
            Some(other) => {
                return Err(Error::config(format!(
                    "kafka.sasl_mechanism '{other}' is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
                )))
            }
        };
        let user = self
            .sasl_username
            .clone()
            .ok_or_else(|| Error::config("SASL needs kafka.sasl_username"))?;
        let pass = self
            .sasl_password
            .clone()
            .ok_or_else(|| Error::config("SASL needs kafka.sasl_password"))?;
        Ok(Sasl::new(mech, user, pass))
    }

    fn tls(&self) -> Tls {
        Tls {
            ca_location: self.ssl_ca_location.as_ref().map(Into::into),
            ..Tls::default()
        }
    }

    /// The Kafka consumer configuration.
    pub fn to_config(&self) -> Result<KafkaConfig> {
        let bootstrap = self.bootstrap.as_deref().ok_or_else(|| Error::config("kafka.bootstrap is not set (HIE_VC_KAFKA_BOOTSTRAP, --kafka-bootstrap or [kafka] bootstrap)"))?;
        let group = self.group.as_deref().unwrap_or("hie-vc");
        if self.topics.is_empty() {
            return Err(Error::config(
                "kafka.topics is empty: name at least one topic",
            ));
        }
        let security = match self.security_protocol.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("PLAINTEXT") => Security::Plaintext,
            Some("SSL") => Security::Ssl(self.tls()),
            Some("SASL_PLAINTEXT") => Security::SaslPlaintext(self.sasl()?),
            Some("SASL_SSL") => Security::SaslSsl(self.sasl()?, self.tls()),
            Some(other) => return Err(Error::config(format!("kafka.security_protocol '{other}' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"))),
        };
        Ok(KafkaConfig::new(bootstrap, group)
            .topics(self.topics.iter().cloned())
            .security(security))
    }
}

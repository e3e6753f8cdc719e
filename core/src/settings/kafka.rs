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
    /// Client certificate file (PEM), for mutual TLS.
    pub ssl_certificate_location: Option<String>,
    /// Client private key file (PEM), for mutual TLS.
    pub ssl_key_location: Option<String>,
    /// Password of the client private key, when it is encrypted.
    pub ssl_key_password: Option<String>,
    /// Check that the broker's certificate is issued for its host name (default `true`; turn
    /// it off only for a test broker whose certificate names another host).
    pub ssl_verify_hostname: Option<bool>,
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
            .field("ssl_certificate_location", &self.ssl_certificate_location)
            .field("ssl_key_location", &self.ssl_key_location)
            .field("ssl_key_password", &redact(&self.ssl_key_password))
            .field("ssl_verify_hostname", &self.ssl_verify_hostname)
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
            ca_pem: None,
            certificate_location: self.ssl_certificate_location.as_ref().map(Into::into),
            key_location: self.ssl_key_location.as_ref().map(Into::into),
            key_password: self.ssl_key_password.clone(),
            danger_skip_hostname_verification: self.ssl_verify_hostname == Some(false),
        }
    }

    /// The `ssl_*` settings that are set, by name: they mean nothing without TLS, so setting
    /// one with another protocol is refused rather than ignored.
    fn tls_settings_given(&self) -> Vec<&'static str> {
        [
            ("ssl_ca_location", self.ssl_ca_location.is_some()),
            (
                "ssl_certificate_location",
                self.ssl_certificate_location.is_some(),
            ),
            ("ssl_key_location", self.ssl_key_location.is_some()),
            ("ssl_key_password", self.ssl_key_password.is_some()),
            ("ssl_verify_hostname", self.ssl_verify_hostname.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
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
        let given = self.tls_settings_given();
        if !given.is_empty() && !matches!(security, Security::Ssl(_) | Security::SaslSsl(..)) {
            return Err(Error::config(format!(
                "kafka.{} set, but kafka.security_protocol is {}: TLS settings need SSL or SASL_SSL",
                given.join(", kafka."),
                security.protocol()
            )));
        }
        Ok(KafkaConfig::new(bootstrap, group)
            .topics(self.topics.iter().cloned())
            .security(security))
    }
}

//! [`SandboxOptions`]: the sandbox's configuration as plain data (the C ABI's options JSON,
//! Python's keyword arguments, Node's option object), mapped onto [`SandboxConfig`] once.

use serde::Deserialize;

use crate::config::{EventPayload, KafkaTarget, SandboxConfig};
use crate::error::Error;

/// How to start a sandbox: every field optional, unknown names refused.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxOptions {
    /// Publish check-ins to this Kafka cluster instead of the in-process broker.
    pub kafka_bootstrap: Option<String>,
    /// librdkafka properties of that producer.
    pub kafka_properties: std::collections::BTreeMap<String, String>,
    /// The topic check-ins publish to.
    pub topic: Option<String>,
    /// `encounter` (default) or `bundle` (the Encounter with its Patient and Appointment).
    pub payload: Option<EventPayload>,
    /// MY Core validation of writes (default true).
    pub validate: Option<bool>,
    /// References to stored types must resolve (default true).
    pub check_references: Option<bool>,
    /// Allow DELETE (default true).
    pub allow_delete: Option<bool>,
    /// A missing MY Core profile claim is an error.
    pub require_profile_claim: Option<bool>,
    /// The Notification API login the sandbox accepts.
    pub notify_email: Option<String>,
    /// The Notification API password.
    pub notify_password: Option<String>,
    /// Domain of the join URLs the Jitsi service issues.
    pub jitsi_domain: Option<String>,
}

impl SandboxOptions {
    /// The configuration these options describe.
    pub fn config(self) -> Result<SandboxConfig, Error> {
        let mut c = SandboxConfig::new();
        if let Some(b) = self.kafka_bootstrap {
            let mut t = KafkaTarget::new(b);
            for (k, v) in self.kafka_properties {
                t = t.property(k, v);
            }
            c = c.kafka(t);
        }
        if let Some(t) = self.topic {
            c = c.topic(t);
        }
        if let Some(p) = self.payload {
            c = c.payload(p);
        }
        if let Some(v) = self.validate {
            c = c.validate(v);
        }
        if let Some(v) = self.check_references {
            c = c.check_references(v);
        }
        if let Some(v) = self.allow_delete {
            c = c.allow_delete(v);
        }
        if let Some(v) = self.require_profile_claim {
            c = c.require_profile_claim(v);
        }
        match (self.notify_email, self.notify_password) {
            (Some(e), Some(p)) => c = c.notify_login(e, p),
            (None, None) => {}
            _ => {
                return Err(Error::Config(
                    "give notify_email and notify_password together".to_owned(),
                ))
            }
        }
        if let Some(d) = self.jitsi_domain {
            c = c.jitsi_domain(d);
        }
        Ok(c)
    }
}

impl std::fmt::Debug for SandboxOptions {
    /// The Notification API password is left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxOptions")
            .field("kafka_bootstrap", &self.kafka_bootstrap)
            .field("topic", &self.topic)
            .field("payload", &self.payload)
            .field("validate", &self.validate)
            .field("check_references", &self.check_references)
            .field("allow_delete", &self.allow_delete)
            .field("require_profile_claim", &self.require_profile_claim)
            .field("notify_email", &self.notify_email)
            .field("jitsi_domain", &self.jitsi_domain)
            .finish_non_exhaustive()
    }
}

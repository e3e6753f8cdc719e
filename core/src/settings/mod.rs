//! One configuration for every front end: the same names in a TOML file, in `HIE_VC_*`
//! environment variables, in CLI flags, in the C ABI's JSON/TOML config and in the Python and
//! Node option objects.
//!
//! A setting `key` of section `section` is:
//! * TOML: `[section] key = ...`; JSON: `{"section": {"key": ...}}`
//! * environment: `HIE_VC_<SECTION>_<KEY>` (upper case; lists comma-separated)
//! * CLI flag: `--<section>-<key>` with `_` as `-`
//!
//! Later layers override earlier ones: file, then environment, then explicit overrides (flags).
//! [`Settings::load`] is what every front end starts from: the file `HIE_VC_CONFIG` names,
//! then the environment.
//! Unknown names are refused (a typo must not silently drop a setting). Secrets (`*password`,
//! `*secret`, `*token`) never appear in `Debug`.
//!
//! ```
//! use hie_vc::settings::Settings;
//! let s = Settings::from_toml_str(r#"
//!     [hie]
//!     url = "https://fhir.hie.moh.gov.my/baseR4/"
//!     bearer_token = "t0k"
//!     [kafka]
//!     bootstrap = "127.0.0.1:9092"
//!     topics = ["vc-encounters"]
//!     group = "clinic-a"
//! "#).unwrap();
//! assert_eq!(s.kafka.topics, vec!["vc-encounters".to_owned()]);
//! assert!(!format!("{s:?}").contains("t0k"));
//! let client_config = s.hie.to_config().unwrap();
//! ```

mod hie;
mod jitsi;
mod kafka;
mod loader;
mod notify;
mod sources;

use serde::Deserialize;

pub use hie::HieSettings;
pub use jitsi::JitsiSettings;
pub use kafka::KafkaSettings;
pub use loader::SettingsLoader;
pub use notify::NotifySettings;
pub use sources::CONFIG_ENV;

/// The sections, in the order environment names are matched.
pub const SECTIONS: [&str; 5] = ["hie", "kafka", "notify", "jitsi", "vc"];

/// `(section, key, help)` of every setting: the one list front ends build their flags and
/// option names from (the CLI's `--<section>-<key>`).
pub const KEYS: &[(&str, &str, &str)] = &[
    ("hie", "url", "HIE FHIR base URL"),
    ("hie", "bearer_token", "static bearer token for HIE"),
    ("hie", "basic_username", "HTTP basic user for HIE"),
    ("hie", "basic_password", "HTTP basic password for HIE"),
    (
        "hie",
        "oauth_token_url",
        "OAuth2 client-credentials token endpoint",
    ),
    ("hie", "oauth_client_id", "OAuth2 client id"),
    ("hie", "oauth_client_secret", "OAuth2 client secret"),
    ("hie", "oauth_scope", "OAuth2 scope"),
    ("hie", "timeout_secs", "per-request time limit (s)"),
    (
        "hie",
        "validate",
        "validate MY Core rules before sending (true|false)",
    ),
    (
        "hie",
        "profile_base",
        "base of the MY Core profile canonicals",
    ),
    ("hie", "user_agent", "User-Agent sent to HIE"),
    ("hie", "connect_timeout_secs", "connection time limit (s)"),
    (
        "hie",
        "max_retries",
        "retries after a failed attempt (0: none)",
    ),
    (
        "hie",
        "retry_initial_backoff_ms",
        "delay before the first retry (ms)",
    ),
    (
        "hie",
        "retry_max_elapsed_secs",
        "bound on one call's total time with retries (s)",
    ),
    (
        "hie",
        "headers",
        "extra headers, 'Name: value' (comma-separated)",
    ),
    (
        "hie",
        "secret_headers",
        "extra secret headers, 'Name: value' (never logged)",
    ),
    ("kafka", "bootstrap", "Kafka bootstrap servers"),
    ("kafka", "topics", "Kafka topics (comma-separated)"),
    ("kafka", "group", "Kafka consumer group"),
    (
        "kafka",
        "security_protocol",
        "PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL",
    ),
    (
        "kafka",
        "sasl_mechanism",
        "PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512",
    ),
    ("kafka", "sasl_username", "SASL user"),
    ("kafka", "sasl_password", "SASL password"),
    ("kafka", "ssl_ca_location", "CA file (PEM) for SSL"),
    ("kafka", "dead_letter_topic", "dead-letter topic"),
    ("notify", "url", "Notification API base URL"),
    ("notify", "email", "Notification API login email"),
    ("notify", "password", "Notification API login password"),
    (
        "notify",
        "token_pointer",
        "JSON pointer of the token in the login response",
    ),
    ("jitsi", "provider", "hie | self-hosted | jaas"),
    ("jitsi", "url", "HIE Jitsi token service base URL"),
    (
        "jitsi",
        "bearer_token",
        "bearer token for the HIE token service",
    ),
    ("jitsi", "domain", "Jitsi Meet domain (self-hosted)"),
    (
        "jitsi",
        "app_id",
        "Jitsi app id (self-hosted iss; JaaS AppID)",
    ),
    ("jitsi", "app_secret", "HS256 app secret (self-hosted)"),
    ("jitsi", "private_key_path", "RS256 private key file (PEM)"),
    ("jitsi", "key_id", "RS256 key id (kid)"),
    (
        "jitsi",
        "prosody_url",
        "Prosody base URL for ending meetings",
    ),
    ("jitsi", "muc_domain", "MUC domain of conference rooms"),
    ("jitsi", "token_ttl_secs", "Jitsi token lifetime (s)"),
    (
        "vc",
        "quota_as_string",
        "write slot-quota numbers as strings (true|false)",
    ),
    (
        "vc",
        "notify_title",
        "title of the session-start notification",
    ),
    (
        "vc",
        "notify_body",
        "body of the session-start notification",
    ),
];

/// The environment prefix.
pub const ENV_PREFIX: &str = "HIE_VC_";

fn redact<T>(v: &Option<T>) -> Option<&'static str> {
    v.as_ref().map(|_| "<redacted>")
}

/// All settings.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The HIE FHIR server.
    pub hie: HieSettings,
    /// Kafka, where HIE publishes Encounters.
    pub kafka: KafkaSettings,
    /// The HIE Notification API.
    pub notify: NotifySettings,
    /// The Jitsi provider.
    pub jitsi: JitsiSettings,
    /// The VC workflow.
    pub vc: VcSettings,
}

/// `[vc]`: the workflow.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VcSettings {
    /// Write slot-quota numbers as strings (like the published examples) instead of integers.
    pub quota_as_string: Option<bool>,
    /// Title of the "session starts" notification.
    pub notify_title: Option<String>,
    /// Body of the "session starts" notification.
    pub notify_body: Option<String>,
}

#[cfg(test)]
mod tests;

//! The table of every setting: its section, its name, the type of its value and its help line.
//!
//! Text from the environment, a CLI flag or the C ABI's `hievc_config_set` is read as the type
//! its key has here — never guessed from how the text looks, so a password `true` or `12345`
//! stays a password.

/// The type of a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text: URLs, names, secrets.
    Text,
    /// `true` or `false`.
    Switch,
    /// A whole number, zero or more (a count, or a duration in the unit its name ends with).
    Count,
    /// A list of text: an array in TOML and JSON, comma-separated in the environment and flags.
    List,
}

impl Kind {
    /// What a value of this kind looks like, in the words an error message uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Switch => "true or false",
            Kind::Count => "a whole number (0 or more)",
            Kind::List => "a list of text",
        }
    }
}

/// One setting: `[section] name` in TOML, `HIE_VC_<SECTION>_<NAME>` in the environment,
/// `--<section>-<name>` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The section (`hie`, `kafka`, `notify`, `jitsi`, `vc`).
    pub section: &'static str,
    /// The name within the section.
    pub name: &'static str,
    /// The type of its value.
    pub kind: Kind,
    /// One line of help (the CLI's flag help).
    pub help: &'static str,
}

impl Key {
    /// The setting `section.name`, if there is one.
    pub fn find(section: &str, name: &str) -> Option<&'static Key> {
        KEYS.iter().find(|k| k.section == section && k.name == name)
    }
}

const fn key(section: &'static str, name: &'static str, kind: Kind, help: &'static str) -> Key {
    Key {
        section,
        name,
        kind,
        help,
    }
}
const fn text(section: &'static str, name: &'static str, help: &'static str) -> Key {
    key(section, name, Kind::Text, help)
}
const fn switch(section: &'static str, name: &'static str, help: &'static str) -> Key {
    key(section, name, Kind::Switch, help)
}
const fn count(section: &'static str, name: &'static str, help: &'static str) -> Key {
    key(section, name, Kind::Count, help)
}
const fn list(section: &'static str, name: &'static str, help: &'static str) -> Key {
    key(section, name, Kind::List, help)
}

/// Every setting: the one list front ends build their flags and option names from, and the
/// one place a value's type is decided.
pub const KEYS: &[Key] = &[
    text("hie", "url", "HIE FHIR base URL"),
    text("hie", "bearer_token", "static bearer token for HIE"),
    text("hie", "basic_username", "HTTP basic user for HIE"),
    text("hie", "basic_password", "HTTP basic password for HIE"),
    text(
        "hie",
        "oauth_token_url",
        "OAuth2 client-credentials token endpoint",
    ),
    text("hie", "oauth_client_id", "OAuth2 client id"),
    text("hie", "oauth_client_secret", "OAuth2 client secret"),
    text("hie", "oauth_scope", "OAuth2 scope"),
    count("hie", "timeout_secs", "per-request time limit (s)"),
    switch(
        "hie",
        "validate",
        "validate MY Core rules before sending (true|false)",
    ),
    text(
        "hie",
        "profile_base",
        "base of the MY Core profile canonicals",
    ),
    text("hie", "user_agent", "User-Agent sent to HIE"),
    count("hie", "connect_timeout_secs", "connection time limit (s)"),
    count(
        "hie",
        "max_retries",
        "retries after a failed attempt (0: none)",
    ),
    count(
        "hie",
        "retry_initial_backoff_ms",
        "delay before the first retry (ms)",
    ),
    count(
        "hie",
        "retry_max_elapsed_secs",
        "bound on one call's total time with retries (s)",
    ),
    list(
        "hie",
        "headers",
        "extra headers, 'Name: value' (comma-separated)",
    ),
    list(
        "hie",
        "secret_headers",
        "extra secret headers, 'Name: value' (never logged)",
    ),
    text("kafka", "bootstrap", "Kafka bootstrap servers"),
    list("kafka", "topics", "Kafka topics (comma-separated)"),
    text("kafka", "group", "Kafka consumer group"),
    text(
        "kafka",
        "security_protocol",
        "PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL",
    ),
    text(
        "kafka",
        "sasl_mechanism",
        "PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512",
    ),
    text("kafka", "sasl_username", "SASL user"),
    text("kafka", "sasl_password", "SASL password"),
    text("kafka", "ssl_ca_location", "CA file (PEM) for SSL"),
    text(
        "kafka",
        "ssl_certificate_location",
        "client certificate file (PEM), mutual TLS",
    ),
    text(
        "kafka",
        "ssl_key_location",
        "client private key file (PEM), mutual TLS",
    ),
    text(
        "kafka",
        "ssl_key_password",
        "password of the client private key",
    ),
    switch(
        "kafka",
        "ssl_verify_hostname",
        "check the broker certificate's host name (true|false; default true)",
    ),
    text("kafka", "dead_letter_topic", "dead-letter topic"),
    text("notify", "url", "Notification API base URL"),
    text("notify", "email", "Notification API login email"),
    text("notify", "password", "Notification API login password"),
    text(
        "notify",
        "token_pointer",
        "JSON pointer of the token in the login response",
    ),
    text("jitsi", "provider", "hie | self-hosted | jaas"),
    text("jitsi", "url", "HIE Jitsi token service base URL"),
    text(
        "jitsi",
        "bearer_token",
        "bearer token for the HIE token service",
    ),
    text("jitsi", "domain", "Jitsi Meet domain (self-hosted)"),
    text(
        "jitsi",
        "app_id",
        "Jitsi app id (self-hosted iss; JaaS AppID)",
    ),
    text("jitsi", "app_secret", "HS256 app secret (self-hosted)"),
    text("jitsi", "private_key_path", "RS256 private key file (PEM)"),
    text("jitsi", "key_id", "RS256 key id (kid)"),
    text(
        "jitsi",
        "prosody_url",
        "Prosody base URL for ending meetings",
    ),
    text("jitsi", "muc_domain", "MUC domain of conference rooms"),
    count("jitsi", "token_ttl_secs", "Jitsi token lifetime (s)"),
    switch(
        "vc",
        "quota_as_string",
        "write slot-quota numbers as strings (true|false)",
    ),
    text(
        "vc",
        "notify_title",
        "title of the session-start notification",
    ),
    text(
        "vc",
        "notify_body",
        "body of the session-start notification",
    ),
];

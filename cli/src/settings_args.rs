//! Every setting as a global flag `--<section>-<key>`, with the same names as the TOML file
//! (`[section] key`) and the environment (`HIE_VC_<SECTION>_<KEY>`).

use clap::{Arg, ArgMatches, Command};
use hie_vc::settings::{Settings, SettingsLoader};

/// `(section, key, help)` of every setting a flag can set.
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

fn flag(section: &str, key: &str) -> String {
    format!("{section}-{}", key.replace('_', "-"))
}

/// Adds the settings flags and `--config` to a command.
pub fn augment(cmd: Command) -> Command {
    let mut cmd = cmd.arg(
        Arg::new("config")
            .long("config")
            .global(true)
            .env("HIE_VC_CONFIG")
            .value_name("FILE")
            .help("TOML settings file ([hie], [kafka], [notify], [jitsi], [vc])"),
    );
    for (section, key, help) in KEYS {
        let name = flag(section, key);
        cmd = cmd.arg(
            Arg::new(name.clone())
                .long(name)
                .global(true)
                .hide_short_help(true)
                .value_name("VALUE")
                .help(*help),
        );
    }
    cmd
}

/// The settings: file, then `HIE_VC_*` environment, then flags.
pub fn load(m: &ArgMatches) -> hie_vc::Result<Settings> {
    let mut loader = SettingsLoader::new();
    if let Some(path) = m.get_one::<String>("config") {
        loader = loader.toml_file(std::path::Path::new(path))?;
    }
    loader = loader.env();
    for (section, key, _) in KEYS {
        if let Some(v) = m.get_one::<String>(&flag(section, key)) {
            loader = loader.set(section, key, v);
        }
    }
    loader.load()
}

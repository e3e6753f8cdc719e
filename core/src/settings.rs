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

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use std::sync::Arc;

use crate::hie::{Auth, HieConfig, OAuth2};
use crate::jitsi::{
    EndMeeting, JaasConfig, JaasJitsi, JitsiProvider, RestJitsi, RestJitsiConfig, SelfHostedConfig,
    SelfHostedJitsi,
};
use crate::listener::{KafkaConfig, Sasl, SaslMechanism, Security, Tls};
use crate::notify::NotificationConfig;
use crate::{Error, Result};

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

/// `[hie]`: the HIE FHIR server and how to authenticate.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HieSettings {
    /// Base URL, e.g. `https://fhir.hie.moh.gov.my/baseR4/`.
    pub url: Option<String>,
    /// Static bearer token.
    pub bearer_token: Option<String>,
    /// HTTP basic user.
    pub basic_username: Option<String>,
    /// HTTP basic password.
    pub basic_password: Option<String>,
    /// OAuth2 client-credentials token endpoint.
    pub oauth_token_url: Option<String>,
    /// OAuth2 client id.
    pub oauth_client_id: Option<String>,
    /// OAuth2 client secret.
    pub oauth_client_secret: Option<String>,
    /// OAuth2 scope.
    pub oauth_scope: Option<String>,
    /// Per-request time limit in seconds.
    pub timeout_secs: Option<u64>,
    /// Validate MY Core rules before sending (default true).
    pub validate: Option<bool>,
    /// Base of the MY Core profile canonicals.
    pub profile_base: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

impl fmt::Debug for HieSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HieSettings")
            .field("url", &self.url)
            .field("bearer_token", &redact(&self.bearer_token))
            .field("basic_username", &self.basic_username)
            .field("basic_password", &redact(&self.basic_password))
            .field("oauth_token_url", &self.oauth_token_url)
            .field("oauth_client_id", &self.oauth_client_id)
            .field("oauth_client_secret", &redact(&self.oauth_client_secret))
            .field("oauth_scope", &self.oauth_scope)
            .field("timeout_secs", &self.timeout_secs)
            .field("validate", &self.validate)
            .field("profile_base", &self.profile_base)
            .finish()
    }
}

impl HieSettings {
    /// The authentication these settings describe (at most one scheme may be set).
    pub fn auth(&self) -> Result<Auth> {
        let schemes = [
            self.bearer_token.is_some(),
            self.basic_username.is_some(),
            self.oauth_token_url.is_some(),
        ];
        if schemes.iter().filter(|s| **s).count() > 1 {
            return Err(Error::config(
                "set only one of hie.bearer_token, hie.basic_username, hie.oauth_token_url",
            ));
        }
        if let Some(t) = &self.bearer_token {
            return Ok(Auth::bearer(t.clone()));
        }
        if let Some(u) = &self.basic_username {
            let p = self.basic_password.clone().ok_or_else(|| {
                Error::config("hie.basic_username is set but hie.basic_password is not")
            })?;
            return Ok(Auth::basic(u.clone(), p));
        }
        if let Some(url) = &self.oauth_token_url {
            let id = self.oauth_client_id.clone().ok_or_else(|| {
                Error::config("hie.oauth_token_url is set but hie.oauth_client_id is not")
            })?;
            let secret = self.oauth_client_secret.clone().ok_or_else(|| {
                Error::config("hie.oauth_token_url is set but hie.oauth_client_secret is not")
            })?;
            let mut o = OAuth2::client_credentials(url.clone(), id, secret);
            if let Some(scope) = &self.oauth_scope {
                o = o.scope(scope.clone());
            }
            return Ok(Auth::oauth2(o));
        }
        Ok(Auth::None)
    }

    /// The HIE client configuration.
    pub fn to_config(&self) -> Result<HieConfig> {
        let url = self.url.as_deref().ok_or_else(|| {
            Error::config("hie.url is not set (HIE_VC_HIE_URL, --hie-url or [hie] url)")
        })?;
        let mut b = HieConfig::builder(url).auth(self.auth()?);
        if let Some(t) = self.timeout_secs {
            b = b.request_timeout(Duration::from_secs(t));
        }
        if let Some(v) = self.validate {
            b = b.validate(v);
        }
        if let Some(p) = &self.profile_base {
            b = b.profile_base(p.clone());
        }
        if let Some(ua) = &self.user_agent {
            b = b.user_agent(ua.clone());
        }
        b.build()
    }
}

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

/// `[notify]`: the HIE Notification API.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Base URL.
    pub url: Option<String>,
    /// Login email.
    pub email: Option<String>,
    /// Login password.
    pub password: Option<String>,
    /// JSON pointer of the token in the login response.
    pub token_pointer: Option<String>,
}

impl fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifySettings")
            .field("url", &self.url)
            .field("email", &self.email.as_ref().map(|_| "<set>"))
            .field("password", &redact(&self.password))
            .field("token_pointer", &self.token_pointer)
            .finish()
    }
}

impl NotifySettings {
    /// The Notification API client configuration.
    pub fn to_config(&self) -> Result<NotificationConfig> {
        let url = self.url.as_deref().ok_or_else(|| {
            Error::config("notify.url is not set (HIE_VC_NOTIFY_URL, --notify-url or [notify] url)")
        })?;
        let email = self
            .email
            .clone()
            .ok_or_else(|| Error::config("notify.email is not set"))?;
        let password = self
            .password
            .clone()
            .ok_or_else(|| Error::config("notify.password is not set"))?;
        let mut b = NotificationConfig::builder(url).credentials(email, password);
        if let Some(p) = &self.token_pointer {
            b = b.token_pointer(p.clone());
        }
        b.build()
    }
}

/// `[jitsi]`: which Jitsi provider and its settings.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JitsiSettings {
    /// `hie` (HIE's token service), `self-hosted` (Jitsi Meet token auth) or `jaas` (8x8).
    pub provider: Option<String>,
    /// Base URL of HIE's token service.
    pub url: Option<String>,
    /// Bearer token for HIE's token service.
    pub bearer_token: Option<String>,
    /// Jitsi Meet domain (self-hosted), e.g. `meet.example.my`.
    pub domain: Option<String>,
    /// App id (`iss` for self-hosted; the AppID for JaaS).
    pub app_id: Option<String>,
    /// HS256 shared secret (self-hosted).
    pub app_secret: Option<String>,
    /// RS256 private key file (PEM) (self-hosted RS256 and JaaS).
    pub private_key_path: Option<String>,
    /// Key id (`kid`) for RS256.
    pub key_id: Option<String>,
    /// Prosody base URL for ending meetings (self-hosted).
    pub prosody_url: Option<String>,
    /// MUC domain of the conference rooms (self-hosted), e.g. `conference.meet.example.my`.
    pub muc_domain: Option<String>,
    /// Token lifetime in seconds.
    pub token_ttl_secs: Option<u64>,
}

impl fmt::Debug for JitsiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JitsiSettings")
            .field("provider", &self.provider)
            .field("url", &self.url)
            .field("bearer_token", &redact(&self.bearer_token))
            .field("domain", &self.domain)
            .field("app_id", &self.app_id)
            .field("app_secret", &redact(&self.app_secret))
            .field("private_key_path", &self.private_key_path)
            .field("key_id", &self.key_id)
            .field("prosody_url", &self.prosody_url)
            .field("muc_domain", &self.muc_domain)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .finish()
    }
}

impl JitsiSettings {
    fn private_key(&self) -> Result<Option<Vec<u8>>> {
        self.private_key_path
            .as_deref()
            .map(|p| {
                std::fs::read(p).map_err(|e| {
                    Error::config(format!("cannot read jitsi.private_key_path {p}: {e}"))
                })
            })
            .transpose()
    }

    /// The provider these settings describe (`provider` = `hie`, `self-hosted` or `jaas`).
    pub fn provider(&self) -> Result<Arc<dyn JitsiProvider>> {
        let ttl = self.token_ttl_secs.map(Duration::from_secs);
        match self.provider.as_deref().unwrap_or("hie") {
            "hie" => {
                let url = self
                    .url
                    .as_deref()
                    .ok_or_else(|| Error::config("jitsi.url (HIE's token service) is not set"))?;
                let mut b = RestJitsiConfig::builder(url);
                if let Some(t) = &self.bearer_token {
                    b = b.auth(Auth::bearer(t.clone()));
                }
                Ok(Arc::new(RestJitsi::new(b.build()?)?))
            }
            "self-hosted" => {
                let domain = self.domain.as_deref().ok_or_else(|| {
                    Error::config("jitsi.domain is not set (self-hosted provider)")
                })?;
                let mut b = SelfHostedConfig::builder(domain);
                if let Some(id) = &self.app_id {
                    b = b.app_id(id.clone());
                }
                match (&self.app_secret, self.private_key()?) {
                    (Some(_), Some(_)) => return Err(Error::config(
                        "set jitsi.app_secret (HS256) or jitsi.private_key_path (RS256), not both",
                    )),
                    (Some(secret), None) => b = b.app_secret(secret.clone()),
                    (None, Some(pem)) => {
                        let kid = self
                            .key_id
                            .clone()
                            .ok_or_else(|| Error::config("RS256 needs jitsi.key_id"))?;
                        b = b.rs256_private_key(pem, kid);
                    }
                    (None, None) => return Err(Error::config(
                        "the self-hosted provider needs jitsi.app_secret or jitsi.private_key_path",
                    )),
                }
                if let Some(t) = ttl {
                    b = b.token_ttl(t);
                }
                if let Some(p) = &self.prosody_url {
                    let mut end = EndMeeting::new(p.clone());
                    if let Some(m) = &self.muc_domain {
                        end = end.muc_domain(m.clone());
                    }
                    b = b.end_meeting(end);
                }
                Ok(Arc::new(SelfHostedJitsi::new(b.build()?)?))
            }
            "jaas" => {
                let app = self
                    .app_id
                    .as_deref()
                    .ok_or_else(|| Error::config("jitsi.app_id (the JaaS AppID) is not set"))?;
                let pem = self
                    .private_key()?
                    .ok_or_else(|| Error::config("JaaS needs jitsi.private_key_path"))?;
                let kid = self
                    .key_id
                    .clone()
                    .ok_or_else(|| Error::config("JaaS needs jitsi.key_id"))?;
                let mut b = JaasConfig::builder(app).api_key(kid, pem);
                if let Some(t) = ttl {
                    b = b.token_ttl(t);
                }
                Ok(Arc::new(JaasJitsi::new(b.build()?)))
            }
            other => Err(Error::config(format!(
                "jitsi.provider '{other}' is not hie, self-hosted or jaas"
            ))),
        }
    }
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

fn parse_value(key: &str, raw: &str) -> toml::Value {
    // Lists come comma-separated from the environment and flags.
    if key == "topics" {
        return toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        );
    }
    if let Ok(b) = raw.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if key.ends_with("_secs") {
        if let Ok(n) = raw.parse::<i64>() {
            return toml::Value::Integer(n);
        }
    }
    toml::Value::String(raw.to_owned())
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Builds settings layer by layer.
#[derive(Debug, Default, Clone)]
pub struct SettingsLoader {
    table: toml::Table,
}

impl SettingsLoader {
    /// An empty loader.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a TOML document.
    pub fn toml_str(mut self, text: &str) -> Result<Self> {
        let t: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            Error::config(format!("invalid TOML settings: {}", e.message()))
        })?;
        merge(&mut self.table, t);
        Ok(self)
    }
    /// Adds a TOML file.
    pub fn toml_file(self, path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read settings file {}: {e}", path.display()))
        })?;
        self.toml_str(&text)
    }
    /// Adds a JSON document (same shape as the TOML one).
    pub fn json_str(mut self, text: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::config(format!("invalid JSON settings: {e}")))?;
        let t: toml::Table = toml::Table::try_from(v)
            .map_err(|e| Error::config(format!("JSON settings cannot be used: {e}")))?;
        merge(&mut self.table, t);
        Ok(self)
    }
    /// Adds `HIE_VC_<SECTION>_<KEY>` variables from `vars`.
    pub fn env_vars<I: IntoIterator<Item = (String, String)>>(mut self, vars: I) -> Self {
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let rest = rest.to_ascii_lowercase();
            // The settings file path is not a setting.
            if rest == "config" {
                continue;
            }
            let Some((section, key)) = SECTIONS.iter().find_map(|s| {
                rest.strip_prefix(s)
                    .and_then(|k| k.strip_prefix('_'))
                    .map(|k| (*s, k))
            }) else {
                continue;
            };
            self = self.set(section, key, &value);
        }
        self
    }
    /// Adds the process environment.
    pub fn env(self) -> Self {
        self.env_vars(std::env::vars())
    }
    /// Sets one value (`section.key`), e.g. from a CLI flag.
    pub fn set(mut self, section: &str, key: &str, value: &str) -> Self {
        let sec = self
            .table
            .entry(section.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = sec {
            t.insert(key.to_owned(), parse_value(key, value));
        }
        self
    }
    /// The settings; unknown names are a [`crate::ErrorKind::Config`] error.
    pub fn load(self) -> Result<Settings> {
        Settings::deserialize(toml::Value::Table(self.table))
            .map_err(|e| Error::config(format!("invalid settings: {}", e.message())))
    }
}

impl Settings {
    /// Settings from a TOML document.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        SettingsLoader::new().toml_str(text)?.load()
    }
    /// Settings from a JSON document.
    pub fn from_json_str(text: &str) -> Result<Self> {
        SettingsLoader::new().json_str(text)?.load()
    }
    /// Settings from the process environment only.
    pub fn from_env() -> Result<Self> {
        SettingsLoader::new().env().load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_is_a_setting() {
        for (section, key, _) in KEYS {
            let value = if key.ends_with("_secs") {
                "1"
            } else if *key == "validate" || *key == "quota_as_string" {
                "true"
            } else {
                "x"
            };
            assert!(
                SettingsLoader::new()
                    .set(section, key, value)
                    .load()
                    .is_ok(),
                "{section}.{key}"
            );
        }
    }

    #[test]
    fn layers_override_in_order() {
        let s = SettingsLoader::new()
            .toml_str("[hie]\nurl = \"http://file\"\ntimeout_secs = 5\n[kafka]\ntopics = [\"a\"]\n")
            .unwrap()
            .env_vars([
                ("HIE_VC_HIE_URL".to_owned(), "http://env".to_owned()),
                ("HIE_VC_KAFKA_TOPICS".to_owned(), "x, y".to_owned()),
                ("OTHER".to_owned(), "1".to_owned()),
            ])
            .set("hie", "validate", "false")
            .load()
            .unwrap();
        assert_eq!(s.hie.url.as_deref(), Some("http://env"));
        assert_eq!(s.hie.timeout_secs, Some(5));
        assert_eq!(s.hie.validate, Some(false));
        assert_eq!(s.kafka.topics, vec!["x", "y"]);
    }

    #[test]
    fn typos_and_conflicts_are_config_errors() {
        let e = Settings::from_toml_str("[hie]\nulr = \"x\"").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.to_string().contains("ulr"), "{e}");
        let s = Settings::from_json_str(r#"{"hie":{"url":"http://h","bearer_token":"a","basic_username":"u","basic_password":"p"}}"#).unwrap();
        assert_eq!(
            s.hie.to_config().unwrap_err().kind(),
            crate::ErrorKind::Config
        );
        assert_eq!(
            Settings::default().hie.to_config().unwrap_err().kind(),
            crate::ErrorKind::Config
        );
        let k = Settings::from_toml_str(
            "[kafka]\nbootstrap=\"b\"\ntopics=[\"t\"]\nsecurity_protocol=\"SASL_PLAINTEXT\"",
        )
        .unwrap();
        assert!(k
            .kafka
            .to_config()
            .unwrap_err()
            .to_string()
            .contains("sasl_username"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let s = Settings::from_json_str(
            r#"{"hie":{"bearer_token":"B3ARER","basic_password":"BPASS","oauth_client_secret":"OSEC"},
                "kafka":{"sasl_password":"KPASS"},"notify":{"password":"NPASS","email":"nurse@klinik.my"},
                "jitsi":{"app_secret":"JSEC","bearer_token":"JTOK"}}"#,
        )
        .unwrap();
        let d = format!("{s:?}");
        for secret in [
            "B3ARER", "BPASS", "OSEC", "KPASS", "NPASS", "nurse@", "JSEC", "JTOK",
        ] {
            assert!(!d.contains(secret), "{d}");
        }
    }

    #[test]
    fn builds_jitsi_providers_and_notification_config() {
        let s = Settings::from_toml_str("[jitsi]\nprovider=\"self-hosted\"\ndomain=\"meet.example.my\"\napp_id=\"hie-vc\"\napp_secret=\"s3cret\"\n").unwrap();
        assert_eq!(s.jitsi.provider().unwrap().kind(), "self-hosted");
        let s = Settings::from_toml_str(
            "[jitsi]\nprovider=\"hie\"\nurl=\"http://127.0.0.1:1/jitsi\"\n",
        )
        .unwrap();
        assert_eq!(s.jitsi.provider().unwrap().kind(), "hie-rest");
        for bad in [
            "provider=\"zoom\"",
            "provider=\"self-hosted\"\ndomain=\"d\"",
            "provider=\"jaas\"\napp_id=\"a\"",
            "provider=\"hie\"",
        ] {
            let s = Settings::from_toml_str(&format!("[jitsi]\n{bad}\n")).unwrap();
            assert_eq!(
                s.jitsi.provider().unwrap_err().kind(),
                crate::ErrorKind::Config,
                "{bad}"
            );
        }
        let s = Settings::from_toml_str(
            "[notify]\nurl=\"http://127.0.0.1:1/notify\"\nemail=\"a@b\"\npassword=\"p\"\n",
        )
        .unwrap();
        assert!(s.notify.to_config().is_ok());
        assert_eq!(
            Settings::default().notify.to_config().unwrap_err().kind(),
            crate::ErrorKind::Config
        );
    }

    #[test]
    fn builds_client_and_kafka_configs() {
        let s = Settings::from_toml_str(
            "[hie]\nurl=\"http://127.0.0.1:1/fhir\"\nbasic_username=\"u\"\nbasic_password=\"p\"\n[kafka]\nbootstrap=\"127.0.0.1:9093\"\ntopics=[\"t\"]\nsecurity_protocol=\"sasl_plaintext\"\nsasl_mechanism=\"SCRAM-SHA-512\"\nsasl_username=\"u\"\nsasl_password=\"p\"",
        )
        .unwrap();
        assert_eq!(s.hie.to_config().unwrap().auth().scheme(), "basic");
        assert!(s.kafka.to_config().is_ok());
    }
}

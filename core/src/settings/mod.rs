//! One configuration for every front end: the same names in a TOML file, in `HIE_VC_*`
//! environment variables, in CLI flags, in the C ABI's JSON/TOML config and in the Python and
//! Node option objects.
//!
//! A setting `key` of section `section` is:
//! * TOML: `[section] key = ...`; JSON: `{"section": {"key": ...}}`
//! * environment: `HIE_VC_<SECTION>_<KEY>` (upper case; lists comma-separated)
//! * CLI flag: `--<section>-<key>` with `_` as `-`
//!
//! Each key has one type ([`KEYS`]): text from the environment and flags is read as that type,
//! whatever it looks like (a password `true` stays text), and a file value of another type is
//! refused with the key's name.
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
mod keys;
mod loader;
mod notify;
mod sources;

use serde::Deserialize;

pub use hie::HieSettings;
pub use jitsi::JitsiSettings;
pub use kafka::KafkaSettings;
pub use keys::{Key, Kind, KEYS};
pub use loader::SettingsLoader;
pub use notify::NotifySettings;
pub use sources::CONFIG_ENV;

/// The sections, in the order environment names are matched.
pub const SECTIONS: [&str; 5] = ["hie", "kafka", "notify", "jitsi", "vc"];

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

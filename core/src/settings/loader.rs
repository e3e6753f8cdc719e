//! Layers of settings: files, environment, explicit values.

use serde::Deserialize;

use super::{Settings, ENV_PREFIX, SECTIONS};
use crate::{Error, Result};

fn parse_value(key: &str, raw: &str) -> toml::Value {
    // Lists come comma-separated from the environment and flags.
    if matches!(key, "topics" | "headers" | "secret_headers") {
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
    if key.ends_with("_secs") || key.ends_with("_ms") || key == "max_retries" {
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

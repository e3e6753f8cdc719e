//! Layers of settings: files, environment, explicit values.

use serde::Deserialize;

use super::{Key, Kind, Settings, ENV_PREFIX, SECTIONS};
use crate::{Error, Result};

/// The text of an environment variable or flag as a value of its key's type. Text that is not
/// of that type stays text here and is refused by [`check_types`] with the key's name, after
/// every layer is in (a later layer may still replace it).
fn parse_value(section: &str, name: &str, raw: &str) -> toml::Value {
    let text = || toml::Value::String(raw.to_owned());
    match Key::find(section, name).map(|k| k.kind) {
        Some(Kind::List) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
        Some(Kind::Switch) => raw
            .trim()
            .parse()
            .map_or_else(|_| text(), toml::Value::Boolean),
        Some(Kind::Count) => raw
            .trim()
            .parse()
            .map_or_else(|_| text(), toml::Value::Integer),
        // Unknown names are refused by `load`, naming them.
        Some(Kind::Text) | None => text(),
    }
}

/// Every known key's value has its key's type. The messages name the key; they quote the
/// value only for switches and counts, never for text (it may be a secret).
fn check_types(table: &toml::Table) -> Result<()> {
    for (section, values) in table {
        let toml::Value::Table(values) = values else {
            continue;
        };
        for (name, value) in values {
            let Some(key) = Key::find(section, name) else {
                continue;
            };
            let fits = match key.kind {
                Kind::Text => value.is_str(),
                Kind::Switch => value.is_bool(),
                Kind::Count => value.as_integer().is_some_and(|n| n >= 0),
                Kind::List => value
                    .as_array()
                    .is_some_and(|items| items.iter().all(toml::Value::is_str)),
            };
            if fits {
                continue;
            }
            let hint = match key.kind {
                Kind::Text => " (in a TOML or JSON file, put it in quotes)".to_owned(),
                Kind::List => {
                    " (in TOML [\"a\", \"b\"]; comma-separated in the environment and flags)"
                        .to_owned()
                }
                Kind::Switch | Kind::Count => format!(", not {value}"),
            };
            return Err(Error::config(format!(
                "invalid settings: {section}.{name} takes {}{hint}",
                key.kind.as_str()
            )));
        }
    }
    Ok(())
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
    /// Sets one value (`section.key`) from text, e.g. from a CLI flag, read as the key's
    /// [`Kind`](super::Kind) (lists comma-separated).
    pub fn set(mut self, section: &str, key: &str, value: &str) -> Self {
        let sec = self
            .table
            .entry(section.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = sec {
            t.insert(key.to_owned(), parse_value(section, key, value));
        }
        self
    }
    /// The settings; unknown names are a [`crate::ErrorKind::Config`] error.
    pub fn load(self) -> Result<Settings> {
        check_types(&self.table)?;
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

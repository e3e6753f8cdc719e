//! Where every front end (CLI, C ABI, Python, Node) takes its settings from when the caller
//! names none: the TOML file `HIE_VC_CONFIG` names, then the `HIE_VC_<SECTION>_<KEY>`
//! environment, so one deployment is configured the same way whatever calls the SDK.

use std::path::Path;

use super::{Settings, SettingsLoader, ENV_PREFIX};
use crate::Result;

/// The variable naming the settings file.
pub const CONFIG_ENV: &str = "HIE_VC_CONFIG";

impl SettingsLoader {
    /// The standard layers from the process environment: the TOML file `HIE_VC_CONFIG`
    /// names (when set and not empty), then every `HIE_VC_*` variable. Callers add their
    /// own layers (e.g. CLI flags) on top. A named file that cannot be read or parsed is a
    /// [`crate::ErrorKind::Config`] error, not silently skipped.
    pub fn standard() -> Result<Self> {
        Self::standard_from(std::env::vars())
    }

    /// [`SettingsLoader::standard`] over the variables `vars` (for hosts that hold their own
    /// environment, and for tests).
    pub fn standard_from<I: IntoIterator<Item = (String, String)>>(vars: I) -> Result<Self> {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        let file = vars
            .iter()
            .find(|(k, v)| k == CONFIG_ENV && !v.trim().is_empty())
            .map(|(_, v)| v.clone());
        Self::with_file_then_env(file.as_deref().map(Path::new), vars)
    }

    /// The file `file` (when given: it replaces `HIE_VC_CONFIG`, as the CLI's `--config`
    /// does), then the variables `vars`.
    pub fn with_file_then_env<I: IntoIterator<Item = (String, String)>>(
        file: Option<&Path>,
        vars: I,
    ) -> Result<Self> {
        let mut loader = SettingsLoader::new();
        if let Some(path) = file {
            loader = loader.toml_file(path)?;
        }
        Ok(loader.env_vars(vars))
    }
}

impl SettingsLoader {
    /// The layers a binding's `fromSettings(path, env)` asks for: the TOML file `path`
    /// (when given), then, with `env`, the `HIE_VC_*` variables ([`standard`](Self::standard)
    /// when no path is given: `HIE_VC_CONFIG` names the file); neither: no layer. Callers add
    /// their own (e.g. a JSON document of options) on top.
    pub fn for_front_end(path: Option<&Path>, env: bool) -> Result<Self> {
        match (path, env) {
            (Some(p), true) => Self::with_file_then_env(Some(p), std::env::vars()),
            (Some(p), false) => SettingsLoader::new().toml_file(p),
            (None, true) => Self::standard(),
            (None, false) => Ok(SettingsLoader::new()),
        }
    }
}

impl Settings {
    /// The settings every front end starts from: [`SettingsLoader::standard`], loaded.
    ///
    /// ```no_run
    /// // HIE_VC_CONFIG=/etc/hie-vc.toml HIE_VC_HIE_URL=https://... my-service
    /// let settings = hie_vc::settings::Settings::load()?;
    /// let client = hie_vc::hie::HieClient::new(settings.hie.to_config()?)?;
    /// # Ok::<(), hie_vc::Error>(())
    /// ```
    pub fn load() -> Result<Self> {
        SettingsLoader::standard()?.load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_front_end_takes_the_file_it_names_and_no_layer_it_did_not_ask_for() {
        let dir = std::env::temp_dir().join(format!("hievc-front-end-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("s.toml");
        std::fs::write(&file, "[hie]\nurl = \"http://from-file/fhir/\"\n").unwrap();
        let s = SettingsLoader::for_front_end(Some(&file), false)
            .unwrap()
            .load()
            .unwrap();
        assert_eq!(s.hie.url.as_deref(), Some("http://from-file/fhir/"));
        let none = SettingsLoader::for_front_end(None, false)
            .unwrap()
            .load()
            .unwrap();
        assert_eq!(none.hie.url, None);
        let missing = SettingsLoader::for_front_end(Some(&dir.join("nope.toml")), false);
        assert_eq!(
            missing.err().map(|e| e.kind()),
            Some(crate::ErrorKind::Config)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
    use crate::listener::ListenerOptions;
    use crate::ErrorKind;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn temp_toml(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "hie-vc-settings-{}-{name}.toml",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_file_hie_vc_config_names_comes_first_then_the_environment() {
        let path = temp_toml(
            "layers",
            "[hie]\nurl = \"https://file.example/fhir\"\ntimeout_secs = 9\n[kafka]\ndead_letter_topic = \"vc-dlq\"\n",
        );
        let s = SettingsLoader::standard_from(vars(&[
            ("HIE_VC_CONFIG", path.to_str().unwrap()),
            ("HIE_VC_HIE_URL", "https://env.example/fhir"),
            ("OTHER_VAR", "ignored"),
        ]))
        .unwrap()
        .load()
        .unwrap();
        assert_eq!(s.hie.url.as_deref(), Some("https://env.example/fhir"));
        assert_eq!(s.hie.timeout_secs, Some(9));
        assert_eq!(s.kafka.dead_letter_topic.as_deref(), Some("vc-dlq"));
        // ... and the dead-letter topic reaches every listener built from the settings.
        let o = ListenerOptions::from_settings(&s);
        assert_eq!(o.dead_letter_topic.as_deref(), Some("vc-dlq"));
        assert_eq!(o.filter, ListenerOptions::default().filter);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn without_hie_vc_config_only_the_environment_counts() {
        let s = SettingsLoader::standard_from(vars(&[
            ("HIE_VC_CONFIG", " "),
            ("HIE_VC_KAFKA_TOPICS", "a,b"),
        ]))
        .unwrap()
        .load()
        .unwrap();
        assert_eq!(s.kafka.topics, ["a", "b"]);
        assert_eq!(s.hie.url, None);
        assert_eq!(ListenerOptions::from_settings(&s).dead_letter_topic, None);
    }

    #[test]
    fn a_named_file_that_is_missing_or_wrong_is_an_error() {
        let missing = std::env::temp_dir().join("hie-vc-no-such-settings.toml");
        let e =
            SettingsLoader::standard_from(vars(&[("HIE_VC_CONFIG", missing.to_str().unwrap())]))
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("hie-vc-no-such-settings.toml"), "{e}");
        let bad = temp_toml("bad", "[hie]\nnope = 1\n");
        let e = SettingsLoader::standard_from(vars(&[("HIE_VC_CONFIG", bad.to_str().unwrap())]))
            .unwrap()
            .load()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let _ = std::fs::remove_file(bad);
    }

    #[test]
    fn an_explicit_file_replaces_hie_vc_config() {
        let named = temp_toml("named", "[hie]\nurl = \"https://named.example/\"\n");
        let given = temp_toml("given", "[hie]\nurl = \"https://given.example/\"\n");
        let s = SettingsLoader::with_file_then_env(
            Some(&given),
            vars(&[("HIE_VC_CONFIG", named.to_str().unwrap())]),
        )
        .unwrap()
        .load()
        .unwrap();
        assert_eq!(s.hie.url.as_deref(), Some("https://given.example/"));
        let _ = std::fs::remove_file(named);
        let _ = std::fs::remove_file(given);
    }
}

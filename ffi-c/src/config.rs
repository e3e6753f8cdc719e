//! `hievc_config`: the SDK's one configuration (`hie_vc::settings`), with the same names as the
//! TOML file, the `HIE_VC_*` environment variables and the CLI flags: `[hie] url` in TOML is
//! `{"hie": {"url": ...}}` in JSON, `HIE_VC_HIE_URL` in the environment and `hie.url` for
//! `hievc_config_set`.

use std::ffi::c_char;
use std::sync::Mutex;

use hie_vc::settings::{Settings, SettingsLoader};

use crate::error::Failure;
use crate::guard::{
    arg_out, arg_ref, arg_str, free_handle, guard, guard_value, lock, opt_out, write_handle, Out,
};
use crate::hievc_error;
use crate::status::hievc_status::{self, *};

struct Layers {
    loader: SettingsLoader,
    settings: Settings,
}

/// The library's settings. Thread-safe: setters may run concurrently with readers; objects
/// built from a config (clients, listeners, validators) copy what they need and are not
/// affected by later changes.
pub struct hievc_config {
    layers: Mutex<Layers>,
}

impl std::fmt::Debug for hievc_config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("hievc_config")
            .field("settings", &self.snapshot())
            .finish()
    }
}

impl hievc_config {
    pub(crate) fn snapshot(&self) -> Settings {
        lock(&self.layers).settings.clone()
    }
}

impl hievc_config {
    /// A config of the layers in `loader` (checked now).
    pub(crate) fn from_loader(loader: SettingsLoader) -> Result<Self, Failure> {
        let settings = loader.clone().load()?;
        Ok(hievc_config {
            layers: Mutex::new(Layers { loader, settings }),
        })
    }
}

fn create(out: Out<'_, *mut hievc_config>, loader: SettingsLoader) -> Result<(), Failure> {
    write_handle(out, hievc_config::from_loader(loader)?);
    Ok(())
}

/// A configuration with every default (nothing set: a client needs at least `hie.url`).
///
/// # Safety
/// `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_config_new(
    out: *mut *mut hievc_config,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        create(out, SettingsLoader::new())
    })
}

/// A configuration from JSON text, e.g. `{"hie": {"url": "https://.../baseR4/",
/// "bearer_token": "..."}, "kafka": {"bootstrap": "host:9092", "topics": ["vc-encounters"],
/// "group": "clinic-a"}}`. Sections: `hie`, `kafka`, `notify`, `jitsi`, `vc` (keys in
/// ffi-c/README.md). `HIEVC_INVALID_JSON` when it is not JSON; `HIEVC_CONFIG` for an unknown
/// key or a value of the wrong type (the message names it).
///
/// # Safety
/// `json` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_config_from_json(
    json: *const c_char,
    out: *mut *mut hievc_config,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let text = unsafe { arg_str(json, "json") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
            return Err(Failure::json("json", &e));
        }
        create(out, SettingsLoader::new().json_str(text)?)
    })
}

/// A configuration from TOML text (`[hie]\nurl = "..."`), with the same keys as JSON.
/// `HIEVC_CONFIG` when it is not valid TOML or has an unknown key.
///
/// # Safety
/// `toml` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_config_from_toml(
    toml: *const c_char,
    out: *mut *mut hievc_config,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let text = unsafe { arg_str(toml, "toml") }?;
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        create(out, SettingsLoader::new().toml_str(text)?)
    })
}

/// A configuration from the process environment, exactly as the CLI and every SDK package
/// read it (`Settings::load`): the TOML file `HIE_VC_CONFIG` names (when set), then every
/// `HIE_VC_<SECTION>_<KEY>` variable (e.g. `HIE_VC_HIE_URL`, `HIE_VC_KAFKA_TOPICS=a,b`).
/// `HIEVC_CONFIG` when that file cannot be read or holds an unknown key.
///
/// # Safety
/// `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_config_from_env(
    out: *mut *mut hievc_config,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        create(out, SettingsLoader::standard()?)
    })
}

/// Sets one value by `section.key` (e.g. `hie.url`, `hie.bearer_token`, `kafka.topics`,
/// `jitsi.provider`), with the value as text, parsed as the environment variables and CLI
/// flags are: `true`/`false` for switches, digits for `*_secs`, comma-separated lists for
/// `kafka.topics`. Later calls override earlier ones and the file/JSON values.
/// `HIEVC_CONFIG` for an unknown key or a value of the wrong type; the config is unchanged
/// then.
///
/// # Safety
/// `cfg` is a live config; `key` and `value` are NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn hievc_config_set(
    cfg: *const hievc_config,
    key: *const c_char,
    value: *const c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (cfg, key, value) = unsafe {
            (
                arg_ref(cfg, "cfg")?,
                arg_str(key, "key")?,
                arg_str(value, "value")?,
            )
        };
        let (section, name) = key
            .split_once('.')
            .filter(|(s, n)| !s.is_empty() && !n.is_empty() && !n.contains('.'))
            .ok_or_else(|| {
                Failure::new(
                    HIEVC_INVALID_ARGUMENT,
                    format!("'{key}' is not a setting name: use section.key, e.g. hie.url"),
                )
            })?;
        let mut layers = lock(&cfg.layers);
        let loader = layers.loader.clone().set(section, name, value);
        let settings = loader.clone().load()?;
        *layers = Layers { loader, settings };
        Ok(())
    })
}

/// Frees a config. NULL is a no-op. Objects built from it stay valid.
///
/// # Safety
/// `cfg` is NULL or a config not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_config_free(cfg: *mut hievc_config) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(cfg) })
}

/// The settings of `cfg`, or the defaults when it is NULL.
///
/// # Safety
/// `cfg` is NULL or a live config.
pub(crate) unsafe fn settings_of(cfg: *const hievc_config) -> Settings {
    // SAFETY: forwarded contract.
    unsafe { cfg.as_ref() }.map_or_else(Settings::default, hievc_config::snapshot)
}

//! Every setting as a global flag `--<section>-<key>`, with the same names as the TOML file
//! (`[section] key`) and the environment (`HIE_VC_<SECTION>_<KEY>`).

use clap::{Arg, ArgMatches, Command};
use hie_vc::settings::{Settings, SettingsLoader, KEYS};

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
    for key in KEYS {
        let name = flag(key.section, key.name);
        cmd = cmd.arg(
            Arg::new(name.clone())
                .long(name)
                .global(true)
                .hide_short_help(true)
                .value_name("VALUE")
                .help(key.help),
        );
    }
    cmd
}

/// The settings: file (`--config`, else `HIE_VC_CONFIG`: clap reads it into the flag), then
/// `HIE_VC_*` environment, then flags — the layers of `Settings::load` plus the flags.
pub fn load(m: &ArgMatches) -> hie_vc::Result<Settings> {
    let file = m.get_one::<String>("config").map(std::path::Path::new);
    let mut loader = SettingsLoader::with_file_then_env(file, std::env::vars())?;
    for key in KEYS {
        if let Some(v) = m.get_one::<String>(&flag(key.section, key.name)) {
            loader = loader.set(key.section, key.name, v);
        }
    }
    loader.load()
}

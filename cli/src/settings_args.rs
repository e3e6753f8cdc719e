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

/// The settings: file, then `HIE_VC_*` environment, then flags.
pub fn load(m: &ArgMatches) -> hie_vc::Result<Settings> {
    let mut loader = SettingsLoader::new();
    if let Some(path) = m.get_one::<String>("config") {
        loader = loader.toml_file(std::path::Path::new(path))?;
    }
    loader = loader.env();
    for key in KEYS {
        if let Some(v) = m.get_one::<String>(&flag(key.section, key.name)) {
            loader = loader.set(key.section, key.name, v);
        }
    }
    loader.load()
}

//! `hie-vc`: the command line of the hie-vc SDK.

mod demo_cmd;
mod exit;
mod fhir_cmds;
mod listen_cmd;
mod progress;
mod settings_args;
mod token_cmd;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// hie-vc: run Malaysia's HIE Virtual Consultation workflow from the command line.
///
/// Settings come from a TOML file (--config / HIE_VC_CONFIG), HIE_VC_<SECTION>_<KEY>
/// environment variables and --<section>-<key> flags, in that order of precedence (flags win).
#[derive(Debug, Parser)]
#[command(name = "hie-vc", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// More log output on standard error (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the VCI and VCE flows end to end on the embedded HIE sandbox.
    Demo(demo_cmd::DemoArgs),
    /// The embedded HIE sandbox.
    #[command(subcommand)]
    Sandbox(demo_cmd::SandboxCommand),
    /// Validate FHIR files against the MY Core VC rules (exit 1 when there are errors).
    Validate(fhir_cmds::ValidateArgs),
    /// Read a resource from HIE (`Type/id`).
    Get(fhir_cmds::GetArgs),
    /// PUT a resource to HIE by its id (update-as-create).
    Put(fhir_cmds::PutArgs),
    /// Search HIE; matching resources as JSON lines.
    Search(fhir_cmds::SearchArgs),
    /// Listen on Kafka; arriving VC Encounters as JSON lines.
    Listen(listen_cmd::ListenArgs),
    /// Mint or verify a Jitsi JWT.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
    /// Send a message through the HIE Notification API.
    Notify(token_cmd::NotifyArgs),
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> std::process::ExitCode {
    let matches = settings_args::augment(Cli::command()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    init_tracing(cli.verbose);
    let settings = match settings_args::load(&matches) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hie-vc: {e}");
            return exit::for_error(&e).into();
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hie-vc: cannot start the async runtime: {e}");
            return exit::FAILED.into();
        }
    };
    let result = rt.block_on(async {
        match &cli.command {
            Command::Demo(a) => demo_cmd::demo(a).await,
            Command::Sandbox(c) => demo_cmd::sandbox(c).await,
            Command::Validate(a) => fhir_cmds::validate(a, &settings),
            Command::Get(a) => fhir_cmds::get(a, &settings).await,
            Command::Put(a) => fhir_cmds::put(a, &settings).await,
            Command::Search(a) => fhir_cmds::search(a, &settings).await,
            Command::Listen(a) => listen_cmd::listen(a, &settings).await,
            Command::Token(c) => token_cmd::token(c, &settings).await,
            Command::Notify(a) => token_cmd::notify(a, &settings).await,
        }
    });
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("hie-vc: {e}");
            exit::for_error(&e).into()
        }
    }
}

//! `validate`, `get`, `put`, `search`: FHIR work against files and a configured HIE.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use futures::StreamExt;
use hie_vc::fhir::{self, ReadMode, ReadOptions, Resource};
use hie_vc::hie::HieClient;
use hie_vc::mycore::{Severity, Validator};
use hie_vc::settings::Settings;
use hie_vc::{Error, ErrorKind, Result};

use crate::exit;
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// FHIR JSON files (a resource or a Bundle); `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Read leniently (accept published IG quirks as warnings).
    #[arg(long)]
    lenient: bool,
    /// Report the IG examples' known departures as warnings.
    #[arg(long)]
    accept_published_quirks: bool,
    /// Output: text (default), json (issues) or outcome (an OperationOutcome).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "outcome"])]
    format: String,
}

fn read_input(path: &PathBuf) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("cannot read standard input: {e}"),
            )
        })?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

/// Exit code: 0 clean, 1 MY Core errors, 4 unreadable input.
pub fn validate(args: &ValidateArgs, settings: &Settings) -> Result<u8> {
    let mut code = exit::OK;
    let mut validator = Validator::new().accept_published_quirks(args.accept_published_quirks);
    if let Some(base) = &settings.hie.profile_base {
        validator = validator.profile_base(base.clone());
    }
    let opts = if args.lenient {
        ReadOptions::lenient()
    } else {
        ReadOptions::strict()
    };
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        let bytes = read_input(path)?;
        let read = match fhir::read::<Resource>(&bytes, opts) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                code = code.max(exit::INPUT);
                continue;
            }
        };
        let report = validator.validate(&read.value);
        if report.has_errors() {
            code = code.max(exit::FAILED);
        }
        match args.format.as_str() {
            "json" => {
                let issues: Vec<_> = read
                    .warnings
                    .iter()
                    .map(|w| serde_json::json!({"severity": "warning", "rule": format!("read:{}", w.kind.as_str()), "location": w.location, "message": w.message}))
                    .chain(report.issues.iter().map(|i| serde_json::to_value(i).unwrap_or_default()))
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({"file": path.display().to_string(), "valid": report.is_valid(), "issues": issues})
                );
            }
            "outcome" => {
                let _ = writeln!(
                    out,
                    "{}",
                    fhir::to_json_pretty(&report.to_operation_outcome())
                );
            }
            _ => {
                let errors = report.errors().count();
                let warnings = report.warnings().count() + read.warnings.len();
                let verdict = if errors == 0 { "valid" } else { "INVALID" };
                let _ = writeln!(
                    out,
                    "{}: {verdict} ({errors} errors, {warnings} warnings)",
                    path.display()
                );
                for w in &read.warnings {
                    let _ = writeln!(
                        out,
                        "  warning [read:{}] {}: {}",
                        w.kind.as_str(),
                        w.location,
                        w.message
                    );
                }
                for i in &report.issues {
                    let sev = match i.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Information => "info",
                    };
                    let _ = writeln!(out, "  {sev} [{}] {}: {}", i.rule, i.location, i.message);
                }
            }
        }
    }
    Ok(code)
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// `Type/id` (or `Type/id/_history/vid`).
    reference: String,
    /// Compact JSON instead of indented.
    #[arg(long)]
    compact: bool,
}

fn split_ref(r: &str) -> Result<(String, String, Option<String>)> {
    let parts: Vec<&str> = r.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [t, id] => Ok(((*t).to_owned(), (*id).to_owned(), None)),
        [t, id, "_history", v] => Ok(((*t).to_owned(), (*id).to_owned(), Some((*v).to_owned()))),
        _ => Err(Error::new(
            ErrorKind::InvalidInput,
            format!("'{r}' is not Type/id or Type/id/_history/vid"),
        )),
    }
}

pub fn client(settings: &Settings) -> Result<HieClient> {
    HieClient::new(settings.hie.to_config()?)
}

pub async fn get(args: &GetArgs, settings: &Settings) -> Result<u8> {
    let (t, id, vid) = split_ref(&args.reference)?;
    let mut req = client(settings)?.read_type(t, id);
    if let Some(v) = vid {
        req = req.version(v);
    }
    let fetched = req.send().await?;
    let text = if args.compact {
        fhir::to_json(fetched.resource())
    } else {
        fhir::to_json_pretty(fetched.resource())
    };
    println!("{text}");
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// FHIR JSON file of a resource with its id (`-` for standard input).
    file: PathBuf,
    /// Only update this version (`If-Match`).
    #[arg(long)]
    if_match: Option<String>,
}

pub async fn put(args: &PutArgs, settings: &Settings) -> Result<u8> {
    let bytes = read_input(&args.file)?;
    let read = fhir::read::<Resource>(
        &bytes,
        ReadOptions {
            mode: ReadMode::Strict,
            deny_unknown: false,
        },
    )?;
    let mut req = client(settings)?.update(read.value);
    if let Some(v) = &args.if_match {
        req = req.if_match(v.clone());
    }
    let w = req.send().await?;
    println!(
        "{} {} version {} (HTTP {})",
        if w.created() { "created" } else { "updated" },
        w.id.as_deref().unwrap_or("?"),
        w.version_id.as_deref().unwrap_or("?"),
        w.status
    );
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Resource type, e.g. Encounter.
    resource_type: String,
    /// Search parameters `name=value` (e.g. `identifier=http://fhir.hie.moh.gov.my/sid/vc-token|abc`).
    params: Vec<String>,
    /// Follow `next` links through every page.
    #[arg(long)]
    all: bool,
    /// Stop after this many resources.
    #[arg(long)]
    max: Option<usize>,
    /// Page size (`_count`).
    #[arg(long)]
    count: Option<u32>,
}

/// Prints matching resources as JSON lines.
pub async fn search(args: &SearchArgs, settings: &Settings) -> Result<u8> {
    let mut req = client(settings)?.search_type(args.resource_type.clone());
    for p in &args.params {
        let (k, v) = p.split_once('=').ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("search parameter '{p}' is not name=value"),
            )
        })?;
        req = req.param(k, v);
    }
    if let Some(c) = args.count {
        req = req.count(c);
    }
    if let Some(m) = args.max {
        req = req.max_results(m);
    }
    let mut out = std::io::stdout().lock();
    if !args.all {
        let page = req.send().await?;
        for r in &page.matches {
            let _ = writeln!(out, "{}", fhir::to_json(r));
        }
        if page.has_next() {
            eprintln!("(more results: add --all to follow the next links)");
        }
        return Ok(exit::OK);
    }
    let progress = Progress::new("searching");
    let mut stream = Box::pin(req.stream());
    let mut n = 0usize;
    while let Some(r) = stream.next().await {
        let r = r?;
        let _ = writeln!(out, "{}", fhir::to_json(&r));
        n += 1;
        progress.set(format!("{n} {} read", args.resource_type));
    }
    progress.finish(format!("{n} {} read", args.resource_type));
    Ok(exit::OK)
}

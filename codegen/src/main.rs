//! `codegen`: curate SentinelOne's API description and generate the raw client.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use codegen::{check, diff, generate, import};

#[derive(Parser)]
#[command(
    name = "codegen",
    about = "Curated spec and generated client for the SentinelOne API"
)]
struct Cli {
    /// Workspace root (holds spec/ and generated/).
    #[arg(long, default_value = ".", global = true)]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn SentinelOne's Swagger 2.0 file into spec/openapi.json, steered by
    /// spec/curation.toml and the operations spec/catalog.tsv names.
    Import {
        /// The vendor Swagger 2.0 JSON file.
        vendor: PathBuf,
        /// Bring in every vendor operation, not only the selected ones.
        #[arg(long)]
        all: bool,
    },
    /// Write generated/src/client.rs and generated/src/mock.rs from spec/openapi.json.
    Generate,
    /// Fail, with a diff, when the committed generated files (and, with
    /// --import, spec/openapi.json) differ from what codegen produces.
    Check {
        /// Also re-import this vendor file and compare it with spec/openapi.json.
        #[arg(long, value_name = "VENDOR_FILE")]
        import: Option<PathBuf>,
    },
    /// Report operations added, removed or changed by a newer vendor file.
    Diff {
        /// The newer vendor Swagger 2.0 JSON file.
        newer: PathBuf,
    },
}

fn run(cli: Cli) -> Result<bool> {
    let started = Instant::now();
    match cli.command {
        Command::Import { vendor, all } => {
            let (text, figures) = import::import_at_with_figures(&cli.root, &vendor, all)?;
            let out = cli.root.join(generate::SPEC_PATH);
            std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
            let spec: serde_json::Value = serde_json::from_str(&text)?;
            let ops: usize = spec["paths"]
                .as_object()
                .map(|p| {
                    p.values()
                        .filter_map(|i| i.as_object())
                        .map(|i| i.len())
                        .sum()
                })
                .unwrap_or(0);
            eprintln!(
                "wrote {} ({ops} operations, {} multipart uploads left to the facade) in {:.2?}",
                out.display(),
                spec[import::MULTIPART_EXTENSION]
                    .as_array()
                    .map_or(0, Vec::len),
                started.elapsed()
            );
            eprintln!(
                "request limits: {} parameters and schemas carry x-constraints; dropped {} minimum/maximum on non-numbers and {} patterns the regex crate rejects (kept {})",
                figures.constrained,
                figures.non_numeric_bounds,
                figures.patterns_dropped,
                figures.patterns_kept
            );
            Ok(true)
        }
        Command::Generate => {
            let generated = generate::generate_at(&cli.root)?;
            generate::write(&cli.root, &generated)?;
            for (path, text) in &generated.files {
                eprintln!("wrote {} ({} lines)", path.display(), text.lines().count());
            }
            eprintln!("generated in {:.2?}", started.elapsed());
            Ok(true)
        }
        Command::Check { import } => {
            let drifts = check::check(&cli.root, import.as_deref())?;
            for drift in &drifts {
                println!("drift in {}:\n{}", drift.path, drift.diff);
            }
            if drifts.is_empty() {
                eprintln!(
                    "codegen check: spec and generated code agree ({:.2?})",
                    started.elapsed()
                );
            } else {
                eprintln!(
                    "codegen check: {} file(s) drifted; run `cargo run -p codegen -- generate` (or import) and commit",
                    drifts.len()
                );
            }
            Ok(drifts.is_empty())
        }
        Command::Diff { newer } => {
            let curated_path = cli.root.join(generate::SPEC_PATH);
            let curated: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(&curated_path)
                    .with_context(|| format!("reading {}", curated_path.display()))?,
            )?;
            let newer_spec: serde_json::Value =
                serde_json::from_str(&import::import_at(&cli.root, &newer, true)?)?;
            print!("{}", diff::report(&curated, &newer_spec));
            Ok(true)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("codegen: {e:#}");
            ExitCode::from(2)
        }
    }
}

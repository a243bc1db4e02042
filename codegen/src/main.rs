//! `codegen`: curate SentinelOne's API description and generate the raw client.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use codegen::curation::Curation;
use codegen::{check, diff, fetch, generate, import, index2026};

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
    /// Report operations added, removed or changed by a newer vendor file,
    /// or, given an endpoint index (a JSON list of {method, path, ...}),
    /// the operations it adds, removes and renames.
    Diff {
        /// The newer vendor Swagger 2.0 JSON file, or an endpoint index.
        newer: PathBuf,
    },
    /// Write the parameters of the operations only the 2026 index has
    /// (spec/index-2026-params.tsv, or the curation's index_2026_params),
    /// read from SentinelOne's per-tag reference pages.
    IndexParams {
        /// The directory of reference pages: `plugins/s1-secops-skills/skills/
        /// mgmt-console-api/references/tags` of Sentinel-One/ai-siem.
        pages: PathBuf,
        /// The vendor Swagger 2.0 file (the operations it has are left out).
        vendor: PathBuf,
        /// Where the pages come from, written into the file's comment line
        /// (e.g. `Sentinel-One/ai-siem@07c8d5f`).
        #[arg(long)]
        source: Option<String>,
    },
    /// Download a console's own API description
    /// (<CONSOLE>/web/api/v2.1/apidoc/swagger.json) with the token in
    /// S1_API_TOKEN, for `import`. https only; redirects are not followed.
    FetchSpec {
        /// The console root, e.g. https://usea1.sentinelone.net.
        #[arg(long, value_name = "URL")]
        console: String,
        /// Where to write the description (written atomically; default
        /// spec/console-swagger.json below --root, ignored by git).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Allow plain http:// to a loopback host (127.0.0.0/8, ::1,
        /// localhost) only, for tests against a local server.
        #[arg(long)]
        allow_http_loopback: bool,
        /// Seconds the whole download may take.
        #[arg(long, value_name = "SECONDS", default_value_t = 120,
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout: u64,
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
                "request limits: {} parameters and schemas carry x-constraints; dropped {} minimum/maximum on non-numbers and {} patterns that do not compile (kept {})",
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
            let newer_doc = import::read_vendor(&newer)?;
            if index2026::is_index(&newer_doc) {
                let entries = index2026::parse_index(&newer_doc, &newer.display().to_string())?;
                print!("{}", index2026::report(&curated, &entries));
                return Ok(true);
            }
            let newer_spec: serde_json::Value =
                serde_json::from_str(&import::import_at(&cli.root, &newer, true)?)?;
            print!("{}", diff::report(&curated, &newer_spec));
            Ok(true)
        }
        Command::IndexParams {
            pages,
            vendor,
            source,
        } => {
            let curation = Curation::load(&cli.root.join(import::CURATION_PATH))?;
            let index_file = curation
                .index_2026
                .as_deref()
                .context("spec/curation.toml names no index_2026 (the endpoint index)")?;
            let entries = index2026::load_index(&cli.root.join(index_file))?;
            let only =
                import::index_only_keys(&import::read_vendor(&vendor)?, &curation, &entries)?;
            let described = index2026::read_reference_pages(&pages)?;
            let mut table = index2026::ParamTable::new();
            let mut missing = Vec::new();
            for key in &only {
                match described.get(key) {
                    Some(params) => {
                        table.insert(key.clone(), params.clone());
                    }
                    None => missing.push(key.as_str()),
                }
            }
            if !missing.is_empty() {
                anyhow::bail!(
                    "{} describes no section for {} operation(s) of the index: {}",
                    pages.display(),
                    missing.len(),
                    missing.join(", ")
                );
            }
            let params_file = curation
                .index_2026_params
                .as_deref()
                .unwrap_or(codegen::curation::DEFAULT_INDEX_2026_PARAMS);
            let comment = vec![format!(
                "Parameters of the {} operations only {index_file} lists; facts from SentinelOne's reference pages ({}). Written by `codegen index-params`.",
                table.len(),
                source.as_deref().unwrap_or("Sentinel-One/ai-siem, plugins/s1-secops-skills/skills/mgmt-console-api/references/tags")
            )];
            let out = cli.root.join(params_file);
            std::fs::write(&out, index2026::params_text(&table, &comment))
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote {} ({} operations, {} parameters)",
                out.display(),
                table.len(),
                table.values().map(Vec::len).sum::<usize>()
            );
            Ok(true)
        }
        Command::FetchSpec {
            console,
            out,
            allow_http_loopback,
            timeout,
        } => {
            let options = fetch::FetchOptions {
                allow_http_loopback,
                timeout: std::time::Duration::from_secs(timeout),
                ..fetch::FetchOptions::new(console)
            };
            // The URL is checked before the token is read: neither needs
            // the network, and a bad URL is the likelier mistake.
            fetch::apidoc_url(&options.console, options.allow_http_loopback)?;
            let token = fetch::ApiToken::from_env()?;
            let out = out.unwrap_or_else(|| cli.root.join(fetch::DEFAULT_OUT));
            let fetched = fetch::fetch_to(&options, &token, &out)?;
            eprintln!(
                "fetched {} ({} bytes, {}, {} paths) in {:.2?}",
                fetched.url,
                fetched.bytes.len(),
                fetched.kind,
                fetched.paths,
                started.elapsed()
            );
            if fetched.kind != fetch::DescriptionKind::Swagger2 {
                eprintln!(
                    "note: `codegen import` reads Swagger 2.0; this console describes its API as {}",
                    fetched.kind
                );
            }
            eprintln!(
                "next: codegen import {0} && codegen generate && codegen check --import {0}",
                out.display()
            );
            println!("{}", out.display());
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

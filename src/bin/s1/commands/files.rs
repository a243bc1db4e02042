//! `s1 files collect`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use secrecy::SecretString;
use sentinelone::files::{self, ExtractLimits, FetchOptions, FetchRequest, FetchedFiles};
use sentinelone::{Client, Polling};
use serde_json::json;

use crate::args::WaitArgs;
use crate::exit::Failure;
use crate::output::{self, Format, Output, Table};

/// The variable the archive password is read from unless told otherwise.
pub const PASSWORD_ENV: &str = "S1_ARCHIVE_PASSWORD";

/// File commands.
#[derive(Subcommand)]
pub enum FilesCommand {
    /// Fetch files from an agent: ask for them, wait for the upload,
    /// download the password-protected zip, and optionally extract it
    Collect(CollectArgs),
}

/// Which files, from which agent, to where.
#[derive(Args)]
pub struct CollectArgs {
    /// The agent to fetch from
    #[arg(long, value_name = "ID")]
    agent_id: String,
    /// An absolute path on the endpoint (repeat for up to 10)
    #[arg(long = "path", value_name = "PATH", required = true)]
    paths: Vec<String>,
    /// The zip file to write
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace the --out file when it exists (default: refuse; extraction
    /// never replaces a file)
    #[arg(long)]
    overwrite: bool,
    /// Also extract the archive into DIR
    #[arg(long, value_name = "DIR")]
    extract: Option<PathBuf>,
    /// Most bytes the archive may unpack to, per file and in all
    #[arg(long, value_name = "BYTES", requires = "extract",
          default_value_t = files::DEFAULT_MAX_TOTAL_BYTES)]
    max_extract_bytes: u64,
    /// Most entries the archive may hold
    #[arg(long, value_name = "N", requires = "extract",
          default_value_t = files::DEFAULT_MAX_ENTRIES)]
    max_extract_entries: usize,
    /// The environment variable holding the archive password (10+
    /// characters: upper and lower case, a digit, a symbol). When it is
    /// unset and --extract is given, a one-time password is generated
    #[arg(long, value_name = "VAR", default_value = PASSWORD_ENV)]
    password_env: String,
    #[command(flatten)]
    pub(crate) wait: WaitArgs,
}

impl CollectArgs {
    /// Where and how the fetched archive is written and extracted.
    fn options(&self) -> FetchOptions {
        let limits = ExtractLimits::default()
            .max_total_bytes(self.max_extract_bytes)
            .max_entry_bytes(self.max_extract_bytes)
            .max_entries(self.max_extract_entries);
        let mut options = FetchOptions::new(&self.out)
            .overwrite(self.overwrite)
            .extract_limits(limits)
            .polling(self.wait.polling(Polling::default()));
        if let Some(dir) = &self.extract {
            options = options.extract_into(dir);
        }
        options
    }

    /// The archive password: from the environment, or generated when the
    /// archive is extracted here (nobody needs to know it then).
    fn password(&self) -> Result<SecretString, Failure> {
        match std::env::var(&self.password_env) {
            Ok(password) if !password.is_empty() => Ok(SecretString::from(password)),
            _ if self.extract.is_some() => one_time_password(),
            _ => Err(Failure::usage(format!(
                "set {} to the archive password (it is needed to open the zip), or give --extract DIR",
                self.password_env
            ))),
        }
    }
}

/// A random password that meets the console's rules, from the operating
/// system's secure random source.
pub fn one_time_password() -> Result<SecretString, Failure> {
    sentinelone::files::random_password().map_err(|e| {
        Failure::usage(format!(
            "no secure random source for the archive password: {e}"
        ))
    })
}

/// Runs a files command.
pub async fn run(client: &Client, command: FilesCommand, format: Format) -> Result<(), Failure> {
    match command {
        FilesCommand::Collect(args) => collect(client, &args, format).await,
    }
}

async fn collect(client: &Client, args: &CollectArgs, format: Format) -> Result<(), Failure> {
    let request = FetchRequest::new(args.paths.clone(), args.password()?);
    let fetched = client
        .files()
        .fetch(&args.agent_id, &request, &args.options())
        .await?;
    print(&fetched, format)
}

/// Prints what a fetch produced.
pub fn print(fetched: &FetchedFiles, format: Format) -> Result<(), Failure> {
    let extracted: Vec<_> = fetched
        .extracted
        .iter()
        .map(|path| json!({ "path": path, "bytes": file_size(path) }))
        .collect();
    let mut table = Table::new(["FILE", "BYTES", "WHAT"]);
    table.row([
        fetched.archive.path.display().to_string(),
        fetched.archive.bytes.to_string(),
        format!("archive (upload activity {})", fetched.upload.activity_id),
    ]);
    for file in &extracted {
        table.row([
            output::cell(file, "/path"),
            output::cell(file, "/bytes"),
            "extracted".to_string(),
        ]);
    }
    let document = json!({
        "agentId": fetched.upload.agent_id,
        "uploadActivityId": fetched.upload.activity_id,
        "archive": { "path": fetched.archive.path, "bytes": fetched.archive.bytes },
        "extracted": extracted,
    });
    Output::document(document, table).print(format)
}

/// The size of a file on disk, 0 when it cannot be read.
pub fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

//! Extraction of downloaded archives, safe against hostile ones (behind
//! [`crate::files::extract`]).
//!
//! - **Names.** Every entry is checked before anything is written: an
//!   absolute name, a drive letter, a `..` component, a symbolic link entry,
//!   two entries of one name, or a file that already exists refuses the
//!   whole archive. `./` components are harmless and ignored.
//! - **Links on the way.** Nothing is written through a symbolic link, one
//!   already in the target directory or any other: every directory below the
//!   target is opened through a directory handle, one component at a time,
//!   without following links (`cap-std`), and files are created only where
//!   nothing exists (`O_EXCL`, which refuses a link at the last component).
//! - **Size.** [`ExtractLimits`] bounds the number of entries and the bytes
//!   produced by decompression, per entry and in all, counted as they are
//!   produced (the sizes an archive declares are not trusted).
//! - **All or nothing.** Entries are decompressed into a hidden staging
//!   directory inside the target, then linked into place without replacing
//!   anything; on any failure (or when the extraction is abandoned) what was
//!   placed is removed again and the staging directory with it.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cap_fs_ext::DirExt;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// Default of [`ExtractLimits::max_total_bytes`]: 256 MiB.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
/// Default of [`ExtractLimits::max_entry_bytes`]: 256 MiB.
pub const DEFAULT_MAX_ENTRY_BYTES: u64 = 256 * 1024 * 1024;
/// Default of [`ExtractLimits::max_entries`]: 10 000.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// How much one archive may unpack to. The defaults are far above what a
/// console hands out (it caps a fetch at 10 MB per command) and far below
/// what fills a disk; going over refuses the archive and leaves nothing
/// behind.
///
/// ```
/// use sentinelone::files::ExtractLimits;
///
/// let limits = ExtractLimits::default();
/// assert_eq!(limits.max_total_bytes, 256 * 1024 * 1024);
/// assert_eq!(limits.max_entries, 10_000);
/// let generous = limits.max_total_bytes(1 << 30).max_entry_bytes(1 << 30);
/// assert_eq!(generous.max_entry_bytes, 1 << 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Most bytes all entries may unpack to together.
    pub max_total_bytes: u64,
    /// Most bytes one entry may unpack to.
    pub max_entry_bytes: u64,
    /// Most entries (files and directories) the archive may hold.
    pub max_entries: usize,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

impl ExtractLimits {
    /// Sets [`ExtractLimits::max_total_bytes`].
    pub fn max_total_bytes(mut self, bytes: u64) -> Self {
        self.max_total_bytes = bytes;
        self
    }

    /// Sets [`ExtractLimits::max_entry_bytes`].
    pub fn max_entry_bytes(mut self, bytes: u64) -> Self {
        self.max_entry_bytes = bytes;
        self
    }

    /// Sets [`ExtractLimits::max_entries`].
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries;
        self
    }
}

/// Extracts `zip` into `into` on the blocking pool. Dropping the future
/// stops the extraction at the next chunk, and it then leaves nothing.
pub(crate) async fn extract(
    zip: &Path,
    password: &SecretString,
    into: &Path,
    limits: ExtractLimits,
) -> Result<Vec<PathBuf>, Error> {
    let job = Job {
        zip: zip.to_path_buf(),
        password: password.clone(),
        into: into.to_path_buf(),
        limits,
        abandoned: Arc::new(AtomicBool::new(false)),
    };
    let _abandon = AbandonOnDrop(job.abandoned.clone());
    tokio::task::spawn_blocking(move || job.run())
        .await
        .map_err(|e| archive_error(zip, format!("extraction did not finish: {e}")))?
}

/// Tells the blocking extraction to stop once its future is gone.
struct AbandonOnDrop(Arc<AtomicBool>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn archive_error(zip: &Path, message: impl Into<String>) -> Error {
    Error::Archive {
        path: zip.to_path_buf(),
        message: message.into(),
    }
}

/// One entry to write.
struct Planned {
    index: usize,
    /// The name as the archive gives it, for messages.
    name: String,
    /// Relative to the target directory: plain components only.
    relative: PathBuf,
    is_dir: bool,
}

impl Planned {
    /// Where the entry waits in the staging directory.
    fn staged_name(&self) -> String {
        self.index.to_string()
    }
}

/// One extraction.
struct Job {
    zip: PathBuf,
    password: SecretString,
    into: PathBuf,
    limits: ExtractLimits,
    abandoned: Arc<AtomicBool>,
}

impl Job {
    fn run(&self) -> Result<Vec<PathBuf>, Error> {
        let file = fs::File::open(&self.zip).map_err(|e| Error::io(&self.zip, e))?;
        let mut archive = zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| self.refuse(format!("not a readable zip archive: {e}")))?;
        let plan = self.plan(&archive)?;
        let created = fs::symlink_metadata(&self.into).is_err();
        fs::create_dir_all(&self.into).map_err(|e| Error::io(&self.into, e))?;
        let result = self.unpack(&mut archive, &plan);
        if result.is_err() && created {
            // Only removes the directory if nothing is in it.
            let _ = fs::remove_dir(&self.into);
        }
        result
    }

    fn refuse(&self, message: impl Into<String>) -> Error {
        archive_error(&self.zip, message)
    }

    fn refuse_entry(&self, entry: &str, why: impl fmt::Display) -> Error {
        self.refuse(format!("entry {entry:?} refused: {why}"))
    }

    /// Every entry with where it goes, or the refusal of the whole archive.
    fn plan<R: Read + io::Seek>(
        &self,
        archive: &zip::ZipArchive<R>,
    ) -> Result<Vec<Planned>, Error> {
        let limit = self.limits.max_entries;
        if archive.len() > limit {
            return Err(self.refuse(format!(
                "the archive holds {} entries, more than the limit of {limit} (ExtractLimits::max_entries)",
                archive.len()
            )));
        }
        let mut plan = Vec::with_capacity(archive.len());
        let mut seen = Names::default();
        for index in 0..archive.len() {
            let entry = archive
                .by_index_data(index)
                .map_err(|e| self.refuse(format!("entry {index} is unreadable: {e}")))?;
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            if let Some(why) = unsafe_name(&name) {
                return Err(self.refuse_entry(&name, why));
            }
            if entry.is_symlink() {
                return Err(self.refuse_entry(&name, "symbolic links are not extracted"));
            }
            let relative = relative_path(&name).ok_or_else(|| {
                self.refuse_entry(&name, "it would be written outside the target directory")
            })?;
            let is_dir = entry.is_dir();
            if relative.as_os_str().is_empty() {
                if is_dir {
                    continue; // `./`: the target directory itself.
                }
                return Err(self.refuse_entry(&name, "it names no file"));
            }
            seen.add(&relative, is_dir)
                .map_err(|other| self.refuse_entry(&name, other))?;
            plan.push(Planned {
                index,
                name,
                relative,
                is_dir,
            });
        }
        Ok(plan)
    }

    /// Checks, stages and places every entry of `plan` below `self.into`.
    fn unpack<R: Read + io::Seek>(
        &self,
        archive: &mut zip::ZipArchive<R>,
        plan: &[Planned],
    ) -> Result<Vec<PathBuf>, Error> {
        let root = Dir::open_ambient_dir(&self.into, ambient_authority())
            .map_err(|e| Error::io(&self.into, e))?;
        for entry in plan {
            self.check_free(&root, entry)?;
        }
        let staging = Staging::new(&root).map_err(|e| Error::io(&self.into, e))?;
        let mut total = 0;
        for entry in plan.iter().filter(|e| !e.is_dir) {
            self.stage(archive, entry, &staging.dir, &mut total)?;
        }
        let mut placed = Placed::default();
        let result = plan
            .iter()
            .try_for_each(|entry| self.place(&root, &staging.dir, entry, &mut placed));
        if let Err(error) = result {
            placed.undo(&root);
            return Err(error);
        }
        Ok(placed.files.iter().map(|f| self.into.join(f)).collect())
    }

    /// Refuses `entry` early when its place is taken or lies behind a link.
    fn check_free(&self, root: &Dir, entry: &Planned) -> Result<(), Error> {
        let (parent, name) = split(&entry.relative);
        let Some(dir) = self.descend(root, entry, parent, None)? else {
            return Ok(()); // Its directory does not exist yet.
        };
        if entry.is_dir {
            return self.step(&dir, entry, &entry.relative, name).map(drop);
        }
        match dir.symlink_metadata(name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(self.into.join(&entry.relative), e)),
            Ok(_) => Err(self.exists(entry)),
        }
    }

    fn exists(&self, entry: &Planned) -> Error {
        let shown = self.into.join(&entry.relative);
        self.refuse_entry(&entry.name, format!("{} already exists", shown.display()))
    }

    /// Opens the directory `relative` below `root` one component at a time,
    /// never following a symbolic link. A missing directory is created (and
    /// recorded) when `created` is given; otherwise it ends the walk with
    /// `None`.
    fn descend(
        &self,
        root: &Dir,
        entry: &Planned,
        relative: &Path,
        mut created: Option<&mut Vec<PathBuf>>,
    ) -> Result<Option<Dir>, Error> {
        let mut dir = root.try_clone().map_err(|e| Error::io(&self.into, e))?;
        let mut so_far = PathBuf::new();
        for part in relative.iter() {
            so_far.push(part);
            dir = match (
                self.step(&dir, entry, &so_far, part)?,
                created.as_deref_mut(),
            ) {
                (Some(next), _) => next,
                (None, None) => return Ok(None),
                (None, Some(created)) => {
                    let io = |e| Error::io(self.into.join(&so_far), e);
                    dir.create_dir(part).map_err(io)?;
                    created.push(so_far.clone());
                    dir.open_dir_nofollow(part).map_err(io)?
                }
            };
        }
        Ok(Some(dir))
    }

    /// The directory `name` of `dir` (`so_far` below the target), opened
    /// without following a link; `None` when it does not exist.
    fn step(
        &self,
        dir: &Dir,
        entry: &Planned,
        so_far: &Path,
        name: &OsStr,
    ) -> Result<Option<Dir>, Error> {
        let shown = || self.into.join(so_far).display().to_string();
        match dir.symlink_metadata(name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(self.into.join(so_far), e)),
            Ok(m) if m.is_symlink() => Err(self.refuse_entry(
                &entry.name,
                format!(
                    "{} is a symbolic link; nothing is written through links",
                    shown()
                ),
            )),
            Ok(m) if !m.is_dir() => {
                Err(self.refuse_entry(&entry.name, format!("{} is not a directory", shown())))
            }
            Ok(_) => dir
                .open_dir_nofollow(name)
                .map(Some)
                .map_err(|e| Error::io(self.into.join(so_far), e)),
        }
    }

    /// Decrypts and decompresses `entry` into the staging directory,
    /// counting the bytes produced against the limits.
    fn stage<R: Read + io::Seek>(
        &self,
        archive: &mut zip::ZipArchive<R>,
        entry: &Planned,
        staging: &Dir,
        total: &mut u64,
    ) -> Result<(), Error> {
        let mut reader = archive
            .by_index_decrypt(entry.index, self.password.expose_secret().as_bytes())
            .map_err(|e| self.refuse(decrypt_message(&entry.name, &e)))?;
        let staged = entry.staged_name();
        let mut out = staging
            .open_with(&staged, OpenOptions::new().write(true).create_new(true))
            .map_err(|e| Error::io(self.into.join(&staged), e))?;
        let mut buffer = vec![0; 64 * 1024];
        let mut written = 0u64;
        loop {
            if self.abandoned.load(Ordering::Relaxed) {
                return Err(self.refuse("the extraction was abandoned"));
            }
            let n = reader.read(&mut buffer).map_err(|e| {
                self.refuse(format!(
                    "entry {:?} could not be read ({e}): wrong password or damaged archive",
                    entry.name
                ))
            })?;
            if n == 0 {
                return Ok(());
            }
            written += n as u64;
            *total += n as u64;
            self.within_limits(entry, written, *total)?;
            out.write_all(&buffer[..n])
                .map_err(|e| Error::io(self.into.join(&entry.relative), e))?;
        }
    }

    fn within_limits(&self, entry: &Planned, written: u64, total: u64) -> Result<(), Error> {
        let limits = &self.limits;
        if written > limits.max_entry_bytes {
            return Err(self.refuse(format!(
                "entry {:?} unpacks to more than the limit of {} bytes per entry (ExtractLimits::max_entry_bytes)",
                entry.name, limits.max_entry_bytes
            )));
        }
        if total > limits.max_total_bytes {
            return Err(self.refuse(format!(
                "the archive unpacks to more than the limit of {} bytes in all (ExtractLimits::max_total_bytes), reached at entry {:?}",
                limits.max_total_bytes, entry.name
            )));
        }
        Ok(())
    }

    /// Moves `entry` from `staging` into place below `root`, never
    /// replacing anything, recording what it created in `placed`.
    fn place(
        &self,
        root: &Dir,
        staging: &Dir,
        entry: &Planned,
        placed: &mut Placed,
    ) -> Result<(), Error> {
        let (parent, name) = if entry.is_dir {
            (entry.relative.as_path(), None)
        } else {
            let (parent, name) = split(&entry.relative);
            (parent, Some(name))
        };
        let dir = self
            .descend(root, entry, parent, Some(&mut placed.dirs))?
            .ok_or_else(|| self.refuse_entry(&entry.name, "its directory could not be created"))?;
        let Some(name) = name else {
            return Ok(());
        };
        // A link never replaces what exists, a link at `name` included.
        match staging.hard_link(entry.staged_name(), &dir, name) {
            Ok(()) => {
                placed.files.push(entry.relative.clone());
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(self.exists(entry)),
            Err(e) => Err(Error::io(self.into.join(&entry.relative), e)),
        }
    }
}

/// The parent and last component of a non-empty relative path.
fn split(relative: &Path) -> (&Path, &OsStr) {
    (
        relative.parent().unwrap_or(Path::new("")),
        relative.file_name().unwrap_or(relative.as_os_str()),
    )
}

/// The names planned so far: two entries of one name, or a file where
/// another entry needs a directory, refuse the archive.
#[derive(Default)]
struct Names(HashMap<PathBuf, bool>);

impl Names {
    /// Records `relative` (a directory when `is_dir`) and its parents; the
    /// error says what it clashes with.
    fn add(&mut self, relative: &Path, is_dir: bool) -> Result<(), String> {
        for parent in relative.ancestors().skip(1) {
            if parent.as_os_str().is_empty() {
                break;
            }
            if self.0.insert(parent.to_path_buf(), true) == Some(false) {
                return Err(format!(
                    "{} is also a file in the archive",
                    parent.display()
                ));
            }
        }
        match self.0.insert(relative.to_path_buf(), is_dir) {
            Some(true) if is_dir => Ok(()), // A directory named again: harmless.
            Some(_) => Err(format!(
                "{} appears more than once in the archive",
                relative.display()
            )),
            None => Ok(()),
        }
    }
}

/// What [`Job::place`] created below the target, to remove on failure.
#[derive(Default)]
struct Placed {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Placed {
    fn undo(&self, root: &Dir) {
        for file in self.files.iter().rev() {
            let _ = root.remove_file(file);
        }
        for dir in self.dirs.iter().rev() {
            let _ = root.remove_dir(dir);
        }
    }
}

/// A hidden directory inside the target, removed with what it holds when
/// dropped.
struct Staging<'a> {
    parent: &'a Dir,
    name: String,
    dir: Dir,
}

impl<'a> Staging<'a> {
    fn new(parent: &'a Dir) -> io::Result<Self> {
        loop {
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(12)
                .collect();
            let name = format!(".s1-extract-{random}");
            match parent.create_dir(&name) {
                Ok(()) => {
                    let dir = parent.open_dir_nofollow(&name)?;
                    return Ok(Staging { parent, name, dir });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        let _ = self.parent.remove_dir_all(&self.name);
    }
}

/// `name` as a path relative to the target: its plain components, `.`
/// dropped; `None` when a component would leave the target.
fn relative_path(name: &str) -> Option<PathBuf> {
    let mut relative = PathBuf::new();
    for part in Path::new(name).components() {
        match part {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(relative)
}

/// Why an entry name may not be written, if it may not.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if name.contains('\0') {
        return Some("its name contains a NUL byte");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Some("its name is an absolute path");
    }
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("its name starts with a drive letter");
    }
    if name.split(['/', '\\']).any(|part| part == "..") {
        return Some("its name contains `..`");
    }
    None
}

fn decrypt_message(entry: &str, error: &zip::result::ZipError) -> String {
    match error {
        zip::result::ZipError::InvalidPassword => {
            format!("wrong password for the archive (entry {entry:?})")
        }
        other => format!("entry {entry:?} cannot be opened: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        for bad in [
            "/abs.txt",
            "\\abs.txt",
            "C:\\x.txt",
            "c:x",
            "../evil.txt",
            "a/../../b",
            "a\\..\\b",
            "a\0b",
        ] {
            assert!(unsafe_name(bad).is_some(), "{bad:?} passed");
        }
        for good in [
            "a.txt",
            "dir/a.txt",
            "dir/",
            "a..b.txt",
            "..hidden",
            "./a.txt",
            "./",
        ] {
            assert_eq!(unsafe_name(good), None, "{good:?} refused");
        }
    }

    #[test]
    fn current_directory_components_are_dropped() {
        assert_eq!(relative_path("./a.txt"), Some(PathBuf::from("a.txt")));
        assert_eq!(relative_path("./"), Some(PathBuf::new()));
        assert_eq!(relative_path("d/./e/"), Some(PathBuf::from("d/e")));
        assert_eq!(relative_path("d/../e"), None);
    }

    #[test]
    fn names_clash_once() {
        let mut names = Names::default();
        assert!(names.add(Path::new("d/a.txt"), false).is_ok());
        assert!(names.add(Path::new("d"), true).is_ok());
        assert!(names.add(Path::new("d"), true).is_ok());
        assert!(
            names
                .add(Path::new("d/a.txt"), false)
                .unwrap_err()
                .contains("more than once")
        );
        assert!(
            names
                .add(Path::new("d/a.txt/b"), false)
                .unwrap_err()
                .contains("also a file")
        );
        assert!(names.add(Path::new("d"), false).is_err());
    }
}

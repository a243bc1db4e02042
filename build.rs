//! Build facts for `s1 --version`: the git commit the build comes from
//! (`S1_GIT_COMMIT`: the short hash, `-dirty` when tracked files differ
//! from it, `unknown` outside a git checkout, e.g. a crate tarball).
//! Nothing here can fail the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let commit = commit().unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=S1_GIT_COMMIT={commit}");
    // Rerun on a new commit, a checkout or a change staged, and on edits
    // of the sources (for `-dirty`); otherwise not at all.
    for path in ["build.rs", "Cargo.toml", "src", "spec", "generated/src"] {
        println!("cargo:rerun-if-changed={path}");
    }
    for path in git_files() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Runs git with `args` in the package's folder; its output, trimmed,
/// when it succeeds.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(manifest_dir())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_string())
}

/// The short hash of HEAD, `-dirty` when tracked files differ from it.
fn commit() -> Option<String> {
    let hash = git(&["rev-parse", "--short", "HEAD"]).filter(|h| !h.is_empty())?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|changes| !changes.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// The files of the git directory that move when HEAD does: HEAD, the
/// branch's ref, the packed refs and the index (worktrees included).
fn git_files() -> Vec<PathBuf> {
    let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) else {
        return Vec::new();
    };
    let git_dir = PathBuf::from(git_dir);
    let common = git(&["rev-parse", "--git-common-dir"])
        .map(|dir| absolute(&dir))
        .unwrap_or_else(|| git_dir.clone());
    let mut files = vec![git_dir.join("HEAD"), git_dir.join("index")];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        files.push(common.join(branch));
    }
    files.push(common.join("packed-refs"));
    files.into_iter().filter(|f| f.exists()).collect()
}

/// `dir` as git printed it, made absolute from the package's folder.
fn absolute(dir: &str) -> PathBuf {
    let path = Path::new(dir);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        manifest_dir().join(path)
    }
}

/// The package's folder.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

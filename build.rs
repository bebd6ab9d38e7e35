//! Build script: the version `--version` prints, `0.1.0 (abc1234 2026-12-06)`.
//!
//! The commit comes from git when this source tree is its own git checkout, else from the
//! `.cargo_vcs_info.json` that `cargo package` writes (a crates.io build: the commit without a
//! date), else it is left out (a release tarball: `0.1.0`). Nothing here can fail the build: a
//! missing `git`, a tree that is not a checkout, or a checkout of some other project (a tarball
//! unpacked inside a packaging repository) all give the plain version.

use std::path::Path;
use std::process::Command;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let build = from_git(Path::new(&dir)).or_else(|| from_vcs_info(Path::new(&dir)));
    let full = match build {
        Some(build) => format!("{version} ({build})"),
        None => version,
    };
    println!("cargo:rustc-env=ROOTLESS_SETUP_VERSION={full}");
    println!("cargo:rerun-if-changed=build.rs");
    rerun_if_changed(Some(".cargo_vcs_info.json".to_owned()), Path::new(&dir));
}

/// `abc1234 2026-12-06` from the checkout at `dir`, and the files whose change means a new
/// commit (HEAD, the branch it points to, packed refs) told to cargo.
pub(crate) fn from_git(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
    };
    // A tarball unpacked inside another repository must not take that repository's commit.
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    for file in ["HEAD", "packed-refs"] {
        rerun_if_changed(git(&["rev-parse", "--git-path", file]), dir);
    }
    if let Some(branch) = git(&["symbolic-ref", "--quiet", "HEAD"]) {
        rerun_if_changed(git(&["rev-parse", "--git-path", &branch]), dir);
    }
    let line = git(&["log", "-1", "--no-show-signature", "--format=%h %cs"])?;
    let (hash, date) = line.split_once(' ')?;
    let plain = |s: &str, ok: fn(char) -> bool| !s.is_empty() && s.chars().all(ok);
    (plain(hash, |c| c.is_ascii_hexdigit()) && plain(date, |c| c.is_ascii_digit() || c == '-'))
        .then(|| format!("{hash} {date}"))
}

/// Tells cargo to run this script again when `path` (relative to `dir`) changes. Only a file
/// that exists is named: cargo runs a script whose named file is missing on every build.
fn rerun_if_changed(path: Option<String>, dir: &Path) {
    let Some(path) = path.map(|p| dir.join(p)) else {
        return;
    };
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The short commit from `.cargo_vcs_info.json` (`{"git": {"sha1": "…"}, …}`), read without a
/// JSON parser: the first 40 hex digits after `"sha1"`.
pub(crate) fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let start = after.find(|c: char| c.is_ascii_hexdigit())?;
    let sha: String = after[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (sha.len() == 40).then(|| sha[..7].to_owned())
}

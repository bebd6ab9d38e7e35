//! The package's file tree, staged under `target/dist/stage`: the stripped binary, the man pages
//! (gzipped), the completions in each shell's vendor directory, and the user documentation with
//! the examples. Modes are set here (0755 directories and programs, 0644 the rest); ownership is
//! `dpkg-deb --root-owner-group`'s.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::util;

/// The program's path in the package.
pub const BINARY: &str = "usr/bin/rootless-setup";
/// Where the man pages go.
pub const MAN_DIR: &str = "usr/share/man/man1";
/// The package's documentation directory.
pub const DOC_DIR: &str = "usr/share/doc/rootless-setup";
/// Where each completion `generate completions` writes is installed, by the name it gives it:
/// each shell's directory for completions a package ships.
pub const COMPLETIONS: &[(&str, &str)] = &[
    (
        "rootless-setup.bash",
        "usr/share/bash-completion/completions/rootless-setup",
    ),
    (
        "_rootless-setup",
        "usr/share/zsh/vendor-completions/_rootless-setup",
    ),
    (
        "rootless-setup.fish",
        "usr/share/fish/vendor_completions.d/rootless-setup.fish",
    ),
];
/// Pages of docs/ written for the project's developers, not its users.
const DEVELOPER_DOCS: &[&str] = &["ARCHITECTURE.md", "testing.md"];
/// Documentation above this size is gzipped (Debian policy 12.3, as `dh_compress` does).
const COMPRESS_ABOVE: u64 = 4096;

/// Stages everything but the Debian control files into `root` (emptied first), from `binary` and
/// the checkout. `scratch` is for the generated files before they are placed.
pub fn stage(binary: &Path, root: &Path, scratch: &Path) -> Result<()> {
    for dir in [root, scratch] {
        util::remove_tree(dir)?;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    strip(binary, &root.join(BINARY))?;
    man_pages(binary, root, &scratch.join("man"))?;
    completions(binary, root, &scratch.join("completions"))?;
    docs(&util::project_root(), &root.join(DOC_DIR))?;
    set_modes(root)
}

/// The binary without symbols, as `dh_strip` leaves it.
fn strip(binary: &Path, dest: &Path) -> Result<()> {
    create_parent(dest)?;
    util::run_quiet(
        Command::new("strip")
            .args(["--strip-unneeded", "--remove-section=.comment", "-o"])
            .arg(dest)
            .arg(binary),
    )
    .context("stripping the binary (strip is in binutils)")?;
    Ok(())
}

/// Every page `generate man` writes, gzipped with `-n` (no name or time: the same bytes each
/// build).
fn man_pages(binary: &Path, root: &Path, scratch: &Path) -> Result<()> {
    let dir = root.join(MAN_DIR);
    fs::create_dir_all(&dir)?;
    for name in super::generate(binary, "man", scratch)? {
        let dest = dir.join(&name);
        copy(&scratch.join(&name), &dest)?;
        gzip(&dest)?;
    }
    Ok(())
}

/// Every completion `generate completions` writes, at its shell's vendor path; a completion with
/// no place in [`COMPLETIONS`] is an error rather than a shell silently left out.
fn completions(binary: &Path, root: &Path, scratch: &Path) -> Result<()> {
    for name in super::generate(binary, "completions", scratch)? {
        let Some((_, dest)) = COMPLETIONS.iter().find(|(n, _)| *n == name) else {
            bail!(
                "`generate completions` wrote {name}, which has no place in the package: add it \
                 to COMPLETIONS in xtask/src/dist/stage.rs"
            );
        };
        copy(&scratch.join(&name), &root.join(dest))?;
    }
    Ok(())
}

/// README.md, the user pages of docs/ (in `docs/`, so README's links still resolve) and
/// examples/, with pages above [`COMPRESS_ABOVE`] gzipped; examples stay as they are, to be
/// copied and used.
fn docs(checkout: &Path, doc_dir: &Path) -> Result<()> {
    let mut pages = vec![(checkout.join("README.md"), doc_dir.join("README.md"))];
    for entry in read_dir_sorted(&checkout.join("docs"))? {
        let name = entry
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".md") && !DEVELOPER_DOCS.contains(&name) {
            pages.push((entry.clone(), doc_dir.join("docs").join(name)));
        }
    }
    for (from, to) in &pages {
        copy(from, to)?;
        if fs::metadata(to)?.len() > COMPRESS_ABOVE {
            gzip(to)?;
        }
    }
    copy_tree(&checkout.join("examples"), &doc_dir.join("examples"))
}

/// Copies a directory's regular files and directories, recursively (nothing else is expected
/// in examples/; anything else is an error).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    walk(from, &mut |path, is_dir| {
        let dest = to.join(path.strip_prefix(from)?);
        if is_dir {
            fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))
        } else if fs::symlink_metadata(path)?.is_file() {
            copy(path, &dest)
        } else {
            bail!("{} is neither a file nor a directory", path.display())
        }
    })
}

/// 0755 for directories and for what is under `usr/bin`, 0644 for every other file.
fn set_modes(root: &Path) -> Result<()> {
    let bin = root.join("usr/bin");
    walk(root, &mut |path, is_dir| {
        let mode = if is_dir || path.starts_with(&bin) {
            0o755
        } else {
            0o644
        };
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .with_context(|| format!("chmod {mode:o} {}", path.display()))
    })
}

/// Calls `f(path, is_dir)` for `dir` and everything below it.
pub fn walk(dir: &Path, f: &mut dyn FnMut(&Path, bool) -> Result<()>) -> Result<()> {
    f(dir, true)?;
    for entry in read_dir_sorted(dir)? {
        if fs::symlink_metadata(&entry)?.is_dir() {
            walk(&entry, f)?;
        } else {
            f(&entry, false)?;
        }
    }
    Ok(())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn create_parent(path: &Path) -> Result<()> {
    let parent = path.parent().context("a path with a parent")?;
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    create_parent(to)?;
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// `gzip -9n FILE`: FILE becomes FILE.gz.
pub fn gzip(file: &Path) -> Result<()> {
    util::run_quiet(Command::new("gzip").args(["-9n", "--"]).arg(file))?;
    Ok(())
}

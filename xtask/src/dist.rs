//! `cargo xtask dist`: the release build, the generated documentation refreshed from the built
//! binary's hidden `generate` command (`docs/man/`, `docs/completions/`), then the Debian package
//! `target/dist/rootless-setup_VERSION-1_ARCH.deb` and lintian's verdict on it, `cargo install`
//! and the crates built from their `cargo package` archives ([`release`]).
//!
//! The package is built with `dpkg-deb` from a tree staged here, not with cargo-deb: every file
//! it holds comes from this module's tables (the binary, the generated pages and completions, the
//! docs), the package relations come from `rootless_setup_core`'s Debian package names, and CI
//! needs nothing built from crates.io (cargo-deb would cost minutes of compiling per clean run).
//! The Debian-specific text (synopsis, long description, relations) lives in [`deb`].

mod deb;
pub mod stage;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

use crate::e2e;
use crate::util::{self, fmt_duration};

pub use deb::{built_deb, package};

/// `cargo xtask dist`.
pub fn main(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("dist takes no arguments (got {arg:?})");
    }
    let start = Instant::now();
    let binary = e2e::build_binary()?;
    let root = util::project_root();
    for (what, dir) in [("man", "docs/man"), ("completions", "docs/completions")] {
        generate(&binary, what, &root.join(dir))?;
    }
    release(&binary)?;
    println!("dist: done in {}", fmt_duration(start.elapsed()));
    Ok(())
}

/// Everything a release is made of, from the release build `binary`: the Debian package and
/// lintian's verdict, `cargo install --locked --path .`, and each crate built from its
/// `cargo package` archive. `cargo xtask ci` runs this too.
pub fn release(binary: &Path) -> Result<()> {
    lint(&package(binary)?)?;
    cargo_install(binary)?;
    crate_archives()
}

/// `cargo install --locked --path .` into `target/dist/cargo-install`, sharing the release build
/// (`--target-dir`), and the installed program's `--version` compared with `binary`'s: what the
/// README's second install route does, proven on each CI run.
pub fn cargo_install(binary: &Path) -> Result<()> {
    let root = dist_dir().join("cargo-install");
    util::remove_tree(&root)?;
    let target = dist_dir()
        .parent()
        .context("the dist directory is in the target directory")?
        .to_path_buf();
    util::run(
        util::cargo()
            .args(["install", "--locked", "--quiet", "--path"])
            .arg(util::project_root())
            .arg("--root")
            .arg(&root)
            .arg("--target-dir")
            .arg(&target),
    )?;
    let version = |program: &Path| -> Result<String> {
        util::run_quiet(Command::new(program).arg("--version"))
    };
    let installed = version(&root.join("bin/rootless-setup"))?;
    let built = version(binary)?;
    if installed != built {
        bail!("cargo install gave a program whose --version is {installed:?}, not {built:?}");
    }
    println!(
        "dist: cargo install --locked --path . works: {}",
        installed.trim()
    );
    Ok(())
}

/// `cargo package` of every published crate, each then built from its own archive: what a
/// crates.io release would upload compiles (no file reached outside its crate, no metadata
/// missing). `--allow-dirty`: a developer's uncommitted work is what is being tried.
///
/// Cargo takes a registry crate of a given name and version to be the same forever, but this
/// workspace's crates keep their version between commits: an archive unpacked, or a library
/// built, from an earlier commit's archive would be used instead of the new one. So the build
/// has a target directory of its own (`target/package-check`), from which this workspace's
/// crates are removed first (their dependencies stay built), and the unpacked copies of the
/// archives are removed too.
pub fn crate_archives() -> Result<()> {
    let target = dist_dir()
        .parent()
        .context("the dist directory is in the target directory")?
        .join("package-check");
    forget(&target.join("debug/.fingerprint"))?;
    forget(&cargo_home()?.join("registry/src"))?;
    util::run(
        util::cargo()
            .args([
                "package",
                "--workspace",
                "--exclude",
                "xtask",
                "--allow-dirty",
                "--quiet",
                "--target-dir",
            ])
            .arg(&target),
    )
}

/// `$CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> Result<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")
}

/// Removes what is named after this workspace's crates (`rootless-setup*`) in `dir` (build
/// fingerprints), or in its subdirectories named with a leading `-` (cargo's temporary local
/// registries under `registry/src`, unlike crates.io's `index.crates.io-…`).
fn forget(dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    let ours = |e: &fs::DirEntry| {
        e.file_name()
            .to_string_lossy()
            .starts_with("rootless-setup")
    };
    for entry in entries.flatten() {
        if ours(&entry) {
            util::remove_tree(&entry.path())?;
        } else if entry.file_name().to_string_lossy().starts_with('-') {
            for unpacked in fs::read_dir(entry.path())?.flatten().filter(ours) {
                util::remove_tree(&unpacked.path())?;
            }
        }
    }
    Ok(())
}

/// Where `cargo xtask dist` puts what it builds.
pub fn dist_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| util::project_root().join("target"), PathBuf::from)
        .join("dist")
}

/// The package's tree as `dpkg-deb` builds it (kept after the build: the e2e suite reads its file
/// list and runs its binary).
pub fn stage_dir() -> PathBuf {
    dist_dir().join("stage")
}

/// Runs `BINARY generate WHAT DIR` and lists what it wrote; says plainly when the binary has no
/// such command yet.
fn generate(binary: &Path, what: &str, dir: &Path) -> Result<Vec<String>> {
    let mut cmd = Command::new(binary);
    cmd.args(["generate", what]).arg(dir);
    let shown = util::display_command(&cmd);
    println!("$ {shown}");
    let out = cmd
        .output()
        .with_context(|| format!("could not run {shown}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let hint = if stderr.contains("unrecognized subcommand") || stderr.contains("invalid value")
        {
            format!(
                "\nthe binary has no `generate {what} DIR` command yet (the CLI provides it as a \
                 hidden subcommand); nothing under {} was changed by it",
                dir.display()
            )
        } else {
            String::new()
        };
        bail!("`{shown}` failed ({}):\n{stderr}{hint}", out.status);
    }
    let mut files: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("`{shown}` succeeded but {} is missing", dir.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("`{shown}` wrote nothing into {}", dir.display());
    }
    println!("dist: {}: {}", dir.display(), files.join(" "));
    Ok(files)
}

/// Runs lintian on the package and prints what it says. Errors fail; warnings are printed for
/// the reader (the ones kept on purpose are listed in docs/packaging.md). Without lintian the
/// check is skipped loudly, and under `CI` that is a failure.
pub fn lint(deb: &Path) -> Result<()> {
    if util::which("lintian").is_none() {
        let why = "lintian is not installed (apt-get install lintian)";
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            bail!("{why}: CI must lint the package");
        }
        println!("dist: NOT LINTED: {why}");
        return Ok(());
    }
    let mut cmd = Command::new("lintian");
    cmd.args([
        "--fail-on",
        "error",
        "--display-info",
        "--tag-display-limit",
        "0",
    ])
    .arg(deb);
    let shown = util::display_command(&cmd);
    println!("$ {shown}");
    let out = cmd
        .output()
        .with_context(|| format!("could not run {shown}"))?;
    let said = String::from_utf8_lossy(&out.stdout);
    print!("{said}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("lintian found errors in {} ({})", deb.display(), out.status);
    }
    let tags = said.lines().filter(|l| !l.trim().is_empty()).count();
    println!("dist: lintian: no errors ({tags} other tag(s) above)");
    Ok(())
}

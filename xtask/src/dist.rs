//! `cargo xtask dist`: the release build, then the generated documentation refreshed from the
//! built binary's hidden `generate` command: `docs/man/` (man pages) and `docs/completions/`
//! (bash, zsh, fish).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

use crate::util::{self, fmt_duration};

/// `cargo xtask dist`.
pub fn main(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("dist takes no arguments (got {arg:?})");
    }
    let start = Instant::now();
    util::run(util::cargo().args(["build", "--release"]))?;
    let root = util::project_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let binary = target.join("release/rootless-setup");
    if !binary.is_file() {
        bail!("the release build left no {}", binary.display());
    }
    for (what, dir) in [("man", "docs/man"), ("completions", "docs/completions")] {
        generate(&binary, what, &root.join(dir))?;
    }
    println!("dist: done in {}", fmt_duration(start.elapsed()));
    Ok(())
}

/// Runs `BINARY generate WHAT DIR` and lists what it wrote; says plainly when the binary has no
/// such command yet.
fn generate(binary: &Path, what: &str, dir: &Path) -> Result<()> {
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
    Ok(())
}

//! `rootless-setup generate man|completions DIR` (hidden): writes the man page and the shell
//! completions from the clap definition. `cargo xtask dist` runs it; a test keeps the copies in
//! docs/ fresh.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::Cli;

/// Generate the man page or shell completions into a directory.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to generate.
    #[arg(value_enum)]
    pub what: What,
    /// The output directory (created if missing).
    pub dir: PathBuf,
}

/// Generated artefacts.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum What {
    /// `rootless-setup.1`, plus one page per subcommand.
    Man,
    /// bash, zsh and fish completions.
    Completions,
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("could not write {}", path.display()))
}

/// Writes the files.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("could not create {}", args.dir.display()))?;
    // The pages carry the release, not the build's commit: they must not change with each commit.
    let cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    match args.what {
        What::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
            write(&args.dir.join("rootless-setup.1"), &buf)?;
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let name = format!("rootless-setup-{}", sub.get_name());
                let mut buf = Vec::new();
                clap_mangen::Man::new(sub.clone().name(name.clone())).render(&mut buf)?;
                write(&args.dir.join(format!("{name}.1")), &buf)?;
            }
        }
        What::Completions => {
            use clap_complete::{Shell, generate};
            for (shell, file) in [
                (Shell::Bash, "rootless-setup.bash"),
                (Shell::Zsh, "_rootless-setup"),
                (Shell::Fish, "rootless-setup.fish"),
            ] {
                let mut buf = Vec::new();
                generate(shell, &mut cmd.clone(), "rootless-setup", &mut buf);
                write(&args.dir.join(file), &buf)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

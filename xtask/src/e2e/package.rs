//! The Debian package in a box: the `.deb` `cargo xtask dist` builds, installed the way an admin
//! would, used, and removed.
//!
//! - `package` (Debian 12) and `package-trixie` (Debian 13, a package built on Debian 12): the
//!   box has no `/usr/local/bin/rootless-setup`; `dpkg -i` the package → `rootless-setup
//!   --version` is the build's → the man pages and completions are where the package says →
//!   bash-completion's own loader completes `rootless-setup ex<TAB>` to `explain` → `check` runs
//!   as dev and passes → `dpkg -r rootless-setup` → not one file of the package is left, and dpkg
//!   no longer knows it.

use std::path::PathBuf;

use anyhow::{Context as _, Result, ensure};

use super::r#box::{BINARY_IN_BOX, NspawnBox, Session};
use super::cmd::{indent, require_exit};
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::dist::{self, stage};

/// Where the package is put in the box.
const DEB_IN_BOX: &str = "/root/rootless-setup.deb";
/// The name every package scenario's name starts with: `e2e::run` builds the package first when
/// one is selected.
pub const PREFIX: &str = "package";

/// The package scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "package",
            about: "dpkg -i the .deb → --version, man pages, completions (bash completes `ex` to explain), check → dpkg -r leaves nothing",
            setup: Some(put_package),
            run: package,
            cgroup: None,
            release: Some(Release::Bookworm),
        },
        Scenario {
            name: "package-trixie",
            about: "the .deb built on Debian 12 installs, runs and is removed on Debian 13",
            setup: Some(put_package),
            run: package,
            cgroup: None,
            release: Some(Release::Trixie),
        },
    ]
}

/// The package `e2e::run` built, with its list of files (paths as installed).
fn built() -> Result<(PathBuf, Vec<String>)> {
    let deb = dist::built_deb()?;
    let mut files = Vec::new();
    let root = dist::stage_dir();
    stage::walk(&root, &mut |path, is_dir| {
        let rel = path.strip_prefix(&root)?;
        if !is_dir && !rel.starts_with("DEBIAN") {
            files.push(format!("/{}", rel.display()));
        }
        Ok(())
    })?;
    ensure!(
        !files.is_empty(),
        "the staged package {} is empty",
        root.display()
    );
    Ok((deb, files))
}

/// Before boot: the package in root's home, and no other rootless-setup on the PATH.
fn put_package(bx: &NspawnBox) -> Result<()> {
    let (deb, _) = built()?;
    bx.install_file(&deb, DEB_IN_BOX, 0o644)?;
    std::fs::remove_file(bx.path(BINARY_IN_BOX))
        .with_context(|| format!("removing {BINARY_IN_BOX} from the tree"))
}

fn package(cx: &mut Ctx<'_>) -> Result<()> {
    let (_, files) = built()?;
    let install = cx.bx.root(&["dpkg", "-i", DEB_IN_BOX]).run()?;
    require_exit(&install, 0, "dpkg -i")?;
    cx.note(format!(
        "dpkg -i: {} files in {}",
        files.len(),
        crate::util::fmt_duration(install.elapsed)
    ));
    installed_files(cx, &files)?;
    version(cx)?;
    bash_completes_explain(cx)?;
    let check = cx
        .bx
        .user(&cx.dev, Session::Login, &["rootless-setup", "check"])
        .timeout(std::time::Duration::from_secs(120))
        .run()?;
    require_exit(
        &check,
        0,
        "rootless-setup check (the packaged binary) as dev",
    )?;
    cx.note(format!(
        "check as dev: {}",
        check.stdout.lines().last().unwrap_or_default()
    ));
    let remove = cx.bx.root(&["dpkg", "-r", "rootless-setup"]).run()?;
    require_exit(&remove, 0, "dpkg -r rootless-setup")?;
    let mut left = files;
    left.push(format!("/{}", stage::DOC_DIR));
    cx.require_gone(&cx.dev, &left, "^rootless-setup$")?;
    let status = cx
        .bx
        .root(&[
            "dpkg-query",
            "-W",
            "-f=${db:Status-Status}",
            "rootless-setup",
        ])
        .run()?;
    ensure!(
        !status.success() || status.stdout.trim() == "not-installed",
        "dpkg still knows the package after dpkg -r: {:?}",
        status.stdout
    );
    cx.note("dpkg -r: no file of the package is left, dpkg lists it no more");
    Ok(())
}

/// Every file of the package is installed, the program is the one on dev's PATH, and man finds
/// the pages' source where man-db looks (`/usr/share/man/man1/NAME.1.gz`).
fn installed_files(cx: &Ctx<'_>, files: &[String]) -> Result<()> {
    let listed = cx.bx.root(&["dpkg", "-L", "rootless-setup"]).success()?;
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !listed.stdout.lines().any(|l| l == f.as_str()))
        .collect();
    ensure!(
        missing.is_empty(),
        "dpkg -L does not list {missing:?}:\n{}",
        indent(&listed.stdout)
    );
    let mut argv = vec!["ls", "-d", "--"];
    argv.extend(files.iter().map(String::as_str));
    cx.bx.root(&argv).success()?;
    let which = cx
        .bx
        .user(
            &cx.dev,
            Session::Login,
            &["sh", "-c", "command -v rootless-setup"],
        )
        .success()?;
    ensure!(
        which.stdout.trim() == format!("/{}", stage::BINARY),
        "dev's rootless-setup is {:?}, not the package's",
        which.stdout.trim()
    );
    let page = cx
        .bx
        .root(&[
            "sh",
            "-c",
            "zcat /usr/share/man/man1/rootless-setup.1.gz | head -n 5",
        ])
        .success()?;
    ensure!(
        page.stdout.contains(".TH rootless-setup 1"),
        "the man page does not start as a man page:\n{}",
        indent(&page.stdout)
    );
    Ok(())
}

/// `rootless-setup --version` in the box prints what the package's binary prints here.
fn version(cx: &mut Ctx<'_>) -> Result<()> {
    let staged = dist::stage_dir().join(stage::BINARY);
    let want = std::process::Command::new(&staged)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", staged.display()))?;
    let want = String::from_utf8_lossy(&want.stdout).into_owned();
    let out = cx
        .bx
        .user(&cx.dev, Session::Login, &["rootless-setup", "--version"])
        .success()?;
    ensure!(
        out.stdout == want && want.starts_with("rootless-setup "),
        "the packaged --version says {:?}, the build {want:?}",
        out.stdout
    );
    cx.note(format!("--version: {}", out.stdout.trim()));
    Ok(())
}

/// What bash does on `rootless-setup ex<TAB>` in a fresh shell: no completion is loaded yet, so
/// bash-completion's default handler (`complete -D`) loads the package's file from its
/// completions directory and returns 124; the function that file registered then answers.
const COMPLETE_EX: &str = r#"
. /usr/share/bash-completion/bash_completion
complete -p rootless-setup >/dev/null 2>&1 && { echo "a completion was loaded before the loader ran" >&2; exit 3; }
fn_of() { complete -p "$@" | sed -n 's/.*-F \([^ ]*\).*/\1/p'; }
COMP_LINE='rootless-setup ex'; COMP_POINT=${#COMP_LINE}
COMP_WORDS=(rootless-setup ex); COMP_CWORD=1
loader=$(fn_of -D)
[ -n "$loader" ] || { echo "bash-completion registered no default handler" >&2; exit 3; }
"$loader" rootless-setup ex rootless-setup; rc=$?
[ "$rc" = 124 ] || { echo "the loader returned $rc, not 124 (completion loaded)" >&2; exit 3; }
COMPREPLY=()
"$(fn_of rootless-setup)" rootless-setup ex rootless-setup
printf '%s\n' "${COMPREPLY[@]}"
"#;

fn bash_completes_explain(cx: &mut Ctx<'_>) -> Result<()> {
    let out = cx
        .bx
        .user(&cx.dev, Session::Login, &["bash", "-c", COMPLETE_EX])
        .run()?;
    require_exit(&out, 0, "completing `rootless-setup ex` in bash")?;
    ensure!(
        out.stdout == "explain\n",
        "bash completed `rootless-setup ex` to {:?}, want exactly explain",
        out.stdout
    );
    cx.note("bash: `rootless-setup ex<TAB>` → explain (through bash-completion's loader)");
    Ok(())
}

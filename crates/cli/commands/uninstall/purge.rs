//! `uninstall --purge`: removing the engine's data directory. Its images and containers belong
//! to the user's subordinate ids, which the user cannot remove directly; inside a user
//! namespace with the full mapping the user is root and owns them all. `rootlesskit` builds
//! exactly that namespace (with `newuidmap`/`newgidmap`), so the removal runs as
//! `rootlesskit sh -c 'du …; rm -rf …'`, which also measures what is freed before removing it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rootless_setup_checks::Caller;
use rootless_setup_core::Host;
use rootless_setup_core::process::{self, Invocation};

/// Why a directory may not be purged: not absolute, `/`, the home directory or one of its
/// parents, or a path with `..`.
pub fn refuse_reason(dir: &Path, home: &Path) -> Option<String> {
    if !dir.is_absolute() {
        return Some(format!("{} is not an absolute path", dir.display()));
    }
    if dir
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Some(format!("{} contains ..", dir.display()));
    }
    if dir == Path::new("/") || home.starts_with(dir) {
        return Some(format!(
            "{} is the home directory or above it",
            dir.display()
        ));
    }
    None
}

/// Finds `rootlesskit` ([`process::find`]).
pub fn find_rootlesskit(caller: &Caller) -> Option<PathBuf> {
    process::find(&Host::real(), "rootlesskit", caller.path_dirs(), None)
}

/// Finds `podman` ([`process::find`]).
pub fn find_podman(caller: &Caller) -> Option<PathBuf> {
    process::find(&Host::real(), "podman", caller.path_dirs(), None)
}

/// Removes Podman's storage the way Podman does it, as the user: `podman system reset --force`
/// enters Podman's own user namespace and removes every container, pod, image, volume and
/// network, then the storage directories. Nothing rootless-setup has to prove it wrote: it is
/// what `--purge` asks for, done by the engine that owns the data.
pub fn reset_podman(podman: &Path) -> anyhow::Result<()> {
    let invocation = Invocation::new(podman)
        .args(["system", "reset", "--force"])
        .timeout(Duration::from_secs(600));
    run_checked(&invocation).map(|_| ())
}

/// Runs `invocation`; an error names it and says why it failed (timed out, its last line, or
/// its exit code).
fn run_checked(invocation: &Invocation) -> anyhow::Result<process::Output> {
    let out = process::run(invocation)?;
    if !out.success() {
        let why = match (out.timed_out, out.last_line()) {
            (true, _) => "timed out".to_owned(),
            (false, "") => format!("exit code {:?}", out.code),
            (false, line) => line.to_owned(),
        };
        anyhow::bail!("`{}` failed: {why}", invocation.display());
    }
    Ok(out)
}

/// What was freed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freed {
    /// Disk usage before removing, in bytes (`du -sk` × 1024), when measured.
    pub bytes: Option<u64>,
}

/// The script run inside the namespace: print the usage in KiB, then remove.
const SCRIPT: &str = r#"du -sk -- "$1" 2>/dev/null | cut -f1; rm -rf -- "$1""#;

/// Measures and removes `dir` inside rootlesskit's user namespace.
pub fn purge(rootlesskit: &Path, dir: &Path) -> anyhow::Result<Freed> {
    let invocation = Invocation::new(rootlesskit)
        .args(["--net=host", "/bin/sh", "-c", SCRIPT, "sh"])
        .args([dir.as_os_str()])
        .timeout(Duration::from_secs(600));
    let out = run_checked(&invocation)?;
    if dir.exists() {
        anyhow::bail!("{} is still there after `rm -rf`", dir.display());
    }
    Ok(Freed {
        bytes: parse_kib(&out.stdout),
    })
}

/// The first number on the first line, in KiB, as bytes.
pub fn parse_kib(stdout: &str) -> Option<u64> {
    stdout
        .lines()
        .next()?
        .split_whitespace()
        .next()?
        .parse::<u64>()
        .ok()?
        .checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_directories_are_refused() {
        let home = Path::new("/home/dev");
        assert_eq!(
            refuse_reason(Path::new("/home/dev/.local/share/docker"), home),
            None
        );
        assert!(refuse_reason(Path::new("/"), home).is_some());
        assert!(refuse_reason(Path::new("/home/dev"), home).is_some());
        assert!(refuse_reason(Path::new("/home"), home).is_some());
        assert!(refuse_reason(Path::new("relative/docker"), home).is_some());
        assert!(refuse_reason(Path::new("/home/dev/../dev"), home).is_some());
        assert_eq!(refuse_reason(Path::new("/srv/docker"), home), None);
    }

    #[test]
    fn usage_is_read_from_du() {
        assert_eq!(
            parse_kib("2048\t/home/dev/.local/share/docker\n"),
            Some(2_097_152)
        );
        assert_eq!(parse_kib("4\n"), Some(4096));
        assert_eq!(parse_kib(""), None);
        assert_eq!(parse_kib("du: cannot access\n"), None);
        assert_eq!(parse_kib("99999999999999999999\n"), None);
    }

    #[test]
    fn the_script_measures_then_removes() {
        // The script itself, run directly as the test user on a directory it owns.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("docker");
        std::fs::create_dir_all(target.join("overlay2/x")).unwrap();
        std::fs::write(target.join("overlay2/x/file"), vec![0u8; 64 * 1024]).unwrap();
        let out = process::run(
            &Invocation::new("/bin/sh")
                .args(["-c", SCRIPT, "sh"])
                .args([target.as_os_str()]),
        )
        .unwrap();
        assert!(out.success());
        let bytes = parse_kib(&out.stdout).unwrap();
        assert!(bytes >= 64 * 1024, "{bytes}");
        assert!(!target.exists());
    }
}

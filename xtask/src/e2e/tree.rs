//! The cached Debian root trees the boxes are copied from.
//!
//! A tree is made once per (release, package list) with `debootstrap --variant=minbase` into a
//! temporary directory, trimmed (downloaded `.deb`s and apt lists removed: they are only copy
//! weight), and renamed into place, so a tree under `target/e2e/cache/` is always complete. The
//! directory name carries a hash of everything that shapes the tree, so changing the package
//! list makes a new tree instead of reusing a stale one.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::util::{self, fmt_duration};

/// The Debian mirror debootstrap downloads from (overridable with `E2E_MIRROR`).
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// Packages every box has: systemd as PID 1 with logind and the user bus, the subordinate-id
/// helpers, Debian's rootless Docker pieces, and busybox for a registry-free test image.
const BASE_PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "dbus",
    "dbus-user-session",
    "libpam-systemd",
    "uidmap",
    "docker.io",
    "rootlesskit",
    "slirp4netns",
    "iptables",
    "iproute2",
    "procps",
    "busybox-static",
    // fix --apply runs the root script through sudo (the repair scenario).
    "sudo",
    // The other engines (issue 10): Podman with crun (the runtime that runs without delegated
    // controllers) and its init; containerd comes with docker.io. netavark is named because
    // debootstrap does not resolve the virtual `container-network-stack` Podman needs.
    "podman",
    "crun",
    "catatonit",
    "netavark",
    // The Ansible role (issue 11) runs with ansible-core alone, no collections.
    // python3-cryptography depends on the virtual `python3-cffi-backend-api-*`, which
    // debootstrap does not resolve: its provider is named.
    "ansible-core",
    "python3-cffi-backend",
    // The package scenario (issue 12) completes a command line through bash-completion's loader,
    // which finds the completion the .deb installs.
    "bash-completion",
    // The remote scenario (issue 13) makes certificates with openssl, and install checks them
    // with it.
    "openssl",
];

/// Bumped whenever [`finish`] changes what it does to a fresh tree.
const TREE_FORMAT: u32 = 1;

/// A Debian release a box can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Debian 12.
    Bookworm,
    /// Debian 13.
    Trixie,
}

impl Release {
    /// Every release, for usage text.
    pub const ALL: [Release; 2] = [Release::Bookworm, Release::Trixie];

    /// The suite name debootstrap takes.
    pub fn name(self) -> &'static str {
        match self {
            Release::Bookworm => "bookworm",
            Release::Trixie => "trixie",
        }
    }

    /// Parses a suite name.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .with_context(|| {
                let known: Vec<_> = Self::ALL.iter().map(|r| r.name()).collect();
                format!("unknown release {name:?} (known: {})", known.join(", "))
            })
    }

    /// The packages debootstrap adds to minbase for this release.
    pub fn packages(self) -> Vec<&'static str> {
        let mut packages = BASE_PACKAGES.to_vec();
        if self == Release::Trixie {
            // Since trixie `docker.io` no longer ships the client; Compose v2 and pasta (Podman
            // 5's default network) are packaged since trixie, and netavark sets up bridge
            // networks with nft (aardvark-dns answers container names on them).
            packages.extend([
                "docker-cli",
                "docker-compose",
                "passt",
                "nftables",
                "aardvark-dns",
            ]);
        }
        packages
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The cache directory: `$E2E_CACHE`, else `target/e2e/cache`.
pub fn cache_dir() -> PathBuf {
    // Several checkouts on one machine may share one cache (`E2E_CACHE`); trees are built
    // under the box lock and renamed into place whole, so sharing is safe.
    std::env::var_os("E2E_CACHE")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| util::project_root().join("target/e2e/cache"))
}

/// Where the finished tree for `release` lives (whether or not it exists yet).
pub fn tree_path(release: Release) -> PathBuf {
    cache_dir().join(cache_key(release))
}

/// `bookworm-<16 hex digits>`: the release plus a hash of the package list and tree format.
pub fn cache_key(release: Release) -> String {
    let recipe = format!(
        "format={TREE_FORMAT};variant=minbase;release={};include={}",
        release.name(),
        release.packages().join(",")
    );
    format!("{}-{:016x}", release.name(), fnv1a(recipe.as_bytes()))
}

/// Returns the cached tree for `release`, building it first when it is missing.
pub fn ensure(release: Release) -> Result<PathBuf> {
    let path = tree_path(release);
    if path.is_dir() {
        println!("e2e: using cached {release} tree {}", path.display());
        return Ok(path);
    }
    let cache = cache_dir();
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let key = cache_key(release);
    remove_stale_temporaries(&cache, &key)?;
    let tmp = cache.join(format!("{key}.tmp-{}", std::process::id()));
    let log = cache.join(format!("{key}.debootstrap.log"));
    let mirror = std::env::var("E2E_MIRROR").unwrap_or_else(|_| DEFAULT_MIRROR.to_owned());
    let debootstrap = util::which("debootstrap").context("debootstrap is not installed")?;
    let mut cmd = Command::new(debootstrap);
    cmd.arg("--variant=minbase")
        .arg(format!("--include={}", release.packages().join(",")))
        .arg(release.name())
        .arg(&tmp)
        .arg(&mirror);
    println!(
        "e2e: no cached {release} tree; running debootstrap (about a minute; log {})",
        log.display()
    );
    println!("$ {}", util::display_command(&cmd));
    let start = Instant::now();
    let out = util::capture(
        &mut cmd,
        &log,
        &cache.join(format!("{key}.debootstrap.err")),
        Duration::from_secs(20 * 60),
    )?;
    if !out.success() {
        let _ = util::remove_tree(&tmp);
        bail!(
            "debootstrap {release} failed ({}):\n{}\n{}",
            out.describe_exit(),
            util::tail(&out.stdout, 20),
            util::tail(&out.stderr, 20)
        );
    }
    finish(&tmp)?;
    fs::rename(&tmp, &path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    println!(
        "e2e: built {release} tree in {} at {}",
        fmt_duration(start.elapsed()),
        path.display()
    );
    Ok(path)
}

/// Trims a fresh tree: the downloaded packages and apt lists are only weight to copy per box.
/// Idempotent, so a tree debootstrapped by hand can be finished and renamed into the cache.
pub fn finish(tree: &Path) -> Result<()> {
    if !tree.join("usr/lib/systemd/systemd").exists() && !tree.join("lib/systemd/systemd").exists()
    {
        bail!("{} does not look like a tree with systemd", tree.display());
    }
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        let dir = tree.join(dir);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() && entry.file_name() != "lock" {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Removes `KEY.tmp-PID` directories left by an interrupted debootstrap: only those whose
/// process is gone, so a concurrent run's debootstrap in progress is left alone.
fn remove_stale_temporaries(cache: &Path, key: &str) -> Result<()> {
    let prefix = format!("{key}.tmp-");
    for entry in fs::read_dir(cache)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(&prefix) else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|pid| Path::new("/proc").join(pid.to_string()).exists());
        if !alive {
            println!("e2e: removing stale {}", entry.path().display());
            util::remove_tree(&entry.path())?;
        }
    }
    Ok(())
}

/// 64-bit FNV-1a: a stable hash (std's `DefaultHasher` may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn key_depends_on_release_and_packages() {
        let bookworm = cache_key(Release::Bookworm);
        let trixie = cache_key(Release::Trixie);
        assert!(bookworm.starts_with("bookworm-") && bookworm.len() == "bookworm-".len() + 16);
        assert!(trixie.starts_with("trixie-"));
        assert_ne!(bookworm[9..], trixie[7..], "trixie adds docker-cli");
        assert!(Release::Trixie.packages().contains(&"docker-cli"));
        assert!(!Release::Bookworm.packages().contains(&"docker-cli"));
    }

    #[test]
    fn releases_parse() {
        assert_eq!(Release::parse("trixie").ok(), Some(Release::Trixie));
        assert!(Release::parse("sid").is_err());
    }
}

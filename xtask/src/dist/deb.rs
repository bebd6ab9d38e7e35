//! The Debian side of the package: the control file (relations from `rootless_setup_core`'s
//! Debian package names, `Depends` from `dpkg-shlibdeps`), the machine-readable copyright file,
//! the changelog, md5sums, and `dpkg-deb --build`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use rootless_setup_core::distro::{Family, Package};

use super::stage;
use crate::util;

/// The package's name.
pub const NAME: &str = "rootless-setup";
/// The Debian revision of every package built here.
const REVISION: &str = "1";
/// One line, as `apt search` shows it (under 80 characters, no leading article).
const SYNOPSIS: &str = "set up, check and remove a rootless container engine for a user";
/// The long description, paragraphs separated by blank lines.
const DESCRIPTION: &str = "\
rootless-setup prepares, installs, diagnoses and removes a rootless container engine \
(Docker, Podman or containerd) for an ordinary user. It replaces \
dockerd-rootless-setuptool.sh and containerd-rootless-setuptool.sh.

\"rootless-setup check\" probes the host and the user (subordinate ids, user namespaces, \
cgroup delegation, the user's systemd manager and D-Bus, the network drivers) and explains \
every failure with the exact fix for the distribution; \"check --format json\" is a gate for CI.

\"rootless-setup fix\" writes one reviewed root script that repairs what check found. \
\"install\" writes the user unit, starts the engine through systemd's D-Bus API and rolls back \
on failure; \"uninstall\" removes exactly what install recorded.";

/// What a rootless engine needs on Debian: the id-map helpers, the user bus, a user-mode network,
/// rootlesskit, and an engine. Each inner list is one relation's alternatives.
const RECOMMENDS: &[&[Package]] = &[
    &[Package::Uidmap],
    &[Package::DbusUserSession],
    &[Package::Slirp4netns, Package::Passt],
    &[Package::Rootlesskit],
    &[Package::DockerEngine, Package::Podman],
];
/// What some set-ups use: the other engine, the runtime for hosts without delegated cgroups,
/// the storage driver for old kernels.
const SUGGESTS: &[&[Package]] = &[
    &[Package::Containerd],
    &[Package::Crun],
    &[Package::FuseOverlayfs],
];
/// `fix --apply` runs the root script through sudo.
const SUGGESTS_SUDO: &str = "sudo";

/// Stages, describes and builds the package from `binary`; returns the `.deb`'s path.
pub fn package(binary: &Path) -> Result<PathBuf> {
    let meta = Meta::read()?;
    let dist = super::dist_dir();
    let root = super::stage_dir();
    stage::stage(binary, &root, &dist.join("generated"))?;
    let doc_dir = root.join(stage::DOC_DIR);
    fs::write(doc_dir.join("copyright"), copyright(&meta)?)?;
    let changelog = doc_dir.join("changelog.Debian");
    fs::write(&changelog, changelog_entry(&meta)?)?;
    stage::gzip(&changelog)?;
    let control = Control {
        version: meta.debian_version(),
        arch: architecture()?,
        maintainer: meta.maintainer()?,
        depends: shlib_depends(&root, &dist.join("shlibs"))?,
        installed_size: installed_size(&root)?,
        homepage: meta.homepage.clone(),
    };
    let debian = root.join("DEBIAN");
    fs::create_dir_all(&debian)?;
    fs::write(debian.join("md5sums"), md5sums(&root)?)?;
    fs::write(debian.join("control"), control.render())?;
    let deb = deb_path(&control.version, &control.arch);
    util::run_quiet(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&root)
            .arg(&deb),
    )?;
    let size = fs::metadata(&deb)?.len();
    println!(
        "dist: built {} ({} KiB; {} KiB installed)",
        deb.display(),
        size.div_ceil(1024),
        control.installed_size
    );
    Ok(deb)
}

/// The package `cargo xtask dist` (or the e2e suite) built last for this version and machine.
pub fn built_deb() -> Result<PathBuf> {
    let deb = deb_path(&Meta::read()?.debian_version(), &architecture()?);
    if !deb.is_file() {
        bail!("{} is missing: run `cargo xtask dist`", deb.display());
    }
    Ok(deb)
}

/// `target/dist/rootless-setup_VERSION_ARCH.deb`.
fn deb_path(version: &str, arch: &str) -> PathBuf {
    super::dist_dir().join(format!("{NAME}_{version}_{arch}.deb"))
}

/// This machine's Debian architecture (`amd64`).
fn architecture() -> Result<String> {
    Ok(
        util::run_quiet(Command::new("dpkg").arg("--print-architecture"))?
            .trim()
            .to_owned(),
    )
}

/// The package's facts that come from Cargo.toml (`cargo metadata`): one home for them.
#[derive(Debug)]
struct Meta {
    version: String,
    authors: Vec<String>,
    homepage: String,
    license: String,
}

impl Meta {
    fn read() -> Result<Self> {
        let out = util::run_quiet(util::cargo().args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
        ]))?;
        let doc: serde_json::Value = serde_json::from_str(&out).context("cargo metadata")?;
        let package = doc["packages"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == NAME))
            .context("cargo metadata lists no package rootless-setup")?;
        let text = |key: &str| -> Result<String> {
            package[key]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("Cargo.toml of {NAME} has no {key}"))
        };
        Ok(Meta {
            version: text("version")?,
            authors: package["authors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            homepage: text("homepage")?,
            license: text("license")?,
        })
    }

    fn debian_version(&self) -> String {
        format!("{}-{REVISION}", self.version)
    }

    /// `DEBFULLNAME <DEBEMAIL>` when both are set (as for `dch`), else the first author.
    fn maintainer(&self) -> Result<String> {
        if let (Ok(name), Ok(mail)) = (std::env::var("DEBFULLNAME"), std::env::var("DEBEMAIL")) {
            return Ok(format!("{name} <{mail}>"));
        }
        match self.authors.first() {
            Some(author) if author.contains('<') && author.contains('@') => Ok(author.clone()),
            _ => bail!(
                "no maintainer: the first author in Cargo.toml has no address ({:?}); set \
                 DEBFULLNAME and DEBEMAIL",
                self.authors
            ),
        }
    }
}

/// The control file's variable fields.
#[derive(Debug)]
struct Control {
    version: String,
    arch: String,
    maintainer: String,
    depends: String,
    installed_size: u64,
    homepage: String,
}

impl Control {
    fn render(&self) -> String {
        let mut out = String::new();
        let fields = [
            ("Package", NAME.to_owned()),
            ("Version", self.version.clone()),
            ("Architecture", self.arch.clone()),
            ("Maintainer", self.maintainer.clone()),
            ("Installed-Size", self.installed_size.to_string()),
            ("Depends", self.depends.clone()),
            ("Recommends", relations(RECOMMENDS, &[])),
            ("Suggests", relations(SUGGESTS, &[SUGGESTS_SUDO])),
            ("Section", "admin".to_owned()),
            ("Priority", "optional".to_owned()),
            ("Homepage", self.homepage.clone()),
        ];
        for (name, value) in fields {
            let _ = writeln!(out, "{name}: {value}");
        }
        let _ = writeln!(out, "Description: {SYNOPSIS}");
        out.push_str(&long_description(DESCRIPTION));
        out
    }
}

/// `a, b | c` from the Debian names of the packages, then `extra`.
fn relations(packages: &[&[Package]], extra: &[&str]) -> String {
    packages
        .iter()
        .map(|alternatives| {
            alternatives
                .iter()
                .map(|p| Family::Debian.package(*p))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .chain(extra.iter().map(|s| (*s).to_owned()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A control file's extended description: lines of at most 79 characters, each starting with a
/// space, paragraphs separated by ` .`.
fn long_description(text: &str) -> String {
    let mut out = String::new();
    for (i, paragraph) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str(" .\n");
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > 78 {
                let _ = writeln!(out, " {line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(out, " {line}");
    }
    out
}

/// `Depends` from the libraries the binary links (`dpkg-shlibdeps`, which needs a
/// `debian/control` naming the package in its working directory `scratch`).
fn shlib_depends(root: &Path, scratch: &Path) -> Result<String> {
    fs::create_dir_all(scratch.join("debian"))?;
    fs::write(
        scratch.join("debian/control"),
        format!("Source: {NAME}\n\nPackage: {NAME}\nArchitecture: any\n"),
    )?;
    let out = util::run_quiet(
        Command::new("dpkg-shlibdeps")
            .arg("-O")
            .arg(root.join(stage::BINARY))
            .current_dir(scratch),
    )
    .context("dpkg-shlibdeps (in dpkg-dev)")?;
    parse_shlibs(&out)
}

/// The value of `shlibs:Depends=` in dpkg-shlibdeps's output.
fn parse_shlibs(out: &str) -> Result<String> {
    out.lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends="))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .with_context(|| format!("dpkg-shlibdeps printed no shlibs:Depends: {out:?}"))
}

/// Installed-Size as `dpkg-gencontrol` counts it: KiB per file rounded up, one per directory.
fn installed_size(root: &Path) -> Result<u64> {
    let mut kib = 0;
    stage::walk(root, &mut |path, is_dir| {
        kib += if is_dir {
            1
        } else {
            fs::metadata(path)?.len().div_ceil(1024)
        };
        Ok(())
    })?;
    Ok(kib)
}

/// `DEBIAN/md5sums`: every file's digest and path relative to the root.
fn md5sums(root: &Path) -> Result<String> {
    let mut files = Vec::new();
    stage::walk(root, &mut |path, is_dir| {
        if !is_dir {
            files.push(path.strip_prefix(root)?.to_path_buf());
        }
        Ok(())
    })?;
    util::run_quiet(
        Command::new("md5sum")
            .arg("--")
            .args(&files)
            .current_dir(root),
    )
}

/// `copyright` in the machine-readable format: this project's code under MIT or Apache-2.0, the
/// MIT text in full, Apache-2.0 by reference to common-licenses, and the Rust crates linked into
/// the binary with their licenses.
fn copyright(meta: &Meta) -> Result<String> {
    if meta.license != "MIT OR Apache-2.0" {
        bail!(
            "Cargo.toml's license is {:?}; the copyright file in xtask/src/dist/deb.rs is written \
             for \"MIT OR Apache-2.0\"",
            meta.license
        );
    }
    let mit_path = util::project_root().join("LICENSE-MIT");
    let mit =
        fs::read_to_string(&mit_path).with_context(|| format!("reading {}", mit_path.display()))?;
    let grant = mit
        .find("Permission is hereby granted")
        .map(|i| &mit[i..])
        .context("LICENSE-MIT has no grant")?;
    let holders = meta
        .authors
        .first()
        .map_or(NAME, |a| a.split('<').next().map_or(a.as_str(), str::trim));
    let mut out = format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: {NAME}\n\
         Source: {}\n\
         Comment: The binary links these Rust crates statically:\n",
        meta.homepage
    );
    for line in linked_crates()? {
        let _ = writeln!(out, " {line}");
    }
    let _ = write!(
        out,
        "\nFiles: *\nCopyright: 2026 {holders}\nLicense: MIT or Apache-2.0\n\n\
         License: MIT\n{}\n\
         License: Apache-2.0\n On Debian systems, the complete text of the Apache License, \
         Version 2.0\n can be found in \"/usr/share/common-licenses/Apache-2.0\".\n",
        indent_license(grant)
    );
    Ok(out)
}

/// A license text as a copyright file's field body: each line indented, blank lines as ` .`.
fn indent_license(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                " .".to_owned()
            } else {
                format!(" {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `name version (license)` for every crate from crates.io the binary links (normal
/// dependencies of the host target), sorted, once each.
fn linked_crates() -> Result<Vec<String>> {
    let out = util::run_quiet(util::cargo().args([
        "tree",
        "--package",
        NAME,
        "--edges",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}\t{l}",
    ]))?;
    let mut crates: Vec<String> = out
        .lines()
        .filter_map(|line| {
            // `(*)` marks a crate cargo tree showed before.
            let (id, license) = line.trim_end_matches(" (*)").split_once('\t')?;
            // Crates of this workspace carry their path: they are this package's own code.
            (!id.contains('(')).then(|| format!("{id} ({})", license.trim()))
        })
        .collect();
    crates.sort();
    crates.dedup();
    if crates.is_empty() {
        bail!("cargo tree listed no crate linked into {NAME}");
    }
    Ok(crates)
}

/// The one changelog entry: this build, dated by its commit (or now, outside a checkout).
fn changelog_entry(meta: &Meta) -> Result<String> {
    let root = util::project_root();
    let commit = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["log", "-1", "--format=%h %ct"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let (what, when) = match commit.as_deref().and_then(|c| c.split_once(' ')) {
        Some((hash, epoch)) => (format!("from commit {hash}"), format!("@{epoch}")),
        None => ("outside a git checkout".to_owned(), "now".to_owned()),
    };
    let date = util::run_quiet(Command::new("date").args(["-u", "-R", "-d", &when]))?;
    Ok(format!(
        "{NAME} ({}) unstable; urgency=medium\n\n  * Built by `cargo xtask dist` {what}.\n\n \
         -- {}  {}\n",
        meta.debian_version(),
        meta.maintainer()?,
        date.trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_use_the_debian_names_and_alternatives() {
        assert_eq!(
            relations(RECOMMENDS, &[]),
            "uidmap, dbus-user-session, slirp4netns | passt, rootlesskit, docker.io | podman"
        );
        assert_eq!(
            relations(SUGGESTS, &["sudo"]),
            "containerd, crun, fuse-overlayfs, sudo"
        );
    }

    #[test]
    fn long_descriptions_wrap_and_separate_paragraphs() {
        let text = format!("{}\n\nshort", "word ".repeat(40));
        let out = long_description(&text);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.iter().all(|l| l.starts_with(' ') && l.len() <= 79));
        assert_eq!(lines[lines.len() - 2..], [" .", " short"]);
        assert_eq!(lines.len(), 5, "{out}");
        assert!(SYNOPSIS.len() < 80 && !SYNOPSIS.starts_with("a "));
    }

    #[test]
    fn shlibs_value_is_read_from_the_variable_line() {
        assert_eq!(
            parse_shlibs("shlibs:Depends=libc6 (>= 2.34), libgcc-s1 (>= 4.2)\n").expect("a value"),
            "libc6 (>= 2.34), libgcc-s1 (>= 4.2)"
        );
        assert!(parse_shlibs("misc:Depends=\n").is_err());
        assert!(parse_shlibs("shlibs:Depends=\n").is_err());
    }

    #[test]
    fn license_texts_become_field_bodies() {
        assert_eq!(indent_license("a\n\nb\n"), " a\n .\n b");
    }
}
